//! Step 2, limits: the query's pair count and every parameter text's length, checked before
//! anything is decoded, so that an oversized request costs no more than a lookup.
//!
//! In report-only mode a request over these limits is handed on as it was sent, like any
//! other refused request: nothing was read past the limit, and nothing was changed.

use http::header;
use http::request::Parts;

use super::{Rejected, summary};
use crate::params::{self, Pair, Pairs};
use crate::plan::{Operation, Plan};
use crate::problem::{FieldCode, FieldError, Place, Problem, ProblemKind};
use crate::router::Params;

impl Plan {
    /// Splits the query into its raw pairs (into `query`), once the request is within the
    /// limits.
    pub(crate) fn within_limits<'o, 'a>(
        &self,
        op: &'o Operation,
        path: &Params<'_>,
        parts: &'a Parts,
        query: &mut Pairs<'a>,
    ) -> Result<(), Rejected<'o>> {
        let limit = self.options.query_params_limit;
        let cap = self.options.error_cap;
        if !params::split_query_into(
            parts.uri.query().unwrap_or(""),
            limit,
            self.options.param_length_limit,
            query,
        ) {
            let error = FieldError {
                place: Place::Query,
                name: String::new(),
                pointer: String::new(),
                code: FieldCode::TooMany,
                detail: format!("the query string has more than {limit} parameters"),
            };
            let problem = Problem::new(ProblemKind::InvalidParameters, error.detail.clone())
                .with_errors(vec![error], cap);
            return Err(Rejected::new(problem, Some(op)));
        };
        let too_long = self.too_long(op, path, query, parts);
        if !too_long.is_empty() {
            let detail = summary(&too_long, "parameter");
            let problem =
                Problem::new(ProblemKind::InvalidParameters, detail).with_errors(too_long, cap);
            return Err(Rejected::new(problem, Some(op)));
        }
        Ok(())
    }

    /// Errors for every parameter text longer than the limit, found before any is decoded:
    /// every name and value in the query, and the declared path, header and cookie values.
    fn too_long(
        &self,
        op: &Operation,
        path: &Params<'_>,
        query: &[Pair<'_>],
        parts: &Parts,
    ) -> Vec<FieldError> {
        let limit = self.options.param_length_limit;
        let mut errors = Vec::new();
        let mut check = |place: Place, name: &str, what: &str, len: usize| {
            if len > limit {
                // A name too long is cut short: it is the client's text.
                let name = match name.char_indices().nth(64) {
                    Some((cut, _)) => format!("{}…", &name[..cut]),
                    None => name.to_owned(),
                };
                errors.push(FieldError {
                    place,
                    detail: format!(
                        "{} parameter `{name}`: the {what} is {len} bytes long; the limit is {limit}",
                        place.as_str(),
                    ),
                    name,
                    pointer: String::new(),
                    code: FieldCode::TooLong,
                });
            }
        };
        for p in &op.path {
            let len = path.get(&p.name).map_or(0, str::len);
            check(Place::Path, &p.name, "value", len);
        }
        for pair in query {
            let (key, value) = (pair.raw_name, pair.value);
            if key.len() > limit || value.len() > limit {
                let name = pair.shown_name();
                check(Place::Query, &name, "name", key.len());
                check(Place::Query, &name, "value", value.len());
            }
        }
        for (p, name) in op.header_params() {
            for value in crate::plan::header_lines(&parts.headers, name) {
                check(Place::Header, &p.name, "value", value.len());
            }
        }
        if !op.cookie.is_empty() {
            let cookies = parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(params::split_cookies);
            for cookie in cookies {
                // Compared as sent and as decoded: OpenAPI 3.2's `cookie` style decodes nothing.
                let read = |p| {
                    super::parameters::reads_cookie(p, cookie.raw_name)
                        || cookie
                            .name
                            .as_deref()
                            .is_some_and(|name| super::parameters::reads_cookie(p, name))
                };
                if op.cookie.iter().any(read) {
                    check(Place::Cookie, cookie.raw_name, "value", cookie.value.len());
                }
            }
        }
        errors
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table rows are tuples
mod tests {
    use crate::options::Options;
    use crate::request::testing::{parts, plan};

    /// (query and headers, the pairs handed to the next step or the error code).
    #[test]
    fn limits() {
        let plan = plan(
            Options::default()
                .query_params_limit(3)
                .param_length_limit(5),
        );
        let op = &plan.operations[0];
        let route = plan.router.at("/pets").unwrap();
        let rows: &[(&str, &[(&str, &str)], Result<usize, &str>)] = &[
            ("/pets?limit=1&tags=a&tags=b", &[], Ok(3)),
            ("/pets?limit=1&tags=a&tags=b&tags=c", &[], Err("tooMany")),
            ("/pets?limit=123456", &[], Err("tooLong")),
            ("/pets?x123456=1", &[], Err("tooLong")),
            ("/pets", &[("x-trace", "abcdef")], Err("tooLong")),
            ("/pets", &[("cookie", "session=abcdef")], Err("tooLong")),
            // A cookie no parameter reads is not looked at.
            ("/pets", &[("cookie", "other=abcdefgh")], Ok(0)),
        ];
        for (uri, headers, want) in rows {
            let head = parts("GET", uri, headers);
            let mut query = crate::params::Pairs::new();
            let got = plan
                .within_limits(op, &route.params, &head, &mut query)
                .map(|()| query.len())
                .map_err(|rejected| rejected.problem.errors[0].code.as_str());
            assert_eq!(got, *want, "{uri} {headers:?}");
        }
    }
}
