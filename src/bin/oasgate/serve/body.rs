//! Bodies streamed through the gateway, bounded in time, and whose fault a failure was.
//!
//! A [`Guarded`] body ends with an error when no chunk arrives for `body_idle_timeout` (counted
//! only while it is being waited for, so a reader that is slow to ask does not count against
//! the sender) or when the exchange's `request_timeout` passes. An error makes hyper abort the
//! message: an upstream request is cut off without its last chunk (the upstream sees an
//! incomplete message, never a shorter well-framed one), and an answer whose head is sent ends
//! by closing the client's connection. A client's request body records in its [`ClientFault`]
//! why it failed, so that the failure is answered and counted as the client's, not as the
//! upstream's.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::BoxError;

/// Why a client's request body failed, once it has.
#[derive(Debug, Clone, Default)]
pub struct ClientFault(Arc<OnceLock<Failure>>);

impl ClientFault {
    /// The failure, if the body failed.
    pub fn get(&self) -> Option<&Failure> {
        self.0.get()
    }

    fn set(&self, failure: Failure) {
        let _ = self.0.set(failure);
    }
}

/// How a streamed body failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Reading it failed: a malformed chunk, a connection closed before the end.
    Unreadable(String),
    /// Nothing arrived for the idle timeout.
    Stalled(Duration),
    /// The exchange's time ran out.
    Deadline(Duration),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unreadable(error) => write!(f, "the body could not be read: {error}"),
            Failure::Stalled(idle) => write!(f, "no data arrived for {}", humane(*idle)),
            Failure::Deadline(limit) => {
                write!(f, "the exchange did not end within {}", humane(*limit))
            }
        }
    }
}

impl std::error::Error for Failure {}

/// `30s`, `500ms`: how durations read in messages.
pub fn humane(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// A body that fails when it stalls or its exchange's time runs out.
pub struct Guarded<B> {
    inner: B,
    idle: Duration,
    /// Fires `idle` after the body started being waited for; made the first time the body
    /// is waited for, which a body whose data is always ready never is.
    timer: Option<Pin<Box<Sleep>>>,
    /// Whether the last poll left the reader waiting (the timer then runs).
    waiting: bool,
    deadline: Option<(Pin<Box<Sleep>>, Duration)>,
    fault: Option<ClientFault>,
    done: bool,
}

impl<B> Guarded<B> {
    /// `inner`, failing after `idle` without a chunk.
    pub fn new(inner: B, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            timer: None,
            waiting: false,
            deadline: None,
            fault: None,
            done: false,
        }
    }

    /// Also fails at `at`, the end of an exchange allowed `limit`.
    pub fn deadline(mut self, at: Instant, limit: Duration) -> Self {
        self.deadline = Some((Box::pin(tokio::time::sleep_until(at)), limit));
        self
    }

    /// Records its failure in `fault`.
    pub fn recording(mut self, fault: ClientFault) -> Self {
        self.fault = Some(fault);
        self
    }

    fn fail(&mut self, failure: Failure) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        if let Some(fault) = &self.fault {
            fault.set(failure.clone());
        }
        Poll::Ready(Some(Err(Box::new(failure))))
    }
}

impl<B> Body for Guarded<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        // First, so that a body whose data is always ready (a reader slow to ask) still ends.
        if let Some((deadline, limit)) = &mut this.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            let limit = *limit;
            return this.fail(Failure::Deadline(limit));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.waiting = false;
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(error))) => {
                let error: BoxError = error.into();
                return this.fail(Failure::Unreadable(error.to_string()));
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        let idle = this.idle;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        if !this.waiting {
            this.waiting = true;
            timer.as_mut().reset(Instant::now() + idle);
        }
        if timer.as_mut().poll(cx).is_ready() {
            return this.fail(Failure::Stalled(idle));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, StreamBody};

    /// A body that yields `chunks`, then never ends.
    fn stalling(chunks: usize) -> impl Body<Data = Bytes, Error = BoxError> + Unpin {
        let stream = futures_util::stream::iter(
            (0..chunks).map(|_| Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"x")))),
        )
        .chain(futures_util::stream::pending());
        StreamBody::new(stream)
    }

    #[tokio::test]
    async fn a_stalled_body_fails_and_records_why() {
        let fault = ClientFault::default();
        let idle = Duration::from_millis(100);
        let mut body = Guarded::new(stalling(2), idle).recording(fault.clone());
        for _ in 0..2 {
            let frame = body.frame().await.unwrap().unwrap();
            assert_eq!(frame.into_data().unwrap(), "x");
        }
        let error = tokio::time::timeout(Duration::from_secs(20), body.frame())
            .await
            .expect("the stalled body ends")
            .unwrap()
            .unwrap_err();
        assert_eq!(error.to_string(), "no data arrived for 100ms");
        assert_eq!(fault.get(), Some(&Failure::Stalled(idle)));
        assert!(body.frame().await.is_none(), "a failed body stays ended");
    }

    #[tokio::test]
    async fn the_deadline_cuts_a_body_that_keeps_trickling() {
        // A chunk every 20 ms never stalls for 10 s, so only the deadline can end it.
        let trickle = StreamBody::new(futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"x"))), ()))
        }));
        let limit = Duration::from_millis(300);
        let mut body = Guarded::new(Box::pin(trickle), Duration::from_secs(10))
            .deadline(Instant::now() + limit, limit);
        let mut chunks = 0;
        let error = loop {
            match body.frame().await {
                Some(Ok(_)) => chunks += 1,
                Some(Err(error)) => break error,
                None => panic!("the body ended"),
            }
            assert!(chunks < 100_000, "the deadline never came");
        };
        assert_eq!(error.to_string(), "the exchange did not end within 300ms");
    }

    #[tokio::test]
    async fn a_reading_error_is_the_bodys_fault() {
        let failing = StreamBody::new(futures_util::stream::iter([
            Ok(Frame::data(Bytes::from_static(b"x"))),
            Err::<Frame<Bytes>, BoxError>("invalid chunk size".into()),
        ]));
        let fault = ClientFault::default();
        let mut body = Guarded::new(failing, Duration::from_secs(30)).recording(fault.clone());
        assert!(body.frame().await.unwrap().is_ok());
        assert!(body.frame().await.unwrap().is_err());
        assert_eq!(
            fault.get(),
            Some(&Failure::Unreadable("invalid chunk size".to_owned()))
        );
    }
}
