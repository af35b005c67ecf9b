//! Walking an OpenAPI document: where its schemas start and every subschema below, and every
//! object that may hold a `$ref`.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::{is_data_value, is_extension, methods, pointer};

/// Subschema keywords whose value is one schema.
const ONE: [&str; 13] = [
    "additionalProperties",
    "items",
    "additionalItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
    "schema",
];
/// Subschema keywords whose value maps names to schemas.
const MAPS: [&str; 5] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// Subschema keywords whose value is a list of schemas.
const LISTS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];

/// Every schema node reachable from the document's structure, as pointers, each once.
///
/// Follows `$ref`s both in the structure (a referenced parameter or path item) and inside
/// schemas, so a schema in another file is found through the reference that reaches it.
pub(crate) fn all_schemas(doc: &Value) -> Vec<String> {
    all_schema_nodes(doc)
        .into_iter()
        .map(|(at, _)| at)
        .collect()
}

/// [`all_schemas`], each with its node.
pub(crate) fn all_schema_nodes(doc: &Value) -> Vec<(String, &Value)> {
    let mut walker = Walker {
        doc,
        added_methods: methods::reads_added_methods(doc),
        seen: HashSet::new(),
        schemas: Vec::new(),
        seen_schemas: HashSet::new(),
        item_schemas: reads_item_schemas(doc),
    };
    walker.document();
    walker.schemas
}

/// Every schema node below the schema at `at` (itself included), following `$ref`s.
pub(crate) fn schemas_under(doc: &Value, at: &str) -> Vec<String> {
    let mut walker = Walker {
        doc,
        added_methods: methods::reads_added_methods(doc),
        seen: HashSet::new(),
        schemas: Vec::new(),
        seen_schemas: HashSet::new(),
        item_schemas: reads_item_schemas(doc),
    };
    walker.schema(at.to_owned(), None);
    walker.schemas.into_iter().map(|(at, _)| at).collect()
}

struct Walker<'a> {
    doc: &'a Value,
    /// OpenAPI 3.2: path items have `query` and `additionalOperations`.
    added_methods: bool,
    /// Structural nodes visited (path items, operations, parameters…), by address as schemas.
    seen: HashSet<*const Value>,
    schemas: Vec<(String, &'a Value)>,
    /// Schemas visited, by address: a node reached again through a `$ref` is the same node,
    /// and no pointer needs copying and hashing to know it.
    seen_schemas: HashSet<*const Value>,
    /// An OpenAPI 3.2 document: a Media Type Object's `itemSchema` is a schema too (in an
    /// older document it is an unknown field).
    item_schemas: bool,
}

/// Whether `doc` is an OpenAPI 3.2 document, whose Media Type Objects may hold `itemSchema`.
fn reads_item_schemas(doc: &Value) -> bool {
    doc.get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("3.2.") || v == "3.2")
}

impl<'a> Walker<'a> {
    /// Follows a structural node's `$ref`s; answers None when the node was already visited.
    /// Callers pass the node they hold, so that it is not looked up from the root again.
    fn enter(&mut self, at: String, node: Option<&'a Value>) -> Option<(&'a Value, String)> {
        let node = node.or_else(|| pointer::get(self.doc, &at))?;
        let (node, at) = pointer::resolve(self.doc, node, &at).ok()?;
        self.seen
            .insert(std::ptr::from_ref(node))
            .then_some((node, at))
    }

    fn document(&mut self) {
        let doc = self.doc;
        for key in ["paths", "webhooks"] {
            if let Some(Value::Object(items)) = doc.get(key) {
                for (name, item) in items
                    .iter()
                    .filter(|(k, _)| key == "webhooks" || !is_extension(k))
                {
                    self.path_item(pointer::join(&format!("/{key}"), name), Some(item));
                }
            }
        }
        let Some(Value::Object(components)) = doc.get("components") else {
            return;
        };
        for (kind, entries) in components {
            let Value::Object(entries) = entries else {
                continue;
            };
            let base = pointer::join("/components", kind);
            for (name, entry) in entries {
                let at = pointer::join(&base, name);
                match kind.as_str() {
                    "schemas" => self.schema(at, Some(entry)),
                    "parameters" | "headers" => self.parameter(at, Some(entry)),
                    "requestBodies" | "responses" => self.content_holder(at, Some(entry)),
                    "mediaTypes" if super::is_v3_2(doc) => self.media_type(at, Some(entry)),
                    "pathItems" => self.path_item(at, Some(entry)),
                    "callbacks" => self.callback(at, Some(entry)),
                    _ => {}
                }
            }
        }
    }

    fn path_item(&mut self, at: String, node: Option<&'a Value>) {
        let Some((node, at)) = self.enter(at, node) else {
            return;
        };
        self.parameters(node, &at);
        for found in methods::operations(node, &at, self.added_methods) {
            self.operation(found.at);
        }
    }

    fn parameters(&mut self, node: &'a Value, at: &str) {
        if let Some(Value::Array(list)) = node.get("parameters") {
            let base = pointer::join(at, "parameters");
            for (i, parameter) in list.iter().enumerate() {
                self.parameter(pointer::join(&base, &i.to_string()), Some(parameter));
            }
        }
    }

    fn operation(&mut self, at: String) {
        let Some((node, at)) = self.enter(at, None) else {
            return;
        };
        self.parameters(node, &at);
        if let Some(body) = node.get("requestBody") {
            self.content_holder(pointer::join(&at, "requestBody"), Some(body));
        }
        if let Some(Value::Object(responses)) = node.get("responses") {
            let base = pointer::join(&at, "responses");
            for (code, response) in responses.iter().filter(|(k, _)| !is_extension(k)) {
                self.content_holder(pointer::join(&base, code), Some(response));
            }
        }
        if let Some(Value::Object(callbacks)) = node.get("callbacks") {
            let base = pointer::join(&at, "callbacks");
            for (name, callback) in callbacks {
                self.callback(pointer::join(&base, name), Some(callback));
            }
        }
    }

    fn callback(&mut self, at: String, node: Option<&'a Value>) {
        let Some((node, at)) = self.enter(at, node) else {
            return;
        };
        if let Value::Object(expressions) = node {
            for (expression, item) in expressions.iter().filter(|(k, _)| !is_extension(k)) {
                self.path_item(pointer::join(&at, expression), Some(item));
            }
        }
    }

    /// A parameter or header: a `schema`, or a `content` map.
    fn parameter(&mut self, at: String, node: Option<&'a Value>) {
        let Some((node, at)) = self.enter(at, node) else {
            return;
        };
        if let Some(schema) = node.get("schema") {
            self.schema(pointer::join(&at, "schema"), Some(schema));
        }
        self.content(node, &at);
    }

    /// A request body or response: `content`, and for responses `headers`.
    fn content_holder(&mut self, at: String, node: Option<&'a Value>) {
        let Some((node, at)) = self.enter(at, node) else {
            return;
        };
        self.content(node, &at);
        if let Some(Value::Object(headers)) = node.get("headers") {
            let base = pointer::join(&at, "headers");
            for (name, header) in headers {
                self.parameter(pointer::join(&base, name), Some(header));
            }
        }
    }

    fn content(&mut self, node: &'a Value, at: &str) {
        let Some(Value::Object(content)) = node.get("content") else {
            return;
        };
        let base = pointer::join(at, "content");
        for (media_type, entry) in content {
            let entry_at = pointer::join(&base, media_type);
            if super::is_v3_2(self.doc) {
                self.media_type(entry_at, Some(entry));
            } else {
                self.media_type_object(entry, &entry_at);
            }
        }
    }

    /// A Media Type Object that may be a Reference Object (OpenAPI 3.2), followed.
    fn media_type(&mut self, at: String, node: Option<&'a Value>) {
        if let Some((entry, at)) = self.enter(at, node) {
            self.media_type_object(entry, &at);
        }
    }

    /// A Media Type Object's schema and its encodings' headers.
    fn media_type_object(&mut self, entry: &'a Value, entry_at: &str) {
        if let Some(schema) = entry.get("schema") {
            self.schema(pointer::join(entry_at, "schema"), Some(schema));
        }
        if self.item_schemas
            && let Some(schema) = entry.get("itemSchema")
        {
            self.schema(pointer::join(entry_at, "itemSchema"), Some(schema));
        }
        if let Some(Value::Object(encodings)) = entry.get("encoding") {
            let enc_base = pointer::join(entry_at, "encoding");
            for (name, encoding) in encodings {
                if let Some(Value::Object(headers)) = encoding.get("headers") {
                    let h_base = pointer::join(&pointer::join(&enc_base, name), "headers");
                    for (name, header) in headers {
                        self.parameter(pointer::join(&h_base, name), Some(header));
                    }
                }
            }
        }
    }

    /// A schema and every subschema below it, following `$ref`s.
    fn schema(&mut self, at: String, node: Option<&'a Value>) {
        // Each subschema goes on the stack with its node, found while its parent was read; only
        // a `$ref`'s target is looked up from the root.
        let mut stack: Vec<(String, Option<&'a Value>)> = vec![(at, node)];
        while let Some((at, node)) = stack.pop() {
            let Some(node) = node.or_else(|| pointer::get(self.doc, &at)) else {
                continue;
            };
            if !self.seen_schemas.insert(std::ptr::from_ref(node)) {
                continue;
            }
            let Value::Object(map) = node else {
                continue;
            };
            if let Some(target) = pointer::local_ref(node) {
                stack.push((target, None));
            }
            for (key, child) in map {
                let key = key.as_str();
                if ONE.contains(&key) && key != "schema" {
                    match child {
                        Value::Array(items) => {
                            let base = pointer::join(&at, key);
                            stack.extend(items.iter().enumerate().map(|(i, item)| {
                                (pointer::join(&base, &i.to_string()), Some(item))
                            }));
                        }
                        _ => stack.push((pointer::join(&at, key), Some(child))),
                    }
                } else if MAPS.contains(&key) {
                    if let Value::Object(entries) = child {
                        let base = pointer::join(&at, key);
                        stack.extend(
                            entries
                                .iter()
                                .map(|(name, entry)| (pointer::join(&base, name), Some(entry))),
                        );
                    }
                } else if LISTS.contains(&key)
                    && let Value::Array(items) = child
                {
                    let base = pointer::join(&at, key);
                    stack.extend(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| (pointer::join(&base, &i.to_string()), Some(item))),
                    );
                }
            }
            self.schemas.push((at, node));
        }
    }
}

/// Visits, depth first, every object of `node` that may hold a `$ref`, with its JSON pointer
/// (`at` is the pointer of `node` and is restored on return). Data (`example`, `default`, …)
/// and the `$ref` strings themselves are not entered.
pub(crate) fn ref_holders(node: &Value, at: &mut String, visit: &mut dyn FnMut(&Value, &str)) {
    match node {
        Value::Object(map) => {
            visit(node, at);
            for (key, child) in map {
                if key != "$ref" && !is_data_value(key, at, child) {
                    within(at, key, |at| ref_holders(child, at, visit));
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                within(at, &i.to_string(), |at| ref_holders(child, at, visit));
            }
        }
        _ => {}
    }
}

/// [`ref_holders`] with each object's base URI: the nearest `$id` at or above it resolved
/// against the one above ("If present, the value for this keyword MUST be a string, and MUST
/// represent a valid URI-reference. This URI-reference SHOULD be normalized, and MUST resolve
/// to an absolute-URI", JSON Schema 2020-12 Core §8.2.1), starting from `base`, the URI of
/// the file `node` is. An `$id` that is no such reference is ignored. `visit` also learns
/// whether the object's own `$id` set its base (whether it is a schema resource's root).
pub(crate) fn ref_holders_with_bases(
    node: &Value,
    at: &mut String,
    base: &str,
    visit: &mut dyn FnMut(&Value, &str, &str, bool),
) {
    match node {
        Value::Object(map) => {
            let own = map
                .get("$id")
                .and_then(Value::as_str)
                .and_then(|id| super::uri::id_base(id, base));
            let base = own.as_deref().unwrap_or(base);
            visit(node, at, base, own.is_some());
            for (key, child) in map {
                if key != "$ref" && !is_data_value(key, at, child) {
                    within(at, key, |at| {
                        ref_holders_with_bases(child, at, base, visit);
                    });
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                within(at, &i.to_string(), |at| {
                    ref_holders_with_bases(child, at, base, visit);
                });
            }
        }
        _ => {}
    }
}

/// [`ref_holders`] with the objects mutable; `visit` answers whether to go on below the object.
pub(crate) fn ref_holders_mut(
    node: &mut Value,
    at: &mut String,
    visit: &mut dyn FnMut(&mut Value, &str) -> bool,
) {
    if node.is_object() && !visit(node, at) {
        return;
    }
    match node {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key != "$ref" && !is_data_value(key, at, child) {
                    within(at, key, |at| ref_holders_mut(child, at, visit));
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                within(at, &i.to_string(), |at| ref_holders_mut(child, at, visit));
            }
        }
        _ => {}
    }
}

/// Which of `holders` (pointers of objects holding a `$ref`) a request reaches: those inside
/// a path item or its operations (parameters, request body, security), or inside what those
/// reference, transitively. With `responses`, what operations answer counts too; callbacks
/// never do (they are requests the service makes, not requests it receives).
pub(crate) fn reached_by_requests(
    doc: &Value,
    holders: &HashSet<&str>,
    responses: bool,
) -> HashSet<String> {
    let mut reached = HashSet::new();
    walk_requests(doc, responses, &mut |at| {
        if holders.contains(at) {
            reached.insert(at.to_owned());
        }
    });
    reached
}

/// What [`walk_requests`] went through.
struct RequestReach {
    /// Every `$ref` target entered.
    targets: HashSet<String>,
    /// Every operation.
    operations: Vec<String>,
}

/// Walks what requests reach (see [`reached_by_requests`]), calling `holder` with the pointer
/// of every object on the way that may hold a `$ref`.
fn walk_requests(doc: &Value, responses: bool, holder: &mut dyn FnMut(&str)) -> RequestReach {
    let skipped: &[&str] = if responses {
        &["callbacks"]
    } else {
        &["callbacks", "responses"]
    };
    let added_methods = methods::reads_added_methods(doc);
    let mut entered = HashSet::new();
    let mut operations = Vec::new();
    let mut queue: Vec<(String, Reached)> = Vec::new();
    for (template, _) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if !is_extension(template) {
            queue.push((pointer::join("/paths", template), Reached::PathItem));
        }
    }
    while let Some((start, kind)) = queue.pop() {
        if !entered.insert(start.clone()) {
            continue;
        }
        let Some(node) = pointer::get(doc, &start) else {
            continue;
        };
        let mut visit = |node: &Value, at: &str, kind: Reached| {
            holder(at);
            if let Some(target) = pointer::local_ref(node) {
                queue.push((target, kind));
            }
        };
        let mut at = start;
        // An operation (or a path item's) `$ref` names another of its kind; its siblings
        // are walked as they stand.
        let mut operation =
            |op: &Value, at: &mut String, visit: &mut dyn FnMut(&Value, &str, Reached)| {
                visit(op, at, Reached::Operation);
                operations.push(at.clone());
                for (op_key, part) in op.as_object().into_iter().flatten() {
                    if !skipped.contains(&op_key.as_str()) {
                        within(at, op_key, |at| {
                            ref_holders(part, at, &mut |node, at| visit(node, at, Reached::Other))
                        });
                    }
                }
            };
        match kind {
            Reached::Other => {
                ref_holders(node, &mut at, &mut |node, at| {
                    visit(node, at, Reached::Other)
                });
                continue;
            }
            Reached::Operation => {
                operation(node, &mut at, &mut visit);
                continue;
            }
            Reached::PathItem => {}
        }
        visit(node, &at, Reached::PathItem);
        for (key, child) in node.as_object().into_iter().flatten() {
            within(&mut at, key, |at| {
                if methods::FIXED.contains(&key.as_str())
                    || (added_methods && key == methods::QUERY_FIELD)
                {
                    operation(child, at, &mut visit);
                } else if added_methods && key == methods::ADDITIONAL && child.is_object() {
                    for (method, op) in child.as_object().into_iter().flatten() {
                        within(at, method, |at| operation(op, at, &mut visit));
                    }
                } else {
                    ref_holders(child, at, &mut |node, at| visit(node, at, Reached::Other));
                }
            });
        }
    }
    RequestReach {
        targets: entered,
        operations,
    }
}

/// What a reference followed by [`walk_requests`] names.
#[derive(Clone, Copy)]
enum Reached {
    PathItem,
    Operation,
    /// Anything else: everything below it is walked.
    Other,
}

/// Drops from `doc` (a document whose references are all JSON pointers: see
/// [`names_by_id`]) what no request can reach, for a view that only checks requests: each
/// operation's `responses` and `callbacks`, and each component and each file under
/// [`FILES_KEY`](super::FILES_KEY) that nothing requests reach references, nor anything
/// outside `paths` and `components` (security schemes, which security requirements name,
/// stay with what they reference). Only object members are removed, so every pointer to what
/// is kept still names the same node.
///
/// A component is read only through a `$ref` (OpenAPI 3.0.4 §4.8.7: "All objects defined
/// within the Components Object will have no effect on the API unless they are explicitly
/// referenced from outside the Components Object"); security schemes are the exception.
pub(crate) fn prune_for_requests(doc: &mut Value) {
    let reach = walk_requests(doc, false, &mut |_| {});
    // What the rest of the document references: security schemes, extensions, webhooks.
    let mut referenced = reach.targets;
    let mut queue: Vec<String> = Vec::new();
    for (key, child) in doc.as_object().into_iter().flatten() {
        if key == "paths" || key == super::FILES_KEY {
            continue;
        }
        let mut at = pointer::join("", key);
        if key == "components" {
            for (kind, entries) in child.as_object().into_iter().flatten() {
                if kind == "securitySchemes" || is_extension(kind) {
                    within(&mut at, kind, |at| {
                        ref_holders(entries, at, &mut |node, _| {
                            queue.extend(pointer::local_ref(node));
                        })
                    });
                }
            }
            continue;
        }
        ref_holders(child, &mut at, &mut |node, _| {
            queue.extend(pointer::local_ref(node));
        });
    }
    while let Some(target) = queue.pop() {
        if !referenced.insert(target.clone()) {
            continue;
        }
        if let Some(node) = pointer::get(doc, &target) {
            let mut at = target;
            ref_holders(node, &mut at, &mut |node, _| {
                queue.extend(pointer::local_ref(node));
            });
        }
    }
    let files_prefix = format!("/{}/", super::FILES_KEY);
    let kept_files: HashSet<String> = referenced
        .iter()
        .filter_map(|at| at.strip_prefix(&files_prefix))
        .map(|rest| pointer::unescape(rest.split('/').next().unwrap_or_default()))
        .collect();
    // A reference into an operation's responses (a bundler may point a request schema at its
    // first occurrence, wherever that is) keeps them.
    let sorted: BTreeSet<&str> = referenced.iter().map(String::as_str).collect();
    let referenced_below = |at: &str| {
        let prefix = format!("{at}/");
        sorted
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|target| target.starts_with(&prefix))
            || sorted.contains(at)
    };
    for at in &reach.operations {
        for key in ["responses", "callbacks"] {
            let part = pointer::join(at, key);
            if !referenced_below(&part)
                && let Some(Value::Object(op)) = pointer::get_mut(doc, at)
            {
                op.remove(key);
            }
        }
    }
    if let Some(Value::Object(files)) = doc.get_mut(super::FILES_KEY) {
        files.retain(|name, _| kept_files.contains(name));
    }
    if let Some(Value::Object(components)) = doc.get_mut("components") {
        for (kind, entries) in components.iter_mut() {
            if kind == "securitySchemes" || is_extension(kind) {
                continue;
            }
            if let Value::Object(entries) = entries {
                let at = pointer::join("/components", kind);
                entries.retain(|name, _| referenced_below(&pointer::join(&at, name)));
            }
        }
    }
}

/// Whether `doc` may name schemas other than by JSON pointer: a JSON Schema 2020-12 `$id`,
/// an anchor or a dynamic reference (OpenAPI 3.1 and later), anywhere, even as a property's
/// name. Where none is, every reference the loader left is a pointer that
/// [`prune_for_requests`] follows.
pub(crate) fn names_by_id(doc: &Value) -> bool {
    const KEYWORDS: [&str; 6] = [
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$dynamicRef",
        "$recursiveAnchor",
        "$recursiveRef",
    ];
    match doc {
        Value::Object(map) => map
            .iter()
            .any(|(key, child)| KEYWORDS.contains(&key.as_str()) || names_by_id(child)),
        Value::Array(items) => items.iter().any(names_by_id),
        _ => false,
    }
}

/// Runs `f` with `at` extended by one (escaped) pointer token, then restores it.
fn within(at: &mut String, token: &str, f: impl FnOnce(&mut String)) {
    let len = at.len();
    at.push('/');
    pointer::push_escaped(at, token);
    f(at);
    at.truncate(len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_schemas_through_refs() {
        let doc = json!({
            "paths": {"/a": {"$ref": "#/components/pathItems/A"}},
            "components": {
                "pathItems": {"A": {"get": {"parameters": [{"$ref": "#/components/parameters/P"}],
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S"}}}}}}}},
                "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string"}}},
                "schemas": {"S": {"type": "object", "properties": {"self": {"$ref": "#/components/schemas/S"}, "l": {"items": {"type": "integer"}}}}}
            }
        });
        let mut found = all_schemas(&doc);
        found.sort();
        assert_eq!(
            found,
            [
                "/components/parameters/P/schema",
                "/components/pathItems/A/get/responses/200/content/application~1json/schema",
                "/components/schemas/S",
                "/components/schemas/S/properties/l",
                "/components/schemas/S/properties/l/items",
                "/components/schemas/S/properties/self",
            ]
        );
    }

    #[test]
    fn ref_holders_skip_data_and_follow_arrays() {
        let doc = json!({
            "paths": {"/a": {"get": {"parameters": [{"$ref": "#/p"}, {"schema": {"$ref": "#/s"}}]}}},
            "components": {"schemas": {"S": {"example": {"$ref": "not a reference"}}}}
        });
        let mut seen = Vec::new();
        ref_holders(&doc, &mut String::new(), &mut |node, at| {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                seen.push(format!("{at} -> {r}"));
            }
        });
        assert_eq!(
            seen,
            [
                "/paths/~1a/get/parameters/0 -> #/p",
                "/paths/~1a/get/parameters/1/schema -> #/s"
            ]
        );
        // Example Objects' `value` and JSON Schema's `examples` array are data; a property or
        // an example *named* `value` or `examples` is structure.
        let doc = json!({
            "components": {"examples": {"E": {"value": {"$ref": "#/data"}}, "value": {"$ref": "#/e"}},
                "schemas": {"S": {"examples": [{"$ref": "#/data"}], "properties": {
                    "examples": {"properties": {"value": {"$ref": "#/p"}}}}}}}
        });
        let mut seen = Vec::new();
        ref_holders(&doc, &mut String::new(), &mut |node, at| {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                seen.push(format!("{at} -> {r}"));
            }
        });
        seen.sort();
        assert_eq!(
            seen,
            [
                "/components/examples/value -> #/e",
                "/components/schemas/S/properties/examples/properties/value -> #/p"
            ]
        );
        // The mutable walk stops below an object when told to.
        let mut doc = json!({"a": {"$ref": "#/x", "b": {"$ref": "#/y"}}, "c": {"$ref": "#/z"}});
        let mut visited = Vec::new();
        ref_holders_mut(&mut doc, &mut String::new(), &mut |node, at| {
            visited.push(at.to_owned());
            node.get("$ref") != Some(&json!("#/x"))
        });
        assert_eq!(visited, ["", "/a", "/c"]);
    }

    #[test]
    fn a_view_for_requests_drops_what_only_responses_and_callbacks_reach() {
        let file = |name: &str| format!("/x-oasgate-files/{}", pointer::escape(name));
        let mut doc = json!({
            "paths": {
                "/a": {"$ref": "#/x-oasgate-files/paths~1a.yml"},
                "/c": {"get": {"$ref": "#/x-oasgate-files/op.yml"}},
                "/d": {"get": {"responses": {"200": {"content": {"application/json": {
                    "schema": {"type": "object", "properties": {"tag": {"type": "string"}}}}}}}}},
                "/e": {"put": {"requestBody": {"content": {"application/json": {"schema": {
                    "$ref": "#/paths/~1d/get/responses/200/content/application~1json/schema/properties/tag"}}}}}},
                "/b": {"post": {
                    "requestBody": {"$ref": "#/x-oasgate-files/bodies.yml/B"},
                    "responses": {"200": {"$ref": "#/x-oasgate-files/responses.yml/ok"}},
                    "callbacks": {"c": {"$ref": "#/x-oasgate-files/callbacks.yml"}}
                }}
            },
            "components": {"securitySchemes": {"key": {"$ref": "#/x-oasgate-files/schemes.yml"}}},
            "x-oasgate-files": {
                "paths/a.yml": {"get": {
                    "parameters": [{"$ref": "#/x-oasgate-files/models.yml/Id"}],
                    "responses": {"200": {"$ref": "#/x-oasgate-files/responses.yml/list"}}
                }},
                "bodies.yml": {"B": {"content": {"application/json": {"schema": {
                    "$ref": "#/x-oasgate-files/models.yml/Thing"}}}}},
                "models.yml": {"Id": {"name": "id", "in": "query"}, "Thing": {"type": "object"}},
                "responses.yml": {"ok": {"description": "ok"}, "list": {"description": "ok"}},
                "callbacks.yml": {"{$request.body#/url}": {"post": {"responses": {}}}},
                "schemes.yml": {"type": "apiKey", "in": "header", "name": "k"},
                "op.yml": {
                    "requestBody": {"$ref": "#/x-oasgate-files/bodies.yml/B"},
                    "responses": {"default": {"$ref": "#/x-oasgate-files/errors.yml"}}
                },
                "errors.yml": {"description": "error"},
                "unused.yml": {"type": "string"}
            }
        });
        prune_for_requests(&mut doc);
        let mut files: Vec<&String> = doc["x-oasgate-files"].as_object().unwrap().keys().collect();
        files.sort();
        assert_eq!(
            files,
            [
                "bodies.yml",
                "models.yml",
                "op.yml",
                "paths/a.yml",
                "schemes.yml"
            ]
        );
        for op in [
            "/paths/~1b/post",
            &format!("{}/get", file("paths/a.yml")),
            &file("op.yml"),
        ] {
            let op = pointer::get(&doc, op).unwrap();
            assert!(
                op.get("responses").is_none() && op.get("callbacks").is_none(),
                "{op}"
            );
        }
        // Responses a request schema points into stay.
        assert!(
            pointer::get(
                &doc,
                "/paths/~1d/get/responses/200/content/application~1json/schema/properties/tag"
            )
            .is_some()
        );
        // What requests read is where it was.
        assert_eq!(
            pointer::get(&doc, &format!("{}/Thing", file("models.yml"))),
            Some(&json!({"type": "object"}))
        );
        assert!(pointer::get(&doc, "/paths/~1b/post/requestBody").is_some());
    }

    /// Components are read through `$ref` only, security schemes by name ("All objects
    /// defined within the Components Object will have no effect on the API unless they are
    /// explicitly referenced from outside the Components Object", OpenAPI 3.0.4 §4.8.7): the
    /// request view keeps a component a request reaches (directly, through another component,
    /// or a node below it), or that a security scheme or an extension references.
    #[test]
    fn components_no_request_reaches_are_dropped() {
        let mut doc = json!({
            "paths": {"/a": {"post": {
                "parameters": [{"$ref": "#/components/parameters/Limit"}],
                "requestBody": {"$ref": "#/components/requestBodies/New"},
                "responses": {"200": {"$ref": "#/components/responses/Ok"}}
            }}},
            "components": {
                "parameters": {
                    "Limit": {"name": "limit", "in": "query",
                              "schema": {"$ref": "#/components/schemas/Count"}},
                    "Unused": {"name": "u", "in": "query"}
                },
                "requestBodies": {"New": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Pet/properties/tag"}}}}},
                "responses": {"Ok": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Listing"}}}}},
                "schemas": {
                    "Count": {"type": "integer"},
                    "Pet": {"type": "object", "properties": {
                        "tag": {"$ref": "#/components/schemas/Tag"}}},
                    "Tag": {"type": "string"},
                    "Listing": {"type": "array"},
                    "Scope": {"type": "string"},
                    "Orphan": {"type": "object"}
                },
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "k"}},
                "examples": {"E": {"value": 1}},
                "x-shared": {"$ref": "#/components/schemas/Scope"}
            }
        });
        prune_for_requests(&mut doc);
        let kept = |kind: &str| -> Vec<&str> {
            let mut names: Vec<&str> = doc["components"][kind]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            names.sort_unstable();
            names
        };
        let table: [(&str, &[&str]); 6] = [
            ("parameters", &["Limit"]),
            ("requestBodies", &["New"]),
            // Only the operation's responses named it, and they go.
            ("responses", &[]),
            ("schemas", &["Count", "Pet", "Scope", "Tag"]),
            ("securitySchemes", &["key"]),
            ("examples", &[]),
        ];
        for (kind, names) in table {
            assert_eq!(kept(kind), names, "{kind}");
        }
        assert!(doc["components"].get("x-shared").is_some());
    }

    #[test]
    fn names_by_id_finds_every_keyword_that_names_a_schema_otherwise() {
        let table = [
            (
                json!({"components": {"schemas": {"A": {"type": "string"}}}}),
                false,
            ),
            (
                json!({"components": {"schemas": {"A": {"$ref": "#/x"}}}}),
                false,
            ),
            (
                json!({"components": {"schemas": {"A": {"$id": "https://x.test/a"}}}}),
                true,
            ),
            (json!({"a": [{"b": {"$anchor": "n"}}]}), true),
            (json!({"a": {"$dynamicAnchor": "n"}}), true),
            (json!({"a": {"items": {"$dynamicRef": "#n"}}}), true),
            (json!({"a": {"$recursiveRef": "#"}}), true),
            (json!({"a": {"$recursiveAnchor": true}}), true),
            // A property of that name: conservatively, the same.
            (json!({"properties": {"$id": {"type": "string"}}}), true),
        ];
        for (doc, names) in table {
            assert_eq!(names_by_id(&doc), names, "{doc}");
        }
    }
}
