//! Requests that outside clients (schemathesis) and fuzzing showed oasgate got wrong, kept as
//! regression tests.

use std::time::Duration;

use oasgate::{Document, OpenApiLayer, Options};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn integers_beyond_64_bits() {
    let petstore = fixture_layer("oai/v3.0-petstore-expanded.yaml", Options::default());
    let kitchen = kitchen();
    // (layer, uri, status, the coerced value when it passes)
    let rows = [
        (
            &petstore,
            "/v2/pets/-9223372036854775808",
            200,
            Some(json!(i64::MIN)),
        ),
        // Rounded to a double, this one would be -2^63 again and pass `format: int64`.
        (&petstore, "/v2/pets/-9223372036854775809", 400, None),
        (&petstore, "/v2/pets/9223372036854775808", 400, None),
        (&petstore, "/v2/pets/18446744073709551616", 400, None),
        // No format: any integer is valid; beyond 64 bits it becomes a whole double.
        (
            &kitchen,
            "/v1/reports/428571420610059698176-3",
            200,
            Some(json!(428571420610059698176.0_f64)),
        ),
    ];
    for (layer, uri, status, value) in rows {
        let answer = send(layer, get(uri)).await;
        assert_eq!(answer.status, status, "{uri}: {}", answer.json);
        if let Some(value) = value {
            let path = &answer.json["validated"]["path"];
            let got = path.get("id").or_else(|| path.get("year"));
            assert_eq!(got, Some(&value), "{uri}: {}", answer.json);
        } else {
            assert_eq!(answer.json["errors"][0]["in"], "path", "{uri}");
        }
    }
}

#[tokio::test]
async fn form_bodies_split_encoded_delimiters() {
    // Form encoders escape the `,` of a non-exploded list like everything else.
    let answer = send(
        &kitchen(),
        with_body(
            "POST",
            "/v1/forms",
            "application/x-www-form-urlencoded",
            "age=1&ids=1%2C2,3&tags=a%2Cb",
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["validated"]["body"],
        json!({"age": 1, "ids": [1, 2, 3], "tags": ["a,b"]})
    );
}

#[tokio::test]
async fn undeclared_multipart_fields_may_repeat() {
    let part = |name: &str, extra: &str, value: &str| {
        format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n")
    };
    let body = [
        part("title", "", "t"),
        part("file", "; filename=\"a.bin\"", "x"),
        part("note", "", "one"),
        part("note", "", "two"),
        "--B--\r\n".to_owned(),
    ]
    .concat();
    let answer = send(
        &kitchen(),
        with_body(
            "POST",
            "/v1/forms",
            "multipart/form-data; boundary=B",
            &body,
        ),
    )
    .await;
    // Before the fix the second `note` was a `duplicate` error; multipart bodies stream on,
    // so the service sees exactly what was sent.
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["body"], body);
}

#[test]
fn a_ref_to_a_device_is_refused_not_read() {
    let spec =
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: '/dev/zero#/x'\n";
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(Document::from_str(spec).and_then(|d| OpenApiLayer::new(&d).map(|_| ())));
    });
    let loaded = wait
        .recv_timeout(Duration::from_secs(30))
        .expect("loading finishes instead of reading the device forever");
    let error = loaded.expect_err("a device is not a document");
    assert!(error.to_string().contains("not a regular file"), "{error}");
}

#[test]
fn hostile_documents_fail_cleanly() {
    let laughs = {
        let mut text = String::from(
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        text.push_str("paths: {}\n");
        text
    };
    // (row, document)
    let rows = [
        (
            "deep flow YAML",
            format!("openapi: 3.1.0\nx: {}", "[".repeat(100_000)),
        ),
        (
            "deep block YAML",
            (0..5_000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
        ),
        (
            "deep JSON",
            format!("{{\"openapi\": \"3.1.0\", \"x\": {}", "[".repeat(100_000)),
        ),
        ("billion laughs", laughs),
    ];
    // The stack of a main thread; an optimised build needs a quarter of it.
    const STACK: usize = 8 * 1024 * 1024;
    // Just inside the limits, a deep document loads and compiles.
    let deep_ok = format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\nx-deep: {}{}\npaths:\n  /a:\n    post:\n      requestBody: {{content: {{application/json: {{schema: {}true{}}}}}}}\n      responses: {{'200': {{description: ok}}}}\n",
        "[".repeat(120),
        "]".repeat(120),
        "{items: ".repeat(100),
        "}".repeat(100),
    );
    let loaded = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            Document::from_str(&deep_ok)
                .and_then(|doc| oasgate::OpenApiLayer::new(&doc).map(|_| ()))
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert!(loaded.is_ok(), "{loaded:?}");
    for (name, text) in rows {
        let (done, wait) = std::sync::mpsc::channel();
        // Deep input must fail, not overflow the stack.
        std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || {
                let _ = done.send(Document::from_str(&text).map(|_| ()));
            })
            .unwrap();
        let loaded = wait
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{name}: loading did not finish"));
        let error = loaded.expect_err(name);
        assert!(!error.problems().is_empty(), "{name}");
    }
}

/// Arrays whose checks once cost more than their size: every failing item formatted a
/// message, and `uniqueItems` compared every pair.
const ARRAYS: &str = r#"
openapi: 3.1.0
info: {title: arrays, version: "1"}
paths:
  /simple:
    post:
      requestBody: {content: {application/json: {schema: {type: array, uniqueItems: true, items: {type: string, enum: [a, b]}}}}}
      responses: {"200": {description: ok}}
  /objects:
    post:
      requestBody: {content: {application/json: {schema: {type: object, properties: {x: {type: array, items: {type: object, required: [k]}}}}}}}
      responses: {"200": {description: ok}}
  /unique:
    post:
      requestBody: {content: {application/json: {schema: {type: array, uniqueItems: true}}}}
      responses: {"200": {description: ok}}
"#;

#[tokio::test]
async fn many_bad_items_are_counted_not_described() {
    let layer = layer(ARRAYS, Options::default());
    let thousand_numbers = format!("[{}0]", "0,".repeat(999));
    let thousand_objects = format!("{{\"x\": [{}{{}}]}}", "{},".repeat(999));
    for (uri, body) in [
        ("/simple", thousand_numbers),
        ("/objects", thousand_objects),
    ] {
        let answer = send(&layer, with_body("POST", uri, "application/json", &body)).await;
        assert_eq!(answer.status, 400, "{uri}");
        let listed = answer.json["errors"].as_array().map_or(0, Vec::len);
        let omitted = answer.json["errorsOmitted"].as_u64().unwrap_or(0);
        assert_eq!(listed, 20, "{uri}: {}", answer.json);
        // Each item of /simple breaks `type` and `enum`, and the array breaks `uniqueItems`.
        let total = if uri == "/simple" { 2001 } else { 1000 };
        assert_eq!(listed as u64 + omitted, total, "{uri}: {}", answer.json);
        let detail = answer.json["detail"].as_str().unwrap_or_default();
        assert!(
            detail.ends_with(&format!("(and {} more)", total - 1)),
            "{uri}: {detail}"
        );
    }
}

#[tokio::test]
async fn unique_items_is_linear() {
    let layer = layer(ARRAYS, Options::default());
    // Pairwise comparison would take billions of steps here; the bound only catches that.
    let distinct: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let rows = [
        (format!("[{}]", distinct.join(",")), 200, None),
        (
            format!("[{},17.0]", distinct.join(",")),
            400,
            Some("items at index 17 and 100000 are equal"),
        ),
        (
            r#"[{"a": 1, "b": [1, 2]}, {"b": [1.0, 2], "a": 1}]"#.to_owned(),
            400,
            Some("index 0 and 1"),
        ),
        (
            r#"[{"a": 1}, {"a": 2}, [1, 2], [2, 1], 0, -0.0]"#.to_owned(),
            400,
            Some("index 4 and 5"),
        ),
    ];
    for (body, status, detail) in rows {
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            send(
                &layer,
                with_body("POST", "/unique", "application/json", &body),
            ),
        )
        .await
        .expect("uniqueItems answers within the bound");
        assert_eq!(answer.status, status, "{}", answer.json);
        if let Some(detail) = detail {
            let shown = answer.json.to_string();
            assert!(shown.contains(detail), "{shown}");
        }
    }
}

/// OAS 3.0 `nullable` under an `enum` that does not list null.
const NULLABLE_ENUM: &str = r##"
openapi: 3.0.3
info: {title: nullable, version: "1"}
paths:
  /orders:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                size: {type: string, nullable: true, enum: [small, large]}
                colour: {type: string, nullable: true, enum: [red, null]}
                note: {type: string, nullable: true}
      responses: {"200": {description: ok}}
  /sizes:
    post:
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: "#/components/schemas/Size"}}
      responses: {"200": {description: ok}}
components:
  schemas:
    Size: {type: string, nullable: true, enum: [small, large]}
"##;

#[tokio::test]
async fn nullable_widens_the_type_not_the_enum() {
    // OAS 3.0.3, Schema Object, `nullable`: "A true value adds "null" to the allowed type
    // specified by the type keyword, only if type is explicitly defined within the same Schema
    // Object. Other Schema Object constraints retain their defined behavior, and therefore may
    // disallow the use of null as a value."
    let layer = layer(NULLABLE_ENUM, Options::default());
    // (uri, body, status): each body goes through the text walk and, when refused there, the
    // full check.
    let rows = [
        ("/orders", r#"{"size": "small"}"#, 200),
        ("/orders", r#"{"size": null}"#, 400),
        ("/orders", r#"{"size": "medium"}"#, 400),
        ("/orders", r#"{"colour": null}"#, 200),
        ("/orders", r#"{"colour": "blue"}"#, 400),
        ("/orders", r#"{"note": null}"#, 200),
        ("/sizes", r#""large""#, 200),
        ("/sizes", "null", 400),
    ];
    for (uri, body, status) in rows {
        let answer = send(&layer, with_body("POST", uri, "application/json", body)).await;
        assert_eq!(answer.status, status, "{uri} {body}: {}", answer.json);
    }
    let answer = send(
        &layer,
        with_body("POST", "/orders", "application/json", r#"{"size": null}"#),
    )
    .await;
    assert_eq!(
        answer.json["errors"][0]["pointer"], "/size",
        "{}",
        answer.json
    );
}
