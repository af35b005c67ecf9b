//! Slow and greedy clients: header-read timeout, header limits and the connection cap, over
//! raw sockets so that nothing on the client side helps or hides.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// Connects to `addr` and sends a request head one byte every 50 ms, never finishing it,
/// until the server closes the connection. What the server sent before closing, or `None`
/// if it was still open after `limit`.
async fn trickle(addr: SocketAddr, limit: Duration) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = b"GET /pets HTTP/1.1\r\nhost: slow\r\nx-slow: ";
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    for i in 0.. {
        if Instant::now() > deadline {
            return None;
        }
        let byte = head.get(i).copied().unwrap_or(b'a');
        if stream.write_all(&[byte]).await.is_err() {
            return Some(received);
        }
        match tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(received),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    unreachable!()
}

/// Sends `request` whole on a new connection and reads until the server closes it (at most
/// 10 s): everything the server sent.
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection stayed open; received: {}",
        String::from_utf8_lossy(&received)
    );
    String::from_utf8_lossy(&received).into_owned()
}

/// Reads one answer on a kept-alive connection: its status line.
async fn status_line(stream: &mut TcpStream) -> String {
    answer(stream).await.0
}

/// Reads one answer on a kept-alive connection: its status line and body.
async fn answer(stream: &mut TcpStream) -> (String, String) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("an answer"));
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")?
                .trim()
                .parse()
                .ok()
        })
        .expect("a content-length");
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.expect("the body");
    (
        head.lines().next().unwrap_or_default().to_owned(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn proxy(dir: &TempDir, server: &str, args: &[&str]) -> (Upstream, Gateway) {
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n{server}",
            upstream.url()
        ),
    );
    let mut all = vec!["--config", "oasgate.yaml"];
    all.extend_from_slice(args);
    let gateway = Gateway::start(dir, &all);
    (upstream, gateway)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_are_cut_off_while_other_clients_are_served() {
    let dir = TempDir::new("slowloris");
    let (upstream, gateway) = proxy(
        &dir,
        "  header_read_timeout: 1s\n  max_connections: 100\n",
        &[],
    )
    .await;
    let slow: Vec<_> = (0..30)
        .map(|_| tokio::spawn(trickle(gateway.addr, Duration::from_secs(15))))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Meanwhile a normal client is served at once, again and again.
    for _ in 0..5 {
        let answer = tokio::time::timeout(Duration::from_secs(5), get(&gateway.url("/pets")))
            .await
            .expect("a normal request is answered within 5 s while slow clients trickle");
        assert_eq!(answer.status, 200, "{}", answer.text);
    }

    for (i, slow) in slow.into_iter().enumerate() {
        let received = slow
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("slow connection {i} was still open after 15 s"));
        // Cut off without an answer: the head was never complete.
        assert!(
            received.is_empty(),
            "slow connection {i} got: {}",
            String::from_utf8_lossy(&received)
        );
    }
    assert_eq!(upstream.seen().len(), 5, "a slow head reached the upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_headers_and_oversized_heads_answer_431() {
    let dir = TempDir::new("header-limits");
    let (upstream, gateway) = proxy(
        &dir,
        "",
        &["--max-headers", "20", "--max-header-size", "4KiB"],
    )
    .await;
    let request = |extra: &str| {
        format!("GET /pets HTTP/1.1\r\nhost: limits\r\nconnection: close\r\n{extra}\r\n")
    };
    let headers = |n: usize| -> String { (0..n).map(|i| format!("x-h{i}: {i}\r\n")).collect() };
    let big = |len: usize| format!("x-big: {}\r\n", "a".repeat(len));

    // (extra headers, the status line the client reads)
    let rows = [
        (headers(18), "HTTP/1.1 200 OK"),
        (headers(19), "HTTP/1.1 431 Request Header Fields Too Large"),
        (headers(200), "HTTP/1.1 431 Request Header Fields Too Large"),
        (big(3000), "HTTP/1.1 200 OK"),
        (big(6000), "HTTP/1.1 431 Request Header Fields Too Large"),
    ];
    for (extra, want) in &rows {
        let answer = raw(gateway.addr, request(extra).as_bytes()).await;
        let first = answer.lines().next().unwrap_or_default();
        assert_eq!(first, *want, "{} bytes of extra headers", extra.len());
        if want.contains("431") {
            // hyper answers before any service runs: no problem body, and the connection
            // closes (`raw` read to its end).
            assert!(answer.contains("content-length: 0"), "{answer}");
        }
    }
    assert_eq!(
        upstream.seen().len(),
        2,
        "an oversized head reached the upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_until_a_connection_closes() {
    let dir = TempDir::new("connection-cap");
    let (_upstream, gateway) = proxy(&dir, "  max_connections: 2\n", &[]).await;
    let keep_alive = b"GET /healthz HTTP/1.1\r\nhost: cap\r\n\r\n";
    // Two kept-alive connections, each answered once, so both hold a slot.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(gateway.addr).await.expect("connect");
        stream.write_all(keep_alive).await.unwrap();
        let line = tokio::time::timeout(Duration::from_secs(10), status_line(&mut stream))
            .await
            .expect("an answer within 10 s");
        assert_eq!(line, "HTTP/1.1 200 OK");
        held.push(stream);
    }

    // A third connects (the kernel queues it) but is not served while both are open.
    let mut third = TcpStream::connect(gateway.addr).await.expect("connect");
    third.write_all(keep_alive).await.unwrap();
    let mut buf = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a connection past the cap was served: {early:?}"
    );

    drop(held.pop());
    let line = tokio::time::timeout(Duration::from_secs(10), status_line(&mut third))
        .await
        .expect("served within 10 s once a slot freed");
    assert_eq!(line, "HTTP/1.1 200 OK");
    // The remaining kept-alive connection still works.
    held[0].write_all(keep_alive).await.unwrap();
    let line = tokio::time::timeout(Duration::from_secs(10), status_line(&mut held[0]))
        .await
        .expect("an answer within 10 s");
    assert_eq!(line, "HTTP/1.1 200 OK");

    // The metrics count the open connections (the third and the one left held) and the waits.
    third
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: cap\r\n\r\n")
        .await
        .unwrap();
    let (line, metrics) = tokio::time::timeout(Duration::from_secs(10), answer(&mut third))
        .await
        .expect("an answer within 10 s");
    assert_eq!(line, "HTTP/1.1 200 OK");
    // The dropped connection may take a moment to be noticed; it is never counted twice.
    assert!(
        metrics.contains("oasgate_open_connections 2\n")
            || metrics.contains("oasgate_open_connections 3\n"),
        "{metrics}"
    );
    // Reached twice: with the two held connections, and again once the third took the freed
    // slot.
    assert!(
        metrics.contains("oasgate_connection_cap_reached_total 2\n"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_limits_stop_the_start_with_their_place() {
    let dir = TempDir::new("bad-limits");
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        "spec: pets.yaml\nserver:\n  upstream: http://127.0.0.1:1\n  max_connections: 0\n",
    );
    let (code, _, stderr) = run(&dir.0, &["serve", "--config", "oasgate.yaml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("oasgate.yaml:4:20: `0` is out of range: expected 1 to 1000000"),
        "{stderr}"
    );
    let (code, _, stderr) = run(
        &dir.0,
        &[
            "serve",
            "--config",
            "oasgate.yaml",
            "--max-header-size",
            "1GiB",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`1024MiB` is out of range: expected 1KiB to 256KiB"),
        "{stderr}"
    );
    dir.write(
        "ok.yaml",
        "spec: pets.yaml\nserver:\n  upstream: http://127.0.0.1:1\n",
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_oasgate"))
        .args(["serve", "--config", "ok.yaml"])
        .current_dir(&dir.0)
        .env("OASGATE_SERVER_HEADER_READ_TIMEOUT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("oasgate runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "environment: `OASGATE_SERVER_HEADER_READ_TIMEOUT`: `0` is not valid: `0s` is out of range: expected 100ms to 1h; for example `OASGATE_SERVER_HEADER_READ_TIMEOUT=10s`"
        ),
        "{stderr}"
    );
}
