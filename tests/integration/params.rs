//! Parameters through the layer: every location and style, strict coercion, defaults, policies.

use oasgate::{Options, UndeclaredParams};
use serde_json::{Value, json};

use crate::support::*;

/// Sends `uri` (with headers) and answers the validated query, or the first error code.
async fn outcome(
    layer: &oasgate::OpenApiLayer,
    uri: &str,
    headers: &[(&str, &str)],
) -> Result<Value, (String, String)> {
    let answer = send(layer, get_with(uri, headers)).await;
    if answer.status == 200 {
        Ok(answer.json["validated"].clone())
    } else {
        let e = &answer.json["errors"][0];
        Err((
            e["name"].as_str().unwrap_or("").to_owned(),
            e["code"].as_str().unwrap_or("").to_owned(),
        ))
    }
}

#[tokio::test]
async fn query_styles_and_coercion() {
    let layer = kitchen();
    // (query, expected validated.query, or (name, code) of the first error)
    let rows: Vec<(&str, Result<Value, (&str, &str)>)> = vec![
        ("", Ok(json!({"limit": 20}))),
        ("limit=5", Ok(json!({"limit": 5}))),
        ("limit=0", Err(("limit", "minimum"))),
        ("limit=101", Err(("limit", "maximum"))),
        ("limit=+5", Err(("limit", "type"))),
        ("limit=5.0", Err(("limit", "type"))),
        ("limit=1e2", Err(("limit", "type"))),
        ("limit=0x10", Err(("limit", "type"))),
        ("limit=%205", Err(("limit", "type"))),
        ("limit=", Err(("limit", "empty"))),
        ("limit=5&limit=6", Err(("limit", "duplicate"))),
        (
            "tags=a&tags=b",
            Ok(json!({"limit": 20, "tags": ["a", "b"]})),
        ),
        ("ids=1,2,3", Ok(json!({"limit": 20, "ids": [1, 2, 3]}))),
        ("ids=1,x", Err(("ids", "type"))),
        ("ids=1%2C2", Err(("ids", "type"))),
        ("piped=1|2", Ok(json!({"limit": 20, "piped": [1, 2]}))),
        (
            "spaced=a%20b",
            Ok(json!({"limit": 20, "spaced": ["a", "b"]})),
        ),
        (
            "filter[min]=3&filter[kind]=cat",
            Ok(json!({"limit": 20, "filter": {"min": 3, "kind": "cat"}})),
        ),
        ("filter%5Bmin%5D=x", Err(("filter", "type"))),
        (
            "since=2024-02-29",
            Ok(json!({"limit": 20, "since": "2024-02-29"})),
        ),
        ("since=2023-02-29", Err(("since", "format"))),
        ("since=2024-1-2", Err(("since", "format"))),
        (
            "at=2024-01-02T10:00:00Z",
            Ok(json!({"limit": 20, "at": "2024-01-02T10:00:00Z"})),
        ),
        ("at=2024-01-02T10:00:00", Err(("at", "format"))),
        (
            "id=0e8b7f1c-2a4d-4c1e-9f3a-5b6c7d8e9f00",
            Ok(json!({"limit": 20, "id": "0e8b7f1c-2a4d-4c1e-9f3a-5b6c7d8e9f00"})),
        ),
        ("id=not-a-uuid", Err(("id", "format"))),
        ("flag=true", Ok(json!({"limit": 20, "flag": true}))),
        ("flag=1", Err(("flag", "type"))),
        ("flag=yes", Err(("flag", "type"))),
        ("score=1.5", Ok(json!({"limit": 20, "score": 1.5}))),
        ("score=NaN", Err(("score", "type"))),
        ("score=Infinity", Err(("score", "type"))),
        (
            "small=2147483647",
            Ok(json!({"limit": 20, "small": 2147483647})),
        ),
        ("small=2147483648", Err(("small", "maximum"))),
        ("small=-1", Ok(json!({"limit": 20, "small": -1}))),
        ("empty=", Ok(json!({"limit": 20, "empty": ""}))),
        (
            "where=%7B%22field%22%3A%22a%22%7D",
            Ok(json!({"limit": 20, "where": {"field": "a"}})),
        ),
        ("where=%7B%7D", Err(("where", "required"))),
        ("where=nope", Err(("where", "json"))),
        // Raw reserved characters a query may hold.
        (
            "url=http://a.test/x?y=1@z",
            Ok(json!({"limit": 20, "url": "http://a.test/x?y=1@z"})),
        ),
        ("url=a+b%2Bc", Ok(json!({"limit": 20, "url": "a b+c"}))),
        // Undeclared parameters are accepted by default.
        ("other=1", Ok(json!({"limit": 20}))),
    ];
    for (query, want) in rows {
        let got = outcome(&layer, &format!("/v1/pets?{query}"), &[]).await;
        match (&got, &want) {
            (Ok(v), Ok(w)) => assert_eq!(&v["query"], w, "?{query}"),
            (Err((n, c)), Err((wn, wc))) => {
                assert_eq!((n.as_str(), c.as_str()), (*wn, *wc), "?{query}")
            }
            _ => panic!("?{query}: got {got:?}, want {want:?}"),
        }
    }
}

#[tokio::test]
async fn lenient_booleans_still_reject_junk() {
    let layer = fixture_layer(
        "local/kitchen.yaml",
        Options::default().lenient_booleans(true),
    );
    for (text, want) in [
        ("1", Some(true)),
        ("no", Some(false)),
        ("ON", Some(true)),
        ("True", Some(true)),
        ("maybe", None),
        ("", None),
    ] {
        let got = outcome(&layer, &format!("/v1/pets?flag={text}"), &[]).await;
        match want {
            Some(b) => assert_eq!(got.unwrap()["query"]["flag"], b, "{text}"),
            None => assert!(got.is_err(), "{text}"),
        }
    }
}

#[tokio::test]
async fn path_styles() {
    let layer = kitchen();
    // simple array, label array (explode false: comma), matrix object exploded
    let got = outcome(&layer, "/v1/styles/1,2/.a,b/;x=1;y=2", &[])
        .await
        .unwrap();
    assert_eq!(
        got["path"],
        json!({"simple": [1, 2], "label": ["a", "b"], "matrix": {"x": 1, "y": 2}})
    );
    let got = outcome(&layer, "/v1/styles/1,z/.a/;x=1", &[]).await;
    assert_eq!(got, Err(("simple".into(), "type".into())));
    let got = outcome(&layer, "/v1/styles/1/a/;x=1", &[]).await;
    assert_eq!(got, Err(("label".into(), "format".into())));
    let got = outcome(&layer, "/v1/pets/0", &[]).await;
    assert_eq!(got, Err(("petId".into(), "minimum".into())));
    let got = outcome(&layer, "/v1/pets/abc", &[]).await;
    assert_eq!(got, Err(("petId".into(), "type".into())));
}

#[tokio::test]
async fn headers_and_cookies() {
    let layer = kitchen();
    let got = outcome(
        &layer,
        "/v1/pets",
        &[
            ("x-count", "3"),
            ("X-Trace", "abc123"),
            ("cookie", "session=0123456789abc; theme=dark"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(got["header"], json!({"X-Count": 3, "X-Trace": "abc123"}));
    assert_eq!(
        got["cookie"],
        json!({"session": "0123456789abc", "theme": "dark"})
    );
    // Path-item parameter (X-Trace) applies to the operation.
    assert_eq!(
        outcome(&layer, "/v1/pets", &[("x-trace", "XYZ")]).await,
        Err(("X-Trace".into(), "pattern".into()))
    );
    assert_eq!(
        outcome(&layer, "/v1/pets", &[("x-count", "three")]).await,
        Err(("X-Count".into(), "type".into()))
    );
    assert_eq!(
        outcome(&layer, "/v1/pets", &[("x-count", "1"), ("x-count", "2")]).await,
        Err(("X-Count".into(), "duplicate".into()))
    );
    assert_eq!(
        outcome(&layer, "/v1/pets", &[("cookie", "theme=blue")]).await,
        Err(("theme".into(), "enum".into()))
    );
    // A declared `Accept` header parameter is ignored, as the specification says.
    assert!(
        outcome(&layer, "/v1/pets", &[("accept", "text/html")])
            .await
            .is_ok()
    );
}

#[test]
fn an_unknown_undeclared_query_policy_lists_the_three() {
    let spec = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      x-oasgate-undeclared-query: drop
      responses: {"200": {description: ok}}
"#;
    let doc = oasgate::Document::from_str(spec).unwrap();
    let error = oasgate::OpenApiLayer::new(&doc).expect_err("an unknown policy");
    assert!(
        error
            .to_string()
            .contains("`x-oasgate-undeclared-query` must be `accept`, `reject` or `strip`"),
        "{error}"
    );
}

#[tokio::test]
async fn undeclared_query_policy() {
    // Per operation (x-oasgate-undeclared-query: reject); the API key in the query is declared.
    let layer = kitchen();
    assert!(
        outcome(&layer, "/v1/strict?q=1&api_key=k", &[])
            .await
            .is_ok()
    );
    assert_eq!(
        outcome(&layer, "/v1/strict?api_key=k&zzz=1", &[]).await,
        Err(("zzz".into(), "undeclared".into()))
    );
    // Per API, through the options; deepObject keys belong to their parameter.
    let layer = fixture_layer(
        "local/kitchen.yaml",
        Options::default().undeclared_query(UndeclaredParams::Reject),
    );
    assert!(
        outcome(&layer, "/v1/pets?filter[min]=1&limit=3", &[])
            .await
            .is_ok()
    );
    assert_eq!(
        outcome(&layer, "/v1/pets?limit=3&nope=1", &[]).await,
        Err(("nope".into(), "undeclared".into()))
    );
    // Each undeclared name once, however often it is given (encoded or not).
    let answer = send(&layer, get("/v1/pets?nope=1&n%6Fpe=2&other=3&nope=4")).await;
    let names: Vec<&str> = answer.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nope", "other"], "{}", answer.json);
}

#[tokio::test]
async fn every_error_is_reported_and_capped() {
    let layer = kitchen();
    let answer = send(&layer, get("/v1/pets?limit=0&flag=x&since=y&score=z")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["errors"].as_array().unwrap().len(), 4);
    let capped = fixture_layer("local/kitchen.yaml", Options::default().error_cap(2));
    let answer = send(&capped, get("/v1/pets?limit=0&flag=x&since=y&score=z")).await;
    assert_eq!(answer.json["errors"].as_array().unwrap().len(), 2);
    assert_eq!(answer.json["errorsOmitted"], 2);
}

#[tokio::test]
async fn secrets_are_never_echoed() {
    let layer = kitchen();
    let answer = send(
        &layer,
        get_with("/v1/pets", &[("cookie", "session=s3cr3t")]),
    )
    .await;
    assert_eq!(answer.status, 400);
    let text = answer.json.to_string();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(answer.json["errors"][0]["code"], "minLength");
}
