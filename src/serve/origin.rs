//! The URL a client used to reach the service: from `Host`, and from `Forwarded` /
//! `X-Forwarded-Proto`, `-Host`, `-Prefix` only when the peer is a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use http::request::Parts;
use http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The address of the client connection, inserted into the request extensions by the server
/// so the layer can tell whether forwarded headers come from a trusted proxy.
///
/// Servers do not insert it by themselves. With hyper, insert it per connection; with axum,
/// serve with `into_make_service_with_connect_info::<SocketAddr>()` and tell the layer where
/// the address is with [`Options::peer_addr`](crate::Options::peer_addr):
///
/// ```
/// use std::net::SocketAddr;
///
/// use axum::extract::ConnectInfo;
/// use oasgate::Options;
///
/// let options = Options::default()
///     .trusted_proxies(["10.0.0.0/8", "127.0.0.1"])
///     .peer_addr(|extensions| {
///         extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0)
///     });
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

pub use crate::options::PeerAddrFn;

/// The default peer lookup: a [`PeerAddr`] extension.
pub(crate) fn peer_from_extension(extensions: &Extensions) -> Option<SocketAddr> {
    extensions.get::<PeerAddr>().map(|p| p.0)
}

/// Proxies whose forwarded headers are believed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parses addresses (`10.1.2.3`, `::1`) and networks (`10.0.0.0/8`); lists every bad one.
    pub fn parse(items: &[String]) -> Result<Self, Vec<String>> {
        let mut nets = Vec::new();
        let mut bad = Vec::new();
        for item in items {
            match parse_network(item) {
                Ok(net) => nets.push(net),
                Err(message) => bad.push(format!("trusted proxy {message}")),
            }
        }
        if bad.is_empty() {
            Ok(Self { nets })
        } else {
            Err(bad)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|net| network_contains(net, ip))
    }
}

/// An address (`10.1.2.3`, `::1`, a network of one) or a network (`10.0.0.0/8`), host bits
/// cleared; the error names the text and what was expected.
pub(crate) fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    // ipnet refuses a prefix longer than the address without saying so.
    if let Some((addr, prefix)) = text.split_once('/')
        && let Ok(addr) = addr.parse::<IpAddr>()
        && prefix.bytes().all(|b| b.is_ascii_digit())
        && !prefix.is_empty()
    {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        return Err(format!("`{text}`: the prefix length is at most {max}"));
    }
    Err(format!(
        "`{text}` is not an IP address or a network such as `10.0.0.0/8`"
    ))
}

/// Whether `ip` is in `net`; an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) counts as the
/// IPv4 address it carries.
pub(crate) fn network_contains(net: &IpNet, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    net.contains(&ip)
}

/// What the client used: `scheme://host` (or nothing when unknown) and a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// `http://example.com:8080`, or empty when the request names no valid host.
    pub base: String,
    /// `/api` from a trusted `X-Forwarded-Prefix`, or empty.
    pub prefix: String,
}

impl Origin {
    /// The text server URLs start with: `http://host/prefix`, or the prefix alone (a URL
    /// relative to the document) when no host is known.
    pub fn url(&self) -> String {
        format!("{}{}", self.base, self.prefix)
    }

    /// Reads the origin of a request; forwarded headers count only from a trusted peer.
    pub fn of(parts: &Parts, proxies: &TrustedProxies, peer: &PeerAddrFn) -> Self {
        let mut scheme = parts.uri.scheme_str().unwrap_or("http").to_owned();
        let mut host = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| single(&parts.headers, "host").map(str::to_owned));
        let mut prefix = String::new();
        let trusted = !proxies.is_empty()
            && peer(&parts.extensions).is_some_and(|addr| proxies.trusts(addr.ip()));
        if trusted {
            let forwarded = forwarded(&parts.headers);
            let proto = forwarded
                .proto
                .or_else(|| nearest(&parts.headers, "x-forwarded-proto"));
            if let Some(proto) = proto.map(str::to_ascii_lowercase)
                && (proto == "http" || proto == "https")
            {
                scheme = proto;
            }
            if let Some(h) = forwarded
                .host
                .or_else(|| nearest(&parts.headers, "x-forwarded-host"))
            {
                host = Some(h.to_owned());
            }
            if let Some(p) = nearest(&parts.headers, "x-forwarded-prefix")
                && valid_prefix(p)
            {
                prefix = p.trim_end_matches('/').to_owned();
            }
        }
        let base = match host.filter(|h| valid_host(h)) {
            Some(host) => format!("{scheme}://{host}"),
            None => String::new(),
        };
        Origin { base, prefix }
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The header's value when it has exactly one field line. RFC 9112 §3.2: a server "MUST
/// respond with a 400 (Bad Request) status code to any request message that contains more
/// than one Host header field line"; such a request names no host here.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut lines = headers.get_all(name).iter();
    let first = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    first.to_str().ok()
}

/// The last item of an `X-Forwarded-*` header over all its field lines: the one the nearest
/// proxy, the trusted peer, wrote.
///
/// A proxy that appends to a list (or adds a field line) leaves what came before it in place,
/// and that may be the client's own text: only the item the trusted peer added is known to be
/// a proxy's. `None` when that item is empty or a line is not text, rather than falling back
/// to an earlier, unknown one.
fn nearest<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let line = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    line.rsplit(',')
        .next()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `proto` and `host` of the first element of RFC 7239 `Forwarded`.
#[derive(Default)]
struct Forwarded<'h> {
    proto: Option<&'h str>,
    host: Option<&'h str>,
}

fn forwarded(headers: &HeaderMap) -> Forwarded<'_> {
    let mut out = Forwarded::default();
    let Some(element) = header(headers, "forwarded").and_then(|v| v.split(',').next()) else {
        return out;
    };
    for pair in element.split(';') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "proto" => out.proto = Some(value),
            "host" => out.host = Some(value),
            _ => {}
        }
    }
    out
}

/// A host and optional port: letters, digits, `-._~`, and `[…:…]` for IPv6. Anything else
/// (spaces, quotes, `/`, `@`) is refused so the value can be written into the document as is.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:[]".contains(&b))
}

/// A path prefix: starts with `/`, then unreserved characters, `/` and percent escapes.
fn valid_prefix(prefix: &str) -> bool {
    prefix.starts_with('/')
        && prefix.len() <= 255
        && !prefix.contains("//")
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;

    fn origin(headers: &[(&str, &str)], peer: Option<&str>, proxies: &[&str]) -> String {
        let mut builder = Request::get("/openapi.json");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(()).unwrap();
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(PeerAddr(peer.parse().unwrap()));
        }
        let (parts, ()) = request.into_parts();
        let proxies =
            TrustedProxies::parse(&proxies.iter().map(|p| p.to_string()).collect::<Vec<_>>())
                .unwrap();
        let peer: PeerAddrFn = std::sync::Arc::new(peer_from_extension);
        Origin::of(&parts, &proxies, &peer).url()
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn reads_the_origin() {
        let proxy = Some("10.1.2.3:5000");
        let stranger = Some("192.0.2.7:5000");
        let trusted = &["10.0.0.0/8"][..];
        // (headers, peer, trusted proxies, expected origin)
        let rows: Vec<(Vec<(&str, &str)>, Option<&str>, &[&str], &str)> = vec![
            (
                vec![("host", "api.test:8080")],
                None,
                &[],
                "http://api.test:8080",
            ),
            (vec![], None, &[], ""),
            (vec![("host", "evil.test/x")], None, &[], ""),
            (vec![("host", "a b")], None, &[], ""),
            (vec![("host", "[::1]:80")], None, &[], "http://[::1]:80"),
            (vec![("host", "a.test"), ("host", "b.test")], None, &[], ""),
            (
                vec![
                    ("host", "in:1"),
                    ("x-forwarded-host", "pub.test"),
                    ("x-forwarded-proto", "https"),
                ],
                proxy,
                trusted,
                "https://pub.test",
            ),
            (
                vec![
                    ("host", "in:1"),
                    ("x-forwarded-host", "pub.test"),
                    ("x-forwarded-proto", "https"),
                ],
                stranger,
                trusted,
                "http://in:1",
            ),
            (
                vec![("host", "in:1"), ("x-forwarded-host", "pub.test")],
                None,
                trusted,
                "http://in:1",
            ),
            (
                vec![("host", "in:1"), ("x-forwarded-host", "pub.test")],
                proxy,
                &[],
                "http://in:1",
            ),
            (
                vec![
                    ("host", "in:1"),
                    (
                        "forwarded",
                        "for=1.2.3.4;proto=https;host=\"pub.test:8443\", for=10.0.0.1;host=in:1",
                    ),
                    ("x-forwarded-host", "other.test"),
                ],
                proxy,
                trusted,
                "https://pub.test:8443",
            ),
            (
                vec![
                    ("host", "in:1"),
                    ("x-forwarded-prefix", "/api/"),
                    ("x-forwarded-host", "a.test, b.test"),
                ],
                proxy,
                trusted,
                "http://b.test/api",
            ),
            // Several field lines: the last is the trusted peer's; the first may be the
            // client's, passed on by a proxy that appends.
            (
                vec![
                    ("host", "in:1"),
                    ("x-forwarded-host", "evil.test"),
                    ("x-forwarded-host", "pub.test"),
                    ("x-forwarded-proto", "http, https"),
                    ("x-forwarded-prefix", "/evil"),
                    ("x-forwarded-prefix", "/api"),
                ],
                proxy,
                trusted,
                "https://pub.test/api",
            ),
            // The peer's own item is empty: no earlier item stands in for it.
            (
                vec![("host", "in:1"), ("x-forwarded-host", "evil.test, ")],
                proxy,
                trusted,
                "http://in:1",
            ),
            (
                vec![("host", "in:1"), ("x-forwarded-prefix", "/a b")],
                proxy,
                trusted,
                "http://in:1",
            ),
            (
                vec![("host", "in:1"), ("x-forwarded-proto", "gopher")],
                proxy,
                trusted,
                "http://in:1",
            ),
            (
                vec![("host", "in:1"), ("x-forwarded-proto", "https")],
                Some("[::ffff:10.9.9.9]:1"),
                trusted,
                "https://in:1",
            ),
            (
                vec![("host", "in:1"), ("x-forwarded-proto", "https")],
                Some("127.0.0.1:9"),
                &["127.0.0.1", "::1"],
                "https://in:1",
            ),
        ];
        for (i, (headers, peer, proxies, want)) in rows.into_iter().enumerate() {
            assert_eq!(
                origin(&headers, peer, proxies),
                want,
                "row {i}: {headers:?} from {peer:?}"
            );
        }
    }

    #[test]
    fn lists_every_bad_proxy() {
        let bad = TrustedProxies::parse(&["10.0.0.0/8".into(), "nope".into(), "1.2.3.4/99".into()])
            .unwrap_err();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(bad[0].contains("`nope`"), "{bad:?}");
    }
}
