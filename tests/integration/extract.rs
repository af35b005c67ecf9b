//! axum extractors read what the layer validated; a type that does not fit answers 500.

use axum::Router;
use axum::routing::{get, post};
use http_body_util::BodyExt;
use oasgate::Options;
use oasgate::Paging;
use oasgate::extract::{Valid, ValidBody};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

#[derive(Deserialize)]
struct ListQuery {
    kind: Option<String>,
    limit: u64,
}

#[derive(Deserialize)]
struct Wrong {
    #[allow(dead_code)]
    nonexistent: String,
}

#[derive(Deserialize)]
struct NewPet {
    name: String,
    #[serde(rename = "petType")]
    pet_type: String,
}

async fn call(app: Router, request: http::Request<axum::body::Body>) -> (u16, Value) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn valid_and_paging_extractors() {
    let layer = fixture_layer(
        "local/girder.yaml",
        Options::default().model_loader("pet", oasgate::models::loader_fn(|_| async { Ok(None) })),
    );
    let app = Router::new()
        .route(
            "/items",
            get(|Valid(q): Valid<ListQuery>, paging: Paging| async move {
                axum::Json(json!({"kind": q.kind, "limit": q.limit, "paging": paging}))
            }),
        )
        .route(
            "/plain",
            get(|Valid(_): Valid<Wrong>| async { "unreachable" }),
        )
        .layer(layer);
    let get = |uri: &str| {
        http::Request::get(uri)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (status, body) = call(app.clone(), get("/items?kind=%20DOG&sort=-name")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"kind": "dog", "limit": 25, "paging": {"limit": 25, "offset": 0, "sort": [{"field": "name", "dir": -1}]}})
    );
    let (status, body) = call(app, get("/plain")).await;
    assert_eq!(status, 500);
    assert_eq!(body["title"], "Internal Server Error");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("missing field `nonexistent`"),
        "{body}"
    );
}

#[tokio::test]
async fn valid_body_extractor() {
    let app = Router::new()
        .route(
            "/v1/pets",
            post(|ValidBody(pet): ValidBody<NewPet>| async move {
                format!("{} the {}", pet.name, pet.pet_type)
            }),
        )
        .layer(kitchen());
    let request = http::Request::post("/v1/pets")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            r#"{"name": "Tom", "petType": "Cat", "lives": 3}"#,
        ))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "Tom the Cat"
    );
}

/// Each way an extractor can fail names itself: 500 problem+json with what is wrong.
#[tokio::test]
async fn each_extractor_failure_says_what_is_wrong() {
    #[derive(serde::Deserialize)]
    struct Anything {}

    let request = || {
        http::Request::get("/v1/pets")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    // (router, what the detail says)
    let rows: [(Router, &str); 3] = [
        (
            // No layer in front.
            Router::new().route("/v1/pets", get(|_: Valid<Anything>| async { "" })),
            "the request was not validated: is the OpenApiLayer in front of this route?",
        ),
        (
            Router::new()
                .route("/v1/pets", get(|_: ValidBody<Anything>| async { "" }))
                .layer(kitchen()),
            "the operation has no body the layer read (is it declared as JSON or form?)",
        ),
        (
            Router::new()
                .route("/v1/pets", get(|_: Paging| async { "" }))
                .layer(kitchen()),
            "the operation has no `x-paging`, so there is no paging to extract",
        ),
    ];
    for (app, detail) in rows {
        let (status, body) = call(app, request()).await;
        assert_eq!(status, 500, "{detail}");
        assert_eq!(body["status"], 500, "{detail}");
        assert_eq!(body["detail"], detail);
    }
}
