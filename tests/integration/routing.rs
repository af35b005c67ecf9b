//! Routing through the layer: base paths, precedence, multi-parameter segments, 404/405.

use oasgate::{Options, UnknownRoutes};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn routes_table() {
    let layer = kitchen();
    // (method, uri, status, operationId when it reaches the service)
    let rows: &[(&str, &str, u16, Option<&str>)] = &[
        ("GET", "/v1/pets", 200, Some("listPets")),
        ("GET", "/v1/pets/mine", 200, Some("myPets")),
        ("GET", "/v1/pets/7", 200, Some("getPet")),
        ("DELETE", "/v1/pets/7", 200, Some("deletePet")),
        ("GET", "/v1/files/archive.tar.gz", 200, Some("getFile")),
        ("GET", "/v1/files/notes.txt", 200, Some("getFile")),
        ("GET", "/v1/reports/2024-05", 200, Some("getReport")),
        // Server variables take their defaults: /v2 is not a base path.
        ("GET", "/v2/pets", 404, None),
        ("GET", "/pets", 404, None),
        // Case-sensitive, and a trailing slash is another path.
        ("GET", "/v1/Pets", 404, None),
        ("GET", "/v1/pets/", 404, None),
        ("GET", "/v1/pets/7/extra", 404, None),
        ("PUT", "/v1/pets/7", 405, None),
        ("PATCH", "/v1/pets", 405, None),
    ];
    for (method, uri, status, op) in rows {
        let answer = send(&layer, request(method, uri)).await;
        assert_eq!(answer.status, *status, "{method} {uri}: {}", answer.json);
        if let Some(op) = op {
            assert_eq!(
                answer.json["validated"]["operationId"], *op,
                "{method} {uri}"
            );
        }
    }
}

#[tokio::test]
async fn path_values_are_decoded_after_matching() {
    let layer = kitchen();
    // An encoded `/` is refused by default (docs/security.md); with the option it is data.
    let answer = send(&layer, get("/v1/files/my%20file%2Fx.gz")).await;
    assert_eq!(answer.status, 400, "{}", answer.json);
    assert_eq!(answer.json["errors"][0]["code"], "encodedSlash");
    let slashes = fixture_layer(
        "local/kitchen.yaml",
        Options::default().allow_encoded_slash(true),
    );
    let answer = send(&slashes, get("/v1/files/my%20file%2Fx.gz")).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["validated"]["path"],
        json!({"name": "my file/x", "ext": "gz"})
    );
    let answer = send(&layer, get("/v1/reports/2024-05")).await;
    assert_eq!(
        answer.json["validated"]["path"],
        json!({"year": 2024, "month": 5})
    );
    let answer = send(&layer, get("/v1/reports/1999-13")).await;
    assert_eq!(answer.status, 400);
    let names: Vec<&str> = answer.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["year", "month"]);
}

#[tokio::test]
async fn method_not_allowed_lists_allow() {
    let answer = send(&kitchen(), request("POST", "/v1/pets/3")).await;
    assert_eq!(answer.status, 405);
    // RFC 9110 §9.3.2: HEAD is answered wherever GET is; OPTIONS is answered on every path.
    assert_eq!(answer.headers["allow"], "GET, HEAD, DELETE, OPTIONS");
    assert_eq!(answer.headers["content-type"], "application/problem+json");
    assert_eq!(answer.json["status"], 405);
}

#[tokio::test]
async fn trailing_slash_can_be_tolerated() {
    let layer = fixture_layer(
        "local/kitchen.yaml",
        Options::default().tolerate_trailing_slash(true),
    );
    assert_eq!(send(&layer, get("/v1/pets/")).await.status, 200);
    assert_eq!(
        send(&layer, get("/v1/pets/mine/")).await.json["validated"]["operationId"],
        "myPets"
    );
}

#[tokio::test]
async fn unknown_routes_can_pass_through() {
    let layer = fixture_layer(
        "local/kitchen.yaml",
        Options::default().unknown_routes(UnknownRoutes::PassThrough),
    );
    let answer = send(&layer, get("/health")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json["validated"],
        json!(null),
        "untouched requests carry no Validated"
    );
    // Known paths are still validated.
    assert_eq!(send(&layer, get("/v1/pets/0")).await.status, 400);
}

#[tokio::test]
async fn prefix_goes_before_base_paths() {
    let layer = fixture_layer("local/kitchen.yaml", Options::default().prefix("/api/"));
    assert_eq!(send(&layer, get("/api/v1/pets/mine")).await.status, 200);
    assert_eq!(send(&layer, get("/v1/pets/mine")).await.status, 404);
}

#[tokio::test]
async fn path_item_and_operation_servers_override_the_document() {
    let spec = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: /root}]
paths:
  /a:
    servers: [{url: "http://item.test/item"}, {url: /other}]
    get:
      responses: {"200": {description: ok}}
    post:
      servers: [{url: /op}]
      responses: {"200": {description: ok}}
  /b:
    get:
      responses: {"200": {description: ok}}
"#;
    let layer = layer(spec, Options::default());
    let rows: &[(&str, &str, u16)] = &[
        ("GET", "/item/a", 200),
        ("GET", "/other/a", 200),
        ("GET", "/root/a", 404),
        ("POST", "/op/a", 200),
        ("POST", "/item/a", 405),
        ("GET", "/root/b", 200),
    ];
    for (method, uri, status) in rows {
        assert_eq!(
            send(&layer, request(method, uri)).await.status,
            *status,
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn serves_the_document() {
    let answer = send(&kitchen(), get("/openapi.json")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert_eq!(answer.json["info"]["title"], "Kitchen sink");
    let moved = fixture_layer(
        "local/kitchen.yaml",
        Options::default().openapi_json_path(Some("/spec.json")),
    );
    assert_eq!(send(&moved, get("/spec.json")).await.status, 200);
    assert_eq!(send(&moved, get("/openapi.json")).await.status, 404);
    let off = fixture_layer(
        "local/kitchen.yaml",
        Options::default().openapi_json_path(None),
    );
    assert_eq!(send(&off, get("/openapi.json")).await.status, 404);
}

/// HEAD and OPTIONS (RFC 9110 §9.3.2 and §9.3.7): what the inner service receives, with which
/// operation, or what the layer answers itself.
#[tokio::test]
async fn head_and_options() {
    use std::sync::{Arc, Mutex};

    use http::{Request, Response};
    use oasgate::Validated;
    use oasgate::body::Body;
    use tower::{ServiceBuilder, ServiceExt};

    let spec = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 10}}
      responses: {"200": {description: ok}}
    post:
      operationId: addPet
      responses: {"200": {description: ok}}
  /pets/{id}:
    head:
      operationId: petExists
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: ok}}
    get:
      operationId: getPet
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: ok}}
    options:
      operationId: petOptions
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: ok}}
"#;
    let reject = layer(spec, Options::default());
    let pass_through = layer(
        spec,
        Options::default().unknown_routes(UnknownRoutes::PassThrough),
    );
    // (layer, method, uri, headers, status, what the inner service saw: method and operation)
    let rows: &[(
        &oasgate::OpenApiLayer,
        &str,
        &str,
        &[(&str, &str)],
        u16,
        Option<(&str, Option<&str>)>,
    )] = &[
        // HEAD without a head operation is validated as the GET and reaches the service as HEAD.
        (
            &reject,
            "HEAD",
            "/pets?limit=3",
            &[],
            200,
            Some(("HEAD", Some("listPets"))),
        ),
        (&reject, "HEAD", "/pets?limit=300", &[], 400, None),
        // A declared head operation wins.
        (
            &reject,
            "HEAD",
            "/pets/7",
            &[],
            200,
            Some(("HEAD", Some("petExists"))),
        ),
        // A plain OPTIONS is answered here: 204 with Allow.
        (&reject, "OPTIONS", "/pets", &[], 204, None),
        // A CORS preflight for a method the path has goes to the service, unvalidated.
        (
            &reject,
            "OPTIONS",
            "/pets",
            &[
                ("origin", "https://app.test"),
                ("access-control-request-method", "POST"),
            ],
            200,
            Some(("OPTIONS", None)),
        ),
        (
            &reject,
            "OPTIONS",
            "/pets",
            &[
                ("origin", "https://app.test"),
                ("access-control-request-method", "HEAD"),
            ],
            200,
            Some(("OPTIONS", None)),
        ),
        // A preflight for a method the path lacks is a plain OPTIONS: the browser sees no
        // CORS headers and stops.
        (
            &reject,
            "OPTIONS",
            "/pets",
            &[
                ("origin", "https://app.test"),
                ("access-control-request-method", "DELETE"),
            ],
            204,
            None,
        ),
        // Under pass-through, OPTIONS goes to the service.
        (
            &pass_through,
            "OPTIONS",
            "/pets",
            &[],
            200,
            Some(("OPTIONS", None)),
        ),
        // A declared options operation is validated like any other.
        (
            &reject,
            "OPTIONS",
            "/pets/7",
            &[],
            200,
            Some(("OPTIONS", Some("petOptions"))),
        ),
        (&reject, "OPTIONS", "/pets/x", &[], 400, None),
        (&reject, "PUT", "/pets", &[], 405, None),
    ];
    for (layer, method, uri, headers, status, want) in rows {
        let seen: Arc<Mutex<Option<(String, Option<String>)>>> = Arc::default();
        let record = seen.clone();
        let service =
            ServiceBuilder::new()
                .layer((*layer).clone())
                .service_fn(move |req: Request<Body>| {
                    let record = record.clone();
                    async move {
                        let operation = req
                            .extensions()
                            .get::<Validated>()
                            .map(|v| v.operation.to_string());
                        *record.lock().unwrap() = Some((req.method().to_string(), operation));
                        Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
                    }
                });
        let mut builder = Request::builder().method(*method).uri(*uri);
        for (name, value) in *headers {
            builder = builder.header(*name, *value);
        }
        let response = service
            .oneshot(builder.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            *status,
            "{method} {uri} {headers:?}"
        );
        let seen = seen.lock().unwrap().clone();
        let want = want.map(|(m, op)| (m.to_owned(), op.map(str::to_owned)));
        assert_eq!(seen, want, "{method} {uri} {headers:?}");
        if *status == 204 || *status == 405 {
            assert_eq!(
                response.headers()["allow"],
                "GET, HEAD, POST, OPTIONS",
                "{method} {uri}"
            );
        }
    }
}

/// A browser's cross-origin request to an axum router with tower-http's `CorsLayer` inside the
/// layer: the preflight reaches the CORS layer, which answers it; the actual request is
/// validated as usual.
#[tokio::test]
async fn cors_preflights_reach_a_cors_layer_inside() {
    use axum::Router;
    use axum::routing::get as axum_get;
    use http::{Method, Request};
    use tower::ServiceExt;
    use tower_http::cors::CorsLayer;

    let app = Router::new()
        .route("/v1/pets", axum_get(|| async { "[]" }))
        .layer(
            CorsLayer::new()
                .allow_origin("https://app.test".parse::<http::HeaderValue>().unwrap())
                .allow_methods([Method::GET, Method::POST]),
        )
        .layer(kitchen());
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/v1/pets")
        .header("origin", "https://app.test")
        .header("access-control-request-method", "GET")
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = app.clone().oneshot(preflight).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://app.test"
    );
    assert!(
        answer.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    let actual = Request::get("/v1/pets?limit=ten")
        .header("origin", "https://app.test")
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = app.oneshot(actual).await.unwrap();
    assert_eq!(answer.status(), 400, "the actual request is validated");
}

#[tokio::test]
async fn a_miss_near_a_declared_path_or_parameter_says_what_was_meant() {
    let layer = fixture_layer(
        "oai/v3.0-petstore-expanded.yaml",
        Options::default().undeclared_query(oasgate::UndeclaredParams::Reject),
    );
    // (request, status, the end of the detail; `None`: no hint at all)
    let rows: &[(&str, u16, Option<&str>)] = &[
        ("/pets", 404, Some("; did you mean `/v2/pets`?")),
        ("/pets/7", 404, Some("; did you mean `/v2/pets/7`?")),
        ("/nothing", 404, None),
        ("/v2/pets?limt=5", 400, Some("; did you mean `limit`?")),
        ("/v2/pets?tag=a", 400, Some("; did you mean `tags`?")),
        ("/v2/pets?color=red", 400, None),
    ];
    for (uri, status, hint) in rows {
        let answer = send(&layer, get(uri)).await;
        assert_eq!(answer.status, *status, "{uri}: {}", answer.json);
        let detail = answer.json["detail"].as_str().unwrap_or_default();
        match hint {
            Some(hint) => assert!(detail.ends_with(hint), "{uri}: {detail}"),
            None => assert!(!detail.contains("did you mean"), "{uri}: {detail}"),
        }
    }
}
