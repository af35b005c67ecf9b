//! Spec loading: any bytes, JSON or YAML, either become a document that compiles into a layer
//! or fail with a `BuildError` that lists at least one problem. Never a panic, a hang or
//! unbounded memory.
//!
//! Relative `$ref`s resolve from the working directory, so a run may read files there; only
//! regular files are ever read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oasgate::{Document, OpenApiLayer};

fuzz_target!(|data: &[u8]| {
    let compiled = Document::from_slice(data).and_then(|doc| OpenApiLayer::new(&doc));
    if let Err(error) = compiled {
        assert!(!error.problems().is_empty(), "a BuildError names a problem");
        let _ = error.to_string();
    }
});
