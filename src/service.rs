//! [`OpenApi`]: the service the layer wraps around an inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use http_body_util::{BodyExt, Limited};

use crate::future::{ResponseBody, ResponseFuture};
use crate::plan::Plan;
use crate::problem::{Problem, ProblemKind, Rejection};
use crate::validate::Head;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Validates requests, then calls the inner service with a [`Validated`](crate::Validated)
/// extension; answers problems itself. Made by [`OpenApiLayer`](crate::OpenApiLayer).
///
/// The request body type `B` must be buildable from [`Bytes`] (axum's `Body` is; for hyper,
/// map `Incoming` into one, as `examples/hyper` does), because a body that was read for
/// validation is handed on as the same bytes.
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
    B: Body<Data = Bytes> + From<Bytes> + Send + 'static,
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
        let (parts, body) = request.into_parts();
        let enforce = self.plan.options.enforce;
        let (index, validated, found) = match self.plan.head(&parts) {
            Head::Respond(response) => return ResponseFuture::problem(response),
            Head::Reject(response) if enforce => return ResponseFuture::problem(response),
            Head::Reject(response) => {
                let request = let_through(Request::from_parts(parts, body), &response);
                return ResponseFuture::inner(self.inner.call(request));
            }
            Head::PassThrough => {
                return ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)));
            }
            Head::Operation {
                index,
                validated,
                found,
            } => (index, validated, found),
        };
        let op = &self.plan.operations[index];
        let needs_verifier = !found.is_empty() && self.plan.options.verifier.is_some();
        if op.body.is_none() && !needs_verifier {
            let mut request = Request::from_parts(parts, body);
            request.extensions_mut().insert(validated);
            return ResponseFuture::inner(self.inner.call(request));
        }
        // The rest awaits: take the service that was polled ready, leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let plan = self.plan.clone();
        ResponseFuture::boxed(Box::pin(async move {
            let op = &plan.operations[index];
            if let Err(problem) = plan.verify(op, &found, &parts).await {
                if enforce {
                    return Ok(problem.map(ResponseBody::full));
                }
                let request = let_through(Request::from_parts(parts, body), &problem);
                return inner
                    .call(request)
                    .await
                    .map(|r| r.map(ResponseBody::inner));
            }
            let checked = if enforce {
                plan.body(op, &parts, body).await
            } else {
                match report_only_body(&plan, op, &parts, body).await {
                    ReportOnly::Checked(checked) => checked,
                    ReportOnly::Rejected(body, problem) => {
                        let request = let_through(Request::from_parts(parts, body), &problem);
                        return inner
                            .call(request)
                            .await
                            .map(|r| r.map(ResponseBody::inner));
                    }
                }
            };
            let (body, parsed) = match checked {
                Ok(ok) => ok,
                Err(problem) => return Ok(problem.map(ResponseBody::full)),
            };
            let mut validated = validated;
            validated.body = parsed;
            let mut request = Request::from_parts(parts, body);
            request.extensions_mut().insert(validated);
            let response = inner.call(request).await?;
            Ok(response.map(ResponseBody::inner))
        }))
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
    Checked(Result<(B, Option<serde_json::Value>), Response<Bytes>>),
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
        return ReportOnly::Checked(Ok((body, None)));
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
        Ok(ok) => ReportOnly::Checked(Ok(ok)),
        Err(problem) => ReportOnly::Rejected(B::from(bytes), problem),
    }
}
