//! The canonical path: the first byte picks the rules, the rest is a request path. It never
//! panics; a canonical path is its own canonical form; and a server that decodes every escape
//! and then resolves `.`, `..`, `//`, `\` and `;params` (as nginx, Python's `http.server`,
//! Tomcat and IIS do, between them) finds nothing left to resolve in it — so what such a
//! server runs is the path oasgate routed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oasgate::PathNormalization;
use oasgate::path::{PathRules, canonicalize};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(path) = std::str::from_utf8(rest) else {
        return;
    };
    let rules = PathRules {
        normalization: if flags & 1 == 0 {
            PathNormalization::Reject
        } else {
            PathNormalization::Normalize
        },
        encoded_slash: flags & 2 != 0,
        semicolons: flags & 4 != 0,
    };
    let Ok(canonical) = canonicalize(path, rules) else {
        return;
    };
    let again = canonicalize(&canonical, rules).expect("a canonical path is accepted");
    assert_eq!(again, canonical, "canonicalising twice changes {path:?}");
    if !canonical.starts_with('/') {
        return;
    }
    // What a normalising server sees: every escape decoded except `%2F` where it is kept as
    // data, then split at `/` and `\`, each segment cut at `;`.
    let decoded = decode(&canonical, rules.encoded_slash);
    let segments: Vec<&[u8]> = decoded[1..]
        .split(|&b| b == b'/' || b == b'\\')
        .collect();
    for (i, segment) in segments.iter().enumerate() {
        let name = segment.split(|&b| b == b';').next().unwrap_or_default();
        assert!(
            name != b"." && name != b"..",
            "{path:?} -> {canonical:?} keeps a dot segment"
        );
        assert!(
            !segment.is_empty() || i + 1 == segments.len(),
            "{path:?} -> {canonical:?} keeps an empty segment"
        );
        assert!(
            !segment.iter().any(|&b| b < 0x20 || b == 0x7f),
            "{path:?} -> {canonical:?} keeps a control character"
        );
    }
});

/// Percent-decodes `text`, leaving `%2F` encoded when it is kept as data.
fn decode(text: &str, keep_slash: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            && !(keep_slash && byte == b'/')
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
