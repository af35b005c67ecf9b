//! Everything that can be configured, with the defaults a production service wants.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;

use crate::dates::{Dialect, Zone};
use crate::models::ModelLoader;
use crate::path::PathNormalization;
use crate::problem::Problem;
use crate::security::Verifier;

/// Finds the peer address in the request extensions.
pub type PeerAddrFn = Arc<dyn Fn(&http::Extensions) -> Option<std::net::SocketAddr> + Send + Sync>;

/// Whether responses are checked against the document.
///
/// In a config file (and in `x-oasgate-response-validation`): `off`, `report` or `enforce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseValidation {
    /// Responses are not looked at.
    #[default]
    Off,
    /// Violations are logged; the response goes on unchanged.
    Report,
    /// An invalid response is replaced by a problem (500, or 502 from a gateway).
    Enforce,
}

impl ResponseValidation {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(Self::Off),
            "report" => Some(Self::Report),
            "enforce" => Some(Self::Enforce),
            _ => None,
        }
    }
}

impl std::str::FromStr for ResponseValidation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
            .ok_or_else(|| format!("expected `off`, `report` or `enforce`, got `{text}`"))
    }
}

/// What response validation found in one response, handed to
/// [`Options::response_observer`](crate::Options::response_observer) (for metrics): once for
/// the violations of a response, once for a body too long to check.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResponseReport<'a> {
    /// The operation's `operationId`, or `METHOD /template`.
    pub operation: &'a str,
    /// The status the service answered.
    pub status: http::StatusCode,
    /// Every violation found, capped like a problem's errors.
    pub violations: &'a [crate::FieldError],
    /// The response was replaced by a problem (enforce mode).
    pub enforced: bool,
    /// The body was longer than
    /// [`Options::response_validation_max_body`](crate::Options::response_validation_max_body)
    /// and passed unchecked.
    pub body_skipped: bool,
}

/// Called with each [`ResponseReport`].
pub type ResponseObserver = Arc<dyn Fn(&ResponseReport<'_>) + Send + Sync>;

/// What to do with a request whose path no operation has.
///
/// In a config file: `reject` or `pass-through`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownRoutes {
    /// Answer 404 (or 405 when the path exists with other methods).
    #[default]
    Reject,
    /// Hand the request to the inner service untouched.
    PassThrough,
}

/// What to do with query parameters the operation does not declare.
///
/// In a config file (and in `x-oasgate-undeclared-query`): `accept`, `reject` or `strip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UndeclaredParams {
    /// Keep them and let the request through.
    #[default]
    Accept,
    /// Answer 400 naming each one.
    Reject,
    /// Let the request through but drop them from the query the inner service sees.
    Strip,
}

impl UndeclaredParams {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "accept" => Some(Self::Accept),
            "reject" => Some(Self::Reject),
            "strip" => Some(Self::Strip),
            _ => None,
        }
    }
}

/// Which operations get [`Paging`](crate::Paging).
///
/// In a config file: `declared` or `girder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PagingMode {
    /// Only operations marked `x-paging`.
    #[default]
    Declared,
    /// Also every operation that declares the query parameters `limit`, `offset`, `sort` and
    /// `sortdir` itself, as Girder's `Description.pagingParams` writes them: they merge into
    /// [`Paging`](crate::Paging) as `x-paging` would, held only to their own schemas.
    Girder,
}

/// Which interactive page the layer serves at [`Options::docs_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DocsUi {
    /// Swagger UI, with "Try it out" and deep links (feature `docs-ui`).
    #[default]
    SwaggerUi,
    /// Redoc, a three-panel reference (feature `docs-redoc`).
    Redoc,
}

/// serde_json refuses to parse values nested deeper than this.
pub(crate) const MAX_JSON_DEPTH: usize = 127;

/// Renders a [`Problem`] into a response, replacing the default problem+json body.
pub type Formatter = Arc<dyn Fn(&Problem) -> Response<Bytes> + Send + Sync>;

/// Options for [`OpenApiLayer`](crate::OpenApiLayer); every setter is chainable.
///
/// ```
/// use oasgate::{Options, UndeclaredParams};
///
/// let options = Options::default()
///     .prefix("/api")
///     .body_limit(64 * 1024)
///     .json_depth_limit(32)
///     .query_params_limit(64)
///     .undeclared_query(UndeclaredParams::Reject)
///     .error_cap(10);
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct Options {
    pub(crate) prefix: String,
    pub(crate) tolerate_trailing_slash: bool,
    pub(crate) path_normalization: PathNormalization,
    pub(crate) allow_encoded_slash: bool,
    pub(crate) unknown_routes: UnknownRoutes,
    pub(crate) undeclared_query: UndeclaredParams,
    pub(crate) paging: PagingMode,
    pub(crate) body_limit: usize,
    pub(crate) json_depth_limit: usize,
    pub(crate) query_params_limit: usize,
    pub(crate) param_length_limit: usize,
    pub(crate) pattern_backtrack_limit: usize,
    pub(crate) multipart_parts_limit: usize,
    pub(crate) error_cap: usize,
    pub(crate) unprocessable_bodies: bool,
    pub(crate) lenient_booleans: bool,
    pub(crate) openapi_json_path: Option<String>,
    pub(crate) enforce: bool,
    pub(crate) openapi_yaml_path: Option<String>,
    pub(crate) docs_path: Option<String>,
    pub(crate) docs_ui: DocsUi,
    pub(crate) serve_bundled: bool,
    pub(crate) describe_problems: bool,
    pub(crate) document_cache_control: String,
    pub(crate) trusted_proxies: Vec<String>,
    pub(crate) peer_addr: Option<PeerAddrFn>,
    pub(crate) verifier: Option<Arc<dyn Verifier>>,
    pub(crate) formatter: Option<Formatter>,
    pub(crate) canonical_query: bool,
    pub(crate) fill_body_defaults: bool,
    pub(crate) strict: bool,
    pub(crate) lint: bool,
    pub(crate) lenient_dates: bool,
    pub(crate) date_dialect: Dialect,
    pub(crate) time_zone: Zone,
    pub(crate) models: Vec<(String, Arc<dyn ModelLoader>)>,
    pub(crate) response_validation: ResponseValidation,
    pub(crate) response_validation_max_body: usize,
    pub(crate) response_observer: Option<ResponseObserver>,
    pub(crate) response_validation_sample: f64,
    pub(crate) forwards_upstream: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            tolerate_trailing_slash: false,
            path_normalization: PathNormalization::Reject,
            allow_encoded_slash: false,
            unknown_routes: UnknownRoutes::Reject,
            undeclared_query: UndeclaredParams::Accept,
            paging: PagingMode::Declared,
            body_limit: 1024 * 1024,
            json_depth_limit: 64,
            query_params_limit: 256,
            param_length_limit: 8 * 1024,
            pattern_backtrack_limit: crate::pattern::DEFAULT_BACKTRACK_LIMIT,
            multipart_parts_limit: 100,
            error_cap: 20,
            unprocessable_bodies: false,
            lenient_booleans: false,
            openapi_json_path: Some("/openapi.json".to_owned()),
            enforce: true,
            openapi_yaml_path: Some("/openapi.yaml".to_owned()),
            docs_path: cfg!(feature = "docs-ui").then(|| "/docs".to_owned()),
            docs_ui: DocsUi::default(),
            serve_bundled: false,
            describe_problems: true,
            document_cache_control: "no-cache".to_owned(),
            trusted_proxies: Vec::new(),
            peer_addr: None,
            verifier: None,
            formatter: None,
            canonical_query: true,
            fill_body_defaults: false,
            strict: false,
            lint: false,
            lenient_dates: false,
            date_dialect: Dialect::default(),
            time_zone: Zone::Utc,
            models: Vec::new(),
            response_validation: ResponseValidation::Off,
            response_validation_max_body: 1024 * 1024,
            response_observer: None,
            response_validation_sample: 1.0,
            forwards_upstream: false,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("prefix", &self.prefix)
            .field("tolerate_trailing_slash", &self.tolerate_trailing_slash)
            .field("path_normalization", &self.path_normalization)
            .field("allow_encoded_slash", &self.allow_encoded_slash)
            .field("unknown_routes", &self.unknown_routes)
            .field("undeclared_query", &self.undeclared_query)
            .field("paging", &self.paging)
            .field("body_limit", &self.body_limit)
            .field("json_depth_limit", &self.json_depth_limit)
            .field("query_params_limit", &self.query_params_limit)
            .field("param_length_limit", &self.param_length_limit)
            .field("pattern_backtrack_limit", &self.pattern_backtrack_limit)
            .field("multipart_parts_limit", &self.multipart_parts_limit)
            .field("error_cap", &self.error_cap)
            .field("unprocessable_bodies", &self.unprocessable_bodies)
            .field("lenient_booleans", &self.lenient_booleans)
            .field("openapi_json_path", &self.openapi_json_path)
            .field("enforce", &self.enforce)
            .field("openapi_yaml_path", &self.openapi_yaml_path)
            .field("docs_path", &self.docs_path)
            .field("docs_ui", &self.docs_ui)
            .field("serve_bundled", &self.serve_bundled)
            .field("describe_problems", &self.describe_problems)
            .field("document_cache_control", &self.document_cache_control)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("peer_addr", &self.peer_addr.is_some())
            .field("verifier", &self.verifier.is_some())
            .field("formatter", &self.formatter.is_some())
            .field("canonical_query", &self.canonical_query)
            .field("fill_body_defaults", &self.fill_body_defaults)
            .field("strict", &self.strict)
            .field("lint", &self.lint)
            .field("lenient_dates", &self.lenient_dates)
            .field("date_dialect", &self.date_dialect)
            .field("time_zone", &self.time_zone)
            .field(
                "models",
                &self
                    .models
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("response_validation", &self.response_validation)
            .field(
                "response_validation_max_body",
                &self.response_validation_max_body,
            )
            .field("response_observer", &self.response_observer.is_some())
            .field(
                "response_validation_sample",
                &self.response_validation_sample,
            )
            .field("forwards_upstream", &self.forwards_upstream)
            .finish()
    }
}

impl Options {
    /// Whether the document is served at all (as JSON, YAML, or behind the docs page).
    pub(crate) fn serves_document(&self) -> bool {
        self.openapi_json_path.is_some()
            || self.openapi_yaml_path.is_some()
            || self.docs_path.is_some()
    }

    /// A path prefix put before every server base path (`/api` + `/v1` + `/pets`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().trim_end_matches('/').to_owned();
        self
    }

    /// Let `/pets/` match `/pets` and the other way round (default: a different path).
    pub fn tolerate_trailing_slash(mut self, yes: bool) -> Self {
        self.tolerate_trailing_slash = yes;
        self
    }

    /// What to do with dot segments (`/a/../b`, `/./`, `%2e%2e`) and empty segments (`//`) in
    /// request paths (default: answer 400). Whatever the choice, the path oasgate routes and
    /// validates is the path the inner service receives; see the crate docs' "canonical path".
    pub fn path_normalization(mut self, policy: PathNormalization) -> Self {
        self.path_normalization = policy;
        self
    }

    /// Keep an encoded `/` (`%2F`) inside a path segment, for APIs whose path parameters carry
    /// slashes (default: answer 400). Only safe when the service behind does not decode `%2F`
    /// before routing.
    pub fn allow_encoded_slash(mut self, yes: bool) -> Self {
        self.allow_encoded_slash = yes;
        self
    }

    /// What to do with paths no operation has (default: 404 / 405).
    pub fn unknown_routes(mut self, policy: UnknownRoutes) -> Self {
        self.unknown_routes = policy;
        self
    }

    /// What to do with undeclared query parameters (default: accept). An operation overrides
    /// it with `x-oasgate-undeclared-query: accept | reject | strip`, and so does the document
    /// root.
    pub fn undeclared_query(mut self, policy: UndeclaredParams) -> Self {
        self.undeclared_query = policy;
        self
    }

    /// Which operations merge `limit`, `offset`, `sort` and `sortdir` into
    /// [`Paging`](crate::Paging): those marked `x-paging` (the default), or with
    /// [`PagingMode::Girder`] also those declaring the four parameters themselves, as a
    /// Girder document does.
    pub fn paging(mut self, mode: PagingMode) -> Self {
        self.paging = mode;
        self
    }

    /// Largest body read, in bytes (default 1 MiB); larger answers 413 without reading on.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Deepest nesting of arrays and objects in a JSON body, a JSON part of a multipart body
    /// or a JSON-valued (`content: application/json`) parameter (default 64, at most 127).
    ///
    /// `{"a": [1]}` nests 2 levels. A deeper value answers 400 naming where the limit was
    /// crossed; nothing after that point is parsed. The JSON parser itself refuses more than
    /// 127 levels, so larger settings act as 127.
    pub fn json_depth_limit(mut self, levels: usize) -> Self {
        self.json_depth_limit = levels.min(MAX_JSON_DEPTH);
        self
    }

    /// Most `name=value` pairs read from one query string, and from one
    /// `application/x-www-form-urlencoded` body (default 256); more answer 400 without
    /// splitting the rest.
    pub fn query_params_limit(mut self, pairs: usize) -> Self {
        self.query_params_limit = pairs;
        self
    }

    /// Longest raw (still percent-encoded) text of one parameter, in bytes (default 8 KiB);
    /// longer answers 400 without decoding it.
    ///
    /// It applies to every name and value in the query string, to each declared path
    /// parameter, to each line of a declared header and to each declared cookie. Other
    /// headers and cookies are not read by oasgate; the HTTP server's own header limits
    /// bound them.
    pub fn param_length_limit(mut self, bytes: usize) -> Self {
        self.param_length_limit = bytes;
        self
    }

    /// Most backtracking steps a `pattern` with lookaround or a backreference may take on one
    /// value (default 100 000, a few milliseconds); a value it cannot decide within them is
    /// refused with a `pattern` error. Other patterns run in linear time and ignore it. See
    /// `docs/patterns.md`.
    pub fn pattern_backtrack_limit(mut self, steps: usize) -> Self {
        self.pattern_backtrack_limit = steps;
        self
    }

    /// Most parts read from one `multipart/form-data` body (default 100); more answer 400
    /// without reading the rest.
    pub fn multipart_parts_limit(mut self, parts: usize) -> Self {
        self.multipart_parts_limit = parts;
        self
    }

    /// Most errors listed in one problem (default 20); the rest are counted.
    pub fn error_cap(mut self, cap: usize) -> Self {
        self.error_cap = cap.max(1);
        self
    }

    /// Answer 422 instead of 400 for bodies that parse but break their schema.
    pub fn unprocessable_bodies(mut self, yes: bool) -> Self {
        self.unprocessable_bodies = yes;
        self
    }

    /// Accept `1/0`, `yes/no`, `on/off` (any case) for boolean parameters, besides
    /// `true/false`. Anything else is still rejected.
    pub fn lenient_booleans(mut self, yes: bool) -> Self {
        self.lenient_booleans = yes;
        self
    }

    /// Where the layer serves the document as JSON (default `/openapi.json`); `None` turns it off.
    pub fn openapi_json_path(mut self, path: Option<&str>) -> Self {
        self.openapi_json_path = path.map(str::to_owned);
        self
    }

    /// Where the layer serves the document as YAML (default `/openapi.yaml`); `None` turns it off.
    /// The YAML is written on its first request, from the served JSON (at start-up when no
    /// JSON is served).
    pub fn openapi_yaml_path(mut self, path: Option<&str>) -> Self {
        self.openapi_yaml_path = path.map(str::to_owned);
        self
    }

    /// Where the interactive docs page is served (default `/docs` with the `docs-ui` feature,
    /// off without it); `None` turns it off. Its files are served below it (`/docs/…`).
    pub fn docs_path(mut self, path: Option<&str>) -> Self {
        self.docs_path = path.map(str::to_owned);
        self
    }

    /// Which page `/docs` is (default Swagger UI).
    pub fn docs_ui(mut self, ui: DocsUi) -> Self {
        self.docs_ui = ui;
        self
    }

    /// Serve the document as one self-contained file for tools that read only one: every
    /// definition reached in another file moves into `components`, as in
    /// [`Document::bundled`](crate::Document::bundled) and `oasgate bundle` (default off:
    /// other files are kept under `x-oasgate-files`, which is self-contained too, but only
    /// for tools that follow local `$ref`s anywhere in the document).
    pub fn serve_bundled(mut self, yes: bool) -> Self {
        self.serve_bundled = yes;
        self
    }

    /// Add to each operation of the served document the problem responses the layer can
    /// answer there (default on). Statuses an operation declares itself are kept as written.
    pub fn describe_problems(mut self, yes: bool) -> Self {
        self.describe_problems = yes;
        self
    }

    /// The `Cache-Control` of the served document (default `no-cache`: caches revalidate
    /// with the `ETag`, which answers 304 while the document is unchanged).
    pub fn document_cache_control(mut self, value: impl Into<String>) -> Self {
        self.document_cache_control = value.into();
        self
    }

    /// Proxies whose `Forwarded` and `X-Forwarded-Proto`, `-Host`, `-Prefix` headers decide the
    /// `servers` of the served document: IP addresses (`127.0.0.1`, `::1`) or networks
    /// (`10.0.0.0/8`). Default none: only `Host` counts. A bad entry is a start-up error.
    ///
    /// The peer's address is read from the request extensions (see [`Options::peer_addr`]);
    /// a request without one is never trusted.
    pub fn trusted_proxies<I, T>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.trusted_proxies = proxies.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// Where the client's address is in the request extensions (default: a
    /// [`PeerAddr`](crate::PeerAddr) extension). With axum's `ConnectInfo`:
    /// `.peer_addr(|e| e.get::<ConnectInfo<SocketAddr>>().map(|c| c.0))`.
    pub fn peer_addr(
        mut self,
        find: impl Fn(&http::Extensions) -> Option<std::net::SocketAddr> + Send + Sync + 'static,
    ) -> Self {
        self.peer_addr = Some(Arc::new(find));
        self
    }

    /// `false` makes the layer report-only: a request it would reject is logged (under the
    /// `oasgate::rejection` target, with `enforced = false`), carries a
    /// [`Rejection`](crate::Rejection) extension, and reaches the inner service anyway, without
    /// a [`Validated`](crate::Validated) extension. Default `true`.
    ///
    /// This holds for every refusal, the query and length limits included: the request is
    /// handed on as it was sent. A body is checked in report-only mode only when its size is
    /// declared and within the limit, so that it can be handed on whole; others pass unread.
    /// One refusal is answered all the same: a body that broke off while it was read (400),
    /// since nothing whole is left to hand on; its log line says `enforced = true`.
    pub fn enforce(mut self, yes: bool) -> Self {
        self.enforce = yes;
        self
    }

    /// Whether what the inner service answers is checked against the document: status,
    /// content type, body and declared headers (see [`crate::response`]). Default
    /// [`ResponseValidation::Off`]; an operation may choose its own with
    /// `x-oasgate-response-validation: off | report | enforce`.
    pub fn response_validation(mut self, mode: ResponseValidation) -> Self {
        self.response_validation = mode;
        self
    }

    /// Largest response body checked (default 1 MiB). A larger body, or one of unknown length
    /// that grows past it, is handed on unchecked and the skip is logged; in enforce mode the
    /// answer waits for at most this many bytes.
    pub fn response_validation_max_body(mut self, bytes: usize) -> Self {
        self.response_validation_max_body = bytes;
        self
    }

    /// Share of responses checked in report mode, from 0 to 1 (default 1: every one), to bound
    /// the cost in production: each operation checks one response in `1 / share`, the first
    /// included; the others cost one atomic increment. Enforce mode checks every response.
    /// A value outside 0 to 1 is brought inside (NaN counts as 1).
    pub fn response_validation_sample(mut self, share: f64) -> Self {
        self.response_validation_sample = if share.is_nan() {
            1.0
        } else {
            share.clamp(0.0, 1.0)
        };
        self
    }

    /// The inner service is a gateway that forwards another service's answers and marks them
    /// [`Origin::Upstream`](crate::response::Origin::Upstream), as `oasgate serve` does in
    /// proxy mode (default off). Such answers are replaced by a `502` when invalid, whatever
    /// this says; with it on, the served document describes that `502` on the operations whose
    /// response validation is enforced, instead of the layer's own `500`.
    pub fn forwards_upstream(mut self, yes: bool) -> Self {
        self.forwards_upstream = yes;
        self
    }

    /// Called with what response validation finds in each response (its violations, or a
    /// body too long to check), besides the log line: for metrics. `oasgate serve` counts
    /// them in `oasgate_response_violations_total`.
    pub fn response_observer(mut self, observer: ResponseObserver) -> Self {
        self.response_observer = Some(observer);
        self
    }

    /// Checks credentials for real; without one, oasgate checks they are present.
    pub fn verifier(mut self, verifier: Arc<dyn Verifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Replaces how problems are rendered.
    pub fn formatter(
        mut self,
        formatter: impl Fn(&Problem) -> Response<Bytes> + Send + Sync + 'static,
    ) -> Self {
        self.formatter = Some(Arc::new(formatter));
        self
    }

    /// Hand the inner service a canonical query string (default on): every declared query
    /// parameter coerced, transformed and defaulted, in its declared style, and the merged
    /// paging values; an API key sent in the query is kept as sent, whatever the undeclared
    /// query policy. Pairs kept as sent have each `;` written `%3B`, since some servers split
    /// on it. Off: the query is passed on as the client sent it, and a raw `;` in it answers 400
    /// (oasgate splits on `&` only and cannot know whether the service splits on `;`).
    pub fn canonical_query(mut self, yes: bool) -> Self {
        self.canonical_query = yes;
        self
    }

    /// Refuse a document with any defect, even one oasgate can work around (default off:
    /// such defects are [`BuildWarning`](crate::BuildWarning)s, logged at start-up and listed
    /// by `oasgate check`). On, every warning is an error of [`BuildError`](crate::BuildError).
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }

    /// Compile to check a document rather than to serve it (default off): what a program
    /// registers at run time, a model loader for each `x-model`, is assumed present, with a
    /// `model-loader` warning for each one missing. `oasgate check` sets it, so a document
    /// written for a Rust program passes a lint step; a layer built this way loads no model
    /// its loader is missing for. A Swagger 2.0 document's responses are read whole, so that
    /// what is wrong in their schemas is reported even without response validation (a layer
    /// built to serve reads them only for response validation).
    pub fn lint(mut self, yes: bool) -> Self {
        self.lint = yes;
        self
    }

    /// Fill schema `default`s into JSON request bodies before the inner service sees them
    /// (default off: the body is handed on byte for byte).
    pub fn fill_body_defaults(mut self, yes: bool) -> Self {
        self.fill_body_defaults = yes;
        self
    }

    /// Read every `format: date` / `date-time` parameter leniently (`2 January 2024`,
    /// `yesterday`, `3 days ago`…), not only those marked `x-date: lenient`.
    pub fn lenient_dates(mut self, yes: bool) -> Self {
        self.lenient_dates = yes;
        self
    }

    /// How lenient dates read `01/04/2024` (default day first: 1 April).
    pub fn date_dialect(mut self, dialect: Dialect) -> Self {
        self.date_dialect = dialect;
        self
    }

    /// The time zone lenient dates without an offset are read in (default UTC).
    pub fn time_zone(mut self, zone: Zone) -> Self {
        self.time_zone = zone;
        self
    }

    /// Registers the loader for parameters marked `x-model: NAME`.
    pub fn model_loader(mut self, name: impl Into<String>, loader: Arc<dyn ModelLoader>) -> Self {
        let name = name.into();
        self.models.retain(|(n, _)| *n != name);
        self.models.push((name, loader));
        self
    }
}
