//! Shared helpers: an echo service behind the layer, driven with `oneshot`.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer, Options, Validated};
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt};

/// Path of a fixture inside `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A layer over a fixture file with options.
pub fn fixture_layer(name: &str, options: Options) -> OpenApiLayer {
    let doc = Document::from_path(fixture(name)).expect("document loads");
    OpenApiLayer::with_options(&doc, options).expect("document compiles")
}

/// The kitchen-sink test document with default options.
pub fn kitchen() -> OpenApiLayer {
    fixture_layer("local/kitchen.yaml", Options::default())
}

/// A request with headers.
pub fn get_with(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

/// A request with any method and no body.
pub fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

/// A layer over the document text with options.
pub fn layer(spec: &str, options: Options) -> OpenApiLayer {
    let doc = Document::from_str(spec).expect("document loads");
    OpenApiLayer::with_options(&doc, options).expect("document compiles")
}

/// What the echo service saw, or the problem the layer answered.
pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub json: Value,
}

/// Sends one request through `layer` to an echo service that answers 200 with
/// `{validated, body}` — the `Validated` extension and the body text it received.
pub async fn send(layer: &OpenApiLayer, request: Request<Body>) -> Answer {
    let service =
        ServiceBuilder::new()
            .layer(layer.clone())
            .service_fn(|req: Request<Body>| async move {
                let validated = req.extensions().get::<Validated>().cloned();
                let content_length = req
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let bytes = req
                    .into_body()
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                let echo = json!({
                    "validated": validated,
                    "body": String::from_utf8_lossy(&bytes),
                    "content_length": content_length,
                });
                Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                    Bytes::from(echo.to_string()),
                )))
            });
    let response = service.oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        headers,
        json,
    }
}

/// A GET request.
pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// A request with a body and content type.
pub fn with_body(method: &str, uri: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// A writer every log line goes to, shared with the test.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Log lines at `level` and above from this thread, captured until it drops.
pub struct LogCapture {
    pub logs: Captured,
    _guard: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

impl LogCapture {
    pub fn new(level: tracing::Level) -> Self {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        // With one subscriber in the process, tracing caches a callsite's interest from the
        // thread that first reaches it; another test's thread, with no subscriber, would
        // silence it here. A second (silent) one makes it ask every subscriber.
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        Self {
            logs,
            _guard: guard,
            _second: second,
        }
    }
}

/// A scratch directory with the given files, removed on drop.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    pub fn new(name: &str, files: &[(&str, &str)]) -> Self {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("oasgate-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
