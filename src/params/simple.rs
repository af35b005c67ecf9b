//! A native checker for the simple schemas parameters usually have, so the hot
//! path needs no full JSON Schema validator.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Number, Value};

use super::coerce::quote;
use super::formats::{format_checker, format_description};
use crate::pattern::{Matcher, Patterns};
use crate::problem::FieldCode;

const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const INTEGER: u8 = 4;
const NUMBER: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;
const TYPE_NAMES: [(u8, &str); 7] = [
    (BOOLEAN, "boolean"),
    (INTEGER, "integer"),
    (NUMBER, "number"),
    (STRING, "string"),
    (ARRAY, "array"),
    (OBJECT, "object"),
    (NULL, "null"),
];

/// A compiled schema that uses only simple keywords (see [`SimpleSchema::compile`]).
///
/// Most schemas set a type and nothing else (a parameter's `{type: string}`, most nodes of a
/// body's stream check), so the other keywords are kept apart, boxed, only when one is set:
/// 16 bytes for such a schema instead of 416, for the thousands a large document compiles.
#[derive(Debug, Clone, Default)]
pub struct SimpleSchema {
    /// Allowed types as a bit set; 0 allows any.
    types: u8,
    more: Option<Box<Constraints>>,
}

/// The keywords of a [`SimpleSchema`] besides `type`.
#[derive(Debug, Clone)]
struct Constraints {
    format: Option<String>,
    /// The check of a known `format`, looked up once here rather than per value.
    format_check: Option<fn(&str) -> bool>,
    enumeration: Option<Vec<Value>>,
    constant: Option<Value>,
    minimum: Option<Number>,
    maximum: Option<Number>,
    exclusive_minimum: Option<Number>,
    exclusive_maximum: Option<Number>,
    multiple_of: Option<Number>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    /// The pattern compiled with ECMA-262 meanings on the engine it needs.
    pattern: Option<SimplePattern>,
    items: Option<Box<SimpleSchema>>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
}

/// What a schema without any keyword but `type` has.
static UNCONSTRAINED: Constraints = Constraints {
    format: None,
    format_check: None,
    enumeration: None,
    constant: None,
    minimum: None,
    maximum: None,
    exclusive_minimum: None,
    exclusive_maximum: None,
    multiple_of: None,
    min_length: None,
    max_length: None,
    pattern: None,
    items: None,
    min_items: None,
    max_items: None,
    unique_items: false,
};

/// A `pattern`: as written (for messages), compiled, and what to say when the bounded engine
/// cannot decide a value.
#[derive(Debug, Clone)]
struct SimplePattern {
    written: String,
    matcher: Matcher,
    undecided: String,
}

/// One failed keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON pointer inside the value: `""` for the root, `"/0"` for the first array item.
    pub pointer: String,
    /// The failed keyword: `type`, `enum`, `minimum`, `pattern`, `format`, …
    pub code: FieldCode,
    /// A lowercase explanation of what was expected.
    pub detail: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.detail)
        } else {
            write!(f, "{}: {}", self.pointer, self.detail)
        }
    }
}

impl std::error::Error for SchemaError {}

impl SimpleSchema {
    /// The keywords besides `type`.
    fn c(&self) -> &Constraints {
        self.more.as_deref().unwrap_or(&UNCONSTRAINED)
    }

    /// Compiles `schema` (resolved, 2020-12-normalised) when it uses only simple keywords.
    ///
    /// Accepted: `type` (a name or a list, `"null"` included), `format`, `enum`,
    /// `const`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`
    /// (numeric form), `multipleOf`, `minLength`, `maxLength`, `pattern`,
    /// `items` (itself simple), `minItems`, `maxItems`, `uniqueItems`, and the
    /// annotations `description`, `title`, `example`, `examples`, `default`,
    /// `deprecated`, `readOnly`, `writeOnly`, `nullable: false`, `xml`,
    /// `externalDocs`, `$comment` and any `x-` key.
    ///
    /// Anything else (`$ref`, `allOf`, `properties`, …), a malformed keyword
    /// value or a pattern that cannot run gives `None`, and the caller falls back to a full
    /// validator. A pattern with lookaround or a backreference runs on a backtracking engine
    /// under oasgate's default bound; a value it cannot decide within it is refused.
    pub fn compile(schema: &Value) -> Option<SimpleSchema> {
        Self::compile_with(schema, &Patterns::default())
    }

    /// [`SimpleSchema::compile`] with the document's pattern settings.
    pub(crate) fn compile_with(schema: &Value, patterns: &Patterns) -> Option<SimpleSchema> {
        let map = match schema {
            Value::Bool(true) => return Some(SimpleSchema::default()),
            Value::Object(map) => map,
            _ => return None,
        };
        let mut types = 0;
        let mut c = UNCONSTRAINED.clone();
        let mut constrained = false;
        for (key, v) in map {
            match key.as_str() {
                "type" => {
                    types = type_mask(v)?;
                    continue;
                }
                "format" => {
                    let format = v.as_str()?;
                    c.format_check = format_checker(format);
                    c.format = Some(format.to_owned());
                }
                "enum" => c.enumeration = Some(v.as_array()?.clone()),
                "const" => c.constant = Some(v.clone()),
                "minimum" => c.minimum = Some(number(v)?),
                "maximum" => c.maximum = Some(number(v)?),
                "exclusiveMinimum" => c.exclusive_minimum = Some(number(v)?),
                "exclusiveMaximum" => c.exclusive_maximum = Some(number(v)?),
                "multipleOf" => {
                    c.multiple_of = Some(number(v).filter(|n| n.as_f64().is_some_and(|f| f > 0.0))?)
                }
                "minLength" => c.min_length = Some(v.as_u64()?),
                "maxLength" => c.max_length = Some(v.as_u64()?),
                "pattern" => {
                    // Translated as body schemas are: `\d` and `\w` are ASCII, as in ECMA-262.
                    let source = v.as_str()?;
                    c.pattern = Some(SimplePattern {
                        written: patterns.written(source).to_owned(),
                        matcher: patterns.matcher(source).ok()?,
                        undecided: patterns.undecided(source),
                    });
                }
                "items" => c.items = Some(Box::new(SimpleSchema::compile_with(v, patterns)?)),
                "minItems" => c.min_items = Some(v.as_u64()?),
                "maxItems" => c.max_items = Some(v.as_u64()?),
                "uniqueItems" => c.unique_items = v.as_bool()?,
                "nullable" if v.as_bool() == Some(false) => continue,
                "description" | "title" | "example" | "examples" | "default" | "deprecated"
                | "readOnly" | "writeOnly" | "xml" | "externalDocs" | "$comment" => continue,
                k if k.starts_with("x-") => continue,
                _ => return None,
            }
            constrained = true;
        }
        Some(SimpleSchema {
            types,
            more: constrained.then(|| Box::new(c)),
        })
    }

    /// Appends one SchemaError per failed keyword (does not stop at the first). Allocates nothing when valid.
    pub fn check(&self, value: &Value, out: &mut Vec<SchemaError>) {
        self.check_limited(value, out, usize::MAX);
    }

    /// Like [`SimpleSchema::check`], but appends at most `limit` errors and answers how many
    /// more there are: those are counted, never formatted, so a value with a million bad
    /// items costs a walk, not a million messages.
    pub fn check_limited(&self, value: &Value, out: &mut Vec<SchemaError>, limit: usize) -> usize {
        let mut sink = Sink {
            errors: out,
            room: limit,
            left_out: 0,
        };
        self.collect(value, &mut sink);
        sink.left_out
    }

    fn collect(&self, value: &Value, out: &mut Sink<'_>) {
        if self.types != 0 && !type_matches(self.types, value) {
            push(out, FieldCode::Type, || {
                format!(
                    "expected {}, got {} {}",
                    type_list(self.types),
                    kind_name(value),
                    show(value)
                )
            });
        }
        if let Some(c) = &self.c().constant
            && !json_eq(c, value)
        {
            push(out, FieldCode::Const, || {
                format!("must be {}, got {}", show(c), show(value))
            });
        }
        if let Some(list) = &self.c().enumeration
            && !list.iter().any(|e| json_eq(e, value))
        {
            push(out, FieldCode::Enum, || {
                format!("must be one of {}, got {}", one_of(list), show(value))
            });
        }
        match value {
            Value::Number(n) => self.check_number(n, out),
            Value::String(s) => self.check_string(s, out),
            Value::Array(items) => self.check_array(items, out),
            _ => {}
        }
    }

    /// Whether `value` passes every keyword; formats no message.
    pub fn is_valid(&self, value: &Value) -> bool {
        // A scalar, what parameters mostly are, takes the text walk's direct path: the same
        // keywords without the error sink's generality.
        match value {
            Value::Null => self.accepts_scalar(Scalar::Null),
            Value::Bool(b) => self.accepts_scalar(Scalar::Bool(*b)),
            Value::Number(n) => self.accepts_scalar(Scalar::Number(n)),
            Value::String(s) => self.accepts_scalar(Scalar::Str(s)),
            Value::Array(_) | Value::Object(_) => {
                let mut none = Vec::new();
                self.check_limited(value, &mut none, 0) == 0
            }
        }
    }

    /// Whether a scalar read from JSON text passes every keyword; builds no [`Value`] and
    /// formats no message.
    pub(crate) fn accepts_scalar(&self, v: Scalar<'_>) -> bool {
        let k = match v {
            Scalar::Null => NULL,
            Scalar::Bool(_) => BOOLEAN,
            Scalar::Number(n) => number_kind(n),
            Scalar::Str(_) => STRING,
        };
        if self.types != 0 && !(self.types & k != 0 || (k == INTEGER && self.types & NUMBER != 0)) {
            return false;
        }
        let equals = |e: &Value| match (e, v) {
            (Value::Null, Scalar::Null) => true,
            (Value::Bool(a), Scalar::Bool(b)) => *a == b,
            (Value::Number(a), Scalar::Number(b)) => cmp_num(a, b) == Some(Ordering::Equal),
            (Value::String(a), Scalar::Str(b)) => a == b,
            _ => false,
        };
        if self.c().constant.as_ref().is_some_and(|c| !equals(c))
            || self
                .c()
                .enumeration
                .as_ref()
                .is_some_and(|list| !list.iter().any(equals))
        {
            return false;
        }
        let mut none = Vec::new();
        let mut sink = Sink {
            errors: &mut none,
            room: 0,
            left_out: 0,
        };
        match v {
            Scalar::Number(n) => self.check_number(n, &mut sink),
            Scalar::Str(s) => self.check_string(s, &mut sink),
            Scalar::Null | Scalar::Bool(_) => {}
        }
        sink.left_out == 0
    }

    /// Whether an array (`object: false`) or object may pass the keywords kept here: its
    /// type is allowed and no `enum` or `const` asks to compare it whole.
    pub(crate) fn admits_container(&self, object: bool) -> bool {
        let bit = if object { OBJECT } else { ARRAY };
        (self.types == 0 || self.types & bit != 0)
            && self.c().constant.is_none()
            && self.c().enumeration.is_none()
    }

    fn check_number(&self, n: &Number, out: &mut Sink<'_>) {
        let noun = if self.types & (INTEGER | NUMBER) == INTEGER {
            "integer"
        } else {
            "number"
        };
        type Bound<'s> = (
            FieldCode,
            &'s Option<Number>,
            &'static str,
            fn(Ordering) -> bool,
        );
        let bounds: [Bound<'_>; 4] = [
            (FieldCode::Minimum, &self.c().minimum, "≥", Ordering::is_ge),
            (
                FieldCode::ExclusiveMinimum,
                &self.c().exclusive_minimum,
                ">",
                Ordering::is_gt,
            ),
            (FieldCode::Maximum, &self.c().maximum, "≤", Ordering::is_le),
            (
                FieldCode::ExclusiveMaximum,
                &self.c().exclusive_maximum,
                "<",
                Ordering::is_lt,
            ),
        ];
        for (code, limit, sign, holds) in bounds {
            if let Some(limit) = limit
                && !cmp_num(n, limit).is_some_and(holds)
            {
                push(out, code, || {
                    format!("expected {noun} {sign} {limit}, got {n}")
                });
            }
        }
        if let Some(m) = &self.c().multiple_of
            && !is_multiple(n, m)
        {
            push(out, FieldCode::MultipleOf, || {
                format!("expected a multiple of {m}, got {n}")
            });
        }
        if let Some(format @ ("int32" | "int64")) = self.c().format.as_deref() {
            let fits = as_i128(n).is_some_and(|v| match format {
                "int32" => i32::try_from(v).is_ok(),
                _ => i64::try_from(v).is_ok(),
            });
            if !fits {
                let expected = format_description(format).unwrap_or(format);
                push(out, FieldCode::Format, || {
                    format!("expected {expected}, got {n}")
                });
            }
        }
    }

    fn check_string(&self, s: &str, out: &mut Sink<'_>) {
        if self.c().min_length.is_some() || self.c().max_length.is_some() {
            let len = s.chars().count() as u64;
            if let Some(min) = self.c().min_length
                && len < min
            {
                push(out, FieldCode::MinLength, || {
                    format!("expected at least {}, got {len}", count(min, "character"))
                });
            }
            if let Some(max) = self.c().max_length
                && len > max
            {
                push(out, FieldCode::MaxLength, || {
                    format!("expected at most {}, got {len}", count(max, "character"))
                });
            }
        }
        if let Some(pattern) = &self.c().pattern {
            match pattern.matcher.is_match(s) {
                Some(true) => {}
                Some(false) => push(out, FieldCode::Pattern, || {
                    format!("does not match pattern {}", quote(&pattern.written))
                }),
                // Not decided within the bound: refused, a gateway fails closed.
                None => push(out, FieldCode::Pattern, || pattern.undecided.clone()),
            }
        }
        if let (Some(format), Some(check)) = (&self.c().format, self.c().format_check)
            && !check(s)
        {
            let expected = format_description(format).unwrap_or(format);
            push(out, FieldCode::Format, || {
                format!("expected {expected}, got {}", quote(s))
            });
        }
    }

    fn check_array(&self, items: &[Value], out: &mut Sink<'_>) {
        let len = items.len() as u64;
        if let Some(min) = self.c().min_items
            && len < min
        {
            push(out, FieldCode::MinItems, || {
                format!("expected at least {}, got {len}", count(min, "item"))
            });
        }
        if let Some(max) = self.c().max_items
            && len > max
        {
            push(out, FieldCode::MaxItems, || {
                format!("expected at most {}, got {len}", count(max, "item"))
            });
        }
        if self.c().unique_items
            && let Some((i, j)) = first_repeat(items)
        {
            push(out, FieldCode::UniqueItems, || {
                format!("expected unique items, items at index {i} and {j} are equal")
            });
        }
        if let Some(schema) = &self.c().items {
            for (i, item) in items.iter().enumerate() {
                let start = out.errors.len();
                schema.collect(item, out);
                for e in &mut out.errors[start..] {
                    e.pointer.insert_str(0, &format!("/{i}"));
                }
            }
        }
    }
}

/// Where errors go: formatted while there is room, only counted after.
struct Sink<'o> {
    errors: &'o mut Vec<SchemaError>,
    room: usize,
    left_out: usize,
}

fn push(out: &mut Sink<'_>, code: FieldCode, detail: impl FnOnce() -> String) {
    if out.room == 0 {
        out.left_out += 1;
        return;
    }
    out.room -= 1;
    out.errors.push(SchemaError {
        pointer: String::new(),
        code,
        detail: detail(),
    });
}

fn number(v: &Value) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        _ => None,
    }
}

/// `"integer"` or `["integer", "null"]` as a bit set.
fn type_mask(v: &Value) -> Option<u8> {
    let bit = |name: &Value| {
        TYPE_NAMES
            .iter()
            .find(|(_, n)| name.as_str() == Some(n))
            .map(|&(b, _)| b)
    };
    match v {
        Value::String(_) => bit(v),
        Value::Array(list) if !list.is_empty() => {
            list.iter().try_fold(0, |mask, t| Some(mask | bit(t)?))
        }
        _ => None,
    }
}

/// A scalar as JSON text holds it: strings borrowed, nothing built.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Number(&'a Number),
    Str(&'a str),
}

/// The type bit of a value; integral numbers (including `1.0`) are integers.
fn kind(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Number(n) => number_kind(n),
        Value::String(_) => STRING,
        Value::Array(_) => ARRAY,
        Value::Object(_) => OBJECT,
    }
}

fn number_kind(n: &Number) -> u8 {
    if as_i128(n).is_some() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
        INTEGER
    } else {
        NUMBER
    }
}

fn type_matches(types: u8, v: &Value) -> bool {
    let k = kind(v);
    types & k != 0 || (k == INTEGER && types & NUMBER != 0)
}

fn kind_name(v: &Value) -> &'static str {
    let k = kind(v);
    TYPE_NAMES
        .iter()
        .find(|(b, _)| *b == k)
        .map_or("value", |&(_, n)| n)
}

fn type_list(types: u8) -> String {
    let names: Vec<&str> = TYPE_NAMES
        .iter()
        .filter(|(b, _)| types & b != 0)
        .map(|&(_, n)| n)
        .collect();
    names.join(" or ")
}

/// A value in backticks: strings as their text, anything else as JSON.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        other => quote(&other.to_string()),
    }
}

fn one_of(list: &[Value]) -> String {
    const SHOWN: usize = 10;
    let mut text = list
        .iter()
        .take(SHOWN)
        .map(show)
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        text.push_str(", …");
    }
    text
}

fn count(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// An integral number as i128 (floats only when whole and not huge).
fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
                .map(|f| f as i128)
        })
}

/// Exact for integers, IEEE comparison otherwise.
fn cmp_num(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Exact for integers; for decimals the quotient must be whole within a few ulps,
/// so that `0.3` is a multiple of `0.1`.
fn is_multiple(n: &Number, m: &Number) -> bool {
    if let (Some(a), Some(b)) = (as_i128(n), as_i128(m)) {
        return b != 0 && a % b == 0;
    }
    let (Some(a), Some(b)) = (n.as_f64(), m.as_f64()) else {
        return false;
    };
    let q = a / b;
    q.is_finite() && (q - q.round()).abs() <= 4.0 * f64::EPSILON * q.abs().max(1.0)
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_num(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// The first pair of equal items `(i, j)`, `i < j`, with the smallest `j`.
///
/// Items are bucketed by a hash that agrees with [`json_eq`] (numbers by value, objects in any
/// key order), so a long array costs one pass, not a comparison of every pair.
fn first_repeat(items: &[Value]) -> Option<(usize, usize)> {
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let bucket = seen.entry(value_hash(item)).or_default();
        if let Some(&i) = bucket.iter().find(|&&i| json_eq(&items[i], item)) {
            return Some((i, j));
        }
        bucket.push(j);
    }
    None
}

/// A hash equal for values [`json_eq`] finds equal.
fn value_hash(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    match value {
        Value::Null => 0u8.hash(&mut hasher),
        Value::Bool(b) => (1u8, b).hash(&mut hasher),
        // Equal numbers have equal doubles (`1` and `1.0`); `-0.0` counts as `0.0`.
        Value::Number(n) => (2u8, (n.as_f64().unwrap_or(0.0) + 0.0).to_bits()).hash(&mut hasher),
        Value::String(s) => (3u8, s).hash(&mut hasher),
        Value::Array(items) => {
            4u8.hash(&mut hasher);
            for item in items {
                value_hash(item).hash(&mut hasher);
            }
        }
        Value::Object(map) => {
            // Key order does not matter: combine the entries' hashes commutatively.
            let entries = map.iter().fold(0u64, |sum, (k, v)| {
                let mut entry = DefaultHasher::new();
                (k, value_hash(v)).hash(&mut entry);
                sum.wrapping_add(entry.finish())
            });
            (5u8, map.len(), entries).hash(&mut hasher);
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A schema of a type and annotations keeps no box of other keywords; one keyword more
    /// takes it, and checks as before.
    #[test]
    fn a_type_only_schema_holds_nothing_more() {
        assert!(std::mem::size_of::<SimpleSchema>() <= 2 * std::mem::size_of::<usize>());
        let plain =
            SimpleSchema::compile(&json!({"type": "string", "description": "a name", "x-a": 1}))
                .unwrap();
        assert!(plain.more.is_none());
        assert!(plain.is_valid(&json!("anything")));
        assert!(!plain.is_valid(&json!(1)));
        let bounded = SimpleSchema::compile(&json!({"type": "string", "maxLength": 3})).unwrap();
        assert!(bounded.more.is_some());
        assert!(bounded.is_valid(&json!("abc")));
        assert!(!bounded.is_valid(&json!("abcd")));
    }

    #[test]
    fn compile_table() {
        #[rustfmt::skip]
        let rows = [
            (json!(true), true),
            (json!({}), true),
            (json!({"type": "integer", "minimum": 1, "maximum": 100, "format": "int32"}), true),
            (json!({"type": ["string", "null"], "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"}), true),
            (json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5, "multipleOf": 0.5}), true),
            (json!({"enum": ["a", "b"], "const": "a"}), true),
            (json!({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3, "uniqueItems": true}), true),
            (json!({"type": "array", "items": true}), true),
            (json!({"type": "boolean", "description": "d", "title": "t", "example": true, "examples": [true], "default": false, "deprecated": true, "readOnly": false, "writeOnly": false, "nullable": false, "xml": {}, "externalDocs": {}, "$comment": "c", "x-extra": 1}), true),
            (json!({"type": "string", "format": "no-such-format"}), true),
            (json!({"type": "object"}), true),
            (json!(false), false),
            (json!(5), false),
            (json!({"$ref": "#/components/schemas/X"}), false),
            (json!({"allOf": [{"type": "string"}]}), false),
            (json!({"anyOf": [{"type": "string"}]}), false),
            (json!({"type": "object", "properties": {"a": {}}}), false),
            (json!({"type": "array", "items": {"type": "object", "properties": {}}}), false),
            (json!({"type": "array", "prefixItems": []}), false),
            (json!({"type": "integer", "nullable": true}), false),
            (json!({"type": "integer", "exclusiveMinimum": true, "minimum": 0}), false),
            (json!({"type": "wat"}), false),
            (json!({"type": []}), false),
            (json!({"type": ["string", 1]}), false),
            (json!({"minLength": -1}), false),
            (json!({"minLength": "2"}), false),
            (json!({"multipleOf": 0}), false),
            (json!({"multipleOf": -2}), false),
            // Lookaround and backreferences run on the bounded engine; Annex B is translated.
            (json!({"pattern": "(?=a)"}), true),
            (json!({"pattern": "(a)\\1"}), true),
            (json!({"pattern": "^[\\w-.]+$"}), true),
            (json!({"pattern": "(unclosed"}), false),
            (json!({"pattern": "\\p{Print}"}), false),
            (json!({"enum": "a"}), false),
            (json!({"uniqueItems": "yes"}), false),
            (json!({"format": 3}), false),
            (json!({"not": {}}), false),
        ];
        let mut failures = Vec::new();
        for (i, (schema, want)) in rows.iter().enumerate() {
            if SimpleSchema::compile(schema).is_some() != *want {
                failures.push(format!(
                    "row {i}: {schema} should {}compile",
                    if *want { "" } else { "not " }
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Expected errors as (pointer, code, detail fragment).
    type Errs = &'static [(&'static str, &'static str, &'static str)];

    #[test]
    fn check_table() {
        let ok: Errs = &[];
        #[rustfmt::skip]
        let rows: Vec<(Value, Value, Errs)> = vec![
            // type
            (json!({"type": "integer"}), json!(5), ok),
            (json!({"type": "integer"}), json!(5.0), ok),
            (json!({"type": "integer"}), json!(5.5), &[("", "type", "expected integer, got number `5.5`")]),
            (json!({"type": "integer"}), json!("5"), &[("", "type", "expected integer, got string `5`")]),
            (json!({"type": "number"}), json!(5), ok),
            (json!({"type": ["integer", "null"]}), json!(null), ok),
            (json!({"type": ["integer", "null"]}), json!(true), &[("", "type", "expected integer or null, got boolean `true`")]),
            (json!({"type": "string"}), json!("x"), ok),
            (json!({"type": "boolean"}), json!(false), ok),
            (json!({"type": "array"}), json!([]), ok),
            (json!({"type": "object"}), json!({}), ok),
            (json!({"type": "object"}), json!([]), &[("", "type", "expected object, got array `[]`")]),
            (json!({}), json!({"any": "thing"}), ok),
            (json!(true), json!(null), ok),
            // enum / const
            (json!({"enum": ["available", "pending", "sold"]}), json!("pending"), ok),
            (json!({"enum": ["available", "pending", "sold"]}), json!("gone"), &[("", "enum", "must be one of `available`, `pending`, `sold`, got `gone`")]),
            (json!({"enum": [1, 2]}), json!(2.0), ok),
            (json!({"enum": [1, 2]}), json!("1"), &[("", "enum", "")]),
            (json!({"enum": [[1], {"a": 1}]}), json!({"a": 1.0}), ok),
            (json!({"enum": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}), json!(11), &[("", "enum", "`9`, …, got `11`")]),
            (json!({"const": "x"}), json!("x"), ok),
            (json!({"const": "x"}), json!("y"), &[("", "const", "must be `x`, got `y`")]),
            // numbers
            (json!({"type": "integer", "minimum": 1}), json!(1), ok),
            (json!({"type": "integer", "minimum": 1}), json!(0), &[("", "minimum", "expected integer ≥ 1, got 0")]),
            (json!({"type": "number", "maximum": 2.5}), json!(2.5), ok),
            (json!({"type": "number", "maximum": 2.5}), json!(2.6), &[("", "maximum", "expected number ≤ 2.5, got 2.6")]),
            (json!({"exclusiveMinimum": 0}), json!(0), &[("", "exclusiveMinimum", "expected number > 0, got 0")]),
            (json!({"exclusiveMinimum": 0}), json!(0.001), ok),
            (json!({"exclusiveMaximum": 10}), json!(10), &[("", "exclusiveMaximum", "expected number < 10, got 10")]),
            (json!({"exclusiveMaximum": 10}), json!(9), ok),
            (json!({"maximum": 9223372036854775807_i64}), json!(18446744073709551615_u64), &[("", "maximum", "")]),
            (json!({"minimum": -1}), json!(18446744073709551615_u64), ok),
            (json!({"multipleOf": 5}), json!(15), ok),
            (json!({"multipleOf": 5}), json!(7), &[("", "multipleOf", "expected a multiple of 5, got 7")]),
            (json!({"multipleOf": 0.1}), json!(0.3), ok),
            (json!({"multipleOf": 0.01}), json!(19.99), ok),
            (json!({"multipleOf": 0.1}), json!(0.31), &[("", "multipleOf", "")]),
            (json!({"multipleOf": 0.5}), json!(3), ok),
            (json!({"multipleOf": 1}), json!(1.0000000001), &[("", "multipleOf", "")]),
            (json!({"type": "integer", "format": "int32"}), json!(2147483647), ok),
            (json!({"type": "integer", "format": "int32"}), json!(-2147483648), ok),
            (json!({"type": "integer", "format": "int32"}), json!(2147483648_i64), &[("", "format", "expected a 32-bit integer (int32), got 2147483648")]),
            (json!({"type": "integer", "format": "int64"}), json!(-9223372036854775808_i64), ok),
            (json!({"type": "integer", "format": "int64"}), json!(9223372036854775808_u64), &[("", "format", "")]),
            (json!({"type": "number", "format": "int32"}), json!(1.5), &[("", "format", "")]),
            (json!({"type": "number", "format": "double"}), json!(1.5), ok),
            (json!({"minimum": 5, "maxLength": 1}), json!("abc"), &[("", "maxLength", "")]),
            (json!({"type": "integer", "minimum": 1, "maximum": 0}), json!("x"), &[("", "type", "")]),
            (json!({"type": "integer", "minimum": 10, "multipleOf": 3}), json!(4), &[("", "minimum", ""), ("", "multipleOf", "")]),
            // strings
            (json!({"minLength": 2, "maxLength": 3}), json!("éé"), ok),
            (json!({"minLength": 2}), json!("é"), &[("", "minLength", "expected at least 2 characters, got 1")]),
            (json!({"maxLength": 1}), json!("ab"), &[("", "maxLength", "expected at most 1 character, got 2")]),
            (json!({"pattern": "^[a-z]+$"}), json!("abc"), ok),
            (json!({"pattern": "^[a-z]+$"}), json!("abc1"), &[("", "pattern", "does not match pattern `^[a-z]+$`")]),
            (json!({"pattern": "b"}), json!("abc"), ok),
            (json!({"pattern": "^b"}), json!("abc"), &[("", "pattern", "")]),
            (json!({"pattern": "^[a-z]+$"}), json!(5), ok),
            // ECMA-262 classes, as in body schemas: `\d` and `\w` are ASCII only.
            (json!({"pattern": "^\\d+$"}), json!("123"), ok),
            (json!({"pattern": "^\\d+$"}), json!("١٢٣"), &[("", "pattern", "does not match pattern `^\\d+$`")]),
            (json!({"pattern": "^\\w+$"}), json!("café"), &[("", "pattern", "")]),
            (json!({"pattern": "^\\w+$"}), json!("cafe_1"), ok),
            // Lookaround on the bounded engine; a value it cannot decide in time is refused.
            (json!({"pattern": "^(?!\\s*$).+"}), json!(" x"), ok),
            (json!({"pattern": "^(?!\\s*$).+"}), json!("  "), &[("", "pattern", "does not match pattern `^(?!\\s*$).+`")]),
            (json!({"pattern": "^(a|aa)+\\1$"}), json!(format!("{}!", "a".repeat(100))), &[("", "pattern", "could not be checked against pattern `^(a|aa)+\\1$` within oasgate's bound of 100000 backtracking steps")]),
            // Annex B: `[\w-.]` holds a literal `-`; messages quote the pattern as written.
            (json!({"pattern": "^[\\w-.]+$"}), json!("a-b.c"), ok),
            (json!({"pattern": "^[\\w-.]+$"}), json!("a b"), &[("", "pattern", "does not match pattern `^[\\w-.]+$`")]),
            (json!({"format": "date"}), json!("2024-02-29"), ok),
            (json!({"format": "date"}), json!("2023-02-29"), &[("", "format", "expected a date (RFC 3339 full-date, e.g. 2024-01-02), got `2023-02-29`")]),
            (json!({"format": "date"}), json!(20230229), ok),
            (json!({"format": "uuid"}), json!("nope"), &[("", "format", "expected a UUID")]),
            (json!({"format": "duration"}), json!("P1DT12H"), ok),
            (json!({"format": "duration"}), json!("PT1H1S"), &[("", "format", "expected an ISO 8601 duration (e.g. P3DT12H or PT90M), got `PT1H1S`")]),
            (json!({"format": "email"}), json!("a@b.co"), ok),
            (json!({"format": "no-such-format"}), json!("anything"), ok),
            (json!({"type": "string", "minLength": 5, "pattern": "^x", "format": "ipv4"}), json!("abc"), &[("", "minLength", ""), ("", "pattern", ""), ("", "format", "")]),
            // arrays
            (json!({"type": "array", "minItems": 1}), json!([]), &[("", "minItems", "expected at least 1 item, got 0")]),
            (json!({"type": "array", "maxItems": 2}), json!([1, 2, 3]), &[("", "maxItems", "expected at most 2 items, got 3")]),
            (json!({"uniqueItems": true}), json!([1, 2, 3]), ok),
            (json!({"uniqueItems": true}), json!([1, 2, 1.0]), &[("", "uniqueItems", "expected unique items, items at index 0 and 2 are equal")]),
            (json!({"uniqueItems": false}), json!([1, 1]), ok),
            (json!({"items": {"type": "integer", "minimum": 0}}), json!([0, 1, 2]), ok),
            (json!({"items": {"type": "integer", "minimum": 0}}), json!([0, -1, "x"]), &[("/1", "minimum", "got -1"), ("/2", "type", "")]),
            (json!({"items": {"items": {"enum": ["a"]}}}), json!([["a"], ["a", "b"]]), &[("/1/1", "enum", "")]),
            (json!({"type": "array", "items": {"type": "string", "format": "date"}, "maxItems": 1}), json!(["2024-01-01", "nope"]), &[("", "maxItems", ""), ("/1", "format", "")]),
            (json!({"items": {"type": "integer"}}), json!("not an array"), ok),
        ];
        let mut failures = Vec::new();
        for (i, (schema, value, want)) in rows.iter().enumerate() {
            let compiled = SimpleSchema::compile(schema).expect("row schema compiles");
            let mut errors = Vec::new();
            compiled.check(value, &mut errors);
            let matches = errors.len() == want.len()
                && errors
                    .iter()
                    .zip(want.iter())
                    .all(|(e, (pointer, code, fragment))| {
                        e.pointer == *pointer
                            && e.code.as_str() == *code
                            && e.detail.contains(fragment)
                            && !e.detail.starts_with(char::is_uppercase)
                    });
            if !matches || compiled.is_valid(value) != want.is_empty() {
                failures.push(format!(
                    "row {i}: {schema} on {value}\n    got {errors:?}\n    want {want:?}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} rows failed:\n{}",
            failures.len(),
            rows.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn valid_values_leave_the_error_list_unallocated() {
        let schema = json!({"type": "array", "items": {"type": "string", "format": "date", "pattern": "^2"}, "uniqueItems": true});
        let compiled = SimpleSchema::compile(&schema).unwrap();
        let mut errors = Vec::new();
        compiled.check(&json!(["2024-01-01", "2024-01-02"]), &mut errors);
        assert!(errors.is_empty());
        assert_eq!(errors.capacity(), 0);
    }

    #[test]
    fn display_includes_the_pointer() {
        let e = SchemaError {
            pointer: "/1".into(),
            code: FieldCode::Type,
            detail: "expected integer, got string `x`".into(),
        };
        assert_eq!(e.to_string(), "/1: expected integer, got string `x`");
    }
}
