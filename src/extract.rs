//! axum extractors that read what the layer validated, without parsing again (feature `axum`).
//!
//! - [`Valid<T>`] deserializes `T` from the merged path, query, header and cookie values (as
//!   Girder merges them into keyword arguments; on a name clash path wins over query over
//!   header over cookie).
//! - [`ValidBody<T>`] deserializes `T` from the parsed body.
//! - [`Paging`] is the merged paging request of an `x-paging` operation.
//!
//! The layer has already answered every bad request, so a failure here means the handler's
//! type and the document disagree — a programmer error: it answers 500 problem+json naming
//! the mismatch, and logs it.
//!
//! ```
//! use oasgate::extract::{Valid, ValidBody};
//! use oasgate::Paging;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct ListQuery { kind: Option<String> }
//!
//! async fn list(Valid(q): Valid<ListQuery>, paging: Paging) -> String {
//!     format!("{:?} from {} ({} items)", q.kind, paging.offset, paging.limit)
//! }
//! # let _ = axum::Router::<()>::new().route("/items", axum::routing::get(list));
//! ```

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::Validated;
use crate::paging::Paging;
use crate::problem::{Problem, ProblemKind};

/// Parameters deserialized from what the layer validated.
#[derive(Debug, Clone)]
pub struct Valid<T>(pub T);

/// The body deserialized from what the layer parsed and validated.
#[derive(Debug, Clone)]
pub struct ValidBody<T>(pub T);

/// Why an extractor failed: the handler's type and the document disagree, or the layer is not
/// in front of the route. Answered as a 500 problem naming the mismatch, and logged.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExtractRejection {
    /// The request carries no [`Validated`]: the layer is not in front of this route.
    NotValidated,
    /// The operation has no body the layer read (not JSON or a form).
    NoReadBody,
    /// The operation has no `x-paging` (nor the `girder` paging option).
    NoPaging,
    /// The values do not deserialise into the handler's type.
    TypeMismatch {
        /// `parameters` or `body`.
        what: &'static str,
        /// What serde said.
        error: serde_json::Error,
    },
}

impl std::fmt::Display for ExtractRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractRejection::NotValidated => f.write_str(
                "the request was not validated: is the OpenApiLayer in front of this route?",
            ),
            ExtractRejection::NoReadBody => f.write_str(
                "the operation has no body the layer read (is it declared as JSON or form?)",
            ),
            ExtractRejection::NoPaging => {
                f.write_str("the operation has no `x-paging`, so there is no paging to extract")
            }
            ExtractRejection::TypeMismatch { what, error } => {
                write!(
                    f,
                    "the handler's {what} type does not match the document: {error}"
                )
            }
        }
    }
}

impl std::error::Error for ExtractRejection {}

impl IntoResponse for ExtractRejection {
    fn into_response(self) -> Response {
        let detail = self.to_string();
        tracing::error!(target: "oasgate::rejection", %detail, "an extractor does not match the document");
        Problem::new(ProblemKind::ExtractorMismatch, detail)
            .to_response()
            .map(axum_core::body::Body::from)
    }
}

fn validated(parts: &Parts) -> Result<&Validated, ExtractRejection> {
    parts
        .extensions
        .get::<Validated>()
        .ok_or(ExtractRejection::NotValidated)
}

fn mismatch(what: &'static str, error: serde_json::Error) -> ExtractRejection {
    ExtractRejection::TypeMismatch { what, error }
}

impl<T, S> FromRequestParts<S> for Valid<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let v = validated(parts)?;
        let mut merged = Map::new();
        for values in [&v.cookie, &v.header, &v.query, &v.path] {
            merged.extend(values.iter().map(|(k, v)| (k.to_owned(), v.clone())));
        }
        serde_json::from_value(Value::Object(merged))
            .map(Valid)
            .map_err(|e| mismatch("parameters", e))
    }
}

impl<T, S> FromRequestParts<S> for ValidBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let body = validated(parts)?
            .body_as()
            .ok_or(ExtractRejection::NoReadBody)?;
        body.map(ValidBody).map_err(|e| mismatch("body", e))
    }
}

impl<S> FromRequestParts<S> for Paging
where
    S: Send + Sync,
{
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Paging>()
            .cloned()
            .ok_or(ExtractRejection::NoPaging)
    }
}
