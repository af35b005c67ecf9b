//! Property tests: a value serialised in any style decodes back unchanged, and the router never
//! panics and hands out parameter values that are pieces of the path.

use oasgate::params::{
    Coercion, ObjectShape, ParamSpec, Prim, Shape, Style, decode_cookie, decode_header,
    decode_path, decode_query, split_cookies, split_query,
};
use oasgate::router::{RouterBuilder, template_params};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use serde_json::{Map, Value};

const NAME: &str = "p";

/// Where a parameter travels, with the styles it takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum In {
    Path,
    Query,
    Header,
    Cookie,
}

/// Every location × style × explode the decoders accept, as the specification lists them.
const CASES: [(In, Style, bool); 17] = [
    (In::Path, Style::Simple, false),
    (In::Path, Style::Simple, true),
    (In::Path, Style::Label, false),
    (In::Path, Style::Label, true),
    (In::Path, Style::Matrix, false),
    (In::Path, Style::Matrix, true),
    (In::Query, Style::Form, false),
    (In::Query, Style::Form, true),
    (In::Query, Style::SpaceDelimited, false),
    (In::Query, Style::PipeDelimited, false),
    (In::Query, Style::DeepObject, true),
    (In::Header, Style::Simple, false),
    (In::Header, Style::Simple, true),
    (In::Cookie, Style::Form, false),
    (In::Cookie, Style::Form, true),
    // A style another location uses falls back to the location's own.
    (In::Header, Style::Form, false),
    (In::Cookie, Style::Simple, true),
];

/// Declared properties of object parameters: every primitive type once.
const PROPERTIES: [(&str, Prim); 4] = [
    ("R", Prim::String),
    ("G", Prim::Integer),
    ("B", Prim::Number),
    ("A", Prim::Boolean),
];

fn prim_value(prim: Prim) -> BoxedStrategy<Value> {
    match prim {
        // Any text, delimiters and escapes included; never empty (that is the "empty" case).
        Prim::String => prop_oneof![
            ".{1,12}",
            "[,;=&|.%+ \\[\\]/a-z]{1,8}",
            Just("%zz".to_owned()),
        ]
        .prop_map(Value::String)
        .boxed(),
        Prim::Integer => any::<i64>().prop_map(Value::from).boxed(),
        Prim::Number => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from)
            .boxed(),
        Prim::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
    }
}

fn prim() -> impl Strategy<Value = Prim> {
    prop_oneof![
        Just(Prim::String),
        Just(Prim::Integer),
        Just(Prim::Number),
        Just(Prim::Boolean)
    ]
}

/// A shape and a value of that shape.
fn shaped_value() -> impl Strategy<Value = (Shape, Value)> {
    let primitive = prim().prop_flat_map(|p| (Just(Shape::Primitive(p)), prim_value(p)));
    let array = prim().prop_flat_map(|p| {
        (
            Just(Shape::Array(p)),
            prop::collection::vec(prim_value(p), 1..5).prop_map(Value::Array),
        )
    });
    let object = prop::sample::subsequence(PROPERTIES.to_vec(), 1..=PROPERTIES.len())
        .prop_flat_map(|chosen| {
            let values: Vec<_> = chosen.iter().map(|(_, p)| prim_value(*p)).collect();
            (Just(chosen), values)
        })
        .prop_map(|(chosen, values)| {
            let shape = Shape::Object(ObjectShape {
                properties: PROPERTIES
                    .iter()
                    .map(|(n, p)| ((*n).to_owned(), *p))
                    .collect(),
                additional: None,
            });
            let map: Map<String, Value> = chosen
                .iter()
                .map(|(n, _)| (*n).to_owned())
                .zip(values)
                .collect();
            (shape, Value::Object(map))
        });
    prop_oneof![primitive, array, object]
}

fn enc(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// The text of a primitive, percent-encoded.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => enc(s),
        other => enc(&other.to_string()),
    }
}

/// A value serialised by the OpenAPI rules for `style` and `explode`.
fn serialise(place: In, style: Style, explode: bool, value: &Value) -> String {
    let items = |sep: &str| match value {
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(sep),
        _ => unreachable!(),
    };
    let pairs = |inner: &str, sep: &str| match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{}{inner}{}", enc(k), text(v)))
            .collect::<Vec<_>>()
            .join(sep),
        _ => unreachable!(),
    };
    // Styles a location does not take are read as the location's default.
    let style = match (place, style) {
        (In::Path, s @ (Style::Simple | Style::Label | Style::Matrix)) => s,
        (In::Path | In::Header, _) => Style::Simple,
        (In::Query, s @ (Style::SpaceDelimited | Style::PipeDelimited | Style::DeepObject)) => s,
        (In::Query | In::Cookie, _) => Style::Form,
    };
    // Exploded lists and objects repeat the pair separator of the location.
    let sep = if place == In::Query { "&" } else { "; " };
    match (style, value) {
        (Style::Simple, Value::Array(_)) => items(","),
        (Style::Simple, Value::Object(_)) if explode => pairs("=", ","),
        (Style::Simple, Value::Object(_)) => pairs(",", ","),
        (Style::Simple, v) => text(v),
        (Style::Label, Value::Array(_)) => format!(".{}", items(if explode { "." } else { "," })),
        (Style::Label, Value::Object(_)) if explode => format!(".{}", pairs("=", ".")),
        (Style::Label, Value::Object(_)) => format!(".{}", pairs(",", ",")),
        (Style::Label, v) => format!(".{}", text(v)),
        (Style::Matrix, Value::Array(_)) if explode => {
            format!(";{NAME}={}", items(&format!(";{NAME}=")))
        }
        (Style::Matrix, Value::Array(_)) => format!(";{NAME}={}", items(",")),
        (Style::Matrix, Value::Object(_)) if explode => format!(";{}", pairs("=", ";")),
        (Style::Matrix, Value::Object(_)) => format!(";{NAME}={}", pairs(",", ",")),
        (Style::Matrix, v) => format!(";{NAME}={}", text(v)),
        (Style::DeepObject, Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{NAME}%5B{}%5D={}", enc(k), text(v)))
            .collect::<Vec<_>>()
            .join("&"),
        (Style::SpaceDelimited, Value::Array(_)) => format!("{NAME}={}", items("%20")),
        (Style::SpaceDelimited, Value::Object(_)) => format!("{NAME}={}", pairs("%20", "%20")),
        (Style::PipeDelimited, Value::Array(_)) => format!("{NAME}={}", items("|")),
        (Style::PipeDelimited, Value::Object(_)) => format!("{NAME}={}", pairs("|", "|")),
        (_, Value::Array(_)) if explode => {
            format!("{NAME}={}", items(&format!("{sep}{NAME}=")))
        }
        (_, Value::Array(_)) => format!("{NAME}={}", items(",")),
        (_, Value::Object(_)) if explode => pairs("=", sep),
        (_, Value::Object(_)) => format!("{NAME}={}", pairs(",", ",")),
        (_, v) => format!("{NAME}={}", text(v)),
    }
}

fn decode(place: In, spec: &ParamSpec<'_>, raw: &str) -> Result<Option<Value>, String> {
    let decoded = match place {
        In::Path => decode_path(raw, spec).map(Some),
        In::Query => decode_query(&split_query(raw), spec),
        In::Header => decode_header(&[raw], spec),
        In::Cookie => decode_cookie(&split_cookies(raw), spec),
    };
    decoded.map_err(|e| format!("{}: {}", e.code, e.detail))
}

/// JSON equality with numbers compared by value (`2` and `2.0` are one number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn serialised_values_decode_unchanged(
        case in prop::sample::select(CASES.to_vec()),
        (shape, value) in shaped_value(),
    ) {
        let (place, style, explode) = case;
        // deepObject is for objects only.
        prop_assume!(style != Style::DeepObject || matches!(shape, Shape::Object(_)));
        let coercion = Coercion::default();
        let spec = ParamSpec {
            name: NAME,
            style,
            explode,
            shape: &shape,
            allow_empty: false,
            coercion: &coercion,
        };
        // These two styles split on their delimiter even when it is percent-encoded (`%20`,
        // `%7C`), so an item holding it cannot be sent at all.
        let delimiter = match style {
            Style::SpaceDelimited if place == In::Query => Some(' '),
            Style::PipeDelimited if place == In::Query => Some('|'),
            _ => None,
        };
        prop_assume!(delimiter.is_none_or(|d| !value.to_string().contains(d)));
        let raw = serialise(place, style, explode, &value);
        let decoded = decode(place, &spec, &raw);
        prop_assert!(
            matches!(&decoded, Ok(Some(got)) if same(got, &value)),
            "{place:?} {style:?} explode={explode}: {value} as `{raw}` decoded to {decoded:?}"
        );
    }
}

/// Segments templates are made of: static, parameter and mixed.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["pets", "mine", "a", "b", "files", "v1", ""])
            .prop_map(str::to_owned),
        Just("{}".to_owned()),
        Just("{}.{}".to_owned()),
        Just("{}-{}".to_owned()),
        Just("{}.json".to_owned()),
        Just("v{}".to_owned()),
    ]
}

/// A template of 1–4 segments, parameters numbered so that names never repeat.
fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 1..5).prop_map(|segments| {
        let mut n = 0;
        let mut out = String::new();
        for s in segments {
            out.push('/');
            let mut rest = s.as_str();
            while let Some(at) = rest.find("{}") {
                out.push_str(&rest[..at]);
                out.push_str(&format!("{{p{n}}}"));
                n += 1;
                rest = &rest[at + 2..];
            }
            out.push_str(rest);
        }
        out
    })
}

/// `template` with each parameter replaced by the next value.
fn fill(template: &str, values: &[String]) -> String {
    let mut out = String::new();
    let mut values = values.iter().cycle();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push_str(values.next().map_or("x", String::as_str));
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn router_values_are_pieces_of_the_path(
        templates in prop::collection::vec(template(), 1..8),
        pick in any::<prop::sample::Index>(),
        values in prop::collection::vec("[a-z0-9.%\\-é]{1,6}", 1..6),
        noise in "[/a-z.{}%\\-]{0,24}",
        lenient in any::<bool>(),
    ) {
        let mut builder = RouterBuilder::new();
        let mut inserted = Vec::new();
        for (id, t) in templates.iter().enumerate() {
            if builder.insert(t, id).is_ok() {
                inserted.push(id);
            }
        }
        let router = builder.build();
        let filled = fill(&templates[*pick.get(&inserted)], &values);
        for (path, must_match) in [(filled.as_str(), true), (noise.as_str(), false)] {
            let found = if lenient { router.at_lenient(path) } else { router.at(path) };
            prop_assert!(!must_match || found.is_some(), "{path} matches none of {templates:?}");
            let Some(found) = found else { continue };
            prop_assert!(inserted.contains(&found.id));
            let template = &templates[found.id];
            let names = template_params(template).unwrap();
            prop_assert_eq!(found.params.len(), names.len());
            let start = path.as_ptr() as usize;
            let mut got = Vec::new();
            for (name, value) in found.params.iter() {
                let offset = (value.as_ptr() as usize).wrapping_sub(start);
                prop_assert!(
                    !value.is_empty()
                        && !value.contains('/')
                        && path.get(offset..offset + value.len()) == Some(value),
                    "{path} -> {template}: {name}={value:?} is not a piece of the path"
                );
                got.push(value.to_owned());
            }
            // The template with the values put back is the path (give or take one trailing
            // slash when lenient).
            let rebuilt = fill(template, &got);
            prop_assert!(
                rebuilt == path
                    || (lenient
                        && (format!("{rebuilt}/") == path || rebuilt.strip_suffix('/') == Some(path))),
                "{path} -> {template} rebuilt as {rebuilt}"
            );
        }
    }
}
