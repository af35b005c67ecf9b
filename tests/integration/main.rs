//! Integration tests: the layer in front of real services.

mod support;
mod smoke;
