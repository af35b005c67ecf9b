//! Swagger 2.0 documents, converted once at start-up into the OpenAPI 3.0 shape the compiler
//! reads, with a map from every converted pointer back to the 2.0 place it came from.
//!
//! The served document stays the 2.0 text; only the compiler sees the converted tree. The
//! conversion keeps pointers meaningful where it can: `definitions` (and every file a `$ref`
//! reached, under `x-oasgate-files`) are copied to the same pointers, so `#/definitions/Pet`
//! still names the same schema and problems in it point into the 2.0 tree unchanged. What
//! moves (a parameter's own `type` becoming its `schema`, a `body` parameter becoming the
//! `requestBody`, `formData` parameters becoming properties of a form schema, a referenced
//! path item inlined, a referenced parameter converted once under `components/parameters`)
//! is recorded in a [`PointerMap`], and every start-up problem is reported at the 2.0 pointer
//! (and so the 2.0 file and line).
//!
//! What maps where (OpenAPI 2.0, "Parameter Object", "Items Object", "Security Scheme Object"):
//!
//! - `host` / `basePath` → one server whose URL is the base path (routing needs the path only);
//! - `in: body` → `requestBody` with one media type per `consumes` (the operation's, else the
//!   document's, else `application/json`);
//! - `in: formData` → a form (`application/x-www-form-urlencoded`) or `multipart/form-data`
//!   body (as `consumes` says; multipart when a `type: file` field is present and `consumes`
//!   names neither), each field a property with its own constraints, `type: file` a binary part;
//! - `collectionFormat` → `style`/`explode`: `csv` (the 2.0 default) → `form`/`simple` without
//!   explode, `ssv` → `spaceDelimited`, `pipes` → `pipeDelimited`, `tsv` → `tabDelimited`
//!   (an internal style 3.x does not have), `multi` → `form` with explode;
//! - `type`, `format`, `items`, `default`, `enum` and the validation keywords of a non-body
//!   parameter → its `schema`;
//! - Girder's `_strip`, `_lower`, `_upper` → `x-strip`, `x-lowercase`, `x-uppercase`;
//!   `x-json: true` (or a schema) → a JSON parameter (`content: application/json`);
//! - schemas: the string `discriminator` → `{propertyName: ...}`, `x-nullable: true` →
//!   `nullable: true`, `type: file` → `{type: string, format: binary}`; boolean
//!   `exclusiveMaximum`/`exclusiveMinimum` are then read as in 3.0;
//! - `securityDefinitions` → `components/securitySchemes` (`basic` → HTTP basic, `apiKey` as
//!   is, `oauth2` flows renamed: `application` → `clientCredentials`, `accessCode` →
//!   `authorizationCode`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{field, pointer, source};
use crate::error::WarningCase;

/// Where each converted node came from: pairs of (converted pointer prefix, 2.0 pointer).
///
/// A large 2.0 document records tens of thousands of pairs, alive through its whole build, so
/// a converted prefix is kept as a 64-bit hash of its text, not as the text (as the line
/// tables key nodes): two prefixes of one document would have to share a hash for a problem to
/// be placed at the wrong 2.0 pointer.
#[derive(Debug, Default, Clone)]
pub(crate) struct PointerMap {
    /// Converted prefix's hash → 2.0 pointer; the first recorded source of a prefix wins.
    entries: HashMap<u64, Box<str>>,
}

impl PointerMap {
    fn add(&mut self, converted: String, source: String) {
        if converted != source {
            self.entries
                .entry(Self::key(&converted))
                .or_insert_with(|| source.into_boxed_str());
        }
    }

    fn key(converted: &str) -> u64 {
        use std::hash::BuildHasher as _;
        foldhash::fast::FixedState::default().hash_one(converted)
    }

    /// The 2.0 pointer a converted pointer came from: the longest recorded prefix (whole
    /// segments only) replaced by its source; unchanged when none applies. One lookup per
    /// segment of `at`, so compiling a large document stays linear in its size.
    pub(crate) fn source(&self, at: &str) -> String {
        let mut prefix = at;
        loop {
            if let Some(source) = self.entries.get(&Self::key(prefix)) {
                return format!("{source}{}", &at[prefix.len()..]);
            }
            match prefix.rfind('/') {
                Some(cut) if cut > 0 => prefix = &prefix[..cut],
                _ => return at.to_owned(),
            }
        }
    }
}

/// A problem found while converting: the 2.0 pointer and what is wrong.
pub(crate) type Finding = (String, String);

/// The converted document, its pointer map and the problems the conversion found.
pub(crate) struct Converted {
    pub doc: Value,
    pub map: PointerMap,
    pub problems: Vec<Finding>,
    /// Defects worked around, at their 2.0 pointers.
    pub warnings: Vec<(WarningCase, String, String)>,
}

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];
const FORM: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data";

/// Keywords a non-body parameter (or an Items Object) shares with a schema.
const SCHEMA_KEYS: [&str; 16] = [
    "type",
    "format",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
    "x-nullable",
];

/// Converts a 2.0 document (already bundled) into the 3.0 shape. What the 3.0 shape keeps as
/// it is (`definitions`, `info`, extensions and the other files, most of a large document) is
/// moved into it, not copied; each path item is dropped once converted, so the source's
/// operations and their 3.0 shapes are not all held at once (unless a reference the
/// conversion follows names something under `paths`).
///
/// Without `responses` the operations' responses are left out (only their `$ref`s are
/// followed, for the problems a broken one makes): nothing but response validation reads
/// them, and on documents with inline response schemas they are much of the conversion.
pub(crate) fn convert(mut src: Value, responses: bool) -> Converted {
    let taken = if names_paths(&src) {
        None
    } else {
        src.as_object_mut()
            .and_then(|root| root.get_mut("paths"))
            .filter(|paths| paths.is_object())
            .map(std::mem::take)
    };
    let mut c = Converter {
        src: &src,
        map: PointerMap::default(),
        problems: Vec::new(),
        warnings: Vec::new(),
        parameters: Map::new(),
        responses,
    };
    let mut doc = c.document();
    let (mut map, mut problems, mut warnings, mut parameters) =
        (c.map, c.problems, c.warnings, c.parameters);
    if let Some(Value::Object(paths)) = taken {
        let mut converted = Map::new();
        for (template, item) in paths {
            if template.starts_with("x-") {
                continue;
            }
            let mut c = Converter {
                src: &src,
                map,
                problems,
                warnings,
                parameters,
                responses,
            };
            c.convert_path_item(&template, &item, &mut converted);
            (map, problems, warnings, parameters) = (c.map, c.problems, c.warnings, c.parameters);
        }
        doc["paths"] = Value::Object(converted);
    }
    if !parameters.is_empty() {
        let mut parameters = Value::Object(parameters);
        source::fit(&mut parameters);
        doc["components"]["parameters"] = parameters;
    }
    if let (Value::Object(out), Value::Object(mut src)) = (&mut doc, src) {
        for (key, value) in out.iter_mut() {
            if value.is_null() && (KEPT.contains(&key.as_str()) || key.starts_with("x-")) {
                *value = src.swap_remove(key).unwrap_or_default();
            }
        }
    }
    Converted {
        doc,
        map,
        problems,
        warnings,
    }
}

/// Whether a `$ref` outside `definitions` names something under `paths` (a parameter, an
/// operation, a path item): the conversion follows those, so the paths stay whole until it
/// ends. (A schema's `$ref` is not followed here.)
fn names_paths(src: &Value) -> bool {
    fn walk(node: &Value) -> bool {
        match node {
            Value::Object(map) => map.iter().any(|(key, value)| match value {
                Value::String(target) => key == "$ref" && target.starts_with("#/paths"),
                _ => walk(value),
            }),
            Value::Array(items) => items.iter().any(walk),
            _ => false,
        }
    }
    src.as_object().is_some_and(|root| {
        root.iter()
            .any(|(key, value)| key != "definitions" && walk(value))
    })
}

/// Root members the 3.0 shape keeps as written (besides extensions).
const KEPT: [&str; 5] = ["info", "tags", "externalDocs", "security", "definitions"];

struct Converter<'a> {
    src: &'a Value,
    map: PointerMap,
    problems: Vec<Finding>,
    warnings: Vec<(WarningCase, String, String)>,
    /// `components/parameters` of the converted document: every non-body parameter reached
    /// through `$ref`, converted once and keyed by its 2.0 pointer, so that each list naming
    /// it holds a `$ref` and not a copy of its own (a large 2.0 document names a few shared
    /// parameters from hundreds of operations).
    parameters: Map<String, Value>,
    /// Whether the operations' responses are converted (see [`convert`]).
    responses: bool,
}

/// A 2.0 parameter read from the source: its node and where it is.
struct SourceParam<'a> {
    node: &'a Value,
    at: String,
    /// Whether its list names it through `$ref` (`at` is then the target's pointer).
    by_ref: bool,
}

/// Whether a 2.0 parameter stays a parameter in the 3.0 shape: `body` and `formData` ones
/// become the request body, and an `in` 2.0 does not have is reported per operation.
fn stays_parameter(node: &Value) -> bool {
    matches!(
        node.get("in").and_then(Value::as_str),
        None | Some("query" | "header" | "path")
    )
}

impl<'a> Converter<'a> {
    fn warn(&mut self, case: WarningCase, at: &str, message: String) {
        self.warnings.push((case, at.to_owned(), message));
    }

    fn report(&mut self, at: &str, message: String) {
        self.problems.push((at.to_owned(), message));
    }

    /// Follows `$ref`s in the source; reports a broken chain.
    fn resolve(&mut self, node: &'a Value, at: &str) -> Option<(&'a Value, String)> {
        match pointer::resolve(self.src, node, at) {
            Ok(found) => Some(found),
            Err(e) => {
                self.report(at, e);
                None
            }
        }
    }

    /// The 3.0 shape of the document, with the paths still in the source (none when
    /// `convert` took them out: an empty `paths` holds their place).
    fn document(&mut self) -> Value {
        let src = self.src;
        let mut out = Map::new();
        out.insert("openapi".into(), json!("3.0.3"));
        // Kept as written: their places are taken here, in this order, and `convert` moves
        // them in once the paths are converted.
        for key in KEPT {
            if src.get(key).is_some() {
                out.insert(key.into(), Value::Null);
            }
        }
        for key in src.as_object().into_iter().flatten().map(|(k, _)| k) {
            if key.starts_with("x-") {
                out.insert(key.clone(), Value::Null);
            }
        }
        let mut base = src.get("basePath").and_then(Value::as_str).unwrap_or("/");
        if !base.starts_with('/') || src.get("basePath").is_some_and(|b| !b.is_string()) {
            // "The value MUST start with a leading slash (/)." (OpenAPI 2.0, `basePath`). A
            // value that is not a path (`null`, a host name, a placeholder) says nothing about
            // where the operations are; the paths are matched as written.
            self.warn(
                WarningCase::BasePath,
                "/basePath",
                "`basePath` is not a path starting with `/`, such as \"/v1\"; it is ignored \
                 and the paths are matched as written"
                    .into(),
            );
            base = "/";
        }
        out.insert("servers".into(), json!([{"url": base}]));
        self.map.add("/servers/0/url".into(), "/basePath".into());
        let mut components = Map::new();
        if let Some(Value::Object(schemes)) = src.get("securityDefinitions") {
            let mut converted = Map::new();
            for (name, scheme) in schemes {
                let at = pointer::join("/securityDefinitions", name);
                self.map.add(
                    pointer::join("/components/securitySchemes", name),
                    at.clone(),
                );
                // A definition refused here is left out; requirements naming it say so.
                if let Some((scheme, at)) = self.resolve(scheme, &at)
                    && let Some(scheme) = self.security_scheme(scheme, &at)
                {
                    converted.insert(name.clone(), scheme);
                }
            }
            components.insert("securitySchemes".into(), Value::Object(converted));
        }
        out.insert("components".into(), Value::Object(components));
        let mut paths = Map::new();
        for (template, item) in src
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !template.starts_with("x-") {
                self.convert_path_item(template, item, &mut paths);
            }
        }
        out.insert("paths".into(), Value::Object(paths));
        // The schemas keep their 2.0 keywords here: `normalize::to_2020_12` rewrites them in
        // the one walk over every schema it makes anyway.
        Value::Object(out)
    }

    /// Converts the path item at `/paths/<template>` into `paths`.
    fn convert_path_item(
        &mut self,
        template: &str,
        item: &'a Value,
        paths: &mut Map<String, Value>,
    ) {
        let at = pointer::join("/paths", template);
        let Some((item, item_src)) = self.resolve(item, &at) else {
            return;
        };
        self.map.add(at.clone(), item_src.clone());
        paths.insert(template.to_owned(), self.path_item(item, &item_src, &at));
    }

    fn security_scheme(&mut self, scheme: &Value, at: &str) -> Option<Value> {
        let mut out = Map::new();
        if let Some(d) = scheme.get("description") {
            out.insert("description".into(), d.clone());
        }
        match scheme.get("type").and_then(Value::as_str) {
            Some("basic") => {
                out.insert("type".into(), json!("http"));
                out.insert("scheme".into(), json!("basic"));
            }
            Some("apiKey") => {
                out.insert("type".into(), json!("apiKey"));
                let name = scheme.get("name").and_then(Value::as_str);
                let place = scheme.get("in").and_then(Value::as_str);
                if let (Some(name), Some("cookie")) = (name, place) {
                    self.warn(
                        WarningCase::ThreeInTwo,
                        &pointer::join(at, "in"),
                        "an API key `in: cookie` is OpenAPI 3; Swagger 2.0 has header and query \
                         only. It is read as OpenAPI 3 reads it"
                            .into(),
                    );
                    out.insert("name".into(), json!(name));
                    out.insert("in".into(), json!("cookie"));
                    return Some(Value::Object(out));
                }
                let (Some(name), Some(place @ ("header" | "query"))) = (name, place) else {
                    self.report(
                        at,
                        "an apiKey security definition needs a `name` and `in`: header or query"
                            .into(),
                    );
                    return None;
                };
                out.insert("name".into(), json!(name));
                out.insert("in".into(), json!(place));
            }
            Some("oauth2") => {
                out.insert("type".into(), json!("oauth2"));
                let flow = match scheme.get("flow").and_then(Value::as_str) {
                    Some("implicit") => "implicit",
                    Some("password") => "password",
                    Some("application") => "clientCredentials",
                    Some("accessCode") => "authorizationCode",
                    _ => {
                        self.report(
                            at,
                            "an oauth2 security definition needs `flow`: implicit, password, application or accessCode".into(),
                        );
                        "implicit"
                    }
                };
                let mut details = Map::new();
                for key in ["authorizationUrl", "tokenUrl"] {
                    if let Some(v) = scheme.get(key) {
                        details.insert(key.into(), v.clone());
                    }
                }
                details.insert(
                    "scopes".into(),
                    scheme.get("scopes").cloned().unwrap_or_else(|| json!({})),
                );
                out.insert("flows".into(), json!({ flow: details }));
            }
            Some(kind @ ("http" | "openIdConnect")) => {
                self.warn(
                    WarningCase::ThreeInTwo,
                    &pointer::join(at, "type"),
                    format!(
                        "security scheme type `{kind}` is OpenAPI 3; Swagger 2.0 has basic, \
                         apiKey and oauth2. It is read as OpenAPI 3 reads it"
                    ),
                );
                return Some(scheme.clone());
            }
            other => {
                self.report(
                    at,
                    format!(
                        "security definition type {}: expected basic, apiKey or oauth2",
                        other.map_or("missing".to_owned(), |t| format!("`{t}`"))
                    ),
                );
                return None;
            }
        }
        Some(Value::Object(out))
    }

    /// The parameters of a `parameters` list, `$ref`s followed.
    fn param_list(&mut self, node: &'a Value, at: &str) -> Vec<SourceParam<'a>> {
        let Some(list) = node.get("parameters") else {
            return Vec::new();
        };
        let Value::Array(list) = list else {
            self.report(
                &pointer::join(at, "parameters"),
                "`parameters` must be a list".into(),
            );
            return Vec::new();
        };
        let base = pointer::join(at, "parameters");
        list.iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let slot = pointer::join(&base, &i.to_string());
                let (node, at) = self.resolve(p, &slot)?;
                let by_ref = at != slot;
                Some(SourceParam { node, at, by_ref })
            })
            .collect()
    }

    /// A non-body parameter's entry at `at` of a converted list: the parameter itself, or for
    /// one named through `$ref`, a `$ref` to its one conversion (see [`Self::parameters`]).
    fn parameter_entry(&mut self, p: &SourceParam<'_>, at: &str) -> Value {
        self.map.add(at.to_owned(), p.at.clone());
        if !p.by_ref {
            self.map_parameter(at, &p.at);
            return self.parameter(p);
        }
        let component = pointer::join("/components/parameters", &p.at);
        if !self.parameters.contains_key(&p.at) {
            self.map_parameter(&component, &p.at);
            self.map.add(component.clone(), p.at.clone());
            let converted = self.parameter(p);
            self.parameters.insert(p.at.clone(), converted);
        }
        json!({"$ref": format!("#{}", pointer::to_fragment(&component))})
    }

    /// Records where a converted parameter's schema came from: the parameter's own keywords,
    /// or for a JSON one its `x-json`.
    fn map_parameter(&mut self, at: &str, source: &str) {
        self.map.add(pointer::join(at, "schema"), source.to_owned());
        self.map.add(
            format!("{at}/content/application~1json/schema"),
            pointer::join(source, "x-json"),
        );
    }

    fn path_item(&mut self, item: &'a Value, item_src: &str, at: &str) -> Value {
        let mut out = Map::new();
        for (key, v) in item.as_object().into_iter().flatten() {
            if key.starts_with("x-") {
                out.insert(key.clone(), v.clone());
            }
        }
        let shared = self.param_list(item, item_src);
        // 3.0 merges a path item's parameters into each of its operations on (in, name), as
        // 2.0 does: those that stay parameters stay on the path item, converted once. Bodies
        // and form fields become each operation's request body.
        let (stay, shared): (Vec<_>, Vec<_>) =
            shared.into_iter().partition(|p| stays_parameter(p.node));
        if !stay.is_empty() && METHODS.iter().any(|m| item.get(m).is_some()) {
            let list_at = pointer::join(at, "parameters");
            let mut converted: Value = stay
                .iter()
                .enumerate()
                .map(|(i, p)| self.parameter_entry(p, &pointer::join(&list_at, &i.to_string())))
                .collect();
            source::fit(&mut converted);
            out.insert("parameters".into(), converted);
        }
        for method in METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let op_at = pointer::join(at, method);
            let Some((op, op_src)) = self.resolve(op, &pointer::join(item_src, method)) else {
                continue;
            };
            self.map.add(op_at.clone(), op_src.clone());
            let own = self.param_list(op, &op_src);
            // The operation's parameters override the path item's bodies and form fields on
            // (in, name); the compiler merges the rest as 3.0 says.
            let mut params: Vec<&SourceParam<'a>> = Vec::new();
            let mut keys = Vec::new();
            for p in shared.iter().chain(own.iter()) {
                let key = (field(p.node, "in"), field(p.node, "name"));
                match keys.iter().position(|q| *q == key) {
                    Some(i) => params[i] = p,
                    None => {
                        params.push(p);
                        keys.push(key);
                    }
                }
            }
            let mut converted = self.operation(op, &op_src, &op_at, &params);
            // Built member by member (and its schemas copied through `json!`), so each object
            // has room to spare: the operations are most of a converted document.
            source::fit(&mut converted);
            out.insert(method.into(), converted);
        }
        Value::Object(out)
    }

    /// `consumes` (or `produces`) of an operation, else of the document.
    fn media_list(&self, op: &Value, key: &str) -> Option<Vec<String>> {
        op.get(key)
            .or_else(|| self.src.get(key))
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
    }

    fn operation(
        &mut self,
        op: &'a Value,
        op_src: &str,
        op_at: &str,
        params: &[&SourceParam<'a>],
    ) -> Value {
        let mut out = Map::new();
        for (key, v) in op.as_object().into_iter().flatten() {
            match key.as_str() {
                "operationId" | "deprecated" | "security" | "summary" | "description" | "tags"
                | "externalDocs" => {
                    out.insert(key.clone(), v.clone());
                }
                k if k.starts_with("x-") => {
                    out.insert(key.clone(), v.clone());
                }
                _ => {}
            }
        }
        let consumes = self.media_list(op, "consumes");
        let mut converted = Vec::new();
        let mut body: Option<&SourceParam<'a>> = None;
        let mut form: Vec<&SourceParam<'a>> = Vec::new();
        for p in params {
            match p.node.get("in").and_then(Value::as_str) {
                Some("body") => {
                    if let Some(first) = body {
                        self.report(
                            &p.at,
                            format!(
                                "an operation takes one `body` parameter (another is at #{})",
                                first.at
                            ),
                        );
                    }
                    body = Some(p);
                }
                Some("formData") => form.push(p),
                Some(other) if !matches!(other, "query" | "header" | "path") => {
                    let name = p
                        .node
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    self.report(
                        &pointer::join(&p.at, "in"),
                        format!("parameter `{name}`: `in` is `{other}`; Swagger 2.0 allows query, header, path, formData or body"),
                    );
                }
                _ => {
                    let at = pointer::join(
                        &pointer::join(op_at, "parameters"),
                        &converted.len().to_string(),
                    );
                    converted.push(self.parameter_entry(p, &at));
                }
            }
        }
        if !converted.is_empty() {
            out.insert("parameters".into(), Value::Array(converted));
        }
        let body_at = pointer::join(op_at, "requestBody");
        if let (Some(b), Some(f)) = (body, form.first()) {
            self.report(
                &f.at,
                format!(
                    "`formData` parameters and a `body` parameter (#{}) cannot be used together",
                    b.at
                ),
            );
        }
        if let Some(b) = body {
            self.map.add(body_at.clone(), b.at.clone());
            let media = consumes
                .clone()
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| vec!["application/json".into()]);
            let mut content = Map::new();
            let schema = match b.node.get("schema") {
                Some(schema) => schema.clone(),
                None => {
                    self.warn(
                        WarningCase::ParameterType,
                        &b.at,
                        "the `body` parameter has no `schema` (Swagger 2.0 requires one); any \
                         body of its media types is accepted"
                            .into(),
                    );
                    json!({})
                }
            };
            let mut shared = SharedSchema::new(schema);
            for m in media {
                let m_at = pointer::join(&pointer::join(&body_at, "content"), &m);
                self.map.add(m_at.clone(), b.at.clone());
                content.insert(m, json!({"schema": shared.at(&m_at)}));
            }
            let mut rb = json!({"content": content, "required": b.node.get("required").and_then(Value::as_bool).unwrap_or(false)});
            if let Some(d) = b.node.get("description") {
                rb["description"] = d.clone();
            }
            out.insert("requestBody".into(), rb);
        } else if !form.is_empty() {
            out.insert(
                "requestBody".into(),
                self.form_body(&form, consumes, &body_at),
            );
        }
        if let Some(Value::Object(responses)) = op.get("responses") {
            let produces = self
                .media_list(op, "produces")
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| vec!["application/json".into()]);
            let mut converted = Map::new();
            for (code, response) in responses {
                if code.starts_with("x-") {
                    continue;
                }
                let r_at = pointer::join(&pointer::join(op_at, "responses"), code);
                let src_at = pointer::join(&pointer::join(op_src, "responses"), code);
                let Some((response, src_at)) = self.resolve(response, &src_at) else {
                    continue;
                };
                if !self.responses {
                    continue;
                }
                self.map.add(r_at.clone(), src_at.clone());
                converted.insert(
                    code.clone(),
                    self.response(response, &src_at, &r_at, &produces),
                );
            }
            if self.responses {
                out.insert("responses".into(), Value::Object(converted));
            }
        }
        Value::Object(out)
    }

    fn response(&mut self, response: &Value, src_at: &str, at: &str, produces: &[String]) -> Value {
        let mut out = Map::new();
        out.insert(
            "description".into(),
            response
                .get("description")
                .cloned()
                .unwrap_or_else(|| json!("")),
        );
        if let Some(schema) = response.get("schema") {
            let mut content = Map::new();
            let mut shared = SharedSchema::new(schema.clone());
            for m in produces {
                let m_at = pointer::join(&pointer::join(at, "content"), m);
                self.map.add(
                    pointer::join(&m_at, "schema"),
                    pointer::join(src_at, "schema"),
                );
                content.insert(m.clone(), json!({"schema": shared.at(&m_at)}));
            }
            out.insert("content".into(), Value::Object(content));
        }
        if let Some(Value::Object(headers)) = response.get("headers") {
            let mut converted = Map::new();
            for (name, header) in headers {
                let h_src = pointer::join(&pointer::join(src_at, "headers"), name);
                let h_at = pointer::join(&pointer::join(at, "headers"), name);
                self.map.add(pointer::join(&h_at, "schema"), h_src);
                let mut h = json!({"schema": simple_schema(header)});
                if let Some(d) = header.get("description") {
                    h["description"] = d.clone();
                }
                converted.insert(name.clone(), h);
            }
            out.insert("headers".into(), Value::Object(converted));
        }
        Value::Object(out)
    }

    /// A non-body parameter in the 3.0 shape.
    fn parameter(&mut self, p: &SourceParam<'_>) -> Value {
        let node = p.node;
        let mut out = Map::new();
        for key in ["name", "in", "description", "required", "allowEmptyValue"] {
            if let Some(v) = node.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        let location = node.get("in").and_then(Value::as_str).unwrap_or_default();
        for (key, v) in node.as_object().into_iter().flatten() {
            match key.as_str() {
                "_strip" => {
                    out.insert("x-strip".into(), v.clone());
                }
                "_lower" => {
                    out.insert("x-lowercase".into(), v.clone());
                }
                "_upper" => {
                    out.insert("x-uppercase".into(), v.clone());
                }
                "x-json" => {}
                k if k.starts_with("x-") && k != "x-nullable" => {
                    out.insert(key.clone(), v.clone());
                }
                _ => {}
            }
        }
        if let Some(json_schema) = node.get("x-json") {
            let schema = match json_schema {
                Value::Bool(true) => json!({}),
                Value::Object(_) => json_schema.clone(),
                _ => {
                    self.report(
                        &pointer::join(&p.at, "x-json"),
                        "`x-json` must be true or a schema".into(),
                    );
                    json!({})
                }
            };
            out.insert(
                "content".into(),
                json!({"application/json": {"schema": schema}}),
            );
            return Value::Object(out);
        }
        if node.get("type").is_none() {
            let name = node.get("name").and_then(Value::as_str).unwrap_or_default();
            self.untyped(&p.at, name);
        }
        out.insert("schema".into(), simple_schema(node));
        if let Some((style, explode)) = self.style(node, location, &p.at) {
            out.insert("style".into(), json!(style));
            out.insert("explode".into(), json!(explode));
        }
        Value::Object(out)
    }

    /// A non-body parameter without `type` ("Required", OpenAPI 2.0 Parameter Object): its
    /// value is read as text and checked against the other keywords it has, if any.
    fn untyped(&mut self, at: &str, name: &str) {
        self.warn(
            WarningCase::ParameterType,
            at,
            format!(
                "parameter `{name}` has no `type` (Swagger 2.0 requires one for a parameter \
                 that is not `in: body`); its value is taken as a string"
            ),
        );
    }

    /// The 3.x `style` and `explode` of an array parameter's `collectionFormat`.
    fn style(&mut self, node: &Value, location: &str, at: &str) -> Option<(&'static str, bool)> {
        if node.get("type").and_then(Value::as_str) != Some("array") {
            return None;
        }
        let format = node
            .get("collectionFormat")
            .and_then(Value::as_str)
            .unwrap_or("csv");
        let list = if matches!(location, "path" | "header") {
            "simple"
        } else {
            "form"
        };
        Some(match format {
            "csv" => (list, false),
            "ssv" => ("spaceDelimited", false),
            "pipes" => ("pipeDelimited", false),
            "tsv" => ("tabDelimited", false),
            "multi" if matches!(location, "query" | "formData") => ("form", true),
            "multi" => {
                self.report(
                    &pointer::join(at, "collectionFormat"),
                    format!("`collectionFormat: multi` is valid only for query and formData parameters, not {location}"),
                );
                (list, false)
            }
            other => {
                self.report(
                    &pointer::join(at, "collectionFormat"),
                    format!("unknown `collectionFormat` `{other}`: expected csv, ssv, tsv, pipes or multi"),
                );
                (list, false)
            }
        })
    }

    /// `formData` parameters as a form or multipart body.
    fn form_body(
        &mut self,
        form: &[&SourceParam<'_>],
        consumes: Option<Vec<String>>,
        body_at: &str,
    ) -> Value {
        let has_file = form
            .iter()
            .any(|p| p.node.get("type").and_then(Value::as_str) == Some("file"));
        let mut media: Vec<String> = consumes
            .unwrap_or_default()
            .into_iter()
            .filter(|m| {
                let m = m
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                m == FORM || m == MULTIPART
            })
            .collect();
        if media.is_empty() {
            media.push(if has_file { MULTIPART } else { FORM }.to_owned());
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        let mut sources = Vec::new();
        for p in form {
            let Some(name) = p.node.get("name").and_then(Value::as_str) else {
                self.report(&p.at, "a parameter needs a `name`".into());
                continue;
            };
            if p.node.get("type").is_none() {
                self.untyped(&p.at, name);
            }
            let mut schema = simple_schema(p.node);
            if let Some(d) = p.node.get("description") {
                schema["description"] = d.clone();
            }
            properties.insert(name.to_owned(), schema);
            if p.node.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(json!(name));
            }
            if let Some((style, explode)) = self.style(p.node, "formData", &p.at) {
                encoding.insert(name.to_owned(), json!({"style": style, "explode": explode}));
            }
            sources.push((name.to_owned(), p.at.clone()));
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = Value::Array(required.clone());
        }
        let mut content = Map::new();
        let mut shared = SharedSchema::new(schema);
        for m in media {
            let m_at = pointer::join(&pointer::join(body_at, "content"), &m);
            let props_at = pointer::join(&pointer::join(&m_at, "schema"), "properties");
            for (name, at) in &sources {
                self.map.add(pointer::join(&props_at, name), at.clone());
                self.map.add(
                    pointer::join(&pointer::join(&m_at, "encoding"), name),
                    at.clone(),
                );
            }
            let mut entry = json!({"schema": shared.at(&m_at)});
            if !encoding.is_empty() {
                entry["encoding"] = Value::Object(encoding.clone());
            }
            content.insert(m, entry);
        }
        if let Some(first) = form.first() {
            self.map.add(body_at.to_owned(), first.at.clone());
        }
        json!({"content": content, "required": !required.is_empty()})
    }
}

/// One schema for every media type of a `consumes` or `produces` list: written whole under
/// the first, and as a `$ref` to it under each other, so that it is held and compiled once.
struct SharedSchema {
    schema: Option<Value>,
    /// The first media type's schema, as a `$ref` to it.
    first: Option<Value>,
}

impl SharedSchema {
    fn new(schema: Value) -> Self {
        Self {
            schema: Some(schema),
            first: None,
        }
    }

    /// The schema for the media type at `media_at` (a pointer of the converted document).
    fn at(&mut self, media_at: &str) -> Value {
        match self.schema.take() {
            Some(schema) => {
                let at = pointer::join(media_at, "schema");
                self.first = Some(json!({"$ref": format!("#{}", pointer::to_fragment(&at))}));
                schema
            }
            None => self.first.clone().unwrap_or_default(),
        }
    }
}

/// The schema a non-body parameter, an Items Object or a header describes.
fn simple_schema(node: &Value) -> Value {
    let mut out = Map::new();
    for key in SCHEMA_KEYS {
        if let Some(v) = field(node, key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(items) = field(node, "items") {
        out.insert("items".into(), simple_schema(items));
    }
    let mut schema = Value::Object(out);
    if let Value::Object(map) = &mut schema {
        schema_node_to_3_0(map);
    }
    schema
}

/// Rewrites the 2.0 keywords of one schema node into their 3.0 forms (see the module docs).
pub(crate) fn schema_node_to_3_0(node: &mut Map<String, Value>) {
    if let Some(Value::String(name)) = node.get("discriminator") {
        let name = name.clone();
        node.insert("discriminator".into(), json!({"propertyName": name}));
    }
    if let Some(nullable) = node.shift_remove("x-nullable") {
        node.insert("nullable".into(), nullable);
    }
    if node.get("type").and_then(Value::as_str) == Some("file") {
        node.insert("type".into(), json!("string"));
        node.insert("format".into(), json!("binary"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_pointers_back_by_whole_segments() {
        let mut map = PointerMap::default();
        map.add(
            "/paths/~1a/get/parameters/1".into(),
            "/parameters/limit".into(),
        );
        map.add(
            "/paths/~1a/get".into(),
            "/x-oasgate-files/a.yaml/get".into(),
        );
        let rows = [
            (
                "/paths/~1a/get/parameters/1/schema/maximum",
                "/parameters/limit/schema/maximum",
            ),
            (
                "/paths/~1a/get/parameters/10",
                "/x-oasgate-files/a.yaml/get/parameters/10",
            ),
            ("/paths/~1a/get", "/x-oasgate-files/a.yaml/get"),
            ("/paths/~1ab", "/paths/~1ab"),
            ("/definitions/Pet", "/definitions/Pet"),
        ];
        for (converted, source) in rows {
            assert_eq!(map.source(converted), source, "{converted}");
        }
    }

    /// Converting the paths item by item (each source item dropped once converted) makes what
    /// converting them from the whole document makes: the same 3.0 shape, problems, warnings
    /// and places. The whole paths are kept when a reference the conversion follows names
    /// something in them, and such a reference still resolves.
    #[test]
    fn paths_taken_apart_convert_as_a_whole() {
        let fixtures = [
            "local/girder-swagger2.yaml",
            "oai/v2.0-petstore-expanded.yaml",
            "oai/v2.0-petstore.yaml",
        ];
        for name in fixtures {
            let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
            let src = crate::Document::from_path(&path).unwrap().as_json().clone();
            assert!(!names_paths(&src), "{name}");
            let apart = convert(src.clone(), true);
            let mut whole_src = src.clone();
            whole_src["x-ref"] = json!({"$ref": "#/paths"});
            assert!(names_paths(&whole_src));
            let mut whole = convert(whole_src, true);
            whole.doc.as_object_mut().unwrap().shift_remove("x-ref");
            assert_eq!(apart.doc, whole.doc, "{name}");
            assert_eq!(apart.problems, whole.problems, "{name}");
            assert_eq!(apart.warnings, whole.warnings, "{name}");
            for op in apart.doc["paths"].as_object().unwrap().keys() {
                let at = format!("/paths/{}/get/parameters/0", pointer::escape(op));
                assert_eq!(apart.map.source(&at), whole.map.source(&at), "{name}: {at}");
            }
        }
        let src = json!({
            "swagger": "2.0",
            "paths": {
                "/a": {"get": {"parameters": [{"name": "q", "in": "query", "type": "integer"}],
                    "responses": {"200": {"description": "ok"}}}},
                "/b": {"get": {"parameters": [{"$ref": "#/paths/~1a/get/parameters/0"}],
                    "responses": {"200": {"description": "ok"}}}}
            }
        });
        assert!(names_paths(&src));
        let c = convert(src, true);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let entry = &c.doc["paths"]["/b"]["get"]["parameters"][0];
        let (named, at) = pointer::resolve(&c.doc, entry, "").unwrap();
        assert_eq!(
            at,
            "/components/parameters/~1paths~1~01a~1get~1parameters~10"
        );
        assert_eq!(named["name"], json!("q"));
    }

    #[test]
    fn converts_parameters_bodies_and_security() {
        let src = json!({
            "swagger": "2.0",
            "basePath": "/v1",
            "consumes": ["application/json"],
            "securityDefinitions": {
                "b": {"type": "basic"},
                "k": {"type": "apiKey", "name": "key", "in": "query"},
                "o": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"r": "read"}}
            },
            "parameters": {"limit": {"name": "limit", "in": "query", "type": "integer", "maximum": 10}},
            "paths": {"/a/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "array", "items": {"type": "integer"}, "collectionFormat": "pipes"}],
                "post": {
                    "parameters": [
                        {"$ref": "#/parameters/limit"},
                        {"name": "p", "in": "body", "schema": {"$ref": "#/definitions/P"}},
                        {"name": "q", "in": "query", "type": "string", "_strip": true, "_lower": false}
                    ],
                    "responses": {"200": {"description": "ok", "schema": {"type": "file"}}}
                },
                "put": {
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "f", "in": "formData", "type": "file", "required": true},
                        {"name": "t", "in": "formData", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}
                    ],
                    "responses": {"200": {"description": "ok"}}
                }
            }},
            "definitions": {"P": {"type": "object", "discriminator": "kind", "properties": {"kind": {"type": "string", "x-nullable": true}}}}
        });
        let c = convert(src.clone(), true);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        // The schema keywords are rewritten node by node when the document is normalized.
        let mut d = c.doc.clone();
        for at in crate::spec::walk::all_schemas(&d) {
            if let Some(Value::Object(node)) = d.pointer_mut(&at) {
                schema_node_to_3_0(node);
            }
        }
        let d = &d;
        assert_eq!(d["servers"], json!([{"url": "/v1"}]));
        assert_eq!(
            d["components"]["securitySchemes"]["b"],
            json!({"type": "http", "scheme": "basic"})
        );
        assert_eq!(
            d["components"]["securitySchemes"]["o"]["flows"]["authorizationCode"]["tokenUrl"],
            "https://t"
        );
        // The path item's parameter stays on it (3.0 merges it into each operation); the
        // referenced one is converted once and named by `$ref`.
        let item = &d["paths"]["/a/{id}"];
        assert_eq!(
            item["parameters"][0]["schema"],
            json!({"type": "array", "items": {"type": "integer"}})
        );
        assert_eq!(item["parameters"][0]["style"], "pipeDelimited");
        let post = &item["post"];
        assert_eq!(
            post["parameters"][0],
            json!({"$ref": "#/components/parameters/~1parameters~1limit"})
        );
        assert_eq!(
            d["components"]["parameters"]["/parameters/limit"]["schema"],
            json!({"type": "integer", "maximum": 10})
        );
        assert_eq!(post["parameters"][1]["x-strip"], true);
        assert_eq!(post["parameters"].as_array().unwrap().len(), 2);
        assert!(item["put"].get("parameters").is_none());
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"],
            json!({"$ref": "#/definitions/P"})
        );
        assert_eq!(
            post["responses"]["200"]["content"]["application/json"]["schema"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(
            d["definitions"]["P"]["discriminator"],
            json!({"propertyName": "kind"})
        );
        assert_eq!(
            d["definitions"]["P"]["properties"]["kind"]["nullable"],
            true
        );
        let put = &d["paths"]["/a/{id}"]["put"]["requestBody"];
        let mp = &put["content"]["multipart/form-data"];
        assert_eq!(
            mp["schema"]["properties"]["f"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(mp["schema"]["required"], json!(["f"]));
        assert_eq!(
            mp["encoding"]["t"],
            json!({"style": "form", "explode": true})
        );
        // Pointers lead back to the 2.0 places.
        let rows = [
            (
                "/components/parameters/~1parameters~1limit/schema/maximum",
                "/parameters/limit/maximum",
            ),
            ("/paths/~1a~1{id}/post/parameters/0", "/parameters/limit"),
            (
                "/paths/~1a~1{id}/parameters/0/schema/items",
                "/paths/~1a~1{id}/parameters/0/items",
            ),
            (
                "/paths/~1a~1{id}/post/parameters/1",
                "/paths/~1a~1{id}/post/parameters/2",
            ),
            (
                "/paths/~1a~1{id}/post/requestBody/content/application~1json/schema",
                "/paths/~1a~1{id}/post/parameters/1/schema",
            ),
            (
                "/paths/~1a~1{id}/put/requestBody/content/multipart~1form-data/schema/properties/t/items",
                "/paths/~1a~1{id}/put/parameters/1/items",
            ),
            ("/components/securitySchemes/k", "/securityDefinitions/k"),
        ];
        for (converted, source) in rows {
            assert_eq!(c.map.source(converted), source, "{converted}");
        }
    }

    /// A parameter named through `$ref` from many operations, and a path item's parameters
    /// shared by its operations, are converted once: each list holds a `$ref` (or inherits the
    /// path item's, as 3.0 merges them), not a copy. Problems in them are found once too.
    #[test]
    fn shared_parameters_are_converted_once() {
        let op = json!({"parameters": [{"$ref": "#/parameters/v"}, {"name": "b", "in": "body", "schema": {}}],
            "responses": {"200": {"description": "ok"}}});
        let src = json!({
            "swagger": "2.0",
            "parameters": {"v": {"name": "v", "in": "query", "type": "array", "collectionFormat": "bars"}},
            "paths": {
                "/a": {"parameters": [{"name": "h", "in": "header", "type": "string"},
                                      {"name": "f", "in": "formData", "type": "string"}],
                       "get": op, "put": op},
                "/b": {"post": op}
            }
        });
        let c = convert(src, true);
        let reference = json!({"$ref": "#/components/parameters/~1parameters~1v"});
        for (path, method) in [("/a", "get"), ("/a", "put"), ("/b", "post")] {
            let op = &c.doc["paths"][path][method];
            assert_eq!(op["parameters"], json!([reference]), "{path} {method}");
            assert!(op.get("requestBody").is_some(), "{path} {method}");
        }
        let parameters = c.doc["components"]["parameters"].as_object().unwrap();
        assert_eq!(parameters.len(), 1);
        assert_eq!(parameters["/parameters/v"]["name"], "v");
        // The path item keeps its header once; its form field is each operation's body (and
        // refused beside a body parameter, per operation).
        assert_eq!(
            c.doc["paths"]["/a"]["parameters"].as_array().unwrap().len(),
            1
        );
        assert_eq!(c.doc["paths"]["/a"]["parameters"][0]["name"], "h");
        let places: Vec<&str> = c.problems.iter().map(|(at, _)| at.as_str()).collect();
        assert_eq!(
            places,
            [
                "/parameters/v/collectionFormat",
                "/paths/~1a/parameters/1",
                "/paths/~1a/parameters/1"
            ]
        );
    }

    /// Without response validation the responses are left out of the conversion; nothing
    /// else changes, problems and warnings included.
    #[test]
    fn responses_are_converted_only_when_asked() {
        for name in [
            "local/girder-swagger2.yaml",
            "oai/v2.0-petstore-expanded.yaml",
        ] {
            let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
            let src = crate::Document::from_path(&path).unwrap().as_json().clone();
            let with = convert(src.clone(), true);
            let without = convert(src, false);
            let mut expected = with.doc.clone();
            let mut dropped = 0;
            for item in expected["paths"].as_object_mut().unwrap().values_mut() {
                for op in item
                    .as_object_mut()
                    .unwrap()
                    .values_mut()
                    .filter_map(Value::as_object_mut)
                {
                    dropped += usize::from(op.shift_remove("responses").is_some());
                }
            }
            assert!(dropped > 0, "{name}");
            assert_eq!(without.doc, expected, "{name}");
            assert_eq!(without.problems, with.problems, "{name}");
            assert_eq!(without.warnings, with.warnings, "{name}");
        }
    }

    /// A `consumes` or `produces` list of several media types gets the schema once, under the
    /// first; the others name it by `$ref` (it is held and compiled once), and a problem in it
    /// still points at the 2.0 schema.
    #[test]
    fn one_schema_for_every_media_type() {
        let both = json!(["application/json", "application/xml"]);
        let src = json!({
            "swagger": "2.0",
            "consumes": both, "produces": both,
            "paths": {"/a": {
                "post": {"parameters": [{"name": "b", "in": "body", "schema": {"type": "object"}}],
                    "responses": {"200": {"description": "ok", "schema": {"type": "array"}}}},
                "put": {"consumes": ["application/x-www-form-urlencoded", "multipart/form-data"],
                    "parameters": [{"name": "f", "in": "formData", "type": "string"}],
                    "responses": {"204": {"description": "done"}}}
            }}
        });
        let c = convert(src, true);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let content = |at: &str| c.doc.pointer(at).unwrap().as_object().unwrap().clone();
        let rows = [
            (
                "/paths/~1a/post/requestBody/content",
                json!({"type": "object"}),
            ),
            (
                "/paths/~1a/post/responses/200/content",
                json!({"type": "array"}),
            ),
            (
                "/paths/~1a/put/requestBody/content",
                json!({"type": "object", "properties": {"f": {"type": "string"}}}),
            ),
        ];
        for (at, schema) in rows {
            let content = content(at);
            let mut media = content.iter();
            let (first, whole) = media.next().unwrap();
            assert_eq!(whole["schema"], schema, "{at}");
            let (_, other) = media.next().unwrap();
            let reference = format!("#{at}/{}/schema", pointer::escape(first));
            assert_eq!(other["schema"], json!({"$ref": reference}), "{at}");
        }
        assert_eq!(
            c.map
                .source("/paths/~1a/post/requestBody/content/application~1json/schema/type"),
            "/paths/~1a/post/parameters/0/schema/type"
        );
    }

    #[test]
    fn reports_what_2_0_forbids() {
        let src = json!({"swagger": "2.0", "paths": {"/a": {"get": {"parameters": [
            {"name": "h", "in": "header", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
            {"name": "q", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "bars"},
            {"name": "b", "in": "body", "schema": {}},
            {"name": "f", "in": "formData", "type": "string"},
            {"name": "c", "in": "cookie", "type": "string"}
        ], "responses": {}}}}, "basePath": "v1"});
        let c = convert(src.clone(), true);
        let messages: Vec<String> = c
            .problems
            .iter()
            .map(|(at, m)| format!("{at}: {m}"))
            .collect();
        let want = [
            "/paths/~1a/get/parameters/0/collectionFormat: `collectionFormat: multi` is valid only",
            "/paths/~1a/get/parameters/1/collectionFormat: unknown `collectionFormat` `bars`",
            "/paths/~1a/get/parameters/4/in: parameter `c`: `in` is `cookie`",
            "/paths/~1a/get/parameters/3: `formData` parameters and a `body`",
        ];
        assert_eq!(messages.len(), want.len(), "{messages:?}");
        for (got, want) in messages.iter().zip(want) {
            assert!(got.starts_with(want), "{got} / {want}");
        }
        // "The value MUST start with a leading slash" (2.0 `basePath`): a defect that leaves
        // the operations where the paths say, so a warning, and the paths match as written.
        let warned: Vec<_> = c
            .warnings
            .iter()
            .map(|(case, at, _)| (*case, at.as_str()))
            .collect();
        assert_eq!(warned, [(WarningCase::BasePath, "/basePath")]);
        assert_eq!(c.doc["servers"], json!([{"url": "/"}]));
    }

    #[test]
    fn refuses_security_definitions_2_0_does_not_have() {
        let src = json!({"swagger": "2.0", "paths": {}, "securityDefinitions": {
            "a": {"type": "apiKey", "name": "k", "in": "cookie"},
            "b": {"type": "bearer"},
            "c": {"type": "apiKey", "name": "k", "in": "header"},
            "d": {"type": "http", "scheme": "bearer"},
            "e": {"type": "apiKey", "in": "body"}
        }});
        let c = convert(src.clone(), true);
        let messages: Vec<String> = c
            .problems
            .iter()
            .map(|(at, m)| format!("{at}: {m}"))
            .collect();
        assert_eq!(
            messages,
            [
                "/securityDefinitions/b: security definition type `bearer`: expected basic, apiKey or oauth2",
                "/securityDefinitions/e: an apiKey security definition needs a `name` and `in`: header or query",
            ]
        );
        let schemes = &c.doc["components"]["securitySchemes"];
        assert_eq!(schemes.as_object().map(|m| m.len()), Some(3));
        assert_eq!(
            schemes["c"],
            json!({"type": "apiKey", "name": "k", "in": "header"})
        );
        // OpenAPI 3 constructs in a 2.0 document (documents converted by tools carry them):
        // read as 3.x reads them, with a warning each.
        assert_eq!(
            schemes["a"],
            json!({"type": "apiKey", "name": "k", "in": "cookie"})
        );
        assert_eq!(schemes["d"], json!({"type": "http", "scheme": "bearer"}));
        let warned: Vec<_> = c
            .warnings
            .iter()
            .map(|(case, at, _)| (*case, at.as_str()))
            .collect();
        assert_eq!(
            warned,
            [
                (WarningCase::ThreeInTwo, "/securityDefinitions/a/in"),
                (WarningCase::ThreeInTwo, "/securityDefinitions/d/type"),
            ]
        );
    }
}
