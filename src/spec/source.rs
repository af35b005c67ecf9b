//! Reading one file's text into a JSON value, and finding a pointer's line for messages.

use serde_json::Value;

/// The syntax a file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Json,
    Yaml,
}

/// A file a document was read from: its name and syntax, and its text for the lines that
/// start-up messages name.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// The name messages use: the path as given, or joined from a relative `$ref`.
    pub name: String,
    text: Held,
    pub syntax: Syntax,
    /// A JSON file's node lines, read in one pass when the first message needs one.
    json_lines: std::sync::OnceLock<JsonLines>,
    /// A YAML file's line starts, likewise.
    yaml_lines: std::sync::OnceLock<YamlLines>,
}

/// Where a file's text is while the document is compiled.
#[derive(Debug, Clone)]
enum Held {
    /// Text handed over in memory.
    Here(String),
    /// A file read from disk is not held: most documents start without a message that names
    /// a line, and a large one's text is a sizeable part of what its start holds. The first
    /// message that needs a line reads the file again, and uses it only if it still reads
    /// the same (length and CRC-32); otherwise messages go without lines.
    OnDisk {
        path: std::path::PathBuf,
        len: usize,
        crc: u32,
        again: std::sync::OnceLock<Option<String>>,
    },
}

impl SourceFile {
    /// A file whose text is held.
    pub(crate) fn new(name: String, text: String, syntax: Syntax) -> Self {
        Self::holding(name, Held::Here(text), syntax)
    }

    /// A file read from `path`, whose `text` is read again only if a message needs a line.
    pub(crate) fn on_disk(
        name: String,
        path: std::path::PathBuf,
        text: &str,
        syntax: Syntax,
    ) -> Self {
        let held = Held::OnDisk {
            path,
            len: text.len(),
            crc: crc32fast::hash(text.as_bytes()),
            again: std::sync::OnceLock::new(),
        };
        Self::holding(name, held, syntax)
    }

    fn holding(name: String, text: Held, syntax: Syntax) -> Self {
        Self {
            name,
            text,
            syntax,
            json_lines: std::sync::OnceLock::new(),
            yaml_lines: std::sync::OnceLock::new(),
        }
    }

    /// The text the document was read from; `None` when the file is no longer the same.
    pub(crate) fn text(&self) -> Option<&str> {
        match &self.text {
            Held::Here(text) => Some(text),
            Held::OnDisk {
                path,
                len,
                crc,
                again,
            } => again
                .get_or_init(|| {
                    std::fs::read_to_string(path).ok().filter(|text| {
                        text.len() == *len && crc32fast::hash(text.as_bytes()) == *crc
                    })
                })
                .as_deref(),
        }
    }
}

/// Characters replaced while reading: the 1-based line of the first one, and how many.
pub(crate) type Replaced = (usize, usize);

/// Parses JSON or YAML text (JSON when it opens with `{` or `[`).
///
/// YAML is read with YAML 1.2 core booleans only and numbers with leading zeros kept as
/// strings, so `no` stays a string and `007` is not the number 7.
///
/// YAML with raw C1 control characters (U+0080–U+009F but U+0085), which
/// YAML does not allow (YAML 1.2 §5.1, `c-printable`) and published documents still carry
/// (mojibake in descriptions): each is read as U+FFFD. Answers the 1-based line of the first
/// one replaced and how many there were, if any.
pub(crate) fn parse(text: &str) -> Result<(Value, Syntax, Option<Replaced>), String> {
    let error = match parse_strict(text) {
        Ok((value, syntax)) => return Ok((value, syntax, None)),
        Err(error) => error,
    };
    let is_c1 = |c: char| ('\u{80}'..='\u{9f}').contains(&c) && c != '\u{85}';
    let Some(first) = text.find(is_c1) else {
        return Err(error);
    };
    let count = text.chars().filter(|&c| is_c1(c)).count();
    let line = text[..first].matches('\n').count() + 1;
    let cleaned: String = text
        .chars()
        .map(|c| if is_c1(c) { '\u{fffd}' } else { c })
        .collect();
    let (value, syntax) = parse_strict(&cleaned)?;
    Ok((value, syntax, Some((line, count))))
}

fn parse_strict(text: &str) -> Result<(Value, Syntax), String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let mut parser = serde_json::Deserializer::from_str(trimmed);
        return Fitted::parse(&mut parser)
            .and_then(|v| parser.end().map(|()| v))
            .map(|v| (v, Syntax::Json))
            .map_err(|e| format!("invalid JSON: {e}"));
    }
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.budget = Some(yaml_budget());
    serde_saphyr::from_str_with_options::<Fitted>(trimmed, options)
        .map(|v| (v.0, Syntax::Yaml))
        .map_err(|e| {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("").trim();
            format!("invalid YAML: {}", first.to_lowercase())
        })
}

/// A value whose objects and arrays hold exactly their members. `serde_json`'s own `Value`
/// grows each container as it reads (an object of one member keeps room for three, one of
/// four room for seven), and a document is mostly small objects: read this way its tree takes
/// a third less memory (604 KB of YAML: 3.1 → 2.0 MB). The members of the containers still
/// open wait on two stacks shared by the whole parse, then move into a container of their
/// count. Every value is the one `serde_json::Value`'s own parse gives, with its members in
/// the same order (a repeated key keeps its first place and its last value).
struct Fitted(Value);

impl Fitted {
    fn parse<'de, D: serde::Deserializer<'de>>(parser: D) -> Result<Value, D::Error> {
        serde::de::DeserializeSeed::deserialize(Open(&mut Stacks::default()), parser)
    }
}

impl<'de> serde::Deserialize<'de> for Fitted {
    fn deserialize<D: serde::Deserializer<'de>>(parser: D) -> Result<Self, D::Error> {
        Self::parse(parser).map(Fitted)
    }
}

/// The members of every container being read, innermost last.
#[derive(Default)]
struct Stacks {
    members: Vec<(String, Value)>,
    items: Vec<Value>,
}

/// Reads one value, its containers' members through the stacks.
struct Open<'s>(&'s mut Stacks);

impl<'de> serde::de::DeserializeSeed<'de> for Open<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, parser: D) -> Result<Value, D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Open<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_i128<E: serde::de::Error>(self, value: i128) -> Result<Value, E> {
        serde::Deserialize::deserialize(serde::de::value::I128Deserializer::new(value))
            .map(Value::Number)
    }

    fn visit_u128<E: serde::de::Error>(self, value: u128) -> Result<Value, E> {
        serde::Deserialize::deserialize(serde::de::value::U128Deserializer::new(value))
            .map(Value::Number)
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, parser: D) -> Result<Value, D::Error> {
        serde::de::DeserializeSeed::deserialize(self, parser)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let start = self.0.items.len();
        while let Some(item) = seq.next_element_seed(Open(&mut *self.0))? {
            self.0.items.push(item);
        }
        Ok(Value::Array(self.0.items.drain(start..).collect()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let start = self.0.members.len();
        while let Some(key) = map.next_key_seed(Key)? {
            let value = map.next_value_seed(Open(&mut *self.0))?;
            self.0.members.push((key, value));
        }
        Ok(Value::Object(self.0.members.drain(start..).collect()))
    }
}

/// Gives every object and array of `value` exactly the room its members take, as a parse
/// into [`Fitted`] does: for a tree built member by member.
pub(crate) fn fit(value: &mut Value) {
    match value {
        Value::Object(map) => {
            *map = std::mem::take(map)
                .into_iter()
                .map(|(key, mut member)| {
                    fit(&mut member);
                    (key, member)
                })
                .collect();
        }
        Value::Array(items) => {
            items.shrink_to_fit();
            items.iter_mut().for_each(fit);
        }
        _ => {}
    }
}

/// An object's key, read as `serde_json::Value` reads one (a YAML key such as `200` is the
/// string `"200"`).
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = String;

    fn deserialize<D: serde::Deserializer<'de>>(self, parser: D) -> Result<String, D::Error> {
        parser.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for Key {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, key: &str) -> Result<String, E> {
        Ok(key.to_owned())
    }

    fn visit_string<E>(self, key: String) -> Result<String, E> {
        Ok(key)
    }
}

/// Limits for YAML documents: room for the largest real specifications in one file, but no
/// nesting that would exhaust the stack (JSON's parser stops at 128 levels too) and no alias
/// expansion that would exhaust memory ("billion laughs").
fn yaml_budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 128;
    budget.max_events = 200_000_000;
    budget.max_nodes = 100_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    budget
}

/// Best-effort 1-based line of the node a JSON pointer names, for start-up messages only.
///
/// YAML is walked key by key by indentation, so it needs no second parser and never fails: it
/// answers `None` when it loses the trail. JSON is read once into a table of every node's line
/// ([`JsonLines`]): a large document with hundreds of warnings would otherwise be searched
/// from the top once per warning. A JSON pointer to no node (a missing field) answers the line
/// of its nearest ancestor.
pub(crate) fn line_of(file: &SourceFile, pointer: &str) -> Option<usize> {
    let segments = super::pointer::segments(pointer);
    match file.syntax {
        Syntax::Yaml => {
            let text = file.text()?;
            let starts = file.yaml_lines.get_or_init(|| YamlLines::read(text));
            yaml_line(
                &Lines {
                    text,
                    starts: &starts.0,
                },
                &segments,
            )
        }
        Syntax::Json => {
            let text = file.text()?;
            file.json_lines
                .get_or_init(|| JsonLines::read(text))
                .line(&segments)
        }
    }
}

/// The line of every node of a JSON text (an object member's is its key's), keyed by a hash of
/// its pointer: a few bytes per node, no pointer strings kept. A node's key is its parent's
/// key hashed with its own (unescaped) segment, so reading the text hashes each key once. The
/// pairs are sorted by key once read and searched by halves: no table is grown and rehashed.
#[derive(Debug, Clone, Default)]
struct JsonLines(Vec<(u64, u32)>);

impl JsonLines {
    /// The key of the root (the empty pointer).
    const ROOT: u64 = 0;

    fn child(parent: u64, segment: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        parent.hash(&mut hasher);
        segment.hash(&mut hasher);
        hasher.finish()
    }

    fn get(&self, key: u64) -> Option<u32> {
        let at = self.0.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        Some(self.0[at].1)
    }

    fn line(&self, segments: &[String]) -> Option<usize> {
        let mut key = Self::ROOT;
        let mut found = self.get(key);
        for segment in segments {
            key = Self::child(key, segment);
            match self.get(key) {
                Some(line) => found = Some(line),
                None => break,
            }
        }
        found.map(|line| line as usize)
    }

    /// One pass over valid JSON (the file parsed): keys, array elements and their lines.
    fn read(text: &str) -> Self {
        enum Frame {
            Object {
                key: u64,
                expects_key: bool,
            },
            Array {
                key: u64,
                index: usize,
                element_next: bool,
            },
        }
        let bytes = text.as_bytes();
        let mut lines = Vec::new();
        // The key of the node whose value comes next.
        let mut current = Self::ROOT;
        let mut frames: Vec<Frame> = Vec::new();
        let mut digits = String::new();
        let mut line: u32 = 1;
        let mut i = 0;
        while i < bytes.len() {
            let byte = bytes[i];
            if byte == b'\n' {
                line += 1;
                i += 1;
                continue;
            }
            if byte.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            // The first byte of an array's element: the element's key and line.
            if let Some(Frame::Array {
                key,
                index,
                element_next,
            }) = frames.last_mut()
                && *element_next
                && byte != b']'
            {
                *element_next = false;
                digits.clear();
                // Writing into a `String` cannot fail.
                let _ = std::fmt::Write::write_fmt(&mut digits, format_args!("{index}"));
                current = Self::child(*key, &digits);
                lines.push((current, line));
            }
            if frames.is_empty() && lines.is_empty() {
                lines.push((Self::ROOT, line));
            }
            match byte {
                b'"' => {
                    let start = i;
                    i += 1;
                    let mut escaped = false;
                    while i < bytes.len() && bytes[i] != b'"' {
                        escaped |= bytes[i] == b'\\';
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    if let Some(Frame::Object { key, expects_key }) = frames.last_mut()
                        && *expects_key
                    {
                        *expects_key = false;
                        let raw = &text[start + 1..i.min(text.len())];
                        let name: std::borrow::Cow<'_, str> = if escaped {
                            serde_json::from_str::<String>(&text[start..=i.min(text.len() - 1)])
                                .unwrap_or_else(|_| raw.to_owned())
                                .into()
                        } else {
                            raw.into()
                        };
                        current = Self::child(*key, &name);
                        lines.push((current, line));
                    }
                }
                b'{' => frames.push(Frame::Object {
                    key: current,
                    expects_key: true,
                }),
                b'[' => frames.push(Frame::Array {
                    key: current,
                    index: 0,
                    element_next: true,
                }),
                b'}' | b']' => {
                    frames.pop();
                }
                b',' => match frames.last_mut() {
                    Some(Frame::Object { expects_key, .. }) => *expects_key = true,
                    Some(Frame::Array {
                        index,
                        element_next,
                        ..
                    }) => {
                        *index += 1;
                        *element_next = true;
                    }
                    None => {}
                },
                _ => {}
            }
            i += 1;
        }
        // A member written twice is read with its last value: its last line is kept (reversed,
        // then a stable sort puts the last one first among equal keys).
        lines.reverse();
        lines.sort_by_key(|(key, _)| *key);
        lines.dedup_by_key(|(key, _)| *key);
        Self(lines)
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn yaml_key_matches(rest: &str, key: &str) -> bool {
    let rest = rest.trim_start_matches("- ").trim_start();
    for quoted in [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ] {
        if rest.starts_with(&quoted) {
            return true;
        }
    }
    false
}

/// Where each line of a YAML text starts: 8 bytes a line, read once for all its messages (a
/// document with many warnings would otherwise list its lines again for each).
#[derive(Debug, Clone, Default)]
struct YamlLines(Box<[usize]>);

impl YamlLines {
    fn read(text: &str) -> Self {
        let after_breaks = text
            .bytes()
            .enumerate()
            .filter(|&(i, b)| b == b'\n' && i + 1 < text.len())
            .map(|(i, _)| i + 1);
        let starts = (!text.is_empty())
            .then_some(0)
            .into_iter()
            .chain(after_breaks);
        YamlLines(starts.collect())
    }
}

/// A text's lines as [`str::lines`] gives them, by number.
struct Lines<'a> {
    text: &'a str,
    starts: &'a [usize],
}

impl<'a> Lines<'a> {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn get(&self, i: usize) -> &'a str {
        let end = self.starts.get(i + 1).copied().unwrap_or(self.text.len());
        let line = &self.text[self.starts[i]..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        line.strip_suffix('\r').unwrap_or(line)
    }
}

fn yaml_line(lines: &Lines<'_>, segments: &[String]) -> Option<usize> {
    // `at` is the line of the current node; its children are the following lines indented deeper.
    let mut at: Option<usize> = None;
    for segment in segments {
        if let Some(i) = at
            && let Some(rest) = lines.get(i).trim_start().strip_prefix("- ")
            && yaml_key_matches(rest, segment)
        {
            continue;
        }
        let (start, parent_indent) = match at {
            None => (0, None),
            Some(i) => (i + 1, Some(indent_of(lines.get(i)))),
        };
        let mut child_indent = None;
        let mut found = None;
        let mut item = 0usize;
        let index: Option<usize> = segment.parse().ok();
        for (i, line) in (start..lines.len()).map(|i| (i, lines.get(i))) {
            if is_blank(line) {
                continue;
            }
            let indent = indent_of(line);
            if parent_indent.is_some_and(|p| indent <= p) && !line.trim_start().starts_with("- ") {
                break;
            }
            if parent_indent.is_some_and(|p| indent < p) {
                break;
            }
            let ci = *child_indent.get_or_insert(indent);
            if indent != ci {
                continue;
            }
            let rest = line.trim_start();
            if let Some(n) = index
                && rest.starts_with("- ")
            {
                if item == n {
                    found = Some(i);
                    break;
                }
                item += 1;
                continue;
            }
            if yaml_key_matches(rest, segment) {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => at = Some(i),
            // A flow collection (`{name: a, in: query}`) holds its children on its own line.
            None => {
                let i = at?;
                let rest = lines.get(i).trim_start().trim_start_matches("- ");
                let value = rest.split_once(": ").map_or(rest, |(_, v)| v).trim_start();
                let flow = |t: &str| t.starts_with('{') || t.starts_with('[');
                return (flow(rest) || flow(value)).then_some(i + 1);
            }
        }
    }
    at.map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(text: &str) -> SourceFile {
        SourceFile::new("t.yaml".into(), text.into(), Syntax::Yaml)
    }

    /// A file read from disk is not held: a message's line reads it again, and only the same
    /// text (length and CRC-32) answers; an edited or removed file gives no line, never a
    /// wrong one.
    #[test]
    fn a_file_on_disk_is_read_again_for_a_line_only_while_it_is_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let text = "openapi: 3.0.3\npaths:\n  /a:\n    get: {}\n";
        let cases = [
            ("same", Some(text), Some(4)),
            (
                "edited",
                Some("openapi: 3.0.3\npaths:\n  /b:\n    get: {}\n"),
                None,
            ),
            // Where the node is on line 3: the length alone would not tell.
            (
                "same length",
                Some("paths:\n  /a:\n    get: {}\nopenapi: 3.0.3\n"),
                None,
            ),
            ("removed", None, None),
        ];
        for (case, now, line) in cases {
            let path = dir.path().join(format!("{}.yaml", case.replace(' ', "-")));
            std::fs::write(&path, text).unwrap();
            let file = SourceFile::on_disk(case.into(), path.clone(), text, Syntax::Yaml);
            match now {
                Some(now) => std::fs::write(&path, now).unwrap(),
                None => std::fs::remove_file(&path).unwrap(),
            }
            assert_eq!(line_of(&file, "/paths/~1a/get"), line, "{case}");
            assert_eq!(file.text().is_some(), line.is_some(), "{case}");
        }
    }

    /// The line table gives the lines `str::lines` gives, line ends of either kind.
    #[test]
    fn yaml_line_table_reads_as_str_lines() {
        for text in [
            "",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\n\na\n\n",
            "a\n\r\nb",
        ] {
            let starts = YamlLines::read(text);
            let lines = Lines {
                text,
                starts: &starts.0,
            };
            let read: Vec<&str> = (0..lines.len()).map(|i| lines.get(i)).collect();
            assert_eq!(read, text.lines().collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn parses_yaml_with_strict_scalars() {
        let (v, syntax, _) = parse("a: no\nb: 007\nc: true\nd: 12\n200: x\n").unwrap();
        assert_eq!(syntax, Syntax::Yaml);
        assert_eq!(v["a"], "no");
        assert_eq!(v["b"], "007");
        assert_eq!(v["c"], true);
        assert_eq!(v["d"], 12);
        assert_eq!(v["200"], "x");
    }

    /// The value `serde_json::Value`'s own parse gives, with the same options.
    fn reference(text: &str) -> Value {
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            return serde_json::from_str(trimmed).unwrap();
        }
        let mut options = serde_saphyr::Options::default();
        options.strict_booleans = true;
        options.leading_zero_numbers_as_strings = true;
        serde_saphyr::from_str_with_options(trimmed, options).unwrap()
    }

    /// Equal, members in the same order, and every array without spare room.
    fn assert_same(parsed: &Value, expected: &Value, at: &str) {
        match (parsed, expected) {
            (Value::Object(a), Value::Object(b)) => {
                let keys =
                    |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
                assert_eq!(keys(a), keys(b), "{at}");
                for (key, value) in a {
                    assert_same(value, &b[key], &format!("{at}/{key}"));
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                assert_eq!(a.len(), b.len(), "{at}");
                assert_eq!(a.capacity(), a.len(), "{at}");
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    assert_same(x, y, &format!("{at}/{i}"));
                }
            }
            _ => assert_eq!(parsed, expected, "{at}"),
        }
    }

    #[test]
    fn parses_what_serde_json_values_parse() {
        let table = [
            r#"{"a": 1, "b": [], "a": {"c": [1, 2.5, -3, null, true]}, "d": {}}"#,
            r#"[18446744073709551615, -9223372036854775808, 1e300, "\u00e9\n", [[[]]]]"#,
            "200: x\n'201': y\nnull_value: ~\nbig: 18446744073709551615\nneg: -5\nf: 0.5\n",
            "base: &b {x: 1, y: [a, b]}\nmerged:\n  <<: *b\n  y: z\nlist: [*b, *b]\n",
            "- one\n- {k: v}\n- []\n- {}\n",
        ];
        for text in table {
            let (parsed, _, _) = parse(text).unwrap();
            assert_same(&parsed, &reference(text), text);
        }
    }

    #[test]
    fn fitting_a_built_tree_keeps_its_members_and_order() {
        let mut built = serde_json::Map::new();
        for key in ["b", "a", "c"] {
            let mut items = Vec::with_capacity(16);
            items.extend([json!(1), json!({"z": [true], "a": null})]);
            built.insert(key.into(), Value::Array(items));
        }
        let expected = Value::Object(built.clone());
        let mut fitted = Value::Object(built);
        fit(&mut fitted);
        assert_same(&fitted, &expected, "");
    }

    #[test]
    fn parses_every_fixture_as_serde_json_values_do() {
        let mut files = 0;
        let mut dirs = vec![std::path::PathBuf::from("tests/fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.to_string_lossy().into_owned();
                if path.is_dir() {
                    dirs.push(path);
                } else if [".json", ".yaml", ".yml"].iter().any(|x| name.ends_with(x)) {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let (parsed, _, _) = parse(&text).unwrap();
                    assert_same(&parsed, &reference(&text), &name);
                    files += 1;
                }
            }
        }
        assert!(files > 2_900, "{files} fixture files");
    }

    #[test]
    fn parses_json() {
        let (v, syntax, _) = parse(" {\"a\": [1]}").unwrap();
        assert_eq!(syntax, Syntax::Json);
        assert_eq!(v["a"][0], 1);
        assert!(parse("{\"a\": }").unwrap_err().starts_with("invalid JSON"));
        assert!(parse("a: [1, 2").unwrap_err().starts_with("invalid YAML"));
    }

    #[test]
    fn finds_json_lines() {
        let text = r#"{
  "openapi": "3.0.3",
  "paths": {
    "/pets/{id}": {
      "get": {
        "parameters": [
          {"name": "a", "in": "query"},
          {
            "name": "b",
            "schema": {"type": "strin", "enum": ["x", "y"]}
          }
        ],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/a\"b~c": {"x-note": [[1, 2], {"k": 3}]}
  }
}"#;
        let f = SourceFile::new("t.json".into(), text.into(), Syntax::Json);
        // (pointer, line): members at their key, elements at their first byte; a pointer to
        // no node answers its nearest ancestor's line.
        let rows = [
            ("", Some(1)),
            ("/openapi", Some(2)),
            ("/paths/~1pets~1{id}/get", Some(5)),
            ("/paths/~1pets~1{id}/get/parameters/0", Some(7)),
            ("/paths/~1pets~1{id}/get/parameters/0/in", Some(7)),
            ("/paths/~1pets~1{id}/get/parameters/1", Some(8)),
            ("/paths/~1pets~1{id}/get/parameters/1/schema/type", Some(10)),
            (
                "/paths/~1pets~1{id}/get/parameters/1/schema/enum/1",
                Some(10),
            ),
            (
                "/paths/~1pets~1{id}/get/responses/200/description",
                Some(13),
            ),
            ("/paths/~1pets~1{id}/get/parameters/2", Some(6)),
            ("/paths/~1pets~1{id}/get/requestBody", Some(5)),
            ("/paths/~1a\"b~0c/x-note/1/k", Some(16)),
            ("/components", Some(1)),
        ];
        for (pointer, want) in rows {
            assert_eq!(line_of(&f, pointer), want, "{pointer}");
        }
        // A member written twice is read with its last value, so its line is the last one's.
        let twice = SourceFile::new(
            "d.json".into(),
            "{\n  \"a\": 1,\n  \"a\": {\n    \"b\": 2\n  }\n}".into(),
            Syntax::Json,
        );
        assert_eq!(line_of(&twice, "/a"), Some(3));
        assert_eq!(line_of(&twice, "/a/b"), Some(4));
        // A minified document: every node is on line 1, found without searching the text.
        let minified: Value = serde_json::from_str(text).unwrap();
        let one_line = SourceFile::new("m.json".into(), minified.to_string(), Syntax::Json);
        for (pointer, _) in rows {
            assert_eq!(line_of(&one_line, pointer), Some(1), "{pointer}");
        }
    }

    #[test]
    fn finds_lines() {
        let f = yaml(
            "openapi: 3.0.0\npaths:\n  /pets:\n    get:\n      parameters:\n        - name: a\n          in: query\n        - name: b\n          in: query\n          schema:\n            type: strin\n        - {name: c, schema: {type: string}}\n",
        );
        let rows = [
            ("/openapi", Some(1)),
            ("/paths/~1pets/get", Some(4)),
            ("/paths/~1pets/get/parameters/1", Some(8)),
            ("/paths/~1pets/get/parameters/1/schema/type", Some(11)),
            ("/paths/~1pets/get/parameters/1/name", Some(8)),
            ("/paths/~1dogs", None),
            ("/paths/~1pets/get/parameters/2/schema", Some(12)),
            ("/paths/~1pets/get/parameters/2/schema/type", Some(12)),
        ];
        for (pointer, want) in rows {
            assert_eq!(line_of(&f, pointer), want, "{pointer}");
        }
    }
}
