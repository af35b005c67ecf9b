//! What a handler receives: the operation and its coerced values, as a request extension.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::paging::Paging;

/// The result of validation, attached to every request that reaches the inner service.
///
/// Parameters are coerced to their schema types (`?limit=10` is the integer 10), defaults are
/// filled in for absent optional parameters, and [`body`](Validated::body) gives the parsed
/// body when one was read (JSON or form). The body bytes the inner service reads are the bytes
/// the client sent.
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
    /// The value of an OpenAPI 3.2 `in: querystring` parameter: the whole query string read
    /// as its one `content` media type, after its schema accepted it. An
    /// `application/x-www-form-urlencoded` query string is an object of its fields (which
    /// [`query`](Validated::query) holds too, by name); `application/json` is the parsed JSON
    /// value; any other media type is the percent-decoded text. `None` when the operation has
    /// no such parameter or the query string was empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub querystring: Option<Value>,
    /// The body that was read; see [`Validated::body`].
    pub(crate) body: ReadBody,
    /// A path parameter is secret (`format: password` or `writeOnly`), e.g. `/reset/{token}`.
    #[serde(skip)]
    pub(crate) secret_path: bool,
    /// The merged paging request of an `x-paging` operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

impl Validated {
    /// The parsed body, when the operation declares one that was read (JSON or form;
    /// multipart fields are checked while the inner service streams them, and stay out).
    ///
    /// A JSON body whose schema the layer could check on the text itself is parsed here, on
    /// first use, rather than on every request: a handler that deserialises the body its own
    /// way never pays for this value.
    pub fn body(&self) -> Option<&Value> {
        self.body.value()
    }

    /// Whether the path holds a secret parameter (`format: password` or `writeOnly`, as in
    /// `/reset/{token}`): then the path must not be echoed in answers or logs, as the layer's
    /// own problems leave it out.
    pub fn path_is_secret(&self) -> bool {
        self.secret_path
    }

    /// Replaces the body, e.g. to build a `Validated` for a handler's unit test.
    pub fn set_body(&mut self, body: Option<Value>) {
        self.body = body.map_or_else(ReadBody::default, ReadBody::parsed);
    }

    /// The body deserialised into `T`: straight from the text when it was not parsed yet.
    /// Used by the axum extractors (and their tests).
    #[cfg(any(feature = "axum", test))]
    pub(crate) fn body_as<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Option<Result<T, serde_json::Error>> {
        match (self.body.value.get(), &self.body.text) {
            (Some(value), _) => Some(T::deserialize(value)),
            (None, Some(text)) => Some(serde_json::from_slice(text)),
            (None, None) => None,
        }
    }
}

/// A body the layer read: a value, or JSON text checked against its schema as text and
/// parsed on first use.
#[derive(Clone, Default)]
pub(crate) struct ReadBody {
    text: Option<Bytes>,
    value: OnceLock<Value>,
}

impl ReadBody {
    pub fn parsed(value: Value) -> Self {
        Self {
            text: None,
            value: OnceLock::from(value),
        }
    }

    /// JSON text that was read to its end as valid JSON.
    pub fn text(text: Bytes) -> Self {
        Self {
            text: Some(text),
            value: OnceLock::new(),
        }
    }

    pub(crate) fn value(&self) -> Option<&Value> {
        match &self.text {
            // The same parser read this text to its end without an error, so it cannot fail.
            Some(text) => Some(
                self.value
                    .get_or_init(|| serde_json::from_slice(text).unwrap_or_default()),
            ),
            None => self.value.get(),
        }
    }
}

impl std::fmt::Debug for ReadBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value().fmt(f)
    }
}

impl PartialEq for ReadBody {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Serialize for ReadBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_body_checked_as_text_reads_like_a_parsed_one() {
        let text = Bytes::from_static(br#"{"name": "rex", "tags": ["a"], "age": 3}"#);
        let from_text = Validated {
            body: ReadBody::text(text),
            ..Validated::default()
        };
        let mut parsed = Validated::default();
        parsed.set_body(Some(json!({"name": "rex", "tags": ["a"], "age": 3})));

        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Pet {
            name: String,
            age: u8,
        }
        // Deserialised from the text before anything parsed it, then from the value.
        let pet = Pet {
            name: "rex".into(),
            age: 3,
        };
        assert_eq!(from_text.body_as::<Pet>().unwrap().unwrap(), pet);
        assert_eq!(from_text.body(), parsed.body());
        assert_eq!(from_text.body_as::<Pet>().unwrap().unwrap(), pet);
        assert_eq!(from_text, parsed);
        assert_eq!(
            serde_json::to_value(&from_text).unwrap()["body"]["tags"],
            json!(["a"])
        );

        let none = Validated::default();
        assert_eq!(none.body(), None);
        assert!(none.body_as::<Pet>().is_none());
        assert_eq!(serde_json::to_value(&none).unwrap()["body"], Value::Null);
    }
}
