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
    let kitchen = Document::from_str(KITCHEN_SPEC).expect("kitchen document loads");
    let kitchen = ServiceBuilder::new()
        .layer(OpenApiLayer::new(&kitchen).expect("kitchen document compiles"))
        .service_fn(handler);
    let mix = kitchen_mix();
    // Each call the next request of the mix, round and round (ROUNDS is a multiple of its
    // length, so every request counts equally).
    let next = std::cell::Cell::new(0);
    let cycle = || {
        let request = mix[next.get() % mix.len()].build();
        next.set(next.get() + 1);
        request
    };

    let get = || get_request(GET_URI);
    let paged = || get_request(PAGED_URI);
    let invalid = || get_request(GET_INVALID_URI);
    // Every request of the mix is valid: a refused one would count the problem path instead.
    rt.block_on(async {
        for request in &mix {
            let response = kitchen.clone().oneshot(request.build()).await;
            let status = response.expect("answers").status();
            assert!(status.is_success(), "{}: {status}", request.label());
        }
    });
    // `scripts/instructions.sh` counts instructions per `measure` call in this order: the
    // three bare rows, then the layer's rows as the table lists them.
    let bare_get = per_request(&rt, &plain, get);
    let bare_post = per_request(&rt, &plain, post_request);
    let bare_mix = per_request(&rt, &plain, cycle);
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
        (
            "the kitchen-sink mix (valid requests of every kind), on average",
            bare_mix,
            per_request(&rt, &kitchen, cycle),
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
