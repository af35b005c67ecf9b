//! The operations of a Path Item Object: its fixed method fields (`get` … `trace`) and, from
//! OpenAPI 3.2, the `query` field and the `additionalOperations` map.
//!
//! In a 3.0 or 3.1 document `query` and `additionalOperations` are no Path Item fields: they
//! stay unknown fields there, neither routed nor walked, as before 3.2 was read.

use http::Method;
use serde_json::Value;

use super::pointer;

/// The fixed fields every OpenAPI 3 version has, each with its method.
pub(crate) const FIXED: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The 3.2 field for the QUERY method.
pub(crate) const QUERY_FIELD: &str = "query";

/// The 3.2 map from method to operation.
pub(crate) const ADDITIONAL: &str = "additionalOperations";

/// The QUERY method (draft-ietf-httpbis-safe-method-w-body, which OpenAPI 3.2 names for the
/// `query` field).
pub(crate) fn query_method() -> Method {
    Method::from_bytes(b"QUERY").unwrap_or(Method::GET)
}

/// Whether `doc` (a document, or any view of it) is OpenAPI 3.2: only there do path items
/// have `query` and `additionalOperations`.
pub(crate) fn reads_added_methods(doc: &Value) -> bool {
    is_3_2(doc.get("openapi"))
}

/// Whether an `openapi` member names 3.2.
pub(crate) fn is_3_2(openapi: Option<&Value>) -> bool {
    openapi
        .and_then(Value::as_str)
        .is_some_and(|v| v == "3.2" || v.starts_with("3.2."))
}

/// The method a fixed field (`get`, or in 3.2 `query`) defines.
pub(crate) fn fixed_method(field: &str) -> Option<Method> {
    match field {
        "get" => Some(Method::GET),
        "put" => Some(Method::PUT),
        "post" => Some(Method::POST),
        "delete" => Some(Method::DELETE),
        "options" => Some(Method::OPTIONS),
        "head" => Some(Method::HEAD),
        "patch" => Some(Method::PATCH),
        "trace" => Some(Method::TRACE),
        QUERY_FIELD => Some(query_method()),
        _ => None,
    }
}

/// One operation of a path item.
pub(crate) struct PathOperation {
    /// Its pointer: the path item's pointer + `/get`, `/query` or `/additionalOperations/COPY`.
    pub at: String,
    /// The method it answers, exactly as written (methods are case-sensitive, RFC 9110 §9.1).
    pub method: Method,
    /// The key in `additionalOperations`, or `None` for a fixed field.
    pub additional: Option<String>,
}

/// The operations of the path item `item` at `item_at`, in the order the compiler routes them:
/// the fixed fields, then (3.2, `added`) `query` and the entries of `additionalOperations`
/// whose key is a method token. Whether an entry is allowed is the compiler's to say
/// ([`refused_key`]).
pub(crate) fn operations(item: &Value, item_at: &str, added: bool) -> Vec<PathOperation> {
    let mut found: Vec<PathOperation> = FIXED
        .iter()
        .chain(added.then_some(&QUERY_FIELD))
        .filter(|field| item.get(**field).is_some())
        .filter_map(|field| {
            Some(PathOperation {
                at: pointer::join(item_at, field),
                method: fixed_method(field)?,
                additional: None,
            })
        })
        .collect();
    if added && let Some(Value::Object(map)) = item.get(ADDITIONAL) {
        let base = pointer::join(item_at, ADDITIONAL);
        for key in map.keys() {
            if let Ok(method) = Method::from_bytes(key.as_bytes()) {
                found.push(PathOperation {
                    at: pointer::join(&base, key),
                    method,
                    additional: Some(key.clone()),
                });
            }
        }
    }
    found
}

/// Why a key of `additionalOperations` cannot be routed, if it cannot.
pub(crate) fn refused_key(key: &str) -> Option<String> {
    // RFC 9110 §9.1: `method = token`.
    if Method::from_bytes(key.as_bytes()).is_err() {
        return Some(format!(
            "`{key}` is not an HTTP method: a method is a token (RFC 9110 §9.1: \
             `method = token`), such as `COPY` or `PURGE`"
        ));
    }
    let field = FIXED
        .iter()
        .chain([&QUERY_FIELD])
        .find(|field| field.to_ascii_uppercase() == key)?;
    Some(format!(
        "`{key}` is defined by the `{field}` field, not in `additionalOperations` (OpenAPI \
         3.2: \"This map MUST NOT contain any entry for the methods that can be defined by \
         other fixed fields with Operation Object values\")"
    ))
}

/// The fixed field a key of `additionalOperations` differs from only in case (`post`, `Get`):
/// a method of its own, since methods are case-sensitive, but most likely meant as that one.
pub(crate) fn case_variant(key: &str) -> Option<&'static str> {
    FIXED
        .iter()
        .chain([&QUERY_FIELD])
        .find(|field| field.eq_ignore_ascii_case(key) && field.to_ascii_uppercase() != key)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_of_additional_operations() {
        // (key, refused, case variant of)
        let rows: [(&str, bool, Option<&str>); 8] = [
            ("COPY", false, None),
            ("PURGE", false, None),
            ("POST", true, None),
            ("QUERY", true, None),
            ("post", false, Some("post")),
            ("Query", false, Some("query")),
            ("BAD METHOD", true, None),
            ("", true, None),
        ];
        for (key, refused, variant) in rows {
            assert_eq!(refused_key(key).is_some(), refused, "{key:?}");
            assert_eq!(case_variant(key), variant, "{key:?}");
        }
    }

    #[test]
    fn operations_by_version() {
        let item = json!({
            "get": {}, "query": {}, "x-a": {},
            "additionalOperations": {"COPY": {}, "a b": {}}
        });
        let methods = |added| -> Vec<(String, String)> {
            operations(&item, "/paths/~1p", added)
                .into_iter()
                .map(|o| (o.at, o.method.to_string()))
                .collect()
        };
        assert_eq!(methods(false), [("/paths/~1p/get".into(), "GET".into())]);
        assert_eq!(
            methods(true),
            [
                ("/paths/~1p/get".to_owned(), "GET".to_owned()),
                ("/paths/~1p/query".into(), "QUERY".into()),
                ("/paths/~1p/additionalOperations/COPY".into(), "COPY".into()),
            ]
        );
        assert!(reads_added_methods(&json!({"openapi": "3.2.0"})));
        assert!(!reads_added_methods(&json!({"openapi": "3.1.1"})));
    }
}
