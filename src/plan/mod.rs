//! The compiled plan: everything decided at start-up, so the request path only looks things up.
//!
//! [`compile`] turns a [`Document`](crate::Document) into a [`Plan`]: a router over every
//! server base path × path template, and per operation its parameters (decoder, default,
//! compiled check), body media types (kind, compiled check) and security alternatives.
//! Every problem in the document is collected into one [`BuildError`](crate::BuildError).

mod compile;
pub(crate) mod schema;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method};
use serde_json::Value;

pub(crate) use compile::compile;
pub(crate) use schema::Check;

use crate::body::{BodyKind, FormField, MediaType};
use crate::options::{Options, UndeclaredParams};
use crate::params::{Coercion, Location, Shape, Style};
use crate::router::Router;
use crate::security::SecurityPlan;

/// Everything the layer needs per request, built once.
pub(crate) struct Plan {
    pub router: Router,
    pub routes: Vec<Route>,
    pub operations: Vec<Operation>,
    pub options: Options,
    pub coercion: Coercion,
    /// The served document, serialized once.
    pub document_json: Bytes,
}

/// One path template (under one base path) and the operations on it.
pub(crate) struct Route {
    /// Operation index per method, in the order methods were declared.
    pub methods: Vec<(Method, usize)>,
    /// The `Allow` header for 405 answers.
    pub allow: HeaderValue,
}

/// One operation, ready to validate requests.
pub(crate) struct Operation {
    pub id: Option<Arc<str>>,
    /// `GET /pets/{id}`, for logs and messages when there is no operationId.
    pub label: Arc<str>,
    pub path: Vec<Param>,
    pub query: Vec<Param>,
    pub header: Vec<Param>,
    pub cookie: Vec<Param>,
    pub body: Option<BodyPlan>,
    pub security: SecurityPlan,
    pub undeclared_query: UndeclaredParams,
    /// Query names that are not parameters but still declared (API keys in the query).
    pub extra_query_names: Vec<String>,
}

/// One parameter with its decoder settings and compiled check.
pub(crate) struct Param {
    pub name: Arc<str>,
    pub location: Location,
    pub required: bool,
    pub style: Style,
    pub explode: bool,
    pub shape: Shape,
    pub allow_empty: bool,
    pub default: Option<Value>,
    pub check: Check,
    /// Never echo the value: cookies, credentials, `format: password`, `writeOnly`.
    pub secret: bool,
    /// `content: application/json`: the raw text is parsed as JSON.
    pub json_content: bool,
    /// Whether this parameter was declared as `deepObject` or exploded form object (query keys
    /// it owns are declared).
    pub owns_object_keys: bool,
}

/// An operation's request body.
pub(crate) struct BodyPlan {
    pub required: bool,
    pub media: Vec<MediaType>,
    pub entries: Vec<BodyEntry>,
    /// `application/json, text/plain`, for 415 messages.
    pub declared: String,
}

/// How one declared media type is read and checked.
pub(crate) struct BodyEntry {
    pub kind: BodyKind,
    pub check: Check,
    pub form_fields: Vec<FormField>,
}

impl Operation {
    /// The name used in problems: the operationId, or `METHOD /template`.
    pub fn name(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.label)
    }
}
