//! Integration tests: the layer in front of real services.

// Table rows are tuples; naming each row type would not make them clearer.
#![allow(clippy::type_complexity)]

mod bodies;
mod config;
mod defects;
#[cfg(feature = "describe")]
mod describe;
#[cfg(feature = "describe-axum")]
mod described_router;
mod differentials;
mod documents;
mod documents32;
mod extract;
mod girder;
#[cfg(feature = "jwt")]
mod jwt;
mod leaks;
mod limits;
mod methods_32;
mod params;
mod params32;
mod paths;
mod patterns;
mod problems;
mod properties;
mod regressions;
mod responses;
mod routing;
mod schema_ids;
mod security;
mod serve;
mod smoke;
mod streams;
mod support;
mod swagger2;
