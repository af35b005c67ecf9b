//! The jobs and people service described in Rust: its types and its operations.
//!
//! Every doc comment below ends up in the generated document, as a schema's title and
//! description or a property's description.

use chrono::{DateTime, NaiveDate, Utc};
use oasgate::describe::{Api, Operation, Param, RequestBody, Response, SecurityScheme};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// The name the bearer scheme has in the document.
pub const SCHEME: &str = "Default";

/// A Uniform Resource Locator (URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "URL")]
pub struct Url(
    #[schemars(url, regex(pattern = r"^https?://"))]
    pub String,
);

/// Authentication credentials.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// An API key.
    pub client_id: String,
    /// The secret that corresponds to the API key.
    pub client_secret: String,
}

/// Authentication/authorization token issued in response to an authentication request.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenProperties {
    /// A base64-encoded access token string with header, payload and signature parts.
    pub access_token: String,
    /// Expiry of the access token. This field is informational, the timestamp is also embedded
    /// in the access token.
    pub expires_at: DateTime<Utc>,
}

/// Possible representation formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Format {
    /// HTML markup.
    #[serde(rename = "text/html")]
    Html,
    /// Plain text.
    #[serde(rename = "text/plain")]
    Plain,
    /// CommonMark.
    #[serde(rename = "text/markdown")]
    Markdown,
}

/// A textual description as plain text or a well-known markup format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Description {
    /// The representation format for the text.
    pub format: Format,
    /// The text string.
    pub text: String,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Accepted, not started.
    Created,
    /// Working.
    Running,
    /// Finished or terminated.
    Stopped,
}

/// A unit of execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Job identifier.
    pub id: Uuid,
    /// Current job status.
    pub status: JobStatus,
    /// The timestamp (in UTC) when the job was started.
    pub started_at: DateTime<Utc>,
    /// Additional information associated with the job.
    pub description: Description,
}

/// Represents a real person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The person's family name (typically last name).
    pub family_name: String,
    /// The person's given name (typically first name).
    pub given_name: String,
}

/// A student at a university.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Student {
    /// The person's family name (typically last name).
    pub family_name: String,
    /// The person's given name (typically first name).
    pub given_name: String,
    /// The day the student was born, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
}

/// A lecturer at a university.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Teacher {
    /// The person's family name (typically last name).
    pub family_name: String,
    /// The person's given name (typically first name).
    pub given_name: String,
    /// What the lecturer teaches.
    pub subject: String,
}

/// Triggered synchronously as the immediate response to an asynchronous operation.
///
/// This response serves as an acknowledgment, and may be followed by several out-of-band
/// events, sent to the callback URL given in the request.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusResponse {
    /// Uniquely identifies the job which the response corresponds to.
    pub id: Uuid,
    /// Textual description associated with the response.
    pub description: String,
}

/// Triggered when an out-of-band event takes place.
///
/// This message is sent in a separate channel: a `POST` to the callback URL.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusEvent {
    /// Uniquely identifies the job which the event corresponds to.
    pub id: Uuid,
    /// The current status of the job.
    pub status: JobStatus,
}

/// Declares an error type: `type`, `uuid` and `message`, plus its own fields.
macro_rules! error_type {
    ($(#[$doc:meta])* $name:ident { $($(#[$field_doc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// A machine-processable identifier for the error: the name of the error type.
            #[serde(rename = "type")]
            pub kind_of_error: String,
            /// Unique identifier of the error. This identifier helps locate the exact source of
            /// the error (e.g. find the log entry in the server log stream). Make sure to include
            /// this identifier when contacting support.
            pub uuid: Uuid,
            /// A human-readable description for the error for informational purposes. The exact
            /// format of the message is unspecified, and implementations should not rely on the
            /// presence of any specific information.
            pub message: String,
            $($(#[$field_doc])* pub $field: $ty,)*
        }

        #[allow(dead_code)] // not every error type is raised by a handler
        impl $name {
            /// The error's type name, as sent in `type`.
            pub const TYPE: &str = stringify!($name);
        }
    };
}

error_type!(
    /// Raised when the client fails to provide valid authentication credentials.
    AuthenticationError {}
);

error_type!(
    /// The server cannot process the request due a client error.
    ///
    /// This might be due to malformed request syntax or invalid usage.
    BadRequestError {}
);

error_type!(
    /// Raised when an entity does not exist or has expired.
    NotFoundError {
        /// The identifier of the entity not found, e.g. the UUID of a job.
        id: String,
        /// The entity that is not found such as a namespace, object, person or job.
        kind: String,
    }
);

error_type!(
    /// The server encountered an unexpected error when processing the request.
    InternalServerError {}
);

/// Malformed input is answered by the layer, before any handler, with its problem.
const MALFORMED: &str = "The input is malformed: every error is listed.";

/// The whole service, described.
pub fn api() -> Api {
    let job_id = |what: &str| {
        Param::path::<Uuid>("job_id")
            .description(format!("Unique identifier for the job to {what}."))
    };
    Api::new("Jobs and people", "1.0")
        .description("Job management and a people catalog, described in code.")
        .server("http://localhost:8080/api")
        .security_scheme(
            SCHEME,
            SecurityScheme::bearer().bearer_format("JWT").description(
                "Authenticates a request by verifying a JWT (JSON Web Token) passed in the \
                 `Authorization` HTTP header.",
            ),
        )
        .default_security(SCHEME, Vec::<String>::new())
        .tag(
            "JobManagement",
            "Operations to create, inspect, update and terminate jobs.",
        )
        .tag("Endpoint", "Authentication.")
        .tag("PeopleCatalog", "Operations related to people.")
        .error_envelope("error")
        .operation(
            Operation::post("/job")
                .operation_id("create_job")
                .tag("JobManagement")
                .summary("Creates a new job with the given data as input.")
                .body::<Vec<Url>>("A set of URLs to resources used to initiate the job.")
                .response::<Uuid>(200, "The unique identifier of the newly created job.")
                .error::<BadRequestError>(400, "The job has no URL.")
                .problem(400, MALFORMED)
                .error::<InternalServerError>(500, "Unexpected error while creating job."),
        )
        .operation(
            Operation::post("/auth")
                .operation_id("authenticate")
                .tag("Endpoint")
                .summary("Issues a JSON Web Token (JWT) to be passed to API calls.")
                .public()
                .request_body(RequestBody::of::<Credentials>())
                .response::<TokenProperties>(200, "OK")
                .problem(400, MALFORMED)
                .error::<AuthenticationError>(
                    401,
                    "Client lacks valid authentication credentials.",
                ),
        )
        .operation(
            Operation::get("/job/{job_id}")
                .operation_id("get_job")
                .tag("JobManagement")
                .summary("Query status information about a job.")
                .param(job_id("query"))
                .param(
                    Param::query::<Format>("format")
                        .required()
                        .description("The format of the job's description text."),
                )
                .response::<Job>(200, "Status information about the job.")
                .problem(400, MALFORMED)
                .respond(
                    Response::error::<NotFoundError>(404, "The job does not exist.").example(
                        json!({"error": {
                            "type": "NotFoundError",
                            "uuid": "123e4567-e89b-12d3-a456-426614174000",
                            "message": "Job does not exist.",
                            "id": "12345678-1234-5678-1234-567812345678",
                            "kind": "job",
                        }}),
                    ),
                ),
        )
        .operation(
            Operation::delete("/job/{job_id}")
                .operation_id("delete_job")
                .tag("JobManagement")
                .summary("Terminates a job.")
                .param(job_id("terminate"))
                .empty_response(200, "OK")
                .error::<NotFoundError>(404, "The job does not exist."),
        )
        .operation(
            Operation::patch("/job/{job_id}")
                .operation_id("update_job")
                .tag("JobManagement")
                .summary("Updates information related to a job.")
                .description("May cause the job to be stopped and restarted.")
                .param(job_id("update"))
                .body::<Job>("Data to update the job with.")
                .empty_response(200, "OK")
                .error::<BadRequestError>(400, "The job's identifier does not match the path.")
                .problem(400, MALFORMED)
                .error::<NotFoundError>(404, "The job does not exist."),
        )
        .operation(
            Operation::get("/status/{job_id}")
                .operation_id("get_status")
                .tag("JobManagement")
                .summary("Provides asynchronous status information about a job.")
                .description(
                    "The response is returned at once; the job's status is then sent as an \
                     out-of-band event, a `POST` of a `StatusEvent` to the `callback` URL.",
                )
                .param(Param::path::<Uuid>("job_id"))
                .param(
                    Param::query::<Url>("callback").description("Where status events are posted."),
                )
                .response::<StatusResponse>(200, "OK")
                .error::<NotFoundError>(404, "The job does not exist.")
                .callback(
                    "get_status_callback",
                    Operation::post("{$request.query.callback}")
                        .request_body(RequestBody::of::<StatusEvent>())
                        .empty_response(200, "OK"),
                ),
        )
        .operation(
            Operation::get("/person/id/{id}")
                .operation_id("get_person_by_id")
                .tag("PeopleCatalog")
                .summary("Find a person by their identifier.")
                .description("This operation has a custom route associated with it.")
                .param(Param::path::<String>("id"))
                .response::<Person>(200, "OK")
                .error::<NotFoundError>(404, "No person has this identifier."),
        )
        .operation(
            Operation::get("/person/name/{family}/{given}")
                .operation_id("get_person_by_name")
                .tag("PeopleCatalog")
                .summary("Find a person by their name.")
                .description("This operation has a custom route associated with it.")
                .response::<Person>(200, "OK")
                .example(
                    200,
                    json!({"family_name": "Hunyadi", "given_name": "Levente"}),
                )
                .error::<NotFoundError>(404, "No person has this name."),
        )
        .operation(
            Operation::get("/member/name/{family}/{given}")
                .operation_id("get_member_by_name")
                .tag("PeopleCatalog")
                .summary("Find a member by their name.")
                .description("This operation has multiple response payload types.")
                .respond(member_examples(
                    Response::of::<Student>(201, "A student at a university."),
                    STUDENTS.iter().map(|(family, given)| {
                        (
                            format!("{given} {family}"),
                            json!({"family_name": family, "given_name": given}),
                        )
                    }),
                ))
                .respond(member_examples(
                    Response::of::<Teacher>(202, "A lecturer at a university."),
                    TEACHERS.iter().map(|(family, given, subject)| {
                        (
                            format!("{given} {family}"),
                            json!({"family_name": family, "given_name": given, "subject": subject}),
                        )
                    }),
                ))
                .error::<NotFoundError>(404, "No member has this name."),
        )
}

fn member_examples(
    response: Response,
    examples: impl Iterator<Item = (String, serde_json::Value)>,
) -> Response {
    examples.fold(response, |response, (name, value)| {
        response.named_example(name, value)
    })
}

/// The students the catalog knows: (family, given).
pub const STUDENTS: [(&str, &str); 4] = [
    ("Szörnyeteg", "Lajos"),
    ("Ló", "Szerafin"),
    ("Bruckner", "Szigfrid"),
    ("Nagy", "Zoárd"),
];

/// The teachers the catalog knows: (family, given, subject).
pub const TEACHERS: [(&str, &str, &str); 2] = [
    ("Mikka", "Makka", "Négyszögletű Kerek Erdő"),
    ("Vacska", "Mati", "Négyszögletű Kerek Erdő"),
];
