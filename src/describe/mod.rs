//! Code-first documents: describe operations in Rust, get the same validation and docs.
//!
//! An [`Api`] collects [`Operation`]s built with a chainable builder in the spirit of Girder's
//! `Description`: method and path template, summary and notes, tags, parameters with their
//! types, defaults, enums and transforms, a request body, responses (several types for one
//! status become a `oneOf`), error types per status, examples, deprecation, public operations
//! and callbacks. Types come from [`schemars::JsonSchema`] derives: doc comments become
//! descriptions, enums string enums, `Option` fields not required, `uuid::Uuid` and `chrono`
//! types get their formats. Each type is registered once under `components/schemas` and
//! referenced by `$ref`.
//!
//! [`Api::document`] turns the description into an OpenAPI 3.1 [`Document`](crate::Document)
//! (schemas are JSON Schema 2020-12; [`Api::openapi_version`] makes it 3.2, for `QUERY` and
//! other methods), which feeds [`OpenApiLayer`](crate::OpenApiLayer) like
//! any document read from a file: there is one validation path. [`Api::write_json`] writes the
//! document out so it can be committed. With axum, [`DescribedRouter`] (feature
//! `describe-axum`) adds each route together with its description.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//!
//! use http::{Request, Response};
//! use oasgate::describe::{Api, Operation, Param, SecurityScheme};
//! use oasgate::{OpenApiLayer, body::Body};
//! use schemars::JsonSchema;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! /// A pet in the shop.
//! #[derive(JsonSchema)]
//! struct Pet {
//!     /// Its name, as called.
//!     name: String,
//!     /// The species.
//!     kind: Kind,
//!     /// Its birthday, when known.
//!     born: Option<chrono::NaiveDate>,
//! }
//!
//! /// The species the shop sells.
//! #[derive(JsonSchema)]
//! #[serde(rename_all = "lowercase")]
//! enum Kind {
//!     Cat,
//!     Dog,
//! }
//!
//! /// Nothing has this identifier.
//! #[derive(JsonSchema)]
//! struct NotFound {
//!     /// What was looked for.
//!     id: uuid::Uuid,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let api = Api::new("Pet shop", "1.0")
//!     .security_scheme("token", SecurityScheme::bearer().bearer_format("JWT"))
//!     .default_security("token", Vec::<String>::new())
//!     .operation(
//!         Operation::get("/pets/{id}")
//!             .summary("Finds a pet.")
//!             .param(Param::path::<uuid::Uuid>("id").description("the pet's identifier"))
//!             .response::<Pet>(200, "The pet.")
//!             .error::<NotFound>(404, "No pet has this identifier."),
//!     )
//!     .operation(
//!         Operation::post("/pets")
//!             .summary("Adds a pet.")
//!             .public()
//!             .body::<Pet>("The new pet.")
//!             .empty_response(204, "Added."),
//!     );
//!
//! let document = api.document()?;
//! let json = document.as_json();
//! assert_eq!(json["components"]["schemas"]["Kind"]["enum"], serde_json::json!(["cat", "dog"]));
//! assert_eq!(json["paths"]["/pets/{id}"]["get"]["parameters"][0]["schema"]["format"], "uuid");
//!
//! // The very same layer as for a document read from a file.
//! let service = ServiceBuilder::new()
//!     .layer(OpenApiLayer::new(&document)?)
//!     .service_fn(|_: Request<Body>| async { Ok::<_, Infallible>(Response::new(String::new())) });
//!
//! let bad = Request::post("/pets")
//!     .header("content-type", "application/json")
//!     .body(Body::from(r#"{"name": "Rex", "kind": "parrot"}"#))?;
//! assert_eq!(service.clone().oneshot(bad).await?.status(), 400);
//!
//! let anonymous = Request::get("/pets/7c9e6679-7425-40de-944b-e07fc1f90ae7").body(Body::empty())?;
//! assert_eq!(service.oneshot(anonymous).await?.status(), 401);
//! # Ok(())
//! # }
//! ```
//!
//! # Girder's extras
//!
//! These emit the `x-` extensions the engine reads from any document, so a described API and a
//! written one behave the same:
//!
//! | builder | emits | effect |
//! | --- | --- | --- |
//! | [`Param::strip`], [`Param::lowercase`], [`Param::uppercase`] | `x-strip`, `x-lowercase`, `x-uppercase` | the value is transformed before it is checked |
//! | [`Param::lenient_date`] | `x-date: lenient` | dates as a person types them |
//! | [`Param::model`] | `x-model: NAME` | a registered loader turns the id into the entity |
//! | [`Param::json`] | `content: application/json` | the value is JSON, parsed and checked |
//! | [`Operation::paging`] | `x-paging` | `limit`, `offset`, `sort`, `sortdir` merged into one `Paging` |
//! | [`Operation::sunset`] | `deprecated: true`, `x-sunset` | `Deprecation` and `Sunset` headers |
//!
//! # Mistakes
//!
//! [`Api::to_value`] (and so [`Api::document`]) lists every mistake in the description in one
//! [`BuildError`](crate::BuildError), each with the JSON pointer of the operation in the
//! generated document: an operation described twice, an operationId used twice (the layer
//! would refuse the document), a path parameter that is not in its template, a parameter
//! declared twice, a status outside 100–599, an unregistered security scheme,
//! [`Operation::consumes`] without a body, an example for a response without a body, a type
//! named `Problem` beside [`Operation::problem`]. Path template parameters that no [`Param`]
//! declares are declared as strings.

mod api;
mod operation;
mod param;
#[cfg(feature = "describe-axum")]
mod router;
mod schema;

pub use api::{Api, SecurityScheme};
pub use operation::{Operation, RequestBody, Response};
pub use param::{Paging, Param, ParamIn};
#[cfg(feature = "describe-axum")]
pub use router::DescribedRouter;
pub use schemars;
