//! Types → JSON Schema 2020-12 through `schemars`, registered under `components/schemas`.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};

/// Produces a type's schema (a `$ref` for named types) and registers what it needs.
///
/// A plain `fn` pointer keeps builders free of generics: the type is remembered by which
/// instance of [`schema_of`] was taken, and the schema is made once, when the document is.
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The [`SchemaFn`] for `T`.
pub(crate) fn schema_of<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The [`SchemaFn`] for the layer's problem bodies: a reference to the schema
/// [`Api::to_value`](super::Api::to_value) adds under the name the served document gives it,
/// so both documents share one `Problem` schema.
pub(crate) fn problem_schema(_: &mut SchemaGenerator) -> Schema {
    let mut reference = Map::new();
    reference.insert(
        "$ref".into(),
        format!("{COMPONENTS}{}", crate::problem::SCHEMA_NAME).into(),
    );
    Schema::from(reference)
}

/// Where named schemas go, and what their `$ref`s start with.
pub(crate) const COMPONENTS: &str = "#/components/schemas/";

/// One generator per document, so each type is registered once and referenced everywhere.
pub(crate) fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            // OpenAPI 3.1's default dialect (2020-12 with its vocabulary) is the schemas' dialect.
            s.meta_schema = None;
        })
        .into_generator()
}

/// The named component a schema refers to, when it is only a `$ref`.
pub(crate) fn component_name(schema: &Value) -> Option<&str> {
    let object = schema.as_object()?;
    if object.len() != 1 {
        return None;
    }
    object.get("$ref")?.as_str()?.strip_prefix(COMPONENTS)
}

/// A schema that can take more keywords (`default`, `enum`…) and still be read the same way by
/// every tool: a bare `$ref` is replaced by a copy of what it refers to.
pub(crate) fn inlined(schema: Value, definitions: &Map<String, Value>) -> Value {
    match component_name(&schema).and_then(|name| definitions.get(name)) {
        Some(definition) => definition.clone(),
        None => schema,
    }
}

/// Makes generated schemas read as hand-written ones: enums whose variants carry doc comments
/// (a `oneOf` of string `const`s) become a string `enum` with the variants listed in the
/// description, and doc comments wrapped over several lines become one line per paragraph.
pub(crate) fn tidy(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    collapse_string_enum(object);
    for key in ["description", "title"] {
        if let Some(Value::String(text)) = object.get_mut(key) {
            *text = unwrap_lines(text);
        }
    }
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                if let Value::Object(named) = value {
                    named.values_mut().for_each(tidy);
                }
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(list) = value {
                    list.iter_mut().for_each(tidy);
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedProperties"
            | "unevaluatedItems" => tidy(value),
            _ => {}
        }
    }
}

fn collapse_string_enum(object: &mut Map<String, Value>) {
    let Some(Value::Array(variants)) = object.get("oneOf") else {
        return;
    };
    let mut values = Vec::with_capacity(variants.len());
    let mut notes = Vec::new();
    for variant in variants {
        let Some(variant) = variant.as_object() else {
            return;
        };
        let only_known_keys = variant
            .keys()
            .all(|k| matches!(k.as_str(), "const" | "type" | "description" | "title"));
        match (variant.get("const"), variant.get("type")) {
            (Some(Value::String(value)), Some(Value::String(t)))
                if only_known_keys && t == "string" =>
            {
                if let Some(Value::String(note)) = variant.get("description") {
                    notes.push(format!("- `{value}`: {}", unwrap_lines(note)));
                }
                values.push(Value::String(value.clone()));
            }
            _ => return,
        }
    }
    object.shift_remove("oneOf");
    object.insert("type".into(), "string".into());
    object.insert("enum".into(), Value::Array(values));
    if !notes.is_empty() {
        let list = notes.join("\n");
        let description = match object.get("description").and_then(Value::as_str) {
            Some(before) => format!("{}\n\n{list}", unwrap_lines(before)),
            None => list,
        };
        object.insert("description".into(), description.into());
    }
}

/// Joins the lines of each paragraph, keeping Markdown blocks (lists, tables, code, quotes,
/// headings) line by line.
fn unwrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    let mut previous_plain = false;
    for (i, line) in text.split('\n').enumerate() {
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```");
        let numbered = trimmed
            .split_once(". ")
            .is_some_and(|(n, _)| n.parse::<u32>().is_ok());
        let block = in_fence
            || fence
            || trimmed.is_empty()
            || line.starts_with("    ")
            || trimmed.starts_with(['-', '*', '+', '#', '|', '>'])
            || numbered;
        let plain = !block;
        if i > 0 {
            if plain && previous_plain {
                out.push(' ');
            } else {
                out.push('\n');
            }
        }
        out.push_str(if plain && previous_plain {
            trimmed
        } else {
            line
        });
        if fence {
            in_fence = !in_fence;
        }
        previous_plain = plain;
    }
    out
}
