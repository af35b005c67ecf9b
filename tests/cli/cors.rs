//! `server.cors`: preflights answered by `oasgate serve` itself, actual requests validated and
//! their answers (oasgate's own problems included) carrying the CORS headers; bad sections
//! stop the start; a reload applies a new section and keeps the old one when the new is bad.

use std::time::Duration;

use http::{HeaderMap, Request};

use crate::support::*;

/// The section most tests run with.
const CORS: &str = r#"
  cors:
    allow_origins: [https://app.example.com, "https://*.example.net", "http://127.0.0.1:5173"]
    allow_methods: [GET, POST, DELETE]
    allow_headers: [content-type, x-api-key]
    expose_headers: [x-request-id, x-upstream]
    allow_credentials: true
    max_age: 10m
"#;

/// An upstream, and `oasgate serve` in front of it with `cors` (indented under `server:`).
async fn start(name: &str, cors: &str) -> (TempDir, Upstream, Gateway) {
    let dir = TempDir::new(name);
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n{cors}",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    (dir, upstream, gateway)
}

/// Sends `method path` with `headers` and `body`.
async fn call(
    gateway: &Gateway,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> Answer {
    let mut request = Request::builder().method(method).uri(gateway.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request.body(full(body)).unwrap()).await
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The CORS answer headers of `headers`: (name, value) for each one present.
fn cors_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("access-control-"))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_are_answered_by_oasgate_for_allowed_origins_only() {
    let (_dir, upstream, gateway) = start("cors-preflight", CORS).await;
    let allowed_preflight = |origin: &'static str| {
        vec![
            ("access-control-allow-origin", origin),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "GET,POST,DELETE"),
            ("access-control-allow-headers", "content-type,x-api-key"),
            ("access-control-max-age", "600"),
        ]
    };
    // Refused origins get no `Access-Control-Allow-Origin`: the browser then fails the
    // request ("If origin is null or failure, return failure", Fetch §4.10 CORS check).
    let refused = vec![
        ("access-control-allow-credentials", "true"),
        ("access-control-allow-methods", "GET,POST,DELETE"),
        ("access-control-allow-headers", "content-type,x-api-key"),
        ("access-control-max-age", "600"),
    ];
    // (what, origin, requested method, the CORS headers of the answer)
    let rows: [(&str, &str, &str, Vec<(&str, &str)>); 7] = [
        (
            "exact origin",
            "https://app.example.com",
            "POST",
            allowed_preflight("https://app.example.com"),
        ),
        (
            "loopback origin with a port",
            "http://127.0.0.1:5173",
            "DELETE",
            allowed_preflight("http://127.0.0.1:5173"),
        ),
        (
            "a subdomain of a wildcard",
            "https://eu.example.net",
            "POST",
            allowed_preflight("https://eu.example.net"),
        ),
        (
            "a deeper subdomain of a wildcard",
            "https://a.b.example.net",
            "POST",
            allowed_preflight("https://a.b.example.net"),
        ),
        (
            "the wildcard's own domain",
            "https://example.net",
            "POST",
            refused.clone(),
        ),
        (
            "another scheme",
            "http://app.example.com",
            "POST",
            refused.clone(),
        ),
        ("another site", "https://evil.test", "POST", refused.clone()),
    ];
    for (what, origin, method, want) in rows {
        let answer = call(
            &gateway,
            "OPTIONS",
            "/pets",
            &[
                ("origin", origin),
                ("access-control-request-method", method),
                ("access-control-request-headers", "content-type"),
            ],
            "",
        )
        .await;
        assert_eq!(answer.status, 200, "{what}: {answer:?}");
        let mut got = cors_headers(&answer.headers);
        got.sort();
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{what}");
        let vary = header(&answer.headers, "vary").unwrap_or_default();
        assert!(vary.contains("origin"), "{what}: vary `{vary}`");
    }
    // No preflight reached the upstream: oasgate answered them all.
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actual_requests_are_validated_and_their_answers_decorated() {
    // `/slow` answers after 5 s: the request timeout's 504 is oasgate's answer too.
    let (_dir, upstream, gateway) =
        start("cors-actual", &format!("  request_timeout: 1s\n{CORS}")).await;
    let origin = "https://app.example.com";
    let expose = "x-request-id,x-upstream";
    // (what, method, path, origin, body, status, Access-Control-Allow-Origin)
    let rows: [(&str, &str, &str, &str, &'static str, u16, Option<&str>); 7] = [
        ("a valid GET", "GET", "/pets", origin, "", 200, Some(origin)),
        (
            "a valid POST",
            "POST",
            "/pets",
            origin,
            r#"{"name":"Rex"}"#,
            200,
            Some(origin),
        ),
        (
            "an invalid query: oasgate's 400",
            "GET",
            "/pets?limit=1000",
            origin,
            "",
            400,
            Some(origin),
        ),
        (
            "an invalid body: oasgate's 400",
            "POST",
            "/pets",
            origin,
            r#"{}"#,
            400,
            Some(origin),
        ),
        (
            "an unknown path: oasgate's 404",
            "GET",
            "/cats",
            origin,
            "",
            404,
            Some(origin),
        ),
        (
            "a timed-out request: oasgate's 504",
            "GET",
            "/slow",
            origin,
            "",
            504,
            Some(origin),
        ),
        // The server answers; without the header the browser keeps the answer from the page.
        (
            "a refused origin",
            "GET",
            "/pets",
            "https://evil.test",
            "",
            200,
            None,
        ),
    ];
    for (what, method, path, origin, body, status, allow_origin) in rows {
        let answer = call(
            &gateway,
            method,
            path,
            &[("origin", origin), ("content-type", "application/json")],
            body,
        )
        .await;
        assert_eq!(answer.status, status, "{what}: {}", answer.text);
        assert_eq!(
            header(&answer.headers, "access-control-allow-origin"),
            allow_origin,
            "{what}"
        );
        if allow_origin.is_some() {
            assert_eq!(
                header(&answer.headers, "access-control-allow-credentials"),
                Some("true"),
                "{what}"
            );
            assert_eq!(
                header(&answer.headers, "access-control-expose-headers"),
                Some(expose),
                "{what}"
            );
        }
        // Preflight-only headers are not on actual answers.
        assert_eq!(
            header(&answer.headers, "access-control-max-age"),
            None,
            "{what}"
        );
        if status == 400 {
            assert_eq!(
                header(&answer.headers, "content-type"),
                Some("application/problem+json"),
                "{what}"
            );
            assert!(
                answer.json()["detail"].is_string(),
                "{what}: {}",
                answer.text
            );
        }
    }
    // The valid ones, and the refused origin's, reached the upstream; the invalid ones did not.
    let seen: Vec<String> = upstream
        .seen()
        .iter()
        .filter(|s| s.uri != "/slow")
        .map(|s| format!("{} {}", s.method, s.uri))
        .collect();
    assert_eq!(seen, ["GET /pets", "POST /pets", "GET /pets"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_mirror_the_asked_headers_and_allow_the_usual_methods() {
    let cors = "  cors:\n    allow_origins: '*'\n";
    let (_dir, _upstream, gateway) = start("cors-defaults", cors).await;
    let answer = call(
        &gateway,
        "OPTIONS",
        "/pets",
        &[
            ("origin", "https://anyone.test"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-custom,authorization"),
        ],
        "",
    )
    .await;
    assert_eq!(answer.status, 200);
    let mut got = cors_headers(&answer.headers);
    got.sort();
    assert_eq!(
        got,
        [
            ("access-control-allow-headers", "x-custom,authorization"),
            (
                "access-control-allow-methods",
                "GET,HEAD,POST,PUT,PATCH,DELETE"
            ),
            ("access-control-allow-origin", "*"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
    );
    // An OPTIONS that is not a preflight (no Access-Control-Request-Method) is an actual
    // request: the layer answers it with `Allow` (RFC 9110 §9.3.7), decorated.
    let answer = call(
        &gateway,
        "OPTIONS",
        "/pets",
        &[("origin", "https://anyone.test")],
        "",
    )
    .await;
    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(
        header(&answer.headers, "allow"),
        Some("GET, HEAD, POST, OPTIONS")
    );
    assert_eq!(
        header(&answer.headers, "access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(
        header(&answer.headers, "access-control-allow-methods"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstreams_own_cors_headers_are_replaced() {
    // An upstream that allows everyone: oasgate's section decides instead.
    let dir = TempDir::new("cors-upstream");
    let raw = RawUpstream::start(
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\
          access-control-allow-origin: *\r\naccess-control-allow-credentials: true\r\n\
          access-control-expose-headers: *\r\n\r\n{}",
    )
    .await;
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n  cors:\n    allow_origins: [https://app.example.com]\n",
            raw.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    // (origin, the CORS headers of the answer)
    let rows: [(&str, Vec<(&str, &str)>); 2] = [
        (
            "https://app.example.com",
            vec![("access-control-allow-origin", "https://app.example.com")],
        ),
        ("https://evil.test", vec![]),
    ];
    for (origin, want) in rows {
        let answer = call(&gateway, "GET", "/pets", &[("origin", origin)], "").await;
        assert_eq!(answer.status, 200, "{origin}: {}", answer.text);
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(cors_headers(&answer.headers), want, "{origin}");
    }
}

#[test]
fn bad_sections_stop_the_start_naming_the_place() {
    let dir = TempDir::new("cors-bad");
    dir.write("pets.yaml", SPEC);
    let head = "spec: pets.yaml\nserver:\n  upstream: http://127.0.0.1:9\n  cors:\n";
    // (the section's keys, the message's start)
    let rows: [(&str, &str); 6] = [
        (
            "    allow_origins: [https://app.example.com/]\n",
            "oasgate.yaml:5:21: `https://app.example.com/` is not an origin: it has a path or query (`/`); expected an origin such as",
        ),
        (
            "    allow_origins: '*'\n    allow_credentials: true\n",
            "oasgate.yaml:5:5: `allow_credentials: true` cannot go with `*` in `allow_origins`: the Fetch standard",
        ),
        (
            "    allow_origins: [https://a.test]\n    allow_methods: [GET, PSOT]\n",
            "oasgate.yaml:6:26: unknown method `PSOT`; expected one of: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, QUERY (did you mean `POST`?)",
        ),
        (
            "    allow_origins: [https://a.test]\n    allow_headers: ['x api key']\n",
            "oasgate.yaml:6:21: `x api key` is not a header name: expected a token",
        ),
        (
            "    allow_origins: [https://a.test]\n    max_age: 2d\n",
            "oasgate.yaml:6:14: expected a duration such as `30s` or `500ms`, got `2d`",
        ),
        (
            "    allow_origins: [https://a.test]\n    alow_headers: [x-api-key]\n",
            "oasgate.yaml:6:5: unknown key `alow_headers`; did you mean `allow_headers`?",
        ),
    ];
    for (keys, want) in rows {
        dir.write("oasgate.yaml", &format!("{head}{keys}"));
        let (code, _, stderr) = run(&dir.0, &["serve", "--config", "oasgate.yaml"]);
        assert_eq!(code, 1, "{keys}: {stderr}");
        assert!(
            stderr.contains(&format!("error: {want}")),
            "{keys}:\n   got: {stderr}\n  want: {want}"
        );
    }
    // Forward-auth mode: the gateway in front answers the browser.
    dir.write(
        "oasgate.yaml",
        "spec: pets.yaml\nserver:\n  mode: forward-auth\n  cors:\n    allow_origins: [https://a.test]\n",
    );
    let (code, _, stderr) = run(&dir.0, &["serve", "--config", "oasgate.yaml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: server.cors does not apply in forward-auth mode: the gateway in front answers the browser"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_applies_a_new_section_and_keeps_the_old_one_when_bad() {
    let section = |origin: &str| format!("  cors:\n    allow_origins: [{origin}]\n");
    let (dir, upstream, gateway) = start("cors-reload", &section("https://old.test")).await;
    let allowed = async |origin: &'static str| {
        let answer = call(
            &gateway,
            "OPTIONS",
            "/pets",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
            "",
        )
        .await;
        header(&answer.headers, "access-control-allow-origin") == Some(origin)
    };
    assert!(allowed("https://old.test").await);
    assert!(!allowed("https://new.test").await);
    let config = |cors: &str| {
        format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n{cors}",
            upstream.url()
        )
    };
    dir.write("oasgate.yaml", &config(&section("https://new.test")));
    gateway.signal("HUP");
    assert!(
        eventually(Duration::from_secs(30), async || allowed(
            "https://new.test"
        )
        .await)
        .await,
        "the new section was not applied: {}",
        gateway.log_text()
    );
    assert!(!allowed("https://old.test").await);

    // A bad section: the reload fails, says why, and the previous section keeps answering.
    dir.write(
        "oasgate.yaml",
        &config("  cors:\n    allow_origins: '*'\n    allow_credentials: true\n"),
    );
    gateway.signal("HUP");
    assert!(
        eventually(Duration::from_secs(30), async || gateway
            .log_text()
            .contains("reload failed"))
        .await,
        "no failed reload: {}",
        gateway.log_text()
    );
    let log = gateway.log_text();
    assert!(
        log.contains(
            "oasgate.yaml:5:5: `allow_credentials: true` cannot go with `*` in `allow_origins`"
        ),
        "{log}"
    );
    assert!(allowed("https://new.test").await);
    assert!(!allowed("https://other.test").await);
    // Removing the section turns CORS off: preflights go through to the upstream again.
    dir.write("oasgate.yaml", &config(""));
    gateway.signal("HUP");
    assert!(
        eventually(Duration::from_secs(30), async || !allowed(
            "https://new.test"
        )
        .await)
        .await,
        "the section was not removed: {}",
        gateway.log_text()
    );
    assert!(
        upstream.seen().iter().any(|s| s.method == "OPTIONS"),
        "{:?}",
        upstream.seen()
    );
}
