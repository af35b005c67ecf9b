//! `oasgate serve` checking what the upstream answers: enforce (502) and report modes.

use std::time::Duration;

use crate::support::*;

/// The support upstream answers every request `200` with `{"method", "uri", "bytes"}` as
/// `application/json` and an `X-Upstream: yes` header; each path declares something else.
const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Responses, version: "1"}
paths:
  /good:
    get:
      responses:
        "200":
          description: the echo, as it is
          headers: {X-Upstream: {required: true, schema: {type: string, enum: ["yes"]}}}
          content:
            application/json:
              schema: {type: object, required: [method, uri, bytes], properties: {bytes: {type: integer}}}
  /bad-body:
    get:
      responses:
        "200":
          description: an id the echo does not have
          content:
            application/json: {schema: {type: object, required: [id]}}
  /bad-status:
    get:
      responses: {"201": {description: created}}
"#;

fn gateway(dir: &TempDir, upstream: &str, mode_flag: Option<&str>, options: &str) -> Gateway {
    dir.write("spec.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!("spec: spec.yaml\noptions:\n{options}server:\n  upstream: {upstream}\n"),
    );
    let mut args = vec!["--config", "oasgate.yaml"];
    if let Some(mode) = mode_flag {
        args.extend(["--response-validation", mode]);
    }
    Gateway::start(dir, &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_answers_502_for_what_the_upstream_sends_against_the_document() {
    let upstream = Upstream::start().await;
    let dir = TempDir::new("responses-enforce");
    let gateway = gateway(&dir, &upstream.url(), Some("enforce"), "  error_cap: 5\n");

    let good = get(&gateway.url("/good")).await;
    assert_eq!(good.status, 200, "{}", good.text);
    assert_eq!(good.json()["uri"], "/good");

    let bad = get(&gateway.url("/bad-body")).await;
    assert_eq!(bad.status, 502, "{}", bad.text);
    assert_eq!(bad.headers["content-type"], "application/problem+json");
    let problem = bad.json();
    assert_eq!(problem["type"], "urn:oasgate:problem:invalid-response");
    assert_eq!(problem["errors"][0]["in"], "body");
    assert_eq!(problem["errors"][0]["pointer"], "/id");
    assert_eq!(problem["errors"][0]["code"], "required");
    // The upstream's body is not forwarded.
    assert!(!bad.text.contains("\"method\""), "{}", bad.text);

    let status = get(&gateway.url("/bad-status")).await;
    assert_eq!(status.status, 502, "{}", status.text);
    assert_eq!(status.json()["errors"][0]["in"], "status");
    assert_eq!(
        upstream.seen().len(),
        3,
        "every request reached the upstream"
    );

    let logs = gateway.log_text();
    assert!(logs.contains("oasgate::response"), "{logs}");

    // The served document lists the gateway's 502 for an invalid answer, not the layer's 500.
    let served = get(&gateway.url("/openapi.json")).await.json();
    let responses = &served["paths"]["/good"]["get"]["responses"];
    assert_eq!(
        responses["502"]["$ref"], "#/components/responses/ProblemInvalidUpstreamResponse",
        "{responses:#}"
    );
    assert!(responses.get("500").is_none(), "{responses:#}");

    let metrics = get(&gateway.url("/metrics")).await.text;
    for line in [
        r#"oasgate_response_violations_total{operation="GET /bad-body",status="200",code="required"} 1"#,
        r#"oasgate_response_violations_total{operation="GET /bad-status",status="200",code="undeclared"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "`{line}` in\n{metrics}");
    }
    assert!(
        !metrics.contains("operation=\"GET /good\",status"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_passes_the_upstream_answer_on_and_logs_it() {
    let upstream = Upstream::start().await;
    let dir = TempDir::new("responses-report");
    let gateway = gateway(
        &dir,
        &upstream.url(),
        None,
        "  response_validation: report\n",
    );

    let bad = get(&gateway.url("/bad-body")).await;
    assert_eq!(bad.status, 200, "{}", bad.text);
    assert_eq!(bad.json()["uri"], "/bad-body");
    let logged = eventually(Duration::from_secs(10), async || {
        gateway
            .log_text()
            .contains("missing required property `id`")
    })
    .await;
    assert!(logged, "{}", gateway.log_text());
    let metrics = get(&gateway.url("/metrics")).await.text;
    let line = r#"oasgate_response_violations_total{operation="GET /bad-body",status="200",code="required"} 1"#;
    assert!(metrics.lines().any(|l| l == line), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_past_the_bound_passes_unchecked_and_is_counted() {
    let upstream = Upstream::start().await;
    let dir = TempDir::new("responses-bound");
    let gateway = gateway(
        &dir,
        &upstream.url(),
        Some("enforce"),
        "  response_validation_max_body: 8\n",
    );
    // Invalid, but longer than 8 bytes: handed on whole, unchecked.
    let bad = get(&gateway.url("/bad-body")).await;
    assert_eq!(bad.status, 200, "{}", bad.text);
    assert_eq!(bad.json()["uri"], "/bad-body");
    let metrics = get(&gateway.url("/metrics")).await.text;
    let line = r#"oasgate_response_bodies_unchecked_total{operation="GET /bad-body"} 1"#;
    assert!(metrics.lines().any(|l| l == line), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_own_502_is_not_taken_for_an_invalid_response() {
    // Nothing listens on port 1.
    let dir = TempDir::new("responses-own");
    let gateway = gateway(&dir, "http://127.0.0.1:1", Some("enforce"), "");
    let answer = get(&gateway.url("/good")).await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert_eq!(answer.json()["type"], "urn:oasgate:problem:bad-gateway");
}

/// `--response-validation-max-body` and `--response-validation-sample` override the file:
/// each row runs the gateway with flags, sends `/bad-body` four times, and expects the
/// statuses and the metrics the flags imply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bound_and_the_sample_have_flags_that_override_the_file() {
    struct Row {
        what: &'static str,
        options: &'static str,
        flags: &'static [&'static str],
        status: u16,
        metric: &'static str,
    }
    #[rustfmt::skip]
    let rows = [
        Row { what: "the bound from the flag: the body passes unchecked", options: "",
            flags: &["--response-validation", "enforce", "--response-validation-max-body", "8"],
            status: 200,
            metric: r#"oasgate_response_bodies_unchecked_total{operation="GET /bad-body"} 4"# },
        Row { what: "the flag's bound overrides the file's", options: "  response_validation_max_body: 8\n",
            flags: &["--response-validation", "enforce", "--response-validation-max-body", "1MiB"],
            status: 502,
            metric: r#"oasgate_response_violations_total{operation="GET /bad-body",status="200",code="required"} 4"# },
        // One in 1 / share, the first included: the 1st and the 3rd of four.
        Row { what: "half the responses checked", options: "  response_validation_sample: 1\n",
            flags: &["--response-validation", "report", "--response-validation-sample", "50%"],
            status: 200,
            metric: r#"oasgate_response_violations_total{operation="GET /bad-body",status="200",code="required"} 2"# },
        Row { what: "a quarter, as a share", options: "",
            flags: &["--response-validation", "report", "--response-validation-sample", "0.25"],
            status: 200,
            metric: r#"oasgate_response_violations_total{operation="GET /bad-body",status="200",code="required"} 1"# },
    ];
    let upstream = Upstream::start().await;
    for (i, row) in rows.iter().enumerate() {
        let dir = TempDir::new(&format!("responses-flags-{i}"));
        dir.write("spec.yaml", SPEC);
        dir.write(
            "oasgate.yaml",
            &format!(
                "spec: spec.yaml\noptions:\n{}server:\n  upstream: {}\n",
                row.options,
                upstream.url()
            ),
        );
        let mut args = vec!["--config", "oasgate.yaml"];
        args.extend(row.flags);
        let gateway = Gateway::start(&dir, &args);
        for _ in 0..4 {
            let answer = get(&gateway.url("/bad-body")).await;
            assert_eq!(answer.status, row.status, "{}: {}", row.what, answer.text);
        }
        // Report mode logs once the body has passed: wait for the count.
        let counted = eventually(Duration::from_secs(10), async || {
            let metrics = get(&gateway.url("/metrics")).await.text;
            metrics.lines().any(|l| l == row.metric)
        })
        .await;
        let metrics = get(&gateway.url("/metrics")).await.text;
        assert!(counted, "{}: `{}` in\n{metrics}", row.what, row.metric);
    }
}

#[test]
fn a_sample_outside_0_to_1_is_refused_with_its_flag_named() {
    let dir = TempDir::new("responses-bad-sample");
    dir.write("spec.yaml", SPEC);
    for (value, expected) in [
        ("2", "`2` is not a share: expected 0 to 1"),
        ("150%", "`150%` is not a share"),
        ("lots", "`lots` is not a share"),
    ] {
        let (code, _, stderr) = run(
            &dir.0,
            &[
                "serve",
                "--spec",
                "spec.yaml",
                "--upstream",
                "http://127.0.0.1:1",
                "--response-validation-sample",
                value,
            ],
        );
        assert_eq!(code, 2, "{value}: {stderr}");
        assert!(
            stderr.contains("--response-validation-sample"),
            "{value}: {stderr}"
        );
        assert!(stderr.contains(expected), "{value}: {stderr}");
    }
}

/// `oasgate serve` never forwards `Upgrade` (a hop-by-hop field, RFC 9110 §7.8), so it cannot
/// carry a switched connection: a 101 from the upstream is the gateway's own 502, decided
/// before response validation and before any switch, whether or not the document declares a
/// 101 and whether or not the client asked to upgrade. The connection stays HTTP: the next
/// request on it is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switching_protocols_from_the_upstream_is_the_gateways_502_under_enforce() {
    let upstream = RawUpstream::start(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    )
    .await;
    let declared = "      responses:\n        \"101\": {description: switching to websocket}\n";
    let undeclared = "      responses: {\"200\": {description: ok}}\n";
    let upgrade = "GET /chat HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let plain = "GET /chat HTTP/1.1\r\nHost: gw\r\n\r\n";
    // (what, responses of GET /chat, the first request)
    let rows = [
        ("declared 101, upgrade asked", declared, upgrade),
        ("undeclared 101, upgrade asked", undeclared, upgrade),
        ("undeclared 101, no upgrade asked", undeclared, plain),
    ];
    for (i, (what, responses, first)) in rows.into_iter().enumerate() {
        let dir = TempDir::new(&format!("responses-101-{i}"));
        dir.write(
            "spec.yaml",
            &format!(
                "openapi: 3.1.0\ninfo: {{title: t, version: \"1\"}}\npaths:\n  /chat:\n    get:\n{responses}"
            ),
        );
        let gateway = Gateway::start(
            &dir,
            &[
                "--spec",
                "spec.yaml",
                "--upstream",
                &upstream.url(),
                "--response-validation",
                "enforce",
            ],
        );
        let bytes = format!("{first}GET /chat HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
        let (received, ended) =
            exchange(gateway.addr, bytes.as_bytes(), Duration::from_secs(10)).await;
        assert!(ended, "{what}: the connection stayed open: {received}");
        assert!(!received.contains("HTTP/1.1 101"), "{what}: {received}");
        assert_eq!(
            received.matches("HTTP/1.1 502 ").count(),
            2,
            "{what}: both requests answered: {received}"
        );
        assert!(
            received.contains("urn:oasgate:problem:bad-gateway")
                && !received.contains("invalid-response"),
            "{what}: {received}"
        );
    }
}
