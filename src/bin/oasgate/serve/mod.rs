//! `oasgate serve`: the listener, the gateway behind it, signals, reloads and shutdown.
//!
//! Each request goes to the current [`Gateway`]: the compiled layer around the forwarding
//! service (proxy mode) or the head check (forward-auth mode). SIGHUP builds a new gateway
//! from the config file and the document; if that fails, the error is logged and the old one
//! keeps serving; with `watch` on, a change to the config file or a file of the document does
//! the same. SIGTERM/SIGINT stop accepting and wait for in-flight requests up to the drain
//! deadline. At most `max_connections` connections are open at once: at the cap the listener
//! is not polled, so new connections wait in the kernel's accept queue.
//!
//! The signal handlers are installed before the document compiles: a SIGHUP during start-up
//! becomes a reload once serving, a SIGTERM or SIGINT an exit. Before a request reaches the
//! gateway, a missing, repeated or invalid `Host` and (proxy mode) a GET or HEAD with a body
//! answer 400. A client that takes nothing of its answer for `body_idle_timeout` is
//! disconnected. With `server.cors` (proxy mode), tower-http's `CorsLayer` answers preflights
//! and decorates every answer of the API ([`cors`]).

mod access;
mod body;
mod builder;
mod conn;
mod cors;
mod forward_auth;
mod io;
mod linger;
mod metrics;
mod proxy;
mod tls;
mod upstream;
mod workers;

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::server::graceful::GracefulShutdown;
use oasgate::config::{
    Config, CorsSection, ForwardAuthHeaders, LogFormat, Mode, Network, Upstream,
};
use oasgate::{Document, OpenApiLayer, Problem, ProblemKind};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use self::metrics::{Metrics, Outcome};
use crate::ServeArgs;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The response body of every answer: streamed from the upstream, or made here.
pub type ProxyBody = BoxBody<Bytes, BoxError>;

/// The request header carrying the request's id, propagated or created.
const REQUEST_ID: &str = "x-request-id";

/// Everything `serve` needs, from the config file, the environment and the flags.
#[derive(Debug, Clone)]
struct Settings {
    spec: PathBuf,
    enforce: bool,
    listen: SocketAddr,
    upstream: Option<Upstream>,
    mode: Mode,
    auth_prefix: String,
    forward_auth_headers: Option<ForwardAuthHeaders>,
    connect_timeout: Duration,
    upstream_timeout: Duration,
    upstream_idle_timeout: Duration,
    body_idle_timeout: Duration,
    request_timeout: Option<Duration>,
    drain_timeout: Duration,
    metrics_path: Option<String>,
    healthz_path: Option<String>,
    trusted_proxies: Arc<Vec<Network>>,
    log_format: LogFormat,
    header_read_timeout: Duration,
    max_headers: usize,
    max_header_size: usize,
    max_connections: usize,
    /// The runtime's worker threads; `None`: one per core.
    workers: Option<usize>,
    watch: bool,
    watch_interval: Duration,
    /// The listener's certificate and key files.
    tls: Option<(PathBuf, PathBuf)>,
    http2_max_concurrent_streams: u32,
    http2_max_header_list_size: u32,
    upstream_tls: tls::UpstreamTls,
    access_log: bool,
    lingering_time: Duration,
    lingering_timeout: Duration,
    cors: Option<CorsSection>,
}

/// Reads the config file (if any), the environment and the flags, in increasing precedence.
fn settings(args: &ServeArgs) -> Result<(Config, Settings), String> {
    let mut config = match &args.config {
        Some(path) => Config::from_path(path).map_err(|e| e.to_string())?,
        None => {
            let mut config = Config::default();
            config
                .apply_env(std::env::vars())
                .map_err(|e| e.to_string())?;
            config
        }
    };
    if let Some(spec) = &args.spec {
        // A flag's path is the user's, relative to the working directory.
        config.spec = Some(std::path::absolute(spec).unwrap_or_else(|_| spec.clone()));
    }
    if let Some(mode) = args.response_validation {
        config.options.response_validation = Some(mode);
    }
    if args.strict {
        config.options.strict = Some(true);
    }
    if let Some(size) = args.response_validation_max_body {
        config.options.response_validation_max_body = Some(size);
    }
    if let Some(share) = args.response_validation_sample {
        config.options.response_validation_sample = Some(share);
    }
    if let Some(upstream) = &args.upstream {
        let upstream = upstream
            .parse::<Upstream>()
            .map_err(|e| format!("--upstream: {e}"))?;
        config.server.upstream = Some(upstream);
    }
    // A flag's path is the user's, relative to the working directory; the file's, relative to
    // the config file's directory.
    let flag_path = |path: &PathBuf| std::path::absolute(path).unwrap_or_else(|_| path.clone());
    let file_path = |path: &Option<PathBuf>| path.as_deref().map(|p| config.resolve(p));
    let tls_cert = args
        .tls_cert
        .as_ref()
        .map(flag_path)
        .or_else(|| file_path(&config.server.tls_cert));
    let tls_key = args
        .tls_key
        .as_ref()
        .map(flag_path)
        .or_else(|| file_path(&config.server.tls_key));
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(
                "server.tls_cert is given without server.tls_key: expected both, or neither"
                    .to_owned(),
            );
        }
        (None, Some(_)) => {
            return Err(
                "server.tls_key is given without server.tls_cert: expected both, or neither"
                    .to_owned(),
            );
        }
    };
    let upstream_tls = tls::UpstreamTls {
        ca: args
            .upstream_ca
            .as_ref()
            .map(flag_path)
            .or_else(|| file_path(&config.server.upstream_ca)),
        client_cert: match (
            file_path(&config.server.upstream_client_cert),
            file_path(&config.server.upstream_client_key),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err("server.upstream_client_cert and server.upstream_client_key go together: expected both, or neither".to_owned());
            }
        },
    };
    let server = &config.server;
    let spec = config
        .spec_path()
        .ok_or("no document: give --spec PATH, or `spec` in the config file")?;
    let mode = args.mode.or(server.mode).unwrap_or_default();
    if mode == Mode::Proxy && server.upstream.is_none() {
        return Err(
            "proxy mode needs an upstream: give --upstream URL, or `server.upstream` in the config file"
                .to_owned(),
        );
    }
    if mode == Mode::ForwardAuth && server.cors.is_some() {
        // The gateway in front talks to the browser and forwards only what oasgate allowed:
        // the CORS headers of the answer are its to add.
        return Err(
            "server.cors does not apply in forward-auth mode: the gateway in front \
                    answers the browser, so set up CORS there; expected no `cors` section, or \
                    `mode: proxy`"
                .to_owned(),
        );
    }
    let seconds = |value: Option<oasgate::config::Seconds>, default: u64| {
        value.map_or(Duration::from_secs(default), |s| s.0)
    };
    let endpoint = |value: &Option<oasgate::config::Endpoint>, default: &str| match value {
        Some(endpoint) => endpoint.path().map(str::to_owned),
        None => Some(default.to_owned()),
    };
    let settings = Settings {
        spec,
        enforce: config.options.enforce.unwrap_or(true),
        listen: args
            .listen
            .or(server.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
        upstream: server.upstream.clone(),
        mode,
        auth_prefix: server.auth_prefix.clone().unwrap_or_default(),
        forward_auth_headers: args.forward_auth_headers.or(server.forward_auth_headers),
        connect_timeout: seconds(server.connect_timeout, 5),
        upstream_timeout: seconds(server.upstream_timeout, 30),
        upstream_idle_timeout: seconds(
            args.upstream_idle_timeout
                .or(server.upstream_idle_timeout)
                .map(|t| t.0),
            90,
        ),
        body_idle_timeout: seconds(
            args.body_idle_timeout
                .or(server.body_idle_timeout)
                .map(|t| t.0),
            30,
        ),
        request_timeout: args
            .request_timeout
            .or(server.request_timeout)
            .map(|t| t.0.0),
        drain_timeout: seconds(server.drain_timeout, 10),
        metrics_path: endpoint(&server.metrics_path, "/metrics"),
        healthz_path: endpoint(&server.healthz_path, "/healthz"),
        trusted_proxies: Arc::new(
            server
                .trusted_proxies
                .as_ref()
                .map(|l| l.0.clone())
                .unwrap_or_default(),
        ),
        log_format: args.log_format.or(server.log_format).unwrap_or_default(),
        header_read_timeout: seconds(
            args.header_read_timeout
                .or(server.header_read_timeout)
                .map(|t| t.0),
            30,
        ),
        max_headers: args.max_headers.or(server.max_headers).map_or(100, |n| n.0),
        max_header_size: args
            .max_header_size
            .or(server.max_header_size)
            .map_or(64 * 1024, |size| size.0.as_usize()),
        max_connections: args
            .max_connections
            .or(server.max_connections)
            .map_or(1024, |n| n.0),
        workers: args.workers.or(server.workers).map(|n| n.0),
        watch: args.watch || server.watch.unwrap_or(false),
        watch_interval: seconds(
            args.watch_interval.or(server.watch_interval).map(|t| t.0),
            2,
        ),
        tls,
        http2_max_concurrent_streams: server
            .http2_max_concurrent_streams
            .map_or(100, |n| u32::try_from(n.0).unwrap_or(u32::MAX)),
        http2_max_header_list_size: server.http2_max_header_list_size.map_or(64 * 1024, |size| {
            u32::try_from(size.0.as_usize()).unwrap_or(u32::MAX)
        }),
        upstream_tls,
        access_log: !args.no_access_log && server.access_log.unwrap_or(true),
        lingering_time: seconds(
            args.lingering_time.or(server.lingering_time).map(|t| t.0),
            30,
        ),
        lingering_timeout: seconds(
            args.lingering_timeout
                .or(server.lingering_timeout)
                .map(|t| t.0),
            5,
        ),
        cors: server.cors.clone(),
    };
    Ok((config, settings))
}

/// One compiled configuration: what answers requests until the next successful reload.
struct Gateway {
    settings: Settings,
    handler: Handler,
    /// The config file and every file the document was read from.
    watched: Vec<PathBuf>,
    /// The listener's TLS settings, read per accepted connection: a reload swaps them.
    tls: Option<Arc<rustls::ServerConfig>>,
    /// `server.cors`, around everything answered for the API.
    cors: Option<tower_http::cors::CorsLayer>,
}

enum Handler {
    /// Boxed: the client and its TLS settings make it much larger than the other.
    Proxy(Box<proxy::Service>),
    ForwardAuth(OpenApiLayer),
}

impl Gateway {
    /// `workers` is how many threads serve: the proxy keeps an upstream pool for each.
    fn build(
        args: &ServeArgs,
        counts: &Arc<metrics::ResponseCounts>,
        workers: usize,
    ) -> Result<Self, String> {
        let (config, settings) = settings(args)?;
        let tls = match &settings.tls {
            Some((cert, key)) => Some(tls::server_config(cert, key)?),
            None => None,
        };
        // Loaded here rather than through `Config::layer` to learn which files it was read from.
        let document = Document::from_path(&settings.spec).map_err(|e| e.to_string())?;
        let counts = counts.clone();
        let mut options = config
            .to_options()
            .response_observer(Arc::new(move |report| counts.observe(report)));
        if settings.mode == Mode::Proxy {
            // What the proxy forwards is marked `Origin::Upstream`: an invalid answer is a 502,
            // and the served document says so.
            options = options.forwards_upstream(true);
        }
        if let Some(verifier) = config.verifier().map_err(|e| e.to_string())? {
            options = options.verifier(verifier);
        }
        let sources = document.source_paths().to_vec();
        // Handed over: the build reuses its tree rather than copying it.
        let layer = OpenApiLayer::with_options(document, options).map_err(|e| e.to_string())?;
        // The certificate files are watched too: a renewed certificate is picked up.
        let watched = args
            .config
            .iter()
            .chain(&sources)
            .cloned()
            .chain(
                settings
                    .tls
                    .iter()
                    .flat_map(|(cert, key)| [cert.clone(), key.clone()]),
            )
            .chain(settings.upstream_tls.ca.iter().cloned())
            .chain(
                settings
                    .upstream_tls
                    .client_cert
                    .iter()
                    .flat_map(|(cert, key)| [cert.clone(), key.clone()]),
            )
            .collect();
        let handler = match (settings.mode, &settings.upstream) {
            (Mode::Proxy, Some(upstream)) => {
                let pools = proxy::pools(upstream, &settings, workers)?;
                Handler::Proxy(Box::new(proxy::service(layer, pools, upstream, &settings)))
            }
            _ => Handler::ForwardAuth(layer),
        };
        let cors = settings.cors.as_ref().map(cors::layer);
        Ok(Self {
            settings,
            handler,
            watched,
            tls,
            cors,
        })
    }

    /// The HTTP/2 settings of a new connection.
    fn http2(&self) -> http2::Builder<hyper_util::rt::TokioExecutor> {
        let settings = &self.settings;
        let mut builder = http2::Builder::new(hyper_util::rt::TokioExecutor::new());
        // A peer silent for `header_read_timeout` is pinged, and one that does not answer
        // within as long again is disconnected: a vanished client frees its slot.
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .max_concurrent_streams(settings.http2_max_concurrent_streams)
            .max_header_list_size(settings.http2_max_header_list_size)
            .keep_alive_interval(settings.header_read_timeout)
            .keep_alive_timeout(settings.header_read_timeout);
        builder
    }

    /// The HTTP/1 settings of a new connection.
    fn http1(&self) -> http1::Builder {
        let settings = &self.settings;
        let mut builder = http1::Builder::new();
        // Without a timer hyper does not enforce the header-read timeout at all.
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .max_header_size(settings.max_header_size);
        // 100 is hyper's own default, kept on the stack; any other count costs a heap
        // allocation per request.
        if settings.max_headers != 100 {
            builder.max_headers(settings.max_headers);
        }
        builder
    }
}

/// What every connection shares.
struct Shared {
    args: ServeArgs,
    current: RwLock<Arc<Gateway>>,
    metrics: Metrics,
    ids: RequestIds,
    /// How many threads serve (each proxy keeps an upstream pool per thread, and `/metrics`
    /// reports it); fixed until restart.
    workers: usize,
    /// Held while a reload runs, so that SIGHUP and the file watcher never build at once.
    reloading: Mutex<()>,
}

impl Shared {
    fn current(&self) -> Arc<Gateway> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Rebuilds the gateway; on failure logs why and keeps the one that serves.
    fn reload(&self) {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let started = Instant::now();
        let old = self.current();
        match Gateway::build(&self.args, &self.metrics.responses, self.workers) {
            Ok(gateway) if gateway.tls.is_some() != old.tls.is_some() => {
                self.metrics.reloaded(false);
                tracing::error!(
                    "reload failed; the previous settings keep serving:\nserver.tls_cert: turning \
                     TLS on or off takes a restart"
                );
            }
            Ok(gateway) => {
                if gateway.settings.listen != old.settings.listen {
                    tracing::warn!(
                        "the listen address changed to {}; it takes effect on restart",
                        gateway.settings.listen
                    );
                }
                if gateway.settings.max_connections != old.settings.max_connections {
                    tracing::warn!(
                        "max_connections changed to {}; it takes effect on restart",
                        gateway.settings.max_connections
                    );
                }
                if gateway.settings.workers != old.settings.workers {
                    tracing::warn!("workers changed; it takes effect on restart");
                }
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(gateway);
                self.metrics.reloaded(true);
                tracing::info!(elapsed = ?started.elapsed(), "reloaded");
            }
            Err(error) => {
                self.metrics.reloaded(false);
                tracing::error!("reload failed; the previous document keeps serving:\n{error}");
            }
        }
    }
}

/// Runs `oasgate serve` to completion.
pub fn run(args: ServeArgs) -> ExitCode {
    // Settings first, so that the log format is known; their errors go to stderr as they are.
    let (log_format, workers) = match settings(&args) {
        Ok((_, settings)) => (settings.log_format, settings.workers),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let _flushed_on_exit = init_logging(log_format);
    return_freed_memory();
    // Accepting, signals and reloads; the connections are served by the workers' runtimes.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve(args, workers::count(workers)));
    // A build or reload still running (a signal came during it) is not waited for.
    runtime.shutdown_background();
    code
}

/// Starts jemalloc's background threads, which hand the pages freed memory sat on back to the
/// system after a few seconds (jemalloc's default decay): what a document's build freed
/// (about half of what it left resident before, see docs/performance.md), and a reload's old
/// gateway once it is dropped. Without them, jemalloc would purge only as it allocates.
#[cfg(not(target_env = "msvc"))]
fn return_freed_memory() {
    if let Err(error) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(target: "oasgate::serve", "freed memory stays resident: jemalloc's background threads did not start ({error})");
    }
}

/// The system's allocator serves the binary here (jemalloc does not build with MSVC).
#[cfg(target_env = "msvc")]
fn return_freed_memory() {}

/// Logs to stderr, every line at once but the access log's, which are written in batches
/// by [`access`] in the same format. The guard writes what waits when dropped.
fn init_logging(format: LogFormat) -> access::FlushOnDrop {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let guard = access::Batched::start();
    let ansi = std::io::stderr().is_terminal();
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Json => {
            access::set_format(access::Format::Json);
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .json()
                        .with_writer(std::io::stderr),
                )
                .init();
        }
        LogFormat::Text => {
            access::set_format(access::Format::Text { ansi });
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(ansi)
                        .with_writer(std::io::stderr),
                )
                .init();
        }
    }
    guard
}

async fn serve(args: ServeArgs, workers: usize) -> ExitCode {
    // The handlers go in before the document is compiled (a large one takes a while): a
    // SIGHUP's default action ends the process, and one sent during start-up must not.
    let (Ok(mut hangup), Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("error: cannot install signal handlers");
        return ExitCode::FAILURE;
    };
    tracing::info!("starting: loading and compiling the document");
    let build_args = args.clone();
    let metrics = Metrics::default();
    let counts = metrics.responses.clone();
    let mut building = builder::run(move || Gateway::build(&build_args, &counts, workers));
    // A SIGHUP now is remembered: the gateway reloads once it serves, reading what the
    // sender changed, whether or not this build saw the change.
    let mut reload_when_serving = false;
    let built = loop {
        tokio::select! {
            built = &mut building => break built,
            _ = hangup.recv() => {
                tracing::info!("SIGHUP during start-up: reloading once serving");
                reload_when_serving = true;
            }
            _ = terminate.recv() => {
                tracing::info!("SIGTERM during start-up: exiting");
                return ExitCode::SUCCESS;
            }
            _ = interrupt.recv() => {
                tracing::info!("SIGINT during start-up: exiting");
                return ExitCode::SUCCESS;
            }
        }
    };
    let gateway = match built {
        Ok(Ok(gateway)) => gateway,
        Ok(Err(error)) => {
            // Logged once, on standard error like every log line (and as one JSON record with
            // `--log-format json`).
            tracing::error!("cannot start:\n{error}");
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("error: building the gateway failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut workers = match workers::Workers::start(workers) {
        Ok(workers) => workers,
        Err(error) => {
            eprintln!("error: cannot start the worker threads: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listen = gateway.settings.listen;
    let listener = match TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(listen);
    // The files' first stamps are taken before the gateway says it listens: an edit made once
    // it answers is then always a change, however late the watcher's first round would run.
    let baseline = if gateway.settings.watch {
        Some(stamps(gateway.watched.clone()).await)
    } else {
        None
    };
    tracing::info!(
        listen = %bound,
        tls = gateway.tls.is_some(),
        mode = ?gateway.settings.mode,
        spec = %gateway.settings.spec.display(),
        upstream = gateway.settings.upstream.as_ref().map(|u| u.0.to_string()),
        enforce = gateway.settings.enforce,
        access_log = gateway.settings.access_log,
        "serving"
    );
    // The bound address on stdout, so `--listen 127.0.0.1:0` is usable by scripts and tests.
    let scheme = if gateway.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("listening on {scheme}://{bound}");
    let _ = std::io::stdout().flush();

    let shared = Arc::new(Shared {
        args,
        current: RwLock::new(Arc::new(gateway)),
        metrics,
        ids: RequestIds::new(),
        workers: workers.len(),
        reloading: Mutex::new(()),
    });
    let watcher = tokio::spawn(watch_files(shared.clone(), baseline));
    let max_connections = shared.current().settings.max_connections;
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut warned_at_cap = None;
    if reload_when_serving {
        let shared = shared.clone();
        builder::run(move || shared.reload());
    }
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            (slot, accepted) = accept(&listener, &slots, &shared.metrics, &mut warned_at_cap) => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("accept failed: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // Handed to a worker, whose runtime registers it anew.
                let stream = match stream.into_std() {
                    Ok(stream) => stream,
                    Err(error) => {
                        tracing::debug!(%peer, "cannot hand the connection to a worker: {error}");
                        continue;
                    }
                };
                shared.metrics.connection_opened();
                let gateway = shared.current();
                let counted = shared.clone();
                let shared = shared.clone();
                let watcher = graceful.watcher();
                workers.spawn(async move {
                    match TcpStream::from_std(stream) {
                        Ok(stream) => conn::serve(stream, peer, gateway, shared, watcher).await,
                        Err(error) => tracing::debug!(%peer, "a worker cannot take the connection: {error}"),
                    }
                    counted.metrics.connection_closed();
                    drop(slot);
                });
            }
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading the config and the document");
                let shared = shared.clone();
                // Compiling a large document takes a while: keep accepting meanwhile.
                builder::run(move || shared.reload());
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    drop(listener);
    watcher.abort();
    let drain = shared.current().settings.drain_timeout;
    tracing::info!(?drain, "shutting down: draining in-flight requests");
    match tokio::time::timeout(drain, graceful.shutdown()).await {
        Ok(()) => {
            tracing::info!("all connections closed");
            ExitCode::SUCCESS
        }
        Err(_) => {
            tracing::warn!("the drain deadline passed with requests still in flight");
            ExitCode::SUCCESS
        }
    }
}

/// Waits for a free connection slot, then for a connection. At the cap the listener is left
/// alone, so the kernel queues new connections until a slot frees.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
    metrics: &Metrics,
    warned: &mut Option<Instant>,
) -> (
    OwnedSemaphorePermit,
    std::io::Result<(TcpStream, SocketAddr)>,
) {
    let slot = match slots.clone().try_acquire_owned() {
        Ok(slot) => slot,
        Err(_) => {
            metrics.cap_reached();
            // Once a minute at most: a client reconnecting in a loop must not flood the log.
            if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                tracing::warn!("max_connections reached: new connections wait until one closes");
                *warned = Some(Instant::now());
            }
            slots
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed")
        }
    };
    (slot, listener.accept().await)
}

/// What identifies a file's content cheaply: `None` when it cannot be read.
type Stamp = Option<(Option<SystemTime>, u64, u64, u64)>;

/// Stats `path`, following symbolic links (a Kubernetes ConfigMap swaps a link).
fn stamp(path: &std::path::Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok(), meta.len(), meta.dev(), meta.ino()))
}

/// Stamps of every path, taken off the async workers: a large document has thousands of files.
async fn stamps(paths: Vec<PathBuf>) -> HashMap<PathBuf, Stamp> {
    tokio::task::spawn_blocking(move || {
        paths
            .into_iter()
            .map(|path| {
                let stamp = stamp(&path);
                (path, stamp)
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// With `watch` on, stats the watched files every `watch_interval` and reloads on a change.
async fn watch_files(shared: Arc<Shared>, baseline: Option<HashMap<PathBuf, Stamp>>) {
    let mut known = baseline;
    loop {
        let gateway = shared.current();
        let interval = gateway.settings.watch_interval;
        if !gateway.settings.watch {
            known = None;
            tokio::time::sleep(interval).await;
            continue;
        }
        let watched = gateway.watched.clone();
        drop(gateway);
        let now = stamps(watched).await;
        match &known {
            Some(before) if *before != now => {
                let mut changed: Vec<String> = now
                    .iter()
                    .filter(|(path, stamp)| before.get(*path) != Some(stamp))
                    .map(|(path, _)| path.display().to_string())
                    .collect();
                changed.sort();
                tracing::info!("changed: {}; reloading", changed.join(", "));
                let reloader = shared.clone();
                let _ = builder::run(move || reloader.reload()).await;
                // Files this reload read keep their stamp from before it, so an edit made
                // while it ran is seen next round; files new to the list start from now.
                let watched = shared.current().watched.clone();
                let fresh: Vec<PathBuf> = watched
                    .iter()
                    .filter(|path| !now.contains_key(*path))
                    .cloned()
                    .collect();
                let mut after = stamps(fresh).await;
                for path in watched {
                    if let Some(stamp) = now.get(&path) {
                        after.insert(path, *stamp);
                    }
                }
                known = Some(after);
            }
            _ => known = Some(now),
        }
        tokio::time::sleep(interval).await;
    }
}

/// Answers one request: the gateway's own endpoints, then the current gateway.
async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let started = Instant::now();
    let gateway = shared.current();
    let settings = &gateway.settings;
    conn::host_from_authority(&mut request);
    if let Some((kind, detail)) = refuse_at_the_front(&request, &gateway.handler) {
        let request_id = request_id(&shared, &mut request);
        tracing::info!(
            method = %request.method(),
            path = request.uri().path(),
            request_id = request_id.to_str().ok(),
            "refused before validation: {detail}"
        );
        let mut refused = problem(kind, detail, None);
        let outcome = Outcome::ClientError(None);
        shared
            .metrics
            .record(&outcome, refused.status(), started.elapsed());
        refused.headers_mut().insert(REQUEST_ID, request_id.clone());
        if settings.access_log {
            refused = access::wrap(
                access_entry(&request, request_id, started),
                &outcome,
                refused,
            );
        }
        return Ok(refused);
    }
    let path = request.uri().path();
    if settings.metrics_path.as_deref() == Some(path) {
        return Ok(text_response(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            shared.metrics.render(shared.workers),
        ));
    }
    if settings.healthz_path.as_deref() == Some(path) {
        return Ok(text_response(
            StatusCode::OK,
            "text/plain",
            "ok\n".to_owned(),
        ));
    }
    let request_id = request_id(&shared, &mut request);
    let entry = settings
        .access_log
        .then(|| access_entry(&request, request_id.clone(), started));
    // At `debug` only: every line about a request names its `request_id` anyway, and the span
    // cost about 7 % of a proxied request's instructions (made, entered at each poll, closed).
    let span =
        tracing::debug_span!("request", id = %String::from_utf8_lossy(request_id.as_bytes()));
    // The layer reads it to decide whether forwarded headers set the served `servers`; the
    // proxy, for `X-Forwarded-For` and `Forwarded`.
    request.extensions_mut().insert(oasgate::PeerAddr(peer));
    let deadline = settings
        .request_timeout
        .map(|limit| (tokio::time::Instant::from_std(started) + limit, limit));
    let respond = |request: Request<Incoming>| {
        let (gateway, span, request_id) = (&gateway, span.clone(), &request_id);
        async move {
            let settings = &gateway.settings;
            // Made where it is awaited, in each arm below: a future made first and then moved
            // into the timeout would take room twice in this one's state, which hyper moves.
            let answer = || {
                async {
                    match &gateway.handler {
                        Handler::Proxy(service) => {
                            proxy::call(
                                (**service).clone(),
                                request,
                                settings.body_idle_timeout,
                                deadline,
                            )
                            .await
                        }
                        Handler::ForwardAuth(layer) => {
                            forward_auth::check(layer, settings, request.map(|_| ())).await
                        }
                    }
                }
                .instrument(span.clone())
            };
            match deadline {
                None => answer().await,
                Some((at, limit)) => match tokio::time::timeout_at(at, answer()).await {
                    Ok(response) => response,
                    Err(_) => {
                        let id = request_id.to_str().ok();
                        span.in_scope(|| {
                            tracing::warn!(?limit, request_id = id, "the request timed out")
                        });
                        problem(
                            ProblemKind::GatewayTimeout,
                            format!(
                                "the request did not complete within {}",
                                body::humane(limit)
                            ),
                            None,
                        )
                    }
                },
            }
        }
    };
    // With `server.cors`, preflights are answered before validation, and every answer of
    // the API (a timeout's too) carries the CORS headers.
    let mut response = match &gateway.cors {
        // Boxed: the CORS service's state around the answer's would double what every
        // request's future carries, with or without CORS.
        Some(layer) => Box::pin(cors::call(layer, request, respond)).await,
        None => respond(request).await,
    };
    response.headers_mut().insert(REQUEST_ID, request_id);
    let outcome = response
        .extensions_mut()
        .remove::<Outcome>()
        .unwrap_or_else(|| Outcome::from_rejection(&response));
    shared
        .metrics
        .record(&outcome, response.status(), started.elapsed());
    if let Some(entry) = entry {
        response = access::wrap(entry, &outcome, response);
    }
    Ok(response)
}

/// The request's id: the client's `x-request-id` when it has a usable one, else a new one
/// set on the request.
fn request_id(shared: &Shared, request: &mut Request<Incoming>) -> HeaderValue {
    match request.headers().get(REQUEST_ID) {
        Some(id) if !id.is_empty() && id.len() <= 200 => id.clone(),
        _ => {
            let id = shared.ids.next();
            request.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    }
}

/// What the access log needs of the request, taken before it goes on.
fn access_entry(
    request: &Request<Incoming>,
    request_id: HeaderValue,
    started: Instant,
) -> access::Entry {
    access::Entry {
        method: request.method().clone(),
        uri: request.uri().clone(),
        request_id,
        started,
    }
}

/// Why a request is refused before anything else: its `Host` header is missing, repeated
/// or invalid, or (proxy mode) it is a GET or HEAD with a body.
fn refuse_at_the_front(
    request: &Request<Incoming>,
    handler: &Handler,
) -> Option<(ProblemKind, String)> {
    use http::Version;
    use http_body::Body as _;
    let refuse = |kind: ProblemKind, detail: String| Some((kind, detail));
    // "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request
    // message that lacks a Host header field and to any request message that contains more
    // than one Host header field line or a Host header field with an invalid field value"
    // (RFC 9112 §3.2). hyper leaves this to the application.
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if request.version() >= Version::HTTP_11 => {
            return refuse(
                ProblemKind::InvalidParameters,
                "header `Host`: missing; an HTTP/1.1 request must name its host".to_owned(),
            );
        }
        (Some(_), Some(_)) => {
            return refuse(
                ProblemKind::InvalidParameters,
                "header `Host`: sent more than once; expected one".to_owned(),
            );
        }
        (Some(host), None) if !valid_host(host.as_bytes()) => {
            return refuse(
                ProblemKind::InvalidParameters,
                "header `Host`: expected a host name or address and an optional port".to_owned(),
            );
        }
        _ => {}
    }
    // "content received in a GET request has no generally defined semantics [...] might lead
    // some implementations to reject the request and close the connection because of its
    // potential as a request smuggling attack" (RFC 9110 §9.3.1; HEAD the same, §9.3.2). The
    // layer checks no such body, and dropping it would change the request: refused.
    if matches!(handler, Handler::Proxy(_))
        && matches!(*request.method(), http::Method::GET | http::Method::HEAD)
        && !request.body().is_end_stream()
    {
        return refuse(
            ProblemKind::MalformedBody,
            format!(
                "a {} request must not have a body; expected no content",
                request.method()
            ),
        );
    }
    None
}

/// Whether `value` is a `Host` field value: `uri-host [ ":" port ]` (RFC 9112 §3.2,
/// RFC 3986 §3.2.2), empty allowed.
fn valid_host(value: &[u8]) -> bool {
    if value.is_empty() {
        return true;
    }
    let (host, port) = match value.iter().rposition(|&b| b == b':') {
        // A colon inside an IP literal's brackets is not a port separator.
        Some(i) if !value[i..].contains(&b']') => (&value[..i], Some(&value[i + 1..])),
        _ => (value, None),
    };
    let port_ok = port.is_none_or(|p| p.iter().all(u8::is_ascii_digit));
    let reg_name = |b: &u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(b);
    let host_ok = match host {
        // IP-literal: an IPv6 address or IPvFuture, inside brackets.
        [b'[', inner @ .., b']'] => {
            !inner.is_empty() && inner.iter().all(|b| *b == b':' || reg_name(b))
        }
        _ => host.iter().all(reg_name),
    };
    port_ok && host_ok
}

/// A small response made by the gateway itself.
fn text_response(
    status: StatusCode,
    content_type: &'static str,
    text: String,
) -> Response<ProxyBody> {
    let mut response = Response::new(full(Bytes::from(text)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A body made here, boxed like a streamed one.
pub fn full(bytes: Bytes) -> ProxyBody {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed()
}

/// A problem answered by the gateway itself (408, 502, 504).
pub fn problem(kind: ProblemKind, detail: String, instance: Option<&str>) -> Response<ProxyBody> {
    let mut problem = Problem::new(kind, detail);
    problem.instance = instance.map(str::to_owned);
    let mut response = problem.to_response().map(full);
    // The gateway's own answer: response validation checks what the upstream sends.
    response
        .extensions_mut()
        .insert(oasgate::response::Origin::Gateway);
    response
}

/// Request ids: a random 64-bit prefix per process and a counter, so ids are unique without
/// a random draw per request.
struct RequestIds {
    prefix: u64,
    next: std::sync::atomic::AtomicU64,
}

impl RequestIds {
    fn new() -> Self {
        Self {
            prefix: uuid::Uuid::new_v4().as_u64_pair().0,
            next: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// `{prefix:016x}-{n:08x}`, written without the formatting machinery: it runs on every
    /// request that comes without an id.
    fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut id = [0u8; 33];
        hex_digits(self.prefix, &mut id[..16]);
        id[16] = b'-';
        // At least 8 digits for the counter, more once it passes 2^32.
        let digits = (16 - n.leading_zeros() as usize / 4).max(8);
        hex_digits(n, &mut id[17..17 + digits]);
        HeaderValue::from_bytes(&id[..17 + digits]).expect("hex digits are a valid header value")
    }
}

/// Writes the low `out.len()` hex digits of `n` into `out`, most significant first.
fn hex_digits(mut n: u64, out: &mut [u8]) {
    for byte in out.iter_mut().rev() {
        *byte = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::{RequestIds, valid_host};

    #[test]
    fn request_ids_are_the_prefix_and_a_counter_in_hex() {
        let ids = RequestIds {
            prefix: 0x0123_4567_89ab_cdef,
            next: std::sync::atomic::AtomicU64::new(0xff),
        };
        assert_eq!(ids.next(), "0123456789abcdef-000000ff");
        assert_eq!(ids.next(), "0123456789abcdef-00000100");
        ids.next
            .store(0x1_0000_0000, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(ids.next(), "0123456789abcdef-100000000");
        ids.next
            .store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(ids.next(), "0123456789abcdef-ffffffffffffffff");
    }

    #[test]
    fn host_values() {
        // (value, valid)
        let rows: [(&str, bool); 14] = [
            ("", true),
            ("api.example", true),
            ("api.example:8080", true),
            ("127.0.0.1:80", true),
            ("[::1]", true),
            ("[::1]:8080", true),
            ("xn--bcher-kva.example", true),
            ("a b", false),
            ("a:b", false),
            ("user@host", false),
            ("host/path", false),
            ("[]", false),
            ("[::1", false),
            ("host:80:80", false),
        ];
        for (value, valid) in rows {
            assert_eq!(valid_host(value.as_bytes()), valid, "`{value}`");
        }
    }
}
