//! `examples/jobs`: the described document against `tests/fixtures/jobs.openapi.json`, and the
//! running service over real sockets.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

// The example's description, compiled into this test as well.
#[allow(dead_code)]
#[path = "../examples/jobs/api.rs"]
mod api;
#[path = "support/processes.rs"]
mod processes;

use processes::{Server, example_binary};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const REQUEST: Duration = Duration::from_secs(10);

/// Every way the generated document may differ from the fixture, each with its reason.
const INTENDED: &[(&str, &str)] = &[
    (
        "parameter only in generated: GET /status/{job_id} query callback",
        "the callback expression reads `$request.query.callback`, so the operation declares it",
    ),
    (
        "status only in generated: DELETE /job/{job_id} 404",
        "the service answers 404 for an unknown job and the description says so",
    ),
    (
        "status only in generated: PATCH /job/{job_id} 404",
        "the service answers 404 for an unknown job and the description says so",
    ),
    (
        "status only in generated: GET /status/{job_id} 404",
        "the service answers 404 for an unknown job and the description says so",
    ),
    (
        "status only in generated: GET /person/id/{id} 404",
        "the service answers 404 for an unknown person and the description says so",
    ),
    (
        "status only in generated: GET /person/name/{family}/{given} 404",
        "the service answers 404 for an unknown person and the description says so",
    ),
    (
        "status only in generated: GET /member/name/{family}/{given} 404",
        "the service answers 404 for an unknown member and the description says so",
    ),
    (
        "component only in fixture: UUID",
        "`uuid::Uuid` is inlined as {type: string, format: uuid}, as schemars does",
    ),
    (
        "component only in generated: BadRequestError",
        "an error type is registered once and referenced; the fixture inlines it in a oneOf",
    ),
    (
        "component only in generated: JobStatus",
        "a Rust enum is a named type; the fixture inlines the status enum in Job and StatusEvent",
    ),
    (
        "component only in fixture: ValidationError",
        "malformed input is answered by the layer before any handler, with its problem; the \
         400s declare that `application/problem+json` body instead",
    ),
    (
        "component only in generated: Problem",
        "the layer's problem schema, which the 400s declare for malformed input",
    ),
];

fn fixture() -> Value {
    let path = Path::new(MANIFEST_DIR).join("tests/fixtures/jobs.openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

/// Follows local `$ref`s.
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(target) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match target.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            Some(found) => schema = found,
            None => break,
        }
    }
    schema
}

/// `type/format` of a schema after `$ref`s.
fn type_format(doc: &Value, schema: &Value) -> String {
    let schema = resolve(doc, schema);
    format!(
        "{}/{}",
        schema.get("type").map_or("-".to_owned(), Value::to_string),
        schema.get("format").and_then(Value::as_str).unwrap_or("-")
    )
}

/// A request body schema as comparable text: the component it names, or its shape.
fn shape(schema: &Value) -> String {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return format!("ref {}", target.rsplit('/').next().unwrap_or(target));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!("array of {}", shape(&schema["items"])),
        Some(other) => other.to_owned(),
        None => schema.to_string(),
    }
}

/// `METHOD /path` → operation.
fn operations(doc: &Value) -> BTreeMap<String, &Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.insert(format!("{} {path}", method.to_uppercase()), op);
        }
    }
    out
}

fn parameters(doc: &Value, op: &Value) -> BTreeMap<String, String> {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let key = format!(
                "{} {}",
                p["in"].as_str().unwrap(),
                p["name"].as_str().unwrap()
            );
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            let facts = format!("required {required}, {}", type_format(doc, &p["schema"]));
            (key, facts)
        })
        .collect()
}

fn request_body(op: &Value) -> BTreeMap<String, String> {
    op["requestBody"]["content"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(media, entry)| (media.clone(), shape(&entry["schema"])))
        .collect()
}

fn components(doc: &Value) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    doc["components"]["schemas"]
        .as_object()
        .expect("components/schemas")
        .iter()
        .map(|(name, schema)| {
            let names = |key: &str| -> BTreeSet<String> {
                match &schema[key] {
                    Value::Object(o) => o.keys().cloned().collect(),
                    Value::Array(a) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    _ => BTreeSet::new(),
                }
            };
            (name.clone(), (names("properties"), names("required")))
        })
        .collect()
}

/// Lines naming every difference on the compared facets.
fn differences(fixture: &Value, generated: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let (ours, theirs) = (operations(generated), operations(fixture));
    for name in theirs.keys().filter(|k| !ours.contains_key(*k)) {
        out.insert(format!("operation only in fixture: {name}"));
    }
    for name in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        out.insert(format!("operation only in generated: {name}"));
    }
    for (name, op) in &ours {
        let Some(expected) = theirs.get(name) else {
            continue;
        };
        let (mine, want) = (parameters(generated, op), parameters(fixture, expected));
        for (param, facts) in &want {
            match mine.get(param) {
                None => out.insert(format!("parameter only in fixture: {name} {param}")),
                Some(got) if got != facts => out.insert(format!(
                    "parameter differs: {name} {param}: fixture {facts}, generated {got}"
                )),
                Some(_) => false,
            };
        }
        for param in mine.keys().filter(|p| !want.contains_key(*p)) {
            out.insert(format!("parameter only in generated: {name} {param}"));
        }
        if op["summary"] != expected["summary"] {
            out.insert(format!(
                "summary differs: {name}: fixture {}, generated {}",
                expected["summary"], op["summary"]
            ));
        }
        let (mine, want) = (request_body(op), request_body(expected));
        if mine != want {
            out.insert(format!(
                "request body differs: {name}: fixture {want:?}, generated {mine:?}"
            ));
        }
        let statuses = |op: &Value| -> BTreeSet<String> {
            op["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        };
        let (mine, want) = (statuses(op), statuses(expected));
        for status in want.difference(&mine) {
            out.insert(format!("status only in fixture: {name} {status}"));
        }
        for status in mine.difference(&want) {
            out.insert(format!("status only in generated: {name} {status}"));
        }
    }
    let (mine, want) = (components(generated), components(fixture));
    for (component, facts) in &want {
        match mine.get(component) {
            None => {
                out.insert(format!("component only in fixture: {component}"));
            }
            Some((properties, required)) => {
                if *properties != facts.0 {
                    out.insert(format!(
                        "component properties differ: {component}: fixture {:?}, generated {properties:?}",
                        facts.0
                    ));
                }
                if *required != facts.1 {
                    out.insert(format!(
                        "component required differ: {component}: fixture {:?}, generated {required:?}",
                        facts.1
                    ));
                }
            }
        }
    }
    for component in mine.keys().filter(|c| !want.contains_key(*c)) {
        out.insert(format!("component only in generated: {component}"));
    }
    out
}

#[test]
fn the_generated_document_matches_the_fixture_but_for_intended_differences() {
    let generated = api::api()
        .to_value()
        .expect("the description has no mistakes");
    let found = differences(&fixture(), &generated);
    let intended: BTreeSet<String> = INTENDED
        .iter()
        .map(|(line, _)| (*line).to_owned())
        .collect();
    let unexpected: Vec<&String> = found.difference(&intended).collect();
    let stale: Vec<&String> = intended.difference(&found).collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "unexpected differences: {unexpected:#?}\nintended differences no longer found: {stale:#?}"
    );
    // The comparison itself notices a change.
    let mut changed = generated.clone();
    changed["paths"]["/job/{job_id}"]["get"]["parameters"][1]["required"] = json!(false);
    assert!(
        differences(&fixture(), &changed)
            .iter()
            .any(|d| d.starts_with("parameter differs: GET /job/{job_id} query format")),
        "a changed parameter is reported"
    );
    let mut changed = generated.clone();
    changed["paths"]["/auth"]["post"]
        .as_object_mut()
        .unwrap()
        .remove("summary");
    assert!(
        differences(&fixture(), &changed)
            .contains("summary differs: POST /auth: fixture \"Issues a JSON Web Token (JWT) to be passed to API calls.\", generated null"),
        "a lost summary is reported"
    );
}

#[test]
fn the_generated_document_is_the_one_the_layer_serves_and_checks() {
    let generated = api::api().to_value().expect("described");
    assert_eq!(generated["openapi"], "3.1.0");
    let ids: Vec<(String, Option<&str>)> = operations(&generated)
        .into_iter()
        .map(|(name, op)| (name, op["operationId"].as_str()))
        .collect();
    let expected_ids: Vec<(String, Option<&str>)> = [
        ("DELETE /job/{job_id}", "delete_job"),
        ("GET /job/{job_id}", "get_job"),
        ("GET /member/name/{family}/{given}", "get_member_by_name"),
        ("GET /person/id/{id}", "get_person_by_id"),
        ("GET /person/name/{family}/{given}", "get_person_by_name"),
        ("GET /status/{job_id}", "get_status"),
        ("PATCH /job/{job_id}", "update_job"),
        ("POST /auth", "authenticate"),
        ("POST /job", "create_job"),
    ]
    .iter()
    .map(|(name, id)| ((*name).to_owned(), Some(*id)))
    .collect();
    assert_eq!(ids, expected_ids);
    assert_eq!(generated["security"], json!([{"Default": []}]));
    assert_eq!(generated["paths"]["/auth"]["post"]["security"], json!([]));
    let job = &generated["components"]["schemas"]["Job"];
    assert_eq!(job["properties"]["started_at"]["format"], "date-time");
    assert_eq!(
        job["properties"]["status"]["$ref"],
        "#/components/schemas/JobStatus"
    );
    assert_eq!(
        generated["components"]["schemas"]["JobStatus"]["enum"],
        json!(["created", "running", "stopped"])
    );
    let member = &generated["paths"]["/member/name/{family}/{given}"]["get"]["responses"];
    assert_eq!(
        member["201"]["content"]["application/json"]["examples"]
            .as_object()
            .map(|e| e.len()),
        Some(4)
    );
    assert_eq!(
        member["202"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Teacher"
    );
    let callback = &generated["paths"]["/status/{job_id}"]["get"]["callbacks"]["get_status_callback"]
        ["{$request.query.callback}"]["post"];
    assert_eq!(
        callback["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/StatusEvent"
    );
    oasgate::OpenApiLayer::new(api::api().document().expect("document")).expect("compiles");
}

// ---------------------------------------------------------------------------------------
// The running example.

fn start() -> Server {
    processes::start("jobs", &["--listen", "127.0.0.1:0"])
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Asserts a problem+json answer with `status`.
    fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        &self.body
    }
}

impl Server {
    /// One request on its own connection, bounded by `REQUEST`.
    fn send(&self, method: &str, target: &str, token: Option<&str>, json: Option<&str>) -> Reply {
        let mut stream = TcpStream::connect_timeout(&self.addr, REQUEST).expect("connect");
        stream.set_read_timeout(Some(REQUEST)).expect("timeout");
        stream.set_write_timeout(Some(REQUEST)).expect("timeout");
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
            self.addr
        );
        if let Some(token) = token {
            head.push_str(&format!("authorization: Bearer {token}\r\n"));
        }
        let body = json.unwrap_or_default();
        if json.is_some() {
            head.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        stream
            .write_all(format!("{head}\r\n{body}").as_bytes())
            .expect("write");
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .expect("an answer within the timeout");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok());
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let rest = &raw[split + 4..];
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v == "chunked");
        let bytes = if chunked {
            dechunk(rest)
        } else {
            rest.to_vec()
        };
        Reply {
            status: status.expect("a status code"),
            headers,
            body: serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        rest = &rest[end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[(size + 2).min(rest.len())..];
    }
    body
}

#[test]
fn print_spec_writes_the_described_document() {
    let output = Command::new(example_binary("jobs"))
        .arg("--print-spec")
        .stdin(Stdio::null())
        .output()
        .expect("example jobs runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(printed, api::api().to_value().expect("described"));
}

#[test]
fn a_client_authenticates_and_manages_jobs_over_http() {
    let server = start();

    // Credentials.
    let refused = server.send(
        "POST",
        "/api/auth",
        None,
        Some(r#"{"client_id": "demo", "client_secret": "nope"}"#),
    );
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["error"]["type"], "AuthenticationError");
    let issued = server.send(
        "POST",
        "/api/auth",
        None,
        Some(r#"{"client_id": "demo", "client_secret": "demo-secret"}"#),
    );
    assert_eq!(issued.status, 200, "{}", issued.body);
    let token = issued.body["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let expires_at = issued.body["expires_at"].as_str().expect("an expiry");
    assert!(
        chrono::DateTime::parse_from_rfc3339(expires_at).is_ok(),
        "{expires_at}"
    );
    let token = Some(token.as_str());

    // Without a valid token, nothing but /auth.
    let anonymous = server.send(
        "POST",
        "/api/job",
        None,
        Some(r#"["https://example.com/a.csv"]"#),
    );
    anonymous.problem(401);
    assert!(anonymous.header("www-authenticate").starts_with("Bearer "));
    let forged = server.send(
        "POST",
        "/api/job",
        Some("e30.e30.e30"),
        Some(r#"["https://example.com/a.csv"]"#),
    );
    forged.problem(401);
    assert!(
        forged
            .header("www-authenticate")
            .contains("error=\"invalid_token\""),
        "{:?}",
        forged.headers
    );

    // A job's life.
    let created = server.send(
        "POST",
        "/api/job",
        token,
        Some(r#"["https://example.com/a.csv", "http://example.org/b"]"#),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body.as_str().expect("the job id").to_owned();
    uuid::Uuid::parse_str(&id).expect("a UUID");
    let job = server.send(
        "GET",
        &format!("/api/job/{id}?format=text/plain"),
        token,
        None,
    );
    assert_eq!(job.status, 200, "{}", job.body);
    assert_eq!(job.body["id"], id.as_str());
    assert_eq!(job.body["status"], "created");
    assert_eq!(job.body["description"]["format"], "text/plain");
    assert!(
        job.body["description"]["text"]
            .as_str()
            .unwrap()
            .contains("http://example.org/b")
    );

    // Bad input: 400 problems naming what is wrong, in the body the served document declares.
    let served = server.send("GET", "/openapi.json", None, None).body;
    let job_path = format!("/api/job/{id}");
    // (method, target, path template, body, parameter named, error code)
    type BadInput<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str, &'a str);
    let rows: &[BadInput] = &[
        (
            "GET",
            "/api/job/not-a-uuid?format=text/plain",
            "/job/{job_id}",
            None,
            "job_id",
            "format",
        ),
        (
            "GET",
            &format!("{job_path}?format=text/xml"),
            "/job/{job_id}",
            None,
            "format",
            "enum",
        ),
        (
            "GET",
            &job_path,
            "/job/{job_id}",
            None,
            "format",
            "required",
        ),
        (
            "POST",
            "/api/job",
            "/job",
            Some(r#"["ftp://example.com/a"]"#),
            "",
            "pattern",
        ),
        (
            "POST",
            "/api/job",
            "/job",
            Some(r#"["https://example.com/a", 7]"#),
            "",
            "type",
        ),
        (
            "PATCH",
            &job_path,
            "/job/{job_id}",
            Some(r#"{"id": "x"}"#),
            "",
            "format",
        ),
        (
            "POST",
            "/api/auth",
            "/auth",
            Some(r#"{"client_id": "demo"}"#),
            "",
            "required",
        ),
    ];
    for (method, target, template, body, name, code) in rows {
        let reply = server.send(method, target, token, *body);
        let problem = reply.problem(400);
        let errors = problem["errors"].as_array().expect("errors");
        assert!(
            errors
                .iter()
                .any(|e| e["name"] == *name && e["code"] == *code),
            "{method} {target}: no `{code}` error for `{name}`: {problem}"
        );
        assert_declared(&served, method, template, &reply);
    }
    // The handler's own 400 is declared beside the layer's.
    let empty = server.send("POST", "/api/job", token, Some("[]"));
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert_eq!(empty.body["error"]["type"], "BadRequestError");
    assert_declared(&served, "POST", "/job", &empty);

    // The status callback is posted to the URL given in the request.
    let receiver = TcpListener::bind("127.0.0.1:0").expect("a callback receiver");
    let callback = format!("http://{}/events", receiver.local_addr().unwrap());
    let status = server.send(
        "GET",
        &format!("/api/status/{id}?callback={callback}"),
        token,
        None,
    );
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.body["id"], id.as_str());
    let event = receive_one_post(&receiver);
    assert_eq!(event, json!({"id": id, "status": "created"}));

    // Update, delete, and the documented not-found error.
    let mut changed = job.body.clone();
    changed["status"] = json!("running");
    let updated = server.send(
        "PATCH",
        &format!("/api/job/{id}"),
        token,
        Some(&changed.to_string()),
    );
    assert_eq!(updated.status, 200, "{}", updated.body);
    let running = server.send(
        "GET",
        &format!("/api/job/{id}?format=text/plain"),
        token,
        None,
    );
    assert_eq!(running.body["status"], "running");
    changed["id"] = json!(uuid::Uuid::nil());
    let mismatch = server.send(
        "PATCH",
        &format!("/api/job/{id}"),
        token,
        Some(&changed.to_string()),
    );
    assert_eq!(mismatch.status, 400, "{}", mismatch.body);
    assert_eq!(mismatch.body["error"]["type"], "BadRequestError");
    assert_declared(&served, "PATCH", "/job/{job_id}", &mismatch);
    assert_eq!(
        server
            .send("DELETE", &format!("/api/job/{id}"), token, None)
            .status,
        200
    );
    let gone = server.send(
        "GET",
        &format!("/api/job/{id}?format=text/html"),
        token,
        None,
    );
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(gone.body["error"]["type"], "NotFoundError");
    assert_eq!(gone.body["error"]["kind"], "job");
    assert_eq!(gone.body["error"]["id"], id.as_str());

    // People: one operation, two response types.
    let teacher = server.send("GET", "/api/member/name/Mikka/Makka", token, None);
    assert_eq!(
        (teacher.status, teacher.body["subject"].as_str()),
        (202, Some("Négyszögletű Kerek Erdő"))
    );
    let student = server.send("GET", "/api/member/name/Sz%C3%B6rnyeteg/Lajos", token, None);
    assert_eq!(
        (student.status, student.body["family_name"].as_str()),
        (201, Some("Szörnyeteg"))
    );
    let person = server.send("GET", "/api/person/name/Hunyadi/Levente", token, None);
    assert_eq!(
        person.body,
        json!({"family_name": "Hunyadi", "given_name": "Levente"})
    );
    assert_eq!(
        server.send("GET", "/api/person/id/1", token, None).body,
        person.body
    );

    // The served document is the described one, plus what the layer itself answers
    // (problem responses, `servers` pointing at this listener).
    let described = api::api().to_value().unwrap();
    for (path, item) in described["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let served_op = &served["paths"][path][method];
            assert_eq!(
                served_op["operationId"], op["operationId"],
                "{method} {path}"
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                assert_eq!(
                    &served_op["responses"][status], response,
                    "{method} {path} {status}"
                );
            }
        }
    }
    for (name, schema) in described["components"]["schemas"].as_object().unwrap() {
        assert_eq!(&served["components"]["schemas"][name], schema, "{name}");
    }
    // The layer's own problem responses use the described `Problem` schema, not a copy.
    assert!(served["components"]["schemas"].get("Problem2").is_none());
    assert_eq!(
        served["components"]["responses"]["ProblemUnauthorized"]["content"]["application/problem+json"]
            ["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

/// Asserts that `served` declares `reply` for `method template`: its status, with its content
/// type, and a schema its body validates against.
fn assert_declared(served: &Value, method: &str, template: &str, reply: &Reply) {
    let what = format!("{method} {template} {}", reply.status);
    let operation = &served["paths"][template][method.to_lowercase()];
    let response = resolve(served, &operation["responses"][reply.status.to_string()]);
    let media = reply.header("content-type");
    let media = media.split(';').next().unwrap_or_default().trim();
    let declared = &response["content"][media]["schema"];
    assert!(
        declared.is_object(),
        "{what}: `{media}` is not declared: {response}"
    );
    // The declared schema, able to follow `#/components/...` references.
    let mut schema = declared.clone();
    schema["components"] = served["components"].clone();
    let validator = jsonschema::validator_for(&schema).expect("the declared schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the body breaks the declared schema: {errors:?}\n{}",
        reply.body
    );
}

/// Accepts one connection within `REQUEST`, answers 200, and returns the JSON body posted.
fn receive_one_post(listener: &TcpListener) -> Value {
    listener.set_nonblocking(true).expect("non-blocking");
    let deadline = Instant::now() + REQUEST;
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no callback within {REQUEST:?}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    stream.set_nonblocking(false).expect("blocking");
    stream.set_read_timeout(Some(REQUEST)).expect("timeout");
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    let body = loop {
        let n = stream.read(&mut chunk).expect("the callback request");
        assert!(
            n > 0,
            "the callback ended early: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&chunk[..n]);
        let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        assert!(head.starts_with("post /events "), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("a content length");
        if raw.len() >= split + 4 + length {
            break raw[split + 4..split + 4 + length].to_vec();
        }
    };
    stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .expect("answer");
    serde_json::from_slice(&body).expect("a JSON event")
}
