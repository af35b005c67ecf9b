//! The JWT bearer verifier behind the layer, with real tokens signed here: HS256 with a
//! secret, RS256 and ES256 with PEM keys and a JWKS file, `exp`/`nbf` with leeway, `iss`,
//! `aud`, and scopes from a claim.

use std::sync::Arc;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oasgate::security::jwt::{JwtConfig, JwtKey, JwtVerifier};
use oasgate::{OpenApiLayer, Options};
use serde_json::{Value, json};

use crate::support::{fixture, get_with, layer, send};

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: jwt, version: "1"}
components:
  securitySchemes:
    jwt: {type: http, scheme: bearer, bearerFormat: JWT}
security: [{jwt: []}]
paths:
  /open:
    get: {responses: {"200": {description: ok}}}
  /write:
    get:
      security: [{jwt: ["jobs:write"]}]
      responses: {"200": {description: ok}}
  /both:
    get:
      security: [{jwt: ["jobs:read", "jobs:write"]}]
      responses: {"200": {description: ok}}
  /staff:
    get:
      security: [{jwt: [admin]}, {jwt: [librarian]}]
      responses: {"200": {description: ok}}
"#;

const SECRET: &[u8] = b"a secret long enough for HS256 tests";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("local/jwt/{name}"))).expect("test key exists")
}

/// How a test token is signed.
#[derive(Clone, Copy)]
enum Signer {
    Hs256(&'static [u8]),
    /// Algorithm and private key file under `tests/fixtures/local/jwt`.
    Pem(Algorithm, &'static str),
}

fn encoding_key(signer: Signer) -> (Algorithm, EncodingKey) {
    match signer {
        Signer::Hs256(secret) => (Algorithm::HS256, EncodingKey::from_secret(secret)),
        Signer::Pem(alg @ Algorithm::ES256, file) => {
            (alg, EncodingKey::from_ec_pem(&pem(file)).expect("EC key"))
        }
        Signer::Pem(alg, file) => (alg, EncodingKey::from_rsa_pem(&pem(file)).expect("RSA key")),
    }
}

fn sign(signer: Signer, kid: Option<&str>, claims: &Value) -> String {
    let (alg, key) = encoding_key(signer);
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("token signs")
}

/// A JWKS file with the RS256 and ES256 test keys under kids `rsa-1` and `ec-1`.
fn jwks_file() -> std::path::PathBuf {
    let mut keys = Vec::new();
    for (signer, kid) in [
        (Signer::Pem(Algorithm::RS256, "rs256.key.pem"), "rsa-1"),
        (Signer::Pem(Algorithm::ES256, "es256.key.pem"), "ec-1"),
    ] {
        let (alg, key) = encoding_key(signer);
        let mut jwk = Jwk::from_encoding_key(&key, alg).expect("public JWK");
        jwk.common.key_id = Some(kid.to_owned());
        keys.push(jwk);
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("jwt");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("jwks.json");
    let text = serde_json::to_vec(&JwkSet { keys }).expect("JWKS serializes");
    std::fs::write(&path, text).expect("JWKS written");
    path
}

fn jwt_layer(verifier: JwtVerifier) -> OpenApiLayer {
    layer(SPEC, Options::default().verifier(Arc::new(verifier)))
}

/// One row: a name, the path, the token, the status, and a phrase the problem's detail has.
type Row = (&'static str, &'static str, String, u16, &'static str);

async fn run(layer: &OpenApiLayer, rows: Vec<Row>) {
    for (name, path, token, status, phrase) in rows {
        let bearer = format!("Bearer {token}");
        let answer = send(layer, get_with(path, &[("authorization", &bearer)])).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.json);
        if status == 200 {
            continue;
        }
        let detail = answer.json["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(phrase),
            "{name}: detail {detail:?} lacks {phrase:?}"
        );
        assert!(
            !answer.json.to_string().contains(&token),
            "{name}: the token is echoed"
        );
        let challenge = answer.headers["www-authenticate"].to_str().unwrap();
        let expected = if status == 401 {
            "error=\"invalid_token\""
        } else {
            "error=\"insufficient_scope\""
        };
        assert!(
            challenge.starts_with("Bearer ") && challenge.contains(expected),
            "{name}: WWW-Authenticate {challenge:?}"
        );
    }
}

#[tokio::test]
async fn hs256_tokens_are_checked_for_signature_time_and_scope() {
    let hs = Signer::Hs256(SECRET);
    let t = now();
    let rows: Vec<Row> = vec![
        (
            "valid",
            "/open",
            sign(hs, None, &json!({"exp": t + 600})),
            200,
            "",
        ),
        (
            "expired an hour ago",
            "/open",
            sign(hs, None, &json!({"exp": t - 3600})),
            401,
            "expired",
        ),
        (
            "expired within the leeway",
            "/open",
            sign(hs, None, &json!({"exp": t - 30})),
            200,
            "",
        ),
        (
            "not valid for an hour",
            "/open",
            sign(hs, None, &json!({"exp": t + 7200, "nbf": t + 3600})),
            401,
            "not valid yet",
        ),
        (
            "nbf within the leeway",
            "/open",
            sign(hs, None, &json!({"exp": t + 600, "nbf": t + 30})),
            200,
            "",
        ),
        (
            "no exp",
            "/open",
            sign(hs, None, &json!({"sub": "x"})),
            401,
            "no `exp` claim",
        ),
        (
            "exp of the wrong type",
            "/open",
            sign(hs, None, &json!({"exp": "tomorrow"})),
            401,
            // jsonwebtoken reads an `exp` that is not a number as no `exp` at all.
            "`exp` claim",
        ),
        (
            "another secret",
            "/open",
            sign(
                Signer::Hs256(b"another secret, also long enough"),
                None,
                &json!({"exp": t + 600}),
            ),
            401,
            "signature does not match",
        ),
        (
            "malformed",
            "/open",
            "not.a.token".to_owned(),
            401,
            "malformed",
        ),
        ("one part", "/open", "garbage".to_owned(), 401, "malformed"),
        (
            "RS256 token for an HS256 verifier",
            "/open",
            sign(
                Signer::Pem(Algorithm::RS256, "rs256.key.pem"),
                None,
                &json!({"exp": t + 600}),
            ),
            401,
            "algorithm",
        ),
        (
            "scopes as a string",
            "/both",
            sign(
                hs,
                None,
                &json!({"exp": t + 600, "scope": "jobs:read jobs:write"}),
            ),
            200,
            "",
        ),
        (
            "scopes as an array",
            "/write",
            sign(hs, None, &json!({"exp": t + 600, "scope": ["jobs:write"]})),
            200,
            "",
        ),
        (
            "short of one scope",
            "/both",
            sign(hs, None, &json!({"exp": t + 600, "scope": "jobs:read"})),
            403,
            "lacks the scope `jobs:write`",
        ),
        (
            "no scope claim",
            "/write",
            sign(hs, None, &json!({"exp": t + 600})),
            403,
            "lacks the scope `jobs:write` (claim `scope`)",
        ),
        (
            "a scope that only starts like the one required",
            "/write",
            sign(hs, None, &json!({"exp": t + 600, "scope": "jobs:writer"})),
            403,
            "jobs:write",
        ),
    ];
    run(&jwt_layer(JwtVerifier::hs256(SECRET)), rows).await;
}

#[tokio::test]
async fn any_alternative_whose_scopes_the_token_has_lets_it_through() {
    let hs = Signer::Hs256(SECRET);
    let t = now();
    let with_scope = |scope: &str| sign(hs, None, &json!({"exp": t + 600, "scope": scope}));
    let rows: Vec<Row> = vec![
        (
            "the first alternative",
            "/staff",
            with_scope("admin"),
            200,
            "",
        ),
        (
            "the second alternative",
            "/staff",
            with_scope("librarian"),
            200,
            "",
        ),
        (
            "neither: the first alternative's refusal",
            "/staff",
            with_scope("reader"),
            403,
            "lacks the scope `admin`",
        ),
        (
            "an invalid token",
            "/staff",
            sign(
                Signer::Hs256(b"another secret, also long enough"),
                None,
                &json!({"exp": t + 600, "scope": "librarian"}),
            ),
            401,
            "signature does not match",
        ),
    ];
    run(&jwt_layer(JwtVerifier::hs256(SECRET)), rows).await;
}

#[tokio::test]
async fn an_empty_secret_refuses_every_token() {
    let empty: &'static [u8] = b"";
    let token = sign(Signer::Hs256(empty), None, &json!({"exp": now() + 600}));
    let rows: Vec<Row> = vec![(
        "signed with the empty secret",
        "/open",
        token,
        401,
        "not accepted",
    )];
    run(&jwt_layer(JwtVerifier::hs256(b"")), rows).await;
}

#[tokio::test]
async fn the_scope_claim_is_configurable() {
    let hs = Signer::Hs256(SECRET);
    let t = now();
    let verifier = JwtVerifier::hs256(SECRET).scope_claim("scp");
    let rows: Vec<Row> = vec![
        (
            "scp granted",
            "/write",
            sign(hs, None, &json!({"exp": t + 600, "scp": ["jobs:write"]})),
            200,
            "",
        ),
        (
            "scope is not read any more",
            "/write",
            sign(hs, None, &json!({"exp": t + 600, "scope": "jobs:write"})),
            403,
            "(claim `scp`)",
        ),
    ];
    run(&jwt_layer(verifier), rows).await;
}

#[tokio::test]
async fn rs256_and_es256_tokens_are_checked_with_pem_keys() {
    let t = now();
    let claims = json!({"exp": t + 600});
    let rsa = JwtVerifier::from_config(&JwtConfig::new(JwtKey::PublicKeyFile(
        fixture("local/jwt/rs256.pub.pem").into(),
    )))
    .expect("RSA verifier");
    let rows: Vec<Row> = vec![
        (
            "RS256",
            "/open",
            sign(
                Signer::Pem(Algorithm::RS256, "rs256.key.pem"),
                None,
                &claims,
            ),
            200,
            "",
        ),
        (
            "PS256 with the same key",
            "/open",
            sign(
                Signer::Pem(Algorithm::PS256, "rs256.key.pem"),
                None,
                &claims,
            ),
            200,
            "",
        ),
        (
            "RS256 signed by another key",
            "/open",
            sign(
                Signer::Pem(Algorithm::RS256, "other-rs256.key.pem"),
                None,
                &claims,
            ),
            401,
            "signature does not match",
        ),
        (
            // The classic confusion: the public key used as an HMAC secret.
            "HS256 signed with the public key as secret",
            "/open",
            {
                let public = pem("rs256.pub.pem");
                let key = EncodingKey::from_secret(&public);
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
            },
            401,
            "algorithm",
        ),
        (
            "ES256 for an RSA key",
            "/open",
            sign(
                Signer::Pem(Algorithm::ES256, "es256.key.pem"),
                None,
                &claims,
            ),
            401,
            "algorithm",
        ),
    ];
    run(&jwt_layer(rsa), rows).await;

    let ec_pem = String::from_utf8(pem("es256.pub.pem")).unwrap();
    let ec = JwtVerifier::from_config(&JwtConfig::new(JwtKey::PublicKeyPem(ec_pem)))
        .expect("EC verifier");
    let rows: Vec<Row> = vec![
        (
            "ES256",
            "/open",
            sign(
                Signer::Pem(Algorithm::ES256, "es256.key.pem"),
                None,
                &claims,
            ),
            200,
            "",
        ),
        (
            "RS256 for an EC key",
            "/open",
            sign(
                Signer::Pem(Algorithm::RS256, "rs256.key.pem"),
                None,
                &claims,
            ),
            401,
            "algorithm",
        ),
    ];
    run(&jwt_layer(ec), rows).await;
}

#[tokio::test]
async fn jwks_keys_are_picked_by_kid() {
    let t = now();
    let claims = json!({"exp": t + 600});
    let verifier = JwtVerifier::jwks_file(jwks_file()).expect("JWKS verifier");
    let rs = Signer::Pem(Algorithm::RS256, "rs256.key.pem");
    let es = Signer::Pem(Algorithm::ES256, "es256.key.pem");
    let rows: Vec<Row> = vec![
        (
            "RSA key by kid",
            "/open",
            sign(rs, Some("rsa-1"), &claims),
            200,
            "",
        ),
        (
            "EC key by kid",
            "/open",
            sign(es, Some("ec-1"), &claims),
            200,
            "",
        ),
        (
            "no kid: every key of the algorithm is tried",
            "/open",
            sign(rs, None, &claims),
            200,
            "",
        ),
        (
            "unknown kid",
            "/open",
            sign(rs, Some("rsa-2"), &claims),
            401,
            "key id that is not known",
        ),
        (
            "kid of the other key",
            "/open",
            sign(rs, Some("ec-1"), &claims),
            401,
            "algorithm",
        ),
        (
            "right kid, wrong key",
            "/open",
            sign(
                Signer::Pem(Algorithm::RS256, "other-rs256.key.pem"),
                Some("rsa-1"),
                &claims,
            ),
            401,
            "signature does not match",
        ),
    ];
    run(&jwt_layer(verifier), rows).await;
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let hs = Signer::Hs256(SECRET);
    let t = now();
    let config: JwtConfig = serde_json::from_value(json!({
        "key": {"secret": String::from_utf8(SECRET.to_vec()).unwrap()},
        "issuer": ["https://auth.example"],
        "audience": ["jobs"],
        "leeway": 0,
    }))
    .expect("config reads");
    let verifier = JwtVerifier::from_config(&config).expect("verifier builds");
    let rows: Vec<Row> = vec![
        (
            "right issuer and audience",
            "/open",
            sign(
                hs,
                None,
                &json!({"exp": t + 600, "iss": "https://auth.example", "aud": "jobs"}),
            ),
            200,
            "",
        ),
        (
            "audience among several",
            "/open",
            sign(
                hs,
                None,
                &json!({"exp": t + 600, "iss": "https://auth.example", "aud": ["web", "jobs"]}),
            ),
            200,
            "",
        ),
        (
            "wrong issuer",
            "/open",
            sign(
                hs,
                None,
                &json!({"exp": t + 600, "iss": "https://evil.example", "aud": "jobs"}),
            ),
            401,
            "issuer is not accepted",
        ),
        (
            "wrong audience",
            "/open",
            sign(
                hs,
                None,
                &json!({"exp": t + 600, "iss": "https://auth.example", "aud": "web"}),
            ),
            401,
            "audience is not accepted",
        ),
        (
            "no audience",
            "/open",
            sign(
                hs,
                None,
                &json!({"exp": t + 600, "iss": "https://auth.example"}),
            ),
            401,
            "no `aud` claim",
        ),
        (
            "no leeway: expired a few seconds ago",
            "/open",
            sign(
                hs,
                None,
                &json!({"exp": t - 5, "iss": "https://auth.example", "aud": "jobs"}),
            ),
            401,
            "expired",
        ),
    ];
    run(&jwt_layer(verifier), rows).await;
}

#[tokio::test]
async fn the_builder_setters_check_leeway_issuer_and_audience() {
    let hs = Signer::Hs256(SECRET);
    let t = now();
    let verifier = JwtVerifier::hs256(SECRET)
        .leeway(0)
        .issuer(["https://auth.example"])
        .audience(["jobs"]);
    let claims = |extra: Value| {
        let mut claims = json!({"exp": t + 600, "iss": "https://auth.example", "aud": "jobs"});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sign(hs, None, &claims)
    };
    let rows: Vec<Row> = vec![
        (
            "right issuer and audience",
            "/open",
            claims(json!({})),
            200,
            "",
        ),
        (
            "wrong issuer",
            "/open",
            claims(json!({"iss": "https://evil.example"})),
            401,
            "issuer is not accepted",
        ),
        (
            "no issuer",
            "/open",
            sign(hs, None, &json!({"exp": t + 600, "aud": "jobs"})),
            401,
            "no `iss` claim",
        ),
        (
            "wrong audience",
            "/open",
            claims(json!({"aud": "web"})),
            401,
            "audience is not accepted",
        ),
        (
            "no audience",
            "/open",
            sign(
                hs,
                None,
                &json!({"exp": t + 600, "iss": "https://auth.example"}),
            ),
            401,
            "no `aud` claim",
        ),
        (
            // The default leeway of 60 seconds would let this one through.
            "no leeway: expired a few seconds ago",
            "/open",
            claims(json!({"exp": t - 5})),
            401,
            "expired",
        ),
    ];
    run(&jwt_layer(verifier), rows).await;

    let generous = JwtVerifier::hs256(SECRET).leeway(3600);
    let rows: Vec<Row> = vec![(
        "expired half an hour ago, within an hour's leeway",
        "/open",
        sign(hs, None, &json!({"exp": t - 1800})),
        200,
        "",
    )];
    run(&jwt_layer(generous), rows).await;
}

#[test]
fn configs_read_from_yaml_and_bad_ones_say_what_is_wrong() {
    let yaml = "
key: {public_key_file: KEY}
algorithms: [RS256]
leeway: 10
scope_claim: scp
";
    let yaml = yaml.replace("KEY", &fixture("local/jwt/rs256.pub.pem"));
    let config: JwtConfig = serde_saphyr::from_str(&yaml).expect("YAML config reads");
    assert_eq!(config.algorithms, [Algorithm::RS256]);
    assert_eq!(config.leeway, 10);
    assert_eq!(config.scope_claim, "scp");
    assert!(config.require_exp, "exp is required by default");
    JwtVerifier::from_config(&config).expect("verifier builds");

    let defaults: JwtConfig = serde_json::from_value(json!({"key": {"secret": "s"}})).unwrap();
    assert_eq!(defaults, JwtConfig::new(JwtKey::Secret("s".into())));

    // (row, config, phrase the error has)
    let rows: [(&str, Value, &str); 6] = [
        (
            "unset environment variable",
            json!({"key": {"secret_env": "OASGATE_TEST_SURELY_UNSET"}}),
            "`OASGATE_TEST_SURELY_UNSET` holds no secret",
        ),
        (
            "empty secret",
            json!({"key": {"secret": ""}}),
            "the secret is empty",
        ),
        (
            "missing key file",
            json!({"key": {"public_key_file": "/nonexistent/key.pem"}}),
            "cannot read /nonexistent/key.pem",
        ),
        (
            "not a PEM key",
            json!({"key": {"public_key_pem": "hello"}}),
            "not an RSA, EC or Ed25519 public key",
        ),
        (
            "missing JWKS file",
            json!({"key": {"jwks_file": "/nonexistent/jwks.json"}}),
            "cannot read /nonexistent/jwks.json",
        ),
        (
            "algorithms of another family",
            json!({"key": {"secret": "s"}, "algorithms": ["RS256"]}),
            "no key can check",
        ),
    ];
    for (name, value, phrase) in rows {
        let config: JwtConfig = serde_json::from_value(value).expect(name);
        let error = JwtVerifier::from_config(&config)
            .expect_err(name)
            .to_string();
        assert!(error.contains(phrase), "{name}: {error}");
    }

    let unknown = serde_json::from_value::<JwtConfig>(json!({"key": {"secret": "s"}, "leway": 5}));
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("unknown field `leway`"),
        "a misspelt setting is refused"
    );
}

/// A token with this header, signed with the test secret: the header is written by hand so it
/// may hold members `Header` has no field for (`b64`).
fn sign_with_header(header: &Value, claims: &Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let message = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .expect("token signs");
    format!("{message}.{signature}")
}

/// RFC 7515 §4.1.11: "If any of the listed extension Header Parameters are not understood and
/// supported by the recipient, then the JWS is invalid." The verifier supports none, and an
/// empty list or one naming a standard header is invalid as well.
#[tokio::test]
async fn tokens_with_critical_extensions_are_refused() {
    let t = now();
    let claims = json!({"exp": t + 600});
    let verifier = jwt_layer(JwtVerifier::hs256(SECRET));
    let with = |header: Value| sign_with_header(&header, &claims);
    let rows: Vec<Row> = vec![
        (
            "a plain header, signed by hand",
            "/open",
            with(json!({"alg": "HS256", "typ": "JWT"})),
            200,
            "",
        ),
        (
            "an extension the verifier does not understand",
            "/open",
            with(json!({"alg": "HS256", "crit": ["x-must-understand"], "x-must-understand": 1})),
            401,
            "`crit`",
        ),
        (
            "unencoded payload (RFC 7797)",
            "/open",
            with(json!({"alg": "HS256", "crit": ["b64"], "b64": false})),
            401,
            "`crit`",
        ),
        (
            "an empty list",
            "/open",
            with(json!({"alg": "HS256", "crit": []})),
            401,
            "`crit`",
        ),
        (
            "a standard header name",
            "/open",
            with(json!({"alg": "HS256", "crit": ["alg"]})),
            401,
            "`crit`",
        ),
    ];
    run(&verifier, rows).await;
}
