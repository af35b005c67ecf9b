//! JSON pointers (RFC 6901) and `$ref` following inside one bundled document.

use serde_json::Value;

/// Splits a pointer (with or without a leading `#`) into unescaped segments.
pub(crate) fn segments(pointer: &str) -> Vec<String> {
    segments_of(pointer)
        .map(std::borrow::Cow::into_owned)
        .collect()
}

/// Undoes pointer escaping (`~1` → `/`, `~0` → `~`).
pub(crate) fn unescape(segment: &str) -> String {
    // One pass: `~01` is `~1` (RFC 6901 §4: `~1` first, then `~0`). Bytes, not chars: every
    // pointer into another file of a document has its path's `/`s escaped, and this runs for
    // each of them.
    let bytes = segment.as_bytes();
    let mut out = String::with_capacity(segment.len());
    let (mut copied, mut i) = (0, 0);
    while i + 1 < bytes.len() {
        let replaced = match (bytes[i], bytes[i + 1]) {
            (b'~', b'1') => '/',
            (b'~', b'0') => '~',
            _ => {
                i += 1;
                continue;
            }
        };
        // `~` is ASCII: `i` is a character boundary.
        out.push_str(&segment[copied..i]);
        out.push(replaced);
        i += 2;
        copied = i;
    }
    out.push_str(&segment[copied..]);
    out
}

/// Undoes the percent-encoding a `$ref` may use in its path or fragment.
pub(crate) fn percent_decoded(text: &str) -> String {
    // Nearly every reference has nothing encoded: no byte-by-byte decoding and check.
    if !text.contains('%') {
        return text.to_owned();
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Escapes one segment for use in a pointer.
pub(crate) fn escape(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    push_escaped(&mut out, segment);
    out
}

/// Appends `segment` escaped to `out`; without a `~` or `/` it is copied as it is, with no
/// string made for it (every key of a walked document passes here).
pub(crate) fn push_escaped(out: &mut String, segment: &str) {
    if !segment.bytes().any(|b| b == b'~' || b == b'/') {
        out.push_str(segment);
        return;
    }
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Appends one segment to a pointer.
pub(crate) fn join(pointer: &str, segment: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + segment.len() + 1);
    out.push_str(pointer);
    out.push('/');
    push_escaped(&mut out, segment);
    out
}

/// The value at `pointer` (`""` is the whole document; a leading `#` is allowed).
///
/// Called for every schema at start-up, so segments are borrowed unless they hold escapes
/// (`serde_json`'s `Value::pointer` allocates two strings per segment).
pub(crate) fn get<'a>(doc: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = doc;
    for segment in segments_of(pointer) {
        node = match node {
            Value::Object(map) => super::member(map, &segment)?,
            Value::Array(items) => items.get(index(&segment)?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// [`get`], mutably.
pub(crate) fn get_mut<'a>(doc: &'a mut Value, pointer: &str) -> Option<&'a mut Value> {
    let mut node = doc;
    for segment in segments_of(pointer) {
        node = match node {
            Value::Object(map) => map.get_mut(segment.as_ref())?,
            Value::Array(items) => items.get_mut(index(&segment)?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Calls `visit` with the node at each of `pointers` that names one, children before their
/// parents, in one descent of the document (rather than one from the root per pointer). A
/// leading `#` is dropped from the pointer `visit` is given.
///
/// The pointers are sorted as they are, each `/` made the lowest character: those below one
/// node then sort together, the node's own first, and the group below a node shares the same
/// leading bytes, so no pointer is split into a list of segments (start-up calls this with
/// every schema of the document, tens of thousands for a large one).
pub(crate) fn for_each_mut(
    doc: &mut Value,
    pointers: Vec<String>,
    visit: &mut dyn FnMut(&str, &mut Value),
) {
    let mut keys: Vec<Vec<u8>> = pointers
        .into_iter()
        .map(|at| {
            let mut key = at.into_bytes();
            if key.first() == Some(&b'#') {
                key.remove(0);
            }
            // Read as `get` reads it: `a/b` is `/a/b`.
            if key.first().is_some_and(|&b| b != b'/') {
                key.insert(0, b'/');
            }
            key
        })
        .collect();
    if keys.iter().any(|key| key.contains(&SEPARATOR)) {
        // A key holding U+0000 would read as a separator: each pointer from the root instead,
        // the deepest first.
        let mut pointers: Vec<String> = keys
            .into_iter()
            .filter_map(|key| String::from_utf8(key).ok())
            .collect();
        pointers.sort_by_key(|at| std::cmp::Reverse(segments_of(at).count()));
        for at in &pointers {
            if let Some(node) = get_mut(doc, at) {
                visit(at, node);
            }
        }
        return;
    }
    for key in &mut keys {
        key.iter_mut()
            .filter(|b| **b == b'/')
            .for_each(|b| *b = SEPARATOR);
    }
    keys.sort_unstable();
    descend(doc, &mut keys, 0, visit);
}

/// What stands for `/` in the keys [`for_each_mut`] sorts: lower than any other byte.
const SEPARATOR: u8 = 0;

/// Visits the pointers of `group`, which all begin with the `shared` bytes naming `node`.
fn descend(
    node: &mut Value,
    group: &mut [Vec<u8>],
    shared: usize,
    visit: &mut dyn FnMut(&str, &mut Value),
) {
    let here = group.iter().take_while(|key| key.len() == shared).count();
    let (own, mut below) = group.split_at_mut(here);
    while let Some(first) = below.first() {
        // Every key below begins with a separator after the node's bytes, then its child's.
        let start = shared + 1;
        let end = first[start..]
            .iter()
            .position(|&b| b == SEPARATOR)
            .map_or(first.len(), |at| start + at);
        let same = below
            .iter()
            .take_while(|key| {
                key.get(start..end) == Some(&first[start..end])
                    && key.get(end).is_none_or(|&b| b == SEPARATOR)
            })
            .count();
        let (children, rest) = std::mem::take(&mut below).split_at_mut(same);
        below = rest;
        // Segments end at ASCII bytes, so each is UTF-8 as the pointer was.
        let Ok(segment) = std::str::from_utf8(&children[0][start..end]) else {
            continue;
        };
        let segment = if segment.contains('~') {
            std::borrow::Cow::Owned(unescape(segment))
        } else {
            std::borrow::Cow::Borrowed(segment)
        };
        let child = match &mut *node {
            Value::Object(map) => map.get_mut(segment.as_ref()),
            Value::Array(items) => index(&segment).and_then(|i| items.get_mut(i)),
            _ => None,
        };
        if let Some(child) = child {
            descend(child, children, end, visit);
        }
    }
    for key in own {
        key.iter_mut()
            .filter(|b| **b == SEPARATOR)
            .for_each(|b| *b = b'/');
        if let Ok(at) = std::str::from_utf8(key) {
            visit(at, node);
        }
    }
}

/// The unescaped segments of `pointer`, borrowed where they hold no `~`.
fn segments_of(pointer: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
    let rest = pointer.strip_prefix('/').unwrap_or(pointer);
    // `""` is the whole document: no segment, where `split` would give one empty one.
    (!pointer.is_empty())
        .then(|| rest.split('/'))
        .into_iter()
        .flatten()
        .map(|raw| {
            if raw.bytes().any(|b| b == b'~') {
                unescape(raw).into()
            } else {
                raw.into()
            }
        })
}

/// An array index as RFC 6901 §4 writes it: `0`, or digits without a leading zero.
pub(crate) fn index(segment: &str) -> Option<usize> {
    if segment.starts_with('+') || (segment.starts_with('0') && segment.len() > 1) {
        return None;
    }
    segment.parse().ok()
}

/// Characters escaped when a pointer is written as a URI fragment.
const FRAGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A pointer written as a URI fragment (without the `#`).
pub(crate) fn to_fragment(pointer: &str) -> String {
    percent_encoding::utf8_percent_encode(pointer, FRAGMENT).to_string()
}

/// The local target of a node's `$ref` (`#/...` after bundling) as a plain pointer.
pub(crate) fn local_ref(node: &Value) -> Option<String> {
    let fragment = super::field(node, "$ref")?.as_str()?.strip_prefix('#')?;
    Some(percent_decoded(fragment))
}

/// Follows a chain of local `$ref`s from `node` (at `pointer`) to the node they name.
///
/// Answers the final node and its pointer, or an error naming a missing target or a cycle.
pub(crate) fn resolve<'a>(
    doc: &'a Value,
    mut node: &'a Value,
    pointer: &str,
) -> Result<(&'a Value, String), String> {
    let mut at = pointer.to_owned();
    let mut hops = 0;
    while let Some(target) = local_ref(node) {
        hops += 1;
        if hops > 64 {
            return Err(format!(
                "`$ref` chain from #{pointer} does not end (a cycle)"
            ));
        }
        node =
            get(doc, &target).ok_or_else(|| format!("`$ref` target #{target} does not exist"))?;
        at = target;
    }
    Ok((node, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The pointers [`for_each_mut`] visits, in order; each object visited is marked with
    /// `seen`: its place in that order, from 1.
    fn visit_marking(doc: &mut Value, pointers: &[&str]) -> Vec<String> {
        let pointers: Vec<String> = pointers.iter().map(|&p| p.to_owned()).collect();
        let mut visited = Vec::new();
        for_each_mut(doc, pointers, &mut |at, node| {
            visited.push(at.to_owned());
            if let Value::Object(map) = node {
                map.insert("seen".into(), json!(visited.len()));
            }
        });
        visited
    }

    #[test]
    fn visits_each_pointer_once_children_first() {
        let mut doc = json!({"a": {"b": {"c": 1}, "a~b": {}}, "list": [{"x": 1}, {"y": 2}]});
        let visited = visit_marking(
            &mut doc,
            &[
                "/a",
                "",
                "/list/1",
                "/a/b",
                "/missing/z",
                "/list/01",
                "/a/a~0b",
            ],
        );
        // Every pointer that names a node, each after all those below it; `01` is no index.
        let position = |at: &str| visited.iter().position(|v| v == at).unwrap();
        assert_eq!(visited.len(), 5, "{visited:?}");
        assert!(position("/a/b") < position("/a"));
        assert!(position("/a/a~0b") < position("/a"));
        assert!(position("/a") < position(""));
        assert!(position("/list/1") < position(""));
        assert_eq!(doc["a"]["a~b"]["seen"], json!(position("/a/a~0b") + 1));
        assert_eq!(doc["list"][1]["seen"], json!(position("/list/1") + 1));
    }

    /// A key that continues another (`a` and `a!`, whose pointers' text sorts `/a`, `/a!`,
    /// `/a/b`), empty keys (RFC 6901: `/` names the member `""`), and a pointer given twice.
    #[test]
    fn groups_each_child_whatever_its_neighbours() {
        let mut doc = json!({"a": {"b": {}}, "a!": {"c": {}}, "": {"": {}}});
        let visited = visit_marking(
            &mut doc,
            &["/a!/c", "/a", "/a!", "/a/b", "//", "/", "/a/b", "#/a!"],
        );
        let mut sorted = visited.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ["/", "//", "/a", "/a!", "/a!", "/a!/c", "/a/b", "/a/b"]
        );
        let position = |at: &str| visited.iter().position(|v| v == at).unwrap();
        assert!(position("/a/b") < position("/a"));
        assert!(position("/a!/c") < position("/a!"));
        assert!(visited.iter().rposition(|v| v == "/a!") > Some(position("/a!/c")));
        assert!(position("//") < position("/"));
        assert!(doc[""][""]["seen"].is_number() && doc["a!"]["c"]["seen"].is_number());
    }

    /// A key holding U+0000 (a JSON string may) cannot be told from the sorted form's
    /// separator; such a list is visited pointer by pointer, still children first.
    #[test]
    fn visits_keys_holding_nul_too() {
        let mut doc = json!({"a\u{0}b": {"c": {}}, "a": {}, "x": {"y": {}}});
        let visited = visit_marking(&mut doc, &["/a\u{0}b", "/a\u{0}b/c", "/a", "x/y", "/x"]);
        let position = |at: &str| visited.iter().position(|v| v == at).unwrap();
        assert_eq!(visited.len(), 5, "{visited:?}");
        assert!(position("/a\u{0}b/c") < position("/a\u{0}b"));
        assert!(position("/x/y") < position("/x"));
        assert!(doc["a\u{0}b"]["c"]["seen"].is_number() && doc["a"]["seen"].is_number());
    }

    /// RFC 6901 §4: "first transforming any occurrence of the sequence '~1' to '/', and then
    /// transforming any occurrence of the sequence '~0' to '~'" — so `~01` is `~1`.
    #[test]
    fn unescapes_as_the_rfc_orders_it() {
        for (segment, want) in [
            ("a~1b", "a/b"),
            ("~01", "~1"),
            ("~0~1", "~/"),
            ("~", "~"),
            ("a~2", "a~2"),
            ("~~1", "~/"),
            ("", ""),
            ("é~1ü", "é/ü"),
            ("plain", "plain"),
            ("a~1", "a/"),
            ("~1~0", "/~"),
            ("~~0", "~~"),
            ("x~", "x~"),
            ("~0~01", "~~1"),
        ] {
            assert_eq!(unescape(segment), want, "{segment}");
            assert_eq!(unescape(&escape(want)), want, "{want}");
        }
        for (segment, want) in [("a/b~c", "a~1b~0c"), ("~1", "~01"), ("plain", "plain")] {
            assert_eq!(escape(segment), want);
            let mut pointer = "/x".to_owned();
            push_escaped(&mut pointer, segment);
            assert_eq!(pointer, format!("/x{want}"));
            assert_eq!(join("/x", segment), format!("/x/{want}"));
        }
    }

    #[test]
    fn round_trips_segments() {
        assert_eq!(
            segments("#/paths/~1pets~1{id}/get"),
            ["paths", "/pets/{id}", "get"]
        );
        assert_eq!(join("/paths", "/a~b"), "/paths/~1a~0b");
        assert!(segments("").is_empty());
        assert_eq!(percent_decoded("/a%20b"), "/a b");
    }

    #[test]
    fn resolves_chains_and_cycles() {
        let doc = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/c"}, "c": 1, "x": {"$ref": "#/y"}, "y": {"$ref": "#/x"}, "l": [0, {"k": 2}]});
        let (v, at) = resolve(&doc, &doc["a"], "/a").unwrap();
        assert_eq!((v, at.as_str()), (&json!(1), "/c"));
        assert!(
            resolve(&doc, &doc["x"], "/x")
                .unwrap_err()
                .contains("cycle")
        );
        assert_eq!(get(&doc, "/l/1/k"), Some(&json!(2)));
        assert_eq!(get(&doc, "/l/9"), None);
    }
}
