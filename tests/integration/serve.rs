//! The served document and docs page: JSON and YAML that agree, the problem answers and
//! paging parameters the layer adds, `servers` from the request, ETag/304, compression.

use std::io::Read as _;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer, Options, PeerAddr, Problem};
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt};

use crate::support::*;

/// A whole answer, body bytes as sent (still encoded).
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body decoded by its `Content-Encoding`.
    fn decoded(&self) -> String {
        let mut text = String::new();
        match self.header("content-encoding") {
            None => text = String::from_utf8(self.body.to_vec()).expect("UTF-8"),
            Some("gzip") => {
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_string(&mut text)
                    .expect("gzip decodes");
            }
            Some("br") => {
                brotli::Decompressor::new(&self.body[..], 4096)
                    .read_to_string(&mut text)
                    .expect("brotli decodes");
            }
            Some(other) => panic!("unexpected content-encoding {other}"),
        }
        text
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.decoded()).expect("JSON")
    }
}

async fn fetch(layer: &OpenApiLayer, request: Request<Body>) -> Raw {
    let service = ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(|_: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                Bytes::from_static(b"{}"),
            )))
        });
    let response = service.oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    Raw {
        status: parts.status,
        headers: parts.headers,
        body: body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default(),
    }
}

fn document_request(uri: &str, headers: &[(&str, &str)], peer: Option<&str>) -> Request<Body> {
    let mut request = get_with(uri, headers);
    if let Some(peer) = peer {
        let addr: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(PeerAddr(addr));
    }
    request
}

const HOST: (&str, &str) = ("host", "api.test:8080");

#[tokio::test]
async fn json_and_yaml_are_the_same_document() {
    let fixtures = [
        "local/kitchen.yaml",
        "local/nullable30.yaml",
        "oai/v3.0-petstore-expanded.yaml",
        "oai/v3.1-webhook-example.yaml",
        "jobs.openapi.json",
        "digitalocean/specification/DigitalOcean-public.v2.yaml",
    ];
    for name in fixtures {
        let loaded = Document::from_path(fixture(name)).unwrap();
        let layer = OpenApiLayer::new(&loaded).unwrap();
        let json = fetch(&layer, get_with("/openapi.json", &[HOST])).await;
        assert_eq!(json.status, 200, "{name}");
        assert_eq!(json.header("content-type"), Some("application/json"));
        let yaml = fetch(&layer, get_with("/openapi.yaml", &[HOST])).await;
        assert_eq!(yaml.status, 200, "{name}");
        assert_eq!(yaml.header("content-type"), Some("application/yaml"));
        let from_json = json.json();
        let from_yaml: Value = serde_saphyr::from_str(&yaml.decoded())
            .unwrap_or_else(|e| panic!("{name}: the YAML parses: {e}"));
        assert_eq!(from_json, from_yaml, "{name}: JSON and YAML differ");
        // Nothing of the loaded document is lost: every operation keeps what it declared.
        let original = loaded.as_json();
        let mut checked = 0;
        for (path, _) in original["paths"].as_object().into_iter().flatten() {
            // Path items and operations in other files are reached through their `$ref`, in
            // both documents alike.
            let item_at = follow(original, format!("/paths/{}", escape(path)));
            let item = original.pointer(&item_at).expect("the path item resolves");
            for (method, _) in item.as_object().into_iter().flatten() {
                let op_at = follow(original, format!("{item_at}/{method}"));
                let op = original.pointer(&op_at).unwrap();
                let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                    continue;
                };
                let served = from_json.pointer(&op_at).unwrap();
                assert_eq!(
                    served["operationId"], op["operationId"],
                    "{name} {method} {path}"
                );
                checked += 1;
                for (status, response) in responses {
                    assert_eq!(
                        &served["responses"][status], response,
                        "{name} {method} {path} {status}: a declared response is kept as written"
                    );
                }
            }
        }
        assert!(
            checked > 0 || name.contains("webhook"),
            "{name}: operations were compared"
        );
        // And the served document is one oasgate itself loads and compiles.
        let again = Document::from_value(from_json).unwrap_or_else(|e| panic!("{name}: {e}"));
        OpenApiLayer::new(&again).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The pointer a chain of `$ref`s starting at `at` ends at.
fn follow(doc: &Value, mut at: String) -> String {
    while let Some(r) = doc.pointer(&at).and_then(|n| n["$ref"].as_str()) {
        at = percent_encoding::percent_decode_str(&r[1..])
            .decode_utf8_lossy()
            .into_owned();
    }
    at
}

const PROBLEMS: &str = r#"
openapi: 3.0.3
info: {title: Problems, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  schemas:
    Thing: {type: object, required: [name], properties: {name: {type: string}}}
paths:
  /health:
    get:
      responses: {"200": {description: ok}}
  /things:
    get:
      parameters: [{name: q, in: query, schema: {type: string, maxLength: 3}}]
      responses: {"200": {description: ok}}
    post:
      security: [{bearer: []}]
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
      responses: {"201": {description: created}}
  /things/{id}:
    put:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      security: [{}, {bearer: []}]
      requestBody:
        content: {application/octet-stream: {schema: {type: string, format: binary}}}
      responses:
        "204": {description: stored}
        "400": {description: the document's own 400}
  /pages:
    get:
      x-paging: true
      responses: {"200": {description: ok}}
"#;

#[tokio::test]
async fn the_document_lists_the_problems_the_layer_answers() {
    let layer = layer(PROBLEMS, Options::default());
    let doc = fetch(&layer, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    // (operation, statuses the layer adds, statuses it must not add)
    let rows: &[(&str, &[&str], &[&str])] = &[
        (
            "/paths/~1health/get",
            // 400: the query limits hold for every operation.
            &["400", "404", "405"],
            &["401", "413", "415"],
        ),
        (
            "/paths/~1things/get",
            &["400", "404", "405"],
            &["401", "413", "415"],
        ),
        (
            "/paths/~1things/post",
            &["400", "401", "404", "405", "413", "415"],
            &["403", "422"],
        ),
        // Security is optional (`{}`); the body is not read (binary); 400 is the document's.
        (
            "/paths/~1things~1{id}/put",
            &["404", "405", "415"],
            &["401", "413"],
        ),
        ("/paths/~1pages/get", &["400", "404", "405"], &["401"]),
    ];
    for (at, added, absent) in rows {
        let responses = &doc.pointer(at).unwrap()["responses"];
        for status in *added {
            let reference = responses[status]["$ref"].as_str().unwrap_or_else(|| {
                panic!("{at}: no {status} added: {responses:#}");
            });
            let target = doc.pointer(&reference[1..]).unwrap_or_else(|| {
                panic!("{at} {status}: `{reference}` does not resolve");
            });
            assert_eq!(
                target["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{at} {status}"
            );
        }
        for status in *absent {
            assert!(
                responses.get(*status).is_none() || !responses[*status]["$ref"].is_string(),
                "{at}: {status} should not be added: {responses:#}"
            );
        }
    }
    assert_eq!(
        doc["paths"]["/things/{id}"]["put"]["responses"]["400"],
        json!({"description": "the document's own 400"})
    );
    assert!(
        doc["components"]["responses"]["ProblemUnauthorized"]["headers"]["WWW-Authenticate"]
            .is_object()
    );
    assert!(
        doc["components"]["responses"]["ProblemMethodNotAllowed"]["headers"]["Allow"].is_object()
    );
    let paging: Vec<&str> = doc["paths"]["/pages"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(paging, ["limit", "offset", "sort", "sortdir"]);
}

#[tokio::test]
async fn the_problem_schema_describes_real_problem_bodies() {
    let layer = layer(PROBLEMS, Options::default().error_cap(1));
    let doc = fetch(&layer, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    let schema = doc["components"]["schemas"]["Problem"].clone();
    let validator = jsonschema::validator_for(&schema).expect("the Problem schema compiles");
    let json = "application/json";
    let requests = vec![
        get("/nowhere"),
        request("DELETE", "/things"),
        get("/things?q=toolong&x=1"),
        with_body("POST", "/things", json, "{}"),
        {
            let mut r = with_body("POST", "/things", json, "{\"name\": ");
            r.headers_mut()
                .insert("authorization", "Bearer t".parse().unwrap());
            r
        },
        {
            let mut r = with_body("POST", "/things", "text/plain", "x");
            r.headers_mut()
                .insert("authorization", "Bearer t".parse().unwrap());
            r
        },
        {
            let mut r = with_body("POST", "/things", json, "{\"name\": 1, \"other\": 2}");
            r.headers_mut()
                .insert("authorization", "Bearer t".parse().unwrap());
            r
        },
    ];
    for request in requests {
        let what = format!("{} {}", request.method(), request.uri());
        let answer = fetch(&layer, request).await;
        assert!(answer.status.is_client_error(), "{what}: {}", answer.status);
        let body = answer.json();
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: {body} breaks the served schema: {errors:?}"
        );
    }
}

#[tokio::test]
async fn problem_names_never_replace_the_documents_own() {
    let spec = PROBLEMS.replace(
        "    Thing: {type: object",
        "    Problem: {type: string}\n    Thing: {type: object",
    );
    let layer = layer(&spec, Options::default());
    let doc = fetch(&layer, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    assert_eq!(
        doc["components"]["schemas"]["Problem"],
        json!({"type": "string"})
    );
    assert_eq!(doc["components"]["schemas"]["Problem2"]["type"], "object");
    let custom = self::layer(
        PROBLEMS,
        Options::default().formatter(|p: &Problem| Response::new(Bytes::from(p.detail.clone()))),
    );
    let doc = fetch(&custom, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    assert!(doc["components"]["schemas"].get("Problem").is_none());
    let not_found = &doc["components"]["responses"]["ProblemNotFound"];
    assert!(not_found["description"].is_string() && not_found.get("content").is_none());
    let off = self::layer(PROBLEMS, Options::default().describe_problems(false));
    let doc = fetch(&off, get_with("/openapi.json", &[HOST])).await.json();
    assert!(
        doc["paths"]["/health"]["get"]["responses"]
            .get("404")
            .is_none()
    );
}

#[tokio::test]
async fn servers_follow_the_host_and_trusted_proxies_only() {
    let kitchen_trusting = fixture_layer(
        "local/kitchen.yaml",
        Options::default().trusted_proxies(["10.0.0.0/8", "::1"]),
    );
    let forwarded = [
        ("host", "internal:9000"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "api.example.com"),
        ("x-forwarded-prefix", "/public"),
    ];
    let rfc7239 = [
        ("host", "internal:9000"),
        (
            "forwarded",
            "for=203.0.113.9;proto=https;host=edge.example.com",
        ),
    ];
    // (headers, peer, expected first server URL)
    let rows: Vec<(&[(&str, &str)], Option<&str>, &str)> = vec![
        (&[HOST], None, "http://api.test:8080/v1"),
        (
            &[("host", "127.0.0.1:3000")],
            Some("10.0.0.1:1"),
            "http://127.0.0.1:3000/v1",
        ),
        (
            &forwarded,
            Some("10.2.3.4:5555"),
            "https://api.example.com/public/v1",
        ),
        (
            &forwarded,
            Some("[::1]:5555"),
            "https://api.example.com/public/v1",
        ),
        (
            &rfc7239,
            Some("10.2.3.4:5555"),
            "https://edge.example.com/v1",
        ),
        // Not from a trusted proxy, or no peer known: forwarded headers are ignored.
        (
            &forwarded,
            Some("192.0.2.1:5555"),
            "http://internal:9000/v1",
        ),
        (&forwarded, None, "http://internal:9000/v1"),
        // No usable host: a URL relative to the document.
        (&[("host", "bad host")], None, "/v1"),
    ];
    for (headers, peer, want) in rows {
        let doc = fetch(
            &kitchen_trusting,
            document_request("/openapi.json", headers, peer),
        )
        .await
        .json();
        assert_eq!(doc["servers"][0]["url"], want, "{headers:?} from {peer:?}");
        assert_eq!(
            doc["servers"].as_array().unwrap().len(),
            1,
            "variables at their defaults"
        );
        assert!(doc["servers"][0].get("variables").is_none());
    }
    let untrusting = fixture_layer("local/kitchen.yaml", Options::default());
    let doc = fetch(
        &untrusting,
        document_request("/openapi.json", &forwarded, Some("10.2.3.4:1")),
    )
    .await
    .json();
    assert_eq!(
        doc["servers"][0]["url"], "http://internal:9000/v1",
        "no proxies trusted by default"
    );
    // The layer's prefix is where it listens, so it is in the URL; YAML says the same.
    let prefixed = fixture_layer("local/kitchen.yaml", Options::default().prefix("/api"));
    let doc = fetch(&prefixed, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    assert_eq!(doc["servers"][0]["url"], "http://api.test:8080/api/v1");
    let yaml = fetch(&prefixed, get_with("/openapi.yaml", &[HOST]))
        .await
        .decoded();
    assert!(yaml.contains("http://api.test:8080/api/v1"), "{yaml}");
    // A document without servers gets the root.
    let bare = layer(PROBLEMS, Options::default());
    let doc = fetch(&bare, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    assert_eq!(doc["servers"], json!([{"url": "http://api.test:8080"}]));
}

#[tokio::test]
async fn a_matching_etag_answers_304() {
    let layer = kitchen();
    let first = fetch(&layer, get_with("/openapi.json", &[HOST])).await;
    let tag = first.header("etag").expect("an ETag").to_owned();
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    assert!(first.header("vary").unwrap().contains("accept-encoding"));
    let gz = fetch(
        &layer,
        get_with("/openapi.json", &[HOST, ("accept-encoding", "gzip")]),
    )
    .await;
    let gz_tag = gz.header("etag").unwrap().to_owned();
    assert_ne!(gz_tag, tag, "each encoding has its own tag");
    let weak = format!("W/{tag}");
    let listed = format!("\"nope\", {gz_tag}");
    // (If-None-Match, host, expected status)
    let rows = [
        (tag.as_str(), "api.test:8080", 304),
        (weak.as_str(), "api.test:8080", 304),
        (listed.as_str(), "api.test:8080", 304),
        ("*", "api.test:8080", 304),
        ("\"other\"", "api.test:8080", 200),
        // Another host is another document (other servers): the old tag does not match.
        (tag.as_str(), "other.test", 200),
    ];
    for (if_none_match, host, status) in rows {
        let answer = fetch(
            &layer,
            get_with(
                "/openapi.json",
                &[("host", host), ("if-none-match", if_none_match)],
            ),
        )
        .await;
        assert_eq!(answer.status, status, "{if_none_match} on {host}");
        if status == 304 {
            assert!(answer.body.is_empty());
            assert_eq!(answer.header("etag"), Some(tag.as_str()));
            assert!(answer.header("cache-control").is_some());
        }
    }
    // A 304 carries the tag of the representation a 200 would have: the gzipped one here.
    let revalidated = fetch(
        &layer,
        get_with(
            "/openapi.json",
            &[
                HOST,
                ("accept-encoding", "gzip"),
                ("if-none-match", &gz_tag),
            ],
        ),
    )
    .await;
    assert_eq!(revalidated.status, 304);
    assert_eq!(revalidated.header("etag"), Some(gz_tag.as_str()));
    let custom = fixture_layer(
        "local/kitchen.yaml",
        Options::default().document_cache_control("public, max-age=60"),
    );
    let answer = fetch(&custom, get_with("/openapi.yaml", &[HOST])).await;
    assert_eq!(answer.header("cache-control"), Some("public, max-age=60"));
}

#[tokio::test]
async fn compression_is_negotiated() {
    let layer = fixture_layer(
        "digitalocean/specification/DigitalOcean-public.v2.yaml",
        Options::default(),
    );
    let plain = fetch(&layer, get_with("/openapi.json", &[HOST])).await;
    assert_eq!(plain.header("content-encoding"), None);
    let text = plain.decoded();
    // (Accept-Encoding, expected coding)
    let rows = [
        ("gzip", Some("gzip")),
        ("gzip, deflate, br, zstd", Some("br")),
        ("br;q=0.1, gzip;q=0.9", Some("gzip")),
        ("identity", None),
        ("gzip;q=0", None),
    ];
    for (accept, want) in rows {
        for path in ["/openapi.json", "/openapi.yaml"] {
            let answer = fetch(&layer, get_with(path, &[HOST, ("accept-encoding", accept)])).await;
            assert_eq!(
                answer.header("content-encoding"),
                want,
                "{path} with {accept}"
            );
            if path == "/openapi.json" {
                assert_eq!(answer.decoded(), text, "{accept}: the same document");
                if want.is_some() {
                    assert!(answer.body.len() * 4 < text.len(), "{accept}: compressed");
                }
            }
        }
    }
    let docs = fetch(
        &layer,
        get_with("/docs/swagger-ui-bundle.js", &[("accept-encoding", "gzip")]),
    )
    .await;
    assert_eq!(docs.header("content-encoding"), Some("gzip"));
    let unpacked = fetch(&layer, get("/docs/swagger-ui-bundle.js")).await;
    assert_eq!(unpacked.header("content-encoding"), None);
    assert_eq!(docs.decoded(), unpacked.decoded());
    assert!(unpacked.body.len() > 500_000, "the whole bundle");
}

/// A path item's or an operation's own `servers` put request origins in the middle of the
/// document: gzip still compresses it all (brotli is then not offered).
#[tokio::test]
async fn a_document_with_servers_on_operations_is_compressed() {
    let mut spec = String::from(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: /v2}]\npaths:\n  /first:\n    servers: [{url: /v1}]\n    get:\n      servers: [{url: /v0}]\n      responses: {'200': {description: ok}}\n",
    );
    for i in 0..3000 {
        spec.push_str(&format!(
            "  /items{i}/{{id}}:\n    get:\n      operationId: item{i}\n      parameters: [{{name: id, in: path, required: true, schema: {{type: integer, minimum: 1}}}}]\n      responses: {{'200': {{description: the item}}}}\n"
        ));
    }
    let layer = super::support::layer(&spec, Options::default());
    let plain = fetch(&layer, get_with("/openapi.json", &[HOST])).await;
    let text = plain.decoded();
    // (Accept-Encoding, expected coding)
    let rows = [
        ("gzip", Some("gzip")),
        ("gzip, deflate, br, zstd", Some("gzip")),
        ("br", None),
    ];
    for (accept, want) in rows {
        for path in ["/openapi.json", "/openapi.yaml"] {
            let answer = fetch(&layer, get_with(path, &[HOST, ("accept-encoding", accept)])).await;
            assert_eq!(answer.header("content-encoding"), want, "{path}, {accept}");
            if path == "/openapi.json" {
                assert_eq!(answer.decoded(), text, "{accept}: the same document");
                if want.is_some() {
                    assert!(answer.body.len() * 10 < text.len(), "{accept}: compressed");
                }
            }
        }
    }
    let served: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        served["paths"]["/first"]["get"]["servers"][0]["url"],
        "http://api.test:8080/v0"
    );
}

#[tokio::test]
async fn paths_methods_and_switches() {
    let layer = kitchen();
    // (method, path, status)
    let rows = [
        ("GET", "/openapi.json", 200),
        ("HEAD", "/openapi.json", 200),
        ("GET", "/openapi.yaml", 200),
        ("POST", "/openapi.json", 405),
        ("GET", "/docs", 200),
        ("GET", "/docs/", 308),
        ("GET", "/docs/oasgate-init.js", 200),
        ("GET", "/docs/swagger-ui.css", 200),
        ("DELETE", "/docs", 405),
        ("GET", "/docs/nothing.js", 404),
    ];
    for (method, path, status) in rows {
        let answer = fetch(&layer, request(method, path)).await;
        assert_eq!(answer.status, status, "{method} {path}");
    }
    let refused = fetch(&layer, request("POST", "/openapi.json")).await;
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
    let moved = fixture_layer(
        "local/kitchen.yaml",
        Options::default()
            .openapi_yaml_path(Some("/spec/api.yaml"))
            .openapi_json_path(None)
            .docs_path(Some("/spec/ui")),
    );
    // (path, status)
    let rows = [
        ("/openapi.json", 404),
        ("/openapi.yaml", 404),
        ("/spec/api.yaml", 200),
        ("/docs", 404),
        ("/spec/ui", 200),
    ];
    for (path, status) in rows {
        assert_eq!(fetch(&moved, get(path)).await.status, status, "{path}");
    }
    // Without JSON the page reads the YAML, by a path relative to itself.
    let init = fetch(&moved, get("/spec/ui/oasgate-init.js"))
        .await
        .decoded();
    assert!(init.contains("\"url\":\"../spec/api.yaml\""), "{init}");
}

#[tokio::test]
async fn the_docs_page_is_titled_and_has_no_inline_script() {
    let layer = kitchen();
    let page = fetch(&layer, get("/docs")).await;
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let policy = page.header("content-security-policy").expect("a CSP");
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-eval"));
    let html = page.decoded();
    assert!(html.contains("<title>Kitchen sink</title>"), "{html}");
    // Every script is a served file.
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count()
    );
    for reference in html
        .split("src=\"")
        .skip(1)
        .chain(html.split("href=\"").skip(1))
    {
        let target = reference.split('"').next().unwrap();
        let answer = fetch(&layer, get(&format!("/{target}"))).await;
        assert_eq!(answer.status, 200, "{target}");
    }
    // Docs files revalidate by tag too; the gzipped form has its own.
    let css = "/docs/swagger-ui.css";
    let plain = fetch(&layer, get(css)).await;
    let gz = fetch(&layer, get_with(css, &[("accept-encoding", "gzip")])).await;
    let (plain_tag, gz_tag) = (plain.header("etag").unwrap(), gz.header("etag").unwrap());
    assert_ne!(plain_tag, gz_tag);
    for tag in [plain_tag, gz_tag] {
        let again = fetch(&layer, get_with(css, &[("if-none-match", tag)])).await;
        assert_eq!(again.status, 304, "{tag}");
    }
    assert_eq!(
        fetch(&layer, get_with(css, &[("if-none-match", "\"x\"")]))
            .await
            .status,
        200
    );
    let init = fetch(&layer, get("/docs/oasgate-init.js")).await.decoded();
    for setting in [
        "\"deepLinking\":true",
        "\"validatorUrl\":null",
        "\"url\":\"openapi.json\"",
    ] {
        assert!(init.contains(setting), "{setting}: {init}");
    }
    let titled = self::layer(
        "openapi: 3.1.0\ninfo: {title: \"<b>Pets</b> & co\", version: \"1\"}\npaths: {}\n",
        Options::default(),
    );
    let html = fetch(&titled, get("/docs")).await.decoded();
    assert!(
        html.contains("<title>&lt;b&gt;Pets&lt;/b&gt; &amp; co</title>"),
        "{html}"
    );
}

#[test]
fn bad_serving_options_are_start_up_errors() {
    let doc = Document::from_path(fixture("local/kitchen.yaml")).unwrap();
    // (options, words the error names)
    let rows: Vec<(Options, &[&str])> = vec![
        (
            Options::default().trusted_proxies(["10.0.0.0/8", "proxy.local", "1.2.3.4/40"]),
            &["`proxy.local`", "`1.2.3.4/40`"],
        ),
        (
            Options::default()
                .openapi_json_path(None)
                .openapi_yaml_path(None),
            &["docs page needs the document served"],
        ),
        (
            Options::default().docs_path(Some("docs")),
            &["docs_path `docs`"],
        ),
        (
            Options::default().openapi_json_path(Some("/")),
            &["openapi_json_path `/`"],
        ),
        (
            Options::default().document_cache_control("a\nb"),
            &["cache control"],
        ),
    ];
    for (options, words) in rows {
        let error = OpenApiLayer::with_options(&doc, options)
            .expect_err("a bad option")
            .to_string();
        for word in words {
            assert!(error.contains(word), "{word}: {error}");
        }
    }
}

/// Every `$ref` in `value`.
fn refs<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            for (key, child) in map {
                if !["example", "default", "const", "enum"].contains(&key.as_str()) {
                    refs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_bundled_document_stands_alone() {
    let name = "digitalocean/specification/DigitalOcean-public.v2.yaml";
    let as_loaded = fixture_layer(name, Options::default());
    let loaded = fetch(&as_loaded, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    assert!(
        loaded.get("x-oasgate-files").is_some(),
        "other files are kept aside by default"
    );
    let bundled_layer = fixture_layer(name, Options::default().serve_bundled(true));
    let bundled = fetch(&bundled_layer, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    assert!(bundled.get("x-oasgate-files").is_none());
    let mut all = Vec::new();
    refs(&bundled, &mut all);
    assert!(
        all.len() > 1000,
        "references stay references: {}",
        all.len()
    );
    for reference in &all {
        assert!(reference.starts_with("#/components/"), "{reference}");
        let target = percent_encoding::percent_decode_str(&reference[1..]).decode_utf8_lossy();
        assert!(bundled.pointer(&target).is_some(), "{reference} resolves");
    }
    let schemas = bundled["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("droplet"), "named after the file");
    assert_eq!(
        bundled["paths"].as_object().unwrap().len(),
        loaded["paths"].as_object().unwrap().len()
    );
    // What is served is the library's one bundle (`oasgate bundle` writes it too); only the
    // server URLs differ, following the request.
    let plain = fixture_layer(
        name,
        Options::default()
            .serve_bundled(true)
            .describe_problems(false),
    );
    let mut served = fetch(&plain, get_with("/openapi.json", &[HOST]))
        .await
        .json();
    let mut library = Document::from_path(fixture(name)).unwrap().bundled();
    fn without_servers(node: &mut Value) {
        match node {
            Value::Object(map) => {
                map.shift_remove("servers");
                map.values_mut().for_each(without_servers);
            }
            Value::Array(items) => items.iter_mut().for_each(without_servers),
            _ => {}
        }
    }
    without_servers(&mut served);
    without_servers(&mut library);
    assert!(served == library, "the served bundle is the library's");
    // The bundle validates requests exactly as the document it came from.
    let again = OpenApiLayer::new(Document::from_value(bundled).expect("the bundle loads"))
        .expect("the bundle compiles");
    let auth = ("authorization", "Bearer t");
    for (uri, status) in [
        ("/v2/droplets?per_page=20", 200),
        ("/v2/droplets?per_page=500", 400),
    ] {
        for layer in [&as_loaded, &again] {
            assert_eq!(
                send(layer, get_with(uri, &[auth])).await.status,
                status,
                "{uri}"
            );
        }
    }
}

#[cfg(feature = "docs-redoc")]
#[tokio::test]
async fn redoc_is_served_from_the_binary() {
    use oasgate::DocsUi;

    let layer = fixture_layer(
        "local/kitchen.yaml",
        Options::default().docs_ui(DocsUi::Redoc),
    );
    let page = fetch(&layer, get("/docs")).await;
    let html = page.decoded();
    assert!(html.contains("<title>Kitchen sink</title>"), "{html}");
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count()
    );
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("worker-src 'self' blob:"));
    let script = fetch(
        &layer,
        get_with("/docs/redoc.standalone.js", &[("accept-encoding", "gzip")]),
    )
    .await;
    assert_eq!(script.header("content-encoding"), Some("gzip"));
    let text = script.decoded();
    assert!(
        text.len() > 500_000 && text.contains("Redoc"),
        "the whole standalone script"
    );
    assert!(
        !text.trim_end().ends_with("</html>") && !text.contains("Redoc.init(\"\""),
        "only the script, not the page it came in"
    );
    let init = fetch(&layer, get("/docs/oasgate-init.js")).await.decoded();
    assert!(
        init.contains("Redoc.init(new URL(\"openapi.json\""),
        "{init}"
    );
}

#[cfg(not(feature = "docs-redoc"))]
#[test]
fn redoc_without_its_feature_is_a_start_up_error() {
    let doc = Document::from_path(fixture("local/kitchen.yaml")).unwrap();
    let error =
        OpenApiLayer::with_options(&doc, Options::default().docs_ui(oasgate::DocsUi::Redoc))
            .expect_err("Redoc is not built in")
            .to_string();
    // The setting that asked for it and the feature to build with, not "the document".
    assert!(
        error.starts_with("the options have 1 problem")
            && error.contains("`docs_ui: redoc`")
            && error.contains("`--features docs-redoc`"),
        "{error}"
    );
}

/// The same items in the same order; the message names the first place they part.
fn assert_same_order<A: AsRef<str>, B: AsRef<str>>(got: &[A], want: &[B], what: &str) {
    let first = got
        .iter()
        .zip(want)
        .position(|(g, w)| g.as_ref() != w.as_ref());
    if let Some(i) = first {
        panic!(
            "{what}: item {i} is `{}`, the author wrote `{}` there",
            got[i].as_ref(),
            want[i].as_ref()
        );
    }
    assert_eq!(got.len(), want.len(), "{what}: counts differ");
}

/// Lines of the block under a root key (`paths:`) that open an entry two spaces in, each
/// trimmed of `prefix` and the final colon: the author's order read off the text itself.
fn entries_in_text(text: &str, root_key: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| *l != root_key)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter_map(|l| l.strip_prefix(prefix))
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
        .map(|l| l.trim_end_matches(':').trim_matches('"').to_owned())
        .collect()
}

#[tokio::test]
async fn the_served_document_keeps_the_authors_order() {
    let name = "digitalocean/specification/DigitalOcean-public.v2.yaml";
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let paths = entries_in_text(&text, "paths:", "  ");
    let tags = entries_in_text(&text, "tags:", "  - name: ");
    assert!(paths.len() > 400 && tags.len() > 50, "{paths:?} {tags:?}");
    // Neither list is sorted: a sorted output could not pass for the author's.
    assert!(!paths.is_sorted() && !tags.is_sorted());
    let root_keys = [
        "openapi",
        "info",
        "tags",
        "x-tagGroups",
        "paths",
        "components",
    ];
    for options in [Options::default(), Options::default().serve_bundled(true)] {
        let layer = fixture_layer(name, options);
        for at in ["/openapi.json", "/openapi.yaml"] {
            let answer = fetch(&layer, get_with(at, &[HOST])).await;
            let served: Value = serde_saphyr::from_str(&answer.decoded()).unwrap();
            let served_paths: Vec<&String> = served["paths"].as_object().unwrap().keys().collect();
            assert_same_order(&served_paths, &paths, &format!("{at} paths"));
            let served_tags: Vec<&str> = served["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap())
                .collect();
            assert_same_order(&served_tags, &tags, &format!("{at} tags"));
            // The root keeps its order too; only `servers`, whose URLs follow the request,
            // is written last.
            let keys: Vec<&str> = served
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| root_keys.contains(k) || *k == "servers")
                .collect();
            let mut expected = root_keys.to_vec();
            expected.push("servers");
            assert_eq!(keys, expected, "{at}");
            // An operation's members as written: DigitalOcean puts the id first.
            let first = served
                .pointer("/paths/~1v2~1account/get")
                .map(|op| match op.get("$ref") {
                    Some(Value::String(r)) => served
                        .pointer(&percent_encoding::percent_decode_str(&r[1..]).decode_utf8_lossy())
                        .unwrap(),
                    _ => op,
                })
                .and_then(Value::as_object)
                .and_then(|op| op.keys().next().cloned());
            assert_eq!(first.as_deref(), Some("operationId"), "{at}");
        }
    }
}
