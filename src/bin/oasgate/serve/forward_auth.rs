//! Forward-auth mode: answer a gateway's sub-request about the original request.
//!
//! The original method and URI come from `X-Original-Method` + `X-Original-URI` (nginx
//! `auth_request`), `X-Forwarded-Method` + `X-Forwarded-Uri` (Traefik `ForwardAuth`, Caddy
//! `forward_auth`), or the request itself with `auth_prefix` removed (Envoy `ext_authz` HTTP
//! service). `server.forward_auth_headers` names the one convention to read; without it a
//! sub-request carrying both URI headers is refused, never settled by a preference, since a
//! client can send the other gateway's header through. The headers are the original request's. No body arrives this way (nginx never sends one), so bodies are not
//! checked: route, credentials and parameters are.

use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use oasgate::config::ForwardAuthHeaders;
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
    match original(&parts, &settings.auth_prefix, settings.forward_auth_headers) {
        Ok(original) => {
            parts.method = original.method;
            parts.uri = original.uri;
            if let Some(host) = original.host {
                parts.headers.insert(http::header::HOST, host);
            }
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

/// The headers one gateway convention passes the original request in.
struct Convention {
    /// The setting's name, for messages.
    name: &'static str,
    uri: &'static str,
    method: &'static str,
    /// The original `Host`, when the convention passes it.
    host: Option<&'static str>,
}

/// nginx `auth_request`.
const NGINX: Convention = Convention {
    name: "nginx",
    uri: "X-Original-URI",
    method: "X-Original-Method",
    host: None,
};

/// Traefik `ForwardAuth` and Caddy `forward_auth`.
const TRAEFIK: Convention = Convention {
    name: "traefik",
    uri: "X-Forwarded-Uri",
    method: "X-Forwarded-Method",
    host: Some("X-Forwarded-Host"),
};

/// The original request as the gateway in front describes it.
#[derive(Debug)]
struct Original {
    method: Method,
    uri: Uri,
    host: Option<HeaderValue>,
}

/// The original request's method and URI (and host, from Traefik), from the configured
/// gateway's headers; unconfigured, from whichever convention is present, and refused when
/// two are: a client can add the other gateway's headers, and only one set is the gateway's.
fn original(
    parts: &Parts,
    auth_prefix: &str,
    configured: Option<ForwardAuthHeaders>,
) -> Result<Original, String> {
    let headers = &parts.headers;
    let convention = match configured {
        Some(ForwardAuthHeaders::Nginx) => Some(&NGINX),
        Some(ForwardAuthHeaders::Traefik) => Some(&TRAEFIK),
        Some(ForwardAuthHeaders::Envoy) => None,
        None => match (
            headers.contains_key(NGINX.uri),
            headers.contains_key(TRAEFIK.uri),
        ) {
            (true, true) => {
                return Err(format!(
                    "the sub-request carries both `{}` (nginx) and `{}` (Traefik); set \
                     `server.forward_auth_headers` to the gateway in front",
                    NGINX.uri, TRAEFIK.uri
                ));
            }
            (true, false) => Some(&NGINX),
            (false, true) => Some(&TRAEFIK),
            (false, false) => None,
        },
    };
    if let Some(convention) = convention {
        let Some(uri) = single(headers, convention.uri)? else {
            return Err(format!(
                "the sub-request has no `{}` header; expected one from {} \
                 (`server.forward_auth_headers: {}`)",
                convention.uri, convention.name, convention.name
            ));
        };
        let uri = uri
            .to_str()
            .ok()
            .and_then(|uri| uri.parse::<Uri>().ok())
            .ok_or_else(|| format!("`{}` is not a request URI", convention.uri))?;
        let method = match single(headers, convention.method)? {
            Some(m) => Method::from_bytes(m.as_bytes())
                .map_err(|_| format!("`{}` is not an HTTP method", convention.method))?,
            None => parts.method.clone(),
        };
        let host = match convention.host {
            Some(name) => single(headers, name)?.cloned(),
            None => None,
        };
        return Ok(Original { method, uri, host });
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
    Ok(Original {
        method: parts.method.clone(),
        uri,
        host: None,
    })
}

/// The one value of header `name`; two values are refused: which one the gateway set and
/// which one the client sent cannot be told apart.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h HeaderValue>, String> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(_), Some(_)) => Err(format!(
            "`{name}` appears more than once; a gateway sends it once"
        )),
        (value, _) => Ok(value),
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table rows are tuples
mod tests {
    use super::*;
    use ForwardAuthHeaders::{Envoy, Nginx, Traefik};

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn finds_the_original_request() {
        // (request method, request URI, headers, auth prefix, setting, expected method and URI)
        let rows: [(
            &str,
            &str,
            &[(&str, &str)],
            &str,
            Option<ForwardAuthHeaders>,
            (&str, &str),
        ); 12] = [
            (
                "GET",
                "/_auth",
                &[
                    ("x-original-uri", "/v2/pets?limit=3"),
                    ("x-original-method", "POST"),
                ],
                "",
                None,
                ("POST", "/v2/pets?limit=3"),
            ),
            (
                "DELETE",
                "/_auth",
                &[("x-original-uri", "/v2/pets/1")],
                "",
                None,
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
                None,
                ("PUT", "/v2/pets"),
            ),
            (
                "PATCH",
                "/authz/v2/pets/7?x=1",
                &[],
                "/authz",
                None,
                ("PATCH", "/v2/pets/7?x=1"),
            ),
            ("GET", "/v2/pets", &[], "", None, ("GET", "/v2/pets")),
            (
                "GET",
                "/authzed/v2",
                &[],
                "/authz",
                None,
                ("GET", "/authzed/v2"),
            ),
            // Configured: the other convention's headers are ignored, whatever they say.
            (
                "GET",
                "/",
                &[
                    ("x-forwarded-uri", "/v2/admin"),
                    ("x-forwarded-method", "DELETE"),
                    ("x-original-uri", "/v2/pets"),
                    ("x-original-method", "GET"),
                ],
                "",
                Some(Traefik),
                ("DELETE", "/v2/admin"),
            ),
            (
                "GET",
                "/_auth",
                &[
                    ("x-original-uri", "/v2/admin"),
                    ("x-forwarded-uri", "/v2/pets"),
                    ("x-forwarded-method", "HEAD"),
                ],
                "",
                Some(Nginx),
                ("GET", "/v2/admin"),
            ),
            (
                "POST",
                "/authz/v2/admin",
                &[
                    ("x-original-uri", "/v2/pets"),
                    ("x-forwarded-uri", "/v2/pets"),
                ],
                "/authz",
                Some(Envoy),
                ("POST", "/v2/admin"),
            ),
            (
                "GET",
                "/v2/admin",
                &[("x-forwarded-uri", "/v2/pets")],
                "",
                Some(Envoy),
                ("GET", "/v2/admin"),
            ),
            // One value of the other convention's header twice is not this convention's concern.
            (
                "GET",
                "/_auth",
                &[
                    ("x-original-uri", "/v2/pets"),
                    ("x-forwarded-uri", "/a"),
                    ("x-forwarded-uri", "/b"),
                ],
                "",
                Some(Nginx),
                ("GET", "/v2/pets"),
            ),
            (
                "GET",
                "/",
                &[
                    ("x-forwarded-uri", "/v2/pets"),
                    ("x-forwarded-host", "api.example"),
                ],
                "",
                Some(Traefik),
                ("GET", "/v2/pets"),
            ),
        ];
        for (i, (method, uri, headers, prefix, setting, want)) in rows.into_iter().enumerate() {
            let parts = parts(method, uri, headers);
            let got = original(&parts, prefix, setting)
                .unwrap_or_else(|e| panic!("row {i}: {method} {uri}: {e}"));
            assert_eq!(
                (got.method.as_str(), got.uri.to_string().as_str()),
                want,
                "row {i}: {method} {uri}"
            );
        }
        let traefik = parts(
            "GET",
            "/",
            &[
                ("x-forwarded-uri", "/v2/pets"),
                ("x-forwarded-host", "api.example"),
            ],
        );
        let host = original(&traefik, "", Some(Traefik)).unwrap().host;
        assert_eq!(
            host.as_ref().map(|h| h.as_bytes()),
            Some(&b"api.example"[..])
        );
    }

    #[test]
    fn refuses_what_a_client_could_have_added() {
        // (headers, setting, words the message must hold)
        let rows: [(&[(&str, &str)], Option<ForwardAuthHeaders>, &[&str]); 9] = [
            // Traefik passes every client header on: a client's `X-Original-URI` next to
            // Traefik's own `X-Forwarded-Uri` must not pick the URI that is checked.
            (
                &[
                    ("x-forwarded-uri", "/v2/admin"),
                    ("x-original-uri", "/v2/pets"),
                ],
                None,
                &[
                    "`X-Original-URI`",
                    "`X-Forwarded-Uri`",
                    "forward_auth_headers",
                ],
            ),
            (
                &[
                    ("x-original-uri", "/v2/pets"),
                    ("x-original-uri", "/v2/admin"),
                ],
                None,
                &["`X-Original-URI` appears more than once"],
            ),
            (
                &[
                    ("x-forwarded-uri", "/v2/pets"),
                    ("x-forwarded-uri", "/v2/admin"),
                ],
                Some(Traefik),
                &["`X-Forwarded-Uri` appears more than once"],
            ),
            (
                &[
                    ("x-forwarded-uri", "/v2/pets"),
                    ("x-forwarded-method", "GET"),
                    ("x-forwarded-method", "DELETE"),
                ],
                None,
                &["`X-Forwarded-Method` appears more than once"],
            ),
            (
                &[
                    ("x-forwarded-uri", "/v2/pets"),
                    ("x-forwarded-host", "a"),
                    ("x-forwarded-host", "b"),
                ],
                Some(Traefik),
                &["`X-Forwarded-Host` appears more than once"],
            ),
            // Configured, the convention's URI header is required.
            (
                &[("x-forwarded-uri", "/v2/pets")],
                Some(Nginx),
                &["no `X-Original-URI`", "nginx"],
            ),
            (
                &[("x-original-uri", "/v2/pets")],
                Some(Traefik),
                &["no `X-Forwarded-Uri`", "traefik"],
            ),
            (
                &[
                    ("x-original-uri", "/ok"),
                    ("x-original-method", "NOT A METHOD"),
                ],
                None,
                &["`X-Original-Method` is not an HTTP method"],
            ),
            (
                &[("x-original-uri", "not a uri")],
                Some(Nginx),
                &["`X-Original-URI` is not a request URI"],
            ),
        ];
        for (i, (headers, setting, words)) in rows.into_iter().enumerate() {
            let parts = parts("GET", "/_auth", headers);
            let error = original(&parts, "", setting).expect_err(&format!("row {i}"));
            for word in words {
                assert!(error.contains(word), "row {i}: `{word}` not in: {error}");
            }
        }
    }
}
