//! `server.watch`: edits to the config file or to any file of the document reload, as SIGHUP
//! does, including a Kubernetes-style ConfigMap update that swaps a symbolic link.

use std::os::unix::fs::symlink;
use std::time::Duration;

use crate::support::*;

const PETS: &str = r#"
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - $ref: 'params.yaml#/limit'
      responses: {"200": {description: ok}}
"#;

fn params(maximum: u32) -> String {
    format!("limit: {{name: limit, in: query, schema: {{type: integer, maximum: {maximum}}}}}\n")
}

/// Lays a version of the document out the way a ConfigMap volume does: the files live in
/// `..<version>/`, `..data` links to it, and each visible name links into `..data`.
fn publish(dir: &TempDir, version: &str, pets: &str, params: &str) {
    let versioned = dir.0.join(format!("..{version}"));
    std::fs::create_dir_all(&versioned).unwrap();
    std::fs::write(versioned.join("pets.yaml"), pets).unwrap();
    std::fs::write(versioned.join("params.yaml"), params).unwrap();
    // Swapped in one rename, as the kubelet does.
    let next = dir.0.join("..data_tmp");
    let _ = std::fs::remove_file(&next);
    symlink(format!("..{version}"), &next).unwrap();
    std::fs::rename(&next, dir.0.join("..data")).unwrap();
    for name in ["pets.yaml", "params.yaml"] {
        let link = dir.0.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{name}"), &link).unwrap();
        }
    }
}

async fn status_becomes(url: &str, status: u16) -> bool {
    eventually(Duration::from_secs(15), async || {
        get(url).await.status == status
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_files_reload_and_a_broken_change_keeps_the_old_plan() {
    let dir = TempDir::new("watch");
    let upstream = Upstream::start().await;
    publish(&dir, "v1", PETS, &params(100));
    let config = format!(
        "spec: pets.yaml\nserver:\n  upstream: {}\n  watch: true\n",
        upstream.url()
    );
    dir.write("oasgate.yaml", &config);
    let gateway = Gateway::start(
        &dir,
        &["--config", "oasgate.yaml", "--watch-interval", "100ms"],
    );
    let limit_50 = gateway.url("/pets?limit=50");
    let dogs = gateway.url("/dogs");
    assert_eq!(get(&limit_50).await.status, 200);
    assert_eq!(get(&dogs).await.status, 404);

    // A file reached only through a `$ref`, edited in place.
    std::fs::write(dir.0.join("..v1/params.yaml"), params(10)).unwrap();
    assert!(
        status_becomes(&limit_50, 400).await,
        "the edited $ref'd file was not picked up"
    );

    // A ConfigMap-style update: new files behind a swapped symbolic link.
    let with_dogs = format!(
        "{PETS}  /dogs:\n    get:\n      operationId: listDogs\n      responses: {{\"200\": {{description: ok}}}}\n"
    );
    publish(&dir, "v2", &with_dogs, &params(10));
    assert!(
        status_becomes(&dogs, 200).await,
        "the swapped link was not picked up"
    );

    // The config file itself.
    dir.write("oasgate.yaml", &format!("{config}  healthz_path: /live\n"));
    assert!(
        status_becomes(&gateway.url("/live"), 200).await,
        "the config change was not picked up"
    );

    // A broken document: logged, counted, and the previous plan keeps serving.
    std::fs::write(
        dir.0.join("..v2/pets.yaml"),
        "openapi: 3.0.3\ninfo: {title: broken, version: '1'}\npaths:\n  /x:\n    get:\n      parameters:\n        - {name: a, in: nowhere}\n      responses: {}\n",
    )
    .unwrap();
    let metrics = gateway.url("/metrics");
    assert!(
        eventually(Duration::from_secs(15), async || {
            get(&metrics)
                .await
                .text
                .contains("oasgate_reloads_total{result=\"failed\"} 1")
        })
        .await,
        "the broken change was not tried"
    );
    assert_eq!(get(&dogs).await.status, 200, "the old plan stopped serving");
    assert_eq!(get(&limit_50).await.status, 400);
    let log = gateway.log_text();
    assert!(
        log.contains("reload failed; the previous document keeps serving"),
        "{log}"
    );
    assert!(
        log.contains("pets.yaml:7 at #/paths/~1x/get/parameters/0"),
        "the log does not name the place: {log}"
    );

    // Fixed again: picked up on the next change.
    std::fs::write(dir.0.join("..v2/pets.yaml"), PETS).unwrap();
    assert!(
        status_becomes(&dogs, 404).await,
        "the fixed document was not picked up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_watch_edits_wait_for_sighup() {
    let dir = TempDir::new("no-watch");
    let upstream = Upstream::start().await;
    dir.write("pets.yaml", SPEC);
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: pets.yaml\nserver:\n  upstream: {}\n  watch_interval: 100ms\n",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    let dogs = gateway.url("/dogs");
    dir.write("pets.yaml", &spec_with_dogs());
    // Ten intervals pass without a reload.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(get(&dogs).await.status, 404, "reloaded without `watch`");
    gateway.signal("HUP");
    assert!(status_becomes(&dogs, 200).await);
}
