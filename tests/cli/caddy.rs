//! Real Caddy with `forward_auth` pointing at `oasgate serve --mode forward-auth`, in front of
//! a tiny upstream; everything on 127.0.0.1, every file in a temp directory. The Caddyfile is
//! the one `docs/gateway.md` shows, with the addresses replaced.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http::Request;

use crate::nginx::free_port;
use crate::support::*;

/// Caddy's path, or why the test cannot run. With `CI` set, a missing Caddy is a failure:
/// `.ci/run` installs it.
fn caddy() -> Option<PathBuf> {
    let found = ["/usr/bin/caddy", "/usr/local/bin/caddy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "caddy is not installed, and CI is set: `.ci/run` should have installed it"
        );
        eprintln!("skipping the caddy test: caddy is not installed (apt-get install -y caddy)");
    }
    found
}

/// The Caddyfile under `### Caddy` in `docs/gateway.md`.
fn documented_caddyfile() -> String {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/gateway.md"))
        .expect("docs/gateway.md");
    let section = guide
        .split_once("\n### Caddy\n")
        .expect("docs/gateway.md has a `### Caddy` section")
        .1;
    let block = section
        .split_once("```caddyfile\n")
        .expect("the Caddy section has a ```caddyfile block")
        .1;
    block
        .split_once("\n```")
        .expect("the ```caddyfile block is closed")
        .0
        .to_owned()
}

/// The documented Caddyfile for this test's addresses, after global options that keep Caddy
/// inside `dir`: no admin endpoint, no automatic HTTPS, storage in the directory.
fn caddyfile(dir: &Path, port: u16, oasgate: u16, upstream: u16) -> String {
    let mut site = documented_caddyfile();
    for (documented, here) in [
        ("example.com", format!("http://127.0.0.1:{port}")),
        ("127.0.0.1:8080", format!("127.0.0.1:{oasgate}")),
        ("127.0.0.1:3000", format!("127.0.0.1:{upstream}")),
    ] {
        assert_eq!(
            site.matches(documented).count(),
            1,
            "the documented Caddyfile should name `{documented}` once:\n{site}"
        );
        site = site.replace(documented, &here);
    }
    format!(
        "{{\n    admin off\n    auto_https off\n    storage file_system {}\n}}\n{site}\n",
        dir.join("data").display()
    )
}

/// `caddy run` in the foreground, stopped on drop.
struct Caddy {
    child: Child,
}

impl Caddy {
    /// Starts Caddy with `config` in `dir/caddy`, its home and data there too, and waits until
    /// it listens on `port`.
    async fn start(bin: &Path, dir: &TempDir, port: u16, config: String) -> Self {
        let caddy_dir = dir.0.join("caddy");
        std::fs::create_dir_all(&caddy_dir).unwrap();
        let file = caddy_dir.join("Caddyfile");
        std::fs::write(&file, config).unwrap();
        let log = caddy_dir.join("caddy.log");
        let output = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin)
            .arg("run")
            .arg("--config")
            .arg(&file)
            .args(["--adapter", "caddyfile"])
            .env("HOME", &caddy_dir)
            .env("XDG_CONFIG_HOME", caddy_dir.join("config"))
            .env("XDG_DATA_HOME", caddy_dir.join("data"))
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("caddy starts");
        let caddy = Caddy { child };
        let up = async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        };
        assert!(
            eventually(Duration::from_secs(10), up).await,
            "caddy did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        caddy
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy_forward_auth_lets_valid_requests_through_and_stops_invalid_ones() {
    let Some(caddy_bin) = caddy() else { return };
    let dir = TempDir::new("caddy");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    let gateway = Gateway::start(
        &dir,
        &[
            "--spec",
            "pets.yaml",
            "--mode",
            "forward-auth",
            "--forward-auth-headers",
            "traefik",
        ],
    );
    let port = free_port();
    let config = caddyfile(&dir.0, port, gateway.addr.port(), upstream.addr.port());
    let caddy = Caddy::start(&caddy_bin, &dir, port, config).await;
    let base = format!("http://127.0.0.1:{port}");
    // (method, path, headers, body, status, reaches the upstream)
    let rows: [(&str, &str, &[(&str, &str)], &str, u16, bool); 9] = [
        ("GET", "/pets?limit=5", &[], "", 200, true),
        // A client naming an open path in the headers that carry the original request:
        // Caddy passes nginx's on, and oasgate (set to `traefik`) does not read them...
        (
            "GET",
            "/secure",
            &[("x-original-uri", "/pets"), ("x-original-method", "GET")],
            "",
            401,
            false,
        ),
        // ...and Caddy replaces its own.
        (
            "GET",
            "/secure",
            &[("x-forwarded-uri", "/pets"), ("x-forwarded-method", "GET")],
            "",
            401,
            false,
        ),
        ("GET", "/pets?limit=500", &[], "", 400, false),
        ("GET", "/secure", &[], "", 401, false),
        ("GET", "/secure", &[("x-api-key", "k")], "", 200, true),
        ("DELETE", "/pets", &[], "", 405, false),
        (
            "POST",
            "/pets",
            &[("content-type", "application/json")],
            r#"{"name": "rex"}"#,
            200,
            true,
        ),
        // The sub-request is a GET without the body, so a body that breaks the document
        // (`name` is required) is not checked: it reaches the upstream, whole.
        (
            "POST",
            "/pets",
            &[("content-type", "application/json")],
            r#"{"nom": "rex"}"#,
            200,
            true,
        ),
    ];
    for (method, path, headers, body, status, reaches) in rows {
        let before = upstream.seen().len();
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{base}{path}"));
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let answer = send(builder.body(full(body.to_owned())).unwrap()).await;
        let label = format!("{method} {path} {headers:?}");
        assert_eq!(answer.status, status, "{label}: {}", answer.text);
        let seen = upstream.seen();
        let reached = seen.len() > before;
        assert_eq!(reached, reaches, "{label}: reached the upstream: {reached}");
        if reaches {
            assert_eq!(answer.headers["x-upstream"], "yes", "{label}");
            let got = seen.last().unwrap();
            assert_eq!((got.method.as_str(), got.uri.as_str()), (method, path));
            assert_eq!(
                got.body_len,
                body.len() as u64,
                "{label}: the body did not arrive whole"
            );
            // `copy_headers X-Request-Id`: the id oasgate gave the sub-request, which its
            // access log names (the client sent none).
            let id = got
                .headers
                .get("x-request-id")
                .unwrap_or_else(|| panic!("{label}: no x-request-id upstream: {got:?}"))
                .to_str()
                .unwrap()
                .to_owned();
            let logged =
                async || std::fs::read_to_string(&gateway.log).is_ok_and(|log| log.contains(&id));
            assert!(
                eventually(Duration::from_secs(10), logged).await,
                "{label}: oasgate's log does not name the request id {id} the upstream got"
            );
        } else {
            assert_eq!(
                answer.headers["content-type"], "application/problem+json",
                "{label}"
            );
            assert_eq!(answer.json()["status"], status, "{label}: {}", answer.text);
            // oasgate's own header fields come through too.
            let field = match status {
                401 => Some("www-authenticate"),
                405 => Some("allow"),
                _ => None,
            };
            if let Some(field) = field {
                assert!(answer.headers.contains_key(field), "{label}: no {field}");
            }
        }
    }
    drop(caddy);
}

#[test]
fn the_documented_caddyfile_is_the_one_the_test_runs() {
    // The addresses the guide's other examples use: oasgate on 8080, the service on 3000.
    let site = documented_caddyfile();
    for needed in [
        "example.com {",
        "forward_auth 127.0.0.1:8080 {",
        "uri /",
        "copy_headers X-Request-Id",
        "reverse_proxy 127.0.0.1:3000",
    ] {
        assert!(site.contains(needed), "`{needed}` not in:\n{site}");
    }
}
