//! Real nginx with `auth_request` pointing at `oasgate serve --mode forward-auth`, in front
//! of a tiny upstream; everything on 127.0.0.1, every file in a temp directory.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http::Request;

use crate::support::*;

/// nginx's path, or why the test cannot run. With `CI` set, a missing nginx is a failure:
/// `.ci/run` installs it.
pub fn nginx() -> Option<PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is not installed, and CI is set: `.ci/run` should have installed it"
        );
        eprintln!("skipping the nginx test: nginx is not installed (apt-get install -y nginx)");
    }
    found
}

/// A free port on 127.0.0.1 (free a moment ago).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// nginx in the foreground, one process, stopped on drop.
pub struct Nginx {
    child: Child,
    pub dir: PathBuf,
}

impl Nginx {
    /// Starts nginx in `dir/nginx` with the configuration `config` writes for that directory,
    /// and waits until it listens on `port`.
    pub async fn start(
        bin: &std::path::Path,
        dir: &TempDir,
        port: u16,
        config: impl FnOnce(&std::path::Path) -> String,
    ) -> Self {
        let nginx_dir = dir.0.join("nginx");
        std::fs::create_dir_all(&nginx_dir).unwrap();
        std::fs::write(nginx_dir.join("nginx.conf"), config(&nginx_dir)).unwrap();
        let child = Command::new(bin)
            .arg("-p")
            .arg(&nginx_dir)
            .arg("-e")
            .arg(nginx_dir.join("error.log"))
            .args(["-c", "nginx.conf"])
            .stdin(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx {
            child,
            dir: nginx_dir,
        };
        let up = async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        };
        assert!(
            eventually(Duration::from_secs(10), up).await,
            "nginx did not start: {}",
            std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default()
        );
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn nginx_config(dir: &std::path::Path, port: u16, oasgate: u16, upstream: u16) -> String {
    let d = dir.display();
    // The auth sub-request carries no body (nginx never sends one). A 401/403 from oasgate
    // denies; any other status makes nginx answer 500 — so the error page asks oasgate again
    // in a named location and hands its status and problem body to the client.
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            auth_request /_oasgate;
            error_page 401 403 500 = @oasgate_problem;
            proxy_pass http://127.0.0.1:{upstream};
        }}
        location = /_oasgate {{
            internal;
            proxy_pass http://127.0.0.1:{oasgate};
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-Uri "";
        }}
        location @oasgate_problem {{
            proxy_pass http://127.0.0.1:{oasgate};
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-Uri "";
        }}
    }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_auth_request_lets_valid_requests_through_and_stops_invalid_ones() {
    let Some(nginx_bin) = nginx() else { return };
    let dir = TempDir::new("nginx");
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
            "nginx",
        ],
    );
    let port = free_port();
    let nginx = Nginx::start(&nginx_bin, &dir, port, |nginx_dir| {
        nginx_config(nginx_dir, port, gateway.addr.port(), upstream.addr.port())
    })
    .await;
    let base = format!("http://127.0.0.1:{port}");
    // (method, path, headers, body, status, reaches the upstream)
    let rows: [(&str, &str, &[(&str, &str)], &str, u16, bool); 8] = [
        ("GET", "/pets?limit=5", &[], "", 200, true),
        // A client naming an open path in the headers that carry the original request:
        // nginx overwrites its own, and oasgate reads no other.
        (
            "GET",
            "/secure",
            &[("x-original-uri", "/pets"), ("x-original-method", "GET")],
            "",
            401,
            false,
        ),
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
        let label = format!("{method} {path}");
        assert_eq!(answer.status, status, "{label}: {}", answer.text);
        let reached = upstream.seen().len() > before;
        assert_eq!(reached, reaches, "{label}: reached the upstream: {reached}");
        if reaches {
            assert_eq!(answer.headers["x-upstream"], "yes", "{label}");
            assert_eq!(
                answer.json()["bytes"],
                body.len(),
                "{label}: the body did not arrive whole"
            );
        } else {
            assert_eq!(
                answer.headers["content-type"], "application/problem+json",
                "{label}"
            );
            assert_eq!(answer.json()["status"], status, "{label}: {}", answer.text);
        }
    }
    drop(nginx);
}
