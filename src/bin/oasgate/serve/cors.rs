//! `server.cors`: tower-http's `CorsLayer` around everything the gateway answers for the API.
//!
//! A CORS preflight ("an `OPTIONS` request [...] with `Access-Control-Request-Method`" and an
//! `Origin`, Fetch standard §3.2.2) is answered by the layer before validation; every other
//! request is validated and forwarded as usual, and its answer — the upstream's, or a problem
//! of oasgate's own (`400`, `404`, `502`, `504`…) — gets the CORS headers, so that the page
//! can read why it was refused. The upstream's own `Access-Control-*` answer headers are
//! dropped: the section is the one source of them.

use std::convert::Infallible;
use std::future::Future;

use http::{HeaderName, Method, Request, Response, header};
use oasgate::config::{CorsSection, DEFAULT_METHODS, Wildcard};
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer, ExposeHeaders};

use super::ProxyBody;

/// The layer `section` describes.
pub fn layer(section: &CorsSection) -> CorsLayer {
    let origins = match &section.allow_origins {
        Wildcard::Any => AllowOrigin::any(),
        // Exact origins are compared as tower-http does; with a `*.` among them, each
        // origin is matched against the list.
        Wildcard::List(list) if list.iter().all(|o| !o.text.contains('*')) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| http::HeaderValue::from_str(&o.text).ok()),
        ),
        Wildcard::List(_) => {
            let section = section.clone();
            AllowOrigin::predicate(move |origin, _| section.allows_origin(origin.as_bytes()))
        }
    };
    let methods = match &section.allow_methods {
        Some(Wildcard::Any) => AllowMethods::any(),
        Some(Wildcard::List(list)) => AllowMethods::list(list.iter().map(|m| m.0.clone())),
        None => AllowMethods::list(
            DEFAULT_METHODS
                .iter()
                .filter_map(|m| Method::from_bytes(m.as_bytes()).ok()),
        ),
    };
    let headers = match &section.allow_headers {
        Some(Wildcard::Any) => AllowHeaders::any(),
        Some(Wildcard::List(list)) => AllowHeaders::list(list.iter().map(|h| h.0.clone())),
        None => AllowHeaders::mirror_request(),
    };
    let mut layer = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(methods)
        .allow_headers(headers)
        .allow_credentials(section.allow_credentials);
    match &section.expose_headers {
        Some(Wildcard::Any) => layer = layer.expose_headers(ExposeHeaders::any()),
        Some(Wildcard::List(list)) => {
            layer = layer.expose_headers(ExposeHeaders::list(list.iter().map(|h| h.0.clone())))
        }
        None => {}
    }
    if let Some(max_age) = section.max_age {
        layer = layer.max_age(max_age);
    }
    layer
}

/// Marks an `OPTIONS` request that is not a preflight while the CORS layer sees it.
#[derive(Clone, Copy)]
struct ActualOptions;

/// Answers `request` through `layer`: a preflight there, anything else by `respond`.
pub async fn call<B, F, Fut>(
    layer: &CorsLayer,
    mut request: Request<B>,
    mut respond: F,
) -> Response<ProxyBody>
where
    F: FnMut(Request<B>) -> Fut,
    Fut: Future<Output = Response<ProxyBody>>,
{
    // tower-http answers every `OPTIONS` as a preflight; one that is not (a declared `options`
    // operation, or the layer's `Allow` answer) goes through as an actual request, wearing
    // another method while the CORS layer looks at it.
    let preflight = request.headers().contains_key(header::ORIGIN)
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if request.method() == Method::OPTIONS && !preflight {
        request.extensions_mut().insert(ActualOptions);
        *request.method_mut() = Method::GET;
    }
    let service = tower::service_fn(move |mut request: Request<B>| {
        if request.extensions_mut().remove::<ActualOptions>().is_some() {
            *request.method_mut() = Method::OPTIONS;
        }
        let answer = respond(request);
        async move {
            let mut response = answer.await;
            let headers = response.headers_mut();
            for name in UPSTREAM_CORS {
                headers.remove(name);
            }
            Ok::<_, Infallible>(response)
        }
    });
    let Ok(response) = layer.clone().layer(service).oneshot(request).await;
    response
}

/// The CORS answer headers, which the section alone decides.
const UPSTREAM_CORS: [HeaderName; 7] = [
    header::ACCESS_CONTROL_ALLOW_ORIGIN,
    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
    header::ACCESS_CONTROL_ALLOW_METHODS,
    header::ACCESS_CONTROL_ALLOW_HEADERS,
    header::ACCESS_CONTROL_EXPOSE_HEADERS,
    header::ACCESS_CONTROL_MAX_AGE,
    HeaderName::from_static("access-control-allow-private-network"),
];
