//! No parser differential: what the layer validated is what the service behind it reads.
//!
//! Each row is a request a server behind oasgate could read otherwise than oasgate did
//! (a singleton header given twice, a JSON member name given twice, a `;` in the query). Either
//! the layer refuses it, or what it hands on reads the same under every reading.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use oasgate::body::Body;
use oasgate::{OpenApiLayer, Options};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceBuilder;

use crate::support::{get_with, layer, send};

const SPEC: &str = r##"
openapi: 3.1.0
info: {title: differentials, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    headerKey: {type: apiKey, in: header, name: X-Api-Key}
    cookieKey: {type: apiKey, in: cookie, name: session}
    queryKey: {type: apiKey, in: query, name: api_key}
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        tags: {type: array, items: {type: object, properties: {label: {type: string}}}}
paths:
  /pets:
    get:
      security: [{}]
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
        - {name: X-Trace, in: header, schema: {type: string}}
        - {name: X-Tags, in: header, schema: {type: array, items: {type: string}}}
        - name: filter
          in: query
          content:
            application/json:
              schema: {type: object, properties: {name: {type: string}}}
      responses: {"200": {description: ok}}
    post:
      security: [{}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {name: {type: string, maxLength: 3}}}
      responses: {"200": {description: ok}}
  /free:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, additionalProperties: {type: integer}}
      responses: {"200": {description: ok}}
  /upload:
    post:
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                meta: {type: object, properties: {name: {type: string}}}
            encoding:
              meta: {contentType: application/json}
      responses: {"200": {description: ok}}
  /bearer:
    get:
      security: [{bearer: []}]
      responses: {"200": {description: ok}}
  /header-key:
    get:
      security: [{headerKey: []}]
      responses: {"200": {description: ok}}
  /cookie-key:
    get:
      security: [{cookieKey: []}]
      responses: {"200": {description: ok}}
  /query-key:
    get:
      security: [{queryKey: []}]
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
      responses: {"200": {description: ok}}
  /plain:
    get:
      responses: {"200": {description: ok}}
"##;

fn differentials(options: Options) -> OpenApiLayer {
    layer(SPEC, options)
}

/// A request: method, URI, header lines in order, body.
type Sent<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);

fn build((method, uri, headers, body): Sent<'_>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

const JSON: (&str, &str) = ("content-type", "application/json");
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
const HOST: (&str, &str) = ("host", "api.test");

/// Every row through the layer: its status, and for a refusal the error's `in`, `name` and
/// `code`. A secret given in the request never appears in the answer.
#[tokio::test]
async fn ambiguous_requests_are_refused() {
    let layer = differentials(Options::default());
    let multipart = |meta: &str| {
        format!(
            "--b\r\ncontent-disposition: form-data; name=\"meta\"\r\ncontent-type: \
             application/json\r\n\r\n{meta}\r\n--b--\r\n"
        )
    };
    let ok_part = multipart(r#"{"name": "rex"}"#);
    let twice_part = multipart(r#"{"name": 1, "name": "rex"}"#);
    let mp = [("content-type", "multipart/form-data; boundary=b")];
    // (name, request, status, expected error (in, name, code))
    let rows: Vec<(&str, Sent<'_>, u16, Option<(&str, &str, &str)>)> = vec![
        // Singleton headers.
        (
            "one content type",
            ("POST", "/pets", &[JSON], r#"{"name": "rex"}"#),
            200,
            None,
        ),
        (
            "content type twice",
            ("POST", "/pets", &[JSON, FORM], r#"{"name": "rex"}"#),
            400,
            Some(("header", "content-type", "duplicate")),
        ),
        (
            "content type as a list",
            (
                "POST",
                "/pets",
                &[(
                    "content-type",
                    "application/json, application/x-www-form-urlencoded",
                )],
                r#"{"name": "rex"}"#,
            ),
            400,
            Some(("header", "content-type", "duplicate")),
        ),
        (
            "a comma inside a quoted parameter is not a list",
            (
                "POST",
                "/pets",
                &[("content-type", "application/json; x=\"a,b\"")],
                r#"{"name": "rex"}"#,
            ),
            200,
            None,
        ),
        (
            "authorization twice",
            (
                "GET",
                "/bearer",
                &[
                    ("authorization", "Bearer VALID"),
                    ("authorization", "Bearer FORGED"),
                ],
                "",
            ),
            400,
            Some(("header", "authorization", "duplicate")),
        ),
        (
            "authorization once",
            ("GET", "/bearer", &[("authorization", "Bearer VALID")], ""),
            200,
            None,
        ),
        (
            "host twice",
            ("GET", "/plain", &[HOST, ("host", "evil.test")], ""),
            400,
            Some(("header", "host", "duplicate")),
        ),
        (
            "host as a list",
            ("GET", "/plain", &[("host", "api.test, evil.test")], ""),
            400,
            Some(("header", "host", "duplicate")),
        ),
        (
            "api key header twice",
            (
                "GET",
                "/header-key",
                &[("x-api-key", "VALID"), ("x-api-key", "FORGED")],
                "",
            ),
            400,
            Some(("header", "X-Api-Key", "duplicate")),
        ),
        (
            "api key cookie twice, in two lines",
            (
                "GET",
                "/cookie-key",
                &[("cookie", "session=VALID"), ("cookie", "session=FORGED")],
                "",
            ),
            400,
            Some(("cookie", "session", "duplicate")),
        ),
        (
            "api key cookie twice, in one line",
            (
                "GET",
                "/cookie-key",
                &[("cookie", "session=VALID; other=1; session=FORGED")],
                "",
            ),
            400,
            Some(("cookie", "session", "duplicate")),
        ),
        (
            "api key cookie once, other cookies repeated",
            (
                "GET",
                "/cookie-key",
                &[("cookie", "session=VALID; a=1"), ("cookie", "a=2")],
                "",
            ),
            200,
            None,
        ),
        (
            "api key in the query twice",
            ("GET", "/query-key?api_key=VALID&api%5Fkey=FORGED", &[], ""),
            400,
            Some(("query", "api_key", "duplicate")),
        ),
        (
            "single-valued header parameter twice",
            ("GET", "/pets", &[("x-trace", "a"), ("x-trace", "b")], ""),
            400,
            Some(("header", "X-Trace", "duplicate")),
        ),
        (
            "list-valued header parameter on two lines",
            ("GET", "/pets", &[("x-tags", "a"), ("x-tags", "b")], ""),
            200,
            None,
        ),
        // A form body goes on as sent: a raw `;` in it is refused.
        (
            "a form body with a raw semicolon",
            ("POST", "/pets", &[FORM], "name=ok;name=waytoolong"),
            400,
            Some(("body", "", "delimiter")),
        ),
        (
            "a form body with an encoded semicolon",
            ("POST", "/pets", &[FORM], "name=a%3Bb"),
            200,
            None,
        ),
        // JSON member names given twice.
        (
            "name twice in the body",
            ("POST", "/pets", &[JSON], r#"{"name": 123, "name": "rex"}"#),
            400,
            Some(("body", "", "duplicate")),
        ),
        (
            "name twice, the valid one first",
            ("POST", "/pets", &[JSON], r#"{"name": "rex", "name": 123}"#),
            400,
            Some(("body", "", "duplicate")),
        ),
        (
            "name twice in a nested object, escaped",
            (
                "POST",
                "/pets",
                &[JSON],
                r#"{"name": "rex", "tags": [{"label": "a", "l\u0061bel": 5}]}"#,
            ),
            400,
            Some(("body", "", "duplicate")),
        ),
        (
            "undeclared name twice in a free-form object",
            ("POST", "/free", &[JSON], r#"{"a": 1, "b": 2, "a": "x"}"#),
            400,
            Some(("body", "", "duplicate")),
        ),
        (
            "free-form object, names once",
            ("POST", "/free", &[JSON], r#"{"a": 1, "b": 2}"#),
            200,
            None,
        ),
        (
            "name twice in a JSON query parameter",
            (
                "GET",
                "/pets?filter=%7B%22name%22%3A1%2C%22name%22%3A%22x%22%7D",
                &[],
                "",
            ),
            400,
            Some(("query", "filter", "duplicate")),
        ),
        (
            "name twice in a JSON part",
            ("POST", "/upload", &mp, &twice_part),
            400,
            Some(("body", "", "duplicate")),
        ),
        ("a JSON part", ("POST", "/upload", &mp, &ok_part), 200, None),
    ];
    for (name, sent, status, error) in rows {
        let answer = send(&layer, build(sent)).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.json);
        let text = answer.json.to_string();
        assert!(
            !text.contains("VALID") && !text.contains("FORGED"),
            "{name}: a credential is echoed: {text}"
        );
        if let Some((place, field, code)) = error {
            let errors = answer.json["errors"].as_array().expect("errors listed");
            assert!(
                errors
                    .iter()
                    .any(|e| e["in"] == place && e["name"] == field && e["code"] == code),
                "{name}: no {place} `{field}` {code} in {text}"
            );
        }
    }
}

/// The problems the new checks answer, whole.
#[tokio::test]
async fn the_new_problems_in_full() {
    let layer = differentials(Options::default());
    let answer = send(
        &layer,
        get_with(
            "/bearer",
            &[
                ("authorization", "Bearer VALID"),
                ("authorization", "Bearer FORGED"),
            ],
        ),
    )
    .await;
    assert_eq!(
        answer.json,
        json!({
            "type": "urn:oasgate:problem:invalid-parameters",
            "title": "Invalid request parameters",
            "status": 400,
            "detail": "header `authorization` is given more than once; expected a single value",
            "instance": "/bearer",
            "errors": [{
                "in": "header",
                "name": "authorization",
                "pointer": "",
                "code": "duplicate",
                "detail": "header `authorization` is given more than once; expected a single value"
            }]
        })
    );

    let answer = send(
        &layer,
        build((
            "POST",
            "/pets",
            &[JSON],
            "{\"name\": \"rex\",\n \"tags\": [{\"label\": \"a\", \"label\": 5}]}",
        )),
    )
    .await;
    let detail = "the body has the member name `label` twice in one object; expected unique names";
    assert_eq!(
        answer.json,
        json!({
            "type": "urn:oasgate:problem:malformed-body",
            "title": "Malformed request body",
            "status": 400,
            "detail": detail,
            "instance": "/pets",
            "errors": [{
                "in": "body",
                "name": "",
                "pointer": "/tags/0/label",
                "code": "duplicate",
                "detail": detail
            }],
            "location": {"line": 2, "column": 32, "character": 48}
        })
    );

    let passed_as_sent = differentials(Options::default().canonical_query(false));
    let answer = send(&passed_as_sent, get_with("/pets?x=1;limit=1000", &[])).await;
    let detail = "query parameter `x`: a raw `;` may be read as a delimiter by the service; \
                  expected it percent-encoded as `%3B`";
    assert_eq!(
        answer.json,
        json!({
            "type": "urn:oasgate:problem:invalid-parameters",
            "title": "Invalid request parameters",
            "status": 400,
            "detail": detail,
            "instance": "/pets",
            "errors": [{
                "in": "query",
                "name": "x",
                "pointer": "",
                "code": "delimiter",
                "detail": detail
            }]
        })
    );
}

/// The query handed on: a `;` is written `%3B`, so no server splits a checked value into an
/// unchecked parameter; with the canonical query off, a raw `;` is refused.
#[tokio::test]
async fn semicolons_never_reach_the_service_raw() {
    let canonical = differentials(Options::default());
    let as_sent = differentials(Options::default().canonical_query(false));
    // (options, uri, status, query handed on)
    let rows: Vec<(&OpenApiLayer, &str, u16, Option<&str>)> = vec![
        (
            &canonical,
            "/pets?x=1;limit=1000",
            200,
            Some("x=1%3Blimit=1000"),
        ),
        (
            &canonical,
            "/pets?limit=5&x=1;limit=1000",
            200,
            Some("limit=5&x=1%3Blimit=1000"),
        ),
        (&canonical, "/pets?a%3Bb=1", 200, Some("a%3Bb=1")),
        // An operation without query parameters still has its query rewritten.
        (
            &canonical,
            "/plain?x=1;limit=1000",
            200,
            Some("x=1%3Blimit=1000"),
        ),
        (&canonical, "/plain?x=1", 200, Some("x=1")),
        // A credential kept as sent keeps its text, but for `;`.
        (
            &canonical,
            "/query-key?api_key=k;limit=1000",
            200,
            Some("api_key=k%3Blimit=1000"),
        ),
        (&canonical, "/pets?limit=1000", 400, None),
        (&as_sent, "/pets?x=1;limit=1000", 400, None),
        (&as_sent, "/plain?x=1;y=2", 400, None),
        (
            &as_sent,
            "/pets?x=1%3Blimit=1000",
            200,
            Some("x=1%3Blimit=1000"),
        ),
    ];
    for (layer, uri, status, handed_on) in rows {
        let (got_status, got_query) = query_handed_on(layer, uri).await;
        assert_eq!(got_status, status, "{uri}");
        assert_eq!(got_query.as_deref(), handed_on, "{uri}");
    }
}

/// GETs `uri` through `layer`: the answer's status, and the query the service behind it got
/// (`None` when the request did not reach it, or had no query).
async fn query_handed_on(layer: &OpenApiLayer, uri: &str) -> (u16, Option<String>) {
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    let service =
        ServiceBuilder::new()
            .layer(layer.clone())
            .service_fn(move |request: Request<Body>| {
                *record.lock().unwrap() = request.uri().query().map(str::to_owned);
                async { Ok::<_, std::convert::Infallible>(Response::new(Body::empty())) }
            });
    let response = tower::ServiceExt::oneshot(service, get_with(uri, &[]))
        .await
        .unwrap();
    let query = seen.lock().unwrap().take();
    (response.status().as_u16(), query)
}

/// A query name is decoded once, the same way for every step: `sort+by` and `sort%20by` are
/// both the parameter `sort by` (in a query `+` is a space, WHATWG URL "application/
/// x-www-form-urlencoded parsing"), so the undeclared-query policy does not call it unknown,
/// and the canonical query does not hand the service the pair as sent beside the checked one.
#[tokio::test]
async fn a_query_name_reads_the_same_in_every_step() {
    const SPACED: &str = r#"
openapi: 3.0.3
info: {title: spaced, version: "1"}
paths:
  /search:
    get:
      parameters:
        - {name: sort by, in: query, schema: {type: string, enum: [name, date]}}
      responses: {"200": {description: ok}}
"#;
    use oasgate::UndeclaredParams;
    let kept = layer(SPACED, Options::default());
    let refused = layer(
        SPACED,
        Options::default().undeclared_query(UndeclaredParams::Reject),
    );
    // (layer, uri, status, query handed on)
    let rows: Vec<(&OpenApiLayer, &str, u16, Option<&str>)> = vec![
        (&kept, "/search?sort+by=name", 200, Some("sort%20by=name")),
        (&kept, "/search?sort%20by=name", 200, Some("sort%20by=name")),
        (&kept, "/search?sort+by=size", 400, None),
        (&kept, "/search?sort+by=name&sort%20by=date", 400, None),
        (
            &kept,
            "/search?sort+by=name&x=1",
            200,
            Some("sort%20by=name&x=1"),
        ),
        (
            &refused,
            "/search?sort+by=name",
            200,
            Some("sort%20by=name"),
        ),
        (&refused, "/search?sort%2Bby=name", 400, None),
    ];
    for (layer, uri, status, handed_on) in rows {
        let (got_status, got_query) = query_handed_on(layer, uri).await;
        assert_eq!(got_status, status, "{uri}");
        assert_eq!(got_query.as_deref(), handed_on, "{uri}");
    }
}

/// What the recording service behind the layer received: method, target, every header line
/// in order, and the body.
#[derive(Debug, Clone)]
struct Received {
    target: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

/// The layer in front of a recording service, served by hyper on 127.0.0.1.
async fn recording_server(
    layer: OpenApiLayer,
) -> (std::net::SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            // The layer rebuilds a body it read from bytes: hyper's `Incoming` becomes a `Body`.
            let service = ServiceBuilder::new()
                .map_request(|request: Request<hyper::body::Incoming>| request.map(Body::new))
                .layer(layer.clone())
                .service_fn(move |request: Request<Body>| {
                    let log = log.clone();
                    async move {
                        let target = request
                            .uri()
                            .path_and_query()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default();
                        let headers = request
                            .headers()
                            .iter()
                            .map(|(n, v)| {
                                (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect();
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        log.lock().unwrap().push(Received {
                            target,
                            headers,
                            body,
                        });
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(
                            Bytes::from_static(b"recorded"),
                        )))
                    }
                });
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .await;
            });
        }
    });
    (addr, received)
}

/// Sends raw request bytes (so header lines are exactly as written) and answers the status.
async fn raw_status(addr: std::net::SocketAddr, request: &str) -> u16 {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("the server answers within 10 s");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

/// Whether the top-level object of a JSON text has a member name twice.
fn has_repeated_name(text: &[u8]) -> bool {
    struct Count(usize);
    impl<'de> serde::de::Visitor<'de> for &mut Count {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut names = std::collections::HashSet::new();
            while let Some(name) = map.next_key::<String>()? {
                if !names.insert(name) {
                    self.0 += 1;
                }
                map.next_value::<serde::de::IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut count = Count(0);
    let mut de = serde_json::Deserializer::from_slice(text);
    // Only the top level is counted here; the rows' bodies nest no further.
    serde::de::Deserializer::deserialize_any(&mut de, &mut count).is_ok() && count.0 > 0
}

/// Over real HTTP: every row is refused, or the recording service received one line of each
/// singleton header, a query no server splits further, and a body with unique member names.
#[tokio::test]
async fn over_http_the_service_reads_what_was_validated() {
    let (addr, received) = recording_server(differentials(Options::default())).await;
    let head = |request_line: &str, lines: &[&str], body: &str| {
        let mut text = format!("{request_line} HTTP/1.1\r\n");
        for line in lines {
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ));
        text
    };
    let pet = r#"{"name": "rex"}"#;
    // (request, status, query the service must see)
    let rows: Vec<(String, u16, Option<&str>)> = vec![
        (
            head(
                "POST /pets",
                &["host: a.test", "content-type: application/json"],
                pet,
            ),
            200,
            Some(""),
        ),
        (
            head(
                "POST /pets",
                &[
                    "host: a.test",
                    "content-type: application/json",
                    "content-type: application/x-www-form-urlencoded",
                ],
                "name=waytoolong",
            ),
            400,
            None,
        ),
        (
            head(
                "POST /pets",
                &[
                    "host: a.test",
                    "content-type: application/json, application/x-www-form-urlencoded",
                ],
                pet,
            ),
            400,
            None,
        ),
        (
            head(
                "GET /bearer",
                &[
                    "host: a.test",
                    "authorization: Bearer VALID",
                    "authorization: Bearer FORGED",
                ],
                "",
            ),
            400,
            None,
        ),
        (
            head("GET /plain", &["host: a.test", "host: b.test"], ""),
            400,
            None,
        ),
        (
            head(
                "GET /header-key",
                &["host: a.test", "x-api-key: VALID", "X-Api-Key: FORGED"],
                "",
            ),
            400,
            None,
        ),
        (
            head(
                "GET /cookie-key",
                &[
                    "host: a.test",
                    "cookie: session=VALID",
                    "cookie: session=FORGED",
                ],
                "",
            ),
            400,
            None,
        ),
        (
            head(
                "POST /pets",
                &["host: a.test", "content-type: application/json"],
                r#"{"name": 123, "name": "rex"}"#,
            ),
            400,
            None,
        ),
        (
            head("GET /pets?limit=5&x=1;limit=1000", &["host: a.test"], ""),
            200,
            Some("limit=5&x=1%3Blimit=1000"),
        ),
        (
            head("GET /plain?x=1;limit=1000", &["host: a.test"], ""),
            200,
            Some("x=1%3Blimit=1000"),
        ),
    ];
    let singletons = ["host", "content-type", "authorization", "x-api-key"];
    for (request, status, query) in rows {
        let before = received.lock().unwrap().len();
        let got = raw_status(addr, &request).await;
        assert_eq!(got, status, "{request}");
        let log = received.lock().unwrap().clone();
        let Some(query) = query else {
            assert_eq!(
                log.len(),
                before,
                "a refused request reached the service: {request}"
            );
            continue;
        };
        assert_eq!(log.len(), before + 1, "{request}");
        let seen = &log[before];
        assert_eq!(
            seen.target.split_once('?').map_or("", |(_, q)| q),
            query,
            "{request}"
        );
        assert!(!seen.target.contains(';'), "a raw `;` reached the service");
        for name in singletons {
            let lines = seen.headers.iter().filter(|(n, _)| n == name).count();
            assert!(lines <= 1, "{name} given {lines} times to the service");
        }
        if let Some((_, ct)) = seen.headers.iter().find(|(n, _)| n == "content-type") {
            assert!(!ct.contains(','), "a list content type reached the service");
        }
        assert!(
            !has_repeated_name(&seen.body),
            "a repeated member name reached the service"
        );
        let sent_body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
        assert_eq!(
            &seen.body[..],
            sent_body.as_bytes(),
            "the body is handed on as sent"
        );
    }
}

/// The served document's `servers` from a trusted proxy: of several `X-Forwarded-Host` items
/// (lines or a list) the last, which the trusted peer wrote; the ones before it may be the
/// client's, passed on by a proxy that appends.
#[tokio::test]
async fn the_forwarded_host_is_the_one_the_trusted_peer_wrote() {
    let layer = differentials(Options::default().trusted_proxies(["127.0.0.1"]));
    // (header lines, expected server URL)
    let rows: Vec<(&[(&str, &str)], &str)> = vec![
        (&[("x-forwarded-host", "pub.test")], "http://pub.test"),
        (
            &[("x-forwarded-host", "evil.test, pub.test")],
            "http://pub.test",
        ),
        (
            &[
                ("x-forwarded-host", "evil.test"),
                ("x-forwarded-host", "pub.test"),
            ],
            "http://pub.test",
        ),
        (&[("x-forwarded-host", "evil.test,")], "http://in.test"),
    ];
    for (lines, want) in rows {
        let mut request = get_with("/openapi.json", lines);
        request
            .headers_mut()
            .append("host", http::HeaderValue::from_static("in.test"));
        request
            .extensions_mut()
            .insert(oasgate::PeerAddr("127.0.0.1:4000".parse().unwrap()));
        let answer = send(&layer, request).await;
        assert_eq!(answer.status, 200, "{lines:?}");
        let url = answer.json["servers"][0]["url"]
            .as_str()
            .unwrap_or_default();
        assert!(url.starts_with(want), "{lines:?}: {url}");
    }
}
