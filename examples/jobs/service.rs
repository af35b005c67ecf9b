//! The handlers and their in-memory store. They contain no validation code: the layer has
//! checked credentials, parameters and bodies against the described document before they run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use chrono::Utc;
use jsonwebtoken::{EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::api::{
    AuthenticationError, BadRequestError, Credentials, Description, Format, Job, JobStatus,
    NotFoundError, Person, STUDENTS, StatusEvent, StatusResponse, Student, TEACHERS, Teacher,
    TokenProperties, Url,
};

/// The demo client the service knows.
pub const CLIENT_ID: &str = "demo";
/// The demo client's secret.
pub const CLIENT_SECRET: &str = "demo-secret";
/// How long an issued token is valid.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// How long a callback delivery may take.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything the handlers share.
pub struct Store {
    jobs: RwLock<HashMap<Uuid, Job>>,
    people: Vec<(String, Person)>,
    /// Signs the tokens `/auth` issues; the layer's verifier holds the same secret.
    signing_key: EncodingKey,
}

type Shared = Arc<Store>;

/// The claims of an issued token.
#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iat: i64,
    exp: i64,
}

/// The routes, under the base path of the document's server URL.
pub fn router(base: &str, secret: &[u8]) -> Router {
    let people = [
        ("Hunyadi", "Levente"),
        ("Kossuth", "Lajos"),
        ("Petőfi", "Sándor"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (family, given))| {
        let person = Person {
            family_name: (*family).to_owned(),
            given_name: (*given).to_owned(),
        };
        ((i + 1).to_string(), person)
    })
    .collect();
    let store = Arc::new(Store {
        jobs: RwLock::new(HashMap::new()),
        people,
        signing_key: EncodingKey::from_secret(secret),
    });
    let routes = Router::new()
        .route("/auth", routing::post(authenticate))
        .route("/job", routing::post(create_job))
        .route(
            "/job/{job_id}",
            routing::get(get_job).patch(update_job).delete(delete_job),
        )
        .route("/status/{job_id}", routing::get(get_status))
        .route("/person/id/{id}", routing::get(person_by_id))
        .route(
            "/person/name/{family}/{given}",
            routing::get(person_by_name),
        )
        .route(
            "/member/name/{family}/{given}",
            routing::get(member_by_name),
        )
        .with_state(store);
    if base.is_empty() {
        routes
    } else {
        Router::new().nest(base, routes)
    }
}

/// An error answer in the documented shape: `{"error": {...}}`.
fn error(status: StatusCode, body: impl Serialize) -> Response {
    (status, Json(json!({ "error": body }))).into_response()
}

fn not_found(kind: &str, id: String) -> Response {
    error(
        StatusCode::NOT_FOUND,
        NotFoundError {
            kind_of_error: NotFoundError::TYPE.to_owned(),
            uuid: Uuid::new_v4(),
            message: format!("no {kind} has the identifier `{id}`"),
            id,
            kind: kind.to_owned(),
        },
    )
}

fn bad_request(message: String) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        BadRequestError {
            kind_of_error: BadRequestError::TYPE.to_owned(),
            uuid: Uuid::new_v4(),
            message,
        },
    )
}

async fn authenticate(
    State(store): State<Shared>,
    Json(credentials): Json<Credentials>,
) -> Response {
    if credentials.client_id != CLIENT_ID || credentials.client_secret != CLIENT_SECRET {
        return error(
            StatusCode::UNAUTHORIZED,
            AuthenticationError {
                kind_of_error: AuthenticationError::TYPE.to_owned(),
                uuid: Uuid::new_v4(),
                message: "unknown client id or wrong secret".to_owned(),
            },
        );
    }
    let now = Utc::now();
    let expires_at = now + TOKEN_LIFETIME;
    let claims = Claims {
        sub: &credentials.client_id,
        iat: now.timestamp(),
        exp: expires_at.timestamp(),
    };
    match jsonwebtoken::encode(&Header::default(), &claims, &store.signing_key) {
        Ok(access_token) => Json(TokenProperties {
            access_token,
            expires_at,
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot sign a token");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn create_job(State(store): State<Shared>, Json(urls): Json<Vec<Url>>) -> Response {
    if urls.is_empty() {
        return bad_request("a job needs at least one URL".to_owned());
    }
    let text = urls
        .iter()
        .map(|u| format!("- {}", u.0))
        .collect::<Vec<_>>()
        .join("\n");
    let job = Job {
        id: Uuid::new_v4(),
        status: JobStatus::Created,
        started_at: Utc::now(),
        description: Description {
            format: Format::Markdown,
            text: format!("Resources:\n\n{text}"),
        },
    };
    let id = job.id;
    store.jobs.write().await.insert(id, job);
    Json(id).into_response()
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Format,
}

async fn get_job(
    State(store): State<Shared>,
    Path(id): Path<Uuid>,
    Query(query): Query<FormatQuery>,
) -> Response {
    match store.jobs.read().await.get(&id) {
        Some(job) => {
            let mut job = job.clone();
            job.description = render(&job.description, query.format);
            Json(job).into_response()
        }
        None => not_found("job", id.to_string()),
    }
}

/// The description in `format`: stored Markdown is shown as is, as plain text, or as
/// escaped HTML; other formats are given as stored.
fn render(description: &Description, format: Format) -> Description {
    if description.format == format || description.format != Format::Markdown {
        return description.clone();
    }
    let text = match format {
        Format::Html => {
            let escaped = description
                .text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!("<pre>{escaped}</pre>")
        }
        Format::Plain | Format::Markdown => description.text.clone(),
    };
    Description { format, text }
}

async fn update_job(
    State(store): State<Shared>,
    Path(id): Path<Uuid>,
    Json(job): Json<Job>,
) -> Response {
    if job.id != id {
        return bad_request(format!(
            "the body describes job {} but the path names job {id}",
            job.id
        ));
    }
    match store.jobs.write().await.get_mut(&id) {
        Some(stored) => {
            *stored = job;
            StatusCode::OK.into_response()
        }
        None => not_found("job", id.to_string()),
    }
}

async fn delete_job(State(store): State<Shared>, Path(id): Path<Uuid>) -> Response {
    match store.jobs.write().await.remove(&id) {
        Some(_) => StatusCode::OK.into_response(),
        None => not_found("job", id.to_string()),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    callback: Option<String>,
}

async fn get_status(
    State(store): State<Shared>,
    Path(id): Path<Uuid>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(status) = store.jobs.read().await.get(&id).map(|job| job.status) else {
        return not_found("job", id.to_string());
    };
    let description = match query.callback {
        Some(url) => {
            let event = StatusEvent { id, status };
            let text = format!("the status of job {id} is posted to {url}");
            tokio::spawn(async move {
                match tokio::time::timeout(CALLBACK_TIMEOUT, post_event(&url, &event)).await {
                    Ok(Ok(code)) => tracing::info!(%url, code, "status event delivered"),
                    Ok(Err(e)) => tracing::warn!(%url, error = %e, "status event not delivered"),
                    Err(_) => tracing::warn!(%url, "status event timed out"),
                }
            });
            text
        }
        None => format!("job {id} is {status:?}; give `callback` to receive status events"),
    };
    Json(StatusResponse { id, description }).into_response()
}

/// POSTs `event` as JSON to a plain `http://` URL and answers the status code.
async fn post_event(url: &str, event: &StatusEvent) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// callbacks are delivered")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let body = serde_json::to_string(event).map_err(|e| e.to_string())?;
    let mut stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let head = String::from_utf8_lossy(&answer);
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| "the answer is not HTTP".to_owned())
}

async fn person_by_id(State(store): State<Shared>, Path(id): Path<String>) -> Response {
    match store.people.iter().find(|(known, _)| *known == id) {
        Some((_, person)) => Json(person).into_response(),
        None => not_found("person", id),
    }
}

async fn person_by_name(
    State(store): State<Shared>,
    Path((family, given)): Path<(String, String)>,
) -> Response {
    let found = store
        .people
        .iter()
        .find(|(_, p)| p.family_name == family && p.given_name == given);
    match found {
        Some((_, person)) => Json(person).into_response(),
        None => not_found("person", format!("{given} {family}")),
    }
}

/// 201 with a student, 202 with a teacher: one operation, two response types.
async fn member_by_name(Path((family, given)): Path<(String, String)>) -> Response {
    if let Some((f, g)) = STUDENTS.iter().find(|(f, g)| *f == family && *g == given) {
        let student = Student {
            family_name: (*f).to_owned(),
            given_name: (*g).to_owned(),
            birth_date: None,
        };
        return (StatusCode::CREATED, Json(student)).into_response();
    }
    if let Some((f, g, subject)) = TEACHERS
        .iter()
        .find(|(f, g, _)| *f == family && *g == given)
    {
        let teacher = Teacher {
            family_name: (*f).to_owned(),
            given_name: (*g).to_owned(),
            subject: (*subject).to_owned(),
        };
        return (StatusCode::ACCEPTED, Json(teacher)).into_response();
    }
    not_found("member", format!("{given} {family}"))
}
