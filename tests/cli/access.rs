//! The access log.

use std::time::Duration;

use http::Request;
use serde_json::Value;

use crate::support::*;

/// The pets document with an operation whose path holds a secret.
fn spec_with_secret() -> String {
    SPEC.replace(
        "  /slow:\n",
        "  /reset/{token}:\n    get:\n      operationId: reset\n      parameters:\n        - {name: token, in: path, required: true, schema: {type: string, format: password}}\n      responses: {\"200\": {description: ok}}\n  /slow:\n",
    )
}

/// The access log's lines in a JSON log: the `fields` of each `oasgate::access` event.
fn access_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["target"] == "oasgate::access")
        .map(|event| event["fields"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_has_one_line_per_request() {
    let dir = TempDir::new("access-log");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", &spec_with_secret());
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n  upstream_timeout: 1s\n  log_format: json\n",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let started = serde_json::from_str::<Value>(
        gateway
            .log_text()
            .lines()
            .find(|l| l.contains("\"serving\""))
            .expect("a start-up line"),
    )
    .unwrap();
    assert_eq!(started["fields"]["listen"], gateway.addr.to_string());
    assert_eq!(started["fields"]["mode"], "Proxy");
    assert!(
        started["fields"]["spec"]
            .as_str()
            .unwrap()
            .ends_with("pets.yaml")
    );
    assert_eq!(
        started["fields"]["upstream"],
        format!("{}/", upstream.url())
    );

    // (method, path, request id, status, outcome, operation, errors, path logged)
    let rows: [(
        &str,
        &str,
        &str,
        u16,
        &str,
        Option<&str>,
        Option<&str>,
        Option<&str>,
    ); 5] = [
        (
            "GET",
            "/pets?limit=5",
            "id-ok",
            200,
            "accepted",
            Some("listPets"),
            None,
            Some("/pets"),
        ),
        (
            "GET",
            "/pets?limit=500",
            "id-bad",
            400,
            "rejected",
            Some("listPets"),
            Some("maximum"),
            Some("/pets"),
        ),
        (
            "GET",
            "/nowhere",
            "id-404",
            404,
            "rejected",
            None,
            None,
            Some("/nowhere"),
        ),
        (
            "GET",
            "/reset/s3cr3t-t0ken",
            "id-secret",
            200,
            "accepted",
            Some("reset"),
            None,
            None,
        ),
        (
            "GET",
            "/slow",
            "id-slow",
            504,
            "upstream-error",
            Some("slow"),
            None,
            Some("/slow"),
        ),
    ];
    let mut sent = Vec::new();
    for (method, path, id, status, ..) in rows {
        let answer = send(
            Request::builder()
                .method(method)
                .uri(gateway.url(path))
                .header("x-request-id", id)
                .body(full(""))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
        sent.push(answer.text.len() as u64);
    }
    let mut lines = Vec::new();
    let complete = eventually(Duration::from_secs(10), async || {
        lines = access_lines(&gateway.log_text());
        lines.len() >= rows.len()
    })
    .await;
    assert!(complete, "access lines: {lines:#?}\n{}", gateway.log_text());
    assert_eq!(lines.len(), rows.len(), "{lines:#?}");
    for ((method, _, id, status, outcome, operation, errors, logged), bytes) in
        rows.into_iter().zip(sent)
    {
        let line = lines
            .iter()
            .find(|l| l["request_id"] == id)
            .unwrap_or_else(|| panic!("no line for {id}: {lines:#?}"));
        assert_eq!(line["method"], method, "{id}");
        assert_eq!(line["path"].as_str(), logged, "{id}");
        assert_eq!(line["status"], status, "{id}");
        assert_eq!(line["outcome"], outcome, "{id}");
        assert_eq!(line["operation"].as_str(), operation, "{id}");
        assert_eq!(line["errors"].as_str(), errors, "{id}");
        assert_eq!(line["bytes"], bytes, "{id}");
        assert!(line["duration_ms"].as_f64().is_some(), "{id}: {line}");
        assert!(line.get("incomplete").is_none(), "{id}: {line}");
    }
    // The secret never reaches the log, in any line.
    assert!(
        !gateway.log_text().contains("s3cr3t"),
        "{}",
        gateway.log_text()
    );
    let secret = lines
        .iter()
        .find(|l| l["request_id"] == "id-secret")
        .unwrap();
    assert_eq!(secret["path_secret"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_can_be_switched_off_and_rejections_name_their_path() {
    // (how it is switched off: config line, flags)
    let rows: [(&str, &[&str]); 2] = [("  access_log: false\n", &[]), ("", &["--no-access-log"])];
    for (server, flags) in rows {
        let dir = TempDir::new("access-off");
        let upstream = Upstream::start().await;
        dir.write("pets.yaml", SPEC);
        dir.write(
            "oasgate.yaml",
            &format!(
                "spec: pets.yaml\nserver:\n  upstream: {}\n{server}",
                upstream.url()
            ),
        );
        let mut args = vec!["--config", "oasgate.yaml"];
        args.extend_from_slice(flags);
        let gateway = Gateway::start(&dir, &args);
        assert_eq!(get(&gateway.url("/pets?limit=5")).await.status, 200);
        assert_eq!(get(&gateway.url("/pets?limit=500")).await.status, 400);
        let mut log = String::new();
        let logged = eventually(Duration::from_secs(10), async || {
            log = gateway.log_text();
            log.contains("oasgate::rejection")
        })
        .await;
        assert!(logged, "{log}");
        assert!(!log.contains("oasgate::access"), "{flags:?}: {log}");
        let rejection = log
            .lines()
            .find(|l| l.contains("oasgate::rejection"))
            .unwrap();
        assert!(rejection.contains("path=\"/pets\""), "{rejection}");
        assert!(
            rejection.contains("operation=\"listPets\"")
                || rejection.contains("operation=listPets"),
            "{rejection}"
        );
        assert!(rejection.contains("maximum"), "{rejection}");
    }
}
