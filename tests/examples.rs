//! Runs the example binaries for real and talks HTTP/1.1 to them over TCP.
//!
//! Examples get no `CARGO_BIN_EXE_*` variable, so the binaries are looked up next to this test
//! executable (`target/<profile>/examples/`) and built with cargo only when missing or older
//! than their sources. Every wait is bounded: the start-up line and each request time out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "examples/docs_browser.rs"]
mod docs_browser;
#[path = "support/memory.rs"]
mod memory;
#[path = "support/processes.rs"]
mod processes;

use processes::{STARTUP, Server, example_binary, oasgate_binary, start, start_binary};

const REQUEST: Duration = Duration::from_secs(10);
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const PETSTORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/oai/v3.0-petstore-expanded.yaml"
);

/// An HTTP response, read to the end.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// Asserts a problem+json answer with `status` and returns its body.
    fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        let content_type = self.header("content-type");
        assert_eq!(content_type, Some("application/problem+json"));
        self.json()
    }
}

impl Server {
    fn get(&self, target: &str) -> Reply {
        self.send("GET", target, None)
    }

    fn post_json(&self, target: &str, json: &str) -> Reply {
        self.send("POST", target, Some(json))
    }

    fn send(&self, method: &str, target: &str, json: Option<&str>) -> Reply {
        self.send_with(method, target, json, &[])
    }

    /// One request on a fresh connection (`Connection: close`) with extra `headers`, bounded
    /// by `REQUEST`.
    fn send_with(
        &self,
        method: &str,
        target: &str,
        json: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let deadline = Instant::now() + REQUEST;
        let mut stream = TcpStream::connect_timeout(&self.addr, REQUEST)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr));
        stream
            .set_write_timeout(Some(REQUEST))
            .expect("set timeout");
        let mut request = format!(
            "{method} {target} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
            self.addr
        );
        if let Some(json) = json {
            request.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                json.len()
            ));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(json.unwrap_or_default());
        stream.write_all(request.as_bytes()).expect("write request");

        let mut raw = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{method} {target}: no full answer within {REQUEST:?}"
            );
            stream.set_read_timeout(Some(left)).expect("set timeout");
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("{method} {target}: reading the answer: {e}"),
            }
        }
        parse_reply(&raw).unwrap_or_else(|| {
            panic!(
                "{method} {target}: not an HTTP response: {}",
                String::from_utf8_lossy(&raw)
            )
        })
    }
}

fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// Decodes a chunked body (no trailers are expected).
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

#[test]
fn hyper_example_echoes_what_the_layer_lets_through() {
    let server = start("hyper", &[PETSTORE, "--listen", "127.0.0.1:0"]);

    let ok = server.get("/v2/pets?limit=5&tags=a");
    assert_eq!(ok.status, 200, "{}", ok.text());
    let echo = ok.json();
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/v2/pets");
    // The handler sees the canonical query: declared parameters in declared order.
    assert_eq!(echo["query"], "tags=a&limit=5");
    assert_eq!(
        echo["validated"]["query"],
        json!({"limit": 5, "tags": ["a"]})
    );
    assert_eq!(echo["validated"]["operationId"], "findPets");

    let bad = server.get("/v2/pets?limit=x").problem(400);
    assert_eq!(bad["errors"][0]["name"], "limit");

    let sent = r#"{"name":"rex"}"#;
    let created = server.post_json("/v2/pets", sent);
    assert_eq!(created.status, 200, "{}", created.text());
    let echo = created.json();
    // The handler reads the very bytes the client sent.
    assert_eq!(echo["body"], sent);
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["validated"]["body"]["name"], "rex");

    server.get("/nope").problem(404);

    let put = server.send("PUT", "/v2/pets", None);
    put.problem(405);
    let allow = put.header("allow").expect("405 has an Allow header");
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow}"
    );

    let document = server.get("/openapi.json");
    assert_eq!(document.status, 200);
    assert_eq!(document.json()["openapi"], "3.0.0");
}

#[test]
fn hyper_example_maps_its_flags_to_options() {
    let server = start(
        "hyper",
        &[
            PETSTORE,
            "--listen",
            "127.0.0.1:0",
            "--prefix",
            "/api",
            "--reject-undeclared",
        ],
    );
    assert_eq!(server.get("/api/v2/pets?limit=1").status, 200);
    assert_eq!(server.get("/v2/pets").status, 404, "the prefix is required");
    let undeclared = server.get("/api/v2/pets?colour=red").problem(400);
    assert_eq!(undeclared["errors"][0]["name"], "colour");
}

/// Behind a trusted proxy the served document's `servers` follow the forwarded origin; from
/// any other peer, the `Host` the client used.
#[test]
fn hyper_example_believes_forwarded_headers_from_trusted_proxies_only() {
    let forwarded = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "api.example"),
    ];
    let server_url = |server: &Server| {
        let document = server
            .send_with("GET", "/openapi.json", None, &forwarded)
            .json();
        document["servers"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let trusting = start(
        "hyper",
        &[
            PETSTORE,
            "--listen",
            "127.0.0.1:0",
            "--trusted-proxy",
            "127.0.0.1/32",
        ],
    );
    assert!(
        server_url(&trusting).starts_with("https://api.example/"),
        "{}",
        server_url(&trusting)
    );
    let wary = start("hyper", &[PETSTORE, "--listen", "127.0.0.1:0"]);
    assert!(
        server_url(&wary).starts_with(&format!("http://{}/", wary.addr)),
        "{}",
        server_url(&wary)
    );
}

/// The echo shows the merged paging of an `x-paging` operation, as a handler receives it.
#[test]
fn hyper_example_echoes_the_merged_paging() {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/fixtures/bench.yaml");
    let server = start("hyper", &[spec, "--listen", "127.0.0.1:0"]);
    let echo = server.get("/paged?sort=name").json();
    assert_eq!(
        echo["validated"]["paging"],
        json!({"limit": 50, "offset": 0, "sort": [{"field": "name", "dir": 1}]})
    );
    let echo = server.get("/paged?sort=-price,name&limit=5").json();
    assert_eq!(
        echo["validated"]["paging"],
        json!({"limit": 5, "offset": 0, "sort": [{"field": "price", "dir": -1}, {"field": "name", "dir": 1}]})
    );
    let refused = server.get("/paged?sort=colour").problem(400);
    assert_eq!(refused["errors"][0]["name"], "sort");
}

#[test]
fn hyper_example_closes_a_connection_that_trickles_its_head() {
    let server = start(
        "hyper",
        &[
            PETSTORE,
            "--listen",
            "127.0.0.1:0",
            "--header-read-timeout",
            "1",
        ],
    );
    let mut stream = TcpStream::connect_timeout(&server.addr, REQUEST).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("set timeout");
    let head = b"GET /v2/pets HTTP/1.1\r\nhost: slow\r\nx-slow: ";
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    // One byte every 50 ms: the head never completes, so only the timeout can end this.
    for i in 0.. {
        assert!(Instant::now() < deadline, "still open after 15 s");
        if stream
            .write_all(&[head.get(i).copied().unwrap_or(b'a')])
            .is_err()
        {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    // Other clients are still served.
    assert_eq!(server.get("/v2/pets").status, 200);
}

#[test]
fn hyper_example_exits_1_on_a_bad_spec() {
    let missing = Path::new(MANIFEST_DIR).join("tests/fixtures/no-such-spec.yaml");
    let mut child = Command::new(example_binary("hyper"))
        .arg(&missing)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("example hyper starts");
    let deadline = Instant::now() + STARTUP;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("example hyper did not exit on a missing spec");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no-such-spec.yaml"), "{stderr}");
}

/// Runs `command` with `sh -c` when curl is installed, waiting at most [`REQUEST`]; its
/// stdout, or `None` without curl.
fn run_curl_line(command: &str) -> Option<String> {
    let has_curl = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_curl {
        eprintln!("curl is not installed: the printed lines are checked without it");
        return None;
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts");
    let deadline = Instant::now() + REQUEST;
    while child.try_wait().expect("sh runs").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{command}` did not finish within {REQUEST:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut out)
        .expect("curl's output is text");
    Some(out)
}

#[test]
fn axum_example_prints_requests_to_try() {
    let server = start("axum", &["--listen", "127.0.0.1:0"]);
    let lines = server.lines_after_listening(4);
    assert_eq!(lines[0], "try:", "{lines:?}");
    let here = format!("http://{}", server.addr);
    // (what the line is for, status, content type)
    let rows = [
        ("valid", 200, "application/json"),
        ("invalid", 400, "application/problem+json"),
        ("docs", 200, "text/html"),
    ];
    for (line, (what, status, content_type)) in lines[1..].iter().zip(rows) {
        let command = line.split('#').next().unwrap_or_default().trim();
        let url = command
            .strip_prefix("curl -s '")
            .and_then(|rest| rest.strip_suffix('\''))
            .unwrap_or_else(|| panic!("{what}: `{line}` is not `curl -s '<url>'`"));
        let target = url
            .strip_prefix(&here)
            .unwrap_or_else(|| panic!("{what}: `{url}` is not this server ({here})"));
        let reply = server.get(target);
        assert_eq!(reply.status, status, "{what}: {line}\n{}", reply.text());
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{what}: {line}: {:?}",
            reply.header("content-type")
        );
        let body = match what {
            "valid" => {
                let pets = reply.json();
                let count = pets.as_array().map(Vec::len);
                assert!(matches!(count, Some(1..=2)), "{line}: {pets}");
                Some(pets)
            }
            "invalid" => {
                let problem = reply.problem(400);
                assert_eq!(problem["errors"][0]["name"], "limit", "{problem}");
                Some(problem)
            }
            _ => None,
        };
        // The line itself, run by a shell, prints the same body.
        if let (Some(body), Some(out)) = (body, run_curl_line(command)) {
            let printed: Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{what}: `{command}` printed no JSON ({e}): {out}"));
            assert_eq!(printed, body, "{what}: {command}");
        }
    }
}

#[test]
fn axum_example_is_a_working_petstore() {
    let server = start("axum", &["--listen", "127.0.0.1:0"]);

    let all = server.get("/v2/pets");
    assert_eq!(all.status, 200);
    let seeded = all.json().as_array().map_or(0, Vec::len);
    assert!(seeded >= 2, "a few pets are seeded: {}", all.json());
    let one = server.get("/v2/pets?limit=1").json();
    assert_eq!(one.as_array().map(Vec::len), Some(1), "{one}");

    let created = server.post_json("/v2/pets", r#"{"name":"Bo","tag":"hamster"}"#);
    assert_eq!(created.status, 200, "{}", created.text());
    let pet = created.json();
    assert_eq!(pet["name"], "Bo");
    let id = pet["id"].as_i64().expect("the new pet has an integer id");

    let hamsters = server.get("/v2/pets?tags=hamster").json();
    assert_eq!(hamsters, json!([&pet]), "`tags` filters the list");

    let fetched = server.get(&format!("/v2/pets/{id}"));
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), pet);

    let deleted = server.send("DELETE", &format!("/v2/pets/{id}"), None);
    assert_eq!(deleted.status, 204);
    // The `pet` model loader finds nothing: the layer answers before the handler runs.
    let gone = server.get(&format!("/v2/pets/{id}")).problem(404);
    assert_eq!(
        (gone["kind"].clone(), gone["id"].clone()),
        (json!("pet"), json!(id))
    );
    // Deleting twice reaches the handler, which answers with the spec's `Error` shape.
    let again = server.send("DELETE", &format!("/v2/pets/{id}"), None);
    assert_eq!(again.status, 404);
    assert_eq!(again.header("content-type"), Some("application/json"));
    assert_eq!(again.json()["code"], 404);

    // Search: transformed name filter, lenient date, paging merged and sorted.
    let found = server.get("/v2/pets/search?name=%20REX&born_after=1%20January%202017&sort=-born");
    assert_eq!(found.status, 200, "{}", found.text());
    let names: Vec<String> = found
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Rexina"], "Rex was born before 2017");
    let page = server
        .get("/v2/pets/search?offset=1&limit=2&sort=id")
        .json();
    let ids: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);
    let by_default = server.get("/v2/pets/search").json();
    assert_eq!(
        by_default.as_array().unwrap().len(),
        2,
        "default_limit is 2"
    );
    assert_eq!(by_default[0]["name"], "Laika", "default_sort is name");
    let unsortable = server.get("/v2/pets/search?sort=age").problem(400);
    assert_eq!(unsortable["errors"][0]["name"], "sort");
    let not_a_date = server
        .get("/v2/pets/search?born_after=someday")
        .problem(400);
    assert_eq!(not_a_date["errors"][0]["name"], "born_after");

    // Everything below is rejected by the layer before any handler runs.
    let bad_limit = server.get("/v2/pets?limit=abc").problem(400);
    assert_eq!(bad_limit["errors"][0]["name"], "limit");

    let unknown = server.get("/v2/nope").problem(404);
    assert_eq!(unknown["instance"], "/v2/nope");

    let put = server.send("PUT", "/v2/pets", None);
    put.problem(405);
    assert!(put.header("allow").is_some(), "405 has an Allow header");

    let bad_body = server.post_json("/v2/pets", r#"{"tag":1}"#).problem(400);
    assert_eq!(bad_body["errors"][0]["in"], "body");
}

/// The soak test: a million mixed requests against `examples/hyper`, not in the default run.
///
/// ```text
/// cargo test --release --test examples -- --ignored soak
/// ```
mod soak {
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    use super::memory::rss_kib;
    use super::{Server, oasgate_binary, start, start_binary};

    const TOTAL: usize = 1_000_000;
    /// RSS is sampled once this many requests are answered, and again at the end.
    const WARM: usize = 100_000;
    const CONNECTIONS: usize = 8;
    /// The whole run stops (and fails) past this.
    const DEADLINE: Duration = Duration::from_secs(20 * 60);
    /// One answer may take at most this.
    const ANSWER: Duration = Duration::from_secs(10);

    /// Valid and invalid requests against the kitchen-sink document, with the status each must
    /// get. None is refused for its size with an unread body, so every connection stays open.
    fn mix() -> Vec<(Vec<u8>, u16)> {
        let get = |target: &str, headers: &str| {
            format!("GET {target} HTTP/1.1\r\nhost: soak\r\n{headers}\r\n").into_bytes()
        };
        let send = |method: &str, target: &str, content_type: &str, body: &str| {
            format!(
                "{method} {target} HTTP/1.1\r\nhost: soak\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        };
        let many: String = (0..300).map(|i| format!("k{i}={i}&")).collect();
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        vec![
            (
                get("/v1/pets?limit=5&tags=a&tags=b&ids=1,2&filter[min]=3", ""),
                200,
            ),
            (get("/v1/pets/7", ""), 200),
            (get("/v1/files/archive.tar.gz", ""), 200),
            (get("/v1/reports/2024-05", ""), 200),
            (get("/v1/secure", "authorization: Bearer t\r\n"), 200),
            (
                send(
                    "POST",
                    "/v1/pets",
                    "application/json",
                    r#"{"name": "Tom", "petType": "kitty", "lives": 3}"#,
                ),
                200,
            ),
            (
                send(
                    "POST",
                    "/v1/forms",
                    "application/x-www-form-urlencoded",
                    "age=3&tags=a&ids=1,2",
                ),
                200,
            ),
            (
                get("/v1/pets?limit=0&since=2023-02-29", "x-count: many\r\n"),
                400,
            ),
            (get("/v1/pets/abc", ""), 400),
            (get(&format!("/v1/pets?{many}"), ""), 400),
            (get("/v1/nowhere", ""), 404),
            (get("/v1/secure", ""), 401),
            (send("PATCH", "/v1/pets/1", "application/json", "{}"), 405),
            (
                send("POST", "/v1/pets", "application/json", "{\"name\": Tom}"),
                400,
            ),
            (send("POST", "/v1/pets", "application/json", &deep), 400),
            (
                send(
                    "POST",
                    "/v1/pets",
                    "application/json",
                    r#"{"name": "", "petType": "Dog"}"#,
                ),
                400,
            ),
            (send("POST", "/v1/pets", "text/csv", "a,b"), 415),
            (get("/openapi.json", ""), 200),
        ]
    }

    /// Reads one response; its status.
    async fn answer(stream: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let byte = stream.read_u8().await?;
            head.push(byte);
            if head.len() > 64 * 1024 {
                return Err(std::io::Error::other("the response head is too long"));
            }
        }
        let head = String::from_utf8_lossy(&head);
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status in {head}")))?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| std::io::Error::other(format!("no content-length in {head}")))?;
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        Ok(status)
    }

    const KITCHEN: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/local/kitchen.yaml"
    );

    #[test]
    #[ignore = "a million requests: run with `cargo test --release --test examples -- --ignored soak`"]
    fn soak_hyper_example() {
        let server = start("hyper", &[KITCHEN, "--listen", "127.0.0.1:0"]);
        soak("examples/hyper", &server);
    }

    /// The same mix through `oasgate serve` in front of `examples/upstream`, which answers 200
    /// to anything: every status but the 200s comes from the proxy. RSS is the proxy's.
    #[test]
    #[ignore = "a million requests: run with `cargo test --release --test examples -- --ignored soak`"]
    fn soak_proxy() {
        let upstream = start("upstream", &["--listen", "127.0.0.1:0"]);
        let upstream_url = format!("http://{}", upstream.addr);
        let proxy = start_binary(
            "oasgate",
            &oasgate_binary(),
            &[
                "serve",
                "--spec",
                KITCHEN,
                "--upstream",
                &upstream_url,
                "--listen",
                "127.0.0.1:0",
            ],
        );
        soak("oasgate serve", &proxy);
    }

    /// Sends [`TOTAL`] requests of the mix to `server` and checks every status and the RSS.
    fn soak(label: &str, server: &Server) {
        let pid = server.child.id();
        let addr = server.addr;
        let mix = mix();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        let (warm_rss, warm_at) = runtime.block_on(async {
            let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let warm = std::sync::Arc::new(std::sync::OnceLock::new());
            let mut tasks = tokio::task::JoinSet::new();
            for connection in 0..CONNECTIONS {
                let (mix, sent, warm) = (mix.clone(), sent.clone(), warm.clone());
                tasks.spawn(async move {
                    let stream = TcpStream::connect(addr)
                        .await
                        .map_err(|e| format!("connect: {e}"))?;
                    let mut stream = BufReader::new(stream);
                    let mut i = connection;
                    loop {
                        let n = sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if n >= TOTAL {
                            return Ok::<(), String>(());
                        }
                        if n == WARM {
                            let _ = warm.set((rss_kib(pid), started.elapsed()));
                        }
                        if started.elapsed() > DEADLINE {
                            return Err(format!("not done within {DEADLINE:?}"));
                        }
                        let (request, expected) = &mix[i % mix.len()];
                        i += 1;
                        stream
                            .get_mut()
                            .write_all(request)
                            .await
                            .map_err(|e| format!("request {n}: write: {e}"))?;
                        let status = tokio::time::timeout(ANSWER, answer(&mut stream))
                            .await
                            .map_err(|_| format!("request {n}: no answer within {ANSWER:?}"))?
                            .map_err(|e| format!("request {n}: read: {e}"))?;
                        if status != *expected {
                            let text = String::from_utf8_lossy(request);
                            let line = text.lines().next().unwrap_or_default();
                            return Err(format!(
                                "request {n} ({line}): {status}, expected {expected}"
                            ));
                        }
                    }
                });
            }
            let mut errors = Vec::new();
            while let Some(done) = tasks.join_next().await {
                if let Err(e) = done.expect("a connection task ends") {
                    errors.push(e);
                }
            }
            assert!(errors.is_empty(), "{}", errors.join("\n"));
            *warm.get().expect("the run passed the warm-up mark")
        });
        let elapsed = started.elapsed();
        let end_rss = rss_kib(pid);
        let rate = TOTAL as f64 / elapsed.as_secs_f64();
        println!(
            "soak {label}: {TOTAL} requests over {CONNECTIONS} connections in {:.1} s ({rate:.0}/s); \
             RSS {warm_rss} KiB after {WARM} (at {:.1} s), {end_rss} KiB at the end ({:+.1} %)",
            elapsed.as_secs_f64(),
            warm_at.as_secs_f64(),
            (end_rss as f64 / warm_rss as f64 - 1.0) * 100.0
        );
        assert!(
            end_rss * 10 <= warm_rss * 11,
            "resident memory grew from {warm_rss} KiB to {end_rss} KiB"
        );
    }
}

/// `examples/upstream` answers anything; with `--spec` the layer stands in front of the same
/// answer, so only requests the document allows reach it (what `scripts/layer-load.sh`
/// measures), and a document that does not load stops it with the loader's message.
#[test]
fn upstream_example_validates_with_a_spec_and_answers_anything_without() {
    let kitchen = format!("{MANIFEST_DIR}/tests/fixtures/local/kitchen.yaml");
    let bare = start("upstream", &["--listen", "127.0.0.1:0"]);
    let validating = start("upstream", &["--listen", "127.0.0.1:0", "--spec", &kitchen]);
    // (method, target, body, status without the layer, status behind it)
    let rows = [
        ("GET", "/v1/pets/7", None, 200, 200),
        ("GET", "/v1/pets/abc", None, 200, 400),
        ("GET", "/v1/reports/2024-13", None, 200, 400),
        ("GET", "/v1/nowhere", None, 200, 404),
        (
            "POST",
            "/v1/pets",
            Some(r#"{"name": "Tom", "petType": "kitty", "lives": 3}"#),
            200,
            200,
        ),
        (
            "POST",
            "/v1/pets",
            Some(r#"{"name": "Tom", "petType": "kitty", "lives": 12}"#),
            200,
            400,
        ),
    ];
    for (method, target, body, plain, checked) in rows {
        let answer = bare.send(method, target, body);
        assert_eq!(
            answer.status,
            plain,
            "bare {method} {target}: {}",
            answer.text()
        );
        let answer = validating.send(method, target, body);
        assert_eq!(
            answer.status,
            checked,
            "validating {method} {target}: {}",
            answer.text()
        );
        if checked != 200 {
            answer.problem(checked);
        }
    }

    let output = Command::new(example_binary("upstream"))
        .args(["--listen", "127.0.0.1:0", "--spec", "no/such/document.yaml"])
        .output()
        .expect("upstream runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no/such/document.yaml"), "{stderr}");
}

/// With `--response-validation enforce` every answer of the demo's handlers is checked against
/// `petstore.yaml`: one that broke it would become a 500 problem. Each handler, each of its
/// answers (`.ci/run` runs schemathesis over the same).
#[test]
fn axum_example_answers_conform_with_response_validation_enforced() {
    let server = start(
        "axum",
        &[
            "--listen",
            "127.0.0.1:0",
            "--response-validation",
            "enforce",
        ],
    );
    let created = server.post_json(
        "/v2/pets",
        r#"{"name":"Bo","tag":"hamster","born":"2020-02-02"}"#,
    );
    assert_eq!(created.status, 200, "{}", created.text());
    let id = created.json()["id"].as_i64().expect("an integer id");
    // (method, path, status)
    let rows = [
        ("GET", "/v2/pets".to_owned(), 200),
        ("GET", "/v2/pets?tags=hamster&limit=1".to_owned(), 200),
        ("GET", "/v2/pets/search?name=bo&sort=-born".to_owned(), 200),
        ("GET", format!("/v2/pets/{id}"), 200),
        ("DELETE", format!("/v2/pets/{id}"), 204),
        // The handler's own 404, in the document's `Error` shape under `default`.
        ("DELETE", format!("/v2/pets/{id}"), 404),
    ];
    for (method, path, status) in rows {
        let answer = server.send(method, &path, None);
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.text());
    }
    // The flag is on: the served document lists the invalid-response problem, as it does only
    // for operations whose response validation is enforced.
    let served = server.get("/openapi.json").json();
    let responses = &served["paths"]["/pets"]["get"]["responses"];
    // The operation's `default` covers 500: the problem merged with it is a shared component.
    let added = responses["500"]["$ref"]
        .as_str()
        .and_then(|r| served.pointer(r.trim_start_matches('#')))
        .unwrap_or_else(|| panic!("{responses}"));
    assert_eq!(
        added["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem",
        "{added}"
    );
}
