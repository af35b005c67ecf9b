//! The error model: every rejection is an RFC 9457 `application/problem+json` answer.
//!
//! One function, [`Problem::status`], maps what went wrong to the status code, so the mapping is
//! in one place. The body lists every error found (capped), each naming where it is and what was
//! expected; values of secret items (credentials, cookies, `format: password`, `writeOnly`) are
//! never echoed.
//!
//! A formatter hook ([`Options::formatter`](crate::Options::formatter)) replaces the body for
//! teams with their own error shape.

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

/// Where an error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A header, including credentials in headers.
    Header,
    /// A cookie.
    Cookie,
    /// The request body, or the response body for an invalid response.
    Body,
    /// The response status (an invalid response only).
    Status,
}

impl Place {
    /// The name used in problem bodies and the OpenAPI `in` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Path => "path",
            Place::Query => "query",
            Place::Header => "header",
            Place::Cookie => "cookie",
            Place::Body => "body",
            Place::Status => "status",
        }
    }
}

/// The machine-readable kind of a [`FieldError`]: what rule failed.
///
/// Serialises (and displays) as the camelCase name given for each variant, e.g.
/// [`FieldCode::TooMany`] as `tooMany`; JSON Schema keywords keep their own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum FieldCode {
    /// `type`: the value is not of the schema's `type`, or its text does not read as one.
    Type,
    /// `required`: a required parameter, property or response header is absent.
    Required,
    /// `empty`: a parameter is empty where its `allowEmptyValue` does not allow it.
    Empty,
    /// `duplicate`: a parameter, header, JSON member or field given twice where once is allowed.
    Duplicate,
    /// `format`: the value breaks its `format`, or parameter text breaks its style's shape.
    Format,
    /// `encoding`: text is badly percent-encoded, not UTF-8, or (headers) not visible ASCII.
    Encoding,
    /// `json`: a parameter or multipart part with JSON content is not JSON.
    Json,
    /// `depth`: JSON nests arrays and objects deeper than the configured limit.
    Depth,
    /// `multipart`: a multipart body is malformed, or one of its parts has no name.
    Multipart,
    /// `delimiter`: a query string or form body holds a raw `;` the service may split on.
    Delimiter,
    /// `tooMany`: more query parameters, form fields or multipart parts than the limit.
    TooMany,
    /// `tooLong`: a parameter's name or value is longer than the configured limit, or an item of
    /// a streamed body larger than the body limit.
    TooLong,
    /// `semicolon`: a path parameter or segment holds a `;` some servers read as parameters.
    Semicolon,
    /// `paging`: the paging query parameters do not make a valid page request.
    Paging,
    /// `undeclared`: a query parameter, or a response status, the operation does not declare.
    Undeclared,
    /// `dotSegment`: a path segment is `.` or `..`, raw or encoded.
    DotSegment,
    /// `emptySegment`: a path has an empty segment (`//`).
    EmptySegment,
    /// `encodedSlash`: a path segment holds an encoded `/` (`%2F`).
    EncodedSlash,
    /// `backslash`: a path segment holds a `\`.
    Backslash,
    /// `controlCharacter`: a path segment holds an encoded control character.
    ControlCharacter,
    /// `percentEncoding`: a path holds a `%` not followed by two hex digits.
    PercentEncoding,
    /// `utf8`: a path segment does not percent-decode to UTF-8.
    Utf8,
    /// `const`: the value is not the schema's `const`.
    Const,
    /// `enum`: the value is not one of the schema's `enum`.
    Enum,
    /// `minimum`: the number is below the schema's `minimum`.
    Minimum,
    /// `maximum`: the number is above the schema's `maximum`.
    Maximum,
    /// `exclusiveMinimum`: the number is not above the schema's `exclusiveMinimum`.
    ExclusiveMinimum,
    /// `exclusiveMaximum`: the number is not below the schema's `exclusiveMaximum`.
    ExclusiveMaximum,
    /// `multipleOf`: the number is not a multiple of the schema's `multipleOf`.
    MultipleOf,
    /// `minLength`: the string is shorter than the schema's `minLength`.
    MinLength,
    /// `maxLength`: the string is longer than the schema's `maxLength`.
    MaxLength,
    /// `pattern`: the string does not match the schema's `pattern`.
    Pattern,
    /// `minItems`: the array has fewer items than the schema's `minItems`.
    MinItems,
    /// `maxItems`: the array has more items than the schema's `maxItems`.
    MaxItems,
    /// `uniqueItems`: the array repeats an item although the schema sets `uniqueItems`.
    UniqueItems,
    /// `minProperties`: the object has fewer properties than the schema's `minProperties`.
    MinProperties,
    /// `maxProperties`: the object has more properties than the schema's `maxProperties`.
    MaxProperties,
    /// `additionalProperties`: the object has a property `additionalProperties` forbids.
    AdditionalProperties,
    /// `oneOf`: the value matches none, or more than one, of the `oneOf` schemas.
    OneOf,
    /// `anyOf`: the value matches none of the `anyOf` schemas.
    AnyOf,
    /// `false`: a value where the schema is `false`, which allows none.
    False,
    /// `readOnly`: a request carries a `readOnly` property.
    ReadOnly,
    /// `writeOnly`: a response carries a `writeOnly` property.
    WriteOnly,
    /// `discriminator`: the discriminator property is missing or names no known schema.
    Discriminator,
    /// `schema`: the value breaks a schema rule with no code of its own (the detail names it).
    Schema,
    /// `noContent`: a response has content where none is allowed (`HEAD`, 1xx, 204, 304…).
    NoContent,
    /// `mediaType`: a response's `Content-Type` is missing, malformed or not declared.
    MediaType,
    /// `malformed`: a response body declared as JSON does not parse.
    Malformed,
    /// `incomplete`: a response body broke off before its end.
    Incomplete,
}

impl FieldCode {
    /// Every code, in declaration order: for documentation and tests that must cover them all.
    pub const ALL: &'static [FieldCode] = &[
        FieldCode::Type,
        FieldCode::Required,
        FieldCode::Empty,
        FieldCode::Duplicate,
        FieldCode::Format,
        FieldCode::Encoding,
        FieldCode::Json,
        FieldCode::Depth,
        FieldCode::Multipart,
        FieldCode::Delimiter,
        FieldCode::TooMany,
        FieldCode::TooLong,
        FieldCode::Semicolon,
        FieldCode::Paging,
        FieldCode::Undeclared,
        FieldCode::DotSegment,
        FieldCode::EmptySegment,
        FieldCode::EncodedSlash,
        FieldCode::Backslash,
        FieldCode::ControlCharacter,
        FieldCode::PercentEncoding,
        FieldCode::Utf8,
        FieldCode::Const,
        FieldCode::Enum,
        FieldCode::Minimum,
        FieldCode::Maximum,
        FieldCode::ExclusiveMinimum,
        FieldCode::ExclusiveMaximum,
        FieldCode::MultipleOf,
        FieldCode::MinLength,
        FieldCode::MaxLength,
        FieldCode::Pattern,
        FieldCode::MinItems,
        FieldCode::MaxItems,
        FieldCode::UniqueItems,
        FieldCode::MinProperties,
        FieldCode::MaxProperties,
        FieldCode::AdditionalProperties,
        FieldCode::OneOf,
        FieldCode::AnyOf,
        FieldCode::False,
        FieldCode::ReadOnly,
        FieldCode::WriteOnly,
        FieldCode::Discriminator,
        FieldCode::Schema,
        FieldCode::NoContent,
        FieldCode::MediaType,
        FieldCode::Malformed,
        FieldCode::Incomplete,
    ];

    /// The name used in problem bodies, logs and metrics, e.g. `tooMany`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldCode::Type => "type",
            FieldCode::Required => "required",
            FieldCode::Empty => "empty",
            FieldCode::Duplicate => "duplicate",
            FieldCode::Format => "format",
            FieldCode::Encoding => "encoding",
            FieldCode::Json => "json",
            FieldCode::Depth => "depth",
            FieldCode::Multipart => "multipart",
            FieldCode::Delimiter => "delimiter",
            FieldCode::TooMany => "tooMany",
            FieldCode::TooLong => "tooLong",
            FieldCode::Semicolon => "semicolon",
            FieldCode::Paging => "paging",
            FieldCode::Undeclared => "undeclared",
            FieldCode::DotSegment => "dotSegment",
            FieldCode::EmptySegment => "emptySegment",
            FieldCode::EncodedSlash => "encodedSlash",
            FieldCode::Backslash => "backslash",
            FieldCode::ControlCharacter => "controlCharacter",
            FieldCode::PercentEncoding => "percentEncoding",
            FieldCode::Utf8 => "utf8",
            FieldCode::Const => "const",
            FieldCode::Enum => "enum",
            FieldCode::Minimum => "minimum",
            FieldCode::Maximum => "maximum",
            FieldCode::ExclusiveMinimum => "exclusiveMinimum",
            FieldCode::ExclusiveMaximum => "exclusiveMaximum",
            FieldCode::MultipleOf => "multipleOf",
            FieldCode::MinLength => "minLength",
            FieldCode::MaxLength => "maxLength",
            FieldCode::Pattern => "pattern",
            FieldCode::MinItems => "minItems",
            FieldCode::MaxItems => "maxItems",
            FieldCode::UniqueItems => "uniqueItems",
            FieldCode::MinProperties => "minProperties",
            FieldCode::MaxProperties => "maxProperties",
            FieldCode::AdditionalProperties => "additionalProperties",
            FieldCode::OneOf => "oneOf",
            FieldCode::AnyOf => "anyOf",
            FieldCode::False => "false",
            FieldCode::ReadOnly => "readOnly",
            FieldCode::WriteOnly => "writeOnly",
            FieldCode::Discriminator => "discriminator",
            FieldCode::Schema => "schema",
            FieldCode::NoContent => "noContent",
            FieldCode::MediaType => "mediaType",
            FieldCode::Malformed => "malformed",
            FieldCode::Incomplete => "incomplete",
        }
    }
}

impl std::fmt::Display for FieldCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Where: path, query, header, cookie or body.
    #[serde(rename = "in")]
    pub place: Place,
    /// The parameter name (empty for the body).
    pub name: String,
    /// JSON pointer inside the value (`""` for the whole value).
    pub pointer: String,
    /// Machine-readable kind: the failed JSON Schema keyword, or `required`, `duplicate`…
    pub code: FieldCode,
    /// What was expected, lowercase.
    pub detail: String,
}

/// Line, column and character (all 1-based) of a syntax error in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TextLocation {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// 1-based character offset from the start of the body.
    pub character: usize,
}

/// Attached to every problem response the layer answers, and in report-only mode
/// ([`Options::enforce`](crate::Options::enforce)) to each request it lets through despite a
/// problem: enough for metrics and logs without reading the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status the problem has.
    pub status: StatusCode,
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// The matched operation's `operationId`, or `METHOD /template`; `None` when no operation
    /// matched (404, 405).
    pub operation: Option<Arc<str>>,
    /// The code of each field error the problem lists, in order (`tooMany`, `required`...).
    pub codes: Vec<FieldCode>,
    /// The operation has a secret path parameter: the path must stay out of logs, as it
    /// stays out of the problem's `instance`.
    pub secret_path: bool,
}

/// What kind of rejection a problem is; decides its status, title and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// No operation has this path.
    NotFound,
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// Credentials are missing or were refused.
    Unauthorized,
    /// Credentials are valid but not enough for this operation.
    Forbidden,
    /// The request path is not in canonical form: a dot or empty segment, an encoded
    /// separator, a control character (see [`crate::path`]).
    InvalidPath,
    /// Parameters (path, query, header, cookie) are invalid.
    InvalidParameters,
    /// The body could not be parsed (JSON syntax, form encoding, multipart framing).
    MalformedBody,
    /// The body parsed but breaks its schema.
    InvalidBody,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The client stopped sending its body, or did not finish in time (`oasgate serve`).
    RequestTimeout,
    /// The body's media type is not one the operation declares.
    UnsupportedMediaType,
    /// The application's credential verifier failed (not a client error).
    VerifierFailed,
    /// A model loader failed (not a client error).
    LoaderFailed,
    /// A handler's extractor type does not match the document (a programmer error).
    ExtractorMismatch,
    /// A gateway could not reach the service behind it (`oasgate serve`).
    BadGateway,
    /// The service behind a gateway did not answer in time (`oasgate serve`).
    GatewayTimeout,
    /// The inner service answered something the document does not allow (response
    /// validation in enforce mode): the handler's own bug.
    InvalidResponse,
    /// The service behind a gateway answered something the document does not allow
    /// (response validation in enforce mode, `oasgate serve`).
    InvalidUpstreamResponse,
}

/// The name the served document gives [`json_schema`] in `components/schemas`.
pub(crate) const SCHEMA_NAME: &str = "Problem";

/// The JSON Schema of every problem body the layer writes, as serialized from [`Problem`].
pub(crate) fn json_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "description": "An RFC 9457 problem: what was wrong with the request, with every error found.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "description": "A URI naming the kind of problem (`urn:oasgate:problem:invalid-parameters`, or `about:blank` for 404 and 405).", "example": "urn:oasgate:problem:invalid-parameters"},
            "title": {"type": "string", "description": "Short summary of the kind of problem.", "example": "Invalid request parameters"},
            "status": {"type": "integer", "description": "The HTTP status code.", "example": 400},
            "detail": {"type": "string", "description": "What happened to this request: the first error, and how many more.", "example": "query parameter `limit`: expected integer, got `ten`"},
            "instance": {"type": "string", "description": "The request path."},
            "operationId": {"type": "string", "description": "The operation the request was matched to."},
            "errors": {
                "type": "array",
                "description": "Every error found, capped; `errorsOmitted` counts the rest.",
                "items": {
                    "type": "object",
                    "required": ["in", "name", "pointer", "code", "detail"],
                    "properties": {
                        "in": {"type": "string", "enum": ["path", "query", "header", "cookie", "body", "status"]},
                        "name": {"type": "string", "description": "The parameter name (empty for the body)."},
                        "pointer": {"type": "string", "description": "JSON pointer inside the value (empty for the whole value)."},
                        "code": {"type": "string", "description": "The rule that failed: a JSON Schema keyword, or `required`, `type`, `undeclared`…"},
                        "detail": {"type": "string", "description": "What was expected."}
                    }
                }
            },
            "errorsOmitted": {"type": "integer", "minimum": 1, "description": "How many errors the cap left out."},
            "location": {
                "type": "object",
                "description": "Where a body failed to parse (1-based).",
                "required": ["line", "column", "character"],
                "properties": {
                    "line": {"type": "integer", "minimum": 1},
                    "column": {"type": "integer", "minimum": 1},
                    "character": {"type": "integer", "minimum": 1}
                }
            },
            "kind": {"type": "string", "description": "For a model that was not found: its kind."},
            "id": {"description": "For a model that was not found: the id asked for."}
        }
    })
}

/// An `application/problem+json` answer (RFC 9457).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_uri: &'static str,
    /// Short summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What happened to this request.
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The matched operation, when there is one.
    #[serde(rename = "operationId", skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Every error found, capped by [`Options::error_cap`](crate::Options::error_cap).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where a body failed to parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<TextLocation>,
    /// Extension members (`kind` and `id` for a model that was not found).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// How many errors were left out by the cap.
    #[serde(rename = "errorsOmitted", skip_serializing_if = "is_zero")]
    pub errors_omitted: usize,
    /// The kind, which decided the status.
    #[serde(skip)]
    pub kind: ProblemKind,
    /// Methods the path allows (405 only).
    #[serde(skip)]
    pub allow: Option<HeaderValue>,
    /// Challenge for `WWW-Authenticate` (401 only).
    #[serde(skip)]
    pub challenge: Option<HeaderValue>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Problem {
    /// A problem of `kind` with a detail message and no field errors.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        let (type_uri, title) = kind.describe();
        Self {
            type_uri,
            title,
            status: Problem::status(kind, false).as_u16(),
            detail: detail.into(),
            instance: None,
            operation_id: None,
            errors: Vec::new(),
            location: None,
            extra: serde_json::Map::new(),
            errors_omitted: 0,
            kind,
            allow: None,
            challenge: None,
        }
    }

    /// The status for `kind`: the one place where rejections become status codes.
    ///
    /// 404 no route, 405 wrong method, 401 missing or refused credentials, 403 short of scope,
    /// 415 media type, 413 too large, 500 verifier or loader failure or an invalid response
    /// from the inner service, 502 and 504 from a gateway (502 also for an invalid response
    /// from the service behind it), and 400 for bad parameters and bad
    /// bodies — or 422 for schema-breaking bodies when `unprocessable_bodies` is set.
    pub fn status(kind: ProblemKind, unprocessable_bodies: bool) -> StatusCode {
        match kind {
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ProblemKind::Forbidden => StatusCode::FORBIDDEN,
            ProblemKind::InvalidPath
            | ProblemKind::InvalidParameters
            | ProblemKind::MalformedBody => StatusCode::BAD_REQUEST,
            ProblemKind::InvalidBody if unprocessable_bodies => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::InvalidBody => StatusCode::BAD_REQUEST,
            ProblemKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ProblemKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::VerifierFailed
            | ProblemKind::LoaderFailed
            | ProblemKind::ExtractorMismatch => StatusCode::INTERNAL_SERVER_ERROR,
            ProblemKind::BadGateway => StatusCode::BAD_GATEWAY,
            ProblemKind::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
            ProblemKind::InvalidResponse => StatusCode::INTERNAL_SERVER_ERROR,
            ProblemKind::InvalidUpstreamResponse => StatusCode::BAD_GATEWAY,
        }
    }

    /// Adds errors, keeping at most `cap` and counting the rest.
    pub(crate) fn with_errors(mut self, errors: Vec<FieldError>, cap: usize) -> Self {
        let total = errors.len();
        self.errors = errors;
        self.errors.truncate(cap);
        self.errors_omitted = total - self.errors.len();
        self
    }

    /// The default rendering: `application/problem+json` with `Allow` / `WWW-Authenticate`.
    pub fn to_response(&self) -> Response<Bytes> {
        let body = serde_json::to_vec(self).unwrap_or_default();
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(allow) = &self.allow {
            headers.insert(header::ALLOW, allow.clone());
        }
        if let Some(challenge) = &self.challenge {
            headers.insert(header::WWW_AUTHENTICATE, challenge.clone());
        }
        response
    }

    /// A one-line summary for logs: never values, only where and which rule.
    pub(crate) fn log_summary(&self) -> String {
        let mut out = String::new();
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(
                out,
                "{} `{}`{} {}",
                e.place.as_str(),
                e.name,
                e.pointer,
                e.code
            );
        }
        out
    }
}

impl ProblemKind {
    /// Every kind, in declaration order: for documentation and tests that must cover them all.
    pub const ALL: &'static [ProblemKind] = &[
        ProblemKind::NotFound,
        ProblemKind::MethodNotAllowed,
        ProblemKind::Unauthorized,
        ProblemKind::Forbidden,
        ProblemKind::InvalidPath,
        ProblemKind::InvalidParameters,
        ProblemKind::MalformedBody,
        ProblemKind::InvalidBody,
        ProblemKind::PayloadTooLarge,
        ProblemKind::RequestTimeout,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::VerifierFailed,
        ProblemKind::LoaderFailed,
        ProblemKind::ExtractorMismatch,
        ProblemKind::BadGateway,
        ProblemKind::GatewayTimeout,
        ProblemKind::InvalidResponse,
        ProblemKind::InvalidUpstreamResponse,
    ];

    /// The problem's `type` URI: `urn:oasgate:problem:…`, or `about:blank` for 404 and 405.
    pub fn type_uri(self) -> &'static str {
        self.describe().0
    }

    /// The problem's `title`, e.g. `Invalid request parameters`.
    pub fn title(self) -> &'static str {
        self.describe().1
    }

    fn describe(self) -> (&'static str, &'static str) {
        match self {
            ProblemKind::NotFound => ("about:blank", "Not Found"),
            ProblemKind::MethodNotAllowed => ("about:blank", "Method Not Allowed"),
            ProblemKind::Unauthorized => ("urn:oasgate:problem:unauthorized", "Unauthorized"),
            ProblemKind::Forbidden => ("urn:oasgate:problem:forbidden", "Forbidden"),
            ProblemKind::InvalidPath => {
                ("urn:oasgate:problem:invalid-path", "Invalid request path")
            }
            ProblemKind::InvalidParameters => (
                "urn:oasgate:problem:invalid-parameters",
                "Invalid request parameters",
            ),
            ProblemKind::MalformedBody => (
                "urn:oasgate:problem:malformed-body",
                "Malformed request body",
            ),
            ProblemKind::InvalidBody => {
                ("urn:oasgate:problem:invalid-body", "Invalid request body")
            }
            ProblemKind::PayloadTooLarge => (
                "urn:oasgate:problem:payload-too-large",
                "Request body too large",
            ),
            ProblemKind::RequestTimeout => (
                "urn:oasgate:problem:request-timeout",
                "Request body timed out",
            ),
            ProblemKind::UnsupportedMediaType => (
                "urn:oasgate:problem:unsupported-media-type",
                "Unsupported media type",
            ),
            ProblemKind::VerifierFailed
            | ProblemKind::LoaderFailed
            | ProblemKind::ExtractorMismatch => {
                ("urn:oasgate:problem:internal", "Internal Server Error")
            }
            ProblemKind::BadGateway => ("urn:oasgate:problem:bad-gateway", "Bad Gateway"),
            ProblemKind::GatewayTimeout => {
                ("urn:oasgate:problem:gateway-timeout", "Gateway Timeout")
            }
            ProblemKind::InvalidResponse | ProblemKind::InvalidUpstreamResponse => {
                ("urn:oasgate:problem:invalid-response", "Invalid response")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant once, with the string problem bodies have always carried.
    const ROWS: &[(FieldCode, &str)] = &[
        (FieldCode::Type, "type"),
        (FieldCode::Required, "required"),
        (FieldCode::Empty, "empty"),
        (FieldCode::Duplicate, "duplicate"),
        (FieldCode::Format, "format"),
        (FieldCode::Encoding, "encoding"),
        (FieldCode::Json, "json"),
        (FieldCode::Depth, "depth"),
        (FieldCode::Multipart, "multipart"),
        (FieldCode::Delimiter, "delimiter"),
        (FieldCode::TooMany, "tooMany"),
        (FieldCode::TooLong, "tooLong"),
        (FieldCode::Semicolon, "semicolon"),
        (FieldCode::Paging, "paging"),
        (FieldCode::Undeclared, "undeclared"),
        (FieldCode::DotSegment, "dotSegment"),
        (FieldCode::EmptySegment, "emptySegment"),
        (FieldCode::EncodedSlash, "encodedSlash"),
        (FieldCode::Backslash, "backslash"),
        (FieldCode::ControlCharacter, "controlCharacter"),
        (FieldCode::PercentEncoding, "percentEncoding"),
        (FieldCode::Utf8, "utf8"),
        (FieldCode::Const, "const"),
        (FieldCode::Enum, "enum"),
        (FieldCode::Minimum, "minimum"),
        (FieldCode::Maximum, "maximum"),
        (FieldCode::ExclusiveMinimum, "exclusiveMinimum"),
        (FieldCode::ExclusiveMaximum, "exclusiveMaximum"),
        (FieldCode::MultipleOf, "multipleOf"),
        (FieldCode::MinLength, "minLength"),
        (FieldCode::MaxLength, "maxLength"),
        (FieldCode::Pattern, "pattern"),
        (FieldCode::MinItems, "minItems"),
        (FieldCode::MaxItems, "maxItems"),
        (FieldCode::UniqueItems, "uniqueItems"),
        (FieldCode::MinProperties, "minProperties"),
        (FieldCode::MaxProperties, "maxProperties"),
        (FieldCode::AdditionalProperties, "additionalProperties"),
        (FieldCode::OneOf, "oneOf"),
        (FieldCode::AnyOf, "anyOf"),
        (FieldCode::False, "false"),
        (FieldCode::ReadOnly, "readOnly"),
        (FieldCode::WriteOnly, "writeOnly"),
        (FieldCode::Discriminator, "discriminator"),
        (FieldCode::Schema, "schema"),
        (FieldCode::NoContent, "noContent"),
        (FieldCode::MediaType, "mediaType"),
        (FieldCode::Malformed, "malformed"),
        (FieldCode::Incomplete, "incomplete"),
    ];

    #[test]
    fn every_field_code_serialises_as_its_name() {
        for (code, name) in ROWS {
            assert_eq!(code.as_str(), *name);
            assert_eq!(code.to_string(), *name);
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(name));
        }
        let mut names: Vec<&str> = ROWS.iter().map(|(_, n)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROWS.len(), "a name is listed twice");
        // Each variant has a row: the rows' discriminants are exactly 0..ROWS.len().
        let mut seen: Vec<usize> = ROWS.iter().map(|(c, _)| *c as usize).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..ROWS.len()).collect::<Vec<_>>(),
            "a variant has no row"
        );
    }

    #[test]
    fn all_lists_every_variant_once_in_order() {
        let rows: Vec<FieldCode> = ROWS.iter().map(|(c, _)| *c).collect();
        assert_eq!(FieldCode::ALL, rows.as_slice());
        // Declaration order with default discriminants: position i holds variant i, and the
        // last variant (see `kind_is_listed`) closes the list.
        for (i, kind) in ProblemKind::ALL.iter().enumerate() {
            assert_eq!(
                *kind as usize, i,
                "ProblemKind::ALL out of order at {kind:?}"
            );
        }
        assert_eq!(
            ProblemKind::ALL.last(),
            Some(&ProblemKind::InvalidUpstreamResponse),
            "a variant declared after the last one listed is missing from ProblemKind::ALL"
        );
    }

    /// Does not compile when a kind is added: list it in `ProblemKind::ALL` and, if it is
    /// declared last, name it in the test above.
    #[allow(dead_code)]
    fn kind_is_listed(kind: ProblemKind) {
        match kind {
            ProblemKind::NotFound
            | ProblemKind::MethodNotAllowed
            | ProblemKind::Unauthorized
            | ProblemKind::Forbidden
            | ProblemKind::InvalidPath
            | ProblemKind::InvalidParameters
            | ProblemKind::MalformedBody
            | ProblemKind::InvalidBody
            | ProblemKind::PayloadTooLarge
            | ProblemKind::RequestTimeout
            | ProblemKind::UnsupportedMediaType
            | ProblemKind::VerifierFailed
            | ProblemKind::LoaderFailed
            | ProblemKind::ExtractorMismatch
            | ProblemKind::BadGateway
            | ProblemKind::GatewayTimeout
            | ProblemKind::InvalidResponse
            | ProblemKind::InvalidUpstreamResponse => {}
        }
    }

    /// Does not compile when a variant is added: give it a row in `ROWS` too.
    #[allow(dead_code)]
    fn has_a_row(code: FieldCode) {
        match code {
            FieldCode::Type
            | FieldCode::Required
            | FieldCode::Empty
            | FieldCode::Duplicate
            | FieldCode::Format
            | FieldCode::Encoding
            | FieldCode::Json
            | FieldCode::Depth
            | FieldCode::Multipart
            | FieldCode::Delimiter
            | FieldCode::TooMany
            | FieldCode::TooLong
            | FieldCode::Semicolon
            | FieldCode::Paging
            | FieldCode::Undeclared
            | FieldCode::DotSegment
            | FieldCode::EmptySegment
            | FieldCode::EncodedSlash
            | FieldCode::Backslash
            | FieldCode::ControlCharacter
            | FieldCode::PercentEncoding
            | FieldCode::Utf8
            | FieldCode::Const
            | FieldCode::Enum
            | FieldCode::Minimum
            | FieldCode::Maximum
            | FieldCode::ExclusiveMinimum
            | FieldCode::ExclusiveMaximum
            | FieldCode::MultipleOf
            | FieldCode::MinLength
            | FieldCode::MaxLength
            | FieldCode::Pattern
            | FieldCode::MinItems
            | FieldCode::MaxItems
            | FieldCode::UniqueItems
            | FieldCode::MinProperties
            | FieldCode::MaxProperties
            | FieldCode::AdditionalProperties
            | FieldCode::OneOf
            | FieldCode::AnyOf
            | FieldCode::False
            | FieldCode::ReadOnly
            | FieldCode::WriteOnly
            | FieldCode::Discriminator
            | FieldCode::Schema
            | FieldCode::NoContent
            | FieldCode::MediaType
            | FieldCode::Malformed
            | FieldCode::Incomplete => {}
        }
    }
}
