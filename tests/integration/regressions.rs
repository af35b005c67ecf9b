//! Requests that outside clients (schemathesis) and fuzzing showed oasgate got wrong, kept as
//! regression tests.

use std::time::Duration;

use oasgate::{Document, Options};
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
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["validated"]["body"]["note"],
        json!(["one", "two"])
    );
}

#[test]
fn a_ref_to_a_device_is_refused_not_read() {
    let spec =
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: '/dev/zero#/x'\n";
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(Document::from_str(spec).map(|_| ()));
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
