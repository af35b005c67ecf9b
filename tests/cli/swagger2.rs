//! `check` and `route` on a Swagger 2.0 document.

use serde_json::{Value, json};

use crate::support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[test]
fn check_and_route_read_swagger_2_0() {
    let dir = TempDir::new("swagger2");
    let spec = format!("{FIXTURES}/oai/v2.0-petstore-expanded.yaml");
    let (code, out, _) = run(&dir.0, &["check", &spec]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with(": ok (OpenAPI 2.0)\n"), "{out}");

    // `collectionFormat: csv` under the `basePath`.
    let (code, out, _) = run(
        &dir.0,
        &["route", &spec, "GET", "/api/pets?tags=a,b&limit=3"],
    );
    assert_eq!(code, 0, "{out}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["operation"], "findPets");
    assert_eq!(answer["validated"]["query"]["tags"], json!(["a", "b"]));
    let (code, out, _) = run(&dir.0, &["route", &spec, "GET", "/api/pets?limit=x"]);
    assert_eq!(code, 1, "{out}");

    // Problems name the 2.0 file, line and pointer.
    dir.write(
        "bad.yaml",
        "swagger: \"2.0\"\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - {name: h, in: header, type: array, items: {type: string}, collectionFormat: multi}\n      responses: {}\n",
    );
    let (code, out, _) = run(&dir.0, &["check", "bad.yaml", "--format", "json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{out}");
    assert_eq!(problems[0]["line"], 7);
    assert_eq!(
        problems[0]["pointer"],
        "/paths/~1a/get/parameters/0/collectionFormat"
    );
}

/// `oasgate serve` in front of a real upstream with a Girder-style 2.0 document and
/// `options.paging: girder` from the config file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_proxies_a_girder_2_0_document_with_girder_paging() {
    let fixture =
        std::fs::read_to_string(format!("{FIXTURES}/local/girder-swagger2.yaml")).unwrap();
    // No model loader in the binary: the `x-model` mark goes.
    let spec = fixture.replace(", x-model: folder", "").replace(
        "girder-swagger2-defs.yaml#/definitions/ItemUpdate",
        "#/definitions/Item",
    );
    // (paging key, request query, query the upstream receives)
    let rows = [
        (
            "girder",
            "sort=name,-size",
            "limit=50&offset=0&sort=name%2C-size",
        ),
        (
            "declared",
            "sort=name,-size",
            "limit=50&offset=0&sort=name%2C-size&sortdir=1",
        ),
        (
            "girder",
            "text=%20hi%20&sort=%20size%20&sortdir=-1",
            "text=hi&limit=50&offset=0&sort=size&sortdir=-1",
        ),
    ];
    for (paging, query, want) in rows {
        let dir = TempDir::new("swagger2-serve");
        let upstream = Upstream::start().await;
        dir.write("girder.yaml", &spec);
        dir.write(
            "oasgate.yaml",
            &format!(
                "spec: girder.yaml\noptions:\n  paging: {paging}\nserver:\n  upstream: {}\n",
                upstream.url()
            ),
        );
        let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
        let answer = get(&gateway.url(&format!("/api/v1/item?{query}"))).await;
        assert_eq!(answer.status, 200, "{paging} ?{query}: {}", answer.text);
        let seen = upstream.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0].uri,
            format!("/api/v1/item?{want}"),
            "{paging} ?{query}"
        );
        // Refused before the upstream: a 2.0 pattern on the path parameter.
        let bad = get(&gateway.url("/api/v1/item/nope")).await;
        assert_eq!(bad.status, 400, "{}", bad.text);
        assert_eq!(upstream.seen().len(), 1);
        // The served document is the 2.0 text.
        let served = get(&gateway.url("/openapi.json")).await.json();
        assert_eq!(served["swagger"], "2.0");
    }
}
