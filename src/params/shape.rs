//! Parameter locations, serialization styles and the shapes values decode into.

use serde_json::Value;

/// Where a parameter travels in the request (the OpenAPI `in` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// A templated path segment.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie from the `Cookie` header.
    Cookie,
}

impl Location {
    /// The OpenAPI spelling: `"path"`, `"query"`, `"header"` or `"cookie"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }

    /// Reads an OpenAPI `in` value; `None` for anything else.
    pub fn parse(s: &str) -> Option<Location> {
        [
            Location::Path,
            Location::Query,
            Location::Header,
            Location::Cookie,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

/// How a parameter value is serialized (the OpenAPI `style` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// `blue,black` (path and header).
    Simple,
    /// `.blue.black` (path).
    Label,
    /// `;color=blue` (path).
    Matrix,
    /// `color=blue` (query and cookie).
    Form,
    /// `color=blue%20black` (query).
    SpaceDelimited,
    /// `color=blue|black` (query).
    PipeDelimited,
    /// `color[R]=100` (query objects).
    DeepObject,
    /// `color=blue%09black`: Swagger 2.0's `collectionFormat: tsv`, which OpenAPI 3.x has no
    /// style for (a 2.0 document's query, header, path and form fields).
    TabDelimited,
    /// `color=blue; color=black`: OpenAPI 3.2's cookie style, `form` without percent-decoding
    /// (cookies only).
    Cookie,
}

const STYLES: [(Style, &str); 9] = [
    (Style::Simple, "simple"),
    (Style::Label, "label"),
    (Style::Matrix, "matrix"),
    (Style::Form, "form"),
    (Style::SpaceDelimited, "spaceDelimited"),
    (Style::PipeDelimited, "pipeDelimited"),
    (Style::DeepObject, "deepObject"),
    (Style::TabDelimited, "tabDelimited"),
    (Style::Cookie, "cookie"),
];

impl Style {
    /// Reads an OpenAPI `style` value (exact case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Style> {
        STYLES
            .iter()
            .find(|(_, name)| *name == s)
            .map(|&(style, _)| style)
    }

    /// The OpenAPI spelling of this style.
    pub fn as_str(self) -> &'static str {
        STYLES
            .iter()
            .find(|(style, _)| *style == self)
            .map_or("", |&(_, name)| name)
    }

    /// The style used when none is given: `simple` for path and header, `form` for query and cookie.
    pub fn default_for(location: Location) -> Style {
        match location {
            Location::Path | Location::Header => Style::Simple,
            Location::Query | Location::Cookie => Style::Form,
        }
    }

    /// The `explode` used when none is given: true for `form` and `cookie`, false otherwise.
    pub fn default_explode(self) -> bool {
        matches!(self, Style::Form | Style::Cookie)
    }
}

/// The JSON primitive a piece of text is coerced to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prim {
    /// Kept as text.
    String,
    /// A whole number.
    Integer,
    /// Any finite number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl Prim {
    /// The JSON Schema type name.
    pub fn as_str(self) -> &'static str {
        match self {
            Prim::String => "string",
            Prim::Integer => "integer",
            Prim::Number => "number",
            Prim::Boolean => "boolean",
        }
    }
}

/// What a parameter's text decodes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A single value.
    Primitive(Prim),
    /// A list of values of one primitive type.
    Array(Prim),
    /// A map of property names to primitive values.
    Object(ObjectShape),
}

/// The properties an object parameter is expected to have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectShape {
    /// Declared properties and the primitive each is coerced to.
    pub properties: Vec<(String, Prim)>,
    /// How undeclared properties are coerced; `None` keeps them as strings.
    pub additional: Option<Prim>,
}

impl ObjectShape {
    /// The primitive a property of this name is coerced to.
    pub fn prim_of(&self, name: &str) -> Prim {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map_or(self.additional.unwrap_or(Prim::String), |&(_, p)| p)
    }
}

impl Shape {
    /// Derives the shape from a resolved, 2020-12-normalised JSON schema.
    ///
    /// Missing or unknown types give strings; nested arrays and objects inside
    /// an array or object are kept as strings.
    pub fn from_schema(schema: &Value) -> Shape {
        match type_name(schema) {
            Some("array") => Shape::Array(prim_of(schema.get("items"))),
            Some("object") => Shape::Object(object_shape(schema)),
            Some(_) => Shape::Primitive(prim_of(Some(schema))),
            None if schema.get("properties").is_some() => Shape::Object(object_shape(schema)),
            None if schema.get("items").is_some() => Shape::Array(prim_of(schema.get("items"))),
            None => Shape::Primitive(Prim::String),
        }
    }
}

/// The first non-null `type`, or `"string"` when a list of types includes it
/// (any text is then acceptable as is).
fn type_name(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(name) => Some(name),
        Value::Array(list) => {
            let mut names = list
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null");
            let first = names.next()?;
            let has_string = first == "string" || names.any(|t| t == "string");
            Some(if has_string { "string" } else { first })
        }
        _ => None,
    }
}

fn prim_of(schema: Option<&Value>) -> Prim {
    match schema.and_then(type_name) {
        Some("integer") => Prim::Integer,
        Some("number") => Prim::Number,
        Some("boolean") => Prim::Boolean,
        _ => Prim::String,
    }
}

fn object_shape(schema: &Value) -> ObjectShape {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, s)| (name.clone(), prim_of(Some(s))))
                .collect()
        })
        .unwrap_or_default();
    let additional = schema
        .get("additionalProperties")
        .filter(|s| s.is_object())
        .map(|s| prim_of(Some(s)));
    ObjectShape {
        properties,
        additional,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(props: &[(&str, Prim)], additional: Option<Prim>) -> Shape {
        Shape::Object(ObjectShape {
            properties: props.iter().map(|&(n, p)| (n.to_owned(), p)).collect(),
            additional,
        })
    }

    #[test]
    fn from_schema_table() {
        use Prim::*;
        #[rustfmt::skip]
        let rows = [
            (json!({"type": "integer"}), Shape::Primitive(Integer)),
            (json!({"type": "number"}), Shape::Primitive(Number)),
            (json!({"type": "boolean"}), Shape::Primitive(Boolean)),
            (json!({"type": "string"}), Shape::Primitive(String)),
            (json!({"type": ["integer", "null"]}), Shape::Primitive(Integer)),
            (json!({"type": ["null", "boolean"]}), Shape::Primitive(Boolean)),
            (json!({"type": ["integer", "string"]}), Shape::Primitive(String)),
            (json!({"type": ["null"]}), Shape::Primitive(String)),
            (json!({}), Shape::Primitive(String)),
            (json!({"type": "foo"}), Shape::Primitive(String)),
            (json!({"type": 5}), Shape::Primitive(String)),
            (json!(true), Shape::Primitive(String)),
            (json!({"type": "array", "items": {"type": "number"}}), Shape::Array(Number)),
            (json!({"type": ["array", "null"], "items": {"type": ["integer", "null"]}}), Shape::Array(Integer)),
            (json!({"type": "array"}), Shape::Array(String)),
            (json!({"items": {"type": "boolean"}}), Shape::Array(Boolean)),
            (json!({"type": "array", "items": {"type": "object"}}), Shape::Array(String)),
            (json!({"type": "array", "items": {"type": "array"}}), Shape::Array(String)),
            (json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "array"}, "c": {}}, "additionalProperties": {"type": "number"}}), obj(&[("a", Integer), ("b", String), ("c", String)], Some(Number))),
            (json!({"properties": {"a": {"type": "boolean"}}}), obj(&[("a", Boolean)], None)),
            (json!({"type": "object", "additionalProperties": true}), obj(&[], None)),
            (json!({"type": "object", "additionalProperties": false}), obj(&[], None)),
            (json!({"type": "object", "properties": {"o": {"type": "object"}}}), obj(&[("o", String)], None)),
        ];
        let mut failures = Vec::new();
        for (i, (schema, want)) in rows.iter().enumerate() {
            let got = Shape::from_schema(schema);
            if got != *want {
                failures.push(format!("row {i}: {schema} gave {got:?}, want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn names_table() {
        let styles = [
            ("simple", Some(Style::Simple)),
            ("label", Some(Style::Label)),
            ("matrix", Some(Style::Matrix)),
            ("form", Some(Style::Form)),
            ("spaceDelimited", Some(Style::SpaceDelimited)),
            ("pipeDelimited", Some(Style::PipeDelimited)),
            ("deepObject", Some(Style::DeepObject)),
            ("cookie", Some(Style::Cookie)),
            ("Form", None),
            ("spacedelimited", None),
            ("", None),
        ];
        for (i, (text, want)) in styles.iter().enumerate() {
            assert_eq!(Style::parse(text), *want, "style row {i}: `{text}`");
            if let Some(style) = want {
                assert_eq!(style.as_str(), *text, "style row {i}: as_str");
            }
        }
        let locations = [
            (Location::Path, "path", Style::Simple),
            (Location::Query, "query", Style::Form),
            (Location::Header, "header", Style::Simple),
            (Location::Cookie, "cookie", Style::Form),
        ];
        for (i, (loc, name, style)) in locations.iter().enumerate() {
            assert_eq!(loc.as_str(), *name, "location row {i}");
            assert_eq!(Location::parse(name), Some(*loc), "location row {i}");
            assert_eq!(Style::default_for(*loc), *style, "location row {i}");
        }
        assert_eq!(Location::parse("body"), None);
        assert!(Style::Form.default_explode());
        assert!(!Style::Simple.default_explode());
    }
}
