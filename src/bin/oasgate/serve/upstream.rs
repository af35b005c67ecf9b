//! The gateway's connections to its upstream: one pool per worker, over hyper's HTTP/1
//! connection API.
//!
//! A connection goes back to its pool when the answer's body has been read to its end (or,
//! for an answer without a body, with the head), from the body itself: no task waits for it.
//! hyper-util's pooled client spawned one such task per request, and kept its pools behind a
//! lock shared by every thread; here each worker sends through its own pool, so the lock is
//! never contended (docs/performance.md, "The upstream connection pool").

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use oasgate::body::Body;
use tokio::time::Instant;
use tower::ServiceExt;

/// Opens TCP connections, with TLS for an `https://` upstream.
pub type Connector = HttpsConnector<HttpConnector>;

/// One worker's connections to the upstream.
pub struct Pool {
    connector: Connector,
    /// The upstream's scheme and authority, where new connections go.
    target: Uri,
    idle_timeout: Duration,
    idle: Mutex<Idle>,
}

/// Connections waiting for a request, the most recently used last.
#[derive(Default)]
struct Idle {
    senders: VecDeque<(SendRequest<Body>, Instant)>,
    /// Whether a task closes the connections idle for longer than the timeout.
    swept: bool,
}

/// Why a request did not reach the upstream, or got no answer.
#[derive(Debug)]
pub enum Error {
    /// No connection could be opened (refused, unreachable, timed out, TLS failed).
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// The connection failed while the request was sent or its answer awaited.
    Exchange(hyper::Error),
}

impl Error {
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect(_))
    }
}

/// The error and each of its causes (the OS error under a refused connection, say), for the
/// log.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut cause: Option<&dyn std::error::Error> = match self {
            Self::Connect(e) => {
                write!(f, "cannot connect: {e}")?;
                e.source()
            }
            Self::Exchange(e) => {
                write!(f, "{e}")?;
                std::error::Error::source(e)
            }
        };
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

impl Pool {
    /// An empty pool whose connections go to `target`'s scheme and authority.
    pub fn new(connector: Connector, target: Uri, idle_timeout: Duration) -> Self {
        Self {
            connector,
            target,
            idle_timeout,
            idle: Mutex::default(),
        }
    }

    /// Sends `request` (its URI in origin form, its `Host` set) on a pooled connection, or a
    /// new one. A request that a reused connection closed before taking is sent again on
    /// another: the upstream may close a kept-alive connection whenever it is idle.
    pub async fn send(
        self: Arc<Self>,
        mut request: Request<Body>,
    ) -> Result<Response<Returning>, Error> {
        loop {
            let (mut sender, reused) = match self.checkout() {
                Some(sender) => (sender, true),
                // Boxed: opening a connection (TLS included) needs a large state, and every
                // request's future would carry it, copied whenever the future moves.
                None => (Box::pin(self.connect()).await?, false),
            };
            // Taken ready, a reused connection may still have been closed since.
            if reused && sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    return Ok(Response::from_parts(
                        parts,
                        Returning::new(body, sender, self),
                    ));
                }
                Err(mut error) => match error.take_message() {
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(Error::Exchange(error.into_error())),
                },
            }
        }
    }

    /// The most recently used connection ready for a request, if any. One whose answer has
    /// ended while its request's body is still being sent (an upstream may answer before it
    /// has read the whole body) is not ready until that body is done: it stays, and the
    /// request goes elsewhere rather than wait behind a slow upload.
    fn checkout(&self) -> Option<SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let mut at = idle.senders.len();
        while at > 0 {
            at -= 1;
            let sender = &idle.senders[at].0;
            if sender.is_closed() {
                idle.senders.remove(at);
            } else if sender.is_ready() {
                return idle.senders.remove(at).map(|(sender, _)| sender);
            }
        }
        None
    }

    /// A new connection, its task running on the calling worker.
    async fn connect(&self) -> Result<SendRequest<Body>, Error> {
        let io = self
            .connector
            .clone()
            .oneshot(self.target.clone())
            .await
            .map_err(Error::Connect)?;
        let (sender, connection) = http1::handshake(io)
            .await
            .map_err(|e| Error::Connect(e.into()))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("upstream connection ended: {error}");
            }
        });
        Ok(sender)
    }

    /// Keeps `sender` for the next request, unless its connection is closed.
    fn put(self: &Arc<Self>, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.senders.push_back((sender, Instant::now()));
        if !idle.swept
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            idle.swept = true;
            runtime.spawn(sweep(Arc::downgrade(self)));
        }
    }

    /// How many connections wait for a request.
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle.lock().unwrap().senders.len()
    }
}

/// Closes the pool's connections idle for longer than its timeout, looking a few times per
/// timeout, for as long as any connection waits; a connection closed by the upstream goes too.
async fn sweep(pool: Weak<Pool>) {
    loop {
        let Some(every) = pool.upgrade().map(|p| p.idle_timeout / 4) else {
            return;
        };
        tokio::time::sleep(every).await;
        let Some(pool) = pool.upgrade() else { return };
        let mut idle = pool.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        // Dropping a connection's only sender closes it.
        idle.senders.retain(|(sender, since)| {
            !sender.is_closed() && now.duration_since(*since) < pool.idle_timeout
        });
        if idle.senders.is_empty() {
            idle.swept = false;
            return;
        }
    }
}

/// An answer's body; its connection goes back to the pool once the body has ended.
pub struct Returning {
    body: Incoming,
    back: Option<(SendRequest<Body>, Arc<Pool>)>,
}

impl Returning {
    fn new(body: Incoming, sender: SendRequest<Body>, pool: Arc<Pool>) -> Self {
        let mut returning = Self {
            body,
            back: Some((sender, pool)),
        };
        // No body (`204`, `304`, an answer to `HEAD`): the connection is free already.
        returning.give_back_if_ended();
        returning
    }

    /// Puts the connection back into its pool (once: later calls find it gone).
    fn give_back(&mut self) {
        if let Some((sender, pool)) = self.back.take() {
            pool.put(sender);
        }
    }

    fn give_back_if_ended(&mut self) {
        use http_body::Body as _;
        if self.body.is_end_stream() {
            self.give_back();
        }
    }
}

impl fmt::Debug for Returning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Returning")
            .field("body", &self.body)
            .field("pooled", &self.back.is_some())
            .finish()
    }
}

impl http_body::Body for Returning {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.give_back(),
            Poll::Ready(Some(Ok(_))) => this.give_back_if_ended(),
            // The connection is broken: dropping its sender lets it close.
            Poll::Ready(Some(Err(_))) => this.back = None,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Returning {
    /// A body dropped before its end leaves its connection mid-answer: it is not reused.
    fn drop(&mut self) {
        self.give_back_if_ended();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::TcpListener;

    /// An upstream answering every request `ok`, counting the connections it accepted.
    async fn upstream() -> (Uri, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_: Request<Incoming>| async {
                        Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                            Bytes::from_static(b"ok"),
                        )))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (format!("http://{addr}").parse().unwrap(), accepted)
    }

    /// An upstream speaking raw HTTP/1.1: it writes `answer` to each request head, then
    /// closes the connection when `close` says so, or waits for the next request.
    async fn raw_upstream(answer: &'static [u8], close: bool) -> (Uri, Arc<AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                        if head.windows(4).any(|w| w == b"\r\n\r\n") {
                            head.clear();
                            if stream.write_all(answer).await.is_err() || close {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (format!("http://{addr}").parse().unwrap(), accepted)
    }

    fn pool(target: Uri, idle_timeout: Duration) -> Arc<Pool> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(
                super::super::tls::client_config(&Default::default()).expect("TLS settings"),
            )
            .https_or_http()
            .enable_http1()
            .wrap_connector(HttpConnector::new());
        Arc::new(Pool::new(connector, target, idle_timeout))
    }

    fn get(target: &Uri) -> Request<Body> {
        Request::builder()
            .uri("/")
            .header("host", target.authority().unwrap().as_str())
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn a_connection_is_reused_once_its_answer_is_read_and_closed_when_idle_too_long() {
        let (target, accepted) = upstream().await;
        let pool = pool(target.clone(), Duration::from_millis(400));
        for _ in 0..5 {
            let answer = pool.clone().send(get(&target)).await.unwrap();
            assert_eq!(answer.into_body().collect().await.unwrap().to_bytes(), "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(pool.idle_count(), 1);
        // An answer not read to its end keeps its connection out of the pool.
        let unread = pool.clone().send(get(&target)).await.unwrap();
        assert_eq!(pool.idle_count(), 0);
        let second = pool.clone().send(get(&target)).await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        drop(unread);
        drop(second.into_body().collect().await.unwrap());
        assert_eq!(pool.idle_count(), 1);
        // Past the idle timeout the sweep closes it; the next request opens another.
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(pool.idle_count(), 0);
        let answer = pool.clone().send(get(&target)).await.unwrap();
        drop(answer.into_body().collect().await.unwrap());
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    /// "A client, server, or proxy MAY close the transport connection at any time" (RFC 9112
    /// §9.5): the next request then goes on a new connection instead of failing.
    #[tokio::test]
    async fn connections_the_upstream_closed_are_not_used_again() {
        let (target, accepted) =
            raw_upstream(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", true).await;
        let pool = pool(target.clone(), Duration::from_secs(90));
        for _ in 0..3 {
            let answer = pool.clone().send(get(&target)).await.unwrap();
            assert_eq!(answer.into_body().collect().await.unwrap().to_bytes(), "ok");
            // The close reaches the connection's task.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        assert_eq!(pool.checkout().map(|_| ()), None);
    }

    /// "A client that receives a "close" connection option MUST cease sending requests on
    /// that connection" (RFC 9112 §9.6), even when the upstream leaves it open.
    #[tokio::test]
    async fn an_answer_saying_close_ends_its_connection() {
        let (target, accepted) = raw_upstream(
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
            false,
        )
        .await;
        let pool = pool(target.clone(), Duration::from_secs(90));
        for _ in 0..3 {
            let answer = pool.clone().send(get(&target)).await.unwrap();
            assert_eq!(answer.into_body().collect().await.unwrap().to_bytes(), "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    /// A request body that arrives as the test sends it.
    struct Trickle(tokio::sync::mpsc::Receiver<Bytes>);

    impl http_body::Body for Trickle {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.0
                .poll_recv(cx)
                .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
        }
    }

    /// An upstream may answer before it has read the whole request body; the connection then
    /// carries that body on, and the next request must not wait behind it.
    #[tokio::test]
    async fn a_connection_still_sending_a_body_is_not_waited_for() {
        let (target, accepted) =
            raw_upstream(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", false).await;
        let pool = pool(target.clone(), Duration::from_secs(90));
        let (more, chunks) = tokio::sync::mpsc::channel(1);
        more.send(Bytes::from_static(b"ab")).await.unwrap();
        let upload = Request::post("/")
            .header("host", target.authority().unwrap().as_str())
            .header("content-length", "4")
            .body(Body::new(Trickle(chunks)))
            .unwrap();
        let answer = pool.clone().send(upload).await.unwrap();
        assert_eq!(answer.into_body().collect().await.unwrap().to_bytes(), "ok");
        let next = tokio::time::timeout(Duration::from_secs(5), pool.clone().send(get(&target)))
            .await
            .expect("the request waited for the upload's connection")
            .unwrap();
        assert_eq!(next.into_body().collect().await.unwrap().to_bytes(), "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        more.send(Bytes::from_static(b"cd")).await.unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_connect_error() {
        // A port just freed: nothing listens on it.
        let addr = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let target: Uri = format!("http://{addr}").parse().unwrap();
        let error = pool(target.clone(), Duration::from_secs(90))
            .send(get(&target))
            .await
            .unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        // The log line names the cause beneath the connector's own message.
        let logged = error.to_string();
        assert!(logged.starts_with("cannot connect: "), "{logged}");
        assert!(logged.contains("refused"), "{logged}");
    }
}
