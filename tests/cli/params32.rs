//! `oasgate serve` in front of a real upstream with an OpenAPI 3.2 document: `in:
//! querystring` (form, JSON, JSONPath), `style: cookie`, and a security requirement naming its
//! device-flow scheme by URI; `oasgate check` refusing the querystring MUSTs.

use http::Request;
use serde_json::Value;

use crate::support::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/local/params32.yaml"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_3_2_parameters() {
    let dir = TempDir::new("params32-serve");
    let upstream = Upstream::start().await;
    dir.write("params32.yaml", &std::fs::read_to_string(FIXTURE).unwrap());
    // `strip` drops undeclared query parameters, but a querystring parameter declares the
    // whole query: its query string goes on exactly as sent.
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: params32.yaml\noptions:\n  undeclared_query: strip\nserver:\n  upstream: {}\n",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    // (target, headers, status, the target the upstream receives, or the first error's code)
    let rows: &[(&str, &[(&str, &str)], u16, &str)] = &[
        (
            "/search?q=red+shoe&tags=a&tags=b%20c&sizes=38,39",
            &[],
            200,
            "/search?q=red+shoe&tags=a&tags=b%20c&sizes=38,39",
        ),
        (
            "/search?q=a+%2B+b&page=2",
            &[],
            200,
            "/search?q=a+%2B+b&page=2",
        ),
        ("/search?q=x&colour=red", &[], 400, "additionalProperties"),
        ("/search?q=x&page=0", &[], 400, "minimum"),
        ("/search", &[], 400, "required"),
        ("/search?q=a;b", &[], 400, "delimiter"),
        (
            "/reports?%7B%22numbers%22%3A%5B1%2C2%5D%2C%22flag%22%3Anull%7D",
            &[],
            200,
            "/reports?%7B%22numbers%22%3A%5B1%2C2%5D%2C%22flag%22%3Anull%7D",
        ),
        (
            "/reports?%7B%22numbers%22%3A%5B%22x%22%5D%7D",
            &[],
            400,
            "type",
        ),
        ("/reports?numbers=1", &[], 400, "json"),
        (
            "/select?%24.a.b%5B1%3A1%5D",
            &[],
            200,
            "/select?%24.a.b%5B1%3A1%5D",
        ),
        ("/select?a.b", &[], 400, "pattern"),
        (
            "/exports?format=csv&api_key=k1",
            &[],
            200,
            "/exports?format=csv&api_key=k1",
        ),
        ("/exports?format=pdf&api_key=k1", &[], 400, "enum"),
        // An operation without a querystring parameter: `strip` applies.
        (
            "/preferences?utm=1",
            &[("cookie", "theme=dark; density=2; recent=a%2Cb,c")],
            200,
            "/preferences",
        ),
        ("/preferences", &[("cookie", "density=%32")], 400, "type"),
        (
            "/devices/7",
            &[("authorization", "Bearer device-token")],
            200,
            "/devices/7",
        ),
        ("/devices/7", &[("x-legacy-key", "old")], 200, "/devices/7"),
        ("/devices/7", &[], 401, ""),
    ];
    let mut forwarded = 0;
    for (target, headers, status, want) in rows {
        let mut request = Request::get(gateway.url(target));
        for (name, value) in *headers {
            request = request.header(*name, *value);
        }
        let answer = send(request.body(full("")).unwrap()).await;
        assert_eq!(answer.status.as_u16(), *status, "{target}: {}", answer.text);
        if *status == 200 {
            forwarded += 1;
            let seen = upstream.seen();
            assert_eq!(seen.len(), forwarded, "{target}");
            assert_eq!(seen[forwarded - 1].uri, *want, "{target}");
        } else {
            let problem = answer.json();
            let code = problem["errors"][0]["code"].as_str().unwrap_or("");
            assert_eq!(code, *want, "{target}: {}", answer.text);
            assert_eq!(upstream.seen().len(), forwarded, "{target}: not forwarded");
        }
    }
}

#[test]
fn check_refuses_querystring_musts() {
    let dir = TempDir::new("params32-check");
    let (code, out, _) = run(&dir.0, &["check", FIXTURE]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with(": ok (OpenAPI 3.2)\n"), "{out}");
    let bad = std::fs::read_to_string(FIXTURE).unwrap().replacen(
        "      parameters:\n        - name: json\n          in: querystring\n",
        "      parameters:\n        - name: limit\n          in: query\n          schema: {type: integer}\n        - name: json\n          in: querystring\n          style: form\n",
        1,
    );
    dir.write("bad.yaml", &bad);
    let (code, out, _) = run(&dir.0, &["check", "bad.yaml", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let problems: Vec<(String, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["pointer"].as_str().unwrap_or("").to_owned(),
                p["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    // (pointer, the MUST sentence the message quotes)
    let rows = [
        (
            "/paths/~1reports/get/parameters/1",
            "MUST NOT appear in the same operation (or in the operation's path-item) as any `in: \"query\"` parameters",
        ),
        (
            "/paths/~1reports/get/parameters/1/style",
            "These fields MUST NOT be used with `in: \"querystring\"`",
        ),
    ];
    for (pointer, sentence) in rows {
        assert!(
            problems
                .iter()
                .any(|(p, m)| p == pointer && m.contains(sentence)),
            "{pointer}: {problems:?}"
        );
    }
    assert_eq!(problems.len(), rows.len(), "{problems:?}");
}
