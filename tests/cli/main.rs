//! The `oasgate` binary for real: a real upstream, real sockets on 127.0.0.1, real nginx
//! and Caddy.

// Table rows are tuples; naming each row type would not make them clearer.
#![allow(clippy::type_complexity)]

mod access;
mod attacks;
mod caddy;
mod cors;
mod cors_browser;
mod documents32;
mod forward_auth;
mod framing;
#[cfg(target_os = "linux")]
#[path = "../support/memory.rs"]
mod memory;
mod methods;
mod methods_32;
mod nginx;
mod params32;
mod proxy;
mod responses;
mod schema_ids;
mod slow_clients;
mod startup;
mod streams;
mod support;
mod swagger2;
mod tls;
mod tools;
mod watch;
