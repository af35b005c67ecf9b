//! Parameter decoding: every location, style, `explode` and shape, chosen by the first four
//! bytes; the rest is the raw text. A value that decodes has the shape asked for; an error
//! is short and names what was expected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oasgate::params::{
    Coercion, Location, ObjectShape, ParamSpec, Prim, Shape, Style, decode_cookie, decode_header,
    decode_path, decode_query, split_cookies, split_query,
};
use serde_json::Value;

const LOCATIONS: [Location; 4] = [
    Location::Path,
    Location::Query,
    Location::Header,
    Location::Cookie,
];
const STYLES: [Style; 9] = [
    Style::Simple,
    Style::Label,
    Style::Matrix,
    Style::Form,
    Style::SpaceDelimited,
    Style::PipeDelimited,
    Style::DeepObject,
    Style::TabDelimited,
    Style::Cookie,
];
const PRIMS: [Prim; 4] = [Prim::String, Prim::Integer, Prim::Number, Prim::Boolean];
const CODES: [&str; 5] = ["type", "empty", "duplicate", "format", "encoding"];

fn shape(byte: u8) -> Shape {
    let prim = PRIMS[usize::from(byte) % 4];
    match (byte / 4) % 4 {
        0 => Shape::Primitive(prim),
        1 => Shape::Array(prim),
        2 => Shape::Object(ObjectShape {
            properties: vec![("R".into(), prim), ("G".into(), Prim::Integer)],
            additional: None,
        }),
        _ => Shape::Object(ObjectShape {
            properties: vec![("p".into(), Prim::Boolean)],
            additional: Some(prim),
        }),
    }
}

fn fits(value: &Value, prim: Prim) -> bool {
    match prim {
        Prim::String => value.is_string(),
        // Integers beyond 64 bits become whole doubles.
        Prim::Integer => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        Prim::Number => value.is_number(),
        Prim::Boolean => value.is_boolean(),
    }
}

fuzz_target!(|data: &[u8]| {
    let [location, style, flags, shape_byte, rest @ ..] = data else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let shape = shape(*shape_byte);
    let coercion = Coercion {
        lenient_booleans: flags & 4 != 0,
    };
    let spec = ParamSpec {
        name: "p",
        style: STYLES[usize::from(*style) % STYLES.len()],
        explode: flags & 1 != 0,
        shape: &shape,
        allow_empty: flags & 2 != 0,
        coercion: &coercion,
    };
    let decoded = match LOCATIONS[usize::from(*location) % 4] {
        Location::Path => decode_path(raw, &spec).map(Some),
        Location::Query => decode_query(&split_query(raw), &spec),
        Location::Header => decode_header(&raw.split('\n').collect::<Vec<_>>(), &spec),
        Location::Cookie => decode_cookie(&split_cookies(raw), &spec),
    };
    match decoded {
        Ok(None) => {}
        Ok(Some(value)) => match &shape {
            Shape::Primitive(prim) => assert!(fits(&value, *prim), "{value} is not {prim:?}"),
            Shape::Array(prim) => {
                let items = value
                    .as_array()
                    .expect("an array shape decodes to an array");
                assert!(items.iter().all(|item| fits(item, *prim)), "{value}");
            }
            Shape::Object(object) => {
                let map = value
                    .as_object()
                    .expect("an object shape decodes to an object");
                for (key, item) in map {
                    assert!(fits(item, object.prim_of(key)), "{key}: {item}");
                }
            }
        },
        Err(error) => {
            assert!(CODES.contains(&error.code.as_str()), "unknown code {}", error.code);
            assert!(!error.detail.is_empty());
            assert!(
                !error.detail.starts_with(char::is_uppercase),
                "messages are lowercase: {}",
                error.detail
            );
            // Offending text is quoted cut short, never echoed whole.
            assert!(error.detail.chars().count() < 400, "{}", error.detail);
        }
    }
});
