//! A bare upstream for measuring `oasgate serve`: answers every request with 200 and the
//! same small JSON body, without validating anything, so calling it directly and through the
//! proxy differ only by what the proxy adds.
//!
//! ```text
//! cargo run --release --example upstream -- --listen 127.0.0.1:3000
//! oasgate serve --spec benches/fixtures/bench.yaml --upstream http://127.0.0.1:3000
//! ```
//!
//! `--delay-ms N` makes every answer wait N milliseconds first (a timer, no CPU), like a
//! service that waits on its database: the case where a proxy's own cost is small beside the
//! service's.
//!
//! `--spec DOC` puts the [`OpenApiLayer`] for DOC in front of that same service, in the same
//! process: the one difference between the two is what the layer adds (invalid requests get
//! the layer's problem answers; valid ones reach the fixed answer).
//!
//! `scripts/proxy-bench.sh` compares the bare upstream with the proxy in front of it, and
//! `scripts/layer-load.sh` the bare upstream with itself behind the layer, both with `wrk`.

use std::convert::Infallible;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::service_fn;

const USAGE: &str = "\
usage: upstream [--listen ADDR] [--delay-ms N] [--spec DOC]

Answers every request with 200 and a fixed JSON body.

options:
  --listen ADDR    address to listen on (default 127.0.0.1:3000; port 0 picks a free one)
  --delay-ms N     wait N milliseconds before each answer (default 0)
  --spec DOC       validate requests against DOC (an OpenAPI or Swagger 2.0 document) first,
                   with oasgate's layer and its default options
  -h, --help       print this help";

/// What every request gets.
const BODY: &[u8] = br#"{"items":[{"id":1,"name":"walnut desk","price_cents":24900}],"next":null}"#;

/// What the command line asks for.
struct Args {
    listen: String,
    delay: Duration,
    spec: Option<PathBuf>,
}

/// The arguments after the program name; `Ok(None)` asks for help.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        listen: "127.0.0.1:3000".to_owned(),
        delay: Duration::ZERO,
        spec: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => parsed.listen = args.next().ok_or("--listen needs an address")?,
            "--delay-ms" => {
                let text = args.next().ok_or("--delay-ms needs a number")?;
                let ms: u64 = text
                    .parse()
                    .map_err(|_| format!("--delay-ms: `{text}` is not a whole number"))?;
                parsed.delay = Duration::from_millis(ms);
            }
            "--spec" => parsed.spec = Some(args.next().ok_or("--spec needs a path")?.into()),
            _ => return Err(format!("unexpected argument `{arg}`")),
        }
    }
    Ok(Some(parsed))
}

#[tokio::main]
async fn main() -> ExitCode {
    let Args {
        listen,
        delay,
        spec,
    } = match parse_args(std::env::args().skip(1)) {
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
    let listener = match TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(spec) = spec else {
        return serve(listener, service_fn(move |request| answer(request, delay))).await;
    };
    // BuildError's Display lists every problem with its file and line: print it whole.
    let layer = match Document::from_path(&spec).and_then(OpenApiLayer::new) {
        Ok(layer) => layer,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // The layer rebuilds a body it has read from bytes, which hyper's `Incoming` cannot be,
    // so requests are mapped into oasgate's body first, as any hyper service behind it does.
    let validating = ServiceBuilder::new()
        .map_request(|request: Request<Incoming>| request.map(Body::new))
        .layer(layer)
        .service_fn(move |request| answer(request, delay));
    serve(listener, validating).await
}

/// Serves `service` on every connection `listener` accepts, for ever.
async fn serve<S, B>(listener: TcpListener, service: S) -> ExitCode
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>,
    S: Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // The bound address, so `--listen 127.0.0.1:0` is usable by scripts.
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(error) => {
            eprintln!("cannot read the bound address: {error}");
            return ExitCode::FAILURE;
        }
    }

    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Same socket option as the proxy's listener, so the comparison is fair.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection ended with an error: {error}");
            }
        });
    }
}

/// 200 with [`BODY`], whatever was asked, after `delay`.
async fn answer<B>(_: Request<B>, delay: Duration) -> Result<Response<Full<Bytes>>, Infallible> {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
