//! OpenAPI 3.2 streamed request bodies through the layer: `itemSchema` over JSON Lines,
//! NDJSON, JSON text sequences and server-sent events, and `schema` over a whole sequence.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use oasgate::body::Body;
use oasgate::{Options, Validated};
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt};

use crate::support::*;

const LOG_A: &str = r#"{"timestamp": "1985-04-12T23:20:50.52Z", "level": 1, "message": "Hi!"}"#;
const LOG_B: &str = r#"{"timestamp": "1985-04-12T23:20:51.37Z", "level": 1, "message": "Bye!"}"#;
const BAD_LEVEL: &str = r#"{"timestamp": "1985-04-12T23:20:52Z", "level": -1, "message": "?"}"#;

/// The request body of the OpenAPI 3.2 example "Server-Sent Event Streams" (event names as
/// its schema spells them).
const EVENTS: &str = "event: addString\ndata: This data is formatted\ndata: across two lines\n\
                      retry: 5\n\nevent: addInt64\ndata: 1234.5678\nunknownField: this is \
                      ignored\n\n: This is a comment\nevent: addJson\ndata: {\"foo\": 42}\n";

/// What a row expects: the status, and for a problem its first error's code and pointer and
/// the line in its `location`.
#[derive(Debug)]
enum Want {
    /// Handed on whole: the service read exactly the bytes sent.
    Passed,
    Problem(u16, &'static str, &'static str, Option<u64>),
}

#[tokio::test]
async fn streams_through_the_layer() {
    let layer = fixture_layer("local/streams.yaml", Options::default().body_limit(512));
    let jsonl = format!("{LOG_A}\n{LOG_B}\n");
    let seq = format!("\x1e{LOG_A}\n\x1e{LOG_B}\n");
    let big = format!(
        r#"{{"timestamp": "1985-04-12T23:20:50Z", "level": 1, "message": "{}"}}"#,
        "x".repeat(600)
    );
    let rows: Vec<(&str, &str, String, Want)> = vec![
        ("/logs", "application/jsonl", jsonl.clone(), Want::Passed),
        ("/logs", "application/x-ndjson", jsonl.clone(), Want::Passed),
        ("/logs", "application/json-seq", seq.clone(), Want::Passed),
        // JSON Lines: the last line separator may be left out.
        (
            "/logs",
            "application/jsonl",
            format!("{LOG_A}\n{LOG_B}"),
            Want::Passed,
        ),
        // `itemSchema` "MUST be applied to each item in the stream independently".
        (
            "/logs",
            "application/jsonl",
            format!("{BAD_LEVEL}\n{LOG_A}\n"),
            Want::Problem(400, "minimum", "/0/level", Some(1)),
        ),
        (
            "/logs",
            "application/x-ndjson",
            format!("{LOG_A}\n\n{LOG_B}\n{BAD_LEVEL}\n"),
            Want::Problem(400, "minimum", "/2/level", Some(4)),
        ),
        (
            "/logs",
            "application/jsonl",
            format!("{LOG_A}\n{{\"level\": 1,\n"),
            Want::Problem(400, "json", "/1", Some(2)),
        ),
        (
            "/logs",
            "application/jsonl",
            format!(
                "{LOG_A}\n{{\"timestamp\": \"x\", \"level\": 1, \"message\": \"m\", \"level\": 2}}\n"
            ),
            Want::Problem(400, "duplicate", "/1/level", Some(2)),
        ),
        (
            "/logs",
            "application/json-seq",
            format!("\x1e{LOG_A}\n\x1e{{\"level\": 2}}\n"),
            Want::Problem(400, "required", "/1/timestamp", Some(2)),
        ),
        // RFC 7464: every JSON text follows a record separator.
        (
            "/logs",
            "application/json-seq",
            format!("{LOG_A}\n"),
            Want::Problem(400, "json", "/0", Some(1)),
        ),
        // Each item within `body_limit`.
        (
            "/logs",
            "application/jsonl",
            format!("{LOG_A}\n{big}\n"),
            Want::Problem(413, "tooLong", "/1", Some(2)),
        ),
        // `required: true`: a stream of no bytes is no body.
        (
            "/logs",
            "application/jsonl",
            String::new(),
            Want::Problem(400, "", "", None),
        ),
        (
            "/events",
            "text/event-stream",
            EVENTS.to_owned(),
            Want::Passed,
        ),
        (
            "/events",
            "text/event-stream",
            "event: addString\ndata: a\n\nevent: subtract\ndata: 1\n\n".to_owned(),
            Want::Problem(400, "enum", "/1/event", Some(4)),
        ),
        // `retry` "is modeled as a JSON number"; a value of other than ASCII digits is
        // ignored by the event stream parser, and so never reaches the schema.
        (
            "/events",
            "text/event-stream",
            "event: addInt64\ndata: 7\nretry: soon\n\n".to_owned(),
            Want::Passed,
        ),
        (
            "/events",
            "text/event-stream",
            "event: addInt64\ndata: 7\nid: seven\n\n".to_owned(),
            Want::Problem(400, "pattern", "/0/id", Some(1)),
        ),
        // The generic event schema requires `data`: an event without one is never
        // dispatched, so the stream holds one event, which lacks `event`.
        (
            "/events",
            "text/event-stream",
            "event: addString\n\ndata: x\n\n".to_owned(),
            Want::Problem(400, "required", "/0/event", Some(3)),
        ),
        // A `schema` over a sequential media type reads the stream as one array.
        (
            "/logs/batch",
            "application/jsonl",
            jsonl.clone(),
            Want::Passed,
        ),
        (
            "/logs/batch",
            "application/jsonl",
            format!("{LOG_A}\n{LOG_B}\n{LOG_A}\n{LOG_B}\n"),
            Want::Problem(400, "maxItems", "", None),
        ),
        (
            "/logs/batch",
            "application/json-seq",
            format!("\x1e{LOG_A}\n\x1e{BAD_LEVEL}\n"),
            Want::Problem(400, "minimum", "/1/level", None),
        ),
        (
            "/logs/batch",
            "application/jsonl",
            format!("{LOG_A}\n{LOG_B}\n").repeat(4),
            Want::Problem(413, "", "", None),
        ),
    ];
    for (path, content_type, body, want) in rows {
        let answer = send(&layer, with_body("POST", path, content_type, &body)).await;
        let label = format!("{path} {content_type} {body:?}");
        match want {
            Want::Passed => {
                assert_eq!(answer.status, 200, "{label}: {}", answer.json);
                assert_eq!(answer.json["body"], body.as_str(), "{label}");
            }
            Want::Problem(status, code, pointer, line) => {
                assert_eq!(answer.status, status, "{label}: {}", answer.json);
                assert!(
                    answer.json.get("validated").is_none(),
                    "{label}: {}",
                    answer.json
                );
                if !code.is_empty() {
                    let error = &answer.json["errors"][0];
                    assert_eq!(error["code"], code, "{label}: {}", answer.json);
                    assert_eq!(error["pointer"], pointer, "{label}: {}", answer.json);
                }
                assert_eq!(
                    answer.json["location"]["line"].as_u64(),
                    line,
                    "{label}: {}",
                    answer.json
                );
            }
        }
    }
}

#[tokio::test]
async fn a_batch_reaches_the_handler_as_an_array() {
    let layer = fixture_layer("local/streams.yaml", Options::default());
    let answer = send(
        &layer,
        with_body(
            "POST",
            "/logs/batch",
            "application/jsonl",
            &format!("{LOG_A}\n{LOG_B}\n"),
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let body = &answer.json["validated"]["body"];
    let messages: Vec<&str> = body
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|entry| entry["message"].as_str())
        .collect();
    assert_eq!(messages, ["Hi!", "Bye!"], "{body}");
}

/// A 3.1 document knows no `itemSchema` and no sequential media types: such a body passes
/// unread, as it did before 3.2.
#[tokio::test]
async fn older_documents_pass_sequences_unread() {
    let spec = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /logs:
    post:
      requestBody:
        content:
          application/jsonl:
            itemSchema: {type: object, required: [level]}
      responses:
        "202": {description: ok}
"#;
    let layer = layer(spec, Options::default());
    let body = "{\"message\": \"no level\"}\nnot json\n";
    let answer = send(
        &layer,
        with_body("POST", "/logs", "application/jsonl", body),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["body"], body);
}

/// What the inner service read from a streamed body.
#[derive(Default)]
struct Received {
    frames: Vec<Bytes>,
    error: Option<String>,
}

/// Sends `chunks` through the layer in a body fed by a channel, one chunk at a time. After
/// `handshake` chunks the sender waits until the inner service has read something: a layer
/// that buffered the whole stream would never let it, and the wait would run out.
async fn stream_through(
    chunks: Vec<Vec<u8>>,
    handshake: usize,
) -> (Answer, Arc<Mutex<Received>>, bool) {
    let layer = fixture_layer("local/streams.yaml", Options::default());
    let received = Arc::new(Mutex::new(Received::default()));
    let (tell, mut told) = tokio::sync::mpsc::channel::<()>(1);
    let seen = received.clone();
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(move |request: Request<Body>| {
            let (seen, tell) = (seen.clone(), tell.clone());
            async move {
                assert!(request.extensions().get::<Validated>().is_some());
                let mut body = request.into_body();
                while let Some(frame) = body.frame().await {
                    match frame {
                        Ok(frame) => {
                            if let Ok(data) = frame.into_data() {
                                seen.lock().unwrap().frames.push(data);
                                let _ = tell.try_send(());
                            }
                        }
                        Err(e) => {
                            seen.lock().unwrap().error = Some(e.to_string());
                            break;
                        }
                    }
                }
                Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                    Bytes::from_static(b"{\"inner\": true}"),
                )))
            }
        });
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((Ok::<_, std::io::Error>(Frame::data(Bytes::from(chunk))), rx))
    });
    let request = Request::post("/logs")
        .header("content-type", "application/jsonl")
        .body(Body::new(StreamBody::new(stream)))
        .unwrap();
    let sender = tokio::spawn(async move {
        let mut streamed = true;
        for (n, chunk) in chunks.into_iter().enumerate() {
            if n == handshake {
                streamed = tokio::time::timeout(Duration::from_secs(10), told.recv())
                    .await
                    .is_ok();
            }
            if tx.send(chunk).await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        streamed
    });
    let response = tokio::time::timeout(Duration::from_secs(20), service.oneshot(request))
        .await
        .expect("an answer within 20 s")
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let streamed = sender.await.unwrap();
    (
        Answer {
            status,
            headers,
            json,
        },
        received,
        streamed,
    )
}

/// Items arrive a few bytes at a time, split anywhere: the inner service reads each item only
/// once it is whole and checked, and reads the first before the last has been sent.
#[tokio::test]
async fn slow_streams_are_handed_on_item_by_item() {
    let items = [LOG_A, LOG_B, LOG_A, LOG_B];
    let stream: String = items.iter().map(|i| format!("{i}\n")).collect();
    let chunks: Vec<Vec<u8>> = stream.as_bytes().chunks(7).map(<[u8]>::to_vec).collect();
    // The sender stops after the chunk that ends the first item until the service has read.
    let second = LOG_A.len() / 7 + 1;
    let (answer, received, streamed) = stream_through(chunks, second).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json, json!({"inner": true}));
    assert!(
        streamed,
        "the first item reached the service before the rest was sent"
    );
    let received = received.lock().unwrap();
    assert_eq!(received.error, None);
    let got: Vec<u8> = received.frames.concat();
    assert_eq!(String::from_utf8_lossy(&got), stream);
    for frame in &received.frames {
        assert!(frame.ends_with(b"\n"), "a frame of whole items: {frame:?}");
    }
}

/// A bad item after good ones: the service has read the good ones, then its body ends with an
/// error — it never reads the bad item — and the client gets the item's problem.
#[tokio::test]
async fn a_bad_item_mid_stream_ends_the_inner_body() {
    let stream = format!("{LOG_A}\n{LOG_B}\n{BAD_LEVEL}\n{LOG_A}\n");
    let chunks: Vec<Vec<u8>> = stream.as_bytes().chunks(5).map(<[u8]>::to_vec).collect();
    let (answer, received, streamed) = stream_through(chunks, LOG_A.len() / 5 + 2).await;
    assert!(streamed);
    assert_eq!(answer.status, 400, "{}", answer.json);
    assert_eq!(answer.json["errors"][0]["pointer"], "/2/level");
    assert_eq!(answer.json["location"]["line"], 3);
    // 1-based: the character after the two lines before it.
    let character = LOG_A.len() + LOG_B.len() + 3;
    assert_eq!(answer.json["location"]["character"], character);
    assert_eq!(
        answer.json["detail"],
        "item 2 (line 3): body `/2/level`: expected ≥ 0, got `-1`"
    );
    let received = received.lock().unwrap();
    let got = String::from_utf8(received.frames.concat()).unwrap();
    assert_eq!(got, format!("{LOG_A}\n{LOG_B}\n"));
    let error = received.error.as_deref().unwrap_or_default();
    assert!(error.contains("item 2 (line 3)"), "{error}");
}

/// An `itemSchema` is a Schema Object: one that cannot be compiled, or whose reference
/// names nothing, is reported at load with its pointer, as a `schema` is.
#[test]
fn broken_item_schemas_are_refused_at_load() {
    let doc = |item_schema: &str| {
        format!(
            r#"
openapi: 3.2.0
info: {{title: t, version: "1"}}
paths:
  /logs:
    post:
      requestBody:
        content:
          application/jsonl:
            itemSchema: {item_schema}
      responses:
        "202": {{description: ok}}
"#
        )
    };
    let at = "/paths/~1logs/post/requestBody/content/application~1jsonl/itemSchema";
    let rows: Vec<(&str, &str, &str)> = vec![
        ("{type: 7}", at, "type"),
        ("{minLength: -1}", at, "less than the minimum of 0"),
        (
            "{$ref: '#/components/schemas/Missing'}",
            at,
            "#/components/schemas/Missing",
        ),
    ];
    for (schema, pointer, says) in rows {
        let text = doc(schema);
        let error = oasgate::Document::from_str(&text)
            .map_err(|e| e.to_string())
            .and_then(|doc| {
                oasgate::OpenApiLayer::with_options(&doc, Options::default())
                    .map(|_| ())
                    .map_err(|e| {
                        e.problems()
                            .iter()
                            .map(|p| format!("{} {}", p.pointer, p.message))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
            })
            .expect_err(schema);
        assert!(error.contains(pointer), "{schema}: {error}");
        assert!(error.contains(says), "{schema}: {error}");
    }
}

/// Report-only: a stream read whole is checked item by item, and handed on whole with the
/// rejection it would have answered.
#[tokio::test]
async fn report_only_hands_refused_streams_on_whole() {
    let layer = fixture_layer("local/streams.yaml", Options::default().enforce(false));
    let rows: Vec<(String, Option<Vec<oasgate::FieldCode>>)> = vec![
        (format!("{LOG_A}\n{LOG_B}\n"), None),
        (
            format!("{LOG_A}\n{BAD_LEVEL}\n"),
            Some(vec![oasgate::FieldCode::Minimum]),
        ),
        (
            format!("{LOG_A}\n{{\n"),
            Some(vec![oasgate::FieldCode::Json]),
        ),
    ];
    for (body, want) in rows {
        let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
            |request: Request<Body>| async move {
                let codes = request
                    .extensions()
                    .get::<oasgate::Rejection>()
                    .map(|r| r.codes.clone());
                let bytes = request.into_body().collect().await.unwrap().to_bytes();
                let seen = json!({"codes": codes, "body": String::from_utf8_lossy(&bytes)});
                Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                    Bytes::from(seen.to_string()),
                )))
            },
        );
        let request = with_body("POST", "/logs", "application/jsonl", &body);
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{body:?}");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let seen: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(seen["codes"], json!(want), "{body:?}");
        assert_eq!(seen["body"], body.as_str(), "{body:?}");
    }
}
