use oasgate::Options;
use serde_json::json;

use crate::support::*;

const PETSTORE: &str = include_str!("../fixtures/oai/v3.0-petstore-expanded.yaml");

#[tokio::test]
async fn petstore_round_trip() {
    let layer = layer(PETSTORE, Options::default());
    let ok = send(&layer, get("/v2/pets?limit=10&tags=a&tags=b")).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(
        ok.json["validated"]["query"],
        json!({"limit": 10, "tags": ["a", "b"]})
    );
    let bad = send(&layer, get("/v2/pets?limit=ten")).await;
    assert_eq!(bad.status, 400);
    println!("{}", serde_json::to_string_pretty(&bad.json).unwrap());
    let post = send(
        &layer,
        with_body("POST", "/v2/pets", "application/json", r#"{"name": "rex"}"#),
    )
    .await;
    assert_eq!(post.status, 200, "{}", post.json);
    let post = send(
        &layer,
        with_body("POST", "/v2/pets", "application/json", r#"{"tag": 1}"#),
    )
    .await;
    println!("{}", serde_json::to_string_pretty(&post.json).unwrap());
    assert_eq!(post.status, 400);
}
