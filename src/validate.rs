//! The request path: route, credentials, parameters, body — in that order.
//!
//! Each step answers a [`Problem`] on failure. Security comes before the body so that an
//! unauthenticated request never has its body read.

use bytes::Bytes;
use http::request::Parts;
use http::{Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};

use crate::body::{self, BodyKind, MediaType, MultipartFailure, best_match, tee};
use crate::dates;
use crate::models::Models;
use crate::options::{UndeclaredParams, UnknownRoutes};
use crate::paging;
use crate::params::{self, DecodeError, Location, ParamSpec, Style};
use crate::plan::{BodyEntry, Operation, Param, Plan};
use crate::problem::{FieldError, Place, Problem, ProblemKind, Rejection};
use crate::security::{Credential, Found, SchemeKind, Verdict};
use crate::serve::Answer;
use crate::validated::{ReadBody, Validated};
use futures_util::future::Either;

/// What reading the body decided.
pub(crate) enum BodyStep<B> {
    /// Hand this body on, with the parsed value when one was read.
    Ready(B, ReadBody),
    /// A multipart body: stream it to the inner service while validating its fields.
    Multipart {
        body: B,
        entry: usize,
        boundary: String,
    },
}

/// What the synchronous first part of validation decided.
pub(crate) enum Head {
    /// Answer now with a served document.
    Respond(Response<Bytes>),
    /// The request breaks the document: the problem response (with a `Rejection` extension).
    Reject(Response<Bytes>),
    /// Not ours (unknown route with pass-through): hand over untouched.
    PassThrough,
    /// Parameters are valid; credentials, models and body may remain.
    Operation {
        index: usize,
        validated: Validated,
        found: Vec<Found>,
        /// The canonical query string to hand on, when it is rewritten.
        query: Option<String>,
    },
}

impl Plan {
    /// Routing, credential presence and every parameter: all that needs no body and no await.
    pub(crate) fn head(&self, parts: &Parts) -> Head {
        let path = parts.uri.path();
        match self.served.respond(parts) {
            None => {}
            Some(Answer::Response(response)) => return Head::Respond(response),
            Some(Answer::MethodNotAllowed(allow)) => {
                let mut problem = Problem::new(
                    ProblemKind::MethodNotAllowed,
                    format!(
                        "method {} is not allowed here; allowed: {}",
                        parts.method,
                        allow.to_str().unwrap_or_default()
                    ),
                );
                problem.allow = Some(allow);
                return Head::Respond(self.reject(problem, None, parts));
            }
        }
        let found = if self.options.tolerate_trailing_slash {
            self.router.at_lenient(path)
        } else {
            self.router.at(path)
        };
        let Some(matched) = found else {
            return match self.options.unknown_routes {
                UnknownRoutes::PassThrough => Head::PassThrough,
                UnknownRoutes::Reject => Head::Reject(self.reject(
                    Problem::new(
                        ProblemKind::NotFound,
                        format!("no operation has the path `{}`", truncate(path)),
                    ),
                    None,
                    parts,
                )),
            };
        };
        let route = &self.routes[matched.id];
        let Some(&(_, index)) = route.methods.iter().find(|(m, _)| *m == parts.method) else {
            let mut problem = Problem::new(
                ProblemKind::MethodNotAllowed,
                format!(
                    "method {} is not allowed here; allowed: {}",
                    parts.method,
                    route.allow.to_str().unwrap_or_default()
                ),
            );
            problem.allow = Some(route.allow.clone());
            return Head::Reject(self.reject(problem, None, parts));
        };
        let op = &self.operations[index];
        let limit = self.options.query_params_limit;
        let Some(query) = params::split_query_bounded(parts.uri.query().unwrap_or(""), limit)
        else {
            let error = FieldError {
                place: Place::Query,
                name: String::new(),
                pointer: String::new(),
                code: "tooMany".to_owned(),
                detail: format!("the query string has more than {limit} parameters"),
            };
            let problem = Problem::new(ProblemKind::InvalidParameters, error.detail.clone())
                .with_errors(vec![error], self.options.error_cap);
            return Head::Respond(self.reject(problem, Some(op), parts));
        };
        let repeated = self.ambiguous(op, &query, parts);
        if !repeated.is_empty() {
            let detail = summary(&repeated, "request");
            let problem = Problem::new(ProblemKind::InvalidParameters, detail)
                .with_errors(repeated, self.options.error_cap);
            return Head::Reject(self.reject(problem, Some(op), parts));
        }
        let too_long = self.too_long(op, &matched.params, &query, parts);
        if !too_long.is_empty() {
            let detail = summary(&too_long, "parameter");
            let problem = Problem::new(ProblemKind::InvalidParameters, detail)
                .with_errors(too_long, self.options.error_cap);
            return Head::Respond(self.reject(problem, Some(op), parts));
        }
        let found = match op.security.find(&parts.headers, &query) {
            Ok(found) => found,
            Err(problem) => return Head::Reject(self.reject(*problem, Some(op), parts)),
        };
        let mut validated = Validated {
            operation_id: op.id.clone(),
            operation: op.id.clone().unwrap_or_else(|| op.label.clone()),
            secret_path: op.secret_path,
            ..Validated::default()
        };
        let mut errors = Vec::new();
        for p in &op.path {
            let raw = matched.params.get(&p.name).unwrap_or_default();
            let decoded = params::decode_path(raw, &self.spec(p)).map(Some);
            self.finish_param(p, decoded, &mut validated.path, &mut errors);
        }
        for p in &op.query {
            let decoded = params::decode_query(&query, &self.spec(p));
            self.finish_param(p, decoded, &mut validated.query, &mut errors);
        }
        if op.undeclared_query == UndeclaredParams::Reject {
            undeclared_query(op, &query, &mut errors);
        }
        for p in &op.header {
            let decoded = header_values(parts, &p.name)
                .and_then(|values| params::decode_header(&values, &self.spec(p)));
            self.finish_param(p, decoded, &mut validated.header, &mut errors);
        }
        if !op.cookie.is_empty() {
            let cookies: Vec<(&str, &str)> = parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(params::split_cookies)
                .collect();
            for p in &op.cookie {
                let decoded = params::decode_cookie(&cookies, &self.spec(p));
                self.finish_param(p, decoded, &mut validated.cookie, &mut errors);
            }
        }
        if errors.is_empty()
            && let Some(config) = &op.paging
        {
            match config.merge(&validated.query) {
                Ok(paging) => validated.paging = Some(paging),
                Err((name, detail)) => errors.push(FieldError {
                    place: Place::Query,
                    name: name.to_owned(),
                    pointer: String::new(),
                    code: "paging".to_owned(),
                    detail: format!("query parameter `{name}`: {detail}"),
                }),
            }
        }
        if !errors.is_empty() {
            let detail = summary(&errors, "parameter");
            let problem = Problem::new(ProblemKind::InvalidParameters, detail)
                .with_errors(errors, self.options.error_cap);
            return Head::Reject(self.reject(problem, Some(op), parts));
        }
        let query = self.canonical_query(op, parts.uri.query().unwrap_or(""), &query, &validated);
        Head::Operation {
            index,
            validated,
            found,
            query,
        }
    }

    /// The query the inner service sees: declared parameters as validated (coerced,
    /// transformed, defaulted, paging merged) in their declared style, then undeclared ones as
    /// sent unless the policy strips them.
    fn canonical_query(
        &self,
        op: &Operation,
        original: &str,
        raw: &[(&str, &str)],
        validated: &Validated,
    ) -> Option<String> {
        // A raw `;` is rewritten as `%3B` below, so such a query is always rewritten.
        if !self.options.canonical_query
            || (op.query.is_empty()
                && op.undeclared_query != UndeclaredParams::Strip
                && !original.contains(';'))
        {
            return None;
        }
        let mut out = String::with_capacity(
            raw.iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum::<usize>()
                + 32,
        );
        for p in &op.query {
            // The merged paging is written straight from `Paging`, without building values.
            if let Some(paging) = &validated.paging
                && paging::write_merged(paging, &p.name, &mut out)
            {
                continue;
            }
            let Some(value) = validated.query.get(&*p.name) else {
                continue;
            };
            if p.json_content {
                params::encode_query(
                    &p.name,
                    Style::Form,
                    true,
                    &Value::String(value.to_string()),
                    &mut out,
                );
            } else {
                params::encode_query(&p.name, p.style, p.explode, value, &mut out);
            }
        }
        // Parameters were written above; credentials go on as sent (the inner service may be
        // the one checking them), then undeclared pairs unless the policy strips them.
        let keep_undeclared = op.undeclared_query != UndeclaredParams::Strip;
        for (key, value) in raw {
            let decoded = if key.contains('%') {
                percent_encoding::percent_decode_str(key).decode_utf8_lossy()
            } else {
                std::borrow::Cow::Borrowed(*key)
            };
            let keep = if is_parameter(op, &decoded) {
                false
            } else if is_credential(op, &decoded) {
                true
            } else {
                keep_undeclared
            };
            if keep {
                params::push_raw_pair(&mut out, key, value);
            }
        }
        // Rebuilding the URI costs more than this comparison: skip it when nothing changed.
        (out != original).then_some(out)
    }

    /// Errors for every parameter text longer than the limit, found before any is decoded:
    /// every name and value in the query, and the declared path, header and cookie values.
    fn too_long(
        &self,
        op: &Operation,
        path: &crate::router::Params<'_>,
        query: &[(&str, &str)],
        parts: &Parts,
    ) -> Vec<FieldError> {
        let limit = self.options.param_length_limit;
        let mut errors = Vec::new();
        let mut check = |place: Place, name: &str, what: &str, len: usize| {
            if len > limit {
                // A name too long is cut short: it is the client's text.
                let name = match name.char_indices().nth(64) {
                    Some((cut, _)) => format!("{}…", &name[..cut]),
                    None => name.to_owned(),
                };
                errors.push(FieldError {
                    place,
                    detail: format!(
                        "{} parameter `{name}`: the {what} is {len} bytes long; the limit is {limit}",
                        place.as_str(),
                    ),
                    name,
                    pointer: String::new(),
                    code: "tooLong".to_owned(),
                });
            }
        };
        for p in &op.path {
            let len = path.get(&p.name).map_or(0, str::len);
            check(Place::Path, &p.name, "value", len);
        }
        for (key, value) in query {
            if key.len() > limit || value.len() > limit {
                let name = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
                check(Place::Query, &name, "name", key.len());
                check(Place::Query, &name, "value", value.len());
            }
        }
        for p in &op.header {
            for value in parts.headers.get_all(&*p.name) {
                check(Place::Header, &p.name, "value", value.len());
            }
        }
        if !op.cookie.is_empty() {
            let cookies = parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(params::split_cookies);
            for (name, value) in cookies {
                if op.cookie.iter().any(|p| reads_cookie(p, name)) {
                    check(Place::Cookie, name, "value", value.len());
                }
            }
        }
        errors
    }

    fn spec<'p>(&'p self, p: &'p Param) -> ParamSpec<'p> {
        ParamSpec {
            name: &p.name,
            style: p.style,
            explode: p.explode,
            shape: &p.shape,
            allow_empty: p.allow_empty,
            coercion: &self.coercion,
        }
    }

    /// Applies required/default, JSON content and the schema check to one decoded parameter.
    fn finish_param(
        &self,
        p: &Param,
        decoded: Result<Option<Value>, DecodeError>,
        into: &mut Map<String, Value>,
        errors: &mut Vec<FieldError>,
    ) {
        let place = place_of(p.location);
        let value = match decoded {
            Err(e) => {
                let detail = if p.secret {
                    format!("invalid value (`{}`; value hidden)", e.code)
                } else {
                    e.detail
                };
                errors.push(param_error(p, place, "", e.code, detail));
                return;
            }
            Ok(None) => {
                if let Some(default) = &p.default {
                    into.insert(String::from(&*p.name), default.clone());
                } else if p.required {
                    errors.push(param_error(
                        p,
                        place,
                        "",
                        "required",
                        "is required".to_owned(),
                    ));
                }
                return;
            }
            Ok(Some(value)) => value,
        };
        let mut value = value;
        if !p.transform.is_identity() {
            p.transform.apply(&mut value);
        }
        if let (Some(date), Value::String(text)) = (p.date, &value) {
            let canonical = if date.lenient {
                self.dates.parse(text, date.kind, chrono::Utc::now())
            } else {
                dates::canonical_strict(text, date.kind)
            };
            match canonical {
                Ok(c) => value = Value::String(c),
                Err(e) => {
                    let detail = if p.secret {
                        "invalid date (value hidden)".to_owned()
                    } else {
                        e.detail
                    };
                    errors.push(param_error(p, place, "", "format", detail));
                    return;
                }
            }
        }
        let value = if p.json_content {
            let depth = self.options.json_depth_limit;
            if value
                .as_str()
                .is_some_and(|text| body::nesting_exceeds(text.as_bytes(), depth).is_some())
            {
                errors.push(param_error(
                    p,
                    place,
                    "",
                    "depth",
                    format!("nests arrays and objects deeper than {depth} levels"),
                ));
                return;
            }
            // The body's parser: it also refuses a member name given twice in one object.
            match value
                .as_str()
                .map(|text| body::parse_json(text.as_bytes(), depth))
            {
                Some(Ok(parsed)) => parsed,
                Some(Err(malformed)) if malformed.duplicate.is_some() => {
                    let pointer = malformed.duplicate.unwrap_or_default();
                    errors.push(param_error(
                        p,
                        place,
                        &pointer,
                        "duplicate",
                        "has a member name twice in one object; expected unique names".to_owned(),
                    ));
                    return;
                }
                _ => {
                    errors.push(param_error(
                        p,
                        place,
                        "",
                        "json",
                        "expected a JSON value".to_owned(),
                    ));
                    return;
                }
            }
        } else {
            value
        };
        if !p.check.is_valid(&value) {
            for v in p.check.violations(&value, p.secret) {
                errors.push(param_error(p, place, &v.pointer, &v.code, v.detail));
            }
            return;
        }
        into.insert(String::from(&*p.name), value);
    }

    /// Loads the entities of `x-model` parameters; a missing one answers 404 with its kind and id.
    pub(crate) async fn load_models(
        &self,
        op: &Operation,
        validated: &Validated,
        parts: &Parts,
    ) -> Result<Option<Models>, Response<Bytes>> {
        let mut models = Models::default();
        for p in op.params() {
            let Some(kind) = &p.model else {
                continue;
            };
            let values = match p.location {
                Location::Path => &validated.path,
                Location::Query => &validated.query,
                Location::Header => &validated.header,
                Location::Cookie => &validated.cookie,
            };
            let Some(id) = values.get(&*p.name) else {
                continue;
            };
            let Some(loader) = self.models.get(&**kind) else {
                continue;
            };
            match loader.load(id.clone()).await {
                Ok(Some(entity)) => {
                    models.0.insert(String::from(&*p.name), entity);
                }
                Ok(None) => {
                    let mut problem =
                        Problem::new(ProblemKind::NotFound, format!("no {kind} has the id {id}"));
                    problem.extra.insert("kind".into(), Value::from(&**kind));
                    problem.extra.insert("id".into(), id.clone());
                    return Err(self.reject(problem, Some(op), parts));
                }
                Err(e) => {
                    tracing::error!(target: "oasgate::rejection", model = %kind, error = %e, "model loader failed");
                    let problem = Problem::new(
                        ProblemKind::LoaderFailed,
                        format!("the {kind} could not be loaded"),
                    );
                    return Err(self.reject(problem, Some(op), parts));
                }
            }
        }
        Ok((!models.0.is_empty()).then_some(models))
    }

    /// Hands the found credentials to the verifier, one candidate alternative after another:
    /// the first alternative the verifier allows in full lets the request through; when none
    /// is, the first alternative's refusal answers.
    pub(crate) async fn verify(
        &self,
        op: &Operation,
        found: &[Found],
        parts: &Parts,
    ) -> Result<(), Response<Bytes>> {
        let Some(verifier) = &self.options.verifier else {
            return Ok(());
        };
        let mut first_refusal = None;
        for alternative in found.chunk_by(|a, b| a.alternative == b.alternative) {
            let mut refusal = None;
            for f in alternative {
                let verdict = verifier
                    .verify(Credential {
                        scheme: &f.requirement.scheme,
                        kind: &f.requirement.kind,
                        scopes: &f.requirement.scopes,
                        value: &f.value,
                    })
                    .await;
                if verdict != Verdict::Allow {
                    refusal = Some(verdict);
                    break;
                }
            }
            match refusal {
                None => return Ok(()),
                Some(verdict) => {
                    first_refusal.get_or_insert(verdict);
                }
            }
        }
        let problem = match first_refusal {
            None | Some(Verdict::Allow) => return Ok(()),
            Some(Verdict::Unauthenticated(reason)) => {
                let mut p = Problem::new(ProblemKind::Unauthorized, reason);
                p.challenge = op.security.challenge(Some("invalid_token"));
                p
            }
            Some(Verdict::Forbidden(reason)) => {
                let mut p = Problem::new(ProblemKind::Forbidden, reason);
                p.challenge = op.security.challenge(Some("insufficient_scope"));
                p
            }
            Some(Verdict::Failed) => Problem::new(
                ProblemKind::VerifierFailed,
                "credentials could not be checked",
            ),
        };
        Err(self.reject(problem, Some(op), parts))
    }

    /// Reads and checks the body when the operation declares one of a kind oasgate reads.
    ///
    /// Answers the body to hand on (the same bytes, or the untouched stream) and the parsed
    /// value — or, for multipart, that the body is to be streamed while it is validated.
    pub(crate) async fn body<B>(
        &self,
        op: &Operation,
        parts: &Parts,
        body: B,
    ) -> Result<BodyStep<B>, Response<Bytes>>
    where
        B: Body<Data = Bytes> + From<Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(plan) = &op.body else {
            return Ok(BodyStep::Ready(body, ReadBody::default()));
        };
        let reject =
            |kind, detail: String| self.reject(Problem::new(kind, detail), Some(op), parts);
        let empty = body.is_end_stream() || body.size_hint().exact() == Some(0);
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let Some(content_type) = content_type else {
            if empty && !plan.required {
                return Ok(BodyStep::Ready(body, ReadBody::default()));
            }
            if empty {
                return Err(reject(
                    ProblemKind::InvalidBody,
                    format!("a request body is required ({})", plan.declared),
                ));
            }
            return Err(reject(
                ProblemKind::UnsupportedMediaType,
                format!("the body has no content type; expected {}", plan.declared),
            ));
        };
        let media = MediaType::parse(content_type);
        let Some(index) = media.as_ref().and_then(|m| best_match(m, &plan.media)) else {
            return Err(reject(
                ProblemKind::UnsupportedMediaType,
                format!(
                    "content type `{}` is not accepted; expected {}",
                    truncate(content_type),
                    plan.declared
                ),
            ));
        };
        let entry = &plan.entries[index];
        let request_kind = media.as_ref().map_or(BodyKind::PassThrough, BodyKind::of);
        let kind = if entry.kind == BodyKind::PassThrough {
            request_kind
        } else {
            entry.kind
        };
        if kind == BodyKind::PassThrough {
            // A typed body of no bytes is present: `""` is a valid `text/plain` string and
            // zero bytes a valid binary. Only a body without a type counts as missing (above).
            return Ok(BodyStep::Ready(body, ReadBody::default()));
        }
        if kind == BodyKind::Multipart {
            // MediaType lowercases parameters; the boundary is case-sensitive, so take it
            // from the header itself.
            let Some(boundary) = original_param(content_type, "boundary") else {
                return Err(reject(
                    ProblemKind::MalformedBody,
                    "a multipart body needs a `boundary` parameter".to_owned(),
                ));
            };
            return Ok(BodyStep::Multipart {
                body,
                entry: index,
                boundary,
            });
        }
        let limit = self.options.body_limit;
        if let Some(length) = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && length > limit as u64
        {
            return Err(reject(
                ProblemKind::PayloadTooLarge,
                format!("the body is {length} bytes; the limit is {limit}"),
            ));
        }
        let bytes = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(reject(
                    ProblemKind::PayloadTooLarge,
                    format!("the body is larger than the limit of {limit} bytes"),
                ));
            }
            Err(_) => {
                return Err(reject(
                    ProblemKind::MalformedBody,
                    "the body could not be read".to_owned(),
                ));
            }
        };
        if bytes.is_empty() {
            if plan.required {
                return Err(reject(
                    ProblemKind::InvalidBody,
                    format!("a request body is required ({})", plan.declared),
                ));
            }
            return Ok(BodyStep::Ready(B::from(bytes), ReadBody::default()));
        }
        if kind == BodyKind::Json
            && let Some(stream) = &entry.stream
            && stream.accepts(&bytes, self.options.json_depth_limit)
        {
            return Ok(BodyStep::Ready(
                B::from(bytes.clone()),
                ReadBody::text(bytes),
            ));
        }
        let parsed = match kind {
            BodyKind::Json => {
                body::parse_json(&bytes, self.options.json_depth_limit).map_err(|m| {
                    let duplicate = m.duplicate_error();
                    let mut problem = Problem::new(ProblemKind::MalformedBody, m.detail);
                    problem.location = m.location;
                    if let Some(error) = duplicate {
                        problem = problem.with_errors(vec![error], self.options.error_cap);
                    }
                    self.reject(problem, Some(op), parts)
                })?
            }
            BodyKind::Form => body::parse_form(
                &bytes,
                &entry.form_fields,
                &self.coercion,
                self.options.query_params_limit,
            )
            .map_err(|errors| self.body_problem(ProblemKind::InvalidBody, errors, op, parts))?,
            BodyKind::Multipart | BodyKind::PassThrough => {
                return Ok(BodyStep::Ready(B::from(bytes), ReadBody::default()));
            }
        };
        if let Some(problem) = self.schema_problem(op, entry, &parsed, parts) {
            return Err(problem);
        }
        let mut parsed = parsed;
        if let Some(defaults) = &entry.defaults
            && defaults.apply(&mut parsed)
        {
            // The inner service reads the filled-in body; its length changes with it.
            let filled = Bytes::from(serde_json::to_vec(&parsed).unwrap_or_default());
            return Ok(BodyStep::Ready(B::from(filled), ReadBody::parsed(parsed)));
        }
        Ok(BodyStep::Ready(B::from(bytes), ReadBody::parsed(parsed)))
    }

    /// Checks a parsed body against its schema: the 400/422 problem listing every violation,
    /// or None when it is valid.
    pub(crate) fn schema_problem(
        &self,
        op: &Operation,
        entry: &BodyEntry,
        parsed: &Value,
        parts: &Parts,
    ) -> Option<Response<Bytes>> {
        if entry.check.is_valid(parsed) {
            return None;
        }
        let (violations, more) =
            entry
                .check
                .violations_up_to(parsed, false, self.options.error_cap);
        let errors = violations
            .into_iter()
            .map(|v| FieldError {
                place: Place::Body,
                name: String::new(),
                detail: if v.pointer.is_empty() {
                    format!("body: {}", v.detail)
                } else {
                    format!("body `{}`: {}", v.pointer, v.detail)
                },
                pointer: v.pointer,
                code: v.code,
            })
            .collect();
        Some(self.body_problem_with_more(ProblemKind::InvalidBody, errors, more, op, parts))
    }

    /// Streams a multipart body to `call` while its fields are validated; a refused body
    /// never reaches the inner service whole, and its problem answers instead.
    pub(crate) async fn stream_multipart<B, F, Fut, T, E>(
        &self,
        op: &Operation,
        step: (B, usize, String),
        parts: &Parts,
        call: F,
    ) -> Result<Result<T, E>, Response<Bytes>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        F: FnOnce(crate::body::Body) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let (body, index, boundary) = step;
        let entry = &op
            .body
            .as_ref()
            .expect("multipart comes from a body plan")
            .entries[index];
        let (reader, inner_body, tee) = tee::tee(body);
        let validation = async {
            let parsed = body::parse_multipart(
                reader,
                &boundary,
                &entry.form_fields,
                &self.coercion,
                self.multipart_limits(),
            )
            .await;
            let outcome = match self.multipart_problem(op, entry, parsed, parts) {
                Some(problem) => Err(problem),
                None => Ok(()),
            };
            tee.finish(outcome.is_ok()).await;
            outcome
        };
        let inner = call(inner_body);
        futures_util::pin_mut!(validation);
        futures_util::pin_mut!(inner);
        match futures_util::future::select(validation, inner).await {
            Either::Left((Ok(()), inner)) => Ok(inner.await),
            // Dropping the inner future cancels it: it never saw a complete body.
            Either::Left((Err(problem), _)) => Err(problem),
            // The inner service answered before reading everything: the request must
            // still be valid for its answer to stand.
            Either::Right((answer, validation)) => validation.await.map(|()| answer),
        }
    }

    fn multipart_limits(&self) -> body::MultipartLimits {
        body::MultipartLimits {
            parts: self.options.multipart_parts_limit,
            json_depth: self.options.json_depth_limit,
            field_bytes: self.options.body_limit,
        }
    }

    /// The problem a parsed multipart body answers, or None when it is valid.
    fn multipart_problem(
        &self,
        op: &Operation,
        entry: &BodyEntry,
        parsed: Result<Value, MultipartFailure>,
        parts: &Parts,
    ) -> Option<Response<Bytes>> {
        match parsed {
            Ok(fields) => self.schema_problem(op, entry, &fields, parts),
            Err(MultipartFailure::Malformed(errors)) => {
                Some(self.body_problem(ProblemKind::MalformedBody, errors, op, parts))
            }
            Err(MultipartFailure::TooLarge(limit)) => Some(self.reject(
                Problem::new(
                    ProblemKind::PayloadTooLarge,
                    format!("the multipart fields are larger than the limit of {limit} bytes"),
                ),
                Some(op),
                parts,
            )),
        }
    }

    /// Checks a multipart body already read whole (report-only mode).
    pub(crate) async fn check_multipart_bytes(
        &self,
        op: &Operation,
        entry: usize,
        boundary: &str,
        bytes: Bytes,
        parts: &Parts,
    ) -> Option<Response<Bytes>> {
        let entry = &op.body.as_ref()?.entries[entry];
        let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
        let parsed = body::parse_multipart(
            stream,
            boundary,
            &entry.form_fields,
            &self.coercion,
            self.multipart_limits(),
        )
        .await;
        self.multipart_problem(op, entry, parsed, parts)
    }

    fn body_problem(
        &self,
        kind: ProblemKind,
        errors: Vec<FieldError>,
        op: &Operation,
        parts: &Parts,
    ) -> Response<Bytes> {
        self.body_problem_with_more(kind, errors, 0, op, parts)
    }

    /// A body problem whose errors were cut short, `more` of them only counted.
    fn body_problem_with_more(
        &self,
        kind: ProblemKind,
        errors: Vec<FieldError>,
        more: usize,
        op: &Operation,
        parts: &Parts,
    ) -> Response<Bytes> {
        let detail = match (errors.first(), errors.len() + more) {
            (Some(first), total) if total > 1 => {
                format!("{} (and {} more)", first.detail, total - 1)
            }
            _ => summary(&errors, "body"),
        };
        let mut problem = Problem::new(kind, detail).with_errors(errors, self.options.error_cap);
        problem.errors_omitted += more;
        self.reject(problem, Some(op), parts)
    }

    /// Finishes a problem (status, instance, operation), logs it, and renders it.
    pub(crate) fn reject(
        &self,
        mut problem: Problem,
        op: Option<&Operation>,
        parts: &Parts,
    ) -> Response<Bytes> {
        problem.status = Problem::status(problem.kind, self.options.unprocessable_bodies).as_u16();
        // A secret path parameter (`/reset/{token}`) keeps the path out of the answer.
        let secret_path = op.is_some_and(|o| o.secret_path);
        problem.instance = (!secret_path).then(|| truncate(parts.uri.path()).to_owned());
        problem.operation_id = op.and_then(|o| o.id.as_deref()).map(str::to_owned);
        let enforced = self.options.enforce;
        tracing::info!(
            target: "oasgate::rejection",
            status = problem.status,
            method = %parts.method,
            operation = op.map_or("", |o| o.name()),
            errors = %problem.log_summary(),
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
        });
        // A deprecated operation says so on its problems too.
        crate::service::add_headers(
            &mut response,
            op.and_then(|o| o.response_headers.as_deref()),
        );
        response
    }
}

/// A parameter's value exactly as written in the header (case preserved).
fn original_param(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn place_of(location: Location) -> Place {
    match location {
        Location::Path => Place::Path,
        Location::Query => Place::Query,
        Location::Header => Place::Header,
        Location::Cookie => Place::Cookie,
    }
}

fn param_error(p: &Param, place: Place, pointer: &str, code: &str, detail: String) -> FieldError {
    let at = if pointer.is_empty() {
        String::new()
    } else {
        format!(" at `{pointer}`")
    };
    FieldError {
        place,
        name: String::from(&*p.name),
        pointer: pointer.to_owned(),
        code: code.to_owned(),
        detail: format!("{} parameter `{}`{at}: {detail}", place.as_str(), p.name),
    }
}

/// All values of a header, or an error when one is not visible ASCII text.
fn header_values<'a>(parts: &'a Parts, name: &str) -> Result<Vec<&'a str>, DecodeError> {
    parts
        .headers
        .get_all(name)
        .iter()
        .map(|v| {
            v.to_str().map_err(|_| DecodeError {
                code: "encoding",
                detail: "the header value is not visible ASCII text".to_owned(),
            })
        })
        .collect()
}

/// Whether a (decoded) query key belongs to a parameter or a security scheme of `op`.
fn is_declared(op: &Operation, key: &str) -> bool {
    is_parameter(op, key) || is_credential(op, key)
}

/// Whether a (decoded) query key is the name of an `apiKey` scheme `in: query` of `op`.
fn is_credential(op: &Operation, key: &str) -> bool {
    op.extra_query_names.iter().any(|n| n == key)
}

/// Whether a (decoded) query key is read by one of `op`'s query parameters.
fn is_parameter(op: &Operation, key: &str) -> bool {
    op.query.iter().any(|p| {
        *p.name == *key
            || (p.owns_object_keys
                && match &p.shape {
                    params::Shape::Object(o) => {
                        o.properties.iter().any(|(name, _)| name == key)
                            || key
                                .strip_prefix(&*p.name)
                                .is_some_and(|rest| rest.starts_with('['))
                    }
                    _ => false,
                })
    })
}

/// Errors for query keys no parameter (nor security scheme) declares.
fn undeclared_query(op: &Operation, query: &[(&str, &str)], errors: &mut Vec<FieldError>) {
    // Each undeclared name is reported once, however often it is given.
    let mut reported = std::collections::HashSet::new();
    for (raw_key, _) in query {
        let key = percent_encoding::percent_decode_str(raw_key).decode_utf8_lossy();
        if !is_declared(op, &key) && reported.insert(key.clone()) {
            errors.push(FieldError {
                place: Place::Query,
                name: key.to_string(),
                pointer: String::new(),
                code: "undeclared".to_owned(),
                detail: format!(
                    "query parameter `{}` is not declared by this operation",
                    truncate(&key)
                ),
            });
        }
    }
}

/// Whether cookie `name` is read by parameter `p` (its own name, or a property of an exploded
/// object).
fn reads_cookie(p: &Param, name: &str) -> bool {
    *p.name == *name
        || (p.explode
            && matches!(&p.shape, params::Shape::Object(o)
                if o.properties.iter().any(|(property, _)| property == name)))
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

impl Plan {
    /// Errors for what the service behind could read otherwise than oasgate did: a singleton
    /// header oasgate reads given more than once, an API key given twice, and, when the query
    /// is passed on as sent, a raw `;`. Allocates nothing when there is none.
    ///
    /// RFC 9110 §5.3: "A sender MUST NOT generate multiple field lines with the same name in a
    /// message ... unless that field's definition allows multiple field line values to be
    /// recombined as a comma-separated list". `Content-Type`, `Authorization` and `Host` are
    /// single values; given twice, one server takes the first, another the last and another
    /// joins them, so whichever oasgate checked, the service may read another.
    fn ambiguous(&self, op: &Operation, query: &[(&str, &str)], parts: &Parts) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let headers = &parts.headers;
        // RFC 9112 §3.2: a server "MUST respond with a 400 (Bad Request) status code to any
        // request message that contains more than one Host header field line or a Host header
        // field with an invalid field value".
        if let Some(host) = single(headers, header::HOST, &mut errors)
            && host.as_bytes().contains(&b',')
        {
            errors.push(listed(Place::Header, header::HOST.as_str()));
        }
        if op.body.is_some()
            && let Some(content_type) = single(headers, header::CONTENT_TYPE, &mut errors)
            && comma_outside_quotes(content_type.as_bytes())
        {
            // `application/json, application/x-www-form-urlencoded` is two media types in
            // one line: a list that `Content-Type` (RFC 9110 §8.3) does not allow.
            errors.push(listed(Place::Header, header::CONTENT_TYPE.as_str()));
        }
        let mut authorization = false;
        for requirement in op.security.alternatives.iter().flatten() {
            match &*requirement.kind {
                SchemeKind::Bearer | SchemeKind::Basic | SchemeKind::OtherHttp(_) => {
                    authorization = true;
                }
                SchemeKind::ApiKey { place, name } => {
                    let given = match place {
                        Place::Header => headers.get_all(name.as_str()).iter().count(),
                        Place::Cookie => cookie_count(headers, name),
                        Place::Query => query
                            .iter()
                            .filter(|(key, _)| query_key_is(key, name))
                            .count(),
                        Place::Path | Place::Body => 0,
                    };
                    let what = match place {
                        Place::Cookie => "cookie",
                        Place::Query => "query parameter",
                        _ => "header",
                    };
                    if given > 1 && !errors.iter().any(|e| e.place == *place && e.name == *name) {
                        errors.push(repeated(*place, name, what));
                    }
                }
                SchemeKind::MutualTls => {}
            }
        }
        if authorization {
            single(headers, header::AUTHORIZATION, &mut errors);
        }
        if !self.options.canonical_query
            && let Some((key, _)) = query
                .iter()
                .find(|(k, v)| k.contains(';') || v.contains(';'))
        {
            // Passed on as sent, a `;` would be read as a pair delimiter by some servers
            // (Rack 2, older `parse_qs`) and not by oasgate, which splits on `&` only.
            let name = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
            let name = truncate(&name).to_owned();
            errors.push(FieldError {
                place: Place::Query,
                detail: format!(
                    "query parameter `{name}`: a raw `;` may be read as a delimiter by the \
                     service; expected it percent-encoded as `%3B`"
                ),
                name,
                pointer: String::new(),
                code: "delimiter".to_owned(),
            });
        }
        errors
    }
}

/// The one line of a singleton header, or `None` when it is absent or given more than once
/// (then with an error). One lookup.
fn single<'h>(
    headers: &'h http::HeaderMap,
    name: header::HeaderName,
    errors: &mut Vec<FieldError>,
) -> Option<&'h http::HeaderValue> {
    let mut lines = headers.get_all(&name).iter();
    let first = lines.next()?;
    if lines.next().is_some() {
        errors.push(repeated(Place::Header, name.as_str(), "header"));
        return None;
    }
    Some(first)
}

/// A singleton given more than once; its values are never shown (they may be secrets).
fn repeated(place: Place, name: &str, what: &str) -> FieldError {
    FieldError {
        place,
        name: name.to_owned(),
        pointer: String::new(),
        code: "duplicate".to_owned(),
        detail: format!("{what} `{name}` is given more than once; expected a single value"),
    }
}

/// A singleton header whose one line lists several values.
fn listed(place: Place, name: &str) -> FieldError {
    FieldError {
        place,
        name: name.to_owned(),
        pointer: String::new(),
        code: "duplicate".to_owned(),
        detail: format!("header `{name}` lists several values; expected a single value"),
    }
}

/// Whether a header value has a `,` outside a quoted string (RFC 9110 §5.6.4).
fn comma_outside_quotes(value: &[u8]) -> bool {
    let mut quoted = false;
    let mut escaped = false;
    for &b in value {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            return true;
        }
    }
    false
}

/// How many times cookie `name` is given over every `Cookie` line.
fn cookie_count(headers: &http::HeaderMap, name: &str) -> usize {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            key.trim_matches([' ', '\t']) == name
        })
        .count()
}

/// Whether a raw query key decodes (`+` a space) to `name`, allocating only for escapes.
fn query_key_is(key: &str, name: &str) -> bool {
    if !key.contains(['%', '+']) {
        return key == name;
    }
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy() == name
}
