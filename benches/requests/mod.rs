//! The requests the benchmarks send, shared by `benches/layer.rs` (timings) and
//! `benches/allocations.rs` (allocation counts).

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Empty;
use oasgate::Validated;
use oasgate::body::Body;

/// The document of the request benchmarks.
pub const BENCH_SPEC: &str = include_str!("../fixtures/bench.yaml");

/// Valid for `GET /items`: all three query parameters, one percent-encoded.
pub const GET_URI: &str = "/items?limit=25&sort=price&q=walnut%20desk";
/// The same three values on an `x-paging` operation: `limit` and `sort` merge into `Paging`.
pub const PAGED_URI: &str = "/paged?limit=25&sort=-price&q=walnut%20desk";
/// Invalid for `GET /items`: `limit` is not an integer.
pub const GET_INVALID_URI: &str = "/items?limit=abc&sort=price";

/// A valid `NewItem` of about 1 KB: every property, four order lines, nested shipping.
pub const POST_BODY: &str = concat!(
    r#"{"sku":"ABC-004711","name":"Ergonomic walnut standing desk, large","#,
    r#""description":"Height-adjustable desk with a solid walnut top, dual motors, memory "#,
    r#"presets and a cable tray. Ships flat-packed in two boxes; assembly takes about forty "#,
    r#"minutes. Oak and ash tops on request.","#,
    r#""price_cents":89900,"quantity":3,"owner_email":"jane.doe@example.com","#,
    r#""created_at":"2024-05-17T09:42:13Z","external_id":"3f0c9a2e-7b4d-4c1e-9a55-1d2e3f4a5b6c","#,
    r#""active":true,"tags":["furniture","office","walnut","standing-desk","ergonomic"],"#,
    r#""lines":["#,
    r#"{"product_id":"9b2f4c1a-0d3e-4f5a-8b6c-7d8e9f0a1b2c","quantity":1,"unit_price_cents":79900},"#,
    r#"{"product_id":"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f","quantity":2,"unit_price_cents":4500},"#,
    r#"{"product_id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","quantity":1,"unit_price_cents":1000},"#,
    r#"{"product_id":"5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9","quantity":4,"unit_price_cents":250}],"#,
    r#""shipping":{"street":"1200 Market Street, Suite 400","city":"San Francisco","#,
    r#""postal_code":"94102","country":"US"}}"#,
);

/// The inner service of every variant: an empty 200.
pub async fn handler(_request: Request<Body>) -> Result<Response<Empty<Bytes>>, Infallible> {
    Ok(Response::new(Empty::new()))
}

/// A handler that asks for the parsed body: 200 when the layer handed one on, 500 if not.
pub async fn reads_body(request: Request<Body>) -> Result<Response<Empty<Bytes>>, Infallible> {
    let body = request
        .extensions()
        .get::<Validated>()
        .and_then(|v| black_box(v.body()));
    let mut response = Response::new(Empty::new());
    if body.is_none() {
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    }
    Ok(response)
}

pub fn get_request(uri: &'static str) -> Request<Body> {
    Request::get(uri)
        .body(Body::empty())
        .expect("valid request")
}

pub fn post_request() -> Request<Body> {
    Request::post("/items")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(POST_BODY))
        .expect("valid request")
}

/// The kitchen-sink document, and a mix of its valid requests (format at the file's top).
pub const KITCHEN_SPEC: &str = include_str!("../../tests/fixtures/local/kitchen.yaml");
const KITCHEN_MIX: &str = include_str!("../fixtures/kitchen-mix.txt");

/// One request of a mix file: method, target, headers, body.
pub struct MixRequest {
    method: http::Method,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Bytes>,
}

/// The requests of `benches/fixtures/kitchen-mix.txt`, in order.
pub fn kitchen_mix() -> Vec<MixRequest> {
    let mut mix = Vec::new();
    for block in KITCHEN_MIX.split("\n\n") {
        let mut lines = block.lines().filter(|l| !l.starts_with('#'));
        let Some(first) = lines.next() else { continue };
        let (method, target) = first.split_once(' ').expect("METHOD TARGET");
        let mut request = MixRequest {
            method: method.parse().expect("a method"),
            target: target.to_owned(),
            headers: Vec::new(),
            body: None,
        };
        for line in lines {
            if let Some(body) = line.strip_prefix("| ") {
                request.body = Some(Bytes::from(body.to_owned()));
            } else {
                let (name, value) = line.split_once(": ").expect("Name: value");
                request.headers.push((name.to_owned(), value.to_owned()));
            }
        }
        mix.push(request);
    }
    assert!(mix.len() >= 20, "the mix file has {} requests", mix.len());
    mix
}

impl MixRequest {
    /// The request, as a client would send it.
    pub fn build(&self) -> Request<Body> {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.target.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = match &self.body {
            Some(body) => Body::from(body.clone()),
            None => Body::empty(),
        };
        builder.body(body).expect("valid request")
    }

    /// `METHOD target`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}
