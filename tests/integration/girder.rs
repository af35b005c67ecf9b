//! Girder-style coercion: canonical queries, transforms, paging merge, models, deprecation.

use http::Request;
use oasgate::Options;
use oasgate::models::{LoadError, loader_fn};
use serde_json::{Value, json};

use crate::support::*;

fn pets() -> std::sync::Arc<dyn oasgate::models::ModelLoader> {
    loader_fn(|id: Value| async move {
        match id.as_i64() {
            Some(1) => Ok(Some(json!({"id": 1, "name": "Rex"}))),
            Some(500) => Err(LoadError("database is down at /var/db/pets.sqlite".into())),
            _ => Ok(None),
        }
    })
}

fn girder(options: Options) -> oasgate::OpenApiLayer {
    fixture_layer("local/girder.yaml", options.model_loader("pet", pets()))
}

/// Sends a GET through a service that echoes the query string it received.
async fn seen_query(layer: &oasgate::OpenApiLayer, uri: &str) -> (u16, String, Value) {
    use http_body_util::BodyExt;
    use tower::{ServiceBuilder, ServiceExt};
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
        |req: Request<oasgate::body::Body>| async move {
            let body = json!({
                "query": req.uri().query().unwrap_or(""),
                "paging": req.extensions().get::<oasgate::Paging>(),
                "validated": req.extensions().get::<oasgate::Validated>(),
            });
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                bytes::Bytes::from(body.to_string()),
            )))
        },
    );
    let response = service.oneshot(get(uri)).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    (
        status,
        json["query"].as_str().unwrap_or("").to_owned(),
        json,
    )
}

#[tokio::test]
async fn handlers_see_a_canonical_query() {
    let layer = girder(Options::default());
    // (request query, query the handler sees)
    let rows: &[(&str, &str)] = &[
        ("", "limit=25&offset=0"),
        ("kind=%20Cat%20", "kind=cat&limit=25&offset=0"),
        ("code=abc", "code=ABC&limit=25&offset=0"),
        ("tags=%20a%20,b", "tags=a,b&limit=25&offset=0"),
        ("limit=010&offset=5", "limit=10&offset=5"),
        (
            "sort=name&sortdir=-1",
            "limit=25&offset=0&sort=name&sortdir=-1",
        ),
        ("sort=%20name%20", "limit=25&offset=0&sort=name&sortdir=1"),
        (
            "sort=name,-created",
            "limit=25&offset=0&sort=name%2C-created",
        ),
        (
            "where=%7B%22a%22%3A1%7D",
            "where=%7B%22a%22%3A1%7D&limit=25&offset=0",
        ),
        (
            "after=2024-01-02T10:00:00%2B02:00",
            "after=2024-01-02T08%3A00%3A00Z&limit=25&offset=0",
        ),
        (
            "extra=keep%20me&kind=dog",
            "kind=dog&limit=25&offset=0&extra=keep%20me",
        ),
    ];
    for (query, want) in rows {
        let (status, seen, json) = seen_query(&layer, &format!("/items?{query}")).await;
        assert_eq!(status, 200, "?{query}: {json}");
        assert_eq!(seen, *want, "?{query}");
    }
}

#[tokio::test]
async fn canonical_query_can_be_turned_off() {
    let layer = girder(Options::default().canonical_query(false));
    let (_, seen, json) = seen_query(&layer, "/items?kind=%20Cat&limit=7").await;
    assert_eq!(seen, "kind=%20Cat&limit=7");
    assert_eq!(
        json["validated"]["query"]["kind"], "cat",
        "Validated still holds the final values"
    );
}

#[tokio::test]
async fn transforms_run_before_validation() {
    let layer = girder(Options::default());
    let rows: &[(&str, u16)] = &[
        ("kind=CAT", 200),
        ("kind=%20dog", 200),
        ("kind=bird", 400),
        ("code=ab1", 400),
        ("code=xyz", 200),
    ];
    for (query, status) in rows {
        assert_eq!(
            send(&layer, get(&format!("/items?{query}"))).await.status,
            *status,
            "?{query}"
        );
    }
}

#[tokio::test]
async fn paging_merges_into_one_structure() {
    let layer = girder(Options::default());
    // (query, expected paging, or the parameter named by the error)
    let rows: Vec<(&str, Result<Value, &str>)> = vec![
        ("", Ok(json!({"limit": 25, "offset": 0, "sort": []}))),
        (
            "limit=100&offset=3",
            Ok(json!({"limit": 100, "offset": 3, "sort": []})),
        ),
        (
            "sort=name&sortdir=-1",
            Ok(json!({"limit": 25, "offset": 0, "sort": [{"field": "name", "dir": -1}]})),
        ),
        (
            "sort=name,-created",
            Ok(
                json!({"limit": 25, "offset": 0, "sort": [{"field": "name", "dir": 1}, {"field": "created", "dir": -1}]}),
            ),
        ),
        ("limit=101", Err("limit")),
        ("limit=-1", Err("limit")),
        ("offset=x", Err("offset")),
        ("sortdir=2", Err("sortdir")),
        ("sort=name,-created&sortdir=1", Err("sortdir")),
        ("sort=price", Err("sort")),
    ];
    for (query, want) in rows {
        let (status, _, json) = seen_query(&layer, &format!("/items?{query}")).await;
        match want {
            Ok(paging) => {
                assert_eq!(status, 200, "?{query}: {json}");
                assert_eq!(json["paging"], paging, "?{query}");
                assert_eq!(json["validated"]["paging"], paging, "?{query}");
            }
            Err(name) => {
                let answer = send(&layer, get(&format!("/items?{query}"))).await;
                assert_eq!(answer.status, 400, "?{query}");
                assert_eq!(
                    answer.json["errors"][0]["name"], name,
                    "?{query}: {}",
                    answer.json
                );
            }
        }
    }
}

#[tokio::test]
async fn paging_respects_declared_parameters_and_strip_policy() {
    let layer = girder(Options::default());
    let (status, seen, json) = seen_query(&layer, "/plain?junk=1&sort=a").await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json["paging"]["limit"], 3,
        "the document's own `limit` wins"
    );
    assert_eq!(
        seen, "limit=3&offset=0&sort=a&sortdir=1",
        "undeclared `junk` is stripped"
    );
    assert_eq!(send(&layer, get("/plain?limit=11")).await.status, 400);
}

#[tokio::test]
async fn the_served_document_shows_the_added_parameters() {
    let layer = girder(Options::default());
    let doc = send(&layer, get("/openapi.json")).await.json;
    let names: Vec<&str> = doc["paths"]["/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "kind", "code", "tags", "since", "after", "where", "limit", "offset", "sort", "sortdir"
        ]
    );
    let limit = &doc["paths"]["/items"]["get"]["parameters"][6];
    assert_eq!(
        limit["schema"],
        json!({"type": "integer", "minimum": 0, "maximum": 100, "default": 25})
    );
}

#[tokio::test]
async fn model_parameters_load_their_entity() {
    use http_body_util::BodyExt;
    use tower::{ServiceBuilder, ServiceExt};
    let layer = girder(Options::default());
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
        |req: Request<oasgate::body::Body>| async move {
            let pet = req
                .extensions()
                .get::<oasgate::models::Models>()
                .and_then(|m| m.get("petId").cloned());
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                bytes::Bytes::from(json!(pet).to_string()),
            )))
        },
    );
    let ok = service.clone().oneshot(get("/pets/1")).await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value =
        serde_json::from_slice(&ok.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body, json!({"id": 1, "name": "Rex"}));

    let missing = send(&layer, get("/pets/2")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        (missing.json["kind"].clone(), missing.json["id"].clone()),
        (json!("pet"), json!(2))
    );
    let failed = send(&layer, get("/pets/500")).await;
    assert_eq!(failed.status, 500);
    assert!(
        !failed.json.to_string().contains("/var/db"),
        "no internal detail: {}",
        failed.json
    );
}

#[test]
fn a_model_without_a_loader_does_not_build() {
    let doc = oasgate::Document::from_path(fixture("local/girder.yaml")).unwrap();
    let error = oasgate::OpenApiLayer::new(&doc).expect_err("no loader");
    assert!(
        error
            .to_string()
            .contains("no model loader is registered for `pet`"),
        "{error}"
    );
}

#[tokio::test]
async fn deprecated_operations_say_so() {
    let answer = send(&girder(Options::default()), get("/old")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["deprecation"], "@1706659200");
    assert_eq!(answer.headers["sunset"], "Wed, 31 Dec 2025 00:00:00 GMT");
    // Its problems say so too.
    let strict = girder(Options::default().undeclared_query(oasgate::UndeclaredParams::Reject));
    let refused = send(&strict, get("/old?colour=red")).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.headers["deprecation"], "@1706659200");
    assert_eq!(refused.headers["sunset"], "Wed, 31 Dec 2025 00:00:00 GMT");
    let fresh = send(&girder(Options::default()), get("/items")).await;
    assert!(fresh.headers.get("deprecation").is_none());
    let ending = send(&girder(Options::default()), get("/ending")).await;
    assert!(ending.headers.get("deprecation").is_none(), "sunset only");
    assert_eq!(ending.headers["sunset"], "Sun, 30 Jun 2030 00:00:00 GMT");

    // Without `x-deprecated-at`: already deprecated, at a date that never changes.
    let undated = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      deprecated: true\n      responses: {'200': {description: ok}}\n";
    let answer = send(&layer(undated, Options::default()), get("/a")).await;
    assert_eq!(answer.headers["deprecation"], "@0");
}

#[tokio::test]
async fn deprecation_and_sunset_are_logged_once_per_operation() {
    let capture = LogCapture::new(tracing::Level::WARN);
    let layer = girder(Options::default());
    for uri in ["/old", "/ending", "/items", "/old", "/ending", "/items"] {
        assert_eq!(send(&layer, get(uri)).await.status, 200, "{uri}");
    }
    let logged = capture.logs.text();
    let lines: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("oasgate::deprecation"))
        .collect();
    assert_eq!(lines.len(), 2, "{logged}");
    assert!(
        lines[0].contains("a deprecated operation was called") && lines[0].contains("oldThing"),
        "{logged}"
    );
    assert!(
        lines[1].contains("an operation with a sunset date was called")
            && lines[1].contains("endingThing"),
        "{logged}"
    );
}

const KEYED: &str = r#"
openapi: 3.0.3
info: {title: keyed, version: "1"}
components:
  securitySchemes:
    key: {type: apiKey, in: query, name: api_key}
security: [{key: []}]
paths:
  /keyed:
    get:
      parameters: [{name: q, in: query, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /keyed-strict:
    get:
      x-oasgate-undeclared-query: strip
      parameters: [{name: q, in: query, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /keyed-bare:
    get:
      x-oasgate-undeclared-query: strip
      responses: {"200": {description: ok}}
"#;

#[tokio::test]
async fn query_credentials_reach_the_inner_service_as_sent() {
    // No verifier: the inner service may be the one checking the key.
    let layer = layer(KEYED, Options::default());
    // (request, query the handler sees)
    let rows: &[(&str, &str)] = &[
        ("/keyed?q=a&api_key=secret", "q=a&api_key=secret"),
        (
            "/keyed?api_key=s%20t&q=a&junk=1",
            "q=a&api_key=s%20t&junk=1",
        ),
        (
            "/keyed-strict?q=a&api_key=secret&junk=1",
            "q=a&api_key=secret",
        ),
        ("/keyed-bare?junk=1&api_key=secret", "api_key=secret"),
    ];
    for (uri, want) in rows {
        let (status, seen, json) = seen_query(&layer, uri).await;
        assert_eq!(status, 200, "{uri}: {json}");
        assert_eq!(seen, *want, "{uri}");
    }
}

const DECLARED_PAGING: &str = r#"
openapi: 3.0.3
info: {title: paging, version: "1"}
paths:
  /things:
    get:
      x-paging: {max_limit: 10}
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: offset, in: query, schema: {type: integer}}
        - {name: sortdir, in: query, schema: {type: integer}}
      responses: {"200": {description: ok}}
"#;

#[tokio::test]
async fn paging_holds_declared_parameters_to_its_range() {
    let layer = layer(DECLARED_PAGING, Options::default());
    // (query, expected paging, or the parameter and a part of the error's detail)
    let rows: Vec<(&str, Result<Value, (&str, &str)>)> = vec![
        ("", Ok(json!({"limit": 10, "offset": 0, "sort": []}))),
        (
            "limit=10&offset=4",
            Ok(json!({"limit": 10, "offset": 4, "sort": []})),
        ),
        (
            "sort=name&sortdir=-1",
            Ok(json!({"limit": 10, "offset": 0, "sort": [{"field": "name", "dir": -1}]})),
        ),
        ("limit=500", Err(("limit", "expected ≤ 10"))),
        ("limit=11", Err(("limit", "got 11"))),
        ("limit=-1", Err(("limit", "from 0 to 10"))),
        ("offset=-3", Err(("offset", "≥ 0"))),
        (
            "sort=name&sortdir=2",
            Err(("sortdir", "expected 1 or -1, got 2")),
        ),
        ("sortdir=0", Err(("sortdir", "expected 1 or -1"))),
    ];
    for (query, want) in rows {
        let (status, seen, json) = seen_query(&layer, &format!("/things?{query}")).await;
        match want {
            Ok(paging) => {
                assert_eq!(status, 200, "?{query}: {json}");
                assert_eq!(json["paging"], paging, "?{query}");
                assert!(
                    seen.contains(&format!("limit={}", paging["limit"])),
                    "?{query}: the canonical query carries the merged limit: {seen}"
                );
            }
            Err((name, part)) => {
                let answer = send(&layer, get(&format!("/things?{query}"))).await;
                assert_eq!(answer.status, 400, "?{query}: {}", answer.json);
                let error = &answer.json["errors"][0];
                assert_eq!(error["name"], name, "?{query}: {}", answer.json);
                let detail = error["detail"].as_str().unwrap();
                assert!(
                    detail.starts_with(&format!("query parameter `{name}`: "))
                        && detail.contains(part),
                    "?{query}: {detail}"
                );
            }
        }
    }
}

#[tokio::test]
async fn paging_reaches_operations_behind_a_path_item_ref() {
    let dir = Scratch::new(
        "paging-ref",
        &[
            (
                "api.yaml",
                "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pages:\n    $ref: 'items.yaml#/pages'\n  /more-pages:\n    $ref: 'items.yaml#/pages'\n",
            ),
            (
                "items.yaml",
                "pages:\n  get:\n    x-paging: {max_limit: 20}\n    parameters:\n      - {name: q, in: query, schema: {type: string}}\n    responses: {'200': {description: ok}}\n",
            ),
        ],
    );
    let doc = oasgate::Document::from_path(dir.0.join("api.yaml")).expect("loads");
    let layer = oasgate::OpenApiLayer::new(&doc).expect("compiles");
    for path in ["/pages", "/more-pages"] {
        let rejected = send(&layer, get(&format!("{path}?limit=abc"))).await;
        assert_eq!(rejected.status, 400, "{path}: {}", rejected.json);
        assert_eq!(rejected.json["errors"][0]["name"], "limit", "{path}");
        assert_eq!(
            send(&layer, get(&format!("{path}?limit=21"))).await.status,
            400
        );
        let (status, _, json) = seen_query(&layer, &format!("{path}?limit=5&sort=q")).await;
        assert_eq!(status, 200, "{path}: {json}");
        assert_eq!(json["paging"]["limit"], 5, "{path}");
    }
    // The served document shows the added parameters once, where the path item is.
    let served = send(&layer, get("/openapi.json")).await.json;
    let item = &served["paths"]["/pages"];
    let item = match item["$ref"].as_str() {
        Some(target) => served.pointer(target.trim_start_matches('#')).unwrap(),
        None => item,
    };
    let names: Vec<&str> = item["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["q", "limit", "offset", "sort", "sortdir"]);
}

#[tokio::test]
async fn dates_become_one_canonical_form() {
    let layer = girder(Options::default());
    // (query, expected validated value of the parameter, or error)
    let rows: &[(&str, &str, Option<&str>)] = &[
        ("since=2024-01-02", "since", Some("2024-01-02")),
        ("since=2%20January%202024", "since", Some("2024-01-02")),
        ("since=Jan%202%202024", "since", Some("2024-01-02")),
        ("since=01/04/2024", "since", Some("2024-04-01")),
        ("since=2024-01-02T23:30", "since", Some("2024-01-02")),
        ("since=someday", "since", None),
        ("since=2023-02-29", "since", None),
        // `after` is strict (no x-date): RFC 3339 only, handed on in UTC.
        (
            "after=2024-01-02T10:00:00%2B02:00",
            "after",
            Some("2024-01-02T08:00:00Z"),
        ),
        (
            "after=2024-01-02T10:00:00Z",
            "after",
            Some("2024-01-02T10:00:00Z"),
        ),
        ("after=2%20January%202024", "after", None),
        ("after=2024-01-02", "after", None),
    ];
    for (query, name, want) in rows {
        let answer = send(&layer, get(&format!("/items?{query}"))).await;
        match want {
            Some(v) => {
                assert_eq!(answer.status, 200, "?{query}: {}", answer.json);
                assert_eq!(answer.json["validated"]["query"][name], *v, "?{query}");
            }
            None => {
                assert_eq!(answer.status, 400, "?{query}");
                let detail = answer.json["errors"][0]["detail"].as_str().unwrap();
                assert!(
                    detail.starts_with(&format!("query parameter `{name}`")),
                    "{detail}"
                );
                assert!(
                    detail.contains("2024-01-02"),
                    "shows an accepted example: {detail}"
                );
            }
        }
    }
    // Relative forms are read against the clock.
    let before = chrono::Utc::now()
        .date_naive()
        .pred_opt()
        .unwrap()
        .to_string();
    let answer = send(&layer, get("/items?since=yesterday")).await;
    let after = chrono::Utc::now()
        .date_naive()
        .pred_opt()
        .unwrap()
        .to_string();
    let got = answer.json["validated"]["query"]["since"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(got == before || got == after, "{got}");
}

#[tokio::test]
async fn date_options_apply_to_every_date_parameter() {
    use oasgate::dates::{Dialect, Zone};
    let options = Options::default()
        .lenient_dates(true)
        .date_dialect(Dialect::MonthFirst)
        .time_zone(Zone::parse("Europe/Paris").unwrap());
    let layer = girder(options);
    let answer = send(
        &layer,
        get("/items?since=01/04/2024&after=2%20July%202024%2010:00"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["validated"]["query"]["since"], "2024-01-04",
        "month first"
    );
    assert_eq!(
        answer.json["validated"]["query"]["after"], "2024-07-02T08:00:00Z",
        "read in Paris summer time"
    );
}
