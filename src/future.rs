//! [`ResponseFuture`] and [`ResponseBody`]: the inner service's answer, or a problem.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::response::{Collect, Context as Check, Started, Watch};

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
        // Read ahead (response validation in enforce mode): the frames read, then the rest.
        Replay { frames: VecDeque<Frame<Bytes>>, rest: Option<Pin<Box<B>>> },
        // Checked as it streams (response validation in report mode).
        Watched { #[pin] body: B, watch: Option<Box<Watch>> },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn replay(frames: VecDeque<Frame<Bytes>>, rest: Option<Pin<Box<B>>>) -> Self {
        Self {
            kind: Kind::Replay { frames, rest },
        }
    }

    pub(crate) fn watched(body: B, watch: Box<Watch>) -> Self {
        Self {
            kind: Kind::Watched {
                body,
                watch: Some(watch),
            },
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
            KindProj::Replay { frames, rest } => {
                if let Some(frame) = frames.pop_front() {
                    return Poll::Ready(Some(Ok(frame)));
                }
                match rest {
                    Some(body) => body.as_mut().poll_frame(cx),
                    None => Poll::Ready(None),
                }
            }
            KindProj::Watched { mut body, watch } => {
                let polled = ready!(body.as_mut().poll_frame(cx));
                match &polled {
                    Some(Ok(frame)) => {
                        if let (Some(data), Some(w)) = (frame.data_ref(), watch.as_mut()) {
                            w.feed(data);
                        }
                        if body.is_end_stream()
                            && let Some(mut w) = watch.take()
                        {
                            w.finish();
                        }
                    }
                    Some(Err(_)) => {
                        if let Some(mut w) = watch.take() {
                            w.broke_off();
                        }
                    }
                    None => {
                        if let Some(mut w) = watch.take() {
                            w.finish();
                        }
                    }
                }
                Poll::Ready(polled)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
            Kind::Replay { frames, rest } => {
                frames.is_empty() && rest.as_ref().is_none_or(|b| b.is_end_stream())
            }
            Kind::Watched { body, .. } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Replay { frames, rest } => {
                let read: u64 = frames
                    .iter()
                    .filter_map(|f| f.data_ref())
                    .map(|d| d.len() as u64)
                    .sum();
                match rest {
                    None => SizeHint::with_exact(read),
                    Some(body) => {
                        let hint = body.size_hint();
                        let mut sum = SizeHint::new();
                        sum.set_lower(hint.lower() + read);
                        if let Some(upper) = hint.upper() {
                            sum.set_upper(upper + read);
                        }
                        sum
                    }
                }
            }
            Kind::Watched { body, .. } => body.size_hint(),
        }
    }
}
