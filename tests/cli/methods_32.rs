//! OpenAPI 3.2's QUERY method and `additionalOperations` through the real `oasgate serve`
//! (proxy with a real upstream, and forward-auth), `oasgate route` and `oasgate check`.

use http::Request;
use serde_json::Value;

use crate::support::*;

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/local/methods-32.yaml"
);

const JSON: (&str, &str) = ("content-type", "application/json");
const KEY: (&str, &str) = ("x-api-key", "k");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_custom_methods_through_the_proxy_and_forward_auth() {
    let dir = TempDir::new("methods-32");
    let upstream = Upstream::start().await;
    let proxy = Gateway::start(&dir, &["--spec", SPEC, "--upstream", &upstream.url()]);
    let auth = Gateway::start(&dir, &["--spec", SPEC, "--mode", "forward-auth"]);

    // (method, path, headers, body, proxy status, forward-auth status, Allow on 405)
    // Forward-auth sees no body (the gateway sends none), so body rows pass there.
    let rows: [(&str, &str, &[(&str, &str)], &str, u16, u16, Option<&str>); 12] = [
        (
            "QUERY",
            "/v1/documents?page=2",
            &[JSON],
            r#"{"text": "rust"}"#,
            200,
            200,
            None,
        ),
        (
            "QUERY",
            "/v1/documents",
            &[JSON],
            r#"{"text": ""}"#,
            400,
            200,
            None,
        ),
        (
            "QUERY",
            "/v1/documents?page=0",
            &[JSON],
            r#"{"text": "a"}"#,
            400,
            400,
            None,
        ),
        (
            "COPY",
            "/v1/documents/a-1",
            &[KEY, ("destination", "/v1/documents/a-2")],
            "",
            200,
            200,
            None,
        ),
        (
            "COPY",
            "/v1/documents/a-1",
            &[("destination", "/v1/documents/a-2")],
            "",
            401,
            401,
            None,
        ),
        ("COPY", "/v1/documents/a-1", &[KEY], "", 400, 400, None),
        (
            "LINK",
            "/v1/documents/a-1",
            &[JSON],
            r#"{"target": "a-2"}"#,
            200,
            200,
            None,
        ),
        ("PURGE", "/v1/documents/a-1", &[KEY], "", 200, 200, None),
        // Methods are case-sensitive (RFC 9110 §9.1): `purge` is not PURGE.
        (
            "purge",
            "/v1/documents/a-1",
            &[KEY],
            "",
            405,
            405,
            Some("GET, HEAD, COPY, LINK, PURGE, OPTIONS"),
        ),
        (
            "QUERY",
            "/v1/documents/a-1",
            &[JSON],
            "{}",
            405,
            405,
            Some("GET, HEAD, COPY, LINK, PURGE, OPTIONS"),
        ),
        (
            "DELETE",
            "/v1/documents",
            &[],
            "",
            405,
            405,
            Some("GET, HEAD, QUERY, OPTIONS"),
        ),
        // HEAD where GET is, as before; not from QUERY.
        ("HEAD", "/v1/documents/a-1", &[], "", 200, 200, None),
    ];
    for (method, path, headers, body, status, auth_status, allow) in rows {
        let label = format!("{method} {path} {headers:?} {body}");
        let before = upstream.seen().len();
        let mut builder = Request::builder().method(method).uri(proxy.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let answer = send(builder.body(full(body)).unwrap()).await;
        assert_eq!(answer.status, status, "proxy: {label}: {}", answer.text);
        let seen = upstream.seen();
        if status == 200 {
            // The upstream got the method as sent, and the whole body.
            let got = seen.get(before).expect("the upstream was reached");
            assert_eq!(got.method, method, "{label}");
            assert_eq!(got.body_len, body.len() as u64, "{label}");
        } else {
            assert_eq!(seen.len(), before, "{label} reached the upstream");
        }
        if let Some(allow) = allow {
            assert_eq!(answer.headers["allow"], allow, "proxy: {label}");
        }

        let mut builder = Request::get(auth.url("/_auth"))
            .header("x-original-method", method)
            .header("x-original-uri", path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let answer = send(builder.body(full("")).unwrap()).await;
        assert_eq!(
            answer.status, auth_status,
            "forward-auth: {label}: {}",
            answer.text
        );
        if let Some(allow) = allow {
            assert_eq!(answer.headers["allow"], allow, "forward-auth: {label}");
        }
    }

    // The served document keeps the 3.2 fields.
    let answer = get(&proxy.url("/openapi.json")).await;
    let doc: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(
        doc["paths"]["/documents"]["query"]["operationId"],
        "searchDocuments"
    );
    assert_eq!(
        doc["paths"]["/documents/{id}"]["additionalOperations"]["PURGE"]["operationId"],
        "purgeDocument"
    );
}

#[test]
fn route_and_check_read_the_3_2_methods() {
    let dir = TempDir::new("methods-32-tools");
    // (method as typed, url, exit code, operation or problem status)
    let rows: [(&str, &str, i32, Result<&str, u16>); 6] = [
        ("query", "/v1/documents?page=1", 0, Ok("searchDocuments")),
        ("QUERY", "/v1/documents?page=0", 1, Err(400)),
        ("PURGE", "/v1/documents/a-1", 1, Err(401)),
        // Not a standard method: taken as written, and `purge` is not `PURGE`.
        ("purge", "/v1/documents/a-1", 1, Err(405)),
        ("LINK", "/v1/documents/a-1", 0, Ok("linkDocument")),
        ("get", "/v1/documents/a-1", 0, Ok("getDocument")),
    ];
    for (method, url, want_code, want) in rows {
        let (code, out, err) = run(&dir.0, &["route", SPEC, method, url]);
        assert_eq!(code, want_code, "{method} {url}: {out}{err}");
        let answer: Value = serde_json::from_str(&out).unwrap();
        match want {
            Ok(operation) => assert_eq!(answer["operation"], operation, "{method} {url}"),
            Err(status) => assert_eq!(answer["status"], status, "{method} {url}: {out}"),
        }
    }

    let (code, out, err) = run(&dir.0, &["check", SPEC]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(": ok (OpenAPI 3.2)\n"), "{out}");

    dir.write(
        "bad.yaml",
        "openapi: 3.2.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    additionalOperations:\n      POST:\n        responses: {'200': {description: ok}}\n      post:\n        responses: {'200': {description: ok}}\n",
    );
    let (code, out, err) = run(&dir.0, &["check", "bad.yaml", "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["problems"][0]["pointer"],
        "/paths/~1a/additionalOperations/POST"
    );
    assert_eq!(report["warnings"][0]["case"], "method-case", "{out}");
}
