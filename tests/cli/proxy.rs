//! `oasgate serve` as a validating reverse proxy.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use crate::support::*;

/// An upstream and oasgate in front of it; `options` and `server` are YAML lines of those
/// sections (indented).
async fn proxy(dir: &TempDir, options: &str, server: &str) -> (Upstream, Gateway) {
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    let config = format!(
        "spec: pets.yaml\noptions:\n{options}server:\n  upstream: {}\n{server}",
        upstream.url()
    );
    dir.write("oasgate.yaml", &config);
    let gateway = Gateway::start(dir, &["--config", "oasgate.yaml"]);
    (upstream, gateway)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_valid_requests_and_answers_problems_for_invalid_ones() {
    let dir = TempDir::new("forward");
    let (upstream, gateway) = proxy(&dir, "", "").await;

    let ok = send(
        Request::get(gateway.url("/pets?limit=5"))
            .header("connection", "keep-alive, x-hop")
            .header("x-hop", "1")
            .header("x-forwarded-for", "6.6.6.6")
            .body(full(""))
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.headers["x-upstream"], "yes");
    assert_eq!(ok.json()["uri"], "/pets?limit=5");
    let request_id = ok.headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(!request_id.is_empty());

    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("GET", "/pets?limit=5")
    );
    let headers = &seen[0].headers;
    // The peer is not a trusted proxy: its X-Forwarded-For is replaced, not extended.
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    assert_eq!(headers["x-forwarded-host"], gateway.addr.to_string());
    assert_eq!(
        headers["forwarded"],
        format!("for=127.0.0.1;proto=http;host=\"{}\"", gateway.addr)
    );
    assert_eq!(headers["x-request-id"].to_str().unwrap(), request_id);
    assert_eq!(headers["host"], upstream.addr.to_string());
    assert!(
        !headers.contains_key("x-hop"),
        "hop-by-hop header forwarded"
    );

    // A client's request id is kept, both ways.
    let with_id = send(
        Request::get(gateway.url("/pets"))
            .header("x-request-id", "abc-123")
            .body(full(""))
            .unwrap(),
    )
    .await;
    assert_eq!(with_id.headers["x-request-id"], "abc-123");
    assert_eq!(upstream.seen()[1].headers["x-request-id"], "abc-123");

    // Invalid requests never reach the upstream: (method, path, body, status, problem type).
    let rows = [
        (
            "GET",
            "/pets?limit=500",
            "",
            400,
            "urn:oasgate:problem:invalid-parameters",
        ),
        (
            "POST",
            "/pets",
            r#"{"tag": 1}"#,
            400,
            "urn:oasgate:problem:invalid-body",
        ),
        (
            "POST",
            "/pets",
            r#"{"name": "#,
            400,
            "urn:oasgate:problem:malformed-body",
        ),
        ("GET", "/cats", "", 404, "about:blank"),
        ("DELETE", "/pets", "", 405, "about:blank"),
        (
            "GET",
            "/secure",
            "",
            401,
            "urn:oasgate:problem:unauthorized",
        ),
    ];
    for (method, path, body, status, kind) in rows {
        let answer = send(
            Request::builder()
                .method(method)
                .uri(gateway.url(path))
                .header("content-type", "application/json")
                .body(full(body.to_owned()))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.text);
        assert_eq!(answer.headers["content-type"], "application/problem+json");
        assert_eq!(answer.json()["type"], kind, "{method} {path}");
        assert!(answer.headers.contains_key("x-request-id"));
    }
    assert_eq!(
        upstream.seen().len(),
        2,
        "an invalid request reached the upstream"
    );

    let created = send(
        Request::post(gateway.url("/pets"))
            .header("content-type", "application/json")
            .body(full(r#"{"name": "rex"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json()["bytes"], 15);
    assert_eq!(upstream.seen().last().unwrap().body_len, 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_bodies_it_does_not_validate() {
    let dir = TempDir::new("stream");
    // A body limit far below the upload: the body is not read by the layer, so it passes.
    let (upstream, gateway) = proxy(&dir, "  body_limit: 64KiB\n", "").await;
    const CHUNK: usize = 1 << 20;
    const CHUNKS: usize = 48;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(2);
    let body = StreamBody::new(tokio_stream_from(rx)).boxed();
    let request = Request::put(gateway.url("/uploads"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .unwrap();
    let answer = tokio::spawn(send(request));
    tx.send(Ok(Frame::data(Bytes::from(vec![7u8; CHUNK]))))
        .await
        .unwrap();
    // The upstream sees the first chunk while the client still holds the rest: nothing
    // waits for the whole body.
    let counter = upstream.bytes.clone();
    assert!(
        eventually(Duration::from_secs(10), async || counter
            .load(Ordering::Relaxed)
            > 0)
        .await,
        "the first chunk did not reach the upstream before the body ended"
    );
    for _ in 1..CHUNKS {
        tx.send(Ok(Frame::data(Bytes::from(vec![7u8; CHUNK]))))
            .await
            .unwrap();
    }
    drop(tx);
    let answer = answer.await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["bytes"], (CHUNK * CHUNKS) as u64);
}

/// A `Stream` over a tokio channel, without pulling in tokio-stream.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Upstream connections are kept and reused; one unused for `upstream_idle_timeout` is
/// closed, and the next request opens another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_connections_are_reused_until_idle_too_long() {
    let dir = TempDir::new("upstream-idle");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    // One worker: every request goes through the same pool.
    let gateway = Gateway::start(
        &dir,
        &[
            "--spec",
            "pets.yaml",
            "--upstream",
            &upstream.url(),
            "--workers",
            "1",
            "--upstream-idle-timeout",
            "400ms",
        ],
    );
    for _ in 0..5 {
        assert_eq!(get(&gateway.url("/pets")).await.status, 200);
    }
    assert_eq!(upstream.connections(), 1);
    // The sweep looks four times per timeout.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(get(&gateway.url("/pets")).await.status, 200);
    assert_eq!(upstream.connections(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_is_502_and_slow_upstream_is_504() {
    let dir = TempDir::new("gateway-errors");
    dir.write("pets.yaml", SPEC);
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let down = Gateway::start(
        &dir,
        &[
            "--spec",
            "pets.yaml",
            "--upstream",
            &format!("http://{closed_addr}"),
        ],
    );
    let answer = get(&down.url("/pets")).await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert_eq!(answer.headers["content-type"], "application/problem+json");
    assert_eq!(answer.json()["type"], "urn:oasgate:problem:bad-gateway");
    assert!(
        !answer.text.contains(&closed_addr.to_string()),
        "the problem names the upstream"
    );
    assert_eq!(answer.json()["instance"], "/pets");
    // The warning names the request's id, as its access line does.
    let id = answer.headers["x-request-id"].to_str().unwrap().to_owned();
    let mut log = String::new();
    let warned = eventually(Duration::from_secs(10), async || {
        log = down.log_text();
        log.lines()
            .any(|l| l.contains("upstream request failed") && l.contains(&id))
    })
    .await;
    assert!(warned, "no warning naming request {id} in\n{log}");

    // A secret path parameter stays out of the gateway's own problems, as out of the layer's.
    dir.write(
        "reset.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /reset/{token}:\n    get:\n      parameters:\n        - {name: token, in: path, required: true, schema: {type: string, format: password}}\n      responses: {'200': {description: ok}}\n",
    );
    let secret = Gateway::start(
        &dir,
        &[
            "--spec",
            "reset.yaml",
            "--upstream",
            &format!("http://{closed_addr}"),
        ],
    );
    let answer = get(&secret.url("/reset/hunter2-token")).await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert!(!answer.text.contains("hunter2"), "{}", answer.text);
    assert_eq!(answer.json()["instance"], serde_json::Value::Null);

    let upstream = Upstream::start().await;
    dir.write(
        "slow.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n  upstream_timeout: 300ms\n",
            upstream.url()
        ),
    );
    let slow = Gateway::start(&dir, &["--config", "slow.yaml"]);
    let started = std::time::Instant::now();
    let answer = get(&slow.url("/slow")).await;
    assert_eq!(answer.status, 504, "{}", answer.text);
    assert_eq!(answer.json()["type"], "urn:oasgate:problem:gateway-timeout");
    assert!(answer.json()["detail"].as_str().unwrap().contains("300ms"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not apply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_forwards_what_it_would_reject_and_logs_it() {
    let dir = TempDir::new("dry-run");
    let (upstream, gateway) = proxy(&dir, "  enforce: false\n", "").await;
    // (method, path, body)
    let rows = [
        ("GET", "/pets?limit=500", ""),
        ("POST", "/pets", r#"{"tag": 1}"#),
        ("GET", "/secure", ""),
        ("GET", "/cats", ""),
    ];
    for (method, path, body) in rows {
        let answer = send(
            Request::builder()
                .method(method)
                .uri(gateway.url(path))
                .header("content-type", "application/json")
                .body(full(body.to_owned()))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 200, "{method} {path}: {}", answer.text);
        // The upstream got the body whole, even the one that breaks its schema.
        assert_eq!(answer.json()["bytes"], body.len(), "{method} {path}");
    }
    assert_eq!(upstream.seen().len(), rows.len());
    let metrics = get(&gateway.url("/metrics")).await.text;
    assert!(
        metrics.contains(
            "oasgate_requests_total{operation=\"listPets\",outcome=\"would_reject\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "oasgate_requests_total{operation=\"createPet\",outcome=\"would_reject\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    let log = gateway.log_text();
    assert_eq!(
        log.matches("would be rejected (report-only)").count(),
        rows.len(),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_healthz() {
    let dir = TempDir::new("metrics");
    let (_upstream, gateway) = proxy(&dir, "", "  healthz_path: /live\n").await;
    for path in ["/pets", "/pets?limit=2", "/pets?limit=x", "/nowhere"] {
        get(&gateway.url(path)).await;
    }
    let live = get(&gateway.url("/live")).await;
    assert_eq!((live.status.as_u16(), live.text.as_str()), (200, "ok\n"));
    // The default path is no longer special: it is an unknown route.
    assert_eq!(get(&gateway.url("/healthz")).await.status, 404);
    let metrics = get(&gateway.url("/metrics")).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for line in [
        "oasgate_requests_total{operation=\"listPets\",outcome=\"accepted\",status=\"200\"} 2",
        "oasgate_requests_total{operation=\"listPets\",outcome=\"rejected\",status=\"400\"} 1",
        "oasgate_requests_total{operation=\"\",outcome=\"rejected\",status=\"404\"} 2",
        "oasgate_request_duration_seconds_count{outcome=\"accepted\"} 2",
        "oasgate_request_duration_seconds_bucket{outcome=\"rejected\",le=\"+Inf\"} 3",
        "# TYPE oasgate_request_duration_seconds histogram",
    ] {
        assert!(
            metrics.text.lines().any(|l| l == line),
            "missing `{line}` in\n{}",
            metrics.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_a_good_spec_and_keeps_the_old_plan_on_a_broken_one() {
    let dir = TempDir::new("reload");
    let (_upstream, gateway) = proxy(&dir, "", "").await;
    assert_eq!(get(&gateway.url("/dogs")).await.status, 404);

    dir.write("pets.yaml", &spec_with_dogs());
    gateway.signal("HUP");
    let url = gateway.url("/dogs");
    assert!(
        eventually(Duration::from_secs(10), async || get(&url).await.status
            == 200)
        .await,
        "the new path is not served after SIGHUP"
    );

    dir.write("pets.yaml", "openapi: 3.0.3\ninfo: {title: broken, version: '1'}\npaths:\n  /x:\n    get:\n      parameters:\n        - {name: a, in: nowhere}\n      responses: {}\n");
    gateway.signal("HUP");
    let metrics_url = gateway.url("/metrics");
    assert!(
        eventually(Duration::from_secs(10), async || {
            get(&metrics_url)
                .await
                .text
                .contains("oasgate_reloads_total{result=\"failed\"} 1")
        })
        .await,
        "the failed reload was not counted"
    );
    assert_eq!(get(&url).await.status, 200, "the old plan stopped serving");
    let log = gateway.log_text();
    assert!(
        log.contains("reload failed; the previous document keeps serving"),
        "{log}"
    );
    assert!(
        log.contains("pets.yaml"),
        "the log does not name the broken file: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests() {
    let dir = TempDir::new("drain");
    let (_upstream, mut gateway) = proxy(&dir, "", "  drain_timeout: 20s\n").await;
    let slow = tokio::spawn(get_owned(gateway.url("/slow")));
    // Let the request reach the upstream before the signal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    gateway.signal("TERM");
    let answer = slow.await.unwrap();
    assert_eq!(
        answer.status, 200,
        "the in-flight request was cut: {}",
        answer.text
    );
    let status = gateway
        .wait_exit(Duration::from_secs(10))
        .expect("oasgate exits after draining");
    assert!(status.success(), "{status:?}");
    assert!(gateway.log_text().contains("draining"));
}

async fn get_owned(url: String) -> Answer {
    get(&url).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs() {
    let dir = TempDir::new("json-logs");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    let url = upstream.url();
    let args = [
        "--spec",
        "pets.yaml",
        "--upstream",
        &url,
        "--log-format",
        "json",
    ];
    // The rejection line of a refused request, and the id the gateway answered with.
    let rejected = async |gateway: &Gateway| {
        let refused = get(&gateway.url("/pets?limit=x")).await;
        let _ = get(&gateway.url("/healthz")).await;
        let log = gateway.log_text();
        let line = log
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["target"] == "oasgate::rejection")
            .unwrap_or_else(|| panic!("no JSON rejection line in\n{log}"));
        (
            line,
            refused.headers["x-request-id"].to_str().unwrap().to_owned(),
        )
    };
    let (rejection, id) = rejected(&Gateway::start(&dir, &args)).await;
    assert_eq!(rejection["fields"]["status"], 400);
    assert_eq!(rejection["fields"]["operation"], "listPets");
    // Named by the request's id, as its access line; the request's span is logged at `debug`
    // only.
    assert_eq!(rejection["fields"]["request_id"], id, "{rejection}");
    assert!(rejection.get("span").is_none(), "{rejection}");

    // At `debug`, each request's lines are in a span named by its id too.
    let debug = Gateway::start_env(&dir, &args, &[("RUST_LOG", "oasgate=debug")]);
    let (rejection, id) = rejected(&debug).await;
    assert_eq!(rejection["span"]["name"], "request", "{rejection}");
    assert_eq!(rejection["span"]["id"], id, "{rejection}");
}

/// Reloads while requests are in flight: every request gets a whole answer from one plan or
/// the other, never a dropped connection or a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_load_drop_no_request() {
    let dir = TempDir::new("reload-load");
    let (_upstream, gateway) = proxy(&dir, "", "").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (stop, url) = (stop.clone(), gateway.url("/pets?limit=5"));
        clients.push(tokio::spawn(async move {
            let mut answered = 0u32;
            // Bounded in count and by the flag the reloads below raise.
            for _ in 0..2_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let answer = get(&url).await;
                assert_eq!(answer.status, 200, "{}", answer.text);
                answered += 1;
            }
            answered
        }));
    }
    let metrics_url = gateway.url("/metrics");
    for round in 1..=6 {
        let spec = if round % 2 == 1 {
            spec_with_dogs()
        } else {
            SPEC.to_owned()
        };
        dir.write("pets.yaml", &spec);
        gateway.signal("HUP");
        let counted = format!("oasgate_reloads_total{{result=\"ok\"}} {round}");
        assert!(
            eventually(Duration::from_secs(10), async || {
                get(&metrics_url).await.text.contains(&counted)
            })
            .await,
            "reload {round} did not complete"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for client in clients {
        total += client.await.expect("no client saw a failure");
    }
    assert!(total > 0, "no request was sent during the reloads");
    // The last reload put the plan without `/dogs` back.
    assert_eq!(get(&gateway.url("/dogs")).await.status, 404);
}

/// `server.workers` and `--workers` set the runtime's threads, which `/metrics` reports; the
/// command line overrides the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_set_the_threads_that_serve() {
    let dir = TempDir::new("workers");
    let (upstream, gateway) = proxy(&dir, "", "  workers: 3\n").await;
    let metrics = get(&gateway.url("/metrics")).await;
    assert!(
        metrics.text.contains("\noasgate_worker_threads 3\n"),
        "{}",
        metrics.text
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml", "--workers", "1"]);
    let metrics = get(&gateway.url("/metrics")).await;
    assert!(
        metrics.text.contains("\noasgate_worker_threads 1\n"),
        "{}",
        metrics.text
    );
    // One thread serves as many threads do.
    let answer = get(&gateway.url("/pets?limit=5")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(upstream.seen().len(), 1);
    // Out of range, named with its place.
    let (code, _, err) = run(
        &dir.0,
        &["serve", "--config", "oasgate.yaml", "--workers", "0"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--workers"), "{err}");
}
