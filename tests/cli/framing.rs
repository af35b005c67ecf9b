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
    assert!(received.contains("\"status\":408"), "{received}");
    assert!(
        received.contains("urn:oasgate:problem:request-timeout"),
        "{received}"
    );
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

/// "If a message is received with both a Transfer-Encoding and a Content-Length header field,
/// the Transfer-Encoding overrides the Content-Length" (RFC 9112 §6.3): the body is the
/// chunked one, and a `Content-Length: 50` passed on beside its 5 bytes would leave the
/// client waiting for 45 that never come, or read the next answer as their end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_answer_with_both_lengths_reaches_the_client_framed_once() {
    let dir = TempDir::new("cl-te");
    let upstream = RawUpstream::start(
        b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    let gateway = gateway(&dir, &upstream.url(), "");
    let (received, ended) = exchange(
        gateway.addr,
        b"GET /pets HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(ended, "the connection stayed open; received: {received}");
    let (head, body) = received.split_once("\r\n\r\n").expect("a whole head");
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{received}");
    assert!(!head.contains("content-length: 50"), "{received}");
    let body = if head.contains("transfer-encoding: chunked") {
        assert!(body.ends_with("0\r\n\r\n"), "{received}");
        body.replace("5\r\n", "").replace("\r\n0\r\n\r\n", "")
    } else {
        body.to_owned()
    };
    assert_eq!(body, "hello", "{received}");
}

/// `Upgrade` is never forwarded, so a 101 from the upstream answers a request that asked for
/// no protocol switch. Passed on, it would turn the client's connection into a tunnel and its
/// next request into data: it answers 502, and the next request on the connection is still
/// read as a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unasked_switching_protocols_is_a_502() {
    let dir = TempDir::new("unasked-101");
    let upstream = RawUpstream::start(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    )
    .await;
    let gateway = gateway(&dir, &upstream.url(), "");
    // Two pipelined requests on one connection, the second closing it.
    let (received, ended) = exchange(
        gateway.addr,
        b"GET /pets HTTP/1.1\r\nHost: gw\r\n\r\nGET /pets HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(ended, "the connection stayed open; received: {received}");
    assert!(!received.contains("HTTP/1.1 101"), "{received}");
    assert_eq!(
        received.matches("HTTP/1.1 502 ").count(),
        2,
        "both requests are answered: {received}"
    );
    assert!(
        gateway.log_text().contains("switched protocols"),
        "{}",
        gateway.log_text()
    );
}

/// What happens to a GET that carries a body: "content received in a GET request has no
/// generally defined semantics [...] might lead some implementations to reject the request
/// and close the connection because of its potential as a request smuggling attack" (RFC 9110
/// §9.3.1). oasgate never validates such a body, so forwarding it would hand the service
/// content no check looked at, and dropping it would change the request: it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_head_with_a_body_are_refused_not_stripped_or_forwarded() {
    let dir = TempDir::new("get-body");
    let upstream = Upstream::start().await;
    let gateway = gateway(&dir, &upstream.url(), "");
    for request in [
        &b"GET /pets HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"[..],
        b"HEAD /pets HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        b"GET /pets HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ] {
        let (received, ended) = exchange(gateway.addr, request, BOUND).await;
        assert!(ended, "the connection stayed open; received: {received}");
        assert!(
            received.starts_with("HTTP/1.1 400"),
            "{}: {received}",
            String::from_utf8_lossy(request)
        );
    }
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
    // An empty body is no body.
    let (received, _) = exchange(
        gateway.addr,
        b"GET /pets HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert_eq!(upstream.seen().len(), 1);
}

/// "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message
/// that lacks a Host header field and to any request message that contains more than one Host
/// header field line or a Host header field with an invalid field value" (RFC 9112 §3.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_repeated_host_is_a_400_in_both_modes() {
    let dir = TempDir::new("host");
    let upstream = Upstream::start().await;
    let proxy = gateway(&dir, &upstream.url(), "");
    let auth_dir = TempDir::new("host-auth");
    auth_dir.write("pets.yaml", SPEC);
    let auth = Gateway::start(
        &auth_dir,
        &["--spec", "pets.yaml", "--mode", "forward-auth"],
    );
    // (request, expected status line start)
    let rows: [(&[u8], &str); 6] = [
        (
            b"GET /pets HTTP/1.1\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"GET /pets HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"GET /pets HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"GET /pets HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
            "HTTP/1.0 400",
        ),
        // HTTP/1.0 has no Host requirement.
        (b"GET /pets HTTP/1.0\r\n\r\n", "HTTP/1.0 200"),
        (
            b"GET /pets HTTP/1.1\r\nHost: gw:8080\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200",
        ),
    ];
    for (request, want) in rows {
        for (mode, addr) in [("proxy", proxy.addr), ("forward-auth", auth.addr)] {
            let (received, ended) = exchange(addr, request, BOUND).await;
            assert!(
                ended,
                "{mode}: the connection stayed open; received: {received}"
            );
            assert!(
                received.starts_with(want),
                "{mode}: {}: {received}",
                String::from_utf8_lossy(request)
            );
            if want.ends_with("400") {
                assert!(received.contains("application/problem+json"), "{received}");
                assert!(received.to_ascii_lowercase().contains("host"), "{received}");
            }
        }
    }
    // Only the two valid requests reached the upstream.
    assert_eq!(upstream.seen().len(), 2, "{:?}", upstream.seen());
}

/// The same for a body the layer reads to validate it: the client's broken chunk never
/// becomes a shorter, well-framed request upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_chunk_in_a_validated_body_never_reaches_the_upstream_whole() {
    let dir = TempDir::new("malformed-validated");
    let upstream = RawUpstream::start(b"").await;
    let gateway = gateway(&dir, &upstream.url(), "");
    let (received, ended) = exchange(
        gateway.addr,
        b"POST /pets HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\nd\r\n{\"name\":\"a\"}\r\nzz\r\n\r\n0\r\n\r\n",
        BOUND,
    )
    .await;
    assert!(ended, "the connection stayed open; received: {received}");
    assert!(
        received.is_empty() || received.starts_with("HTTP/1.1 400"),
        "{received}"
    );
    let text = metrics(&gateway).await;
    assert!(!text.contains("status=\"502\""), "{text}");
    assert!(!text.contains("status=\"200\""), "{text}");
    for connection in upstream.connections() {
        assert!(
            !complete_request(&connection.received),
            "the upstream got a complete request: {}",
            String::from_utf8_lossy(&connection.received)
        );
    }
}

/// A client that stops reading must not hold its connection, the upstream's and a slot for
/// ever: once nothing of the answer can be written for `body_idle_timeout`, the connection is
/// closed (and the upstream's with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = TempDir::new("stops-reading");
    // More than every socket buffer between the two can hold.
    let size = 32 << 20;
    let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").into_bytes();
    answer.resize(answer.len() + size, b'x');
    let upstream = RawUpstream::start(&answer).await;
    let gateway = gateway(&dir, &upstream.url(), "  body_idle_timeout: 1s\n");
    let mut stream = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    stream
        .write_all(b"GET /pets HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await
        .unwrap();
    // The client reads nothing until oasgate has given up on the exchange.
    assert!(
        eventually(BOUND, async || {
            let connections = upstream.connections();
            !connections.is_empty() && connections.iter().all(|c| c.closed)
        })
        .await,
        "the upstream connection is still open"
    );
    let mut received = 0usize;
    let ended = tokio::time::timeout(BOUND, async {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received += n,
            }
        }
    })
    .await
    .is_ok();
    assert!(ended, "the connection stayed open after {received} bytes");
    assert!(
        received < size,
        "the whole answer arrived: {received} bytes"
    );
}

/// Four upstream answers stalled in their bodies took every slot of `max_connections: 4`;
/// `body_idle_timeout` frees them, so the next client (here `/healthz`) is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_answers_do_not_keep_the_connection_slots() {
    let dir = TempDir::new("stalled-slots");
    let upstream = RawUpstream::start(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello").await;
    let gateway = gateway(
        &dir,
        &upstream.url(),
        "  body_idle_timeout: 1s\n  max_connections: 4\n",
    );
    let stalled: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(exchange(
                gateway.addr,
                b"GET /pets HTTP/1.1\r\nHost: gw\r\n\r\n",
                BOUND,
            ))
        })
        .collect();
    assert!(
        eventually(BOUND, async || upstream.connections().len() == 4).await,
        "the four requests did not reach the upstream"
    );
    // `get` gives up after 20 s.
    assert_eq!(get(&gateway.url("/healthz")).await.status, 200);
    for client in stalled {
        let (received, ended) = client.await.unwrap();
        assert!(ended, "a stalled answer kept its connection: {received}");
    }
}
