//! Heap allocations per request: the same requests as `benches/layer.rs`, through the bare
//! service and through the layer, counted by a counting global allocator
//! (`allocation-counter`). Counts do not depend on the machine's load, so this prints exact
//! figures; timings stay in `benches/layer.rs`, whose binary has the system allocator.
//!
//! Run with `cargo bench --bench allocations`.

#![allow(missing_docs)]

mod requests;

use std::future::Future;

use http::{Request, Response};
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer, Options};
use requests::*;
use tower::{Service, ServiceBuilder, ServiceExt};

/// Requests per count: enough that one-off allocations (a first use) vanish in the average.
const ROUNDS: u64 = 1_000;

/// Allocations and allocated bytes per request, after a warm-up.
fn per_request<S, B, F>(
    rt: &tokio::runtime::Runtime,
    service: &S,
    request: impl Fn() -> Request<Body>,
) -> (f64, f64)
where
    S: Service<Request<Body>, Response = Response<B>, Future = F> + Clone,
    F: Future<Output = Result<Response<B>, S::Error>>,
    S::Error: std::fmt::Debug,
{
    let run = |rounds: u64| {
        rt.block_on(async {
            for _ in 0..rounds {
                let response = service.clone().oneshot(request()).await.expect("answers");
                drop(response);
            }
        })
    };
    run(100);
    let counted = allocation_counter::measure(|| run(ROUNDS));
    (
        counted.count_total as f64 / ROUNDS as f64,
        counted.bytes_total as f64 / ROUNDS as f64,
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let doc = Document::from_str(BENCH_SPEC).expect("bench spec loads");
    let layer = OpenApiLayer::new(&doc).expect("bench spec compiles");
    let as_sent = OpenApiLayer::with_options(&doc, Options::default().canonical_query(false))
        .expect("bench spec compiles");
    let plain = ServiceBuilder::new().service_fn(handler);
    let validating = ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(handler);
    let reading = ServiceBuilder::new().layer(layer).service_fn(reads_body);
    let as_sent = ServiceBuilder::new().layer(as_sent).service_fn(handler);

    let get = || get_request(GET_URI);
    let paged = || get_request(PAGED_URI);
    let invalid = || get_request(GET_INVALID_URI);
    let bare_get = per_request(&rt, &plain, get);
    let bare_post = per_request(&rt, &plain, post_request);
    let rows = [
        (
            "GET, 3 query parameters",
            bare_get,
            per_request(&rt, &validating, get),
        ),
        (
            "the same, query handed on as sent",
            bare_get,
            per_request(&rt, &as_sent, get),
        ),
        (
            "GET on an `x-paging` operation",
            bare_get,
            per_request(&rt, &validating, paged),
        ),
        (
            "POST 1 KB JSON",
            bare_post,
            per_request(&rt, &validating, post_request),
        ),
        (
            "the same, the handler asking for `Validated::body()`",
            bare_post,
            per_request(&rt, &reading, post_request),
        ),
        (
            "GET rejected with a problem body",
            bare_get,
            per_request(&rt, &validating, invalid),
        ),
    ];
    println!("| request | bare service | through the layer | added | bytes added |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, (bare, bare_bytes), (layered, layered_bytes)) in rows {
        println!(
            "| {name} | {bare:.1} | {layered:.1} | {:.1} | {:.0} |",
            layered - bare,
            layered_bytes - bare_bytes
        );
    }
}
