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
