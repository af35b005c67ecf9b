//! The request pipeline: every front runs these steps, in this order.
//!
//! 1. [route](route): the canonical path (see [`crate::path`]), the served documents, the
//!    operation for the path and method (404, 405, `HEAD` as `GET`, `OPTIONS`);
//! 2. [limits](limits): the query's pair count and the length of every parameter text; then
//!    [one reading](ambiguity): a singleton header given twice, a list where one value
//!    belongs, an API key given twice, a raw `;` handed on;
//! 3. [credentials](credentials): their presence (401 with a challenge);
//! 4. [parameters](parameters): path, query, header and cookie values, undeclared query
//!    parameters, paging, and the canonical query;
//! 5. the [verifier](credentials) checks the credentials for real, and
//!    [models](models) are loaded;
//! 6. the [body](body).
//!
//! Steps 1–4 need no await and no body: [`Plan::check_head`] runs them. Step 5 is
//! [`Plan::admit`]. The layer ([`OpenApi`](crate::OpenApi)) runs both and then the body;
//! forward-auth, `oasgate route` and [`OpenApiLayer::check_head`](crate::OpenApiLayer::check_head)
//! run both, and have no body. Credentials come before the body, so an unauthenticated request
//! never has its body read.
//!
//! Each step answers a [`Rejected`]: the problem, the operation, and whether report-only mode
//! may hand the request on. The problem is rendered once, by [`Plan::render`], at the edge
//! that decides what to do with it.

mod ambiguity;
mod body;
mod credentials;
mod limits;
mod models;
mod parameters;
mod route;

use bytes::Bytes;
use http::request::Parts;
use http::{Response, StatusCode};

pub(crate) use self::body::{BodyStep, ReportOnly};
use self::route::Routed;
use crate::models::Models;
use crate::plan::{Operation, Plan};
use crate::problem::{FieldError, Problem, ProblemKind, Rejection};
use crate::security::PresentCredential;
use crate::validated::Validated;

/// A request the pipeline refuses.
pub(crate) struct Rejected<'p> {
    /// Boxed: a refusal is rare, and the `Result`s that carry it stay small.
    pub problem: Box<Problem>,
    /// The operation the request was matched to, when it was.
    pub op: Option<&'p Operation>,
    /// Whether report-only mode may hand the request on: not when nothing whole is left to
    /// hand on (a body that broke off while it was read).
    pub passable: bool,
}

impl<'p> Rejected<'p> {
    pub(crate) fn new(problem: impl Into<Box<Problem>>, op: Option<&'p Operation>) -> Self {
        Self {
            problem: problem.into(),
            op,
            passable: true,
        }
    }

    /// A refusal that report-only mode answers too.
    pub(crate) fn unpassable(mut self) -> Self {
        self.passable = false;
        self
    }
}

/// The request id a request carries (`X-Request-Id`), named in the log lines about it: the
/// gateway sets one on every request, and a service's own middleware may.
pub(crate) fn request_id(headers: &http::HeaderMap) -> Option<&str> {
    headers.get(REQUEST_ID).and_then(|id| id.to_str().ok())
}

pub(crate) const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// What the first four steps decided to do with a request.
// The checked head is held inline: every valid request makes one, and a box would be an
// allocation each time for the sake of the rarer, smaller variants.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Disposition {
    /// Answered here: a served document, or `OPTIONS` with `Allow`.
    Answer(Response<Bytes>),
    /// Not ours: hand on unvalidated, with the canonical path when it differs.
    PassThrough { path: Option<String> },
    /// The operation matched and its parameters are valid; verifier, models and body remain.
    Operation(CheckedHead),
}

/// A request whose route, limits, credential presence and parameters passed.
pub(crate) struct CheckedHead {
    pub index: usize,
    pub validated: Validated,
    /// The credentials present, for the verifier.
    pub credentials: Vec<PresentCredential>,
    /// The canonical path to hand on, when it differs from the one sent.
    pub path: Option<String>,
    /// The canonical query string to hand on, when it is rewritten.
    pub query: Option<String>,
}

impl Plan {
    /// Steps 1–4: route, limits, credential presence and parameters.
    pub(crate) fn check_head<'p>(&'p self, parts: &Parts) -> Result<Disposition, Rejected<'p>> {
        // Everything below sees the canonical path; it is what the inner service receives.
        let path =
            crate::path::canonicalize(parts.uri.path(), self.path_rules).map_err(|refusal| {
                Rejected::new(route::invalid_path(&refusal, self.options.error_cap), None)
            })?;
        let rewritten = matches!(path, std::borrow::Cow::Owned(_));
        let (index, params, path) = match self.route(parts, &path, rewritten)? {
            Routed::Answer(response) => return Ok(Disposition::Answer(response)),
            Routed::PassThrough { path } => return Ok(Disposition::PassThrough { path }),
            Routed::Operation {
                index,
                params,
                path,
            } => (index, params, path),
        };
        let op = &self.operations[index];
        let mut query = crate::params::Pairs::new();
        self.within_limits(op, &params, parts, &mut query)?;
        self.read_one_way(op, &query, parts)?;
        let credentials = op
            .security
            .find(&parts.headers, &query)
            .map_err(|problem| Rejected::new(problem, Some(op)))?;
        let validated = self.check_parameters(op, &params, &query, parts)?;
        let query = self.canonical_query(op, parts.uri.query().unwrap_or(""), &query, &validated);
        Ok(Disposition::Operation(CheckedHead {
            index,
            validated,
            credentials,
            path,
            query,
        }))
    }

    /// Whether step 5 has anything to do for `head`.
    pub(crate) fn needs_admission(&self, head: &CheckedHead) -> bool {
        (!head.credentials.is_empty() && self.options.verifier.is_some())
            || self.operations[head.index].has_models
    }

    /// Step 5: the verifier checks the credentials present, then models are loaded.
    pub(crate) async fn admit<'p>(
        &'p self,
        head: &CheckedHead,
    ) -> Result<Option<Models>, Rejected<'p>> {
        let op = &self.operations[head.index];
        if !head.credentials.is_empty() && self.options.verifier.is_some() {
            Box::pin(self.verify(op, &head.credentials)).await?;
        }
        if op.has_models {
            return Box::pin(self.load_models(op, &head.validated)).await;
        }
        Ok(None)
    }

    /// Whether `rejected` is answered: always when enforcing, and in report-only mode when
    /// the request cannot be handed on.
    pub(crate) fn enforces(&self, rejected: &Rejected<'_>) -> bool {
        self.options.enforce || !rejected.passable
    }

    /// Finishes a problem (status, instance, operation, cap), logs it, and renders it: the one
    /// place a refusal becomes a response.
    pub(crate) fn render(&self, rejected: Rejected<'_>, parts: &Parts) -> Response<Bytes> {
        let Rejected {
            mut problem, op, ..
        } = rejected;
        let enforced = self.options.enforce || !rejected.passable;
        if problem.kind == ProblemKind::InvalidBody && self.options.unprocessable_bodies {
            problem.status = StatusCode::UNPROCESSABLE_ENTITY.as_u16();
        }
        // A secret path parameter (`/reset/{token}`) keeps the path out of the answer.
        let secret_path = op.is_some_and(|o| o.secret_path);
        problem.instance = (!secret_path).then(|| truncate(parts.uri.path()).to_owned());
        problem.operation_id = op.and_then(|o| o.id.as_deref()).map(str::to_owned);
        let errors = problem.log_summary();
        tracing::info!(
            target: "oasgate::rejection",
            status = problem.status,
            method = %parts.method,
            path = problem.instance.as_deref(),
            operation = op.map(|o| o.name()),
            errors = (!errors.is_empty()).then_some(errors.as_str()),
            request_id = request_id(&parts.headers),
            enforced,
            "request {}: {}",
            if enforced { "rejected" } else { "would be rejected (report-only)" },
            problem.title
        );
        let mut response = match &self.options.formatter {
            Some(format) => format(&problem),
            None => problem.to_response(),
        };
        response.extensions_mut().insert(Rejection {
            status: StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST),
            kind: problem.kind,
            operation: op.map(|o| o.id.clone().unwrap_or_else(|| o.label.clone())),
            codes: problem.errors.iter().map(|e| e.code).collect(),
            secret_path,
        });
        // A deprecated operation says so on its problems too.
        crate::response::finish(
            &mut response,
            op.and_then(|o| o.response_headers.as_deref()),
        );
        response
    }
}

/// The problem's one-line detail: the count and the first error.
fn summary(errors: &[FieldError], what: &str) -> String {
    match errors {
        [] => format!("invalid {what}"),
        [only] => only.detail.clone(),
        [first, rest @ ..] => format!("{} (and {} more)", first.detail, rest.len()),
    }
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(200) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// What the steps' own tests share: a plan compiled from a small document, and request heads.
#[cfg(test)]
pub(crate) mod testing {
    use http::request::Parts;

    use crate::options::Options;
    use crate::plan::{Plan, compile};
    use crate::spec::Document;

    /// The document every step's table runs against.
    pub const SPEC: &str = r#"
openapi: 3.0.3
info: {title: steps, version: "1"}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: X-Trace, in: header, schema: {type: string, pattern: "^[a-z]+$"}}
        - {name: session, in: cookie, schema: {type: string}}
      responses: {"200": {description: ok}}
    post:
      operationId: addPet
      security: [{key: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties: {name: {type: string, maxLength: 8}}
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties: {age: {type: integer}}
      responses: {"200": {description: ok}}
  /pets/{id}:
    get:
      operationId: getPet
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
        - {name: owner, in: query, x-model: person, schema: {type: integer}}
      responses: {"200": {description: ok}}
"#;

    /// The plan of [`SPEC`]; a loader that finds no `person` unless the options bring one.
    pub fn plan(mut options: Options) -> Plan {
        if options.models.is_empty() {
            let nobody = crate::models::loader_fn(|_| async { Ok(None) });
            options = options.model_loader("person", nobody);
        }
        compile(Document::from_str(SPEC).unwrap(), options).unwrap()
    }

    pub fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }
}
