//! The value types config keys take, each read from YAML, TOML or an environment variable.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A size in bytes: an integer, or a number with a unit (`64KiB`, `1 MiB`, `10MB`).
///
/// `KiB`, `MiB`, `GiB` are powers of 1024; `KB`, `MB`, `GB` powers of 1000; `B` is bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The size as `usize`, saturating on 32-bit targets.
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("expected a size such as `64KiB` or `1048576`, got `{text}`"))?;
        let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1000,
            "kib" => 1 << 10,
            "mb" => 1000 * 1000,
            "mib" => 1 << 20,
            "gb" => 1000 * 1000 * 1000,
            "gib" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown size unit `{other}`: expected B, KB, KiB, MB, MiB, GB or GiB"
                ));
            }
        };
        number
            .checked_mul(factor)
            .map(ByteSize)
            .ok_or_else(|| format!("the size `{text}` is too large"))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as `64KiB` or a number of bytes")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ByteSize, E> {
                u64::try_from(n)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ByteSize, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A duration: a number with a unit (`500ms`, `30s`, `2m`, `1h`), or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let bad = || format!("expected a duration such as `30s` or `500ms`, got `{text}`");
        let number: f64 = number.parse().map_err(|_| bad())?;
        let seconds = match unit.trim() {
            "" | "s" => number,
            "ms" => number / 1000.0,
            "m" => number * 60.0,
            "h" => number * 3600.0,
            _ => return Err(bad()),
        };
        Duration::try_from_secs_f64(seconds)
            .map(Seconds)
            .map_err(|_| bad())
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30s` or `500ms`")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Seconds, E> {
                Ok(Seconds(Duration::from_secs(n)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Seconds, E> {
                u64::try_from(n)
                    .map(|n| Seconds(Duration::from_secs(n)))
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Seconds, E> {
                Duration::try_from_secs_f64(n)
                    .map(Seconds)
                    .map_err(|_| E::custom(format!("`{n}` is not a duration")))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Seconds, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A value a [`Bounded`] key checks: its magnitude, and how a bound is written back.
pub trait Magnitude {
    /// The value as one number: bytes, milliseconds, or the count itself.
    fn magnitude(&self) -> u64;
    /// A bound written as a user would write the value.
    fn show(magnitude: u64) -> String;
}

impl Magnitude for usize {
    fn magnitude(&self) -> u64 {
        u64::try_from(*self).unwrap_or(u64::MAX)
    }
    fn show(magnitude: u64) -> String {
        magnitude.to_string()
    }
}

impl Magnitude for ByteSize {
    fn magnitude(&self) -> u64 {
        self.0
    }
    fn show(bytes: u64) -> String {
        match bytes {
            0 => "0".to_owned(),
            b if b % (1 << 20) == 0 => format!("{}MiB", b >> 20),
            b if b % (1 << 10) == 0 => format!("{}KiB", b >> 10),
            b => b.to_string(),
        }
    }
}

impl Magnitude for Seconds {
    fn magnitude(&self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }
    fn show(millis: u64) -> String {
        match millis {
            m if m % 3_600_000 == 0 && m > 0 => format!("{}h", m / 3_600_000),
            m if m % 1000 == 0 => format!("{}s", m / 1000),
            m => format!("{m}ms"),
        }
    }
}

/// A value between `MIN` and `MAX` (bytes, milliseconds or a count, by `T`): for keys where
/// zero or a huge value can only be a mistake. Out of range is a config error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<T, const MIN: u64, const MAX: u64>(pub T);

impl<T: Magnitude, const MIN: u64, const MAX: u64> Bounded<T, MIN, MAX> {
    /// Checks `value` against the bounds.
    pub fn new(value: T) -> Result<Self, String> {
        let n = value.magnitude();
        if (MIN..=MAX).contains(&n) {
            Ok(Self(value))
        } else {
            Err(format!(
                "`{}` is out of range: expected {} to {}",
                T::show(n),
                T::show(MIN),
                T::show(MAX)
            ))
        }
    }
}

impl<T, const MIN: u64, const MAX: u64> FromStr for Bounded<T, MIN, MAX>
where
    T: Magnitude + FromStr,
    T::Err: fmt::Display,
{
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let value = text.trim().parse::<T>().map_err(|e| e.to_string())?;
        Self::new(value)
    }
}

impl<'de, T, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<T, MIN, MAX>
where
    T: Magnitude + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(T::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// A share between 0 and 1 (`0.01`), or a percentage (`1%`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction(pub f64);

impl FromStr for Fraction {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad =
            || format!("`{text}` is not a share: expected 0 to 1 (`0.05`) or a percentage (`5%`)");
        let value = match text.strip_suffix('%') {
            Some(percent) => percent.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
            None => text.parse::<f64>().map_err(|_| bad())?,
        };
        if (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(bad())
        }
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl de::Visitor<'_> for Visit {
            type Value = Fraction;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a share from 0 to 1, or a percentage")
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Fraction, E> {
                n.to_string().parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Fraction, E> {
                n.to_string().parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Fraction, E> {
                n.to_string().parse().map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Fraction, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// A path a server answers on, or `false` to turn the endpoint off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Served at this path.
    At(String),
    /// Not served.
    Off,
}

impl Endpoint {
    /// The path, when served.
    pub fn path(&self) -> Option<&str> {
        match self {
            Endpoint::At(path) => Some(path),
            Endpoint::Off => None,
        }
    }
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "false" | "off" => Ok(Endpoint::Off),
            path if path.starts_with('/') => Ok(Endpoint::At(path.to_owned())),
            other => Err(format!(
                "expected a path starting with `/`, or `false` to turn it off; got `{other}`"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Endpoint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path starting with `/`, or `false`")
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<Endpoint, E> {
                if on {
                    Err(E::custom(
                        "`true` is not a path: give the path, or `false` to turn it off",
                    ))
                } else {
                    Ok(Endpoint::Off)
                }
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Endpoint, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A list written as a sequence, or as one comma-separated string (handy in environment
/// variables: `OASGATE_SERVER_TRUSTED_PROXIES=10.0.0.0/8,127.0.0.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T>(pub Vec<T>);

impl<'de, T> Deserialize<'de> for List<T>
where
    T: Deserialize<'de> + FromStr<Err = String>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T> Visitor<'de> for V<T>
        where
            T: Deserialize<'de> + FromStr<Err = String>,
        {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list, or a comma-separated string")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(List(items))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<List<T>, E> {
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(T::from_str)
                    .collect::<Result<_, _>>()
                    .map(List)
                    .map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A trusted proxy in the config: one address (`10.1.2.3`, `::1`) or a network
/// (`10.0.0.0/8`), an [`IpNet`] with host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network(pub IpNet);

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Network {
    /// Whether `ip` is in the network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        crate::serve::network_contains(&self.0, ip)
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        crate::serve::parse_network(text).map(Network)
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Where `oasgate serve` forwards valid requests: an `http://` or `https://` URL, optionally
/// with a base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream(pub http::Uri);

impl FromStr for Upstream {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let uri: http::Uri = text
            .parse()
            .map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            Some(other) => {
                return Err(format!(
                    "`{text}`: expected an http:// or https:// URL, not {other}://"
                ));
            }
            None => {
                return Err(format!(
                    "`{text}`: expected a URL such as http://127.0.0.1:3000"
                ));
            }
        }
        if uri.authority().is_none() {
            return Err(format!("`{text}` has no host"));
        }
        if uri.query().is_some() {
            return Err(format!("`{text}`: an upstream URL takes no query string"));
        }
        Ok(Upstream(uri))
    }
}

impl<'de> Deserialize<'de> for Upstream {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// What `oasgate serve` does with a valid request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Forward it to the upstream and stream the answer back.
    #[default]
    Proxy,
    /// Answer 200 to a gateway's sub-request (nginx `auth_request`, Traefik `ForwardAuth`,
    /// Envoy `ext_authz`); the gateway forwards the request itself.
    ForwardAuth,
}

/// Which gateway's headers forward-auth mode reads the original request from.
///
/// Each gateway passes the original method and URI its own way; a client can send the other
/// gateways' headers too, and only the named convention's are trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardAuthHeaders {
    /// nginx `auth_request`: `X-Original-Method` and `X-Original-URI`.
    Nginx,
    /// Traefik `ForwardAuth` (and Caddy `forward_auth`): `X-Forwarded-Method`,
    /// `X-Forwarded-Uri`, `X-Forwarded-Host` and `X-Forwarded-Proto`.
    Traefik,
    /// Envoy `ext_authz` HTTP service: the sub-request itself, `auth_prefix` removed.
    Envoy,
}

/// How `oasgate serve` writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "proxy" => Ok(Mode::Proxy),
            "forward-auth" => Ok(Mode::ForwardAuth),
            other => Err(format!(
                "unknown mode `{other}`: expected proxy or forward-auth"
            )),
        }
    }
}

impl FromStr for ForwardAuthHeaders {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "nginx" => Ok(ForwardAuthHeaders::Nginx),
            "traefik" => Ok(ForwardAuthHeaders::Traefik),
            "envoy" => Ok(ForwardAuthHeaders::Envoy),
            other => Err(format!(
                "unknown forward-auth headers `{other}`: expected nginx, traefik or envoy"
            )),
        }
    }
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format `{other}`: expected text or json"
            )),
        }
    }
}

/// Reads one environment variable's text as a value of type `T`: the text is read as a YAML
/// scalar (or flow collection), so `true`, `64KiB`, `/api` and `[a, b]` all work.
pub(crate) fn from_env_text<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    serde_saphyr::from_str::<T>(text).map_err(|e| super::error::plain_message(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let rows: [(&str, Result<u64, &str>); 9] = [
            ("1024", Ok(1024)),
            ("64KiB", Ok(65536)),
            ("64 kib", Ok(65536)),
            ("1MiB", Ok(1 << 20)),
            ("2MB", Ok(2_000_000)),
            ("1GiB", Ok(1 << 30)),
            ("10B", Ok(10)),
            ("lots", Err("expected a size")),
            ("3 parsecs", Err("unknown size unit `parsecs`")),
        ];
        for (text, want) in rows {
            let got = text.parse::<ByteSize>().map(|b| b.0);
            match (&got, want) {
                (Ok(got), Ok(want)) => assert_eq!(*got, want, "{text}"),
                (Err(e), Err(want)) => assert!(e.contains(want), "{text}: {e}"),
                _ => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn durations() {
        let rows: [(&str, Option<Duration>); 7] = [
            ("30s", Some(Duration::from_secs(30))),
            ("500ms", Some(Duration::from_millis(500))),
            ("2m", Some(Duration::from_secs(120))),
            ("1h", Some(Duration::from_secs(3600))),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("7", Some(Duration::from_secs(7))),
            ("soon", None),
        ];
        for (text, want) in rows {
            assert_eq!(text.parse::<Seconds>().ok().map(|s| s.0), want, "{text}");
        }
    }

    #[test]
    fn bounds() {
        type Timeout = Bounded<Seconds, 100, 3_600_000>;
        type Size = Bounded<ByteSize, 1024, { 256 * 1024 }>;
        type Count = Bounded<usize, 1, 10_000>;
        assert_eq!("1s".parse::<Timeout>().unwrap().0.0, Duration::from_secs(1));
        assert_eq!(
            "0".parse::<Timeout>().unwrap_err(),
            "`0s` is out of range: expected 100ms to 1h"
        );
        assert_eq!(
            "2h".parse::<Timeout>().unwrap_err(),
            "`2h` is out of range: expected 100ms to 1h"
        );
        assert_eq!("64KiB".parse::<Size>().unwrap().0.0, 65536);
        assert_eq!(
            "1GiB".parse::<Size>().unwrap_err(),
            "`1024MiB` is out of range: expected 1KiB to 256KiB"
        );
        assert_eq!(
            "0".parse::<Count>().unwrap_err(),
            "`0` is out of range: expected 1 to 10000"
        );
        assert!("lots".parse::<Count>().is_err());
    }

    #[test]
    fn networks() {
        let rows = [
            ("10.0.0.0/8", "10.1.2.3", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("::1/128", "::1", true),
            ("fd00::/8", "fd12::1", true),
            ("127.0.0.0/8", "::ffff:127.0.0.9", true),
            ("10.0.0.0/8", "::1", false),
        ];
        for (range, ip, want) in rows {
            let network: Network = range.parse().unwrap();
            assert_eq!(
                network.contains(ip.parse().unwrap()),
                want,
                "{range} ∋ {ip}"
            );
        }
        // Host bits are cleared, as the range means.
        assert_eq!(
            "10.1.2.3/8".parse::<Network>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!("::1".parse::<Network>().unwrap().to_string(), "::1/128");
        // (text, the error)
        let bad = [
            (
                "10.0.0.0/33",
                "`10.0.0.0/33`: the prefix length is at most 32",
            ),
            ("::/129", "`::/129`: the prefix length is at most 128"),
            (
                "ten",
                "`ten` is not an IP address or a network such as `10.0.0.0/8`",
            ),
            (
                "10.0.0.0/",
                "`10.0.0.0/` is not an IP address or a network such as `10.0.0.0/8`",
            ),
            (
                "10.0.0.0/x",
                "`10.0.0.0/x` is not an IP address or a network such as `10.0.0.0/8`",
            ),
            (
                "10.0.0/8",
                "`10.0.0/8` is not an IP address or a network such as `10.0.0.0/8`",
            ),
            (
                "",
                "`` is not an IP address or a network such as `10.0.0.0/8`",
            ),
        ];
        for (text, error) in bad {
            assert_eq!(text.parse::<Network>().unwrap_err(), error, "{text}");
        }
    }

    #[test]
    fn upstreams() {
        assert!("http://127.0.0.1:3000".parse::<Upstream>().is_ok());
        assert!("http://127.0.0.1:3000/base".parse::<Upstream>().is_ok());
        for bad in ["ftp://x", "127.0.0.1:3000", "http:///x", "http://h/?q=1"] {
            assert!(bad.parse::<Upstream>().is_err(), "{bad}");
        }
    }
}
