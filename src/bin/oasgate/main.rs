//! `oasgate`: a validating reverse proxy and forward-auth endpoint driven by an OpenAPI
//! document, plus the `check`, `route` and `bundle` tools.
//!
//! ```text
//! oasgate serve --spec openapi.yaml --upstream http://127.0.0.1:3000
//! oasgate serve --config oasgate.yaml
//! oasgate check openapi.yaml --format json
//! oasgate route openapi.yaml GET '/v2/pets?limit=5'
//! oasgate bundle openapi.yaml -o bundled.json
//! ```

mod serve;
mod tools;

/// jemalloc rather than the system's allocator: glibc keeps resident the pages a document's
/// build freed (half of what a large document leaves resident), while jemalloc's background
/// threads hand them back within seconds; see `return_freed_memory`. The unit tests run on
/// allocation-counter's allocator instead, to count what a step allocates.
#[cfg(all(not(target_env = "msvc"), not(test)))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use oasgate::config::{
    BodyIdleTimeout, ByteSize, ConnectionCount, ForwardAuthHeaders, Fraction, HeaderCount,
    HeaderReadTimeout, HeaderSize, LingeringTime, LingeringTimeout, LogFormat, Mode,
    RequestTimeout, UpstreamIdleTimeout, WatchInterval, WorkerCount,
};

/// The first line of `oasgate --help`.
const ABOUT: &str = "A validating reverse proxy and forward-auth endpoint in front of any HTTP \
service, driven by an OpenAPI document and a config file";

/// The rest of `oasgate --help` before the commands (`-h` shows only [`ABOUT`]).
const LONG_ABOUT: &str = "\
A validating reverse proxy and forward-auth endpoint in front of any HTTP service, driven by
an OpenAPI document and a config file.

oasgate serve checks every request against the document (path, query, header and cookie
parameters, bodies, credentials) and answers an invalid one itself with an RFC 9457 problem
(application/problem+json). As a reverse proxy it forwards the valid requests to the
upstream; in forward-auth mode it answers the auth sub-requests of nginx (auth_request), Caddy
(forward_auth), Traefik (ForwardAuth) or Envoy (ext_authz) in front of the service. check,
route and bundle work on the document alone.

Guides: docs/gateway.md (this binary), docs/config.md (every config key).";

/// Examples of every command, and what a serving oasgate offers; after `oasgate --help`.
const EXAMPLES: &str = "\
Examples:
  oasgate serve --spec openapi.yaml --upstream http://127.0.0.1:3000
      Validate requests to the service on port 3000; listen on 127.0.0.1:8080
  oasgate serve --config oasgate.yaml --watch
      Everything from the config file; reload when it or the document changes
  oasgate serve --spec openapi.yaml --mode forward-auth --forward-auth-headers nginx
      Answer nginx's auth_request sub-requests
  oasgate check openapi.yaml --format json --deny-warnings
      Lint the document for CI: every problem and warning, exit 1 on any
  oasgate route openapi.yaml GET '/v2/pets?limit=5'
      The operation a request matches and its coerced parameters, or the problem
  oasgate bundle openapi.yaml -o bundled.json
      One self-contained JSON document

While serving:
  GET /metrics     Prometheus metrics (requests by operation, outcome and status; reloads)
  GET /healthz     200 while serving
  SIGHUP           reload the config file and the document; a broken one keeps the old
  --watch          reload the same way when one of those files changes
  SIGTERM, SIGINT  stop accepting, finish the requests in flight, exit

`oasgate <command> --help` describes a command's flags, with more examples.";

/// After `oasgate serve --help`.
const SERVE_HELP: &str = "\
Examples:
  oasgate serve --spec openapi.yaml --upstream http://127.0.0.1:3000
      Validating reverse proxy for the service on port 3000, on 127.0.0.1:8080
  oasgate serve --config oasgate.yaml --watch
      Everything from the config file; reload when it or the document changes
  oasgate serve --config oasgate.yaml --response-validation report --log-format json
      Also check the service's answers and log what breaks the document, as JSON lines
  oasgate serve --spec openapi.yaml --mode forward-auth --forward-auth-headers nginx
      Answer nginx's auth_request sub-requests (200, or the problem)

While serving, the listener also answers:
  GET /metrics     Prometheus metrics (server.metrics_path)
  GET /healthz     200 while serving (server.healthz_path)
Signals:
  SIGHUP           reload the config file and the document; a broken one is logged and the
                   old one keeps serving (--watch does the same when a file changes)
  SIGTERM, SIGINT  stop accepting, finish the requests in flight (server.drain_timeout), exit

Each flag overrides the config file's key of the same name; OASGATE_... environment
variables override the file too (docs/config.md).";

/// After `oasgate check --help`.
const CHECK_HELP: &str = "\
Examples:
  oasgate check openapi.yaml
      Every problem and warning with file:line and JSON pointer; exit 1 on a problem
  oasgate check openapi.yaml --format json --deny-warnings
      For CI: JSON, and warnings fail too";

/// After `oasgate route --help`.
const ROUTE_HELP: &str = "\
Examples:
  oasgate route openapi.yaml GET '/v2/pets?limit=5'
      The operation and the coerced value of each parameter
  oasgate route openapi.yaml DELETE https://petstore.swagger.io/v2/pets/1 -H 'Authorization: Bearer t'
      A whole URL, with a header
  oasgate route openapi.yaml POST /v2/pets --config oasgate.yaml
      With the options of a config file";

/// After `oasgate bundle --help`.
const BUNDLE_HELP: &str = "\
Examples:
  oasgate bundle openapi.yaml -o bundled.json
      Write the bundle to bundled.json
  oasgate bundle openapi.yaml
      Write it to standard output";

#[derive(Debug, Parser)]
#[command(
    name = "oasgate",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load and compile a document; print every problem with file:line and JSON pointer.
    ///
    /// Exits 1 when the document has problems.
    #[command(after_help = CHECK_HELP)]
    Check {
        /// The OpenAPI document (JSON or YAML).
        spec: PathBuf,
        /// `text` for people, `json` for CI.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Fail on warnings too: any defect, even one oasgate works around, and what a program
        /// would have to register (model loaders).
        #[arg(long, visible_alias = "deny-warnings")]
        strict: bool,
    },
    /// Show which operation a request matches and its decoded, coerced parameters, or the
    /// problem oasgate would answer (exit 1). The body is not checked.
    #[command(after_help = ROUTE_HELP)]
    Route {
        /// The OpenAPI document (JSON or YAML).
        spec: PathBuf,
        /// The request method (GET, POST…).
        method: String,
        /// The path and query (`/v2/pets?limit=5`), or a whole URL.
        url: String,
        /// A request header, `Name: value`; repeatable.
        #[arg(short = 'H', long = "header", value_name = "HEADER")]
        headers: Vec<String>,
        /// Read the options from this config file (its `spec` is ignored).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Write the document as one self-contained JSON file: definitions reached through `$ref`
    /// in other files move into `components`, and every reference points there.
    #[command(after_help = BUNDLE_HELP)]
    Bundle {
        /// The OpenAPI document (JSON or YAML).
        spec: PathBuf,
        /// Where to write it (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run the validating reverse proxy (or forward-auth endpoint).
    #[command(after_help = SERVE_HELP)]
    Serve(Box<ServeArgs>),
}

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// `oasgate serve` flags; each overrides the config file's key of the same name.
#[derive(Debug, Clone, clap::Args)]
struct ServeArgs {
    /// Config file (YAML, or TOML when it ends in `.toml`); `OASGATE_…` variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The OpenAPI document (overrides `spec`).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Where valid requests go, `http://host:port` (overrides `server.upstream`).
    #[arg(long)]
    upstream: Option<String>,
    /// Address to listen on (overrides `server.listen`; default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// `proxy` or `forward-auth` (overrides `server.mode`).
    #[arg(long)]
    mode: Option<Mode>,
    /// Forward-auth: `nginx`, `traefik` or `envoy`, whose headers carry the original request
    /// (overrides `server.forward_auth_headers`).
    #[arg(long, value_name = "GATEWAY")]
    forward_auth_headers: Option<ForwardAuthHeaders>,
    /// Longest gap between two chunks of a streamed body, e.g. `30s` (overrides
    /// `server.body_idle_timeout`).
    #[arg(long, value_name = "DURATION")]
    body_idle_timeout: Option<BodyIdleTimeout>,
    /// Longest an upstream connection is kept unused for the next request, e.g. `4s`
    /// (overrides `server.upstream_idle_timeout`).
    #[arg(long, value_name = "DURATION")]
    upstream_idle_timeout: Option<UpstreamIdleTimeout>,
    /// Longest time for a whole exchange, e.g. `2m` (overrides `server.request_timeout`).
    #[arg(long, value_name = "DURATION")]
    request_timeout: Option<RequestTimeout>,
    /// `text` or `json` (overrides `server.log_format`).
    #[arg(long)]
    log_format: Option<LogFormat>,
    /// Longest wait for a request's head, e.g. `10s` (overrides `server.header_read_timeout`).
    #[arg(long, value_name = "DURATION")]
    header_read_timeout: Option<HeaderReadTimeout>,
    /// Most header fields in one request (overrides `server.max_headers`).
    #[arg(long, value_name = "COUNT")]
    max_headers: Option<HeaderCount>,
    /// Largest request head, e.g. `16KiB` (overrides `server.max_header_size`).
    #[arg(long, value_name = "SIZE")]
    max_header_size: Option<HeaderSize>,
    /// Most client connections open at once (overrides `server.max_connections`).
    #[arg(long, value_name = "COUNT")]
    max_connections: Option<ConnectionCount>,
    /// Threads that serve connections (overrides `server.workers`; default one per core).
    #[arg(long, value_name = "COUNT")]
    workers: Option<WorkerCount>,
    /// `off`, `report` or `enforce`: check what the upstream answers against the document
    /// (overrides `options.response_validation`).
    #[arg(long, value_name = "MODE")]
    response_validation: Option<oasgate::ResponseValidation>,
    /// Refuse a document with any defect, even one oasgate works around (sets
    /// `options.strict`).
    #[arg(long)]
    strict: bool,
    /// Largest response body checked, e.g. `256KiB`; a larger one is handed on unchecked
    /// (overrides `options.response_validation_max_body`).
    #[arg(long, value_name = "SIZE")]
    response_validation_max_body: Option<ByteSize>,
    /// Share of each operation's responses checked in report mode, `0` to `1` or a
    /// percentage, e.g. `0.01` or `1%` (overrides `options.response_validation_sample`).
    #[arg(long, value_name = "SHARE")]
    response_validation_sample: Option<Fraction>,
    /// Reload when the config file or a file of the document changes (sets `server.watch`).
    #[arg(long)]
    watch: bool,
    /// How often `--watch` checks the files, e.g. `500ms` (overrides `server.watch_interval`).
    #[arg(long, value_name = "DURATION")]
    watch_interval: Option<WatchInterval>,
    /// The listener's certificate chain, PEM; with `--tls-key` the listener speaks TLS
    /// (overrides `server.tls_cert`).
    #[arg(long, value_name = "PATH")]
    tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert`, PEM (overrides `server.tls_key`).
    #[arg(long, value_name = "PATH")]
    tls_key: Option<PathBuf>,
    /// CAs trusted for an `https://` upstream, a PEM bundle (overrides `server.upstream_ca`).
    #[arg(long, value_name = "PATH")]
    upstream_ca: Option<PathBuf>,
    /// No access log: no line per request (sets `server.access_log` to `false`).
    #[arg(long)]
    no_access_log: bool,
    /// After an early answer, longest time to discard the rest of the request body before
    /// closing, e.g. `30s` (overrides `server.lingering_time`).
    #[arg(long, value_name = "DURATION")]
    lingering_time: Option<LingeringTime>,
    /// Longest wait between two reads of that discarded body, e.g. `5s` (overrides
    /// `server.lingering_timeout`).
    #[arg(long, value_name = "DURATION")]
    lingering_timeout: Option<LingeringTimeout>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            spec,
            format,
            strict,
        } => tools::check(&spec, format, strict),
        Command::Route {
            spec,
            method,
            url,
            headers,
            config,
        } => tools::route(&spec, &method, &url, &headers, config.as_deref()),
        Command::Bundle { spec, output } => tools::bundle(&spec, output.as_deref()),
        Command::Serve(args) => serve::run(*args),
    }
}
