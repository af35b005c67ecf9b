//! The compiled plan: everything decided at start-up, so the request path only looks things up.
//!
//! [`compile`] turns a [`Document`](crate::Document) into a [`Plan`]: a router over every
//! server base path × path template, and per operation its parameters (decoder, default,
//! compiled check), body media types (kind, compiled check) and security alternatives.
//! Every problem in the document is collected into one [`BuildError`](crate::BuildError).

mod compile;
mod narrow;
pub(crate) mod responses;
pub(crate) mod schema;
mod stream;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{HeaderName, HeaderValue, Method};
use serde_json::Value;

pub(crate) use compile::compile;
pub(crate) use schema::Check;
pub(crate) use stream::{StreamBuilder, StreamCheck};

use crate::body::{BodyKind, FormField, MediaType};
use crate::dates::{DateKind, LenientDates};
use crate::models::ModelLoader;
use crate::options::{Options, UndeclaredParams};
use crate::paging::PagingConfig;
use crate::params::{Coercion, Location, Shape, Style};
use crate::router::Router;
use crate::security::SecurityPlan;
use crate::serve::ServedDocuments;

/// Everything the layer needs per request, built once.
pub(crate) struct Plan {
    /// How request paths are brought to canonical form before routing.
    pub path_rules: crate::path::PathRules,
    pub router: Router,
    pub routes: Vec<Route>,
    pub operations: Vec<Operation>,
    pub options: Options,
    pub coercion: Coercion,
    /// How lenient dates are read.
    pub dates: LenientDates,
    /// Loaders for `x-model` parameters, by model name.
    pub models: HashMap<String, Arc<dyn ModelLoader>>,
    /// The document and docs page the layer serves, rendered once.
    pub served: ServedDocuments,
    /// Every distinct prefix + server base path routes are under, for the 404's hint.
    pub bases: Vec<String>,
    /// The document's defects that were worked around, logged at start-up.
    pub warnings: Vec<crate::error::BuildWarning>,
}

/// One path template (under one base path) and the operations on it.
pub(crate) struct Route {
    /// Operation index per method, in the order methods were declared.
    pub methods: Vec<(Method, usize)>,
    /// The `Allow` header for 405 answers.
    pub allow: HeaderValue,
}

impl Route {
    /// The operation a request with `method` runs: the declared one, or for `HEAD` without a
    /// declared `head` operation, the `GET` one (RFC 9110 §9.3.2: "The HEAD method is
    /// identical to GET except that the server MUST NOT send content in the response").
    pub fn operation(&self, method: &Method) -> Option<usize> {
        let find = |wanted: &Method| {
            self.methods
                .iter()
                .find(|(m, _)| m == wanted)
                .map(|&(_, index)| index)
        };
        find(method).or_else(|| {
            (*method == Method::HEAD)
                .then(|| find(&Method::GET))
                .flatten()
        })
    }
}

/// One operation, ready to validate requests.
pub(crate) struct Operation {
    pub id: Option<Arc<str>>,
    /// `GET /pets/{id}`, for logs and messages when there is no operationId.
    pub label: Arc<str>,
    pub path: Vec<Param>,
    pub query: Vec<Param>,
    pub header: Vec<Param>,
    /// The header parameters' names as header names, beside `header` in its order, made once:
    /// looking a header up by text parses the text on every request. `None` for a name no
    /// header can have. Apart from `Param`, so that no other parameter carries the room.
    pub header_names: Box<[Option<http::HeaderName>]>,
    pub cookie: Vec<Param>,
    /// OpenAPI 3.2's `in: querystring`: the whole query string as one value.
    pub querystring: Option<Box<Querystring>>,
    pub body: Option<BodyPlan>,
    pub security: SecurityPlan,
    pub undeclared_query: UndeclaredParams,
    /// Query names that are not parameters but still declared (API keys in the query).
    pub extra_query_names: Vec<String>,
    /// `x-paging`: how `limit`, `offset`, `sort`, `sortdir` merge.
    pub paging: Option<PagingConfig>,
    /// Headers added to every response (`Deprecation`, `Sunset`).
    pub response_headers: Option<Arc<[(HeaderName, HeaderValue)]>>,
    /// `deprecated: true` (an operation may also have only a sunset date).
    pub deprecated: bool,
    /// Set once the first call of a deprecated or sunset operation was logged.
    pub deprecation_logged: AtomicBool,
    /// Whether any parameter loads a model (an await the fast path cannot do).
    pub has_models: bool,
    /// Whether a path parameter is secret: the path stays out of problems and `Validated`
    /// says so (`/reset/{token}`).
    pub secret_path: bool,
    /// What the operation may answer, when its responses are validated.
    pub responses: Option<Box<responses::ResponsePlan>>,
    /// The operation's own path parameter names, when its template shares a route with one
    /// that differs only in those names (see `WarningCase::TemplateNames`).
    pub path_names: Option<Box<[Box<str>]>>,
}

impl Operation {
    /// Each header parameter with its header's name (`None` for a name no header can have).
    pub fn header_params(&self) -> impl Iterator<Item = (&Param, Option<&http::HeaderName>)> {
        self.header
            .iter()
            .zip(&self.header_names)
            .map(|(p, name)| (p, name.as_ref()))
    }
}

/// The lines of header `name` in `headers`; none when there is no such name.
pub(crate) fn header_lines<'h>(
    headers: &'h http::HeaderMap,
    name: Option<&http::HeaderName>,
) -> impl Iterator<Item = &'h http::HeaderValue> {
    name.into_iter().flat_map(move |name| headers.get_all(name))
}

/// One parameter with its decoder settings and compiled check.
pub(crate) struct Param {
    pub name: Arc<str>,
    pub location: Location,
    pub required: bool,
    pub style: Style,
    pub explode: bool,
    pub shape: Shape,
    pub allow_empty: bool,
    pub default: Option<Value>,
    pub check: Check,
    /// Never echo the value: cookies, credentials, `format: password`, `writeOnly`.
    pub secret: bool,
    /// `content: application/json`: the raw text is parsed as JSON.
    pub json_content: bool,
    /// Whether this parameter was declared as `deepObject` or exploded form object (query keys
    /// it owns are declared).
    pub owns_object_keys: bool,
    /// `x-strip`, `x-lowercase`, `x-uppercase`: applied to string values before validation.
    pub transform: Transform,
    /// A `format: date` / `date-time` string: canonicalized (and read leniently if asked).
    pub date: Option<DateParam>,
    /// `x-model: NAME`: the value is an id handed to that model's loader.
    pub model: Option<Arc<str>>,
}

/// An `in: querystring` parameter (OpenAPI 3.2): the whole query string read as one value of
/// its one `content` media type.
pub(crate) struct Querystring {
    pub name: Arc<str>,
    pub required: bool,
    pub kind: QuerystringKind,
    pub check: Check,
    /// The schema holds a secret (`format: password`, `writeOnly`): errors never show values.
    pub secret: bool,
}

/// How the query string of a `querystring` parameter is read.
pub(crate) enum QuerystringKind {
    /// `application/x-www-form-urlencoded`: the pairs read as a form body is, by the
    /// properties and their Encoding Objects, into an object.
    Form(Vec<FormField>),
    /// JSON (`application/json`, `+json`): percent-decoded, then parsed.
    Json,
    /// Any other media type: percent-decoded, checked as a string.
    Text,
}

/// String transforms a parameter declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Transform {
    pub strip: bool,
    pub lowercase: bool,
    pub uppercase: bool,
}

impl Transform {
    pub fn is_identity(self) -> bool {
        self == Transform::default()
    }

    /// Applies the transforms to every string in `value` (arrays and objects included).
    pub fn apply(self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if self.strip {
                    let trimmed = s.trim();
                    if trimmed.len() != s.len() {
                        *s = trimmed.to_owned();
                    }
                }
                if self.lowercase {
                    *s = s.to_lowercase();
                }
                if self.uppercase {
                    *s = s.to_uppercase();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.apply(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.apply(v)),
            _ => {}
        }
    }
}

/// How a date parameter is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateParam {
    pub kind: DateKind,
    pub lenient: bool,
}

/// An operation's request body.
pub(crate) struct BodyPlan {
    pub required: bool,
    pub media: Vec<MediaType<'static>>,
    pub entries: Vec<BodyEntry>,
    /// `application/json, text/plain`, for 415 messages.
    pub declared: String,
}

/// How one declared media type is read and checked.
pub(crate) struct BodyEntry {
    pub kind: BodyKind,
    pub check: Check,
    /// The same schema walked over JSON text, when it uses only keywords the walk handles:
    /// a valid body is then never built into a value.
    pub stream: Option<StreamCheck>,
    pub form_fields: Vec<FormField>,
    /// Schema defaults to fill in, when `fill_body_defaults` is on and the schema has any.
    pub defaults: Option<crate::body::defaults::Defaults>,
    /// The `itemSchema` of a sequential media type (OpenAPI 3.2), checked item by item.
    pub items: Option<Check>,
}

impl Operation {
    /// The name used in problems: the operationId, or `METHOD /template`.
    pub fn name(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.label)
    }

    /// The warning to log for this call: on the first call of an operation that is deprecated
    /// or has a sunset date, once per operation.
    pub fn first_call_warning(&self) -> Option<&'static str> {
        let warning = if self.deprecated {
            "a deprecated operation was called"
        } else if self.response_headers.is_some() {
            "an operation with a sunset date was called"
        } else {
            return None;
        };
        (!self.deprecation_logged.swap(true, Ordering::Relaxed)).then_some(warning)
    }

    /// Every parameter, in location order.
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        [&self.path, &self.query, &self.header, &self.cookie]
            .into_iter()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Document, Options};

    #[test]
    fn the_first_call_warning_names_what_the_operation_is_once() {
        let spec = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /old: {get: {deprecated: true, responses: {"200": {description: ok}}}}
  /both: {get: {deprecated: true, x-sunset: "2030-01-01", responses: {"200": {description: ok}}}}
  /ending: {get: {x-sunset: "2030-01-01", responses: {"200": {description: ok}}}}
  /fresh: {get: {responses: {"200": {description: ok}}}}
"#;
        let plan = super::compile(Document::from_str(spec).unwrap(), Options::default()).unwrap();
        let warning = |label: &str| {
            let op = plan.operations.iter().find(|o| &*o.label == label).unwrap();
            (op.first_call_warning(), op.first_call_warning())
        };
        let deprecated = Some("a deprecated operation was called");
        let sunset = Some("an operation with a sunset date was called");
        assert_eq!(warning("GET /old"), (deprecated, None));
        assert_eq!(warning("GET /both"), (deprecated, None));
        assert_eq!(warning("GET /ending"), (sunset, None));
        assert_eq!(warning("GET /fresh"), (None, None));
    }

    /// Jsonschema validators that only explain a refusal are dropped after start-up; those
    /// that decide every request are kept (see `plan::schema::SchemaCheck`).
    #[test]
    fn only_checks_that_run_on_every_request_keep_their_validator() {
        let spec = r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /pets:
    post:
      parameters:
        - {name: filter, in: query, content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}}
      requestBody:
        content:
          application/json: {schema: {$ref: "#/components/schemas/Pet"}}
          application/x-www-form-urlencoded: {schema: {$ref: "#/components/schemas/Form"}}
      responses: {"200": {description: ok}}
  /tags:
    put:
      requestBody:
        content:
          application/json: {schema: {$ref: "#/components/schemas/Tags"}}
      responses: {"200": {description: ok}}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties: {name: {type: string}, tag: {type: string}}
    Tags:
      type: object
      properties: {tags: {type: array, items: {type: string}}}
    Form:
      type: object
      properties: {tags: {type: array, items: {type: string}}}
"##;
        let plan = super::compile(Document::from_str(spec).unwrap(), Options::default()).unwrap();
        let op = |label: &str| plan.operations.iter().find(|o| &*o.label == label).unwrap();
        let built = |check: &super::Check| match check {
            super::Check::Schema(s) => s.is_built(),
            other => panic!("expected a jsonschema check, got {other:?}"),
        };
        let post = op("POST /pets");
        let body = post.body.as_ref().unwrap();
        // The same `Pet` check: the JSON body's stream walk would not need it, the query
        // parameter does on every request, so it is kept.
        assert!(body.entries[0].stream.is_some());
        assert!(built(&body.entries[0].check));
        assert!(built(&post.query[0].check));
        // A form body has no stream walk.
        assert!(body.entries[1].stream.is_none());
        assert!(built(&body.entries[1].check));
        // `Tags` on its own JSON body: explained only, dropped.
        let put = op("PUT /tags").body.as_ref().unwrap();
        assert!(put.entries[0].stream.is_some());
        assert!(!built(&put.entries[0].check));
    }

    /// Once compiled, the checks hold only what they reach of the request view (see
    /// `plan::narrow`), whatever else holds the view while compiling; a lint keeps it whole.
    #[test]
    fn compiled_checks_keep_only_what_they_reach_of_the_view() {
        let spec = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /pets:
    parameters:
      - {name: trace, in: header, schema: {type: string}}
    post:
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 50}}
      requestBody:
        content:
          application/json:
            schema:
              allOf: [{$ref: "#/components/schemas/Pet"}, {required: [owner]}]
      responses: {"200": {description: ok}}
components:
  schemas:
    Pet:
      type: object
      properties: {owner: {$ref: "#/components/schemas/Owner"}, name: {type: string}}
    Owner: {type: object, properties: {name: {type: string, minLength: 1}}}
    Unused: {type: object, properties: {x: {type: integer}}}
"##;
        let kept = |options: Options| {
            let plan = super::compile(Document::from_str(spec).unwrap(), options).unwrap();
            let body = plan.operations[0].body.as_ref().unwrap();
            match &body.entries[0].check {
                super::Check::Schema(s) => s.view(),
                other => panic!("expected a jsonschema check, got {other:?}"),
            }
        };
        let view = kept(Options::default());
        let schemas: Vec<&String> = view["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(schemas, ["Owner", "Pet"]);
        let post = &view["paths"]["/pets"]["post"];
        assert_eq!(
            post.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["requestBody"],
            "{view}"
        );
        assert!(view["paths"]["/pets"].get("parameters").is_none());
        assert!(view.get("info").is_none());
        // (`Unused` is not in the request view at all: no request reaches it.)
        let whole = kept(Options::default().lint(true));
        assert!(whole["paths"]["/pets"]["post"].get("parameters").is_some());
        assert!(whole.get("info").is_some());
    }
}
