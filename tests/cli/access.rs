//! The access log, the client's HTTP version whatever the upstream speaks, and the lingering
//! close after an early answer.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Request;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// The pets document with an operation whose path holds a secret.
fn spec_with_secret() -> String {
    SPEC.replace(
        "  /slow:\n",
        "  /reset/{token}:\n    get:\n      operationId: reset\n      parameters:\n        - {name: token, in: path, required: true, schema: {type: string, format: password}}\n      responses: {\"200\": {description: ok}}\n  /slow:\n",
    )
}

/// The access log's lines in a JSON log: the `fields` of each `oasgate::access` event.
fn access_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["target"] == "oasgate::access")
        .map(|event| event["fields"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_has_one_line_per_request() {
    let dir = TempDir::new("access-log");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", &spec_with_secret());
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n  upstream_timeout: 1s\n  log_format: json\n",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let started = serde_json::from_str::<Value>(
        gateway
            .log_text()
            .lines()
            .find(|l| l.contains("\"serving\""))
            .expect("a start-up line"),
    )
    .unwrap();
    assert_eq!(started["fields"]["listen"], gateway.addr.to_string());
    assert_eq!(started["fields"]["mode"], "Proxy");
    assert!(
        started["fields"]["spec"]
            .as_str()
            .unwrap()
            .ends_with("pets.yaml")
    );
    assert_eq!(
        started["fields"]["upstream"],
        format!("{}/", upstream.url())
    );

    // (method, path, request id, status, outcome, operation, errors, path logged)
    let rows: [(
        &str,
        &str,
        &str,
        u16,
        &str,
        Option<&str>,
        Option<&str>,
        Option<&str>,
    ); 5] = [
        (
            "GET",
            "/pets?limit=5",
            "id-ok",
            200,
            "accepted",
            Some("listPets"),
            None,
            Some("/pets"),
        ),
        (
            "GET",
            "/pets?limit=500",
            "id-bad",
            400,
            "rejected",
            Some("listPets"),
            Some("maximum"),
            Some("/pets"),
        ),
        (
            "GET",
            "/nowhere",
            "id-404",
            404,
            "rejected",
            None,
            None,
            Some("/nowhere"),
        ),
        (
            "GET",
            "/reset/s3cr3t-t0ken",
            "id-secret",
            200,
            "accepted",
            Some("reset"),
            None,
            None,
        ),
        (
            "GET",
            "/slow",
            "id-slow",
            504,
            "upstream-error",
            Some("slow"),
            None,
            Some("/slow"),
        ),
    ];
    let mut sent = Vec::new();
    for (method, path, id, status, ..) in rows {
        let answer = send(
            Request::builder()
                .method(method)
                .uri(gateway.url(path))
                .header("x-request-id", id)
                .body(full(""))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
        sent.push(answer.text.len() as u64);
    }
    let mut lines = Vec::new();
    let complete = eventually(Duration::from_secs(10), async || {
        lines = access_lines(&gateway.log_text());
        lines.len() >= rows.len()
    })
    .await;
    assert!(complete, "access lines: {lines:#?}\n{}", gateway.log_text());
    assert_eq!(lines.len(), rows.len(), "{lines:#?}");
    for ((method, _, id, status, outcome, operation, errors, logged), bytes) in
        rows.into_iter().zip(sent)
    {
        let line = lines
            .iter()
            .find(|l| l["request_id"] == id)
            .unwrap_or_else(|| panic!("no line for {id}: {lines:#?}"));
        assert_eq!(line["method"], method, "{id}");
        assert_eq!(line["path"].as_str(), logged, "{id}");
        assert_eq!(line["status"], status, "{id}");
        assert_eq!(line["outcome"], outcome, "{id}");
        assert_eq!(line["operation"].as_str(), operation, "{id}");
        assert_eq!(line["errors"].as_str(), errors, "{id}");
        assert_eq!(line["bytes"], bytes, "{id}");
        assert!(line["duration_ms"].as_f64().is_some(), "{id}: {line}");
        assert!(line.get("incomplete").is_none(), "{id}: {line}");
    }
    // The secret never reaches the log, in any line.
    assert!(
        !gateway.log_text().contains("s3cr3t"),
        "{}",
        gateway.log_text()
    );
    let secret = lines
        .iter()
        .find(|l| l["request_id"] == "id-secret")
        .unwrap();
    assert_eq!(secret["path_secret"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_can_be_switched_off_and_rejections_name_their_path() {
    // (how it is set: config line, flags, log filter; whether access lines are written)
    type Row<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)], bool);
    let rows: [Row; 4] = [
        ("", &[], &[], true),
        ("  access_log: false\n", &[], &[], false),
        ("", &["--no-access-log"], &[], false),
        ("", &[], &[("RUST_LOG", "info,oasgate::access=off")], false),
    ];
    for (server, flags, env, logged_access) in rows {
        let dir = TempDir::new("access-off");
        let upstream = Upstream::start().await;
        dir.write("pets.yaml", SPEC);
        dir.write(
            "oasgate.yaml",
            &format!(
                "spec: pets.yaml\nserver:\n  upstream: {}\n{server}",
                upstream.url()
            ),
        );
        let mut args = vec!["--config", "oasgate.yaml"];
        args.extend_from_slice(flags);
        let gateway = Gateway::start_env(&dir, &args, env);
        assert_eq!(get(&gateway.url("/pets?limit=5")).await.status, 200);
        assert_eq!(get(&gateway.url("/pets?limit=500")).await.status, 400);
        let mut log = String::new();
        let logged = eventually(Duration::from_secs(10), async || {
            log = gateway.log_text();
            log.contains("oasgate::rejection")
        })
        .await;
        assert!(logged, "{log}");
        // Access lines are written in batches every 200 ms: wait for one to be due.
        tokio::time::sleep(Duration::from_millis(600)).await;
        log = gateway.log_text();
        let access: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("oasgate::access"))
            .collect();
        if logged_access {
            // The text format, as the other lines: `INFO oasgate::access: access method=…`.
            assert_eq!(access.len(), 2, "{log}");
            assert!(
                access[1].contains(
                    " INFO oasgate::access: access method=GET path=\"/pets\" status=400 "
                ),
                "{}",
                access[1]
            );
            assert!(
                access[1]
                    .ends_with(" operation=\"listPets\" outcome=\"rejected\" errors=\"maximum\""),
                "{}",
                access[1]
            );
        } else {
            assert!(access.is_empty(), "{flags:?} {env:?}: {log}");
        }
        let rejection = log
            .lines()
            .find(|l| l.contains("oasgate::rejection"))
            .unwrap();
        assert!(rejection.contains("path=\"/pets\""), "{rejection}");
        assert!(
            rejection.contains("operation=\"listPets\"")
                || rejection.contains("operation=listPets"),
            "{rejection}"
        );
        assert!(rejection.contains("maximum"), "{rejection}");
    }
}

/// `python3 -m http.server` serving `dir` on an ephemeral port: an HTTP/1.0 upstream.
struct PythonServer {
    child: Child,
    addr: SocketAddr,
}

impl PythonServer {
    fn start(dir: &TempDir) -> Self {
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
                if let Some(port) = line
                    .split(" port ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                {
                    let _ = tx.send(port.parse::<u16>().expect("a port"));
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("python3 -m http.server says where it listens");
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one response with a `Content-Length` from `stream` (at most 10 s): its head and body.
async fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> (String, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a content-length");
            if pending.len() >= end + 4 + length {
                let body = pending[end + 4..end + 4 + length].to_vec();
                pending.drain(..end + 4 + length);
                return (head, body);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(
            n > 0,
            "closed; received: {}",
            String::from_utf8_lossy(pending)
        );
        pending.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_0_upstream_keeps_the_client_on_http_1_1_and_keep_alive() {
    let dir = TempDir::new("http10");
    dir.write("pets", "[]");
    let python = PythonServer::start(&dir);
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: http://{}\n",
            python.addr
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);

    // The upstream answers in HTTP/1.0 and closes its connection.
    let mut direct = TcpStream::connect(python.addr).await.unwrap();
    direct
        .write_all(b"GET /pets HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let (head, _) = read_response(&mut direct, &mut Vec::new()).await;
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");

    let mut stream = TcpStream::connect(gateway.addr).await.unwrap();
    let mut pending = Vec::new();
    for i in 0..2 {
        stream
            .write_all(b"GET /pets?limit=5 HTTP/1.1\r\nhost: gateway\r\n\r\n")
            .await
            .unwrap_or_else(|e| panic!("request {i} on the kept-alive connection: {e}"));
        let (head, body) = read_response(&mut stream, &mut pending).await;
        assert!(head.starts_with("HTTP/1.1 200 "), "request {i}: {head}");
        assert!(
            !head.to_ascii_lowercase().contains("connection: close"),
            "request {i}: {head}"
        );
        assert_eq!(body, b"[]", "request {i}");
    }
}

/// Sends a 5 MiB JSON body over the limit with Python's `http.client` (no `Expect`) ten times,
/// each on a new connection; prints one line per answer: status, content type, problem status.
const UPLOAD: &str = r#"
import http.client, json, sys
port = int(sys.argv[1])
body = b"[" + b"0," * (5 * 1024 * 1024 // 2) + b"0]"
for i in range(10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/pets", body=body, headers={"content-type": "application/json"})
        answer = connection.getresponse()
        problem = json.loads(answer.read())
        print(answer.status, answer.getheader("content-type"), problem["status"], flush=True)
    except Exception as error:
        print("failed", type(error).__name__, error, flush=True)
    finally:
        connection.close()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_without_expect_reads_its_413() {
    let dir = TempDir::new("linger");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\noptions:\n  body_limit: 64KiB\nserver:\n  upstream: {}\n  lingering_time: 30s\n  lingering_timeout: 5s\n",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let script = dir.write("upload.py", UPLOAD);
    let port = gateway.addr.port().to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(&script)
            .arg(&port)
            .stdin(Stdio::null())
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        10,
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(*line, "413 application/problem+json 413", "upload {i}");
    }
    assert_eq!(upstream.seen().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lingering_ends_at_its_bounds() {
    // (lingering_time, lingering_timeout, the client trickles its body instead of pausing)
    let rows = [("30s", "500ms", false), ("1s", "30s", true)];
    for (time, timeout, trickles) in rows {
        let dir = TempDir::new("linger-bounds");
        let upstream = Upstream::start().await;
        dir.write("pets.yaml", SPEC);
        dir.write(
            "oasgate.yaml",
            &format!(
                "spec: pets.yaml\noptions:\n  body_limit: 1KiB\nserver:\n  upstream: {}\n  lingering_time: {time}\n  lingering_timeout: {timeout}\n",
                upstream.url()
            ),
        );
        let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
        let mut stream = TcpStream::connect(gateway.addr).await.unwrap();
        stream
            .write_all(b"POST /pets HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\n\r\n[0")
            .await
            .unwrap();
        let (head, _) = read_response(&mut stream, &mut Vec::new()).await;
        assert!(head.starts_with("HTTP/1.1 413 "), "{head}");
        // oasgate has sent its FIN and reads on. The body never ends: writes fail once
        // oasgate closes the socket at a bound (the kernel then answers with a reset).
        if !trickles {
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut accepted = 0u32;
        let closed = loop {
            if Instant::now() > deadline {
                break false;
            }
            if stream.write_all(b",0").await.is_err() {
                break true;
            }
            accepted += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if trickles {
            // While lingering, what the client sends is taken.
            assert!(accepted >= 3, "{accepted} writes taken");
        }
        assert!(
            closed,
            "lingering_time {time}, lingering_timeout {timeout}: still open"
        );
    }
}
