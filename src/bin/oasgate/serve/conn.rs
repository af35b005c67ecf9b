//! One client connection: TLS when the listener has a certificate, then HTTP/2 or HTTP/1.1.
//!
//! Over TLS the protocol is the one ALPN agreed on (`h2`, else HTTP/1.1). In cleartext a
//! connection opening with the HTTP/2 preface is HTTP/2 with prior knowledge (h2c, RFC 9113
//! §3.3); any other is HTTP/1.1. The answer always goes back in the client's protocol.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Request, Version, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use std::net::SocketAddr;
use tokio::net::TcpStream;

use super::{Gateway, Settings, Shared, handle, io, linger, proxy};

/// "the connection preface starts with the string `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`"
/// (RFC 9113 §3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `stream` until it closes or the gateway shuts down.
pub(super) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    gateway: Arc<Gateway>,
    shared: Arc<Shared>,
    watcher: Watcher,
) {
    let settings = &gateway.settings;
    // The handshake and the cleartext preface are part of the request's head: they get the
    // header-read timeout.
    let opening = settings.header_read_timeout;
    let over_tls = gateway.tls.is_some();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        if over_tls {
            request.extensions_mut().insert(proxy::OverTls);
        }
        handle(shared.clone(), peer, request)
    });
    let result = match &gateway.tls {
        Some(config) => {
            let stream = linger(stream, settings);
            let stream = io::WriteTimeout::new(stream, settings.body_idle_timeout);
            let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
            let stream = match tokio::time::timeout(opening, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {error}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake not done within {opening:?}");
                    return;
                }
            };
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            let io = TokioIo::new(stream);
            if h2 {
                watcher
                    .watch(gateway.http2().serve_connection(io, service))
                    .await
            } else {
                watcher
                    .watch(gateway.http1().serve_connection(io, service))
                    .await
            }
        }
        None => {
            let Some(h2) = prior_knowledge(&stream, opening).await else {
                tracing::debug!(%peer, "no request within {opening:?}");
                return;
            };
            let stream = linger(stream, settings);
            let io = TokioIo::new(io::WriteTimeout::new(stream, settings.body_idle_timeout));
            if h2 {
                watcher
                    .watch(gateway.http2().serve_connection(io, service))
                    .await
            } else {
                watcher
                    .watch(gateway.http1().serve_connection(io, service))
                    .await
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, "connection ended with an error: {error}");
    }
}

/// The connection's stream, lingering on close (see `linger`) so an early answer reaches a
/// client still sending its body.
fn linger(stream: TcpStream, settings: &Settings) -> linger::Lingering<TcpStream> {
    linger::Lingering::new(stream, settings.lingering_time, settings.lingering_timeout)
}

/// Whether a cleartext connection opens with the HTTP/2 preface; `None` when nothing
/// telling arrives within `limit`. Reads nothing: the bytes stay for the protocol's server.
async fn prior_knowledge(stream: &TcpStream, limit: Duration) -> Option<bool> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = [0u8; PREFACE.len()];
    // A client sends the preface in one write; a few rounds cover one split by the network.
    for _ in 0..1000 {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut seen)).await {
            Ok(Ok(n)) => n,
            // A read error or end of stream: HTTP/1.1's server reports it as it would.
            Ok(Err(_)) => return Some(false),
            Err(_) => return None,
        };
        if n == 0 || seen[..n] != PREFACE[..n] {
            return Some(false);
        }
        if n == PREFACE.len() {
            return Some(true);
        }
        // Part of the preface: the rest is on its way.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

/// Gives an HTTP/2 request the `Host` header its `:authority` stands for: "An intermediary
/// that forwards a request over HTTP/1.1 MUST construct a Host header field if one is not
/// present in a request by copying the value of the `:authority` pseudo-header field"
/// (RFC 9113 §8.3.1). The front checks, the layer and the forwarded headers then read one
/// field whatever the protocol.
pub(super) fn host_from_authority(request: &mut Request<Incoming>) {
    if request.version() != Version::HTTP_2 || request.headers().contains_key(header::HOST) {
        return;
    }
    let Some(authority) = request.uri().authority() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
        request.headers_mut().insert(header::HOST, value);
    }
}
