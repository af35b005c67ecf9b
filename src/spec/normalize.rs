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

/// Rewrites every schema of `doc` (in place) to 2020-12 semantics. `warned` gets the 3.0
/// keyword forms found in a 3.1 document, which are read as 3.0 reads them.
///
/// `doc` is the copy the request and response views are made of (the served document is
/// another): each schema also loses its [`UNREAD_ANNOTATIONS`], only its own members (a
/// property named `description` stays), the order of the rest kept, and the objects around
/// the schemas lose their texts ([`drop_unread_texts`]).
pub(crate) fn to_2020_12(
    doc: &mut Value,
    version: Version,
    problems: &mut Vec<Finding>,
    warned: &mut Vec<Finding>,
) {
    drop_unread_texts(doc);
    inline_map_refs(doc);
    let schemas = walk::all_schemas(doc);
    // Children before parents: wrapping a parent in `anyOf` moves its subschemas.
    pointer::for_each_mut(doc, schemas, &mut |at, node| {
        let Value::Object(node) = node else {
            return;
        };
        // First: a 3.0 `nullable` may move the schema's members into an `anyOf`.
        for key in UNREAD_ANNOTATIONS {
            node.shift_remove(key);
        }
        if version == Version::V2_0 {
            super::swagger2::schema_node_to_3_0(node);
        }
        if matches!(version, Version::V2_0 | Version::V3_0) {
            if let Some(message) = from_3_0(node) {
                problems.push((at.to_owned(), message));
            }
        } else {
            // Boolean `exclusiveMinimum`/`exclusiveMaximum` are not valid JSON Schema 2020-12
            // (their value "MUST be a number"); documents upgraded from 3.0 still carry them.
            for keyword in exclusive_bounds_3_0(node) {
                warned.push((
                    pointer::join(at, keyword),
                    format!(
                        "a boolean `{keyword}` is OpenAPI 3.0's form, not JSON Schema \
                         2020-12's (a number); it is read as 3.0 reads it"
                    ),
                ));
            }
            if node.contains_key("nullable") {
                tracing::debug!(target: "oasgate::spec", pointer = %at, "`nullable` is not a keyword in OpenAPI 3.1 and is ignored");
            }
        }
        integer_format_bounds(node);
    });
}

/// Keywords whose value maps names to schemas.
const SCHEMA_MAPS: [&str; 3] = ["properties", "patternProperties", "dependentSchemas"];

/// Replaces `properties: {$ref: ...}` (a `$ref` where the map of properties belongs, a quirk of
/// real documents) by the map it names, with a warning; JSON Schema would read it as one
/// property called `$ref`.
fn inline_map_refs(doc: &mut Value) {
    for _ in 0..8 {
        let mut fixes = Vec::new();
        for (at, node) in walk::all_schema_nodes(doc) {
            for key in SCHEMA_MAPS {
                let Some(map) = node.get(key) else {
                    continue;
                };
                let map_at = pointer::join(&at, key);
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
            if let Some(slot) = pointer::get_mut(doc, &at) {
                *slot = value;
            }
        }
    }
}

/// Where a forbidden property's own schema is kept in a request or response view, so that a
/// `$ref` into it still resolves.
pub(crate) const KEPT_KEY: &str = "x-oasgate-kept";

/// Schema keywords that never change what a schema accepts and that nothing checking a
/// request reads: problems name pointers, not titles or descriptions. In large documents
/// they are most of the schemas' text.
const UNREAD_ANNOTATIONS: [&str; 7] = [
    "description",
    "title",
    "example",
    "examples",
    "externalDocs",
    "xml",
    "$comment",
];

/// What operations, parameters, bodies, media types, headers and responses hold for readers
/// only: no check reads it, problems name pointers, and the served document is another tree.
/// In large documents these texts are much of what the views would hold apart from schemas
/// (a long description on every operation and parameter).
const UNREAD_TEXTS: [&str; 7] = [
    "summary",
    "description",
    "externalDocs",
    "tags",
    "example",
    "examples",
    "links",
];

/// Drops the [`UNREAD_TEXTS`] of every path item, operation, parameter, request body, media
/// type, header and response, where the document has them (`paths`, `webhooks`, the
/// components of those kinds); each object loses only its own members, so a schema property
/// or a component named `description` stays.
fn drop_unread_texts(doc: &mut Value) {
    let added_methods = super::methods::reads_added_methods(doc);
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    for key in ["paths", "webhooks"] {
        for item in members(root.get_mut(key)) {
            path_item_texts(item, added_methods);
        }
    }
    let Some(Value::Object(components)) = root.get_mut("components") else {
        return;
    };
    for (kind, entry) in components.iter_mut() {
        let strip: fn(&mut Value) = match kind.as_str() {
            "parameters" | "headers" => parameter_texts,
            "requestBodies" => body_texts,
            "responses" => response_texts,
            "pathItems" => {
                for item in members(Some(entry)) {
                    path_item_texts(item, added_methods);
                }
                continue;
            }
            _ => continue,
        };
        members(Some(entry)).for_each(strip);
    }
}

/// The values of an object member (none when it is absent or no object).
fn members(node: Option<&mut Value>) -> impl Iterator<Item = &mut Value> {
    node.and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|map| map.values_mut())
}

fn drop_texts(node: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = node.as_object_mut()?;
    for key in UNREAD_TEXTS {
        map.shift_remove(key);
    }
    Some(map)
}

fn path_item_texts(item: &mut Value, added_methods: bool) {
    let Some(item) = drop_texts(item) else {
        return;
    };
    for (key, child) in item.iter_mut() {
        if super::methods::FIXED.contains(&key.as_str())
            || (added_methods && key == super::methods::QUERY_FIELD)
        {
            operation_texts(child);
        } else if added_methods && key == super::methods::ADDITIONAL {
            members(Some(child)).for_each(operation_texts);
        } else if key == "parameters" {
            list_texts(child, parameter_texts);
        }
    }
}

fn operation_texts(op: &mut Value) {
    let Some(op) = drop_texts(op) else {
        return;
    };
    if let Some(list) = op.get_mut("parameters") {
        list_texts(list, parameter_texts);
    }
    if let Some(body) = op.get_mut("requestBody") {
        body_texts(body);
    }
    members(op.get_mut("responses")).for_each(response_texts);
}

fn list_texts(list: &mut Value, strip: fn(&mut Value)) {
    if let Value::Array(items) = list {
        items.iter_mut().for_each(strip);
    }
}

/// A parameter or a header (the same fields, but `name` and `in`).
fn parameter_texts(parameter: &mut Value) {
    if let Some(parameter) = drop_texts(parameter) {
        members(parameter.get_mut("content")).for_each(media_texts);
    }
}

fn body_texts(body: &mut Value) {
    if let Some(body) = drop_texts(body) {
        members(body.get_mut("content")).for_each(media_texts);
    }
}

fn response_texts(response: &mut Value) {
    if let Some(response) = drop_texts(response) {
        members(response.get_mut("headers")).for_each(parameter_texts);
        members(response.get_mut("content")).for_each(media_texts);
    }
}

fn media_texts(media: &mut Value) {
    if let Some(media) = drop_texts(media) {
        for encoding in members(media.get_mut("encoding")) {
            members(encoding.get_mut("headers")).for_each(parameter_texts);
        }
    }
}

/// Builds the request view: `readOnly` properties dropped from `required` and forbidden.
pub(crate) fn request_view(doc: Value) -> Value {
    forbid_flagged(doc, "readOnly", "x-oasgate-read-only")
}

/// A view of `doc` in which every property whose schema sets `keyword` to true is dropped from
/// `required` and replaced by `{"not": {}, marker: true}`.
///
/// The property's schema is still a schema other places may `$ref` into (a request schema
/// naming a subschema of a response-only property): it is kept below [`KEPT_KEY`] of the
/// replacement, and every `$ref` at or below the property is redirected there.
///
/// The document is changed in place (it is large: no second copy is made). Every property to
/// replace is found first, reading the document as it was, and only then is anything changed.
pub(crate) fn forbid_flagged(mut doc: Value, keyword: &str, marker: &str) -> Value {
    let mut schemas = walk::all_schema_nodes(&doc);
    // Deepest first: what is below a property gets its view before the property's schema
    // moves below `KEPT_KEY`, so every pointer still names its node when it is reached.
    schemas.sort_by_key(|(at, _)| std::cmp::Reverse(at.len()));
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    for (at, schema) in schemas {
        let Some(Value::Object(props)) = schema.get("properties") else {
            continue;
        };
        let flagged: Vec<String> = props
            .iter()
            .filter(|(_, schema)| flag(&doc, schema, keyword))
            .map(|(name, _)| name.clone())
            .collect();
        if !flagged.is_empty() {
            found.push((at, flagged));
        }
    }
    let mut replaced: Vec<String> = Vec::new();
    for (at, flagged) in found {
        let Some(Value::Object(node)) = pointer::get_mut(&mut doc, &at) else {
            continue;
        };
        if let Some(Value::Array(required)) = node.get_mut("required") {
            required.retain(|name| !flagged.iter().any(|r| name == r));
        }
        if let Some(Value::Object(props)) = node.get_mut("properties") {
            for name in &flagged {
                let Some(slot) = props.get_mut(name) else {
                    continue;
                };
                let kept = std::mem::take(slot);
                *slot = json!({"not": {}, marker: true, KEPT_KEY: kept});
                replaced.push(pointer::join(&pointer::join(&at, "properties"), name));
            }
        }
    }
    if !replaced.is_empty() {
        redirect_refs(&mut doc, &replaced);
    }
    doc
}

/// Rewrites every local `$ref` of `view` whose target is at or below one of `moved` (pointers
/// as the document wrote them) to the place below [`KEPT_KEY`] the schema now is.
fn redirect_refs(view: &mut Value, moved: &[String]) {
    let mut moved: Vec<&String> = moved.iter().collect();
    // Longest first: inserting at a deeper position leaves the shallower ones in place.
    moved.sort_by_key(|at| std::cmp::Reverse(at.len()));
    walk::ref_holders_mut(view, &mut String::new(), &mut |node, _| {
        let Some(target) = pointer::local_ref(node) else {
            return true;
        };
        let mut redirected = target.clone();
        for at in &moved {
            let inside = target
                .strip_prefix(at.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if inside {
                redirected.insert_str(at.len(), &format!("/{KEPT_KEY}"));
            }
        }
        if redirected != target
            && let Some(reference) = node.get_mut("$ref")
        {
            *reference = Value::String(format!("#{}", pointer::to_fragment(&redirected)));
        }
        true
    });
}

/// Whether a schema (following `$ref`s) sets a boolean keyword to true.
fn flag(doc: &Value, schema: &Value, key: &str) -> bool {
    pointer::resolve(doc, schema, "")
        .ok()
        .and_then(|(s, _)| s.get(key))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Rewrites 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` into 2020-12's numbers;
/// answers which of the two were booleans.
fn exclusive_bounds_3_0(node: &mut Map<String, Value>) -> Vec<&'static str> {
    let mut found = Vec::new();
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(on)) = node.get(exclusive) {
            found.push(exclusive);
            let on = *on;
            node.shift_remove(exclusive);
            if on && let Some(limit) = node.shift_remove(bound) {
                node.insert(exclusive.to_owned(), limit);
            }
        }
    }
    found
}

/// Rewrites one 3.0 schema node; answers a problem for what 3.0 does not allow.
fn from_3_0(node: &mut Map<String, Value>) -> Option<String> {
    exclusive_bounds_3_0(node);
    let problem = node.get("type").is_some_and(Value::is_array).then(|| {
        "`type` must be a single type name in OpenAPI 3.0 (use `nullable` for null)".to_owned()
    });
    if node.shift_remove("nullable") != Some(Value::Bool(true)) {
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
        to_2020_12(&mut doc, version, &mut problems, &mut Vec::new());
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
        to_2020_12(&mut doc, Version::V3_0, &mut Vec::new(), &mut Vec::new());
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
        let view = request_view(doc.clone());
        let pet = &view["components"]["schemas"]["Pet"];
        assert_eq!(pet["required"], json!(["name"]));
        assert_eq!(pet["properties"]["id"]["x-oasgate-read-only"], true);
        assert_eq!(
            view["components"]["schemas"]["Id"],
            doc["components"]["schemas"]["Id"]
        );
    }

    /// The views' copy loses what no check reads from every schema, and only from schemas.
    #[test]
    fn normalizing_drops_unread_annotations_of_schemas() {
        let doc = json!({
            "paths": {"/pets": {"post": {
                "description": "adds a pet",
                "parameters": [{"name": "q", "in": "query", "description": "a query",
                    "example": "x", "schema": {"type": "string", "description": "text",
                    "examples": ["x"], "default": "a"}}],
                "requestBody": {"description": "the pet", "content": {"application/json": {
                    "example": {"name": "rex"},
                    "schema": {"$ref": "#/components/schemas/Pet"}}}},
                "responses": {"200": {"description": "ok"}}}}},
            "components": {"schemas": {"Pet": {
                "title": "Pet", "description": "a pet", "$comment": "internal",
                "externalDocs": {"url": "https://docs.example.test/pet"},
                "xml": {"name": "pet"}, "example": {"name": "rex"},
                "type": "object", "required": ["name"],
                "properties": {
                    "name": {"type": "string", "description": "its name", "deprecated": true},
                    "description": {"type": "string", "title": "about", "default": "none"},
                    "tags": {"type": "array", "items": {"type": "string", "example": "cat"}}
                }}}}
        });
        let mut view = doc;
        to_2020_12(&mut view, Version::V3_0, &mut Vec::new(), &mut Vec::new());
        assert_eq!(
            view["components"]["schemas"]["Pet"],
            json!({
                "type": "object", "required": ["name"],
                "properties": {
                    "name": {"type": "string", "deprecated": true},
                    "description": {"type": "string", "default": "none"},
                    "tags": {"type": "array", "items": {"type": "string"}}
                }
            }),
            "annotations go, a property named `description` and `default`s stay"
        );
        let post = &view["paths"]["/pets"]["post"];
        assert_eq!(
            post["parameters"][0],
            json!({"name": "q", "in": "query", "schema": {"type": "string", "default": "a"}}),
            "a parameter loses its texts, its schema its annotations"
        );
        assert_eq!(post.get("description"), None);
        assert_eq!(
            post["requestBody"],
            json!({"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Pet"}}}})
        );
        assert_eq!(post["responses"]["200"], json!({}));
    }

    /// The texts around schemas go wherever operations, parameters, bodies, media types,
    /// headers and responses are; members of other objects that share their names stay.
    #[test]
    fn normalizing_drops_unread_texts_around_schemas() {
        let text = json!({"description": "d", "summary": "s", "externalDocs": {"url": "https://x.test"},
            "tags": ["t"], "example": 1, "examples": {"a": {"value": 1}}, "links": {}});
        let with = |mut node: Value| {
            node.as_object_mut()
                .unwrap()
                .extend(text.as_object().unwrap().clone());
            node
        };
        let header = with(json!({"schema": {"type": "integer"}}));
        let media = with(json!({"schema": {"type": "integer"},
            "encoding": {"a": {"headers": {"X-A": header.clone()}}}}));
        let parameter =
            with(json!({"name": "p", "in": "query", "content": {"text/plain": media.clone()}}));
        let body = with(json!({"content": {"application/json": media.clone()}}));
        let response = with(
            json!({"headers": {"X-R": header.clone()}, "content": {"application/json": media.clone()}}),
        );
        let operation = with(json!({"operationId": "o", "x-paging": true,
            "parameters": [parameter.clone()], "requestBody": body.clone(),
            "responses": {"200": response.clone()}}));
        let item = with(
            json!({"parameters": [parameter.clone()], "get": operation.clone(),
            "query": operation.clone(), "x-texts": text.clone()}),
        );
        let doc = |openapi: &str| {
            json!({
                "openapi": openapi,
                "info": text.clone(),
                "tags": [{"name": "t", "description": "kept"}],
                "paths": {"/a": item.clone()},
                "webhooks": {"w": item.clone()},
                "components": {
                    "parameters": {"description": parameter.clone()},
                    "headers": {"H": header.clone()},
                    "requestBodies": {"B": body.clone()},
                    "responses": {"R": response.clone()},
                    "pathItems": {"P": item.clone()},
                    "examples": {"description": text.clone()},
                    "schemas": {"S": {"type": "object", "properties": {"description": {"type": "string"}}}}
                }
            })
        };
        let mut view = doc("3.2.0");
        drop_unread_texts(&mut view);
        let header = json!({"schema": {"type": "integer"}});
        let media =
            json!({"schema": {"type": "integer"}, "encoding": {"a": {"headers": {"X-A": header}}}});
        let parameter = json!({"name": "p", "in": "query", "content": {"text/plain": media}});
        let operation = json!({"operationId": "o", "x-paging": true, "parameters": [parameter],
            "requestBody": {"content": {"application/json": media}},
            "responses": {"200": {"headers": {"X-R": header}, "content": {"application/json": media}}}});
        let item = json!({"parameters": [parameter], "get": operation, "query": operation,
            "x-texts": text});
        assert_eq!(view["paths"]["/a"], item);
        assert_eq!(view["webhooks"]["w"], item);
        assert_eq!(view["components"]["pathItems"]["P"], item);
        assert_eq!(view["components"]["parameters"]["description"], parameter);
        assert_eq!(
            view["components"]["responses"]["R"],
            operation["responses"]["200"]
        );
        // Not objects of those kinds: left as they are.
        assert_eq!(view["info"], text);
        assert_eq!(view["tags"][0]["description"], "kept");
        assert_eq!(view["components"]["examples"]["description"], text);
        assert_eq!(
            view["components"]["schemas"]["S"],
            doc("3.2.0")["components"]["schemas"]["S"]
        );
        // Before 3.2 a path item's `query` is no operation: an unknown field, left alone.
        let mut view = doc("3.1.1");
        drop_unread_texts(&mut view);
        assert_eq!(
            view["paths"]["/a"]["query"],
            doc("3.1.1")["paths"]["/a"]["query"]
        );
        assert_eq!(view["paths"]["/a"]["get"], operation);
    }

    #[test]
    fn request_view_keeps_read_only_schemas_for_refs() {
        let doc = json!({"components": {"schemas": {
            "Out": {"type": "object", "properties": {
                "net": {"readOnly": true, "type": "object", "properties": {
                    "inner": {"type": "object", "readOnly": true, "properties": {"v": {"type": "string"}}},
                    "port": {"type": "object", "properties": {
                        "secret": {"type": "integer", "readOnly": true}}}}}}},
            "In": {"type": "object", "properties": {
                "net": {"$ref": "#/components/schemas/Out/properties/net"},
                "v": {"$ref": "#/components/schemas/Out/properties/net/properties/inner/properties/v"},
                "port": {"$ref": "#/components/schemas/Out/properties/net/properties/port"}}}}}});
        let view = request_view(doc.clone());
        let net = &view["components"]["schemas"]["Out"]["properties"]["net"];
        assert_eq!(net["not"], json!({}));
        assert_eq!(net["x-oasgate-read-only"], true);
        let kept = &net[KEPT_KEY];
        assert_eq!(kept["type"], "object");
        // What is below the moved schema got its view first.
        assert_eq!(
            kept["properties"]["port"]["properties"]["secret"]["not"],
            json!({})
        );
        assert_eq!(
            kept["properties"]["inner"][KEPT_KEY]["properties"]["v"]["type"],
            "string"
        );
        let refs = &view["components"]["schemas"]["In"]["properties"];
        // `In.net` names a `readOnly` schema: forbidden as well, its reference kept.
        assert_eq!(refs["net"]["x-oasgate-read-only"], true);
        assert_eq!(
            refs["net"][KEPT_KEY]["$ref"],
            "#/components/schemas/Out/properties/net/x-oasgate-kept"
        );
        assert_eq!(
            refs["v"]["$ref"],
            "#/components/schemas/Out/properties/net/x-oasgate-kept/properties/inner/x-oasgate-kept/properties/v"
        );
        for r in [&refs["net"][KEPT_KEY], &refs["v"], &refs["port"]] {
            let target = r["$ref"].as_str().unwrap().trim_start_matches('#');
            assert!(view.pointer(target).is_some(), "{target}");
        }
    }
}
