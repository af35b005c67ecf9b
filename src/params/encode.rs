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
            (Style::Form | Style::SpaceDelimited | Style::PipeDelimited, true) => {
                for item in items {
                    pair(out, name, |o| text(o, item));
                }
            }
            (Style::SpaceDelimited, false) => pair(out, name, |o| joined(o, items, "%20")),
            (Style::PipeDelimited, false) => pair(out, name, |o| joined(o, items, "%7C")),
            _ => pair(out, name, |o| joined(o, items, ",")),
        },
        Value::Object(map) => match (style, explode) {
            (Style::DeepObject, _) => {
                for (key, v) in map {
                    start(out);
                    push_enc(out, name);
                    out.push_str("%5B");
                    push_enc(out, key);
                    out.push_str("%5D=");
                    text(out, v);
                }
            }
            (Style::Form, true) => {
                for (key, v) in map {
                    pair(out, key, |o| text(o, v));
                }
            }
            _ => pair(out, name, |o| {
                for (i, (key, v)) in map.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    push_enc(o, key);
                    o.push(',');
                    text(o, v);
                }
            }),
        },
        other => pair(out, name, |o| text(o, other)),
    }
}

/// Appends a raw (already encoded) `key=value` pair as the client sent it.
pub fn push_raw_pair(out: &mut String, key: &str, value: &str) {
    start(out);
    out.push_str(key);
    out.push('=');
    out.push_str(value);
}

fn start(out: &mut String) {
    if !out.is_empty() {
        out.push('&');
    }
}

fn pair(out: &mut String, name: &str, value: impl FnOnce(&mut String)) {
    start(out);
    push_enc(out, name);
    out.push('=');
    value(out);
}

/// Appends `text` percent-encoded, chunk by chunk (no formatting machinery on the hot path).
fn push_enc(out: &mut String, text: &str) {
    out.extend(enc(text));
}

fn enc(text: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(text, COMPONENT)
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
            push_enc(out, s);
        }
        Value::Null => {}
        Value::Bool(_) | Value::Number(_) => {
            let _ = write!(out, "{value}");
        }
        nested => {
            push_enc(out, &nested.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Coercion, ParamSpec, Shape, decode_query, split_query};
    use serde_json::json;

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
}
