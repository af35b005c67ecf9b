//! The served document while the views are compiled: an outline tree and JSON text.
//!
//! What the layer adds to the served document (see [`super::document`]) reads and edits few
//! places of it: the root's `info` and `servers`, each path item and operation's `servers`,
//! each operation's `responses` keys and its `default`/`4XX`/`5XX` entries, and the
//! `components` those entries and the problem answers name. Everything else — schemas,
//! parameters, bodies, examples, most response entries — is only written out. So while the
//! request view is made of the document's tree (changed in place, not copied), the served
//! document is kept as an [`Outline`]: a tree of the places the additions reach, in which every
//! other part is a placeholder string standing for that part's JSON text, written once into one
//! buffer. The text is the compact JSON the whole tree would have been written as, so the
//! served document comes out byte for byte the same; on a large document the outline and its
//! text are a small fraction of a second tree.
//!
//! A `$ref` in the outline's tree is followed by the additions (a path item's, a response's,
//! a header's): whatever it names is kept in the tree too, and so on from there.

use std::collections::HashMap;
use std::hash::BuildHasher as _;
use std::io;
use std::ops::Range;

use serde::Serialize as _;
use serde_json::ser::{CharEscape, Formatter};
use serde_json::{Map, Value};

use crate::spec::{WRITTEN_KEY, pointer};

/// What every placeholder begins with. No string or key of a document that gets an outline
/// holds it (checked), so a string that begins with it is a placeholder.
const MARKER: &str = "oasgate-aside-5b3d:";

/// The served document as the additions see it, and the text of what they never read.
pub(crate) struct Outline {
    tree: Value,
    aside: SetAside,
}

/// The JSON text of every part an outline set aside, by placeholder number.
pub(crate) struct SetAside {
    text: String,
    parts: Vec<Range<usize>>,
}

/// What the served document is built from: the whole tree, or an outline of it.
pub(crate) enum ServedTree {
    Whole(Value),
    Outline(Outline),
}

impl ServedTree {
    /// An outline of `doc` when one can stand for it, else a copy of the whole tree.
    /// `bundled`: the document is served bundled, which moves definitions between every part
    /// of it (the whole tree is kept).
    pub fn of(doc: &Value, bundled: bool) -> Self {
        match (!bundled).then(|| Outline::of(doc)).flatten() {
            Some(outline) => ServedTree::Outline(outline),
            None => ServedTree::Whole(doc.clone()),
        }
    }

    /// The tree the additions edit, with the text it sets aside. Every operation in
    /// `operations` (pointers) is in the tree; should one not be (no document known to do
    /// that), the whole tree is rebuilt from the text, so nothing the additions read is hidden.
    pub fn into_tree<'a>(
        self,
        mut operations: impl Iterator<Item = &'a str>,
    ) -> (Value, Option<SetAside>) {
        match self {
            ServedTree::Whole(tree) => (tree, None),
            ServedTree::Outline(outline) => {
                if operations
                    .all(|at| pointer::get(&outline.tree, at).is_some_and(Value::is_object))
                {
                    (outline.tree, Some(outline.aside))
                } else {
                    (outline.into_whole(), None)
                }
            }
        }
    }
}

/// Where a node is in the document, for what the additions may read below it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Root,
    Paths,
    PathItem,
    /// 3.2's `additionalOperations`: method → operation.
    Operations,
    Operation,
    /// An operation's `responses`.
    Responses,
    Components,
    /// `components/schemas`, or 2.0's `definitions`.
    Schemas,
    /// Anywhere else kept in the tree: a response, a header, a server, `info`.
    Other,
}

/// Members that hold nothing the additions read, wherever they are.
const NEVER_READ: [&str; 7] = [
    "schema",
    "examples",
    "example",
    "parameters",
    "requestBody",
    "callbacks",
    "links",
];

impl Place {
    /// Where the member `key` of a node here is, or `None` when it is set aside.
    fn member(self, key: &str) -> Option<Place> {
        let extension = crate::spec::is_extension(key);
        match self {
            Place::Root => match key {
                "paths" => Some(Place::Paths),
                "components" => Some(Place::Components),
                "definitions" => Some(Place::Schemas),
                // 2.0's shared responses, which an operation's range entry may name.
                "responses" | "servers" | "info" => Some(Place::Other),
                // Each file is set aside until a `$ref` in the tree names something in it.
                _ => None,
            },
            Place::Paths => (!extension).then_some(Place::PathItem),
            Place::PathItem => match key {
                "servers" => Some(Place::Other),
                "additionalOperations" => Some(Place::Operations),
                "parameters" => None,
                _ if extension => None,
                _ => Some(Place::Operation),
            },
            Place::Operations => Some(Place::Operation),
            Place::Operation => match key {
                "responses" => Some(Place::Responses),
                "servers" => Some(Place::Other),
                _ => None,
            },
            // Only the entries that cover a range are read; the others' keys are enough.
            Place::Responses => (key == "default"
                || key.eq_ignore_ascii_case("4XX")
                || key.eq_ignore_ascii_case("5XX"))
            .then_some(Place::Other),
            Place::Components => match key {
                "schemas" => Some(Place::Schemas),
                "responses" | "headers" | "pathItems" | "mediaTypes" => Some(Place::Other),
                _ => None,
            },
            // The problem schema is compared with the one the layer would add.
            Place::Schemas => (key == crate::problem::SCHEMA_NAME).then_some(Place::Other),
            Place::Other => (!extension && !NEVER_READ.contains(&key)).then_some(Place::Other),
        }
    }
}

/// Builds an outline: the tree, the parts set aside (written at the end: a part that a
/// `$ref` later brings back into the tree is never written), the `$ref`s met in the tree.
struct Builder<'d> {
    /// What each placeholder stands for, while building.
    pending: Vec<&'d Value>,
    /// Each `$ref` of the tree, with the place of the node that holds it.
    refs: Vec<(String, Place)>,
    /// A string or key of the tree holds the marker: no outline.
    clash: bool,
}

impl Outline {
    /// The outline of `doc`, or `None` when the whole tree must be kept: the root is not an
    /// object, the document holds the marker, or a reference rewritten from below a schema
    /// `$id` is to be written back (that walks every schema).
    fn of(doc: &Value) -> Option<Outline> {
        let Value::Object(_) = doc else {
            return None;
        };
        let mut builder = Builder {
            pending: Vec::new(),
            refs: Vec::new(),
            clash: false,
        };
        let mut tree = builder.outline(doc, Place::Root);
        while let Some((reference, place)) = builder.refs.pop() {
            builder.open(&mut tree, doc, &reference, place);
        }
        if builder.clash {
            return None;
        }
        let aside = builder.write_parts(&mut tree)?;
        if aside.text.contains(MARKER) || aside.text.contains(&format!("\"{WRITTEN_KEY}\"")) {
            return None;
        }
        Some(Outline { tree, aside })
    }

    /// The whole tree again.
    fn into_whole(self) -> Value {
        let mut text = Vec::new();
        let _ = self.aside.write(&self.tree, &mut text);
        serde_json::from_slice(&text).unwrap_or(self.tree)
    }
}

impl<'d> Builder<'d> {
    /// `node`, at `place`, with every member the additions never read set aside.
    fn outline(&mut self, node: &'d Value, place: Place) -> Value {
        match node {
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (key, value) in map {
                    self.clash |= key.contains(MARKER);
                    if key == "$ref"
                        && let Value::String(reference) = value
                        && reference.starts_with('#')
                    {
                        self.refs.push((reference.clone(), place));
                    }
                    let member = match place.member(key) {
                        Some(place) => self.outline(value, place),
                        None => self.set_aside(value, place),
                    };
                    out.insert(key.clone(), member);
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.outline(item, place)).collect())
            }
            Value::String(s) => {
                self.clash |= s.contains(MARKER);
                node.clone()
            }
            _ => node.clone(),
        }
    }

    /// A placeholder for `node`; a scalar or an empty object or array stays itself.
    fn set_aside(&mut self, node: &'d Value, place: Place) -> Value {
        let empty = match node {
            Value::Object(map) => map.is_empty(),
            Value::Array(items) => items.is_empty(),
            _ => true,
        };
        if empty {
            return self.outline(node, place);
        }
        self.pending.push(node);
        Value::String(format!("{MARKER}{}", self.pending.len() - 1))
    }

    /// `node` as a container of placeholders: a step on the way to what a `$ref` names.
    fn open_one_level(&mut self, node: &'d Value) -> Value {
        match node {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| {
                        self.clash |= key.contains(MARKER);
                        (key.clone(), self.set_aside(value, Place::Other))
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.set_aside(item, Place::Other))
                    .collect(),
            ),
            _ => node.clone(),
        }
    }

    /// Puts back into `tree` (from `doc`) the parts set aside on the way to what `reference`
    /// names, and that node itself, outlined as the referring node's place says (a path
    /// item's `$ref` names a path item; any other, a response, a header, …).
    fn open(&mut self, tree: &mut Value, doc: &'d Value, reference: &str, from: Place) {
        let at = pointer::percent_decoded(reference.trim_start_matches('#'));
        let (mut kept, mut whole) = (tree, doc);
        for segment in pointer::segments(&at) {
            if is_placeholder(kept) {
                *kept = self.open_one_level(whole);
            }
            let next = match (kept, whole) {
                (Value::Object(kept), Value::Object(whole)) => {
                    kept.get_mut(&segment).zip(whole.get(&segment))
                }
                (Value::Array(kept), Value::Array(whole)) => {
                    pointer::index(&segment).and_then(|i| kept.get_mut(i).zip(whole.get(i)))
                }
                _ => None,
            };
            let Some(next) = next else {
                return;
            };
            (kept, whole) = next;
        }
        if is_placeholder(kept) {
            let place = if from == Place::PathItem {
                Place::PathItem
            } else {
                Place::Other
            };
            *kept = self.outline(whole, place);
        }
    }

    /// Writes the text of every part still in `tree`, once per distinct text, and numbers
    /// the placeholders by part.
    fn write_parts(&self, tree: &mut Value) -> Option<SetAside> {
        struct Parts<'b, 'd> {
            pending: &'b [&'d Value],
            /// The part of each pending node written so far.
            numbers: Vec<Option<usize>>,
            text: Vec<u8>,
            parts: Vec<Range<usize>>,
            /// Part numbers by their text's hash: equal parts are one placeholder, so equal
            /// entries stay equal in the tree (the additions compare them by their text).
            known: HashMap<u64, usize>,
        }
        impl Parts<'_, '_> {
            fn number(&mut self, pending: usize) -> usize {
                if let Some(number) = self.numbers[pending] {
                    return number;
                }
                let start = self.text.len();
                // Writing a `Value` into a `Vec` cannot fail.
                let _ = serde_json::to_writer(&mut self.text, self.pending[pending]);
                let written = &self.text[start..];
                let hash = foldhash::fast::FixedState::default().hash_one(written);
                let number = match self.known.get(&hash) {
                    Some(&n) if self.text[self.parts[n].clone()] == *written => {
                        self.text.truncate(start);
                        n
                    }
                    known => {
                        let n = self.parts.len();
                        self.parts.push(start..self.text.len());
                        if known.is_none() {
                            self.known.insert(hash, n);
                        }
                        n
                    }
                };
                self.numbers[pending] = Some(number);
                number
            }
            fn renumber(&mut self, node: &mut Value) {
                match node {
                    Value::Object(map) => map.values_mut().for_each(|v| self.renumber(v)),
                    Value::Array(items) => items.iter_mut().for_each(|v| self.renumber(v)),
                    Value::String(s) => {
                        if let Some(pending) =
                            s.strip_prefix(MARKER).and_then(|n| n.parse::<usize>().ok())
                        {
                            *s = format!("{MARKER}{}", self.number(pending));
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut parts = Parts {
            pending: &self.pending,
            numbers: vec![None; self.pending.len()],
            text: Vec::new(),
            parts: Vec::new(),
            known: HashMap::new(),
        };
        parts.renumber(tree);
        let mut text = parts.text;
        text.shrink_to_fit();
        Some(SetAside {
            text: String::from_utf8(text).ok()?,
            parts: parts.parts,
        })
    }
}

fn is_placeholder(node: &Value) -> bool {
    matches!(node, Value::String(s) if s.starts_with(MARKER))
}

impl SetAside {
    /// The text of the part a placeholder string stands for.
    fn part(&self, placeholder: &str) -> Option<&str> {
        let number: usize = placeholder.strip_prefix(MARKER)?.parse().ok()?;
        self.text.get(self.parts.get(number)?.clone())
    }

    /// Whether any part's text holds `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.text.contains(needle)
    }

    /// Writes `node` as compact JSON, each placeholder as the text it stands for.
    pub fn write<W: io::Write>(&self, node: &Value, out: W) -> serde_json::Result<()> {
        let mut serializer = serde_json::Serializer::with_formatter(
            out,
            Filling {
                aside: self,
                opened: false,
                filled: false,
            },
        );
        node.serialize(&mut serializer)
    }
}

/// The compact formatter, except that a placeholder string is written as its part's text.
/// A string's opening quote waits for its first fragment: a placeholder has no quotes.
struct Filling<'a> {
    aside: &'a SetAside,
    /// A string began and nothing of it is written yet.
    opened: bool,
    /// The string being written was a placeholder, now written as its text.
    filled: bool,
}

impl Filling<'_> {
    fn quote_if_opened<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if std::mem::take(&mut self.opened) {
            writer.write_all(b"\"")?;
        }
        Ok(())
    }
}

impl Formatter for Filling<'_> {
    fn begin_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.opened = true;
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if self.opened
            && let Some(part) = self.aside.part(fragment)
        {
            self.opened = false;
            self.filled = true;
            return writer.write_all(part.as_bytes());
        }
        self.quote_if_opened(writer)?;
        writer.write_all(fragment.as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        self.quote_if_opened(writer)?;
        serde_json::ser::CompactFormatter.write_char_escape(writer, char_escape)
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if std::mem::take(&mut self.filled) {
            return Ok(());
        }
        self.quote_if_opened(writer)?;
        writer.write_all(b"\"")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::serve::document::{self, OperationFacts, ProblemStyle};
    use crate::serve::render::to_json;
    use crate::spec::{Document, methods};

    /// Every operation of `doc`, as the compiler places them (a path item's `$ref` followed).
    fn operations(doc: &Value) -> Vec<String> {
        let added = methods::is_3_2(doc.get("openapi"));
        let mut found = Vec::new();
        for (template, item) in doc["paths"].as_object().into_iter().flatten() {
            let mut at = pointer::join("/paths", template);
            let mut item = item;
            if let Some(target) = item.get("$ref").and_then(Value::as_str) {
                at = pointer::percent_decoded(target.trim_start_matches('#'));
                item = pointer::get(doc, &at).expect("path item reference");
            }
            found.extend(
                methods::operations(item, &at, added)
                    .into_iter()
                    .map(|op| op.at),
            );
        }
        found
    }

    /// The served JSON text of `doc` with the layer's additions, made from the whole tree or
    /// from its outline.
    fn served(
        doc: &Value,
        outline: bool,
        facts: &[OperationFacts],
        style: &ProblemStyle,
    ) -> String {
        let kept = if outline {
            ServedTree::of(doc, false)
        } else {
            ServedTree::Whole(doc.clone())
        };
        let (mut tree, aside) = kept.into_tree(facts.iter().map(|f| f.at.as_str()));
        document::add_problem_responses(&mut tree, facts, style);
        document::template_servers(&mut tree, "/api", "ORIGIN");
        let text = to_json(&tree, aside.as_ref()).text;
        // Measured before it is written: made once, at its size.
        assert_eq!(text.capacity(), text.len());
        text
    }

    fn nodes(node: &Value) -> usize {
        1 + match node {
            Value::Object(map) => map.values().map(nodes).sum(),
            Value::Array(items) => items.iter().map(nodes).sum(),
            _ => 0,
        }
    }

    const FIXTURES: [&str; 15] = [
        "digitalocean/specification/DigitalOcean-public.v2.yaml",
        "jobs.openapi.json",
        "local/methods-32.yaml",
        "local/girder-swagger2.yaml",
        "local/nullable30.yaml",
        "local/streams.yaml",
        "local/kitchen.yaml",
        "local/gate.yaml",
        "local/params32.yaml",
        "local/girder.yaml",
        "local/library-3.2.yaml",
        "local/documents32/openapi.yaml",
        "oai/v3.0-callback-example.yaml",
        "oai/v3.1-webhook-example.yaml",
        "oai/v3.0-uspto.yaml",
    ];

    /// The outline changes nothing that is served: every fixture, each operation with every
    /// problem answer and with none of the optional ones, comes out byte for byte as from the
    /// whole tree. An outline holds fewer nodes than the tree, a large document's far fewer.
    #[test]
    fn served_text_is_the_whole_trees() {
        let styles = [
            ProblemStyle {
                custom_format: false,
                verifier: true,
                unprocessable_bodies: true,
                forwards_upstream: false,
            },
            ProblemStyle {
                custom_format: true,
                verifier: false,
                unprocessable_bodies: false,
                forwards_upstream: true,
            },
        ];
        let mut whole = Vec::new();
        for name in FIXTURES {
            let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
            let doc = Document::from_path(&path).unwrap().as_json().clone();
            let ats = operations(&doc);
            // The webhook example has webhooks only.
            assert!(
                !ats.is_empty() || name.contains("webhook"),
                "{name}: no operation found"
            );
            for (style, all) in styles.iter().zip([true, false]) {
                let facts: Vec<OperationFacts> = ats
                    .iter()
                    .map(|at| OperationFacts {
                        at: at.clone(),
                        secured: all,
                        body_declared: all,
                        body_read: all,
                        responses_enforced: all,
                    })
                    .collect();
                let whole = served(&doc, false, &facts, style);
                let outline = served(&doc, true, &facts, style);
                assert!(whole == outline, "{name}: the outline's text differs");
            }
            match ServedTree::of(&doc, false) {
                ServedTree::Whole(_) => whole.push(name),
                ServedTree::Outline(outline) => {
                    let (kept, all) = (nodes(&outline.tree), nodes(&doc));
                    // DigitalOcean: 25.6 k of 75.5 k nodes.
                    let most = if name.starts_with("digitalocean") {
                        all / 2
                    } else {
                        all
                    };
                    assert!(kept < most, "{name}: {kept} of {all} nodes kept");
                }
            }
        }
        // The documents with schema `$id`s, whose references are written back as written.
        assert_eq!(
            whole,
            ["local/library-3.2.yaml", "local/documents32/openapi.yaml"]
        );
    }

    /// What a `$ref` in the outline names is put back, wherever it is: a range entry naming a
    /// set-aside status entry, a path item in `webhooks`, a header under an extension, through
    /// percent-encoding and an array index.
    #[test]
    fn what_references_in_the_tree_name_is_kept() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/a": {"$ref": "#/webhooks/hook"},
                "/b": {"get": {"responses": {
                    "200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "4XX": {"$ref": "#/paths/~1b/get/responses/200"},
                    "5xx": {"description": "e", "headers": {"X-A": {"$ref": "#/x-h/0/%7Bh%7D"}}}
                }}}
            },
            "webhooks": {"hook": {"post": {"responses": {"default": {"description": "d"}}}}},
            "x-h": [{"{h}": {"description": "h", "required": true, "schema": {"type": "integer"}}}]
        });
        let ServedTree::Outline(outline) = ServedTree::of(&doc, false) else {
            panic!("no outline");
        };
        for at in [
            "/webhooks/hook/post/responses/default",
            "/paths/~1b/get/responses/200/description",
            "/x-h/0/{h}/required",
        ] {
            assert!(pointer::get(&outline.tree, at).is_some(), "{at} not kept");
        }
        // Set aside: schemas and what nothing names.
        for at in [
            "/paths/~1b/get/responses/200/content/text~1plain/schema",
            "/x-h/0/{h}/schema",
        ] {
            let node = pointer::get(&outline.tree, at);
            assert!(node.is_some_and(is_placeholder), "{at}: {node:?}");
        }
    }

    /// Equal parts are one placeholder (they are written once), and a document whose strings or
    /// keys hold the marker, or that has references to write back as written, keeps its tree.
    #[test]
    fn equal_parts_share_a_placeholder_and_clashes_keep_the_tree() {
        let doc = json!({
            "openapi": "3.0.3",
            "paths": {"/a": {"get": {"responses": {
                "200": {"description": "a", "content": {"a/b": {"schema": {"type": "string"}}}},
                "201": {"description": "a", "content": {"a/b": {"schema": {"type": "string"}}}}
            }}}}
        });
        let ServedTree::Outline(outline) = ServedTree::of(&doc, false) else {
            panic!("no outline");
        };
        let responses = &outline.tree["paths"]["/a"]["get"]["responses"];
        assert!(is_placeholder(&responses["200"]));
        assert_eq!(responses["200"], responses["201"]);
        assert_eq!(outline.aside.parts.len(), 1);
        for clash in [
            json!({"paths": {}, "info": {"title": format!("{MARKER}0")}}),
            json!({"paths": {}, "tags": [{"name": format!("x {MARKER}")}]}),
            json!({"paths": {}, "info": {format!("{MARKER}0"): 1}}),
            // A key in a level opened on the way to what a `$ref` names.
            json!({"paths": {"/a": {"$ref": "#/x/y"}}, "x": {format!("{MARKER}0"): 1, "y": {}}}),
            json!({"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"A": {
                "$ref": "#/x", WRITTEN_KEY: "a.json"}}}}),
            json!([1, 2]),
        ] {
            assert!(
                matches!(ServedTree::of(&clash, false), ServedTree::Whole(_)),
                "{clash}"
            );
        }
        assert!(matches!(ServedTree::of(&doc, true), ServedTree::Whole(_)));
    }

    /// A placeholder is written as its text; every other string exactly as `serde_json`
    /// writes it: escapes, an empty string, non-ASCII, a string that merely looks like a
    /// placeholder's number.
    #[test]
    fn the_filling_writer_writes_what_serde_json_writes() {
        let doc = json!({
            "info": {"title": "t\"\\\n\u{1}é", "version": ""},
            "paths": {"/\"": {"get": {"summary": "\t", "responses": {"200": [1, {"\u{7f}": "x"}]}}}},
            "servers": [{"url": "", "description": "0"}]
        });
        let ServedTree::Outline(outline) = ServedTree::of(&doc, false) else {
            panic!("no outline");
        };
        let mut text = Vec::new();
        outline.aside.write(&outline.tree, &mut text).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), doc.to_string());
        assert_eq!(outline.into_whole(), doc);
    }

    /// An operation the tree does not hold (no document known makes one) has the whole tree
    /// rebuilt from the text, additions and all.
    #[test]
    fn an_operation_outside_the_tree_brings_the_whole_tree_back() {
        let doc = json!({
            "openapi": "3.0.3",
            "paths": {},
            "x-ops": {"get": {"responses": {"200": {"description": "ok"}}}}
        });
        let kept = ServedTree::of(&doc, false);
        assert!(matches!(kept, ServedTree::Outline(_)));
        let (tree, aside) = kept.into_tree(["/x-ops/get"].into_iter());
        assert!(aside.is_none());
        assert_eq!(tree, doc);
    }
}
