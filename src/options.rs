//! Everything that can be configured, with the defaults a production service wants.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;

use crate::problem::Problem;
use crate::security::Verifier;

/// What to do with a request whose path no operation has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownRoutes {
    /// Answer 404 (or 405 when the path exists with other methods).
    #[default]
    Reject,
    /// Hand the request to the inner service untouched.
    PassThrough,
}

/// What to do with query parameters the operation does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UndeclaredParams {
    /// Keep them and let the request through.
    #[default]
    Accept,
    /// Answer 400 naming each one.
    Reject,
}

impl UndeclaredParams {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "accept" => Some(Self::Accept),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }
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
    pub(crate) unknown_routes: UnknownRoutes,
    pub(crate) undeclared_query: UndeclaredParams,
    pub(crate) body_limit: usize,
    pub(crate) json_depth_limit: usize,
    pub(crate) query_params_limit: usize,
    pub(crate) param_length_limit: usize,
    pub(crate) multipart_parts_limit: usize,
    pub(crate) error_cap: usize,
    pub(crate) unprocessable_bodies: bool,
    pub(crate) lenient_booleans: bool,
    pub(crate) openapi_json_path: Option<String>,
    pub(crate) verifier: Option<Arc<dyn Verifier>>,
    pub(crate) formatter: Option<Formatter>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            tolerate_trailing_slash: false,
            unknown_routes: UnknownRoutes::Reject,
            undeclared_query: UndeclaredParams::Accept,
            body_limit: 1024 * 1024,
            json_depth_limit: 64,
            query_params_limit: 256,
            param_length_limit: 8 * 1024,
            multipart_parts_limit: 100,
            error_cap: 20,
            unprocessable_bodies: false,
            lenient_booleans: false,
            openapi_json_path: Some("/openapi.json".to_owned()),
            verifier: None,
            formatter: None,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("prefix", &self.prefix)
            .field("tolerate_trailing_slash", &self.tolerate_trailing_slash)
            .field("unknown_routes", &self.unknown_routes)
            .field("undeclared_query", &self.undeclared_query)
            .field("body_limit", &self.body_limit)
            .field("json_depth_limit", &self.json_depth_limit)
            .field("query_params_limit", &self.query_params_limit)
            .field("param_length_limit", &self.param_length_limit)
            .field("multipart_parts_limit", &self.multipart_parts_limit)
            .field("error_cap", &self.error_cap)
            .field("unprocessable_bodies", &self.unprocessable_bodies)
            .field("lenient_booleans", &self.lenient_booleans)
            .field("openapi_json_path", &self.openapi_json_path)
            .field("verifier", &self.verifier.is_some())
            .field("formatter", &self.formatter.is_some())
            .finish()
    }
}

impl Options {
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

    /// What to do with paths no operation has (default: 404 / 405).
    pub fn unknown_routes(mut self, policy: UnknownRoutes) -> Self {
        self.unknown_routes = policy;
        self
    }

    /// What to do with undeclared query parameters (default: accept). An operation overrides
    /// it with `x-oasgate-undeclared-query: accept | reject`, and so does the document root.
    pub fn undeclared_query(mut self, policy: UndeclaredParams) -> Self {
        self.undeclared_query = policy;
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
}
