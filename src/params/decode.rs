//! Decoding of raw parameter text by location, `style` and `explode`.
//!
//! Every function works on raw, still percent-encoded text: values are split
//! on their delimiters first and each piece is percent-decoded afterwards, so
//! an encoded delimiter such as `%2C` is data.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::coerce::{Coercion, DecodeError, coerce, got, quote};
use super::shape::{ObjectShape, Prim, Shape, Style};
use crate::problem::FieldCode;

/// How one parameter is serialized and what it decodes into.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec<'a> {
    /// The declared name.
    pub name: &'a str,
    /// The serialization style; one the location does not support is read as the location's default.
    pub style: Style,
    /// Whether arrays and objects are exploded.
    pub explode: bool,
    /// What the text decodes into.
    pub shape: &'a Shape,
    /// Whether an empty value is accepted (`allowEmptyValue`).
    pub allow_empty: bool,
    /// How text is coerced to primitives.
    pub coercion: &'a Coercion,
}

/// Separators, any of which splits a value.
type Seps = &'static [&'static str];
const COMMA: Seps = &[","];
const DOT: Seps = &["."];
const SPACE: Seps = &["%20", " ", "+"];
const PIPE: Seps = &["|", "%7C", "%7c"];
const TAB: Seps = &["%09", "\t"];
const PATH_SPACE: Seps = &["%20", " "];
/// Optional whitespace around header list items.
const OWS: [char; 2] = [' ', '\t'];

/// One `name=value` piece of a query, a form body or a `Cookie` header: the texts as sent,
/// and the name percent-decoded once, which every declared parameter compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'a> {
    /// The name as sent.
    pub raw_name: &'a str,
    /// The name percent-decoded (in a query `+` is a space too); `None` when that is not
    /// UTF-8: such a name is no parameter's.
    pub name: Option<Cow<'a, str>>,
    /// The value as sent, still encoded: it is split on its style's delimiters before its
    /// pieces are decoded.
    pub value: &'a str,
}

impl<'a> Pair<'a> {
    /// The pair `raw_name=value`, its name decoded (`+` as a space when `plus`).
    pub fn new(raw_name: &'a str, value: &'a str, plus: bool) -> Self {
        Pair {
            raw_name,
            name: decode_text(raw_name, plus).ok(),
            value,
        }
    }

    /// Whether the (decoded) name is `name`.
    pub fn is(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name)
    }

    /// The decoded name for a message: what is not UTF-8 shown as U+FFFD.
    pub fn shown_name(&self) -> Cow<'_, str> {
        match &self.name {
            Some(name) => Cow::Borrowed(name),
            None => percent_encoding::percent_decode_str(self.raw_name).decode_utf8_lossy(),
        }
    }
}

/// A query's pairs as one request reads them: a query of up to eight pairs, most queries,
/// needs no allocation for the list.
pub(crate) type Pairs<'a> = smallvec::SmallVec<[Pair<'a>; 8]>;

/// Splits a raw query string on `&`, then each piece at its first `=`; empty pieces are
/// skipped. Each name is decoded once here (`+` as a space).
pub fn split_query(raw_query: &str) -> Vec<Pair<'_>> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|piece| query_pair(piece))
        .collect()
}

/// Like [`split_query`], but `None` as soon as there are more than `max` pairs, without
/// splitting the rest; a name longer than `max_name` is not decoded (the request is refused
/// for its length before anything reads it).
pub(crate) fn split_query_bounded(
    raw_query: &str,
    max: usize,
    max_name: usize,
) -> Option<Pairs<'_>> {
    let mut pairs = Pairs::new();
    split_query_into(raw_query, max, max_name, &mut pairs).then_some(pairs)
}

/// [`split_query_bounded`] into a list the caller holds (a list of pairs kept inline is
/// large: filled where it lives, it is not copied on the way out); `false` when there are
/// more than `max` pairs.
pub(crate) fn split_query_into<'a>(
    raw_query: &'a str,
    max: usize,
    max_name: usize,
    pairs: &mut Pairs<'a>,
) -> bool {
    pairs.clear();
    let bytes = raw_query.as_bytes();
    // One pass over the bytes finds both delimiters: a query's pieces are short, and
    // searching each for `&` and then `=` costs more in set-up than in scanning. Both are
    // ASCII, so every cut falls between characters.
    let (mut start, mut equals) = (0, None);
    for (at, &byte) in bytes.iter().enumerate() {
        if byte == b'&' {
            if !query_piece(raw_query, (start, equals, at), max, max_name, pairs) {
                return false;
            }
            (start, equals) = (at + 1, None);
        } else if byte == b'=' && equals.is_none() {
            equals = Some(at);
        }
    }
    query_piece(
        raw_query,
        (start, equals, bytes.len()),
        max,
        max_name,
        pairs,
    )
}

/// Adds the piece `start..end` (its first `=` at `equals`) of a query to `pairs`, unless it
/// is empty; `false` when that would make more than `max` pairs.
#[inline(always)]
fn query_piece<'a>(
    raw_query: &'a str,
    (start, equals, end): (usize, Option<usize>, usize),
    max: usize,
    max_name: usize,
    pairs: &mut Pairs<'a>,
) -> bool {
    if end == start {
        return true;
    }
    if pairs.len() == max {
        return false;
    }
    if pairs.len() == pairs.inline_size() {
        // Leaving the inline room: take room for every pair left at once, so that a long
        // query costs one allocation, however many pairs it has.
        let left = raw_query.as_bytes()[start..]
            .iter()
            .filter(|&&b| b == b'&')
            .count()
            + 1;
        pairs.reserve_exact(left.min(max - pairs.len()));
    }
    let (name, value) = match equals {
        Some(eq) => (&raw_query[start..eq], &raw_query[eq + 1..end]),
        None => (&raw_query[start..end], ""),
    };
    pairs.push(if name.len() > max_name {
        Pair {
            raw_name: name,
            name: None,
            value,
        }
    } else {
        Pair::new(name, value, true)
    });
    true
}

fn query_pair(piece: &str) -> Pair<'_> {
    let (name, value) = split_pair(piece);
    Pair::new(name, value, true)
}

/// Splits a `Cookie` header value on `;`, trims each piece, then splits it at its first `=`.
/// Names are decoded as `form` reads them (`+` is literal); OpenAPI 3.2's `cookie` style
/// reads them as sent.
pub fn split_cookies(header_value: &str) -> Vec<Pair<'_>> {
    header_value
        .split(';')
        .map(|p| p.trim_matches(OWS))
        .filter(|p| !p.is_empty())
        .map(|piece| {
            let (name, value) = split_pair(piece);
            Pair::new(name, value, false)
        })
        .collect()
}

fn split_pair(piece: &str) -> (&str, &str) {
    piece.split_once('=').unwrap_or((piece, ""))
}

/// Decodes a path parameter from the raw text its template expression matched (`simple`, `label` or `matrix`).
pub fn decode_path(raw: &str, spec: &ParamSpec<'_>) -> Result<Value, DecodeError> {
    match spec.style {
        Style::Label => label(raw, spec),
        Style::Matrix => matrix(raw, spec),
        // Swagger 2.0 `collectionFormat` ssv / pipes / tsv on a path parameter.
        // In a path `+` is data, so only an (encoded) space separates.
        Style::SpaceDelimited => composite(raw, PATH_SPACE, false, spec, false),
        Style::PipeDelimited | Style::TabDelimited => {
            composite(raw, list_seps(spec.style), false, spec, false)
        }
        _ => composite(raw, COMMA, spec.explode, spec, false),
    }
}

/// The separators of a delimited list style; a comma for any other.
fn list_seps(style: Style) -> Seps {
    match style {
        Style::SpaceDelimited => SPACE,
        Style::PipeDelimited => PIPE,
        Style::TabDelimited => TAB,
        _ => COMMA,
    }
}

/// Decodes a query parameter from the pairs of [`split_query`]; `Ok(None)` when absent.
pub fn decode_query(
    pairs: &[Pair<'_>],
    spec: &ParamSpec<'_>,
) -> Result<Option<Value>, DecodeError> {
    let style = match spec.style {
        s @ (Style::SpaceDelimited
        | Style::PipeDelimited
        | Style::TabDelimited
        | Style::DeepObject) => s,
        _ => Style::Form,
    };
    form(pairs, spec, style, true)
}

/// Decodes a header parameter (`simple` style) from the header's raw values in order; `Ok(None)` when there are none.
///
/// Several values are read as one comma-separated list, and whitespace around
/// list items is dropped as HTTP allows.
pub fn decode_header(values: &[&str], spec: &ParamSpec<'_>) -> Result<Option<Value>, DecodeError> {
    // Swagger 2.0 `collectionFormat` ssv / pipes / tsv on a header: one line, split on its
    // delimiter (no percent-decoding in headers, so only the literal character counts).
    let delimited = match spec.style {
        Style::SpaceDelimited => Some(' '),
        Style::PipeDelimited => Some('|'),
        Style::TabDelimited => Some('\t'),
        _ => None,
    };
    if let (Some(delimiter), Shape::Array(p)) = (delimited, spec.shape) {
        return match values {
            [] => Ok(None),
            [one] if trim_ows(one).is_empty() => empty(spec).map(Some),
            [one] => array(trim_ows(one).split(delimiter), *p, spec, false).map(Some),
            _ => Err(duplicate()),
        };
    }
    let pieces = values.iter().flat_map(|v| v.split(',')).map(trim_ows);
    let value = match spec.shape {
        _ if values.is_empty() => return Ok(None),
        Shape::Primitive(p) if values.len() == 1 => primitive(trim_ows(values[0]), *p, spec, false),
        Shape::Primitive(_) => Err(duplicate()),
        _ if values.iter().all(|v| trim_ows(v).is_empty()) => empty(spec),
        Shape::Array(p) => array(pieces, *p, spec, false),
        Shape::Object(o) => object(pieces, o, spec.explode, spec, false),
    };
    value.map(Some)
}

/// Decodes a cookie parameter from the pairs of [`split_cookies`]; `Ok(None)` when absent.
///
/// `form` (the default) percent-decodes each piece after splitting; OpenAPI 3.2's `cookie`
/// style reads the same syntax but decodes nothing: "When parsing these parameters, any
/// apparent percent-encoding MUST NOT be decoded" (3.2, "Fixed Fields for use with `schema`").
pub fn decode_cookie(
    pairs: &[Pair<'_>],
    spec: &ParamSpec<'_>,
) -> Result<Option<Value>, DecodeError> {
    if spec.style != Style::Cookie {
        return form(pairs, spec, Style::Form, false);
    }
    if !pairs
        .iter()
        .any(|p| p.raw_name.contains('%') || p.value.contains('%'))
    {
        // Nothing to decode: names as sent are names as decoded.
        return form(pairs, spec, Style::Form, false);
    }
    // Names compare as sent; values go through the `form` reader, whose decoding of `%25`
    // gives back the `%` the client sent: every `%` is data.
    let values: Vec<Cow<'_, str>> = pairs.iter().map(|p| escape_percent(p.value)).collect();
    let pairs: Vec<Pair<'_>> = pairs
        .iter()
        .zip(&values)
        .map(|(p, value)| Pair {
            raw_name: p.raw_name,
            name: Some(Cow::Borrowed(p.raw_name)),
            value,
        })
        .collect();
    form(&pairs, spec, Style::Form, false)
}

fn escape_percent(text: &str) -> Cow<'_, str> {
    if text.contains('%') {
        Cow::Owned(text.replace('%', "%25"))
    } else {
        Cow::Borrowed(text)
    }
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches(OWS)
}

/// `.blue`, `.blue,black` / `.blue.black`, `.R,100` / `.R=100.G=200`.
fn label(raw: &str, spec: &ParamSpec<'_>) -> Result<Value, DecodeError> {
    if raw.is_empty() {
        return empty(spec);
    }
    let rest = raw
        .strip_prefix('.')
        .ok_or_else(|| format_error("a label value starting with `.`", raw))?;
    let seps = if spec.explode { DOT } else { COMMA };
    composite(rest, seps, spec.explode, spec, false)
}

/// `;color=blue`, `;color=blue,black` / `;color=blue;color=black`, `;color=R,100` / `;R=100;G=200`.
fn matrix(raw: &str, spec: &ParamSpec<'_>) -> Result<Value, DecodeError> {
    if raw.is_empty() {
        return empty(spec);
    }
    let expected = || format_error(format_args!("`;{}=…`", spec.name), raw);
    let rest = raw.strip_prefix(';').ok_or_else(expected)?;
    if rest.is_empty() {
        return empty(spec);
    }
    if let (Shape::Object(o), true) = (spec.shape, spec.explode) {
        return object(rest.split(';'), o, true, spec, false);
    }
    let pieces = rest.split(';').map(split_pair);
    if pieces.clone().any(|(k, _)| !key_is(k, spec.name, false)) {
        return Err(expected());
    }
    let mut values = pieces.map(|(_, v)| v);
    match spec.shape {
        Shape::Array(p) if spec.explode => {
            exploded_array(values, *p, spec, false).map(Option::unwrap_or_default)
        }
        _ => {
            let value = values.next().unwrap_or_default();
            if values.next().is_some() {
                return Err(duplicate());
            }
            composite(value, COMMA, false, spec, false)
        }
    }
}

/// Query and cookie parameters.
fn form(
    pairs: &[Pair<'_>],
    spec: &ParamSpec<'_>,
    style: Style,
    plus: bool,
) -> Result<Option<Value>, DecodeError> {
    let mut named = pairs.iter().filter(|p| p.is(spec.name)).map(|p| p.value);
    match spec.shape {
        Shape::Object(o) if style == Style::DeepObject => deep_object(pairs, o, spec, plus),
        Shape::Object(o) if spec.explode => exploded_object(pairs, o, spec, plus),
        Shape::Array(p) if spec.explode => exploded_array(named, *p, spec, plus),
        _ => {
            let Some(raw) = named.next() else {
                return Ok(None);
            };
            if named.next().is_some() {
                return Err(duplicate());
            }
            composite(raw, list_seps(style), false, spec, plus).map(Some)
        }
    }
}

/// One raw value holding a primitive, or an array or object joined by `seps`
/// (as `name=value` pieces when `kv`, else as alternating names and values).
fn composite(
    raw: &str,
    seps: Seps,
    kv: bool,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<Value, DecodeError> {
    match spec.shape {
        Shape::Primitive(p) => primitive(raw, *p, spec, plus),
        _ if raw.is_empty() => empty(spec),
        Shape::Array(p) => array(split_any(raw, seps), *p, spec, plus),
        Shape::Object(o) => object(split_any(raw, seps), o, kv, spec, plus),
    }
}

fn primitive(
    raw: &str,
    prim: Prim,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<Value, DecodeError> {
    if raw.is_empty() {
        return empty(spec);
    }
    coerce(decode_text(raw, plus)?, prim, spec.coercion)
}

fn array<'r>(
    pieces: impl Iterator<Item = &'r str>,
    prim: Prim,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<Value, DecodeError> {
    pieces
        .enumerate()
        .map(|(i, raw)| {
            item(raw, prim, spec.coercion, plus).map_err(|e| e.within(format_args!("at index {i}")))
        })
        .collect::<Result<_, _>>()
        .map(Value::Array)
}

/// Values that each hold one array item; `None` when there are none.
fn exploded_array<'r>(
    values: impl Iterator<Item = &'r str> + Clone,
    prim: Prim,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<Option<Value>, DecodeError> {
    let mut probe = values.clone();
    match (probe.next(), probe.next()) {
        (None, _) => Ok(None),
        (Some(""), None) => empty(spec).map(Some),
        _ => array(values, prim, spec, plus).map(Some),
    }
}

fn object<'r>(
    mut pieces: impl Iterator<Item = &'r str>,
    shape: &ObjectShape,
    kv: bool,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<Value, DecodeError> {
    let mut map = Map::new();
    while let Some(piece) = pieces.next() {
        let (key, value) = if kv {
            piece
                .split_once('=')
                .ok_or_else(|| format_error("`name=value` for each property", piece))?
        } else {
            let value = pieces.next().ok_or_else(|| {
                DecodeError::new(
                    FieldCode::Format,
                    format!("expected alternating property names and values, got name {} without a value", got(piece)),
                )
            })?;
            (piece, value)
        };
        let key = decode_text(key, plus)?.into_owned();
        let prim = shape.prim_of(&key);
        insert(&mut map, key, value, prim, spec, plus)?;
    }
    Ok(Value::Object(map))
}

/// `R=100&G=200`: each declared property is its own key; other keys are not ours.
fn exploded_object(
    pairs: &[Pair<'_>],
    shape: &ObjectShape,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<Option<Value>, DecodeError> {
    let mut map = Map::new();
    for pair in pairs {
        if let Some((name, prim)) = shape.properties.iter().find(|(n, _)| pair.is(n)) {
            insert(&mut map, name.clone(), pair.value, *prim, spec, plus)?;
        }
    }
    Ok((!map.is_empty()).then_some(Value::Object(map)))
}

/// `color[R]=100&color[G]=200`; the key may be percent-encoded.
fn deep_object(
    pairs: &[Pair<'_>],
    shape: &ObjectShape,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<Option<Value>, DecodeError> {
    let mut map = Map::new();
    for pair in pairs {
        let (Some(key), raw_key, raw_value) = (&pair.name, pair.raw_name, pair.value) else {
            continue;
        };
        let Some(inner) = key
            .strip_prefix(spec.name)
            .and_then(|r| r.strip_prefix('['))
        else {
            continue;
        };
        let property = inner
            .strip_suffix(']')
            .filter(|p| !p.is_empty() && !p.contains(['[', ']']));
        let Some(property) = property else {
            return Err(format_error(
                format_args!("`{}[property]`", spec.name),
                raw_key,
            ));
        };
        insert(
            &mut map,
            property.to_owned(),
            raw_value,
            shape.prim_of(property),
            spec,
            plus,
        )?;
    }
    Ok((!map.is_empty()).then_some(Value::Object(map)))
}

fn insert(
    map: &mut Map<String, Value>,
    key: String,
    raw: &str,
    prim: Prim,
    spec: &ParamSpec<'_>,
    plus: bool,
) -> Result<(), DecodeError> {
    if map.contains_key(&key) {
        let detail = format!("property {} given more than once", quote(&key));
        return Err(DecodeError::new(FieldCode::Duplicate, detail));
    }
    let value = item(raw, prim, spec.coercion, plus)
        .map_err(|e| e.within(format_args!("property {}", quote(&key))))?;
    map.insert(key, value);
    Ok(())
}

fn item(raw: &str, prim: Prim, coercion: &Coercion, plus: bool) -> Result<Value, DecodeError> {
    coerce(decode_text(raw, plus)?, prim, coercion)
}

/// What an empty value decodes to: an error unless `allow_empty`.
fn empty(spec: &ParamSpec<'_>) -> Result<Value, DecodeError> {
    if !spec.allow_empty {
        return Err(DecodeError::new(
            FieldCode::Empty,
            "expected a non-empty value",
        ));
    }
    match spec.shape {
        Shape::Primitive(p) => coerce("", *p, spec.coercion),
        Shape::Array(_) => Ok(Value::Array(Vec::new())),
        Shape::Object(_) => Ok(Value::Object(Map::new())),
    }
}

fn duplicate() -> DecodeError {
    DecodeError::new(
        FieldCode::Duplicate,
        "given more than once; expected a single value",
    )
}

fn format_error(expected: impl std::fmt::Display, raw: &str) -> DecodeError {
    DecodeError::new(
        FieldCode::Format,
        format!("expected {expected}, got {}", got(raw)),
    )
}

/// Percent-decodes one piece (in queries `+` is a space); borrows when nothing is encoded.
///
/// One pass into a buffer sized once. A `%` not followed by two hex digits stays as it is.
fn decode_text(raw: &str, plus: bool) -> Result<Cow<'_, str>, DecodeError> {
    let bytes = raw.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'%' || (plus && b == b'+')) else {
        return Ok(Cow::Borrowed(raw));
    };
    let hex = |at: usize| {
        bytes
            .get(at)
            .and_then(|&b| char::from(b).to_digit(16))
            .map(|d| d as u8)
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut at = first;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'+' if plus => out.push(b' '),
            b'%' => {
                if let (Some(high), Some(low)) = (hex(at + 1), hex(at + 2)) {
                    out.push(high << 4 | low);
                    at += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        at += 1;
    }
    String::from_utf8(out).map(Cow::Owned).map_err(|_| {
        DecodeError::new(
            FieldCode::Encoding,
            format!("expected percent-encoded UTF-8, got {}", quote(raw)),
        )
    })
}

/// Whether a raw (maybe encoded) key is `name`: the names of a `matrix` path value's pieces.
/// (Query and cookie names are decoded once, into [`Pair`].)
///
/// The answers that need no decoding come first: a key shorter than `name` (decoding never
/// lengthens one), and a key with nothing to decode.
fn key_is(raw: &str, name: &str, plus: bool) -> bool {
    if raw.len() < name.len() {
        return false;
    }
    let escape = |b: u8| b == b'%' || (plus && b == b'+');
    if raw.bytes().any(escape) {
        decode_text(raw, plus).is_ok_and(|k| k == name)
    } else {
        raw == name
    }
}

fn split_any(s: &str, seps: Seps) -> SplitAny<'_> {
    SplitAny {
        rest: Some(s),
        seps,
    }
}

/// Splits at every occurrence of any of several separators, in one pass.
#[derive(Clone)]
struct SplitAny<'a> {
    rest: Option<&'a str>,
    seps: Seps,
}

impl<'a> Iterator for SplitAny<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let found = (0..rest.len()).find_map(|at| {
            let tail = &rest.as_bytes()[at..];
            self.seps
                .iter()
                .find(|sep| tail.starts_with(sep.as_bytes()))
                .map(|sep| (at, sep.len()))
        });
        // Separators are ASCII, so these cuts fall on character boundaries.
        match found {
            Some((at, len)) => {
                self.rest = Some(&rest[at + len..]);
                Some(&rest[..at])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::shape::Location::{self, Cookie, Header, Path, Query};
    use crate::params::shape::Style::{
        Cookie as CookieStyle, DeepObject, Form, Label, Matrix, PipeDelimited, Simple,
        SpaceDelimited, TabDelimited,
    };
    use serde_json::json;

    /// Header input meaning "no header at all" (otherwise values are separated by `\n`).
    const NO_HEADER: &str = "<none>";

    #[derive(Debug)]
    enum Want {
        Val(&'static str),
        Absent,
        Err(&'static str, &'static str),
    }

    fn v(json: &'static str) -> Want {
        Want::Val(json)
    }
    fn e(code: &'static str) -> Want {
        Want::Err(code, "")
    }
    fn ed(code: &'static str, fragment: &'static str) -> Want {
        Want::Err(code, fragment)
    }
    const ABSENT: Want = Want::Absent;

    /// A pair's key against a declared name: decoded as the rest of the query is (`+` is a
    /// space only where `plus` says so), so an encoded key matches and a literal `%` in a
    /// declared name matches only its own encoding.
    #[test]
    fn keys_match_names_after_decoding() {
        let rows: &[(&str, &str, bool, bool)] = &[
            // (raw key, declared name, plus, matches)
            ("limit", "limit", true, true),
            ("limit", "limits", true, false),
            ("limits", "limit", true, false),
            ("lim%69t", "limit", true, true),
            ("%6C%69%6D%69%74", "limit", false, true),
            ("a+b", "a b", true, true),
            ("a+b", "a b", false, false),
            ("a+b", "a+b", false, true),
            ("a%2Bb", "a+b", true, true),
            ("a%20b", "a b", false, true),
            ("a%20b", "a%20b", false, false),
            ("a%2520b", "a%20b", false, true),
            ("f%5Bmin%5D", "f[min]", true, true),
            ("%FF", "\u{fffd}", true, false),
            ("", "", true, true),
            ("x", "", true, false),
            // The same length: only `+` as a space keeps it; a `%` that starts no escape stays.
            ("a+b", "a+b", true, false),
            ("a+b", "a c", true, false),
            ("abc", "abd", true, false),
            ("%zz", "%zz", true, true),
            ("a%2", "a%2", false, true),
            ("a%41", "a%41", true, false),
            // Longer: only a `%` escape can shorten it.
            ("limit+", "limit", true, false),
            ("a%41+", "aA ", true, true),
        ];
        for &(raw, name, plus, want) in rows {
            assert_eq!(
                key_is(raw, name, plus),
                want,
                "{raw:?} is {name:?} (plus: {plus})"
            );
        }
    }

    #[derive(Debug)]
    struct Row {
        loc: Location,
        style: Style,
        explode: bool,
        shape: &'static str,
        input: &'static str,
        allow_empty: bool,
        lenient: bool,
        want: Want,
    }

    fn row(
        loc: Location,
        style: Style,
        explode: bool,
        shape: &'static str,
        input: &'static str,
        want: Want,
    ) -> Row {
        Row {
            loc,
            style,
            explode,
            shape,
            input,
            allow_empty: false,
            lenient: false,
            want,
        }
    }

    impl Row {
        fn empty_ok(mut self) -> Row {
            self.allow_empty = true;
            self
        }
        fn lenient(mut self) -> Row {
            self.lenient = true;
            self
        }
    }

    fn shape(key: &str) -> Shape {
        let schema = match key {
            "str" => json!({"type": "string"}),
            "int" => json!({"type": "integer"}),
            "num" => json!({"type": "number"}),
            "bool" => json!({"type": "boolean"}),
            "arr" => json!({"type": "array", "items": {"type": "integer"}}),
            "sarr" => json!({"type": "array", "items": {"type": "string"}}),
            "barr" => json!({"type": "array", "items": {"type": "boolean"}}),
            "obj" => json!({"type": "object", "properties": {
                "R": {"type": "integer"}, "G": {"type": "integer"}, "B": {"type": "integer"}}}),
            "nobj" => json!({"type": "object", "properties": {"R": {"type": "integer"}},
                "additionalProperties": {"type": "number"}}),
            _ => panic!("unknown shape key {key}"),
        };
        Shape::from_schema(&schema)
    }

    #[rustfmt::skip]
    fn rows() -> Vec<Row> {
        vec![
            // ---- path, simple
            row(Path, Simple, false, "str", "blue", v(r#""blue""#)),
            row(Path, Simple, true, "str", "blue", v(r#""blue""#)),
            row(Path, Simple, false, "int", "5", v("5")),
            row(Path, Simple, true, "int", "-7", v("-7")),
            row(Path, Simple, false, "int", "abc", ed("type", "expected integer, got `abc`")),
            row(Path, Simple, false, "int", "1.0", e("type")),
            row(Path, Simple, false, "num", "1.5", v("1.5")),
            row(Path, Simple, false, "num", "x", e("type")),
            row(Path, Simple, false, "bool", "true", v("true")),
            row(Path, Simple, false, "bool", "yes", e("type")),
            row(Path, Simple, false, "bool", "yes", v("true")).lenient(),
            row(Path, Simple, false, "bool", "maybe", e("type")).lenient(),
            row(Path, Simple, false, "arr", "1,2,3", v("[1,2,3]")),
            row(Path, Simple, true, "arr", "1,2,3", v("[1,2,3]")),
            row(Path, Simple, false, "arr", "1,x,3", ed("type", "at index 1: expected integer, got `x`")),
            row(Path, Simple, false, "barr", "true,false", v("[true,false]")),
            row(Path, Simple, false, "sarr", "a%2Cb,c", v(r#"["a,b","c"]"#)),
            row(Path, Simple, false, "sarr", "a,,b", v(r#"["a","","b"]"#)),
            row(Path, Simple, false, "obj", "R,100,G,200", v(r#"{"R":100,"G":200}"#)),
            row(Path, Simple, false, "obj", "R,100,G", ed("format", "name `G` without a value")),
            row(Path, Simple, false, "obj", "R,x", ed("type", "property `R`: expected integer")),
            row(Path, Simple, false, "obj", "R,1,R,2", ed("duplicate", "property `R`")),
            row(Path, Simple, false, "obj", "X,1", v(r#"{"X":"1"}"#)),
            row(Path, Simple, false, "nobj", "X,1.5,R,2", v(r#"{"X":1.5,"R":2}"#)),
            row(Path, Simple, false, "nobj", "X,a", e("type")),
            row(Path, Simple, true, "obj", "R=100,G=200", v(r#"{"R":100,"G":200}"#)),
            row(Path, Simple, true, "obj", "R=100,G", ed("format", "expected `name=value` for each property, got `G`")),
            row(Path, Simple, true, "obj", "R%3D1=2", v(r#"{"R=1":"2"}"#)),
            row(Path, Simple, false, "str", "a+b", v(r#""a+b""#)),
            row(Path, Simple, false, "str", "a%20b%2B", v(r#""a b+""#)),
            row(Path, Simple, false, "str", "caf%C3%A9", v(r#""café""#)),
            row(Path, Simple, false, "str", "%FF", ed("encoding", "`%FF`")),
            row(Path, Simple, false, "sarr", "a,%C3", e("encoding")),
            row(Path, Simple, false, "str", "", ed("empty", "expected a non-empty value")),
            row(Path, Simple, false, "str", "", v(r#""""#)).empty_ok(),
            row(Path, Simple, false, "int", "", ed("type", "expected integer, got an empty value")).empty_ok(),
            row(Path, Simple, false, "arr", "", e("empty")),
            row(Path, Simple, false, "arr", "", v("[]")).empty_ok(),
            row(Path, Simple, false, "obj", "", v("{}")).empty_ok(),
            row(Path, Form, false, "arr", "1,2", v("[1,2]")),
            // ---- path, label
            row(Path, Label, false, "str", ".blue", v(r#""blue""#)),
            row(Path, Label, true, "str", ".blue", v(r#""blue""#)),
            row(Path, Label, false, "str", "blue", ed("format", "expected a label value starting with `.`, got `blue`")),
            row(Path, Label, false, "int", ".x", e("type")),
            row(Path, Label, false, "num", ".2.5", v("2.5")),
            row(Path, Label, true, "bool", ".false", v("false")),
            row(Path, Label, false, "arr", ".1,2,3", v("[1,2,3]")),
            row(Path, Label, true, "arr", ".1.2.3", v("[1,2,3]")),
            row(Path, Label, true, "arr", ".1,2", e("type")),
            row(Path, Label, false, "arr", ".1.2", e("type")),
            row(Path, Label, false, "obj", ".R,100,G,200", v(r#"{"R":100,"G":200}"#)),
            row(Path, Label, false, "obj", ".R,100,G", e("format")),
            row(Path, Label, true, "obj", ".R=100.G=200", v(r#"{"R":100,"G":200}"#)),
            row(Path, Label, true, "obj", ".R.100", e("format")),
            row(Path, Label, false, "str", ".", e("empty")),
            row(Path, Label, false, "str", "", e("empty")),
            row(Path, Label, false, "str", ".", v(r#""""#)).empty_ok(),
            row(Path, Label, false, "sarr", ".a%2Cb,c", v(r#"["a,b","c"]"#)),
            // ---- path, matrix
            row(Path, Matrix, false, "str", ";p=blue", v(r#""blue""#)),
            row(Path, Matrix, true, "int", ";p=5", v("5")),
            row(Path, Matrix, false, "int", ";p=x", e("type")),
            row(Path, Matrix, false, "num", ";p=-1.5e3", v("-1500")),
            row(Path, Matrix, true, "bool", ";p=true", v("true")),
            row(Path, Matrix, false, "str", ";q=blue", ed("format", "expected `;p=…`, got `;q=blue`")),
            row(Path, Matrix, false, "str", "p=blue", e("format")),
            row(Path, Matrix, false, "str", ";p=a;p=b", e("duplicate")),
            row(Path, Matrix, false, "str", ";%70=a", v(r#""a""#)),
            row(Path, Matrix, false, "arr", ";p=1,2,3", v("[1,2,3]")),
            row(Path, Matrix, false, "arr", ";p=1,x", e("type")),
            row(Path, Matrix, true, "arr", ";p=1;p=2;p=3", v("[1,2,3]")),
            row(Path, Matrix, true, "arr", ";p=1;q=2", e("format")),
            row(Path, Matrix, true, "arr", ";p=1;p=y", ed("type", "at index 1")),
            row(Path, Matrix, false, "obj", ";p=R,100,G,200", v(r#"{"R":100,"G":200}"#)),
            row(Path, Matrix, false, "obj", ";p=R", e("format")),
            row(Path, Matrix, true, "obj", ";R=100;G=200", v(r#"{"R":100,"G":200}"#)),
            row(Path, Matrix, true, "obj", ";R=x", e("type")),
            row(Path, Matrix, true, "obj", ";R", e("format")),
            row(Path, Matrix, false, "str", ";p", e("empty")),
            row(Path, Matrix, false, "str", ";p=", e("empty")),
            row(Path, Matrix, false, "str", ";p=", v(r#""""#)).empty_ok(),
            row(Path, Matrix, true, "arr", ";p", v("[]")).empty_ok(),
            row(Path, Matrix, false, "str", ";p=a+b", v(r#""a+b""#)),
            row(Path, Matrix, false, "sarr", ";p=a%2Cb,c", v(r#"["a,b","c"]"#)),
            // ---- query, form
            row(Query, Form, true, "str", "p=blue", v(r#""blue""#)),
            row(Query, Form, false, "str", "q=1&p=blue&r=2", v(r#""blue""#)),
            row(Query, Form, true, "str", "", ABSENT),
            row(Query, Form, true, "str", "q=1&pp=2", ABSENT),
            row(Query, Form, true, "int", "p=42", v("42")),
            row(Query, Form, true, "int", "p=4x", e("type")),
            row(Query, Form, true, "int", "p=+4", e("type")),
            row(Query, Form, false, "num", "p=0.25", v("0.25")),
            row(Query, Form, false, "num", "p=NaN", e("type")),
            row(Query, Form, true, "bool", "p=false", v("false")),
            row(Query, Form, true, "bool", "p=TRUE", e("type")),
            row(Query, Form, true, "bool", "p=TRUE", v("true")).lenient(),
            row(Query, Form, true, "str", "p=a+b", v(r#""a b""#)),
            row(Query, Form, true, "str", "p=a%2Bb", v(r#""a+b""#)),
            row(Query, Form, true, "int", "p=+1", e("type")),
            row(Query, Form, true, "str", "%70=x", v(r#""x""#)),
            row(Query, Form, true, "str", "p=%FF", e("encoding")),
            row(Query, Form, true, "str", "p=1&p=2", ed("duplicate", "given more than once")),
            row(Query, Form, true, "str", "p=", e("empty")),
            row(Query, Form, true, "str", "p", e("empty")),
            row(Query, Form, true, "str", "p=", v(r#""""#)).empty_ok(),
            row(Query, Form, true, "str", "p", v(r#""""#)).empty_ok(),
            row(Query, Form, true, "bool", "p", e("type")).empty_ok(),
            row(Query, Form, false, "arr", "p=1,2,3", v("[1,2,3]")),
            row(Query, Form, false, "arr", "p=1,2&p=3", e("duplicate")),
            row(Query, Form, false, "sarr", "p=a%2Cb,c", v(r#"["a,b","c"]"#)),
            row(Query, Form, false, "sarr", "p=a+b,c", v(r#"["a b","c"]"#)),
            row(Query, Form, false, "arr", "p=", e("empty")),
            row(Query, Form, false, "arr", "p=", v("[]")).empty_ok(),
            row(Query, Form, false, "arr", "p=1,,3", ed("type", "at index 1")),
            row(Query, Form, false, "arr", "q=1", ABSENT),
            row(Query, Form, true, "arr", "p=1&p=2&p=3", v("[1,2,3]")),
            row(Query, Form, true, "arr", "p=4", v("[4]")),
            row(Query, Form, true, "sarr", "p=a,b&p=c", v(r#"["a,b","c"]"#)),
            row(Query, Form, true, "arr", "p=1&q=0&p=x", ed("type", "at index 1")),
            row(Query, Form, true, "arr", "p=", e("empty")),
            row(Query, Form, true, "arr", "p=", v("[]")).empty_ok(),
            row(Query, Form, true, "arr", "p=1&p=", e("type")),
            row(Query, Form, true, "arr", "q=1", ABSENT),
            row(Query, Form, false, "obj", "p=R,100,G,200", v(r#"{"R":100,"G":200}"#)),
            row(Query, Form, false, "obj", "p=R,100,G", e("format")),
            row(Query, Form, false, "obj", "p=R,x", e("type")),
            row(Query, Form, false, "obj", "p=R,1&p=G,2", e("duplicate")),
            row(Query, Form, false, "obj", "p=", e("empty")),
            row(Query, Form, true, "obj", "R=100&G=200&other=1", v(r#"{"R":100,"G":200}"#)),
            row(Query, Form, true, "obj", "R=x", ed("type", "property `R`")),
            row(Query, Form, true, "obj", "R=1&R=2", e("duplicate")),
            row(Query, Form, true, "obj", "other=1", ABSENT),
            row(Query, Form, true, "nobj", "R=1&X=2", v(r#"{"R":1}"#)),
            row(Query, Simple, false, "arr", "p=1,2", v("[1,2]")),
            row(Query, Form, true, "int", "p=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                ed("type", "got `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…`")),
            // ---- query, spaceDelimited
            row(Query, SpaceDelimited, false, "arr", "p=1%202%203", v("[1,2,3]")),
            row(Query, SpaceDelimited, false, "arr", "p=1+2 3", v("[1,2,3]")),
            row(Query, SpaceDelimited, false, "arr", "p=1%20x", e("type")),
            row(Query, SpaceDelimited, false, "arr", "p=1%202&p=3", e("duplicate")),
            row(Query, SpaceDelimited, false, "sarr", "p=a,b%20c", v(r#"["a,b","c"]"#)),
            row(Query, SpaceDelimited, false, "obj", "p=R%20100%20G%20200", v(r#"{"R":100,"G":200}"#)),
            row(Query, SpaceDelimited, false, "obj", "p=R%20100%20G", e("format")),
            row(Query, SpaceDelimited, true, "arr", "p=1&p=2", v("[1,2]")),
            row(Query, SpaceDelimited, true, "sarr", "p=a+b", v(r#"["a b"]"#)),
            row(Query, SpaceDelimited, true, "obj", "R=1&G=2", v(r#"{"R":1,"G":2}"#)),
            row(Query, SpaceDelimited, false, "int", "p=5", v("5")),
            row(Query, SpaceDelimited, false, "arr", "p=", v("[]")).empty_ok(),
            // ---- query, pipeDelimited
            row(Query, PipeDelimited, false, "arr", "p=1|2|3", v("[1,2,3]")),
            row(Query, PipeDelimited, false, "arr", "p=1%7C2%7c3", v("[1,2,3]")),
            row(Query, PipeDelimited, false, "arr", "p=1|y", e("type")),
            row(Query, PipeDelimited, false, "arr", "p=1|2&p=3", e("duplicate")),
            row(Query, PipeDelimited, false, "sarr", "p=a+b|c,d", v(r#"["a b","c,d"]"#)),
            row(Query, PipeDelimited, false, "obj", "p=R|100|G|200", v(r#"{"R":100,"G":200}"#)),
            row(Query, PipeDelimited, false, "obj", "p=R|100|G", e("format")),
            row(Query, PipeDelimited, true, "arr", "p=1&p=2", v("[1,2]")),
            row(Query, PipeDelimited, true, "obj", "G=2", v(r#"{"G":2}"#)),
            row(Query, PipeDelimited, false, "bool", "p=true", v("true")),
            // ---- Swagger 2.0 `collectionFormat: tsv` (query), and ssv / pipes / tsv in
            // paths and headers, which 3.x styles do not reach
            row(Query, TabDelimited, false, "arr", "p=1%092%093", v("[1,2,3]")),
            row(Query, TabDelimited, false, "arr", "p=1\t2", v("[1,2]")),
            row(Query, TabDelimited, false, "arr", "p=1,2", e("type")),
            row(Query, TabDelimited, false, "sarr", "p=a+b%09c,d", v(r#"["a b","c,d"]"#)),
            row(Query, TabDelimited, true, "arr", "p=1&p=2", v("[1,2]")),
            row(Path, SpaceDelimited, false, "arr", "1%202", v("[1,2]")),
            row(Path, SpaceDelimited, false, "sarr", "a+b%20c", v(r#"["a+b","c"]"#)),
            row(Path, PipeDelimited, false, "arr", "1|2%7C3", v("[1,2,3]")),
            row(Path, PipeDelimited, false, "arr", "1,2", e("type")),
            row(Path, TabDelimited, false, "arr", "1%092", v("[1,2]")),
            row(Header, SpaceDelimited, false, "arr", "1 2", v("[1,2]")),
            row(Header, PipeDelimited, false, "sarr", "a|b,c", v(r#"["a","b,c"]"#)),
            row(Header, TabDelimited, false, "arr", "1\t2", v("[1,2]")),
            row(Header, PipeDelimited, false, "arr", "1|2\n3", e("duplicate")),
            row(Header, PipeDelimited, false, "arr", NO_HEADER, ABSENT),
            // ---- query, deepObject
            row(Query, DeepObject, true, "obj", "p[R]=100&p[G]=200", v(r#"{"R":100,"G":200}"#)),
            row(Query, DeepObject, false, "obj", "p[R]=100", v(r#"{"R":100}"#)),
            row(Query, DeepObject, true, "obj", "p%5BR%5D=100", v(r#"{"R":100}"#)),
            row(Query, DeepObject, true, "obj", "p[R]=x", ed("type", "property `R`: expected integer, got `x`")),
            row(Query, DeepObject, true, "obj", "p[R]=1&p[R]=2", e("duplicate")),
            row(Query, DeepObject, true, "obj", "q[R]=1&R=2&p=3", ABSENT),
            row(Query, DeepObject, true, "obj", "p[X]=a+b", v(r#"{"X":"a b"}"#)),
            row(Query, DeepObject, true, "nobj", "p[X]=2.5", v(r#"{"X":2.5}"#)),
            row(Query, DeepObject, true, "obj", "p[R][x]=1", ed("format", "expected `p[property]`")),
            row(Query, DeepObject, true, "obj", "p[]=1", e("format")),
            row(Query, DeepObject, true, "obj", "p[R=1", e("format")),
            row(Query, DeepObject, true, "int", "p=3", v("3")),
            // ---- header, simple
            row(Header, Simple, false, "str", "blue", v(r#""blue""#)),
            row(Header, Simple, false, "str", NO_HEADER, ABSENT),
            row(Header, Simple, false, "arr", NO_HEADER, ABSENT),
            row(Header, Simple, false, "int", "12", v("12")),
            row(Header, Simple, true, "int", " 12\t", v("12")),
            row(Header, Simple, false, "int", "1.0", e("type")),
            row(Header, Simple, false, "num", "2.5", v("2.5")),
            row(Header, Simple, false, "num", "2,5", e("type")),
            row(Header, Simple, false, "bool", "on", e("type")),
            row(Header, Simple, false, "bool", "on", v("true")).lenient(),
            row(Header, Simple, false, "str", "a+b", v(r#""a+b""#)),
            row(Header, Simple, false, "str", "a, b", v(r#""a, b""#)),
            row(Header, Simple, false, "str", "a\nb", e("duplicate")),
            row(Header, Simple, false, "str", "", e("empty")),
            row(Header, Simple, false, "str", "", v(r#""""#)).empty_ok(),
            row(Header, Simple, false, "arr", "1, 2,3", v("[1,2,3]")),
            row(Header, Simple, false, "arr", "1,2\n3", v("[1,2,3]")),
            row(Header, Simple, true, "arr", "1,2", v("[1,2]")),
            row(Header, Simple, true, "arr", "1,x", ed("type", "at index 1")),
            row(Header, Simple, false, "arr", " ", e("empty")),
            row(Header, Simple, false, "arr", "", v("[]")).empty_ok(),
            row(Header, Simple, false, "sarr", "a%2Cb,c", v(r#"["a,b","c"]"#)),
            row(Header, Simple, false, "obj", "R,100,G,200", v(r#"{"R":100,"G":200}"#)),
            row(Header, Simple, false, "obj", "R,100,G", e("format")),
            row(Header, Simple, true, "obj", "R=100, G=200", v(r#"{"R":100,"G":200}"#)),
            row(Header, Simple, true, "obj", "R=100\nG=200", v(r#"{"R":100,"G":200}"#)),
            row(Header, Simple, true, "obj", "R100", e("format")),
            row(Header, Label, false, "arr", "1,2", v("[1,2]")),
            // ---- cookie, form
            row(Cookie, Form, true, "str", "p=blue; q=x", v(r#""blue""#)),
            row(Cookie, Form, true, "str", "q=x", ABSENT),
            row(Cookie, Form, true, "str", "", ABSENT),
            row(Cookie, Form, true, "int", "p=7", v("7")),
            row(Cookie, Form, true, "int", "p=seven", e("type")),
            row(Cookie, Form, true, "num", "p=1e2", v("100")),
            row(Cookie, Form, true, "num", "p=1e", e("type")),
            row(Cookie, Form, true, "bool", "p=false", v("false")),
            row(Cookie, Form, true, "bool", "p=no", e("type")),
            row(Cookie, Form, true, "bool", "p=no", v("false")).lenient(),
            row(Cookie, Form, true, "str", "p=a+b", v(r#""a+b""#)),
            row(Cookie, Form, true, "str", "p=a%20b", v(r#""a b""#)),
            row(Cookie, Form, true, "str", "p=1; p=2", e("duplicate")),
            row(Cookie, Form, true, "str", "p=", e("empty")),
            row(Cookie, Form, true, "str", "p=", v(r#""""#)).empty_ok(),
            row(Cookie, Form, false, "arr", "p=1,2,3", v("[1,2,3]")),
            row(Cookie, Form, false, "arr", "p=1,x", e("type")),
            row(Cookie, Form, false, "arr", "p=1; p=2", e("duplicate")),
            row(Cookie, Form, false, "sarr", "p=a%2Cb,c", v(r#"["a,b","c"]"#)),
            row(Cookie, Form, true, "arr", "p=1; p=2", v("[1,2]")),
            row(Cookie, Form, true, "arr", "p=1;p=z", e("type")),
            row(Cookie, Form, false, "obj", "p=R,100,G,200", v(r#"{"R":100,"G":200}"#)),
            row(Cookie, Form, false, "obj", "p=R,100,G", e("format")),
            row(Cookie, Form, true, "obj", "R=100; G=200", v(r#"{"R":100,"G":200}"#)),
            row(Cookie, Form, true, "obj", "R=1; R=2", e("duplicate")),
            row(Cookie, Form, true, "obj", "R=a", e("type")),
            row(Cookie, Form, true, "obj", "x=1", ABSENT),
            row(Cookie, Simple, false, "arr", "p=1,2", v("[1,2]")),
            row(Cookie, DeepObject, true, "obj", "R=1", v(r#"{"R":1}"#)),
            // ---- cookie, OpenAPI 3.2 `style: cookie`: the 3.2 style table's rows, and no
            // percent-decoding ("any apparent percent-encoding MUST NOT be decoded")
            row(Cookie, CookieStyle, true, "str", "p=blue", v(r#""blue""#)),
            row(Cookie, CookieStyle, false, "str", "p=blue", v(r#""blue""#)),
            row(Cookie, CookieStyle, true, "str", "p=", e("empty")),
            row(Cookie, CookieStyle, true, "str", "p=", v(r#""""#)).empty_ok(),
            row(Cookie, CookieStyle, true, "str", "p=a%20b", v(r#""a%20b""#)),
            row(Cookie, CookieStyle, true, "str", "p=a+b", v(r#""a+b""#)),
            row(Cookie, CookieStyle, true, "str", "p=%zz", v(r#""%zz""#)),
            row(Cookie, CookieStyle, true, "str", "p=%FF", v(r#""%FF""#)),
            row(Cookie, CookieStyle, true, "str", "p%31=x; p=y", v(r#""y""#)),
            row(Cookie, CookieStyle, true, "str", "p=\"quoted\"", v(r#""\"quoted\"""#)),
            row(Cookie, CookieStyle, true, "int", "p=%37", e("type")),
            row(Cookie, CookieStyle, true, "str", "p=1; p=2", e("duplicate")),
            row(Cookie, CookieStyle, false, "sarr", "p=blue,black,brown", v(r#"["blue","black","brown"]"#)),
            row(Cookie, CookieStyle, false, "sarr", "p=a%2Cb,c", v(r#"["a%2Cb","c"]"#)),
            row(Cookie, CookieStyle, true, "sarr", "p=blue; p=black; p=brown", v(r#"["blue","black","brown"]"#)),
            row(Cookie, CookieStyle, true, "sarr", "p=a%3Bb; p=c", v(r#"["a%3Bb","c"]"#)),
            row(Cookie, CookieStyle, false, "obj", "p=R,100,G,200,B,150", v(r#"{"R":100,"G":200,"B":150}"#)),
            row(Cookie, CookieStyle, true, "obj", "R=100; G=200; B=150", v(r#"{"R":100,"G":200,"B":150}"#)),
            row(Cookie, CookieStyle, true, "obj", "R=%31", e("type")),
            // `form` cookies, the default, are percent-decoded: the same texts read differently
            row(Cookie, Form, true, "str", "p=%zz", v(r#""%zz""#)),
            row(Cookie, Form, true, "int", "p=%37", v("7")),
            row(Cookie, Form, true, "sarr", "p=a%3Bb; p=c", v(r#"["a;b","c"]"#)),
            // ---- the 3.2 style table's percent-encoded delimiters, as the table writes them
            row(Query, PipeDelimited, false, "sarr", "p=blue%7Cblack%7Cbrown", v(r#"["blue","black","brown"]"#)),
            row(Query, PipeDelimited, false, "obj", "p=R%7C100%7CG%7C200%7CB%7C150", v(r#"{"R":100,"G":200,"B":150}"#)),
            row(Query, SpaceDelimited, false, "sarr", "p=blue%20black%20brown", v(r#"["blue","black","brown"]"#)),
            row(Query, DeepObject, true, "obj", "p%5BR%5D=100&p%5BG%5D=200&p%5BB%5D=150", v(r#"{"R":100,"G":200,"B":150}"#)),
            // `allowReserved: true` only lets reserved characters through unencoded; decoding
            // is the same (`+` stays a space in a query: 3.2 "URL Percent-Encoding")
            row(Query, Form, true, "str", "p=a/b?c:d@e!$'()*", v(r#""a/b?c:d@e!$'()*""#)),
            row(Query, Form, true, "str", "p=x+y", v(r#""x y""#)),
            // a `cookie` style on a query reads as `form`, like any style the location lacks
            row(Query, CookieStyle, true, "sarr", "p=a&p=b%20c", v(r#"["a","b c"]"#)),
        ]
    }

    fn run(r: &Row) -> Result<Option<Value>, DecodeError> {
        let shape = shape(r.shape);
        let coercion = Coercion {
            lenient_booleans: r.lenient,
        };
        let spec = ParamSpec {
            name: "p",
            style: r.style,
            explode: r.explode,
            shape: &shape,
            allow_empty: r.allow_empty,
            coercion: &coercion,
        };
        match r.loc {
            Path => decode_path(r.input, &spec).map(Some),
            Query => decode_query(&split_query(r.input), &spec),
            Header if r.input == NO_HEADER => decode_header(&[], &spec),
            Header => decode_header(&r.input.split('\n').collect::<Vec<_>>(), &spec),
            Cookie => decode_cookie(&split_cookies(r.input), &spec),
        }
    }

    #[test]
    fn decode_table() {
        let rows = rows();
        let mut failures = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let got = run(r);
            let ok = match (&r.want, &got) {
                (Want::Val(j), Ok(Some(value))) => {
                    serde_json::from_str::<Value>(j).unwrap() == *value
                }
                (Want::Absent, Ok(None)) => true,
                (Want::Err(code, fragment), Err(err)) => {
                    err.code.as_str() == *code
                        && err.detail.contains(fragment)
                        && !err.detail.starts_with(char::is_uppercase)
                        && err.detail.chars().count() < 200
                }
                _ => false,
            };
            if !ok {
                failures.push(format!("row {i}: {r:?}\n    got {got:?}"));
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

    /// Each pair as (name as sent, name decoded, value as sent).
    fn triples<'a>(pairs: &'a [Pair<'a>]) -> Vec<(&'a str, Option<&'a str>, &'a str)> {
        pairs
            .iter()
            .map(|p| (p.raw_name, p.name.as_deref(), p.value))
            .collect()
    }

    #[test]
    fn split_table() {
        type Pairs = &'static [(&'static str, Option<&'static str>, &'static str)];
        let queries: [(&str, Pairs); 9] = [
            ("", &[]),
            ("a=1&b=2", &[("a", Some("a"), "1"), ("b", Some("b"), "2")]),
            ("a&&b=", &[("a", Some("a"), ""), ("b", Some("b"), "")]),
            ("a=1=2", &[("a", Some("a"), "1=2")]),
            (
                "=x&a%3D=b",
                &[("", Some(""), "x"), ("a%3D", Some("a="), "b")],
            ),
            ("a=1;b=2", &[("a", Some("a"), "1;b=2")]),
            // Names are decoded once here, `+` as a space; values stay as sent.
            ("a+b=c+d", &[("a+b", Some("a b"), "c+d")]),
            ("f%5Bmin%5D=%31", &[("f%5Bmin%5D", Some("f[min]"), "%31")]),
            // Not UTF-8 once decoded: no parameter's name.
            (
                "%FF=1&%zz=2",
                &[("%FF", None, "1"), ("%zz", Some("%zz"), "2")],
            ),
        ];
        for (i, (raw, want)) in queries.iter().enumerate() {
            assert_eq!(triples(&split_query(raw)), *want, "query row {i}: `{raw}`");
            // The bounded splitter scans the bytes itself: the same pairs within its bounds.
            let bounded = split_query_bounded(raw, usize::MAX, usize::MAX);
            assert_eq!(
                bounded.as_deref().map(triples).as_deref(),
                Some(*want),
                "query row {i}, bounded: `{raw}`"
            );
        }
        // (query, max pairs, max name length, pairs or None when over the limit)
        let bounded: [(&str, usize, usize, Option<Pairs>); 7] = [
            ("", 0, 9, Some(&[])),
            (
                "a=1&b=2",
                2,
                9,
                Some(&[("a", Some("a"), "1"), ("b", Some("b"), "2")]),
            ),
            ("a=1&b=2", 1, 9, None),
            ("a=1&&&", 1, 9, Some(&[("a", Some("a"), "1")])),
            ("&&a=1=2&", 1, 9, Some(&[("a", Some("a"), "1=2")])),
            ("a&b&c", 0, 9, None),
            // A name over the length limit is refused for it before it is decoded.
            (
                "abc%41=1&ab=2",
                2,
                3,
                Some(&[("abc%41", None, "1"), ("ab", Some("ab"), "2")]),
            ),
        ];
        for (i, (raw, max, max_name, want)) in bounded.iter().enumerate() {
            let got = split_query_bounded(raw, *max, *max_name);
            assert_eq!(
                got.as_deref().map(triples).as_deref(),
                *want,
                "bounded row {i}: `{raw}`"
            );
        }
        // Eight pairs stay inline; past them the room for every pair left is taken at once.
        let query = |n: usize| {
            (0..n)
                .map(|i| format!("p{i}={i}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let eight = query(8);
        let inline = split_query_bounded(&eight, 100, 9).unwrap();
        assert_eq!((inline.len(), inline.spilled()), (8, false));
        let twenty = query(20);
        let spilled = split_query_bounded(&twenty, 100, 9).unwrap();
        assert_eq!((spilled.len(), spilled.capacity()), (20, 20));
        assert_eq!(spilled[19].value, "19");
        let capped = split_query_bounded(&twenty, 12, 9);
        assert!(capped.is_none());
        let mut reused = spilled;
        assert!(split_query_into(&eight, 12, 9, &mut reused));
        assert_eq!(reused.len(), 8);
        let cookies: [(&str, Pairs); 6] = [
            ("", &[]),
            ("a=1; b=2", &[("a", Some("a"), "1"), ("b", Some("b"), "2")]),
            (
                " a=1 ;;\tb ; c=x=y ",
                &[
                    ("a", Some("a"), "1"),
                    ("b", Some("b"), ""),
                    ("c", Some("c"), "x=y"),
                ],
            ),
            ("a=\"q\"", &[("a", Some("a"), "\"q\"")]),
            ("a=1&b=2", &[("a", Some("a"), "1&b=2")]),
            // In a cookie `+` is itself.
            (
                "a+b=1; c%20d=2",
                &[("a+b", Some("a+b"), "1"), ("c%20d", Some("c d"), "2")],
            ),
        ];
        for (i, (raw, want)) in cookies.iter().enumerate() {
            assert_eq!(
                triples(&split_cookies(raw)),
                *want,
                "cookie row {i}: `{raw}`"
            );
        }
    }

    #[test]
    fn decoding_borrows_when_nothing_is_encoded() {
        assert!(matches!(
            decode_text("plain", true),
            Ok(Cow::Borrowed("plain"))
        ));
        assert!(matches!(
            decode_text("a+b", false),
            Ok(Cow::Borrowed("a+b"))
        ));
        assert!(matches!(decode_text("a%20b", false), Ok(Cow::Owned(s)) if s == "a b"));
    }

    #[test]
    fn percent_decoding_table() {
        // (raw, `+` is a space, decoded or None when not UTF-8)
        let rows: &[(&str, bool, Option<&str>)] = &[
            ("a+b", true, Some("a b")),
            ("a%2Bb", true, Some("a+b")),
            ("%e2%82%AC", false, Some("€")),
            ("100%", false, Some("100%")),
            ("%4", false, Some("%4")),
            ("%zz%41", false, Some("%zzA")),
            ("%%41", false, Some("%A")),
            ("+%20+", true, Some("   ")),
            ("caf%C3%A9", false, Some("café")),
            ("%FF", false, None),
            ("%C3", true, None),
        ];
        for (i, (raw, plus, want)) in rows.iter().enumerate() {
            let got = decode_text(raw, *plus).ok();
            assert_eq!(got.as_deref(), *want, "row {i}: `{raw}`");
        }
    }
}
