//! Writing parameter values back into a query string, in their declared style.
//!
//! The layer hands the inner service a canonical query: every declared parameter coerced,
//! transformed and defaulted, written the way its `style` and `explode` say, so any framework's
//! query parser reads clean values. Delimiters are literal; the same characters inside values
//! are percent-encoded, so the decoders read the query back unchanged.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::Style;

/// Everything but the unreserved characters of RFC 3986 is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Appends `name=value` pairs for one parameter (with a leading `&` when `out` is not empty).
pub fn encode_query(name: &str, style: Style, explode: bool, value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => match (style, explode) {
            (
                Style::Form | Style::SpaceDelimited | Style::PipeDelimited | Style::TabDelimited,
                true,
            ) => {
                for item in items {
                    push_pair(out, name, |o| text(o, item));
                }
            }
            (Style::SpaceDelimited, false) => push_pair(out, name, |o| joined(o, items, "%20")),
            (Style::PipeDelimited, false) => push_pair(out, name, |o| joined(o, items, "%7C")),
            (Style::TabDelimited, false) => push_pair(out, name, |o| joined(o, items, "%09")),
            _ => push_pair(out, name, |o| joined(o, items, ",")),
        },
        Value::Object(map) => match (style, explode) {
            (Style::DeepObject, _) => {
                for (key, v) in map {
                    start(out);
                    push_encoded(out, name);
                    out.push_str("%5B");
                    push_encoded(out, key);
                    out.push_str("%5D=");
                    text(out, v);
                }
            }
            (Style::Form, true) => {
                for (key, v) in map {
                    push_pair(out, key, |o| text(o, v));
                }
            }
            _ => push_pair(out, name, |o| {
                for (i, (key, v)) in map.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    push_encoded(o, key);
                    o.push(',');
                    text(o, v);
                }
            }),
        },
        other => push_pair(out, name, |o| text(o, other)),
    }
}

/// Appends a raw (already encoded) `key=value` pair as the client sent it, but for `;`,
/// written `%3B`.
///
/// oasgate splits a query on `&` only, so a `;` is data in what it checked; servers that also
/// split on `;` (the HTML 4 recommendation, Rack 2, older `parse_qs`) would read
/// `x=1;limit=1000` as a second, unchecked parameter. Encoded, every server reads the one
/// pair oasgate read.
pub fn push_raw_pair(out: &mut String, key: &str, value: &str) {
    start(out);
    push_semicolon_encoded(out, key);
    out.push('=');
    push_semicolon_encoded(out, value);
}

/// Appends already encoded text with each `;` written `%3B`.
fn push_semicolon_encoded(out: &mut String, text: &str) {
    let mut pieces = text.split(';');
    // `split` yields at least one piece.
    out.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        out.push_str("%3B");
        out.push_str(piece);
    }
}

fn start(out: &mut String) {
    if !out.is_empty() {
        out.push('&');
    }
}

/// Appends `name=` (name encoded) and the value `value` writes, already encoded.
pub(crate) fn push_pair(out: &mut String, name: &str, value: impl FnOnce(&mut String)) {
    start(out);
    push_encoded(out, name);
    out.push('=');
    value(out);
}

/// The bytes [`COMPONENT`] leaves as they are: RFC 3986's unreserved characters.
const UNRESERVED: [bool; 256] = {
    let mut unreserved = [false; 256];
    let mut b = 0;
    while b < 256 {
        unreserved[b] =
            (b as u8).is_ascii_alphanumeric() || matches!(b as u8, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    unreserved
};

/// Appends `text` percent-encoded, chunk by chunk (no formatting machinery on the hot path).
pub(crate) fn push_encoded(out: &mut String, text: &str) {
    // Most names and values need no escape at all, and the rest mostly begin with a run that
    // needs none: that run is copied whole, one table lookup a byte.
    let plain = text
        .bytes()
        .position(|b| !UNRESERVED[usize::from(b)])
        .unwrap_or(text.len());
    // Every byte before `plain` is ASCII: it is a character boundary.
    out.push_str(&text[..plain]);
    if plain < text.len() {
        out.extend(enc(&text[plain..]));
    }
}

fn enc(text: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(text, COMPONENT)
}

/// Appends an integer's decimal digits without the formatting machinery.
pub(crate) fn push_digits(out: &mut String, n: u64) {
    push_padded_digits(out, n, 1);
}

/// Appends an integer's decimal digits, zero-padded to at least `width` (at most 20), without
/// the formatting machinery: `format!`'s padding costs thousands of instructions.
pub(crate) fn push_padded_digits(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let at = at.min(digits.len() - width.min(digits.len()));
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

fn joined(out: &mut String, items: &[Value], delimiter: &str) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(delimiter);
        }
        text(out, item);
    }
}

/// A scalar as text; nested structures as compact JSON; null as nothing.
fn text(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => {
            push_encoded(out, s);
        }
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => push_digits(out, u),
            (None, Some(i)) => {
                out.push('-');
                push_digits(out, i.unsigned_abs());
            }
            // Decimals keep serde_json's shortest round-trip form.
            _ => {
                let _ = write!(out, "{n}");
            }
        },
        nested => {
            push_encoded(out, &nested.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Coercion, ParamSpec, Shape, decode_query, split_query};
    use serde_json::json;

    #[test]
    fn scalars_are_written_as_json_writes_them() {
        let values = [
            json!(0),
            json!(7),
            json!(-42),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(-0.25),
            json!(1e300),
            json!(true),
            json!(false),
        ];
        for value in values {
            let mut out = String::new();
            text(&mut out, &value);
            assert_eq!(out, value.to_string());
        }
        // (text, encoded)
        let rows = [
            ("a-b.c_d~e9", "a-b.c_d~e9"),
            ("a b&c=é", "a%20b%26c%3D%C3%A9"),
            ("", ""),
        ];
        for (text, encoded) in rows {
            let mut out = String::new();
            push_encoded(&mut out, text);
            assert_eq!(out, encoded, "{text}");
        }
    }

    #[test]
    fn encodes_and_decodes_back() {
        // (style, explode, schema, value, expected query)
        let rows: Vec<(Style, bool, Value, Value, &str)> = vec![
            (
                Style::Form,
                true,
                json!({"type": "integer"}),
                json!(5),
                "p=5",
            ),
            (
                Style::Form,
                true,
                json!({"type": "string"}),
                json!("a b,c&d"),
                "p=a%20b%2Cc%26d",
            ),
            (
                Style::Form,
                true,
                json!({"type": "array", "items": {"type": "string"}}),
                json!(["a", "b"]),
                "p=a&p=b",
            ),
            (
                Style::Form,
                false,
                json!({"type": "array", "items": {"type": "string"}}),
                json!(["a,1", "b"]),
                "p=a%2C1,b",
            ),
            (
                Style::SpaceDelimited,
                false,
                json!({"type": "array", "items": {"type": "integer"}}),
                json!([1, 2]),
                "p=1%202",
            ),
            (
                Style::PipeDelimited,
                false,
                json!({"type": "array", "items": {"type": "integer"}}),
                json!([1, 2]),
                "p=1%7C2",
            ),
            (
                Style::DeepObject,
                true,
                json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
                json!({"a": 1}),
                "p%5Ba%5D=1",
            ),
            (
                Style::Form,
                true,
                json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}),
                json!({"a": 1, "b": "x"}),
                "a=1&b=x",
            ),
            (
                Style::Form,
                false,
                json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
                json!({"a": 1}),
                "p=a,1",
            ),
            (
                Style::Form,
                true,
                json!({"type": "boolean"}),
                json!(true),
                "p=true",
            ),
            (
                Style::Form,
                true,
                json!({"type": "string"}),
                json!("é/ü"),
                "p=%C3%A9%2F%C3%BC",
            ),
            (
                Style::Form,
                true,
                json!({"type": "string"}),
                json!("1;limit=1000"),
                "p=1%3Blimit%3D1000",
            ),
            (
                Style::Form,
                false,
                json!({"type": "array", "items": {"type": "string"}}),
                json!(["a;b", "c"]),
                "p=a%3Bb,c",
            ),
        ];
        let coercion = Coercion::default();
        for (style, explode, schema, value, want) in rows {
            let mut out = String::new();
            encode_query("p", style, explode, &value, &mut out);
            assert_eq!(out, want, "{value}");
            let shape = Shape::from_schema(&schema);
            let spec = ParamSpec {
                name: "p",
                style,
                explode,
                shape: &shape,
                allow_empty: false,
                coercion: &coercion,
            };
            let back = decode_query(&split_query(&out), &spec).unwrap();
            assert_eq!(back, Some(value.clone()), "{want} decodes back");
        }
    }

    /// Pairs kept as sent keep every byte but `;`, which some servers split on.
    #[test]
    fn raw_pairs_keep_their_text_but_semicolons() {
        // (key, value, written)
        let rows = [
            ("x", "1", "x=1"),
            ("x", "1;limit=1000", "x=1%3Blimit=1000"),
            ("a;b", ";", "a%3Bb=%3B"),
            ("k%3B", "v+w%20", "k%3B=v+w%20"),
            ("flag", "", "flag="),
        ];
        for (key, value, written) in rows {
            let mut out = String::new();
            push_raw_pair(&mut out, key, value);
            assert_eq!(out, written, "{key}={value}");
            let pairs = split_query(&out);
            assert_eq!(pairs.len(), 1, "{out} is one pair");
        }
    }

    /// The unreserved run copied whole writes what the encoder writes for the whole text.
    #[test]
    fn encoding_matches_the_component_set() {
        let every_ascii = (0..=0x7f_u8).map(|b| format!("ab{}cd", char::from(b)));
        let texts = [
            "",
            "walnut desk",
            "plain-._~09AZaz",
            " leading",
            "trailing ",
            "é",
            "caf\u{e9} au lait",
            "\u{1f600}x",
            "a&b=c;d/e?f#g%h+i",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain(every_ascii);
        for text in texts {
            let mut out = String::from("kept&");
            push_encoded(&mut out, &text);
            assert_eq!(out, format!("kept&{}", enc(&text)), "{text:?}");
        }
    }
}
