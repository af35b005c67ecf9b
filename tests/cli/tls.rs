//! TLS and HTTP/2: the listener with a certificate made here (HTTP/2 through ALPN, and
//! HTTP/1.1), cleartext HTTP/2 with prior knowledge, curl, `https://` upstreams trusted
//! through a private CA (with and without a client certificate), refused certificate files,
//! and a reload with a broken certificate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// A CA and a certificate it signed for `localhost` and `127.0.0.1`, written as PEM files.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    /// Writes `<prefix>ca.pem`, `<prefix>cert.pem` and `<prefix>key.pem` into `dir`.
    fn new(dir: &TempDir, prefix: &str) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("oasgate test CA {prefix}"),
        );
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        Self {
            ca: dir.write(&format!("{prefix}ca.pem"), &ca.pem()),
            cert: dir.write(&format!("{prefix}cert.pem"), &cert.pem()),
            key: dir.write(&format!("{prefix}key.pem"), &key.serialize_pem()),
        }
    }

    fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&self.ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        roots
    }

    /// A client trusting this CA, offering `alpn`.
    fn client(&self, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// One exchange on a fresh connection in `version`, over TLS when `tls` is given: the
/// version hyper saw the answer in, the status, the content type and the body.
async fn exchange(
    addr: SocketAddr,
    tls: Option<&tokio_rustls::TlsConnector>,
    version: Version,
    request: Request<Full<Bytes>>,
) -> (Version, StatusCode, String, String) {
    let tcp = TcpStream::connect(addr).await.expect("connects");
    let answer = async {
        match tls {
            Some(connector) => {
                let name = ServerName::try_from("localhost").unwrap();
                let stream = connector.connect(name, tcp).await.expect("TLS handshake");
                let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                if version == Version::HTTP_2 {
                    // "h2" is what ALPN agreed on: the client offered both.
                    assert_eq!(alpn.as_deref(), Some(b"h2".as_slice()), "ALPN");
                    send_on(TokioIo::new(stream), version, request).await
                } else {
                    assert_eq!(alpn.as_deref(), Some(b"http/1.1".as_slice()), "ALPN");
                    send_on(TokioIo::new(stream), version, request).await
                }
            }
            None => send_on(TokioIo::new(tcp), version, request).await,
        }
    };
    tokio::time::timeout(Duration::from_secs(20), answer)
        .await
        .expect("an answer within 20 s")
}

async fn send_on<I>(
    io: I,
    version: Version,
    request: Request<Full<Bytes>>,
) -> (Version, StatusCode, String, String)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let response = if version == Version::HTTP_2 {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .expect("HTTP/2 handshake");
        tokio::spawn(connection);
        sender.send_request(request).await.expect("an answer")
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        sender.send_request(request).await.expect("an answer")
    };
    let version = response.version();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        version,
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn request(method: &str, uri: &str, body: &'static str) -> Request<Full<Bytes>> {
    let mut builder = Request::builder().method(method).uri(uri);
    if !body.is_empty() {
        builder = builder.header("content-type", "application/json");
    }
    builder.body(Full::new(Bytes::from(body))).unwrap()
}

/// The requests every protocol is checked with: (method, path, body, status, content type).
const ROWS: [(&str, &str, &str, u16, &str); 3] = [
    ("GET", "/pets?limit=5", "", 200, "application/json"),
    (
        "GET",
        "/pets?limit=500",
        "",
        400,
        "application/problem+json",
    ),
    (
        "POST",
        "/pets",
        r#"{"name": 5}"#,
        400,
        "application/problem+json",
    ),
];

async fn check_rows(addr: SocketAddr, tls: Option<&tokio_rustls::TlsConnector>, version: Version) {
    let scheme = if tls.is_some() { "https" } else { "http" };
    for (method, target, body, status, content_type) in ROWS {
        // HTTP/2 carries the authority in `:authority`; hyper's client takes it from the URI.
        let uri = format!("{scheme}://localhost:{}{target}", addr.port());
        let uri = if version == Version::HTTP_2 {
            uri
        } else {
            target.to_owned()
        };
        let mut req = request(method, &uri, body);
        if version != Version::HTTP_2 {
            req.headers_mut().insert(
                "host",
                format!("localhost:{}", addr.port()).parse().unwrap(),
            );
        }
        let (got_version, got_status, got_type, text) = exchange(addr, tls, version, req).await;
        let row = format!("{version:?} {method} {target}");
        assert_eq!(
            got_version, version,
            "{row}: answered in the client's protocol"
        );
        assert_eq!(got_status.as_u16(), status, "{row}: {text}");
        assert_eq!(got_type, content_type, "{row}: {text}");
        if status == 400 {
            let problem: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(problem["status"], 400, "{row}: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_answers_http2_through_alpn_and_http1() {
    let dir = TempDir::new("tls-listener");
    let pki = Pki::new(&dir, "");
    let spec = dir.write("openapi.yaml", SPEC);
    let upstream = Upstream::start().await;
    let gateway = Gateway::start(
        &dir,
        &[
            "--spec",
            path(&spec),
            "--upstream",
            &upstream.url(),
            "--tls-cert",
            path(&pki.cert),
            "--tls-key",
            path(&pki.key),
        ],
    );
    check_rows(
        gateway.addr,
        Some(&pki.client(&[b"h2", b"http/1.1"])),
        Version::HTTP_2,
    )
    .await;
    check_rows(
        gateway.addr,
        Some(&pki.client(&[b"http/1.1"])),
        Version::HTTP_11,
    )
    .await;
    // The upstream hears of the client's TLS, and of the authority HTTP/2 sent as `:authority`.
    let seen = upstream.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for request in &seen {
        assert_eq!(request.headers["x-forwarded-proto"], "https");
        assert_eq!(
            request.headers["x-forwarded-host"],
            format!("localhost:{}", gateway.addr.port()).as_str()
        );
    }
    // A cleartext request to the TLS listener gets no answer in cleartext.
    let (text, _) = exchange_raw(gateway.addr).await;
    assert!(!text.starts_with("HTTP/1.1 200"), "{text}");
}

async fn exchange_raw(addr: SocketAddr) -> (String, bool) {
    crate::support::exchange(
        addr,
        b"GET /pets HTTP/1.1\r\nHost: localhost\r\n\r\n",
        Duration::from_secs(10),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleartext_listener_takes_http2_with_prior_knowledge_and_http1() {
    let dir = TempDir::new("h2c");
    let spec = dir.write("openapi.yaml", SPEC);
    let upstream = Upstream::start().await;
    let gateway = Gateway::start(
        &dir,
        &["--spec", path(&spec), "--upstream", &upstream.url()],
    );
    check_rows(gateway.addr, None, Version::HTTP_2).await;
    check_rows(gateway.addr, None, Version::HTTP_11).await;
    assert_eq!(upstream.seen()[0].headers["x-forwarded-proto"], "http");
    // A head larger than `http2_max_header_list_size` (default 64KiB): "A server that receives
    // a larger field block than it is willing to handle can send an HTTP 431 (Request Header
    // Fields Too Large) status code" (RFC 9113 §6.5.2).
    let mut big = request(
        "GET",
        &format!("http://localhost:{}/pets", gateway.addr.port()),
        "",
    );
    big.headers_mut()
        .insert("x-big", "a".repeat(70 * 1024).parse().unwrap());
    let (_, status, _, _) = exchange(gateway.addr, None, Version::HTTP_2, big).await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(upstream.seen().len(), 2, "the large head was not forwarded");
}

/// Whether curl runs here; without it the curl checks are skipped, except under CI.
fn curl_available() -> bool {
    let found = Command::new("curl").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "curl is not installed, and CI must run the curl checks"
        );
        eprintln!("skipping the curl checks: curl is not installed");
    }
    found
}

/// `curl` with `args`: (HTTP version, status, body).
fn curl(args: &[&str]) -> (String, String, String) {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(["--write-out", "\n%{http_version} %{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, last) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    let (version, status) = last.split_once(' ').unwrap_or((last, ""));
    (version.to_owned(), status.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_speaks_http2_over_tls_and_with_prior_knowledge() {
    if !curl_available() {
        return;
    }
    let dir = TempDir::new("tls-curl");
    let pki = Pki::new(&dir, "");
    let spec = dir.write("openapi.yaml", SPEC);
    let upstream = Upstream::start().await;
    let tls = Gateway::start(
        &dir,
        &[
            "--spec",
            path(&spec),
            "--upstream",
            &upstream.url(),
            "--tls-cert",
            path(&pki.cert),
            "--tls-key",
            path(&pki.key),
        ],
    );
    let plain = Gateway::start(
        &dir,
        &["--spec", path(&spec), "--upstream", &upstream.url()],
    );
    let https = |target: &str| format!("https://127.0.0.1:{}{target}", tls.addr.port());
    let http = |target: &str| format!("http://127.0.0.1:{}{target}", plain.addr.port());
    // (curl's arguments, HTTP version, status)
    let rows: [(Vec<String>, &str, &str); 4] = [
        (
            vec![
                "--http2".into(),
                "--cacert".into(),
                path(&pki.ca).into(),
                https("/pets?limit=5"),
            ],
            "2",
            "200",
        ),
        (
            vec![
                "--http2".into(),
                "--cacert".into(),
                path(&pki.ca).into(),
                https("/pets?limit=500"),
            ],
            "2",
            "400",
        ),
        (
            vec!["--http2-prior-knowledge".into(), http("/pets?limit=5")],
            "2",
            "200",
        ),
        (
            vec!["--http2-prior-knowledge".into(), http("/pets?limit=500")],
            "2",
            "400",
        ),
    ];
    for (args, version, status) in rows {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = tokio::task::spawn_blocking({
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            move || curl(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        assert_eq!(
            (got.0.as_str(), got.1.as_str()),
            (version, status),
            "curl {args:?}: {}",
            got.2
        );
    }
}

/// An `https://` upstream with `pki`'s certificate, answering 200 `{"tls": true}`; with
/// `client_ca`, it asks for a client certificate signed by that CA and refuses any other.
async fn tls_upstream(
    pki: &Pki,
    client_ca: Option<&Pki>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let certs: Vec<_> = CertificateDer::pem_file_iter(&pki.cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&pki.key).unwrap();
    let builder = rustls::ServerConfig::builder();
    let builder = match client_ca {
        Some(ca) => builder.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder(Arc::new(ca.roots()))
                .build()
                .unwrap(),
        ),
        None => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(certs, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_request| async {
                    let mut response =
                        http::Response::new(Full::new(Bytes::from_static(br#"{"tls": true}"#)));
                    response
                        .headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    Ok::<_, std::convert::Infallible>(response)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_upstreams_are_trusted_through_the_configured_ca() {
    let dir = TempDir::new("tls-upstream");
    let server = Pki::new(&dir, "upstream-");
    let client = Pki::new(&dir, "client-");
    dir.write("openapi.yaml", SPEC);
    let (plain_addr, plain) = tls_upstream(&server, None).await;
    let (mtls_addr, mtls) = tls_upstream(&server, Some(&client)).await;
    let config = |addr: SocketAddr, extra: &str| {
        format!(
            "spec: openapi.yaml\nserver:\n  upstream: https://127.0.0.1:{}\n{extra}",
            addr.port()
        )
    };
    let ca = format!("  upstream_ca: {}\n", path(&server.ca));
    let client_cert = format!(
        "  upstream_client_cert: {}\n  upstream_client_key: {}\n",
        path(&client.cert),
        path(&client.key)
    );
    // (config, status): the built-in roots do not know the private CA, and the upstream that
    // asks for a client certificate refuses a gateway without one.
    let rows = [
        (config(plain_addr, &ca), 200),
        (config(plain_addr, ""), 502),
        (config(mtls_addr, &format!("{ca}{client_cert}")), 200),
        (config(mtls_addr, &ca), 502),
    ];
    for (i, (text, status)) in rows.into_iter().enumerate() {
        let name = format!("oasgate-{i}.yaml");
        dir.write(&name, &text);
        let gateway = Gateway::start(&dir, &["--config", &name]);
        let answer = get(&gateway.url("/pets?limit=5")).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "row {i}:\n{text}\n{}",
            answer.text
        );
        if status == 200 {
            assert_eq!(answer.json()["tls"], true, "row {i}");
        } else {
            assert_eq!(answer.json()["status"], 502, "row {i}: {}", answer.text);
        }
    }
    plain.abort();
    mtls.abort();
}

#[test]
fn bad_certificates_and_keys_stop_the_start_naming_the_file() {
    let dir = TempDir::new("tls-bad");
    let pki = Pki::new(&dir, "");
    let other = Pki::new(&dir, "other-");
    let spec = dir.write("openapi.yaml", SPEC);
    let empty = dir.write("empty.pem", "");
    let missing = dir.0.join("missing.pem");
    // (certificate, key, what the error says besides the file's name)
    let rows: [(&PathBuf, &PathBuf, &str, &str); 5] = [
        (&missing, &pki.key, "missing.pem", "cannot read the file"),
        (
            &pki.key,
            &pki.key,
            "key.pem",
            "no certificate found; expected a PEM `CERTIFICATE` block",
        ),
        (
            &pki.cert,
            &pki.cert,
            "cert.pem",
            "no private key found; expected a PEM `PRIVATE KEY`",
        ),
        (&pki.cert, &empty, "empty.pem", "no private key found"),
        (
            &pki.cert,
            &other.key,
            "other-key.pem",
            "the key does not match the certificate",
        ),
    ];
    for (i, (cert, key, file, what)) in rows.into_iter().enumerate() {
        let (code, _, stderr) = run(
            &dir.0,
            &[
                "serve",
                "--spec",
                path(&spec),
                "--upstream",
                "http://127.0.0.1:9",
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                path(cert),
                "--tls-key",
                path(key),
            ],
        );
        assert_eq!(code, 1, "row {i}: {stderr}");
        assert!(stderr.contains(file), "row {i}: names {file}: {stderr}");
        assert!(stderr.contains(what), "row {i}: says {what}: {stderr}");
    }
    // One of the two alone.
    let (code, _, stderr) = run(
        &dir.0,
        &[
            "serve",
            "--spec",
            path(&spec),
            "--upstream",
            "http://127.0.0.1:9",
            "--tls-cert",
            path(&pki.cert),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("expected both, or neither"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_with_a_broken_certificate_keeps_serving_and_a_good_one_is_taken() {
    let dir = TempDir::new("tls-reload");
    let first = Pki::new(&dir, "first-");
    let second = Pki::new(&dir, "second-");
    dir.write("openapi.yaml", SPEC);
    let upstream = Upstream::start().await;
    let cert = dir.write("cert.pem", &std::fs::read_to_string(&first.cert).unwrap());
    let key = dir.write("key.pem", &std::fs::read_to_string(&first.key).unwrap());
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: openapi.yaml\nserver:\n  upstream: {}\n  tls_cert: cert.pem\n  tls_key: key.pem\n",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let ok = async |pki: &Pki| -> bool {
        let tcp = TcpStream::connect(gateway.addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let Ok(stream) = pki.client(&[b"h2"]).connect(name, tcp).await else {
            return false;
        };
        let (_, status, _, _) = send_on(
            TokioIo::new(stream),
            Version::HTTP_2,
            request(
                "GET",
                &format!("https://localhost:{}/pets", gateway.addr.port()),
                "",
            ),
        )
        .await;
        status == StatusCode::OK
    };
    assert!(ok(&first).await);

    // The certificate file now holds the other key: the reload fails and says why.
    std::fs::write(&cert, std::fs::read_to_string(&second.cert).unwrap()).unwrap();
    gateway.signal("HUP");
    let logged = eventually(Duration::from_secs(15), async || {
        gateway.log_text().contains("reload failed")
    })
    .await;
    let log = gateway.log_text();
    assert!(logged, "{log}");
    assert!(
        log.contains("the key does not match the certificate"),
        "{log}"
    );
    assert!(ok(&first).await, "the previous certificate keeps serving");

    // The matching key too: new connections get the new certificate.
    std::fs::write(&key, std::fs::read_to_string(&second.key).unwrap()).unwrap();
    gateway.signal("HUP");
    assert!(
        eventually(Duration::from_secs(15), async || ok(&second).await).await,
        "{}",
        gateway.log_text()
    );
    assert!(!ok(&first).await, "the old certificate is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_picks_up_a_renewed_certificate_and_tls_stays_on_until_restart() {
    let dir = TempDir::new("tls-watch");
    let first = Pki::new(&dir, "first-");
    let second = Pki::new(&dir, "second-");
    dir.write("openapi.yaml", SPEC);
    let upstream = Upstream::start().await;
    dir.write("cert.pem", &std::fs::read_to_string(&first.cert).unwrap());
    dir.write("key.pem", &std::fs::read_to_string(&first.key).unwrap());
    let with_tls = format!(
        "spec: openapi.yaml\nserver:\n  upstream: {}\n  watch: true\n  watch_interval: 100ms\n  tls_cert: cert.pem\n  tls_key: key.pem\n",
        upstream.url()
    );
    dir.write("oasgate.yaml", &with_tls);
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let answers = async |pki: &Pki| -> bool {
        let Ok(tcp) = TcpStream::connect(gateway.addr).await else {
            return false;
        };
        let name = ServerName::try_from("localhost").unwrap();
        let Ok(stream) = pki.client(&[b"http/1.1"]).connect(name, tcp).await else {
            return false;
        };
        let mut req = request("GET", "/pets", "");
        req.headers_mut()
            .insert("host", "localhost".parse().unwrap());
        let (_, status, _, _) = send_on(TokioIo::new(stream), Version::HTTP_11, req).await;
        status == StatusCode::OK
    };
    assert!(answers(&first).await);

    // A renewal: the key, then the certificate, as a tool writing the pair would.
    std::fs::write(
        dir.0.join("key.pem"),
        std::fs::read_to_string(&second.key).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.0.join("cert.pem"),
        std::fs::read_to_string(&second.cert).unwrap(),
    )
    .unwrap();
    assert!(
        eventually(Duration::from_secs(15), async || answers(&second).await).await,
        "{}",
        gateway.log_text()
    );

    // TLS removed from the config: refused until a restart, the listener stays on TLS.
    dir.write(
        "oasgate.yaml",
        &with_tls.replace("  tls_cert: cert.pem\n  tls_key: key.pem\n", ""),
    );
    let refused = eventually(Duration::from_secs(15), async || {
        gateway
            .log_text()
            .contains("turning TLS on or off takes a restart")
    })
    .await;
    assert!(refused, "{}", gateway.log_text());
    assert!(answers(&second).await, "TLS keeps serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_client_that_stops_answering_pings_is_disconnected() {
    let dir = TempDir::new("h2-ping");
    let spec = dir.write("openapi.yaml", SPEC);
    let upstream = Upstream::start().await;
    let gateway = Gateway::start(
        &dir,
        &[
            "--spec",
            path(&spec),
            "--upstream",
            &upstream.url(),
            "--header-read-timeout",
            "200ms",
        ],
    );
    // The preface and an empty SETTINGS frame (RFC 9113 §3.4, §6.5), then silence: no
    // SETTINGS acknowledgement, no PING answer.
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    let (_, closed) =
        crate::support::exchange(gateway.addr, &opening, Duration::from_secs(10)).await;
    assert!(
        closed,
        "the silent HTTP/2 connection is still open after 10 s"
    );
}
