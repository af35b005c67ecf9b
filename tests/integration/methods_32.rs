//! OpenAPI 3.2's methods through the layer: the Path Item's `query` field (the QUERY method,
//! draft-ietf-httpbis-safe-method-w-body) and its `additionalOperations` map (COPY, LINK,
//! PURGE), routed, validated like any operation, listed in `Allow`, and kept in the served
//! document; what a 3.0 or 3.1 document with those fields gets; the keys refused at load.

use http::Request;
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer, Options, WarningCase};
use serde_json::Value;

use crate::support::*;

fn methods() -> OpenApiLayer {
    fixture_layer("local/methods-32.yaml", Options::default())
}

fn build(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

const JSON: (&str, &str) = ("content-type", "application/json");
const KEY: (&str, &str) = ("x-api-key", "k");

/// Each row: a request, its status, and the operation the service saw or the problem's first
/// error (`in`, `code`, `pointer`).
#[tokio::test]
async fn query_and_additional_operations_are_routed_and_validated() {
    let layer = methods();
    // (method, uri, headers, body, status, operationId reached, or the first error)
    let rows: &[(
        &str,
        &str,
        &[(&str, &str)],
        &str,
        u16,
        Result<&str, (&str, &str, &str)>,
    )] = &[
        // QUERY: a safe method whose search is the body.
        (
            "QUERY",
            "/v1/documents?page=2",
            &[JSON],
            r#"{"text": "rust", "limit": 10}"#,
            200,
            Ok("searchDocuments"),
        ),
        (
            "QUERY",
            "/v1/documents",
            &[JSON],
            r#"{"text": ""}"#,
            400,
            Err(("body", "minLength", "/text")),
        ),
        (
            "QUERY",
            "/v1/documents",
            &[JSON],
            r#"{"text": "a", "limit": 500}"#,
            400,
            Err(("body", "maximum", "/limit")),
        ),
        (
            "QUERY",
            "/v1/documents?page=0",
            &[JSON],
            r#"{"text": "a"}"#,
            400,
            Err(("query", "minimum", "")),
        ),
        // The body is required (the problem names no field).
        ("QUERY", "/v1/documents", &[], "", 400, Err(("", "", ""))),
        // A method is case-sensitive (RFC 9110 §9.1): `query` is not QUERY.
        (
            "query",
            "/v1/documents",
            &[JSON],
            "{}",
            405,
            Err(("", "", "")),
        ),
        (
            "GET",
            "/v1/documents?limit=5",
            &[],
            "",
            200,
            Ok("listDocuments"),
        ),
        // additionalOperations: COPY with a required header and an API key.
        (
            "COPY",
            "/v1/documents/report-1",
            &[KEY, ("destination", "/v1/documents/report-2")],
            "",
            200,
            Ok("copyDocument"),
        ),
        (
            "COPY",
            "/v1/documents/report-1",
            &[KEY],
            "",
            400,
            Err(("header", "required", "")),
        ),
        (
            "COPY",
            "/v1/documents/report-1",
            &[("destination", "/x")],
            "",
            401,
            Err(("", "", "")),
        ),
        // The path item's parameters apply to its additional operations too.
        (
            "COPY",
            "/v1/documents/Report_1",
            &[KEY, ("destination", "/x")],
            "",
            400,
            Err(("path", "pattern", "")),
        ),
        (
            "LINK",
            "/v1/documents/report-1",
            &[JSON],
            r#"{"target": "report-2"}"#,
            200,
            Ok("linkDocument"),
        ),
        (
            "LINK",
            "/v1/documents/report-1",
            &[JSON],
            r#"{"to": "report-2"}"#,
            400,
            Err(("body", "required", "/target")),
        ),
        (
            "LINK",
            "/v1/documents/report-1",
            &[("content-type", "text/plain")],
            "report-2",
            415,
            Err(("", "", "")),
        ),
        (
            "PURGE",
            "/v1/documents/report-1",
            &[KEY],
            "",
            200,
            Ok("purgeDocument"),
        ),
        (
            "PURGE",
            "/v1/documents/report-1",
            &[],
            "",
            401,
            Err(("", "", "")),
        ),
        // Methods the path item does not declare.
        (
            "purge",
            "/v1/documents/report-1",
            &[KEY],
            "",
            405,
            Err(("", "", "")),
        ),
        (
            "UNLINK",
            "/v1/documents/report-1",
            &[],
            "",
            405,
            Err(("", "", "")),
        ),
        (
            "QUERY",
            "/v1/documents/report-1",
            &[JSON],
            "{}",
            405,
            Err(("", "", "")),
        ),
        // HEAD is answered where GET is, as before; never for QUERY alone.
        (
            "HEAD",
            "/v1/documents/report-1",
            &[],
            "",
            200,
            Ok("getDocument"),
        ),
    ];
    for (method, uri, headers, body, status, want) in rows {
        let label = format!("{method} {uri} {headers:?} {body}");
        let answer = send(&layer, build(method, uri, headers, body)).await;
        assert_eq!(answer.status, *status, "{label}: {}", answer.json);
        match want {
            Ok(operation) => {
                assert_eq!(
                    answer.json["validated"]["operationId"], *operation,
                    "{label}: {}",
                    answer.json
                );
            }
            Err(("", _, _)) => {
                assert_eq!(answer.json["status"], *status, "{label}: {}", answer.json);
            }
            Err((place, code, pointer)) => {
                let error = &answer.json["errors"][0];
                assert_eq!(error["in"], *place, "{label}: {}", answer.json);
                assert_eq!(error["code"], *code, "{label}: {}", answer.json);
                assert_eq!(error["pointer"], *pointer, "{label}: {}", answer.json);
            }
        }
    }
}

/// The `Allow` header of a 405 and of the automatic `OPTIONS` answer lists the 3.2 methods
/// (RFC 9110 §10.2.1: "the set of methods advertised as supported by the target resource").
#[tokio::test]
async fn allow_lists_query_and_additional_methods() {
    let layer = methods();
    // (method, path, status, Allow)
    let rows = [
        ("DELETE", "/v1/documents", 405, "GET, HEAD, QUERY, OPTIONS"),
        ("OPTIONS", "/v1/documents", 204, "GET, HEAD, QUERY, OPTIONS"),
        (
            "DELETE",
            "/v1/documents/a",
            405,
            "GET, HEAD, COPY, LINK, PURGE, OPTIONS",
        ),
        (
            "OPTIONS",
            "/v1/documents/a",
            204,
            "GET, HEAD, COPY, LINK, PURGE, OPTIONS",
        ),
    ];
    for (method, path, status, allow) in rows {
        let answer = send(&layer, build(method, path, &[], "")).await;
        assert_eq!(answer.status, status, "{method} {path}");
        assert_eq!(answer.headers["allow"], allow, "{method} {path}");
    }
    // HEAD is answered from a GET (RFC 9110 §9.3.2), never from a QUERY: a path with QUERY
    // alone refuses it.
    let only_query = crate::support::layer(
        r#"
openapi: 3.2.0
info: {title: t, version: "1"}
paths:
  /search:
    query:
      responses: {"200": {description: ok}}
"#,
        Options::default(),
    );
    let answer = send(&only_query, build("HEAD", "/search", &[], "")).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.headers["allow"], "QUERY, OPTIONS");
}

/// The served document keeps `query` and `additionalOperations`, with problem responses added
/// to those operations and their `servers` pointed at where the layer listens.
#[tokio::test]
async fn the_served_document_keeps_the_methods() {
    let layer = fixture_layer("local/methods-32.yaml", Options::default().prefix("/api"));
    let answer = send(&layer, get("/openapi.json")).await;
    assert_eq!(answer.status, 200);
    let doc = &answer.json;
    assert_eq!(doc["openapi"], "3.2.0");
    let query = &doc["paths"]["/documents"]["query"];
    assert_eq!(query["operationId"], "searchDocuments");
    let copy = &doc["paths"]["/documents/{id}"]["additionalOperations"]["COPY"];
    assert_eq!(copy["operationId"], "copyDocument");
    // (operation, status the layer may answer there)
    let rows: [(&Value, &str); 5] = [
        (query, "400"),
        (query, "415"),
        (copy, "401"),
        (copy, "405"),
        (
            &doc["paths"]["/documents/{id}"]["additionalOperations"]["LINK"],
            "415",
        ),
    ];
    for (op, status) in rows {
        assert!(
            op["responses"].get(status).is_some(),
            "{} has no {status}: {}",
            op["operationId"],
            op["responses"]
        );
    }
    let link = &doc["paths"]["/documents/{id}"]["additionalOperations"]["LINK"];
    let url = link["servers"][0]["url"].as_str().unwrap();
    assert!(url.ends_with("/api/v1"), "{url}");
}

/// A `query` field or `additionalOperations` in a 3.0 or 3.1 document is an unknown field, as
/// it was before 3.2 was read: nothing is routed, the request gets what an undeclared method
/// gets, and what such a field holds is not compiled (a broken schema there is no error).
#[tokio::test]
async fn older_versions_keep_ignoring_the_fields() {
    for version in ["3.0.3", "3.1.1"] {
        let spec = format!(
            r#"
openapi: {version}
info: {{title: t, version: "1"}}
paths:
  /documents:
    get:
      responses: {{"200": {{description: ok}}}}
    query:
      requestBody:
        content:
          application/json:
            schema: {{type: object, minProperties: "not a number"}}
      responses: {{"200": {{description: ok}}}}
    additionalOperations:
      POST:
        responses: {{"200": {{description: ok}}}}
      COPY:
        responses: {{"200": {{description: ok}}}}
"#
        );
        let layer = layer(&spec, Options::default());
        // (method, status)
        for (method, status) in [("QUERY", 405), ("COPY", 405), ("POST", 405), ("GET", 200)] {
            let answer = send(&layer, build(method, "/documents", &[JSON], "{}")).await;
            assert_eq!(answer.status, status, "{version} {method}");
        }
        let answer = send(&layer, build("DELETE", "/documents", &[], "")).await;
        assert_eq!(answer.headers["allow"], "GET, HEAD, OPTIONS", "{version}");
        assert!(layer.warnings().is_empty(), "{version}");
        // The same fields in a 3.2 document are operations: compiled, and refused here.
        let doc = Document::from_str(&spec.replace(version, "3.2.0")).unwrap();
        let error = OpenApiLayer::with_options(&doc, Options::default())
            .expect_err("3.2 compiles the fields");
        let pointers: Vec<&str> = error
            .problems()
            .iter()
            .map(|p| p.pointer.as_str())
            .collect();
        assert!(
            pointers.contains(&"/paths/~1documents/additionalOperations/POST")
                && pointers
                    .iter()
                    .any(|p| p.starts_with("/paths/~1documents/query/requestBody")),
            "{error}"
        );
    }
}

/// Keys of `additionalOperations` refused at load: each with its pointer and the sentence it
/// breaks.
#[test]
fn refused_additional_operations() {
    // (additionalOperations, pointer, words in the message)
    let rows: [(&str, &str, &[&str]); 5] = [
        (
            "{POST: {responses: {'200': {description: ok}}}}",
            "/paths/~1a/additionalOperations/POST",
            &["defined by the `post` field", "MUST NOT contain any entry"],
        ),
        (
            "{QUERY: {responses: {'200': {description: ok}}}}",
            "/paths/~1a/additionalOperations/QUERY",
            &["defined by the `query` field", "MUST NOT contain any entry"],
        ),
        (
            "{HEAD: {responses: {'200': {description: ok}}}}",
            "/paths/~1a/additionalOperations/HEAD",
            &["defined by the `head` field"],
        ),
        (
            "{'BAD METHOD': {responses: {'200': {description: ok}}}}",
            "/paths/~1a/additionalOperations/BAD METHOD",
            &["is not an HTTP method", "method = token"],
        ),
        (
            "[COPY]",
            "/paths/~1a/additionalOperations",
            &["must be an object mapping HTTP methods"],
        ),
    ];
    for (map, pointer, words) in rows {
        let spec = format!(
            "openapi: 3.2.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      \
             responses: {{'200': {{description: ok}}}}\n    additionalOperations: {map}\n"
        );
        let doc = Document::from_str(&spec).expect("document loads");
        let error = OpenApiLayer::with_options(&doc, Options::default())
            .err()
            .unwrap_or_else(|| panic!("{map}: compiled"));
        let problem = error
            .problems()
            .iter()
            .find(|p| p.pointer == pointer)
            .unwrap_or_else(|| panic!("{map}: no problem at {pointer}: {error}"));
        for word in words {
            assert!(problem.message.contains(word), "{map}: {}", problem.message);
        }
    }
}

/// A lowercase `post` key is a method of its own ("The map key is the HTTP method with the
/// same capitalization that is to be sent in the request", OpenAPI 3.2; "The method token is
/// case-sensitive", RFC 9110 §9.1): routed for `post` exactly, with the `method-case` warning;
/// an error under `strict`.
#[tokio::test]
async fn a_lowercase_key_is_its_own_method() {
    let spec = r#"
openapi: 3.2.0
info: {title: t, version: "1"}
paths:
  /a:
    additionalOperations:
      post:
        operationId: lowercasePost
        parameters:
          - {name: n, in: query, required: true, schema: {type: integer}}
        responses: {"200": {description: ok}}
"#;
    let layer = layer(spec, Options::default());
    let warnings: Vec<_> = layer.warnings().iter().map(|w| w.case).collect();
    assert_eq!(warnings, [WarningCase::MethodCase]);
    // (method, uri, status)
    for (method, uri, status) in [
        ("post", "/a?n=1", 200),
        ("post", "/a?n=x", 400),
        ("POST", "/a?n=1", 405),
    ] {
        let answer = send(&layer, build(method, uri, &[], "")).await;
        assert_eq!(answer.status, status, "{method} {uri}: {}", answer.json);
    }
    let doc = Document::from_str(spec).unwrap();
    let error = OpenApiLayer::with_options(&doc, Options::default().strict(true))
        .expect_err("strict refuses");
    assert!(error.to_string().contains("method-case"), "{error}");
}

/// Code-first: `Api::openapi_version(Version::V3_2)` emits `query` and `additionalOperations`,
/// which the layer routes and validates; the default stays 3.1, where such a method is a
/// mistake reported with its pointer (a 3.1 path item has no field for it).
#[cfg(feature = "describe")]
#[tokio::test]
async fn described_query_and_custom_methods() {
    use oasgate::Version;
    use oasgate::describe::{Api, Operation, Param};

    /// A search.
    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Search {
        /// What to look for.
        text: String,
    }

    let purge = http::Method::from_bytes(b"PURGE").unwrap();
    let operations = || {
        [
            Operation::get("/documents").operation_id("listDocuments"),
            Operation::query("/documents")
                .operation_id("searchDocuments")
                .param(Param::query::<u32>("page"))
                .body::<Search>("The search."),
            Operation::new(purge.clone(), "/documents").operation_id("purgeDocuments"),
        ]
    };
    let mut api = Api::new("Documents", "1").openapi_version(Version::V3_2);
    for op in operations() {
        api.add(op);
    }
    let json = api.to_value().expect("described");
    assert_eq!(json["openapi"], "3.2.0");
    assert_eq!(
        json["paths"]["/documents"]["query"]["operationId"],
        "searchDocuments"
    );
    assert_eq!(
        json["paths"]["/documents"]["additionalOperations"]["PURGE"]["operationId"],
        "purgeDocuments"
    );
    let layer = OpenApiLayer::new(api.document().unwrap()).unwrap();
    // (method, uri, body, status)
    let rows = [
        ("QUERY", "/documents?page=1", r#"{"text": "a"}"#, 200),
        ("QUERY", "/documents?page=x", r#"{"text": "a"}"#, 400),
        ("QUERY", "/documents", r#"{"words": "a"}"#, 400),
        ("PURGE", "/documents", "", 200),
        ("COPY", "/documents", "", 405),
    ];
    for (method, uri, body, status) in rows {
        let answer = send(&layer, build(method, uri, &[JSON], body)).await;
        assert_eq!(answer.status, status, "{method} {uri}: {}", answer.json);
    }

    // The default is 3.1, and what 3.1 cannot say is a mistake, not a field no one reads.
    let mut api = Api::new("Documents", "1");
    for op in operations() {
        api.add(op);
    }
    let error = api
        .to_value()
        .expect_err("3.1 has no field for QUERY or PURGE");
    let problems: Vec<(&str, bool)> = error
        .problems()
        .iter()
        .map(|p| {
            (
                p.pointer.as_str(),
                p.message.contains("Api::openapi_version(Version::V3_2)"),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [("/paths/~1documents", true), ("/paths/~1documents", true)]
    );
    let three_one = Api::new("Documents", "1")
        .operation(Operation::get("/documents"))
        .to_value()
        .unwrap();
    assert_eq!(three_one["openapi"], "3.1.0");
}

/// Response validation reaches 3.2's operations: `x-oasgate-response-validation` on a QUERY or
/// an additional operation alone turns it on, and the answer is checked against what they
/// declare (the echo service answers an object where an array is declared).
#[tokio::test]
async fn responses_of_query_and_additional_operations_are_validated() {
    for (method, field) in [
        ("QUERY", "query"),
        ("COPY", "additionalOperations:\n      COPY"),
    ] {
        let spec = format!(
            r#"
openapi: 3.2.0
info: {{title: t, version: "1"}}
paths:
  /documents:
    {field}:
        x-oasgate-response-validation: enforce
        responses:
          "200":
            description: the documents
            content:
              application/json:
                schema: {{type: array}}
"#
        );
        let layer = layer(&spec, Options::default());
        let answer = send(&layer, build(method, "/documents", &[], "")).await;
        assert_eq!(answer.status, 500, "{method}: {}", answer.json);
        assert_eq!(
            answer.json["type"], "urn:oasgate:problem:invalid-response",
            "{method}"
        );
    }
}
