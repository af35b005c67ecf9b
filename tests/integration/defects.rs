//! Real-world documents' defects: the ones oasgate works around are warnings (the document
//! loads, each warning says what was done instead), `strict` makes them errors, and what would
//! make a request's verdict ambiguous stays an error. The cases are listed in
//! `docs/documents.md`.

use oasgate::{Document, OpenApiLayer, Options, ResponseValidation, WarningCase};

use crate::support::*;

const RESPONSES: &str = r#"{"200": {"description": "ok"}}"#;

/// A 3.1 document with OpenAPI 3.0's boolean `exclusiveMinimum`.
const EXCLUSIVE_3_1: &str = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
  "paths": {"/a": {"get": {"parameters": [{"name": "n", "in": "query",
    "schema": {"type": "integer", "minimum": 1, "exclusiveMinimum": true}}],
    "responses": {"200": {"description": "ok"}}}}}}"#;

/// A 3.0 document with `paths` as given.
fn v3(paths: &str) -> String {
    format!(r#"{{"openapi": "3.0.3", "info": {{"title": "t", "version": "1"}}, "paths": {paths}}}"#)
}

/// A 2.0 document with `paths` and `extra` top-level members.
fn v2(paths: &str, extra: &str) -> String {
    format!(
        r#"{{"swagger": "2.0", "info": {{"title": "t", "version": "1"}}, "paths": {paths}{extra}}}"#
    )
}

#[test]
fn each_defect_worked_around_is_one_warning_and_an_error_under_strict() {
    let ok = format!(r#"{{"get": {{"responses": {RESPONSES}}}}}"#);
    // (document, case, pointer of the warning)
    let rows: Vec<(String, WarningCase, &str)> = vec![
        // "The field name MUST begin with a forward slash" (3.1 §4.8.8.1).
        (
            v3(&format!(r#"{{"api/x": {ok}, "/ok": {ok}}}"#)),
            WarningCase::PathKey,
            "/paths/api~1x",
        ),
        // 2.0 `basePath`: "The value MUST start with a leading slash".
        (
            v2(
                &format!(r#"{{"/a": {ok}}}"#),
                r#", "basePath": "Your API URL""#,
            ),
            WarningCase::BasePath,
            "/basePath",
        ),
        // 2.0 Parameter Object, `type`: "Required" for every parameter not `in: body`.
        (
            v2(
                &format!(
                    r#"{{"/a": {{"get": {{"parameters": [{{"name": "q", "in": "query"}}], "responses": {RESPONSES}}}}}}}"#
                ),
                "",
            ),
            WarningCase::ParameterType,
            "/paths/~1a/get/parameters/0",
        ),
        (
            v2(
                &format!(
                    r#"{{"/a": {{"get": {{"security": [{{"t": []}}], "responses": {RESPONSES}}}}}}}"#
                ),
                r#", "securityDefinitions": {"t": {"type": "http", "scheme": "bearer"}}"#,
            ),
            WarningCase::ThreeInTwo,
            "/securityDefinitions/t/type",
        ),
        // `content` keys are "a media type or media type range" (3.1 §4.8.13.1).
        (
            v3(&format!(
                r#"{{"/a": {{"post": {{"requestBody": {{"content": {{"": {{}}, "application/json": {{}}}}}}, "responses": {RESPONSES}}}}}}}"#
            )),
            WarningCase::MediaTypeKey,
            "/paths/~1a/post/requestBody/content/",
        ),
        // "Templated paths with the same hierarchy but different templated names MUST NOT
        // exist" (3.1 §4.8.8.2) — with different methods, a request still names one operation.
        (
            v3(&format!(
                r#"{{"/a/{{x}}": {{"get": {{"parameters": [{{"name": "x", "in": "path", "required": true, "schema": {{}}}}], "responses": {RESPONSES}}}}},
                    "/a/{{y}}": {{"delete": {{"parameters": [{{"name": "y", "in": "path", "required": true, "schema": {{}}}}], "responses": {RESPONSES}}}}}}}"#
            )),
            WarningCase::TemplateNames,
            "/paths/~1a~1{y}",
        ),
        // JSON Schema 2020-12: "The value of `exclusiveMinimum` MUST be a number".
        (
            EXCLUSIVE_3_1.to_owned(),
            WarningCase::SchemaKeyword,
            "/paths/~1a/get/parameters/0/schema/exclusiveMinimum",
        ),
        // The same in a response schema, which no request reaches: still found.
        (
            v3(
                r#"{"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "integer", "maximum": 9, "exclusiveMaximum": true}}}}}}}}"#,
            )
            .replace("3.0.3", "3.1.0"),
            WarningCase::SchemaKeyword,
            "/paths/~1a/get/responses/200/content/application~1json/schema/exclusiveMaximum",
        ),
        // A relative server URL is "relative to the location where the document is being
        // served" (3.1 §4.8.5.1), which the gateway does not know.
        (
            format!(
                r#"{{"openapi": "3.0.3", "info": {{"title": "t", "version": "1"}},
                    "servers": [{{"url": "Your API URL"}}, {{"url": "/v1"}}], "paths": {{"/a": {ok}}}}}"#
            ),
            WarningCase::ServerUrl,
            "/servers/0/url",
        ),
        // YAML 1.2 §5.1: C1 control characters are not `c-printable`.
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      description: caf\u{83}\u{82}\n      responses: {'200': {description: ok}}\n".to_owned(),
            WarningCase::ControlCharacters,
            "",
        ),
        // A response schema no request reaches, naming nothing.
        (
            v3(
                r##"{"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Gone"}}}}}}}}"##,
            ),
            WarningCase::UnresolvedRef,
            "/paths/~1a/get/responses/200/content/application~1json/schema",
        ),
    ];
    for (text, case, at) in rows {
        let doc = Document::from_str(&text).unwrap_or_else(|e| panic!("{case:?}: {e}"));
        let layer = OpenApiLayer::new(&doc).unwrap_or_else(|e| panic!("{case:?}: {e}"));
        let found: Vec<_> = layer
            .warnings()
            .iter()
            .map(|w| (w.case, w.at.pointer.as_str()))
            .collect();
        assert_eq!(found, [(case, at)], "{case:?}");
        assert!(
            !layer.warnings()[0].at.message.is_empty(),
            "{case:?}: the warning says what was done"
        );
        let error = OpenApiLayer::with_options(&doc, Options::default().strict(true))
            .expect_err("strict refuses a document with a defect");
        assert_eq!(error.problems().len(), 1, "{case:?}: {error}");
        let problem = &error.problems()[0];
        assert_eq!(problem.pointer, at, "{case:?}");
        assert!(
            problem
                .message
                .ends_with(&format!("(an error under `strict`: {})", case.as_str())),
            "{case:?}: {}",
            problem.message
        );
    }
}

#[test]
fn defects_that_make_a_verdict_ambiguous_stay_errors() {
    let body = |reference: &str| {
        v3(&format!(
            r#"{{"/a": {{"post": {{"requestBody": {{"content": {{"application/json": {{"schema": {{"$ref": "{reference}"}}}}}}}}, "responses": {RESPONSES}}}}}}}"#
        ))
    };
    let param = |name: &str, method: &str| {
        format!(
            r#"{{"{method}": {{"parameters": [{{"name": "{name}", "in": "path", "required": true, "schema": {{}}}}], "responses": {RESPONSES}}}}}"#
        )
    };
    // (document, what the error says)
    let rows = [
        (
            body("#/components/schemas/Gone"),
            "unresolvable `$ref`: `<document>#/components/schemas/Gone` does not exist; a request reaches it",
        ),
        (
            body("./no-such-file.yaml#/Pet"),
            "`$ref` names `./no-such-file.yaml`, which cannot be read",
        ),
        // An operation given by `$ref` (not in the specification, but how some multi-file
        // documents are written): a request reaches what is inside it.
        (
            format!(
                r##"{{"openapi": "3.0.3", "info": {{"title": "t", "version": "1"}},
                    "paths": {{"/a": {{"post": {{"$ref": "#/x-operations/post"}}}}}},
                    "x-operations": {{"post": {{"requestBody": {{"content": {{"application/json": {{"schema": {{"$ref": "#/components/schemas/Gone"}}}}}}}}, "responses": {RESPONSES}}}}}}}"##
            ),
            "unresolvable `$ref`: `<document>#/components/schemas/Gone` does not exist; a request reaches it",
        ),
        (
            v3(&format!(
                r#"{{"/a/{{x}}": {}, "/a/{{y}}": {}}}"#,
                param("x", "get"),
                param("y", "get")
            )),
            "matches the same requests as `/a/{x}` (they differ only in parameter names) and both declare GET",
        ),
    ];
    for (text, message) in rows {
        let doc = Document::from_str(&text).expect("the document parses");
        let error = OpenApiLayer::new(&doc).expect_err(message);
        assert!(
            error.problems().iter().any(|p| p.message.contains(message)),
            "{message}: {error}"
        );
    }
}

#[test]
fn a_response_reference_is_reached_once_responses_are_validated() {
    let text = v3(
        r##"{"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Gone"}}}}}}}}"##,
    );
    let doc = Document::from_str(&text).unwrap();
    assert_eq!(OpenApiLayer::new(&doc).unwrap().warnings().len(), 1);
    let error = OpenApiLayer::with_options(
        &doc,
        Options::default().response_validation(ResponseValidation::Enforce),
    )
    .expect_err("an enforced response schema that names nothing cannot be checked");
    assert!(
        error.to_string().contains("a request reaches it"),
        "{error}"
    );
}

#[tokio::test]
async fn templates_differing_in_names_route_each_method_with_its_own_names() {
    let text = v3(&format!(
        r#"{{"/a/{{x}}": {{"get": {{"parameters": [{{"name": "x", "in": "path", "required": true, "schema": {{"type": "integer"}}}}], "responses": {RESPONSES}}}}},
            "/a/{{y}}": {{"delete": {{"parameters": [{{"name": "y", "in": "path", "required": true, "schema": {{"type": "string", "minLength": 5}}}}], "responses": {RESPONSES}}}}}}}"#
    ));
    let layer = layer(&text, Options::default());
    let answer = send(&layer, get("/a/abc")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["errors"][0]["name"], "x", "{}", answer.json);
    let answer = send(&layer, get("/a/7")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["validated"]["path"]["x"], 7, "{}", answer.json);
    let answer = send(&layer, request("DELETE", "/a/abc")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["errors"][0]["name"], "y", "{}", answer.json);
    let answer = send(&layer, request("DELETE", "/a/abcdef")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json["validated"]["path"]["y"], "abcdef",
        "{}",
        answer.json
    );
    let answer = send(&layer, request("POST", "/a/abcdef")).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.headers["allow"], "GET, HEAD, DELETE, OPTIONS");
}

#[tokio::test]
async fn a_parameter_without_type_takes_any_text() {
    let text = v2(
        &format!(
            r#"{{"/a": {{"get": {{"parameters": [{{"name": "q", "in": "query", "required": true}}], "responses": {RESPONSES}}}}}}}"#
        ),
        "",
    );
    let layer = layer(&text, Options::default());
    let answer = send(&layer, get("/a?q=anything%20at%20all")).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["validated"]["query"]["q"], "anything at all");
    // Still required: the defect is the missing type, not the rest of the parameter.
    assert_eq!(send(&layer, get("/a")).await.status, 400);
}

#[tokio::test]
async fn a_3_0_exclusive_bound_in_a_3_1_schema_is_read_as_3_0_reads_it() {
    let layer = layer(EXCLUSIVE_3_1, Options::default());
    assert_eq!(send(&layer, get("/a?n=1")).await.status, 400);
    assert_eq!(send(&layer, get("/a?n=2")).await.status, 200);
}

#[tokio::test]
async fn an_ignored_server_leaves_the_others() {
    let text = v3(&format!(
        r#"{{"/a": {{"get": {{"responses": {RESPONSES}}}}}}}"#
    ))
    .replacen(
        r#""paths""#,
        r#""servers": [{"url": ","}, {"url": "https://api.example.com/v1"}], "paths""#,
        1,
    );
    let layer = layer(&text, Options::default());
    assert_eq!(layer.warnings().len(), 1);
    assert_eq!(send(&layer, get("/v1/a")).await.status, 200);
    assert_eq!(send(&layer, get("/a")).await.status, 404);
}

/// A layer that serves no document makes its views of the loaded tree itself instead of a
/// copy: the same verdicts and the same findings as a layer that serves it, in 2.0 and 3.0,
/// with a reference that names nothing (a warning: no request reaches it).
#[tokio::test]
async fn a_layer_serving_no_document_checks_the_same() {
    let gone = r##"{"description": "ok", "schema": {"$ref": "#/definitions/Gone"}}"##;
    let documents = [
        v3(
            r##"{"/a": {"get": {"parameters": [{"name": "n", "in": "query", "schema": {"type": "integer"}}],
              "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Gone"}}}}}}}}"##,
        ),
        v2(
            &format!(
                r#"{{"/a": {{"get": {{"parameters": [{{"name": "n", "in": "query", "type": "integer"}}],
                  "responses": {{"200": {gone}}}}}}}}}"#
            ),
            "",
        ),
    ];
    let unserved = || {
        Options::default()
            .openapi_json_path(None)
            .openapi_yaml_path(None)
            .docs_path(None)
    };
    for text in documents {
        let serving = OpenApiLayer::new(Document::from_str(&text).unwrap()).unwrap();
        let alone =
            OpenApiLayer::with_options(Document::from_str(&text).unwrap(), unserved()).unwrap();
        let found = |layer: &OpenApiLayer| -> Vec<String> {
            layer.warnings().iter().map(|w| w.to_string()).collect()
        };
        assert_eq!(found(&serving).len(), 1, "{text}");
        assert_eq!(found(&serving), found(&alone), "{text}");
        for (uri, status) in [("/a?n=1", 200), ("/a?n=one", 400)] {
            assert_eq!(
                send(&serving, get(uri)).await.status,
                status,
                "{uri} {text}"
            );
            assert_eq!(send(&alone, get(uri)).await.status, status, "{uri} {text}");
        }
        let document = send(&serving, get("/openapi.json")).await;
        assert!(document.json.get("paths").is_some(), "{text}");
        let none = send(&alone, get("/openapi.json")).await;
        assert!(none.json.get("paths").is_none(), "{text}");
    }
}
