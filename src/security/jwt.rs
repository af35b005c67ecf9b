//! A [`Verifier`] for JWT bearer tokens: signature, `exp`/`nbf`, issuer, audience and scopes.
//!
//! [`JwtVerifier`] checks HS256/384/512 tokens with a shared secret, RS*/PS* and ES256/384
//! tokens with a PEM public key or a JWKS file (keys picked by `kid`), and EdDSA with a PEM or
//! JWK key. Its settings are a [`JwtConfig`], which deserializes from a config file, or
//! chainable setters.
//!
//! | token | answer |
//! | --- | --- |
//! | malformed, wrong signature, unknown `kid`, algorithm not accepted | 401, `WWW-Authenticate: Bearer error="invalid_token"` |
//! | expired (`exp` + leeway passed), not yet valid (`nbf` − leeway ahead) | 401, same challenge |
//! | `iss` or `aud` not among those configured | 401, same challenge |
//! | valid, but without every scope the operation requires | 403, `error="insufficient_scope"` |
//!
//! Scopes come from one claim (`scope` by default): a space-separated string (RFC 8693) or an
//! array of strings. An operation's scopes are those its security requirement lists, e.g.
//! `security: [{bearer: [jobs:write]}]`; every one of them must be granted.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use oasgate::Options;
//! use oasgate::security::jwt::{JwtConfig, JwtVerifier};
//!
//! // From code…
//! let verifier = JwtVerifier::hs256(b"a long shared secret").leeway(30).issuer(["auth.example"]);
//! let options = Options::default().verifier(Arc::new(verifier));
//!
//! // …or from a config file's section.
//! let config: JwtConfig = serde_json::from_str(r#"{
//!     "key": {"secret_env": "PATH"},
//!     "audience": ["jobs"],
//!     "scope_claim": "scp"
//! }"#)?;
//! let verifier = JwtVerifier::from_config(&config)?;
//! # let _ = (options, verifier);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Only bearer credentials are checked; any other credential handed to this verifier is
//! refused (401). For an API that mixes schemes, dispatch on [`Credential::scheme`] in a
//! [`verifier_fn`](super::verifier_fn) that calls [`JwtVerifier::check`] for the bearer one.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Credential, SchemeKind, Verdict, Verifier};

/// Where the verifier's key comes from.
///
/// In a config file this is a one-entry map, e.g. `key: {jwks_file: /etc/keys.json}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum JwtKey {
    /// A shared secret for HS256/384/512, written in the config.
    Secret(String),
    /// A shared secret read from this environment variable at start-up, so config files
    /// need not hold it.
    SecretEnv(String),
    /// A public key in PEM (RSA, EC P-256/P-384 or Ed25519), written in the config.
    PublicKeyPem(String),
    /// A file holding a public key in PEM.
    PublicKeyFile(PathBuf),
    /// A JWKS file (`{"keys": [...]}`); tokens pick their key by `kid`.
    JwksFile(PathBuf),
}

/// The settings of a [`JwtVerifier`], as they appear in a config file.
///
/// ```yaml
/// key: {public_key_file: keys/auth.pub.pem}
/// algorithms: [RS256]      # default: every algorithm of the key's family
/// leeway: 60               # seconds of clock skew allowed for exp and nbf
/// issuer: [https://auth.example]
/// audience: [jobs]
/// scope_claim: scope
/// require_exp: true
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The key tokens are signed with.
    pub key: JwtKey,
    /// Algorithms accepted; empty means every algorithm of the key's family.
    #[serde(default)]
    pub algorithms: Vec<Algorithm>,
    /// Seconds of clock skew allowed when checking `exp` and `nbf` (default 60).
    #[serde(default = "default_leeway")]
    pub leeway: u64,
    /// When set, the `iss` claim must be one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<Vec<String>>,
    /// When set, the `aud` claim must name one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// The claim holding the granted scopes (default `scope`).
    #[serde(default = "default_scope_claim")]
    pub scope_claim: String,
    /// Whether tokens without `exp` are refused (default true).
    #[serde(default = "default_true")]
    pub require_exp: bool,
}

fn default_leeway() -> u64 {
    60
}

fn default_scope_claim() -> String {
    "scope".to_owned()
}

fn default_true() -> bool {
    true
}

impl JwtConfig {
    /// Settings with `key` and every default.
    pub fn new(key: JwtKey) -> Self {
        Self {
            key,
            algorithms: Vec::new(),
            leeway: default_leeway(),
            issuer: None,
            audience: None,
            scope_claim: default_scope_claim(),
            require_exp: true,
        }
    }
}

/// Why a [`JwtVerifier`] could not be built (a start-up error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtError(String);

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "jwt verifier: {}", self.0)
    }
}

impl std::error::Error for JwtError {}

/// One key the verifier may check a signature with.
struct Key {
    id: Option<String>,
    key: DecodingKey,
    validation: Validation,
}

/// Verifies JWT bearer tokens; see the [module documentation](self).
pub struct JwtVerifier {
    keys: Vec<Key>,
    scope_claim: String,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("keys", &self.keys.len())
            .field("scope_claim", &self.scope_claim)
            .finish()
    }
}

impl JwtVerifier {
    /// HS256 tokens signed with `secret`, with every other setting at its default.
    ///
    /// An empty secret would let anyone sign tokens, so with one every token is refused.
    pub fn hs256(secret: &[u8]) -> Self {
        ensure_crypto_provider();
        if secret.is_empty() {
            tracing::error!(target: "oasgate::jwt", "empty HS256 secret: every token is refused");
            return Self {
                keys: Vec::new(),
                scope_claim: default_scope_claim(),
            };
        }
        let config = JwtConfig {
            algorithms: vec![Algorithm::HS256],
            ..JwtConfig::new(JwtKey::Secret(String::new()))
        };
        let keys = vec![(None, DecodingKey::from_secret(secret), Vec::new())];
        // An HMAC key always accepts HS256, so this cannot fail; a verifier without keys
        // would refuse every token rather than let one through.
        Self::with_keys(keys, &config).unwrap_or_else(|_| Self {
            keys: Vec::new(),
            scope_claim: default_scope_claim(),
        })
    }

    /// Tokens signed with the private half of `pem` (an RSA, EC or Ed25519 public key).
    pub fn public_key_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_config(&JwtConfig::new(JwtKey::PublicKeyPem(
            String::from_utf8(pem.to_vec())
                .map_err(|_| JwtError("the PEM key is not UTF-8 text".into()))?,
        )))
    }

    /// Tokens signed with one of the keys of the JWKS file at `path`.
    pub fn jwks_file(path: impl Into<PathBuf>) -> Result<Self, JwtError> {
        Self::from_config(&JwtConfig::new(JwtKey::JwksFile(path.into())))
    }

    /// Builds a verifier from its settings, reading key files once.
    pub fn from_config(config: &JwtConfig) -> Result<Self, JwtError> {
        ensure_crypto_provider();
        let keys = match &config.key {
            JwtKey::Secret(secret) => {
                if secret.is_empty() {
                    return Err(JwtError("the secret is empty".into()));
                }
                vec![(
                    None,
                    DecodingKey::from_secret(secret.as_bytes()),
                    Vec::new(),
                )]
            }
            JwtKey::SecretEnv(name) => {
                let secret = std::env::var(name).map_err(|_| {
                    JwtError(format!("environment variable `{name}` holds no secret"))
                })?;
                if secret.is_empty() {
                    return Err(JwtError(format!("environment variable `{name}` is empty")));
                }
                vec![(
                    None,
                    DecodingKey::from_secret(secret.as_bytes()),
                    Vec::new(),
                )]
            }
            JwtKey::PublicKeyPem(pem) => {
                vec![(None, pem_key(pem.as_bytes(), "the PEM key")?, Vec::new())]
            }
            JwtKey::PublicKeyFile(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| JwtError(format!("cannot read {}: {e}", path.display())))?;
                vec![(
                    None,
                    pem_key(&pem, &path.display().to_string())?,
                    Vec::new(),
                )]
            }
            JwtKey::JwksFile(path) => jwks_keys(path)?,
        };
        Self::with_keys(keys, config)
    }

    fn with_keys(
        keys: Vec<(Option<String>, DecodingKey, Vec<Algorithm>)>,
        config: &JwtConfig,
    ) -> Result<Self, JwtError> {
        let mut built = Vec::with_capacity(keys.len());
        for (id, key, declared) in keys {
            let family = key.family();
            let family = family.algorithms();
            // A key is only used with algorithms of its own family: an RSA public key must never
            // be taken for an HMAC secret.
            let algorithms: Vec<Algorithm> = if !declared.is_empty() {
                declared
            } else if !config.algorithms.is_empty() {
                config.algorithms.clone()
            } else {
                family.to_vec()
            }
            .into_iter()
            .filter(|a| family.contains(a))
            .filter(|a| config.algorithms.is_empty() || config.algorithms.contains(a))
            .collect();
            if algorithms.is_empty() {
                continue;
            }
            let mut validation = Validation::new(algorithms[0]);
            validation.algorithms = algorithms;
            validation.leeway = config.leeway;
            validation.validate_nbf = true;
            validation.validate_exp = true;
            validation.validate_aud = config.audience.is_some();
            let mut required = Vec::new();
            if config.require_exp {
                required.push("exp");
            }
            if let Some(issuer) = &config.issuer {
                validation.set_issuer(issuer);
                required.push("iss");
            }
            if let Some(audience) = &config.audience {
                validation.set_audience(audience);
                required.push("aud");
            }
            validation.set_required_spec_claims(&required);
            built.push(Key {
                id,
                key,
                validation,
            });
        }
        if built.is_empty() {
            return Err(JwtError(format!(
                "no key can check the algorithms {:?}",
                config.algorithms
            )));
        }
        Ok(Self {
            keys: built,
            scope_claim: config.scope_claim.clone(),
        })
    }

    /// Seconds of clock skew allowed when checking `exp` and `nbf` (default 60).
    pub fn leeway(mut self, seconds: u64) -> Self {
        for key in &mut self.keys {
            key.validation.leeway = seconds;
        }
        self
    }

    /// The `iss` claim must be one of `issuers`.
    pub fn issuer<S: ToString>(mut self, issuers: impl IntoIterator<Item = S>) -> Self {
        let issuers: Vec<String> = issuers.into_iter().map(|s| s.to_string()).collect();
        for key in &mut self.keys {
            key.validation.set_issuer(&issuers);
            key.validation.required_spec_claims.insert("iss".into());
        }
        self
    }

    /// The `aud` claim must name one of `audiences`.
    pub fn audience<S: ToString>(mut self, audiences: impl IntoIterator<Item = S>) -> Self {
        let audiences: Vec<String> = audiences.into_iter().map(|s| s.to_string()).collect();
        for key in &mut self.keys {
            key.validation.set_audience(&audiences);
            key.validation.validate_aud = true;
            key.validation.required_spec_claims.insert("aud".into());
        }
        self
    }

    /// The claim holding the granted scopes (default `scope`).
    pub fn scope_claim(mut self, claim: impl Into<String>) -> Self {
        self.scope_claim = claim.into();
        self
    }

    /// Decides on one bearer token against the scopes an operation requires.
    pub fn check(&self, token: &str, required_scopes: &[String]) -> Verdict {
        let header = match jsonwebtoken::decode_header(token) {
            Ok(header) => header,
            Err(_) => return Verdict::Unauthenticated("the bearer token is malformed".into()),
        };
        // RFC 7515 §4.1.11: "If any of the listed extension Header Parameters are not
        // understood and supported by the recipient, then the JWS is invalid." This verifier
        // supports no extension, and an empty list or one naming a header parameter the
        // specification defines is invalid too ("Producers MUST NOT use the empty list").
        if header.crit.is_some() {
            return Verdict::Unauthenticated(
                "the bearer token lists critical header extensions (`crit`); none is supported"
                    .into(),
            );
        }
        let by_id: Vec<&Key> = match &header.kid {
            // Keys with ids (a JWKS) are chosen by the token's `kid`; a token without one may
            // be checked by any key of its algorithm.
            Some(kid) if self.keys.iter().any(|k| k.id.is_some()) => {
                let found: Vec<&Key> = self
                    .keys
                    .iter()
                    .filter(|k| k.id.as_deref() == Some(kid))
                    .collect();
                if found.is_empty() {
                    return Verdict::Unauthenticated(
                        "the bearer token names a key id that is not known".into(),
                    );
                }
                found
            }
            _ => self.keys.iter().collect(),
        };
        let candidates: Vec<&Key> = by_id
            .into_iter()
            .filter(|k| k.validation.algorithms.contains(&header.alg))
            .collect();
        if candidates.is_empty() {
            return Verdict::Unauthenticated(format!(
                "the bearer token's algorithm {:?} is not accepted",
                header.alg
            ));
        }
        let mut refusal = None;
        for key in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &key.validation) {
                Ok(data) => return self.scopes(&data.claims, required_scopes),
                Err(e) => {
                    let reason = refusal_reason(e.kind());
                    // A signature that fails with one key may pass with the next; any other
                    // refusal is about the token itself.
                    if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                        return Verdict::Unauthenticated(reason);
                    }
                    refusal = Some(reason);
                }
            }
        }
        Verdict::Unauthenticated(refusal.unwrap_or_else(|| "the bearer token is not valid".into()))
    }

    fn scopes(&self, claims: &Map<String, Value>, required: &[String]) -> Verdict {
        if required.is_empty() {
            return Verdict::Allow;
        }
        let granted: Vec<&str> = match claims.get(&self.scope_claim) {
            Some(Value::String(text)) => text.split_ascii_whitespace().collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let missing: Vec<&str> = required
            .iter()
            .map(String::as_str)
            .filter(|scope| !granted.contains(scope))
            .collect();
        if missing.is_empty() {
            Verdict::Allow
        } else {
            Verdict::Forbidden(format!(
                "the bearer token lacks the scope{} {} (claim `{}`)",
                if missing.len() == 1 { "" } else { "s" },
                missing
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.scope_claim
            ))
        }
    }
}

impl Verifier for JwtVerifier {
    fn verify<'a>(
        &'a self,
        credential: Credential<'a>,
    ) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'a>> {
        let verdict = if *credential.kind == SchemeKind::Bearer {
            self.check(credential.value, credential.scopes)
        } else {
            Verdict::Unauthenticated(format!(
                "scheme `{}` is not checked by the JWT verifier",
                credential.scheme
            ))
        };
        Box::pin(std::future::ready(verdict))
    }
}

/// What the client is told, never the token itself.
fn refusal_reason(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the bearer token has expired".into(),
        ErrorKind::ImmatureSignature => "the bearer token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => "the bearer token's signature does not match".into(),
        ErrorKind::InvalidIssuer => "the bearer token's issuer is not accepted".into(),
        ErrorKind::InvalidAudience => "the bearer token's audience is not accepted".into(),
        ErrorKind::InvalidAlgorithm => "the bearer token's algorithm is not accepted".into(),
        ErrorKind::MissingRequiredClaim(claim) => {
            format!("the bearer token has no `{claim}` claim")
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            format!("the bearer token's `{claim}` claim has the wrong type")
        }
        _ => "the bearer token is malformed".into(),
    }
}

/// The public key in `pem`, of whichever family it is.
fn pem_key(pem: &[u8], what: &str) -> Result<DecodingKey, JwtError> {
    DecodingKey::from_rsa_pem(pem)
        .or_else(|_| DecodingKey::from_ec_pem(pem))
        .or_else(|_| DecodingKey::from_ed_pem(pem))
        .map_err(|_| {
            JwtError(format!(
                "{what} is not an RSA, EC or Ed25519 public key in PEM"
            ))
        })
}

/// The signing keys of a JWKS file with their ids and declared algorithms.
#[allow(clippy::type_complexity)]
fn jwks_keys(
    path: &std::path::Path,
) -> Result<Vec<(Option<String>, DecodingKey, Vec<Algorithm>)>, JwtError> {
    let text = std::fs::read(path)
        .map_err(|e| JwtError(format!("cannot read {}: {e}", path.display())))?;
    let set: JwkSet = serde_json::from_slice(&text)
        .map_err(|e| JwtError(format!("{} is not a JWKS: {e}", path.display())))?;
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for (i, jwk) in set.keys.iter().enumerate() {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let declared = match jwk.common.key_algorithm {
            Some(alg) => match Algorithm::try_from(alg) {
                Ok(alg) => vec![alg],
                Err(_) => {
                    problems.push(format!("key {i}: algorithm {alg:?} is not supported"));
                    continue;
                }
            },
            None => Vec::new(),
        };
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => keys.push((jwk.common.key_id.clone(), key, declared)),
            Err(e) => problems.push(format!("key {i}: {e}")),
        }
    }
    if keys.is_empty() {
        let detail = if problems.is_empty() {
            "it has no signing keys".to_owned()
        } else {
            problems.join("; ")
        };
        return Err(JwtError(format!("{}: {detail}", path.display())));
    }
    Ok(keys)
}

/// Selects the pure-Rust crypto backend for `jsonwebtoken` unless the application already
/// chose one, so that a second backend enabled elsewhere in the build cannot leave token
/// checks without one.
fn ensure_crypto_provider() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
    );
}
