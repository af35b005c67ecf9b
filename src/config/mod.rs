//! The config file: `oasgate.yaml` (or `.toml`) ↔ the same [`Options`] the builder takes.
//!
//! One file drives both the layer ([`OpenApiLayer::from_config_file`](crate::OpenApiLayer::from_config_file)) and the `oasgate`
//! binary. It has three parts: `spec` (the document's path, relative to the config file),
//! `options` (one key per [`Options`] setter) and `server` (what only `oasgate serve` reads).
//! `docs/config.md` in the repository is the reference of every key.
//!
//! Unknown keys and bad values are errors that name the file, line and column, and for a
//! misspelt key the nearest valid one. Environment variables override single keys: the
//! variable for a key is `OASGATE_` followed by its section and name in capitals, joined by
//! `_` (`options.body_limit` → `OASGATE_OPTIONS_BODY_LIMIT`, `spec` → `OASGATE_SPEC`); its
//! text is read as a YAML scalar, and lists may be written comma-separated. Any other variable
//! starting with `OASGATE_` is an error, so a misspelt override never goes unnoticed.
//!
//! # Example
//!
//! ```
//! use oasgate::config::Config;
//!
//! let config = Config::from_text(r#"
//! spec: petstore.yaml
//! options:
//!   prefix: /api
//!   body_limit: 64KiB
//!   undeclared_query: reject
//! server:
//!   upstream: http://127.0.0.1:3000
//! "#, "oasgate.yaml")?;
//! assert_eq!(config.options.body_limit.unwrap().0, 65536);
//! let options = config.to_options(); // an oasgate::Options with those settings
//! # let _ = options;
//!
//! let typo = Config::from_text("options:\n  body_limt: 1KiB\n", "oasgate.yaml").unwrap_err();
//! assert_eq!(
//!     typo.to_string(),
//!     "oasgate.yaml:2:3: unknown key `body_limt`; did you mean `body_limit`?"
//! );
//! # Ok::<(), oasgate::config::ConfigError>(())
//! ```
//!
//! # Adding a key
//!
//! A new [`Options`] setter gets its key by one row in the `options_section!` invocation
//! below (doc comment, name, type, and the setter call), and one row in `docs/config.md`;
//! the tests fail until both exist. A key of `oasgate serve` is one row in `server_section!`.

mod cors;
mod error;
mod recovery;
mod values;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use cors::{CorsHeader, CorsMethod, CorsOrigin, CorsSection, DEFAULT_METHODS, Item, Wildcard};
pub use error::ConfigError;
use recovery::{Format, Mistake};
pub use values::{
    Bounded, ByteSize, Endpoint, ForwardAuthHeaders, Fraction, List, LogFormat, Magnitude, Mode,
    Network, Seconds, Upstream,
};

/// `server.header_read_timeout`: from 100ms to 1h.
pub type HeaderReadTimeout = Bounded<Seconds, 100, 3_600_000>;
/// `server.max_headers`: from 1 to 10000 header fields.
pub type HeaderCount = Bounded<usize, 1, 10_000>;
/// `server.max_header_size`: from 1KiB to 256KiB.
pub type HeaderSize = Bounded<ByteSize, 1024, 262_144>;
/// `server.max_connections`: from 1 to 1000000.
pub type ConnectionCount = Bounded<usize, 1, 1_000_000>;
/// `server.workers`: from 1 to 1024 threads.
pub type WorkerCount = Bounded<usize, 1, 1024>;
/// `server.watch_interval`: from 100ms to 1h.
pub type WatchInterval = Bounded<Seconds, 100, 3_600_000>;
/// `server.body_idle_timeout`: from 100ms to 1h.
pub type BodyIdleTimeout = Bounded<Seconds, 100, 3_600_000>;
/// `server.upstream_idle_timeout`: from 100ms to 1h.
pub type UpstreamIdleTimeout = Bounded<Seconds, 100, 3_600_000>;
/// `server.request_timeout`: from 100ms to 24h.
pub type RequestTimeout = Bounded<Seconds, 100, 86_400_000>;
/// `server.http2_max_concurrent_streams`: from 1 to 10000 streams.
pub type StreamCount = Bounded<usize, 1, 10_000>;
/// `server.http2_max_header_list_size`: from 1KiB to 1MiB.
pub type HeaderListSize = Bounded<ByteSize, 1024, 1_048_576>;
/// `server.lingering_time`: from 0 (no lingering) to 1h.
pub type LingeringTime = Bounded<Seconds, 0, 3_600_000>;
/// `server.lingering_timeout`: from 0 to 1h.
pub type LingeringTimeout = Bounded<Seconds, 0, 3_600_000>;

use crate::dates::{Dialect, Zone};
use crate::error::BuildError;
use crate::options::ResponseValidation;
use crate::options::{DocsUi, Options, PagingMode, UndeclaredParams, UnknownRoutes};
use crate::path::PathNormalization;
use crate::spec::Document;

/// Declares a config section: a struct of optional keys (an absent key keeps the default),
/// its key list, its environment setter and, where given, how each key sets [`Options`].
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $key:ident : $ty:ty $(=> |$options:ident, $value:ident| $apply:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[serde(default)]
                pub $key: Option<$ty>,
            )*
        }

        impl $name {
            /// Every key of the section, in declaration order.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

            /// Sets `key` from an environment variable's text; `None` for an unknown key.
            fn set_from_text(&mut self, key: &str, text: &str) -> Option<Result<(), String>> {
                match key {
                    $(stringify!($key) => Some(
                        values::from_env_text::<$ty>(text).map(|v| self.$key = Some(v))
                    ),)*
                    _ => None,
                }
            }

            #[allow(unused_mut, unused_variables, dead_code)]
            fn apply(&self, mut options: Options) -> Options {
                $($(
                    if let Some($value) = self.$key.clone() {
                        let $options = options;
                        options = $apply;
                    }
                )?)*
                options
            }
        }
    };
}

section! {
    /// The `options` section: one key per [`Options`] setter, read by the layer and the binary.
    pub struct OptionsSection {
        /// Path prefix put before every server base path (`/api`).
        prefix: String => |o, v| o.prefix(v),
        /// Let `/pets/` match `/pets` and the other way round.
        tolerate_trailing_slash: bool => |o, v| o.tolerate_trailing_slash(v),
        /// `reject` (400) or `normalize` dot segments and empty segments in request paths.
        path_normalization: PathNormalization => |o, v| o.path_normalization(v),
        /// Keep an encoded `/` (`%2F`) inside a path segment instead of answering 400.
        allow_encoded_slash: bool => |o, v| o.allow_encoded_slash(v),
        /// `reject` (404/405) or `pass-through` for paths no operation has.
        unknown_routes: UnknownRoutes => |o, v| o.unknown_routes(v),
        /// `accept`, `reject` or `strip` query parameters the operation does not declare.
        undeclared_query: UndeclaredParams => |o, v| o.undeclared_query(v),
        /// `declared` (`x-paging` only) or `girder`: also operations declaring `limit`,
        /// `offset`, `sort` and `sortdir` themselves.
        paging: PagingMode => |o, v| o.paging(v),
        /// Largest body read (`1MiB`); larger bodies answer 413.
        body_limit: ByteSize => |o, v| o.body_limit(v.as_usize()),
        /// Most errors listed in one problem.
        error_cap: usize => |o, v| o.error_cap(v),
        /// Answer 422 instead of 400 for bodies that break their schema.
        unprocessable_bodies: bool => |o, v| o.unprocessable_bodies(v),
        /// Accept `1/0`, `yes/no`, `on/off` for boolean parameters.
        lenient_booleans: bool => |o, v| o.lenient_booleans(v),
        /// Where the document is served as JSON, or `false`.
        openapi_json_path: Endpoint => |o, v| o.openapi_json_path(v.path()),
        /// `false`: report-only — log what would be rejected and let it through.
        enforce: bool => |o, v| o.enforce(v),
        /// `false`: hand the query on as sent instead of the canonical one.
        canonical_query: bool => |o, v| o.canonical_query(v),
        /// Fill schema `default`s into JSON request bodies.
        fill_body_defaults: bool => |o, v| o.fill_body_defaults(v),
        /// Refuse a document for any defect, even one oasgate works around.
        strict: bool => |o, v| o.strict(v),
        /// Read every `date` / `date-time` parameter leniently.
        lenient_dates: bool => |o, v| o.lenient_dates(v),
        /// `day-first` or `month-first`: how lenient dates read `01/04/2024`.
        date_dialect: Dialect => |o, v| o.date_dialect(v),
        /// The zone lenient dates without an offset are read in (`UTC`, `+02:00`, `Europe/Paris`).
        time_zone: Zone => |o, v| o.time_zone(v),
        /// Where the document is served as YAML, or `false`.
        openapi_yaml_path: Endpoint => |o, v| o.openapi_yaml_path(v.path()),
        /// Where the interactive docs page is served, or `false`.
        docs_path: Endpoint => |o, v| o.docs_path(v.path()),
        /// `swagger-ui` or `redoc`.
        docs_ui: DocsUi => |o, v| o.docs_ui(v),
        /// Serve one self-contained document: definitions from other files move into
        /// `components`.
        serve_bundled: bool => |o, v| o.serve_bundled(v),
        /// Add the problem answers the layer gives to each operation of the served document.
        describe_problems: bool => |o, v| o.describe_problems(v),
        /// `Cache-Control` of the served document.
        document_cache_control: String => |o, v| o.document_cache_control(v),
        /// Deepest nesting of arrays and objects in a JSON body or parameter.
        json_depth_limit: usize => |o, v| o.json_depth_limit(v),
        /// Most query pairs (and form fields) read from one request.
        query_params_limit: usize => |o, v| o.query_params_limit(v),
        /// Longest parameter name or value, in bytes.
        param_length_limit: ByteSize => |o, v| o.param_length_limit(v.as_usize()),
        /// Most backtracking steps of a pattern with lookaround or a backreference on one
        /// value; a value not decided within them is refused.
        pattern_backtrack_limit: usize => |o, v| o.pattern_backtrack_limit(v),
        /// Most parts of one multipart body.
        multipart_parts_limit: usize => |o, v| o.multipart_parts_limit(v),
        /// Proxies whose forwarded headers set the served document's `servers`.
        trusted_proxies: List<Network> => |o, v| o.trusted_proxies(v.0.iter().map(ToString::to_string)),
        /// `off`, `report` or `enforce`: check what the service answers against the document.
        response_validation: ResponseValidation => |o, v| o.response_validation(v),
        /// Largest response body checked (`1MiB`); larger ones are handed on unchecked.
        response_validation_max_body: ByteSize => |o, v| o.response_validation_max_body(v.as_usize()),
        /// Share of responses checked in report mode (`0.01` or `1%`); enforce checks all.
        response_validation_sample: Fraction => |o, v| o.response_validation_sample(v.0),
        /// The service forwards another service's answers (a gateway): an invalid response
        /// is described as `502` in the served document.
        forwards_upstream: bool => |o, v| o.forwards_upstream(v),
        // A new `Options` setter that takes a value gets its row here and in docs/config.md.
        // A group of related keys may become a nested section: a struct made with this
        // macro, as `server` is.
    }
}

section! {
    /// The `server` section: settings of `oasgate serve` only (the layer ignores them).
    pub struct ServerSection {
        /// Address to listen on (default `127.0.0.1:8080`).
        listen: SocketAddr,
        /// Where valid requests go (`http://127.0.0.1:3000`); required in proxy mode.
        upstream: Upstream,
        /// `proxy` (default) or `forward-auth`.
        mode: Mode,
        /// Forward-auth: the path prefix an Envoy `ext_authz` HTTP service puts before the
        /// original path.
        auth_prefix: String,
        /// Forward-auth: `nginx`, `traefik` or `envoy`, whose headers carry the original
        /// request; the other conventions' headers are ignored. Unset, a request carrying two
        /// conventions' headers is refused.
        forward_auth_headers: ForwardAuthHeaders,
        /// Longest wait to connect to the upstream (default 5s); then 502.
        connect_timeout: Seconds,
        /// Longest wait for the upstream's response head (default 30s); then 504.
        upstream_timeout: Seconds,
        /// Longest an upstream connection is kept unused for the next request (default 90s);
        /// set it below the upstream's own keep-alive timeout.
        upstream_idle_timeout: UpstreamIdleTimeout,
        /// Longest gap between two chunks of a body streamed through, the upstream's answer or
        /// the client's request, and longest a client may take nothing of its answer
        /// (default 30s); then the stream is cut off.
        body_idle_timeout: BodyIdleTimeout,
        /// Longest time for a whole exchange, from the request to the answer's last byte
        /// (default none).
        request_timeout: RequestTimeout,
        /// Longest wait for in-flight requests on shutdown (default 10s).
        drain_timeout: Seconds,
        /// Prometheus metrics path (default `/metrics`), or `false`.
        metrics_path: Endpoint,
        /// Liveness path (default `/healthz`), or `false`.
        healthz_path: Endpoint,
        /// Peers whose `X-Forwarded-*` and `Forwarded` headers are kept and extended; from any
        /// other peer they are replaced.
        trusted_proxies: List<Network>,
        /// `text` (default) or `json`.
        log_format: LogFormat,
        /// Longest wait for a request's head, and for the next request on an idle connection
        /// (default 30s); then the connection is closed.
        header_read_timeout: HeaderReadTimeout,
        /// Most header fields in one request (default 100); more answers 431.
        max_headers: HeaderCount,
        /// Largest request head: request line and headers (default 64KiB); larger answers 431.
        max_header_size: HeaderSize,
        /// Most client connections open at once (default 1024); at the cap no new one is
        /// accepted until one closes.
        max_connections: ConnectionCount,
        /// Threads that serve connections (default: one per core).
        workers: WorkerCount,
        /// Reload when the config file or a file of the document changes (default `false`).
        watch: bool,
        /// How often watched files are checked (default 2s).
        watch_interval: WatchInterval,
        /// The listener's certificate chain (PEM); with `tls_key`, the listener speaks TLS.
        tls_cert: PathBuf,
        /// The private key of `tls_cert` (PEM).
        tls_key: PathBuf,
        /// Most requests in flight on one HTTP/2 connection (default 100).
        http2_max_concurrent_streams: StreamCount,
        /// Largest HTTP/2 request head, decoded (default 64KiB).
        http2_max_header_list_size: HeaderListSize,
        /// CAs (PEM bundle) trusted for an `https://` upstream instead of the built-in roots.
        upstream_ca: PathBuf,
        /// A client certificate (PEM) shown to an `https://` upstream (mutual TLS).
        upstream_client_cert: PathBuf,
        /// The private key of `upstream_client_cert` (PEM).
        upstream_client_key: PathBuf,
        /// One log line per request under the target `oasgate::access` (default `true`).
        access_log: bool,
        /// After an answer sent while the request body was still arriving, longest time to
        /// read and discard the rest before closing (default 30s), so that the client reads
        /// the answer instead of a connection reset.
        lingering_time: LingeringTime,
        /// Longest wait for more of that body between two reads (default 5s).
        lingering_timeout: LingeringTimeout,
        /// Proxy mode: which other origins a browser may call the API from (CORS).
        cors: CorsSection,
    }
}

/// The keys of a section, by the section's name.
pub(crate) fn section_keys(section: &str) -> Option<&'static [&'static str]> {
    match section {
        "options" => Some(OptionsSection::KEYS),
        "server" => Some(ServerSection::KEYS),
        _ => None,
    }
}

/// The sections of the file, for messages about keys written in the wrong place.
const SECTIONS: [&str; 2] = ["options", "server"];

/// The environment variables that override keys start with this.
pub const ENV_PREFIX: &str = "OASGATE_";

/// A parsed config file, with environment overrides applied.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The OpenAPI document; a relative path is read from the config file's directory.
    pub spec: Option<PathBuf>,
    /// Settings of the layer: one key per [`Options`] setter.
    #[serde(deserialize_with = "empty_if_null")]
    pub options: OptionsSection,
    /// Settings of `oasgate serve`.
    #[serde(deserialize_with = "empty_if_null")]
    pub server: ServerSection,
    /// Verify bearer tokens as JWTs; key files are read from the config file's directory.
    #[cfg(feature = "jwt")]
    pub jwt: Option<crate::security::jwt::JwtConfig>,
    /// Directory relative paths are resolved from.
    #[serde(skip)]
    base_dir: PathBuf,
}

impl Config {
    /// Reads a config file (TOML when its name ends in `.toml`, YAML otherwise) and applies
    /// `OASGATE_…` variables from the process environment.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::from_path_with_env(path, std::env::vars())
    }

    /// Like [`Config::from_path`], with the environment given as `(name, value)` pairs.
    pub fn from_path_with_env(
        path: impl AsRef<Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(&name, format!("cannot read the file: {e}")))?;
        let mut config = Self::from_text(&text, &name)?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config.apply_env(env)?;
        Ok(config)
    }

    /// Parses config text; `name` is used in messages and picks TOML when it ends in `.toml`.
    /// Relative paths resolve from the current directory; no environment is read.
    ///
    /// Every mistake of a well-formed file is reported, not only the first: see
    /// [`ConfigError::others`].
    pub fn from_text(text: &str, name: &str) -> Result<Self, ConfigError> {
        let format = Format::of(name);
        recovery::read_all(text, format, |text| Self::read(text, name, format))
    }

    /// Reads the text once, up to its first mistake.
    fn read(text: &str, name: &str, format: Format) -> Result<Self, Mistake> {
        if let Format::Toml = format {
            return toml::from_str(text).map_err(|e| {
                let lines = e.span().map(|span| {
                    let (first, _) = error::line_column(text, span.start);
                    let (last, _) = error::line_column(text, span.end.max(span.start + 1) - 1);
                    recovery::toml_entry(text, first, last)
                });
                let error = Box::new(ConfigError::from_toml(name, text, &e, &SECTIONS));
                Mistake { error, lines }
            });
        }
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Ok(Self::default());
        }
        let mut options = serde_saphyr::Options::default();
        options.strict_booleans = true;
        serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let error = Box::new(ConfigError::from_yaml(name, &e, &SECTIONS));
            let lines = error.line.and_then(|line| recovery::yaml_entry(text, line));
            Mistake { error, lines }
        })
    }

    /// Applies `OASGATE_…` overrides: each names one key (see the [module docs](self)). Every
    /// wrong variable is reported, in name order.
    pub fn apply_env(
        &mut self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(name, _)| name.starts_with(ENV_PREFIX))
            .collect();
        vars.sort();
        let mut errors = Vec::new();
        for (name, text) in vars {
            let fail =
                |message: String| ConfigError::new("environment", format!("`{name}`: {message}"));
            // A value that does not parse: quoted, with a valid one to copy.
            let invalid = |message: String| {
                let example = env_key(&name)
                    .and_then(|(section, key)| example_value(section, key))
                    .map(|e| format!("; for example `{name}={e}`"))
                    .unwrap_or_default();
                format!("`{text}` is not valid: {message}{example}")
            };
            let result = match env_key(&name) {
                Some(("", "spec")) => {
                    self.spec = Some(PathBuf::from(text.as_str()));
                    Ok(())
                }
                Some(("options", key)) => self.options.set_from_text(key, &text).unwrap_or(Ok(())),
                Some(("server", key)) => self.server.set_from_text(key, &text).unwrap_or(Ok(())),
                _ => {
                    let names = env_names();
                    let mut message = "no config key has this variable".to_owned();
                    if let Some(near) = error::nearest(&name, names.iter().map(String::as_str)) {
                        message.push_str(&format!("; did you mean `{near}`?"));
                    }
                    errors.push(fail(message));
                    continue;
                }
            };
            if let Err(message) = result {
                errors.push(fail(invalid(message)));
            }
        }
        let mut errors = errors.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                first.others.extend(errors);
                Err(first)
            }
        }
    }

    /// The [`Options`] the `options` section describes (defaults for absent keys).
    pub fn to_options(&self) -> Options {
        self.options.apply(Options::default())
    }

    /// The document's path, resolved from the config file's directory.
    pub fn spec_path(&self) -> Option<PathBuf> {
        self.spec.as_ref().map(|spec| self.base_dir.join(spec))
    }

    /// A path named in the file, read from the config file's directory when relative.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.base_dir.join(path)
    }

    /// Loads the document and compiles the layer with these options.
    pub fn layer(&self) -> Result<crate::OpenApiLayer, LoadError> {
        let Some(path) = self.spec_path() else {
            return Err(LoadError::Config(ConfigError::new(
                "config",
                "no `spec` is given: name the OpenAPI document (`spec: openapi.yaml`)",
            )));
        };
        let document = Document::from_path(path).map_err(LoadError::Document)?;
        let mut options = self.to_options();
        if let Some(verifier) = self.verifier()? {
            options = options.verifier(verifier);
        }
        crate::OpenApiLayer::with_options(document, options).map_err(LoadError::Document)
    }

    /// The JWT verifier the `jwt` key describes, its key files read from the config file's
    /// directory. ([`Config::to_options`] leaves it out: reading keys can fail.)
    #[cfg(feature = "jwt")]
    pub fn verifier(
        &self,
    ) -> Result<Option<std::sync::Arc<dyn crate::security::Verifier>>, LoadError> {
        use crate::security::jwt::{JwtKey, JwtVerifier};
        let Some(jwt) = &self.jwt else {
            return Ok(None);
        };
        let mut jwt = jwt.clone();
        match &mut jwt.key {
            JwtKey::PublicKeyFile(path) | JwtKey::JwksFile(path) => {
                *path = self.base_dir.join(&*path)
            }
            _ => {}
        }
        let verifier = JwtVerifier::from_config(&jwt)
            .map_err(|e| LoadError::Config(ConfigError::new("jwt", e.to_string())))?;
        Ok(Some(std::sync::Arc::new(verifier)))
    }

    /// Without the `jwt` feature there is no JWT verifier to build.
    #[cfg(not(feature = "jwt"))]
    pub fn verifier(
        &self,
    ) -> Result<Option<std::sync::Arc<dyn crate::security::Verifier>>, LoadError> {
        Ok(None)
    }
}

/// A section written with no keys (`options:` alone) is empty, not an error.
fn empty_if_null<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// The environment variable of every key.
pub fn env_names() -> Vec<String> {
    let mut names = vec![format!("{ENV_PREFIX}SPEC")];
    for section in SECTIONS {
        for key in section_keys(section).unwrap_or_default() {
            names.push(format!("{ENV_PREFIX}{}_{}", section, key).to_ascii_uppercase());
        }
    }
    names
}

/// `(section, key)` of a variable (`("", "spec")` for the top level), matched against the
/// known keys so that underscores inside key names are never ambiguous.
fn env_key(name: &str) -> Option<(&'static str, &'static str)> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if rest == "SPEC" {
        return Some(("", "spec"));
    }
    SECTIONS.iter().find_map(|section| {
        let key = rest
            .strip_prefix(&section.to_ascii_uppercase())?
            .strip_prefix('_')?;
        section_keys(section)?
            .iter()
            .find(|k| k.eq_ignore_ascii_case(key))
            .map(|k| (*section, *k))
    })
}

/// Why a layer could not be built from a config file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LoadError {
    /// The config file or an `OASGATE_…` variable is wrong.
    Config(ConfigError),
    /// The document it names does not load or compile.
    Document(BuildError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Config(e) => e.fmt(f),
            LoadError::Document(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Config(e) => Some(e),
            LoadError::Document(e) => Some(e),
        }
    }
}

impl From<ConfigError> for LoadError {
    fn from(e: ConfigError) -> Self {
        LoadError::Config(e)
    }
}

#[cfg(test)]
mod tests;

/// A valid value for `section.key` (`section` empty for a top-level key), as text: the one the
/// reference configuration in `docs/config.md` gives, which a test keeps valid. For messages
/// only.
fn example_value(section: &str, key: &str) -> Option<String> {
    const REFERENCE: &str = include_str!("../../docs/config.md");
    let open = "```yaml\n";
    let start = REFERENCE.find(open)? + open.len();
    let end = start + REFERENCE[start..].find("```")?;
    let reference: serde_json::Value = serde_saphyr::from_str(&REFERENCE[start..end]).ok()?;
    let value = match section {
        "" => reference.get(key)?,
        section => reference.get(section)?.get(key)?,
    };
    Some(match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}
