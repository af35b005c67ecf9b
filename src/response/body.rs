//! [`ResponseBody`]: the body of every answer the layer gives — the inner service's (as it
//! streams, read ahead, or watched by response validation) or a problem rendered by oasgate.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::Watch;

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
