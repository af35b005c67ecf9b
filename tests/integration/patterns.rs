//! Every ECMA-262 `pattern` runs and answers within a bound: on the linear-time regex engine
//! when it can, else (lookaround, backreferences) on a backtracking engine under a backtrack
//! limit. Catastrophic patterns answer promptly on both; what is not ECMA-262 is refused at
//! start-up. See docs/patterns.md.

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

/// The same places as [`CATASTROPHIC`], with patterns that need the backtracking engine:
/// lookaround inside the repeated group, or a backreference after it.
const CATASTROPHIC_BOUNDED: &str = r#"
openapi: 3.1.0
info: {title: patterns, version: "1"}
paths:
  /match:
    post:
      parameters:
        - {name: q, in: query, schema: {type: string, pattern: '^((?=a)a|aa)+$'}}
        - {name: X-Word, in: header, schema: {type: string, pattern: '^(a|aa)+\1$'}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                word: {type: string, pattern: '^((?!b)a|aa)+$'}
                map:
                  type: object
                  patternProperties: {'^((?=a)a|aa)+$': {type: integer}}
                keys:
                  type: object
                  propertyNames: {pattern: '^(a|aa)+\1$'}
      responses: {"200": {description: ok}}
"#;

/// Without the backtrack limit none of the refused rows would answer: each pattern makes the
/// backtracking engine try every way to split `a…a!` (2^50000 of them).
#[test]
fn catastrophic_lookaround_and_backreferences_answer_within_the_bound() {
    let layer = layer(
        CATASTROPHIC_BOUNDED,
        Options::default().param_length_limit(2 * LONG),
    );
    let evil = format!("{}!", "a".repeat(LONG));
    let good = "a".repeat(LONG);
    let fine =
        |query: &str, header: &str, body: String| (query.to_owned(), header.to_owned(), body);
    // (row, (query, header, body), expected status, codes the first error may have, its pointer)
    let rows: Vec<(&str, (String, String, String), u16, &[&str], &str)> = vec![
        (
            "good everywhere",
            fine(
                &good,
                &good,
                format!(r#"{{"word": "{good}", "map": {{"{good}": 1}}, "keys": {{"{good}": 1}}}}"#),
            ),
            200,
            &[],
            "",
        ),
        (
            "query",
            fine(&evil, &good, "{}".into()),
            400,
            &["pattern"],
            "",
        ),
        (
            "header",
            fine(&good, &evil, "{}".into()),
            400,
            &["pattern"],
            "",
        ),
        (
            "body property",
            fine(&good, &good, format!(r#"{{"word": "{evil}"}}"#)),
            400,
            &["pattern"],
            "/word",
        ),
        // Whether `evil` names a patternProperties key is undecided: refused either way.
        (
            "patternProperties",
            fine(&good, &good, format!(r#"{{"map": {{"{evil}": "x"}}}}"#)),
            400,
            &["pattern", "type"],
            "/map",
        ),
        (
            "propertyNames",
            fine(&good, &good, format!(r#"{{"keys": {{"{evil}": 1}}}}"#)),
            400,
            &["pattern", "schema"],
            "/keys",
        ),
    ];
    let mut failures = Vec::new();
    for (name, (query, header, body), status, codes, pointer) in rows {
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
            && (codes.is_empty()
                || codes.iter().any(|c| error["code"] == *c)
                    && error["pointer"]
                        .as_str()
                        .is_some_and(|p| p.starts_with(pointer)));
        if !ok {
            let shown = answer.json.to_string();
            failures.push(format!(
                "{name}: {} {}",
                answer.status,
                &shown[..shown.len().min(400)]
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A value the bounded engine cannot decide is refused with a `pattern` error that says so,
/// never let through (a gateway fails closed) and never a 500; the limit is an option.
#[tokio::test]
async fn a_value_past_the_backtrack_limit_is_refused_and_says_why() {
    const SPEC: &str = r#"
openapi: 3.1.0
info: {title: patterns, version: "1"}
paths:
  /p:
    post:
      parameters:
        - {name: q, in: query, schema: {type: string, pattern: '^(a|aa)+\1$'}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                word: {type: string, pattern: '^(a|aa)+\1$'}
      responses: {"200": {description: ok}}
"#;
    let evil = format!("{}!", "a".repeat(200));
    // (limit, where, expected detail start)
    let rows = [
        (
            100_000,
            "query",
            "could not be checked against pattern `^(a|aa)+\\1$` within oasgate's bound of 100000 backtracking steps",
        ),
        (
            100_000,
            "body",
            "could not be checked against pattern `^(a|aa)+\\1$` within oasgate's bound of 100000 backtracking steps",
        ),
        (
            50,
            "query",
            "could not be checked against pattern `^(a|aa)+\\1$` within oasgate's bound of 50 backtracking steps",
        ),
    ];
    for (limit, place, detail) in rows {
        let layer = layer(SPEC, Options::default().pattern_backtrack_limit(limit));
        let request = match place {
            "query" => with_body("POST", &format!("/p?q={evil}"), "application/json", "{}"),
            _ => with_body(
                "POST",
                "/p",
                "application/json",
                &format!(r#"{{"word": "{evil}"}}"#),
            ),
        };
        let answer = send(&layer, request).await;
        let error = &answer.json["errors"][0];
        assert_eq!(answer.status, 400, "{place} at {limit}: {}", answer.json);
        assert_eq!(
            error["code"], "pattern",
            "{place} at {limit}: {}",
            answer.json
        );
        assert!(
            error["detail"].as_str().is_some_and(|d| d.contains(detail)),
            "{place} at {limit}: {}",
            answer.json
        );
        // A value the engine decides within the bound passes.
        let fine = send(
            &layer,
            with_body("POST", "/p?q=aaaa", "application/json", r#"{"word": "aa"}"#),
        )
        .await;
        assert_eq!(fine.status, 200, "{place} at {limit}: {}", fine.json);
    }
}

/// One document per construct that used to be refused at start-up: each loads now, and a
/// matching and a non-matching value go through the layer as ECMA-262 says.
#[tokio::test]
async fn every_ecma_262_construct_loads_and_validates() {
    // (construct, pattern, matching value, non-matching value); values are JSON strings
    // sent both as a query parameter (percent-encoded) and in a body.
    let rows = [
        ("negative lookahead (AWS)", r"^(?!\s*$).+", "x", " "),
        ("lookahead", r"^(?=.*\d)[a-z\d]+$", "abc1", "abc"),
        (
            "lookbehind",
            r"(?<=@)example\.com$",
            "me@example.com",
            "example.com",
        ),
        ("negative lookbehind", r"^\w+(?<!_)$", "name", "name_"),
        ("backreference", r"^(\w)\w*\1$", "abca", "abcd"),
        (
            "named backreference",
            r"^(?<q>['\x22]).*\k<q>$",
            "'x'",
            "'x\"",
        ),
        ("huge repetition at the end", r"^x.{1,2097152}", "xy", "x"),
        (
            "huge repetition of a large class",
            r"[^\p{C}]{1,2048}",
            "a",
            "\u{7}",
        ),
        (
            "class escape as a range end (Annex B)",
            r"^[\w-.]+$",
            "a-b.c",
            "a b",
        ),
        (
            "legacy octal (Annex B)",
            r"^[^\000-\037]+$",
            "tab-free",
            "tab\there",
        ),
        (
            "lone surrogates in a class",
            r"^[a\uD800-\uDFFF]+$",
            "aaa",
            "ab",
        ),
        ("surrogate range only", r"^a|[\uD800-\uDBFF]", "abc", "😀"),
        ("surrogate pair", r"^\uD83D\uDE00$", "😀", "😁"),
    ];
    let mut failures = Vec::new();
    for (name, pattern, good, bad) in rows {
        let quoted = serde_json::to_string(pattern).unwrap();
        let spec = format!(
            "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /p:\n    post:\n      parameters:\n        - {{name: q, in: query, schema: {{type: string, pattern: {quoted}}}}}\n      requestBody: {{content: {{application/json: {{schema: {{type: object, properties: {{v: {{type: string, pattern: {quoted}}}}}}}}}}}}}\n      responses: {{'200': {{description: ok}}}}\n"
        );
        let doc = Document::from_str(&spec).expect("the document itself loads");
        let layer = match OpenApiLayer::new(&doc) {
            Ok(layer) => layer,
            Err(error) => {
                failures.push(format!("{name}: refused: {error}"));
                continue;
            }
        };
        for (value, passes) in [(good, true), (bad, false)] {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            let query = send(
                &layer,
                with_body("POST", &format!("/p?q={encoded}"), "application/json", "{}"),
            )
            .await;
            let body = send(
                &layer,
                with_body(
                    "POST",
                    "/p",
                    "application/json",
                    &serde_json::json!({ "v": value }).to_string(),
                ),
            )
            .await;
            let want = if passes { 200 } else { 400 };
            for (place, answer) in [("query", &query), ("body", &body)] {
                let code_ok = passes || answer.json["errors"][0]["code"] == "pattern";
                if answer.status != want || !code_ok {
                    failures.push(format!(
                        "{name}: {place} {value:?}: {} {}",
                        answer.status, answer.json
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// `^X{m,n}$` with X one character and a long run is checked as `^X*$` and `m` to `n`
/// characters: the same strings pass, and nothing huge is compiled.
#[tokio::test]
async fn a_long_anchored_run_is_checked_by_its_length() {
    const SPEC: &str = r#"
openapi: 3.1.0
info: {title: patterns, version: "1"}
paths:
  /p:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                v: {type: string, pattern: '^[a-z]{2,5000}$'}
      responses: {"200": {description: ok}}
"#;
    let layer = layer(SPEC, Options::default());
    // (value, status, code, detail fragment)
    let rows = [
        ("a".repeat(5000), 200, "", ""),
        ("ab".to_owned(), 200, "", ""),
        (
            "a".repeat(5001),
            400,
            "maxLength",
            "at most 5000 characters",
        ),
        ("a".to_owned(), 400, "minLength", "at least 2 characters"),
        (
            "ab1".to_owned(),
            400,
            "pattern",
            "does not match pattern `^[a-z]{2,5000}$`",
        ),
    ];
    for (value, status, code, detail) in rows {
        let body = serde_json::json!({ "v": value }).to_string();
        let answer = send(&layer, with_body("POST", "/p", "application/json", &body)).await;
        assert_eq!(answer.status, status, "{}: {}", value.len(), answer.json);
        if status != 200 {
            let error = &answer.json["errors"][0];
            assert_eq!(error["code"], code, "{}", answer.json);
            assert!(
                error["detail"].as_str().is_some_and(|d| d.contains(detail)),
                "{}",
                answer.json
            );
        }
    }
}

#[test]
fn patterns_that_are_not_ecma_262_are_not_checked_with_a_warning_or_refused_under_strict() {
    const PARAM: &str = "/paths/~1p/get/parameters/0";
    // JSON Schema: a pattern "SHOULD be a valid regular expression, according to the ECMA-262
    // regular expression dialect"; another dialect's meaning cannot be known, so such a
    // `pattern` is left unchecked with a warning (an error under `strict`). A
    // `patternProperties` key and a pattern too large to run stay errors.
    // (row, parameter with the pattern, where the problem is reported, what it says)
    let rows = [
        (
            "java property in a query parameter",
            r"{name: q, in: query, schema: {type: string, pattern: '^\p{Print}+$'}}",
            "/schema/pattern",
            r"pattern `^\p{Print}+$` is not an ECMA-262 regular expression: unicode property not found",
        ),
        (
            "perl anchors in a header",
            r"{name: X-A, in: header, schema: {type: string, pattern: '\A[a-z]+\z'}}",
            "/schema/pattern",
            r"pattern `\A[a-z]+\z` is not an ECMA-262 regular expression: `\A` is no ECMA-262 escape",
        ),
        (
            "class intersection in an array item",
            "{name: q, in: query, schema: {type: array, items: {type: string, pattern: '[a-z&&[^q]]'}}}",
            "/schema/items/pattern",
            "pattern `[a-z&&[^q]]` is not an ECMA-262 regular expression: `&&` (class intersection)",
        ),
        (
            "atomic group in a JSON parameter",
            "{name: q, in: query, content: {application/json: {schema: {type: object, properties: {a: {type: string, pattern: '^(?>a+)b'}}}}}}",
            "/content/application~1json/schema/properties/a/pattern",
            "pattern `^(?>a+)b` is not an ECMA-262 regular expression: `(?>` is not ECMA-262 group syntax",
        ),
        (
            "possessive quantifier in patternProperties",
            "{name: q, in: query, schema: {type: object, patternProperties: {'^a++': {}}}}",
            "/schema/patternProperties/^a++",
            "pattern `^a++` is not an ECMA-262 regular expression: possessive quantifiers",
        ),
        (
            "not a regular expression",
            "{name: q, in: query, schema: {type: string, pattern: '(unclosed'}}",
            "/schema/pattern",
            "pattern `(unclosed` is not an ECMA-262 regular expression: syntax error",
        ),
        (
            "a huge repetition that must be counted",
            "{name: q, in: query, schema: {type: string, pattern: '^a.{1,2097152}b$'}}",
            "/schema/pattern",
            "pattern `^a.{1,2097152}b$` is too large for oasgate's regex engines",
        ),
    ];
    let mut failures = Vec::new();
    let stays_an_error = [
        "possessive quantifier in patternProperties",
        "a huge repetition that must be counted",
    ];
    for (name, param, pointer, message) in rows {
        let spec = format!(
            "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /p:\n    get:\n      parameters:\n        - {param}\n      responses: {{'200': {{description: ok}}}}\n"
        );
        let doc = Document::from_str(&spec).expect("the document itself loads");
        if !stays_an_error.contains(&name) {
            match OpenApiLayer::new(&doc) {
                Ok(layer) => {
                    let warned: Vec<_> = layer
                        .warnings()
                        .iter()
                        .map(|w| (w.case, w.at.pointer.clone(), w.at.message.clone()))
                        .collect();
                    if warned.len() != 1
                        || warned[0].0 != oasgate::WarningCase::Pattern
                        || warned[0].1 != format!("{PARAM}{pointer}")
                        || !warned[0].2.starts_with(message)
                        || !warned[0].2.ends_with("; it is not checked")
                    {
                        failures.push(format!("{name}: warned {warned:?}"));
                    }
                }
                Err(error) => failures.push(format!("{name}: refused without strict: {error}")),
            }
        }
        match OpenApiLayer::with_options(&doc, Options::default().strict(true)) {
            Ok(_) => failures.push(format!("{name}: compiled, so the pattern would be misread")),
            Err(error) => {
                let problem = &error.problems()[0];
                if error.problems().len() != 1
                    || problem.pointer != format!("{PARAM}{pointer}")
                    || !problem.message.starts_with(message)
                    || problem.message.contains("backreference")
                    || problem.line != Some(7)
                {
                    failures.push(format!("{name}: {error}"));
                }
            }
        }
    }
    // A body schema is compiled too.
    let body = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /p:\n    post:\n      requestBody: {content: {application/json: {schema: {type: object, properties: {a: {type: string, pattern: '\\Gx'}}}}}}\n      responses: {'200': {description: ok}}\n";
    let doc = Document::from_str(body).unwrap();
    if OpenApiLayer::new(&doc).map(|l| l.warnings().len()).ok() != Some(1) {
        failures.push("body: not loaded with one warning".to_owned());
    }
    match OpenApiLayer::with_options(&doc, Options::default().strict(true)) {
        Ok(_) => failures.push("body: compiled".to_owned()),
        Err(error) => {
            let problem = &error.problems()[0];
            if problem.pointer
                != "/paths/~1p/post/requestBody/content/application~1json/schema/properties/a/pattern"
                || !problem
                    .message
                    .contains("is not an ECMA-262 regular expression")
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
