//! URIs of schema resources: a file's URI, and references resolved against a base (RFC 3986
//! §5, by `fluent-uri`, the parser jsonschema uses, so both sides agree on every URI).

use std::path::{Component, Path, PathBuf};

use fluent_uri::{Uri, UriRef};

/// Characters escaped in one segment of a `file:` URI's path.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// `path` made absolute against the current directory, `.` and `..` resolved lexically.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The `file:` URI of a file (`dir` adds a trailing `/`, for a folder that is a base).
pub(crate) fn file_uri(path: &Path, dir: bool) -> String {
    let mut uri = String::from("file://");
    for component in absolute(path).components() {
        if let Component::Normal(segment) = component {
            uri.push('/');
            uri.extend(percent_encoding::utf8_percent_encode(
                &segment.to_string_lossy(),
                SEGMENT,
            ));
        }
    }
    if dir || uri == "file://" {
        uri.push('/');
    }
    normalize(&uri).unwrap_or(uri)
}

/// The file a `file:` URI names, if it is one.
pub(crate) fn to_path(uri: &str) -> Option<PathBuf> {
    let parsed = Uri::parse(uri).ok()?;
    if !parsed.scheme().as_str().eq_ignore_ascii_case("file") {
        return None;
    }
    let path = parsed.path().as_str();
    Some(PathBuf::from(
        percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned(),
    ))
}

/// The syntax-normalized form of an absolute URI (RFC 3986 §6.2.2), the form every URI is
/// compared in.
pub(crate) fn normalize(uri: &str) -> Option<String> {
    Uri::parse(uri).ok().map(|u| u.normalize().into_string())
}

/// `reference` resolved against `base` (absolute, without fragment), normalized. `None` when
/// `reference` is no URI reference or cannot be resolved against `base`.
pub(crate) fn resolve(reference: &str, base: &str) -> Option<String> {
    let base = Uri::parse(base).ok()?;
    let reference = UriRef::parse(reference).ok()?;
    reference
        .resolve_against(&base)
        .ok()
        .map(|u| u.normalize().into_string())
}

/// The relative path (percent-encoded, `..` where needed) that leads from the folder of
/// `base` to `target`, both absolute: `None` when they differ in scheme or authority, or
/// `target` has a query (no file path names it).
pub(crate) fn relative_path(base: &str, target: &str) -> Option<String> {
    let base = Uri::parse(base).ok()?.normalize();
    let target = Uri::parse(target).ok()?.normalize();
    let origin = |u: &Uri<String>| {
        (
            u.scheme().as_str().to_ascii_lowercase(),
            u.authority().map(|a| a.as_str().to_owned()),
        )
    };
    if origin(&base) != origin(&target) || target.query().is_some() {
        return None;
    }
    let base_path = base.path().as_str();
    let folder: Vec<&str> = base_path
        .rsplit_once('/')
        .map_or("", |(folder, _)| folder)
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let wanted: Vec<&str> = target
        .path()
        .as_str()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let common = folder
        .iter()
        .zip(&wanted)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<&str> = vec![".."; folder.len() - common];
    parts.extend(&wanted[common..]);
    Some(parts.join("/"))
}

/// An absolute URI split into the resource it names and its fragment (`""` when none).
pub(crate) fn split(uri: &str) -> (&str, &str) {
    uri.split_once('#').unwrap_or((uri, ""))
}

/// The base URI an `$id` establishes, resolved against `base`: `None` when it is no URI
/// reference or carries a fragment. "The "$id" keyword ... MUST NOT contain a non-empty
/// fragment" (JSON Schema 2020-12 Core §8.2.1); an empty one is dropped.
pub(crate) fn id_base(id: &str, base: &str) -> Option<String> {
    let resolved = resolve(id, base)?;
    match resolved.split_once('#') {
        None => Some(resolved),
        Some((uri, "")) => Some(uri.to_owned()),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_against_bases() {
        let rows = [
            (
                "fully_generic_array",
                "file:///d/api/openapi.yaml",
                Some("file:///d/api/fully_generic_array"),
            ),
            (
                "#generic-array",
                "file:///d/api/fully_generic_array",
                Some("file:///d/api/fully_generic_array#generic-array"),
            ),
            (
                "../common.yaml#/Money",
                "https://example.test/schemas/order",
                Some("https://example.test/common.yaml#/Money"),
            ),
            (
                "https://Example.test/a/./b",
                "file:///d/x.yaml",
                Some("https://example.test/a/b"),
            ),
            ("a b", "file:///d/x.yaml", None),
        ];
        for (reference, base, want) in rows {
            assert_eq!(
                resolve(reference, base).as_deref(),
                want,
                "{reference} against {base}"
            );
        }
        let relative = [
            (
                "https://example.com/api/openapi",
                "https://example.com/api/shared/foo",
                Some("shared/foo"),
            ),
            (
                "https://example.com/api/openapi",
                "https://example.com/common/money.yaml",
                Some("../common/money.yaml"),
            ),
            (
                "file:///api/openapi",
                "file:///api/a%20b.yaml",
                Some("a%20b.yaml"),
            ),
            (
                "https://example.com/api/openapi",
                "https://other.test/api/x",
                None,
            ),
            (
                "https://example.com/api/openapi",
                "https://example.com/api/x?v=1",
                None,
            ),
        ];
        for (base, target, want) in relative {
            assert_eq!(
                relative_path(base, target).as_deref(),
                want,
                "{target} from {base}"
            );
        }
        assert_eq!(id_base("#foo", "file:///d/x.yaml"), None);
        assert_eq!(
            id_base("item#", "https://example.test/a/").as_deref(),
            Some("https://example.test/a/item")
        );
    }

    #[test]
    fn file_uris_round_trip() {
        let uri = file_uri(Path::new("/tmp/a dir/spec#1.yaml"), false);
        assert_eq!(uri, "file:///tmp/a%20dir/spec%231.yaml");
        assert_eq!(
            to_path(&uri).as_deref(),
            Some(Path::new("/tmp/a dir/spec#1.yaml"))
        );
        assert_eq!(file_uri(Path::new("/tmp"), true), "file:///tmp/");
        assert_eq!(to_path("https://example.test/x"), None);
    }
}
