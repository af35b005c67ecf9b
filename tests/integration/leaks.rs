//! Nothing leaks: credentials, cookies, `format: password` and `writeOnly` values never appear
//! in a problem body or in a log line at the default level, and problem bodies never show
//! internal paths or Rust type names.

use http::Request;
use oasgate::Options;
use oasgate::body::Body;
use oasgate::security::{Credential, Verdict, verifier_fn};

use crate::support::*;

/// Every secret text below starts with this, so one search finds any of them.
const MARK: &str = "SeKrEt";

/// Secrets below that cannot carry the mark: numbers, and a Basic credential as sent.
const UNMARKED: [&str; 7] = [
    "123456789",
    "12345678",
    "1234567",
    "7654321",
    "987654321",
    "4242",
    "dXNlcjpTZUtyRXQy",
];

/// Whether `text` shows a secret of the rows below.
fn shows_secret(text: &str) -> bool {
    text.contains(MARK) || UNMARKED.iter().any(|s| text.contains(s))
}

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: leaks, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    basic: {type: http, scheme: basic}
    queryKey: {type: apiKey, in: query, name: api_key}
    cookieKey: {type: apiKey, in: cookie, name: sid}
  schemas:
    Credentials:
      type: object
      properties:
        kind: {type: string, enum: [user, service]}
        level: {type: integer, minimum: 10}
paths:
  /reset/{token}:
    post:
      operationId: reset
      security: [{bearer: []}, {basic: []}, {queryKey: []}, {cookieKey: []}]
      parameters:
        - {name: token, in: path, required: true, schema: {type: string, format: password, pattern: '^[a-f0-9]{32}$'}}
        - {name: pin, in: query, schema: {type: integer, format: password, maximum: 9999}}
        - {name: pins, in: query, schema: {type: array, items: {type: integer, writeOnly: true, maximum: 9}}}
        - {name: X-Secret, in: header, schema: {type: string, writeOnly: true, enum: [a, b]}}
        - {name: session, in: cookie, schema: {type: string, minLength: 64}}
        - {name: theme, in: cookie, schema: {type: string, enum: [dark, light]}}
        - {name: count, in: query, schema: {type: integer, maximum: 5}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                password: {type: string, format: password, enum: [correct-horse]}
                code: {type: integer, writeOnly: true, maximum: 10}
                credentials: {writeOnly: true, allOf: [{$ref: '#/components/schemas/Credentials'}]}
                nested: {type: object, writeOnly: true, properties: {kind: {const: fixed}, n: {type: integer, minimum: 100}}}
                list: {type: array, items: {type: string, format: password, enum: [x]}}
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                password: {type: integer, format: password}
                pin: {type: integer, writeOnly: true, maximum: 10}
          multipart/form-data:
            schema:
              type: object
              properties:
                password: {type: integer, format: password}
      responses: {"200": {description: ok}}
  /open:
    get:
      parameters:
        - {name: count, in: query, schema: {type: integer, maximum: 5}}
      responses: {"200": {description: ok}}
"#;

fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some((content_type, _)) = body {
        builder = builder.header("content-type", content_type);
    }
    let body = body.map_or_else(Body::empty, |(_, text)| Body::from(text.to_owned()));
    builder.body(body).unwrap()
}

/// Rejections carrying secrets everywhere a client can put one.
fn rows() -> Vec<(&'static str, Request<Body>)> {
    let token = format!("/reset/{MARK}0token");
    let json = "application/json";
    vec![
        // Credentials alongside a bad, non-secret parameter.
        (
            "bearer",
            request(
                "POST",
                &format!("{token}?count=9"),
                &[("authorization", &format!("Bearer {MARK}1"))],
                None,
            ),
        ),
        (
            "basic",
            request(
                "POST",
                &format!("{token}?count=9"),
                &[("authorization", "Basic dXNlcjpTZUtyRXQy")],
                None,
            ),
        ),
        (
            "malformed basic",
            request(
                "POST",
                &token,
                &[("authorization", &format!("Basic {MARK}!!"))],
                None,
            ),
        ),
        (
            "api key in the query",
            request(
                "POST",
                &format!("{token}?api_key={MARK}3&count=9"),
                &[],
                None,
            ),
        ),
        (
            "api key in a cookie",
            request(
                "POST",
                &format!("{token}?count=9"),
                &[("cookie", &format!("sid={MARK}4"))],
                None,
            ),
        ),
        // Secret parameters that break their own schema.
        (
            "secret path, query, header, cookies",
            request(
                "POST",
                &format!("{token}?pin=1{MARK}&pins=1&pins=4242&pins=x{MARK}"),
                &[
                    ("authorization", &format!("Bearer {MARK}5")),
                    ("x-secret", &format!("{MARK}6")),
                    ("cookie", &format!("session={MARK}7; theme={MARK}8")),
                ],
                None,
            ),
        ),
        (
            "secret numbers out of range",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef?pin=123456789&pins=12345678",
                &[("authorization", "Bearer t")],
                None,
            ),
        ),
        (
            "long secrets",
            request(
                "POST",
                &format!("{token}?pin={}", MARK.repeat(2000)),
                &[("authorization", "Bearer t")],
                None,
            ),
        ),
        // Secret body properties.
        (
            "json body",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef",
                &[("authorization", "Bearer t")],
                Some((
                    json,
                    r#"{"password": "SeKrEt9", "code": 123456789, "credentials": {"kind": "SeKrEtA", "level": -1234567}, "nested": {"kind": "SeKrEtB", "n": -7654321}, "list": ["SeKrEtC"]}"#,
                )),
            ),
        ),
        (
            "form body",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef",
                &[("authorization", "Bearer t")],
                Some((
                    "application/x-www-form-urlencoded",
                    "password=SeKrEtD&pin=987654321",
                )),
            ),
        ),
        (
            "form body, schema check",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef",
                &[("authorization", "Bearer t")],
                Some((
                    "application/x-www-form-urlencoded",
                    "password=12&pin=987654321",
                )),
            ),
        ),
        (
            "multipart body",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef",
                &[("authorization", "Bearer t")],
                Some((
                    "multipart/form-data; boundary=B",
                    "--B\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nSeKrEtE\r\n--B--\r\n",
                )),
            ),
        ),
        // Every other kind of rejection, with a credential along.
        (
            "unsupported media type",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef",
                &[("authorization", &format!("Bearer {MARK}F"))],
                Some(("text/plain", "SeKrEtG")),
            ),
        ),
        (
            "malformed json",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef",
                &[("authorization", "Bearer t")],
                Some((json, r#"{"password": "SeKrEtH" "#)),
            ),
        ),
        (
            "refused by the verifier",
            request(
                "POST",
                "/reset/0123456789abcdef0123456789abcdef",
                &[("authorization", &format!("Bearer {MARK}refuse"))],
                None,
            ),
        ),
        (
            "not found",
            request(
                "GET",
                "/nowhere",
                &[("authorization", &format!("Bearer {MARK}I"))],
                None,
            ),
        ),
        (
            "method not allowed",
            request("PUT", "/open", &[("cookie", &format!("sid={MARK}J"))], None),
        ),
    ]
}

/// Text a problem body never holds: Rust type names, internal paths, debug output.
const INTERNALS: [&str; 13] = [
    "::",
    ".rs",
    "/src/",
    "/work/",
    "/root/",
    "/home/",
    "serde",
    "jsonschema",
    "Error {",
    "Some(",
    "Err(",
    "panicked",
    "ValidationError",
];

#[tokio::test]
async fn secrets_and_internals_never_appear() {
    let verifier = verifier_fn(|c: Credential<'_>| {
        let verdict = if c.value.ends_with("refuse") {
            Verdict::Unauthenticated("the token is not known".into())
        } else {
            Verdict::Allow
        };
        async move { verdict }
    });
    let layers = [
        layer(SPEC, Options::default()),
        layer(SPEC, Options::default().verifier(verifier)),
    ];
    let logs = Captured::default();
    // The default level of the examples and of most services. No timestamps: their digits
    // (`…36.834242Z`) can spell a numeric secret below by chance.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(logs.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut failures = Vec::new();
    let mut rejected = 0;
    for layer in &layers {
        for (name, request) in rows() {
            let answer = send(layer, request).await;
            let body = answer.json.to_string();
            if answer.status.is_success() {
                continue;
            }
            rejected += 1;
            if shows_secret(&body) {
                failures.push(format!("{name}: the problem shows a secret: {body}"));
            }
            for internal in INTERNALS {
                if body.contains(internal) {
                    failures.push(format!("{name}: the problem shows `{internal}`: {body}"));
                }
            }
            if answer
                .headers
                .values()
                .any(|v| shows_secret(&String::from_utf8_lossy(v.as_bytes())))
            {
                failures.push(format!("{name}: a header shows a secret"));
            }
        }
    }
    let logged = logs.text();
    assert!(
        logged.matches("request rejected").count() >= rejected,
        "every rejection is logged: {logged}"
    );
    for line in logged.lines().filter(|l| shows_secret(l)) {
        failures.push(format!("a log line shows a secret: {line}"));
    }
    assert!(rejected >= 30, "the rows are rejections: {rejected}");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The rows above must really exercise the secret checks: the same mistakes on values that
/// are not secret are echoed, as a useful message should.
#[tokio::test]
async fn values_that_are_not_secret_are_echoed() {
    let layer = layer(SPEC, Options::default());
    let answer = send(&layer, get(&format!("/open?count=7{MARK}"))).await;
    assert_eq!(answer.status, 400);
    assert!(answer.json.to_string().contains(MARK), "{}", answer.json);
    let answer = send(&layer, get("/open?count=99")).await;
    assert!(answer.json.to_string().contains("99"), "{}", answer.json);
    assert_eq!(answer.json["instance"], "/open");
}

#[tokio::test]
async fn a_secret_path_parameter_keeps_the_path_out() {
    let layer = layer(SPEC, Options::default());
    let answer = send(
        &layer,
        request(
            "POST",
            &format!("/reset/{MARK}?count=9"),
            &[("authorization", "Bearer t")],
            None,
        ),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(answer.json.get("instance").is_none(), "{}", answer.json);
    assert_eq!(answer.json["operationId"], "reset");
    let names: Vec<&str> = answer.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["token", "count"], "{}", answer.json);
}
