#![doc = include_str!("lib.md")]

pub mod body;
pub mod config;
pub mod dates;
#[cfg(feature = "describe")]
pub mod describe;
#[cfg(test)]
mod doc_pages;
mod error;
#[cfg(feature = "axum")]
pub mod extract;
mod future;
mod layer;
pub mod models;
mod options;
pub mod paging;
pub mod params;
pub mod path;
mod pattern;
mod plan;
pub mod problem;
mod request;
pub mod response;
pub mod router;
pub mod security;
pub mod serve;
mod service;
pub mod spec;
mod suggest;
mod validated;

pub use error::{BuildError, BuildProblem, BuildWarning, WarningCase};
pub use future::ResponseFuture;
pub use layer::OpenApiLayer;
pub use options::{DocsUi, Formatter, Options, PagingMode, UndeclaredParams, UnknownRoutes};
pub use paging::{Paging, SortKey};
pub use path::PathNormalization;
pub use problem::{FieldCode, FieldError, Problem, ProblemKind, Rejection};
pub use response::{ResponseBody, ResponseValidation};
pub use serve::PeerAddr;
pub use service::OpenApi;
pub use spec::{Document, Version};
pub use validated::{ParamIter, ParamValues, Validated};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/swagger2.md")]
struct Swagger2Doctests;

#[cfg(all(doctest, feature = "axum", feature = "jwt"))]
#[doc = include_str!("../docs/layer.md")]
struct LayerGuideDoctests;

#[cfg(all(doctest, feature = "describe-axum"))]
#[doc = include_str!("../docs/code-first.md")]
struct CodeFirstGuideDoctests;
