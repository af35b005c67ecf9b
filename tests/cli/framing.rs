//! What crosses the proxy must be framed as it was sent, and a stall or a broken message must
//! end the exchange, blamed on the side that caused it. Raw sockets on both sides, so that
//! nothing helps or hides.

use std::time::Duration;

use crate::support::*;

const BOUND: Duration = Duration::from_secs(20);

/// oasgate in front of `upstream_url` with `server` YAML lines.
fn gateway(dir: &TempDir, upstream_url: &str, server: &str) -> Gateway {
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!("spec: pets.yaml\nserver:\n  upstream: {upstream_url}\n{server}"),
    );
    Gateway::start(dir, &["--config", "oasgate.yaml"])
}

async fn metrics(gateway: &Gateway) -> String {
    get(&gateway.url("/metrics")).await.text
}

/// An upstream that sends its head and 5 of the 100 bytes it announced, then stalls, must not
/// hold the client (and a connection slot) for ever: `body_idle_timeout` ends the stream, and
/// since the head is sent, the client's connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_stalling_in_its_body_is_cut_off() {
    let dir = TempDir::new("stalled-upstream");
    let upstream = RawUpstream::start(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello").await;
    let gateway = gateway(&dir, &upstream.url(), "  body_idle_timeout: 1s\n");
    let (received, ended) = exchange(
        gateway.addr,
        b"GET /pets HTTP/1.1\r\nHost: gw\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(ended, "the connection stayed open; received: {received}");
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert!(received.ends_with("hello"), "{received}");
    // The stalled upstream connection is given up too.
    assert!(
        eventually(BOUND, async || upstream
            .connections()
            .iter()
            .all(|c| c.closed))
        .await,
        "the upstream connection is still open"
    );
}

/// `request_timeout` bounds the whole exchange, however steadily the upstream trickles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_ends_an_exchange_that_never_finishes() {
    let dir = TempDir::new("request-timeout");
    // The head only: the upstream then sends nothing, and the idle timeout is far away.
    let upstream = RawUpstream::start(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n").await;
    let gateway = gateway(
        &dir,
        &upstream.url(),
        "  body_idle_timeout: 1h\n  request_timeout: 1s\n",
    );
    let (received, ended) = exchange(
        gateway.addr,
        b"GET /pets HTTP/1.1\r\nHost: gw\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(ended, "the connection stayed open; received: {received}");
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    // Before the head, the same timeout is a 504.
    let silent = RawUpstream::start(b"").await;
    let gateway = self::gateway(
        &dir,
        &silent.url(),
        "  upstream_timeout: 1h\n  request_timeout: 1s\n",
    );
    let (received, ended) = exchange(
        gateway.addr,
        b"GET /pets HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(ended, "the connection stayed open; received: {received}");
    assert!(received.starts_with("HTTP/1.1 504"), "{received}");
    assert!(received.contains("within 1s"), "{received}");
}

/// A client that sends its head and part of its body, then stalls, gets 408 once
/// `body_idle_timeout` passes, and the upstream request is aborted, never completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_stalling_in_its_body_gets_408_and_the_upstream_an_aborted_request() {
    let dir = TempDir::new("stalled-client");
    let upstream = RawUpstream::start(b"").await;
    let gateway = gateway(&dir, &upstream.url(), "  body_idle_timeout: 1s\n");
    let (received, ended) = exchange(
        gateway.addr,
        b"PUT /uploads HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\n\
          Content-Length: 100\r\n\r\nhello",
        BOUND,
    )
    .await;
    assert!(
        received.starts_with("HTTP/1.1 408"),
        "ended: {ended}; {received}"
    );
    assert!(received.contains("no data arrived for 1s"), "{received}");
    assert!(
        eventually(BOUND, async || upstream
            .connections()
            .iter()
            .all(|c| c.closed))
        .await,
        "the upstream connection is still open"
    );
    for connection in upstream.connections() {
        assert!(
            !complete_request(&connection.received),
            "the upstream got a complete request: {}",
            String::from_utf8_lossy(&connection.received)
        );
    }
    let text = metrics(&gateway).await;
    assert!(
        text.contains(
            "oasgate_requests_total{operation=\"upload\",outcome=\"client_error\",status=\"408\"} 1"
        ),
        "{text}"
    );
}

/// A malformed chunk is the client's fault: 400 to the client, a client error in the metrics
/// (not an upstream 502), and the upstream never sees the part before it as a whole request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_chunked_body_is_the_clients_fault() {
    let dir = TempDir::new("malformed-chunk");
    let upstream = RawUpstream::start(b"").await;
    let gateway = gateway(&dir, &upstream.url(), "");
    let (received, ended) = exchange(
        gateway.addr,
        b"PUT /uploads HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\n\
          Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nnot a chunk\r\n0\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(ended, "the connection stayed open; received: {received}");
    assert!(
        received.is_empty() || received.starts_with("HTTP/1.1 400"),
        "{received}"
    );
    if !received.is_empty() {
        assert!(
            received.contains("the request body could not be read"),
            "{received}"
        );
    }
    let text = metrics(&gateway).await;
    assert!(
        text.contains(
            "oasgate_requests_total{operation=\"upload\",outcome=\"client_error\",status=\"400\"} 1"
        ),
        "{text}"
    );
    assert!(!text.contains("status=\"502\""), "{text}");
    assert!(
        eventually(BOUND, async || upstream
            .connections()
            .iter()
            .all(|c| c.closed))
        .await,
        "the upstream connection is still open"
    );
    for connection in upstream.connections() {
        assert!(
            !complete_request(&connection.received),
            "the upstream got a complete request: {}",
            String::from_utf8_lossy(&connection.received)
        );
    }
    assert!(!gateway.log_text().contains("upstream request failed"));
}

/// An upload the client abandons (it stops sending and half-closes) is its own failure too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_upload_is_the_clients_fault() {
    use tokio::io::AsyncWriteExt;
    let dir = TempDir::new("abandoned-upload");
    let upstream = RawUpstream::start(b"").await;
    let gateway = gateway(&dir, &upstream.url(), "");
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
        stream
            .write_all(
                b"PUT /uploads HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\n\
                  Content-Length: 1000\r\n\r\nonly a few bytes",
            )
            .await
            .unwrap();
        stream.shutdown().await.unwrap();
        // Read whatever comes until the server closes, bounded.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(
            BOUND,
            tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut rest),
        )
        .await;
    }
    let url = gateway.url("/metrics");
    assert!(
        eventually(BOUND, async || get(&url).await.text.contains(
            "oasgate_requests_total{operation=\"upload\",outcome=\"client_error\",status=\"400\"} 3"
        ))
        .await,
        "{}",
        metrics(&gateway).await
    );
    assert!(!metrics(&gateway).await.contains("status=\"502\""));
    for connection in upstream.connections() {
        assert!(!complete_request(&connection.received));
    }
}
