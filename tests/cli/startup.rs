//! Signals that arrive while `oasgate serve` is still compiling its document.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The test document with `extra` more operations, each with parameters and a body schema, so
/// that compiling it takes a noticeable while.
fn large_spec(extra: usize) -> String {
    let mut paths = String::new();
    for i in 0..extra {
        paths.push_str(&format!(
            "  /generated{i}/{{id}}:\n    post:\n      operationId: generated{i}\n      parameters:\n        - {{name: id, in: path, required: true, schema: {{type: integer}}}}\n        - {{name: q{i}, in: query, schema: {{type: string, pattern: '^[a-z]+$'}}}}\n      requestBody:\n        content:\n          application/json:\n            schema:\n              type: object\n              required: [a]\n              properties: {{a: {{type: string, maxLength: 5}}, b: {{type: array, items: {{type: integer}}}}}}\n      responses: {{\"200\": {{description: ok}}}}\n"
        ));
    }
    SPEC.replace("  /pets:\n", &format!("{paths}  /pets:\n"))
}

/// Waits (at most 30 s) until the log holds `text`.
fn wait_for_log(log: &Path, text: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::fs::read_to_string(log).is_ok_and(|l| l.contains(text)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn kill(child: &std::process::Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} failed");
}

/// A SIGHUP's default action ends a process; one sent while the document compiles (a
/// deployment tool reloading a just-started service) must be a reload once serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_during_start_up_is_a_reload_once_serving() {
    let dir = TempDir::new("startup-hup");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", &large_spec(1500));
    let (child, listening, log) = Gateway::spawn(
        &dir,
        &["--spec", "pets.yaml", "--upstream", &upstream.url()],
        &[],
    );
    assert!(
        wait_for_log(&log, "starting: loading"),
        "no start-up line: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    kill(&child, "HUP");
    let sent_before_listening = listening.try_recv().is_err();
    let gateway = Gateway::wait_listening(child, &listening, log);
    assert_eq!(get(&gateway.url("/pets")).await.status, 200);
    if sent_before_listening {
        let metrics = gateway.url("/metrics");
        assert!(
            eventually(Duration::from_secs(30), async || get(&metrics)
                .await
                .text
                .contains("oasgate_reloads_total{result=\"ok\"} 1"))
            .await,
            "the SIGHUP of the start-up was not applied: {}",
            gateway.log_text()
        );
        assert!(gateway.log_text().contains("SIGHUP during start-up"));
    } else {
        eprintln!("the document compiled before the signal was sent; nothing to check");
    }
    assert_eq!(get(&gateway.url("/pets")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_start_up_exits_cleanly() {
    let dir = TempDir::new("startup-term");
    dir.write("pets.yaml", &large_spec(1500));
    let (child, listening, log) = Gateway::spawn(
        &dir,
        &["--spec", "pets.yaml", "--upstream", "http://127.0.0.1:9"],
        &[],
    );
    assert!(wait_for_log(&log, "starting: loading"));
    kill(&child, "TERM");
    let mut gateway = Gateway {
        child,
        addr: "127.0.0.1:9".parse().unwrap(),
        log,
    };
    let status = gateway
        .wait_exit(Duration::from_secs(30))
        .expect("oasgate exits on SIGTERM during start-up");
    assert!(status.success(), "{status:?}: {}", gateway.log_text());
    if listening.try_recv().is_err() {
        assert!(gateway.log_text().contains("SIGTERM during start-up"));
    }
}

/// What a document's build and a reload's replaced gateway freed goes back to the system: the
/// binary's allocator (jemalloc) runs background threads that return freed pages after its
/// decay time (about 20 s with the defaults). With glibc's allocator the DigitalOcean document
/// left 118 MiB resident for good. A build alone frees less than it did (a debug build went
/// 88 → 71 MiB, then 79 → 73 once the served document was kept as an outline), so the check is
/// made after a reload, which also frees the whole previous gateway: a tenth of what is
/// resident then goes at least.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_the_build_freed_goes_back_to_the_system() {
    let dir = TempDir::new("startup-memory");
    let upstream = Upstream::start().await;
    let spec = format!("{FIXTURES}/digitalocean/specification/DigitalOcean-public.v2.yaml");
    let gateway = Gateway::start(&dir, &["--spec", &spec, "--upstream", &upstream.url()]);
    let pid = gateway.child.id();
    let threads: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("the process's threads")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .collect();
    assert!(
        threads
            .iter()
            .any(|name| name.starts_with("jemalloc_bg_thd")),
        "no allocator background thread among {threads:?}"
    );
    gateway.signal("HUP");
    assert!(
        wait_for_log(&gateway.log, "reloaded"),
        "no reload: {}",
        gateway.log_text()
    );
    let reloaded = crate::memory::rss_kib(pid);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut now = reloaded;
    while now * 10 > reloaded * 9 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        now = crate::memory::rss_kib(pid);
    }
    assert!(
        now * 10 <= reloaded * 9,
        "resident memory {reloaded} KiB once reloaded, still {now} KiB a minute later"
    );
}
