//! [`OpenApi`]: the service the layer wraps around an inner service.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::future::{ResponseBody, ResponseFuture};
use crate::plan::Plan;
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
        let (index, validated, found, query) = match self.plan.head(&parts) {
            Head::Respond(response) => return ResponseFuture::problem(response),
            Head::PassThrough => {
                return ResponseFuture::inner(
                    self.inner.call(Request::from_parts(parts, body)),
                    None,
                );
            }
            Head::Operation {
                index,
                validated,
                found,
                query,
            } => (index, validated, found, query),
        };
        if let Some(query) = query {
            set_query(&mut parts, &query);
        }
        let op = &self.plan.operations[index];
        let headers = op.response_headers.clone();
        if headers.is_some() && !op.deprecation_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(target: "oasgate::deprecation", operation = op.name(), "a deprecated operation was called");
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
            if let Err(problem) = plan.verify(op, &found, &parts).await {
                return Ok(problem.map(ResponseBody::full));
            }
            let models = match plan.load_models(op, &validated, &parts).await {
                Ok(models) => models,
                Err(problem) => return Ok(problem.map(ResponseBody::full)),
            };
            let step = match plan.body(op, &parts, body).await {
                Ok(step) => step,
                Err(problem) => return Ok(problem.map(ResponseBody::full)),
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
                    let mut validated = validated;
                    validated.body = parsed;
                    let mut parts = parts;
                    fix_content_length(&mut parts, &body);
                    let mut request = Request::from_parts(parts, body);
                    extend(&mut request, validated);
                    inner.call(request).await?
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
                    match plan
                        .stream_multipart(op, (body, entry, boundary), &parts, call)
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

/// Replaces the request's query, keeping the path (an unparsable result keeps the original).
fn set_query(parts: &mut http::request::Parts, query: &str) {
    let path = parts.uri.path();
    let path_and_query = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    match http::uri::PathAndQuery::try_from(path_and_query) {
        Ok(pq) => uri.path_and_query = Some(pq),
        Err(e) => {
            tracing::debug!(target: "oasgate::rejection", error = %e, "canonical query not applied")
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
