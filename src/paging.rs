//! Girder-style paging: `limit`, `offset`, `sort`, `sortdir` merged into one [`Paging`].
//!
//! An operation opts in with `x-paging: true` or an object:
//!
//! ```yaml
//! x-paging:
//!   default_sort: name        # no sort by default
//!   default_sortdir: -1       # 1 (ascending, the default) or -1
//!   default_limit: 50
//!   max_limit: 1000
//!   sort_fields: [name, created]   # any field when absent
//! ```
//!
//! At start-up the layer adds the parameters the operation does not declare itself — `limit`
//! (integer ≥ 0, default 50, at most `max_limit`), `offset` (integer ≥ 0, default 0), `sort`
//! (stripped string) and `sortdir` (`1` or `-1`) — to the compiled plan and to the served
//! document. A request may sort in two forms, which merge into one list of keys:
//! Girder's `sort=name&sortdir=-1`, or a multi-key list `sort=name,-created` (`-` for
//! descending). Giving `sortdir` with several keys is an error, and so is a `sortdir` that
//! contradicts a signed key (`sort=-name&sortdir=1`).
//!
//! An operation may declare any of these parameters itself; its schema is checked first, then
//! the value is held to the range of the added parameter (`limit` at most `max_limit`,
//! `sortdir` `1` or `-1`), so [`Paging`] never holds more than `x-paging` allows. Its own
//! `default`s of `sort` and `sortdir` are the paging's defaults (where `x-paging` sets none)
//! rather than values filled in, so a default `sortdir: 1` never reads as sent beside
//! `sort=name,-created`.
//!
//! With [`PagingMode::Girder`](crate::PagingMode::Girder), an operation that declares all four
//! parameters itself (as Girder's `Description.pagingParams` writes them) pages as with
//! `x-paging`, its declared defaults the paging's and no cap on `limit` beyond its own schema.

use serde::Serialize;
use serde_json::{Value, json};

use crate::params;
use crate::validated::ParamValues;

/// One sort key: a field and a direction (`1` ascending, `-1` descending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SortKey {
    /// The field to sort by.
    pub field: String,
    /// `1` ascending, `-1` descending.
    pub dir: i8,
}

/// The merged paging request of an `x-paging` operation, in the request extensions and in
/// [`Validated::paging`](crate::Validated::paging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paging {
    /// How many items to answer, never above `max_limit` (a larger `limit` is rejected).
    pub limit: u64,
    /// How many items to skip.
    pub offset: u64,
    /// Sort keys in order; empty for no sort.
    pub sort: Vec<SortKey>,
}

/// An operation's `x-paging` settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PagingConfig {
    pub default_sort: Option<String>,
    pub default_sortdir: i8,
    pub default_limit: u64,
    pub max_limit: u64,
    pub sort_fields: Option<Vec<String>>,
}

impl Default for PagingConfig {
    fn default() -> Self {
        Self {
            default_sort: None,
            default_sortdir: 1,
            default_limit: 50,
            max_limit: 1000,
            sort_fields: None,
        }
    }
}

const KEYS: [&str; 5] = [
    "default_sort",
    "default_sortdir",
    "default_limit",
    "max_limit",
    "sort_fields",
];

impl PagingConfig {
    /// Reads `x-paging` (`true`, `false` or an object); `Ok(None)` when paging is off.
    pub fn from_extension(value: &Value) -> Result<Option<Self>, String> {
        let map = match value {
            Value::Bool(false) => return Ok(None),
            Value::Bool(true) => return Ok(Some(Self::default())),
            Value::Object(map) => map,
            _ => return Err("`x-paging` must be `true` or an object".into()),
        };
        let mut config = Self::default();
        let explicit_limit = map.contains_key("default_limit");
        for (key, v) in map {
            let bad = || format!("`x-paging.{key}` has an invalid value");
            match key.as_str() {
                "default_sort" => {
                    config.default_sort = Some(v.as_str().ok_or_else(bad)?.to_owned())
                }
                "default_sortdir" => {
                    config.default_sortdir = match v.as_i64() {
                        Some(1) => 1,
                        Some(-1) => -1,
                        _ => return Err("`x-paging.default_sortdir` must be 1 or -1".into()),
                    }
                }
                "default_limit" => config.default_limit = v.as_u64().ok_or_else(bad)?,
                "max_limit" => config.max_limit = v.as_u64().ok_or_else(bad)?,
                "sort_fields" => {
                    let fields = v
                        .as_array()
                        .and_then(|a| a.iter().map(|f| f.as_str().map(str::to_owned)).collect())
                        .ok_or_else(|| {
                            "`x-paging.sort_fields` must be a list of field names".to_owned()
                        })?;
                    config.sort_fields = Some(fields);
                }
                other => {
                    return Err(format!(
                        "unknown `x-paging` key `{other}`; expected one of {}",
                        KEYS.join(", ")
                    ));
                }
            }
        }
        if !explicit_limit {
            // A `max_limit` below the usual default lowers the default with it.
            config.default_limit = config.default_limit.min(config.max_limit);
        }
        if config.default_limit > config.max_limit {
            return Err("`x-paging.default_limit` is above `max_limit`".into());
        }
        if let (Some(sort), Some(fields)) = (&config.default_sort, &config.sort_fields)
            && !fields.contains(sort)
        {
            return Err(format!(
                "`x-paging.default_sort` `{sort}` is not one of `sort_fields`"
            ));
        }
        Ok(Some(config))
    }

    /// The query parameters paging adds, as OpenAPI parameter objects.
    pub fn parameters(&self) -> [Value; 4] {
        let fields = match &self.sort_fields {
            Some(f) => format!(" One of: {}.", f.join(", ")),
            None => String::new(),
        };
        [
            json!({"name": "limit", "in": "query", "description": "Most results to return.",
                   "schema": {"type": "integer", "minimum": 0, "maximum": self.max_limit, "default": self.default_limit}}),
            json!({"name": "offset", "in": "query", "description": "Results to skip before the first one returned.",
                   "schema": {"type": "integer", "minimum": 0, "default": 0}}),
            json!({"name": "sort", "in": "query", "x-strip": true,
                   "description": format!("Field to sort by, or several as `a,-b` (`-` for descending).{fields}"),
                   "schema": {"type": "string"}}),
            json!({"name": "sortdir", "in": "query", "description": "1 for ascending, -1 for descending (with a single sort field).",
                   "schema": {"type": "integer", "enum": [1, -1]}}),
        ]
    }

    /// Merges the validated `limit`, `offset`, `sort` and `sortdir` into one [`Paging`].
    ///
    /// The checks repeat what the added parameters' schemas say, for operations that declare
    /// `limit`, `offset` or `sortdir` themselves with looser schemas.
    pub fn merge(&self, query: &ParamValues) -> Result<Paging, (&'static str, String)> {
        let limit = count(query, "limit", Some(self.max_limit))?.unwrap_or(self.default_limit);
        let offset = count(query, "offset", None)?.unwrap_or(0);
        let sortdir = match query.get("sortdir") {
            Some(Value::Number(d)) => match d.as_i64() {
                Some(d @ (1 | -1)) => Some(d),
                _ => return Err(("sortdir", format!("expected 1 or -1, got {d}"))),
            },
            _ => None,
        };
        let sort_text = query
            .get("sort")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let mut sort = Vec::new();
        match sort_text {
            Some(text) => {
                if text.contains(',') && sortdir.is_some() {
                    return Err((
                        "sortdir",
                        "`sortdir` cannot be combined with several sort keys; use `-field` for descending".into(),
                    ));
                }
                for key in text.split(',').map(str::trim) {
                    let (field, dir, signed) = match key.strip_prefix('-') {
                        Some(field) => (field, -1, true),
                        None => match key.strip_prefix('+') {
                            Some(field) => (field, 1, true),
                            None => (key, 1, false),
                        },
                    };
                    // A signed key and a `sortdir` that disagree: neither is silently dropped.
                    if signed && sortdir.is_some_and(|d| d as i8 != dir) {
                        return Err((
                            "sortdir",
                            format!(
                                "`sortdir` contradicts the direction `{key}` gives; give it once"
                            ),
                        ));
                    }
                    if field.is_empty() {
                        return Err(("sort", format!("empty sort key in `{text}`")));
                    }
                    if let Some(fields) = &self.sort_fields
                        && !fields.iter().any(|f| f == field)
                    {
                        return Err((
                            "sort",
                            format!(
                                "cannot sort by `{field}`; sortable fields: {}",
                                fields.join(", ")
                            ),
                        ));
                    }
                    let dir = match sortdir {
                        Some(d) if dir == 1 => d as i8,
                        _ => dir,
                    };
                    sort.push(SortKey {
                        field: field.to_owned(),
                        dir,
                    });
                }
            }
            None => {
                if let Some(field) = &self.default_sort {
                    let dir = sortdir.map_or(self.default_sortdir, |d| d as i8);
                    sort.push(SortKey {
                        field: field.clone(),
                        dir,
                    });
                }
            }
        }
        Ok(Paging {
            limit,
            offset,
            sort,
        })
    }
}

/// The number a query parameter holds, checked against the range the added parameter's
/// schema gives; `None` when absent or not a number (a document's own non-numeric parameter).
fn count(
    query: &ParamValues,
    name: &'static str,
    max: Option<u64>,
) -> Result<Option<u64>, (&'static str, String)> {
    let Some(Value::Number(number)) = query.get(name) else {
        return Ok(None);
    };
    match (number.as_u64(), max) {
        (Some(n), Some(max)) if n > max => Err((
            name,
            format!("expected ≤ {max} (the `x-paging` maximum), got {n}"),
        )),
        (Some(n), _) => Ok(Some(n)),
        (None, Some(max)) => Err((
            name,
            format!("expected an integer from 0 to {max}, got {number}"),
        )),
        (None, None) => Err((name, format!("expected an integer ≥ 0, got {number}"))),
    }
}

/// Writes the query pair of a paging parameter (`limit`, `offset`, `sort`, `sortdir`) from the
/// merged request; answers false for any other name. One sort key goes as `sort` and
/// `sortdir`; several as one `sort` list (`-price,name`) without `sortdir`.
pub(crate) fn write_merged(paging: &Paging, name: &str, out: &mut String) -> bool {
    match name {
        "limit" => params::push_pair(out, name, |o| params::push_digits(o, paging.limit)),
        "offset" => params::push_pair(out, name, |o| params::push_digits(o, paging.offset)),
        "sort" => match paging.sort.as_slice() {
            [] => {}
            [only] => params::push_pair(out, name, |o| params::push_encoded(o, &only.field)),
            keys => params::push_pair(out, name, |o| {
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        // The list is one value: its commas are data, as a string's are.
                        o.push_str("%2C");
                    }
                    if key.dir < 0 {
                        o.push('-');
                    }
                    params::push_encoded(o, &key.field);
                }
            }),
        },
        "sortdir" => {
            if let [only] = paging.sort.as_slice() {
                params::push_pair(out, name, |o| {
                    if only.dir < 0 {
                        o.push('-');
                    }
                    params::push_digits(o, u64::from(only.dir.unsigned_abs()));
                });
            }
        }
        _ => return false,
    }
    true
}

/// Adds the paging parameters to every `x-paging` operation of `doc` that does not declare
/// them itself; answers problems as (pointer, message).
///
/// Path items and operations are followed through their `$ref`s, as the compiler reads them;
/// a broken `$ref` is left for the compiler to report.
///
/// In a Swagger 2.0 document (`v2`) the parameters are written in the 2.0 form, their schema's
/// keywords on the parameter itself.
pub(crate) fn augment(doc: &mut Value, problems: &mut Vec<(String, String)>, v2: bool) {
    use crate::spec::pointer;
    let Some(Value::Object(paths)) = doc.get("paths") else {
        return;
    };
    // (pointer of the operation, parameters to add), gathered before `doc` changes.
    let mut additions: Vec<(String, Vec<Value>)> = Vec::new();
    for template in paths.keys().filter(|k| !crate::spec::is_extension(k)) {
        let Some((item, item_at)) = resolved(doc, &pointer::join("/paths", template)) else {
            continue;
        };
        let item_params = declared_names(doc, item.get("parameters"));
        let added = crate::spec::methods::reads_added_methods(doc);
        for found in crate::spec::methods::operations(item, &item_at, added) {
            let Some((op, op_at)) = resolved(doc, &found.at) else {
                continue;
            };
            // An operation reached from several paths gets its parameters once.
            if additions.iter().any(|(at, _)| *at == op_at) {
                continue;
            }
            let Some(extension) = op.get("x-paging") else {
                continue;
            };
            let config = match PagingConfig::from_extension(extension) {
                Ok(Some(config)) => config,
                Ok(None) => continue,
                Err(e) => {
                    problems.push((pointer::join(&op_at, "x-paging"), e));
                    continue;
                }
            };
            let mut declared = item_params.clone();
            declared.extend(declared_names(doc, op.get("parameters")));
            let added: Vec<Value> = config
                .parameters()
                .into_iter()
                .filter(|p| !declared.iter().any(|d| p["name"] == d.as_str()))
                .map(|p| if v2 { parameter_2_0(p) } else { p })
                .collect();
            additions.push((op_at, added));
        }
    }
    for (op_at, added) in additions {
        if let Some(Value::Object(op)) = crate::spec::pointer::get_mut(doc, &op_at) {
            match op
                .entry("parameters")
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(list) => list.extend(added),
                _ => problems.push((op_at.clone(), "`parameters` must be a list".into())),
            }
        }
    }
}

/// A parameter object in the Swagger 2.0 form: the schema's keywords on the parameter.
fn parameter_2_0(mut parameter: Value) -> Value {
    if let Value::Object(map) = &mut parameter
        && let Some(Value::Object(schema)) = map.shift_remove("schema")
    {
        map.extend(schema);
    }
    parameter
}

impl PagingConfig {
    /// The paging of an operation that declares `limit`, `offset`, `sort` and `sortdir` itself
    /// (Girder's `pagingParams`), read from their defaults; no cap beyond their own schemas.
    pub(crate) fn girder(default_of: impl Fn(&str) -> Option<Value>) -> Self {
        let default_limit = default_of("limit").and_then(|v| v.as_u64()).unwrap_or(50);
        Self {
            default_sort: default_of("sort").and_then(|v| v.as_str().map(str::to_owned)),
            default_sortdir: match default_of("sortdir").and_then(|v| v.as_i64()) {
                Some(-1) => -1,
                _ => 1,
            },
            default_limit,
            max_limit: u64::MAX,
            sort_fields: None,
        }
    }
}

/// The node at `at` and its pointer, following `$ref`s; `None` when the chain is broken.
fn resolved<'a>(doc: &'a Value, at: &str) -> Option<(&'a Value, String)> {
    let node = crate::spec::pointer::get(doc, at)?;
    crate::spec::pointer::resolve(doc, node, at).ok()
}

/// Names of the query parameters in a `parameters` list (following `$ref`s).
fn declared_names(doc: &Value, list: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(list)) = list else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|p| {
            crate::spec::pointer::resolve(doc, p, "")
                .ok()
                .map(|(p, _)| p)
        })
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(v: Value) -> ParamValues {
        v.as_object().cloned().unwrap().into()
    }

    #[test]
    fn merges_both_forms() {
        let config = PagingConfig {
            sort_fields: Some(vec!["name".into(), "created".into()]),
            ..PagingConfig::default()
        };
        // (query, expected limit, offset, sort keys) or the error's parameter
        type Row = (
            Value,
            Result<(u64, u64, Vec<(&'static str, i8)>), &'static str>,
        );
        let rows: Vec<Row> = vec![
            (json!({}), Ok((50, 0, vec![]))),
            (json!({"limit": 5, "offset": 10}), Ok((5, 10, vec![]))),
            (json!({"sort": "name"}), Ok((50, 0, vec![("name", 1)]))),
            (
                json!({"sort": "name", "sortdir": -1}),
                Ok((50, 0, vec![("name", -1)])),
            ),
            (
                json!({"sort": "name,-created"}),
                Ok((50, 0, vec![("name", 1), ("created", -1)])),
            ),
            (
                json!({"sort": "-created"}),
                Ok((50, 0, vec![("created", -1)])),
            ),
            (
                json!({"sort": "name,-created", "sortdir": 1}),
                Err("sortdir"),
            ),
            (json!({"sort": "-name", "sortdir": 1}), Err("sortdir")),
            (json!({"sort": "+name", "sortdir": -1}), Err("sortdir")),
            (
                json!({"sort": "-name", "sortdir": -1}),
                Ok((50, 0, vec![("name", -1)])),
            ),
            (json!({"sort": "age"}), Err("sort")),
            (json!({"sort": "name,,created"}), Err("sort")),
            // A document's own parameters, with looser schemas, still meet the range.
            (json!({"limit": 1000}), Ok((1000, 0, vec![]))),
            (json!({"limit": 1001}), Err("limit")),
            (json!({"limit": -1}), Err("limit")),
            (json!({"limit": 2.5}), Err("limit")),
            (json!({"offset": -1}), Err("offset")),
            (json!({"sort": "name", "sortdir": 2}), Err("sortdir")),
            (json!({"sortdir": 0}), Err("sortdir")),
        ];
        for (q, want) in rows {
            let got = config.merge(&query(q.clone()));
            match (got, want) {
                (Ok(p), Ok((limit, offset, sort))) => {
                    let sort: Vec<SortKey> = sort
                        .into_iter()
                        .map(|(f, d)| SortKey {
                            field: f.into(),
                            dir: d,
                        })
                        .collect();
                    assert_eq!(
                        p,
                        Paging {
                            limit,
                            offset,
                            sort
                        },
                        "{q}"
                    );
                }
                (Err((name, _)), Err(want)) => assert_eq!(name, want, "{q}"),
                (got, want) => panic!("{q}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_low_max_limit_lowers_the_default() {
        let config = PagingConfig::from_extension(&json!({"max_limit": 10}))
            .unwrap()
            .unwrap();
        assert_eq!((config.default_limit, config.max_limit), (10, 10));
    }

    #[test]
    fn default_sort_applies_when_absent() {
        let config =
            PagingConfig::from_extension(&json!({"default_sort": "name", "default_sortdir": -1}))
                .unwrap()
                .unwrap();
        let p = config.merge(&ParamValues::default()).unwrap();
        assert_eq!(
            p.sort,
            vec![SortKey {
                field: "name".into(),
                dir: -1
            }]
        );
        let p = config.merge(&query(json!({"sortdir": 1}))).unwrap();
        assert_eq!(p.sort[0].dir, 1);
    }

    #[test]
    fn reads_the_extension() {
        let rows: Vec<(Value, Result<bool, &str>)> = vec![
            (json!(true), Ok(true)),
            (json!(false), Ok(false)),
            (json!({"max_limit": 10, "default_limit": 5}), Ok(true)),
            (json!({"max_limit": 10, "default_limit": 50}), Err("above")),
            (json!({"max_limit": 10}), Ok(true)),
            (json!({"maxlimit": 10}), Err("unknown")),
            (json!({"default_sortdir": 2}), Err("1 or -1")),
            (
                json!({"default_sort": "x", "sort_fields": ["y"]}),
                Err("not one of"),
            ),
            (json!("yes"), Err("must be")),
        ];
        for (v, want) in rows {
            match (PagingConfig::from_extension(&v), want) {
                (Ok(c), Ok(on)) => assert_eq!(c.is_some(), on, "{v}"),
                (Err(e), Err(part)) => assert!(e.contains(part), "{v}: {e}"),
                (got, want) => panic!("{v}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn adds_undeclared_parameters_only() {
        let mut doc = json!({"paths": {"/items": {"get": {"x-paging": true, "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]}}}});
        let mut problems = Vec::new();
        augment(&mut doc, &mut problems, false);
        assert!(problems.is_empty());
        let names: Vec<&str> = doc["paths"]["/items"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["limit", "offset", "sort", "sortdir"]);
    }

    #[test]
    fn follows_path_item_refs_and_adds_once() {
        let mut doc = json!({
            "paths": {
                "/a": {"$ref": "#/x-oasgate-files/items.yaml/pages"},
                "/b": {"$ref": "#/x-oasgate-files/items.yaml/pages"},
                "/c": {"get": {"$ref": "#/x-oasgate-files/items.yaml/pages/get"}}
            },
            "x-oasgate-files": {"items.yaml": {"pages": {"get": {"x-paging": true}}}}
        });
        let mut problems = Vec::new();
        augment(&mut doc, &mut problems, false);
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<&str> = doc["x-oasgate-files"]["items.yaml"]["pages"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["limit", "offset", "sort", "sortdir"]);
        assert_eq!(
            doc["paths"]["/a"],
            json!({"$ref": "#/x-oasgate-files/items.yaml/pages"})
        );
    }
}
