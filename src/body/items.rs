//! Sequential media types (OpenAPI 3.2, "Sequential Media Types"): JSON Lines and NDJSON, JSON text
//! sequences (RFC 7464) and server-sent events, decoded item by item as their bytes arrive.
//!
//! [`Decoder`] turns bytes into items without holding more than the item being assembled;
//! [`ItemBody`] wraps a request body so that each item is checked against the `itemSchema`
//! before its bytes are handed to the inner service. A refused item ends the inner body with
//! an error: the inner service never reads the refused item, nor anything after it.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame};
use serde_json::{Map, Value};

use super::{Malformed, MediaType, parse_json};
use crate::plan::Check;
use crate::problem::{FieldCode, FieldError, Place, Problem, ProblemKind, TextLocation};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// RFC 7464 §2: "RS is the ASCII [RFC20] character Record Separator".
const RS: u8 = 0x1E;

/// How the items of a sequential media type are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemFormat {
    /// `application/jsonl`, `application/x-ndjson`: one JSON value per line.
    Lines,
    /// `application/json-seq` and any `+json-seq` type: RS-prefixed JSON texts.
    Seq,
    /// `text/event-stream`: events, each an object of its fields.
    Events,
}

impl ItemFormat {
    /// The format of a sequential media type oasgate reads, or None.
    pub fn of(media: &MediaType) -> Option<Self> {
        match (&*media.ty, &*media.subtype) {
            ("application", "jsonl" | "x-ndjson") => Some(Self::Lines),
            ("application", "json-seq") => Some(Self::Seq),
            ("text", "event-stream") => Some(Self::Events),
            // RFC 8091: the `+json-seq` structured syntax suffix (`application/geo+json-seq`).
            _ if media.suffix() == Some("json-seq") => Some(Self::Seq),
            _ => None,
        }
    }

    /// What one item is called in messages.
    fn noun(self) -> &'static str {
        match self {
            Self::Events => "event",
            Self::Lines | Self::Seq => "item",
        }
    }
}

/// One decoded item: its 0-based index, the 1-based line it starts on, and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub index: usize,
    pub line: usize,
    /// The 1-based character offset of its first character in the stream.
    pub character: usize,
    pub value: Value,
}

/// Where a JSON text sequence record stands (RFC 7464).
#[derive(Debug, Default)]
struct Record {
    /// Inside a record (after its RS).
    open: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// A JSON value has begun.
    begun: bool,
}

/// The fields of the server-sent event being assembled.
#[derive(Debug, Default)]
struct Event {
    /// Any line (field or comment) has been seen since the last dispatch.
    started: bool,
    line: usize,
    data: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

/// Decodes items from bytes as they arrive.
///
/// Bytes are [`push`](Self::push)ed in; [`next_item`](Self::next_item) answers each complete
/// item; [`take_ready`](Self::take_ready) then answers the bytes through the end of the last
/// item, so that only the item being assembled stays buffered.
#[derive(Debug)]
pub(crate) struct Decoder {
    format: ItemFormat,
    depth_limit: usize,
    buf: BytesMut,
    /// Bytes of `buf` already looked at.
    scan: usize,
    /// Where the search for the end of the current line goes on from (line formats).
    seek: usize,
    /// Where the item being assembled starts in `buf`.
    start: usize,
    /// Bytes of `buf` that may be handed on.
    ready: usize,
    /// The 1-based line at `scan`.
    line: usize,
    /// Characters in the stream before `buf[counted]`.
    chars: usize,
    counted: usize,
    /// The next item's index.
    index: usize,
    /// Line and character where the item being assembled starts.
    item_line: usize,
    item_chars: usize,
    record: Record,
    event: Event,
    /// The stream's first bytes were looked at for a byte order mark (event streams).
    bom_checked: bool,
    /// Bytes were received at all.
    pub any: bool,
}

/// Why a stream is refused at an item: already a problem, with the index and line.
#[derive(Debug)]
pub(crate) struct Bad(pub Box<Problem>);

impl Decoder {
    pub fn new(format: ItemFormat, depth_limit: usize) -> Self {
        Self {
            format,
            depth_limit,
            buf: BytesMut::new(),
            scan: 0,
            seek: 0,
            start: 0,
            ready: 0,
            line: 1,
            chars: 0,
            counted: 0,
            index: 0,
            item_line: 1,
            item_chars: 0,
            record: Record::default(),
            event: Event::default(),
            bom_checked: false,
            any: false,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.any |= !chunk.is_empty();
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held for the item being assembled.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.ready
    }

    /// The bytes of the item just decoded, with its delimiters.
    fn last_item_len(&self) -> usize {
        self.ready.saturating_sub(self.start)
    }

    /// How many items were decoded.
    pub fn count(&self) -> usize {
        self.index
    }

    /// The bytes through the end of the last item decoded (and what lies between items).
    pub fn take_ready(&mut self) -> Bytes {
        let ready = self.ready;
        self.count_chars(ready);
        let out = self.buf.split_to(ready).freeze();
        self.counted -= ready;
        self.scan = self.scan.saturating_sub(ready);
        self.seek = self.seek.saturating_sub(ready);
        self.start = self.start.saturating_sub(ready);
        self.ready = 0;
        out
    }

    /// Everything still held: at the end of a stream whose items were all good.
    pub fn take_rest(&mut self) -> Bytes {
        self.ready = self.buf.len();
        self.scan = self.scan.max(self.ready);
        self.take_ready()
    }

    /// Counts characters in `buf[counted..to]` (UTF-8 leading bytes).
    fn count_chars(&mut self, to: usize) {
        if to > self.counted {
            let n = self.buf[self.counted..to]
                .iter()
                .filter(|b| (**b & 0xC0) != 0x80)
                .count();
            self.chars += n;
            self.counted = to;
        }
    }

    /// Marks `at` in `buf` as where the next item starts.
    fn begin_item(&mut self, at: usize) {
        self.start = at;
        self.item_line = self.line;
        self.count_chars(at);
        self.item_chars = self.chars;
    }

    /// The next complete item, None when more bytes are needed (or, with `end`, when the
    /// stream holds no more items).
    pub fn next_item(&mut self, end: bool) -> Result<Option<Item>, Bad> {
        match self.format {
            ItemFormat::Lines => self.next_line(end),
            ItemFormat::Seq => self.next_record(end),
            ItemFormat::Events => self.next_event(end),
        }
    }

    fn next_line(&mut self, end: bool) -> Result<Option<Item>, Bad> {
        loop {
            let rest = &self.buf[self.scan..];
            // Bytes already searched hold no LF: a long line arriving in small chunks is
            // searched once, not once per chunk.
            let from = self.seek.saturating_sub(self.scan);
            let (text_end, next) = match rest[from..].iter().position(|b| *b == b'\n') {
                Some(i) => (self.scan + from + i, self.scan + from + i + 1),
                None if end && !rest.is_empty() => (self.buf.len(), self.buf.len()),
                None => {
                    self.seek = self.buf.len();
                    return Ok(None);
                }
            };
            self.begin_item(self.scan);
            let text = &self.buf[self.start..text_end];
            self.scan = next;
            self.line += 1;
            // JSON Lines: "the last character in the file may be a line separator"; NDJSON:
            // parsers "MAY silently ignore empty lines". A line of only whitespace holds no
            // value, and is skipped (as `\r` before `\n` is JSON whitespace).
            if text.iter().all(|b| b.is_ascii_whitespace()) {
                self.ready = next;
                continue;
            }
            let value = self.parse(text, 0)?;
            self.ready = next;
            return Ok(Some(self.item(value)));
        }
    }

    fn next_record(&mut self, end: bool) -> Result<Option<Item>, Bad> {
        while self.scan < self.buf.len() {
            let b = self.buf[self.scan];
            if !self.record.open {
                if b == RS {
                    self.record = Record {
                        open: true,
                        ..Record::default()
                    };
                    self.begin_item(self.scan + 1);
                } else if b.is_ascii_whitespace() {
                    // Whitespace after a text's closing LF.
                    if b == b'\n' {
                        self.line += 1;
                    }
                } else {
                    self.begin_item(self.scan);
                    return Err(self.bad_syntax(
                        FieldCode::Json,
                        "does not start with the record separator (0x1E); expected each JSON \
                         text to follow one (RFC 7464)"
                            .to_owned(),
                    ));
                }
                self.scan += 1;
                self.ready = self.scan;
                continue;
            }
            if b == RS {
                // RFC 7464 §2.1: "Multiple consecutive RS octets do not denote empty sequence
                // elements between them"; a record of only whitespace holds no text either.
                if self.buf[self.start..self.scan]
                    .iter()
                    .all(|b| b.is_ascii_whitespace())
                {
                    self.record.open = false;
                    continue;
                }
                // A text not followed by LF: complete at the next RS.
                self.record.open = false;
                let value = self.record_value(self.scan)?;
                self.ready = self.scan;
                return Ok(Some(self.item(value)));
            }
            let r = &mut self.record;
            if r.in_string {
                if r.escaped {
                    r.escaped = false;
                } else if b == b'\\' {
                    r.escaped = true;
                } else if b == b'"' {
                    r.in_string = false;
                }
            } else {
                match b {
                    b'"' => {
                        r.in_string = true;
                        r.begun = true;
                    }
                    b'{' | b'[' => {
                        r.depth += 1;
                        r.begun = true;
                    }
                    b'}' | b']' => r.depth = r.depth.saturating_sub(1),
                    b' ' | b'\t' | b'\r' | b'\n' => {}
                    _ => r.begun = true,
                }
            }
            let complete = b == b'\n' && !r.in_string && r.depth == 0 && r.begun;
            self.scan += 1;
            if b == b'\n' {
                self.line += 1;
            }
            if complete {
                // RFC 7464 §2.2: each JSON text is followed by LF; the text ends there.
                self.record.open = false;
                let value = self.record_value(self.scan)?;
                self.ready = self.scan;
                return Ok(Some(self.item(value)));
            }
        }
        if end
            && self.record.open
            && !self.buf[self.start..]
                .iter()
                .all(|b| b.is_ascii_whitespace())
        {
            self.record.open = false;
            let value = self.record_value(self.buf.len())?;
            self.ready = self.buf.len();
            return Ok(Some(self.item(value)));
        }
        Ok(None)
    }

    /// Parses the record `buf[start..to]`.
    fn record_value(&mut self, to: usize) -> Result<Value, Bad> {
        let text = &self.buf[self.start..to];
        let value = self.parse(text, 1)?;
        // RFC 7464 §2.4: a top-level number, `true`, `false` or `null` not followed by
        // whitespace may have been cut short, and is to be treated as an error.
        let scalar = matches!(value, Value::Number(_) | Value::Bool(_) | Value::Null);
        if scalar && !text.last().is_some_and(u8::is_ascii_whitespace) {
            return Err(self.bad_syntax(
                FieldCode::Json,
                "is a number, `true`, `false` or `null` not followed by whitespace, and may \
                 have been cut short; expected LF after it (RFC 7464 §2.4)"
                    .to_owned(),
            ));
        }
        Ok(value)
    }

    fn next_event(&mut self, end: bool) -> Result<Option<Item>, Bad> {
        if !self.bom_checked {
            // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
            if self.buf.len() < 3 && !end && b"\xEF\xBB\xBF".starts_with(&self.buf) {
                return Ok(None);
            }
            self.bom_checked = true;
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.scan = 3;
                self.ready = 3;
            }
        }
        loop {
            let from = self.seek.saturating_sub(self.scan);
            let rest = &self.buf[self.scan..];
            // Lines end with CRLF, LF or CR.
            let found = rest[from..]
                .iter()
                .position(|b| *b == b'\n' || *b == b'\r')
                .map(|i| from + i);
            if found.is_none() {
                self.seek = self.buf.len();
            }
            let (text_end, next) = match found {
                Some(i) if rest[i] == b'\r' => match rest.get(i + 1) {
                    Some(b'\n') => (self.scan + i, self.scan + i + 2),
                    Some(_) => (self.scan + i, self.scan + i + 1),
                    // A CR last in the buffer: a LF may follow in the next chunk.
                    None if !end => return Ok(None),
                    None => (self.scan + i, self.scan + i + 1),
                },
                Some(i) => (self.scan + i, self.scan + i + 1),
                None if end && !rest.is_empty() => (self.buf.len(), self.buf.len()),
                None if end => {
                    // The end of the stream. The HTML standard discards an event not ended
                    // by a blank line; oasgate checks it as an item instead, as the OpenAPI
                    // 3.2 example in "Server-Sent Event Streams" counts its last event,
                    // and the service behind would read its bytes all the same.
                    return Ok(self.dispatch(self.buf.len()));
                }
                None => return Ok(None),
            };
            let line_no = self.line;
            let line_start = self.scan;
            self.scan = next;
            self.line += 1;
            if text_end == line_start {
                // "If the line is empty (a blank line): Dispatch the event".
                if let Some(item) = self.dispatch(next) {
                    return Ok(Some(item));
                }
                continue;
            }
            // "If the line starts with a U+003A COLON character (:): Ignore the line."
            if self.buf[line_start] == b':' {
                // Comments between events (keep-alives) go on at once: they count towards
                // no event's size.
                if !self.event.started {
                    self.ready = next;
                }
                continue;
            }
            if !self.event.started {
                self.event.started = true;
                self.event.line = line_no;
                self.begin_item(line_start);
                self.item_line = line_no;
            }
            let text = &self.buf[line_start..text_end];
            let Ok(text) = std::str::from_utf8(text) else {
                return Err(self.bad_syntax(
                    FieldCode::Encoding,
                    format!("has a line ({line_no}) that is not valid UTF-8; expected UTF-8 text"),
                ));
            };
            let (field, value) = match text.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (text, ""),
            };
            let event = &mut self.event;
            match field {
                "event" => event.event = Some(value.to_owned()),
                "data" => {
                    let data = event.data.get_or_insert_with(String::new);
                    data.push_str(value);
                    data.push('\n');
                }
                // "If the field value does not contain U+0000 NULL, then set the last event
                // ID buffer to the field value. Otherwise, ignore the field."
                "id" if !value.contains('\0') => event.id = Some(value.to_owned()),
                // "If the field value consists of only ASCII digits, then interpret the field
                // value as an integer in base ten ... Otherwise, ignore the field."
                "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    event.retry = Some(value.parse().unwrap_or(u64::MAX));
                }
                // "Otherwise: The field is ignored."
                _ => {}
            }
        }
    }

    /// Ends the event being assembled at `next`: an item when it has data.
    fn dispatch(&mut self, next: usize) -> Option<Item> {
        let event = std::mem::take(&mut self.event);
        self.ready = next;
        // "If the data buffer is an empty string, set the data buffer and the event type
        // buffer to the empty string and return."
        let mut data = event.data?;
        // "If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        // remove the last character from the data buffer."
        data.pop();
        let mut object = Map::new();
        object.insert("data".into(), Value::String(data));
        if let Some(kind) = event.event {
            object.insert("event".into(), Value::String(kind));
        }
        if let Some(id) = event.id {
            object.insert("id".into(), Value::String(id));
        }
        // OpenAPI 3.2: "the `retry` field value is modeled as a JSON number".
        if let Some(retry) = event.retry {
            object.insert("retry".into(), Value::from(retry));
        }
        Some(Item {
            index: self.next_index(),
            line: event.line,
            character: self.item_chars + 1,
            value: Value::Object(object),
        })
    }

    fn next_index(&mut self) -> usize {
        self.index += 1;
        self.index - 1
    }

    fn item(&mut self, value: Value) -> Item {
        Item {
            index: self.next_index(),
            line: self.item_line,
            character: self.item_chars + 1,
            value,
        }
    }

    /// Parses one JSON item; `skip` bytes (the RS) precede `text` on its first line.
    fn parse(&self, text: &[u8], skip: usize) -> Result<Value, Bad> {
        parse_json(text, self.depth_limit).map_err(|m| self.bad_json(m, skip))
    }

    fn bad_json(&self, m: Malformed, skip: usize) -> Bad {
        let index = self.index;
        let what = format!("{} {index} (line {})", self.format.noun(), self.item_line);
        let detail = match m.detail.strip_prefix("the body") {
            Some(rest) => format!("{what}{rest}"),
            None => format!("{what}: {}", m.detail),
        };
        let code = if m.duplicate.is_some() {
            FieldCode::Duplicate
        } else if detail.contains("deeper than") {
            FieldCode::Depth
        } else if detail.contains("UTF-8") {
            FieldCode::Encoding
        } else {
            FieldCode::Json
        };
        let pointer = format!("/{index}{}", m.duplicate.as_deref().unwrap_or(""));
        let location = m.location.map(|l| TextLocation {
            line: self.item_line + l.line - 1,
            column: l.column + if l.line == 1 { skip } else { 0 },
            character: self.item_chars + skip + l.character,
        });
        Bad::new(ProblemKind::MalformedBody, detail, pointer, code, location)
    }

    /// A syntax problem with the item being assembled.
    fn bad_syntax(&mut self, code: FieldCode, what: String) -> Bad {
        let index = self.index;
        let detail = format!(
            "{} {index} (line {}) {what}",
            self.format.noun(),
            self.item_line
        );
        let location = TextLocation {
            line: self.item_line,
            column: 1,
            character: self.item_chars + 1,
        };
        Bad::new(
            ProblemKind::MalformedBody,
            detail,
            format!("/{index}"),
            code,
            Some(location),
        )
    }
}

impl Bad {
    fn new(
        kind: ProblemKind,
        detail: String,
        pointer: String,
        code: FieldCode,
        location: Option<TextLocation>,
    ) -> Self {
        let error = FieldError {
            place: Place::Body,
            name: String::new(),
            pointer,
            code,
            detail: detail.clone(),
        };
        let mut problem = Problem::new(kind, detail).with_errors(vec![error], usize::MAX);
        problem.location = location;
        Bad(Box::new(problem))
    }
}

/// What checks each item of one declared sequential media type.
#[derive(Debug, Clone)]
pub(crate) struct ItemRules {
    pub format: ItemFormat,
    /// The `itemSchema`, `Check::Any` without one.
    pub check: Check,
    pub depth_limit: usize,
    /// The most bytes one item may hold (`body_limit`).
    pub item_limit: usize,
    pub error_cap: usize,
}

impl ItemRules {
    /// Checks one item against the `itemSchema`: its problem, the pointers below `/<index>`.
    pub fn check(&self, item: &Item) -> Result<(), Bad> {
        if self.check.is_valid(&item.value) {
            return Ok(());
        }
        let (violations, more) = self
            .check
            .violations_up_to(&item.value, false, self.error_cap);
        let what = format!("{} {} (line {})", self.format.noun(), item.index, item.line);
        let errors: Vec<FieldError> = violations
            .into_iter()
            .map(|v| {
                let pointer = format!("/{}{}", item.index, v.pointer);
                FieldError {
                    place: Place::Body,
                    name: String::new(),
                    detail: format!("body `{pointer}`: {}", v.detail),
                    pointer,
                    code: v.code,
                }
            })
            .collect();
        let total = errors.len() + more;
        let first = errors.first().map_or("", |e| e.detail.as_str());
        let detail = if total > 1 {
            format!("{what}: {first} (and {} more)", total - 1)
        } else {
            format!("{what}: {first}")
        };
        let mut problem =
            Problem::new(ProblemKind::InvalidBody, detail).with_errors(errors, self.error_cap);
        problem.errors_omitted += more;
        problem.location = Some(TextLocation {
            line: item.line,
            column: 1,
            character: item.character,
        });
        Err(Bad(Box::new(problem)))
    }

    fn too_large(&self, decoder: &Decoder, index: usize) -> Bad {
        let detail = format!(
            "{} {index} (line {}) is larger than the limit of {} bytes",
            self.format.noun(),
            decoder.item_line,
            self.item_limit
        );
        let location = TextLocation {
            line: decoder.item_line,
            column: 1,
            character: decoder.item_chars + 1,
        };
        Bad::new(
            ProblemKind::PayloadTooLarge,
            detail,
            format!("/{index}"),
            FieldCode::TooLong,
            Some(location),
        )
    }

    /// Decodes and checks a whole stream already read: every item, or the first bad one.
    pub fn items_of(&self, bytes: &[u8]) -> Result<Vec<Value>, Bad> {
        let mut decoder = Decoder::new(self.format, self.depth_limit);
        decoder.push(bytes);
        let mut items = Vec::new();
        while let Some(item) = decoder.next_item(true)? {
            self.check(&item)?;
            items.push(item.value);
        }
        Ok(items)
    }
}

/// Where an [`ItemBody`] leaves the problem of the item it refused.
pub(crate) type Refusal = Arc<Mutex<Option<Problem>>>;

/// Takes the refusal's problem, if an item was refused.
pub(crate) fn refused(refusal: &Refusal) -> Option<Problem> {
    refusal
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
}

/// A request body whose items are each checked before their bytes are handed on.
///
/// Only the item being assembled is held (at most `item_limit` bytes). A bad item ends the
/// body with an error, leaving its problem in the [`Refusal`]; the bytes of the bad item and
/// of everything after it are never handed on.
pub(crate) struct ItemBody<B> {
    /// In a mutex only so that the body is `Sync` whatever `B` is; it is never locked.
    body: Mutex<Pin<Box<B>>>,
    decoder: Decoder,
    rules: ItemRules,
    refusal: Refusal,
    /// Validated bytes read ahead (the first item), handed on first.
    replay: Option<Bytes>,
    ended: bool,
    done: bool,
}

impl<B> ItemBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    pub fn new(body: B, rules: ItemRules) -> Self {
        Self {
            body: Mutex::new(Box::pin(body)),
            decoder: Decoder::new(rules.format, rules.depth_limit),
            rules,
            refusal: Refusal::default(),
            replay: None,
            ended: false,
            done: false,
        }
    }

    pub fn refusal(&self) -> Refusal {
        self.refusal.clone()
    }

    /// Whether any bytes were received.
    pub fn received_any(&self) -> bool {
        self.decoder.any || self.replay.is_some()
    }

    /// Reads until the first item is checked (or the stream ends): Ok when it was good (its
    /// bytes are handed on first when the body is read), or the problem of a bad one.
    ///
    /// Comments and blank lines before the first item are held with it, at most `item_limit`
    /// bytes of them: past that, what was read (all of it checked) goes on without waiting.
    pub async fn first_item(&mut self) -> Result<(), FirstItem> {
        use http_body_util::BodyExt;
        let mut held = BytesMut::new();
        while self.decoder.count() == 0 && !self.done && held.len() <= self.rules.item_limit {
            match self.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        held.extend_from_slice(&data);
                    }
                }
                Some(Err(_)) => {
                    return Err(match refused(&self.refusal) {
                        Some(problem) => FirstItem::Refused(Box::new(problem)),
                        None => FirstItem::Unreadable,
                    });
                }
                None => break,
            }
        }
        if !held.is_empty() {
            self.replay = Some(held.freeze());
        }
        Ok(())
    }

    fn refuse(&mut self, bad: Bad) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        let message = format!("the request body was refused: {}", bad.0.detail);
        *self.refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(*bad.0);
        Poll::Ready(Some(Err(message.into())))
    }
}

/// Why the first item of a stream could not be handed on.
#[derive(Debug)]
pub(crate) enum FirstItem {
    Refused(Box<Problem>),
    /// The client's body failed before the first item was complete.
    Unreadable,
}

impl<B> Body for ItemBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Some(bytes) = this.replay.take() {
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            // Every complete item in what is held, checked before any of it goes on.
            loop {
                match this.decoder.next_item(this.ended) {
                    Ok(Some(item)) => {
                        if this.decoder.last_item_len() > this.rules.item_limit {
                            let bad = this.rules.too_large(&this.decoder, item.index);
                            return this.refuse(bad);
                        }
                        if let Err(bad) = this.rules.check(&item) {
                            return this.refuse(bad);
                        }
                    }
                    Ok(None) => break,
                    Err(bad) => return this.refuse(bad),
                }
            }
            if this.decoder.pending() > this.rules.item_limit {
                let bad = this.rules.too_large(&this.decoder, this.decoder.count());
                return this.refuse(bad);
            }
            let ready = if this.ended {
                this.done = true;
                this.decoder.take_rest()
            } else {
                this.decoder.take_ready()
            };
            if !ready.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(ready))));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            let body = this.body.get_mut().unwrap_or_else(PoisonError::into_inner);
            match ready!(body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => {
                    // Trailers carry no items; they are not handed on.
                    if let Ok(data) = frame.into_data() {
                        this.decoder.push(&data);
                    }
                }
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
                None => this.ended = true,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.replay.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(format: ItemFormat, chunks: &[&[u8]]) -> Result<Vec<(usize, Value)>, String> {
        let mut decoder = Decoder::new(format, 64);
        let mut out = Vec::new();
        let mut handed = Vec::new();
        for (n, chunk) in chunks.iter().enumerate() {
            decoder.push(chunk);
            let end = n + 1 == chunks.len();
            loop {
                match decoder.next_item(false) {
                    Ok(Some(item)) => out.push((item.line, item.value)),
                    Ok(None) => break,
                    Err(bad) => return Err(bad.0.detail),
                }
            }
            handed.extend_from_slice(&decoder.take_ready());
            if end {
                while let Some(item) = decoder.next_item(true).map_err(|b| b.0.detail)? {
                    out.push((item.line, item.value));
                }
                handed.extend_from_slice(&decoder.take_rest());
            }
        }
        // Every byte received is handed on once, in order.
        assert_eq!(handed, chunks.concat(), "bytes handed on");
        Ok(out)
    }

    /// Each stream is also fed one byte at a time: the items must not depend on where chunks
    /// split.
    #[test]
    fn decoders() {
        use ItemFormat::*;
        type Row = (
            ItemFormat,
            &'static [u8],
            Result<Vec<(usize, Value)>, &'static str>,
        );
        let rows: Vec<Row> = vec![
            (Lines, b"", Ok(vec![])),
            (
                Lines,
                b"{\"a\":1}\n[2]\n",
                Ok(vec![(1, json!({"a": 1})), (2, json!([2]))]),
            ),
            (
                Lines,
                b"1\r\n\n  \n\"x\"",
                Ok(vec![(1, json!(1)), (4, json!("x"))]),
            ),
            (
                Lines,
                b"{\"a\":1}\n{\"a\":\n",
                Err("item 1 (line 2) is not valid JSON: EOF while parsing a value"),
            ),
            (
                Lines,
                b"{\"a\":1,\"a\":2}\n",
                Err("item 0 (line 1) has the member name `a` twice in one object; expected unique names"),
            ),
            (Seq, b"", Ok(vec![])),
            (
                Seq,
                b"\x1e{\n  \"a\": 1\n}\n\x1e[2]\n",
                Ok(vec![(1, json!({"a": 1})), (4, json!([2]))]),
            ),
            (
                Seq,
                b"\x1e\x1e\x1e\"s\"\n\x1e3\n\n",
                Ok(vec![(1, json!("s")), (2, json!(3))]),
            ),
            (Seq, b"\x1e{\"a\":1}\x1e2 ", Ok(vec![(1, json!({"a": 1})), (1, json!(2))])),
            (
                Seq,
                b"{\"a\":1}\n",
                Err("item 0 (line 1) does not start with the record separator (0x1E); expected each JSON text to follow one (RFC 7464)"),
            ),
            (
                Seq,
                b"\x1e{\"a\":1}\n\x1e12",
                Err("item 1 (line 2) is a number, `true`, `false` or `null` not followed by whitespace, and may have been cut short; expected LF after it (RFC 7464 §2.4)"),
            ),
            (
                Seq,
                b"\x1e{\"a\" 1}\n",
                Err("item 0 (line 1) is not valid JSON: expected `:`"),
            ),
            (Events, b"", Ok(vec![])),
            (
                Events,
                // The request body of the OpenAPI 3.2 example "Server-Sent Event Streams".
                b"event: addString\ndata: This data is formatted\ndata: across two lines\nretry: 5\n\nevent: addInt64\ndata: 1234.5678\nunknownField: this is ignored\n\n: This is a comment\nevent: addJSON\ndata: {\"foo\": 42}\n",
                Ok(vec![
                    (1, json!({"event": "addString", "data": "This data is formatted\nacross two lines", "retry": 5})),
                    (6, json!({"event": "addInt64", "data": "1234.5678"})),
                    // An event starts at its first field: the comment before it goes on alone.
                    (11, json!({"event": "addJSON", "data": "{\"foo\": 42}"})),
                ]),
            ),
            (
                Events,
                b"\xEF\xBB\xBFdata\r\n\r\ndata:x\rid: 7\rretry: 1s\r\rid\0: 1\n:only a comment\n\n",
                Ok(vec![
                    (1, json!({"data": ""})),
                    (3, json!({"data": "x", "id": "7"})),
                ]),
            ),
            (
                Events,
                b"event: nodata\nid: 3\n\ndata:  two spaces\n\n",
                Ok(vec![(4, json!({"data": " two spaces"}))]),
            ),
            (
                Events,
                b"data: ok\n\ndata: \xff\n\n",
                Err("event 1 (line 3) has a line (3) that is not valid UTF-8; expected UTF-8 text"),
            ),
        ];
        for (format, stream, want) in rows {
            let want = want.map_err(str::to_owned);
            assert_eq!(decode(format, &[stream]), want, "{format:?} {stream:?}");
            let bytes: Vec<&[u8]> = stream.chunks(1).collect();
            if !bytes.is_empty() {
                assert_eq!(
                    decode(format, &bytes),
                    want,
                    "{format:?} bytewise {stream:?}"
                );
            }
        }
    }

    /// Items know the character they start at, counted from the start of the stream across
    /// chunks and multi-byte characters.
    #[test]
    fn items_know_where_they_start() {
        // (format, stream, (line, character) of each item)
        type Row = (ItemFormat, &'static str, Vec<(usize, usize)>);
        let rows: [Row; 3] = [
            (ItemFormat::Lines, "\"é\"\n\n\"ü\"\n", vec![(1, 1), (3, 6)]),
            (
                ItemFormat::Seq,
                "\u{1e}\"é\"\n\u{1e}\"ü\"\n",
                vec![(1, 2), (2, 7)],
            ),
            (
                ItemFormat::Events,
                "data: é\n\n: ü\ndata: x\n\n",
                vec![(1, 1), (4, 14)],
            ),
        ];
        for (format, stream, want) in rows {
            for size in [1, 2, 3, stream.len()] {
                let mut decoder = Decoder::new(format, 8);
                let mut got = Vec::new();
                for chunk in stream.as_bytes().chunks(size) {
                    decoder.push(chunk);
                    while let Some(item) = decoder.next_item(false).unwrap() {
                        got.push((item.line, item.character));
                    }
                    decoder.take_ready();
                }
                while let Some(item) = decoder.next_item(true).unwrap() {
                    got.push((item.line, item.character));
                }
                assert_eq!(got, want, "{format:?} {stream:?} in chunks of {size}");
            }
        }
    }

    /// The item limit counts one item's bytes, whatever the chunks: keep-alive comments and
    /// blank lines between items count towards none.
    #[tokio::test]
    async fn each_item_within_the_limit() {
        use http_body_util::BodyExt;
        let keep_alive = ": ping\n\n".repeat(20);
        let rows: Vec<(ItemFormat, String, Result<(), &str>)> = vec![
            (
                ItemFormat::Events,
                format!("{keep_alive}data: 1\n\n{keep_alive}"),
                Ok(()),
            ),
            (
                ItemFormat::Lines,
                format!("{}1\n", "\n".repeat(100)),
                Ok(()),
            ),
            (
                ItemFormat::Lines,
                format!("[{}1]\n", " ".repeat(40)),
                Err("/0"),
            ),
            (
                ItemFormat::Lines,
                format!("1\n[{}", " ".repeat(40)),
                Err("/1"),
            ),
            (
                ItemFormat::Seq,
                format!("\u{1e}1\n\u{1e}[{}]\n", " ".repeat(40)),
                Err("/1"),
            ),
            (
                ItemFormat::Events,
                format!("data: {}\n\n", "x".repeat(40)),
                Err("/0"),
            ),
        ];
        for (format, stream, want) in rows {
            for size in [1, 7, stream.len()] {
                let chunks: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = stream
                    .as_bytes()
                    .chunks(size)
                    .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
                    .collect();
                let body = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
                let rules = ItemRules {
                    format,
                    check: Check::Any,
                    depth_limit: 8,
                    item_limit: 32,
                    error_cap: 10,
                };
                let body = ItemBody::new(body, rules);
                let refusal = body.refusal();
                let read = body.collect().await.map(|c| c.to_bytes());
                let got = match (read, refused(&refusal)) {
                    (Ok(bytes), None) => {
                        assert_eq!(bytes, stream.as_bytes(), "{format:?} {stream:?}");
                        Ok(())
                    }
                    (Err(_), Some(problem)) => {
                        assert_eq!(problem.kind, ProblemKind::PayloadTooLarge);
                        Err(problem.errors[0].pointer.clone())
                    }
                    (read, problem) => panic!("{format:?} {stream:?}: {read:?} {problem:?}"),
                };
                assert_eq!(
                    got,
                    want.map_err(str::to_owned),
                    "{format:?} {stream:?} by {size}"
                );
            }
        }
    }

    #[test]
    fn formats_of_media_types() {
        let rows = [
            ("application/jsonl", Some(ItemFormat::Lines)),
            ("application/x-ndjson", Some(ItemFormat::Lines)),
            ("application/json-seq", Some(ItemFormat::Seq)),
            ("application/geo+json-seq", Some(ItemFormat::Seq)),
            ("text/event-stream", Some(ItemFormat::Events)),
            ("application/json", None),
            ("text/plain", None),
        ];
        for (media, want) in rows {
            let parsed = MediaType::parse(media).unwrap();
            assert_eq!(ItemFormat::of(&parsed), want, "{media}");
        }
    }
}
