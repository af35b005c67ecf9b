//! The canonical request path: what is routed, validated and handed on.
//!
//! A validating gateway is only safe when the path it matched is the path the service behind
//! it executes. Servers disagree about paths that are not in one canonical form: nginx,
//! Python's `http.server` and most static-file handlers resolve `..`, some decode `%2F` into a
//! separator, Tomcat strips `;params` from segments before resolving `..;`, Windows servers take
//! `\` as a separator. oasgate therefore decides on one form before routing, for every front
//! (the layer, the proxy, forward-auth, `oasgate route`):
//!
//! - **Percent-encoding is normalised** (RFC 3986 §6.2.2.1–2): an encoded unreserved
//!   character (`ALPHA / DIGIT / "-" / "." / "_" / "~"`) is decoded — "URIs that differ in the
//!   replacement of an unreserved character with its corresponding percent-encoded US-ASCII
//!   octet are equivalent" — so `/v2/%61dmin` is `/v2/admin`; every other escape is written
//!   with uppercase hex digits. A `%` not followed by two hex digits is refused.
//! - **Dot segments** (`.` and `..`, also encoded as `%2e`, and with `;params` after them as in
//!   `..;x`) and **empty segments** (`//`) are refused by default. With
//!   [`PathNormalization::Normalize`] they are resolved instead (RFC 3986 §5.2.4,
//!   `remove_dot_segments`; empty segments merged), before matching.
//! - **Encoded separators** (`%2F`, `%5C`), a raw `\`, and **control characters** (`%00`–`%1F`,
//!   `%7F`) are refused: they cannot be normalised without guessing what the service does with
//!   them. [`Options::allow_encoded_slash`](crate::Options::allow_encoded_slash) keeps `%2F`
//!   inside a segment, for APIs whose path parameters carry slashes.
//! - A decoded segment that is **not UTF-8** (overlong forms such as `%C0%AE`) is refused.
//! - A raw **`;`** is refused unless the document uses it (a `matrix` path parameter, or a
//!   template with `;` in it): Tomcat and Spring read `;` as the start of path parameters.
//!
//! The result is what the router matches and what the service receives: when it differs from
//! the request's path, the layer rewrites the request's URI.

use std::borrow::Cow;
use std::fmt;

use crate::problem::FieldCode;

/// What to do with dot segments (`.`, `..`) and empty segments (`//`) in a request path.
///
/// In a config file: `reject` or `normalize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PathNormalization {
    /// Answer 400 naming the segment (the default).
    #[default]
    Reject,
    /// Resolve them as RFC 3986 §5.2.4 does, merge empty segments, and route and hand on the
    /// result: `/v2/pets/../admin` becomes `/v2/admin`, `/v2//pets` becomes `/v2/pets`.
    Normalize,
}

/// The rules one plan applies, fixed at start-up from the [`Options`](crate::Options) and
/// the document.
#[derive(Debug, Clone, Copy, Default)]
pub struct PathRules {
    /// Refuse or resolve dot and empty segments.
    pub normalization: PathNormalization,
    /// Keep `%2F` inside a segment.
    pub encoded_slash: bool,
    /// Let a raw `;` through: the document uses it (matrix parameters or literal templates).
    pub semicolons: bool,
}

/// Why a path was refused.
#[allow(missing_docs)] // each is named after what it refuses; `explain` says it in words
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathFault {
    DotSegment,
    EmptySegment,
    EncodedSlash,
    Backslash,
    ControlCharacter,
    BadEscape,
    NotUtf8,
    Semicolon,
}

impl PathFault {
    /// The [`FieldCode`] of the problem's error: `dotSegment`, `emptySegment`, `encodedSlash`,
    /// `backslash`, `controlCharacter`, `percentEncoding`, `utf8` or `semicolon`.
    pub fn code(self) -> FieldCode {
        match self {
            PathFault::DotSegment => FieldCode::DotSegment,
            PathFault::EmptySegment => FieldCode::EmptySegment,
            PathFault::EncodedSlash => FieldCode::EncodedSlash,
            PathFault::Backslash => FieldCode::Backslash,
            PathFault::ControlCharacter => FieldCode::ControlCharacter,
            PathFault::BadEscape => FieldCode::PercentEncoding,
            PathFault::NotUtf8 => FieldCode::Utf8,
            PathFault::Semicolon => FieldCode::Semicolon,
        }
    }

    fn explain(self) -> &'static str {
        match self {
            PathFault::DotSegment => "is a dot segment; send the path it stands for",
            PathFault::EmptySegment => "is empty (`//`); send the path without it",
            PathFault::EncodedSlash => "holds an encoded `/` (`%2F`), which servers disagree about",
            PathFault::Backslash => "holds a `\\`, which some servers read as a separator",
            PathFault::ControlCharacter => "holds an encoded control character",
            PathFault::BadEscape => "holds a `%` that is not followed by two hex digits",
            PathFault::NotUtf8 => "does not decode to UTF-8",
            PathFault::Semicolon => {
                "holds a `;`, which some servers read as path parameters; send it as `%3B`"
            }
        }
    }
}

/// A refused path: which segment, as sent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRefusal {
    /// Which segment: 1-based, counted after the leading `/`.
    pub segment: usize,
    /// The segment as sent, cut short when long.
    pub text: String,
    /// What is wrong with it.
    pub fault: PathFault,
}

impl fmt::Display for PathRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "path segment {} `{}` {}",
            self.segment,
            self.text,
            self.fault.explain()
        )
    }
}

/// The canonical form of `path` (a request path without its query), borrowed when the path is
/// canonical already — the common case, checked in one pass without allocating.
pub fn canonicalize(path: &str, rules: PathRules) -> Result<Cow<'_, str>, PathRefusal> {
    // `*` (OPTIONS) and anything not absolute is left to the router, which matches none of it.
    if !path.starts_with('/') || is_plain(path.as_bytes(), rules) {
        return Ok(Cow::Borrowed(path));
    }
    let mut out: Vec<String> = Vec::new();
    let segments: Vec<&str> = path[1..].split('/').collect();
    let last = segments.len() - 1;
    // Whether the path ends in `/`: after a resolved dot segment at the end, as §5.2.4 does.
    let mut trailing_slash = false;
    for (i, raw) in segments.iter().enumerate() {
        let refuse = |fault| PathRefusal {
            segment: i + 1,
            text: cut(raw),
            fault,
        };
        let segment = segment(raw, rules).map_err(refuse)?;
        // Tomcat resolves `..;x` as `..`: the name before any `;` decides — also an encoded
        // one, for servers that decode before they cut.
        let name = segment
            .split(';')
            .next()
            .and_then(|name| name.split("%3B").next())
            .unwrap_or_default();
        let normalize = rules.normalization == PathNormalization::Normalize;
        if name == "." || name == ".." {
            if !normalize {
                return Err(refuse(PathFault::DotSegment));
            }
            if name == ".." {
                out.pop();
            }
            trailing_slash = i == last;
            continue;
        }
        if segment.is_empty() && i != last {
            if !normalize {
                return Err(refuse(PathFault::EmptySegment));
            }
            continue;
        }
        trailing_slash = false;
        out.push(segment);
    }
    let mut canonical = String::with_capacity(path.len());
    for segment in &out {
        canonical.push('/');
        canonical.push_str(segment);
    }
    if trailing_slash || canonical.is_empty() {
        canonical.push('/');
    }
    Ok(if canonical == path {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(canonical)
    })
}

/// Whether `path` needs no work: no escape, no `\`, no control character, no `;` where
/// refused, no empty or dot segment.
fn is_plain(bytes: &[u8], rules: PathRules) -> bool {
    let mut previous = b'/';
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'%' | b'\\' | 0..=0x1f | 0x7f => return false,
            b';' if !rules.semicolons => return false,
            // `//`, and a segment starting with `.` (checked whole on the slow path).
            b'/' | b'.' if previous == b'/' && i > 0 => return false,
            _ => {}
        }
        previous = b;
    }
    true
}

/// One segment in canonical form, or why it cannot be.
fn segment(raw: &str, rules: PathRules) -> Result<String, PathFault> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    // The segment fully decoded, to check it is UTF-8.
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or(PathFault::BadEscape)?;
                match byte {
                    b'/' if !rules.encoded_slash => return Err(PathFault::EncodedSlash),
                    b'\\' => return Err(PathFault::Backslash),
                    0..=0x1f | 0x7f => return Err(PathFault::ControlCharacter),
                    _ if is_unreserved(byte) => out.push(byte),
                    _ => out.extend_from_slice(&[
                        b'%',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xf)],
                    ]),
                }
                decoded.push(byte);
                i += 3;
            }
            b'\\' => return Err(PathFault::Backslash),
            b';' if !rules.semicolons => return Err(PathFault::Semicolon),
            0..=0x1f | 0x7f => return Err(PathFault::ControlCharacter),
            _ => {
                // Raw text is kept as sent (a multi-byte character byte by byte, in order).
                out.push(b);
                decoded.push(b);
                i += 1;
            }
        }
    }
    if std::str::from_utf8(&decoded).is_err() {
        return Err(PathFault::NotUtf8);
    }
    // Only ASCII was added, and raw bytes were copied in order from a `str`.
    String::from_utf8(out).map_err(|_| PathFault::NotUtf8)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 §2.3: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// A segment as it goes into a message: at most 64 characters.
fn cut(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REJECT: PathRules = PathRules {
        normalization: PathNormalization::Reject,
        encoded_slash: false,
        semicolons: false,
    };
    const NORMALIZE: PathRules = PathRules {
        normalization: PathNormalization::Normalize,
        encoded_slash: false,
        semicolons: false,
    };

    /// (path, canonical form or the fault and segment that refuse it), under both policies.
    #[test]
    fn canonical_paths() {
        type Want = Result<&'static str, (PathFault, usize)>;
        use PathFault::*;
        // (path, under Reject, under Normalize)
        let rows: &[(&str, Want, Want)] = &[
            ("/v2/pets/1", Ok("/v2/pets/1"), Ok("/v2/pets/1")),
            ("/", Ok("/"), Ok("/")),
            ("/v2/pets/", Ok("/v2/pets/"), Ok("/v2/pets/")),
            ("*", Ok("*"), Ok("*")),
            ("/.well-known/x", Ok("/.well-known/x"), Ok("/.well-known/x")),
            ("/a/..b/c.", Ok("/a/..b/c."), Ok("/a/..b/c.")),
            // RFC 3986 §6.2.2.2: encoded unreserved characters are the characters.
            ("/v2/%61dmin", Ok("/v2/admin"), Ok("/v2/admin")),
            ("/v2/%7e%2D%5f", Ok("/v2/~-_"), Ok("/v2/~-_")),
            // §6.2.2.1: other escapes take uppercase hex digits.
            (
                "/v2/a%3fb%c3%a9",
                Ok("/v2/a%3Fb%C3%A9"),
                Ok("/v2/a%3Fb%C3%A9"),
            ),
            ("/v2/%2541", Ok("/v2/%2541"), Ok("/v2/%2541")),
            // Dot segments, raw and encoded, and Tomcat's `..;`.
            ("/v2/public/../admin", Err((DotSegment, 3)), Ok("/v2/admin")),
            ("/v2/./admin", Err((DotSegment, 2)), Ok("/v2/admin")),
            ("/v2/x/%2e%2E/admin", Err((DotSegment, 3)), Ok("/v2/admin")),
            ("/v2/x/.%2e/admin", Err((DotSegment, 3)), Ok("/v2/admin")),
            ("/v2/pets/.", Err((DotSegment, 3)), Ok("/v2/pets/")),
            ("/v2/pets/..", Err((DotSegment, 3)), Ok("/v2/")),
            ("/../../etc", Err((DotSegment, 1)), Ok("/etc")),
            ("/..", Err((DotSegment, 1)), Ok("/")),
            // Empty segments.
            ("/v2//admin", Err((EmptySegment, 2)), Ok("/v2/admin")),
            ("//v2/admin", Err((EmptySegment, 1)), Ok("/v2/admin")),
            ("/v2/admin//", Err((EmptySegment, 3)), Ok("/v2/admin/")),
            // Encoded separators and what some servers take for one.
            (
                "/v2/public/..%2Fadmin",
                Err((EncodedSlash, 3)),
                Err((EncodedSlash, 3)),
            ),
            (
                "/v2/public/a%2fb",
                Err((EncodedSlash, 3)),
                Err((EncodedSlash, 3)),
            ),
            (
                "/v2/public/..%5Cadmin",
                Err((Backslash, 3)),
                Err((Backslash, 3)),
            ),
            (
                "/v2/public/..\\admin",
                Err((Backslash, 3)),
                Err((Backslash, 3)),
            ),
            // Control characters.
            (
                "/v2/public/a%00",
                Err((ControlCharacter, 3)),
                Err((ControlCharacter, 3)),
            ),
            (
                "/v2/public/a%0d%0a",
                Err((ControlCharacter, 3)),
                Err((ControlCharacter, 3)),
            ),
            (
                "/v2/public/a%7F",
                Err((ControlCharacter, 3)),
                Err((ControlCharacter, 3)),
            ),
            // Broken escapes, overlong UTF-8 (`%C0%AE` is an overlong `.`), lone bytes.
            ("/v2/a%2", Err((BadEscape, 2)), Err((BadEscape, 2))),
            ("/v2/a%zz", Err((BadEscape, 2)), Err((BadEscape, 2))),
            (
                "/v2/%C0%AE%C0%AE/admin",
                Err((NotUtf8, 2)),
                Err((NotUtf8, 2)),
            ),
            ("/v2/%ff", Err((NotUtf8, 2)), Err((NotUtf8, 2))),
            // Double encoding is data: `%252e` is the three characters `%2e`.
            (
                "/v2/public/%252e%252e",
                Ok("/v2/public/%252e%252e"),
                Ok("/v2/public/%252e%252e"),
            ),
            // `;` where the document has no use for it.
            ("/v2/admin;x=1", Err((Semicolon, 2)), Err((Semicolon, 2))),
            (
                "/v2/public/..;/admin",
                Err((Semicolon, 3)),
                Err((Semicolon, 3)),
            ),
            ("/v2/a%3Bb", Ok("/v2/a%3Bb"), Ok("/v2/a%3Bb")),
            ("/v2/..%3bx/admin", Err((DotSegment, 2)), Ok("/admin")),
        ];
        for (path, reject, normalize) in rows {
            for (rules, want) in [(REJECT, reject), (NORMALIZE, normalize)] {
                let got = canonicalize(path, rules)
                    .map(|c| c.into_owned())
                    .map_err(|r| (r.fault, r.segment));
                assert_eq!(
                    got,
                    want.map(str::to_owned),
                    "{path} under {:?}",
                    rules.normalization
                );
            }
        }
    }

    #[test]
    fn a_canonical_path_is_borrowed() {
        for path in ["/v2/pets/1", "/", "/.well-known/x", "/a/b/"] {
            assert!(
                matches!(canonicalize(path, REJECT), Ok(Cow::Borrowed(_))),
                "{path}"
            );
        }
    }

    #[test]
    fn options_let_slashes_and_semicolons_through() {
        let rules = PathRules {
            encoded_slash: true,
            semicolons: true,
            ..REJECT
        };
        assert_eq!(
            canonicalize("/files/a%2fb;v=1", rules).unwrap(),
            "/files/a%2Fb;v=1"
        );
        // Tomcat's `..;` is a dot segment even where `;` is allowed.
        let refusal = canonicalize("/v2/public/..;x/admin", rules).unwrap_err();
        assert_eq!((refusal.fault, refusal.segment), (PathFault::DotSegment, 3));
        assert_eq!(
            refusal.to_string(),
            "path segment 3 `..;x` is a dot segment; send the path it stands for"
        );
    }
}
