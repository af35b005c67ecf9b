//! Request bodies: media-type negotiation, JSON with syntax positions, forms and multipart.
//!
//! JSON bodies (any `+json` type too) are parsed and validated against their schema; a syntax
//! error answers with its line, column and character. `application/x-www-form-urlencoded`
//! and `multipart/form-data` fields are coerced by their property schemas (`age=30` is the
//! integer 30) before validation. A `text/*` body whose schema is a string is decoded as
//! UTF-8 and validated as that string. In an OpenAPI 3.2 document the sequential media types
//! (JSON Lines, NDJSON, JSON text sequences, event streams) are read item by item
//! (see `docs/streams.md`). Other media types pass through unread.

pub(crate) mod defaults;
pub(crate) mod items;
pub(crate) mod media;
mod request_body;
pub(crate) mod tee;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

pub(crate) use media::{MediaType, best_match};
pub use request_body::Body;

use crate::params::{
    Coercion, DecodeError, Pair, ParamSpec, Prim, Shape, Style, coerce, decode_query,
};
use crate::problem::{FieldCode, FieldError, Place, TextLocation};

/// How a body of a declared media type is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Json,
    Form,
    Multipart,
    /// A `text/*` body with a string schema: read as UTF-8 and checked as one string.
    Text,
    /// Not read: binary, text without a string schema and anything else pass through
    /// untouched.
    PassThrough,
    /// A sequential media type of an OpenAPI 3.2 document (`application/jsonl`, …): items
    /// checked against the `itemSchema` as they stream, or the whole read as an array.
    Sequence(items::ItemFormat),
}

impl BodyKind {
    pub fn of(media: &MediaType) -> Self {
        if media.is_json() {
            BodyKind::Json
        } else if media.is_form() {
            BodyKind::Form
        } else if media.is_multipart_form() {
            BodyKind::Multipart
        } else if media.ty == "text" {
            BodyKind::Text
        } else {
            BodyKind::PassThrough
        }
    }
}

/// A declared property of a form body, with how its value is serialized (`encoding`).
#[derive(Debug, Clone)]
pub(crate) struct FormField {
    pub name: String,
    pub shape: Shape,
    pub style: Style,
    pub explode: bool,
    /// `format: password` or `writeOnly`: errors never show the value.
    pub secret: bool,
}

/// A body that could not be parsed: what is wrong and, for JSON, where.
#[derive(Debug)]
pub(crate) struct Malformed {
    pub detail: String,
    pub location: Option<TextLocation>,
    /// For a member name given twice in one object: the JSON pointer to the second one.
    pub duplicate: Option<String>,
}

impl Malformed {
    /// The field error of a duplicate member name, when that is what is wrong.
    pub fn duplicate_error(&self) -> Option<FieldError> {
        self.duplicate.as_ref().map(|pointer| FieldError {
            place: Place::Body,
            name: String::new(),
            pointer: pointer.clone(),
            code: FieldCode::Duplicate,
            detail: self.detail.clone(),
        })
    }
}

/// Why a body could not be read whole.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// More than the limit arrived (or a body limit set before this layer was hit).
    TooLarge,
    /// The body failed: the client hung up, or sent less than it declared.
    Failed,
}

/// Reads a body whole, refusing it once more than `limit` bytes have arrived. A body that
/// arrives as one data frame, as a small request's does, is handed back as that frame's
/// bytes: no list of frames, no copy. Trailers are not kept.
pub(crate) async fn read_whole<B>(body: B, limit: usize) -> Result<bytes::Bytes, ReadError>
where
    B: http_body::Body<Data = bytes::Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut first = bytes::Bytes::new();
    let mut joined: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            // A limit set in front of this layer (`http_body_util::Limited`) is a size too.
            if e.into().is::<http_body_util::LengthLimitError>() {
                ReadError::TooLarge
            } else {
                ReadError::Failed
            }
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        let read = joined.as_ref().map_or(first.len(), |j| j.len());
        if read + data.len() > limit {
            return Err(ReadError::TooLarge);
        }
        match &mut joined {
            Some(joined) => joined.extend_from_slice(&data),
            None if first.is_empty() => first = data,
            None => {
                let mut both = bytes::BytesMut::with_capacity(first.len() + data.len());
                both.extend_from_slice(&first);
                both.extend_from_slice(&data);
                joined = Some(both);
            }
        }
    }
    Ok(joined.map_or(first, bytes::BytesMut::freeze))
}

/// Parses JSON nested at most `max_depth` levels, answering the syntax error's 1-based line,
/// column and character.
///
/// One pass: the depth is counted while the value is built, and the text is checked as UTF-8
/// once up front rather than string by string.
pub(crate) fn parse_json(bytes: &[u8], max_depth: usize) -> Result<Value, Malformed> {
    let text = std::str::from_utf8(bytes).map_err(|e| Malformed {
        detail: "the body is not valid UTF-8".to_owned(),
        location: Some(offset_location(bytes, e.valid_up_to())),
        duplicate: None,
    })?;
    let too_deep = Cell::new(false);
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = DepthLimited {
        left: max_depth,
        too_deep: &too_deep,
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    parsed.map_err(|e| {
        let location = (e.line() > 0).then(|| text_location(bytes, e.line(), e.column()));
        if let Some(Duplicate { name, path }) = duplicate.take() {
            // RFC 8259 §4: "The names within an object SHOULD be unique." Parsers differ on
            // which of two values they keep, so the service could read the one not checked.
            let pointer = path
                .iter()
                .rev()
                .chain([&name])
                .fold(String::new(), |at, segment| {
                    crate::spec::pointer::join(&at, segment)
                });
            let shown = cut(&name);
            return Malformed {
                detail: format!(
                    "the body has the member name `{shown}` twice in one object; expected \
                     unique names"
                ),
                location,
                duplicate: Some(pointer),
            };
        }
        // The parser's own limit (128 levels) is met first when the setting is its maximum.
        if too_deep.get() || e.to_string().starts_with("recursion limit exceeded") {
            return Malformed {
                detail: format!("the body nests arrays and objects deeper than {max_depth} levels"),
                location,
                duplicate: None,
            };
        }
        let message = e.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        Malformed {
            detail: format!("the body is not valid JSON: {message}"),
            location,
            duplicate: None,
        }
    })
}

/// A member name given twice, and the names and indexes of the values around it, innermost
/// first: filled in only as the error unwinds.
struct Duplicate {
    name: String,
    path: Vec<String>,
}

/// A name as shown in a message: at most 64 characters.
fn cut(name: &str) -> &str {
    match name.char_indices().nth(64) {
        Some((end, _)) => &name[..end],
        None => name,
    }
}

/// Builds a [`Value`] like serde_json does, refusing the array or object that would open
/// level `left + 1`: a deep body stops there, before the rest of it is built.
///
/// It also refuses a member name given twice in one object: `serde_json` would keep the last
/// value, and a parser behind oasgate may keep the first.
#[derive(Clone, Copy)]
struct DepthLimited<'a> {
    left: usize,
    too_deep: &'a Cell<bool>,
    duplicate: &'a RefCell<Option<Duplicate>>,
}

impl DepthLimited<'_> {
    /// Adds the segment of the value an error left through, when the error is a duplicate.
    fn unwinding(self, segment: impl FnOnce() -> String) {
        if let Some(duplicate) = self.duplicate.borrow_mut().as_mut() {
            duplicate.path.push(segment());
        }
    }

    fn enter<E: serde::de::Error>(self) -> Result<Self, E> {
        match self.left.checked_sub(1) {
            Some(left) => Ok(DepthLimited { left, ..self }),
            None => {
                self.too_deep.set(true);
                Err(E::custom("nested too deeply"))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for DepthLimited<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DepthLimited<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON text has no NaN or infinity, so this never falls back to null.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        loop {
            match seq.next_element_seed(inner) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.unwinding(|| items.len().to_string());
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One lookup: the value is read into the vacant slot.
            match members.entry(key) {
                Entry::Vacant(slot) => match map.next_value_seed(inner) {
                    Ok(value) => {
                        slot.insert(value);
                    }
                    Err(e) => {
                        self.unwinding(|| slot.key().clone());
                        return Err(e);
                    }
                },
                Entry::Occupied(slot) => {
                    *self.duplicate.borrow_mut() = Some(Duplicate {
                        name: slot.key().clone(),
                        path: Vec::new(),
                    });
                    return Err(serde::de::Error::custom("duplicate member name"));
                }
            }
        }
        Ok(Value::Object(members))
    }
}

/// The byte offset of the first `[` or `{` that opens level `max_depth + 1`, if any.
///
/// One pass over the bytes that tracks only strings and brackets, run before the parser so
/// that a deep value is refused before any of it is built. Malformed JSON is the parser's
/// business: the scan never fails, it just counts.
pub(crate) fn nesting_exceeds(bytes: &[u8], max_depth: usize) -> Option<usize> {
    // Every level takes at least one byte.
    if bytes.len() <= max_depth {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Reads a `text/*` body as the string its schema checks: UTF-8, or only ASCII bytes when
/// the charset is `us-ascii`.
pub(crate) fn parse_text(bytes: &[u8], ascii_only: bool) -> Result<Value, Malformed> {
    let malformed = |offset: usize, expected: &str| Malformed {
        detail: format!("the body is not valid {expected}"),
        location: Some(offset_location(bytes, offset)),
        duplicate: None,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(e.valid_up_to(), "UTF-8"))?;
    if ascii_only && let Some(offset) = text.bytes().position(|b| !b.is_ascii()) {
        return Err(malformed(offset, "US-ASCII (its charset)"));
    }
    Ok(Value::String(text.to_owned()))
}

/// The 1-based line, column and character of a byte offset.
fn offset_location(bytes: &[u8], offset: usize) -> TextLocation {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let chars = |b: &[u8]| String::from_utf8_lossy(b).chars().count();
    TextLocation {
        line: before.iter().filter(|&&b| b == b'\n').count() + 1,
        column: chars(&before[line_start..]) + 1,
        character: chars(before) + 1,
    }
}

/// Turns serde_json's line and byte column into character positions.
fn text_location(bytes: &[u8], line: usize, column: usize) -> TextLocation {
    let text = String::from_utf8_lossy(bytes);
    let mut character = 0;
    let mut col_chars = column;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line {
            let upto = column.min(l.len());
            let upto = (0..=upto)
                .rev()
                .find(|&n| l.is_char_boundary(n))
                .unwrap_or(0);
            col_chars = l[..upto].chars().count().max(1);
            character += col_chars;
            break;
        }
        character += l.chars().count() + 1;
    }
    TextLocation {
        line,
        column: col_chars,
        character,
    }
}

/// Parses an `application/x-www-form-urlencoded` body into an object of coerced fields.
///
/// Declared fields are decoded by their `encoding` style; undeclared ones are kept as strings
/// (or lists of strings when repeated) so that `additionalProperties: false` can reject them.
pub(crate) fn parse_form(
    bytes: &[u8],
    fields: &[FormField],
    coercion: &Coercion,
    max_pairs: usize,
) -> Result<Value, Vec<FieldError>> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        vec![field_error(
            "",
            FieldCode::Encoding,
            "the form body is not UTF-8".to_owned(),
        )]
    })?;
    // The body is handed on as sent, and oasgate splits it on `&` only; servers that also
    // split on `;` (older `parse_qs`) would read another field. Form encoders write `%3B`
    // (the WHATWG `application/x-www-form-urlencoded` serializer leaves only alphanumerics
    // and `*-._` unescaped), so a raw `;` is refused.
    if text.contains(';') {
        return Err(vec![field_error(
            "",
            FieldCode::Delimiter,
            "the form body has a raw `;`, which the service may read as a delimiter; expected \
             it percent-encoded as `%3B`"
                .to_owned(),
        )]);
    }
    let Some(pairs) = crate::params::split_query_bounded(text, max_pairs, usize::MAX) else {
        return Err(vec![field_error(
            "",
            FieldCode::TooMany,
            format!("the form body has more than {max_pairs} fields"),
        )]);
    };
    // Form encoders percent-encode the style's delimiters with everything else (`ids=1%2C2`),
    // so in a form body a value is decoded before it is split: escape what must survive that
    // second decoding and hand the decoder the rest as plain text.
    let values: Vec<Cow<'_, str>> = pairs.iter().map(|pair| predecoded(pair.value)).collect();
    let field_pairs: Vec<Pair<'_>> = pairs
        .iter()
        .zip(&values)
        .map(|(pair, value)| Pair {
            raw_name: pair.raw_name,
            name: pair.name.as_deref().map(Cow::Borrowed),
            value,
        })
        .collect();
    let mut object = Map::new();
    let mut errors = Vec::new();
    for field in fields {
        let spec = ParamSpec {
            name: &field.name,
            style: field.style,
            explode: field.explode,
            shape: &field.shape,
            allow_empty: true,
            coercion,
        };
        match decode_query(&field_pairs, &spec) {
            Ok(Some(value)) => {
                object.insert(field.name.clone(), value);
            }
            Ok(None) => {}
            Err(e) => errors.push(decode_error(&field.name, e, field.secret)),
        }
    }
    for Pair {
        raw_name: key,
        value,
        ..
    } in &pairs
    {
        let key = decode_component(key);
        if fields.iter().any(|f| f.name == key) || owned_by_exploded_object(fields, &key) {
            continue;
        }
        let value = Value::String(decode_component(value));
        match object.get_mut(&key) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                object.insert(key, value);
            }
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(object))
    } else {
        Err(errors)
    }
}

/// A form value percent-decoded once, with `%` and `+` escaped again so that the parameter
/// decoder's own decoding gives back the text; left raw when it is not UTF-8 once decoded, for
/// the decoder to report.
fn predecoded(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let spaced = raw.replace('+', " ");
    match percent_encoding::percent_decode_str(&spaced).decode_utf8() {
        Ok(text) => Cow::Owned(text.replace('%', "%25").replace('+', "%2B")),
        Err(_) => Cow::Borrowed(raw),
    }
}

/// Whether an undeclared key is really a property of an exploded object field.
fn owned_by_exploded_object(fields: &[FormField], key: &str) -> bool {
    fields.iter().any(|f| match &f.shape {
        Shape::Object(o) => {
            (f.explode && f.style == Style::Form && o.properties.iter().any(|(p, _)| p == key))
                || (f.style == Style::DeepObject && key.starts_with(&format!("{}[", f.name)))
        }
        _ => false,
    })
}

fn decode_component(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn decode_error(name: &str, e: DecodeError, secret: bool) -> FieldError {
    FieldError {
        place: Place::Body,
        name: String::new(),
        pointer: crate::spec::pointer::join("", name),
        code: e.code,
        detail: if secret {
            format!("field `{name}`: invalid value (`{}`; value hidden)", e.code)
        } else {
            e.detail
        },
    }
}

fn field_error(pointer: &str, code: FieldCode, detail: String) -> FieldError {
    FieldError {
        place: Place::Body,
        name: String::new(),
        pointer: pointer.to_owned(),
        code,
        detail,
    }
}

/// How much of a multipart body is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MultipartLimits {
    /// Most parts read; one more answers an error.
    pub parts: usize,
    /// Deepest nesting of a JSON part.
    pub json_depth: usize,
    /// Most bytes of fields (file parts excluded) held in memory.
    pub field_bytes: usize,
}

/// Why a multipart body was refused.
#[derive(Debug)]
pub(crate) enum MultipartFailure {
    /// The framing or a field's encoding is broken (400).
    Malformed(Vec<FieldError>),
    /// The fields (files excluded) are larger than the limit (413).
    TooLarge(usize),
}

/// Reads a `multipart/form-data` stream into an object of its fields.
///
/// Text parts are coerced by their property schema; repeated parts make arrays; parts sent as
/// `application/json` are parsed as JSON. File parts (those with a filename) are read through
/// without being kept: they count as present, empty string values. Only field bytes count
/// towards `limits.field_bytes`.
pub(crate) async fn parse_multipart<S, E>(
    stream: S,
    boundary: &str,
    fields: &[FormField],
    coercion: &Coercion,
    limits: MultipartLimits,
) -> Result<Value, MultipartFailure>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let malformed = |e: multer::Error| {
        MultipartFailure::Malformed(vec![field_error(
            "",
            FieldCode::Multipart,
            format!(
                "the multipart body is malformed: {}",
                lowercase_first(&e.to_string())
            ),
        )])
    };
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut object = Map::new();
    let mut errors = Vec::new();
    let mut field_bytes = 0usize;
    let mut parts = 0usize;
    // Undeclared names seen more than once: their values were gathered into an array.
    let mut repeated_undeclared: Vec<String> = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        if parts == limits.parts {
            return Err(MultipartFailure::Malformed(vec![field_error(
                "",
                FieldCode::TooMany,
                format!("the multipart body has more than {} parts", limits.parts),
            )]));
        }
        parts += 1;
        let name = field.name().map(str::to_owned);
        let is_file = field.file_name().is_some();
        let is_json = field
            .content_type()
            .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
        // Files pass through unread; fields are collected within the limit.
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if !is_file {
                field_bytes += chunk.len();
                if field_bytes > limits.field_bytes {
                    return Err(MultipartFailure::TooLarge(limits.field_bytes));
                }
                bytes.extend_from_slice(&chunk);
            }
        }
        let Some(name) = name else {
            errors.push(field_error(
                "",
                FieldCode::Multipart,
                "a part has no name".to_owned(),
            ));
            continue;
        };
        let shape = fields.iter().find(|f| f.name == name).map(|f| &f.shape);
        let pointer = crate::spec::pointer::join("", &name);
        let value = if is_file {
            Value::String(String::new())
        } else if is_json {
            if nesting_exceeds(&bytes, limits.json_depth).is_some() {
                errors.push(field_error(
                    &pointer,
                    FieldCode::Depth,
                    format!(
                        "part `{name}` nests arrays and objects deeper than {} levels",
                        limits.json_depth
                    ),
                ));
                continue;
            }
            // The body's parser: it also refuses a member name given twice in one object.
            match parse_json(&bytes, limits.json_depth) {
                Ok(v) => v,
                Err(Malformed {
                    duplicate: Some(inner),
                    ..
                }) => {
                    errors.push(field_error(
                        &format!("{pointer}{inner}"),
                        FieldCode::Duplicate,
                        format!(
                            "part `{name}` has a member name twice in one object; expected \
                             unique names"
                        ),
                    ));
                    continue;
                }
                Err(e) => {
                    let at = e
                        .location
                        .map(|l| format!(" at line {} column {}", l.line, l.column))
                        .unwrap_or_default();
                    let detail = e.detail.strip_prefix("the body ").unwrap_or(&e.detail);
                    errors.push(field_error(
                        &pointer,
                        FieldCode::Json,
                        format!("part `{name}` {detail}{at}"),
                    ));
                    continue;
                }
            }
        } else {
            let text = String::from_utf8_lossy(&bytes);
            let prim = match shape {
                Some(Shape::Primitive(p) | Shape::Array(p)) => *p,
                _ => Prim::String,
            };
            match coerce(text, prim, coercion) {
                Ok(v) => v,
                Err(e) => {
                    let secret = fields.iter().any(|f| f.name == name && f.secret);
                    errors.push(decode_error(&name, e, secret));
                    continue;
                }
            }
        };
        // Declared arrays and undeclared fields (as in form bodies) may repeat.
        let repeated = matches!(shape, Some(Shape::Array(_)));
        match object.get_mut(&name) {
            Some(Value::Array(items)) if repeated => items.push(value),
            Some(existing) if shape.is_none() => {
                if let Value::Array(items) = existing
                    && repeated_undeclared.contains(&name)
                {
                    items.push(value);
                } else {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                    repeated_undeclared.push(name);
                }
            }
            Some(_) => errors.push(field_error(
                &pointer,
                FieldCode::Duplicate,
                format!("part `{name}` is given more than once"),
            )),
            None if repeated => {
                object.insert(name, Value::Array(vec![value]));
            }
            None => {
                object.insert(name, value);
            }
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(object))
    } else {
        Err(MultipartFailure::Malformed(errors))
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ObjectShape;
    use serde_json::json;

    /// A body sending these frames, then `Err` if `fail` is set.
    fn frames(
        parts: &[&'static str],
        trailers: bool,
        fail: bool,
    ) -> impl http_body::Body<Data = bytes::Bytes, Error = std::io::Error> {
        let mut frames: Vec<Result<http_body::Frame<bytes::Bytes>, std::io::Error>> = parts
            .iter()
            .map(|p| {
                Ok(http_body::Frame::data(bytes::Bytes::from_static(
                    p.as_bytes(),
                )))
            })
            .collect();
        if trailers {
            frames.push(Ok(http_body::Frame::trailers(http::HeaderMap::new())));
        }
        if fail {
            frames.push(Err(std::io::Error::other("client went away")));
        }
        http_body_util::StreamBody::new(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_is_read_whole_within_its_limit() {
        use ReadError::{Failed, TooLarge};
        // Frames sent, trailers after them, a failure after them, the limit, what is read.
        type Row = (
            &'static [&'static str],
            bool,
            bool,
            usize,
            Result<&'static str, ReadError>,
        );
        let rows: &[Row] = &[
            (&[], false, false, 8, Ok("")),
            (&["{}"], false, false, 8, Ok("{}")),
            (&["", "{}", ""], false, false, 8, Ok("{}")),
            (&["{\"a\"", ":1}"], false, false, 8, Ok("{\"a\":1}")),
            (&["a", "b", "c"], true, false, 8, Ok("abc")),
            (&["12345678"], false, false, 8, Ok("12345678")),
            (&["123456789"], false, false, 8, Err(TooLarge)),
            (&["1234", "56789"], false, false, 8, Err(TooLarge)),
            (&["12"], false, true, 8, Err(Failed)),
        ];
        for (parts, trailers, fail, limit, expected) in rows {
            let read = read_whole(frames(parts, *trailers, *fail), *limit).await;
            let read = read.as_ref().map(|b| std::str::from_utf8(b).unwrap());
            assert_eq!(read, expected.as_ref().copied(), "{parts:?}, limit {limit}");
        }
        // A limit set in front of the layer counts as a size, not a failure.
        let limited = http_body_util::Limited::new(frames(&["1234", "5678"], false, false), 6);
        assert_eq!(read_whole(limited, 100).await, Err(TooLarge));
    }

    #[tokio::test]
    async fn one_frame_is_handed_back_without_a_copy() {
        let sent = bytes::Bytes::from_static(b"{\"name\":\"walnut desk\"}");
        let body = http_body_util::Full::new(sent.clone());
        let read = read_whole(body, 1024).await.unwrap();
        assert_eq!(read.as_ptr(), sent.as_ptr());
    }

    #[test]
    fn json_syntax_errors_have_positions() {
        // (body, (line, column, character)), all 1-based
        let rows: &[(&str, (usize, usize, usize))] = &[
            ("{\"a\": }", (1, 7, 7)),
            ("{\n  \"a\": 1,\n  \"b\" 2\n}", (3, 7, 19)),
            ("{\"é\": x}", (1, 7, 7)),
            ("", (1, 1, 1)),
        ];
        for (body, want) in rows {
            let loc = parse_json(body.as_bytes(), 64)
                .unwrap_err()
                .location
                .unwrap();
            assert_eq!((loc.line, loc.column, loc.character), *want, "{body:?}");
        }
    }

    fn fields() -> Vec<FormField> {
        vec![
            FormField {
                name: "age".into(),
                shape: Shape::Primitive(Prim::Integer),
                style: Style::Form,
                explode: true,
                secret: false,
            },
            FormField {
                name: "tags".into(),
                shape: Shape::Array(Prim::String),
                style: Style::Form,
                explode: true,
                secret: false,
            },
            FormField {
                name: "point".into(),
                shape: Shape::Object(ObjectShape {
                    properties: vec![("x".into(), Prim::Number)],
                    additional: None,
                }),
                style: Style::DeepObject,
                explode: true,
                secret: false,
            },
        ]
    }

    #[test]
    fn forms_are_coerced() {
        let c = Coercion::default();
        let got = parse_form(
            b"age=30&tags=a&tags=b+c&point%5Bx%5D=1.5&extra=%C3%A9",
            &fields(),
            &c,
            100,
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"age": 30, "tags": ["a", "b c"], "point": {"x": 1.5}, "extra": "é"})
        );
        let errors = parse_form(b"age=thirty", &fields(), &c, 100).unwrap_err();
        assert_eq!(errors[0].pointer, "/age");
        assert_eq!(errors[0].code, FieldCode::Type);
        assert!(parse_form(&[0xff], &fields(), &c, 100).is_err());
        // An encoded delimiter delimits in a form body; encoded `%` and `+` stay data.
        let ids = FormField {
            name: "ids".into(),
            shape: Shape::Array(Prim::String),
            style: Style::Form,
            explode: false,
            secret: false,
        };
        let got = parse_form(
            b"ids=a%2Cb,c%25d%2Be+f",
            std::slice::from_ref(&ids),
            &c,
            100,
        )
        .unwrap();
        assert_eq!(got, json!({"ids": ["a", "b", "c%d+e f"]}));
        let bad = parse_form(b"ids=%FF", &[ids], &c, 100).unwrap_err();
        assert_eq!(bad[0].code, FieldCode::Encoding);
        let errors = parse_form(b"a=1&b=2&c=3", &fields(), &c, 2).unwrap_err();
        assert_eq!(errors[0].code, FieldCode::TooMany);
        assert!(parse_form(b"a=1&b=2&&", &fields(), &c, 2).is_ok());
        let errors = parse_form(b"name=ok;age=x", &fields(), &c, 100).unwrap_err();
        assert_eq!(errors[0].code, FieldCode::Delimiter);
        assert!(parse_form(b"name=ok%3Bage%3Dx", &fields(), &c, 100).is_ok());
    }

    #[tokio::test]
    async fn multipart_fields_are_coerced() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"age\"\r\n\r\n30\r\n--XX\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\na\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x01\x02\r\n--XX--\r\n";
        let c = Coercion::default();
        let once = |b: &'static str| {
            futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(b))])
        };
        let limits = |field_bytes| MultipartLimits {
            parts: 16,
            json_depth: 64,
            field_bytes,
        };
        let got = parse_multipart(once(body), "XX", &fields(), &c, limits(1024))
            .await
            .unwrap();
        assert_eq!(got, json!({"age": 30, "tags": ["a"], "file": ""}));
        let Err(MultipartFailure::Malformed(bad)) =
            parse_multipart(once("--XX\r\nbroken"), "XX", &fields(), &c, limits(1024)).await
        else {
            panic!("broken framing is malformed");
        };
        assert_eq!(bad[0].code, FieldCode::Multipart);
        // Only field bytes count: "30" and "a" are 3 bytes, the file's 2 bytes do not count.
        assert!(
            parse_multipart(once(body), "XX", &fields(), &c, limits(3))
                .await
                .is_ok()
        );
        let too_large = parse_multipart(once(body), "XX", &fields(), &c, limits(2)).await;
        assert!(
            matches!(too_large, Err(MultipartFailure::TooLarge(2))),
            "{too_large:?}"
        );
        let fewer = MultipartLimits {
            parts: 2,
            json_depth: 64,
            field_bytes: 1024,
        };
        let Err(MultipartFailure::Malformed(many)) =
            parse_multipart(once(body), "XX", &fields(), &c, fewer).await
        else {
            panic!("three parts are more than two");
        };
        assert_eq!(many[0].code, FieldCode::TooMany);
        assert!(many[0].detail.contains("more than 2 parts"), "{many:?}");
    }

    #[test]
    fn nesting_is_counted_outside_strings() {
        // (body, limit, offset of the bracket that crosses the limit)
        let rows: &[(&str, usize, Option<usize>)] = &[
            ("[[1]]", 2, None),
            ("[[1]]", 1, Some(1)),
            ("{\"a\": {\"b\": []}}", 2, Some(12)),
            ("{\"a\": {\"b\": []}}", 3, None),
            ("[\"[[[[\", 1]", 1, None),
            ("[\"\\\"[[[\", 1]", 1, None),
            ("[[], [], []]", 2, None),
            ("[][][][]", 1, None),
            ("]]]][[", 1, Some(5)),
            ("", 0, None),
            ("1", 0, None),
            ("[", 0, Some(0)),
        ];
        for (i, (body, limit, want)) in rows.iter().enumerate() {
            assert_eq!(
                nesting_exceeds(body.as_bytes(), *limit),
                *want,
                "row {i}: {body}"
            );
        }
        let deep = format!("{{\"a\":\n {}", "[".repeat(70));
        let error = parse_json(deep.as_bytes(), 64).unwrap_err();
        assert_eq!(
            error.detail,
            "the body nests arrays and objects deeper than 64 levels"
        );
        let loc = error.location.unwrap();
        assert_eq!((loc.line, loc.column, loc.character), (2, 65, 71));
    }

    #[test]
    fn json_bodies_that_are_not_utf8_say_where() {
        let error = parse_json(b"{\"name\":\n \"caf\xe9\"}", 64).unwrap_err();
        assert_eq!(error.detail, "the body is not valid UTF-8");
        let loc = error.location.unwrap();
        assert_eq!((loc.line, loc.column, loc.character), (2, 6, 15));
        let value = parse_json(br#"{"a": "\u00e9", "b": [1, 2.5, null, true]}"#, 64).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": "é", "b": [1, 2.5, null, true]})
        );
    }

    /// RFC 8259 §4: "When the names within an object are not unique, the behavior of software
    /// that receives such an object is unpredictable." Refused, with where the second name
    /// ends and the pointer to it.
    #[test]
    fn a_member_name_given_twice_is_refused_with_its_place() {
        // (body, pointer, line, column)
        let rows: &[(&str, &str, usize, usize)] = &[
            (r#"{"name": 123, "name": "rex"}"#, "/name", 1, 20),
            ("{\"a\": 1,\n \"b\": {\"c\": [], \"c\": 2}}", "/b/c", 2, 19),
            (r#"[0, {"x": {"y~/": 1, "y~/": 2}}]"#, "/1/x/y~0~1", 1, 26),
            (r#"{"é": 1, "\u00e9": 2}"#, "/é", 1, 17),
        ];
        for (body, pointer, line, column) in rows {
            let error = parse_json(body.as_bytes(), 64).unwrap_err();
            assert_eq!(error.duplicate.as_deref(), Some(*pointer), "{body}");
            assert!(error.detail.contains("twice"), "{body}: {}", error.detail);
            let at = error.location.unwrap();
            assert_eq!((at.line, at.column), (*line, *column), "{body}");
        }
    }
}
