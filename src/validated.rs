//! What a handler receives: the operation and its coerced values, as a request extension.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::ser::SerializeMap;
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
    pub path: ParamValues,
    /// Declared query parameters by name (with defaults).
    pub query: ParamValues,
    /// Declared header parameters by their declared name.
    pub header: ParamValues,
    /// Declared cookie parameters by name.
    pub cookie: ParamValues,
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
            (Some(value), _) => Some(T::deserialize(&**value)),
            (None, Some(text)) => Some(serde_json::from_slice(text)),
            (None, None) => None,
        }
    }
}

/// The parameters of one location, by name, in the order the operation declares them: what a
/// request sent, coerced, or the declared default. Read like a map (`get`, `iter`, indexing by
/// name); serialised as a JSON object. A handful of entries in a list: looked up by comparing
/// names, and filled without copying them (the names are the operation's own).
///
/// ```
/// # use oasgate::ParamValues;
/// # use serde_json::json;
/// let mut query = ParamValues::default();
/// query.insert("limit", json!(10));
/// assert_eq!(query.get("limit").and_then(|v| v.as_i64()), Some(10));
/// assert_eq!(query["limit"], 10);
/// assert_eq!(serde_json::to_value(&query).unwrap(), json!({"limit": 10}));
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct ParamValues {
    entries: Vec<(Arc<str>, Value)>,
}

impl ParamValues {
    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(key, _)| **key == *name)
            .map(|(_, value)| value)
    }

    /// The value of parameter `name`, to change it.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(key, _)| **key == *name)
            .map(|(_, value)| value)
    }

    /// Whether parameter `name` has a value.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets parameter `name`, answering the value it replaces (which keeps its place).
    pub fn insert(&mut self, name: impl Into<Arc<str>>, value: Value) -> Option<Value> {
        let name = name.into();
        match self.get_mut(&name) {
            Some(old) => Some(std::mem::replace(old, value)),
            None => {
                self.entries.push((name, value));
                None
            }
        }
    }

    /// Removes parameter `name`, answering its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(key, _)| **key == *name)?;
        Some(self.entries.remove(at).1)
    }

    /// The parameters, in the order the operation declares them.
    pub fn iter(&self) -> ParamIter<'_> {
        ParamIter(self.entries.iter())
    }

    /// The names, in the order the operation declares them.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.entries.iter().map(|(key, _)| &**key)
    }

    /// The values, in the order the operation declares them.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.entries.iter().map(|(_, value)| value)
    }

    /// How many parameters have a value.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no parameter has a value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The parameters as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(key, value)| (key.to_owned(), value.clone()))
            .collect()
    }

    /// Adds a parameter known to be absent: its name is the operation's own, not copied.
    pub(crate) fn push(&mut self, name: &Arc<str>, value: Value) {
        self.entries.push((name.clone(), value));
    }
}

impl std::ops::Index<&str> for ParamValues {
    type Output = Value;

    /// The value of parameter `name`; panics when it has none, as `serde_json::Map` does.
    fn index(&self, name: &str) -> &Value {
        self.get(name)
            .unwrap_or_else(|| panic!("no parameter `{name}` has a value"))
    }
}

impl<'a> IntoIterator for &'a ParamValues {
    type Item = (&'a str, &'a Value);
    type IntoIter = ParamIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The parameters of a [`ParamValues`] and their values, in the order the operation declares
/// them: [`ParamValues::iter`].
#[derive(Clone, Debug)]
pub struct ParamIter<'a>(std::slice::Iter<'a, (Arc<str>, Value)>);

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, value)| (&**key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for ParamIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(key, value)| (&**key, value))
    }
}

impl ExactSizeIterator for ParamIter<'_> {}

impl std::iter::FusedIterator for ParamIter<'_> {}

impl<K: Into<Arc<str>>> FromIterator<(K, Value)> for ParamValues {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut values = Self::default();
        values.extend(iter);
        values
    }
}

impl<K: Into<Arc<str>>> Extend<(K, Value)> for ParamValues {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl From<Map<String, Value>> for ParamValues {
    fn from(map: Map<String, Value>) -> Self {
        map.into_iter().collect()
    }
}

impl std::fmt::Debug for ParamValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for ParamValues {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in self {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A body the layer read: a value, or JSON text checked against its schema as text and
/// parsed on first use.
#[derive(Clone, Default)]
pub(crate) struct ReadBody {
    text: Option<Bytes>,
    /// Boxed: `Validated` is moved several times per request, and most requests read no
    /// body; a value, when there is one, has allocated far more than its box.
    value: OnceLock<Box<Value>>,
}

impl ReadBody {
    pub fn parsed(value: Value) -> Self {
        Self {
            text: None,
            value: OnceLock::from(Box::new(value)),
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
                    .get_or_init(|| Box::new(serde_json::from_slice(text).unwrap_or_default())),
            ),
            None => self.value.get().map(|value| &**value),
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
    fn parameters_iterate_in_declared_order_from_either_end() {
        let values: ParamValues = [("limit", json!(25)), ("sort", json!("price"))]
            .into_iter()
            .collect();
        let mut iter = values.iter();
        assert_eq!(iter.len(), 2);
        assert_eq!(iter.next(), Some(("limit", &json!(25))));
        assert_eq!(iter.len(), 1);
        assert_eq!(iter.next_back(), Some(("sort", &json!("price"))));
        assert_eq!((iter.next(), iter.next()), (None, None));
        let names: Vec<&str> = (&values).into_iter().rev().map(|(name, _)| name).collect();
        assert_eq!(names, ["sort", "limit"]);
    }

    #[test]
    fn parameter_values_read_like_a_map_in_declaration_order() {
        let mut values = ParamValues::default();
        assert!(values.is_empty());
        assert_eq!(values.insert("limit", json!(10)), None);
        assert_eq!(values.insert("sort", json!("name")), None);
        values.push(&Arc::from("tags"), json!(["a", "b"]));
        // Setting a name again replaces the value where it stands.
        assert_eq!(values.insert("limit", json!(20)), Some(json!(10)));
        assert_eq!(values.keys().collect::<Vec<_>>(), ["limit", "sort", "tags"]);
        assert_eq!(values.len(), 3);
        assert_eq!(values.get("limit"), Some(&json!(20)));
        assert_eq!(values["sort"], "name");
        assert!(values.contains_key("tags") && !values.contains_key("Tags"));
        assert_eq!(values.get("missing"), None);
        *values.get_mut("sort").unwrap() = json!("-name");
        assert_eq!(
            serde_json::to_string(&values).unwrap(),
            r#"{"limit":20,"sort":"-name","tags":["a","b"]}"#
        );
        assert_eq!(
            format!("{values:?}"),
            r#"{"limit": Number(20), "sort": String("-name"), "tags": Array [String("a"), String("b")]}"#
        );
        assert_eq!(
            values.to_map(),
            json!({"limit": 20, "sort": "-name", "tags": ["a", "b"]})
                .as_object()
                .unwrap()
                .clone()
        );
        assert_eq!(ParamValues::from(values.to_map()), values);
        let collected: ParamValues = values
            .iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        assert_eq!(collected, values);
        assert_eq!(values.remove("sort"), Some(json!("-name")));
        assert_eq!(values.remove("sort"), None);
        assert_eq!(
            values.values().collect::<Vec<_>>(),
            [&json!(20), &json!(["a", "b"])]
        );
        let mut pairs = Vec::new();
        for (name, value) in &values {
            pairs.push(format!("{name}={value}"));
        }
        assert_eq!(pairs, ["limit=20", r#"tags=["a","b"]"#]);
    }

    #[test]
    #[should_panic(expected = "no parameter `offset` has a value")]
    fn indexing_a_parameter_without_a_value_panics_naming_it() {
        let _ = &ParamValues::default()["offset"];
    }

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
