//! Credentials: security requirements checked as OR of ANDs, with a pluggable verifier.
//!
//! Without a [`Verifier`], oasgate checks that the credentials an operation requires are
//! present and well-formed (a `Bearer` token, a `Basic` user:password pair, an API key).
//! With one, the alternatives whose credentials are all present are tried in order: the
//! request passes when the verifier allows every credential of one of them, and otherwise
//! gets the first alternative's refusal.
//!
//! # Example
//!
//! ```
//! use oasgate::security::{Credential, Verdict, verifier_fn};
//!
//! let verifier = verifier_fn(|credential: Credential<'_>| {
//!     let ok = credential.value == "s3cret";
//!     async move { if ok { Verdict::Allow } else { Verdict::Unauthenticated("unknown key".into()) } }
//! });
//! let options = oasgate::Options::default().verifier(verifier);
//! # let _ = options;
//! ```

#[cfg(feature = "jwt")]
pub mod jwt;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, header};
use serde_json::Value;

use crate::params::{Pair, split_cookies};
use crate::problem::{Place, Problem, ProblemKind};

/// How a security scheme carries its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    /// `apiKey` in a header, query parameter or cookie with this name.
    ApiKey {
        /// Where the key is sent.
        place: Place,
        /// The header, query parameter or cookie name.
        name: String,
    },
    /// `http` with scheme `bearer`, and `oauth2` / `openIdConnect` (bearer tokens).
    Bearer,
    /// `http` with scheme `basic`.
    Basic,
    /// Another `http` scheme: the `Authorization` header must use it.
    OtherHttp(String),
    /// `mutualTLS`: decided by the TLS layer, not visible here; always satisfied.
    MutualTls,
}

/// A credential found in a request, handed to the [`Verifier`].
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    /// The security scheme's name in `components/securitySchemes`.
    pub scheme: &'a str,
    /// How the scheme carries credentials.
    pub kind: &'a SchemeKind,
    /// The scopes the operation requires of this scheme.
    pub scopes: &'a [String],
    /// The credential: the token, the key, or for Basic the decoded `user:password`.
    pub value: &'a str,
}

/// A verifier's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The credential is good for this operation.
    Allow,
    /// The credential is not valid (401); the text is shown to the client, so no secrets.
    Unauthenticated(String),
    /// The credential is valid but not enough, e.g. short of scope (403).
    Forbidden(String),
    /// The verifier could not decide (its backend is down): 500 without detail.
    Failed,
}

/// Checks credentials for real (signatures, lookups); plugged in with
/// [`Options::verifier`](crate::Options::verifier).
pub trait Verifier: Send + Sync + 'static {
    /// Decides on one credential.
    fn verify<'a>(
        &'a self,
        credential: Credential<'a>,
    ) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;
}

struct FnVerifier<F>(F);

impl<F, Fut> Verifier for FnVerifier<F>
where
    F: Fn(Credential<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Verdict> + Send + 'static,
{
    fn verify<'a>(
        &'a self,
        credential: Credential<'a>,
    ) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'a>> {
        Box::pin((self.0)(credential))
    }
}

/// A [`Verifier`] from a closure returning a future.
pub fn verifier_fn<F, Fut>(f: F) -> Arc<dyn Verifier>
where
    F: Fn(Credential<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Verdict> + Send + 'static,
{
    Arc::new(FnVerifier(f))
}

/// One scheme an alternative requires, with its scopes.
#[derive(Debug, Clone)]
pub(crate) struct Requirement {
    pub scheme: Arc<str>,
    pub check: Arc<SchemeCheck>,
    pub scopes: Arc<[String]>,
}

/// A security scheme as requests are checked against it, shared by every requirement naming
/// it.
#[derive(Debug)]
pub(crate) struct SchemeCheck {
    pub kind: SchemeKind,
    /// An `apiKey` header scheme's header name, parsed once: a lookup by text parses it on
    /// every request. `None` for other schemes and for a name no header can have.
    pub header: Option<http::HeaderName>,
}

impl From<SchemeKind> for SchemeCheck {
    fn from(kind: SchemeKind) -> Self {
        let header = match &kind {
            SchemeKind::ApiKey {
                place: Place::Header,
                name,
            } => http::HeaderName::from_bytes(name.as_bytes()).ok(),
            _ => None,
        };
        Self { kind, header }
    }
}

/// An operation's security: any one alternative, all of whose schemes are satisfied.
/// Empty means the operation is public.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecurityPlan {
    pub alternatives: Vec<Vec<Requirement>>,
}

/// A credential found for one requirement, owned so it can cross an `await`.
pub(crate) struct PresentCredential {
    /// The index of the alternative the requirement belongs to.
    pub alternative: usize,
    pub requirement: Requirement,
    pub value: String,
}

impl SecurityPlan {
    pub fn is_public(&self) -> bool {
        self.alternatives.is_empty() || self.alternatives.iter().any(Vec::is_empty)
    }

    /// Query parameter names the schemes read, so they never count as undeclared.
    pub fn query_names(&self) -> impl Iterator<Item = &str> {
        self.alternatives
            .iter()
            .flatten()
            .filter_map(|r| match &r.check.kind {
                SchemeKind::ApiKey {
                    place: Place::Query,
                    name,
                } => Some(name.as_str()),
                _ => None,
            })
    }

    /// The credentials of every alternative whose credentials are all present, in order,
    /// each alternative's contiguous; or the 401 problem when no alternative is complete.
    pub fn find(
        &self,
        headers: &HeaderMap,
        query: &[Pair<'_>],
    ) -> Result<Vec<PresentCredential>, Box<Problem>> {
        if self.is_public() {
            return Ok(Vec::new());
        }
        let mut malformed = None;
        // One vector for all candidates: the usual single alternative allocates once.
        let mut found = Vec::with_capacity(self.alternatives[0].len());
        for (index, alternative) in self.alternatives.iter().enumerate() {
            let start = found.len();
            for requirement in alternative {
                match extract(&requirement.check, headers, query) {
                    Ok(Some(value)) => found.push(PresentCredential {
                        alternative: index,
                        requirement: requirement.clone(),
                        value,
                    }),
                    Ok(None) => break,
                    Err(e) => {
                        malformed.get_or_insert(e);
                        break;
                    }
                }
            }
            if found.len() - start != alternative.len() {
                found.truncate(start);
            }
        }
        if !found.is_empty() {
            return Ok(found);
        }
        let detail = malformed
            .unwrap_or_else(|| format!("this operation requires credentials: {}", self.describe()));
        let mut problem = Problem::new(ProblemKind::Unauthorized, detail);
        problem.challenge = self.challenge(None);
        Err(Box::new(problem))
    }

    /// Lists the alternatives for messages: `bearer token (petstore_auth) or api key header X-Key`.
    fn describe(&self) -> String {
        let alternatives: Vec<String> = self
            .alternatives
            .iter()
            .map(|alt| {
                alt.iter()
                    .map(|r| match &r.check.kind {
                        SchemeKind::ApiKey { place, name } => {
                            format!("api key in {} `{name}`", place.as_str())
                        }
                        SchemeKind::Bearer => format!("bearer token (`{}`)", r.scheme),
                        SchemeKind::Basic => format!("basic credentials (`{}`)", r.scheme),
                        SchemeKind::OtherHttp(s) => format!("`{s}` authorization (`{}`)", r.scheme),
                        SchemeKind::MutualTls => "a client certificate".to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect();
        alternatives.join(" or ")
    }

    /// `WWW-Authenticate` challenges for the HTTP schemes the operation accepts.
    pub fn challenge(&self, error: Option<&str>) -> Option<HeaderValue> {
        let mut parts: Vec<String> = Vec::new();
        for r in self.alternatives.iter().flatten() {
            let part = match &r.check.kind {
                SchemeKind::Bearer => match error {
                    Some(e) => format!("Bearer realm=\"{}\", error=\"{e}\"", r.scheme),
                    None => format!("Bearer realm=\"{}\"", r.scheme),
                },
                SchemeKind::Basic => format!("Basic realm=\"{}\"", r.scheme),
                SchemeKind::OtherHttp(s) => format!("{s} realm=\"{}\"", r.scheme),
                SchemeKind::ApiKey { .. } | SchemeKind::MutualTls => continue,
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        if parts.is_empty() {
            // RFC 9110 requires a challenge with 401; API keys have no standard one.
            parts.push("ApiKey".to_owned());
        }
        HeaderValue::from_str(&parts.join(", ")).ok()
    }
}

/// The credential a scheme reads, `Ok(None)` when absent, `Err` when present but malformed.
fn extract(
    check: &SchemeCheck,
    headers: &HeaderMap,
    query: &[Pair<'_>],
) -> Result<Option<String>, String> {
    match &check.kind {
        SchemeKind::ApiKey { place, name } => Ok(match place {
            Place::Header => check
                .header
                .as_ref()
                .and_then(|header| headers.get(header))
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            Place::Query => query
                .iter()
                .find(|pair| pair.is(name))
                .map(|pair| percent_decode(pair.value))
                .filter(|v| !v.is_empty()),
            Place::Cookie => headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(split_cookies)
                .find(|pair| pair.raw_name == name)
                .map(|pair| pair.value.to_owned())
                .filter(|v| !v.is_empty()),
            Place::Path | Place::Body | Place::Status => None,
        }),
        SchemeKind::Bearer => {
            authorization(headers, "bearer").map(|token| token.map(|t| t.to_owned()))
        }
        SchemeKind::Basic => match authorization(headers, "basic")? {
            None => Ok(None),
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| "basic credentials are not valid base64".to_owned())?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| "basic credentials are not UTF-8".to_owned())?;
                if !text.contains(':') {
                    return Err("basic credentials must be `user:password`".into());
                }
                Ok(Some(text))
            }
        },
        SchemeKind::OtherHttp(scheme) => {
            authorization(headers, scheme).map(|t| t.map(str::to_owned))
        }
        SchemeKind::MutualTls => Ok(Some(String::new())),
    }
}

fn percent_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The credentials of an `Authorization: <scheme> <credentials>` header for `scheme`.
fn authorization<'h>(headers: &'h HeaderMap, scheme: &str) -> Result<Option<&'h str>, String> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the authorization header is not valid text".to_owned())?;
    let (given, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !given.eq_ignore_ascii_case(scheme) {
        return Ok(None);
    }
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(format!(
            "the authorization header has no {scheme} credentials"
        ));
    }
    Ok(Some(rest))
}

/// Reads `components/securitySchemes/NAME` into a scheme kind.
pub(crate) fn scheme_kind(scheme: &Value) -> Result<SchemeKind, String> {
    let text = |key: &str| scheme.get(key).and_then(Value::as_str);
    match text("type") {
        Some("apiKey") => {
            let name = text("name").ok_or("an apiKey scheme needs `name`")?;
            let place = match text("in") {
                Some("header") => Place::Header,
                Some("query") => Place::Query,
                Some("cookie") => Place::Cookie,
                other => {
                    return Err(format!(
                        "an apiKey scheme's `in` must be header, query or cookie, not {other:?}"
                    ));
                }
            };
            Ok(SchemeKind::ApiKey {
                place,
                name: name.to_owned(),
            })
        }
        Some("http") => match text("scheme").map(str::to_ascii_lowercase).as_deref() {
            Some("bearer") => Ok(SchemeKind::Bearer),
            Some("basic") => Ok(SchemeKind::Basic),
            Some(other) => Ok(SchemeKind::OtherHttp(other.to_owned())),
            None => Err("an http scheme needs `scheme`".into()),
        },
        Some("oauth2") | Some("openIdConnect") => Ok(SchemeKind::Bearer),
        Some("mutualTLS") => Ok(SchemeKind::MutualTls),
        other => Err(format!("unknown security scheme type {other:?}")),
    }
}
