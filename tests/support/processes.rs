//! Running the crate's binaries from tests: find (and build when stale) an example or the
//! `oasgate` binary next to the test executable, start it, and wait for its address.
//!
//! Included by more than one test crate, each of which uses part of it.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime};

/// How long a binary may take to print `listening on` (a cold build is not part of it).
pub const STARTUP: Duration = Duration::from_secs(120);
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The newest modification time under `path` (a file or a directory tree).
pub fn newest_mtime(path: &Path) -> SystemTime {
    let Ok(meta) = fs::metadata(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    let own = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !meta.is_dir() {
        return own;
    }
    fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| newest_mtime(&entry.path()))
        .fold(own, SystemTime::max)
}

/// The path of example `name`, built first if it is missing or stale.
pub fn example_binary(name: &str) -> PathBuf {
    // The test runs from target/<profile>/deps/; examples live in target/<profile>/examples/.
    let binary = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let root = Path::new(MANIFEST_DIR);
    build_if_stale(
        &binary,
        &[root.join("examples").join(name)],
        &["--example", name],
    );
    binary
}

/// The `oasgate` binary, built like the examples (`cargo build --bin oasgate --features cli`)
/// when missing or stale. (`CARGO_BIN_EXE_oasgate` is no help: cargo sets it even when the
/// `cli` feature is off and the binary was never built.)
pub fn oasgate_binary() -> PathBuf {
    let binary = profile_dir().join(format!("oasgate{}", std::env::consts::EXE_SUFFIX));
    build_if_stale(&binary, &[], &["--bin", "oasgate", "--features", "cli"]);
    binary
}

/// `target/<profile>/`: this test executable runs from its `deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable is in target/<profile>/deps")
        .to_path_buf()
}

/// Runs `cargo build <what>` in this test's profile when `binary` is missing or older than
/// `sources`, the crate's `src/` or `Cargo.toml`.
pub fn build_if_stale(binary: &Path, sources: &[PathBuf], what: &[&str]) {
    let root = Path::new(MANIFEST_DIR);
    let crate_sources = [root.join("src"), root.join("Cargo.toml")];
    let built = fs::metadata(binary).and_then(|m| m.modified()).ok();
    let stale = built.is_none_or(|built| {
        sources
            .iter()
            .chain(&crate_sources)
            .any(|s| newest_mtime(s) > built)
    });
    if !stale {
        return;
    }
    let profile_dir = profile_dir();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).arg("build").args(what);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(other) => {
            command.args(["--profile", other]);
        }
    }
    let status = command.status().expect("cargo runs");
    let what = what.join(" ");
    assert!(status.success(), "cargo build {what} failed");
    assert!(
        binary.exists(),
        "{} is missing after the build",
        binary.display()
    );
}

/// A running example, killed when dropped so a failed assertion does not leak it.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Every line the binary printed on stdout so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// The first `count` stdout lines after `listening on`, waiting at most [`STARTUP`].
    pub fn lines_after_listening(&self, count: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + STARTUP;
        loop {
            let lines = self.stdout.lock().map(|l| l.clone()).unwrap_or_default();
            let after: Vec<String> = lines
                .iter()
                .skip_while(|l| !l.starts_with("listening on "))
                .skip(1)
                .take(count)
                .cloned()
                .collect();
            if after.len() == count {
                return after;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "fewer than {count} lines after `listening on`: {lines:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts example `name` with `args` and waits for its `listening on http://ADDR` line.
pub fn start(name: &str, args: &[&str]) -> Server {
    start_binary(name, &example_binary(name), args)
}

/// Starts `binary` (called `name` in messages) with `args`, as [`start`] does.
pub fn start_binary(name: &str, binary: &Path, args: &[&str]) -> Server {
    let mut child = Command::new(binary)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("example {name} starts: {e}"));

    // stderr is drained all along, so the child never blocks on a full pipe.
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        if let Ok(mut log) = sink.lock() {
            log.push_str(&text);
        }
    });
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    let printed = Arc::new(Mutex::new(Vec::new()));
    let record = printed.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("listening on http://") {
                let _ = tx.send(addr.trim().to_owned());
            }
            if let Ok(mut lines) = record.lock() {
                lines.push(line);
            }
        }
    });

    let mut server = Server {
        child,
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        stdout: printed,
    };
    match rx.recv_timeout(STARTUP) {
        Ok(addr) => {
            server.addr = addr
                .parse()
                .unwrap_or_else(|e| panic!("`{addr}` is an address: {e}"));
            server
        }
        Err(_) => {
            drop(server); // kill it so its stderr reaches end of file
            std::thread::sleep(Duration::from_millis(200));
            let log = log.lock().map(|l| l.clone()).unwrap_or_default();
            panic!("example {name} did not print `listening on` within {STARTUP:?}:\n{log}");
        }
    }
}
