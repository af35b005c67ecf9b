//! Limits on what the layer reads: each one answers a clear problem, and a request just inside
//! it passes.

use http::Request;
use oasgate::body::Body;
use oasgate::{OpenApiLayer, Options};

use crate::support::*;

/// `n` query pairs `k0=0&k1=1…`.
fn pairs(n: usize) -> String {
    (0..n)
        .map(|i| format!("k{i}={i}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `{"x": [[…]]}`: an object holding arrays, `depth` levels in all.
fn nested(depth: usize) -> String {
    let inner = depth - 1;
    format!(r#"{{"x": {}{}}}"#, "[".repeat(inner), "]".repeat(inner))
}

/// A multipart body with `n` text parts named `count`… and the required `title` and `file`.
fn multipart(extra_parts: usize) -> String {
    let mut body = String::new();
    let part = |name: &str, extra: &str, value: &str| {
        format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n")
    };
    body.push_str(&part("title", "", "t"));
    body.push_str(&part("file", "; filename=\"a.bin\"", "x"));
    for i in 0..extra_parts {
        body.push_str(&part(&format!("note{i}"), "", "n"));
    }
    body.push_str("--B--\r\n");
    body
}

/// What a row expects: 200, or 400 with the first error's `(in, name, code)` or a detail.
enum Want {
    Pass,
    Error(&'static str, &'static str, &'static str),
    Malformed(&'static str),
}

#[tokio::test]
async fn limits_table() {
    let default = kitchen();
    let tight = fixture_layer(
        "local/kitchen.yaml",
        Options::default()
            .query_params_limit(3)
            .param_length_limit(10)
            .multipart_parts_limit(3),
    );
    let shallow = fixture_layer("local/kitchen.yaml", Options::default().json_depth_limit(4));
    let deepest = fixture_layer(
        "local/kitchen.yaml",
        Options::default().json_depth_limit(1000),
    );
    let long = "9".repeat(8 * 1024 + 1);
    let just = "9".repeat(8 * 1024);
    let rows: Vec<(&str, &OpenApiLayer, Request<Body>, Want)> = vec![
        // number of query parameters
        (
            "256 pairs pass",
            &default,
            get(&format!("/v1/pets?{}", pairs(256))),
            Want::Pass,
        ),
        (
            "257 pairs",
            &default,
            get(&format!("/v1/pets?{}", pairs(257))),
            Want::Error("query", "", "tooMany"),
        ),
        (
            "3 pairs pass",
            &tight,
            get("/v1/pets?a=1&b=2&c=3&&"),
            Want::Pass,
        ),
        (
            "4 pairs",
            &tight,
            get("/v1/pets?a=1&b=2&c=3&d=4"),
            Want::Error("query", "", "tooMany"),
        ),
        (
            "too many before credentials",
            &tight,
            get("/v1/secure?a&b&c&d"),
            Want::Error("query", "", "tooMany"),
        ),
        // length of one parameter
        (
            "8 KiB value passes",
            &default,
            get(&format!("/v1/pets?url={just}")),
            Want::Pass,
        ),
        (
            "long declared query value",
            &default,
            get(&format!("/v1/pets?limit={long}")),
            Want::Error("query", "limit", "tooLong"),
        ),
        (
            "long undeclared query value",
            &default,
            get(&format!("/v1/pets?other={long}")),
            Want::Error("query", "other", "tooLong"),
        ),
        (
            "long query name",
            &default,
            get(&format!("/v1/pets?{long}=1")),
            Want::Error(
                "query",
                "9999999999999999999999999999999999999999999999999999999999999999…",
                "tooLong",
            ),
        ),
        (
            "long path value",
            &default,
            get(&format!("/v1/pets/{long}")),
            Want::Error("path", "petId", "tooLong"),
        ),
        (
            "long header value",
            &default,
            get_with("/v1/pets", &[("x-count", &long)]),
            Want::Error("header", "X-Count", "tooLong"),
        ),
        (
            "long declared cookie",
            &default,
            get_with("/v1/pets", &[("cookie", &format!("session={long}"))]),
            Want::Error("cookie", "session", "tooLong"),
        ),
        (
            "long undeclared cookie is not read",
            &default,
            get_with("/v1/pets", &[("cookie", &format!("other={long}"))]),
            Want::Pass,
        ),
        (
            "tight length",
            &tight,
            get("/v1/pets?url=12345678901"),
            Want::Error("query", "url", "tooLong"),
        ),
        // JSON nesting depth
        (
            "64 levels pass",
            &default,
            with_body("POST", "/v1/nullable", "application/json", &nested(64)),
            Want::Pass,
        ),
        (
            "65 levels",
            &default,
            with_body("POST", "/v1/nullable", "application/json", &nested(65)),
            Want::Malformed("the body nests arrays and objects deeper than 64 levels"),
        ),
        (
            "set above the parser's limit: 127 pass",
            &deepest,
            with_body("POST", "/v1/nullable", "application/json", &nested(127)),
            Want::Pass,
        ),
        (
            "set above the parser's limit: 128 refused",
            &deepest,
            with_body("POST", "/v1/nullable", "application/json", &nested(128)),
            Want::Malformed("the body nests arrays and objects deeper than 127 levels"),
        ),
        (
            "JSON parameter",
            &shallow,
            get("/v1/pets?where=%7B%22a%22%3A%5B%5B%5B%5B1%5D%5D%5D%5D%7D"),
            Want::Error("query", "where", "depth"),
        ),
        // form and multipart bodies
        (
            "form fields",
            &tight,
            with_body(
                "POST",
                "/v1/forms",
                "application/x-www-form-urlencoded",
                "age=1&tags=a&tags=b&tags=c",
            ),
            Want::Error("body", "", "tooMany"),
        ),
        (
            "100 parts pass",
            &default,
            with_body(
                "POST",
                "/v1/forms",
                "multipart/form-data; boundary=B",
                &multipart(98),
            ),
            Want::Pass,
        ),
        (
            "101 parts",
            &default,
            with_body(
                "POST",
                "/v1/forms",
                "multipart/form-data; boundary=B",
                &multipart(99),
            ),
            Want::Error("body", "", "tooMany"),
        ),
        (
            "deep JSON part",
            &shallow,
            with_body(
                "POST",
                "/v1/forms",
                "multipart/form-data; boundary=B",
                "--B\r\nContent-Disposition: form-data; name=\"title\"\r\nContent-Type: application/json\r\n\r\n[[[[[1]]]]]\r\n--B--\r\n",
            ),
            Want::Error("body", "", "depth"),
        ),
    ];
    let mut failures = Vec::new();
    for (name, layer, request, want) in rows {
        let answer = send(layer, request).await;
        let json = &answer.json;
        let first = &json["errors"][0];
        let ok = match want {
            Want::Pass => answer.status == 200,
            Want::Error(place, param, code) => {
                answer.status == 400
                    && first["in"] == place
                    && first["name"] == param
                    && first["code"] == code
            }
            Want::Malformed(detail) => {
                answer.status == 400
                    && json["detail"] == detail
                    && json["location"]["line"] == 1
                    && json["title"] == "Malformed request body"
            }
        };
        let shown = json.to_string();
        if !ok {
            failures.push(format!(
                "{name}: {} {}",
                answer.status,
                &shown[..shown.len().min(400)]
            ));
        }
        // A problem never echoes the oversized text (names and paths are cut short).
        if answer.status != 200 && shown.contains(&long[..256]) {
            failures.push(format!("{name}: the answer echoes the long value"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn limit_problem_bodies() {
    let layer = kitchen();
    let long = "a".repeat(9000);
    let cases: Vec<(&str, Request<Body>)> = vec![
        (
            "too_many_query_params",
            get(&format!("/v1/pets?{}", pairs(300))),
        ),
        (
            "too_long_params",
            get_with(
                &format!("/v1/pets?url={long}"),
                &[("cookie", &format!("session={long}"))],
            ),
        ),
        (
            "too_deep_json",
            with_body(
                "POST",
                "/v1/pets",
                "application/json",
                &format!("{{\"name\":\n{}", "[".repeat(100)),
            ),
        ),
        (
            "too_many_parts",
            with_body(
                "POST",
                "/v1/forms",
                "multipart/form-data; boundary=B",
                &multipart(200),
            ),
        ),
    ];
    for (name, request) in cases {
        let answer = send(&layer, request).await;
        assert_eq!(answer.status, 400, "{name}: {}", answer.json);
        insta::assert_json_snapshot!(name, answer.json);
    }
}

/// Every limit, enforced and in report-only mode. Enforced, the problem answers. In report-only
/// mode the request reaches the inner service as it was sent, carrying the `Rejection` it
/// would have got (`Options::enforce`): nothing was read past a limit and nothing was changed,
/// so it can be handed on. A body of a declared size over `body_limit` is not read at all, and
/// goes on unread.
#[tokio::test]
async fn every_limit_enforced_and_in_report_only_mode() {
    use std::sync::{Arc, Mutex};

    use oasgate::{ProblemKind, Rejection};
    use tower::{ServiceBuilder, ServiceExt};

    let options = || {
        Options::default()
            .query_params_limit(3)
            .param_length_limit(10)
            .body_limit(256)
            .json_depth_limit(4)
            .multipart_parts_limit(3)
    };
    let enforcing = fixture_layer("local/kitchen.yaml", options());
    let reporting = fixture_layer("local/kitchen.yaml", options().enforce(false));
    let big = format!(r#"{{"x": "{}"}}"#, "y".repeat(300));
    // (limit, request, status and kind when enforced; whether report-only reads the body, so
    // knows the rejection)
    let rows: Vec<(
        &str,
        fn(&str) -> Request<Body>,
        String,
        u16,
        ProblemKind,
        bool,
    )> = vec![
        (
            "query pairs",
            |_| get("/v1/pets?a=1&b=2&c=3&d=4"),
            String::new(),
            400,
            ProblemKind::InvalidParameters,
            true,
        ),
        (
            "parameter length",
            |_| get("/v1/pets?url=12345678901"),
            String::new(),
            400,
            ProblemKind::InvalidParameters,
            true,
        ),
        (
            "body size",
            |b| with_body("POST", "/v1/nullable", "application/json", b),
            big,
            413,
            ProblemKind::PayloadTooLarge,
            false,
        ),
        (
            "JSON depth",
            |b| with_body("POST", "/v1/nullable", "application/json", b),
            nested(5),
            400,
            ProblemKind::MalformedBody,
            true,
        ),
        (
            "multipart parts",
            |b| with_body("POST", "/v1/forms", "multipart/form-data; boundary=B", b),
            multipart(2),
            400,
            ProblemKind::MalformedBody,
            true,
        ),
    ];
    for (limit, request, body, status, kind, known) in rows {
        let answer = send(&enforcing, request(&body)).await;
        assert_eq!(answer.status, status, "{limit}, enforced: {}", answer.json);
        assert_eq!(answer.json["status"], status, "{limit}, enforced");

        let seen: Arc<Mutex<Option<(Option<Rejection>, String)>>> = Arc::default();
        let record = seen.clone();
        let service =
            ServiceBuilder::new()
                .layer(reporting.clone())
                .service_fn(move |req: Request<Body>| {
                    let record = record.clone();
                    async move {
                        use http_body_util::BodyExt;
                        let rejection = req.extensions().get::<Rejection>().cloned();
                        let bytes = req.into_body().collect().await.unwrap().to_bytes();
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        *record.lock().unwrap() = Some((rejection, text));
                        Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
                    }
                });
        let response = service.oneshot(request(&body)).await.unwrap();
        assert_eq!(response.status(), 200, "{limit}, report-only");
        let (rejection, received) = seen.lock().unwrap().take().expect("reached the service");
        assert_eq!(
            received, body,
            "{limit}, report-only: the body arrived as sent"
        );
        match (known, rejection) {
            (true, Some(rejection)) => {
                assert_eq!(rejection.status.as_u16(), status, "{limit}, report-only");
                assert_eq!(rejection.kind, kind, "{limit}, report-only");
            }
            (false, None) => {}
            (_, rejection) => panic!("{limit}, report-only: {rejection:?}"),
        }
    }
}
