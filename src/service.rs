//! [`OpenApi`]: the service the layer wraps around an inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use tower_service::Service;

use crate::future::{ResponseBody, ResponseFuture};
use crate::plan::Plan;
use crate::problem::{Problem, ProblemKind, Rejection};
use crate::validate::{BodyStep, Head};
use crate::validated::Validated;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Validates requests, then calls the inner service with a [`Validated`](crate::Validated)
/// extension; answers problems itself. Made by [`OpenApiLayer`](crate::OpenApiLayer).
///
/// The request body type `B` must be buildable from [`Bytes`] and from
/// [`oasgate::body::Body`](crate::body::Body) (axum's `Body` is, with the default `axum`
/// feature; for hyper, map `Incoming` into `oasgate::body::Body`, as `examples/hyper` does):
/// a body read for validation is handed on as the same bytes, and a multipart body is
/// streamed on while its fields are validated.
#[derive(Clone)]
pub struct OpenApi<S> {
    inner: S,
    plan: Arc<Plan>,
}

impl<S> OpenApi<S> {
    pub(crate) fn new(inner: S, plan: Arc<Plan>) -> Self {
        Self { inner, plan }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for OpenApi<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S, B, ResBody> Service<Request<B>> for OpenApi<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + From<Bytes> + From<crate::body::Body> + Send + 'static,
    B::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let enforce = self.plan.options.enforce;
        let (index, validated, found, path, query) = match self.plan.head(&parts) {
            Head::Respond(response) => return ResponseFuture::problem(response),
            Head::Reject(response) if enforce => return ResponseFuture::problem(response),
            Head::Reject(response) => {
                let request = let_through(Request::from_parts(parts, body), &response);
                return ResponseFuture::inner(self.inner.call(request), None);
            }
            Head::PassThrough { path } => {
                if let Some(path) = path {
                    set_path_and_query(&mut parts, Some(&path), None);
                }
                return ResponseFuture::inner(
                    self.inner.call(Request::from_parts(parts, body)),
                    None,
                );
            }
            Head::Operation {
                index,
                validated,
                found,
                path,
                query,
            } => (index, validated, found, path, query),
        };
        if path.is_some() || query.is_some() {
            set_path_and_query(&mut parts, path.as_deref(), query.as_deref());
        }
        let op = &self.plan.operations[index];
        let headers = op.response_headers.clone();
        if let Some(warning) = op.first_call_warning() {
            tracing::warn!(target: "oasgate::deprecation", operation = op.name(), "{warning}");
        }
        let needs_verifier = !found.is_empty() && self.plan.options.verifier.is_some();
        if op.body.is_none() && !needs_verifier && !op.has_models {
            let mut request = Request::from_parts(parts, body);
            if let Some(paging) = &validated.paging {
                request.extensions_mut().insert(paging.clone());
            }
            request.extensions_mut().insert(validated);
            return ResponseFuture::inner(self.inner.call(request), headers);
        }
        // The rest awaits: take the service that was polled ready, leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let plan = self.plan.clone();
        ResponseFuture::boxed(Box::pin(async move {
            let op = &plan.operations[index];
            // Report-only: a refused request goes on untouched, carrying its `Rejection`. The
            // problem is dropped before the inner service is awaited, so the future does not
            // keep room for it.
            macro_rules! refuse {
                ($problem:expr, $body:expr) => {{
                    let call = {
                        let problem = $problem;
                        if enforce {
                            return Ok(problem.map(ResponseBody::full));
                        }
                        inner.call(let_through(Request::from_parts(parts, $body), &problem))
                    };
                    let mut response = call.await?;
                    add_headers(&mut response, headers.as_deref());
                    return Ok(response.map(ResponseBody::inner));
                }};
            }
            // Every step but the inner call is boxed where it runs, so that the future every
            // body-checked request allocates stays small; the rarer ones only when they run.
            if needs_verifier {
                let verified = Box::pin(plan.verify(op, &found, &parts)).await;
                if let Err(problem) = verified {
                    refuse!(problem, body);
                }
            }
            let models = if op.has_models {
                match Box::pin(plan.load_models(op, &validated, &parts)).await {
                    Ok(models) => models,
                    Err(problem) => refuse!(problem, body),
                }
            } else {
                None
            };
            // In a block, so that the checked result is not kept across the awaits below.
            let step = {
                let checked = if enforce {
                    Box::pin(plan.body(op, &parts, body)).await
                } else {
                    match Box::pin(report_only_body(&plan, op, &parts, body)).await {
                        ReportOnly::Checked(checked) => checked,
                        ReportOnly::Rejected(body, problem) => refuse!(problem, body),
                    }
                };
                match checked {
                    Ok(step) => step,
                    Err(problem) => return Ok(problem.map(ResponseBody::full)),
                }
            };
            let extend = |request: &mut Request<B>, validated: Validated| {
                if let Some(paging) = &validated.paging {
                    request.extensions_mut().insert(paging.clone());
                }
                if let Some(models) = models {
                    request.extensions_mut().insert(models);
                }
                request.extensions_mut().insert(validated);
            };
            let mut response = match step {
                BodyStep::Ready(body, parsed) => {
                    // Built in a block: only the inner future is kept across the await.
                    let call = {
                        let mut validated = validated;
                        validated.body = parsed;
                        let mut parts = parts;
                        fix_content_length(&mut parts, &body);
                        let mut request = Request::from_parts(parts, body);
                        extend(&mut request, validated);
                        inner.call(request)
                    };
                    call.await?
                }
                BodyStep::Multipart {
                    body,
                    entry,
                    boundary,
                } => {
                    // The fields are validated while the inner service reads the stream, so
                    // `Validated::body` stays empty for multipart bodies.
                    let head = parts.clone();
                    let call = |streamed: crate::body::Body| {
                        let mut request = Request::from_parts(head, B::from(streamed));
                        extend(&mut request, validated);
                        inner.call(request)
                    };
                    match Box::pin(plan.stream_multipart(op, (body, entry, boundary), &parts, call))
                        .await
                    {
                        Ok(answer) => answer?,
                        Err(problem) => return Ok(problem.map(ResponseBody::full)),
                    }
                }
            };
            add_headers(&mut response, headers.as_deref());
            Ok(response.map(ResponseBody::inner))
        }))
    }
}

/// Replaces the request's path, query or both with their canonical forms (`None` keeps what
/// was sent; an unparsable result keeps the original).
fn set_path_and_query(parts: &mut http::request::Parts, path: Option<&str>, query: Option<&str>) {
    let path = path.unwrap_or(parts.uri.path());
    let query = query.or(parts.uri.query()).unwrap_or("");
    let mut path_and_query = String::with_capacity(path.len() + 1 + query.len());
    path_and_query.push_str(path);
    if !query.is_empty() {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    match http::uri::PathAndQuery::try_from(path_and_query) {
        Ok(pq) => uri.path_and_query = Some(pq),
        Err(e) => {
            tracing::debug!(target: "oasgate::rejection", error = %e, "canonical path or query not applied")
        }
    }
    parts.uri = http::Uri::from_parts(uri).unwrap_or_default();
}

/// Keeps `Content-Length` true when the body handed on differs from the one received
/// (schema defaults filled in).
fn fix_content_length<B: Body>(parts: &mut http::request::Parts, body: &B) {
    if let Some(length) = body.size_hint().exact()
        && let Some(declared) = parts.headers.get(http::header::CONTENT_LENGTH)
        && declared.to_str().ok().and_then(|v| v.parse::<u64>().ok()) != Some(length)
    {
        parts.headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(length),
        );
    }
}

/// Adds an operation's fixed response headers (`Deprecation`, `Sunset`).
pub(crate) fn add_headers<B>(
    response: &mut Response<B>,
    headers: Option<&[(http::HeaderName, http::HeaderValue)]>,
) {
    for (name, value) in headers.into_iter().flatten() {
        response.headers_mut().insert(name.clone(), value.clone());
    }
}

/// Report-only: the request goes on, carrying the rejection the problem would have been.
fn let_through<B>(mut request: Request<B>, problem: &Response<Bytes>) -> Request<B> {
    if let Some(rejection) = problem.extensions().get::<Rejection>() {
        request.extensions_mut().insert(rejection.clone());
    }
    request
}

/// The body check in report-only mode.
enum ReportOnly<B> {
    /// Checked (or passed unread); go on as when enforcing.
    Checked(Result<BodyStep<B>, Response<Bytes>>),
    /// The body breaks the document: here it is whole, with the problem it would answer.
    Rejected(B, Response<Bytes>),
}

/// Reads a body only when its declared size is within the limit, so that the same bytes can
/// be handed on whatever the verdict; a body of unknown or larger size passes unread.
async fn report_only_body<B>(
    plan: &Plan,
    op: &crate::plan::Operation,
    parts: &http::request::Parts,
    body: B,
) -> ReportOnly<B>
where
    B: Body<Data = Bytes> + From<Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let limit = plan.options.body_limit as u64;
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or(body.size_hint().exact());
    if declared.is_none_or(|n| n > limit) {
        tracing::debug!(
            target: "oasgate::rejection",
            operation = op.name(),
            "report-only: body of unknown or too large size not checked"
        );
        return ReportOnly::Checked(Ok(BodyStep::Ready(body, Default::default())));
    }
    let bytes = match Limited::new(body, plan.options.body_limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        // The client hung up or sent more than it declared: nothing whole is left to hand on.
        Err(_) => {
            let problem = Problem::new(ProblemKind::MalformedBody, "the body could not be read");
            return ReportOnly::Checked(Err(plan.reject(problem, Some(op), parts)));
        }
    };
    match plan.body(op, parts, B::from(bytes.clone())).await {
        // Read whole already: check the fields here rather than streaming, so a refused
        // upload can still be handed on whole.
        Ok(BodyStep::Multipart {
            entry, boundary, ..
        }) => {
            match plan
                .check_multipart_bytes(op, entry, &boundary, bytes.clone(), parts)
                .await
            {
                Some(problem) => ReportOnly::Rejected(B::from(bytes), problem),
                None => {
                    ReportOnly::Checked(Ok(BodyStep::Ready(B::from(bytes), Default::default())))
                }
            }
        }
        Ok(step) => ReportOnly::Checked(Ok(step)),
        Err(problem) => ReportOnly::Rejected(B::from(bytes), problem),
    }
}
