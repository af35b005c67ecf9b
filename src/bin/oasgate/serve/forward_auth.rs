//! Forward-auth mode: answer a gateway's sub-request about the original request.
//!
//! The original method and URI come from `X-Original-Method` + `X-Original-URI` (nginx
//! `auth_request`), `X-Forwarded-Method` + `X-Forwarded-Uri` (Traefik `ForwardAuth`), or the
//! request itself with `auth_prefix` removed (Envoy `ext_authz` HTTP service). The headers are
//! the original request's. No body arrives this way (nginx never sends one), so bodies are not
//! checked: route, credentials and parameters are.

use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use oasgate::{OpenApiLayer, ProblemKind};

use super::metrics::Outcome;
use super::{ProxyBody, Settings, full, problem};

/// 200 when the original request is valid (or report-only), otherwise the problem.
pub async fn check(
    layer: &OpenApiLayer,
    settings: &Settings,
    request: Request<()>,
) -> Response<ProxyBody> {
    let (mut parts, ()) = request.into_parts();
    match original(&parts, &settings.auth_prefix) {
        Ok((method, uri)) => {
            parts.method = method;
            parts.uri = uri;
        }
        Err(detail) => {
            return problem(
                ProblemKind::InvalidParameters,
                detail,
                Some(parts.uri.path()),
            );
        }
    }
    let outcome = match layer.check_head(&parts).await {
        Ok(Some(validated)) => Outcome::Accepted(validated.operation),
        Ok(None) => Outcome::Unmatched,
        Err(problem) if settings.enforce => return problem.map(full),
        Err(problem) => Outcome::WouldReject(
            problem
                .extensions()
                .get::<oasgate::Rejection>()
                .and_then(|r| r.operation.clone()),
        ),
    };
    let mut response = Response::new(full(bytes::Bytes::new()));
    *response.status_mut() = StatusCode::OK;
    response.extensions_mut().insert(outcome);
    response
}

/// The original request's method and URI, from whichever gateway convention is present.
fn original(parts: &Parts, auth_prefix: &str) -> Result<(Method, Uri), String> {
    let headers = &parts.headers;
    for (uri_header, method_header) in [
        ("x-original-uri", "x-original-method"),
        ("x-forwarded-uri", "x-forwarded-method"),
    ] {
        if let Some(uri) = text(headers, uri_header)? {
            let method = match text(headers, method_header)? {
                Some(m) => Method::from_bytes(m.as_bytes())
                    .map_err(|_| format!("`{method_header}` is not an HTTP method"))?,
                None => parts.method.clone(),
            };
            let uri: Uri = uri
                .parse()
                .map_err(|_| format!("`{uri_header}` is not a request URI"))?;
            return Ok((method, uri));
        }
    }
    // Envoy: the original path behind the configured prefix.
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let stripped = path_and_query
        .strip_prefix(auth_prefix)
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(path_and_query);
    let uri = stripped
        .parse()
        .map_err(|_| "the request URI cannot be read".to_owned())?;
    Ok((parts.method.clone(), uri))
}

fn text<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, String> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| format!("`{name}` is not visible ASCII"))
        })
        .transpose()
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table rows are tuples
mod tests {
    use super::*;

    #[test]
    fn finds_the_original_request() {
        // (request method, request URI, headers, auth prefix, expected method and URI)
        let rows: [(&str, &str, &[(&str, &str)], &str, (&str, &str)); 6] = [
            (
                "GET",
                "/_auth",
                &[
                    ("x-original-uri", "/v2/pets?limit=3"),
                    ("x-original-method", "POST"),
                ],
                "",
                ("POST", "/v2/pets?limit=3"),
            ),
            (
                "DELETE",
                "/_auth",
                &[("x-original-uri", "/v2/pets/1")],
                "",
                ("DELETE", "/v2/pets/1"),
            ),
            (
                "GET",
                "/",
                &[
                    ("x-forwarded-uri", "/v2/pets"),
                    ("x-forwarded-method", "PUT"),
                ],
                "",
                ("PUT", "/v2/pets"),
            ),
            (
                "PATCH",
                "/authz/v2/pets/7?x=1",
                &[],
                "/authz",
                ("PATCH", "/v2/pets/7?x=1"),
            ),
            ("GET", "/v2/pets", &[], "", ("GET", "/v2/pets")),
            ("GET", "/authzed/v2", &[], "/authz", ("GET", "/authzed/v2")),
        ];
        for (method, uri, headers, prefix, want) in rows {
            let mut builder = Request::builder().method(method).uri(uri);
            for (k, v) in headers {
                builder = builder.header(*k, *v);
            }
            let (parts, ()) = builder.body(()).unwrap().into_parts();
            let (m, u) = original(&parts, prefix).unwrap();
            assert_eq!((m.as_str(), u.to_string().as_str()), want, "{method} {uri}");
        }
        let (parts, ()) = Request::get("/")
            .header("x-original-uri", "/ok")
            .header("x-original-method", "NOT A METHOD")
            .body(())
            .unwrap()
            .into_parts();
        assert!(original(&parts, "").is_err());
    }
}
