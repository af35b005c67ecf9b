//! Everything the layer serves itself: `/openapi.json`, `/openapi.yaml` and the `/docs` page.
//!
//! The served document is the loaded one plus what the layer does, so that a client
//! developer reading it is never surprised:
//!
//! - the `limit`, `offset`, `sort` and `sortdir` parameters of `x-paging` operations;
//! - on every operation, the problem answers the layer itself can give — 400, 401 where
//!   security is required (403 with a verifier), 404, 405, 413 where a body is read, 415
//!   where one is declared (422 with `unprocessable_bodies`) — each a `$ref` to
//!   `components/responses/Problem…` whose body is `components/schemas/Problem`, unless the
//!   operation declares that status itself;
//! - `servers` that point where the layer listens, on the host the client used: the
//!   `Host` header, or `Forwarded` / `X-Forwarded-Proto`, `-Host`, `-Prefix` when the peer
//!   is a [trusted proxy](crate::Options::trusted_proxies) (its address comes from the
//!   request extensions: see [`PeerAddr`]). Base paths keep the document's, with server
//!   variables at their defaults, as the router reads them.
//!
//! The JSON is rendered once at start-up, the YAML once on its first request (written from the
//! JSON); per request only the server URLs change.
//! Answers carry an `ETag` (a matching `If-None-Match` answers 304), `Cache-Control`
//! ([`Options::document_cache_control`](crate::Options::document_cache_control)) and
//! `Vary`, and are gzip- or brotli-encoded when the client accepts it. The compressed forms are
//! made once, on first use: documents are large (the DigitalOcean API is megabytes) and fixed,
//! so compressing per request would spend milliseconds of CPU on every fetch.
//!
//! With [`Options::serve_bundled`](crate::Options::serve_bundled), definitions from other
//! files move into `components` (see [`Options::serve_bundled`](crate::Options::serve_bundled)).
//!
//! # Example
//!
//! ```
//! use http::Request;
//! use oasgate::{Document, OpenApiLayer, Options, body::Body};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let doc = Document::from_str(r#"
//! openapi: 3.1.0
//! info: {title: Pets, version: "1"}
//! servers: [{url: "https://pets.example/v1"}]
//! paths:
//!   /pets:
//!     get:
//!       parameters: [{name: limit, in: query, schema: {type: integer}}]
//!       responses: {"200": {description: ok}}
//! "#)?;
//! let layer = OpenApiLayer::with_options(&doc, Options::default().openapi_yaml_path(None))?;
//! let service = ServiceBuilder::new()
//!     .layer(layer)
//!     .service_fn(|_: Request<Body>| async { Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty())) });
//! let request = Request::get("/openapi.json").header("host", "localhost:8080").body(Body::empty())?;
//! let response = service.oneshot(request).await?;
//! let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
//! let served: serde_json::Value = serde_json::from_slice(&body)?;
//! assert_eq!(served["servers"][0]["url"], "http://localhost:8080/v1");
//! assert!(served["paths"]["/pets"]["get"]["responses"]["400"].is_object());
//! # Ok(())
//! # }
//! ```

mod docs;
pub(crate) mod document;
mod origin;
mod outline;
mod render;

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use serde_json::Value;

pub use origin::{PeerAddr, PeerAddrFn};

pub(crate) use document::OperationFacts;
pub(crate) use origin::peer_from_extension;
pub(crate) use origin::{network_contains, parse_network};
pub(crate) use outline::ServedTree;

use crate::options::{DocsUi, Options};
use docs::Docs;
use origin::{Origin, TrustedProxies};
use render::{Coding, LaterYaml, Rendered};

/// What the layer serves besides validating: built at start-up.
pub(crate) struct ServedDocuments {
    json: Option<(String, Rendered)>,
    yaml: Option<(String, Yaml)>,
    docs: Option<Docs>,
    proxies: TrustedProxies,
    peer: PeerAddrFn,
    cache_control: HeaderValue,
    vary: HeaderValue,
}

/// The served YAML: written at start-up, or from the served JSON on its first request.
enum Yaml {
    Now(Rendered),
    Later(LaterYaml),
}

/// What a request to a served path gets.
pub(crate) enum ServedAnswer {
    Response(Response<Bytes>),
    /// A served path with a method other than GET or HEAD (the `Allow` value).
    MethodNotAllowed(HeaderValue),
}

impl ServedDocuments {
    /// Builds the served document and docs page; answers every problem with the options.
    pub fn build(
        doc: ServedTree,
        operations: &[OperationFacts],
        options: &Options,
    ) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let proxies = TrustedProxies::parse(&options.trusted_proxies).unwrap_or_else(|bad| {
            problems.extend(bad);
            TrustedProxies::default()
        });
        let cache_control =
            HeaderValue::from_str(&options.document_cache_control).unwrap_or_else(|_| {
                problems.push(format!(
                    "document cache control `{}` is not a valid header value",
                    options.document_cache_control
                ));
                HeaderValue::from_static("no-cache")
            });
        for (what, path) in [
            ("openapi_json_path", &options.openapi_json_path),
            ("openapi_yaml_path", &options.openapi_yaml_path),
            ("docs_path", &options.docs_path),
        ] {
            if let Some(path) = path
                && (!path.starts_with('/') || path.len() < 2 || path.ends_with('/'))
            {
                problems.push(format!(
                    "{what} `{path}` must start with `/`, name something, and not end with `/`"
                ));
            }
        }
        let wanted = options.serves_document();
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut served = Self {
            json: None,
            yaml: None,
            docs: None,
            proxies,
            peer: options
                .peer_addr
                .clone()
                .unwrap_or_else(|| Arc::new(peer_from_extension)),
            cache_control,
            vary: HeaderValue::from_static(if options.trusted_proxies.is_empty() {
                "accept-encoding"
            } else {
                "accept-encoding, forwarded, x-forwarded-proto, x-forwarded-host, x-forwarded-prefix"
            }),
        };
        if !wanted {
            return Ok(served);
        }
        let (mut doc, aside) = doc.into_tree(operations.iter().map(|op| op.at.as_str()));
        if options.describe_problems {
            let style = document::ProblemStyle {
                custom_format: options.formatter.is_some(),
                verifier: options.verifier.is_some(),
                unprocessable_bodies: options.unprocessable_bodies,
                forwards_upstream: options.forwards_upstream,
            };
            document::add_problem_responses(&mut doc, operations, &style);
        }
        if options.serve_bundled {
            crate::spec::components::bundle(&mut doc);
        }
        // References below a schema `$id` go out as written (see `Document::as_json`).
        crate::spec::restore_written_refs(&mut doc);
        let token = origin_token(&doc, aside.as_ref());
        document::template_servers(&mut doc, &options.prefix, &token);
        let title = doc
            .pointer("/info/title")
            .and_then(Value::as_str)
            .unwrap_or("API")
            .to_owned();
        // The YAML is written from the JSON text, so the tree goes first: a large document's
        // tree, its JSON and its YAML are never all held at once.
        let json = render::to_json(&doc, aside.as_ref());
        drop((doc, aside));
        if let Some(path) = &options.openapi_yaml_path {
            // Later, from the served JSON, when there is one to write it from.
            let later = options
                .openapi_json_path
                .as_ref()
                .and_then(|_| LaterYaml::of(&json, &token));
            if let Some(later) = later {
                served.yaml = Some((path.clone(), Yaml::Later(later)));
            } else {
                match render::to_yaml(&json) {
                    Ok(parts) => {
                        let now = Rendered::new(parts, &token, "application/yaml");
                        served.yaml = Some((path.clone(), Yaml::Now(now)));
                    }
                    Err(e) => problems.push(format!("the document cannot be written as YAML: {e}")),
                }
            }
        }
        if let Some(path) = &options.openapi_json_path {
            served.json = Some((
                path.clone(),
                Rendered::new(render::json_parts(json), &token, "application/json"),
            ));
        }
        if let Some(path) = &options.docs_path {
            let document = options
                .openapi_json_path
                .as_ref()
                .or(options.openapi_yaml_path.as_ref());
            match document {
                None => problems.push(
                    "the docs page needs the document served: set openapi_json_path or openapi_yaml_path"
                        .into(),
                ),
                Some(document) => match docs_page(options.docs_ui, path, &title, document) {
                    Ok(docs) => served.docs = Some(docs),
                    Err(e) => problems.push(e),
                },
            }
        }
        if problems.is_empty() {
            Ok(served)
        } else {
            Err(problems)
        }
    }

    /// The answer when `parts` asks for something served here; `None` otherwise (cheap).
    /// `path` is the request's canonical path.
    pub fn respond(&self, parts: &Parts, path: &str) -> Option<ServedAnswer> {
        let json = self.json.as_ref().filter(|(p, _)| p == path);
        let yaml = self
            .yaml
            .as_ref()
            .filter(|(p, _)| p == path && json.is_none());
        if json.is_some() || yaml.is_some() {
            if !is_read(&parts.method) {
                return Some(ServedAnswer::MethodNotAllowed(HeaderValue::from_static(
                    "GET, HEAD",
                )));
            }
            let rendered = match (json, yaml) {
                (Some((_, json)), _) => Ok(json),
                (_, Some((_, Yaml::Now(yaml)))) => Ok(yaml),
                (_, Some((_, Yaml::Later(later)))) => match &self.json {
                    Some((_, json)) => later.get(json),
                    None => Err("the served JSON is gone"),
                },
                (None, None) => return None,
            };
            return Some(ServedAnswer::Response(match rendered {
                Ok(rendered) => self.document(rendered, parts),
                Err(why) => unwritten_yaml(why),
            }));
        }
        let docs = self.docs.as_ref()?;
        if !path.starts_with(docs.path.as_str()) {
            return None;
        }
        if path.len() == docs.path.len() + 1 {
            // `/docs/`: the page's relative links need `/docs`.
            let page = docs.path.rsplit('/').next().unwrap_or_default();
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
            if let Ok(location) = HeaderValue::from_str(&format!("../{page}")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            return Some(ServedAnswer::Response(response));
        }
        let asset = docs.find(path)?;
        if !is_read(&parts.method) {
            return Some(ServedAnswer::MethodNotAllowed(HeaderValue::from_static(
                "GET, HEAD",
            )));
        }
        // The gzipped form is another representation: its own tag.
        let gzip_tag = format!("{}-gzip\"", asset.etag.trim_end_matches('"'));
        let gzip = asset
            .gzip
            .as_ref()
            .filter(|_| negotiate(&parts.headers, false) == Coding::Gzip);
        let tag = if gzip.is_some() {
            &gzip_tag
        } else {
            &asset.etag
        };
        let mut response = if matches_tag(&parts.headers, |t| t == asset.etag || t == gzip_tag) {
            not_modified()
        } else {
            let mut response = Response::new(match gzip {
                Some(gz) => gz.clone(),
                None => asset.plain(),
            });
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            if gzip.is_some() {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            if asset.content_type.starts_with("text/html") {
                headers.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(docs.policy),
                );
            }
            response
        };
        let headers = response.headers_mut();
        if let Ok(tag) = HeaderValue::from_str(tag) {
            headers.insert(header::ETAG, tag);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if asset.immutable {
                "public, max-age=86400"
            } else {
                "no-cache"
            }),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        Some(ServedAnswer::Response(response))
    }

    fn document(&self, rendered: &Rendered, parts: &Parts) -> Response<Bytes> {
        let origin = Origin::of(parts, &self.proxies, &self.peer).url();
        let identity = rendered.identity_tag(&origin);
        let known = |tag: &str| {
            tag.strip_prefix(identity.as_str())
                .is_some_and(|rest| matches!(rest, "\"" | "-gzip\"" | "-br\""))
        };
        let coding = negotiate(&parts.headers, rendered.brotli_offered());
        let mut response = if matches_tag(&parts.headers, known) {
            let mut response = not_modified();
            // The tag of the representation a 200 would have carried.
            let tag = format!("{identity}{}\"", coding.tag_suffix());
            if let Ok(tag) = HeaderValue::from_str(&tag) {
                response.headers_mut().insert(header::ETAG, tag);
            }
            response
        } else {
            let body = rendered.body(&origin, coding);
            let mut response = Response::new(body.bytes);
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(rendered.content_type),
            );
            if let Some(coding) = body.coding.header() {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            }
            if let Ok(tag) = HeaderValue::from_str(&body.etag) {
                headers.insert(header::ETAG, tag);
            }
            response
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        headers.insert(header::VARY, self.vary.clone());
        response
    }
}

#[cfg_attr(
    not(all(feature = "docs-ui", feature = "docs-redoc")),
    allow(unused_variables)
)]
fn docs_page(ui: DocsUi, path: &str, title: &str, document: &str) -> Result<Docs, String> {
    match ui {
        #[cfg(feature = "docs-ui")]
        DocsUi::SwaggerUi => Docs::swagger_ui(path, title, document),
        #[cfg(not(feature = "docs-ui"))]
        DocsUi::SwaggerUi => Err(
            "the docs page needs the `docs-ui` feature of oasgate (or set docs_path(None))".into(),
        ),
        #[cfg(feature = "docs-redoc")]
        DocsUi::Redoc => Docs::redoc(path, title, document),
        #[cfg(not(feature = "docs-redoc"))]
        DocsUi::Redoc => Err(
            "`docs_ui: redoc` (`Options::docs_ui(DocsUi::Redoc)`) needs Redoc, \
                              which this build of oasgate leaves out: build it with the \
                              `docs-redoc` feature (`--features docs-redoc`)"
                .into(),
        ),
    }
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

fn not_modified() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    response
}

/// Whether `If-None-Match` lists `*` or a tag `known` accepts (weak comparison).
fn matches_tag(headers: &HeaderMap, known: impl Fn(&str) -> bool) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || known(tag.strip_prefix("W/").unwrap_or(tag)))
}

/// The best coding the client accepts: brotli, then gzip, else identity (`q=0` refuses).
fn negotiate(headers: &HeaderMap, brotli: bool) -> Coding {
    let mut best = (Coding::Identity, 0.0_f32);
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        let coding = match name.as_str() {
            "br" if brotli => Coding::Brotli,
            "gzip" | "x-gzip" => Coding::Gzip,
            "*" if brotli => Coding::Brotli,
            "*" => Coding::Gzip,
            _ => continue,
        };
        let better = q > best.1 || (q == best.1 && q > 0.0 && coding == Coding::Brotli);
        if q > 0.0 && better {
            best = (coding, q);
        }
    }
    best.0
}

/// A placeholder for the origin that the document's text does not contain.
fn origin_token(doc: &Value, aside: Option<&outline::SetAside>) -> String {
    // Only a string or a key can hold it (its characters are written unescaped), so only
    // those that hold the tokens' common part are searched, not the whole text.
    const COMMON: &str = "oasgate-origin-";
    fn holding<'a>(node: &'a Value, found: &mut Vec<&'a str>) {
        match node {
            Value::String(s) if s.contains(COMMON) => found.push(s),
            Value::Array(items) => items.iter().for_each(|item| holding(item, found)),
            Value::Object(map) => {
                for (key, value) in map {
                    if key.contains(COMMON) {
                        found.push(key);
                    }
                    holding(value, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    holding(doc, &mut found);
    // The parts an outline set aside: their text holds a token where one of their strings or
    // keys does.
    let aside = aside.filter(|aside| aside.contains(COMMON));
    (0u32..)
        .map(|n| format!("{COMMON}{n:x}-7c1e"))
        .find(|token| {
            !found.iter().any(|s| s.contains(token.as_str()))
                && !aside.is_some_and(|aside| aside.contains(token))
        })
        .unwrap_or_default()
}

/// The answer when the YAML cannot be written on its first request. [`LaterYaml`] is made
/// only for JSON that can be written as YAML, so this is not expected; it is answered, not
/// panicked on.
fn unwritten_yaml(why: &str) -> Response<Bytes> {
    tracing::error!(target: "oasgate::serve", "the document cannot be written as YAML: {why}");
    let body = serde_json::json!({
        "type": "urn:oasgate:problem:internal",
        "title": "Internal Server Error",
        "status": 500,
        "detail": format!("the document cannot be written as YAML: {why}"),
    });
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholder is a text no string or key of the document holds: the origin is put
    /// where it stands and nowhere else.
    #[test]
    fn the_origin_placeholder_is_in_no_string_or_key() {
        let rows = [
            (
                serde_json::json!({"openapi": "3.1.0"}),
                "oasgate-origin-0-7c1e",
            ),
            (
                serde_json::json!({"info": {"description": "see oasgate-origin-0-7c1e"}}),
                "oasgate-origin-1-7c1e",
            ),
            (
                serde_json::json!({"x": [{"oasgate-origin-0-7c1e": 1}, "oasgate-origin-1-7c1e!"]}),
                "oasgate-origin-2-7c1e",
            ),
            // The common part alone takes nothing.
            (
                serde_json::json!({"x": "oasgate-origin-"}),
                "oasgate-origin-0-7c1e",
            ),
        ];
        for (doc, want) in rows {
            assert_eq!(origin_token(&doc, None), want, "{doc}");
            assert!(!doc.to_string().contains(want));
            // The same through an outline, which sets `x` (and a schema) aside as text.
            let (tree, aside) = ServedTree::of(&doc, false).into_tree(std::iter::empty());
            assert!(aside.is_some(), "{doc}: no outline");
            assert_eq!(origin_token(&tree, aside.as_ref()), want, "{doc}, outlined");
        }
        let doc = serde_json::json!({"paths": {"/a": {"get": {"responses": {"200": {
            "description": "ok",
            "content": {"a/b": {"schema": {"description": "oasgate-origin-0-7c1e"}}}
        }}}}}});
        let (tree, aside) = ServedTree::of(&doc, false).into_tree(std::iter::empty());
        assert!(!tree.to_string().contains("oasgate-origin-0-7c1e"));
        assert_eq!(origin_token(&tree, aside.as_ref()), "oasgate-origin-1-7c1e");
    }

    /// The YAML is written on its first request, from the served JSON, and reads as the JSON
    /// does. JSON nested too deep to be written later is written at start-up (and refused
    /// there when it cannot be written at all), as is the YAML of a layer serving no JSON.
    #[test]
    fn the_yaml_is_written_on_its_first_request_where_it_can_be() {
        // Trees this deep take more stack than a test thread has in a debug build.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(yaml_written_later)
            .unwrap()
            .join()
            .unwrap();
    }

    fn yaml_written_later() {
        fn nested(depth: usize) -> Value {
            let mut deep = serde_json::json!("leaf");
            for _ in 0..depth {
                deep = serde_json::json!([deep]);
            }
            serde_json::json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
                               "paths": {}, "x-deep": deep})
        }
        fn get(served: &ServedDocuments, path: &str) -> Value {
            let request = http::Request::get(path).header("host", "localhost:8080");
            let (parts, ()) = request.body(()).unwrap().into_parts();
            let Some(ServedAnswer::Response(response)) = served.respond(&parts, path) else {
                panic!("{path} is not served");
            };
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let text = std::str::from_utf8(response.body()).unwrap();
            crate::spec::source::parse(text).unwrap().0
        }
        let both = Options::default();
        let yaml_only = Options::default().openapi_json_path(None).docs_path(None);
        // (depth of `x-deep`, options, written later)
        let table = [
            (3, &both, true),
            (125, &both, false),
            (3, &yaml_only, false),
        ];
        for (depth, options, later) in table {
            let doc = nested(depth);
            let served = ServedDocuments::build(ServedTree::of(&doc, false), &[], options)
                .unwrap_or_else(|e| panic!("{depth}: {e:?}"));
            let yaml = &served.yaml.as_ref().unwrap().1;
            let unwritten = |yaml: &Yaml| matches!(yaml, Yaml::Later(l) if !l.is_written());
            assert_eq!(unwritten(yaml), later, "{depth}");
            let as_yaml = get(&served, "/openapi.yaml");
            assert_eq!(as_yaml["x-deep"], doc["x-deep"], "{depth}");
            if options.openapi_json_path.is_some() {
                assert_eq!(as_yaml, get(&served, "/openapi.json"), "{depth}");
            }
            assert!(!unwritten(yaml), "{depth}: written once asked for");
        }
        // Deeper than the JSON reader goes: refused at start-up, as before.
        let deep = nested(140);
        let refused = ServedDocuments::build(ServedTree::of(&deep, false), &[], &both);
        let problems = refused.err().expect("refused");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("the document cannot be written as YAML")),
            "{problems:?}"
        );
    }

    #[test]
    fn negotiates_the_coding() {
        let rows = [
            ("", true, Coding::Identity),
            ("gzip", true, Coding::Gzip),
            ("gzip, deflate, br, zstd", true, Coding::Brotli),
            ("gzip, deflate, br", false, Coding::Gzip),
            ("br;q=0.5, gzip", true, Coding::Gzip),
            ("br;q=0, gzip;q=0", true, Coding::Identity),
            ("*", true, Coding::Brotli),
            ("identity", true, Coding::Identity),
            ("GZIP;q=0.8", true, Coding::Gzip),
        ];
        for (accept, brotli, want) in rows {
            let mut headers = HeaderMap::new();
            if !accept.is_empty() {
                headers.insert(
                    header::ACCEPT_ENCODING,
                    HeaderValue::from_str(accept).unwrap(),
                );
            }
            assert_eq!(negotiate(&headers, brotli), want, "{accept:?}");
        }
    }
}
