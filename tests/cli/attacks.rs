//! Attacks against `oasgate serve` for real: paths through the proxy in front of an upstream
//! that records what it receives and in front of Python's `http.server` (which resolves `..`),
//! forward-auth asked directly and behind real nginx; headers a service could read otherwise
//! than oasgate did. For every request, either oasgate refuses it, or the upstream receives
//! exactly what oasgate validated (docs/security.md).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::nginx::{Nginx, free_port, nginx, nginx_config};
use crate::support::*;

const GATE: &str = include_str!("../fixtures/local/gate.yaml");

/// What only the key-protected admin operation may return.
const SECRET: &str = "ADMIN SECRET";

/// Request targets an attacker sends to reach `/v2/admin` or `/v2/pets` unchecked, and what
/// the upstream must receive when oasgate lets one through (`None`: refused).
const ATTACKS: &[(&str, Option<&str>)] = &[
    ("/v2/public/..%2Fadmin", None),
    ("/v2/public/..%2fadmin", None),
    ("/v2/public/%2e%2e/admin", None),
    ("/v2/public/%2E%2e/admin", None),
    ("/v2/public/.%2e/admin", None),
    ("/v2/public/..%5Cadmin", None),
    ("/v2/public/..;/admin", None),
    ("/v2/public/%C0%AE%C0%AE/admin", None),
    ("/v2/public/a%00", None),
    ("/v2/pets/.?limit=100000&role=admin", None),
    ("/v2//admin", None),
    ("/v2/./admin", None),
    ("/v2/x/../admin", None),
    ("/v2/admin/.", None),
    ("/v2/admin;x=1", None),
    // `%61dmin` is `admin`: routed there, so its key is required.
    ("/v2/%61dmin", None),
    // Data, handed on as sent or in canonical form.
    (
        "/v2/public/%252e%252e%252fadmin",
        Some("/v2/public/%252e%252e%252fadmin"),
    ),
    ("/v2/public/%72eadme", Some("/v2/public/readme")),
    ("/v2/public/readme", Some("/v2/public/readme")),
];

/// One request over a fresh connection, the target sent byte for byte as `curl --path-as-is`
/// would: (status, whole answer text).
async fn raw_get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut head = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    raw_exchange(addr, head.as_bytes()).await
}

/// Python's `http.server` serving `root`, stopped on drop.
struct PythonServer {
    child: Child,
    addr: SocketAddr,
}

impl PythonServer {
    async fn start(root: &std::path::Path) -> Self {
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server starts");
        let server = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let up = async || tokio::net::TcpStream::connect(server.addr).await.is_ok();
        assert!(
            eventually(Duration::from_secs(10), up).await,
            "http.server did not start"
        );
        server
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory the way `http.server` serves it: `/v2/admin` holds the secret.
fn site(dir: &TempDir) -> std::path::PathBuf {
    let root = dir.0.join("site");
    std::fs::create_dir_all(root.join("v2/public")).unwrap();
    std::fs::write(root.join("v2/admin"), SECRET).unwrap();
    std::fs::write(root.join("v2/public/readme"), "public text").unwrap();
    root
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_hands_on_exactly_the_validated_path_or_refuses() {
    let dir = TempDir::new("paths-proxy");
    dir.write("gate.yaml", GATE);
    let upstream = Upstream::start().await;
    let url = upstream.url();
    let proxy = Gateway::start(&dir, &["--spec", "gate.yaml", "--upstream", &url]);
    let pass_through = Gateway::start_env(
        &dir,
        &["--spec", "gate.yaml", "--upstream", &url],
        &[("OASGATE_OPTIONS_UNKNOWN_ROUTES", "pass-through")],
    );
    let forward_auth = Gateway::start(&dir, &["--spec", "gate.yaml", "--mode", "forward-auth"]);
    for gateway in [&proxy, &pass_through] {
        for (target, forwarded) in ATTACKS {
            let before = upstream.seen().len();
            let (status, text) = raw_get(gateway.addr, target, &[]).await;
            let seen = upstream.seen();
            match forwarded {
                None => {
                    assert!(
                        (400..500).contains(&status),
                        "{target}: expected a refusal: {text}"
                    );
                    assert_eq!(seen.len(), before, "{target} reached the upstream");
                }
                Some(path) => {
                    assert_eq!(status, 200, "{target}: {text}");
                    assert_eq!(seen.len(), before + 1, "{target}");
                    assert_eq!(seen[before].uri, *path, "{target}");
                }
            }
            // Forward-auth gives the same verdict on the same target.
            let (auth_status, auth_text) =
                raw_get(forward_auth.addr, "/", &[("X-Original-URI", target)]).await;
            assert_eq!(
                auth_status == 200,
                forwarded.is_some(),
                "{target}: forward-auth answered {auth_text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normalising_upstream_never_serves_the_protected_file_without_its_key() {
    let dir = TempDir::new("paths-python");
    dir.write("gate.yaml", GATE);
    let python = PythonServer::start(&site(&dir)).await;
    // Unchecked, Python resolves `..` and serves the secret: the attacks are real.
    let (_, direct) = raw_get(python.addr, "/v2/public/..%2Fadmin", &[]).await;
    assert!(
        direct.contains(SECRET),
        "http.server did not normalise: {direct}"
    );

    let url = format!("http://{}", python.addr);
    let proxy = Gateway::start(&dir, &["--spec", "gate.yaml", "--upstream", &url]);
    let normalize = Gateway::start_env(
        &dir,
        &["--spec", "gate.yaml", "--upstream", &url],
        &[("OASGATE_OPTIONS_PATH_NORMALIZATION", "normalize")],
    );
    for gateway in [&proxy, &normalize] {
        let (status, text) = raw_get(gateway.addr, "/v2/admin", &[("X-API-Key", "k")]).await;
        assert_eq!(
            status, 200,
            "with its key, the admin file is served: {text}"
        );
        assert!(text.contains(SECRET));
        for (target, _) in ATTACKS {
            let (status, text) = raw_get(gateway.addr, target, &[]).await;
            assert!(
                !text.contains(SECRET),
                "{target} got the secret ({status}): {text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_forward_auth_never_lets_the_protected_file_out_without_its_key() {
    let Some(nginx_bin) = nginx() else { return };
    let dir = TempDir::new("paths-nginx");
    dir.write("gate.yaml", GATE);
    let python = PythonServer::start(&site(&dir)).await;
    let gateway = Gateway::start(&dir, &["--spec", "gate.yaml", "--mode", "forward-auth"]);
    let port = free_port();
    let _nginx = Nginx::start(&nginx_bin, &dir, port, |nginx_dir| {
        nginx_config(nginx_dir, port, gateway.addr.port(), python.addr.port())
    })
    .await;
    let front = SocketAddr::from(([127, 0, 0, 1], port));
    let (status, text) = raw_get(front, "/v2/admin", &[("X-API-Key", "k")]).await;
    assert_eq!(
        status, 200,
        "with its key, the admin file is served: {text}"
    );
    assert!(text.contains(SECRET));
    for (target, _) in ATTACKS {
        let (status, text) = raw_get(front, target, &[]).await;
        assert!(
            !text.contains(SECRET),
            "{target} got the secret ({status}): {text}"
        );
    }
}

/// Headers given twice or as a list: the first copy validated, another read by the service.
/// Refused by the proxy before anything reaches the upstream, and by forward-auth alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_a_service_could_read_otherwise_are_refused() {
    let dir = TempDir::new("header-attacks");
    dir.write("pets.yaml", SPEC);
    let upstream = Upstream::start().await;
    let proxy = Gateway::start(
        &dir,
        &["--spec", "pets.yaml", "--upstream", &upstream.url()],
    );
    let auth = Gateway::start(&dir, &["--spec", "pets.yaml", "--mode", "forward-auth"]);
    let body = r#"{"name": "rex"}"#;
    // (request head after the request line, whether forward-auth sees the same refusal: it
    // reads no body, so a body's headers are the proxy's alone)
    let rows: &[(&str, bool)] = &[
        (
            "Content-Type: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n",
            false,
        ),
        (
            "Content-Type: application/json, application/x-www-form-urlencoded\r\n",
            false,
        ),
        (
            "Content-Type: application/json\r\nHost: other.test\r\n",
            true,
        ),
    ];
    for (headers, auth_too) in rows {
        let before = upstream.seen().len();
        let request = format!(
            "POST /pets HTTP/1.1\r\nHost: gw\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let (status, text) = raw_exchange(proxy.addr, request.as_bytes()).await;
        assert_eq!(status, 400, "proxy: {headers}: {text}");
        assert_eq!(
            upstream.seen().len(),
            before,
            "{headers} reached the upstream"
        );
        if *auth_too {
            let request = format!(
                "GET / HTTP/1.1\r\nHost: gw\r\nX-Original-Method: POST\r\nX-Original-URI: /pets\r\n{headers}Connection: close\r\n\r\n"
            );
            let (status, text) = raw_exchange(auth.addr, request.as_bytes()).await;
            assert_eq!(status, 400, "forward-auth: {headers}: {text}");
        }
    }
    // An API key given twice: the first checked, the second read by the service.
    let request = "GET /secure HTTP/1.1\r\nHost: gw\r\nX-Api-Key: good\r\nX-Api-Key: forged\r\nConnection: close\r\n\r\n";
    let before = upstream.seen().len();
    let (status, text) = raw_exchange(proxy.addr, request.as_bytes()).await;
    assert_eq!(status, 400, "{text}");
    assert!(
        !text.contains("forged") && !text.contains("good"),
        "a key was echoed: {text}"
    );
    assert_eq!(upstream.seen().len(), before);
    let request = "GET / HTTP/1.1\r\nHost: gw\r\nX-Original-URI: /secure\r\nX-Api-Key: good\r\nX-Api-Key: forged\r\nConnection: close\r\n\r\n";
    let (status, text) = raw_exchange(auth.addr, request.as_bytes()).await;
    assert_eq!(status, 400, "forward-auth: {text}");
}

/// Sends `request` as it is over a fresh connection: (status, whole answer text).
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 20 s")
        .expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, text)
}
