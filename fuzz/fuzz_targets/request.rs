//! A whole request through the layer, against the kitchen-sink fixture (with default and with
//! tight options) and the expanded petstore.
//!
//! The input is a small HTTP message: `METHOD TARGET`, then `name: value` lines, a blank line
//! and the body. Whatever it holds, the answer is the inner service's 200 or a well-formed
//! problem: never a panic, never a 5xx, always `application/problem+json` with its status
//! (a redirect or a 304 of the served docs aside).
#![no_main]

use std::convert::Infallible;
use std::sync::OnceLock;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use oasgate::body::Body;
use oasgate::security::{Credential, Verdict, verifier_fn};
use oasgate::{Document, OpenApiLayer, Options, UndeclaredParams, UnknownRoutes};
use tower::{ServiceBuilder, ServiceExt};

const KITCHEN: &str = include_str!("../../tests/fixtures/local/kitchen.yaml");
const PETSTORE: &str = include_str!("../../tests/fixtures/oai/v3.0-petstore-expanded.yaml");
const ERROR_CAP: usize = 5;

struct Fixtures {
    runtime: tokio::runtime::Runtime,
    layers: Vec<OpenApiLayer>,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let kitchen = Document::from_str_named(KITCHEN, "kitchen.yaml").expect("kitchen loads");
        let petstore = Document::from_str_named(PETSTORE, "petstore.yaml").expect("petstore loads");
        let verifier = verifier_fn(|c: Credential<'_>| {
            let verdict = match c.value {
                "expired" => Verdict::Unauthenticated("the token has expired".into()),
                "reader" => Verdict::Forbidden("the token lacks a scope".into()),
                _ => Verdict::Allow,
            };
            async move { verdict }
        });
        let tight = Options::default()
            .body_limit(4096)
            .json_depth_limit(8)
            .query_params_limit(16)
            .param_length_limit(256)
            .multipart_parts_limit(4)
            .error_cap(ERROR_CAP)
            .unprocessable_bodies(true)
            .lenient_booleans(true)
            .tolerate_trailing_slash(true)
            .undeclared_query(UndeclaredParams::Reject)
            .verifier(verifier);
        let layers = vec![
            OpenApiLayer::new(&kitchen).expect("kitchen compiles"),
            OpenApiLayer::with_options(&kitchen, tight).expect("kitchen compiles"),
            OpenApiLayer::with_options(
                &petstore,
                Options::default().unknown_routes(UnknownRoutes::PassThrough),
            )
            .expect("petstore compiles"),
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        Fixtures { runtime, layers }
    })
}

/// Parses the input into a request; `None` when it is not one `http` accepts.
fn request(data: &[u8]) -> Option<Request<Body>> {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split('\n');
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut builder = Request::builder().method(method).uri(target);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name.trim(), value.trim_start());
    }
    builder.body(Body::from(Bytes::copy_from_slice(body))).ok()
}

/// The inner service: reads the body it is handed and answers 200.
async fn echo(
    request: Request<Body>,
    passes_unknown: bool,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Only a pass-through of an unknown route arrives without the validation result.
    assert!(passes_unknown || request.extensions().get::<oasgate::Validated>().is_some());
    let body = request.into_body().collect().await.map(|c| c.to_bytes());
    Ok(Response::new(Full::new(body.unwrap_or_default())))
}

fuzz_target!(|data: &[u8]| {
    let fixtures = fixtures();
    for (i, layer) in fixtures.layers.iter().enumerate() {
        let Some(request) = request(data) else {
            return;
        };
        let passes_unknown = i == 2;
        let service = ServiceBuilder::new()
            .layer(layer.clone())
            .service_fn(move |request| echo(request, passes_unknown));
        let response = fixtures
            .runtime
            .block_on(service.oneshot(request))
            .expect("infallible");
        let status = response.status();
        assert!(status.as_u16() < 500, "layer {i}: {status}");
        let is_problem = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/problem+json");
        // Redirects (`/docs/` → `/docs`) and 304s carry no problem; every refusal does.
        if !status.is_success() && !status.is_redirection() {
            assert!(is_problem, "layer {i}: {status} without a problem body");
        }
        if !is_problem {
            continue;
        }
        let body = fixtures
            .runtime
            .block_on(response.into_body().collect())
            .expect("a problem body is in memory")
            .to_bytes();
        let problem: serde_json::Value =
            serde_json::from_slice(&body).expect("a problem body is JSON");
        assert_eq!(problem["status"], status.as_u16(), "layer {i}: {problem}");
        assert!(problem["type"].is_string() && problem["title"].is_string());
        let errors = problem["errors"].as_array().map_or(0, Vec::len);
        assert!(errors <= 20, "layer {i}: {errors} errors listed");
        if i == 1 {
            assert!(errors <= ERROR_CAP, "the cap holds: {problem}");
        }
    }
});
