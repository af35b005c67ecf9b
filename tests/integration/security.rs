//! Credentials: presence checks as OR of ANDs, the verifier, challenges.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oasgate::Options;
use oasgate::security::{Credential, SchemeKind, Verdict, verifier_fn};

use crate::support::*;

#[tokio::test]
async fn presence_is_checked_as_or_of_ands() {
    let layer = kitchen();
    // (uri, headers, status)
    let rows: &[(&str, &[(&str, &str)], u16)] = &[
        ("/v1/secure", &[], 401),
        ("/v1/secure", &[("authorization", "Bearer abc")], 200),
        ("/v1/secure", &[("authorization", "bearer abc")], 200),
        ("/v1/secure", &[("authorization", "Bearer ")], 401),
        // basic AND headerKey: both are needed.
        (
            "/v1/secure",
            &[("authorization", "Basic dXNlcjpwdw==")],
            401,
        ),
        (
            "/v1/secure",
            &[("authorization", "Basic dXNlcjpwdw=="), ("x-key", "k")],
            200,
        ),
        (
            "/v1/secure",
            &[("authorization", "Basic !!!"), ("x-key", "k")],
            401,
        ),
        ("/v1/strict?api_key=k", &[], 200),
        ("/v1/strict", &[], 401),
        ("/v1/scoped", &[("authorization", "Bearer t")], 200),
        ("/v1/optional-auth", &[], 200),
        // Public operations need nothing.
        ("/v1/pets/mine", &[], 200),
    ];
    for (uri, headers, status) in rows {
        let answer = send(&layer, get_with(uri, headers)).await;
        assert_eq!(answer.status, *status, "{uri} {headers:?}: {}", answer.json);
    }
}

#[tokio::test]
async fn missing_credentials_get_a_challenge() {
    let answer = send(&kitchen(), get("/v1/secure")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer realm=\"bearer\", Basic realm=\"basic\""
    );
    assert_eq!(answer.json["title"], "Unauthorized");
    assert!(
        answer.json["detail"]
            .as_str()
            .unwrap()
            .contains("bearer token"),
        "{}",
        answer.json
    );
}

#[tokio::test]
async fn the_verifier_decides() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let verifier = verifier_fn(move |c: Credential<'_>| {
        seen.fetch_add(1, Ordering::SeqCst);
        let verdict = match (c.kind, c.value) {
            (SchemeKind::Bearer, "good") if c.scopes.is_empty() || c.scopes == ["read"] => {
                Verdict::Allow
            }
            (SchemeKind::Bearer, "reader") if c.scopes.is_empty() => Verdict::Allow,
            (SchemeKind::Bearer, "reader") => {
                Verdict::Forbidden("the token lacks scope `read`".into())
            }
            (SchemeKind::Bearer, "down") => Verdict::Failed,
            _ => Verdict::Unauthenticated("the token is not valid".into()),
        };
        async move { verdict }
    });
    let layer = fixture_layer("local/kitchen.yaml", Options::default().verifier(verifier));
    let rows: &[(&str, &str, u16)] = &[
        ("/v1/secure", "Bearer good", 200),
        ("/v1/secure", "Bearer forged", 401),
        ("/v1/scoped", "Bearer good", 200),
        ("/v1/scoped", "Bearer reader", 403),
        ("/v1/scoped", "Bearer down", 500),
    ];
    for (uri, auth, status) in rows {
        let answer = send(&layer, get_with(uri, &[("authorization", auth)])).await;
        assert_eq!(answer.status, *status, "{uri} {auth}: {}", answer.json);
        assert!(
            !answer
                .json
                .to_string()
                .contains(auth.trim_start_matches("Bearer "))
                || *status == 200,
            "{}",
            answer.json
        );
    }
    let answer = send(
        &layer,
        get_with("/v1/secure", &[("authorization", "Bearer forged")]),
    )
    .await;
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer realm=\"bearer\", error=\"invalid_token\", Basic realm=\"basic\""
    );
    let answer = send(
        &layer,
        get_with("/v1/scoped", &[("authorization", "Bearer down")]),
    )
    .await;
    assert_eq!(answer.json["detail"], "credentials could not be checked");
    // No credentials: the verifier is not asked.
    let before = calls.load(Ordering::SeqCst);
    assert_eq!(send(&layer, get("/v1/secure")).await.status, 401);
    assert_eq!(calls.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn unauthenticated_requests_never_have_their_body_read() {
    let spec = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
security: [{bearer: []}]
paths:
  /things:
    post:
      requestBody:
        content:
          application/json: {schema: {type: object}}
      responses: {"200": {description: ok}}
"#;
    let layer = layer(spec, Options::default());
    // Malformed JSON, but no credentials: 401, not 400.
    let answer = send(
        &layer,
        with_body("POST", "/things", "application/json", "{oops"),
    )
    .await;
    assert_eq!(answer.status, 401);
}
