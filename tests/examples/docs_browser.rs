//! `/docs` in a real browser: Debian's Chromium, driven through chromedriver, opens the axum
//! example's docs page, finds every operation, runs "Try it out" → "Execute" on a GET, and
//! saves a screenshot under `target/`.
//!
//! Every request the page makes is read from Chromium's performance log (the DevTools
//! `Network.requestWillBeSent` events chromedriver records): one to anywhere but the example's
//! 127.0.0.1 address fails the test. Besides, Chromium reaches everything through a proxy this
//! test runs, loopback included (`--proxy-bypass-list=<-loopback>`): it forwards requests to
//! the example and refuses every other destination, so nothing leaves the machine even if
//! something tried — Chromium's own services are among the refused (they are not the page).
//!
//! Without Chromium the test is skipped with a message, unless `CI` is set: there a missing
//! browser is a failure (`.ci/run` installs it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::start;

/// Debian's Chromium binary itself: `/usr/bin/chromium` is a wrapper script that adds flags
/// (remote extensions, API keys) which make the browser call Google on its own.
const CHROMIUM: [&str; 2] = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];
const CHROMEDRIVER: [&str; 1] = ["/usr/bin/chromedriver"];
/// How long the page may take for one step (load, render, answer).
const STEP: Duration = Duration::from_secs(30);

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.exists())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Requests the proxy saw: forwarded ones and refused ones (by request target).
#[derive(Default)]
struct Seen {
    forwarded: Vec<String>,
    refused: Vec<String>,
}

/// Starts the recording proxy; answers its address.
fn start_proxy(allowed: Vec<SocketAddr>, seen: Arc<Mutex<Seen>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let addr = listener.local_addr().expect("proxy address");
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let seen = seen.clone();
            let allowed = allowed.clone();
            std::thread::spawn(move || proxy_one(stream, &allowed, &seen));
        }
    });
    addr
}

/// Serves one request on `client` (answers carry `connection: close`).
fn proxy_one(mut client: TcpStream, allowed: &[SocketAddr], seen: &Mutex<Seen>) {
    let _ = client.set_read_timeout(Some(STEP));
    let mut reader = BufReader::new(client.try_clone().expect("clone the stream"));
    let mut head = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push(line.trim_end().to_owned());
        if head.len() > 200 {
            return;
        }
    }
    let Some(request_line) = head.first().cloned() else {
        return;
    };
    let mut words = request_line.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let host = target
        .strip_prefix("http://")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .unwrap_or(target);
    let upstream_addr = allowed.iter().find(|a| host == a.to_string());
    let Some(&allowed) = upstream_addr.filter(|_| method != "CONNECT") else {
        seen.lock()
            .unwrap()
            .refused
            .push(format!("{method} {target}"));
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return;
    };
    seen.lock()
        .unwrap()
        .forwarded
        .push(format!("{method} {target}"));
    let length: usize = head
        .iter()
        .filter_map(|h| h.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let Ok(mut upstream) = TcpStream::connect_timeout(&allowed, STEP) else {
        return;
    };
    let _ = upstream.set_read_timeout(Some(STEP));
    let mut request = format!("{request_line}\r\n");
    for header in &head[1..] {
        let name = header
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if name != "connection" && name != "proxy-connection" && name != "keep-alive" {
            request.push_str(header);
            request.push_str("\r\n");
        }
    }
    request.push_str("connection: close\r\n\r\n");
    if upstream.write_all(request.as_bytes()).is_err() || upstream.write_all(&body).is_err() {
        return;
    }
    let _ = std::io::copy(&mut upstream, &mut client);
}

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver(path: &Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", path.display()));
    let driver = Driver { child, port };
    let deadline = Instant::now() + STEP;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen within {STEP:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

/// chromedriver's `POST /session/{id}/se/log` for the performance log (drains it).
#[derive(Debug)]
struct PerformanceLog;

impl WebDriverCompatibleCommand for PerformanceLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"performance"}"#.to_owned()),
        )
    }
}

/// Every URL the page asked for since the last call, from the performance log.
async fn page_requests(client: &Client) -> Vec<String> {
    let entries = client
        .issue_cmd(PerformanceLog)
        .await
        .expect("chromedriver answers the performance log");
    let mut urls = Vec::new();
    for entry in entries.as_array().into_iter().flatten() {
        let Some(message) = entry["message"]
            .as_str()
            .and_then(|m| serde_json::from_str::<Value>(m).ok())
        else {
            continue;
        };
        let event = &message["message"];
        let url = match event["method"].as_str() {
            Some("Network.requestWillBeSent") => &event["params"]["request"]["url"],
            Some("Network.webSocketCreated") => &event["params"]["url"],
            _ => continue,
        };
        if let Some(url) = url.as_str() {
            urls.push(url.to_owned());
        }
    }
    urls
}

/// URLs served from inside the browser (its own pages, inline data): no network involved.
fn is_local(url: &str) -> bool {
    let scheme = url.split(':').next().unwrap_or_default();
    [
        "data",
        "blob",
        "about",
        "chrome",
        "chrome-untrusted",
        "devtools",
    ]
    .contains(&scheme)
}

/// A 3.2 document with `query` and `additionalOperations`.
const METHODS_32: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/local/methods-32.yaml"
);

/// What the page must show for each operation: its summary, else its operationId, else its
/// path; with the operationId and path to find its block.
///
/// Swagger UI (5.32) renders 3.2's `query` field beside the fixed methods, and no operation
/// of `additionalOperations`: the page has a block for each method below, and exactly those.
fn operations(document: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
        ] {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            let shown = op["summary"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    if id.is_empty() {
                        path.clone()
                    } else {
                        id.clone()
                    }
                });
            out.push((shown, id, path.clone()));
        }
    }
    out
}

/// The directory screenshots go to: `target/` (this test runs from `target/<profile>/deps`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("`{css}` appears: {e}"))
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_page_works_offline_in_chromium() {
    let (Some(chromium), Some(chromedriver)) =
        (first_existing(&CHROMIUM), first_existing(&CHROMEDRIVER))
    else {
        assert!(
            !in_ci(),
            "CI is set but Chromium or chromedriver is missing: install Debian's `chromium` and `chromium-driver`"
        );
        eprintln!(
            "skipped: Debian's chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"
        );
        return;
    };

    let server = start("axum", &["--listen", "127.0.0.1:0"]);
    let document = server.get("/openapi.json").json();
    let title = document["info"]["title"]
        .as_str()
        .expect("a title")
        .to_owned();
    // The other examples' documents: the generated one of examples/jobs, and the petstore
    // examples/hyper is run with in the docs.
    let others = [
        start("jobs", &["--listen", "127.0.0.1:0"]),
        start("hyper", &[super::PETSTORE, "--listen", "127.0.0.1:0"]),
        // An OpenAPI 3.2 document: Swagger UI renders its `query` operation, and none of its
        // `additionalOperations` (see `operations`).
        start("hyper", &[METHODS_32, "--listen", "127.0.0.1:0"]),
    ];
    let mut allowed = vec![server.addr];
    allowed.extend(others.iter().map(|s| s.addr));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let proxy = start_proxy(allowed, seen.clone());
    let driver = start_driver(&chromedriver);
    let profile = std::env::temp_dir().join(format!("oasgate-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);

    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:loggingPrefs".into(), json!({"performance": "ALL"}));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            // No preconnecting to the default search engine.
            "prefs": {"net.network_prediction_options": 2},
            "perfLoggingPrefs": {"enableNetwork": true, "enablePage": false},
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                // Chromium's own services (search preconnect, updates, sign-in, autofill,
                // network time) would otherwise call out; the page alone is under test.
                "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
                "--disable-client-side-phishing-detection", "--disable-domain-reliability",
                "--no-pings", "--disable-breakpad", "--disable-search-engine-choice-screen",
                "--disable-features=AutofillServerCommunication,NetworkTimeServiceQuerying,\
                 OptimizationHints,OptimizationHintsFetching,OptimizationGuideModelDownloading,\
                 MediaRouter,Translate,SafeBrowsing,PreconnectToSearch,AccountConsistency,\
                 SigninInterceptBubble,ChromeSignin",
                format!("--user-data-dir={}", profile.display()),
                format!("--proxy-server=http://{proxy}"),
                "--proxy-bypass-list=<-loopback>",
                "--window-size=1280,1800",
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("chromedriver starts a Chromium session");

    let shot = target_dir().join("docs-browser.png");
    let mut result = drive(&client, server.addr, &document, &title, &shot).await;
    for other in &others {
        if result.is_ok() {
            let document = other.get("/openapi.json").json();
            result = docs_page_is_clean(&client, other.addr, &document).await;
        }
    }
    let requested = page_requests(&client).await;
    if result.is_err() {
        // What the page looked like when it failed.
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
    }
    let _ = client.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    eprintln!("screenshot: {}", shot.display());
    result.unwrap_or_else(|e| panic!("{e}"));

    let here = format!("http://{}/", server.addr);
    let servers: Vec<String> = std::iter::once(&server)
        .chain(&others)
        .map(|s| format!("http://{}/", s.addr))
        .collect();
    let away: Vec<&String> = requested
        .iter()
        .filter(|url| !servers.iter().any(|s| url.starts_with(s)) && !is_local(url))
        .collect();
    assert!(
        away.is_empty(),
        "the pages made requests that leave {servers:?}: {away:?}"
    );
    let seen = seen.lock().unwrap();
    // The log and the proxy both saw the page, its files, the document and the executed call:
    // the checks above looked at real traffic.
    for wanted in [
        "docs",
        "docs/swagger-ui-bundle.js",
        "docs/oasgate-init.js",
        "openapi.json",
        "v2/pets",
    ] {
        let url = format!("{here}{wanted}");
        assert!(
            requested
                .iter()
                .any(|r| *r == url || r.starts_with(&format!("{url}?"))),
            "the performance log has no request for {url}: {requested:?}"
        );
        assert!(
            seen.forwarded.iter().any(|r| r.contains(&url)),
            "no request for {url} went through the proxy: {:?}",
            seen.forwarded
        );
    }
    if !seen.refused.is_empty() {
        eprintln!("the proxy refused Chromium's own calls: {:?}", seen.refused);
    }
}

/// The page checks; an `Err` names what the page did not do.
async fn drive(
    client: &Client,
    addr: SocketAddr,
    document: &Value,
    title: &str,
    shot: &Path,
) -> Result<(), String> {
    client
        .goto(&format!("http://{addr}/docs"))
        .await
        .map_err(|e| format!("open /docs: {e}"))?;
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(".opblock"))
        .await
        .map_err(|e| format!("no operation rendered: {e}"))?;
    let page_title = client.title().await.map_err(|e| e.to_string())?;
    if page_title != title {
        return Err(format!("page title `{page_title}`, expected `{title}`"));
    }
    let servers = text_of(client, ".servers select").await;
    if !servers.contains(&format!("http://{addr}/v2")) {
        return Err(format!(
            "the servers list shows `{servers}`, not this server"
        ));
    }
    let text = client
        .execute(
            "return document.getElementById('swagger-ui').innerText;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    let text = text.as_str().unwrap_or_default();
    let expected = operations(document);
    if expected.len() < 5 {
        return Err(format!("the example has {} operations", expected.len()));
    }
    for (shown, _, path) in &expected {
        if !text.contains(shown.as_str()) || !text.contains(path.as_str()) {
            return Err(format!("operation `{shown}` ({path}) is not on the page"));
        }
    }
    no_error_box(client, addr).await?;

    // Try it out on GET /pets: the call goes to the server the page lists and answers 200.
    let block = "#operations-default-findPets";
    client
        .find(Locator::Css(&format!("{block} .opblock-summary-control")))
        .await
        .map_err(|e| format!("GET /pets block: {e}"))?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let url = client.current_url().await.map_err(|e| e.to_string())?;
    if url.fragment() != Some("/default/findPets") {
        return Err(format!("no deep link after opening the operation: {url}"));
    }
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(&format!("{block} .try-out__btn")))
        .await
        .map_err(|e| format!("no Try it out button: {e}"))?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(&format!("{block} .execute")))
        .await
        .map_err(|e| format!("no Execute button: {e}"))?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let status = text_of(
        client,
        &format!("{block} .live-responses-table tbody .response-col_status"),
    )
    .await;
    if status.trim() != "200" {
        return Err(format!("Execute answered `{status}`, expected 200"));
    }
    let answer = text_of(
        client,
        &format!("{block} .live-responses-table tbody .microlight"),
    )
    .await;
    if !answer.contains("Rex") {
        return Err(format!("the answer shown is not the pet list: {answer}"));
    }
    no_error_box(client, addr).await?;
    let png = client.screenshot().await.map_err(|e| e.to_string())?;
    std::fs::write(shot, png).map_err(|e| format!("write {}: {e}", shot.display()))?;

    // A deep link opens its operation on load (a new load: a changed fragment alone is not).
    client
        .goto("about:blank")
        .await
        .map_err(|e| e.to_string())?;
    client
        .goto(&format!("http://{addr}/docs#/default/searchPets"))
        .await
        .map_err(|e| e.to_string())?;
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css("#operations-default-searchPets.is-open"))
        .await
        .map_err(|e| format!("the deep link did not open searchPets: {e}"))?;
    Ok(())
}

/// Swagger UI's boxes for a document it finds fault with: `pre.errors-wrapper` (the red
/// "Errors" pane: parse, resolver and semantic errors) and `.version-pragma` (an `openapi` or
/// `swagger` field it does not accept). Neither may be on the page.
const ERROR_BOXES: &str = ".errors-wrapper, .version-pragma";

/// The page shows none of [`ERROR_BOXES`]; the `Err` quotes the box's text.
async fn no_error_box(client: &Client, addr: SocketAddr) -> Result<(), String> {
    let boxes = client
        .find_all(Locator::Css(ERROR_BOXES))
        .await
        .map_err(|e| e.to_string())?;
    match boxes.first() {
        Some(found) => {
            let text = found.text().await.unwrap_or_default();
            Err(format!(
                "http://{addr}/docs shows Swagger UI's error box: {text}"
            ))
        }
        None => Ok(()),
    }
}

/// Another example's `/docs`: every operation rendered, no error box, also once each
/// operation is opened (Swagger UI resolves an operation's `$ref`s when it opens).
async fn docs_page_is_clean(
    client: &Client,
    addr: SocketAddr,
    document: &Value,
) -> Result<(), String> {
    client
        .goto(&format!("http://{addr}/docs"))
        .await
        .map_err(|e| format!("open http://{addr}/docs: {e}"))?;
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(".opblock"))
        .await
        .map_err(|e| format!("no operation rendered on http://{addr}/docs: {e}"))?;
    let expected = operations(document);
    let blocks = client
        .find_all(Locator::Css(".opblock-summary-control"))
        .await
        .map_err(|e| e.to_string())?;
    if blocks.len() != expected.len() {
        return Err(format!(
            "http://{addr}/docs shows {} operations, the document has {}",
            blocks.len(),
            expected.len()
        ));
    }
    for block in blocks {
        block.click().await.map_err(|e| e.to_string())?;
    }
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(".opblock.is-open .opblock-body"))
        .await
        .map_err(|e| format!("no operation opened on http://{addr}/docs: {e}"))?;
    no_error_box(client, addr).await
}
