//! JSON bodies checked as they are read: the schema shapes request bodies usually have,
//! walked over the text without building a [`Value`](serde_json::Value).
//!
//! The walk only ever answers "valid" or "not sure". Anything it does not handle, at start-up
//! (a keyword outside its set) or per request (a value that breaks a keyword, text that is
//! not JSON, nesting past the limit), sends the body down the full path — parse, jsonschema,
//! a problem naming every violation — so the rich path alone decides what a client is told.
//! A valid body costs one pass of the parser and no allocation.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::schema::FORMATS;
use crate::params::{Scalar, SimpleSchema, format_checker};
use crate::pattern::Patterns;
use crate::spec::pointer;

/// Every format jsonschema checks by itself (those oasgate registers its own check for
/// included): the walk may take a format only where both paths agree.
const JSONSCHEMA_FORMATS: [&str; 19] = [
    "date",
    "date-time",
    "duration",
    "email",
    "hostname",
    "idn-email",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "iri",
    "iri-reference",
    "json-pointer",
    "regex",
    "relative-json-pointer",
    "time",
    "uri",
    "uri-reference",
    "uri-template",
    "uuid",
];

/// Whether the walk checks `format` as jsonschema does: with the same registered function,
/// or not at all (a format neither side knows, or one oasgate accepts everything for).
fn format_agrees(format: &str) -> bool {
    if FORMATS.contains(&format) {
        return true;
    }
    !JSONSCHEMA_FORMATS.contains(&format)
        && (format_checker(format).is_none() || matches!(format, "password" | "binary"))
}

/// Keywords that never change whether a value is valid.
const ANNOTATIONS: [&str; 12] = [
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "$comment",
    "discriminator",
];

/// Keywords of one value checked by [`SimpleSchema`].
const SCALAR_KEYWORDS: [&str; 12] = [
    "type",
    "format",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "nullable",
];

/// Assertions whose outcome depends on the value and their own argument alone, never on a
/// keyword beside them (unlike `additionalProperties`, which reads `properties`; JSON Schema
/// 2020-12 Validation §6).
const SELF_CONTAINED: [&str; 12] = [
    "type",
    "format",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "required",
];

/// The node every value passes.
const ANY: usize = 0;
/// The node no value passes (`false`, or a read-only property's `not: {}`).
const NEVER: usize = 1;

/// A schema compiled for the walk over JSON text: its root in the node table of the whole
/// document, which every body's check shares (see [`StreamBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct StreamCheck {
    /// Set once, when the build of the document ends; until then (or if it never does) the
    /// walk is unsure of everything.
    nodes: Arc<OnceLock<Box<[Node]>>>,
    root: usize,
}

#[derive(Debug, Default)]
struct Node {
    /// Type, `enum`, `const`, bounds, lengths, `pattern` and `format`.
    scalar: SimpleSchema,
    /// Sorted by [`by_length_then_bytes`].
    properties: Vec<Property>,
    /// How many properties are required (their bits are `0..required`).
    required: u32,
    /// The node of undeclared properties; `None` when `additionalProperties: false`.
    additional: Option<usize>,
    items: usize,
    min_items: Option<u64>,
    max_items: Option<u64>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
}

#[derive(Debug)]
struct Property {
    name: Box<str>,
    node: usize,
    /// The property's bit in the set of required ones seen, when it is required.
    required_bit: Option<u32>,
}

impl StreamCheck {
    /// Compiles the schema at `at` in the request view, or `None` when it uses a keyword the
    /// walk does not handle (the body then always takes the full path).
    #[cfg(test)]
    pub fn compile(view: &Value, at: &str, patterns: &Patterns) -> Option<StreamCheck> {
        let mut builder = StreamBuilder::new(view, patterns.clone());
        let check = builder.compile(at);
        builder.finish();
        check
    }

    /// Whether `text` is JSON nested at most `max_depth` levels that the schema surely
    /// accepts. `false` means only "not sure": the caller takes the full path.
    pub fn accepts(&self, text: &[u8], max_depth: usize) -> bool {
        // Checked whole once: reading from a `str`, the parser does not check string by string.
        let Ok(text) = std::str::from_utf8(text) else {
            return false;
        };
        let Some(nodes) = self.nodes.get() else {
            return false;
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let walk = Walk {
            nodes,
            node: self.root,
            levels_left: max_depth,
        };
        walk.deserialize(&mut de).is_ok() && de.end().is_ok()
    }
}

/// Compiles the stream checks of one document into one node table: a schema that many
/// bodies reach (through `$ref`s, however deep) is compiled once, not once per body.
pub(crate) struct StreamBuilder<'v> {
    view: &'v Value,
    patterns: Patterns,
    nodes: Vec<Node>,
    /// Pointer → node, so a schema reached twice (or recursively) is compiled once.
    compiled: HashMap<String, usize>,
    /// `$ref`s being followed, to refuse a chain of them that only points at itself.
    following: Vec<String>,
    /// The table the checks handed out read, filled by [`StreamBuilder::finish`].
    table: Arc<OnceLock<Box<[Node]>>>,
    /// Schemas (a body's own, or the one its plain `$ref` names) the walk could not take:
    /// not compiled again for the next body that names them.
    failed: HashSet<String>,
}

impl<'v> StreamBuilder<'v> {
    pub fn new(view: &'v Value, patterns: Patterns) -> Self {
        let mut nodes = vec![Node::default(), Node::default()];
        // `NEVER` takes no type at all.
        nodes[NEVER].scalar = SimpleSchema::compile(&serde_json::json!({"enum": []}))
            .expect("an empty enum is a simple schema");
        StreamBuilder {
            view,
            patterns,
            nodes,
            compiled: HashMap::new(),
            following: Vec::new(),
            table: Arc::default(),
            failed: HashSet::new(),
        }
    }

    /// Compiles the schema at `at` in the request view, or `None` when it uses a keyword the
    /// walk does not handle (the body then always takes the full path). The check reads its
    /// nodes once [`StreamBuilder::finish`] has run.
    pub fn compile(&mut self, at: &str) -> Option<StreamCheck> {
        let schema = pointer::get(self.view, at)?;
        let key = match (pointer::local_ref(schema), schema.as_object()) {
            (Some(target), Some(map))
                if map
                    .keys()
                    .all(|k| k == "$ref" || is_annotation(k) || k.starts_with("x-")) =>
            {
                target
            }
            _ => at.to_owned(),
        };
        if self.failed.contains(&key) {
            return None;
        }
        let mark = self.nodes.len();
        match self.node(at) {
            Some(root) => Some(StreamCheck {
                nodes: self.table.clone(),
                root,
            }),
            None => {
                // Nodes of this attempt may point at ones left unfinished (a failure stops
                // the build of every node on the way down): all of them go. Nodes of earlier
                // attempts were finished, and never point at later ones.
                self.nodes.truncate(mark);
                self.compiled.retain(|_, index| *index < mark);
                self.following.clear();
                self.failed.insert(key);
                None
            }
        }
    }

    /// Hands the node table to every check compiled.
    pub fn finish(&mut self) {
        let _ = self
            .table
            .set(std::mem::take(&mut self.nodes).into_boxed_slice());
        self.compiled = HashMap::new();
        self.failed = HashSet::new();
    }

    fn node(&mut self, at: &str) -> Option<usize> {
        if let Some(&index) = self.compiled.get(at) {
            return Some(index);
        }
        let schema = pointer::get(self.view, at)?;
        let map = match schema {
            Value::Bool(true) => return Some(ANY),
            Value::Bool(false) => return Some(NEVER),
            Value::Object(map) => map,
            _ => return None,
        };
        if map.is_empty() {
            return Some(ANY);
        }
        if let Some(target) = pointer::local_ref(schema) {
            // A `$ref` beside keywords that validate applies both (JSON Schema 2020-12 Core
            // §8.2.3.1), so only annotations are taken, and keywords the target asserts
            // itself with the same value (`{"$ref": "#/definitions/Relation", "type":
            // "object"}`, as generated 2.0 documents write it): asserting one twice is
            // asserting it once.
            let target_schema = pointer::get(self.view, &target);
            let adds_nothing = map.iter().all(|(k, v)| {
                k == "$ref"
                    || is_annotation(k)
                    || k.starts_with("x-")
                    || (SELF_CONTAINED.contains(&k.as_str())
                        && target_schema.and_then(|t| t.get(k)) == Some(v))
            });
            if !adds_nothing {
                return None;
            }
            // A schema met again through a cycle of `$ref`s (`Folder.children: [Folder]`) has
            // its node already: the walk reads a finite value, so a cycle of nodes is fine.
            // Only a chain of `$ref`s that comes back to itself with no schema between is
            // refused (it describes nothing).
            if let Some(&index) = self.compiled.get(&target) {
                self.compiled.insert(at.to_owned(), index);
                return Some(index);
            }
            if self.following.contains(&target) {
                return None;
            }
            self.following.push(target.clone());
            let index = self.node(&target);
            self.following.pop();
            self.compiled.insert(at.to_owned(), index?);
            return index;
        }
        if let Some(Value::Array(all)) = map.get("allOf")
            && map
                .keys()
                .all(|k| k == "allOf" || is_annotation(k) || k.starts_with("x-"))
        {
            // `allOf` of one schema beside ones that only annotate (`[{"$ref": …},
            // {"description": …}]`, how generated documents describe a referenced property)
            // is that one schema; any other combination is left to jsonschema.
            let checking: Vec<usize> = (0..all.len())
                .filter(|&i| !checks_nothing(&all[i]))
                .collect();
            let index = match checking[..] {
                [] => ANY,
                [only] => {
                    let member = format!("{}/{only}", pointer::join(at, "allOf"));
                    self.node(&member)?
                }
                _ => return self.merged_objects(at),
            };
            self.compiled.insert(at.to_owned(), index);
            return Some(index);
        }
        if map.contains_key("allOf") {
            return self.merged_objects(at);
        }
        if map
            .get("not")
            .is_some_and(|n| n.as_object().is_some_and(Map::is_empty))
        {
            // Read-only properties become `{"not": {}}` in the request view.
            let rest_is_annotation = map
                .keys()
                .all(|k| k == "not" || is_annotation(k) || k.starts_with("x-"));
            return rest_is_annotation.then_some(NEVER);
        }
        let index = self.nodes.len();
        self.nodes.push(Node::default());
        self.compiled.insert(at.to_owned(), index);
        let node = self.compile_node(at, map)?;
        self.nodes[index] = node;
        Some(index)
    }

    fn compile_node(&mut self, at: &str, map: &Map<String, Value>) -> Option<Node> {
        let mut node = Node {
            additional: Some(ANY),
            items: ANY,
            ..Node::default()
        };
        let mut scalar = Map::new();
        let mut required: Vec<&str> = Vec::new();
        for (key, value) in map {
            match key.as_str() {
                "properties" => {
                    let at = pointer::join(at, "properties");
                    for name in value.as_object()?.keys() {
                        let child = self.node(&pointer::join(&at, name))?;
                        node.properties.push(Property {
                            name: name.as_str().into(),
                            node: child,
                            required_bit: None,
                        });
                    }
                }
                "required" => {
                    for name in value.as_array()? {
                        required.push(name.as_str()?);
                    }
                }
                "additionalProperties" => {
                    node.additional = match value {
                        Value::Bool(false) => None,
                        _ => Some(self.node(&pointer::join(at, key))?),
                    }
                }
                "items" => node.items = self.node(&pointer::join(at, key))?,
                "minItems" => node.min_items = Some(value.as_u64()?),
                "maxItems" => node.max_items = Some(value.as_u64()?),
                "minProperties" => node.min_properties = Some(value.as_u64()?),
                "maxProperties" => node.max_properties = Some(value.as_u64()?),
                "uniqueItems" if value == &Value::Bool(false) => {}
                "format" => {
                    if !format_agrees(value.as_str()?) {
                        return None;
                    }
                    scalar.insert(key.clone(), value.clone());
                }
                k if SCALAR_KEYWORDS.contains(&k) => {
                    scalar.insert(key.clone(), value.clone());
                }
                k if is_annotation(k) || k.starts_with("x-") => {}
                // `multipleOf`, `allOf`, `patternProperties`, `minProperties`, …: left to
                // jsonschema, whose number and combination semantics decide.
                _ => return None,
            }
        }
        node.scalar = SimpleSchema::compile_with(&Value::Object(scalar), &self.patterns)?;
        node.settle(required)?;
        Some(node)
    }

    /// The node of an `allOf` whose parts (the schema holding it, and each member, through
    /// plain `$ref`s and nested `allOf`s) only describe objects by `properties`, `required`
    /// and `type: object`, with no `additionalProperties` limit and no property named by two
    /// parts: how generated documents extend a base (`{"allOf": [{"$ref":
    /// "#/definitions/Resource"}], "properties": {…}}`). A value passes every part exactly
    /// when it passes one node holding every part's properties, the union of their `required`,
    /// and `type: object` if a part says so: each member is checked by the one part declaring
    /// it and allowed by the others, which limit nothing else. Any other `allOf` is left to
    /// jsonschema.
    fn merged_objects(&mut self, at: &str) -> Option<usize> {
        let view: &'v Value = self.view;
        let mut parts = Vec::new();
        object_parts(view, at, &mut parts, 0)?;
        let mut typed = false;
        let mut properties: Vec<(&'v str, String)> = Vec::new();
        let mut required: Vec<&'v str> = Vec::new();
        for part in &parts {
            for (key, value) in pointer::get(view, part)?.as_object()? {
                match key.as_str() {
                    "allOf" => {}
                    "type" if value == "object" => typed = true,
                    "properties" => {
                        let holder = pointer::join(part, "properties");
                        for name in value.as_object()?.keys() {
                            if properties.iter().any(|(seen, _)| seen == name) {
                                return None;
                            }
                            properties.push((name, pointer::join(&holder, name)));
                        }
                    }
                    "required" => {
                        for name in value.as_array()? {
                            required.push(name.as_str()?);
                        }
                    }
                    "additionalProperties" if checks_nothing(value) => {}
                    k if is_annotation(k) || k.starts_with("x-") => {}
                    _ => return None,
                }
            }
        }
        let index = self.nodes.len();
        self.nodes.push(Node::default());
        self.compiled.insert(at.to_owned(), index);
        let mut node = Node {
            additional: Some(ANY),
            items: ANY,
            ..Node::default()
        };
        if typed {
            node.scalar = SimpleSchema::compile(&serde_json::json!({"type": "object"}))?;
        }
        for (name, member) in properties {
            let child = self.node(&member)?;
            node.properties.push(Property {
                name: name.into(),
                node: child,
                required_bit: None,
            });
        }
        node.settle(required)?;
        self.nodes[index] = node;
        Some(index)
    }
}

/// Collects the schemas an `allOf` at `at` asks a value to pass, as pointers: the schema
/// itself, and each member's, through plain `$ref`s (nothing but annotations beside them) and
/// nested `allOf`s. `None` when a member is not an object schema or the nesting runs deep
/// (a cycle).
fn object_parts(view: &Value, at: &str, parts: &mut Vec<String>, depth: usize) -> Option<()> {
    if depth > 16 {
        return None;
    }
    let schema = pointer::get(view, at)?;
    if schema == &Value::Bool(true) {
        return Some(());
    }
    let map = schema.as_object()?;
    if let Some(target) = pointer::local_ref(schema) {
        let plain = map
            .keys()
            .all(|k| k == "$ref" || is_annotation(k) || k.starts_with("x-"));
        return if plain {
            object_parts(view, &target, parts, depth + 1)
        } else {
            None
        };
    }
    parts.push(at.to_owned());
    if let Some(members) = map.get("allOf") {
        let holder = pointer::join(at, "allOf");
        for i in 0..members.as_array()?.len() {
            object_parts(view, &format!("{holder}/{i}"), parts, depth + 1)?;
        }
    }
    Some(())
}

impl Node {
    /// Marks the `required` names (each once) among the properties, adding a property for a
    /// required name none declares (what `additionalProperties` says applies to it), and
    /// orders the properties for lookup. `None` past 64 required names.
    fn settle(&mut self, mut required: Vec<&str>) -> Option<()> {
        required.sort_unstable();
        required.dedup();
        if required.len() > 64 {
            return None;
        }
        for (bit, name) in required.iter().enumerate() {
            let bit = Some(bit as u32);
            match self.properties.iter_mut().find(|p| &*p.name == *name) {
                Some(property) => property.required_bit = bit,
                None => self.properties.push(Property {
                    name: (*name).into(),
                    node: self.additional?,
                    required_bit: bit,
                }),
            }
        }
        self.required = required.len() as u32;
        self.properties
            .sort_unstable_by(|a, b| by_length_then_bytes(&a.name, &b.name));
        Some(())
    }
}

/// Names ordered by length first: most comparisons in a lookup end without reading a byte.
fn by_length_then_bytes(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

fn is_annotation(key: &str) -> bool {
    ANNOTATIONS.contains(&key)
}

/// Whether `schema` accepts every value: `true`, or an object of annotations only.
fn checks_nothing(schema: &Value) -> bool {
    match schema {
        Value::Bool(accepts) => *accepts,
        Value::Object(map) => map.keys().all(|k| is_annotation(k) || k.starts_with("x-")),
        _ => false,
    }
}

/// Not sure: the walk stops and the body takes the full path. Only ever built on that path.
fn unsure<E: de::Error>() -> E {
    E::custom("not checked here")
}

/// Reads one value against one node.
#[derive(Clone, Copy)]
struct Walk<'c> {
    nodes: &'c [Node],
    node: usize,
    levels_left: usize,
}

impl Walk<'_> {
    fn node(&self) -> &Node {
        &self.nodes[self.node]
    }

    fn scalar<E: de::Error>(self, value: Scalar<'_>) -> Result<(), E> {
        if self.node == ANY || self.node().scalar.accepts_scalar(value) {
            Ok(())
        } else {
            Err(unsure())
        }
    }

    /// The walk one level down, into `node`.
    fn enter<E: de::Error>(self, object: bool) -> Result<Self, E> {
        let admitted = self.node == ANY || self.node().scalar.admits_container(object);
        match self.levels_left.checked_sub(1) {
            Some(levels_left) if admitted => Ok(Walk {
                levels_left,
                ..self
            }),
            _ => Err(unsure()),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(Scalar::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Scalar::Number(&Number::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(Scalar::Number(&Number::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        match Number::from_f64(v) {
            Some(n) => self.scalar(Scalar::Number(&n)),
            None => Err(unsure()),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Scalar::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let walk = self.enter(false)?;
        let (items, min, max) = if self.node == ANY {
            (ANY, None, None)
        } else {
            let node = self.node();
            (node.items, node.min_items, node.max_items)
        };
        let item = Walk {
            node: items,
            ..walk
        };
        let mut count: u64 = 0;
        while seq.next_element_seed(item)?.is_some() {
            count += 1;
        }
        if min.is_some_and(|min| count < min) || max.is_some_and(|max| count > max) {
            return Err(unsure());
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let walk = self.enter(true)?;
        // A member name given twice makes the walk unsure, so the full path refuses it.
        let mut names = Names::None;
        if self.node == ANY {
            while let Some(found) = map.next_key_seed(Key(&[]))? {
                match found {
                    Found::Other(name) => names.insert(name)?,
                    _ => return Err(unsure()),
                }
                map.next_value_seed(Walk { node: ANY, ..walk })?;
            }
            return Ok(());
        }
        let node = self.node();
        // The first 64 declared properties seen, one bit each (`names` keeps the others),
        // and the required ones seen.
        let mut seen: u64 = 0;
        let mut seen_required: u64 = 0;
        // Members, each name once (a repeated name made the walk unsure).
        let mut members: u64 = 0;
        while let Some(found) = map.next_key_seed(Key(&node.properties))? {
            members += 1;
            let child = match found {
                Found::Declared(index) => {
                    let property = &node.properties[index];
                    if let Some(bit) = property.required_bit {
                        seen_required |= 1 << bit;
                    }
                    if index < 64 {
                        let bit = 1u64 << index;
                        if seen & bit != 0 {
                            return Err(unsure());
                        }
                        seen |= bit;
                    } else {
                        names.insert(&property.name)?;
                    }
                    property.node
                }
                Found::Other(name) => {
                    names.insert(name)?;
                    node.additional.ok_or_else(unsure)?
                }
                Found::Escaped => return Err(unsure()),
            };
            map.next_value_seed(Walk {
                node: child,
                ..walk
            })?;
        }
        let all = if node.required == 64 {
            u64::MAX
        } else {
            (1u64 << node.required) - 1
        };
        if seen_required != all
            || node.min_properties.is_some_and(|min| members < min)
            || node.max_properties.is_some_and(|max| members > max)
        {
            return Err(unsure());
        }
        Ok(())
    }
}

/// A member name as the walk found it.
#[derive(Clone, Copy)]
enum Found<'de> {
    /// The declared property at this index.
    Declared(usize),
    /// Not declared, as written in the text.
    Other(&'de str),
    /// Not declared, and written with escapes: not kept, so not compared.
    Escaped,
}

/// Reads a key and finds it among the declared properties, without copying it.
struct Key<'p>(&'p [Property]);

impl Key<'_> {
    fn declared(&self, name: &str) -> Option<usize> {
        self.0
            .binary_search_by(|p| by_length_then_bytes(&p.name, name))
            .ok()
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Found<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }

    /// A name without escapes, borrowed from the text.
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Found<'de>, E> {
        Ok(self.declared(v).map_or(Found::Other(v), Found::Declared))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Found<'de>, E> {
        Ok(self.declared(v).map_or(Found::Escaped, Found::Declared))
    }
}

/// Member names of one object read so far that the walk's bits do not cover (names not
/// declared, declared ones past the 64th), to find one given twice (RFC 8259 §4: "The names
/// within an object SHOULD be unique").
///
/// Names are kept borrowed, the first [`INLINE_NAMES`] on the stack, the rest in a set: nothing
/// is set up until the first one, and nothing allocated for up to eight.
enum Names<'n> {
    None,
    Inline([&'n str; INLINE_NAMES], usize),
    Spilled(std::collections::HashSet<&'n str>),
}

const INLINE_NAMES: usize = 8;

impl<'n> Names<'n> {
    /// Notes a name; "not sure" when it was seen before.
    fn insert<E: de::Error>(&mut self, name: &'n str) -> Result<(), E> {
        match self {
            Names::None => {
                let mut inline = [""; INLINE_NAMES];
                inline[0] = name;
                *self = Names::Inline(inline, 1);
            }
            Names::Inline(inline, len) => {
                if inline[..*len].contains(&name) {
                    return Err(unsure());
                }
                if *len < INLINE_NAMES {
                    inline[*len] = name;
                    *len += 1;
                } else {
                    let mut set: std::collections::HashSet<&'n str> =
                        inline.iter().copied().collect();
                    set.insert(name);
                    *self = Names::Spilled(set);
                }
            }
            Names::Spilled(set) => {
                if !set.insert(name) {
                    return Err(unsure());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::schema::Compiler;

    /// The jsonschema path over `view`: what the walk must agree with.
    fn full_path(view: &Value) -> Compiler {
        let shared = std::sync::Arc::new(view.clone());
        let engine = super::super::schema::Engine::new(&shared, &[]);
        let registry = Compiler::registry(&engine).unwrap();
        Compiler::new(registry, &engine, shared, Patterns::default())
    }

    /// Each text through the walk of the schema at `at` (which must take it) and through
    /// jsonschema: both say `valid`.
    fn assert_both_paths(view: &Value, at: &str, rows: &[(&str, bool)]) {
        let walk = StreamCheck::compile(view, at, &Patterns::default())
            .unwrap_or_else(|| panic!("{at} is walked"));
        let full = full_path(view).compile(at).unwrap();
        for &(text, valid) in rows {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(full.is_valid(&value), valid, "jsonschema: {at} on {text}");
            assert_eq!(
                walk.accepts(text.as_bytes(), 64),
                valid,
                "walk: {at} on {text}"
            );
        }
    }

    /// The walk refuses each schema of `ats`: jsonschema checks those bodies.
    fn assert_left_to_jsonschema(view: &Value, ats: &[&str]) {
        for at in ats {
            assert!(
                StreamCheck::compile(view, at, &Patterns::default()).is_none(),
                "{at}"
            );
        }
    }

    /// Every body of the table, through the walk and through jsonschema: the walk may be
    /// unsure of a valid body, never sure of an invalid one.
    #[test]
    fn the_walk_never_accepts_what_jsonschema_refuses() {
        let view = json!({
            "components": {"schemas": {
                "Item": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["sku", "lines"],
                    "properties": {
                        "sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
                        "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 4},
                        "price": {"type": "integer", "minimum": 0, "exclusiveMaximum": 100},
                        "ratio": {"type": "number", "maximum": 1.5},
                        "kind": {"enum": ["a", "b", 3]},
                        "when": {"type": "string", "format": "date-time"},
                        "span": {"type": "string", "format": "duration"},
                        "id": {"$ref": "#/components/schemas/Id", "description": "the id"},
                        "lines": {"type": "array", "minItems": 1, "maxItems": 2,
                                  "items": {"$ref": "#/components/schemas/Line"}},
                        "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "secret": {"not": {}, "x-oasgate-read-only": true},
                        "anything": {},
                        "next": {"$ref": "#/components/schemas/Item"},
                        "role": {"allOf": [{"$ref": "#/components/schemas/Arn"},
                                           {"description": "the role"}]},
                        "note": {"allOf": [{"description": "free text"}], "title": "note"}
                    }
                },
                "Arn": {"type": "string", "pattern": "^arn:", "maxLength": 12},
                "Id": {"type": "string", "format": "uuid"},
                "Line": {"type": "object", "required": ["q"], "properties": {"q": {"const": 1}}}
            }}
        });
        let at = "/components/schemas/Item";
        let walk = StreamCheck::compile(&view, at, &Patterns::default())
            .expect("the walk handles these keywords");
        let full = full_path(&view).compile(at).unwrap();
        // A valid item plus `extra` members, or a whole body as written.
        let item = |extra: &str| format!(r#"{{"sku": "ABC-1234", "lines": [{{"q": 1}}]{extra}}}"#);
        let whole = |text: &str| text.to_owned();
        let table: Vec<(String, bool)> = vec![
            (item(""), true),
            (whole(r#"{"sku": "ABC-123", "lines": [{"q": 1}]}"#), false),
            (whole(r#"{"sku": "ABC-١٢٣٤", "lines": [{"q": 1}]}"#), false),
            (whole(r#"{"sku": "ABC-1234"}"#), false),
            (whole(r#"{"sku": "ABC-1234", "lines": []}"#), false),
            (
                whole(r#"{"sku": "ABC-1234", "lines": [{"q": 1}, {"q": 1.0}]}"#),
                true,
            ),
            (whole(r#"{"sku": "ABC-1234", "lines": [{"q": 2}]}"#), false),
            (
                whole(r#"{"sku": "ABC-1234", "lines": [{"q": 1}, {"q": 1}, {"q": 1}]}"#),
                false,
            ),
            (whole(r#"{"sku": "ABC-1234", "lines": [{}]}"#), false),
            (item(r#", "extra": 1"#), false),
            (item(r#", "name": null"#), true),
            (item(r#", "name": "ab\u00e9c""#), true),
            (item(r#", "name": "abcde""#), false),
            (item(r#", "name": """#), false),
            (item(r#", "name": 5"#), false),
            (item(r#", "price": 99"#), true),
            (item(r#", "price": 100"#), false),
            (item(r#", "price": -1"#), false),
            (item(r#", "price": 5.0"#), true),
            (item(r#", "price": 5.5"#), false),
            (item(r#", "ratio": 1.5"#), true),
            (item(r#", "ratio": 1.51"#), false),
            (item(r#", "kind": 3.0"#), true),
            (item(r#", "kind": "c""#), false),
            (item(r#", "when": "2024-01-02T03:04:05Z""#), true),
            (item(r#", "when": "yesterday""#), false),
            (item(r#", "span": "P1DT12H""#), true),
            (item(r#", "span": "PT1H1S""#), false),
            (
                item(r#", "id": "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30""#),
                true,
            ),
            (item(r#", "id": "9cc10173""#), false),
            (item(r#", "meta": {"a": 1, "b": 2}"#), true),
            (item(r#", "meta": {"a": "1"}"#), false),
            (item(r#", "secret": 1"#), false),
            (item(r#", "anything": [{"x": [null]}]"#), true),
            (
                item(r#", "next": {"sku": "XYZ-0000", "lines": [{"q": 1}]}"#),
                true,
            ),
            (item(r#", "next": {"sku": "XYZ-0000"}"#), false),
            (item(r#", "role": "arn:aws:x""#), true),
            (item(r#", "role": "role""#), false),
            (item(r#", "role": "arn:aws:iam::1""#), false),
            (item(r#", "role": 7"#), false),
            (item(r#", "note": [1, {"a": null}]"#), true),
        ];
        for (text, valid) in &table {
            let valid = *valid;
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(full.is_valid(&value), valid, "jsonschema on {text}");
            assert_eq!(
                walk.accepts(text.as_bytes(), 64),
                valid,
                "the walk on {text}"
            );
        }
    }

    /// Recursive schemas reached through `$ref` (a folder of folders, a person owning folders
    /// owned by people): the walk takes them, and agrees with jsonschema however deep the value.
    #[test]
    fn the_walk_takes_schemas_that_refer_back_to_themselves() {
        let view = json!({
            "defs": {
                "Folder": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "children": {"type": "array", "items": {"$ref": "#/defs/Folder"}},
                        "owner": {"$ref": "#/defs/Person", "description": "who owns it"}
                    }
                },
                "Person": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "id": {"type": "integer"},
                        "folders": {"type": "array", "items": {"$ref": "#/defs/Folder"}}
                    }
                }
            },
            "body": {"$ref": "#/defs/Folder"}
        });
        let table = [
            (r#"{"name": "a"}"#, true),
            (
                r#"{"name": "a", "children": [{"name": "b", "children": []}]}"#,
                true,
            ),
            (
                r#"{"name": "a", "children": [{"name": "b", "children": [{}]}]}"#,
                false,
            ),
            (
                r#"{"name": "a", "children": [{"name": "b", "children": [{"name": ""}]}]}"#,
                false,
            ),
            (
                r#"{"name": "a", "owner": {"id": 1, "folders": [{"name": "b"}]}}"#,
                true,
            ),
            (
                r#"{"name": "a", "owner": {"id": 1, "folders": [{"name": 2}]}}"#,
                false,
            ),
            (
                r#"{"name": "a", "owner": {"folders": [{"name": "b", "owner": {"x": 1}}]}}"#,
                false,
            ),
            (
                r#"{"name": "a", "owner": {"folders": [{"name": "b", "owner": {"id": 2}}]}}"#,
                true,
            ),
        ];
        assert_both_paths(&view, "/body", &table);
        let walk = StreamCheck::compile(&view, "/body", &Patterns::default()).unwrap();
        // However deep: past the depth limit the walk is unsure (the full path decides).
        let mut deep = r#"{"name": "leaf"}"#.to_owned();
        for _ in 0..40 {
            deep = format!(r#"{{"name": "n", "children": [{deep}]}}"#);
        }
        assert!(walk.accepts(deep.as_bytes(), 128));
        assert!(!walk.accepts(deep.as_bytes(), 64));
    }

    /// An `allOf` extending an object schema (a base through `$ref`, nested `allOf`s) with
    /// properties of its own is one node when no part limits the others; any other `allOf`
    /// stays with jsonschema. Both paths over the same values.
    #[test]
    fn an_allof_of_object_parts_is_walked_as_one_object() {
        let view = json!({
            "defs": {
                "Resource": {
                    "type": "object",
                    "required": ["location"],
                    "properties": {
                        "id": {"not": {}, "x-oasgate-read-only": true},
                        "location": {"type": "string"},
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}}
                    }
                },
                "Tracked": {
                    "allOf": [{"$ref": "#/defs/Resource", "description": "the base"}],
                    "properties": {"etag": {"type": "string"}}
                },
                "Site": {
                    "description": "a site",
                    "allOf": [{"$ref": "#/defs/Tracked"}, {"required": ["kind"]}],
                    "properties": {
                        "kind": {"enum": ["app", "api"]},
                        "slots": {"type": "array", "items": {"$ref": "#/defs/Site"}}
                    },
                    "additionalProperties": true
                },
                "Loose": {"allOf": [{"properties": {"n": {"type": "integer"}}}], "required": ["n"]}
            },
            "site": {"$ref": "#/defs/Site"},
            "loose": {"$ref": "#/defs/Loose"},
            "same_name": {"allOf": [{"$ref": "#/defs/Resource"}],
                          "properties": {"location": {"maxLength": 2}}},
            "closed": {"allOf": [{"$ref": "#/defs/Resource"}], "additionalProperties": false,
                       "properties": {"kind": {}}},
            "counted": {"allOf": [{"$ref": "#/defs/Resource"}], "minProperties": 2},
            "one_of": {"allOf": [{"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}],
                       "properties": {"a": {}}},
            "string": {"allOf": [{"type": "string"}], "maxLength": 3},
            "loop": {"allOf": [{"$ref": "#/loop"}], "properties": {"a": {}}}
        });
        let rows: [(&str, &str, bool); 13] = [
            ("/site", r#"{"location": "eu", "kind": "app"}"#, true),
            (
                "/site",
                r#"{"location": "eu", "kind": "app", "etag": "x", "more": 1}"#,
                true,
            ),
            ("/site", r#"{"kind": "app"}"#, false),
            ("/site", r#"{"location": "eu"}"#, false),
            ("/site", r#"{"location": "eu", "kind": "web"}"#, false),
            (
                "/site",
                r#"{"location": "eu", "kind": "app", "id": "1"}"#,
                false,
            ),
            (
                "/site",
                r#"{"location": "eu", "kind": "app", "tags": {"a": 1}}"#,
                false,
            ),
            (
                "/site",
                r#"{"location": "eu", "kind": "app", "etag": 7}"#,
                false,
            ),
            (
                "/site",
                r#"{"location": "eu", "kind": "app", "slots": [{"location": "us"}]}"#,
                false,
            ),
            (
                "/site",
                r#"{"location": "eu", "kind": "app", "slots": [{"location": "us", "kind": "api"}]}"#,
                true,
            ),
            ("/site", r#"["location"]"#, false),
            ("/loose", r#"{"n": 1}"#, true),
            ("/loose", r#"[]"#, true),
        ];
        for (at, text, valid) in rows {
            assert_both_paths(&view, at, &[(text, valid)]);
        }
        assert_left_to_jsonschema(
            &view,
            &[
                "/same_name",
                "/closed",
                "/counted",
                "/one_of",
                "/string",
                "/loop",
            ],
        );
    }

    /// `minProperties` and `maxProperties` count the members of the object, each name once.
    #[test]
    fn the_walk_counts_members_as_jsonschema_does() {
        let view = json!({"s": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 2,
            "properties": {"a": {"type": "integer"}, "b": {}}
        }});
        let rows = [
            ("{}", false),
            (r#"{"a": 1}"#, true),
            (r#"{"z": 1}"#, true),
            (r#"{"a": 1, "b": null}"#, true),
            (r#"{"a": 1, "z": 2}"#, true),
            (r#"{"a": 1, "b": 2, "c": 3}"#, false),
            (r#"{"x": 1, "y": 2, "z": 3}"#, false),
            (r#"{"a": "1"}"#, false),
        ];
        assert_both_paths(&view, "/s", &rows);
        let walk = StreamCheck::compile(&view, "/s", &Patterns::default()).unwrap();
        assert!(
            !walk.accepts(br#"{"a": 1, "a": 1}"#, 16),
            "a name given twice leaves it to the full path"
        );
    }

    /// A `$ref` beside assertions its target makes itself with the same value is its target;
    /// beside anything else it is left to jsonschema, which applies both.
    #[test]
    fn a_ref_beside_what_its_target_asserts_is_its_target() {
        let view = json!({
            "defs": {"T": {
                "type": "object",
                "required": ["a"],
                "additionalProperties": false,
                "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}
            }},
            "same_type": {"$ref": "#/defs/T", "type": "object", "description": "a T"},
            "same_required": {"$ref": "#/defs/T", "required": ["a"]},
            "other_type": {"$ref": "#/defs/T", "type": "array"},
            "other_required": {"$ref": "#/defs/T", "required": ["b"]},
            "not_in_target": {"$ref": "#/defs/T", "minLength": 2},
            // `additionalProperties` reads the `properties` beside it (none here): `{"a": "x"}`
            // fails this schema though it passes `T`.
            "reads_siblings": {"$ref": "#/defs/T", "additionalProperties": false}
        });
        let rows = [
            (r#"{"a": "x"}"#, true),
            (r#"{"a": "x", "b": 1}"#, true),
            (r#"{"b": 1}"#, false),
            (r#"{"a": "x", "c": 1}"#, false),
            (r#"["a"]"#, false),
        ];
        for at in ["/same_type", "/same_required"] {
            assert_both_paths(&view, at, &rows);
        }
        assert_left_to_jsonschema(
            &view,
            &[
                "/other_type",
                "/other_required",
                "/not_in_target",
                "/reads_siblings",
            ],
        );
        let reads_siblings = full_path(&view).compile("/reads_siblings").unwrap();
        assert!(!reads_siblings.is_valid(&json!({"a": "x"})));
    }

    /// One table for every body: a schema two bodies reach is compiled once, and a body the
    /// walk cannot take leaves nothing behind that a later body would read.
    #[test]
    fn bodies_share_one_node_table_and_a_failed_body_leaves_no_trace() {
        let view = json!({
            "defs": {
                "Tag": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Pet": {
                    "type": "object",
                    "required": ["tag"],
                    "properties": {"tag": {"$ref": "#/defs/Tag"}, "owner": {"$ref": "#/defs/Odd"}}
                },
                "Odd": {
                    "type": "object",
                    "properties": {"tag": {"$ref": "#/defs/Tag"}},
                    "propertyNames": {"maxLength": 3}
                },
                "Owner": {
                    "type": "object",
                    "properties": {"tag": {"$ref": "#/defs/Tag"}, "pet": {"$ref": "#/defs/Pet"}}
                }
            },
            "a": {"$ref": "#/defs/Owner"},
            "b": {"$ref": "#/defs/Tag"},
            "c": {"type": "array", "items": {"$ref": "#/defs/Tag"}}
        });
        let mut builder = StreamBuilder::new(&view, Patterns::default());
        // `Owner` reaches `Odd` (through `Pet`), whose `propertyNames` the walk leaves alone.
        assert!(builder.compile("/a").is_none());
        assert_eq!(
            builder.nodes.len(),
            2,
            "the failed body's nodes are dropped"
        );
        assert!(builder.compiled.is_empty());
        let b = builder.compile("/b").unwrap();
        let tags = builder.nodes.len();
        let c = builder.compile("/c").unwrap();
        assert_eq!(
            builder.nodes.len(),
            tags + 1,
            "`Tag` compiled once, for both bodies"
        );
        assert!(
            !b.accepts(br#"{"name": "x"}"#, 16),
            "unsure until the table is finished"
        );
        builder.finish();
        assert!(b.accepts(br#"{"name": "x"}"#, 16));
        assert!(!b.accepts(br#"{"name": 1}"#, 16));
        assert!(c.accepts(br#"[{"name": "x"}, {}]"#, 16));
        assert!(!c.accepts(br#"[{"name": "x"}, {"name": []}]"#, 16));
    }

    /// A member name given twice is never "valid" here: the full path refuses it, however the
    /// name is spelled and wherever the object is.
    #[test]
    fn the_walk_is_unsure_of_a_member_name_given_twice() {
        let view = json!({
            "s": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "age": {"type": "integer"},
                    "free": {},
                    "tags": {"type": "array", "items": {"type": "object"}}
                }
            }
        });
        let walk = StreamCheck::compile(&view, "/s", &Patterns::default()).unwrap();
        let many = |repeat: &str| {
            let mut members: Vec<String> = (0..20).map(|i| format!(r#""k{i}": {i}"#)).collect();
            members.push(repeat.to_owned());
            format!("{{{}}}", members.join(", "))
        };
        let rows: Vec<(String, bool)> = vec![
            (r#"{"name": "rex", "age": 3}"#.into(), true),
            (r#"{"name": 123, "name": "rex"}"#.into(), false),
            (r#"{"name": "rex", "n\u0061me": "rex"}"#.into(), false),
            (r#"{"x": 1, "y": 2, "x": 3}"#.into(), false),
            (r#"{"x": 1, "\u0078": 3}"#.into(), false),
            (r#"{"free": {"a": 1, "b": {"c": 1, "c": 2}}}"#.into(), false),
            (r#"{"free": {"a": 1, "b": {"c": 1, "d": 2}}}"#.into(), true),
            (r#"{"tags": [{"a": 1}, {"a": 1, "a": 1}]}"#.into(), false),
            (r#"{"tags": [{"a": 1}, {"a": 1}]}"#.into(), true),
            (many(r#""k19x": 0"#), true),
            (many(r#""k3": 0"#), false),
            (many(r#""k19": 0"#), false),
        ];
        for (text, accepted) in rows {
            assert_eq!(walk.accepts(text.as_bytes(), 16), accepted, "{text}");
        }
        // Past 64 declared properties, names are compared as text.
        let properties: Map<String, Value> = (0..70)
            .map(|i| (format!("p{i:02}"), json!({"type": "integer"})))
            .collect();
        let view = json!({"s": {"type": "object", "properties": properties}});
        let walk = StreamCheck::compile(&view, "/s", &Patterns::default()).unwrap();
        for (text, accepted) in [
            (r#"{"p00": 1, "p69": 2, "p68": 3}"#, true),
            (r#"{"p69": 1, "p69": 2}"#, false),
            (r#"{"p00": 1, "p00": 2}"#, false),
        ] {
            assert_eq!(walk.accepts(text.as_bytes(), 16), accepted, "{text}");
        }
    }

    #[test]
    fn the_walk_is_unsure_of_text_that_is_not_json_or_nests_too_deeply() {
        let view = json!({"s": {"type": "array", "items": {}}});
        let walk = StreamCheck::compile(&view, "/s", &Patterns::default()).unwrap();
        assert!(walk.accepts(b"[[[1]]]", 4));
        assert!(!walk.accepts(b"[[[1]]]", 2));
        assert!(!walk.accepts(b"[1,]", 4));
        assert!(!walk.accepts(b"[1] [2]", 4));
        assert!(!walk.accepts(b"[\"caf\xe9\"]", 4));
        assert!(!walk.accepts(b"", 4));
    }

    #[test]
    fn keywords_outside_the_walk_leave_the_schema_to_jsonschema() {
        let view = json!({
            "multiple": {"type": "integer", "multipleOf": 3},
            "any_of": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "host": {"type": "object", "properties": {"h": {"type": "string", "format": "hostname"}}},
            "ref_beside": {"$ref": "#/x", "minimum": 1},
            "loop": {"$ref": "#/loop"},
            "unique": {"type": "array", "uniqueItems": true},
            "unchecked_format": {"type": "string", "format": "password"},
            "unknown_format": {"type": "string", "format": "colour"},
            // `allOf` is taken only as one checking schema beside annotations: "An instance
            // validates successfully against this keyword if it validates successfully against
            // all schemas defined by this keyword's value" (JSON Schema 2020-12 Core
            // §10.2.1.1), and a schema of annotations alone accepts every instance.
            "all_of_two": {"allOf": [{"type": "string"}, {"minLength": 2}]},
            "all_of_beside": {"type": "string", "allOf": [{"minLength": 2}]},
            "all_of_loop": {"allOf": [{"$ref": "#/all_of_loop"}, {"description": "me"}]}
        });
        assert_left_to_jsonschema(
            &view,
            &[
                "/multiple",
                "/any_of",
                "/host",
                "/ref_beside",
                "/loop",
                "/unique",
                "/all_of_two",
                "/all_of_beside",
                "/all_of_loop",
            ],
        );
        // A format neither oasgate nor jsonschema checks is an annotation for both.
        for at in ["/unchecked_format", "/unknown_format"] {
            let walk = StreamCheck::compile(&view, at, &Patterns::default()).unwrap();
            assert!(walk.accepts(br#""hunter2""#, 4), "{at}");
        }
    }
}
