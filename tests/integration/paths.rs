//! The canonical path through the layer: what the inner service receives is what was routed
//! and validated, or the request is refused (docs/security.md, RFC 3986 §5.2.4 and §6.2.2).

use std::sync::{Arc, Mutex};

use http::{Request, Response};
use http_body_util::Full;
use oasgate::body::Body;
use oasgate::{OpenApiLayer, Options, PathNormalization, UnknownRoutes, Validated};
use tower::{ServiceBuilder, ServiceExt};

use crate::support::*;

/// What reached the inner service: the request target and the operation it was validated as.
type Reached = Arc<Mutex<Option<(String, Option<String>)>>>;

/// Sends `uri` through `layer` to a service that records what it receives.
async fn through(
    layer: &OpenApiLayer,
    uri: &str,
) -> (u16, serde_json::Value, Option<(String, Option<String>)>) {
    let reached: Reached = Arc::default();
    let seen = reached.clone();
    let service =
        ServiceBuilder::new()
            .layer(layer.clone())
            .service_fn(move |req: Request<Body>| {
                let seen = seen.clone();
                async move {
                    let operation = req
                        .extensions()
                        .get::<Validated>()
                        .map(|v| v.operation.to_string());
                    *seen.lock().unwrap() = Some((req.uri().to_string(), operation));
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(bytes::Bytes::new())))
                }
            });
    let request = Request::get(uri)
        .header("x-api-key", "k")
        .header("authorization", "Bearer t")
        .body(Body::empty())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    let reached = reached.lock().unwrap().clone();
    (status, json, reached)
}

fn gate(options: Options) -> OpenApiLayer {
    fixture_layer("local/gate.yaml", options)
}

/// Each row: the request target, then what the inner service must receive — the target and
/// the operation it was validated as — or the refusal's status and error code.
#[tokio::test]
async fn attack_paths_are_refused_or_reach_the_service_as_validated() {
    enum Want {
        Reaches(&'static str, Option<&'static str>),
        Refused(u16, &'static str),
    }
    use Want::*;
    let reject = gate(Options::default());
    let pass_through = gate(Options::default().unknown_routes(UnknownRoutes::PassThrough));
    let normalize = gate(Options::default().path_normalization(PathNormalization::Normalize));
    let rows: &[(&OpenApiLayer, &str, Want)] = &[
        (
            &reject,
            "/v2/public/readme",
            Reaches("/v2/public/readme", Some("getPublic")),
        ),
        // An encoded separator inside a parameter would be a separator to nginx.
        (
            &reject,
            "/v2/public/..%2Fadmin",
            Refused(400, "encodedSlash"),
        ),
        (
            &reject,
            "/v2/public/..%2fadmin",
            Refused(400, "encodedSlash"),
        ),
        (&reject, "/v2/public/..%5Cadmin", Refused(400, "backslash")),
        // Dot segments in every spelling: validated as one operation, run as another.
        (
            &reject,
            "/v2/pets/.?limit=100000&role=admin",
            Refused(400, "dotSegment"),
        ),
        (
            &reject,
            "/v2/public/%2e%2e/admin",
            Refused(400, "dotSegment"),
        ),
        (
            &reject,
            "/v2/public/%2E%2e/admin",
            Refused(400, "dotSegment"),
        ),
        (&reject, "/v2/public/.%2E/admin", Refused(400, "dotSegment")),
        (&reject, "/v2/x/../admin", Refused(400, "dotSegment")),
        (&reject, "/v2/./admin", Refused(400, "dotSegment")),
        (&reject, "/v2/admin/.", Refused(400, "dotSegment")),
        (&reject, "/v2//admin", Refused(400, "emptySegment")),
        // Overlong UTF-8 for `.`, and NUL.
        (
            &reject,
            "/v2/public/%C0%AE%C0%AE/admin",
            Refused(400, "utf8"),
        ),
        (&reject, "/v2/public/a%00", Refused(400, "controlCharacter")),
        // Tomcat's path parameters.
        (&reject, "/v2/public/a;x=1", Refused(400, "semicolon")),
        (&reject, "/v2/public/..;/admin", Refused(400, "semicolon")),
        (&reject, "/v2/admin;x=1", Refused(400, "semicolon")),
        // Encoded unreserved characters are those characters (RFC 3986 §6.2.2.2): `%61dmin`
        // is the admin operation, with its credentials checked, and is handed on as `admin`.
        (
            &reject,
            "/v2/%61dmin",
            Reaches("/v2/admin", Some("getAdmin")),
        ),
        (
            &reject,
            "/v2/public/%41%7e",
            Reaches("/v2/public/A~", Some("getPublic")),
        ),
        (
            &reject,
            "/v2/public/a%3fb",
            Reaches("/v2/public/a%3Fb", Some("getPublic")),
        ),
        // Double encoding is data, handed on as sent.
        (
            &reject,
            "/v2/public/%252e%252e%252fadmin",
            Reaches("/v2/public/%252e%252e%252fadmin", Some("getPublic")),
        ),
        // Pass-through: the same rules decide what passes unvalidated.
        (&pass_through, "/v2//admin", Refused(400, "emptySegment")),
        (&pass_through, "/v2/./admin", Refused(400, "dotSegment")),
        (&pass_through, "/v2/x/../admin", Refused(400, "dotSegment")),
        (
            &pass_through,
            "/v2/%61dmin",
            Reaches("/v2/admin", Some("getAdmin")),
        ),
        (
            &pass_through,
            "/v2/other/%7eme",
            Reaches("/v2/other/~me", None),
        ),
        // Normalize: resolved before matching, and the resolved path is handed on.
        (
            &normalize,
            "/v2/x/../admin",
            Reaches("/v2/admin", Some("getAdmin")),
        ),
        (
            &normalize,
            "/v2//admin",
            Reaches("/v2/admin", Some("getAdmin")),
        ),
        (
            &normalize,
            "/v2/pets/./../pets?limit=5",
            Reaches("/v2/pets?limit=5", Some("findPets")),
        ),
        (
            &normalize,
            "/v2/x/../pets?limit=100000",
            Refused(400, "maximum"),
        ),
        (
            &normalize,
            "/v2/public/..%2Fadmin",
            Refused(400, "encodedSlash"),
        ),
    ];
    for (layer, uri, want) in rows {
        let (status, json, reached) = through(layer, uri).await;
        match want {
            Reaches(target, operation) => {
                assert_eq!(status, 200, "{uri}: {json}");
                let (got, op) = reached.unwrap_or_else(|| panic!("{uri}: nothing reached"));
                assert_eq!(got, *target, "{uri}");
                assert_eq!(op.as_deref(), *operation, "{uri}");
            }
            Refused(want_status, code) => {
                assert_eq!(status, *want_status, "{uri}: {json}");
                assert!(reached.is_none(), "{uri} reached the service: {reached:?}");
                assert_eq!(json["errors"][0]["code"], *code, "{uri}: {json}");
            }
        }
    }
}

#[tokio::test]
async fn a_refused_path_is_a_problem_naming_the_segment() {
    let (status, json, _) = through(&gate(Options::default()), "/v2/public/..%2Fadmin").await;
    assert_eq!(status, 400);
    assert_eq!(
        json,
        serde_json::json!({
            "type": "urn:oasgate:problem:invalid-path",
            "title": "Invalid request path",
            "status": 400,
            "detail": "path segment 3 `..%2Fadmin` holds an encoded `/` (`%2F`), which servers disagree about",
            "instance": "/v2/public/..%2Fadmin",
            "errors": [{
                "in": "path",
                "name": "",
                "pointer": "/3",
                "code": "encodedSlash",
                "detail": "path segment 3 `..%2Fadmin` holds an encoded `/` (`%2F`), which servers disagree about"
            }]
        })
    );
}

#[tokio::test]
async fn documents_with_matrix_parameters_keep_semicolons_where_they_belong() {
    let spec = r#"
openapi: 3.0.3
info: {title: m, version: "1"}
paths:
  /cars/{spec}:
    get:
      operationId: car
      parameters:
        - {name: spec, in: path, required: true, style: matrix, explode: true,
           schema: {type: object, properties: {color: {type: string}}}}
      responses: {"200": {description: ok}}
  /files/{name}:
    get:
      operationId: file
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: ok}}
"#;
    let layer = layer(spec, Options::default());
    let (status, json, reached) = through(&layer, "/cars/;color=red").await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(reached.unwrap().1.as_deref(), Some("car"));
    // Outside the matrix parameter, a raw `;` is still refused.
    let (status, json, _) = through(&layer, "/files/a;b").await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["errors"][0]["code"], "semicolon");
    assert_eq!(json["errors"][0]["name"], "name");
    let (status, json, _) = through(&layer, "/files/a%3Bb").await;
    assert_eq!(status, 200, "{json}");
}
