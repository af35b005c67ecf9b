//! `server.cors` in a real browser: Debian's Chromium, driven through chromedriver, loads a
//! page from one 127.0.0.1 port and `fetch`es the API through `oasgate serve` on another — a
//! cross-origin call. From the allowed origin the calls succeed (a preflighted JSON POST too)
//! and the page reads the answers, oasgate's own 400 problem included; from another origin
//! they fail with a `TypeError`, and the preflighted one never reaches the upstream.
//!
//! As in the `/docs` browser test (`tests/examples/docs_browser.rs`), nothing leaves
//! 127.0.0.1: Chromium reaches everything, loopback included, through a proxy this test runs
//! that forwards only to the pages and the gateway, and every URL in Chromium's performance
//! log is checked. Without Chromium the test is skipped with a message, unless `CI` is set.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use http::Response;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::support::*;

/// Debian's Chromium binary itself (`/usr/bin/chromium` is a wrapper adding flags that make
/// the browser call out on its own).
const CHROMIUM: [&str; 2] = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];
const CHROMEDRIVER: [&str; 1] = ["/usr/bin/chromedriver"];
/// How long one step (a load, a fetch) may take.
const STEP: Duration = Duration::from_secs(30);

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.exists())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A page server on 127.0.0.1: every path answers a blank HTML page. Stops when dropped.
struct Page {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Page {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_| async {
                        let mut page = Response::new(Full::new(Bytes::from_static(
                            b"<!doctype html><title>page</title><p>a page on another origin",
                        )));
                        page.headers_mut()
                            .insert("content-type", "text/html".parse().unwrap());
                        Ok::<_, Infallible>(page)
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, task }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Requests the proxy refused (by request line).
type Refused = Arc<Mutex<Vec<String>>>;

/// Starts a proxy that forwards requests to `allowed` only and refuses every other; answers
/// its address.
fn start_proxy(allowed: Vec<SocketAddr>, refused: Refused) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let addr = listener.local_addr().expect("proxy address");
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let (allowed, refused) = (allowed.clone(), refused.clone());
            std::thread::spawn(move || proxy_one(stream, &allowed, &refused));
        }
    });
    addr
}

/// Forwards one request (answers carry `connection: close`).
fn proxy_one(mut client: TcpStream, allowed: &[SocketAddr], refused: &Mutex<Vec<String>>) {
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
    let destination = allowed.iter().find(|a| host == a.to_string());
    let Some(&destination) = destination.filter(|_| method != "CONNECT") else {
        refused.lock().unwrap().push(request_line.clone());
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return;
    };
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
    let Ok(mut upstream) = TcpStream::connect_timeout(&destination, STEP) else {
        return;
    };
    let _ = upstream.set_read_timeout(Some(STEP));
    let mut request = format!("{request_line}\r\n");
    for header in &head[1..] {
        let name = header.split(':').next().unwrap_or("").trim();
        if !["connection", "proxy-connection", "keep-alive"]
            .iter()
            .any(|hop| name.eq_ignore_ascii_case(hop))
        {
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

/// Every URL the pages asked for since the last call, from the performance log.
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
        if event["method"] == "Network.requestWillBeSent"
            && let Some(url) = event["params"]["request"]["url"].as_str()
        {
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

/// Runs `fetch(url, init)` in the page: what the page could read of the answer, or the
/// error's name and message.
const FETCH: &str = r#"
const [url, init, done] = arguments;
fetch(url, init)
  .then(async (r) => done({
    ok: true,
    status: r.status,
    contentType: r.headers.get('content-type'),
    requestId: r.headers.get('x-request-id'),
    upstream: r.headers.get('x-upstream'),
    body: await r.json(),
  }))
  .catch((e) => done({ok: false, error: `${e.name}: ${e.message}`}));
"#;

/// What a row expects the page to read.
enum Expect {
    /// The answer, with this status and JSON body field.
    Reads(u16, &'static str, &'static str),
    /// A `TypeError`: the browser kept the answer from the page.
    Fails,
}

async fn drive(client: &Client, allowed: &Page, refused: &Page, api: &str) -> Result<(), String> {
    let post = |body: &str| json!({"method": "POST", "headers": {"content-type": "application/json"}, "body": body});
    // (what, page, path, fetch's init, expected)
    let rows: [(&str, &Page, &str, Value, Expect); 6] = [
        (
            "a simple GET",
            allowed,
            "/pets",
            json!({}),
            Expect::Reads(200, "/uri", "/pets"),
        ),
        (
            "a credentialed GET",
            allowed,
            "/pets?limit=5",
            json!({"credentials": "include"}),
            Expect::Reads(200, "/uri", "/pets?limit=5"),
        ),
        (
            "a preflighted JSON POST",
            allowed,
            "/pets",
            post(r#"{"name":"Rex"}"#),
            Expect::Reads(200, "/method", "POST"),
        ),
        (
            "an invalid POST: oasgate's 400",
            allowed,
            "/pets",
            post("{}"),
            Expect::Reads(400, "/status", "400"),
        ),
        ("a simple GET", refused, "/pets", json!({}), Expect::Fails),
        (
            "a preflighted JSON POST",
            refused,
            "/pets",
            post(r#"{"name":"Intruder"}"#),
            Expect::Fails,
        ),
    ];
    let mut loaded = None;
    for (what, page, path, init, expect) in rows {
        let origin = page.origin();
        if loaded != Some(page.addr) {
            client
                .goto(&format!("{origin}/"))
                .await
                .map_err(|e| format!("open {origin}/: {e}"))?;
            loaded = Some(page.addr);
        }
        let url = format!("{api}{path}");
        let got = client
            .execute_async(FETCH, vec![json!(url), init])
            .await
            .map_err(|e| format!("{what} from {origin}: the script failed: {e}"))?;
        match expect {
            Expect::Reads(status, pointer, value) => {
                let body = &got["body"];
                let read = body
                    .pointer(pointer)
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_owned));
                if got["ok"] != true || got["status"] != status || read.as_deref() != Some(value) {
                    return Err(format!(
                        "{what} from {origin}: expected {status} with {pointer} = {value}, the page read {got}"
                    ));
                }
                // `x-request-id` is exposed; `x-upstream` is not, so the page cannot read it.
                if !got["requestId"].is_string() || !got["upstream"].is_null() {
                    return Err(format!(
                        "{what} from {origin}: expected x-request-id readable and x-upstream not, got {got}"
                    ));
                }
                if status == 400 && got["contentType"] != "application/problem+json" {
                    return Err(format!("{what} from {origin}: not a problem: {got}"));
                }
            }
            Expect::Fails => {
                let error = got["error"].as_str().unwrap_or_default();
                if got["ok"] != false || !error.starts_with("TypeError") {
                    return Err(format!(
                        "{what} from {origin}: expected a TypeError, the page read {got}"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_an_allowed_origin_reads_the_api_and_another_cannot() {
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
    let (allowed, refused) = (Page::start().await, Page::start().await);
    let dir = TempDir::new("cors-browser");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n  cors:\n    allow_origins: [{}]\n    expose_headers: [x-request-id]\n    allow_credentials: true\n",
            upstream.url(),
            allowed.origin()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let api = format!("http://{}", gateway.addr);

    let refused_by_proxy = Refused::default();
    let proxy = start_proxy(
        vec![allowed.addr, refused.addr, gateway.addr],
        refused_by_proxy.clone(),
    );
    let driver = start_driver(&chromedriver);
    let profile =
        std::env::temp_dir().join(format!("oasgate-chromium-cors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:loggingPrefs".into(), json!({"performance": "ALL"}));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "prefs": {"net.network_prediction_options": 2},
            "perfLoggingPrefs": {"enableNetwork": true, "enablePage": false},
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
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
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("chromedriver starts a Chromium session");
    let result = drive(&client, &allowed, &refused, &api).await;
    let requested = page_requests(&client).await;
    let _ = client.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    result.unwrap_or_else(|e| panic!("{e}\noasgate's log:\n{}", gateway.log_text()));

    // Nothing the pages asked for left the two pages and the gateway.
    let ours = [allowed.addr, refused.addr, gateway.addr].map(|a| format!("http://{a}/"));
    let away: Vec<&String> = requested
        .iter()
        .filter(|url| !ours.iter().any(|o| url.starts_with(o)) && !is_local(url))
        .collect();
    assert!(away.is_empty(), "requests that leave {ours:?}: {away:?}");
    assert!(
        requested
            .iter()
            .any(|u| u.starts_with(&format!("{api}/pets"))),
        "the performance log has no call to the API: {requested:?}"
    );
    let refused_lines = refused_by_proxy.lock().unwrap().clone();
    if !refused_lines.is_empty() {
        eprintln!("the proxy refused Chromium's own calls: {refused_lines:?}");
    }
    // The browser sent the allowed page's preflighted POST after oasgate's preflight answer;
    // the refused page's never left the browser.
    let posts: Vec<Option<String>> = upstream
        .seen()
        .iter()
        .filter(|s| s.method == "POST")
        .map(|s| {
            s.headers
                .get("origin")
                .and_then(|o| o.to_str().ok())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        posts,
        [Some(allowed.origin())],
        "the POSTs the upstream saw"
    );
    assert!(
        upstream.seen().iter().all(|s| s.method != "OPTIONS"),
        "a preflight reached the upstream: {:?}",
        upstream.seen()
    );
}
