//! The access log: one line per request, at `info` under the target `oasgate::access`,
//! written when the answer's body has been sent (or given up), so that its size and the
//! whole duration are known.
//!
//! A path holding a secret parameter (`/reset/{token}`) is left out, as the layer leaves it
//! out of its problems; the line says `path_secret=true` instead.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes};
use http::{HeaderValue, Method, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use oasgate::Rejection;
use oasgate::response::Origin;

use super::ProxyBody;
use super::metrics::Outcome;

/// The target of the access log's events, for `RUST_LOG` filters.
pub const TARGET: &str = "oasgate::access";

/// A request path left out of the log: the layer found a secret path parameter in it.
#[derive(Debug, Clone, Copy)]
pub struct SecretPath;

/// What the line says about a request, gathered before the answer's body is sent.
pub struct Entry {
    pub method: Method,
    /// The request's URI (a shared reference to its bytes, not a copy); its path is logged.
    pub uri: http::Uri,
    pub request_id: HeaderValue,
    pub started: Instant,
}

/// The outcome the access log names: the request went through, was refused, or the upstream
/// failed it.
fn outcome(outcome: &Outcome, response: &Response<ProxyBody>) -> &'static str {
    let rejection = response.extensions().get::<Rejection>();
    let made_here = response.extensions().get::<Origin>() == Some(&Origin::Gateway);
    if rejection.is_some_and(|r| r.kind == oasgate::ProblemKind::InvalidUpstreamResponse)
        || (made_here
            && matches!(
                response.status(),
                StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
            ))
    {
        return "upstream-error";
    }
    match outcome {
        Outcome::Rejected(_) | Outcome::ClientError(_) => "rejected",
        Outcome::Accepted(_) | Outcome::WouldReject(_) | Outcome::Unmatched => "accepted",
    }
}

/// Wraps the answer's body so that the line is written once it is sent.
pub fn wrap(
    entry: Entry,
    outcome_of: &Outcome,
    response: Response<ProxyBody>,
) -> Response<ProxyBody> {
    let rejection = response.extensions().get::<Rejection>();
    let secret = response.extensions().get::<SecretPath>().is_some()
        || rejection.is_some_and(|r| r.secret_path);
    let codes = rejection.filter(|r| !r.codes.is_empty()).map(|r| {
        let mut codes = String::new();
        for (i, code) in r.codes.iter().enumerate() {
            if i > 0 {
                codes.push(',');
            }
            codes.push_str(code.as_str());
        }
        codes
    });
    let line = Line {
        uri: (!secret).then_some(entry.uri),
        method: entry.method,
        request_id: entry.request_id,
        started: entry.started,
        status: response.status().as_u16(),
        operation: outcome_of.operation().cloned(),
        outcome: outcome(outcome_of, &response),
        codes,
        secret,
    };
    response.map(|body| {
        Logged {
            inner: body,
            line: Some(line),
            bytes: 0,
        }
        .boxed()
    })
}

struct Line {
    method: Method,
    /// `None` when the path holds a secret parameter.
    uri: Option<http::Uri>,
    request_id: HeaderValue,
    started: Instant,
    status: u16,
    operation: Option<Arc<str>>,
    outcome: &'static str,
    codes: Option<String>,
    secret: bool,
}

impl Line {
    fn write(self, bytes: u64, complete: bool) {
        let micros = self.started.elapsed().as_micros();
        tracing::info!(
            target: TARGET,
            method = %self.method,
            path = self.uri.as_ref().map(http::Uri::path),
            path_secret = self.secret.then_some(true),
            status = self.status,
            duration_ms = micros as f64 / 1000.0,
            bytes,
            request_id = self.request_id.to_str().unwrap_or("(not text)"),
            operation = self.operation.as_deref(),
            outcome = self.outcome,
            errors = self.codes.as_deref(),
            incomplete = (!complete).then_some(true),
            "access"
        );
    }
}

/// The answer's body, counting what is sent; the line goes out at its end, its failure, or
/// when hyper drops it (the client went away).
struct Logged {
    inner: ProxyBody,
    line: Option<Line>,
    bytes: u64,
}

impl Body for Logged {
    type Data = Bytes;
    type Error = super::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.remaining() as u64;
                }
                if this.inner.is_end_stream() {
                    this.finish(true);
                }
            }
            Poll::Ready(None) => this.finish(true),
            Poll::Ready(Some(Err(_))) => this.finish(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Logged {
    fn finish(&mut self, complete: bool) {
        if let Some(line) = self.line.take() {
            line.write(self.bytes, complete);
        }
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        // An empty body hyper never polls ends here, complete.
        let complete = self.inner.is_end_stream();
        self.finish(complete);
    }
}

/// What the access log's lines wait in before they are written, all threads' together.
static BATCH: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// Written as soon as the batch holds this much.
const BATCH_BYTES: usize = 64 * 1024;

/// How long a line waits at most before it is written.
pub const BATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

/// The access log's writer: lines are gathered and written to stderr together, once
/// [`BATCH_BYTES`] are waiting or every [`BATCH_INTERVAL`]. One `write` per line, or one
/// wake-up of a writer thread per line, costs a tenth of the proxy's throughput.
#[derive(Clone, Copy, Default)]
pub struct Batched;

impl Batched {
    /// Writes what waits, now.
    pub fn flush_now() {
        let mut batch = BATCH
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !batch.is_empty() {
            // A failed write to stderr has nowhere to be reported.
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), &batch);
            batch.clear();
        }
    }

    /// Starts the thread that writes what waits every [`BATCH_INTERVAL`]; the guard writes
    /// the rest when dropped.
    pub fn start() -> FlushOnDrop {
        let _ = std::thread::Builder::new()
            .name("oasgate-access-log".to_owned())
            .spawn(|| {
                loop {
                    std::thread::sleep(BATCH_INTERVAL);
                    Batched::flush_now();
                }
            });
        FlushOnDrop
    }
}

/// Writes the access log's waiting lines when dropped, at exit.
pub struct FlushOnDrop;

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        Batched::flush_now();
    }
}

impl std::io::Write for Batched {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut batch = BATCH
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        batch.extend_from_slice(line);
        if batch.len() >= BATCH_BYTES {
            let written = std::io::stderr().lock().write_all(&batch);
            batch.clear();
            written?;
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
