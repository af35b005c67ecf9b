//! Integration tests: the layer in front of real services.

mod bodies;
mod documents;
mod params;
mod routing;
mod security;
mod smoke;
mod support;
