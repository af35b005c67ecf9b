//! The `oasgate` binary for real: a real upstream, real sockets on 127.0.0.1, real nginx.

mod forward_auth;
mod nginx;
mod proxy;
mod support;
mod tools;
