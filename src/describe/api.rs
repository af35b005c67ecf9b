//! The [`Api`]: document-wide settings, the operations, and turning them into a document.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::path::Path;

use schemars::SchemaGenerator;
use serde_json::{Map, Value, json};

use super::operation::{Access, Content, Operation, Response};
use super::param::{Param, ParamIn};
use super::schema::{self, inlined};
use crate::error::{BuildError, BuildProblem};
use crate::problem;
use crate::router::template_params;
use crate::spec::methods::{ADDITIONAL, FIXED, QUERY_FIELD, query_method};
use crate::spec::{Document, Version, pointer};

/// The name start-up errors give a described document.
const SOURCE: &str = "<description>";

/// How clients authenticate: an entry of `components/securitySchemes`.
///
/// ```
/// use oasgate::describe::SecurityScheme;
///
/// let jwt = SecurityScheme::bearer().bearer_format("JWT").description("a token from /auth");
/// let key = SecurityScheme::api_key_header("X-Api-Key");
/// # let _ = (jwt, key);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityScheme(Map<String, Value>);

impl SecurityScheme {
    /// `Authorization: Bearer <token>`.
    pub fn bearer() -> Self {
        Self::from_fields(json!({"type": "http", "scheme": "bearer"}))
    }

    /// `Authorization: Basic <user:password>`.
    pub fn basic() -> Self {
        Self::from_fields(json!({"type": "http", "scheme": "basic"}))
    }

    /// An API key in the header `name`.
    pub fn api_key_header(name: impl Into<String>) -> Self {
        Self::api_key("header", name.into())
    }

    /// An API key in the query parameter `name`.
    pub fn api_key_query(name: impl Into<String>) -> Self {
        Self::api_key("query", name.into())
    }

    /// An API key in the cookie `name`.
    pub fn api_key_cookie(name: impl Into<String>) -> Self {
        Self::api_key("cookie", name.into())
    }

    fn api_key(place: &str, name: String) -> Self {
        Self::from_fields(json!({"type": "apiKey", "in": place, "name": name}))
    }

    /// Any scheme object (OAuth2 flows, OpenID Connect…) written out in full.
    pub fn custom(fields: Value) -> Self {
        Self::from_fields(fields)
    }

    fn from_fields(fields: Value) -> Self {
        match fields {
            Value::Object(map) => Self(map),
            _ => Self(Map::new()),
        }
    }

    /// Shown in the docs.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.0.insert("description".into(), text.into().into());
        self
    }

    /// For bearer schemes: what the token is, such as `JWT`.
    pub fn bearer_format(mut self, format: impl Into<String>) -> Self {
        self.0.insert("bearerFormat".into(), format.into().into());
        self
    }
}

/// A whole API described in Rust: document-wide settings and its [`Operation`]s.
///
/// [`Api::document`] gives the [`Document`] that [`OpenApiLayer`](crate::OpenApiLayer)
/// validates requests against and serves, exactly as if it had been read from a file;
/// [`Api::write_json`] writes it out so it can be committed and reviewed.
///
/// See the [module documentation](super) for a complete example.
#[derive(Debug, Clone)]
pub struct Api {
    title: String,
    version: String,
    description: Option<String>,
    servers: Vec<(String, Option<String>)>,
    schemes: Vec<(String, SecurityScheme)>,
    default_security: Vec<(String, Vec<String>)>,
    tags: Vec<(String, Option<String>)>,
    error_envelope: Option<String>,
    json_schema_dialect: Option<String>,
    openapi: Version,
    operations: Vec<Operation>,
    extensions: Map<String, Value>,
}

impl Api {
    /// An API with this title and version and no operations yet.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            version: version.into(),
            description: None,
            servers: Vec::new(),
            schemes: Vec::new(),
            default_security: Vec::new(),
            tags: Vec::new(),
            error_envelope: None,
            json_schema_dialect: None,
            openapi: Version::V3_1,
            operations: Vec::new(),
            extensions: Map::new(),
        }
    }

    /// What the API is for (CommonMark).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// A server URL; its path (`/api` in `http://localhost:8080/api`) is the base path every
    /// operation is served under.
    pub fn server(mut self, url: impl Into<String>) -> Self {
        self.servers.push((url.into(), None));
        self
    }

    /// A server URL with a description.
    pub fn server_described(
        mut self,
        url: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.servers.push((url.into(), Some(description.into())));
        self
    }

    /// Registers a security scheme under `name`.
    pub fn security_scheme(mut self, name: impl Into<String>, scheme: SecurityScheme) -> Self {
        self.schemes.push((name.into(), scheme));
        self
    }

    /// Every operation requires `scheme` (with `scopes`) unless it says otherwise
    /// ([`Operation::public`], [`Operation::security`]). Called again, both are required.
    pub fn default_security<S: Into<String>>(
        mut self,
        scheme: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.default_security
            .push((scheme.into(), scopes.into_iter().map(Into::into).collect()));
        self
    }

    /// Describes a tag; tags operations use but that are not described are listed too.
    pub fn tag(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.tags.push((name.into(), Some(description.into())));
        self
    }

    /// Error bodies ([`Operation::error`]) are sent as `{"<field>": <error>}`, and documented
    /// so; without an envelope they are the error type itself.
    pub fn error_envelope(mut self, field: impl Into<String>) -> Self {
        self.error_envelope = Some(field.into());
        self
    }

    /// Writes `jsonSchemaDialect` (such as `https://json-schema.org/draft/2020-12/schema`)
    /// into the document, for tools that want the dialect named. Without it, OpenAPI 3.1
    /// reads schemas in its default dialect, JSON Schema 2020-12 with the OpenAPI
    /// vocabulary, which is what the generated schemas are; Swagger UI flags the field as not
    /// allowed, so it is left out unless asked for.
    pub fn json_schema_dialect(mut self, uri: impl Into<String>) -> Self {
        self.json_schema_dialect = Some(uri.into());
        self
    }

    /// The OpenAPI version of the document: [`Version::V3_1`] (the default) or
    /// [`Version::V3_2`], whose path items also have `query` ([`Operation::query`]) and
    /// `additionalOperations` (any other method, such as `COPY` or `PURGE`, through
    /// [`Operation::new`]). The schemas are JSON Schema 2020-12 in both; any other version is
    /// a mistake [`Api::to_value`] reports.
    ///
    /// ```
    /// use oasgate::Version;
    /// use oasgate::describe::{Api, Operation};
    ///
    /// let api = Api::new("Documents", "1")
    ///     .openapi_version(Version::V3_2)
    ///     .operation(Operation::query("/documents").body::<serde_json::Value>("The search."))
    ///     .operation(Operation::new(http::Method::from_bytes(b"PURGE").unwrap(), "/documents"));
    /// let json = api.to_value().unwrap();
    /// assert_eq!(json["openapi"], "3.2.0");
    /// assert!(json["paths"]["/documents"]["query"].is_object());
    /// assert!(json["paths"]["/documents"]["additionalOperations"]["PURGE"].is_object());
    /// ```
    pub fn openapi_version(mut self, version: Version) -> Self {
        self.openapi = version;
        self
    }

    /// Any other field of the document root, such as an `x-` extension of your own.
    pub fn extension(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.into(), value.into());
        self
    }

    /// Adds an operation (chainable).
    pub fn operation(mut self, operation: Operation) -> Self {
        self.operations.push(operation);
        self
    }

    /// Adds an operation (for loops and helpers holding `&mut Api`).
    pub fn add(&mut self, operation: Operation) -> &mut Self {
        self.operations.push(operation);
        self
    }

    /// The operations, in the order they were added.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The OpenAPI 3.1 document as JSON, or every mistake in the description: an operation
    /// given twice, an operationId used twice, a path parameter missing from its template, a
    /// parameter declared twice, a status outside 100–599, a security scheme that was never
    /// registered, `consumes` without a body, an example no response with a body takes, a type
    /// named `Problem` beside [`Operation::problem`].
    pub fn to_value(&self) -> Result<Value, BuildError> {
        let mut generator = schema::generator();
        let mut problems = Vec::new();
        let mut paths = Map::new();
        let mut used_tags: Vec<&str> = Vec::new();
        let mut operation_ids = Vec::new();
        let openapi = match self.openapi {
            Version::V3_1 => "3.1.0",
            Version::V3_2 => "3.2.0",
            other => {
                report(
                    &mut problems,
                    "/openapi",
                    format!(
                        "a described document is OpenAPI 3.1 or 3.2, not {other:?}: \
                         `Api::openapi_version(Version::V3_1)` or `Version::V3_2`"
                    ),
                );
                "3.1.0"
            }
        };
        for op in &self.operations {
            let item_at = pointer::join("/paths", &op.path);
            let (key, at) = match self.method_place(&op.method, &item_at) {
                Ok(place) => place,
                Err(message) => {
                    report(&mut problems, &item_at, message);
                    continue;
                }
            };
            collect_operation_ids(op, &at, &mut operation_ids);
            let rendered = self.render_operation(op, &at, &mut generator, &mut problems);
            let item = paths
                .entry(op.path.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(item) = item.as_object_mut() {
                let holder = match &key {
                    MethodKey::Field(_) => Some(item),
                    MethodKey::Additional(_) => item
                        .entry(ADDITIONAL)
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut(),
                };
                let name = match &key {
                    MethodKey::Field(name) | MethodKey::Additional(name) => name.clone(),
                };
                if let Some(holder) = holder {
                    if holder.contains_key(&name) {
                        report(
                            &mut problems,
                            &at,
                            format!("{} {} is described twice", op.method, op.path),
                        );
                    }
                    holder.insert(name, rendered);
                }
            }
            for tag in &op.tags {
                if !used_tags.contains(&tag.as_str()) {
                    used_tags.push(tag);
                }
            }
        }
        let mut first_use: BTreeMap<&str, &str> = BTreeMap::new();
        for (id, at) in &operation_ids {
            match first_use.entry(id) {
                Entry::Vacant(entry) => {
                    entry.insert(at);
                }
                Entry::Occupied(first) => report(
                    &mut problems,
                    &pointer::join(at, "operationId"),
                    format!("duplicate operationId `{id}` (also at #{})", first.get()),
                ),
            }
        }
        self.check_schemes(
            self.default_security.iter().map(|(name, _)| name.as_str()),
            "/security",
            &mut problems,
        );
        let mut schemas = generator.take_definitions(true);
        schemas.values_mut().for_each(schema::tidy);
        let describes_problems = self.operations.iter().any(describes_problems);
        if describes_problems && schemas.contains_key(problem::SCHEMA_NAME) {
            report(
                &mut problems,
                &format!("/components/schemas/{}", problem::SCHEMA_NAME),
                format!(
                    "a type of the description is named `{}`, the name the layer's problem \
                     schema needs for `Operation::problem`: rename the type",
                    problem::SCHEMA_NAME
                ),
            );
        }
        if !problems.is_empty() {
            return Err(BuildError::new(problems));
        }

        let mut root = Map::new();
        root.insert("openapi".into(), openapi.into());
        let mut info = Map::new();
        info.insert("title".into(), self.title.clone().into());
        info.insert("version".into(), self.version.clone().into());
        if let Some(description) = &self.description {
            info.insert("description".into(), description.clone().into());
        }
        root.insert("info".into(), Value::Object(info));
        if let Some(dialect) = &self.json_schema_dialect {
            root.insert("jsonSchemaDialect".into(), dialect.clone().into());
        }
        if !self.servers.is_empty() {
            let servers = self
                .servers
                .iter()
                .map(|(url, description)| match description {
                    Some(d) => json!({"url": url, "description": d}),
                    None => json!({"url": url}),
                });
            root.insert("servers".into(), servers.collect());
        }
        root.insert("paths".into(), Value::Object(paths));
        let mut components = Map::new();
        if describes_problems {
            schemas.insert(problem::SCHEMA_NAME.to_owned(), problem::json_schema());
        }
        components.insert("schemas".into(), Value::Object(schemas));
        if !self.schemes.is_empty() {
            let schemes = self
                .schemes
                .iter()
                .map(|(name, scheme)| (name.clone(), Value::Object(scheme.0.clone())));
            components.insert("securitySchemes".into(), Value::Object(schemes.collect()));
        }
        root.insert("components".into(), Value::Object(components));
        if !self.default_security.is_empty() {
            root.insert(
                "security".into(),
                json!([requirement_object(&self.default_security)]),
            );
        }
        let mut tags: Vec<Value> = self
            .tags
            .iter()
            .map(|(name, description)| match description {
                Some(d) => json!({"name": name, "description": d}),
                None => json!({"name": name}),
            })
            .collect();
        for tag in used_tags {
            if !self.tags.iter().any(|(name, _)| name == tag) {
                tags.push(json!({"name": tag}));
            }
        }
        if !tags.is_empty() {
            root.insert("tags".into(), Value::Array(tags));
        }
        root.extend(self.extensions.clone());
        Ok(Value::Object(root))
    }

    /// The document, ready for [`OpenApiLayer::new`](crate::OpenApiLayer::new).
    pub fn document(&self) -> Result<Document, BuildError> {
        Document::from_value(self.to_value()?)
    }

    /// The document as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, BuildError> {
        let value = self.to_value()?;
        Ok(serde_json::to_string_pretty(&value).unwrap_or_default())
    }

    /// Writes the document to `path` as pretty-printed JSON, so it can be committed; a
    /// description with mistakes is an [`InvalidData`](std::io::ErrorKind::InvalidData)
    /// error listing them.
    pub fn write_json(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let mut text = self
            .to_json()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        text.push('\n');
        std::fs::write(path, text)
    }

    /// Where an operation with `method` goes in its path item at `item_at`: a fixed field
    /// (`get`, in 3.2 also `query`), or in 3.2 an entry of `additionalOperations` named by the
    /// method as written (methods are case-sensitive, RFC 9110 §9.1); with its pointer.
    fn method_place(
        &self,
        method: &http::Method,
        item_at: &str,
    ) -> Result<(MethodKey, String), String> {
        let v32 = self.openapi == Version::V3_2;
        let lower = method.as_str().to_ascii_lowercase();
        if FIXED.contains(&lower.as_str()) && lower.to_ascii_uppercase() == method.as_str() {
            return Ok((
                MethodKey::Field(lower.clone()),
                pointer::join(item_at, &lower),
            ));
        }
        if !v32 {
            return Err(format!(
                "method {method} has no field in an OpenAPI 3.1 path item; OpenAPI 3.2 has \
                 `query` and `additionalOperations`: `Api::openapi_version(Version::V3_2)`"
            ));
        }
        if *method == query_method() {
            return Ok((
                MethodKey::Field(QUERY_FIELD.to_owned()),
                pointer::join(item_at, QUERY_FIELD),
            ));
        }
        let name = method.as_str().to_owned();
        let at = pointer::join(&pointer::join(item_at, ADDITIONAL), &name);
        Ok((MethodKey::Additional(name), at))
    }

    fn render_operation(
        &self,
        op: &Operation,
        at: &str,
        generator: &mut SchemaGenerator,
        problems: &mut Vec<BuildProblem>,
    ) -> Value {
        let mut out = Map::new();
        if !op.tags.is_empty() {
            out.insert("tags".into(), json!(op.tags));
        }
        put(&mut out, "summary", &op.summary);
        put(&mut out, "description", &op.description);
        put(&mut out, "operationId", &op.operation_id);

        let params = self.render_params(op, at, generator, problems);
        if !params.is_empty() {
            out.insert("parameters".into(), Value::Array(params));
        }
        if let Some(body) = &op.body {
            let mut rendered = Map::new();
            put(&mut rendered, "description", &body.description);
            let content: Map<String, Value> = body
                .content
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let media = match &op.consumes {
                        Some(consumes) if i == 0 => consumes,
                        _ => &c.media,
                    };
                    (media.clone(), render_content(c, generator))
                })
                .collect();
            rendered.insert("content".into(), Value::Object(content));
            rendered.insert("required".into(), body.required.into());
            out.insert("requestBody".into(), Value::Object(rendered));
        } else if let Some(media) = &op.consumes {
            report(
                problems,
                at,
                format!("`consumes(\"{media}\")` is given but the operation has no request body"),
            );
        }
        out.insert(
            "responses".into(),
            self.render_responses(op, at, generator, problems),
        );
        if !op.callbacks.is_empty() {
            let mut callbacks = Map::new();
            for (i, callback) in op.callbacks.iter().enumerate() {
                let inner = &callback.operation;
                let callback_at = format!("{at}/callbacks/{i}");
                let key = match self.method_place(&inner.method, &callback_at) {
                    Ok((key, _)) => key,
                    Err(message) => {
                        report(problems, &callback_at, message);
                        continue;
                    }
                };
                let rendered = self.render_operation(inner, &callback_at, generator, problems);
                let expressions = callbacks
                    .entry(callback.name.clone())
                    .or_insert_with(|| json!({}));
                let item = &mut expressions[inner.path.as_str()];
                if item.is_null() {
                    *item = json!({});
                }
                match key {
                    MethodKey::Field(name) => item[name.as_str()] = rendered,
                    MethodKey::Additional(name) => item[ADDITIONAL][name.as_str()] = rendered,
                }
            }
            out.insert("callbacks".into(), Value::Object(callbacks));
        }
        match &op.access {
            Access::Default => {}
            Access::Public => {
                out.insert("security".into(), json!([]));
            }
            Access::Requirements(alternatives) => {
                self.check_schemes(
                    alternatives.iter().flatten().map(|(name, _)| name.as_str()),
                    &format!("{at}/security"),
                    problems,
                );
                let rendered: Vec<Value> = alternatives
                    .iter()
                    .map(|alt| requirement_object(alt))
                    .collect();
                out.insert("security".into(), Value::Array(rendered));
            }
        }
        if op.deprecated {
            out.insert("deprecated".into(), true.into());
        }
        out.extend(op.extensions.clone());
        Value::Object(out)
    }

    /// Declared parameters, with template parameters nobody declared added as strings.
    fn render_params(
        &self,
        op: &Operation,
        at: &str,
        generator: &mut SchemaGenerator,
        problems: &mut Vec<BuildProblem>,
    ) -> Vec<Value> {
        // A callback's path is a runtime expression, not a template.
        let template_names: Vec<String> = if op.path.starts_with('/') {
            match template_params(&op.path) {
                Ok(names) => names.into_iter().map(str::to_owned).collect(),
                Err(e) => {
                    report(problems, at, format!("path `{}`: {e}", op.path));
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let mut params: Vec<Param> = template_names
            .iter()
            .filter(|name| {
                !op.params
                    .iter()
                    .any(|p| p.location == ParamIn::Path && p.name == **name)
            })
            .map(|name| Param::path::<str>(name.as_str()))
            .collect();
        params.extend(op.params.iter().cloned());
        let mut seen: Vec<(&str, ParamIn)> = Vec::new();
        let mut out = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            let param_at = format!("{at}/parameters/{i}");
            if seen.contains(&(p.name.as_str(), p.location)) {
                report(
                    problems,
                    &param_at,
                    format!(
                        "{} parameter `{}` is declared twice",
                        p.location.as_str(),
                        p.name
                    ),
                );
            }
            seen.push((&p.name, p.location));
            if p.location == ParamIn::Path && !template_names.contains(&p.name) {
                report(
                    problems,
                    &param_at,
                    format!(
                        "path parameter `{}` is not in the path template `{}`",
                        p.name, op.path
                    ),
                );
            }
            out.push(render_param(p, generator));
        }
        out
    }

    fn render_responses(
        &self,
        op: &Operation,
        at: &str,
        generator: &mut SchemaGenerator,
        problems: &mut Vec<BuildProblem>,
    ) -> Value {
        let (responses, unplaced) = with_pending_examples(op);
        for status in unplaced {
            report(
                problems,
                &format!("{at}/responses"),
                format!(
                    "an example is given for status {status}, but no response with that \
                     status has a body"
                ),
            );
        }
        let mut by_status: BTreeMap<u16, Vec<&Response>> = BTreeMap::new();
        for response in responses.iter() {
            if response.example_without_body {
                report(
                    problems,
                    &format!("{at}/responses"),
                    format!(
                        "an example is given for the status {} response, which has no body",
                        response.status
                    ),
                );
            }
            if !(100..=599).contains(&response.status) {
                report(
                    problems,
                    &format!("{at}/responses"),
                    format!("status {} is not an HTTP status (100–599)", response.status),
                );
                continue;
            }
            by_status.entry(response.status).or_default().push(response);
        }
        if by_status.is_empty() {
            // An operation that answers nothing in particular still answers.
            return json!({"200": {"description": "OK"}});
        }
        let mut out = Map::new();
        for (status, responses) in by_status {
            let mut descriptions: Vec<&str> = Vec::new();
            for r in &responses {
                if !descriptions.contains(&r.description.as_str()) {
                    descriptions.push(&r.description);
                }
            }
            let mut rendered = Map::new();
            rendered.insert("description".into(), descriptions.join(" **OR** ").into());
            let headers: Map<String, Value> = responses
                .iter()
                .flat_map(|r| &r.headers)
                .map(|h| {
                    let mut header = render_param(h, generator);
                    if let Some(object) = header.as_object_mut() {
                        object.shift_remove("name");
                        object.shift_remove("in");
                    }
                    (h.name.clone(), header)
                })
                .collect();
            if !headers.is_empty() {
                rendered.insert("headers".into(), Value::Object(headers));
            }
            let content = self.merged_content(&responses, generator);
            if !content.is_empty() {
                rendered.insert("content".into(), Value::Object(content));
            }
            out.insert(status.to_string(), Value::Object(rendered));
        }
        Value::Object(out)
    }

    /// One media type entry per media type; several bodies under one become a `oneOf`.
    fn merged_content(
        &self,
        responses: &[&Response],
        generator: &mut SchemaGenerator,
    ) -> Map<String, Value> {
        let mut by_media: Vec<(&str, Vec<(&Content, bool)>)> = Vec::new();
        for r in responses {
            let Some(content) = &r.content else { continue };
            match by_media.iter_mut().find(|(m, _)| *m == content.media) {
                Some((_, items)) => items.push((content, r.error)),
                None => by_media.push((&content.media, vec![(content, r.error)])),
            }
        }
        let mut out = Map::new();
        for (media, items) in by_media {
            let schemas: Vec<(Value, bool)> = items
                .iter()
                .filter_map(|(c, error)| c.schema.map(|f| (f(generator).to_value(), *error)))
                .collect();
            let all_errors = schemas.iter().all(|(_, error)| *error);
            let schema = match (&self.error_envelope, all_errors) {
                (Some(field), true) => {
                    let inner = one_of(schemas.into_iter().map(|(s, _)| s).collect());
                    inner.map(|s| envelope(field, s))
                }
                (envelope_field, _) => one_of(
                    schemas
                        .into_iter()
                        .map(|(s, error)| match envelope_field {
                            Some(field) if error => envelope(field, s),
                            _ => s,
                        })
                        .collect(),
                ),
            };
            let mut entry = Map::new();
            if let Some(schema) = schema {
                entry.insert("schema".into(), schema);
            }
            let examples: Vec<&(String, Value)> =
                items.iter().flat_map(|(c, _)| &c.examples).collect();
            let single: Vec<&Value> = items
                .iter()
                .filter_map(|(c, _)| c.example.as_ref())
                .collect();
            if !examples.is_empty() {
                let named: Map<String, Value> = examples
                    .into_iter()
                    .map(|(name, value)| (name.clone(), json!({"value": value})))
                    .collect();
                entry.insert("examples".into(), Value::Object(named));
            } else if let [only] = single.as_slice() {
                entry.insert("example".into(), (*only).clone());
            } else if !single.is_empty() {
                let named: Map<String, Value> = single
                    .iter()
                    .enumerate()
                    .map(|(i, value)| (format!("example {}", i + 1), json!({"value": value})))
                    .collect();
                entry.insert("examples".into(), Value::Object(named));
            }
            out.insert(media.to_owned(), Value::Object(entry));
        }
        out
    }

    fn check_schemes<'n>(
        &self,
        names: impl Iterator<Item = &'n str>,
        at: &str,
        problems: &mut Vec<BuildProblem>,
    ) {
        for name in names {
            if !self.schemes.iter().any(|(known, _)| known == name) {
                report(
                    problems,
                    at,
                    format!(
                        "security scheme `{name}` is not registered with `Api::security_scheme`"
                    ),
                );
            }
        }
    }
}

/// The operation's responses with the examples given before their response placed on the
/// last response with their status and a body, and the statuses of examples that found none.
fn with_pending_examples(op: &Operation) -> (Cow<'_, [Response]>, Vec<u16>) {
    if op.pending_examples.is_empty() {
        return (Cow::Borrowed(&op.responses), Vec::new());
    }
    let mut responses = op.responses.clone();
    let mut unplaced = Vec::new();
    for (status, value) in &op.pending_examples {
        let content = responses
            .iter_mut()
            .rev()
            .find(|r| r.status == *status && r.content.is_some())
            .and_then(|r| r.content.as_mut());
        match content {
            Some(content) => content.example = Some(value.clone()),
            None => unplaced.push(*status),
        }
    }
    (Cow::Owned(responses), unplaced)
}

/// Every operationId of `op` and its callbacks, with where each is.
fn collect_operation_ids<'o>(op: &'o Operation, at: &str, out: &mut Vec<(&'o str, String)>) {
    if let Some(id) = &op.operation_id {
        out.push((id, at.to_owned()));
    }
    for (i, callback) in op.callbacks.iter().enumerate() {
        collect_operation_ids(&callback.operation, &format!("{at}/callbacks/{i}"), out);
    }
}

/// Whether the operation or one of its callbacks declares the layer's problem.
fn describes_problems(op: &Operation) -> bool {
    op.responses.iter().any(|r| r.problem)
        || op
            .callbacks
            .iter()
            .any(|callback| describes_problems(&callback.operation))
}

/// Where an operation goes in its path item.
enum MethodKey {
    /// A fixed field: `get`, `query`.
    Field(String),
    /// A key of `additionalOperations`: `COPY`.
    Additional(String),
}

fn report(problems: &mut Vec<BuildProblem>, at: &str, message: String) {
    problems.push(BuildProblem {
        file: SOURCE.to_owned(),
        pointer: at.to_owned(),
        line: None,
        message,
    });
}

fn put(out: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        out.insert(key.into(), value.clone().into());
    }
}

fn render_param(p: &Param, generator: &mut SchemaGenerator) -> Value {
    let mut schema = (p.schema)(generator).to_value();
    if !p.schema_keywords.is_empty() {
        // `default` and `enum` beside a bare `$ref` are not read by every tool: copy the
        // referenced schema instead.
        schema = inlined(schema, generator.definitions());
        if let Value::Bool(true) = schema {
            schema = json!({});
        }
        if let Some(object) = schema.as_object_mut() {
            object.extend(p.schema_keywords.clone());
        }
        schema::tidy(&mut schema);
    }
    let mut out = Map::new();
    out.insert("name".into(), p.name.clone().into());
    out.insert("in".into(), p.location.as_str().into());
    if let Some(description) = &p.description {
        out.insert("description".into(), description.clone().into());
    }
    if p.required || p.location == ParamIn::Path {
        out.insert("required".into(), true.into());
    }
    if p.deprecated {
        out.insert("deprecated".into(), true.into());
    }
    if p.json_content {
        out.insert(
            "content".into(),
            json!({"application/json": {"schema": schema}}),
        );
    } else {
        out.insert("schema".into(), schema);
    }
    out.extend(p.keywords.clone());
    Value::Object(out)
}

fn render_content(content: &Content, generator: &mut SchemaGenerator) -> Value {
    let mut out = Map::new();
    if let Some(schema) = content.schema {
        out.insert("schema".into(), schema(generator).to_value());
    }
    if let Some(example) = &content.example {
        out.insert("example".into(), example.clone());
    }
    if !content.examples.is_empty() {
        let named: Map<String, Value> = content
            .examples
            .iter()
            .map(|(name, value)| (name.clone(), json!({"value": value})))
            .collect();
        out.insert("examples".into(), Value::Object(named));
    }
    Value::Object(out)
}

fn requirement_object(requirements: &[(String, Vec<String>)]) -> Value {
    let object: Map<String, Value> = requirements
        .iter()
        .map(|(name, scopes)| (name.clone(), json!(scopes)))
        .collect();
    Value::Object(object)
}

/// One schema as itself, several as a `oneOf`.
fn one_of(mut schemas: Vec<Value>) -> Option<Value> {
    match schemas.len() {
        0 => None,
        1 => schemas.pop(),
        _ => Some(json!({"oneOf": schemas})),
    }
}

fn envelope(field: &str, schema: Value) -> Value {
    json!({
        "type": "object",
        "properties": {field: schema},
        "required": [field],
        "additionalProperties": false,
    })
}
