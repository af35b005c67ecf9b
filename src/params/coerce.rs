//! Strict (and optionally lenient) coercion of parameter text to JSON primitives.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use super::shape::Prim;
use crate::problem::FieldCode;

/// Options for turning parameter text into JSON primitives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coercion {
    /// Also accept `1`/`0`, `yes`/`no`, `on`/`off` and any letter case for booleans.
    pub lenient_booleans: bool,
}

/// Why the text of a parameter could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The reason: [`FieldCode::Type`], `Empty`, `Duplicate`, `Format` or `Encoding`.
    pub code: FieldCode,
    /// A lowercase explanation naming what was expected and quoting the offending text.
    pub detail: String,
}

impl DecodeError {
    pub(super) fn new(code: FieldCode, detail: impl Into<String>) -> Self {
        DecodeError {
            code,
            detail: detail.into(),
        }
    }

    /// Prefixes the detail with the place inside the value, e.g. `at index 2`.
    pub(super) fn within(mut self, place: impl fmt::Display) -> Self {
        self.detail = format!("{place}: {}", self.detail);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for DecodeError {}

const TRUE_WORDS: [&str; 4] = ["true", "1", "yes", "on"];
const FALSE_WORDS: [&str; 4] = ["false", "0", "no", "off"];

/// Coerces already percent-decoded text to `prim`; fails with code `type`.
///
/// Takes the text as a `&str`, a `String` or a `Cow`: a string owned already becomes the
/// value's own, without a copy.
pub fn coerce<'t>(
    text: impl Into<Cow<'t, str>>,
    prim: Prim,
    c: &Coercion,
) -> Result<Value, DecodeError> {
    let text = text.into();
    match prim {
        Prim::String => Ok(Value::String(text.into_owned())),
        _ => scalar(&text, prim, c),
    }
}

/// [`coerce`] for text that stays borrowed: a string is copied.
fn scalar(text: &str, prim: Prim, c: &Coercion) -> Result<Value, DecodeError> {
    let fail = |expected: &str| {
        DecodeError::new(
            FieldCode::Type,
            format!("expected {expected}, got {}", got(text)),
        )
    };
    match prim {
        Prim::String => Ok(Value::String(text.to_owned())),
        Prim::Integer if !is_integer_text(text) => Err(fail("integer")),
        // JSON Schema integers have no bounds: beyond 64 bits the value becomes a whole
        // double, as it would in a JSON body.
        Prim::Integer => integer(text)
            .or_else(|| finite(text))
            .ok_or_else(|| fail("integer within the range of a 64-bit float")),
        Prim::Number if !is_number_text(text) => Err(fail("number")),
        Prim::Number => number(text).ok_or_else(|| fail("finite number")),
        Prim::Boolean => boolean(text, c.lenient_booleans)
            .map(Value::Bool)
            .ok_or_else(|| {
                fail(if c.lenient_booleans {
                    "boolean (true/false, 1/0, yes/no or on/off)"
                } else {
                    "boolean (`true` or `false`)"
                })
            }),
    }
}

/// `-?[0-9]+`, ASCII digits only.
pub(super) fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `-?digits[.digits][(e|E)[+-]digits]`.
fn is_number_text(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

fn integer(s: &str) -> Option<Value> {
    s.parse::<i64>()
        .map(Value::from)
        .or_else(|_| s.parse::<u64>().map(Value::from))
        .ok()
}

/// A finite double, for integer text beyond the 64-bit integers.
///
/// Rounding never brings the value back into the 64-bit range: `-9223372036854775809` rounds
/// to -2^63, which `format: int64` or a `minimum` would let pass, so it becomes the next
/// double below instead.
fn finite(s: &str) -> Option<Value> {
    const MIN_I64: f64 = -9_223_372_036_854_775_808.0;
    let f: f64 = s.parse().ok().filter(|f: &f64| f.is_finite())?;
    let f = if (MIN_I64..0.0).contains(&f) {
        MIN_I64.next_down()
    } else {
        f
    };
    serde_json::Number::from_f64(f).map(Value::Number)
}

/// Integral values become JSON integers when they fit in 64 bits.
fn number(s: &str) -> Option<Value> {
    if is_integer_text(s)
        && let Some(v) = integer(s)
    {
        return Some(v);
    }
    let f: f64 = s.parse().ok().filter(|f: &f64| f.is_finite())?;
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        return Some(Value::from(f as i64));
    }
    serde_json::Number::from_f64(f).map(Value::Number)
}

fn boolean(text: &str, lenient: bool) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ if !lenient => None,
        _ => {
            let any = |words: &[&str]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
            if any(&TRUE_WORDS) {
                Some(true)
            } else if any(&FALSE_WORDS) {
                Some(false)
            } else {
                None
            }
        }
    }
}

/// How many characters of offending text a message shows.
const SHOWN_CHARS: usize = 64;

/// Text in backticks, cut to 64 characters with a trailing `…`.
pub(super) fn quote(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

/// Like [`quote`], but says "an empty value" for empty text.
pub(super) fn got(text: &str) -> String {
    if text.is_empty() {
        "an empty value".to_owned()
    } else {
        quote(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Want {
        Json(&'static str),
        Fails,
        Detail(&'static str),
    }
    use Want::*;

    /// An integer no double can hold: 1 followed by 400 zeros.
    const BIG: &str = concat!(
        "1",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    );

    #[test]
    fn coerce_table() {
        let (strict, lenient) = (false, true);
        #[rustfmt::skip]
        let rows = [
            // strings are kept as they are
            ("a b", Prim::String, strict, Json(r#""a b""#)),
            ("", Prim::String, strict, Json(r#""""#)),
            (" 1 ", Prim::String, strict, Json(r#"" 1 ""#)),
            // integers
            ("0", Prim::Integer, strict, Json("0")),
            ("-12", Prim::Integer, strict, Json("-12")),
            ("-0", Prim::Integer, strict, Json("0")),
            ("007", Prim::Integer, strict, Json("7")),
            ("9223372036854775807", Prim::Integer, strict, Json("9223372036854775807")),
            ("-9223372036854775808", Prim::Integer, strict, Json("-9223372036854775808")),
            ("18446744073709551615", Prim::Integer, strict, Json("18446744073709551615")),
            ("18446744073709551616", Prim::Integer, strict, Json("18446744073709551616")),
            ("-9223372036854775809", Prim::Integer, strict, Json("-9223372036854777856.0")),
            ("-9223372036854775808", Prim::Integer, strict, Json("-9223372036854775808")),
            ("428571420610059698176", Prim::Integer, strict, Json("4.28571420610059698176e20")),
            ("abc", Prim::Integer, strict, Detail("expected integer, got `abc`")),
            (BIG, Prim::Integer, strict, Detail("expected integer within the range of a 64-bit float, got `1000000000000000000000000000000000000000000000000000000000000000…`")),
            ("", Prim::Integer, strict, Detail("expected integer, got an empty value")),
            ("+1", Prim::Integer, strict, Fails),
            (" 1", Prim::Integer, strict, Fails),
            ("1 ", Prim::Integer, strict, Fails),
            ("1 2", Prim::Integer, strict, Fails),
            ("1.0", Prim::Integer, strict, Fails),
            ("1e3", Prim::Integer, strict, Fails),
            ("0x1F", Prim::Integer, strict, Fails),
            ("-", Prim::Integer, strict, Fails),
            ("--1", Prim::Integer, strict, Fails),
            ("١٢", Prim::Integer, strict, Fails),
            ("1_000", Prim::Integer, strict, Fails),
            // numbers
            ("1.5", Prim::Number, strict, Json("1.5")),
            ("-0.25", Prim::Number, strict, Json("-0.25")),
            ("42", Prim::Number, strict, Json("42")),
            ("2.0", Prim::Number, strict, Json("2")),
            ("1e3", Prim::Number, strict, Json("1000")),
            ("1E-2", Prim::Number, strict, Json("0.01")),
            ("-1.5e+2", Prim::Number, strict, Json("-150")),
            ("18446744073709551615", Prim::Number, strict, Json("18446744073709551615")),
            ("1e20", Prim::Number, strict, Json("1e20")),
            ("1e400", Prim::Number, strict, Detail("expected finite number, got `1e400`")),
            ("NaN", Prim::Number, strict, Detail("expected number, got `NaN`")),
            ("nan", Prim::Number, strict, Fails),
            ("Infinity", Prim::Number, strict, Fails),
            ("-inf", Prim::Number, strict, Fails),
            ("+1", Prim::Number, strict, Fails),
            (" 1", Prim::Number, strict, Fails),
            ("1 ", Prim::Number, strict, Fails),
            ("0x10", Prim::Number, strict, Fails),
            ("1.", Prim::Number, strict, Fails),
            (".5", Prim::Number, strict, Fails),
            ("1e", Prim::Number, strict, Fails),
            ("1e+", Prim::Number, strict, Fails),
            ("1.5.2", Prim::Number, strict, Fails),
            ("", Prim::Number, strict, Fails),
            // booleans, strict
            ("true", Prim::Boolean, strict, Json("true")),
            ("false", Prim::Boolean, strict, Json("false")),
            ("True", Prim::Boolean, strict, Detail("expected boolean (`true` or `false`), got `True`")),
            ("1", Prim::Boolean, strict, Fails),
            ("0", Prim::Boolean, strict, Fails),
            ("yes", Prim::Boolean, strict, Fails),
            ("off", Prim::Boolean, strict, Fails),
            ("", Prim::Boolean, strict, Fails),
            // booleans, lenient
            ("true", Prim::Boolean, lenient, Json("true")),
            ("TRUE", Prim::Boolean, lenient, Json("true")),
            ("1", Prim::Boolean, lenient, Json("true")),
            ("Yes", Prim::Boolean, lenient, Json("true")),
            ("ON", Prim::Boolean, lenient, Json("true")),
            ("False", Prim::Boolean, lenient, Json("false")),
            ("0", Prim::Boolean, lenient, Json("false")),
            ("no", Prim::Boolean, lenient, Json("false")),
            ("Off", Prim::Boolean, lenient, Json("false")),
            ("2", Prim::Boolean, lenient, Detail("expected boolean (true/false, 1/0, yes/no or on/off), got `2`")),
            ("maybe", Prim::Boolean, lenient, Fails),
            ("y", Prim::Boolean, lenient, Fails),
            (" true", Prim::Boolean, lenient, Fails),
            ("", Prim::Boolean, lenient, Fails),
        ];
        let mut failures = Vec::new();
        for (i, (text, prim, lenient, want)) in rows.iter().enumerate() {
            let got = coerce(
                *text,
                *prim,
                &Coercion {
                    lenient_booleans: *lenient,
                },
            );
            let ok = match (want, &got) {
                (Json(j), Ok(v)) => serde_json::from_str::<Value>(j).unwrap() == *v,
                (Fails, Err(e)) => e.code == FieldCode::Type,
                (Detail(d), Err(e)) => e.code == FieldCode::Type && e.detail == *d,
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "row {i}: `{text}` as {prim:?} (lenient={lenient}) gave {got:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn quote_truncates_to_64_chars() {
        let long = "é".repeat(64);
        #[rustfmt::skip]
        let rows = [
            ("abc".to_owned(), "`abc`".to_owned()),
            (String::new(), "``".to_owned()),
            (long.clone(), format!("`{long}`")),
            (format!("{long}x"), format!("`{long}…`")),
        ];
        for (i, (text, want)) in rows.iter().enumerate() {
            assert_eq!(quote(text), *want, "row {i}");
        }
        assert_eq!(got(""), "an empty value");
    }
}
