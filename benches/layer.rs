//! Benchmarks for building the layer, routing, and validating requests.
//!
//! Run with `cargo bench --bench layer`. Groups:
//!
//! - `build/petstore`, `build/digitalocean`: loading and compiling a document.
//! - `route/digitalocean`: one `Router::at` lookup over the DigitalOcean path templates
//!   (the reported time is per lookup).
//! - `route/mixed`: one lookup of a path whose template has a segment mixing text and
//!   parameters (`/files/{name}.{ext}`, `/v1/{name}:cancel`), which the router walks
//!   (its regex defines the match).
//! - `validate/*` against `baseline/*`: one request through the layer and an empty handler,
//!   against the same handler and request construction without the layer.
//! - `validate/post_1k_json_value`: the same POST with a handler that asks for
//!   `Validated::body()`, which parses a body checked as text on first use.
//! - `validate/get_invalid`: a rejected request, including building its problem response.
//! - `validate/kitchen_mix` against `baseline/kitchen_mix`: the valid requests of the
//!   kitchen-sink document (`benches/fixtures/kitchen-mix.txt`: every parameter style, body
//!   kind and security scheme it has), all of them per iteration; criterion's throughput line
//!   gives requests per second.
//! - `reference/parse_1k_json`: `serde_json` parsing the POST body into a `Value`, for scale.
//! - `respond/off`, `respond/report`, `respond/enforce`: `GET /items/1` answered with the
//!   same 1 KB JSON document, its body read to the end, with response validation off, in
//!   report mode and in enforce mode: the difference is the cost of checking a response.
//! - `respond/report_1pct`: report mode checking 1 % of the responses
//!   (`response_validation_sample`), so 99 in 100 iterations are not sampled;
//!   `respond/report_unsampled`: a share of 0, so that no response is sampled: the cost of a
//!   response passed over by sampling alone.

#![allow(missing_docs)]

mod requests;

use requests::*;

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use oasgate::body::Body;
use oasgate::router::{Router, RouterBuilder};
use oasgate::{Document, OpenApiLayer, Options, ResponseValidation};
use tokio::runtime::Runtime;
use tower::{Service, ServiceBuilder, ServiceExt};

const PETSTORE: &str = include_str!("../tests/fixtures/oai/v3.0-petstore-expanded.yaml");

fn digitalocean_path() -> String {
    format!(
        "{}/tests/fixtures/digitalocean/specification/DigitalOcean-public.v2.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Concrete DigitalOcean request paths and the template each must route to.
const DO_PATHS: [(&str, &str); 20] = [
    ("/v2/account", "/v2/account"),
    ("/v2/droplets", "/v2/droplets"),
    ("/v2/droplets/3164444", "/v2/droplets/{droplet_id}"),
    (
        "/v2/droplets/3164444/backups",
        "/v2/droplets/{droplet_id}/backups",
    ),
    (
        "/v2/apps/4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf",
        "/v2/apps/{id}",
    ),
    (
        "/v2/apps/4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf/deployments/3aa4d20e-5527-4c03-8bbd-1dc2d7f8b4f2/components/web/logs",
        "/v2/apps/{app_id}/deployments/{deployment_id}/components/{component_name}/logs",
    ),
    (
        "/v2/apps/tiers/instance_sizes",
        "/v2/apps/tiers/instance_sizes",
    ),
    (
        "/v2/databases/9cc10173-e9ea-4176-9dbc-a4cee4c4ff30/users/app-user",
        "/v2/databases/{database_cluster_uuid}/users/{username}",
    ),
    (
        "/v2/databases/9cc10173-e9ea-4176-9dbc-a4cee4c4ff30/schema-registry/config",
        "/v2/databases/{database_cluster_uuid}/schema-registry/config",
    ),
    (
        "/v2/databases/9cc10173-e9ea-4176-9dbc-a4cee4c4ff30/schema-registry/orders-value/versions/3",
        "/v2/databases/{database_cluster_uuid}/schema-registry/{subject_name}/versions/{version}",
    ),
    (
        "/v2/domains/example.com/records/28448433",
        "/v2/domains/{domain_name}/records/{domain_record_id}",
    ),
    (
        "/v2/images/7555620/actions/36805022",
        "/v2/images/{image_id}/actions/{action_id}",
    ),
    (
        "/v2/kubernetes/clusters/bd5f5959-5e1e-4205-a714-a914373942af/node_pools/cdda885e-7663-40c8-bc74-3a036c66545d/nodes/478247f8-b1bb-4f7a-8db9-2a5f8d4b8f8f",
        "/v2/kubernetes/clusters/{cluster_id}/node_pools/{node_pool_id}/nodes/{node_id}",
    ),
    ("/v2/kubernetes/options", "/v2/kubernetes/options"),
    (
        "/v2/monitoring/alerts/78b3da62-27e5-49ba-ac70-5db0b5935c64",
        "/v2/monitoring/alerts/{alert_uuid}",
    ),
    (
        "/v2/projects/4e1bfbc3-dc3e-41f2-a18f-1b4d7ba71679/resources",
        "/v2/projects/{project_id}/resources",
    ),
    (
        "/v2/projects/default/resources",
        "/v2/projects/default/resources",
    ),
    (
        "/v2/registry/example/repositories/repo-1/digests/sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221",
        "/v2/registry/{registry_name}/repositories/{repository_name}/digests/{manifest_digest}",
    ),
    (
        "/v2/monitoring/metrics/load_balancer/frontend_connections_current",
        "/v2/monitoring/metrics/load_balancer/frontend_connections_current",
    ),
    ("/v1/batches/files", "/v1/batches/files"),
];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The status and body text `service` answers `request` with.
async fn answer<S, B>(service: &S, request: Request<Body>) -> (StatusCode, String)
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let response = service.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.bench_function("petstore", |b| {
        b.iter(|| {
            let doc = Document::from_str(black_box(PETSTORE)).expect("petstore loads");
            OpenApiLayer::new(&doc).expect("petstore compiles")
        });
    });
    // The same API as Swagger 2.0 and as OpenAPI 3.0: a 2.0 document is converted at
    // start-up, which must not make it load slower.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oai");
    for version in ["2.0", "3.0"] {
        let path = format!("{fixtures}/v{version}-petstore-expanded.yaml");
        let text = std::fs::read_to_string(&path).expect("petstore fixture reads");
        group.bench_function(format!("petstore_expanded_{version}"), |b| {
            b.iter(|| {
                let doc = Document::from_str(black_box(&text)).expect("petstore loads");
                OpenApiLayer::new(&doc).expect("petstore compiles")
            });
        });
    }
    let path = digitalocean_path();
    group.sample_size(10);
    group.bench_function("digitalocean", |b| {
        b.iter(|| OpenApiLayer::from_path(black_box(&path)).expect("DigitalOcean compiles"));
    });
    group.finish();
}

/// A router over every DigitalOcean path template, checked to route each of `DO_PATHS` to
/// its template.
fn digitalocean_router() -> Router {
    let doc = Document::from_path(digitalocean_path()).expect("DigitalOcean loads");
    let templates: Vec<&str> = doc.as_json()["paths"]
        .as_object()
        .expect("paths is an object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut builder = RouterBuilder::new();
    for (id, template) in templates.iter().enumerate() {
        builder
            .insert(template, id)
            .unwrap_or_else(|e| panic!("insert {template}: {e}"));
    }
    let router = builder.build();
    for (path, template) in DO_PATHS {
        let found = router
            .at(path)
            .unwrap_or_else(|| panic!("{path} does not route"));
        assert_eq!(templates[found.id], template, "{path} routes elsewhere");
    }
    router
}

/// Templates with a segment mixing text and parameters, beside plain ones.
const MIXED_TEMPLATES: [&str; 8] = [
    "/files/{name}.{ext}",
    "/files/{file}",
    "/reports/{year}-{month}",
    "/v1/{name}:cancel",
    "/v1/{name}:wait",
    "/v1/{name}",
    "/v1/projects/{project}/operations/{operation}:wait",
    "/v1/projects/{project}/operations/{operation}",
];
/// Paths that route to the mixed templates: `(path, template, values)`.
const MIXED_PATHS: [(&str, &str, &[&str]); 4] = [
    (
        "/files/annual-report.final.pdf",
        "/files/{name}.{ext}",
        &["annual-report", "final.pdf"],
    ),
    (
        "/reports/2026-12",
        "/reports/{year}-{month}",
        &["2026", "12"],
    ),
    (
        "/v1/operations%2F8124:cancel",
        "/v1/{name}:cancel",
        &["operations%2F8124"],
    ),
    (
        "/v1/projects/walnut-desk/operations/op-551c2b:wait",
        "/v1/projects/{project}/operations/{operation}:wait",
        &["walnut-desk", "op-551c2b"],
    ),
];

/// A router over `MIXED_TEMPLATES`, checked to route each of `MIXED_PATHS` as it says.
fn mixed_router() -> Router {
    let mut builder = RouterBuilder::new();
    for (id, template) in MIXED_TEMPLATES.iter().enumerate() {
        builder.insert(template, id).expect("template inserts");
    }
    let router = builder.build();
    for (path, template, values) in MIXED_PATHS {
        let found = router
            .at(path)
            .unwrap_or_else(|| panic!("{path} does not route"));
        assert_eq!(
            MIXED_TEMPLATES[found.id], template,
            "{path} routes elsewhere"
        );
        let found: Vec<&str> = found.params.iter().map(|(_, v)| v).collect();
        assert_eq!(found, values, "{path}");
    }
    router
}

fn bench_route(c: &mut Criterion) {
    // Built on first use, so that filtering the benchmarks by name skips loading the document.
    let router = OnceLock::new();
    let mut group = c.benchmark_group("route");
    group.throughput(Throughput::Elements(1));
    group.bench_function("digitalocean", |b| {
        let router = router.get_or_init(digitalocean_router);
        let mut next = 0;
        b.iter(|| {
            let path = DO_PATHS[next].0;
            next = if next + 1 == DO_PATHS.len() {
                0
            } else {
                next + 1
            };
            router.at(black_box(path)).map(|m| m.id)
        });
    });
    group.bench_function("mixed", |b| {
        let router = mixed_router();
        let mut next = 0;
        b.iter(|| {
            let path = MIXED_PATHS[next].0;
            next = (next + 1) % MIXED_PATHS.len();
            router.at(black_box(path)).map(|m| m.id)
        });
    });
    group.finish();
}

fn bench_requests(c: &mut Criterion) {
    let rt = runtime();
    let doc = Document::from_str(BENCH_SPEC).expect("bench spec loads");
    let layer = OpenApiLayer::new(&doc).expect("bench spec compiles");
    let validating = ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(handler);
    let reading = ServiceBuilder::new().layer(layer).service_fn(reads_body);
    // The same checks with the query handed on as sent: the difference is the canonical
    // rewrite.
    let as_sent = OpenApiLayer::with_options(&doc, Options::default().canonical_query(false))
        .expect("bench spec compiles");
    let as_sent = ServiceBuilder::new().layer(as_sent).service_fn(handler);
    let plain = ServiceBuilder::new().service_fn(handler);
    let kitchen = Document::from_str(KITCHEN_SPEC).expect("kitchen document loads");
    let kitchen = ServiceBuilder::new()
        .layer(OpenApiLayer::new(&kitchen).expect("kitchen document compiles"))
        .service_fn(handler);
    let mix = kitchen_mix();

    // Check once, outside timing, that each case does what its name says.
    assert!(
        (1000..=1100).contains(&POST_BODY.len()),
        "POST body is {} bytes",
        POST_BODY.len()
    );
    rt.block_on(async {
        let cases = [
            (
                "validate GET",
                answer(&validating, get_request(GET_URI)).await,
            ),
            ("validate POST", answer(&validating, post_request()).await),
            (
                "validate POST, body read",
                answer(&reading, post_request()).await,
            ),
            (
                "validate paged GET",
                answer(&validating, get_request(PAGED_URI)).await,
            ),
            ("as-sent GET", answer(&as_sent, get_request(GET_URI)).await),
            (
                "as-sent paged GET",
                answer(&as_sent, get_request(PAGED_URI)).await,
            ),
            ("baseline GET", answer(&plain, get_request(GET_URI)).await),
            ("baseline POST", answer(&plain, post_request()).await),
        ];
        for (name, (status, body)) in cases {
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
        }
        let (status, body) = answer(&validating, get_request(GET_INVALID_URI)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "invalid GET: {body}");
        assert!(
            body.contains("limit"),
            "invalid GET rejected for another reason: {body}"
        );
        for request in &mix {
            let (status, body) = answer(&kitchen, request.build()).await;
            assert!(status.is_success(), "{}: {status} {body}", request.label());
        }
    });

    // `plain` is `Copy` (a `ServiceFn` over a function item): using it by value is its clone.
    let mut group = c.benchmark_group("baseline");
    group.bench_function("get_3_query", |b| {
        b.to_async(&rt)
            .iter(|| plain.oneshot(get_request(black_box(GET_URI))));
    });
    group.bench_function("post_1k_json", |b| {
        b.to_async(&rt).iter(|| plain.oneshot(post_request()));
    });
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("kitchen_mix", |b| {
        b.to_async(&rt).iter(|| async {
            for request in &mix {
                black_box(plain.oneshot(request.build()).await.expect("answers"));
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("validate");
    group.bench_function("get_3_query", |b| {
        b.to_async(&rt)
            .iter(|| validating.clone().oneshot(get_request(black_box(GET_URI))));
    });
    group.bench_function("post_1k_json", |b| {
        b.to_async(&rt)
            .iter(|| validating.clone().oneshot(post_request()));
    });
    group.bench_function("post_1k_json_value", |b| {
        b.to_async(&rt)
            .iter(|| reading.clone().oneshot(post_request()));
    });
    group.bench_function("get_3_query_as_sent", |b| {
        b.to_async(&rt)
            .iter(|| as_sent.clone().oneshot(get_request(black_box(GET_URI))));
    });
    group.bench_function("get_paged", |b| {
        b.to_async(&rt).iter(|| {
            validating
                .clone()
                .oneshot(get_request(black_box(PAGED_URI)))
        });
    });
    group.bench_function("get_paged_as_sent", |b| {
        b.to_async(&rt)
            .iter(|| as_sent.clone().oneshot(get_request(black_box(PAGED_URI))));
    });
    group.bench_function("get_invalid", |b| {
        b.to_async(&rt).iter(|| {
            validating
                .clone()
                .oneshot(get_request(black_box(GET_INVALID_URI)))
        });
    });
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("kitchen_mix", |b| {
        b.to_async(&rt).iter(|| async {
            for request in &mix {
                let answered = kitchen.clone().oneshot(request.build()).await;
                black_box(answered.expect("answers"));
            }
        });
    });
    group.finish();
}

/// The inner service of `respond/*`: the 1 KB document as JSON.
async fn item(_request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Body::from(POST_BODY));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// One `GET /items/1` through `service`, its body read to the end.
async fn fetch_item<S, B>(service: S) -> usize
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let response = service
        .oneshot(get_request("/items/1"))
        .await
        .expect("infallible");
    let body = response.into_body().collect().await.expect("body reads");
    body.to_bytes().len()
}

fn bench_responses(c: &mut Criterion) {
    let rt = runtime();
    let doc = Document::from_str(BENCH_SPEC).expect("bench spec loads");
    let service = |mode: ResponseValidation, share: f64| {
        let options = Options::default()
            .response_validation(mode)
            .response_validation_sample(share);
        let layer = OpenApiLayer::with_options(&doc, options).expect("bench spec compiles");
        ServiceBuilder::new().layer(layer).service_fn(item)
    };
    let modes = [
        ("off", ResponseValidation::Off, 1.0),
        ("report", ResponseValidation::Report, 1.0),
        ("enforce", ResponseValidation::Enforce, 1.0),
        ("report_1pct", ResponseValidation::Report, 0.01),
        ("report_unsampled", ResponseValidation::Report, 0.0),
    ];
    // Check once, outside timing, that each passes the whole document on.
    rt.block_on(async {
        for (name, mode, share) in modes {
            let (status, body) = answer(&service(mode, share), get_request("/items/1")).await;
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
            assert_eq!(body, POST_BODY, "{name}");
        }
    });
    let mut group = c.benchmark_group("respond");
    for (name, mode, share) in modes {
        let service = service(mode, share);
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| fetch_item(service.clone()));
        });
    }
    group.finish();
}

/// Context for `validate/post_1k_json`: parsing the same body into a `serde_json::Value`
/// (and dropping it), the least any layer that hands on a parsed body has to do.
fn bench_reference(c: &mut Criterion) {
    let mut group = c.benchmark_group("reference");
    group.bench_function("parse_1k_json", |b| {
        b.iter(|| {
            serde_json::from_slice::<serde_json::Value>(black_box(POST_BODY.as_bytes()))
                .expect("valid JSON")
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_build, bench_route, bench_requests, bench_reference, bench_responses
}
criterion_main!(benches);
