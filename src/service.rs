//! [`OpenApi`]: the service the layer wraps around an inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::future::{Answered, ResponseFuture};
use crate::plan::Plan;
use crate::problem::Rejection;
use crate::request::{BodyStep, Disposition, ReportOnly};
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
    type Response = Response<crate::response::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let head = match self.plan.check_head(&parts) {
            Ok(Disposition::Operation(head)) => head,
            Ok(Disposition::Answer(response)) => return ResponseFuture::problem(response),
            Ok(Disposition::PassThrough { path }) => {
                if path.is_some() {
                    set_path_and_query(&mut parts, path.as_deref(), None);
                }
                return ResponseFuture::inner(
                    self.inner.call(Request::from_parts(parts, body)),
                    None,
                    None,
                );
            }
            Err(rejected) => {
                let enforced = self.plan.enforces(&rejected);
                let headers = rejected.op.and_then(|op| op.response_headers.clone());
                // Report-only: the answer to a request let through is checked all the same.
                let check = rejected
                    .op
                    .filter(|_| !enforced)
                    .and_then(|op| {
                        self.plan
                            .operations
                            .iter()
                            .position(|o| std::ptr::eq(o, op))
                    })
                    .and_then(|index| self.plan.response_context(index, &parts));
                let response = self.plan.render(rejected, &parts);
                if enforced {
                    return ResponseFuture::problem(response);
                }
                let request = let_through(Request::from_parts(parts, body), &response);
                return ResponseFuture::inner(self.inner.call(request), headers, check);
            }
        };
        if head.path.is_some() || head.query.is_some() {
            set_path_and_query(&mut parts, head.path.as_deref(), head.query.as_deref());
        }
        let op = &self.plan.operations[head.index];
        let headers = op.response_headers.clone();
        let check = self.plan.response_context(head.index, &parts);
        if let Some(warning) = op.first_call_warning() {
            tracing::warn!(target: "oasgate::deprecation", operation = op.name(), "{warning}");
        }
        if op.body.is_none() && !self.plan.needs_admission(&head) {
            let mut request = Request::from_parts(parts, body);
            extend(&mut request, head.validated, None);
            return ResponseFuture::inner(self.inner.call(request), headers, check);
        }
        // The rest awaits: take the service that was polled ready, leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let plan = self.plan.clone();
        ResponseFuture::boxed(
            Box::pin(async move {
                let op = &plan.operations[head.index];
                // Report-only: a refused request goes on untouched, carrying its `Rejection`.
                // The problem is dropped before the inner service is awaited, so the future
                // does not keep room for it.
                macro_rules! refuse {
                    ($rejected:expr, $body:expr) => {{
                        let call = {
                            let rejected = $rejected;
                            let enforced = plan.enforces(&rejected);
                            let response = plan.render(rejected, &parts);
                            if enforced {
                                return Ok(Answered::Problem(response));
                            }
                            inner.call(let_through(Request::from_parts(parts, $body), &response))
                        };
                        return call.await.map(Answered::Inner);
                    }};
                }
                // The rarer steps (credentials' verifier, models, report-only reading,
                // multipart) are boxed where they run, so that this future stays small; the
                // body's own check is not: it shares this box rather than costing a second
                // allocation per request.
                let models = match plan.admit(&head).await {
                    Ok(models) => models,
                    Err(rejected) => refuse!(rejected, body),
                };
                let validated = head.validated;
                // In a block, so that the checked result is not kept across the awaits below.
                let step = {
                    let checked = if plan.options.enforce {
                        plan.body(op, &parts, body).await
                    } else {
                        match Box::pin(plan.report_only_body(op, &parts, body)).await {
                            ReportOnly::Checked(checked) => checked,
                            ReportOnly::Rejected(body, rejected) => refuse!(rejected, body),
                        }
                    };
                    match checked {
                        Ok(step) => step,
                        Err(rejected) => {
                            return Ok(Answered::Problem(plan.render(rejected, &parts)));
                        }
                    }
                };
                match step {
                    BodyStep::Ready(body, parsed) => {
                        // Built in a block: only the inner future is kept across the await.
                        let call = {
                            let mut validated = validated;
                            validated.body = parsed;
                            let mut parts = parts;
                            fix_content_length(&mut parts, &body);
                            let mut request = Request::from_parts(parts, body);
                            extend(&mut request, validated, models);
                            inner.call(request)
                        };
                        call.await.map(Answered::Inner)
                    }
                    BodyStep::Items { body, refusal, .. } => {
                        // Items are checked as the inner service reads them; a refused one
                        // ends its body with an error. When the inner service answers after
                        // that, the client gets the item's problem instead of that answer;
                        // an answer given before stands (the inner body was cut short).
                        let head = parts.clone();
                        let call = {
                            let mut request = Request::from_parts(head, B::from(body));
                            extend(&mut request, validated, models);
                            inner.call(request)
                        };
                        let answer = call.await;
                        match crate::body::items::refused(&refusal) {
                            Some(problem) => {
                                let rejected = crate::request::Rejected::new(problem, Some(op));
                                Ok(Answered::Problem(plan.render(rejected, &parts)))
                            }
                            None => answer.map(Answered::Inner),
                        }
                    }
                    BodyStep::Multipart {
                        body,
                        entry,
                        boundary,
                    } => {
                        // The fields are validated while the inner service reads the stream,
                        // so `Validated::body` stays empty for multipart bodies.
                        let head = parts.clone();
                        let call = |streamed: crate::body::Body| {
                            let mut request = Request::from_parts(head, B::from(streamed));
                            extend(&mut request, validated, models);
                            inner.call(request)
                        };
                        match Box::pin(plan.stream_multipart(op, (body, entry, boundary), call))
                            .await
                        {
                            Ok(answer) => answer.map(Answered::Inner),
                            Err(rejected) => Ok(Answered::Problem(plan.render(rejected, &parts))),
                        }
                    }
                }
            }),
            headers,
            check,
        )
    }
}

/// What the handler receives besides the request: the validated values, the merged paging
/// and the loaded models. Inlined: `Validated` is moved into the request's extensions, and a
/// call would move it once more on the way.
#[inline(always)]
fn extend<B>(
    request: &mut Request<B>,
    validated: Validated,
    models: Option<crate::models::Models>,
) {
    if let Some(paging) = &validated.paging {
        request.extensions_mut().insert(paging.clone());
    }
    if let Some(models) = models {
        request.extensions_mut().insert(models);
    }
    request.extensions_mut().insert(validated);
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

/// Report-only: the request goes on, carrying the rejection the problem would have been.
fn let_through<B>(mut request: Request<B>, problem: &Response<Bytes>) -> Request<B> {
    if let Some(rejection) = problem.extensions().get::<Rejection>() {
        request.extensions_mut().insert(rejection.clone());
    }
    request
}
