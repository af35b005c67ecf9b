//! [`ResponseFuture`] and [`ResponseBody`]: the inner service's answer, or a problem.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Response};
use http_body::Body;
use pin_project_lite::pin_project;

use crate::response::{Collect, Context as Check, ResponseBody, Started, finish};

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
        Inner { #[pin] future: F, headers: Option<Arc<[(HeaderName, HeaderValue)]>>, check: Option<Box<Check>> },
        Boxed { future: BoxedFuture<ResBody, E>, headers: Option<Arc<[(HeaderName, HeaderValue)]>>, check: Option<Box<Check>> },
        // Response validation in enforce mode: the body read before the answer is chosen.
        Collecting { collect: Box<Collect<ResBody>> },
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

    pub(crate) fn inner(
        future: F,
        headers: Option<Arc<[(HeaderName, HeaderValue)]>>,
        check: Option<Box<Check>>,
    ) -> Self {
        Self {
            state: State::Inner {
                future,
                headers,
                check,
            },
        }
    }

    pub(crate) fn boxed(
        future: BoxedFuture<ResBody, E>,
        headers: Option<Arc<[(HeaderName, HeaderValue)]>>,
        check: Option<Box<Check>>,
    ) -> Self {
        Self {
            state: State::Boxed {
                future,
                headers,
                check,
            },
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F, ResBody, E>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: Body<Data = Bytes>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        let (response, check) = match state.as_mut().project() {
            StateProj::Problem { response } => {
                let response = response.take().expect("polled after completion");
                return Poll::Ready(Ok(response.map(ResponseBody::full)));
            }
            StateProj::Inner {
                future,
                headers,
                check,
            } => {
                let mut response = ready!(future.poll(cx))?;
                finish(&mut response, headers.as_deref());
                (response, check.take())
            }
            StateProj::Boxed {
                future,
                headers,
                check,
            } => match ready!(future.as_mut().poll(cx))? {
                Answered::Inner(mut response) => {
                    finish(&mut response, headers.as_deref());
                    (response, check.take())
                }
                Answered::Problem(response) => {
                    return Poll::Ready(Ok(response.map(ResponseBody::full)));
                }
            },
            StateProj::Collecting { collect } => return collect.poll(cx).map(Ok),
        };
        let Some(check) = check else {
            return Poll::Ready(Ok(response.map(ResponseBody::inner)));
        };
        match crate::response::start(check, response) {
            Started::Done(response) => Poll::Ready(Ok(response)),
            Started::Collect(mut collect) => {
                let polled = collect.poll(cx);
                state.set(State::Collecting { collect });
                polled.map(Ok)
            }
        }
    }
}
