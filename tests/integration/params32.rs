//! OpenAPI 3.2 parameters through the layer: `in: querystring` (form and JSON), `style:
//! cookie`, and 3.2's security additions (a requirement naming its scheme by URI, a deprecated
//! scheme, the OAuth2 device authorization flow), with the load-time refusals of the MUSTs.

use oasgate::{Document, OpenApiLayer, Options, UndeclaredParams};
use serde_json::{Value, json};

use crate::support::*;

fn params32(options: Options) -> OpenApiLayer {
    fixture_layer("local/params32.yaml", options)
}

/// What a row expects: the handler's `querystring` and `query`, or the first error's
/// (status, code, name, pointer).
enum Want {
    Passed(Value, Value),
    Refused(u16, &'static str, &'static str, &'static str),
}
use Want::{Passed, Refused};

async fn run_rows(layer: &OpenApiLayer, rows: &[(&str, &[(&str, &str)], Want)]) {
    for (uri, headers, want) in rows {
        let answer = send(layer, get_with(uri, headers)).await;
        match want {
            Passed(querystring, query) => {
                assert_eq!(answer.status, 200, "{uri}: {}", answer.json);
                let validated = &answer.json["validated"];
                assert_eq!(&validated["querystring"], querystring, "{uri}");
                assert_eq!(&validated["query"], query, "{uri}");
            }
            Refused(status, code, name, pointer) => {
                assert_eq!(answer.status.as_u16(), *status, "{uri}: {}", answer.json);
                if code.is_empty() {
                    // Refused before parameters (credentials): no field errors.
                    assert_eq!(answer.json["errors"], Value::Null, "{uri}");
                    continue;
                }
                let e = &answer.json["errors"][0];
                assert_eq!(e["code"], *code, "{uri}: {}", answer.json);
                assert_eq!(e["name"], *name, "{uri}: {}", answer.json);
                assert_eq!(
                    e["pointer"].as_str().unwrap_or(""),
                    *pointer,
                    "{uri}: {}",
                    answer.json
                );
                let detail = e["detail"].as_str().unwrap_or("");
                assert!(
                    detail.starts_with(char::is_lowercase) || detail.starts_with('`'),
                    "{uri}: {detail}"
                );
            }
        }
    }
}

/// `in: querystring` with `application/x-www-form-urlencoded`: read "in the same way as with
/// request bodies of that media type" (3.2, "Parameter Locations").
#[tokio::test]
async fn form_querystring() {
    // Rejecting undeclared query parameters changes nothing: the querystring parameter
    // declares the whole query, and only its schema (`additionalProperties: false`) refuses.
    for options in [
        Options::default(),
        Options::default().undeclared_query(UndeclaredParams::Reject),
    ] {
        let layer = params32(options);
        let rows: &[(&str, &[(&str, &str)], Want)] = &[
            (
                "/search?q=red+shoe&page=2",
                &[],
                Passed(
                    json!({"q": "red shoe", "page": 2}),
                    json!({"q": "red shoe", "page": 2}),
                ),
            ),
            // The 3.2 example: `foo=a+%2B+b` is `a + b`.
            (
                "/search?q=a+%2B+b",
                &[],
                Passed(json!({"q": "a + b"}), json!({"q": "a + b"})),
            ),
            // `%26` and `%3D` are data, not separators.
            (
                "/search?q=salt%26pepper%3Dyes",
                &[],
                Passed(
                    json!({"q": "salt&pepper=yes"}),
                    json!({"q": "salt&pepper=yes"}),
                ),
            ),
            // A repeated name is an array where the schema says array ...
            (
                "/search?q=x&tags=a&tags=b%20c",
                &[],
                Passed(
                    json!({"q": "x", "tags": ["a", "b c"]}),
                    json!({"q": "x", "tags": ["a", "b c"]}),
                ),
            ),
            (
                "/search?q=x&tags=solo",
                &[],
                Passed(
                    json!({"q": "x", "tags": ["solo"]}),
                    json!({"q": "x", "tags": ["solo"]}),
                ),
            ),
            // ... and a duplicate where it does not.
            (
                "/search?q=x&q=y",
                &[],
                Refused(400, "duplicate", "criteria", "/q"),
            ),
            // The Encoding Object's `explode: false`: a comma-separated list.
            (
                "/search?q=x&sizes=38,39",
                &[],
                Passed(
                    json!({"q": "x", "sizes": [38, 39]}),
                    json!({"q": "x", "sizes": [38, 39]}),
                ),
            ),
            (
                "/search?q=x&sizes=38,big",
                &[],
                Refused(400, "type", "criteria", "/sizes"),
            ),
            (
                "/search?q=x&page=0",
                &[],
                Refused(400, "minimum", "criteria", "/page"),
            ),
            (
                "/search?q=x&exact=yes",
                &[],
                Refused(400, "type", "criteria", "/exact"),
            ),
            (
                "/search?q=",
                &[],
                Refused(400, "minLength", "criteria", "/q"),
            ),
            (
                "/search?page=1",
                &[],
                Refused(400, "required", "criteria", "/q"),
            ),
            // `additionalProperties: false` over the whole query.
            (
                "/search?q=x&colour=red",
                &[],
                Refused(400, "additionalProperties", "criteria", ""),
            ),
            // Required, and the query string is empty.
            ("/search", &[], Refused(400, "required", "criteria", "")),
            ("/search?", &[], Refused(400, "required", "criteria", "")),
            // A raw `;` may be read as a separator by the service.
            ("/search?q=a;b", &[], Refused(400, "delimiter", "q", "")),
            (
                "/search?q=a%3Bb",
                &[],
                Passed(json!({"q": "a;b"}), json!({"q": "a;b"})),
            ),
            // The API key in the query belongs to its security scheme, not the form.
            (
                "/exports?format=csv&api_key=k1",
                &[],
                Passed(json!({"format": "csv"}), json!({"format": "csv"})),
            ),
            ("/exports?format=csv", &[], Refused(401, "", "", "")),
            (
                "/exports?format=pdf&api_key=k1",
                &[],
                Refused(400, "enum", "criteria", "/format"),
            ),
            // Only the key: the criteria are an empty form.
            ("/exports?api_key=k1", &[], Passed(json!({}), json!({}))),
        ];
        run_rows(&layer, rows).await;
    }
}

/// `in: querystring` with `application/json`: "the query string percent-decoded then parsed",
/// as the 3.2 example serializes `{"numbers":[1,2],"flag":null}`.
#[tokio::test]
async fn json_querystring() {
    let layer = params32(Options::default().undeclared_query(UndeclaredParams::Reject));
    let rows: &[(&str, &[(&str, &str)], Want)] = &[
        (
            "/reports?%7B%22numbers%22%3A%5B1%2C2%5D%2C%22flag%22%3Anull%7D",
            &[],
            Passed(json!({"numbers": [1, 2], "flag": null}), json!({})),
        ),
        // Characters a query may hold need no encoding.
        (
            "/reports?{%22numbers%22:[3]}",
            &[],
            Passed(json!({"numbers": [3]}), json!({})),
        ),
        // `+` is not a space outside form content: `1e 2` would not be JSON, `1e+2` is 100.
        (
            "/reports?%7B%22numbers%22%3A%5B1e+2%5D%7D",
            &[],
            Passed(json!({"numbers": [100.0]}), json!({})),
        ),
        (
            "/reports?%7B%22numbers%22%3A%5B%221%22%5D%7D",
            &[],
            Refused(400, "type", "json", "/numbers/0"),
        ),
        (
            "/reports?%7B%22flag%22%3Atrue%7D",
            &[],
            Refused(400, "required", "json", "/numbers"),
        ),
        (
            "/reports?%7B%22numbers%22%3A%5B%5D%2C%22x%22%3A1%7D",
            &[],
            Refused(400, "additionalProperties", "json", ""),
        ),
        ("/reports?numbers=1", &[], Refused(400, "json", "json", "")),
        (
            "/reports?%7B%22numbers%22",
            &[],
            Refused(400, "json", "json", ""),
        ),
        (
            "/reports?%7B%22numbers%22%3A%5B%5D%2C%22numbers%22%3A%5B%5D%7D",
            &[],
            Refused(400, "duplicate", "json", "/numbers"),
        ),
        ("/reports?%FF", &[], Refused(400, "encoding", "json", "")),
        // Forwarded as sent, a raw `;` could split the query for the service.
        (
            "/reports?%7B%22numbers%22%3A%5B%5D%7D;x",
            &[],
            Refused(400, "delimiter", "{\"numbers\":[]};x", ""),
        ),
        // Optional and empty: nothing to check.
        ("/reports", &[], Passed(Value::Null, json!({}))),
        // Another media type: the percent-decoded text, checked as a string.
        (
            "/select?%24.a.b%5B1%3A1%5D",
            &[],
            Passed(json!("$.a.b[1:1]"), json!({})),
        ),
        ("/select?a.b", &[], Refused(400, "pattern", "selector", "")),
    ];
    run_rows(&layer, rows).await;
}

/// The query limits hold for a querystring parameter's query string: a JSON one is one piece.
#[tokio::test]
async fn querystring_within_the_query_limits() {
    let layer = params32(Options::default().param_length_limit(40));
    let short = "/reports?%7B%22numbers%22%3A%5B1%5D%7D";
    let long = "/reports?%7B%22numbers%22%3A%5B1%2C2%2C3%2C4%2C5%2C6%2C7%5D%7D";
    let rows: &[(&str, &[(&str, &str)], Want)] = &[
        (short, &[], Passed(json!({"numbers": [1]}), json!({}))),
        (
            long,
            &[],
            Refused(400, "tooLong", "{\"numbers\":[1,2,3,4,5,6,7]}", ""),
        ),
    ];
    run_rows(&layer, rows).await;
}

/// `style: cookie` reads cookies without percent-decoding; the default `form` decodes.
#[tokio::test]
async fn cookie_style() {
    let layer = params32(Options::default());
    // (Cookie header, the handler's cookies or the first error's (code, name))
    let rows: &[(&str, Result<Value, (&str, &str)>)] = &[
        (
            "theme=dark; density=2",
            Ok(json!({"prefs": {"theme": "dark", "density": 2}})),
        ),
        ("theme=dark; density=%32", Err(("type", "prefs"))),
        ("theme=%64ark", Err(("enum", "prefs"))),
        (
            "recent=ab%2Ccd,ef",
            Ok(json!({"recent": ["ab%2Ccd", "ef"]})),
        ),
        ("recent=ab,c-d", Err(("pattern", "recent"))),
        (
            "greeting=hello%20world",
            Ok(json!({"greeting": "hello world"})),
        ),
        (
            "greeting=%68i; recent=%68i",
            Ok(json!({"greeting": "hi", "recent": ["%68i"]})),
        ),
    ];
    for (cookie, want) in rows {
        let answer = send(&layer, get_with("/preferences", &[("cookie", cookie)])).await;
        match want {
            Ok(cookies) => {
                assert_eq!(answer.status, 200, "{cookie}: {}", answer.json);
                assert_eq!(&answer.json["validated"]["cookie"], cookies, "{cookie}");
            }
            Err((code, name)) => {
                assert_eq!(answer.status, 400, "{cookie}: {}", answer.json);
                let e = &answer.json["errors"][0];
                assert_eq!(
                    (e["code"].as_str(), e["name"].as_str()),
                    (Some(*code), Some(*name)),
                    "{cookie}"
                );
            }
        }
    }
}

/// A requirement naming its scheme by URI, a deprecated scheme (still accepted: "Consumers
/// SHOULD refrain from usage", a hint to clients, not a refusal) and the device flow's bearer
/// token.
#[tokio::test]
async fn security_32() {
    let layer = params32(Options::default());
    let rows: &[(&[(&str, &str)], u16)] = &[
        (&[("authorization", "Bearer device-token")], 200),
        (&[("authorization", "Basic dTpw")], 401),
        (&[("x-legacy-key", "old")], 200),
        (&[], 401),
    ];
    for (headers, status) in rows {
        let answer = send(&layer, get_with("/devices/7", headers)).await;
        assert_eq!(
            answer.status.as_u16(),
            *status,
            "{headers:?}: {}",
            answer.json
        );
    }
}

fn document(version: &str, parameters: &str, extra: &str) -> String {
    format!(
        r#"{{"openapi": "{version}", "info": {{"title": "t", "version": "1"}},
            "paths": {{"/items": {{
                "parameters": [{{"name": "shared", "in": "header", "schema": {{"type": "string"}}}}],
                "get": {{"parameters": {parameters},
                        "responses": {{"200": {{"description": "ok"}}}}{extra}}}}}}},
            "components": {{"securitySchemes": {{"k": {{"type": "apiKey", "in": "header", "name": "k"}}}}}}}}"#
    )
}

const FORM: &str =
    r#""content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}"#;

/// Each MUST of 3.2 on `in: querystring` and security requirement URIs, refused at load with
/// the sentence it breaks and the pointer.
#[test]
fn load_time_refusals() {
    let qs = |extra: &str| format!(r#"{{"name": "q", "in": "querystring", {FORM}{extra}}}"#);
    let rows: Vec<(String, &str, &str, &str)> = vec![
        (
            document(
                "3.2.0",
                &format!(
                    r#"[{}, {{"name": "limit", "in": "query", "schema": {{"type": "integer"}}}}]"#,
                    qs("")
                ),
                "",
            ),
            "/paths/~1items/get/parameters/0",
            "MUST NOT appear in the same operation (or in the operation's path-item) as any `in: \"query\"` parameters",
            "`limit` at `/paths/~1items/get/parameters/1`",
        ),
        (
            document(
                "3.2.0",
                &format!("[{}, {}]", qs(""), qs("").replace("\"q\"", "\"r\"")),
                "",
            ),
            "/paths/~1items/get/parameters/1",
            "MUST NOT appear more than once",
            "the first is at `/paths/~1items/get/parameters/0`",
        ),
        (
            document("3.2.0", &format!("[{}]", qs(r#", "style": "form""#)), ""),
            "/paths/~1items/get/parameters/0/style",
            "These fields MUST NOT be used with `in: \"querystring\"`",
            "`style`",
        ),
        (
            document("3.2.0", &format!("[{}]", qs(r#", "explode": false"#)), ""),
            "/paths/~1items/get/parameters/0/explode",
            "These fields MUST NOT be used with `in: \"querystring\"`",
            "`explode`",
        ),
        (
            document(
                "3.2.0",
                &format!("[{}]", qs(r#", "allowReserved": true"#)),
                "",
            ),
            "/paths/~1items/get/parameters/0/allowReserved",
            "These fields MUST NOT be used with `in: \"querystring\"`",
            "`allowReserved`",
        ),
        (
            document(
                "3.2.0",
                &format!("[{}]", qs(r#", "schema": {"type": "object"}"#)),
                "",
            ),
            "/paths/~1items/get/parameters/0/schema",
            "These fields MUST NOT be used with `in: \"querystring\"`",
            "`schema`",
        ),
        (
            document("3.2.0", r#"[{"name": "q", "in": "querystring"}]"#, ""),
            "/paths/~1items/get/parameters/0",
            "MUST be specified using the `content` field",
            "parameter `q`",
        ),
        (
            document(
                "3.2.0",
                r#"[{"name": "q", "in": "querystring", "content": {"application/json": {}, "text/plain": {}}}]"#,
                "",
            ),
            "/paths/~1items/get/parameters/0/content",
            "The map MUST only contain one entry.",
            "2 entries",
        ),
        (
            document(
                "3.2.0",
                "[]",
                r##", "security": [{"#/components/securitySchemes/nope": []}]"##,
            ),
            "/paths/~1items/get/security/0",
            "Each name or URI MUST correspond to a security scheme",
            "`#/components/securitySchemes/nope`",
        ),
        (
            document(
                "3.2.0",
                "[]",
                r#", "security": [{"other.yaml#/components/securitySchemes/k": []}]"#,
            ),
            "/paths/~1items/get/security/0",
            "Each name or URI MUST correspond to a security scheme",
            "`other.yaml#/components/securitySchemes/k`",
        ),
        // Older versions keep their behaviour: 3.2's constructs are unknown there.
        (
            document("3.1.1", &format!("[{}]", qs("")), ""),
            "/paths/~1items/get/parameters/0",
            "`in` must be path, query, header or cookie",
            "parameter `q`",
        ),
        (
            document(
                "3.1.1",
                r#"[{"name": "c", "in": "cookie", "style": "cookie", "schema": {"type": "string"}}]"#,
                "",
            ),
            "/paths/~1items/get/parameters/0",
            "unknown style `cookie`",
            "parameter `c`",
        ),
        (
            document(
                "3.1.1",
                "[]",
                r##", "security": [{"#/components/securitySchemes/k": []}]"##,
            ),
            "/paths/~1items/get/security/0",
            "unknown scheme `#/components/securitySchemes/k`",
            "security requirement",
        ),
    ];
    for (i, (text, pointer, sentence, naming)) in rows.iter().enumerate() {
        let doc = Document::from_str(text).unwrap_or_else(|e| panic!("row {i}: {e}"));
        let err = match OpenApiLayer::with_options(&doc, Options::default()) {
            Ok(_) => panic!("row {i}: the document was accepted"),
            Err(e) => e,
        };
        let found = err.problems().iter().find(|p| p.pointer == *pointer);
        let Some(problem) = found else {
            panic!("row {i}: no problem at {pointer}: {err}");
        };
        assert!(
            problem.message.contains(sentence),
            "row {i}: {}",
            problem.message
        );
        assert!(
            problem.message.contains(naming),
            "row {i}: {}",
            problem.message
        );
        assert!(
            problem.message.starts_with(char::is_lowercase),
            "row {i}: {}",
            problem.message
        );
    }
}

/// The same constructs load in 3.2: a querystring parameter on a path item's operation beside
/// header parameters, a scheme named by a URI with `./`, `deprecated` on a scheme.
#[test]
fn accepted_at_load() {
    let rows = [
        document(
            "3.2.0",
            &format!(r#"[{{"name": "q", "in": "querystring", {FORM}}}]"#),
            "",
        ),
        document(
            "3.2.0",
            "[]",
            r##", "security": [{"#/components/securitySchemes/k": []}]"##,
        ),
        document(
            "3.2.0",
            r#"[{"name": "c", "in": "cookie", "style": "cookie", "schema": {"type": "string"}}]"#,
            "",
        ),
    ];
    for (i, text) in rows.iter().enumerate() {
        let doc = Document::from_str(text).unwrap_or_else(|e| panic!("row {i}: {e}"));
        if let Err(e) = OpenApiLayer::with_options(&doc, Options::default()) {
            panic!("row {i}: {e}");
        }
    }
}

/// A requirement naming a Security Scheme in another file by URI (3.2: "or be the URI of a
/// Security Scheme Object"), relative to the entry document, with and without `./`.
#[tokio::test]
async fn security_scheme_in_another_file() {
    let main = r#"
openapi: 3.2.0
info: {title: partners, version: '1'}
paths:
  /orders:
    get:
      security:
        - './common.yaml#/components/securitySchemes/partnerKey': []
      parameters:
        - $ref: 'common.yaml#/components/parameters/Page'
      responses:
        '200': {description: ok}
  /invoices:
    get:
      security:
        - 'common.yaml#/components/securitySchemes/partnerToken': []
      responses:
        '200': {description: ok}
"#;
    let common = r#"
openapi: 3.2.0
info: {title: common, version: '1'}
components:
  parameters:
    Page: {name: page, in: query, schema: {type: integer}}
  securitySchemes:
    partnerKey: {type: apiKey, in: header, name: X-Partner-Key}
    partnerToken:
      type: oauth2
      flows:
        deviceAuthorization:
          deviceAuthorizationUrl: https://auth.example.com/device
          tokenUrl: https://auth.example.com/token
          scopes: {}
"#;
    let dir = Scratch::new(
        "params32-schemes",
        &[("main.yaml", main), ("common.yaml", common)],
    );
    let doc = Document::from_path(dir.0.join("main.yaml")).expect("loads");
    let layer = OpenApiLayer::with_options(&doc, Options::default()).expect("compiles");
    let rows: &[(&str, &[(&str, &str)], u16)] = &[
        ("/orders", &[("x-partner-key", "p1")], 200),
        ("/orders", &[("authorization", "Bearer t")], 401),
        ("/orders", &[], 401),
        ("/invoices", &[("authorization", "Bearer t")], 200),
        ("/invoices", &[("x-partner-key", "p1")], 401),
    ];
    for (uri, headers, status) in rows {
        let answer = send(&layer, get_with(uri, headers)).await;
        assert_eq!(
            answer.status.as_u16(),
            *status,
            "{uri} {headers:?}: {}",
            answer.json
        );
    }
}
