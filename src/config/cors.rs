//! `server.cors`: which other origins a browser may call the API from through `oasgate serve`.
//!
//! The section is checked as it is read: an origin that is not `scheme://host[:port]`, a
//! method or header name that is not one, and credentials together with a `*` are errors
//! at the key's line and column. The binary turns it into tower-http's `CorsLayer`.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::values::{Bounded, Seconds};

/// The methods a preflight allows when `allow_methods` is not given.
pub const DEFAULT_METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// The `server.cors` section of `oasgate serve`.
///
/// ```
/// use oasgate::config::Config;
///
/// let config = Config::from_text(r#"
/// server:
///   cors:
///     allow_origins: [https://app.example.com, "https://*.example.com"]
///     allow_credentials: true
///     max_age: 10m
/// "#, "oasgate.yaml")?;
/// let cors = config.server.cors.unwrap();
/// assert!(cors.allows_origin(b"https://admin.example.com"));
/// assert!(!cors.allows_origin(b"https://example.org"));
///
/// let wildcard = Config::from_text(
///     "server:\n  cors:\n    allow_origins: '*'\n    allow_credentials: true\n",
///     "oasgate.yaml",
/// ).unwrap_err();
/// assert!(wildcard.message.starts_with("`allow_credentials: true` cannot go with `*`"));
/// # Ok::<(), oasgate::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawCors")]
#[non_exhaustive]
pub struct CorsSection {
    /// The origins allowed: every origin (`*`), or these.
    pub allow_origins: Wildcard<CorsOrigin>,
    /// The methods a preflight allows; `None`: [`DEFAULT_METHODS`].
    pub allow_methods: Option<Wildcard<CorsMethod>>,
    /// The request headers a preflight allows; `None`: those the preflight asks for.
    pub allow_headers: Option<Wildcard<CorsHeader>>,
    /// The response headers a page may read besides the CORS-safelisted ones.
    pub expose_headers: Option<Wildcard<CorsHeader>>,
    /// Whether a page may send credentials (cookies, `Authorization`) and read the answer.
    pub allow_credentials: bool,
    /// How long a browser may keep a preflight's answer; `None`: the browser's default.
    pub max_age: Option<Duration>,
}

impl CorsSection {
    /// Whether `origin` (an `Origin` header's value) is allowed.
    pub fn allows_origin(&self, origin: &[u8]) -> bool {
        match &self.allow_origins {
            Wildcard::Any => true,
            Wildcard::List(list) => list.iter().any(|allowed| allowed.matches(origin)),
        }
    }
}

/// `*` (anything), or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wildcard<T> {
    /// `*`.
    Any,
    /// These only.
    List(Vec<T>),
}

impl<T> Wildcard<T> {
    fn is_any(&self) -> bool {
        matches!(self, Wildcard::Any)
    }
}

impl<'de, T: Item> Deserialize<'de> for Wildcard<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Item> Visitor<'de> for V<T> {
            type Value = Wildcard<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "`*` or a list of {}", T::WHAT)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items: Vec<WildcardItem<T>> = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                collect(items).map_err(de::Error::custom)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                let items = text
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(WildcardItem::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(E::custom)?;
                collect(items).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `*` alone is every value; `*` beside values is a mistake.
fn collect<T: Item>(items: Vec<WildcardItem<T>>) -> Result<Wildcard<T>, String> {
    let any = items.iter().any(|i| matches!(i, WildcardItem::Any));
    match (any, items.len()) {
        (_, 0) => Err(format!(
            "the list is empty: expected `*` or at least one of {}",
            T::WHAT
        )),
        (true, 1) => Ok(Wildcard::Any),
        (true, _) => Err(format!(
            "`*` already allows every one of {}: expected `*` alone, or a list without it",
            T::WHAT
        )),
        (false, _) => Ok(Wildcard::List(
            items
                .into_iter()
                .filter_map(|i| match i {
                    WildcardItem::One(one) => Some(one),
                    WildcardItem::Any => None,
                })
                .collect(),
        )),
    }
}

/// One entry of a list that may hold `*`.
enum WildcardItem<T> {
    Any,
    One(T),
}

impl<T: Item> WildcardItem<T> {
    fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            Ok(WildcardItem::Any)
        } else {
            T::parse(text).map(WildcardItem::One)
        }
    }
}

impl<'de, T: Item> Deserialize<'de> for WildcardItem<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

/// A value of a CORS list, read from its text.
pub trait Item: Sized {
    /// What a list of these holds, for messages: `origins`.
    const WHAT: &'static str;
    /// Reads one entry.
    fn parse(text: &str) -> Result<Self, String>;
}

/// An allowed origin: exact (`https://app.example.com`) or every subdomain of a domain
/// (`https://*.example.com`), with the scheme and port given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsOrigin {
    /// The origin as a browser serializes it (lowercase), `*.` included for subdomains.
    pub text: String,
    /// For `scheme://*.domain[:port]`: `scheme://` and `.domain[:port]`, the parts around
    /// the subdomain.
    subdomains: Option<(String, String)>,
}

impl CorsOrigin {
    /// Whether an `Origin` header's value is this origin, or (`*.`) one of its subdomains.
    pub fn matches(&self, origin: &[u8]) -> bool {
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        match &self.subdomains {
            None => origin == self.text,
            Some((scheme, domain)) => origin
                .strip_prefix(scheme.as_str())
                .and_then(|rest| rest.strip_suffix(domain.as_str()))
                // One label or more: letters, digits, `-` and `.` (never a `:` or `/`).
                .is_some_and(|sub| {
                    !sub.is_empty()
                        && sub.split('.').all(|label| {
                            !label.is_empty()
                                && label
                                    .bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        })
                }),
        }
    }
}

impl Item for CorsOrigin {
    const WHAT: &'static str = "origins";

    fn parse(text: &str) -> Result<Self, String> {
        // An origin as the `Origin` header carries it: "scheme "://" host [ ":" port ]"
        // (RFC 6454 §7.1); browsers serialize it lowercase without a default port
        // (WHATWG URL, "origin serialization").
        let expected = "expected an origin such as `https://app.example.com`, \
                        `https://*.example.com` or `http://127.0.0.1:3000` (scheme, host and \
                        optional port, nothing after)";
        let bad = |why: &str| format!("`{text}` is not an origin: {why}; {expected}");
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(bad("there is no `scheme://`"));
        };
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !scheme_ok {
            return Err(bad(&format!("`{scheme}` is not a scheme")));
        }
        if let Some(at) = rest.find(['/', '?', '#']) {
            return Err(bad(&format!("it has a path or query (`{}`)", &rest[at..])));
        }
        if rest.contains('@') {
            return Err(bad("it has user information"));
        }
        let (host, port) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains(']') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(port) = port {
            if port.is_empty() || port.parse::<u16>().is_err() {
                return Err(bad(&format!("`{port}` is not a port number")));
            }
            let default = match scheme.to_ascii_lowercase().as_str() {
                "http" | "ws" => Some("80"),
                "https" | "wss" => Some("443"),
                _ => None,
            };
            if default == Some(port) {
                return Err(format!(
                    "`{text}`: a browser sends this origin without the default port {port}; expected `{scheme}://{host}`"
                ));
            }
        }
        let (wild, name) = match host.strip_prefix("*.") {
            Some(domain) => (true, domain),
            None => (false, host),
        };
        let is_ip_literal = name.starts_with('[')
            && name.ends_with(']')
            && name[1..name.len() - 1]
                .parse::<std::net::Ipv6Addr>()
                .is_ok();
        let is_name = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if name.contains('*') {
            return Err(bad(
                "`*` may only stand for the subdomains at the start of the host (`https://*.example.com`)",
            ));
        }
        if !(is_name || is_ip_literal)
            || (wild && (is_ip_literal || name.parse::<std::net::Ipv4Addr>().is_ok()))
        {
            return Err(bad(&format!("`{host}` is not a host name or address")));
        }
        let text = text.to_ascii_lowercase();
        let subdomains = wild.then(|| {
            let scheme = format!("{}://", scheme.to_ascii_lowercase());
            let domain = text[scheme.len() + 1..].to_owned();
            (scheme, domain)
        });
        Ok(CorsOrigin { text, subdomains })
    }
}

/// A method a preflight allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsMethod(pub http::Method);

/// The methods `allow_methods` takes: RFC 9110's that a page can send, `PATCH` (RFC 5789)
/// and `QUERY`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "QUERY",
];

impl Item for CorsMethod {
    const WHAT: &'static str = "methods";

    fn parse(text: &str) -> Result<Self, String> {
        let list = METHODS.join(", ");
        if METHODS.contains(&text) {
            return http::Method::from_bytes(text.as_bytes())
                .map(CorsMethod)
                .map_err(|e| e.to_string());
        }
        let upper = text.to_ascii_uppercase();
        // "The method token is case-sensitive" (RFC 9110 §9.1).
        if METHODS.contains(&upper.as_str()) {
            return Err(format!(
                "`{text}`: method names are case-sensitive; expected `{upper}`"
            ));
        }
        // "A forbidden method is a method that is a byte-case-insensitive match for
        // `CONNECT`, `TRACE`, or `TRACK`" (Fetch standard): no page can send them.
        if ["CONNECT", "TRACE", "TRACK"].contains(&upper.as_str()) {
            return Err(format!(
                "`{text}` is a forbidden method a browser never sends; expected one of: {list}"
            ));
        }
        let mut message = format!("unknown method `{text}`; expected one of: {list}");
        if let Some(near) = super::error::nearest(&upper, METHODS.iter().copied()) {
            message.push_str(&format!(" (did you mean `{near}`?)"));
        }
        Err(message)
    }
}

/// A header name a preflight allows or an answer exposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsHeader(pub http::HeaderName);

impl Item for CorsHeader {
    const WHAT: &'static str = "header names";

    fn parse(text: &str) -> Result<Self, String> {
        // "field-name = token" (RFC 9110 §5.1).
        http::HeaderName::from_bytes(text.as_bytes())
            .map(CorsHeader)
            .map_err(|_| {
                format!(
                    "`{text}` is not a header name: expected a token such as `x-api-key` \
                     (letters, digits and !#$%&'*+-.^_`|~, no spaces or colons)"
                )
            })
    }
}

/// `max_age`: whole seconds, up to a day (Firefox keeps a preflight at most 24 hours,
/// Chromium 2 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MaxAge(Duration);

impl<'de> Deserialize<'de> for MaxAge {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bounded = Bounded::<Seconds, 0, 86_400_000>::deserialize(deserializer)?;
        let duration = bounded.0.0;
        if duration.subsec_nanos() != 0 {
            return Err(de::Error::custom(format!(
                "`{duration:?}`: `Access-Control-Max-Age` counts whole seconds; expected `10m`, `600` or the like"
            )));
        }
        Ok(MaxAge(duration))
    }
}

/// The section as written, before the keys are checked together.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCors {
    allow_origins: Option<Wildcard<CorsOrigin>>,
    #[serde(default)]
    allow_methods: Option<Wildcard<CorsMethod>>,
    #[serde(default)]
    allow_headers: Option<Wildcard<CorsHeader>>,
    #[serde(default)]
    expose_headers: Option<Wildcard<CorsHeader>>,
    #[serde(default)]
    allow_credentials: Option<bool>,
    #[serde(default)]
    max_age: Option<MaxAge>,
}

impl TryFrom<RawCors> for CorsSection {
    type Error = String;

    fn try_from(raw: RawCors) -> Result<Self, String> {
        let Some(allow_origins) = raw.allow_origins else {
            return Err(
                "`cors` needs `allow_origins`: the origins a browser may call from \
                        (`[https://app.example.com]`, or `*`)"
                    .to_owned(),
            );
        };
        let allow_credentials = raw.allow_credentials.unwrap_or(false);
        if allow_credentials {
            // "For requests where credentials mode is "include", a `*` in these headers is
            // taken literally or, for `Access-Control-Allow-Origin`, fails the CORS check"
            // (Fetch standard, §3.3.4 CORS protocol and credentials): a browser would refuse
            // every credentialed answer.
            let wildcards: Vec<String> = [
                ("allow_origins", allow_origins.is_any()),
                (
                    "allow_methods",
                    raw.allow_methods.as_ref().is_some_and(Wildcard::is_any),
                ),
                (
                    "allow_headers",
                    raw.allow_headers.as_ref().is_some_and(Wildcard::is_any),
                ),
                (
                    "expose_headers",
                    raw.expose_headers.as_ref().is_some_and(Wildcard::is_any),
                ),
            ]
            .into_iter()
            .filter_map(|(key, any)| any.then_some(format!("`{key}`")))
            .collect();
            if !wildcards.is_empty() {
                return Err(format!(
                    "`allow_credentials: true` cannot go with `*` in {}: the Fetch standard \
                     makes a browser ignore `*` (or fail the request) when credentials are sent; \
                     expected the origins, methods and headers listed by name",
                    wildcards.join(", ")
                ));
            }
        }
        Ok(CorsSection {
            allow_origins,
            allow_methods: raw.allow_methods,
            allow_headers: raw.allow_headers,
            expose_headers: raw.expose_headers,
            allow_credentials,
            max_age: raw.max_age.map(|m| m.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_and_match() {
        // (allowed, origin, matches)
        let rows: [(&str, &str, bool); 14] = [
            ("https://app.example.com", "https://app.example.com", true),
            ("https://app.example.com", "http://app.example.com", false),
            (
                "https://app.example.com",
                "https://app.example.com:8443",
                false,
            ),
            ("HTTPS://App.Example.com", "https://app.example.com", true),
            ("https://*.example.com", "https://a.example.com", true),
            ("https://*.example.com", "https://a.b.example.com", true),
            ("https://*.example.com", "https://example.com", false),
            (
                "https://*.example.com",
                "https://a.example.com.evil.test",
                false,
            ),
            ("https://*.example.com", "https://evilexample.com", false),
            ("https://*.example.com", "https://a.example.com:8443", false),
            ("https://*.example.com", "http://a.example.com", false),
            (
                "https://*.example.com:8443",
                "https://a.example.com:8443",
                true,
            ),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000", true),
            ("http://[::1]:3000", "http://[::1]:3000", true),
        ];
        for (allowed, origin, want) in rows {
            let parsed = CorsOrigin::parse(allowed).unwrap_or_else(|e| panic!("{allowed}: {e}"));
            assert_eq!(
                parsed.matches(origin.as_bytes()),
                want,
                "{allowed} ∋ {origin}"
            );
        }
    }

    #[test]
    fn bad_origins_say_why() {
        // (text, the start of the message)
        let rows: [(&str, &str); 9] = [
            (
                "app.example.com",
                "`app.example.com` is not an origin: there is no `scheme://`",
            ),
            (
                "https://app.example.com/",
                "`https://app.example.com/` is not an origin: it has a path or query (`/`)",
            ),
            (
                "https://app.example.com/x",
                "`https://app.example.com/x` is not an origin: it has a path",
            ),
            (
                "https://app.example.com:443",
                "`https://app.example.com:443`: a browser sends this origin without the default port 443; expected `https://app.example.com`",
            ),
            (
                "https://app.example.com:99999",
                "`https://app.example.com:99999` is not an origin: `99999` is not a port number",
            ),
            (
                "https://a.*.example.com",
                "`https://a.*.example.com` is not an origin: `*` may only stand",
            ),
            (
                "https://*",
                "`https://*` is not an origin: `*` may only stand",
            ),
            (
                "https://*.127.0.0.1",
                "`https://*.127.0.0.1` is not an origin: `*.127.0.0.1` is not a host name",
            ),
            (
                "1https://a.test",
                "`1https://a.test` is not an origin: `1https` is not a scheme",
            ),
        ];
        for (text, want) in rows {
            let error = CorsOrigin::parse(text).unwrap_err();
            assert!(
                error.starts_with(want),
                "{text}:\n   got: {error}\n  want: {want}"
            );
        }
    }

    #[test]
    fn methods_and_headers() {
        assert_eq!(CorsMethod::parse("PATCH").unwrap().0, http::Method::PATCH);
        let rows: [(&str, &str); 4] = [
            (
                "get",
                "`get`: method names are case-sensitive; expected `GET`",
            ),
            (
                "PSOT",
                "unknown method `PSOT`; expected one of: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, QUERY (did you mean `POST`?)",
            ),
            (
                "TRACE",
                "`TRACE` is a forbidden method a browser never sends",
            ),
            ("GET POST", "unknown method `GET POST`"),
        ];
        for (text, want) in rows {
            let error = CorsMethod::parse(text).unwrap_err();
            assert!(
                error.starts_with(want),
                "{text}:\n   got: {error}\n  want: {want}"
            );
        }
        assert_eq!(CorsHeader::parse("X-Api-Key").unwrap().0, "x-api-key");
        assert!(
            CorsHeader::parse("x api key")
                .unwrap_err()
                .starts_with("`x api key` is not a header name: expected a token")
        );
    }
}

#[cfg(test)]
mod file_tests {
    use std::time::Duration;

    use super::super::{Config, env_names};
    use super::*;

    #[test]
    fn bad_sections_name_the_place_and_the_fix() {
        let expected = "; expected an origin such as `https://app.example.com`";
        // (file name, text, the start of the message)
        let rows: [(&str, &str, String); 13] = [
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: [https://a.test, app.example.com]\n",
                format!("oasgate.yaml:3:37: `app.example.com` is not an origin: there is no `scheme://`{expected}"),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins:\n      - https://a.test\n      - https://b.test/x\n",
                format!("oasgate.yaml:5:9: `https://b.test/x` is not an origin: it has a path or query (`/x`){expected}"),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: [https://a.test:443]\n",
                "oasgate.yaml:3:21: `https://a.test:443`: a browser sends this origin without the default port 443; expected `https://a.test`".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: '*'\n    allow_credentials: true\n",
                "oasgate.yaml:3:5: `allow_credentials: true` cannot go with `*` in `allow_origins`: the Fetch standard".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: [https://a.test]\n    allow_methods: '*'\n    allow_headers: '*'\n    allow_credentials: true\n",
                "oasgate.yaml:3:5: `allow_credentials: true` cannot go with `*` in `allow_methods`, `allow_headers`: the Fetch standard".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: [https://a.test]\n    expose_headers: '*'\n    allow_credentials: true\n",
                "oasgate.yaml:3:5: `allow_credentials: true` cannot go with `*` in `expose_headers`".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origin: '*'\n",
                "oasgate.yaml:3:5: unknown key `allow_origin`; did you mean `allow_origins`?".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_methods: [GET]\n",
                "oasgate.yaml:3:5: `cors` needs `allow_origins`".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: '*'\n    allow_methods: [GET, psot]\n",
                "oasgate.yaml:4:26: unknown method `psot`; expected one of: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, QUERY (did you mean `POST`?)".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: '*'\n    allow_headers: [x-api-key, 'x api']\n",
                "oasgate.yaml:4:32: `x api` is not a header name: expected a token".to_owned(),
            ),
            (
                "oasgate.yaml",
                "server:\n  cors:\n    allow_origins: '*'\n    max_age: 1.5s\n",
                "oasgate.yaml:4:14: `1.5s`: `Access-Control-Max-Age` counts whole seconds".to_owned(),
            ),
            (
                "oasgate.toml",
                "[server.cors]\nallow_origins = ['https://a.test/']\n",
                format!("oasgate.toml:2:17: `https://a.test/` is not an origin: it has a path or query (`/`){expected}"),
            ),
            (
                "oasgate.toml",
                "[server.cors]\nallow_origns = ['https://a.test']\n",
                "oasgate.toml:2:1: unknown key `allow_origns`; did you mean `allow_origins`?".to_owned(),
            ),
        ];
        let mut failures = Vec::new();
        for (name, text, want) in rows {
            match Config::from_text(text, name) {
                Ok(config) => failures.push(format!("{text:?}: parsed as {config:?}")),
                Err(e) if e.to_string().starts_with(&want) => {}
                Err(e) => failures.push(format!("{text:?}:\n   got: {e}\n  want: {want}")),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_good_section_reads_every_key() {
        let yaml = "server:\n  cors:\n    allow_origins: [https://app.example.com, 'https://*.example.com']\n    allow_methods: [GET, POST]\n    allow_headers: [Authorization, X-Api-Key]\n    expose_headers: [x-request-id]\n    allow_credentials: true\n    max_age: 10m\n";
        let toml = "[server.cors]\nallow_origins = ['https://app.example.com', 'https://*.example.com']\nallow_methods = ['GET', 'POST']\nallow_headers = ['Authorization', 'X-Api-Key']\nexpose_headers = ['x-request-id']\nallow_credentials = true\nmax_age = '10m'\n";
        let from_yaml = Config::from_text(yaml, "oasgate.yaml").unwrap();
        let from_toml = Config::from_text(toml, "oasgate.toml").unwrap();
        assert_eq!(from_yaml, from_toml);
        let cors = from_yaml.server.cors.unwrap();
        assert!(cors.allow_credentials);
        assert_eq!(cors.max_age, Some(Duration::from_secs(600)));
        assert_eq!(
            cors.allow_methods,
            Some(Wildcard::List(vec![
                CorsMethod(http::Method::GET),
                CorsMethod(http::Method::POST)
            ]))
        );
        let Some(Wildcard::List(headers)) = &cors.allow_headers else {
            panic!("a list: {:?}", cors.allow_headers);
        };
        assert_eq!(headers[0].0, "authorization");
        assert!(cors.allows_origin(b"https://app.example.com"));
        assert!(cors.allows_origin(b"https://eu.example.com"));
        assert!(!cors.allows_origin(b"https://example.com"));
        // Absent keys: defaults.
        let least = Config::from_text("server:\n  cors:\n    allow_origins: '*'\n", "oasgate.yaml")
            .unwrap()
            .server
            .cors
            .unwrap();
        assert_eq!(least.allow_origins, Wildcard::Any);
        assert_eq!(least.allow_methods, None);
        assert!(!least.allow_credentials);
        assert_eq!(least.max_age, None);
    }

    #[test]
    fn the_environment_replaces_the_whole_section() {
        assert!(env_names().contains(&"OASGATE_SERVER_CORS".to_owned()));
        let mut config = Config::from_text(
            "server:\n  cors:\n    allow_origins: '*'\n    max_age: 60\n",
            "oasgate.yaml",
        )
        .unwrap();
        config
            .apply_env([(
                "OASGATE_SERVER_CORS".to_owned(),
                "{allow_origins: [https://app.example.com], allow_credentials: true}".to_owned(),
            )])
            .unwrap();
        let cors = config.server.cors.unwrap();
        assert!(cors.allow_credentials);
        assert_eq!(cors.max_age, None, "the section is replaced, not merged");
        assert!(!cors.allows_origin(b"https://other.example.com"));
        let error = Config::default()
            .apply_env([(
                "OASGATE_SERVER_CORS".to_owned(),
                r#"{"allow_origins": "*", "allow_credentials": true}"#.to_owned(),
            )])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("environment: `OASGATE_SERVER_CORS`: `{\"allow_origins\": \"*\", \"allow_credentials\": true}` is not valid: `allow_credentials: true` cannot go with `*`"),
            "{error}"
        );
    }
}
