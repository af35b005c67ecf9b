//! The layer built from a config file, report-only mode, and `check_head`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use oasgate::body::Body;
use oasgate::{OpenApiLayer, Options, ProblemKind, Rejection, Validated};
use tower::{ServiceBuilder, ServiceExt};

use crate::support::*;

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
      responses: {"200": {description: ok}}
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses: {"200": {description: ok}}
"#;

fn temp_dir(name: &str) -> std::path::PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "oasgate-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn layer_from_a_config_file_uses_its_options() {
    let dir = temp_dir("config");
    std::fs::write(dir.join("pets.yaml"), SPEC).unwrap();
    // (file name, text)
    let rows = [
        (
            "oasgate.yaml",
            "spec: pets.yaml\noptions:\n  prefix: /api\n  undeclared_query: reject\n",
        ),
        (
            "oasgate.toml",
            "spec = \"pets.yaml\"\n[options]\nprefix = \"/api\"\nundeclared_query = \"reject\"\n",
        ),
    ];
    for (name, text) in rows {
        std::fs::write(dir.join(name), text).unwrap();
        let layer = OpenApiLayer::from_config_file(dir.join(name)).unwrap();
        assert_eq!(
            send(&layer, get("/api/pets?limit=3")).await.status,
            200,
            "{name}"
        );
        assert_eq!(
            send(&layer, get("/pets")).await.status,
            404,
            "{name}: prefix"
        );
        let undeclared = send(&layer, get("/api/pets?color=red")).await;
        assert_eq!(undeclared.status, 400, "{name}: undeclared_query");
    }
    std::fs::write(
        dir.join("typo.yaml"),
        "spec: pets.yaml\noptions:\n  prefx: /api\n",
    )
    .unwrap();
    let error = OpenApiLayer::from_config_file(dir.join("typo.yaml")).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("typo.yaml:3:3: unknown key `prefx`; did you mean `prefix`?"),
        "{error}"
    );
    std::fs::write(dir.join("nospec.yaml"), "options: {}\n").unwrap();
    let error = OpenApiLayer::from_config_file(dir.join("nospec.yaml")).unwrap_err();
    assert!(error.to_string().contains("no `spec` is given"), "{error}");
    std::fs::write(dir.join("badspec.yaml"), "spec: missing.yaml\n").unwrap();
    let error = OpenApiLayer::from_config_file(dir.join("badspec.yaml")).unwrap_err();
    assert!(
        matches!(error, oasgate::config::LoadError::Document(_)),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What the inner service saw: its `Validated` and `Rejection` extensions and the body text.
type Seen = (Option<Validated>, Option<Rejection>, String);

/// Sends `request` through a report-only layer; the status, and what the inner service saw.
async fn report_only(request: Request<Body>) -> (u16, Option<Seen>) {
    use http_body_util::BodyExt;
    let seen: Arc<Mutex<Option<Seen>>> = Arc::default();
    let record = seen.clone();
    let service = ServiceBuilder::new()
        .layer(layer(SPEC, Options::default().enforce(false)))
        .service_fn(move |req: Request<Body>| {
            let record = record.clone();
            async move {
                let validated = req.extensions().get::<Validated>().cloned();
                let rejection = req.extensions().get::<Rejection>().cloned();
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let text = String::from_utf8_lossy(&body).into_owned();
                *record.lock().unwrap() = Some((validated, rejection, text));
                Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Empty::<
                    bytes::Bytes,
                >::new()))
            }
        });
    let response = service.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let seen = seen.lock().unwrap().take();
    (status, seen)
}

#[tokio::test]
async fn report_only_lets_everything_through_and_says_what_it_would_reject() {
    let bad_body = r#"{"name": 7}"#;
    // (request, would-be status, operation, kind)
    let rows = [
        (
            get("/pets?limit=500"),
            Some((400, Some("listPets"), ProblemKind::InvalidParameters)),
        ),
        (
            with_body("POST", "/pets", "application/json", bad_body),
            Some((400, Some("POST /pets"), ProblemKind::InvalidBody)),
        ),
        (
            with_body("POST", "/pets", "text/plain", "hi"),
            Some((415, Some("POST /pets"), ProblemKind::UnsupportedMediaType)),
        ),
        (get("/nowhere"), Some((404, None, ProblemKind::NotFound))),
        (get("/pets?limit=5"), None),
    ];
    for (request, want) in rows {
        let label = format!("{} {}", request.method(), request.uri());
        let sent_body = match want {
            Some((_, Some("POST /pets"), ProblemKind::InvalidBody)) => bad_body,
            Some((_, Some("POST /pets"), _)) => "hi",
            _ => "",
        };
        let (status, seen) = report_only(request).await;
        assert_eq!(status, 200, "{label}");
        let (validated, rejection, body) = seen.expect("the inner service was called");
        assert_eq!(body, sent_body, "{label}: the body did not arrive whole");
        match want {
            Some((status, operation, kind)) => {
                let rejection = rejection.unwrap_or_else(|| panic!("{label}: no Rejection"));
                assert_eq!(rejection.status.as_u16(), status, "{label}");
                assert_eq!(rejection.operation.as_deref(), operation, "{label}");
                assert_eq!(rejection.kind, kind, "{label}");
            }
            None => {
                assert!(rejection.is_none(), "{label}");
                assert_eq!(&*validated.unwrap().operation, "listPets");
            }
        }
    }
}

#[tokio::test]
async fn enforcing_problems_carry_a_rejection_and_check_head_needs_no_service() {
    let layer = layer(SPEC, Options::default());
    let answer = send(&layer, get("/pets?limit=500")).await;
    assert_eq!(answer.status, 400);
    // check_head: the same verdict, without an inner service or a body.
    // (method, uri, outcome: Ok(Some(operation)) / Ok(None) / Err(status))
    let rows: [(&str, &str, Result<Option<&str>, u16>); 5] = [
        ("GET", "/pets?limit=5", Ok(Some("listPets"))),
        ("GET", "/pets?limit=500", Err(400)),
        ("POST", "/pets", Ok(Some("POST /pets"))),
        ("PUT", "/pets", Err(405)),
        ("GET", "/openapi.json", Ok(None)),
    ];
    for (method, uri, want) in rows {
        let (parts, ()) = Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .unwrap()
            .into_parts();
        let got = match layer.check_head(&parts).await {
            Ok(validated) => Ok(validated.map(|v| v.operation.to_string())),
            Err(problem) => {
                let rejection = problem
                    .extensions()
                    .get::<Rejection>()
                    .expect("a Rejection");
                assert_eq!(rejection.status, problem.status(), "{method} {uri}");
                Err(problem.status().as_u16())
            }
        };
        assert_eq!(got, want.map(|o| o.map(str::to_owned)), "{method} {uri}");
    }
}

#[cfg(feature = "jwt")]
#[tokio::test]
async fn config_sets_coercion_options_and_a_jwt_verifier() {
    use jsonwebtoken::{EncodingKey, Header, encode};
    let dir = temp_dir("config-jwt");
    let spec = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
security: [{bearer: []}]
paths:
  /events:
    get:
      parameters:
        - {name: since, in: query, schema: {type: string, format: date}}
      responses: {"200": {description: ok}}
"#;
    std::fs::write(dir.join("api.yaml"), spec).unwrap();
    std::fs::write(
        dir.join("oasgate.yaml"),
        "spec: api.yaml\noptions:\n  lenient_dates: true\n  date_dialect: month-first\njwt:\n  key: {secret: s3cret-for-tests}\n",
    )
    .unwrap();
    let layer = OpenApiLayer::from_config_file(dir.join("oasgate.yaml")).unwrap();
    let exp = chrono::Utc::now().timestamp() + 600;
    let token = encode(
        &Header::default(),
        &serde_json::json!({"sub": "a", "exp": exp}),
        &EncodingKey::from_secret(b"s3cret-for-tests"),
    )
    .unwrap();
    let good = format!("Bearer {token}");
    let answer = send(
        &layer,
        get_with("/events?since=01/04/2024", &[("authorization", &good)]),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json["validated"]["query"]["since"], "2024-01-04",
        "month first"
    );
    let forged = send(
        &layer,
        get_with("/events", &[("authorization", "Bearer not.a.token")]),
    )
    .await;
    assert_eq!(forged.status, 401);
    assert!(
        forged.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // A key file that is not there stops the load with a clear error.
    std::fs::write(
        dir.join("broken.yaml"),
        "spec: api.yaml\njwt:\n  key: {jwks_file: missing.json}\n",
    )
    .unwrap();
    let error = OpenApiLayer::from_config_file(dir.join("broken.yaml"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing.json"), "{error}");
}
