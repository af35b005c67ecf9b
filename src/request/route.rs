//! Step 1, route: the canonical path, the served documents, the operation for the path and
//! method — 404, 405, `HEAD` as `GET`, `OPTIONS`.

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Response, StatusCode, header};

use super::{Rejected, truncate};
use crate::options::UnknownRoutes;
use crate::plan::{Plan, Route};
use crate::problem::{FieldError, Place, Problem, ProblemKind};
use crate::router::Params;
use crate::serve::ServedAnswer;

/// Where a request goes.
pub(crate) enum Routed<'r> {
    /// Answered here: a served document, or `OPTIONS` with `Allow`.
    Answer(Response<Bytes>),
    /// Not ours (an unknown path under pass-through, a CORS preflight): handed on unvalidated,
    /// with the canonical path when it differs from the one sent.
    PassThrough { path: Option<String> },
    /// The operation at `index`, with the raw path parameter values.
    Operation {
        index: usize,
        params: Params<'r>,
        /// The canonical path when it differs from the one sent.
        path: Option<String>,
    },
}

impl Plan {
    /// Routes a request whose canonical path is `path` (`rewritten` when it differs from the
    /// one sent).
    pub(crate) fn route<'r>(
        &'r self,
        parts: &Parts,
        path: &'r str,
        rewritten: bool,
    ) -> Result<Routed<'r>, Rejected<'static>> {
        let changed = || rewritten.then(|| path.to_owned());
        match self.served.respond(parts, path) {
            None => {}
            Some(ServedAnswer::Response(response)) => return Ok(Routed::Answer(response)),
            Some(ServedAnswer::MethodNotAllowed(allow)) => {
                return Err(Rejected::new(method_not_allowed(parts, allow), None));
            }
        }
        let found = if self.options.tolerate_trailing_slash {
            self.router.at_lenient(path)
        } else {
            self.router.at(path)
        };
        let Some(matched) = found else {
            return match self.options.unknown_routes {
                UnknownRoutes::PassThrough => Ok(Routed::PassThrough { path: changed() }),
                UnknownRoutes::Reject => Err(Rejected::new(
                    Problem::new(
                        ProblemKind::NotFound,
                        format!(
                            "no operation has the path `{}`{}",
                            truncate(path),
                            self.under_another_base(path)
                                .map(|p| format!("; did you mean `{p}`?"))
                                .unwrap_or_default()
                        ),
                    ),
                    None,
                )),
            };
        };
        let route = &self.routes[matched.id];
        match route.operation(&parts.method) {
            Some(index) => Ok(Routed::Operation {
                index,
                params: match &self.operations[index].path_names {
                    Some(names) => matched.params.renamed(names),
                    None => matched.params,
                },
                path: changed(),
            }),
            None if parts.method == Method::OPTIONS => {
                Ok(self.options_request(route, parts, changed()))
            }
            None => Err(Rejected::new(
                method_not_allowed(parts, route.allow.clone()),
                None,
            )),
        }
    }

    /// `OPTIONS` on a path without a declared `options` operation. A CORS preflight for a
    /// method the path has goes to the inner service, which may answer it (with tower-http's
    /// `CorsLayer`, say); so does any `OPTIONS` under pass-through. Otherwise the answer is 204
    /// with `Allow` (RFC 9110 §9.3.7: "A server generating a successful response to OPTIONS
    /// SHOULD send any header that might indicate optional features implemented by the server
    /// and applicable to the target resource (e.g., Allow)").
    fn options_request(&self, route: &Route, parts: &Parts, path: Option<String>) -> Routed<'_> {
        let preflight = parts.headers.contains_key(header::ORIGIN)
            && parts
                .headers
                .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
                .is_some_and(|m| route.operation(&m).is_some());
        if preflight || self.options.unknown_routes == UnknownRoutes::PassThrough {
            return Routed::PassThrough { path };
        }
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::NO_CONTENT;
        response
            .headers_mut()
            .insert(header::ALLOW, route.allow.clone());
        Routed::Answer(response)
    }

    /// For a path no operation has: the same path under a base path (a server's, with the
    /// prefix) where one does, such as `/v2/pets` for `/pets`. Built only for the 404.
    fn under_another_base(&self, path: &str) -> Option<String> {
        self.bases
            .iter()
            .filter(|base| !path.starts_with(&format!("{base}/")) && path != base.as_str())
            .map(|base| format!("{base}{path}"))
            .find(|candidate| self.router.at(candidate).is_some())
    }
}

/// The path refused by [`crate::path::canonicalize`], as a problem naming the segment.
pub(super) fn invalid_path(refusal: &crate::path::PathRefusal, cap: usize) -> Problem {
    let error = FieldError {
        place: Place::Path,
        name: String::new(),
        pointer: format!("/{}", refusal.segment),
        code: refusal.fault.code(),
        detail: refusal.to_string(),
    };
    Problem::new(ProblemKind::InvalidPath, error.detail.clone()).with_errors(vec![error], cap)
}

fn method_not_allowed(parts: &Parts, allow: http::HeaderValue) -> Problem {
    let mut problem = Problem::new(
        ProblemKind::MethodNotAllowed,
        format!(
            "method {} is not allowed here; allowed: {}",
            parts.method,
            allow.to_str().unwrap_or_default()
        ),
    );
    problem.allow = Some(allow);
    problem
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table rows are tuples
mod tests {
    use super::*;
    use crate::options::Options;
    use crate::request::testing::{parts, plan};

    /// (method, canonical path, headers, what the route step decides: a status it answers or
    /// refuses with, `pass`, or the operation).
    #[test]
    fn routes() {
        let plan = plan(Options::default());
        let rows: &[(&str, &str, &[(&str, &str)], &str)] = &[
            ("GET", "/pets", &[], "listPets"),
            ("HEAD", "/pets", &[], "listPets"),
            ("POST", "/pets", &[], "addPet"),
            ("GET", "/pets/7", &[], "getPet"),
            ("PUT", "/pets", &[], "405"),
            ("GET", "/cats", &[], "404"),
            ("OPTIONS", "/pets", &[], "204"),
            (
                "OPTIONS",
                "/pets",
                &[
                    ("origin", "https://a.test"),
                    ("access-control-request-method", "POST"),
                ],
                "pass",
            ),
            (
                "OPTIONS",
                "/pets",
                &[
                    ("origin", "https://a.test"),
                    ("access-control-request-method", "PUT"),
                ],
                "204",
            ),
            ("GET", "/openapi.json", &[], "200"),
            ("POST", "/openapi.json", &[], "405"),
        ];
        for (method, path, headers, want) in rows {
            let head = parts(method, path, headers);
            let got = match plan.route(&head, path, false) {
                Ok(Routed::Operation { index, .. }) => plan.operations[index].name().to_owned(),
                Ok(Routed::Answer(response)) => response.status().as_str().to_owned(),
                Ok(Routed::PassThrough { .. }) => "pass".to_owned(),
                Err(rejected) => rejected.problem.status.to_string(),
            };
            assert_eq!(got, *want, "{method} {path} {headers:?}");
        }
    }
}
