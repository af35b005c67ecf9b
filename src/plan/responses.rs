//! The compiled response plan: per operation, what each status may answer.
//!
//! Built at start-up, only for operations whose responses are validated
//! ([`Options::response_validation`](crate::Options::response_validation) or
//! `x-oasgate-response-validation`). Schemas are compiled against a *response view* of the
//! document, in which `writeOnly` properties must not appear and are not required, while
//! `readOnly` ones are kept, `required` included — the mirror of the request view.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderName;
use serde_json::Value;

use super::schema::{Check, Compiler, is_secret_schema};
use super::{StreamBuilder, StreamCheck};
use crate::body::MediaType;
use crate::options::ResponseValidation;
use crate::params::Shape;
use crate::spec::pointer;

/// The extension that sets an operation's own mode.
pub(crate) const EXTENSION: &str = "x-oasgate-response-validation";

/// What an operation may answer, by status.
pub(crate) struct ResponsePlan {
    /// Report or enforce (an operation with validation off has no plan).
    pub mode: ResponseValidation,
    pub entries: Vec<ResponseEntry>,
    /// Exact codes → entry.
    exact: Vec<(u16, usize)>,
    /// `1XX` … `5XX` → entry, by the first digit.
    ranges: [Option<usize>; 6],
    default: Option<usize>,
    /// `200, 4XX, default`, for messages.
    pub declared: String,
    /// Responses seen, for sampling in report mode.
    seen: AtomicU64,
}

/// One entry of `responses`.
pub(crate) struct ResponseEntry {
    /// The key as written: `404`, `4XX`, `default`.
    pub key: Arc<str>,
    pub media: Vec<MediaType<'static>>,
    /// The `content` keys as written, one per entry of `media`.
    pub media_names: Vec<Arc<str>>,
    /// One per entry of `media`.
    pub bodies: Vec<MediaCheck>,
    pub headers: Vec<HeaderCheck>,
    /// `application/json, text/plain`, for messages.
    pub declared_media: String,
}

/// How a body of one declared media type is checked.
pub(crate) struct MediaCheck {
    /// The schema, for JSON bodies (and ranges, which may carry JSON).
    pub check: Check,
    /// The same schema walked over the text, when the walk handles it.
    pub stream: Option<StreamCheck>,
    /// The schema is a string schema: a `text/*` body is checked as one string.
    pub string_schema: bool,
    /// `format: password` or `writeOnly` at the top: never echo the body's values.
    pub secret: bool,
}

/// One declared response header.
pub(crate) struct HeaderCheck {
    pub name: HeaderName,
    pub required: bool,
    pub shape: Shape,
    pub check: Check,
    pub secret: bool,
}

impl ResponsePlan {
    /// Whether this response is checked: always in enforce mode; in report mode one in
    /// `1 / share`, the first included (response `n` is when `⌈(n+1)·share⌉ > ⌈n·share⌉`).
    pub fn sampled(&self, share: f64) -> bool {
        if self.mode == ResponseValidation::Enforce || share >= 1.0 {
            return true;
        }
        let n = self.seen.fetch_add(1, Ordering::Relaxed) as f64;
        ((n + 1.0) * share).ceil() > (n * share).ceil()
    }

    /// The entry for `status`: the exact code, else its range, else `default`.
    ///
    /// OpenAPI 3.1 §4.8.16.2: "If a response is defined using an explicit code, the explicit
    /// code definition takes precedence over the range definition for that code"; `default`
    /// is "the documentation of responses other than the ones declared for specific HTTP
    /// response codes".
    pub fn entry(&self, status: u16) -> Option<usize> {
        self.exact
            .iter()
            .find(|(code, _)| *code == status)
            .map(|&(_, i)| i)
            .or_else(|| {
                self.ranges
                    .get(usize::from(status / 100))
                    .copied()
                    .flatten()
            })
            .or(self.default)
    }
}

/// Whether any operation may validate responses: the option is on, or an operation has the
/// extension.
pub(crate) fn needed(doc: &Value, mode: ResponseValidation) -> bool {
    if mode != ResponseValidation::Off {
        return true;
    }
    // A path item may be a `$ref` (to `components/pathItems` in 3.1, or elsewhere): its
    // operations are those of the target, as the compiler reads them.
    fn resolved<'a>(doc: &'a Value, node: &'a Value, at: String) -> (&'a Value, String) {
        pointer::resolve(doc, node, &at).unwrap_or((node, at))
    }
    let added = crate::spec::methods::reads_added_methods(doc);
    let paths = doc.get("paths").and_then(Value::as_object);
    paths.into_iter().flatten().any(|(key, item)| {
        if crate::spec::is_extension(key) {
            return false;
        }
        // The operations' pointers are below the path item's target.
        let (item, item_at) = resolved(doc, item, pointer::join("/paths", key));
        crate::spec::methods::operations(item, &item_at, added)
            .into_iter()
            .any(|found| {
                pointer::get(doc, &found.at)
                    .map(|op| resolved(doc, op, found.at.clone()).0)
                    .is_some_and(|op| op.get(EXTENSION).is_some())
            })
    })
}

/// The response view: `writeOnly` properties dropped from `required` and forbidden.
pub(crate) fn response_view(doc: Value) -> Value {
    crate::spec::normalize::forbid_flagged(doc, "writeOnly", "x-oasgate-write-only")
}

/// Compiles response plans against the response view; collects every problem.
pub(crate) struct ResponseCompiler<'a> {
    view: &'a Value,
    compiler: Compiler,
    /// The stream checks of every JSON response body, in one node table.
    pub stream: StreamBuilder<'a>,
    /// (pointer, message)
    pub problems: Vec<(String, String)>,
}

impl<'a> ResponseCompiler<'a> {
    /// What the response checks read of the response view (see [`Compiler::narrowing`]).
    pub fn narrowing(&self) -> Option<super::schema::Narrowing> {
        self.compiler.narrowing()
    }

    pub fn new(view: &'a Value, compiler: Compiler) -> Self {
        Self {
            view,
            stream: StreamBuilder::new(view, compiler.patterns().clone()),
            compiler,
            problems: Vec::new(),
        }
    }

    /// The plan of the operation at `op_at`, or `None` when its responses are not validated.
    pub fn operation(&mut self, op_at: &str, global: ResponseValidation) -> Option<ResponsePlan> {
        let (op, op_at) = self.resolve(op_at)?;
        let mode = match op.get(EXTENSION) {
            None => global,
            Some(value) => match value.as_str().and_then(ResponseValidation::parse) {
                Some(mode) => mode,
                None => {
                    self.problems.push((
                        pointer::join(&op_at, EXTENSION),
                        format!("`{EXTENSION}` must be `off`, `report` or `enforce`"),
                    ));
                    return None;
                }
            },
        };
        if mode == ResponseValidation::Off {
            return None;
        }
        let mut plan = ResponsePlan {
            mode,
            entries: Vec::new(),
            exact: Vec::new(),
            ranges: [None; 6],
            default: None,
            declared: String::new(),
            seen: AtomicU64::new(0),
        };
        let responses_at = pointer::join(&op_at, "responses");
        let keys: Vec<String> = match op.get("responses") {
            Some(Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let mut declared = Vec::new();
        for key in keys {
            if key.starts_with("x-") {
                continue;
            }
            let entry_at = pointer::join(&responses_at, &key);
            let slot = match status_key(&key) {
                Some(slot) => slot,
                None => {
                    self.problems.push((
                        entry_at,
                        format!(
                            "response key `{key}` is not a status code (`200`), a range \
                             (`1XX`…`5XX`) or `default`"
                        ),
                    ));
                    continue;
                }
            };
            let Some(entry) = self.entry(&key, &entry_at) else {
                continue;
            };
            let index = plan.entries.len();
            plan.entries.push(entry);
            declared.push(key);
            match slot {
                Slot::Exact(code) => plan.exact.push((code, index)),
                Slot::Range(digit) => plan.ranges[usize::from(digit)] = Some(index),
                Slot::Default => plan.default = Some(index),
            }
        }
        plan.declared = declared.join(", ");
        Some(plan)
    }

    fn resolve(&mut self, at: &str) -> Option<(&'a Value, String)> {
        let node = pointer::get(self.view, at)?;
        match pointer::resolve(self.view, node, at) {
            Ok(found) => Some(found),
            Err(e) => {
                self.problems.push((at.to_owned(), e));
                None
            }
        }
    }

    fn check(&mut self, at: &str) -> Check {
        self.compiler.compile(at).unwrap_or_else(|problems| {
            self.problems.extend(problems);
            Check::Any
        })
    }

    /// As [`check`](Self::check), for a check that only explains what a stream check refused.
    fn explaining_check(&mut self, at: &str) -> Check {
        self.compiler
            .compile_explaining(at)
            .unwrap_or_else(|problems| {
                self.problems.extend(problems);
                Check::Any
            })
    }

    fn entry(&mut self, key: &str, at: &str) -> Option<ResponseEntry> {
        let (node, at) = self.resolve(at)?;
        let mut entry = ResponseEntry {
            key: key.into(),
            media: Vec::new(),
            media_names: Vec::new(),
            bodies: Vec::new(),
            headers: Vec::new(),
            declared_media: String::new(),
        };
        if let Some(Value::Object(content)) = node.get("content") {
            entry.declared_media = content.keys().cloned().collect::<Vec<_>>().join(", ");
            for name in content.keys() {
                let media_at = pointer::join(&pointer::join(&at, "content"), name);
                // 3.2: the entry may be a Reference Object (see `is_v3_2`).
                let (media_entry, media_at) = if crate::spec::is_v3_2(self.view) {
                    match self.resolve(&media_at) {
                        Some(found) => found,
                        None => continue,
                    }
                } else {
                    match pointer::get(self.view, &media_at) {
                        Some(node) => (node, media_at),
                        None => continue,
                    }
                };
                let Some(media) = MediaType::parse(name) else {
                    self.problems
                        .push((media_at, format!("`{name}` is not a media type")));
                    continue;
                };
                let schema_at = pointer::join(&media_at, "schema");
                let schema = media_entry
                    .get("schema")
                    .and_then(|s| pointer::resolve(self.view, s, &schema_at).ok())
                    .map(|(s, _)| s);
                let is_range = media.ty == "*" || media.subtype == "*";
                let string_schema = schema.is_some_and(is_string_schema);
                let read = media.is_json() || is_range || (media.ty == "text" && string_schema);
                let stream = if read && schema.is_some() {
                    self.stream.compile(&schema_at)
                } else {
                    None
                };
                // A JSON body the stream walk takes reaches the full check only when it is
                // invalid; text (a range's string schema) always does.
                let json_only = media.is_json() || is_range && !string_schema;
                let check = match &stream {
                    _ if !read || schema.is_none() => Check::Any,
                    Some(_) if json_only => self.explaining_check(&schema_at),
                    _ => self.check(&schema_at),
                };
                let stream = stream.filter(|_| !matches!(check, Check::Any));
                entry.bodies.push(MediaCheck {
                    check,
                    stream,
                    string_schema,
                    secret: schema.is_some_and(is_secret_schema),
                });
                entry.media.push(media.into_owned());
                entry.media_names.push(name.as_str().into());
            }
        }
        if let Some(Value::Object(headers)) = node.get("headers") {
            let headers_at = pointer::join(&at, "headers");
            for name in headers.keys() {
                // OpenAPI 3.1 §4.8.17.1: "If a response header is defined with the name
                // "Content-Type", it SHALL be ignored."
                if name.eq_ignore_ascii_case("content-type") {
                    continue;
                }
                let header_at = pointer::join(&headers_at, name);
                let Ok(header_name) = HeaderName::from_bytes(name.as_bytes()) else {
                    self.problems
                        .push((header_at, format!("`{name}` is not a header name")));
                    continue;
                };
                let Some((header, header_at)) = self.resolve(&header_at) else {
                    continue;
                };
                let required = header.get("required").and_then(Value::as_bool) == Some(true);
                let schema_at = pointer::join(&header_at, "schema");
                let schema = header
                    .get("schema")
                    .and_then(|s| pointer::resolve(self.view, s, &schema_at).ok())
                    .map(|(s, _)| s);
                let check = match schema {
                    Some(_) => self.check(&schema_at),
                    None => Check::Any,
                };
                entry.headers.push(HeaderCheck {
                    name: header_name,
                    required,
                    shape: schema.map_or(Shape::Primitive(crate::params::Prim::String), |s| {
                        Shape::from_schema(s)
                    }),
                    check,
                    secret: schema.is_some_and(is_secret_schema),
                });
            }
        }
        Some(entry)
    }
}

enum Slot {
    Exact(u16),
    Range(u8),
    Default,
}

/// `200` → exact, `2XX` → range, `default`.
fn status_key(key: &str) -> Option<Slot> {
    if key == "default" {
        return Some(Slot::Default);
    }
    let bytes = key.as_bytes();
    if bytes.len() != 3 || !(b'1'..=b'5').contains(&bytes[0]) {
        return None;
    }
    if bytes[1..].eq_ignore_ascii_case(b"XX") {
        return Some(Slot::Range(bytes[0] - b'0'));
    }
    key.parse::<u16>().ok().map(Slot::Exact)
}

/// A schema whose values are strings (a type of `string`, possibly with `null`).
fn is_string_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keys() {
        let table: [(&str, Option<&str>); 10] = [
            ("200", Some("exact 200")),
            ("404", Some("exact 404")),
            ("599", Some("exact 599")),
            ("2XX", Some("range 2")),
            ("5xx", Some("range 5")),
            ("default", Some("default")),
            ("6XX", None),
            ("20X", None),
            ("2000", None),
            ("Default", None),
        ];
        for (key, expected) in table {
            let got = status_key(key).map(|slot| match slot {
                Slot::Exact(code) => format!("exact {code}"),
                Slot::Range(d) => format!("range {d}"),
                Slot::Default => "default".to_owned(),
            });
            assert_eq!(got.as_deref(), expected, "{key}");
        }
    }
}
