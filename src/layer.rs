//! [`OpenApiLayer`]: the Tower layer that puts a document in front of a service.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use tower_layer::Layer;

use crate::config::{Config, LoadError};
use crate::error::{BuildError, BuildWarning};
use crate::options::Options;
use crate::plan::{Plan, compile};
use crate::request::Disposition;
use crate::service::OpenApi;
use crate::spec::Document;
use crate::validated::Validated;

/// Validates every request against an OpenAPI document before the inner service sees it.
///
/// Building the layer loads and compiles the document once; the layer and every service it
/// makes share that plan behind an `Arc`, so cloning them is cheap.
///
/// ```
/// use oasgate::{Document, OpenApiLayer, Options};
///
/// let doc = Document::from_str(r#"
/// openapi: 3.1.0
/// info: {title: Pets, version: "1"}
/// paths:
///   /pets/{id}:
///     get:
///       parameters:
///         - {name: id, in: path, required: true, schema: {type: integer}}
///       responses: {"200": {description: ok}}
/// "#)?;
/// let layer = OpenApiLayer::with_options(&doc, Options::default().prefix("/api"))?;
/// # let _ = layer;
/// # Ok::<(), oasgate::BuildError>(())
/// ```
#[derive(Clone)]
pub struct OpenApiLayer {
    plan: Arc<Plan>,
}

impl std::fmt::Debug for OpenApiLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApiLayer")
            .field("operations", &self.plan.operations.len())
            .field("options", &self.plan.options)
            .finish()
    }
}

impl OpenApiLayer {
    /// Compiles `document` with default [`Options`].
    pub fn new(document: impl Into<Document>) -> Result<Self, BuildError> {
        Self::with_options(document, Options::default())
    }

    /// Compiles `document` (`&doc`, or `doc` itself) with `options`.
    ///
    /// Handing the document over by value lets the build reuse its parsed tree for the
    /// served document where a reference makes it copy the tree: on a large document that
    /// copy is a sizeable part of the start-up's peak memory and time.
    pub fn with_options(
        document: impl Into<Document>,
        options: Options,
    ) -> Result<Self, BuildError> {
        let plan = compile(document.into(), options)?;
        for warning in &plan.warnings {
            tracing::warn!(target: "oasgate::spec", case = warning.case.as_str(), "{}", warning.at);
        }
        Ok(Self {
            plan: Arc::new(plan),
        })
    }

    /// The document's defects oasgate worked around (each also logged at start-up under the
    /// `oasgate::spec` target); empty for a clean document. See [`Options::strict`].
    pub fn warnings(&self) -> &[BuildWarning] {
        &self.plan.warnings
    }

    /// Loads the document at `path` (following relative `$ref`s) and compiles it with defaults.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, BuildError> {
        Self::new(Document::from_path(path)?)
    }

    /// Reads a config file (`oasgate.yaml`, or `.toml`; see [`config`](crate::config)), applies
    /// `OASGATE_…` environment overrides, loads the document it names and compiles it with
    /// its `options`.
    ///
    /// ```no_run
    /// let layer = oasgate::OpenApiLayer::from_config_file("oasgate.yaml")?;
    /// # let _ = layer;
    /// # Ok::<(), oasgate::config::LoadError>(())
    /// ```
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        Config::from_path(path)?.layer()
    }

    /// Checks everything about a request but its body — route, credentials (presence and the
    /// verifier), parameters, model parameters — without an inner service: for a forward-auth endpoint, or a
    /// tool that asks what a request would get.
    ///
    /// `Ok(Some(validated))` when an operation matched and the request is valid, `Ok(None)`
    /// when the layer would not look at it (the served document, or an unknown path under
    /// [`UnknownRoutes::PassThrough`](crate::UnknownRoutes::PassThrough)), otherwise the
    /// problem response, which carries a [`Rejection`](crate::Rejection) extension. The
    /// report-only setting is not applied here: the caller decides.
    pub async fn check_head(
        &self,
        parts: &http::request::Parts,
    ) -> Result<Option<Validated>, Response<Bytes>> {
        let head = match self.plan.check_head(parts) {
            Ok(Disposition::Operation(head)) => head,
            Ok(Disposition::Answer(_) | Disposition::PassThrough { .. }) => return Ok(None),
            Err(rejected) => return Err(self.plan.render(rejected, parts)),
        };
        if let Err(rejected) = self.plan.admit(&head).await {
            return Err(self.plan.render(rejected, parts));
        }
        Ok(Some(head.validated))
    }
}

impl<S> Layer<S> for OpenApiLayer {
    type Service = OpenApi<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OpenApi::new(inner, self.plan.clone())
    }
}
