//! [`ResponseFuture`] and [`ResponseBody`]: the inner service's answer, or a problem.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

type BoxedFuture<ResBody, E> = Pin<Box<dyn Future<Output = Result<Answered<ResBody>, E>> + Send>>;

/// How a request that awaited its checks was answered.
pub(crate) enum Answered<ResBody> {
    /// By the inner service: finished on the way out.
    Inner(Response<ResBody>),
    /// By a problem, rendered (and finished) already.
    Problem(Response<Bytes>),
}

pin_project! {
    /// The response future of [`OpenApi`](crate::OpenApi).
    pub struct ResponseFuture<F, ResBody, E> {
        #[pin]
        state: State<F, ResBody, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, ResBody, E> {
        Problem { response: Option<Response<Bytes>> },
        Inner { #[pin] future: F, headers: Option<Arc<[(HeaderName, HeaderValue)]>> },
        Boxed { future: BoxedFuture<ResBody, E>, headers: Option<Arc<[(HeaderName, HeaderValue)]>> },
    }
}

impl<F, ResBody, E> ResponseFuture<F, ResBody, E> {
    pub(crate) fn problem(response: Response<Bytes>) -> Self {
        Self {
            state: State::Problem {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(future: F, headers: Option<Arc<[(HeaderName, HeaderValue)]>>) -> Self {
        Self {
            state: State::Inner { future, headers },
        }
    }

    pub(crate) fn boxed(
        future: BoxedFuture<ResBody, E>,
        headers: Option<Arc<[(HeaderName, HeaderValue)]>>,
    ) -> Self {
        Self {
            state: State::Boxed { future, headers },
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F, ResBody, E>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Problem { response } => {
                let response = response.take().expect("polled after completion");
                Poll::Ready(Ok(response.map(ResponseBody::full)))
            }
            StateProj::Inner { future, headers } => {
                let mut response = ready!(future.poll(cx))?;
                finish(&mut response, headers.as_deref());
                Poll::Ready(Ok(response.map(ResponseBody::inner)))
            }
            StateProj::Boxed { future, headers } => match ready!(future.as_mut().poll(cx))? {
                Answered::Inner(mut response) => {
                    finish(&mut response, headers.as_deref());
                    Poll::Ready(Ok(response.map(ResponseBody::inner)))
                }
                Answered::Problem(response) => Poll::Ready(Ok(response.map(ResponseBody::full))),
            },
        }
    }
}

/// Finishes a response of an operation: its fixed headers (`Deprecation`, `Sunset`). The one
/// place every answer passes, the inner service's and the layer's own problems alike.
pub(crate) fn finish<B>(response: &mut Response<B>, headers: Option<&[(HeaderName, HeaderValue)]>) {
    for (name, value) in headers.into_iter().flatten() {
        response.headers_mut().insert(name.clone(), value.clone());
    }
}

pin_project! {
    /// The response body: the inner service's, or a problem rendered by oasgate.
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn full(data: Bytes) -> Self {
        Self {
            kind: Kind::Full {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}
