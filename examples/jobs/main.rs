//! A job-management and people-catalog service described in Rust with `oasgate::describe`,
//! validated by the layer built from that description, and guarded by JWT bearer tokens.
//!
//! ```text
//! cargo run --example jobs -- --print-spec > jobs.openapi.json   # the generated document
//! cargo run --example jobs                                       # serves on 127.0.0.1:8080
//!
//! TOKEN=$(curl -s -H 'content-type: application/json' \
//!     -d '{"client_id": "demo", "client_secret": "demo-secret"}' \
//!     http://127.0.0.1:8080/api/auth | jq -r .access_token)
//! curl -s -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
//!     -d '["https://example.com/data.csv"]' http://127.0.0.1:8080/api/job    # the job's id
//! curl -i http://127.0.0.1:8080/api/job/JOB_ID?format=text/plain           # 401: no token
//! curl -i -H "authorization: Bearer $TOKEN" \
//!     'http://127.0.0.1:8080/api/job/not-a-uuid?format=text/plain'          # 400 problem
//! ```
//!
//! `POST /api/auth` is the one public operation; every other one needs the token it issues.
//! Requests the layer rejects get `application/problem+json` answers; errors the handlers
//! decide (unknown job, wrong credentials) get `{"error": {...}}` bodies. The document
//! declares both, so a 400 may be either.

mod api;
mod service;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use oasgate::security::jwt::JwtVerifier;
use oasgate::{OpenApiLayer, Options};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
usage: jobs [--listen ADDR] [--print-spec]

Serves the jobs and people API under /api, described in Rust and validated by oasgate.

options:
  --listen ADDR   address to listen on (default 127.0.0.1:8080; port 0 picks a free one)
  --print-spec    print the generated OpenAPI document (JSON) and exit
  -h, --help      print this help

Demo credentials for POST /api/auth: client_id `demo`, client_secret `demo-secret`.
JOBS_JWT_SECRET sets the token signing secret (default: a random one per start).
RUST_LOG sets the log filter (default info).";

enum Command {
    Help,
    PrintSpec,
    Serve { listen: String },
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut print_spec = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--print-spec" => print_spec = true,
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(if print_spec {
        Command::PrintSpec
    } else {
        Command::Serve { listen }
    })
}

/// The path of the first server URL (`/api` in `http://localhost:8080/api`).
fn base_path(document: &serde_json::Value) -> String {
    let url = document["servers"][0]["url"].as_str().unwrap_or("");
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    path.trim_end_matches('/').to_owned()
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let listen = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::PrintSpec) => {
            return match api::api().to_json() {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("{error}");
                    ExitCode::FAILURE
                }
            };
        }
        Ok(Command::Serve { listen }) => listen,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };

    let document = match api::api().document() {
        Ok(document) => document,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let secret = std::env::var("JOBS_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4()));
    let options = Options::default().verifier(Arc::new(JwtVerifier::hs256(secret.as_bytes())));
    let layer = match OpenApiLayer::with_options(&document, options) {
        Ok(layer) => layer,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let app = service::router(&base_path(document.as_json()), secret.as_bytes()).layer(layer);

    let listener = match TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(error) => {
            eprintln!("cannot read the bound address: {error}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("server error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
