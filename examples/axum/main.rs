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
//! curl -i 'http://127.0.0.1:8080/v2/pets/search?name=%20RE&born_after=1%20January%202018&sort=-born'
//! curl -i 'http://127.0.0.1:8080/v2/pets/search?sort=age'    # 400: not a sortable field
//! curl -i  http://127.0.0.1:8080/v2/pets/99                  # 404 problem: no pet 99
//! curl --compressed http://127.0.0.1:8080/openapi.yaml        # the document as served
//! ```
//!
//! Open <http://127.0.0.1:8080/docs> for the interactive page (Swagger UI, served by the layer
//! from the binary: no network needed).
//!
//! The handlers below contain no validation code: by the time they run, the layer has checked
//! the path, method, parameters and body against `petstore.yaml`, and rejected anything else
//! with an `application/problem+json` answer (logged at `info`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use oasgate::extract::Valid;
use oasgate::models::{LoadError, Models, loader_fn};
use oasgate::{DocsUi, Document, OpenApiLayer, Options, Paging, ResponseValidation};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::RwLock;
use tracing_subscriber::EnvFilter;

/// Embedded so the example runs from any directory.
const SPEC: &str = include_str!("petstore.yaml");

const USAGE: &str = "\
usage: axum [--listen ADDR] [--redoc] [--response-validation MODE]

Serves an in-memory petstore under /v2, validated by oasgate against petstore.yaml.

options:
  --listen ADDR                 address to listen on (default 127.0.0.1:8080; port 0 picks a
                                free one)
  --redoc                       serve Redoc at /docs instead of Swagger UI (build with
                                --features docs-redoc)
  --response-validation MODE    off (default), report or enforce: check what the handlers
                                answer against petstore.yaml too
  -h, --help                    print this help

RUST_LOG sets the log filter (default info).";

/// The spec's `Pet` schema.
#[derive(Debug, Clone, Serialize)]
struct Pet {
    id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    born: Option<String>,
}

/// The spec's `NewPet` schema.
#[derive(Debug, Deserialize)]
struct NewPet {
    name: String,
    tag: Option<String>,
    born: Option<String>,
}

/// The query of `GET /v2/pets`, already coerced by the layer.
#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    tags: Vec<String>,
    limit: Option<i64>,
}

/// The filters of `GET /v2/pets/search`: `name` arrives stripped and lowercased, `born_after`
/// as `YYYY-MM-DD` whatever the client typed.
#[derive(Debug, Deserialize)]
struct SearchQuery {
    name: Option<String>,
    born_after: Option<String>,
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
    let pets: BTreeMap<i64, Pet> = [
        (1, "Rex", "dog", "2016-05-01"),
        (2, "Tom", "cat", "2019-11-23"),
        (3, "Laika", "dog", "2021-02-14"),
        (4, "Rexina", "cat", "2022-08-30"),
    ]
    .into_iter()
    .map(|(id, name, tag, born)| {
        let pet = Pet {
            id,
            name: name.to_owned(),
            tag: Some(tag.to_owned()),
            born: Some(born.to_owned()),
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
async fn list_pets(State(store): State<Shared>, Valid(query): Valid<ListQuery>) -> Json<Vec<Pet>> {
    // The spec gives `limit` no minimum, so a negative one simply lists nothing.
    let limit = usize::try_from(query.limit.unwrap_or(20)).unwrap_or(0);
    let store = store.read().await;
    let pets = store
        .pets
        .values()
        .filter(|pet| {
            query.tags.is_empty() || pet.tag.as_ref().is_some_and(|t| query.tags.contains(t))
        })
        .take(limit)
        .cloned()
        .collect();
    Json(pets)
}

/// `GET /v2/pets/search`: filters arrive transformed, paging arrives merged into one
/// structure (`sort=name&sortdir=-1` and `sort=-name` mean the same).
async fn search_pets(
    State(store): State<Shared>,
    Valid(query): Valid<SearchQuery>,
    paging: Paging,
) -> Json<Vec<Pet>> {
    let store = store.read().await;
    let mut pets: Vec<Pet> = store
        .pets
        .values()
        .filter(|p| {
            query
                .name
                .as_ref()
                .is_none_or(|n| p.name.to_lowercase().contains(n))
        })
        .filter(|p| {
            // Canonical `YYYY-MM-DD` dates compare correctly as text.
            query
                .born_after
                .as_ref()
                .is_none_or(|after| p.born.as_ref().is_some_and(|b| b > after))
        })
        .cloned()
        .collect();
    for key in paging.sort.iter().rev() {
        pets.sort_by(|a, b| {
            let order = match key.field.as_str() {
                "id" => a.id.cmp(&b.id),
                "born" => a.born.cmp(&b.born),
                _ => a.name.cmp(&b.name),
            };
            if key.dir < 0 { order.reverse() } else { order }
        });
    }
    let offset = usize::try_from(paging.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(paging.limit).unwrap_or(usize::MAX);
    Json(pets.into_iter().skip(offset).take(limit).collect())
}

/// `POST /v2/pets`: the layer has checked the body against `NewPet`, so `Json` cannot fail.
async fn add_pet(State(store): State<Shared>, Json(new): Json<NewPet>) -> Json<Pet> {
    let mut store = store.write().await;
    let pet = Pet {
        id: store.next_id,
        name: new.name,
        tag: new.tag,
        born: new.born,
    };
    store.next_id += 1;
    store.pets.insert(pet.id, pet.clone());
    Json(pet)
}

/// `GET /v2/pets/{id}`: the `pet` model loader has fetched the pet already (an unknown id never
/// reaches this handler: the layer answers 404 with `kind` and `id`).
async fn find_pet(Extension(models): Extension<Models>) -> Response {
    match models.get("id") {
        Some(pet) => Json(pet.clone()).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn delete_pet(State(store): State<Shared>, Path(id): Path<i64>) -> Response {
    match store.write().await.pets.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(id),
    }
}

/// The command line.
struct Args {
    listen: String,
    redoc: bool,
    responses: ResponseValidation,
}

/// Reads `--listen ADDR`, `--redoc` and `--response-validation MODE`; `Ok(None)` means help
/// was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        listen: "127.0.0.1:8080".to_owned(),
        redoc: false,
        responses: ResponseValidation::Off,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => parsed.listen = args.next().ok_or("--listen needs an address")?,
            "--redoc" => parsed.redoc = true,
            "--response-validation" => {
                let mode = args.next().ok_or("--response-validation needs a mode")?;
                parsed.responses = mode
                    .parse()
                    .map_err(|e| format!("--response-validation: {e}"))?;
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(Some(parsed))
}

/// Three requests to try against `addr`: a valid one, an invalid one and the docs page. An
/// unspecified listening address (`0.0.0.0`, `[::]`) is reached through loopback.
fn try_lines(addr: SocketAddr) -> String {
    let mut reach = addr;
    if addr.ip().is_unspecified() {
        reach.set_ip(match addr.ip() {
            IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!(
        "try:\n\
         \x20 curl -s 'http://{reach}/v2/pets?limit=2'     # valid: at most two pets\n\
         \x20 curl -s 'http://{reach}/v2/pets?limit=ten'   # invalid: a 400 problem+json\n\
         \x20 curl -s 'http://{reach}/docs'                # the docs page (open it in a browser)\n"
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr so stdout carries only the `listening on` line.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let Args {
        listen,
        redoc,
        responses,
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

    let store: Shared = Arc::new(RwLock::new(seeded()));
    // `x-model: pet` parameters are loaded from the store before the handler runs.
    let pets = store.clone();
    let loader = loader_fn(move |id| {
        let pets = pets.clone();
        async move {
            let id = id
                .as_i64()
                .ok_or_else(|| LoadError("pet ids are integers".into()))?;
            let pet = pets.read().await.pets.get(&id).cloned();
            Ok(pet.map(|p| serde_json::to_value(p).unwrap_or_default()))
        }
    });
    let mut options = Options::default()
        .model_loader("pet", loader)
        .response_validation(responses);
    if redoc {
        options = options.docs_ui(DocsUi::Redoc);
    }
    let layer = match Document::from_str_named(SPEC, "examples/axum/petstore.yaml")
        .and_then(|doc| OpenApiLayer::with_options(doc, options))
    {
        Ok(layer) => layer,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };

    // Router::layer also wraps axum's fallbacks, so unknown paths and methods get oasgate's
    // 404 and 405 problems, and `/openapi.json`, `/openapi.yaml` and `/docs` are served by
    // the layer.
    let app = Router::new()
        .route("/v2/pets", get(list_pets).post(add_pet))
        .route("/v2/pets/search", get(search_pets))
        .route("/v2/pets/{id}", get(find_pet).delete(delete_pet))
        .with_state(store)
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
        Ok(addr) => {
            println!("listening on http://{addr}");
            print!("{}", try_lines(addr));
        }
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
