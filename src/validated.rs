//! What a handler receives: the operation and its coerced values, as a request extension.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::paging::Paging;

/// The result of validation, attached to every request that reaches the inner service.
///
/// Parameters are coerced to their schema types (`?limit=10` is the integer 10), defaults are
/// filled in for absent optional parameters, and `body` holds the parsed body when one was
/// read (JSON, form or multipart). The body bytes the inner service reads are the bytes the
/// client sent.
///
/// ```
/// # use oasgate::Validated;
/// fn limit(validated: &Validated) -> i64 {
///     validated.query.get("limit").and_then(|v| v.as_i64()).unwrap_or(20)
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Validated {
    /// The matched operation's `operationId`, if it has one.
    #[serde(rename = "operationId")]
    pub operation_id: Option<Arc<str>>,
    /// The operation's name for logs and metrics: its `operationId`, or `METHOD /template`
    /// when it has none.
    #[serde(skip)]
    pub operation: Arc<str>,
    /// Path parameters by name.
    pub path: Map<String, Value>,
    /// Declared query parameters by name (with defaults).
    pub query: Map<String, Value>,
    /// Declared header parameters by their declared name.
    pub header: Map<String, Value>,
    /// Declared cookie parameters by name.
    pub cookie: Map<String, Value>,
    /// The parsed body, when the operation declares one that was read.
    pub body: Option<Value>,
    /// The merged paging request of an `x-paging` operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}
