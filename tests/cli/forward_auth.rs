//! `oasgate serve --mode forward-auth`: the sub-request conventions of nginx, Traefik, Envoy.

use http::Request;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_the_gateways_sub_requests() {
    let dir = TempDir::new("forward-auth");
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        "spec: pets.yaml\nserver:\n  mode: forward-auth\n  auth_prefix: /authz\n",
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    // (method, path, headers, expected status)
    let rows: [(&str, &str, &[(&str, &str)], u16); 11] = [
        // nginx auth_request
        (
            "GET",
            "/_auth",
            &[
                ("x-original-uri", "/pets?limit=3"),
                ("x-original-method", "GET"),
            ],
            200,
        ),
        (
            "GET",
            "/_auth",
            &[
                ("x-original-uri", "/pets?limit=300"),
                ("x-original-method", "GET"),
            ],
            400,
        ),
        (
            "GET",
            "/_auth",
            &[("x-original-uri", "/pets"), ("x-original-method", "DELETE")],
            405,
        ),
        (
            "GET",
            "/_auth",
            &[("x-original-uri", "/secure"), ("x-original-method", "GET")],
            401,
        ),
        (
            "GET",
            "/_auth",
            &[("x-original-uri", "/secure"), ("x-api-key", "k")],
            200,
        ),
        // No body reaches forward-auth: a required body is not asked for.
        (
            "GET",
            "/_auth",
            &[("x-original-uri", "/pets"), ("x-original-method", "POST")],
            200,
        ),
        // Traefik ForwardAuth
        (
            "GET",
            "/",
            &[
                ("x-forwarded-uri", "/pets?limit=7"),
                ("x-forwarded-method", "GET"),
            ],
            200,
        ),
        (
            "GET",
            "/",
            &[
                ("x-forwarded-uri", "/nowhere"),
                ("x-forwarded-method", "GET"),
            ],
            404,
        ),
        // Envoy ext_authz (HTTP service with a path prefix): the request itself.
        ("GET", "/authz/pets?limit=9", &[], 200),
        ("GET", "/authz/pets?limit=x", &[], 400),
        (
            "GET",
            "/_auth",
            &[
                ("x-original-uri", "/pets"),
                ("x-original-method", "NOT A METHOD"),
            ],
            400,
        ),
    ];
    for (method, path, headers, status) in rows {
        let mut builder = Request::builder().method(method).uri(gateway.url(path));
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let answer = send(builder.body(full("")).unwrap()).await;
        assert_eq!(
            answer.status, status,
            "{method} {path} {headers:?}: {}",
            answer.text
        );
        if status != 200 {
            assert_eq!(answer.headers["content-type"], "application/problem+json");
        } else {
            assert!(answer.text.is_empty());
        }
    }
    let denied = send(
        Request::get(gateway.url("/_auth"))
            .header("x-original-uri", "/secure")
            .body(full(""))
            .unwrap(),
    )
    .await;
    assert!(denied.headers.contains_key("www-authenticate"));
    let metrics = get(&gateway.url("/metrics")).await.text;
    assert!(
        metrics.contains(
            "oasgate_requests_total{operation=\"listPets\",outcome=\"accepted\",status=\"200\"} 3"
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_forward_auth_allows_and_counts() {
    let dir = TempDir::new("forward-auth-dry");
    dir.write("pets.yaml", SPEC);
    let gateway = Gateway::start_env(
        &dir,
        &["--spec", "pets.yaml", "--mode", "forward-auth"],
        &[("OASGATE_OPTIONS_ENFORCE", "false")],
    );
    let answer = send(
        Request::get(gateway.url("/_auth"))
            .header("x-original-uri", "/pets?limit=300")
            .body(full(""))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let metrics = get(&gateway.url("/metrics")).await.text;
    assert!(
        metrics.contains("oasgate_requests_total{operation=\"listPets\",outcome=\"would_reject\",status=\"200\"} 1"),
        "{metrics}"
    );
}

/// Traefik's `ForwardAuth` passes every client header on to the auth service, so a client can
/// add nginx's `X-Original-URI` naming an open path to a request for a protected one. The
/// URI checked must be the one the gateway set: unconfigured, the two headers together are
/// refused; configured as Traefik, nginx's header is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_name_the_checked_uri_through_the_other_gateways_header() {
    let dir = TempDir::new("forward-auth-spoof");
    dir.write("pets.yaml", SPEC);
    let spoofed = |url: String| {
        Request::get(url)
            // What Traefik sets from the request it holds…
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-uri", "/secure")
            // …and what the client added, passed through by Traefik.
            .header("x-original-method", "GET")
            .header("x-original-uri", "/pets")
            .body(full(""))
            .unwrap()
    };
    let unconfigured = Gateway::start(&dir, &["--spec", "pets.yaml", "--mode", "forward-auth"]);
    let answer = send(spoofed(unconfigured.url("/"))).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.headers["content-type"], "application/problem+json");
    let detail = answer.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("`X-Original-URI`") && detail.contains("`X-Forwarded-Uri`"),
        "{detail}"
    );
    // The same URI header twice: which one the gateway set cannot be told.
    let twice = send(
        Request::get(unconfigured.url("/"))
            .header("x-forwarded-uri", "/secure")
            .header("x-forwarded-uri", "/pets")
            .body(full(""))
            .unwrap(),
    )
    .await;
    assert_eq!(twice.status, 400, "{}", twice.text);
    drop(unconfigured);

    let traefik = Gateway::start(
        &dir,
        &[
            "--spec",
            "pets.yaml",
            "--mode",
            "forward-auth",
            "--forward-auth-headers",
            "traefik",
        ],
    );
    let answer = send(spoofed(traefik.url("/"))).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    let keyed = send(
        Request::get(traefik.url("/"))
            .header("x-forwarded-uri", "/secure")
            .header("x-original-uri", "/nowhere")
            .header("x-api-key", "k")
            .body(full(""))
            .unwrap(),
    )
    .await;
    assert_eq!(keyed.status, 200, "{}", keyed.text);

    // nginx configured through the config file: Traefik's header is the ignored one.
    dir.write(
        "oasgate.yaml",
        "spec: pets.yaml\nserver:\n  mode: forward-auth\n  forward_auth_headers: nginx\n",
    );
    let nginx = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let answer = send(
        Request::get(nginx.url("/_auth"))
            .header("x-original-uri", "/secure")
            .header("x-forwarded-uri", "/pets")
            .body(full(""))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 401, "{}", answer.text);
}

/// The same table of requests through the layer (in process, built from the same config file)
/// and through forward-auth: the same status and the same problem body for every problem kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_answers_what_the_layer_answers() {
    use oasgate::OpenApiLayer;
    use oasgate::body::Body;
    use tower::{ServiceBuilder, ServiceExt};

    let dir = TempDir::new("forward-auth-same");
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        "spec: pets.yaml\noptions:\n  query_params_limit: 2\n  param_length_limit: 8\nserver:\n  mode: forward-auth\n",
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let layer = OpenApiLayer::from_config_file(dir.0.join("oasgate.yaml")).unwrap();
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
        });
    // (method, target): one row per kind of answer.
    let rows = [
        ("GET", "/pets?limit=3"),
        ("HEAD", "/pets?limit=3"),
        ("GET", "/pets?a=1&b=2&c=3&d=4"),
        ("GET", "/pets?limit=123456789"),
        ("GET", "/pets?limit=300"),
        ("GET", "/pets?limit=ten"),
        ("GET", "/secure"),
        ("GET", "/nowhere"),
        ("DELETE", "/pets"),
        ("GET", "/pets/../secure"),
        ("GET", "/pets%2F..%2Fsecure"),
    ];
    for (method, target) in rows {
        let request = Request::builder()
            .method(method)
            .uri(target)
            .body(Body::empty())
            .unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        let layer_status = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let layer_body: serde_json::Value =
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);

        let auth = send(
            Request::get(gateway.url("/_auth"))
                .header("x-original-method", method)
                .header("x-original-uri", target)
                .body(full(""))
                .unwrap(),
        )
        .await;
        assert_eq!(
            auth.status.as_u16(),
            layer_status,
            "{method} {target}: {}",
            auth.text
        );
        assert_eq!(auth.json(), layer_body, "{method} {target}");
    }
}
