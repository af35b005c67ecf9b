//! One schema dialect for validation: OpenAPI 3.0 schemas rewritten to JSON Schema 2020-12.
//!
//! 3.0 differs from 2020-12 in three places that change validation: `nullable`, boolean
//! `exclusiveMinimum`/`exclusiveMaximum`, and the absence of type arrays. `format: int32` and
//! `int64` bound integers in both versions. Request bodies get their own view in which
//! `readOnly` properties are not required and may not be sent.

use serde_json::{Map, Value, json};

use super::{Version, pointer, walk};

/// A problem found while normalizing: the pointer and what is wrong.
pub(crate) type Finding = (String, String);

/// Rewrites every schema of `doc` (in place) to 2020-12 semantics.
pub(crate) fn to_2020_12(doc: &mut Value, version: Version, problems: &mut Vec<Finding>) {
    inline_map_refs(doc);
    let mut schemas = walk::all_schemas(doc);
    // Children before parents: wrapping a parent in `anyOf` moves its subschemas.
    schemas.sort_by_key(|at| std::cmp::Reverse(at.len()));
    for at in schemas {
        let Some(Value::Object(node)) = pointer_mut(doc, &at) else {
            continue;
        };
        if version == Version::V3_0 {
            if let Some(message) = from_3_0(node) {
                problems.push((at.clone(), message));
            }
        } else if node.contains_key("nullable") {
            tracing::debug!(target: "oasgate::spec", pointer = %at, "`nullable` is not a keyword in OpenAPI 3.1 and is ignored");
        }
        integer_format_bounds(node);
    }
}

/// Keywords whose value maps names to schemas.
const SCHEMA_MAPS: [&str; 3] = ["properties", "patternProperties", "dependentSchemas"];

/// Replaces `properties: {$ref: ...}` (a `$ref` where the map of properties belongs, a quirk of
/// real documents) by the map it names, with a warning; JSON Schema would read it as one
/// property called `$ref`.
fn inline_map_refs(doc: &mut Value) {
    for _ in 0..8 {
        let mut fixes = Vec::new();
        for at in walk::all_schemas(doc) {
            for key in SCHEMA_MAPS {
                let map_at = pointer::join(&at, key);
                let Some(map) = pointer::get(doc, &map_at) else {
                    continue;
                };
                if map.as_object().is_some_and(|m| m.len() == 1)
                    && let Some(target) = pointer::local_ref(map)
                    && let Some(found @ Value::Object(_)) = pointer::get(doc, &target)
                {
                    fixes.push((map_at, found.clone()));
                }
            }
        }
        if fixes.is_empty() {
            return;
        }
        for (at, value) in fixes {
            tracing::warn!(target: "oasgate::spec", pointer = %at, "a `$ref` stands where a map of schemas belongs; using the map it names");
            if let Some(slot) = doc.pointer_mut(&at) {
                *slot = value;
            }
        }
    }
}

/// Builds the request view: `readOnly` properties dropped from `required` and forbidden.
pub(crate) fn request_view(doc: &Value) -> Value {
    let mut view = doc.clone();
    for at in walk::all_schemas(doc) {
        let Some(Value::Object(props)) = pointer::get(doc, &at).and_then(|s| s.get("properties"))
        else {
            continue;
        };
        let read_only: Vec<&String> = props
            .iter()
            .filter(|(_, schema)| flag(doc, schema, "readOnly"))
            .map(|(name, _)| name)
            .collect();
        if read_only.is_empty() {
            continue;
        }
        let Some(Value::Object(node)) = pointer_mut(&mut view, &at) else {
            continue;
        };
        if let Some(Value::Array(required)) = node.get_mut("required") {
            required.retain(|name| !read_only.iter().any(|r| name == *r));
        }
        if let Some(Value::Object(props)) = node.get_mut("properties") {
            for name in read_only {
                props.insert(
                    name.clone(),
                    json!({"not": {}, "x-oasgate-read-only": true}),
                );
            }
        }
    }
    view
}

/// Whether a schema (following `$ref`s) sets a boolean keyword to true.
fn flag(doc: &Value, schema: &Value, key: &str) -> bool {
    pointer::resolve(doc, schema, "")
        .ok()
        .and_then(|(s, _)| s.get(key))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn pointer_mut<'a>(doc: &'a mut Value, at: &str) -> Option<&'a mut Value> {
    doc.pointer_mut(at)
}

/// Rewrites one 3.0 schema node; answers a problem for what 3.0 does not allow.
fn from_3_0(node: &mut Map<String, Value>) -> Option<String> {
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(on)) = node.get(exclusive) {
            let on = *on;
            node.remove(exclusive);
            if on && let Some(limit) = node.remove(bound) {
                node.insert(exclusive.to_owned(), limit);
            }
        }
    }
    let problem = node.get("type").is_some_and(Value::is_array).then(|| {
        "`type` must be a single type name in OpenAPI 3.0 (use `nullable` for null)".to_owned()
    });
    if node.remove("nullable") != Some(Value::Bool(true)) {
        return problem;
    }
    match node.get_mut("type") {
        Some(Value::String(name)) => {
            // OAS 3.0.3, Schema Object, `nullable`: "A true value adds "null" to the allowed
            // type specified by the type keyword ... Other Schema Object constraints retain
            // their defined behavior, and therefore may disallow the use of null as a value."
            // Only `type` widens: an `enum` without null still refuses it.
            let name = std::mem::take(name);
            node.insert("type".into(), json!([name, "null"]));
        }
        Some(_) => {}
        None => {
            // No type to widen: accept null beside whatever the schema says.
            let rest = std::mem::take(node);
            node.insert(
                "anyOf".into(),
                json!([{"type": "null"}, Value::Object(rest)]),
            );
        }
    }
    problem
}

/// `format: int32` / `int64` on integers become (or tighten) `minimum` / `maximum`, checked
/// like any other bound.
fn integer_format_bounds(node: &mut Map<String, Value>) {
    let is_integer = match node.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
        _ => false,
    };
    let (low, high) = match node.get("format").and_then(Value::as_str) {
        Some("int32") if is_integer => (i64::from(i32::MIN), i64::from(i32::MAX)),
        Some("int64") if is_integer => (i64::MIN, i64::MAX),
        _ => return,
    };
    let number = |key: &str, node: &Map<String, Value>| node.get(key).and_then(Value::as_f64);
    if number("minimum", node).is_none_or(|m| m < low as f64) {
        node.insert("minimum".into(), json!(low));
    }
    if number("maximum", node).is_none_or(|m| m > high as f64) {
        node.insert("maximum".into(), json!(high));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(version: Version, schema: Value) -> (Value, Vec<Finding>) {
        let mut doc = json!({"components": {"schemas": {"S": schema}}});
        let mut problems = Vec::new();
        to_2020_12(&mut doc, version, &mut problems);
        (doc["components"]["schemas"]["S"].clone(), problems)
    }

    #[test]
    fn rewrites_3_0_keywords() {
        let rows = [
            (
                json!({"type": "string", "nullable": true, "enum": ["a"]}),
                json!({"type": ["string", "null"], "enum": ["a"]}),
            ),
            (
                json!({"type": "string", "nullable": true, "enum": ["a", null]}),
                json!({"type": ["string", "null"], "enum": ["a", null]}),
            ),
            (
                json!({"type": "number", "minimum": 1, "exclusiveMinimum": true, "maximum": 5, "exclusiveMaximum": false}),
                json!({"type": "number", "exclusiveMinimum": 1, "maximum": 5}),
            ),
            (
                json!({"$ref": "#/components/schemas/T", "nullable": true}),
                json!({"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/T"}]}),
            ),
            (
                json!({"type": "integer", "format": "int32"}),
                json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX}),
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "string", "nullable": true}}}),
                json!({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}),
            ),
        ];
        for (input, want) in rows {
            let (got, problems) = normalized(Version::V3_0, input.clone());
            assert_eq!(got, want, "{input}");
            assert!(problems.is_empty());
        }
    }

    #[test]
    fn leaves_3_1_alone_and_flags_3_0_type_arrays() {
        let schema = json!({"type": ["string", "null"], "nullable": true});
        let (got, problems) = normalized(Version::V3_1, schema.clone());
        assert_eq!(got, schema);
        assert!(problems.is_empty());
        let (_, problems) = normalized(Version::V3_0, json!({"type": ["string", "null"]}));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("single type"));
    }

    #[test]
    fn inlines_a_ref_standing_for_properties() {
        let mut doc = json!({"components": {"schemas": {
            "S": {"type": "object", "properties": {"$ref": "#/x"}},
        }}, "x": {"a": {"type": "integer", "nullable": true}}});
        to_2020_12(&mut doc, Version::V3_0, &mut Vec::new());
        assert_eq!(
            doc["components"]["schemas"]["S"]["properties"],
            json!({"a": {"type": ["integer", "null"]}})
        );
    }

    #[test]
    fn request_view_forbids_read_only() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"$ref": "#/components/schemas/Id"}, "name": {"type": "string"}}},
            "Id": {"type": "integer", "readOnly": true}}}});
        let view = request_view(&doc);
        let pet = &view["components"]["schemas"]["Pet"];
        assert_eq!(pet["required"], json!(["name"]));
        assert_eq!(pet["properties"]["id"]["x-oasgate-read-only"], true);
        assert_eq!(
            view["components"]["schemas"]["Id"],
            doc["components"]["schemas"]["Id"]
        );
    }
}
