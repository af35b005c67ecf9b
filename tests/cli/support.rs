//! A real upstream, the real `oasgate` binary, and a client — all on 127.0.0.1.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type ClientBody = BoxBody<Bytes, BoxError>;

/// The document most tests serve.
pub const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
      responses: {"200": {description: ok}}
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties: {name: {type: string}}
      responses: {"200": {description: ok}}
  /uploads:
    put:
      operationId: upload
      requestBody:
        content:
          application/octet-stream: {schema: {type: string, format: binary}}
      responses: {"200": {description: ok}}
  /slow:
    get:
      operationId: slow
      responses: {"200": {description: ok}}
  /secure:
    get:
      operationId: secure
      security: [{key: []}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
"#;

/// The same document with one more path, for reloads.
pub fn spec_with_dogs() -> String {
    SPEC.replace(
        "  /slow:\n",
        "  /dogs:\n    get:\n      operationId: listDogs\n      responses: {\"200\": {description: ok}}\n  /slow:\n",
    )
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "oasgate-cli-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One request the upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body_len: u64,
}

/// A tiny upstream: answers `{"method", "uri", "bytes"}`; `/slow` waits 5 s first. It
/// counts body bytes as they arrive, without keeping them.
pub struct Upstream {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Body bytes received so far, across requests.
    pub bytes: Arc<AtomicU64>,
    /// Connections accepted so far.
    pub connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let bytes = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let (seen2, bytes2, accepted) = (seen.clone(), bytes.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                let (seen, bytes) = (seen2.clone(), bytes2.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        upstream_answer(request, seen.clone(), bytes.clone())
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            seen,
            bytes,
            connections,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections the upstream has accepted.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn upstream_answer(
    request: Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    counter: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, mut body) = request.into_parts();
    if parts.uri.path() == "/slow" {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let mut len = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Some(data) = frame.data_ref() {
            len += data.len() as u64;
            counter.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
    }
    seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts.headers.clone(),
        body_len: len,
    });
    let answer =
        json!({"method": parts.method.as_str(), "uri": parts.uri.to_string(), "bytes": len});
    let mut response = Response::new(Full::new(Bytes::from(answer.to_string())));
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response
        .headers_mut()
        .insert("x-upstream", "yes".parse().unwrap());
    Ok(response)
}

/// A running `oasgate` process, killed on drop; its stderr goes to a file.
pub struct Gateway {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

const STARTUP: Duration = Duration::from_secs(30);

impl Gateway {
    /// Starts `oasgate serve` with `args` (plus `--listen 127.0.0.1:0`) in `dir`.
    pub fn start(dir: &TempDir, args: &[&str]) -> Self {
        Self::start_env(dir, args, &[])
    }

    pub fn start_env(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Self {
        let (child, listening, log) = Self::spawn(dir, args, env);
        Self::wait_listening(child, &listening, log)
    }

    /// Starts `oasgate serve` without waiting: the process, the address it prints once it
    /// listens, and its log file.
    pub fn spawn(
        dir: &TempDir,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (Child, mpsc::Receiver<SocketAddr>, PathBuf) {
        let log = dir.0.join(format!("oasgate-{}.log", args.len()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_oasgate"))
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(&dir.0)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("oasgate starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let addr = line
                    .strip_prefix("listening on http://")
                    .or_else(|| line.strip_prefix("listening on https://"));
                if let Some(addr) = addr {
                    let _ = tx.send(addr.parse::<SocketAddr>().expect("an address"));
                }
            }
        });
        (child, rx, log)
    }

    /// Waits (at most 30 s) for a spawned process to say where it listens.
    pub fn wait_listening(
        mut child: Child,
        listening: &mpsc::Receiver<SocketAddr>,
        log: PathBuf,
    ) -> Self {
        let addr = match listening.recv_timeout(STARTUP) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "oasgate did not start; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Self { child, addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal to this child process, by its id.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client's view of an answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

pub fn client() -> Client<HttpConnector, ClientBody> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub fn full(body: impl Into<Bytes>) -> ClientBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Sends `request` with a 20 s bound.
pub async fn send(request: Request<ClientBody>) -> Answer {
    let response = tokio::time::timeout(Duration::from_secs(20), client().request(request))
        .await
        .expect("an answer within 20 s")
        .expect("the request goes through");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(url: &str) -> Answer {
    send(Request::get(url).body(full("")).unwrap()).await
}

/// Polls `check` every 50 ms until it holds, at most `limit`.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Runs the binary with `args` to completion: (exit code, stdout, stderr).
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_oasgate"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("oasgate runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What one connection to a [`RawUpstream`] carried.
#[derive(Debug, Clone, Default)]
pub struct RawConnection {
    /// Every byte oasgate sent on it.
    pub received: Vec<u8>,
    /// Whether oasgate closed it (or reset it).
    pub closed: bool,
}

/// An upstream speaking raw TCP: on each connection it waits for a request head, writes
/// `answer` exactly as given (nothing when empty) and then only reads, never closing its
/// side, recording what arrives.
pub struct RawUpstream {
    pub addr: SocketAddr,
    pub connections: Arc<Mutex<Vec<RawConnection>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawUpstream {
    pub async fn start(answer: &[u8]) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let all = connections.clone();
        let answer = answer.to_vec();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let index = {
                    let mut all = all.lock().unwrap();
                    all.push(RawConnection::default());
                    all.len() - 1
                };
                let (all, answer) = (all.clone(), answer.clone());
                tokio::spawn(async move {
                    let mut answered = answer.is_empty();
                    let mut buf = [0u8; 4096];
                    // Bounded: a test never lasts a minute.
                    let _ = tokio::time::timeout(Duration::from_secs(60), async {
                        loop {
                            let n = stream.read(&mut buf).await.unwrap_or(0);
                            let head_done = {
                                let mut all = all.lock().unwrap();
                                let seen = &mut all[index];
                                if n == 0 {
                                    seen.closed = true;
                                    return;
                                }
                                seen.received.extend_from_slice(&buf[..n]);
                                seen.received.windows(4).any(|w| w == b"\r\n\r\n")
                            };
                            if !answered && head_done {
                                answered = true;
                                if stream.write_all(&answer).await.is_err() {
                                    all.lock().unwrap()[index].closed = true;
                                    return;
                                }
                            }
                        }
                    })
                    .await;
                });
            }
        });
        Self {
            addr,
            connections,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> Vec<RawConnection> {
        self.connections.lock().unwrap().clone()
    }
}

impl Drop for RawUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends `bytes` on a new connection to `addr`, then reads until the server closes it or
/// `limit` passes: what arrived, and whether the connection ended within `limit`.
pub async fn exchange(addr: SocketAddr, bytes: &[u8], limit: Duration) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut received = Vec::new();
    let ended = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&received).into_owned(), ended)
}

/// Whether a recorded request is complete and well framed: its head is whole and its body
/// has every byte `Content-Length` announced, or the last chunk of a chunked body.
pub fn complete_request(bytes: &[u8]) -> bool {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let body = &bytes[end + 4..];
    if head.contains("transfer-encoding: chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:")?.trim().parse().ok())
        .unwrap_or(0);
    body.len() >= length
}
