//! Serves any OpenAPI document with oasgate in front of an echo service, so you can see what
//! a handler behind the layer receives.
//!
//! ```text
//! cargo run --example hyper -- tests/fixtures/oai/v3.0-petstore-expanded.yaml
//! curl -i 'http://127.0.0.1:8080/v2/pets?limit=5&tags=a'   # 200, echoes the coerced query
//! curl -i 'http://127.0.0.1:8080/v2/pets?limit=x'          # 400 problem+json from the layer
//! ```
//!
//! Requests that pass validation are answered with `{method, path, query, headers, body,
//! validated}`: `validated` is the [`Validated`] extension the layer attached.

use std::convert::Infallible;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer, Options, PeerAddr, UndeclaredParams, Validated};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
usage: hyper SPEC [--listen ADDR] [--prefix PATH] [--reject-undeclared] [--header-read-timeout SECS]

Serves SPEC (an OpenAPI 3.0/3.1 or Swagger 2.0 YAML or JSON file) with oasgate in front of an echo service.

options:
  --listen ADDR          address to listen on (default 127.0.0.1:8080; port 0 picks a free one)
  --prefix PATH          path prefix put before the spec's server base path
  --reject-undeclared    answer 400 for query parameters the operation does not declare
  --trusted-proxy CIDR   believe Forwarded / X-Forwarded-* from these peers when serving
                         the document's `servers` (repeatable, e.g. 127.0.0.1/32)
  --header-read-timeout SECS
                         close a connection whose request head takes longer (default 30)
  -h, --help             print this help

RUST_LOG sets the log filter (default info).";

/// The command line, parsed.
struct Args {
    spec: PathBuf,
    listen: String,
    prefix: Option<String>,
    reject_undeclared: bool,
    trusted_proxies: Vec<String>,
    header_read_timeout: Duration,
}

/// Parses the arguments after the program name; `Ok(None)` means help was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut spec = None;
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut prefix = None;
    let mut reject_undeclared = false;
    let mut trusted_proxies = Vec::new();
    let mut header_read_timeout = Duration::from_secs(30);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--prefix" => prefix = Some(args.next().ok_or("--prefix needs a path")?),
            "--reject-undeclared" => reject_undeclared = true,
            "--trusted-proxy" => {
                trusted_proxies.push(args.next().ok_or("--trusted-proxy needs a CIDR")?)
            }
            "--header-read-timeout" => {
                let secs = args.next().ok_or("--header-read-timeout needs seconds")?;
                header_read_timeout = secs
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0)
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or(format!(
                        "--header-read-timeout: `{secs}` is not a positive number of seconds"
                    ))?;
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ if spec.is_some() => return Err(format!("unexpected argument `{arg}`")),
            _ => spec = Some(PathBuf::from(arg)),
        }
    }
    let spec = spec.ok_or("missing SPEC, the path of an OpenAPI document")?;
    Ok(Some(Args {
        spec,
        listen,
        prefix,
        reject_undeclared,
        trusted_proxies,
        header_read_timeout,
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr so stdout carries only the `listening on` line.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };

    let mut options = Options::default();
    if let Some(prefix) = &args.prefix {
        options = options.prefix(prefix.as_str());
    }
    if args.reject_undeclared {
        options = options.undeclared_query(UndeclaredParams::Reject);
    }
    if !args.trusted_proxies.is_empty() {
        options = options.trusted_proxies(&args.trusted_proxies);
    }
    // BuildError's Display lists every problem, each with its file and line: print it whole.
    let layer = match Document::from_path(&args.spec)
        .and_then(|doc| OpenApiLayer::with_options(doc, options))
    {
        Ok(layer) => layer,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };

    // The layer rebuilds a body it has read from bytes, which hyper's `Incoming` cannot be,
    // so requests are mapped into oasgate's boxed body first.
    let service = ServiceBuilder::new()
        .map_request(|request: Request<Incoming>| request.map(Body::new))
        .layer(layer)
        .service_fn(echo);

    let listener = match TcpListener::bind(&args.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    // Print the bound address, not the asked one, so `--listen 127.0.0.1:0` is usable.
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(error) => {
            eprintln!("cannot read the bound address: {error}");
            return ExitCode::FAILURE;
        }
    }

    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!("accept failed: {error}");
                continue;
            }
        };
        // The peer's address, for the layer to decide whether forwarded headers set the
        // served document's `servers` (`trusted_proxies`).
        let service = TowerToHyperService::new(
            ServiceBuilder::new()
                .map_request(move |mut request: Request<Incoming>| {
                    request.extensions_mut().insert(PeerAddr(peer));
                    request
                })
                .service(service.clone()),
        );
        let header_read_timeout = args.header_read_timeout;
        tokio::spawn(async move {
            // hyper enforces the header-read timeout only with a timer: without one, a client
            // trickling its headers byte by byte would hold the connection for ever.
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%peer, "connection ended with an error: {error}");
            }
        });
    }
}

/// Answers 200 with what the request looks like after the layer let it through.
async fn echo(request: Request<Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let mut response = Response::new(Full::from(format!("cannot read the body: {error}")));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    let mut headers = Map::new();
    for name in parts.headers.keys() {
        // Repeated headers are joined the way HTTP allows them to be combined.
        let values: Vec<_> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        headers.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
    }
    let echo = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
        "validated": parts.extensions.get::<Validated>(),
    });
    let mut response = Response::new(Full::from(echo.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
