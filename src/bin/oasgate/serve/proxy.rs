//! Proxy mode: the layer around a service that forwards valid requests to the upstream.
//!
//! Bodies the layer did not read stream through untouched; hop-by-hop headers are removed
//! both ways; `X-Forwarded-For/Proto/Host` and `Forwarded` are set (extended only when the
//! peer is a trusted proxy). No upstream connection → 502; no response head in time → 504.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use oasgate::body::Body;
use oasgate::config::{Network, Upstream};
use oasgate::{OpenApi, OpenApiLayer, ProblemKind, Rejection, Validated};
use tokio::time::Instant;
use tower::{Layer, ServiceExt};

use super::body::{ClientFault, Failure, Guarded, humane};
use super::metrics::Outcome;
use super::upstream::{Pool, Returning};
use super::{ProxyBody, Settings, problem};

/// The layer around the forwarding service.
pub type Service = OpenApi<Forward>;

/// Marks a request that came over TLS: `X-Forwarded-Proto` and `Forwarded` say `https`.
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// One connection pool to `upstream` for each of the `workers`, as `settings` say: the
/// connect timeout, the upstream idle timeout, whom an `https://` upstream is trusted through.
/// A worker sends through its own pool, so an upstream connection's task runs on the worker
/// whose requests use it.
pub fn pools(
    upstream: &Upstream,
    settings: &Settings,
    workers: usize,
) -> Result<Arc<[Arc<Pool>]>, String> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(settings.connect_timeout));
    connector.set_nodelay(true);
    // The TLS connector hands `https://` URLs to it.
    connector.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(super::tls::client_config(&settings.upstream_tls)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    let uri = &upstream.0;
    let target = Uri::builder()
        .scheme(uri.scheme().cloned().unwrap_or(Scheme::HTTP))
        .authority(
            uri.authority()
                .cloned()
                .ok_or("the upstream URL has no host")?,
        )
        .path_and_query("/")
        .build()
        .map_err(|e| format!("the upstream URL cannot be connected to: {e}"))?;
    Ok((0..workers.max(1))
        .map(|_| {
            Arc::new(Pool::new(
                connector.clone(),
                target.clone(),
                settings.upstream_idle_timeout,
            ))
        })
        .collect())
}

/// The layer around a [`Forward`] to `upstream`.
pub fn service(
    layer: OpenApiLayer,
    pools: Arc<[Arc<Pool>]>,
    upstream: &Upstream,
    settings: &Settings,
) -> Service {
    let uri = &upstream.0;
    let forward = Forward {
        pools,
        target: Arc::new(Target {
            authority: uri
                .authority()
                .cloned()
                .expect("an upstream URL has a host"),
            base_path: uri.path().trim_end_matches('/').to_owned(),
        }),
        timeout: settings.upstream_timeout,
        trusted: settings.trusted_proxies.clone(),
    };
    layer.layer(forward)
}

/// Sends a request from hyper through the layer to the upstream. Both bodies fail after
/// `idle` without a chunk; the answer's also at `deadline`, the end of the exchange.
pub async fn call(
    service: Service,
    request: Request<Incoming>,
    idle: Duration,
    deadline: Option<(Instant, Duration)>,
) -> Response<ProxyBody> {
    use http_body::Body as _;
    let (mut parts, body) = request.into_parts();
    // A request without a body (most GETs) has nothing to guard or fail.
    let body = if body.is_end_stream() {
        Body::empty()
    } else {
        let fault = ClientFault::default();
        parts.extensions.insert(fault.clone());
        Body::new(Guarded::new(body, idle).recording(fault))
    };
    let request = Request::from_parts(parts, body);
    let Ok(response) = service.oneshot(request).await;
    response.map(|body| {
        let body = Guarded::new(body, idle);
        match deadline {
            Some((at, limit)) => body.deadline(at, limit).boxed(),
            None => body.boxed(),
        }
    })
}

struct Target {
    authority: Authority,
    /// The upstream URL's path without its trailing `/`, put before every forwarded path.
    base_path: String,
}

/// Forwards a request the layer let through and streams the answer back.
#[derive(Clone)]
pub struct Forward {
    /// One per worker (`workers::index`).
    pools: Arc<[Arc<Pool>]>,
    target: Arc<Target>,
    timeout: Duration,
    trusted: Arc<Vec<Network>>,
}

impl tower::Service<Request<Body>> for Forward {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ProxyBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let outcome = outcome_of(&request);
        // A secret path parameter keeps the path out of the gateway's own problems too.
        let secret_path = request
            .extensions()
            .get::<oasgate::Validated>()
            .is_some_and(oasgate::Validated::path_is_secret);
        // The URI shares the request's bytes: no copy unless a problem names its path.
        let uri = (!secret_path).then(|| request.uri().clone());
        // The client's answer speaks the client's protocol, whatever the upstream spoke.
        let version = request.version();
        let fault = request.extensions().get::<ClientFault>().cloned();
        // Named in the log lines about a failed exchange (shares the header's bytes).
        let request_id = request.headers().get(super::REQUEST_ID).cloned();
        let outgoing = self.outgoing(request);
        let pool = self.pool().clone();
        let timeout = self.timeout;
        let authority = self.target.authority.clone();
        Box::pin(async move {
            let instance = uri.as_ref().map(Uri::path);
            let request_id = request_id.as_ref().and_then(|id| id.to_str().ok());
            let client_fault = || fault.as_ref().and_then(ClientFault::get).cloned();
            let mut outcome = outcome;
            // The exchange's future is made here, in the boxed state, not moved into it.
            let mut response = match outgoing {
                Err(detail) => problem(ProblemKind::BadGateway, detail, instance),
                Ok(outgoing) => match tokio::time::timeout(timeout, pool.send(outgoing)).await {
                    Ok(Ok(response)) => {
                        incoming(response, version, &authority, instance, request_id)
                    }
                    Ok(Err(error)) => match client_fault() {
                        // The client's body failed while it was being sent: hyper aborted
                        // the upstream request (no last chunk, or fewer bytes than
                        // announced), and the fault is the client's.
                        Some(failure) => {
                            tracing::info!(
                                request_id,
                                "the client's request body failed: {failure}"
                            );
                            tracing::debug!(upstream = %authority, request_id, "upstream request aborted: {error:?}");
                            outcome = outcome.client_error();
                            client_body_problem(&failure, instance)
                        }
                        None => {
                            // The details (addresses, OS errors) go to the log, not to the
                            // client.
                            tracing::warn!(upstream = %authority, request_id, "upstream request failed: {error}");
                            let detail = if error.is_connect() {
                                "the upstream service could not be reached"
                            } else {
                                "the upstream service closed the connection without an answer"
                            };
                            problem(ProblemKind::BadGateway, detail.to_owned(), instance)
                        }
                    },
                    Err(_) => {
                        tracing::warn!(upstream = %authority, ?timeout, request_id, "upstream timed out");
                        problem(
                            ProblemKind::GatewayTimeout,
                            format!(
                                "the upstream service did not answer within {}",
                                humane(timeout)
                            ),
                            instance,
                        )
                    }
                },
            };
            response.extensions_mut().insert(outcome);
            if secret_path {
                response.extensions_mut().insert(super::access::SecretPath);
            }
            Ok(response)
        })
    }
}

impl Forward {
    /// The calling worker's pool.
    fn pool(&self) -> &Arc<Pool> {
        &self.pools[super::workers::index() % self.pools.len()]
    }

    /// The request as the upstream gets it: its target in origin form (RFC 9112 §3.2.1),
    /// `Host` naming the upstream.
    fn outgoing(&self, request: Request<Body>) -> Result<Request<Body>, String> {
        let (mut parts, body) = request.into_parts();
        let path_and_query = match parts.uri.path_and_query() {
            // Shares the request's bytes.
            Some(path_and_query) if self.target.base_path.is_empty() => path_and_query.clone(),
            None if self.target.base_path.is_empty() => PathAndQuery::from_static("/"),
            path_and_query => {
                let path_and_query = path_and_query.map_or("/", PathAndQuery::as_str);
                format!("{}{path_and_query}", self.target.base_path)
                    .parse()
                    .map_err(|_| "the request path cannot be forwarded".to_owned())?
            }
        };
        parts.uri = Uri::from(path_and_query);
        parts.version = Version::HTTP_11;
        remove_hop_by_hop(&mut parts.headers);
        // The client's address, which the layer reads too.
        let peer = parts
            .extensions
            .get::<oasgate::PeerAddr>()
            .map(|p| p.0.ip());
        let trusted = peer.is_some_and(|ip| self.trusted.iter().any(|c| c.contains(ip)));
        let host = parts.headers.get(header::HOST).cloned();
        let proto = if parts.extensions.get::<OverTls>().is_some() {
            "https"
        } else {
            "http"
        };
        set_forwarded(&mut parts.headers, peer, host.as_ref(), trusted, proto);
        if let Ok(host) = HeaderValue::from_str(self.target.authority.as_str()) {
            parts.headers.insert(header::HOST, host);
        }
        Ok(Request::from_parts(parts, body))
    }
}

/// The answer to a client whose request body failed: 408 when it stalled, else 400.
fn client_body_problem(failure: &Failure, instance: Option<&str>) -> Response<ProxyBody> {
    let (kind, detail) = match failure {
        Failure::Unreadable(_) => (
            ProblemKind::MalformedBody,
            "the request body could not be read: it is malformed or ended early".to_owned(),
        ),
        Failure::Stalled(idle) => (
            ProblemKind::RequestTimeout,
            format!(
                "the request body stalled: no data arrived for {}",
                humane(*idle)
            ),
        ),
        Failure::Deadline(limit) => (
            ProblemKind::RequestTimeout,
            format!("the request did not complete within {}", humane(*limit)),
        ),
    };
    problem(kind, detail, instance)
}

/// What the metrics count a request the layer let through as.
fn outcome_of(request: &Request<Body>) -> Outcome {
    let extensions = request.extensions();
    if let Some(rejection) = extensions.get::<Rejection>() {
        return Outcome::WouldReject(rejection.operation.clone());
    }
    match extensions.get::<Validated>() {
        Some(validated) => Outcome::Accepted(validated.operation.clone()),
        None => Outcome::Unmatched,
    }
}

/// The upstream's response, hop-by-hop headers removed, body streamed.
fn incoming(
    response: Response<Returning>,
    version: Version,
    authority: &Authority,
    instance: Option<&str>,
    request_id: Option<&str>,
) -> Response<ProxyBody> {
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        // `Upgrade` is never forwarded, so no client asked for this: passed on, it would tell
        // the client the connection now speaks another protocol, and the bytes of its next
        // request would be read as that protocol (RFC 9110 §15.2.2: a server "MUST NOT switch
        // to a protocol that was not indicated by the client in the corresponding request's
        // Upgrade header field").
        tracing::warn!(upstream = %authority, request_id, "the upstream switched protocols unasked (101)");
        return problem(
            ProblemKind::BadGateway,
            "the upstream service answered 101 Switching Protocols to a request without Upgrade"
                .to_owned(),
            instance,
        );
    }
    let (mut parts, body) = response.into_parts();
    remove_hop_by_hop(&mut parts.headers);
    // "A server SHOULD send a response version equal to the highest version to which the
    // server is conformant that has a major version less than or equal to the one received in
    // the request" (RFC 9110 §2.5): the upstream's `HTTP/1.0` is its own connection's. Left
    // as it came, hyper would answer a 1.1 client in 1.0 and close the connection after it.
    parts.version = version;
    // Response validation answers 502 for what the upstream sends against the document.
    parts.extensions.insert(oasgate::response::Origin::Upstream);
    Response::from_parts(parts, body.map_err(Into::into).boxed())
}

/// Removes the fixed hop-by-hop headers and those the `Connection` header names.
fn remove_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages have none: one pass over the names is cheaper than a lookup of each.
    if !headers
        .keys()
        .any(|name| HOP_BY_HOP.contains(name) || name == header::TRANSFER_ENCODING)
    {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
    // hyper frames the body itself: a stale Transfer-Encoding would contradict it. A
    // Content-Length sent beside it is stale too: "If a message is received with both a
    // Transfer-Encoding and a Content-Length header field, the Transfer-Encoding overrides the
    // Content-Length" (RFC 9112 §6.3), so the body was read by Transfer-Encoding and its
    // length is whatever arrives.
    if headers.remove(header::TRANSFER_ENCODING).is_some() {
        headers.remove(header::CONTENT_LENGTH);
    }
}

/// Sets `X-Forwarded-For/Proto/Host` and `Forwarded`, keeping what a trusted peer sent.
/// Each value is written into one buffer of its exact length, which becomes the header value
/// without a copy or another allocation.
fn set_forwarded(
    headers: &mut HeaderMap,
    peer: Option<IpAddr>,
    host: Option<&HeaderValue>,
    trusted: bool,
    proto: &'static str,
) {
    let Some(peer) = peer else { return };
    let mut ip = [0u8; IP_TEXT_MAX];
    let ip = ip_text(peer, &mut ip);
    let mut for_value = list(kept(headers.get(&X_FORWARDED_FOR), trusted), ip.len());
    for_value.push_str(ip);
    if let Some(value) = header_value(for_value) {
        headers.insert(X_FORWARDED_FOR, value);
    }
    if !(trusted && headers.contains_key(&X_FORWARDED_PROTO)) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    }
    if !(trusted && headers.contains_key(&X_FORWARDED_HOST)) {
        match host {
            Some(host) => headers.insert(X_FORWARDED_HOST, host.clone()),
            None => headers.remove(&X_FORWARDED_HOST),
        };
    }
    // Inside the quoted host a `"` or `\` would end or escape the string: they are dropped.
    // A value `to_str` accepts is visible ASCII, one byte per character.
    let host = host.and_then(|h| h.to_str().ok());
    let quotable = |c: &char| !matches!(c, '"' | '\\');
    let host_len = host.map_or(0, |h| {
        ";host=\"\"".len() + h.chars().filter(quotable).count()
    });
    let node_len = match peer {
        IpAddr::V4(_) => ip.len(),
        // "for=\"[2001:db8::1]\"" (RFC 7239 §6: brackets, and quoted since `:` is no token
        // character).
        IpAddr::V6(_) => ip.len() + 4,
    };
    let added = "for=".len() + node_len + ";proto=".len() + proto.len() + host_len;
    let mut forwarded = list(kept(headers.get(header::FORWARDED), trusted), added);
    forwarded.push_str("for=");
    match peer {
        IpAddr::V4(_) => forwarded.push_str(ip),
        IpAddr::V6(_) => {
            forwarded.push_str("\"[");
            forwarded.push_str(ip);
            forwarded.push_str("]\"");
        }
    }
    forwarded.push_str(";proto=");
    forwarded.push_str(proto);
    if let Some(host) = host {
        forwarded.push_str(";host=\"");
        forwarded.extend(host.chars().filter(quotable));
        forwarded.push('"');
    }
    if let Some(value) = header_value(forwarded) {
        headers.insert(header::FORWARDED, value);
    }
}

/// What a trusted peer sent before, to be extended: `before, add`.
fn kept(existing: Option<&HeaderValue>, trusted: bool) -> Option<&str> {
    existing
        .and_then(|v| v.to_str().ok())
        .filter(|before| trusted && !before.is_empty())
}

/// An empty list value with room for exactly `before, ` and `added` more bytes.
fn list(before: Option<&str>, added: usize) -> String {
    match before {
        Some(before) => {
            let mut value = String::with_capacity(before.len() + 2 + added);
            value.push_str(before);
            value.push_str(", ");
            value
        }
        None => String::with_capacity(added),
    }
}

/// The longest text of an address: eight groups of four hex digits and seven colons.
const IP_TEXT_MAX: usize = 39;

/// `ip` as `Display` writes it. IPv4 is written digit by digit: `Display` goes through the
/// formatting machinery (a padded buffer, then the writer), and every proxied request names
/// its peer twice.
fn ip_text(ip: IpAddr, buf: &mut [u8; IP_TEXT_MAX]) -> &str {
    let len = match ip {
        IpAddr::V4(v4) => {
            let mut len = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf[len] = b'.';
                    len += 1;
                }
                if octet >= 100 {
                    buf[len] = b'0' + octet / 100;
                    len += 1;
                }
                if octet >= 10 {
                    buf[len] = b'0' + octet / 10 % 10;
                    len += 1;
                }
                buf[len] = b'0' + octet % 10;
                len += 1;
            }
            len
        }
        IpAddr::V6(v6) => {
            use std::io::Write as _;
            let mut rest = &mut buf[..];
            let _ = write!(rest, "{v6}");
            IP_TEXT_MAX - rest.len()
        }
    };
    std::str::from_utf8(&buf[..len]).expect("an address is written in ASCII")
}

/// `text` as a header value, its buffer taken over rather than copied.
fn header_value(text: String) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(bytes::Bytes::from(text)).ok()
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table rows are tuples
mod tests {
    use super::*;

    #[test]
    fn forwarded_headers() {
        // (trusted, incoming headers, expected headers)
        let rows: [(bool, &[(&str, &str)], &[(&str, &str)]); 3] = [
            (
                false,
                &[
                    ("x-forwarded-for", "6.6.6.6"),
                    ("x-forwarded-proto", "https"),
                ],
                &[
                    ("x-forwarded-for", "127.0.0.1"),
                    ("x-forwarded-proto", "http"),
                    ("x-forwarded-host", "api.test"),
                    ("forwarded", "for=127.0.0.1;proto=http;host=\"api.test\""),
                ],
            ),
            (
                true,
                &[
                    ("x-forwarded-for", "203.0.113.9"),
                    ("x-forwarded-proto", "https"),
                    ("x-forwarded-host", "public.test"),
                    ("forwarded", "for=203.0.113.9"),
                ],
                &[
                    ("x-forwarded-for", "203.0.113.9, 127.0.0.1"),
                    ("x-forwarded-proto", "https"),
                    ("x-forwarded-host", "public.test"),
                    (
                        "forwarded",
                        "for=203.0.113.9, for=127.0.0.1;proto=http;host=\"api.test\"",
                    ),
                ],
            ),
            (
                true,
                &[],
                &[
                    ("x-forwarded-for", "127.0.0.1"),
                    ("x-forwarded-proto", "http"),
                    ("x-forwarded-host", "api.test"),
                ],
            ),
        ];
        for (i, (trusted, incoming, want)) in rows.into_iter().enumerate() {
            let mut headers = HeaderMap::new();
            for (k, v) in incoming {
                headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
            }
            let host = HeaderValue::from_static("api.test");
            set_forwarded(
                &mut headers,
                Some([127, 0, 0, 1].into()),
                Some(&host),
                trusted,
                "http",
            );
            for (k, v) in want {
                assert_eq!(
                    headers.get(*k).map(|v| v.to_str().unwrap()),
                    Some(*v),
                    "row {i}: {k}"
                );
            }
        }
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
            "1.20.3.40",
            "192.168.1.1",
            "::",
            "::1",
            "2001:db8::1",
            "::ffff:203.0.113.9",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut buf = [0u8; IP_TEXT_MAX];
            assert_eq!(ip_text(ip, &mut buf), ip.to_string());
        }
    }

    /// Each value is written into a buffer of its exact length: converting it to `Bytes`
    /// then takes the buffer over (a spare capacity would cost another allocation).
    #[test]
    fn forwarded_values_are_written_to_their_exact_length() {
        let host = HeaderValue::from_static("a\"b.test");
        for (peer, trusted) in [
            ("198.51.100.7", false),
            ("198.51.100.7", true),
            ("2001:db8::1", true),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(X_FORWARDED_FOR, HeaderValue::from_static("203.0.113.9"));
            headers.insert(
                header::FORWARDED,
                HeaderValue::from_static("for=203.0.113.9"),
            );
            let peer: IpAddr = peer.parse().unwrap();
            let counted = allocation_counter::measure(|| {
                set_forwarded(&mut headers, Some(peer), Some(&host), trusted, "https");
            });
            // Two values, one allocation each (the map's own storage is already there).
            assert_eq!(
                counted.count_total, 2,
                "{peer} trusted={trusted}: {counted:?}"
            );
        }
    }

    #[test]
    fn forwarded_names_an_ipv6_peer_in_brackets_and_drops_quotes_from_the_host() {
        // RFC 7239 §6: an IPv6 node is written in square brackets, and as a quoted-string,
        // since `:`, `[` and `]` are not token characters (§4). Inside the quoted host a `"`
        // or `\` would end or escape the string: they are dropped.
        let mut headers = HeaderMap::new();
        let host = HeaderValue::from_static("we\"ird\\.test");
        set_forwarded(
            &mut headers,
            Some("2001:db8::1".parse().unwrap()),
            Some(&host),
            false,
            "https",
        );
        assert_eq!(headers["x-forwarded-for"], "2001:db8::1");
        assert_eq!(
            headers["forwarded"],
            "for=\"[2001:db8::1]\";proto=https;host=\"weird.test\""
        );
    }

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-secret-hop"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("upgrade", "websocket"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("content-length", "50"),
            ("proxy-authorization", "Basic eA=="),
            ("x-kept", "yes"),
        ] {
            headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        remove_hop_by_hop(&mut headers);
        let left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["x-kept"]);
        // Without Transfer-Encoding, Content-Length is the framing and stays.
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        remove_hop_by_hop(&mut headers);
        assert_eq!(headers[header::CONTENT_LENGTH], "5");
    }
}
