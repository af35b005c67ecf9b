//! Response validation: a table of responses, each with its verdict, run through the layer in
//! report and enforce modes.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer, Options, ResponseValidation};
use serde_json::Value;
use tower::{ServiceBuilder, ServiceExt};

use crate::support::LogCapture;

const SPEC: &str = r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          headers:
            X-Rate-Limit: {required: true, schema: {type: integer, minimum: 0}}
            X-Tags: {schema: {type: array, items: {type: string}, maxItems: 2}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
        "404":
          description: gone
          content:
            application/problem+json:
              schema: {type: object, required: [title], properties: {title: {type: string}}}
        "4XX":
          description: client error
          content:
            text/plain: {schema: {type: string, maxLength: 10}}
        default:
          description: anything else
          content:
            application/*: {schema: {type: object, required: [code]}}
  /pets:
    post:
      operationId: addPet
      responses:
        "201": {description: created, no content}
        "204": {description: nothing}
  /events:
    get:
      responses:
        "200":
          description: a stream of events
          content:
            text/event-stream: {schema: {type: string, maxLength: 3}}
  /old:
    get:
      operationId: old
      x-oasgate-response-validation: "off"
      responses:
        "200": {description: ok}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
        tag: {type: [string, "null"]}
        password: {type: string, writeOnly: true}
"##;

const JSON: &str = "application/json";

/// One response the service gives, and the violations expected: `(in, name, pointer, code)`.
struct Row {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    violations: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const RATE: (&str, &str) = ("x-rate-limit", "10");
const CT_JSON: (&str, &str) = ("content-type", JSON);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    Row { what: "valid pet", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: r#"{"id":1,"name":"rex"}"#, violations: &[] },
    // 3.1: a type array allows null.
    Row { what: "null in a type array", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: r#"{"id":1,"name":"rex","tag":null}"#, violations: &[] },
    Row { what: "a declared parameter of the media type", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, ("content-type", "application/json; charset=utf-8")], body: r#"{"id":1,"name":"rex"}"#, violations: &[] },
    Row { what: "a required header missing", method: "GET", path: "/pets/1", status: 200,
        headers: &[CT_JSON], body: r#"{"id":1,"name":"rex"}"#,
        violations: &[("header", "x-rate-limit", "", "required")] },
    Row { what: "a header of the wrong type", method: "GET", path: "/pets/1", status: 200,
        headers: &[("x-rate-limit", "many"), CT_JSON], body: r#"{"id":1,"name":"rex"}"#,
        violations: &[("header", "x-rate-limit", "", "type")] },
    Row { what: "a header breaking its schema", method: "GET", path: "/pets/1", status: 200,
        headers: &[("x-rate-limit", "-1"), ("x-tags", "a, b, c"), CT_JSON], body: r#"{"id":1,"name":"rex"}"#,
        violations: &[("header", "x-rate-limit", "", "minimum"), ("header", "x-tags", "", "maxItems")] },
    // `readOnly`: "the property ... MAY be sent as part of a response", and `required`
    // applies to it there.
    Row { what: "a required read-only property missing", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: r#"{"name":"rex"}"#,
        violations: &[("body", "", "/id", "required")] },
    // `writeOnly`: "the property ... SHOULD NOT be sent as part of the response".
    Row { what: "a write-only property sent", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: r#"{"id":1,"name":"rex","password":"hunter2"}"#,
        violations: &[("body", "", "/password", "writeOnly")] },
    Row { what: "a property of the wrong type", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: r#"{"id":1,"name":5}"#,
        violations: &[("body", "", "/name", "type")] },
    Row { what: "malformed JSON", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: r#"{"id":1,"#,
        violations: &[("body", "", "", "malformed")] },
    Row { what: "JSON declared, no content", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: "",
        violations: &[("body", "", "", "malformed")] },
    Row { what: "an undeclared content type", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE, ("content-type", "text/html")], body: "<p>rex</p>",
        violations: &[("header", "content-type", "", "mediaType")] },
    Row { what: "content without a content type", method: "GET", path: "/pets/1", status: 200,
        headers: &[RATE], body: r#"{"id":1,"name":"rex"}"#,
        violations: &[("body", "", "", "mediaType")] },
    Row { what: "the exact code", method: "GET", path: "/pets/1", status: 404,
        headers: &[("content-type", "application/problem+json")], body: r#"{"title":"gone"}"#, violations: &[] },
    // OpenAPI 3.1 §4.8.16.2: "If a response is defined using an explicit code, the explicit
    // code definition takes precedence over the range definition for that code."
    Row { what: "the exact code wins over its range", method: "GET", path: "/pets/1", status: 404,
        headers: &[("content-type", "text/plain")], body: "gone",
        violations: &[("header", "content-type", "", "mediaType")] },
    Row { what: "a code in a range", method: "GET", path: "/pets/1", status: 418,
        headers: &[("content-type", "text/plain")], body: "teapot", violations: &[] },
    Row { what: "a text body against its string schema", method: "GET", path: "/pets/1", status: 418,
        headers: &[("content-type", "text/plain; charset=utf-8")], body: "a teapot, short and stout",
        violations: &[("body", "", "", "maxLength")] },
    // `default`: "the documentation of responses other than the ones declared for specific
    // HTTP response codes"; `application/*` takes any `application/` type, `+json` is read.
    Row { what: "default with a media range", method: "GET", path: "/pets/1", status: 503,
        headers: &[("content-type", "application/vnd.error+json")], body: r#"{"code":7}"#, violations: &[] },
    Row { what: "default's schema applies", method: "GET", path: "/pets/1", status: 500,
        headers: &[CT_JSON], body: "{}",
        violations: &[("body", "", "/code", "required")] },
    Row { what: "other media types are not read", method: "GET", path: "/pets/1", status: 500,
        headers: &[("content-type", "application/octet-stream")], body: "\u{1}\u{2}", violations: &[] },
    Row { what: "no content as declared", method: "POST", path: "/pets", status: 201,
        headers: &[], body: "", violations: &[] },
    Row { what: "content where none is declared", method: "POST", path: "/pets", status: 201,
        headers: &[("content-type", "text/plain")], body: "created",
        violations: &[("body", "", "", "noContent")] },
    // RFC 9110 §15.3.5: "A 204 response is terminated by the end of the header section; it
    // cannot contain content or trailers."
    Row { what: "content on a 204", method: "POST", path: "/pets", status: 204,
        headers: &[], body: "x", violations: &[("body", "", "", "noContent")] },
    Row { what: "an undeclared status", method: "POST", path: "/pets", status: 200,
        headers: &[], body: "", violations: &[("status", "", "", "undeclared")] },
    // RFC 9110 §9.3.2: HEAD is answered with the headers of GET ("the server MUST NOT send
    // content in the response").
    Row { what: "HEAD with the headers of GET", method: "HEAD", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: "", violations: &[] },
    Row { what: "HEAD with content", method: "HEAD", path: "/pets/1", status: 200,
        headers: &[RATE, CT_JSON], body: r#"{"id":1,"name":"rex"}"#,
        violations: &[("body", "", "", "noContent")] },
    Row { what: "an event stream is not read as one string", method: "GET", path: "/events", status: 200,
        headers: &[("content-type", "text/event-stream")], body: "data: one\n\ndata: two\n\n", violations: &[] },
    Row { what: "an operation with validation off", method: "GET", path: "/old", status: 299,
        headers: &[], body: "anything", violations: &[] },
];

fn layer(mode: ResponseValidation) -> OpenApiLayer {
    let doc = Document::from_str(SPEC).expect("document loads");
    OpenApiLayer::with_options(&doc, Options::default().response_validation(mode))
        .expect("document compiles")
}

/// What the client receives when the service answers `row`.
async fn exchange(
    layer: &OpenApiLayer,
    row: &Row,
    chunks: bool,
) -> (StatusCode, http::HeaderMap, Bytes) {
    let status = row.status;
    let headers = row.headers;
    let body = row.body;
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
        move |_request: Request<Body>| async move {
            let mut builder = Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            // Chunked: a stream of unknown length, one byte a chunk.
            let body = if chunks {
                let pieces: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = body
                    .as_bytes()
                    .iter()
                    .map(|b| Ok(Frame::data(Bytes::copy_from_slice(&[*b]))))
                    .collect();
                Body::new(StreamBody::new(futures_util::stream::iter(pieces)))
            } else {
                Body::from(body)
            };
            Ok::<_, std::convert::Infallible>(builder.body(body).unwrap())
        },
    );
    let request = Request::builder()
        .method(row.method)
        .uri(row.path)
        .body(Body::empty())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, bytes)
}

#[tokio::test]
async fn enforce_mode_replaces_each_invalid_response_by_a_problem_listing_its_violations() {
    let layer = layer(ResponseValidation::Enforce);
    for chunks in [false, true] {
        for row in ROWS {
            let (status, headers, body) = exchange(&layer, row, chunks).await;
            let what = format!("{} (chunked: {chunks})", row.what);
            if row.violations.is_empty() {
                assert_eq!(status.as_u16(), row.status, "{what}");
                assert_eq!(
                    body,
                    row.body.as_bytes(),
                    "{what}: the body is forwarded whole"
                );
                continue;
            }
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
            assert_eq!(
                headers["content-type"], "application/problem+json",
                "{what}"
            );
            let problem: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                problem["type"], "urn:oasgate:problem:invalid-response",
                "{what}"
            );
            let found: Vec<(String, String, String, String)> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let field = |k: &str| e[k].as_str().unwrap().to_owned();
                    (field("in"), field("name"), field("pointer"), field("code"))
                })
                .collect();
            let expected: Vec<(String, String, String, String)> = row
                .violations
                .iter()
                .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
                .collect();
            assert_eq!(found, expected, "{what}: {problem}");
            let text = String::from_utf8_lossy(&body);
            assert!(!text.contains("hunter2"), "{what}: a secret leaked: {text}");
            assert!(
                row.body.is_empty() || !text.contains(row.body),
                "{what}: the original body is not forwarded"
            );
        }
    }
}

#[tokio::test]
async fn report_mode_hands_every_response_on_unchanged_and_logs_the_invalid_ones() {
    let layer = layer(ResponseValidation::Report);
    for chunks in [false, true] {
        for row in ROWS {
            let capture = LogCapture::new(tracing::Level::INFO);
            let (status, _, body) = exchange(&layer, row, chunks).await;
            let what = format!("{} (chunked: {chunks})", row.what);
            assert_eq!(status.as_u16(), row.status, "{what}");
            // HEAD answers pass as the service sent them; hyper drops their content.
            assert_eq!(body, row.body.as_bytes(), "{what}");
            let logs = capture.logs.text();
            let logged = logs.contains("oasgate::response");
            assert_eq!(logged, !row.violations.is_empty(), "{what}: {logs}");
            for (_, _, _, code) in row.violations {
                assert!(logs.contains(code), "{what}: `{code}` in {logs}");
            }
            assert!(!logs.contains("hunter2"), "{what}: a secret leaked: {logs}");
        }
    }
}

#[tokio::test]
async fn a_body_past_the_bound_streams_on_unchecked_and_the_skip_is_logged() {
    let doc = Document::from_str(SPEC).unwrap();
    let options = Options::default()
        .response_validation(ResponseValidation::Enforce)
        .response_validation_max_body(8);
    let layer = OpenApiLayer::with_options(&doc, options).unwrap();
    let row = Row {
        what: "long and wrong",
        method: "GET",
        path: "/pets/1",
        status: 200,
        headers: &[RATE, CT_JSON],
        body: r#"{"id":"not a number","name":"rex"}"#,
        violations: &[],
    };
    for chunks in [false, true] {
        let capture = LogCapture::new(tracing::Level::INFO);
        let (status, _, body) = exchange(&layer, &row, chunks).await;
        assert_eq!(status, StatusCode::OK, "chunked: {chunks}");
        assert_eq!(
            body,
            row.body.as_bytes(),
            "chunked: {chunks}: the whole body"
        );
        let logs = capture.logs.text();
        assert!(
            logs.contains("response body not checked"),
            "chunked: {chunks}: {logs}"
        );
    }
    // A head already wrong is answered with its problem: nothing was sent yet.
    let wrong_head = Row {
        headers: &[CT_JSON],
        ..row
    };
    let (status, _, _) = exchange(&layer, &wrong_head, true).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn openapi_3_0_nullable_and_the_operation_extension() {
    let spec = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      x-oasgate-response-validation: enforce
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: object, properties: {n: {type: integer, nullable: true}}}}
"#;
    let doc = Document::from_str(spec).unwrap();
    // Off for the document, enforced by the operation's extension.
    let layer = OpenApiLayer::with_options(&doc, Options::default()).unwrap();
    let row = |body: &'static str| Row {
        what: "nullable",
        method: "GET",
        path: "/a",
        status: 200,
        headers: &[CT_JSON],
        body,
        violations: &[],
    };
    let (status, _, _) = exchange(&layer, &row(r#"{"n":null}"#), false).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = exchange(&layer, &row(r#"{"n":"x"}"#), false).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

/// A path item may be a `$ref` ("Allows for a referenced definition of this path item",
/// OpenAPI 3.1 §4.8.9.1): the extension on an operation of the referenced item counts as on
/// any other, with response validation off for the document.
#[tokio::test]
async fn the_extension_on_a_path_item_reached_through_a_ref() {
    let specs = [
        (
            "3.1 components/pathItems",
            r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a: {$ref: "#/components/pathItems/A"}
components:
  pathItems:
    A:
      get:
        x-oasgate-response-validation: enforce
        responses:
          "200":
            description: ok
            content:
              application/json: {schema: {type: object, required: [n]}}
"##,
        ),
        (
            "3.0 path item elsewhere in the document",
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a: {$ref: "#/x-items/a"}
x-items:
  a:
    get:
      x-oasgate-response-validation: enforce
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: object, required: [n]}}
"##,
        ),
    ];
    for (what, spec) in specs {
        let doc = Document::from_str(spec).unwrap();
        let layer = OpenApiLayer::with_options(&doc, Options::default()).unwrap();
        let row = |body: &'static str| Row {
            what: "through $ref",
            method: "GET",
            path: "/a",
            status: 200,
            headers: &[CT_JSON],
            body,
            violations: &[],
        };
        let (status, _, _) = exchange(&layer, &row(r#"{"n":1}"#), false).await;
        assert_eq!(status, StatusCode::OK, "{what}");
        let (status, _, body) = exchange(&layer, &row("{}"), false).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{what}: {body:?}"
        );
    }
}

#[test]
fn a_bad_mode_or_status_key_is_a_start_up_error() {
    let spec = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      x-oasgate-response-validation: loud
      responses: {"200": {description: ok}}
  /b:
    get:
      responses: {"2X0": {description: ok}}
"#;
    let doc = Document::from_str(spec).unwrap();
    let error = OpenApiLayer::with_options(
        &doc,
        Options::default().response_validation(ResponseValidation::Report),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("`x-oasgate-response-validation` must be `off`, `report` or `enforce`"),
        "{error}"
    );
    assert!(
        error.contains("response key `2X0` is not a status code"),
        "{error}"
    );
}

#[tokio::test]
async fn a_discriminated_body_reports_the_chosen_branchs_errors() {
    let spec = r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /shape:
    get:
      responses:
        "200":
          description: a shape
          content:
            application/json:
              schema:
                oneOf: [{$ref: "#/components/schemas/Circle"}, {$ref: "#/components/schemas/Square"}]
                discriminator: {propertyName: kind}
components:
  schemas:
    Circle:
      type: object
      required: [kind, radius]
      properties: {kind: {const: Circle}, radius: {type: number}}
    Square:
      type: object
      required: [kind, side]
      properties: {kind: {const: Square}, side: {type: number}}
"##;
    let doc = Document::from_str(spec).unwrap();
    let layer = OpenApiLayer::with_options(
        &doc,
        Options::default().response_validation(ResponseValidation::Enforce),
    )
    .unwrap();
    let row = |body: &'static str| Row {
        what: "discriminator",
        method: "GET",
        path: "/shape",
        status: 200,
        headers: &[CT_JSON],
        body,
        violations: &[],
    };
    let (status, _, _) = exchange(&layer, &row(r#"{"kind":"Circle","radius":1}"#), false).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = exchange(&layer, &row(r#"{"kind":"Square","radius":1}"#), false).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["errors"][0]["pointer"], "/side", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "required", "{problem}");
}

#[tokio::test]
async fn a_body_never_read_still_logs_the_heads_violations() {
    // A server sends no content in answer to HEAD (RFC 9110 §9.3.2) and may never poll the
    // body: report mode logs what the head broke when the body is dropped.
    let layer = layer(ResponseValidation::Report);
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_request: Request<Body>| async {
            let response = Response::builder()
                .status(200)
                .header("content-type", JSON)
                .body(Body::from(r#"{"id":1,"name":"rex"}"#))
                .unwrap();
            Ok::<_, std::convert::Infallible>(response)
        });
    let capture = LogCapture::new(tracing::Level::INFO);
    let request = Request::head("/pets/1")
        .header("x-request-id", "req-head-7")
        .body(Body::empty())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!capture.logs.text().contains("x-rate-limit"));
    drop(response);
    let logs = capture.logs.text();
    assert!(logs.contains("header `x-rate-limit` required"), "{logs}");
    // Named by the request's `X-Request-Id`, as the rejections are.
    assert!(logs.contains("request_id=\"req-head-7\""), "{logs}");
}

#[tokio::test]
async fn a_rejection_is_logged_with_the_request_id_it_carries() {
    let layer = layer(ResponseValidation::Off);
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_request: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
        });
    for (id, logged) in [(Some("req-41"), "request_id=\"req-41\""), (None, "")] {
        let capture = LogCapture::new(tracing::Level::INFO);
        let mut request = Request::get("/pets/not-a-number");
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        let response = service
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let logs = capture.logs.text();
        let line = logs
            .lines()
            .find(|l| l.contains("oasgate::rejection"))
            .unwrap_or_else(|| panic!("no rejection line in {logs}"));
        assert_eq!(line.contains("request_id="), id.is_some(), "{line}");
        assert!(line.contains(logged), "{line}");
    }
}

#[tokio::test]
async fn report_mode_checks_the_sampled_share_and_enforce_mode_every_response() {
    let doc = Document::from_str(SPEC).unwrap();
    let invalid = Row {
        what: "sampled",
        method: "GET",
        path: "/pets/1",
        status: 200,
        headers: &[CT_JSON],
        body: r#"{"id":1,"name":"rex"}"#,
        violations: &[],
    };
    let report = OpenApiLayer::with_options(
        &doc,
        Options::default()
            .response_validation(ResponseValidation::Report)
            .response_validation_sample(0.25),
    )
    .unwrap();
    let capture = LogCapture::new(tracing::Level::INFO);
    for _ in 0..8 {
        let (status, _, _) = exchange(&report, &invalid, false).await;
        assert_eq!(status, StatusCode::OK);
    }
    let logs = capture.logs.text();
    // One in four, the first included: responses 1 and 5.
    assert_eq!(
        logs.matches("response breaks the document").count(),
        2,
        "{logs}"
    );

    let enforce = OpenApiLayer::with_options(
        &doc,
        Options::default()
            .response_validation(ResponseValidation::Enforce)
            .response_validation_sample(0.0),
    )
    .unwrap();
    for _ in 0..3 {
        let (status, _, _) = exchange(&enforce, &invalid, false).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}

#[tokio::test]
async fn a_request_let_through_in_report_only_mode_has_its_answer_checked() {
    let doc = Document::from_str(SPEC).unwrap();
    let layer = OpenApiLayer::with_options(
        &doc,
        Options::default()
            .enforce(false)
            .response_validation(ResponseValidation::Enforce),
    )
    .unwrap();
    // `abc` is not an integer: the request is refused in report-only mode and handed on.
    let row = Row {
        what: "let through",
        method: "GET",
        path: "/pets/abc",
        status: 200,
        headers: &[CT_JSON],
        body: r#"{"id":1,"name":"rex"}"#,
        violations: &[],
    };
    let (status, _, body) = exchange(&layer, &row, false).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["errors"][0]["name"], "x-rate-limit", "{problem}");
}

/// The served document lists the invalid-response problem where the layer can answer it: on
/// operations whose response validation is enforced (report never replaces an answer), as
/// `500` from the layer or `502` behind a gateway (`forwards_upstream`), unless the operation
/// declares that status itself; in a 2.0 document in the 2.0 form (`schema`, `#/responses`).
#[tokio::test]
async fn the_served_document_describes_the_invalid_response_problem() {
    const V3: &str = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /enforced:
    get:
      x-oasgate-response-validation: enforce
      responses: {"200": {description: ok}}
  /reported:
    get:
      x-oasgate-response-validation: report
      responses: {"200": {description: ok}}
  /off:
    get:
      responses: {"200": {description: ok}}
  /own:
    get:
      x-oasgate-response-validation: enforce
      responses: {"200": {description: ok}, "500": {description: the document's own 500}}
"#;
    const V2: &str = r#"
swagger: "2.0"
info: {title: t, version: "1"}
produces: [application/json]
paths:
  /enforced:
    get:
      x-oasgate-response-validation: enforce
      responses: {"200": {description: ok}}
  /reported:
    get:
      x-oasgate-response-validation: report
      responses: {"200": {description: ok}}
  /off:
    get:
      responses: {"200": {description: ok}}
  /own:
    get:
      x-oasgate-response-validation: enforce
      responses: {"200": {description: ok}, "500": {description: the document's own 500}}
"#;
    struct Case {
        what: &'static str,
        spec: &'static str,
        forwards_upstream: bool,
        /// The status added, and where the reused responses live.
        status: &'static str,
        other: &'static str,
        responses_at: &'static str,
    }
    let cases = [
        Case {
            what: "3.1, the layer",
            spec: V3,
            forwards_upstream: false,
            status: "500",
            other: "502",
            responses_at: "/components/responses/",
        },
        Case {
            what: "3.1, a gateway",
            spec: V3,
            forwards_upstream: true,
            status: "502",
            other: "500",
            responses_at: "/components/responses/",
        },
        Case {
            what: "2.0, the layer",
            spec: V2,
            forwards_upstream: false,
            status: "500",
            other: "502",
            responses_at: "/responses/",
        },
        Case {
            what: "2.0, a gateway",
            spec: V2,
            forwards_upstream: true,
            status: "502",
            other: "500",
            responses_at: "/responses/",
        },
    ];
    for case in cases {
        let what = case.what;
        let doc = Document::from_str(case.spec).unwrap();
        let layer = OpenApiLayer::with_options(
            &doc,
            Options::default().forwards_upstream(case.forwards_upstream),
        )
        .unwrap();
        let service = ServiceBuilder::new()
            .layer(layer)
            .service_fn(|_: Request<Body>| async {
                Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
            });
        let request = Request::get("/openapi.json")
            .header("host", "api.test")
            .body(Body::empty())
            .unwrap();
        let response = service.oneshot(request).await.unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let served: Value = serde_json::from_slice(&bytes).unwrap();
        let responses = |path: &str| served["paths"][path]["get"]["responses"].clone();

        let added = responses("/enforced");
        let reference = added[case.status]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no {} on /enforced: {added:#}", case.status));
        assert!(
            reference.starts_with(&format!("#{}", case.responses_at)),
            "{what}: {reference}"
        );
        let target = served
            .pointer(&reference[1..])
            .unwrap_or_else(|| panic!("{what}: {reference}"));
        assert!(
            target["description"]
                .as_str()
                .unwrap()
                .contains("invalid-response"),
            "{what}: {target}"
        );
        let schema = if case.spec == V2 {
            &target["schema"]
        } else {
            &target["content"]["application/problem+json"]["schema"]
        };
        assert!(schema["$ref"].is_string(), "{what}: {target}");
        assert!(added.get(case.other).is_none(), "{what}: {added:#}");
        for path in ["/reported", "/off"] {
            let listed = responses(path);
            assert!(
                listed.get("500").is_none() && listed.get("502").is_none(),
                "{what} {path}: {listed:#}"
            );
        }
        if case.status == "500" {
            assert_eq!(
                responses("/own")["500"],
                serde_json::json!({"description": "the document's own 500"}),
                "{what}"
            );
        }
    }
}

/// `ResponseChecked` names the operation, the `responses` entry and the `content` key an
/// answer matched, as written in the document; a replaced answer, or one not checked, has none.
#[tokio::test]
async fn the_response_checked_extension_names_the_matched_entry_and_media_type() {
    use oasgate::response::ResponseChecked;
    // (mode, row, the extension as (operation, entry, media type), or none)
    type Seen = Option<(&'static str, Option<&'static str>, Option<&'static str>)>;
    let row = |method, path, status, headers, body| Row {
        what: "",
        method,
        path,
        status,
        headers,
        body,
        violations: &[],
    };
    use ResponseValidation::{Enforce, Report};
    #[rustfmt::skip]
    let rows: Vec<(ResponseValidation, Row, Seen)> = vec![
        (Enforce, row("GET", "/pets/1", 200, &[RATE, CT_JSON], r#"{"id":1,"name":"rex"}"#),
            Some(("getPet", Some("200"), Some("application/json")))),
        (Enforce, row("GET", "/pets/1", 418, &[("content-type", "text/plain")], "teapot"),
            Some(("getPet", Some("4XX"), Some("text/plain")))),
        (Enforce, row("GET", "/pets/1", 503, &[("content-type", "application/vnd.error+json")], r#"{"code":7}"#),
            Some(("getPet", Some("default"), Some("application/*")))),
        (Enforce, row("POST", "/pets", 201, &[], ""), Some(("addPet", Some("201"), None))),
        // No operationId: the operation is named by its method and template.
        (Enforce, row("GET", "/events", 200, &[("content-type", "text/event-stream")], "data: x\n\n"),
            Some(("GET /events", Some("200"), Some("text/event-stream")))),
        // Replaced by a problem: the problem carries a `Rejection`, not this.
        (Enforce, row("GET", "/pets/1", 200, &[RATE, CT_JSON], "{}"), None),
        // Report mode: set from the head, whatever the verdict.
        (Report, row("GET", "/pets/1", 200, &[RATE, CT_JSON], "{}"),
            Some(("getPet", Some("200"), Some("application/json")))),
        (Report, row("POST", "/pets", 200, &[], ""), Some(("addPet", None, None))),
        (Report, row("GET", "/pets/1", 200, &[RATE, ("content-type", "text/html")], "<p>"),
            Some(("getPet", Some("200"), None))),
        // Validation off for the operation.
        (Enforce, row("GET", "/old", 200, &[], ""), None),
    ];
    for (mode, row, expected) in rows {
        let layer = layer(mode);
        let (status, headers, body) = (row.status, row.headers, row.body);
        let service = ServiceBuilder::new().layer(layer).service_fn(
            move |_request: Request<Body>| async move {
                let mut builder = Response::builder().status(status);
                for (name, value) in headers {
                    builder = builder.header(*name, *value);
                }
                Ok::<_, std::convert::Infallible>(builder.body(Body::from(body)).unwrap())
            },
        );
        let request = Request::builder()
            .method(row.method)
            .uri(row.path)
            .body(Body::empty())
            .unwrap();
        let response = service.oneshot(request).await.unwrap();
        let what = format!("{mode:?} {} {} {status}", row.method, row.path);
        let seen = response.extensions().get::<ResponseChecked>().map(|c| {
            assert_eq!(c.mode, mode, "{what}");
            assert_eq!(c.operation_id.is_some(), row.path != "/events", "{what}");
            (
                c.operation.to_string(),
                c.status_entry.as_deref().map(str::to_owned),
                c.media_type.as_deref().map(str::to_owned),
            )
        });
        let expected = expected.map(|(op, entry, media)| {
            (
                op.to_owned(),
                entry.map(str::to_owned),
                media.map(str::to_owned),
            )
        });
        assert_eq!(seen, expected, "{what}");
        if expected.is_none() && mode == Enforce && row.path != "/old" {
            assert!(
                response.extensions().get::<oasgate::Rejection>().is_some(),
                "{what}"
            );
        }
    }
}

/// A `101 Switching Protocols` ends the HTTP exchange: "the server will switch protocols
/// [...] immediately after the empty line that terminates the 101 response" (RFC 9110
/// §15.2.2), so the head is the last moment an answer can be refused. A 101 is checked like
/// any status: declared, the upgrade goes through; not declared, enforce mode answers the
/// problem instead and the connection stays HTTP (the handler's upgrade never completes);
/// report mode lets the switch happen and logs the violation. A real upgrade, through hyper.
#[tokio::test]
async fn an_undeclared_switching_protocols_is_refused_under_enforce_before_the_switch() {
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const DECLARED: &str = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /chat:
    get:
      responses:
        "101":
          description: the connection switches to the echo protocol
          headers: {Upgrade: {required: true, schema: {const: echo}}}
"#;
    const UNDECLARED: &str = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /chat:
    get:
      responses:
        "200": {description: a page}
"#;
    // (spec, mode, the status the client reads, whether the protocol switched)
    let rows = [
        (DECLARED, ResponseValidation::Enforce, "101", true),
        (UNDECLARED, ResponseValidation::Enforce, "500", false),
        (UNDECLARED, ResponseValidation::Report, "101", true),
    ];
    for (spec, mode, expected, switched) in rows {
        let what = format!(
            "{mode:?} {}",
            if spec == DECLARED {
                "declared"
            } else {
                "undeclared"
            }
        );
        let capture = LogCapture::new(tracing::Level::WARN);
        let doc = Document::from_str(spec).unwrap();
        let layer =
            OpenApiLayer::with_options(&doc, Options::default().response_validation(mode)).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let service = ServiceBuilder::new()
                .map_request(|request: Request<hyper::body::Incoming>| request.map(Body::new))
                .layer(layer)
                .service_fn(|mut request: Request<Body>| async move {
                    let upgrade = hyper::upgrade::on(&mut request);
                    tokio::spawn(async move {
                        // Only once the 101 has gone out: the other protocol says `pong`.
                        if let Ok(upgraded) = upgrade.await {
                            let mut io = TokioIo::new(upgraded);
                            let _ = io.write_all(b"pong").await;
                            let _ = io.shutdown().await;
                        }
                    });
                    let response = Response::builder()
                        .status(StatusCode::SWITCHING_PROTOCOLS)
                        .header("upgrade", "echo")
                        .header("connection", "upgrade")
                        .body(Body::empty())
                        .unwrap();
                    Ok::<_, std::convert::Infallible>(response)
                });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades()
                .await;
        });
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client
            .write_all(
                b"GET /chat HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n",
            )
            .await
            .unwrap();
        // Read until the server closes (the upgraded side shuts down; the problem is
        // answered and the connection, still HTTP, closed after it), bounded in time.
        let mut received = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut buf = [0u8; 4096];
            for _ in 0..1000 {
                match client.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                }
                let text = String::from_utf8_lossy(&received);
                if text.ends_with("pong") || (text.contains("\r\n\r\n{") && text.ends_with('}')) {
                    break;
                }
            }
        })
        .await;
        assert!(
            read.is_ok(),
            "{what}: no answer in time: {:?}",
            String::from_utf8_lossy(&received)
        );
        let text = String::from_utf8_lossy(&received).into_owned();
        assert!(
            text.starts_with(&format!("HTTP/1.1 {expected} ")),
            "{what}: {text}"
        );
        assert_eq!(text.ends_with("pong"), switched, "{what}: {text}");
        if !switched {
            assert!(
                text.contains("urn:oasgate:problem:invalid-response"),
                "{what}: {text}"
            );
            assert!(
                text.contains("status 101 is not declared"),
                "{what}: {text}"
            );
        }
        let logs = capture.logs.text();
        assert_eq!(
            logs.contains("status 101 is not declared"),
            spec == UNDECLARED,
            "{what}: {logs}"
        );
        drop(client);
        server.abort();
    }
}

/// A problem status the operation covers with a range or `default` is added with the range's
/// content beside the problem's: an explicit code "takes precedence over the range definition
/// for that code" (OpenAPI 3.1 §4.8.16.2), so a bare problem entry would forbid the service's
/// own answers there.
#[tokio::test]
async fn an_added_problem_status_keeps_what_a_range_or_default_allowed() {
    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /default:
    delete:
      x-oasgate-response-validation: enforce
      responses:
        "204": {description: gone}
        default:
          description: the service's error
          headers: {X-Trace: {required: true, schema: {type: string}}}
          content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
  /range:
    get:
      responses:
        "200": {description: ok}
        4XX: {$ref: "#/components/responses/ClientError"}
  /range-too:
    get:
      responses:
        "200": {description: ok}
        4XX: {$ref: "#/components/responses/ClientError"}
  /own:
    get:
      responses:
        "200": {description: ok}
        "404": {description: the document's own 404}
        default: {description: other, content: {application/json: {schema: {type: object}}}}
  /plain:
    get:
      responses: {"200": {description: ok}}
components:
  schemas:
    Error: {type: object, required: [code], properties: {code: {type: integer}}}
  responses:
    ClientError:
      description: the service's client error
      content: {text/plain: {schema: {type: string}}}
"##;
    let layer = crate::support::layer(SPEC, Options::default());
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
        });
    let request = Request::get("/openapi.json")
        .header("host", "api.test")
        .body(Body::empty())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let served: Value = serde_json::from_slice(&bytes).unwrap();
    // Every added status is a `$ref` to a response component; those merged with a covering
    // entry are shared by the operations that entry covers.
    let added = |at: &str, status: &str| -> (String, Value) {
        let entry = &served.pointer(at).unwrap()["responses"][status];
        let reference = entry["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{at} {status}: {entry:#}"));
        let target = served
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{at} {status}: {reference} names nothing"));
        (reference.to_owned(), target.clone())
    };
    // (operation, status, media types of the added entry, or None for the problem alone)
    let rows: &[(&str, &str, Option<&[&str]>)] = &[
        (
            "/paths/~1default/delete",
            "404",
            Some(&["application/problem+json", "application/json"]),
        ),
        (
            "/paths/~1default/delete",
            "500",
            Some(&["application/problem+json", "application/json"]),
        ),
        (
            "/paths/~1range/get",
            "404",
            Some(&["application/problem+json", "text/plain"]),
        ),
        (
            "/paths/~1range/get",
            "400",
            Some(&["application/problem+json", "text/plain"]),
        ),
        ("/paths/~1plain/get", "404", None),
    ];
    for (at, status, media) in rows {
        let (reference, entry) = added(at, status);
        match media {
            None => assert_eq!(reference, "#/components/responses/ProblemNotFound"),
            Some(media) => {
                let mut listed: Vec<&str> = entry["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{at} {status}: {entry:#}"))
                    .keys()
                    .map(String::as_str)
                    .collect();
                listed.sort_unstable();
                let mut media = media.to_vec();
                media.sort_unstable();
                assert_eq!(listed, media, "{at} {status}");
            }
        }
    }
    assert_eq!(
        added("/paths/~1range/get", "404"),
        added("/paths/~1range-too/get", "404"),
        "one component for both operations"
    );
    assert_eq!(
        added("/paths/~1range/get", "404").0,
        "#/components/responses/ProblemNotFoundOr4XX"
    );
    assert_ne!(
        added("/paths/~1range/get", "400"),
        added("/paths/~1range/get", "404"),
        "one component per status"
    );
    assert_eq!(
        added("/paths/~1default/delete", "404").0,
        "#/components/responses/ProblemNotFoundOrDefault"
    );
    let (_, merged) = added("/paths/~1default/delete", "404");
    let merged = &merged;
    assert_eq!(
        merged["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );
    assert_eq!(
        merged["headers"]["X-Trace"],
        serde_json::json!({"schema": {"type": "string"}})
    );
    assert!(
        merged["description"]
            .as_str()
            .unwrap()
            .contains("the service's error")
    );
    assert_eq!(
        served["paths"]["/own"]["get"]["responses"]["404"],
        serde_json::json!({"description": "the document's own 404"})
    );
}
