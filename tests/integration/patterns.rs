//! `pattern` runs on a linear-time regex engine: catastrophic-backtracking patterns answer
//! promptly, and patterns that engine cannot run are refused at start-up.

use std::time::Duration;

use oasgate::{Document, OpenApiLayer, Options};

use crate::support::*;

/// `^(a+)+$` everywhere a pattern can be: a query parameter, a header, a body property, a
/// `patternProperties` key and `propertyNames`.
const CATASTROPHIC: &str = r#"
openapi: 3.1.0
info: {title: patterns, version: "1"}
paths:
  /match:
    post:
      parameters:
        - {name: q, in: query, schema: {type: string, pattern: '^(a+)+$'}}
        - {name: X-Word, in: header, schema: {type: string, pattern: '^(a|aa)+$'}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                word: {type: string, pattern: '^(a+)+$'}
                map:
                  type: object
                  patternProperties: {'^(a+)+$': {type: integer}}
                keys:
                  type: object
                  propertyNames: {pattern: '^(a+)+$'}
      responses: {"200": {description: ok}}
"#;

/// Far beyond what a backtracking engine could finish with these patterns (2^50000 paths).
const LONG: usize = 50_000;

/// A backtracking engine would never answer; the linear one answers at once, so a generous
/// bound only catches a regression (it is not a timing assertion).
const BOUND: Duration = Duration::from_secs(10);

/// Sends `request` on a thread of its own and waits at most [`BOUND`]: the check runs inside
/// the layer's `call`, so a timer polled on the same thread could never interrupt it.
fn answer_within_bound(
    layer: &OpenApiLayer,
    request: http::Request<oasgate::body::Body>,
) -> Option<Answer> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let layer = layer.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let _ = sender.send(runtime.block_on(send(&layer, request)));
    });
    receiver.recv_timeout(BOUND).ok()
}

#[test]
fn catastrophic_patterns_answer_promptly() {
    let layer = layer(
        CATASTROPHIC,
        Options::default().param_length_limit(2 * LONG),
    );
    let evil = format!("{}!", "a".repeat(LONG));
    let good = "a".repeat(LONG);
    // (row, query, header, body, expected status, expected first error (in, code, pointer))
    let rows: Vec<(
        &str,
        String,
        String,
        String,
        u16,
        Option<(&str, &str, &str)>,
    )> = vec![
        (
            "good everywhere",
            good.clone(),
            good.clone(),
            format!(r#"{{"word": "{good}", "map": {{"{good}": 1}}, "keys": {{"{good}": 1}}}}"#),
            200,
            None,
        ),
        (
            "query",
            evil.clone(),
            good.clone(),
            "{}".into(),
            400,
            Some(("query", "pattern", "")),
        ),
        (
            "header",
            good.clone(),
            evil.clone(),
            "{}".into(),
            400,
            Some(("header", "pattern", "")),
        ),
        (
            "body property",
            good.clone(),
            good.clone(),
            format!(r#"{{"word": "{evil}"}}"#),
            400,
            Some(("body", "pattern", "/word")),
        ),
        // `evil` matches no patternProperties key, so it is an ordinary, allowed property.
        (
            "patternProperties",
            good.clone(),
            good.clone(),
            format!(r#"{{"map": {{"{evil}": "x", "{good}": "x"}}}}"#),
            400,
            Some(("body", "type", "")),
        ),
        (
            "propertyNames",
            good.clone(),
            good.clone(),
            format!(r#"{{"keys": {{"{evil}": 1}}}}"#),
            400,
            Some(("body", "schema", "/keys")),
        ),
    ];
    let mut failures = Vec::new();
    for (name, query, header, body, status, first) in rows {
        let mut request = with_body(
            "POST",
            &format!("/match?q={query}"),
            "application/json",
            &body,
        );
        request
            .headers_mut()
            .insert("x-word", header.parse().unwrap());
        let Some(answer) = answer_within_bound(&layer, request) else {
            failures.push(format!("{name}: no answer within {BOUND:?}"));
            continue;
        };
        let error = &answer.json["errors"][0];
        let ok = answer.status == status
            && first.is_none_or(|(place, code, pointer)| {
                error["in"] == place
                    && error["code"] == code
                    && error["pointer"]
                        .as_str()
                        .is_some_and(|p| p.starts_with(pointer))
            });
        if !ok {
            let shown = answer.json.to_string();
            failures.push(format!(
                "{name}: {} {}",
                answer.status,
                &shown[..shown.len().min(300)]
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn patterns_the_linear_engine_cannot_run_fail_at_start_up() {
    const PARAM: &str = "/paths/~1p/get/parameters/0";
    // (row, parameter with the pattern, where the problem is reported, what it says)
    let rows = [
        (
            "lookahead in a query parameter",
            "{name: q, in: query, schema: {type: string, pattern: '^(?=a)a+$'}}",
            "/schema/pattern",
            "pattern `^(?=a)a+$` uses lookaround",
        ),
        (
            "lookbehind in a header",
            "{name: X-A, in: header, schema: {type: string, pattern: '(?<=a)b'}}",
            "/schema/pattern",
            "pattern `(?<=a)b` uses lookaround",
        ),
        (
            "backreference in an array item",
            "{name: q, in: query, schema: {type: array, items: {type: string, pattern: '(a)\\1'}}}",
            "/schema/items/pattern",
            "pattern `(a)\\1` uses a backreference",
        ),
        (
            "negative lookahead in a JSON parameter",
            "{name: q, in: query, content: {application/json: {schema: {type: object, properties: {a: {type: string, pattern: '^(?!x)'}}}}}}",
            "/content/application~1json/schema/properties/a/pattern",
            "pattern `^(?!x)` uses lookaround",
        ),
        (
            "lookahead in patternProperties",
            "{name: q, in: query, schema: {type: object, patternProperties: {'^(?=a)': {}}}}",
            "/schema/patternProperties/^(?=a)",
            "pattern `^(?=a)` uses lookaround",
        ),
        (
            "not a regular expression",
            "{name: q, in: query, schema: {type: string, pattern: '(unclosed'}}",
            "/schema/pattern",
            "pattern `(unclosed` is not a regular expression: unclosed group",
        ),
    ];
    let mut failures = Vec::new();
    for (name, param, pointer, message) in rows {
        let spec = format!(
            "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /p:\n    get:\n      parameters:\n        - {param}\n      responses: {{'200': {{description: ok}}}}\n"
        );
        let doc = Document::from_str(&spec).expect("the document itself loads");
        match OpenApiLayer::new(&doc) {
            Ok(_) => failures.push(format!("{name}: compiled, so the pattern would be ignored")),
            Err(error) => {
                let problem = &error.problems()[0];
                if error.problems().len() != 1
                    || problem.pointer != format!("{PARAM}{pointer}")
                    || !problem.message.starts_with(message)
                    || problem.line != Some(7)
                {
                    failures.push(format!("{name}: {error}"));
                }
            }
        }
    }
    // A body schema is compiled too.
    let body = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /p:\n    post:\n      requestBody: {content: {application/json: {schema: {type: object, properties: {a: {type: string, pattern: '(?=x)'}}}}}}\n      responses: {'200': {description: ok}}\n";
    let doc = Document::from_str(body).unwrap();
    match OpenApiLayer::new(&doc) {
        Ok(_) => failures.push("body: compiled".to_owned()),
        Err(error) => {
            let problem = &error.problems()[0];
            if problem.pointer
                != "/paths/~1p/post/requestBody/content/application~1json/schema/properties/a/pattern"
                || !problem.message.contains("rewrite it without")
            {
                failures.push(format!("body: {error}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The same pattern on a query parameter and a body property: ECMA-262 meanings in both
/// (`\d` and `\w` are ASCII), so one value passes or fails in both places.
const SAME_PATTERN: &str = r#"
openapi: 3.1.0
info: {title: patterns, version: "1"}
paths:
  /codes:
    post:
      parameters:
        - {name: code, in: query, schema: {type: string, pattern: '^\d{3}-\w+$'}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                code: {type: string, pattern: '^\d{3}-\w+$'}
      responses: {"200": {description: ok}}
"#;

#[tokio::test]
async fn parameters_and_bodies_read_a_pattern_alike() {
    let layer = layer(SAME_PATTERN, Options::default());
    // (value, percent-encoded for the query, passes)
    let rows = [
        ("123-abc_1", "123-abc_1", true),
        ("١٢٣-abc", "%D9%A1%D9%A2%D9%A3-abc", false),
        ("123-café", "123-caf%C3%A9", false),
        ("12-abc", "12-abc", false),
    ];
    for (value, encoded, passes) in rows {
        let query = send(
            &layer,
            with_body(
                "POST",
                &format!("/codes?code={encoded}"),
                "application/json",
                "{}",
            ),
        )
        .await;
        let body = send(
            &layer,
            with_body(
                "POST",
                "/codes",
                "application/json",
                &serde_json::json!({ "code": value }).to_string(),
            ),
        )
        .await;
        let want = if passes { 200 } else { 400 };
        assert_eq!(query.status, want, "query `{value}`: {}", query.json);
        assert_eq!(body.status, want, "body `{value}`: {}", body.json);
        if !passes {
            assert_eq!(query.json["errors"][0]["code"], "pattern", "{}", query.json);
            assert_eq!(body.json["errors"][0]["code"], "pattern", "{}", body.json);
        }
    }
}
