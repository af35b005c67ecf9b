//! String formats (`format` keyword) checked without allocating.

use std::net::{Ipv4Addr, Ipv6Addr};

use chrono::NaiveDate;

use super::coerce::is_integer_text;

/// Checks `s` against a known `format`; `None` when the format is unknown (callers ignore those).
pub fn check_format(format: &str, s: &str) -> Option<bool> {
    format_checker(format).map(|check| check(s))
}

/// The check of a known `format`, looked up once when a schema is compiled; `None` when the
/// format is unknown.
pub fn format_checker(format: &str) -> Option<fn(&str) -> bool> {
    Some(match format {
        "date" => is_date,
        "date-time" => is_date_time,
        "time" => is_time,
        "duration" => is_duration,
        "uuid" => is_uuid,
        "email" => is_email,
        "ipv4" => |s| s.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => |s| s.parse::<Ipv6Addr>().is_ok(),
        "uri" => is_uri,
        "uri-reference" => is_uri_reference,
        "hostname" => is_hostname,
        "byte" => is_base64,
        "int32" => |s| is_integer_text(s) && s.parse::<i32>().is_ok(),
        "int64" => |s| is_integer_text(s) && s.parse::<i64>().is_ok(),
        "password" | "binary" => |_| true,
        _ => return None,
    })
}

/// What a known format expects, for messages such as "expected a date (…)"; `None` when unknown.
pub fn format_description(format: &str) -> Option<&'static str> {
    Some(match format {
        "date" => "a date (RFC 3339 full-date, e.g. 2024-01-02)",
        "date-time" => "a date-time (RFC 3339, e.g. 2024-01-02T03:04:05Z)",
        "time" => "a time (RFC 3339 full-time, e.g. 03:04:05Z)",
        "duration" => "an ISO 8601 duration (e.g. P3DT12H or PT90M)",
        "uuid" => "a UUID (8-4-4-4-12 hex digits)",
        "email" => "an email address",
        "ipv4" => "an IPv4 address (dotted quad, e.g. 192.0.2.1)",
        "ipv6" => "an IPv6 address",
        "uri" => "an absolute URI (e.g. https://example.com/a)",
        "uri-reference" => "a URI reference",
        "hostname" => "a hostname",
        "byte" => "base64 data (standard alphabet, padded)",
        "int32" => "a 32-bit integer (int32)",
        "int64" => "a 64-bit integer (int64)",
        "password" | "binary" => "a string",
        _ => return None,
    })
}

/// A fixed-width run of ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// `YYYY-MM-DD` naming a real calendar day.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..])) else {
        return false;
    };
    // y < 10_000, so it fits an i32.
    NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
}

/// `HH:MM:SS[.frac](Z|±HH:MM)`; a leap second (`:60`) only at 23:59 UTC.
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(sec)) = (digits(&b[..2]), digits(&b[3..5]), digits(&b[6..8]))
    else {
        return false;
    };
    let mut rest = &b[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh @ .., b':', m1, m2] if oh.len() == 2 => {
            let (Some(oh), Some(om)) = (digits(oh), digits(&[*m1, *m2])) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            let minutes = i64::from(oh * 60 + om);
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return false,
    };
    if h > 23 || m > 59 || sec > 60 {
        return false;
    }
    sec < 60 || (i64::from(h * 60 + m) - offset).rem_euclid(24 * 60) == 23 * 60 + 59
}

/// `full-date (T|t) full-time`.
fn is_date_time(s: &str) -> bool {
    match (s.get(..10), s.as_bytes().get(10), s.get(11..)) {
        (Some(date), Some(b'T' | b't'), Some(time)) => is_date(date) && is_time(time),
        _ => false,
    }
}

/// A duration by RFC 3339 Appendix A's grammar, which JSON Schema 2020-12 names for `duration`
/// (Validation §7.3.1): `P3Y6M4DT12H30M5S`, `PT36H`, `P4W`. Whole numbers; weeks alone; a `T`
/// only before a time part; the date designators a run of `Y`, `M`, `D` and the time ones of
/// `H`, `M`, `S`, in that order with none skipped between two given (`dur-year = 1*DIGIT "Y"
/// [dur-month]`): `P1Y1D` and `PT1H1S` are not durations there.
fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    if let Some(weeks) = date.strip_suffix('W') {
        return time.is_none() && !weeks.is_empty() && weeks.bytes().all(|b| b.is_ascii_digit());
    }
    (!date.is_empty() || time.is_some())
        && duration_part(date, b"YMD")
        && time.is_none_or(|time| !time.is_empty() && duration_part(time, b"HMS"))
}

/// Whether `part` is numbers each followed by a designator of `order`: the designators a run
/// of `order` (any first one, then each the one after the last).
fn duration_part(part: &str, order: &[u8]) -> bool {
    let bytes = part.as_bytes();
    let mut i = 0;
    let mut last: Option<usize> = None;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i == bytes.len() {
            return false;
        }
        let Some(at) = order.iter().position(|&d| d == bytes[i]) else {
            return false;
        };
        if last.is_some_and(|last| at != last + 1) {
            return false;
        }
        last = Some(at);
        i += 1;
    }
    true
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |run: &[u8]| run.iter().all(u8::is_ascii_hexdigit);
    b.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && hex(&b[..8])
        && hex(&b[9..13])
        && hex(&b[14..18])
        && hex(&b[19..23])
        && hex(&b[24..])
}

/// Pragmatic: `local@domain`, an ASCII dot-atom local part of at most 64
/// bytes and a hostname with at least two labels.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let special = |c: u8| b"()<>[]:;@\\,\"".contains(&c);
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|c| c.is_ascii_graphic() && !special(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.')
        && is_hostname(domain)
}

/// RFC 1123 host name: dot-separated labels of 1-63 letters, digits and inner hyphens.
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

/// An absolute URI: `scheme:` followed by at least one valid character.
fn is_uri(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, rest)) => is_scheme(scheme) && !rest.is_empty() && uri_chars(rest),
        None => false,
    }
}

/// An absolute URI or a relative reference (which may be empty); a `:`
/// before the first `/`, `?` or `#` must end a scheme.
fn is_uri_reference(s: &str) -> bool {
    let head = s.split(['/', '?', '#']).next().unwrap_or_default();
    if head.contains(':') {
        is_uri(s)
    } else {
        uri_chars(s)
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.bytes();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// Only characters a URI may hold (RFC 3986), with `%` starting a valid escape.
fn uri_chars(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !b
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

/// Standard base64 alphabet, length a multiple of 4, at most two `=` at the end.
fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    let body = b
        .strip_suffix(b"==")
        .or_else(|| b.strip_suffix(b"="))
        .unwrap_or(b);
    b.len().is_multiple_of(4)
        && body
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_table() {
        const T: Option<bool> = Some(true);
        const F: Option<bool> = Some(false);
        let long_local = format!("{}@example.com", "a".repeat(65));
        let (label63, label64) = ("a".repeat(63), "a".repeat(64));
        let rows = [
            // date
            ("date", "2024-01-02", T),
            ("date", "2024-02-29", T),
            ("date", "2000-02-29", T),
            ("date", "2023-02-29", F),
            ("date", "1900-02-29", F),
            ("date", "2024-02-30", F),
            ("date", "2024-04-31", F),
            ("date", "2024-12-31", T),
            ("date", "2024-13-01", F),
            ("date", "2024-00-10", F),
            ("date", "2024-01-00", F),
            ("date", "2024-1-02", F),
            ("date", "24-01-02", F),
            ("date", "2024/01/02", F),
            ("date", "2024-01-02T00:00:00Z", F),
            ("date", "２０２４-01-02", F),
            ("date", "", F),
            // date-time
            ("date-time", "2024-01-02T03:04:05Z", T),
            ("date-time", "2024-01-02t03:04:05z", T),
            ("date-time", "2024-01-02T03:04:05.123456+05:30", T),
            ("date-time", "2024-01-02T03:04:05-00:00", T),
            ("date-time", "1998-12-31T23:59:60Z", T),
            ("date-time", "1998-12-31T15:59:60-08:00", T),
            ("date-time", "1998-12-31T22:59:60Z", F),
            ("date-time", "2024-01-02 03:04:05Z", F),
            ("date-time", "2024-01-02T03:04:05", F),
            ("date-time", "2024-01-02T03:04Z", F),
            ("date-time", "2024-01-02T24:00:00Z", F),
            ("date-time", "2024-01-02T23:60:00Z", F),
            ("date-time", "2024-01-02T23:59:61Z", F),
            ("date-time", "2024-01-02T03:04:05.Z", F),
            ("date-time", "2024-01-02T03:04:05+24:00", F),
            ("date-time", "2024-01-02T03:04:05+05:60", F),
            ("date-time", "2024-01-02T03:04:05+0530", F),
            ("date-time", "2023-02-29T03:04:05Z", F),
            ("date-time", "2024-02-29T03:04:05Z", T),
            ("date-time", "2024-01-02T03:04:05Zx", F),
            ("date-time", "2024-01-02Té3:04:05Z", F),
            // time
            ("time", "03:04:05Z", T),
            ("time", "23:59:59.999-12:00", T),
            ("time", "23:59:60Z", T),
            ("time", "12:00:60Z", F),
            ("time", "03:04:05", F),
            ("time", "3:04:05Z", F),
            ("time", "24:00:00Z", F),
            ("time", "03:04:05+1:00", F),
            ("time", "", F),
            // uuid
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", T),
            ("uuid", "123E4567-E89B-12D3-A456-426614174000", T),
            ("uuid", "123e4567e89b12d3a456426614174000", F),
            ("uuid", "123e4567-e89b-12d3-a456-42661417400g", F),
            ("uuid", "123e4567-e89b-12d3-a456-4266141740000", F),
            ("uuid", "{123e4567-e89b-12d3-a456-426614174000}", F),
            // email
            ("email", "joe@example.com", T),
            ("email", "first.last+tag@mail.example.co.uk", T),
            ("email", "joe@localhost", F),
            ("email", "joe@@example.com", F),
            ("email", "joe@exa@mple.com", F),
            ("email", "@example.com", F),
            ("email", "joe@", F),
            ("email", "jo e@example.com", F),
            ("email", "joe@exa mple.com", F),
            ("email", ".joe@example.com", F),
            ("email", "jo..e@example.com", F),
            ("email", "joe@-example.com", F),
            ("email", "joe@example..com", F),
            ("email", "joe", F),
            ("email", long_local.as_str(), F),
            // ipv4
            ("ipv4", "192.168.0.1", T),
            ("ipv4", "0.0.0.0", T),
            ("ipv4", "255.255.255.255", T),
            ("ipv4", "256.1.1.1", F),
            ("ipv4", "01.2.3.4", F),
            ("ipv4", "1.2.3", F),
            ("ipv4", "1.2.3.4.5", F),
            ("ipv4", " 1.2.3.4", F),
            ("ipv4", "1.2.3.4/8", F),
            // ipv6
            ("ipv6", "::1", T),
            ("ipv6", "2001:db8::8a2e:370:7334", T),
            ("ipv6", "::ffff:192.0.2.1", T),
            ("ipv6", "2001:db8:::1", F),
            ("ipv6", "12345::", F),
            ("ipv6", "192.168.0.1", F),
            ("ipv6", "[::1]", F),
            // uri
            ("uri", "https://example.com/a?b=c#d", T),
            ("uri", "urn:isbn:0451450523", T),
            ("uri", "mailto:joe@example.com", T),
            ("uri", "http://example.com/%20x", T),
            ("uri", "http://[::1]:80/", T),
            ("uri", "/relative/path", F),
            ("uri", "example.com", F),
            ("uri", "http:", F),
            ("uri", "1http://x", F),
            ("uri", "http://exa mple.com", F),
            ("uri", "http://example.com/\u{1}", F),
            ("uri", "http://example.com/é", F),
            ("uri", "http://example.com/%zz", F),
            ("uri", "http://example.com/<a>", F),
            // uri-reference
            ("uri-reference", "/relative/path?x=1", T),
            ("uri-reference", "../a", T),
            ("uri-reference", "#frag", T),
            ("uri-reference", "", T),
            ("uri-reference", "https://example.com", T),
            ("uri-reference", "a/b:c", T),
            ("uri-reference", "1a:b", F),
            ("uri-reference", "a b", F),
            ("uri-reference", "%", F),
            // hostname
            ("hostname", "example.com", T),
            ("hostname", "localhost", T),
            ("hostname", "a-b.c1", T),
            ("hostname", "-a.com", F),
            ("hostname", "a-.com", F),
            ("hostname", "a..com", F),
            ("hostname", "a_b.com", F),
            ("hostname", "", F),
            ("hostname", label64.as_str(), F),
            ("hostname", label63.as_str(), T),
            // byte
            ("byte", "", T),
            ("byte", "aGVsbG8=", T),
            ("byte", "aGVsbA==", T),
            ("byte", "aGVs", T),
            ("byte", "a+/9", T),
            ("byte", "aGVsbG8", F),
            ("byte", "aGVsbA=", F),
            ("byte", "aGV=bA==", F),
            ("byte", "aG===", F),
            ("byte", "a-_9", F),
            ("byte", "aGVs bA==", F),
            // int32 / int64 as text
            ("int32", "2147483647", T),
            ("int32", "-2147483648", T),
            ("int32", "2147483648", F),
            ("int32", "+1", F),
            ("int32", "1.0", F),
            ("int32", "", F),
            ("int64", "9223372036854775807", T),
            ("int64", "9223372036854775808", F),
            ("int64", "-9223372036854775808", T),
            ("int64", " 1", F),
            // duration (RFC 3339 Appendix A)
            ("duration", "P3Y6M4DT12H30M5S", T),
            ("duration", "P1D", T),
            ("duration", "PT36H", T),
            ("duration", "PT0S", T),
            ("duration", "P4W", T),
            ("duration", "P1Y2M", T),
            ("duration", "P2M3D", T),
            ("duration", "PT2M3S", T),
            ("duration", "P1YT1S", T),
            ("duration", "P1DT2M", T),
            ("duration", "P1Y1D", F),
            ("duration", "PT1H1S", F),
            ("duration", "P", F),
            ("duration", "PT", F),
            ("duration", "P1DT", F),
            ("duration", "1D", F),
            ("duration", "P1", F),
            ("duration", "PD", F),
            ("duration", "P1D1Y", F),
            ("duration", "P1D1D", F),
            ("duration", "PT1S1H", F),
            ("duration", "PT1D", F),
            ("duration", "P1H", F),
            ("duration", "P1W1D", F),
            ("duration", "P1WT1H", F),
            ("duration", "P1Y2W", F),
            ("duration", "PT1H T1M", F),
            ("duration", "PT1HT1M", F),
            ("duration", "P0.5D", F),
            ("duration", "p1d", F),
            ("duration", "P-1D", F),
            ("duration", "P１D", F),
            // annotations only
            ("password", "anything at all", T),
            ("binary", "\u{0}\u{1}", T),
            // unknown formats
            ("float", "x", None),
            ("color", "red", None),
            ("", "", None),
        ];
        let mut failures = Vec::new();
        for (i, (format, text, want)) in rows.iter().enumerate() {
            let got = check_format(format, text);
            if got != *want {
                failures.push(format!(
                    "row {i}: {format} `{text}` gave {got:?}, want {want:?}"
                ));
            }
            if got.is_some() != format_description(format).is_some() {
                failures.push(format!("row {i}: {format} has no description"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// oasgate's `duration` check (which bodies and parameters both use) agrees with
        /// jsonschema's own on every text, so registering it changes no body's outcome.
        #[test]
        fn duration_agrees_with_jsonschema(
            text in proptest::prop_oneof![
                "P?([0-9]{0,2}[YMWDHST]){0,6}",
                "[PT0-9YMWDHS.,-]{0,10}",
            ]
        ) {
            use std::sync::OnceLock;
            static NATIVE: OnceLock<jsonschema::Validator> = OnceLock::new();
            let native = NATIVE.get_or_init(|| {
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&serde_json::json!({"format": "duration"}))
                    .unwrap()
            });
            let value = serde_json::Value::String(text.clone());
            proptest::prop_assert_eq!(is_duration(&text), native.is_valid(&value), "{}", text);
        }
    }
}
