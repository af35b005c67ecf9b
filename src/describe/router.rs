//! An axum router whose routes are added together with their descriptions.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};

use super::{Api, Operation};
use crate::{BuildError, OpenApiLayer, Options};

/// An axum [`Router`] and the [`Api`] describing it, grown together: each
/// [`route`](DescribedRouter::route) call adds the handler at the operation's method and path
/// and the operation to the document, so a route cannot exist undocumented, nor a documented
/// operation without its route.
///
/// OpenAPI path templates (`/pets/{id}`) are axum's path syntax too, so the path is written
/// once. [`into_router`](DescribedRouter::into_router) puts the layer built from the document
/// in front: every request is validated, and `/openapi.json` and `/docs` are served.
///
/// ```
/// use axum::Json;
/// use oasgate::Options;
/// use oasgate::describe::{Api, DescribedRouter, Operation, Param};
/// use oasgate::extract::Valid;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Page {
///     limit: u32,
/// }
///
/// async fn list(Valid(page): Valid<Page>) -> Json<Vec<u32>> {
///     Json((0..page.limit).collect())
/// }
///
/// # fn main() -> Result<(), oasgate::BuildError> {
/// let app = DescribedRouter::new(Api::new("Numbers", "1"))
///     .route(
///         Operation::get("/numbers")
///             .param(Param::query::<u32>("limit").default(3))
///             .empty_response(200, "The numbers."),
///         list,
///     )
///     .into_router(Options::default())?;
/// # let _: axum::Router = app;
/// # Ok(())
/// # }
/// ```
pub struct DescribedRouter<S = ()> {
    api: Api,
    router: Router<S>,
}

impl<S: Clone + Send + Sync + 'static> DescribedRouter<S> {
    /// Starts from `api` (title, version, security schemes, …) and an empty router.
    pub fn new(api: Api) -> Self {
        Self {
            api,
            router: Router::new(),
        }
    }

    /// Adds `handler` at the operation's method and path, and the operation to the document.
    ///
    /// # Panics
    ///
    /// As [`Router::route`] does, when the same method and path are routed twice; and for an
    /// extension method, which axum cannot route (only the methods of RFC 9110 are).
    pub fn route<H, T>(mut self, operation: Operation, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(operation.method().clone()).unwrap_or_else(|_| {
            panic!(
                "axum cannot route method {} of {}",
                operation.method(),
                operation.path()
            )
        });
        self.router = self.router.route(operation.path(), on(filter, handler));
        self.api = self.api.operation(operation);
        self
    }

    /// The document so far.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The router with the layer built from the described document in front (validation,
    /// `/openapi.json`, `/docs`); a document the layer refuses is the error.
    pub fn into_router(self, options: Options) -> Result<Router<S>, BuildError> {
        let document = self.api.document()?;
        let layer = OpenApiLayer::with_options(document, options)?;
        Ok(self.router.layer(layer))
    }

    /// The router without the layer, and the document, for callers that assemble them
    /// differently (e.g. state added before the layer).
    pub fn into_parts(self) -> (Router<S>, Api) {
        (self.router, self.api)
    }
}
