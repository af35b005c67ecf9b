//! OpenAPI 3.2 streamed request bodies through `oasgate serve`, with an upstream that records
//! every body byte it receives.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::support::*;

/// One request the recording upstream received: its path, the body bytes in order, whether
/// the body has ended, and whether it ended cleanly (false: with an error, cut short).
#[derive(Debug, Clone, Default)]
struct Recorded {
    path: String,
    body: Vec<u8>,
    ended: bool,
    clean: bool,
}

/// An upstream answering 202 once it has read a body, recording what it read — as it reads.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let all = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let all = all.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| record(request, all.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, seen, task }
    }

    fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    request: Request<Incoming>,
    all: Arc<Mutex<Vec<Recorded>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, mut body) = request.into_parts();
    let at = {
        let mut all = all.lock().unwrap();
        all.push(Recorded {
            path: parts.uri.path().to_owned(),
            ..Recorded::default()
        });
        all.len() - 1
    };
    let mut clean = true;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    all.lock().unwrap()[at].body.extend_from_slice(data);
                }
            }
            Err(_) => {
                clean = false;
                break;
            }
        }
    }
    {
        let mut all = all.lock().unwrap();
        all[at].clean = clean;
        all[at].ended = true;
    }
    let mut response = Response::new(Full::new(Bytes::from_static(b"{\"stored\": true}")));
    *response.status_mut() = http::StatusCode::ACCEPTED;
    Ok(response)
}

const LOG_A: &str = r#"{"timestamp": "1985-04-12T23:20:50.52Z", "level": 1, "message": "Hi!"}"#;
const LOG_B: &str = r#"{"timestamp": "1985-04-12T23:20:51.37Z", "level": 1, "message": "Bye!"}"#;
const BAD_LEVEL: &str = r#"{"timestamp": "1985-04-12T23:20:52Z", "level": -1, "message": "?"}"#;

/// What the upstream should have received.
#[derive(Debug)]
enum Upstream {
    /// The body, whole and cleanly ended.
    Whole,
    /// No request at all.
    Nothing,
    /// At most this prefix of the body, never cleanly ended (or no request at all).
    AtMost(String),
}

async fn gateway(dir: &TempDir) -> (Recorder, Gateway) {
    let recorder = Recorder::start().await;
    let spec = std::fs::read_to_string(format!(
        "{}/tests/fixtures/local/streams.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    dir.write("streams.yaml", &spec);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: streams.yaml\nserver:\n  upstream: {}\n",
            recorder.url
        ),
    );
    let gateway = Gateway::start(dir, &["--config", "oasgate.yaml"]);
    (recorder, gateway)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_through_the_gateway() {
    let dir = TempDir::new("streams");
    let (recorder, gateway) = gateway(&dir).await;
    let events = "event: addString\ndata: two\ndata: lines\n\n: a comment\nevent: addJson\n\
                  data: {\"foo\": 42}\nid: 9\n\n";
    let rows: Vec<(&str, &str, String, u16, &str, Upstream)> = vec![
        (
            "/logs",
            "application/jsonl",
            format!("{LOG_A}\n{LOG_B}\n"),
            202,
            "",
            Upstream::Whole,
        ),
        (
            "/logs",
            "application/json-seq",
            format!("\x1e{LOG_A}\n\x1e{LOG_B}\n"),
            202,
            "",
            Upstream::Whole,
        ),
        (
            "/events",
            "text/event-stream",
            events.to_owned(),
            202,
            "",
            Upstream::Whole,
        ),
        (
            "/logs/batch",
            "application/jsonl",
            format!("{LOG_A}\n{LOG_B}\n"),
            202,
            "",
            Upstream::Whole,
        ),
        // A stream refused at its first item never reaches the upstream.
        (
            "/logs",
            "application/x-ndjson",
            format!("{BAD_LEVEL}\n{LOG_A}\n"),
            400,
            "/0/level",
            Upstream::Nothing,
        ),
        (
            "/events",
            "text/event-stream",
            "event: remove\ndata: 1\n\n".to_owned(),
            400,
            "/0/event",
            Upstream::Nothing,
        ),
        (
            "/logs/batch",
            "application/jsonl",
            format!("{LOG_A}\n").repeat(4),
            400,
            "",
            Upstream::Nothing,
        ),
        // Refused later: the upstream may have read the good items, never the bad one, and
        // its body is cut short; the client still gets the problem.
        (
            "/logs",
            "application/jsonl",
            format!("{LOG_A}\n{LOG_B}\n{BAD_LEVEL}\n{LOG_A}\n"),
            400,
            "/2/level",
            Upstream::AtMost(format!("{LOG_A}\n{LOG_B}\n")),
        ),
    ];
    for (path, content_type, body, status, pointer, want) in rows {
        let before = recorder.seen().len();
        let answer = send(
            Request::post(gateway.url(path))
                .header("content-type", content_type)
                .body(full(body.clone()))
                .unwrap(),
        )
        .await;
        let label = format!("{path} {content_type} {body:?}");
        assert_eq!(answer.status, status, "{label}: {}", answer.text);
        if status == 400 {
            let problem = answer.json();
            assert_eq!(
                answer.headers["content-type"], "application/problem+json",
                "{label}"
            );
            if !pointer.is_empty() {
                assert_eq!(
                    problem["errors"][0]["pointer"], pointer,
                    "{label}: {problem}"
                );
            }
        }
        let seen = recorder.seen();
        let new = &seen[before..];
        match want {
            Upstream::Whole => {
                assert_eq!(new.len(), 1, "{label}: {new:?}");
                assert_eq!(new[0].path, path);
                assert_eq!(String::from_utf8_lossy(&new[0].body), body, "{label}");
                assert!(new[0].clean, "{label}");
            }
            Upstream::Nothing => assert!(new.is_empty(), "{label}: {new:?}"),
            Upstream::AtMost(prefix) => {
                for request in new {
                    assert!(
                        !(request.ended && request.clean),
                        "{label}: the upstream read a whole body"
                    );
                    let got = String::from_utf8_lossy(&request.body);
                    assert!(
                        prefix.starts_with(&*got),
                        "{label}: the upstream read {got:?}"
                    );
                }
            }
        }
    }
}

/// A slow client: the upstream reads the first item while the client still holds the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_reach_the_upstream_as_they_arrive() {
    let dir = TempDir::new("streams-slow");
    let (recorder, gateway) = gateway(&dir).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(1);
    let body = StreamBody::new(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))).boxed();
    let request = Request::post(gateway.url("/logs"))
        .header("content-type", "application/jsonl")
        .body(body)
        .unwrap();
    let answer = tokio::spawn(send(request));
    let first = format!("{LOG_A}\n");
    // The first item, split across two chunks.
    let (head, tail) = first.split_at(20);
    for chunk in [head.to_owned(), tail.to_owned()] {
        tx.send(Ok(Frame::data(Bytes::from(chunk)))).await.unwrap();
    }
    let arrived = eventually(Duration::from_secs(10), async || {
        recorder
            .seen()
            .first()
            .is_some_and(|r| r.body == first.as_bytes())
    })
    .await;
    assert!(
        arrived,
        "the first item did not reach the upstream before the rest was sent"
    );
    tx.send(Ok(Frame::data(Bytes::from(format!("{LOG_B}\n")))))
        .await
        .unwrap();
    drop(tx);
    let answer = answer.await.unwrap();
    assert_eq!(answer.status, 202, "{}", answer.text);
    let seen = recorder.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        String::from_utf8_lossy(&seen[0].body),
        format!("{LOG_A}\n{LOG_B}\n")
    );
    assert!(seen[0].clean);
}

/// A bad item after the upstream has read the first: the upstream's body is cut short before
/// the bad item, and the client — whose request was not answered yet — gets the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_item_after_the_first_cuts_the_upstream_body_short() {
    let dir = TempDir::new("streams-cut");
    let (recorder, gateway) = gateway(&dir).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(1);
    let body = StreamBody::new(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))).boxed();
    let request = Request::post(gateway.url("/logs"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .unwrap();
    let answer = tokio::spawn(send(request));
    let first = format!("{LOG_A}\n");
    tx.send(Ok(Frame::data(Bytes::from(first.clone()))))
        .await
        .unwrap();
    let arrived = eventually(Duration::from_secs(10), async || {
        recorder
            .seen()
            .first()
            .is_some_and(|r| r.body == first.as_bytes())
    })
    .await;
    assert!(arrived, "the first item did not reach the upstream");
    for chunk in [format!("{BAD_LEVEL}\n"), format!("{LOG_B}\n")] {
        // The gateway may stop reading once it has refused the stream.
        let _ = tx.send(Ok(Frame::data(Bytes::from(chunk)))).await;
    }
    drop(tx);
    let answer = answer.await.unwrap();
    assert_eq!(answer.status, 400, "{}", answer.text);
    let problem = answer.json();
    assert_eq!(problem["errors"][0]["pointer"], "/1/level", "{problem}");
    assert_eq!(problem["location"]["line"], 2, "{problem}");
    let cut = eventually(Duration::from_secs(10), async || {
        recorder.seen().first().is_some_and(|r| r.ended && !r.clean)
    })
    .await;
    let seen = recorder.seen();
    assert!(cut, "the upstream's body was not cut short: {seen:?}");
    assert_eq!(seen.len(), 1);
    assert_eq!(String::from_utf8_lossy(&seen[0].body), first);
}
