//! Step 4, parameters: path, query, header and cookie values decoded in their declared style,
//! coerced, transformed, defaulted and checked; undeclared query parameters under their
//! policy; Girder-style paging merged; the canonical query the inner service receives.

use http::header;
use http::request::Parts;
use serde_json::Value;

use super::{Rejected, summary, truncate};
use crate::body;
use crate::dates;
use crate::options::UndeclaredParams;
use crate::paging;
use crate::params::{self, DecodeError, Location, Pair, ParamSpec, Style};
use crate::plan::{Operation, Param, Plan, Querystring, QuerystringKind, header_lines};
use crate::problem::{FieldCode, FieldError, Place, Problem, ProblemKind};
use crate::router::Params;
use crate::validated::{ParamValues, Validated};

std::thread_local! {
    /// Where [`Plan::canonical_query`] writes, reused by the thread's requests.
    static CANONICAL_QUERY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The most room [`CANONICAL_QUERY`] keeps between requests.
const KEPT_QUERY_ROOM: usize = 4096;

impl Plan {
    /// Every parameter of `op`, checked: what the handler receives, or every error found.
    pub(crate) fn check_parameters<'a>(
        &self,
        op: &'a Operation,
        path: &Params<'_>,
        query: &[Pair<'_>],
        parts: &Parts,
    ) -> Result<Validated, Rejected<'a>> {
        let mut validated = Validated {
            operation_id: op.id.clone(),
            operation: op.id.clone().unwrap_or_else(|| op.label.clone()),
            secret_path: op.secret_path,
            ..Validated::default()
        };
        let mut errors = Vec::new();
        for p in &op.path {
            let raw = path.get(&p.name).unwrap_or_default();
            // Reached only when the document uses `;` elsewhere (see `crate::path`): outside a
            // matrix parameter, Tomcat and Spring would still cut the value at it.
            if p.style != Style::Matrix && raw.contains(';') {
                errors.push(FieldError {
                    place: Place::Path,
                    name: p.name.to_string(),
                    pointer: String::new(),
                    code: FieldCode::Semicolon,
                    detail: format!(
                        "path parameter `{}`: holds a `;`, which some servers read as path parameters; send it as `%3B`",
                        p.name
                    ),
                });
                continue;
            }
            let decoded = params::decode_path(raw, &self.spec(p)).map(Some);
            self.finish_param(p, decoded, &mut validated.path, &mut errors);
        }
        for p in &op.query {
            let decoded = params::decode_query(query, &self.spec(p));
            self.finish_param(p, decoded, &mut validated.query, &mut errors);
        }
        if let Some(qs) = &op.querystring {
            // The parameter declares the whole query: only its schema can refuse a field.
            let raw = parts.uri.query().unwrap_or("");
            match self.check_querystring(op, qs, raw, query) {
                Ok(None) if qs.required => errors.push(querystring_error(
                    qs,
                    "",
                    FieldCode::Required,
                    "is required; the query string is empty".to_owned(),
                )),
                Ok(None) => {}
                Ok(Some(value)) => {
                    if let (QuerystringKind::Form(_), Value::Object(fields)) = (&qs.kind, &value) {
                        validated.query.extend(fields.clone());
                    }
                    validated.querystring = Some(value);
                }
                Err(mut found) => errors.append(&mut found),
            }
        } else if op.undeclared_query == UndeclaredParams::Reject {
            undeclared_query(op, query, &mut errors);
        }
        for (p, name) in op.header_params() {
            let decoded = read_header(&parts.headers, name, &self.spec(p));
            self.finish_param(p, decoded, &mut validated.header, &mut errors);
        }
        if !op.cookie.is_empty() {
            let cookies: Vec<Pair<'_>> = parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(params::split_cookies)
                .collect();
            for p in &op.cookie {
                let decoded = params::decode_cookie(&cookies, &self.spec(p));
                self.finish_param(p, decoded, &mut validated.cookie, &mut errors);
            }
        }
        if errors.is_empty()
            && let Some(config) = &op.paging
        {
            match config.merge(&validated.query) {
                Ok(paging) => validated.paging = Some(paging),
                Err((name, detail)) => errors.push(FieldError {
                    place: Place::Query,
                    name: name.to_owned(),
                    pointer: String::new(),
                    code: FieldCode::Paging,
                    detail: format!("query parameter `{name}`: {detail}"),
                }),
            }
        }
        if !errors.is_empty() {
            let detail = summary(&errors, "parameter");
            let problem = Problem::new(ProblemKind::InvalidParameters, detail)
                .with_errors(errors, self.options.error_cap);
            return Err(Rejected::new(problem, Some(op)));
        }
        Ok(validated)
    }

    /// The query the inner service sees: declared parameters as validated (coerced,
    /// transformed, defaulted, paging merged) in their declared style, then undeclared ones as
    /// sent unless the policy strips them.
    pub(crate) fn canonical_query(
        &self,
        op: &Operation,
        original: &str,
        raw: &[Pair<'_>],
        validated: &Validated,
    ) -> Option<String> {
        // A raw `;` is rewritten as `%3B` below, so such a query is always rewritten. A
        // querystring parameter's query string is one value in its own media type: it goes on
        // as sent.
        if !self.options.canonical_query
            || op.querystring.is_some()
            || (op.query.is_empty()
                && op.undeclared_query != UndeclaredParams::Strip
                && !original.contains(';'))
        {
            return None;
        }
        // Written into a buffer kept by the thread: most queries are canonical as sent, and
        // then nothing is allocated.
        CANONICAL_QUERY.with_borrow_mut(|out| {
            out.clear();
            self.write_canonical_query(op, raw, validated, out);
            // Rebuilding the URI costs more than this comparison: skip it when nothing changed.
            let rewritten = (out != original).then(|| out.clone());
            // A rare long query does not keep its room for the thread's life.
            if out.capacity() > KEPT_QUERY_ROOM {
                *out = String::new();
            }
            rewritten
        })
    }

    /// Writes the query [`canonical_query`](Self::canonical_query) hands on into `out`.
    fn write_canonical_query(
        &self,
        op: &Operation,
        raw: &[Pair<'_>],
        validated: &Validated,
        out: &mut String,
    ) {
        // `validated.query` holds the declared parameters present in declaration order
        // (`check_parameters` fills it so, and serde_json's `preserve_order` keeps insertion
        // order): walked beside `op.query`, no name is hashed and looked up.
        let mut present = validated.query.iter().peekable();
        for p in &op.query {
            let value = present
                .next_if(|(name, _)| *name == &*p.name)
                .map(|(_, value)| value);
            // The merged paging is written straight from `Paging`, without building values.
            if let Some(paging) = &validated.paging
                && paging::write_merged(paging, &p.name, out)
            {
                continue;
            }
            let Some(value) = value else {
                continue;
            };
            if p.json_content {
                params::encode_query(
                    &p.name,
                    Style::Form,
                    true,
                    &Value::String(value.to_string()),
                    out,
                );
            } else {
                params::encode_query(&p.name, p.style, p.explode, value, out);
            }
        }
        // Parameters were written above; credentials go on as sent (the inner service may be
        // the one checking them), then undeclared pairs unless the policy strips them.
        let keep_undeclared = op.undeclared_query != UndeclaredParams::Strip;
        for pair in raw {
            let keep = match pair.name.as_deref() {
                Some(name) if is_parameter(op, name) => false,
                Some(name) if is_credential(op, name) => true,
                _ => keep_undeclared,
            };
            if keep {
                params::push_raw_pair(out, pair.raw_name, pair.value);
            }
        }
    }

    /// Reads and checks the query string of an `in: querystring` parameter; `Ok(None)` when
    /// it is empty.
    fn check_querystring(
        &self,
        op: &Operation,
        qs: &Querystring,
        raw: &str,
        pairs: &[Pair<'_>],
    ) -> Result<Option<Value>, Vec<FieldError>> {
        if pairs.is_empty() {
            return Ok(None);
        }
        let value = match &qs.kind {
            QuerystringKind::Form(fields) => {
                // 3.2, "Parameter Locations": read "in the same way as with request bodies of
                // that media type", so the body's form reader reads it: `+` is a space, `%26`
                // is data, repeated names make an array where the schema says array.
                // A raw `;` was refused before (`ambiguous`): the query goes on as sent.
                // API keys sent in the query belong to their security scheme, not the form.
                let kept: String;
                let credential = |pair: &Pair<'_>| {
                    pair.name
                        .as_deref()
                        .is_some_and(|name| is_credential(op, name))
                };
                let text = if pairs.iter().any(credential) {
                    kept = pairs
                        .iter()
                        .filter(|pair| !credential(pair))
                        .map(|pair| format!("{}={}", pair.raw_name, pair.value))
                        .collect::<Vec<_>>()
                        .join("&");
                    kept.as_str()
                } else {
                    raw
                };
                body::parse_form(
                    text.as_bytes(),
                    fields,
                    &self.coercion,
                    self.options.query_params_limit,
                )
                .map_err(|found| {
                    found
                        .into_iter()
                        .map(|e| querystring_error(qs, &e.pointer, e.code, e.detail))
                        .collect::<Vec<_>>()
                })?
            }
            QuerystringKind::Json | QuerystringKind::Text => {
                // Percent-decoding only: the 3.2 example serializes `{"numbers":[1,2],...}` as
                // `%7B%22numbers%22...`, and `+` is a space only in form-urlencoded content.
                let text = percent_encoding::percent_decode_str(raw)
                    .decode_utf8()
                    .map_err(|_| {
                        vec![querystring_error(
                            qs,
                            "",
                            FieldCode::Encoding,
                            "is not UTF-8 once percent-decoded".to_owned(),
                        )]
                    })?;
                if matches!(qs.kind, QuerystringKind::Text) {
                    Value::String(text.into_owned())
                } else {
                    self.querystring_json(qs, &text)?
                }
            }
        };
        if !qs.check.is_valid(&value) {
            return Err(qs
                .check
                .violations(&value, qs.secret)
                .into_iter()
                .map(|v| querystring_error(qs, &v.pointer, v.code, v.detail))
                .collect());
        }
        Ok(Some(value))
    }

    /// The JSON of a `content: application/json` query string, read as a JSON parameter is.
    fn querystring_json(&self, qs: &Querystring, text: &str) -> Result<Value, Vec<FieldError>> {
        let depth = self.options.json_depth_limit;
        if body::nesting_exceeds(text.as_bytes(), depth).is_some() {
            return Err(vec![querystring_error(
                qs,
                "",
                FieldCode::Depth,
                format!("nests arrays and objects deeper than {depth} levels"),
            )]);
        }
        body::parse_json(text.as_bytes(), depth).map_err(|malformed| match malformed.duplicate {
            Some(pointer) => vec![querystring_error(
                qs,
                &pointer,
                FieldCode::Duplicate,
                "has a member name twice in one object; expected unique names".to_owned(),
            )],
            None => vec![querystring_error(
                qs,
                "",
                FieldCode::Json,
                "expected the percent-decoded query string to be a JSON value".to_owned(),
            )],
        })
    }

    fn spec<'p>(&'p self, p: &'p Param) -> ParamSpec<'p> {
        ParamSpec {
            name: &p.name,
            style: p.style,
            explode: p.explode,
            shape: &p.shape,
            allow_empty: p.allow_empty,
            coercion: &self.coercion,
        }
    }

    /// Applies required/default, JSON content and the schema check to one decoded parameter.
    fn finish_param(
        &self,
        p: &Param,
        decoded: Result<Option<Value>, DecodeError>,
        into: &mut ParamValues,
        errors: &mut Vec<FieldError>,
    ) {
        let place = place_of(p.location);
        let value = match decoded {
            Err(e) => {
                let detail = if p.secret {
                    format!("invalid value (`{}`; value hidden)", e.code)
                } else {
                    e.detail
                };
                errors.push(param_error(p, place, "", e.code, detail));
                return;
            }
            Ok(None) => {
                if let Some(default) = &p.default {
                    into.push(&p.name, default.clone());
                } else if p.required {
                    errors.push(param_error(
                        p,
                        place,
                        "",
                        FieldCode::Required,
                        "is required".to_owned(),
                    ));
                }
                return;
            }
            Ok(Some(value)) => value,
        };
        let mut value = value;
        if !p.transform.is_identity() {
            p.transform.apply(&mut value);
        }
        if let (Some(date), Value::String(text)) = (p.date, &value) {
            let canonical = if date.lenient {
                self.dates.parse(text, date.kind, chrono::Utc::now())
            } else {
                dates::canonical_strict(text, date.kind)
            };
            match canonical {
                Ok(c) => value = Value::String(c),
                Err(e) => {
                    let detail = if p.secret {
                        "invalid date (value hidden)".to_owned()
                    } else {
                        e.detail
                    };
                    errors.push(param_error(p, place, "", FieldCode::Format, detail));
                    return;
                }
            }
        }
        let value = if p.json_content {
            let depth = self.options.json_depth_limit;
            if value
                .as_str()
                .is_some_and(|text| body::nesting_exceeds(text.as_bytes(), depth).is_some())
            {
                errors.push(param_error(
                    p,
                    place,
                    "",
                    FieldCode::Depth,
                    format!("nests arrays and objects deeper than {depth} levels"),
                ));
                return;
            }
            // The body's parser: it also refuses a member name given twice in one object.
            match value
                .as_str()
                .map(|text| body::parse_json(text.as_bytes(), depth))
            {
                Some(Ok(parsed)) => parsed,
                Some(Err(malformed)) if malformed.duplicate.is_some() => {
                    let pointer = malformed.duplicate.unwrap_or_default();
                    errors.push(param_error(
                        p,
                        place,
                        &pointer,
                        FieldCode::Duplicate,
                        "has a member name twice in one object; expected unique names".to_owned(),
                    ));
                    return;
                }
                _ => {
                    errors.push(param_error(
                        p,
                        place,
                        "",
                        FieldCode::Json,
                        "expected a JSON value".to_owned(),
                    ));
                    return;
                }
            }
        } else {
            value
        };
        if !p.check.is_valid(&value) {
            for v in p.check.violations(&value, p.secret) {
                errors.push(param_error(p, place, &v.pointer, v.code, v.detail));
            }
            return;
        }
        into.push(&p.name, value);
    }
}

fn place_of(location: Location) -> Place {
    match location {
        Location::Path => Place::Path,
        Location::Query => Place::Query,
        Location::Header => Place::Header,
        Location::Cookie => Place::Cookie,
    }
}

fn param_error(
    p: &Param,
    place: Place,
    pointer: &str,
    code: FieldCode,
    detail: String,
) -> FieldError {
    let at = if pointer.is_empty() {
        String::new()
    } else {
        format!(" at `{pointer}`")
    };
    FieldError {
        place,
        name: String::from(&*p.name),
        pointer: pointer.to_owned(),
        code,
        detail: format!("{} parameter `{}`{at}: {detail}", place.as_str(), p.name),
    }
}

/// An error about an `in: querystring` parameter (the whole query string), at a pointer into
/// its value.
fn querystring_error(
    qs: &Querystring,
    pointer: &str,
    code: FieldCode,
    detail: String,
) -> FieldError {
    let at = if pointer.is_empty() {
        String::new()
    } else {
        format!(" at `{pointer}`")
    };
    FieldError {
        place: Place::Query,
        name: String::from(&*qs.name),
        pointer: pointer.to_owned(),
        code,
        detail: format!("query string (parameter `{}`){at}: {detail}", qs.name),
    }
}

/// A header parameter's value from all its lines; an error when one is not visible ASCII
/// text. A header given once, as most are, is read without gathering its lines.
fn read_header(
    headers: &http::HeaderMap,
    name: Option<&http::HeaderName>,
    spec: &ParamSpec<'_>,
) -> Result<Option<Value>, DecodeError> {
    fn text(v: &http::HeaderValue) -> Result<&str, DecodeError> {
        v.to_str().map_err(|_| DecodeError {
            code: FieldCode::Encoding,
            detail: "the header value is not visible ASCII text".to_owned(),
        })
    }
    let mut lines = header_lines(headers, name);
    match (lines.next(), lines.next()) {
        (None, _) => params::decode_header(&[], spec),
        (Some(one), None) => params::decode_header(&[text(one)?], spec),
        _ => {
            let values = header_lines(headers, name)
                .map(text)
                .collect::<Result<Vec<_>, _>>()?;
            params::decode_header(&values, spec)
        }
    }
}

/// Whether a (decoded) query key belongs to a parameter or a security scheme of `op`.
fn is_declared(op: &Operation, key: &str) -> bool {
    is_parameter(op, key) || is_credential(op, key)
}

/// Whether a (decoded) query key is the name of an `apiKey` scheme `in: query` of `op`.
fn is_credential(op: &Operation, key: &str) -> bool {
    op.extra_query_names.iter().any(|n| n == key)
}

/// Whether a (decoded) query key is read by one of `op`'s query parameters.
fn is_parameter(op: &Operation, key: &str) -> bool {
    op.query.iter().any(|p| {
        *p.name == *key
            || (p.owns_object_keys
                && match &p.shape {
                    params::Shape::Object(o) => {
                        o.properties.iter().any(|(name, _)| name == key)
                            || key
                                .strip_prefix(&*p.name)
                                .is_some_and(|rest| rest.starts_with('['))
                    }
                    _ => false,
                })
    })
}

/// Errors for query keys no parameter (nor security scheme) declares.
fn undeclared_query(op: &Operation, query: &[Pair<'_>], errors: &mut Vec<FieldError>) {
    // Each undeclared name is reported once, however often it is given.
    let mut reported = std::collections::HashSet::new();
    for pair in query {
        if pair
            .name
            .as_deref()
            .is_some_and(|name| is_declared(op, name))
        {
            continue;
        }
        let key = pair.shown_name();
        if reported.insert(key.clone()) {
            let hint = crate::suggest::nearest(&key, op.query.iter().map(|p| &*p.name))
                .map(|name| format!("; did you mean `{name}`?"))
                .unwrap_or_default();
            errors.push(FieldError {
                place: Place::Query,
                name: key.to_string(),
                pointer: String::new(),
                code: FieldCode::Undeclared,
                detail: format!(
                    "query parameter `{}` is not declared by this operation{hint}",
                    truncate(&key)
                ),
            });
        }
    }
}

/// Whether cookie `name` is read by parameter `p` (its own name, or a property of an exploded
/// object).
pub(super) fn reads_cookie(p: &Param, name: &str) -> bool {
    *p.name == *name
        || (p.explode
            && matches!(&p.shape, params::Shape::Object(o)
                if o.properties.iter().any(|(property, _)| property == name)))
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table rows are tuples
mod tests {
    use serde_json::json;

    use crate::options::{Options, UndeclaredParams};
    use crate::request::testing::{parts, plan};

    /// (method, target, headers, what the handler receives or every error's `in`/`name`/`code`).
    #[test]
    fn parameters() {
        let plan = plan(Options::default().undeclared_query(UndeclaredParams::Reject));
        let rows: &[(
            &str,
            &[(&str, &str)],
            Result<serde_json::Value, &[(&str, &str, &str)]>,
        )] = &[
            (
                "/pets?limit=5&tags=a&tags=b",
                &[("x-trace", "abc"), ("cookie", "session=s1")],
                Ok(json!({
                    "path": {}, "query": {"limit": 5, "tags": ["a", "b"]},
                    "header": {"X-Trace": "abc"}, "cookie": {"session": "s1"}
                })),
            ),
            (
                "/pets?limit=500&color=red",
                &[("x-trace", "ABC")],
                Err(&[
                    ("query", "limit", "maximum"),
                    ("query", "color", "undeclared"),
                    ("header", "X-Trace", "pattern"),
                ]),
            ),
            ("/pets?limit=ten", &[], Err(&[("query", "limit", "type")])),
            (
                "/pets/7",
                &[],
                Ok(json!({"path": {"id": 7}, "query": {}, "header": {}, "cookie": {}})),
            ),
            ("/pets/x", &[], Err(&[("path", "id", "type")])),
        ];
        for (target, headers, want) in rows {
            let head = parts("GET", target, headers);
            let route = plan.router.at(head.uri.path()).unwrap();
            let op = &plan.operations[plan.routes[route.id].operation(&head.method).unwrap()];
            let query =
                crate::params::split_query_bounded(head.uri.query().unwrap_or(""), 100, 1000)
                    .unwrap();
            match (
                plan.check_parameters(op, &route.params, &query, &head),
                want,
            ) {
                (Ok(validated), Ok(want)) => {
                    let got = json!({
                        "path": validated.path, "query": validated.query,
                        "header": validated.header, "cookie": validated.cookie
                    });
                    assert_eq!(&got, want, "{target}");
                }
                (Err(rejected), Err(want)) => {
                    let got: Vec<(&str, &str, &str)> = rejected
                        .problem
                        .errors
                        .iter()
                        .map(|e| (e.place.as_str(), e.name.as_str(), e.code.as_str()))
                        .collect();
                    assert_eq!(got, *want, "{target}");
                }
                (got, _) => panic!(
                    "{target}: {:?}",
                    got.map(|v| v.query).map_err(|r| r.problem)
                ),
            }
        }
    }
}
