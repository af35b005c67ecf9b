//! Reading and parsing the files of a multi-file document on a second core, ahead of the
//! loader that needs them.
//!
//! The loader ([`super::bundle`]) reads files in the order it meets their `$ref`s, one at a
//! time; parsing is most of its work (YAML above all: DigitalOcean's 2,900 files). Here a
//! worker thread reads the files a parsed file names, and the files those name, while the
//! loader rewrites references. The loader takes from the front of the queue, the worker from
//! the back, so they rarely want the same file; when they do, the loader waits for the
//! worker's result rather than parsing twice. What the loader sees does not change: every
//! file is read and parsed as it would be without the worker, only sooner.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use serde_json::Value;

use super::source::{self, Replaced, Syntax};

/// A parsed file: its value, its syntax and the control characters replaced while reading.
pub(crate) type Parsed = (Value, Syntax, Option<Replaced>);

/// A file read: its text and what parsing it gave; `Err` says why it could not be read.
pub(crate) type Read = Result<(String, Result<Parsed, String>), String>;

/// The files a parsed file's references name (normalized paths), given the file's folder.
pub(crate) type Names = fn(&Path, &Value) -> Vec<PathBuf>;

/// Reads the regular file at `path` and parses it.
fn read(path: &Path) -> Read {
    // Only regular files: a device or a pipe (`/dev/zero`) would never end.
    let text = std::fs::metadata(path)
        .and_then(|meta| {
            if meta.is_file() {
                std::fs::read_to_string(path)
            } else {
                Err(std::io::Error::other("not a regular file"))
            }
        })
        .map_err(|e| e.to_string())?;
    let parsed = source::parse(&text);
    Ok((text, parsed))
}

/// Files read ahead of the loader. Without a second core it reads nothing ahead:
/// [`Prefetch::take`] then reads the file itself.
pub(crate) struct Prefetch {
    names: Names,
    ahead: bool,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Paths to read, oldest first; one no longer [`Slot::Queued`] is skipped.
    queue: VecDeque<PathBuf>,
    /// By the path's bytes: paths here are normalized, and hashing a `Path` walks its
    /// components.
    slots: HashMap<OsString, Slot>,
    stopped: bool,
}

enum Slot {
    Queued,
    /// The worker is reading it.
    Reading,
    Done(Read),
    /// The loader has it.
    Taken,
}

impl Prefetch {
    /// Reads ahead where the machine has a second core; `names` says what a file leads to.
    pub(crate) fn new(names: Names) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_worker(names, cores > 1)
    }

    pub(crate) fn with_worker(names: Names, ahead: bool) -> Self {
        Self {
            names,
            ahead,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    /// Runs `load` with the worker reading ahead beside it, where the files queued so far (the
    /// root's) give it something to read; the worker stops when `load` returns (or unwinds),
    /// leaving what it read and nobody took to be dropped.
    pub(crate) fn around<R>(&self, load: impl FnOnce() -> R) -> R {
        // Nothing queued: the root names no other file, so no file is read at all.
        if !self.ahead || self.lock().queue.is_empty() {
            return load();
        }
        std::thread::scope(|scope| {
            scope.spawn(|| self.work());
            let _stop = Stop(self);
            load()
        })
    }

    /// Queues the files `value`, a file in folder `dir`, names.
    pub(crate) fn after(&self, dir: &Path, value: &Value) {
        if self.ahead {
            let names = (self.names)(dir, value);
            self.queue(&mut self.lock(), names);
        }
    }

    /// The file at `path` (normalized): the worker's reading of it, waiting for it if under
    /// way, or read now.
    pub(crate) fn take(&self, path: &Path) -> Read {
        let mut state = self.lock();
        loop {
            match state.slots.get_mut(path.as_os_str()) {
                Some(Slot::Reading) => {
                    state = self
                        .changed
                        .wait(state)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                Some(slot @ Slot::Done(_)) => {
                    let Slot::Done(read) = std::mem::replace(slot, Slot::Taken) else {
                        unreachable!("matched as done")
                    };
                    return read;
                }
                Some(slot) => {
                    // Queued (or, were a file taken twice, taken): read it here.
                    *slot = Slot::Taken;
                    break;
                }
                None => {
                    if self.ahead {
                        state.slots.insert(path.as_os_str().to_owned(), Slot::Taken);
                    }
                    break;
                }
            }
        }
        drop(state);
        let read = read(path);
        if let Ok((_, Ok((value, _, _)))) = &read {
            self.after(folder(path), value);
        }
        read
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere leaves the map consistent: every update is one assignment.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn queue(&self, state: &mut State, paths: Vec<PathBuf>) {
        let mut added = false;
        for path in paths {
            if !state.slots.contains_key(path.as_os_str()) {
                state
                    .slots
                    .insert(path.as_os_str().to_owned(), Slot::Queued);
                state.queue.push_back(path);
                added = true;
            }
        }
        if added {
            self.changed.notify_all();
        }
    }

    /// The worker: the newest queued file first, until stopped.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return;
            }
            let Some(path) = state.queue.pop_back() else {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            };
            match state.slots.get_mut(path.as_os_str()) {
                Some(slot @ Slot::Queued) => *slot = Slot::Reading,
                _ => continue,
            }
            drop(state);
            let read = read(&path);
            let names = match &read {
                Ok((_, Ok((value, _, _)))) => (self.names)(folder(&path), value),
                _ => Vec::new(),
            };
            state = self.lock();
            state.slots.insert(path.into_os_string(), Slot::Done(read));
            self.queue(&mut state, names);
            self.changed.notify_all();
        }
    }
}

fn folder(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

/// Stops the worker when the loader is done.
struct Stop<'a>(&'a Prefetch);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each file names the files listed in its `next` array, relative to its folder.
    fn next_files(dir: &Path, value: &Value) -> Vec<PathBuf> {
        value["next"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|name| dir.join(name))
            .collect()
    }

    fn files() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temporary folder");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("write a file");
        };
        write("a.yaml", "next: [b.yaml, c.json, missing.yaml, bad.yaml]\n");
        write("b.yaml", "next: [d.yaml, a.yaml]\nb: 1\n");
        write("c.json", r#"{"next": ["d.yaml"], "c": [1, 2]}"#);
        write("d.yaml", "d: no\n");
        write("bad.yaml", "key: [unclosed\n");
        std::fs::create_dir(dir.path().join("folder")).expect("a folder");
        dir
    }

    /// What the loader would see: each file's text and value, or the error, in one order.
    fn load(prefetch: &Prefetch, dir: &Path, order: &[&str]) -> Vec<String> {
        let root = dir.join("a.yaml");
        let (_, parsed) = read(&root).expect("the root reads");
        prefetch.after(dir, &parsed.expect("the root parses").0);
        prefetch.around(|| {
            order
                .iter()
                .map(|name| match prefetch.take(&dir.join(name)) {
                    Ok((text, Ok((value, syntax, _)))) => format!("{text:?} {value} {syntax:?}"),
                    Ok((text, Err(e))) => format!("{text:?} unparsable: {}", !e.is_empty()),
                    Err(e) => format!("unreadable: {}", !e.is_empty()),
                })
                .collect()
        })
    }

    #[test]
    fn the_loader_sees_the_same_files_with_or_without_the_worker() {
        let dir = files();
        let orders: [&[&str]; 3] = [
            &["b.yaml", "c.json", "missing.yaml", "bad.yaml", "d.yaml"],
            // Taken deepest first: the worker may have it, be reading it, or not have begun.
            &["d.yaml", "bad.yaml", "missing.yaml", "c.json", "b.yaml"],
            // Not named by any file, and a folder.
            &["folder", "e.yaml", "b.yaml"],
        ];
        for order in orders {
            let alone = load(&Prefetch::with_worker(next_files, false), dir.path(), order);
            for _ in 0..20 {
                let ahead = load(&Prefetch::with_worker(next_files, true), dir.path(), order);
                assert_eq!(ahead, alone, "order {order:?}");
            }
        }
        let alone = load(
            &Prefetch::with_worker(next_files, false),
            dir.path(),
            &["d.yaml", "bad.yaml", "folder"],
        );
        assert_eq!(
            alone,
            [
                "\"d: no\\n\" {\"d\":\"no\"} Yaml",
                "\"key: [unclosed\\n\" unparsable: true",
                "unreadable: true",
            ]
        );
    }

    #[test]
    fn a_worker_that_read_ahead_stops_with_the_loader() {
        let dir = files();
        let prefetch = Prefetch::with_worker(next_files, true);
        // Nothing taken: the worker's readings are dropped and `around` returns.
        assert!(load(&prefetch, dir.path(), &[]).is_empty());
        assert!(prefetch.lock().stopped);
        // A root naming no file: no worker is started.
        let alone = Prefetch::with_worker(next_files, true);
        alone.after(dir.path(), &serde_json::json!({"next": []}));
        assert_eq!(alone.around(|| 7), 7);
        assert!(!alone.lock().stopped);
    }
}
