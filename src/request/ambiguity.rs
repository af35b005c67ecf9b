//! Step 2, one reading: what the service behind could read otherwise than oasgate does — a
//! singleton header given twice, a list where one value belongs, an API key given twice, a
//! raw `;` handed on — is refused, so the request validated is the request the service runs.

use http::header;
use http::request::Parts;

use super::{Rejected, summary, truncate};
use crate::params::Pair;
use crate::plan::{Operation, Plan};
use crate::problem::{FieldCode, FieldError, Place, Problem, ProblemKind};
use crate::security::SchemeKind;

impl Plan {
    /// Refuses a request the service could read otherwise than oasgate validated it.
    pub(crate) fn read_one_way<'o>(
        &self,
        op: &'o Operation,
        query: &[Pair<'_>],
        parts: &Parts,
    ) -> Result<(), Rejected<'o>> {
        let repeated = self.ambiguous(op, query, parts);
        if repeated.is_empty() {
            return Ok(());
        }
        let detail = summary(&repeated, "request");
        let problem = Problem::new(ProblemKind::InvalidParameters, detail)
            .with_errors(repeated, self.options.error_cap);
        Err(Rejected::new(problem, Some(op)))
    }

    /// Errors for what the service behind could read otherwise than oasgate did: a singleton
    /// header oasgate reads given more than once, an API key given twice, and, when the query
    /// is passed on as sent, a raw `;`. Allocates nothing when there is none.
    ///
    /// RFC 9110 §5.3: "A sender MUST NOT generate multiple field lines with the same name in a
    /// message ... unless that field's definition allows multiple field line values to be
    /// recombined as a comma-separated list". `Content-Type`, `Authorization` and `Host` are
    /// single values; given twice, one server takes the first, another the last and another
    /// joins them, so whichever oasgate checked, the service may read another.
    fn ambiguous(&self, op: &Operation, query: &[Pair<'_>], parts: &Parts) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let headers = &parts.headers;
        // RFC 9112 §3.2: a server "MUST respond with a 400 (Bad Request) status code to any
        // request message that contains more than one Host header field line or a Host header
        // field with an invalid field value".
        if let Some(host) = single(headers, header::HOST, &mut errors)
            && host.as_bytes().contains(&b',')
        {
            errors.push(listed(Place::Header, header::HOST.as_str()));
        }
        if op.body.is_some()
            && let Some(content_type) = single(headers, header::CONTENT_TYPE, &mut errors)
            && comma_outside_quotes(content_type.as_bytes())
        {
            // `application/json, application/x-www-form-urlencoded` is two media types in
            // one line: a list that `Content-Type` (RFC 9110 §8.3) does not allow.
            errors.push(listed(Place::Header, header::CONTENT_TYPE.as_str()));
        }
        let mut authorization = false;
        for requirement in op.security.alternatives.iter().flatten() {
            match &requirement.check.kind {
                SchemeKind::Bearer | SchemeKind::Basic | SchemeKind::OtherHttp(_) => {
                    authorization = true;
                }
                SchemeKind::ApiKey { place, name } => {
                    let given = match place {
                        Place::Header => requirement
                            .check
                            .header
                            .as_ref()
                            .map_or(0, |header| headers.get_all(header).iter().count()),
                        Place::Cookie => cookie_count(headers, name),
                        Place::Query => query.iter().filter(|pair| pair.is(name)).count(),
                        Place::Path | Place::Body | Place::Status => 0,
                    };
                    let what = match place {
                        Place::Cookie => "cookie",
                        Place::Query => "query parameter",
                        _ => "header",
                    };
                    if given > 1 && !errors.iter().any(|e| e.place == *place && e.name == *name) {
                        errors.push(repeated(*place, name, what));
                    }
                }
                SchemeKind::MutualTls => {}
            }
        }
        if authorization {
            single(headers, header::AUTHORIZATION, &mut errors);
        }
        // A querystring parameter's query string goes on as sent too (see `canonical_query`).
        if (!self.options.canonical_query || op.querystring.is_some())
            && let Some(pair) = query
                .iter()
                .find(|pair| pair.raw_name.contains(';') || pair.value.contains(';'))
        {
            // Passed on as sent, a `;` would be read as a pair delimiter by some servers
            // (Rack 2, older `parse_qs`) and not by oasgate, which splits on `&` only.
            let name = truncate(&pair.shown_name()).to_owned();
            errors.push(FieldError {
                place: Place::Query,
                detail: format!(
                    "query parameter `{name}`: a raw `;` may be read as a delimiter by the \
                     service; expected it percent-encoded as `%3B`"
                ),
                name,
                pointer: String::new(),
                code: FieldCode::Delimiter,
            });
        }
        errors
    }
}

/// The one line of a singleton header, or `None` when it is absent or given more than once
/// (then with an error). One lookup.
fn single<'h>(
    headers: &'h http::HeaderMap,
    name: header::HeaderName,
    errors: &mut Vec<FieldError>,
) -> Option<&'h http::HeaderValue> {
    let mut lines = headers.get_all(&name).iter();
    let first = lines.next()?;
    if lines.next().is_some() {
        errors.push(repeated(Place::Header, name.as_str(), "header"));
        return None;
    }
    Some(first)
}

/// A singleton given more than once; its values are never shown (they may be secrets).
fn repeated(place: Place, name: &str, what: &str) -> FieldError {
    FieldError {
        place,
        name: name.to_owned(),
        pointer: String::new(),
        code: FieldCode::Duplicate,
        detail: format!("{what} `{name}` is given more than once; expected a single value"),
    }
}

/// A singleton header whose one line lists several values.
fn listed(place: Place, name: &str) -> FieldError {
    FieldError {
        place,
        name: name.to_owned(),
        pointer: String::new(),
        code: FieldCode::Duplicate,
        detail: format!("header `{name}` lists several values; expected a single value"),
    }
}

/// Whether a header value has a `,` outside a quoted string (RFC 9110 §5.6.4).
fn comma_outside_quotes(value: &[u8]) -> bool {
    let mut quoted = false;
    let mut escaped = false;
    for &b in value {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            return true;
        }
    }
    false
}

/// How many times cookie `name` is given over every `Cookie` line.
fn cookie_count(headers: &http::HeaderMap, name: &str) -> usize {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            key.trim_matches([' ', '\t']) == name
        })
        .count()
}
