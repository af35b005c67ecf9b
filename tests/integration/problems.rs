//! The problem bodies themselves, snapshotted: one per kind of rejection.

use bytes::Bytes;
use http::Response;
use oasgate::Options;
use oasgate::security::{Credential, Verdict, verifier_fn};

use crate::support::*;

fn verifying() -> oasgate::OpenApiLayer {
    let verifier = verifier_fn(|c: Credential<'_>| {
        let verdict = match c.value {
            "reader" => Verdict::Forbidden("the token lacks scope `read`".into()),
            "down" => Verdict::Failed,
            _ => Verdict::Unauthenticated("the token has expired".into()),
        };
        async move { verdict }
    });
    fixture_layer("local/kitchen.yaml", Options::default().verifier(verifier))
}

#[tokio::test]
async fn problem_bodies() {
    let layer = kitchen();
    let strict = fixture_layer(
        "local/kitchen.yaml",
        Options::default().body_limit(16).unprocessable_bodies(true),
    );
    let verifying = verifying();
    let cases: Vec<(
        &str,
        &oasgate::OpenApiLayer,
        http::Request<oasgate::body::Body>,
    )> = vec![
        ("not_found", &layer, get("/v1/nowhere")),
        ("method_not_allowed", &layer, request("PATCH", "/v1/pets/1")),
        ("missing_credentials", &layer, get("/v1/secure")),
        (
            "refused_credentials",
            &verifying,
            get_with("/v1/secure", &[("authorization", "Bearer old")]),
        ),
        (
            "short_of_scope",
            &verifying,
            get_with("/v1/scoped", &[("authorization", "Bearer reader")]),
        ),
        (
            "verifier_failed",
            &verifying,
            get_with("/v1/scoped", &[("authorization", "Bearer down")]),
        ),
        (
            "invalid_parameters",
            &layer,
            get_with(
                "/v1/pets?limit=0&ids=1,x&since=2023-02-29&filter[min]=a",
                &[("x-count", "many")],
            ),
        ),
        (
            "malformed_json",
            &layer,
            with_body(
                "POST",
                "/v1/pets",
                "application/json",
                "{\"name\": \"Tom\",\n \"petType\": Cat}",
            ),
        ),
        (
            "invalid_body",
            &layer,
            with_body(
                "POST",
                "/v1/pets",
                "application/json",
                r#"{"name": "", "petType": "Cat", "lives": 12, "password": "short"}"#,
            ),
        ),
        (
            "unprocessable_body",
            &strict,
            with_body(
                "POST",
                "/v1/pets",
                "application/json",
                r#"{"petType": "Dog"}"#,
            ),
        ),
        (
            "too_large",
            &strict,
            with_body(
                "POST",
                "/v1/pets",
                "application/json",
                r#"{"name": "Tom", "petType": "Cat", "lives": 1}"#,
            ),
        ),
        (
            "unsupported_media_type",
            &layer,
            with_body("POST", "/v1/pets", "text/csv", "a,b"),
        ),
        (
            "undeclared_query",
            &layer,
            get("/v1/strict?api_key=k&debug=1"),
        ),
    ];
    for (name, layer, request) in cases {
        let answer = send(layer, request).await;
        assert!(
            answer.status.is_client_error() || answer.status.is_server_error(),
            "{name}"
        );
        assert_eq!(
            answer.headers["content-type"], "application/problem+json",
            "{name}"
        );
        assert_eq!(answer.json["status"], answer.status.as_u16(), "{name}");
        insta::assert_json_snapshot!(name, answer.json);
    }
}

#[tokio::test]
async fn formatter_replaces_the_body() {
    let options = Options::default().formatter(|problem| {
        let body = format!(
            "{} {}: {}",
            problem.status,
            problem.title,
            problem.errors.len()
        );
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = http::StatusCode::from_u16(problem.status).unwrap();
        response
            .headers_mut()
            .insert("content-type", "text/plain".parse().unwrap());
        response
    });
    let layer = fixture_layer("local/kitchen.yaml", options);
    let answer = send(&layer, get("/v1/pets?limit=0&flag=x")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.headers["content-type"], "text/plain");
    assert_eq!(answer.json, "400 Invalid request parameters: 2");
}
