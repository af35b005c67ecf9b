//! Integration tests: the layer in front of real services.

// Table rows are tuples; naming each row type would not make them clearer.
#![allow(clippy::type_complexity)]

mod bodies;
mod documents;
mod extract;
mod girder;
mod params;
mod problems;
mod routing;
mod security;
mod serve;
mod smoke;
mod support;
