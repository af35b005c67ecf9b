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
    /// Formats the line and adds it to the batch, when the log's filter lets the target's
    /// `info` through (`RUST_LOG=info,oasgate::access=off` stops it). The line is written
    /// here rather than as a `tracing` event: the event's field-by-field formatting was most
    /// of the log's cost per request.
    fn write(self, bytes: u64, complete: bool) {
        if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
            return;
        }
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let fields = Fields {
            message: "access",
            method: self.method.as_str(),
            path: self.uri.as_ref().map(http::Uri::path),
            path_secret: self.secret.then_some(true),
            status: self.status,
            duration_ms: micros as f64 / 1000.0,
            bytes,
            request_id: self.request_id.to_str().unwrap_or("(not text)"),
            operation: self.operation.as_deref(),
            outcome: self.outcome,
            errors: self.codes.as_deref(),
            incomplete: (!complete).then_some(true),
        };
        SCRATCH.with_borrow_mut(|line| {
            line.clear();
            match FORMAT
                .get()
                .copied()
                .unwrap_or(Format::Text { ansi: false })
            {
                Format::Text { ansi } => fields.write_text(line, ansi, micros),
                Format::Json => fields.write_json(line),
            }
            line.push(b'\n');
            Batched::push(line);
        });
    }
}

/// How the access log's lines are written: as the other log lines are.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    /// `tracing-subscriber`'s full text format, with colours on a terminal.
    Text { ansi: bool },
    /// `tracing-subscriber`'s JSON format: `timestamp`, `level`, `fields`, `target`.
    Json,
}

static FORMAT: std::sync::OnceLock<Format> = std::sync::OnceLock::new();

/// Sets the lines' format, once, before the first request.
pub fn set_format(format: Format) {
    let _ = FORMAT.set(format);
}

std::thread_local! {
    /// Where a line is formatted before it joins the batch (reused, so no allocation).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The current second, formatted (`2026-12-06T01:03:35`), for the lines' timestamps.
    static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// The line's fields, in the order of the log's text format.
#[derive(serde::Serialize)]
struct Fields<'a> {
    message: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_secret: Option<bool>,
    status: u16,
    duration_ms: f64,
    bytes: u64,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'a str>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incomplete: Option<bool>,
}

impl Fields<'_> {
    /// `2026-12-06T01:03:35.123456Z  INFO oasgate::access: access method=GET path="/pets" …`,
    /// strings quoted and escaped as `{:?}` does, the duration as an `f64`'s `{:?}`.
    fn write_text(&self, line: &mut Vec<u8>, ansi: bool, micros: u64) {
        let (dim, green, reset) = if ansi {
            ("\x1b[2m", "\x1b[32m", "\x1b[0m")
        } else {
            ("", "", "")
        };
        line.extend_from_slice(dim.as_bytes());
        timestamp(line);
        for part in [
            reset, " ", green, " INFO", reset, " ", dim, TARGET, ":", reset,
        ] {
            line.extend_from_slice(part.as_bytes());
        }
        line.extend_from_slice(b" access method=");
        line.extend_from_slice(self.method.as_bytes());
        if let Some(path) = self.path {
            line.extend_from_slice(b" path=");
            quoted(line, path);
        }
        if self.path_secret.is_some() {
            line.extend_from_slice(b" path_secret=true");
        }
        let mut digits = itoa::Buffer::new();
        line.extend_from_slice(b" status=");
        line.extend_from_slice(digits.format(self.status).as_bytes());
        line.extend_from_slice(b" duration_ms=");
        line.extend_from_slice(digits.format(micros / 1000).as_bytes());
        // Thousandths without trailing zeros, at least one digit: `0.41`, `1.0`.
        let fraction = micros % 1000;
        let digits3 = [
            b'0' + (fraction / 100) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ];
        let kept = digits3
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(1, |last| last + 1);
        line.push(b'.');
        line.extend_from_slice(&digits3[..kept]);
        line.extend_from_slice(b" bytes=");
        line.extend_from_slice(digits.format(self.bytes).as_bytes());
        line.extend_from_slice(b" request_id=");
        quoted(line, self.request_id);
        if let Some(operation) = self.operation {
            line.extend_from_slice(b" operation=");
            quoted(line, operation);
        }
        line.extend_from_slice(b" outcome=");
        quoted(line, self.outcome);
        if let Some(errors) = self.errors {
            line.extend_from_slice(b" errors=");
            quoted(line, errors);
        }
        if self.incomplete.is_some() {
            line.extend_from_slice(b" incomplete=true");
        }
    }

    /// `{"timestamp":…,"level":"INFO","fields":{…},"target":"oasgate::access"}`, as
    /// `tracing-subscriber`'s JSON format writes an event outside any span.
    fn write_json(&self, line: &mut Vec<u8>) {
        line.extend_from_slice(b"{\"timestamp\":\"");
        timestamp(line);
        line.extend_from_slice(b"\",\"level\":\"INFO\",\"fields\":");
        // Serializing strings and numbers into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *line, self);
        line.extend_from_slice(b",\"target\":\"");
        line.extend_from_slice(TARGET.as_bytes());
        line.extend_from_slice(b"\"}");
    }
}

/// The bytes `{:?}` writes as they are: printable ASCII but `"` and `\`.
const PLAIN: [bool; 256] = {
    let mut plain = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        plain[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    plain
};

/// Appends `text` quoted as `{:?}` writes it; text that needs no escape (the usual path,
/// id and operation) is copied as it is.
fn quoted(line: &mut Vec<u8>, text: &str) {
    // One table lookup a byte: every line quotes its request id, outcome and path.
    if text.bytes().all(|b| PLAIN[usize::from(b)]) {
        line.push(b'"');
        line.extend_from_slice(text.as_bytes());
        line.push(b'"');
    } else {
        use std::io::Write;
        // Writing into a `Vec` cannot fail.
        let _ = write!(line, "{text:?}");
    }
}

/// Appends the time now in UTC with microseconds (`2026-12-06T01:03:35.123456Z`), as the
/// other log lines have it; the date and time of day are formatted once a second.
fn timestamp(out: &mut Vec<u8>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != now.as_secs() {
            *second = now.as_secs();
            text.clear();
            let at = i64::try_from(now.as_secs())
                .ok()
                .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
                .unwrap_or_default();
            let _ = std::fmt::Write::write_fmt(
                text,
                format_args!("{}", at.format("%Y-%m-%dT%H:%M:%S")),
            );
        }
        out.extend_from_slice(text.as_bytes());
    });
    push_micros(out, now.subsec_micros());
}

/// Appends `.` and `micros` (below a million) as six digits, zero-padded, and `Z`, without the
/// formatting machinery (a few hundred instructions a line).
fn push_micros(out: &mut Vec<u8>, mut micros: u32) {
    let mut digits = [b'0'; 8];
    digits[0] = b'.';
    digits[7] = b'Z';
    for digit in digits[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    out.extend_from_slice(&digits);
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

/// Held while a batch is written, so that batches reach stderr in the order they were
/// taken; lines keep joining the next batch meanwhile.
static WRITING: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// Written as soon as the batch holds this much.
const BATCH_BYTES: usize = 64 * 1024;

/// How long a line waits at most before it is written.
pub const BATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

/// The access log's writer: lines are gathered and written to stderr together, once
/// [`BATCH_BYTES`] are waiting or every [`BATCH_INTERVAL`]. One `write` per line, or one
/// wake-up of a writer thread per line, costs a tenth of the proxy's throughput.
pub struct Batched;

impl Batched {
    /// Adds a line (or several) to the batch; writes the batch when it is full.
    fn push(line: &[u8]) {
        let full = {
            let mut batch = lock(&BATCH);
            batch.extend_from_slice(line);
            batch.len() >= BATCH_BYTES
        };
        if full {
            Batched::flush_now();
        }
    }

    /// Writes what waits, now. The batch is swapped for an empty buffer, so requests do not
    /// wait for stderr.
    pub fn flush_now() {
        let mut writing = lock(&WRITING);
        std::mem::swap(&mut *writing, &mut *lock(&BATCH));
        if !writing.is_empty() {
            // A failed write to stderr has nowhere to be reported.
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), &writing);
            writing.clear();
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

/// A lock that a panic elsewhere does not make unusable: the buffers hold bytes only.
fn lock(buffer: &std::sync::Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    buffer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes the access log's waiting lines when dropped, at exit.
pub struct FlushOnDrop;

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        Batched::flush_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(micros: u64) -> Fields<'static> {
        Fields {
            message: "access",
            method: "GET",
            path: Some("/pets"),
            path_secret: None,
            status: 400,
            duration_ms: micros as f64 / 1000.0,
            bytes: 353,
            request_id: "8f0c2e7d1a9b4c36-00000002",
            operation: Some("listPets"),
            outcome: "rejected",
            errors: Some("maximum"),
            incomplete: None,
        }
    }

    /// The text line reads as `tracing-subscriber`'s full format did when the line was an
    /// event: the timestamp, `INFO`, the target, then each field as its `{:?}`.
    #[test]
    fn a_text_line_reads_as_the_other_log_lines() {
        let mut line = Vec::new();
        fields(410).write_text(&mut line, false, 410);
        let line = String::from_utf8(line).unwrap();
        let (stamp, rest) = line.split_once(' ').unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
        assert_eq!(stamp.len(), "2026-12-06T01:03:35.123456Z".len(), "{stamp}");
        assert_eq!(
            rest,
            " INFO oasgate::access: access method=GET path=\"/pets\" status=400 \
             duration_ms=0.41 bytes=353 request_id=\"8f0c2e7d1a9b4c36-00000002\" \
             operation=\"listPets\" outcome=\"rejected\" errors=\"maximum\""
        );
    }

    #[test]
    fn durations_read_as_the_f64_they_stand_for() {
        for micros in [
            0, 1, 7, 10, 70, 100, 410, 999, 1000, 1001, 1010, 12_345_678, 60_000_000,
        ] {
            let mut line = Vec::new();
            fields(micros).write_text(&mut line, false, micros);
            let line = String::from_utf8(line).unwrap();
            let expected = format!(" duration_ms={:?} ", micros as f64 / 1000.0);
            assert!(line.contains(&expected), "{micros}: {line}");
        }
    }

    #[test]
    fn text_is_quoted_as_debug_quotes_it() {
        let every_ascii = (0..=0x7f_u8).map(|b| char::from(b).to_string());
        for text in [
            "/pets",
            "",
            "a\"b",
            "back\\slash",
            "tab\there",
            "é",
            "\u{7f}",
            "new\nline",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain(every_ascii)
        {
            let mut quoted_text = Vec::new();
            quoted(&mut quoted_text, &text);
            assert_eq!(String::from_utf8(quoted_text).unwrap(), format!("{text:?}"));
        }
    }

    #[test]
    fn microseconds_are_six_digits_as_padded_formatting_writes_them() {
        for micros in [0, 1, 9, 10, 99, 100, 12_345, 100_000, 123_456, 999_999] {
            let mut out = Vec::new();
            push_micros(&mut out, micros);
            assert_eq!(String::from_utf8(out).unwrap(), format!(".{micros:06}Z"));
        }
    }

    #[test]
    fn flags_and_absent_fields() {
        let mut secret = fields(5);
        secret.path = None;
        secret.path_secret = Some(true);
        secret.operation = None;
        secret.errors = None;
        secret.incomplete = Some(true);
        let mut line = Vec::new();
        secret.write_text(&mut line, false, 5);
        let line = String::from_utf8(line).unwrap();
        assert!(
            line.ends_with(
                "access method=GET path_secret=true status=400 duration_ms=0.005 bytes=353 \
                 request_id=\"8f0c2e7d1a9b4c36-00000002\" outcome=\"rejected\" incomplete=true"
            ),
            "{line}"
        );
    }

    /// The JSON line has the keys of `tracing-subscriber`'s JSON format.
    #[test]
    fn a_json_line_reads_as_the_other_json_lines() {
        let mut line = Vec::new();
        fields(1500).write_json(&mut line);
        let text = std::str::from_utf8(&line).unwrap();
        assert!(text.starts_with("{\"timestamp\":\""), "{text}");
        assert!(
            text.contains("\",\"level\":\"INFO\",\"fields\":{\"message\":\"access\","),
            "{text}"
        );
        assert!(
            text.ends_with("},\"target\":\"oasgate::access\"}"),
            "{text}"
        );
        let line: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["target"], TARGET);
        let stamp = line["timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
        assert_eq!(
            line["fields"],
            serde_json::json!({
                "message": "access", "method": "GET", "path": "/pets", "status": 400,
                "duration_ms": 1.5, "bytes": 353, "request_id": "8f0c2e7d1a9b4c36-00000002",
                "operation": "listPets", "outcome": "rejected", "errors": "maximum"
            })
        );
    }
}
