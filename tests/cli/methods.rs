//! HEAD and OPTIONS through `oasgate serve`, proxy and forward-auth (RFC 9110 §9.3.2, §9.3.7).

use http::Request;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_options_through_the_proxy_and_forward_auth() {
    let dir = TempDir::new("methods");
    dir.write("pets.yaml", SPEC);
    let upstream = Upstream::start().await;
    let proxy = Gateway::start(
        &dir,
        &["--spec", "pets.yaml", "--upstream", &upstream.url()],
    );
    let auth = Gateway::start(&dir, &["--spec", "pets.yaml", "--mode", "forward-auth"]);

    // (method, path, headers, status, the method the upstream saw)
    let rows: [(&str, &str, &[(&str, &str)], u16, Option<&str>); 6] = [
        ("HEAD", "/pets?limit=5", &[], 200, Some("HEAD")),
        ("HEAD", "/pets?limit=500", &[], 400, None),
        ("OPTIONS", "/pets", &[], 204, None),
        (
            "OPTIONS",
            "/pets",
            &[
                ("origin", "https://app.test"),
                ("access-control-request-method", "POST"),
            ],
            200,
            Some("OPTIONS"),
        ),
        ("HEAD", "/secure", &[], 401, None),
        ("PUT", "/pets", &[], 405, None),
    ];
    for (method, path, headers, status, reaches) in rows {
        let label = format!("{method} {path} {headers:?}");
        let before = upstream.seen().len();
        let mut builder = Request::builder().method(method).uri(proxy.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let answer = send(builder.body(full("")).unwrap()).await;
        assert_eq!(answer.status, status, "proxy: {label}: {}", answer.text);
        let seen = upstream.seen();
        match reaches {
            Some(m) => assert_eq!(
                seen.get(before).map(|s| s.method.as_str()),
                Some(m),
                "{label}"
            ),
            None => assert_eq!(seen.len(), before, "{label} reached the upstream"),
        }
        if status == 204 || status == 405 {
            assert_eq!(
                answer.headers["allow"], "GET, HEAD, POST, OPTIONS",
                "{label}"
            );
        }
        // Forward-auth: the same verdict; what the proxy hands on is a 200 there.
        let mut builder = Request::get(auth.url("/_auth"))
            .header("x-original-method", method)
            .header("x-original-uri", path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let answer = send(builder.body(full("")).unwrap()).await;
        let want = if status < 300 { 200 } else { status };
        assert_eq!(
            answer.status, want,
            "forward-auth: {label}: {}",
            answer.text
        );
    }
}
