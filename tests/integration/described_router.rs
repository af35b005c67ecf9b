//! `DescribedRouter`: axum routes added with their descriptions, served behind the layer
//! built from the document they make.

use axum::Json;
use axum::body::Body;
use axum::extract::Path;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use oasgate::Options;
use oasgate::describe::{Api, DescribedRouter, Operation, Param};
use oasgate::extract::{Valid, ValidBody};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A new shelf.
#[derive(JsonSchema, Deserialize)]
struct NewShelf {
    /// What it holds.
    name: String,
}

#[derive(Deserialize)]
struct Page {
    limit: u32,
}

async fn list(Valid(page): Valid<Page>) -> Json<Value> {
    Json(json!({"limit": page.limit}))
}

async fn add(ValidBody(shelf): ValidBody<NewShelf>) -> Json<Value> {
    Json(json!({"added": shelf.name}))
}

async fn find(Path(id): Path<u32>) -> Json<Value> {
    Json(json!({"id": id}))
}

fn app() -> axum::Router {
    DescribedRouter::new(Api::new("Shelves", "1"))
        .route(
            Operation::get("/shelves")
                .operation_id("listShelves")
                .param(Param::query::<u32>("limit").default(10))
                .empty_response(200, "The shelves."),
            list,
        )
        .route(
            Operation::post("/shelves")
                .operation_id("addShelf")
                .body::<NewShelf>("The shelf.")
                .empty_response(200, "Added."),
            add,
        )
        .route(
            Operation::get("/shelves/{id}")
                .operation_id("findShelf")
                .param(Param::path::<u32>("id"))
                .empty_response(200, "The shelf."),
            find,
        )
        .into_router(Options::default())
        .expect("the described document builds")
}

async fn call(method: &str, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Body::from(body.unwrap_or_default().to_owned()))
        .unwrap();
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn routes_and_their_descriptions_are_added_together() {
    // (method, uri, body, status, what the answer holds at a pointer)
    let rows: [(&str, &str, Option<&str>, u16, &str, Value); 7] = [
        ("GET", "/shelves", None, 200, "/limit", json!(10)),
        ("GET", "/shelves?limit=3", None, 200, "/limit", json!(3)),
        (
            "GET",
            "/shelves?limit=x",
            None,
            400,
            "/errors/0/name",
            json!("limit"),
        ),
        (
            "POST",
            "/shelves",
            Some(r#"{"name": "a"}"#),
            200,
            "/added",
            json!("a"),
        ),
        (
            "POST",
            "/shelves",
            Some(r#"{"name": 1}"#),
            400,
            "/errors/0/pointer",
            json!("/name"),
        ),
        ("GET", "/shelves/7", None, 200, "/id", json!(7)),
        ("DELETE", "/shelves/7", None, 405, "/status", json!(405)),
    ];
    for (method, uri, body, status, at, expected) in rows {
        let (got, answer) = call(method, uri, body).await;
        assert_eq!(got.as_u16(), status, "{method} {uri}: {answer}");
        assert_eq!(
            answer.pointer(at),
            Some(&expected),
            "{method} {uri}: {answer}"
        );
    }

    let (status, document) = call("GET", "/openapi.json", None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = ["~1shelves/get", "~1shelves/post", "~1shelves~1{id}/get"]
        .iter()
        .map(|at| document["paths"].pointer(&format!("/{at}/operationId")))
        .map(|id| id.and_then(Value::as_str).unwrap_or("missing"))
        .collect();
    assert_eq!(ids, ["listShelves", "addShelf", "findShelf"]);
}
