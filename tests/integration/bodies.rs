//! Bodies through the layer: media types, limits, JSON, forms, multipart, schema dialects.

use oasgate::Options;
use serde_json::json;

use crate::support::*;

const CAT: &str = r#"{"name": "Tom", "petType": "Cat", "lives": 9}"#;

#[tokio::test]
async fn json_bodies_reach_the_service_unchanged() {
    let layer = kitchen();
    let answer = send(
        &layer,
        with_body("POST", "/v1/pets", "application/json; charset=utf-8", CAT),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["body"], CAT,
        "the inner service reads the bytes the client sent"
    );
    assert_eq!(answer.json["validated"]["body"]["lives"], 9);
}

#[tokio::test]
async fn media_type_negotiation() {
    let layer = kitchen();
    // (method, uri, content type, body, status)
    let rows: &[(&str, &str, &str, &str, u16)] = &[
        ("POST", "/v1/pets", "text/plain", CAT, 415),
        ("POST", "/v1/pets", "application/problem+json", CAT, 415),
        ("POST", "/v1/pets", "not a type", CAT, 415),
        (
            "PUT",
            "/v1/uploads",
            "application/octet-stream",
            "\u{1}\u{2}",
            200,
        ),
        (
            "PUT",
            "/v1/uploads",
            "text/plain; charset=utf-8",
            "hello",
            200,
        ),
        ("PUT", "/v1/uploads", "text/plain", "hello", 415),
        // Typed and empty is present (zero bytes, the empty string); untyped and empty is
        // missing.
        ("PUT", "/v1/uploads", "application/octet-stream", "", 200),
        ("PUT", "/v1/uploads", "text/plain; charset=utf-8", "", 200),
        ("POST", "/v1/anything", "application/xml", "<a/>", 200),
        (
            "POST",
            "/v1/anything",
            "application/json",
            r#"{"a": 1}"#,
            200,
        ),
        (
            "POST",
            "/v1/anything",
            "application/json",
            r#"{"b": 1}"#,
            400,
        ),
        ("POST", "/v1/anything", "image/png", "png", 200),
    ];
    for (method, uri, content_type, body, status) in rows {
        let answer = send(&layer, with_body(method, uri, content_type, body)).await;
        assert_eq!(
            answer.status, *status,
            "{method} {uri} as {content_type}: {}",
            answer.json
        );
    }
    let answer = send(&layer, with_body("POST", "/v1/pets", "text/plain", CAT)).await;
    assert_eq!(answer.json["title"], "Unsupported media type");
    assert!(
        answer.json["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{}",
        answer.json
    );
    // No type and no bytes: the required body is missing.
    let untyped = http::Request::put("/v1/uploads")
        .body(oasgate::body::Body::empty())
        .unwrap();
    let answer = send(&layer, untyped).await;
    assert_eq!(answer.status, 400, "{}", answer.json);
    assert!(
        answer.json["detail"]
            .as_str()
            .unwrap()
            .starts_with("a request body is required"),
        "{}",
        answer.json
    );
}

#[tokio::test]
async fn required_bodies() {
    let layer = kitchen();
    let answer = send(&layer, request("POST", "/v1/pets")).await;
    assert_eq!(answer.status, 400);
    assert!(answer.json["detail"].as_str().unwrap().contains("required"));
    let answer = send(
        &layer,
        with_body("POST", "/v1/pets", "application/json", ""),
    )
    .await;
    assert_eq!(answer.status, 400);
    // An optional body may be absent.
    assert_eq!(send(&layer, request("POST", "/v1/forms")).await.status, 200);
}

#[tokio::test]
async fn size_limit_answers_413_without_reading_on() {
    let layer = fixture_layer("local/kitchen.yaml", Options::default().body_limit(32));
    let big = format!(
        r#"{{"name": "{}", "petType": "Cat", "lives": 1}}"#,
        "x".repeat(100)
    );
    let answer = send(
        &layer,
        with_body("POST", "/v1/pets", "application/json", &big),
    )
    .await;
    assert_eq!(answer.status, 413);
    // Without Content-Length (a stream), the limit still holds.
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(http_body::Frame::data(
        bytes::Bytes::from(big),
    ))]);
    let body = oasgate::body::Body::new(http_body_util::StreamBody::new(stream));
    let request = http::Request::post("/v1/pets")
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    assert_eq!(send(&layer, request).await.status, 413);

    // A stream of 10-byte chunks: reading stops at the chunk that crosses the limit.
    let pulled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = pulled.clone();
    let chunks = futures_util::StreamExt::map(futures_util::stream::iter(0..1_000), move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok::<_, std::io::Error>(http_body::Frame::data(bytes::Bytes::from_static(
            b"xxxxxxxxxx",
        )))
    });
    let request = http::Request::post("/v1/pets")
        .header("content-type", "application/json")
        .body(oasgate::body::Body::new(http_body_util::StreamBody::new(
            chunks,
        )))
        .unwrap();
    assert_eq!(send(&layer, request).await.status, 413);
    let pulled = pulled.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        pulled <= 4,
        "{pulled} chunks of 10 bytes read for a 32-byte limit"
    );
}

#[tokio::test]
async fn json_syntax_errors_say_where() {
    let layer = kitchen();
    let answer = send(
        &layer,
        with_body(
            "POST",
            "/v1/pets",
            "application/json",
            "{\n  \"name\": \"Tom\",\n  \"petType\" \"Cat\"\n}",
        ),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["title"], "Malformed request body");
    assert_eq!(
        answer.json["location"],
        json!({"line": 3, "column": 13, "character": 32})
    );
}

#[tokio::test]
async fn json_bodies_that_are_not_utf8_say_where() {
    let layer = kitchen();
    let request = http::Request::post("/v1/pets")
        .header("content-type", "application/json")
        .body(oasgate::body::Body::from(bytes::Bytes::from_static(
            b"{\"name\": \"Tom\xe9\", \"petType\": \"Cat\"}",
        )))
        .unwrap();
    let answer = send(&layer, request).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["title"], "Malformed request body");
    assert_eq!(answer.json["detail"], "the body is not valid UTF-8");
    assert_eq!(
        answer.json["location"],
        json!({"line": 1, "column": 14, "character": 14})
    );
}

#[tokio::test]
async fn discriminator_picks_the_branch_to_report() {
    let layer = kitchen();
    // (body, expected (pointer, code) list)
    let rows: &[(&str, &[(&str, &str)])] = &[
        (
            r#"{"name": "Tom", "petType": "Cat", "lives": 10}"#,
            &[("/lives", "maximum")],
        ),
        (
            r#"{"name": "Tom", "petType": "kitty", "lives": "x"}"#,
            &[("/lives", "type")],
        ),
        (
            r#"{"name": "Rex", "petType": "Dog"}"#,
            &[("/bark", "required")],
        ),
        (
            r#"{"name": "Rex", "petType": "Fish"}"#,
            &[("/petType", "discriminator")],
        ),
        (r#"{"name": "Rex"}"#, &[("/petType", "discriminator")]),
    ];
    for (body, want) in rows {
        let answer = send(
            &layer,
            with_body("POST", "/v1/pets", "application/json", body),
        )
        .await;
        assert_eq!(answer.status, 400, "{body}");
        let got: Vec<(String, String)> = answer.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["pointer"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        assert_eq!(got, want, "{body}: {}", answer.json);
    }
}

#[tokio::test]
async fn read_only_properties_are_not_required_and_not_accepted() {
    let layer = kitchen();
    let answer = send(
        &layer,
        with_body(
            "POST",
            "/v1/pets",
            "application/json",
            r#"{"id": 5, "name": "Tom", "petType": "Cat", "lives": 1}"#,
        ),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["errors"][0]["pointer"], "/id");
    assert_eq!(answer.json["errors"][0]["code"], "readOnly");
}

#[tokio::test]
async fn password_values_are_hidden() {
    let layer = kitchen();
    let answer = send(
        &layer,
        with_body(
            "POST",
            "/v1/pets",
            "application/json",
            r#"{"name": "Tom", "petType": "Cat", "lives": 1, "password": "hunter"}"#,
        ),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.json);
    assert!(
        !answer.json.to_string().contains("hunter"),
        "{}",
        answer.json
    );
}

#[tokio::test]
async fn unprocessable_bodies_option() {
    let layer = fixture_layer(
        "local/kitchen.yaml",
        Options::default().unprocessable_bodies(true),
    );
    let bad_schema = send(
        &layer,
        with_body(
            "POST",
            "/v1/pets",
            "application/json",
            r#"{"petType": "Cat"}"#,
        ),
    )
    .await;
    assert_eq!(bad_schema.status, 422);
    let bad_syntax = send(
        &layer,
        with_body("POST", "/v1/pets", "application/json", "{"),
    )
    .await;
    assert_eq!(bad_syntax.status, 400, "syntax errors stay 400");
}

#[tokio::test]
async fn form_bodies_are_coerced_by_schema() {
    let layer = kitchen();
    let form = "application/x-www-form-urlencoded";
    let answer = send(
        &layer,
        with_body(
            "POST",
            "/v1/forms",
            form,
            "age=30&tags=a&tags=b&ids=1,2&subscribe=true",
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["validated"]["body"],
        json!({"age": 30, "tags": ["a", "b"], "ids": [1, 2], "subscribe": true})
    );
    assert_eq!(
        answer.json["body"],
        "age=30&tags=a&tags=b&ids=1,2&subscribe=true"
    );
    let rows: &[(&str, &str)] = &[
        ("age=thirty", "type"),
        ("age=-1", "minimum"),
        ("tags=a", "required"),
        ("age=1&extra=1", "additionalProperties"),
        ("age=1&subscribe=maybe", "type"),
    ];
    for (body, code) in rows {
        let answer = send(&layer, with_body("POST", "/v1/forms", form, body)).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(
            answer.json["errors"][0]["code"], *code,
            "{body}: {}",
            answer.json
        );
    }
}

#[tokio::test]
async fn multipart_bodies() {
    let layer = kitchen();
    let body = "--b0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--b0undary\r\nContent-Disposition: form-data; name=\"count\"\r\n\r\n3\r\n--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\u{0}\u{1}\r\n--b0undary--\r\n";
    let ct = "multipart/form-data; boundary=b0undary";
    let answer = send(&layer, with_body("POST", "/v1/forms", ct, body)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["body"], body, "streamed on byte for byte");
    let missing_file = "--b0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--b0undary--\r\n";
    let answer = send(&layer, with_body("POST", "/v1/forms", ct, missing_file)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["errors"][0]["pointer"], "/file");
    let answer = send(
        &layer,
        with_body("POST", "/v1/forms", "multipart/form-data", body),
    )
    .await;
    assert_eq!(answer.status, 400, "no boundary");
    let answer = send(
        &layer,
        with_body("POST", "/v1/forms", ct, "--b0undary\r\ngarbage"),
    )
    .await;
    assert_eq!(answer.status, 400);
}

#[tokio::test]
async fn schema_dialects_follow_the_document_version() {
    let v31 = kitchen();
    let v30 = fixture_layer("local/nullable30.yaml", Options::default());
    // (layer, body, status)
    let rows: &[(&oasgate::OpenApiLayer, &str, &str, u16)] = &[
        (&v31, "/v1/nullable", r#"{"a": null}"#, 200),
        (&v31, "/v1/nullable", r#"{"b": null}"#, 400), // `nullable` is not a 3.1 keyword
        (&v31, "/v1/nullable", r#"{"c": 0}"#, 400),
        (&v31, "/v1/nullable", r#"{"c": 0.1}"#, 200),
        (&v31, "/v1/nullable", r#"{"d": "other"}"#, 400),
        (&v30, "/nullable", r#"{"b": null}"#, 200),
        // OAS 3.0.3: `nullable` "adds "null" to the allowed type"; "Other Schema Object
        // constraints retain their defined behavior": an enum without null refuses it.
        (&v30, "/nullable", r#"{"e": null}"#, 400),
        (&v30, "/nullable", r#"{"e": "z"}"#, 400),
        (&v30, "/nullable", r#"{"f": null}"#, 400),
        (&v30, "/nullable", r#"{"c": 0}"#, 400), // exclusiveMinimum: true
        (&v30, "/nullable", r#"{"c": 0.5}"#, 200),
        (&v30, "/nullable", "null", 400),
        (&v30, "/nullable", "[1]", 400),
    ];
    for (layer, uri, body, status) in rows {
        let answer = send(layer, with_body("POST", uri, "application/json", body)).await;
        assert_eq!(answer.status, *status, "{uri} {body}: {}", answer.json);
    }
}

#[tokio::test]
async fn schema_defaults_can_be_filled_into_json_bodies() {
    let spec = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /orders:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [item]
              properties:
                item: {type: string}
                quantity: {type: integer, default: 1}
                shipping:
                  type: object
                  properties:
                    speed: {type: string, default: standard}
      responses: {"200": {description: ok}}
"#;
    let off = layer(spec, Options::default());
    let body = r#"{"item": "pen", "shipping": {}}"#;
    let answer = send(&off, with_body("POST", "/orders", "application/json", body)).await;
    assert_eq!(
        answer.json["body"], body,
        "off by default: the bytes are handed on as sent"
    );
    let on = layer(spec, Options::default().fill_body_defaults(true));
    let mut request = with_body("POST", "/orders", "application/json", body);
    request
        .headers_mut()
        .insert("content-length", body.len().into());
    let answer = send(&on, request).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let seen: serde_json::Value =
        serde_json::from_str(answer.json["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        seen,
        json!({"item": "pen", "quantity": 1, "shipping": {"speed": "standard"}})
    );
    assert_eq!(answer.json["validated"]["body"], seen);
    let length = answer.json["body"].as_str().unwrap().len().to_string();
    assert_eq!(
        answer.json["content_length"], length,
        "Content-Length follows the new body"
    );
}

/// A multipart body with a `title` field and a file of `size` bytes, in 64 KiB frames.
fn upload(title: &str, size: usize) -> (oasgate::body::Body, usize) {
    let head = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let mut frames = vec![bytes::Bytes::from(head)];
    let chunk = bytes::Bytes::from(vec![b'z'; 64 * 1024]);
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        frames.push(chunk.slice(..n));
        left -= n;
    }
    frames.push(bytes::Bytes::from_static(b"\r\n--XyZ--\r\n"));
    let total = frames.iter().map(|f| f.len()).sum();
    let stream = futures_util::stream::iter(
        frames
            .into_iter()
            .map(|f| Ok::<_, std::io::Error>(http_body::Frame::data(f))),
    );
    (
        oasgate::body::Body::new(http_body_util::StreamBody::new(stream)),
        total,
    )
}

#[tokio::test]
async fn multipart_files_stream_through_and_invalid_ones_never_arrive_whole() {
    use http_body_util::BodyExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::{ServiceBuilder, ServiceExt};

    // File parts do not count towards the body limit: only fields are held in memory.
    let layer = fixture_layer("local/kitchen.yaml", Options::default().body_limit(1024));
    let complete = Arc::new(AtomicUsize::new(0));
    let seen = complete.clone();
    let service = ServiceBuilder::new().layer(layer).service_fn(
        move |req: http::Request<oasgate::body::Body>| {
            let seen = seen.clone();
            async move {
                // Count only bodies that arrive complete; an error means the layer cut it off.
                let len = match req.into_body().collect().await {
                    Ok(c) => {
                        seen.fetch_add(1, Ordering::SeqCst);
                        c.to_bytes().len()
                    }
                    Err(_) => 0,
                };
                Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                    bytes::Bytes::from(len.to_string()),
                )))
            }
        },
    );
    let ct = "multipart/form-data; boundary=XyZ";
    let (body, total) = upload("holiday", 8 * 1024 * 1024);
    let request = http::Request::post("/v1/forms")
        .header("content-type", ct)
        .body(body)
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let got = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        got,
        total.to_string(),
        "the inner service read all {total} bytes"
    );
    assert_eq!(complete.load(Ordering::SeqCst), 1);

    // `title` has maxLength 20: refused, and the inner service never gets the whole body.
    let (body, _) = upload(&"t".repeat(21), 1024 * 1024);
    let request = http::Request::post("/v1/forms")
        .header("content-type", ct)
        .body(body)
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        complete.load(Ordering::SeqCst),
        1,
        "no complete invalid body reached the service"
    );

    // Fields beyond the limit: 413.
    let (body, _) = upload(&"t".repeat(2000), 10);
    let request = http::Request::post("/v1/forms")
        .header("content-type", ct)
        .body(body)
        .unwrap();
    assert_eq!(service.oneshot(request).await.unwrap().status(), 413);
}

/// `text/*` bodies under a string schema, checked as that string.
const NOTES: &str = r#"
openapi: 3.1.0
info: {title: notes, version: "1"}
paths:
  /notes:
    post:
      requestBody:
        required: true
        content:
          text/plain: {schema: {type: string, minLength: 1, maxLength: 100}}
      responses: {"200": {description: ok}}
  /codes:
    post:
      requestBody:
        content:
          text/*: {schema: {type: string, pattern: "^[A-Z]{3}$"}}
      responses: {"200": {description: ok}}
  /sizes:
    post:
      requestBody:
        content:
          text/plain: {schema: {type: string, enum: [small, large]}}
      responses: {"200": {description: ok}}
  /raw:
    post:
      requestBody:
        content:
          text/plain: {schema: {type: string, format: binary}}
      responses: {"200": {description: ok}}
"#;

#[tokio::test]
async fn text_bodies_are_checked_as_strings() {
    let layer = layer(NOTES, Options::default().body_limit(300));
    let note = |n: usize| "é".repeat(n);
    // (uri, content type, body bytes, status)
    let rows: Vec<(&str, &str, Vec<u8>, u16)> = vec![
        ("/notes", "text/plain", note(100).into_bytes(), 200),
        // `maxLength` counts characters, not bytes (2020-12 validation §6.3.1).
        ("/notes", "text/plain", note(101).into_bytes(), 400),
        // Sent with its type and no bytes, the body is the string "": present, and refused by
        // `minLength: 1` rather than passed on unread.
        ("/notes", "text/plain", Vec::new(), 400),
        (
            "/notes",
            "text/plain; charset=utf-8",
            b"hello".to_vec(),
            200,
        ),
        (
            "/notes",
            "text/plain; charset=\"UTF-8\"",
            b"hello".to_vec(),
            200,
        ),
        (
            "/notes",
            "text/plain; charset=us-ascii",
            b"hello".to_vec(),
            200,
        ),
        // RFC 9110 §8.3.2: "HTTP uses "charset" names to indicate or negotiate the character
        // encoding scheme ... of a textual representation"; text in a charset oasgate does
        // not decode is refused (415), not passed on unchecked.
        (
            "/notes",
            "text/plain; charset=iso-8859-1",
            b"hello".to_vec(),
            415,
        ),
        (
            "/notes",
            "text/plain; charset=utf-16",
            b"h\0i\0".to_vec(),
            415,
        ),
        // Not UTF-8 (nor the ASCII its charset says): a malformed body.
        ("/notes", "text/plain", vec![b'h', 0xff, b'i'], 400),
        (
            "/notes",
            "text/plain; charset=us-ascii",
            "hé".as_bytes().to_vec(),
            400,
        ),
        // Over the body limit before any schema is looked at.
        ("/notes", "text/plain", vec![b'a'; 301], 413),
        ("/codes", "text/csv", b"ABC".to_vec(), 200),
        ("/codes", "text/csv", b"ABCD".to_vec(), 400),
        ("/codes", "text/plain", b"abc".to_vec(), 400),
        // Not required, but typed: "" is checked, and fails the pattern.
        ("/codes", "text/plain", Vec::new(), 400),
        ("/sizes", "text/plain", b"small".to_vec(), 200),
        ("/sizes", "text/plain", b"medium".to_vec(), 400),
        ("/sizes", "text/plain", b"small\n".to_vec(), 400),
        // `format: binary` is raw bytes, not a string to check.
        ("/raw", "text/plain", vec![0xff, 0xfe], 200),
    ];
    for (uri, content_type, body, status) in rows {
        let request = http::Request::post(uri)
            .header("content-type", content_type)
            .body(oasgate::body::Body::from(bytes::Bytes::from(body.clone())))
            .unwrap();
        let answer = send(&layer, request).await;
        assert_eq!(
            answer.status,
            status,
            "{uri} as {content_type} with {:?}: {}",
            String::from_utf8_lossy(&body),
            answer.json
        );
    }
    // The service reads the bytes sent; the handler finds the text as a string value.
    let answer = send(&layer, with_body("POST", "/notes", "text/plain", "hello\n")).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["body"], "hello\n");
    assert_eq!(answer.json["validated"]["body"], "hello\n");
    let answer = send(
        &layer,
        with_body("POST", "/notes", "text/plain", &note(101)),
    )
    .await;
    assert_eq!(
        answer.json["title"], "Invalid request body",
        "{}",
        answer.json
    );
    let invalid = http::Request::post("/notes")
        .header("content-type", "text/plain")
        .body(oasgate::body::Body::from(bytes::Bytes::from_static(
            b"h\xffi",
        )))
        .unwrap();
    let answer = send(&layer, invalid).await;
    assert_eq!(
        answer.json["title"], "Malformed request body",
        "{}",
        answer.json
    );
}
