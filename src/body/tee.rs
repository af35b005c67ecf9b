//! Streaming a body to the inner service while oasgate validates it (multipart uploads).
//!
//! Each chunk read from the client goes both to the validator and, one chunk behind, to the
//! inner service. The last chunk is held back until validation is done: the inner service
//! never sees a complete body that was not valid, and a file part is never held in memory
//! whole. On failure the inner service's body ends with an error instead.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_channel::mpsc;
use futures_util::{SinkExt, Stream, StreamExt};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, StreamBody};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many chunks may wait for the inner service before reading from the client pauses.
const BUFFERED_CHUNKS: usize = 4;

struct State<B> {
    /// The client's body; `None` once it has ended (or while a read is in flight).
    body: Option<Pin<Box<B>>>,
    /// The newest chunk, not yet handed to the inner service.
    pending: Option<Bytes>,
    /// Where chunks go to the inner service; `None` once it stopped reading.
    tx: Option<mpsc::Sender<Result<Bytes, BoxError>>>,
    ended: bool,
}

/// The validator's side of a tee, used to finish it.
pub(crate) struct Tee<B> {
    state: Arc<Mutex<State<B>>>,
}

/// Splits `body` into a stream for the validator and a body for the inner service.
pub(crate) fn tee<B>(
    body: B,
) -> (
    impl Stream<Item = Result<Bytes, BoxError>> + Send + 'static,
    super::Body,
    Tee<B>,
)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (tx, rx) = mpsc::channel(BUFFERED_CHUNKS);
    let state = Arc::new(Mutex::new(State {
        body: Some(Box::pin(body)),
        pending: None,
        tx: Some(tx),
        ended: false,
    }));
    let reader = futures_util::stream::unfold(state.clone(), |state| async move {
        let chunk = next_chunk(&state).await?;
        Some((chunk, state))
    });
    let inner = super::Body::new(StreamBody::new(rx.map(|chunk| chunk.map(Frame::data))));
    (reader, inner, Tee { state })
}

fn lock<B>(state: &Mutex<State<B>>) -> std::sync::MutexGuard<'_, State<B>> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the next data chunk from the client and forwards the previous one.
async fn next_chunk<B>(state: &Mutex<State<B>>) -> Option<Result<Bytes, BoxError>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let mut body = lock(state).body.take()?;
    let read = loop {
        match body.frame().await {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => break Some(Ok(data)),
                Err(_) => continue, // trailers carry no data
            },
            Some(Err(e)) => break Some(Err(e.into())),
            None => break None,
        }
    };
    let (previous, tx) = {
        let mut s = lock(state);
        match &read {
            Some(Ok(_)) => s.body = Some(body),
            _ => s.ended = true,
        }
        match &read {
            Some(Ok(chunk)) => (s.pending.replace(chunk.clone()), s.tx.clone()),
            _ => (None, None),
        }
    };
    if let (Some(previous), Some(mut tx)) = (previous, tx)
        && tx.send(Ok(previous)).await.is_err()
    {
        // The inner service stopped reading; validation goes on regardless.
        lock(state).tx = None;
    }
    read
}

impl<B> Tee<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    /// Ends the inner service's body: the rest of the client's body and the held-back chunk
    /// when `valid`, an error otherwise.
    pub(crate) async fn finish(self, valid: bool) {
        if valid {
            // Bytes after the closing boundary are part of the body too.
            while let Some(read) = next_chunk(&self.state).await {
                if read.is_err() {
                    return self.fail("the request body could not be read").await;
                }
            }
            let (pending, tx) = {
                let mut s = lock(&self.state);
                (s.pending.take(), s.tx.take())
            };
            if let (Some(pending), Some(mut tx)) = (pending, tx) {
                let _ = tx.send(Ok(pending)).await;
            }
        } else {
            self.fail("the request body was refused by validation")
                .await;
        }
    }

    async fn fail(self, message: &'static str) {
        let tx = lock(&self.state).tx.take();
        if let Some(mut tx) = tx {
            let _ = tx.send(Err(message.into())).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(parts: &[&'static str]) -> crate::body::Body {
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::from_static(p.as_bytes()))))
            .collect();
        crate::body::Body::new(StreamBody::new(futures_util::stream::iter(frames)))
    }

    #[tokio::test]
    async fn the_inner_body_ends_only_when_valid() {
        for valid in [true, false] {
            let (reader, inner, tee) = tee(chunked(&["ab", "cd", "ef"]));
            let read: Vec<Bytes> = reader.map(|r| r.unwrap()).collect().await;
            assert_eq!(read, ["ab", "cd", "ef"]);
            let inner_task =
                tokio::spawn(async move { inner.collect().await.map(|c| c.to_bytes()) });
            tee.finish(valid).await;
            let got = inner_task.await.unwrap();
            if valid {
                assert_eq!(got.unwrap(), "abcdef");
            } else {
                assert!(got.is_err(), "an invalid body ends with an error");
            }
        }
    }

    #[tokio::test]
    async fn unread_rest_is_forwarded_when_valid() {
        let (reader, inner, tee) = tee(chunked(&["ab", "cd", "ef"]));
        let mut reader = Box::pin(reader);
        assert_eq!(reader.next().await.unwrap().unwrap(), "ab");
        drop(reader);
        let inner_task = tokio::spawn(async move { inner.collect().await.map(|c| c.to_bytes()) });
        tee.finish(true).await;
        assert_eq!(inner_task.await.unwrap().unwrap(), "abcdef");
    }

    #[tokio::test]
    async fn a_gone_reader_does_not_stall_validation() {
        let many: Vec<&'static str> = vec!["x"; 64];
        let (reader, inner, tee) = tee(chunked(&many));
        drop(inner);
        let read = reader.count().await;
        assert_eq!(read, 64);
        tee.finish(true).await;
    }
}
