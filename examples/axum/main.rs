//! A small in-memory petstore in plain axum, with oasgate doing all the request validation.
//!
//! `cargo run --example axum`, then:
//!
//! ```text
//! curl -i 'http://127.0.0.1:8080/v2/pets?limit=2&tags=dog'   # 200, at most two dogs
//! curl -i 'http://127.0.0.1:8080/v2/pets?limit=abc'          # 400: limit is not an integer
//! curl -i  http://127.0.0.1:8080/v2/nope                     # 404: no operation has this path
//! curl -i -X PUT http://127.0.0.1:8080/v2/pets               # 405, with `Allow: GET, POST`
//! curl -i -H 'content-type: application/json' -d '{"tag":1}' http://127.0.0.1:8080/v2/pets  # 400
//! ```
//!
//! The handlers below contain no validation code: by the time they run, the layer has checked
//! the path, method, parameters and body against `petstore.yaml`, and rejected anything else
//! with an `application/problem+json` answer (logged at `info`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use oasgate::{Document, OpenApiLayer, Validated};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::RwLock;
use tracing_subscriber::EnvFilter;

/// Embedded so the example runs from any directory.
const SPEC: &str = include_str!("petstore.yaml");

const USAGE: &str = "\
usage: axum [--listen ADDR]

Serves an in-memory petstore under /v2, validated by oasgate against petstore.yaml.

options:
  --listen ADDR   address to listen on (default 127.0.0.1:8080; port 0 picks a free one)
  -h, --help      print this help

RUST_LOG sets the log filter (default info).";

/// The spec's `Pet` schema.
#[derive(Debug, Clone, Serialize)]
struct Pet {
    id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
}

/// The spec's `NewPet` schema.
#[derive(Debug, Deserialize)]
struct NewPet {
    name: String,
    tag: Option<String>,
}

/// The spec's `Error` schema.
#[derive(Debug, Serialize)]
struct ApiError {
    code: u16,
    message: String,
}

struct Store {
    next_id: i64,
    pets: BTreeMap<i64, Pet>,
}

type Shared = Arc<RwLock<Store>>;

fn seeded() -> Store {
    let pets: BTreeMap<i64, Pet> = [(1, "Rex", "dog"), (2, "Tom", "cat"), (3, "Laika", "dog")]
        .into_iter()
        .map(|(id, name, tag)| {
            let pet = Pet {
                id,
                name: name.to_owned(),
                tag: Some(tag.to_owned()),
            };
            (id, pet)
        })
        .collect();
    Store {
        next_id: pets.len() as i64 + 1,
        pets,
    }
}

fn not_found(id: i64) -> Response {
    let error = ApiError {
        code: StatusCode::NOT_FOUND.as_u16(),
        message: format!("no pet has id {id}"),
    };
    (StatusCode::NOT_FOUND, Json(error)).into_response()
}

/// `GET /v2/pets`: `tags` and `limit` come from the layer already coerced (`limit=5` is the
/// integer 5, a single `tags=a` is the list `["a"]`), so there is nothing to parse here.
async fn list_pets(
    State(store): State<Shared>,
    Extension(validated): Extension<Validated>,
) -> Json<Vec<Pet>> {
    let tags: Vec<&str> = validated
        .query
        .get("tags")
        .and_then(|v| v.as_array())
        .map(|items| items.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    // The spec gives `limit` no minimum, so a negative one simply lists nothing.
    let limit = validated
        .query
        .get("limit")
        .and_then(|v| v.as_i64())
        .unwrap_or(20);
    let limit = usize::try_from(limit).unwrap_or(0);
    let store = store.read().await;
    let pets = store
        .pets
        .values()
        .filter(|pet| tags.is_empty() || pet.tag.as_deref().is_some_and(|t| tags.contains(&t)))
        .take(limit)
        .cloned()
        .collect();
    Json(pets)
}

/// `POST /v2/pets`: the layer has checked the body against `NewPet`, so `Json` cannot fail.
async fn add_pet(State(store): State<Shared>, Json(new): Json<NewPet>) -> Json<Pet> {
    let mut store = store.write().await;
    let pet = Pet {
        id: store.next_id,
        name: new.name,
        tag: new.tag,
    };
    store.next_id += 1;
    store.pets.insert(pet.id, pet.clone());
    Json(pet)
}

async fn find_pet(State(store): State<Shared>, Path(id): Path<i64>) -> Response {
    match store.read().await.pets.get(&id) {
        Some(pet) => Json(pet.clone()).into_response(),
        None => not_found(id),
    }
}

async fn delete_pet(State(store): State<Shared>, Path(id): Path<i64>) -> Response {
    match store.write().await.pets.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(id),
    }
}

/// Reads `--listen ADDR`; `Ok(None)` means help was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<String>, String> {
    let mut listen = "127.0.0.1:8080".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(Some(listen))
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr so stdout carries only the `listening on` line.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let listen = match parse_args(std::env::args().skip(1)) {
        Ok(Some(listen)) => listen,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };

    let layer = match Document::from_str(SPEC).and_then(|doc| OpenApiLayer::new(&doc)) {
        Ok(layer) => layer,
        Err(error) => {
            // The embedded text is reported as `<document>`: say which one it is.
            eprintln!("examples/axum/petstore.yaml: {error}");
            return ExitCode::FAILURE;
        }
    };

    // Router::layer also wraps axum's fallbacks, so unknown paths and methods get oasgate's
    // 404 and 405 problems, and `/openapi.json` is served by the layer.
    let app = Router::new()
        .route("/v2/pets", get(list_pets).post(add_pet))
        .route("/v2/pets/{id}", get(find_pet).delete(delete_pet))
        .with_state(Arc::new(RwLock::new(seeded())))
        .layer(layer);

    let listener = match TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {listen}: {error}");
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
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("server error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
