//! The document as JSON and YAML text, compressed once, with per-request server URLs.
//!
//! The text is fixed except where server URLs begin (the request's origin). It splits at each
//! origin into fixed pieces; root `servers` are written last, so most documents are one large
//! prefix and a small tail. Every piece is compressed once (on first use) and flushed to a
//! byte boundary; per request the origins are put between them *uncompressed*, and nothing is
//! compressed per request. The result is an ordinary gzip or brotli stream any client decodes.
//!
//! - gzip: each piece is its own raw deflate run, so none refers back past an origin; the
//!   origins travel as stored blocks, and the trailer's CRC is combined from the pieces'.
//!   Any number of origins anywhere in the document (a path item's or an operation's own
//!   `servers`) keeps the document compressed.
//! - brotli: one stream whose later meta-blocks may refer back to anything before them, so
//!   only the prefix is compressed and the tail — everything after the first origin — is sent
//!   in uncompressed meta-blocks. Brotli is offered only while that tail is small.
//!
//! A large YAML text is written and kept in parts of about [`PART`] bytes, each ending at a line
//! end: the allocator serves such blocks from space freed before (the served tree's, dropped
//! just before), where one large buffer would be fresh memory mapped apart.

use std::io::Write as _;
use std::ops::Range;
use std::sync::OnceLock;

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::de::StrRead;
use serde_json::{Map, Value};

/// The tail (text after the first origin) above which brotli is not offered: its tail travels
/// uncompressed. Documents with `servers` on a path item or an operation come near it; gzip
/// is offered for them.
const MAX_BROTLI_TAIL: usize = 64 * 1024;

/// A content coding the document is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// What the entity tag of this coding adds to the identity representation's.
    pub fn tag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gzip",
            Coding::Brotli => "-br",
        }
    }

    pub fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }
}

/// Text kept as consecutive parts (slices of one or more buffers), written out in order.
#[derive(Default)]
struct Text {
    parts: Vec<Bytes>,
    len: usize,
}

impl Text {
    fn push(&mut self, part: Bytes) {
        if !part.is_empty() {
            self.len += part.len();
            self.parts.push(part);
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn crc(&self) -> crc32fast::Hasher {
        let mut crc = crc32fast::Hasher::new();
        for part in &self.parts {
            crc.update(part);
        }
        crc
    }

    fn put_into(&self, out: &mut impl BufMut) {
        for part in &self.parts {
            out.put_slice(part);
        }
    }
}

/// One representation (JSON or YAML) of the served document.
pub(crate) struct Rendered {
    pub content_type: &'static str,
    /// The text before the first origin.
    prefix: Text,
    /// The fixed pieces after each origin (one per origin), slices of the same parts.
    pieces: Vec<Text>,
    prefix_crc: crc32fast::Hasher,
    /// The CRC of each piece, combined per request with the origins'.
    piece_crcs: Vec<crc32fast::Hasher>,
    gzip: OnceLock<Deflated>,
    brotli: OnceLock<Bytes>,
}

/// The prefix and every piece, each deflated on its own and sync-flushed.
struct Deflated {
    prefix: Bytes,
    pieces: Vec<Bytes>,
}

/// The representation for one request: body, content coding and entity tag.
pub(crate) struct Body {
    pub bytes: Bytes,
    pub coding: Coding,
    pub etag: String,
}

impl Rendered {
    /// Splits the text in `parts` at every `token` (the origin placeholder), which no part
    /// boundary may cut (parts end at line ends; the placeholder holds no line end).
    pub fn new(parts: Vec<String>, token: &str, content_type: &'static str) -> Self {
        // Slices of the parts themselves: a large document is not copied again.
        let mut prefix = Text::default();
        let mut pieces: Vec<Text> = Vec::new();
        for text in parts {
            let starts: Vec<usize> = text.match_indices(token).map(|(at, _)| at).collect();
            let part = Bytes::from(text);
            let mut from = 0;
            for at in starts {
                let current = pieces.last_mut().unwrap_or(&mut prefix);
                current.push(part.slice(from..at));
                pieces.push(Text::default());
                from = at + token.len();
            }
            let current = pieces.last_mut().unwrap_or(&mut prefix);
            current.push(part.slice(from..));
        }
        Self {
            content_type,
            prefix_crc: prefix.crc(),
            piece_crcs: pieces.iter().map(Text::crc).collect(),
            prefix,
            pieces,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// The text after the prefix with `origin` filled in.
    fn tail(&self, origin: &str) -> Vec<u8> {
        let mut tail = Vec::with_capacity(self.pieces.iter().map(|p| p.len() + origin.len()).sum());
        for piece in &self.pieces {
            tail.extend_from_slice(origin.as_bytes());
            piece.put_into(&mut tail);
        }
        tail
    }

    /// The whole text's CRC and length for `origin`, from the pieces' CRCs.
    fn crc_and_len(&self, origin: &str) -> (u32, usize) {
        let mut crc = self.prefix_crc.clone();
        let mut origin_crc = crc32fast::Hasher::new();
        origin_crc.update(origin.as_bytes());
        let mut len = self.prefix.len();
        for (piece, piece_crc) in self.pieces.iter().zip(&self.piece_crcs) {
            crc.combine(&origin_crc);
            crc.combine(piece_crc);
            len += origin.len() + piece.len();
        }
        (crc.finalize(), len)
    }

    /// Whether brotli may be offered: the part it sends uncompressed is small.
    pub fn brotli_offered(&self) -> bool {
        self.pieces.iter().map(Text::len).sum::<usize>() < MAX_BROTLI_TAIL
    }

    /// The document for a request from `origin`, in `coding` (brotli only where
    /// [offered](Self::brotli_offered); otherwise the identity).
    pub fn body(&self, origin: &str, coding: Coding) -> Body {
        let (crc, len) = self.crc_and_len(origin);
        let coding = match coding {
            Coding::Brotli if !self.brotli_offered() => Coding::Identity,
            coding => coding,
        };
        let bytes = match coding {
            Coding::Identity => {
                let mut out = BytesMut::with_capacity(len);
                self.prefix.put_into(&mut out);
                out.put_slice(&self.tail(origin));
                out.freeze()
            }
            Coding::Gzip => {
                let deflated = self.gzip.get_or_init(|| Deflated {
                    prefix: deflate(&self.prefix),
                    pieces: self.pieces.iter().map(deflate).collect(),
                });
                gzip(deflated, origin.as_bytes(), crc, len)
            }
            Coding::Brotli => {
                let compressed = self.brotli.get_or_init(|| brotli_prefix(&self.prefix));
                brotli_with_tail(compressed, &self.tail(origin))
            }
        };
        Body {
            bytes,
            coding,
            etag: format!("\"{crc:08x}{len:x}{}\"", coding.tag_suffix()),
        }
    }

    /// The whole text with `token` where each origin goes, as it was split.
    fn text_with(&self, token: &str) -> Vec<u8> {
        let len = self.prefix.len()
            + self
                .pieces
                .iter()
                .map(|p| token.len() + p.len())
                .sum::<usize>();
        let mut out = Vec::with_capacity(len);
        self.prefix.put_into(&mut out);
        for piece in &self.pieces {
            out.extend_from_slice(token.as_bytes());
            piece.put_into(&mut out);
        }
        out
    }

    /// The entity tag of the identity representation for `origin` (for `If-None-Match`).
    pub fn identity_tag(&self, origin: &str) -> String {
        let (crc, len) = self.crc_and_len(origin);
        format!("\"{crc:08x}{len:x}")
    }
}

/// The served document as JSON text, and where each root member is in it.
pub(crate) struct JsonText {
    pub text: String,
    /// Each root member's key and the byte range of its value's text, in order.
    members: Vec<(String, Range<usize>)>,
}

/// JSON text with the keys in the author's order, except root `servers`, written last: its
/// URLs change per request, and everything before them is compressed once.
/// Placeholders of an outline's tree are written as the text they stand for (`aside`).
pub(crate) fn to_json(doc: &Value, aside: Option<&super::outline::SetAside>) -> JsonText {
    let Value::Object(root) = doc else {
        return JsonText {
            text: doc.to_string(),
            members: Vec::new(),
        };
    };
    // Written into one buffer: no member's text is made apart and copied in. The text is
    // measured first (an outline's set-aside parts count by their length), so the buffer is
    // made once at its size: grown by doubling, it would hold up to twice the text at the
    // peak of a large document's start, and be copied at each step.
    let mut measure = Counting::new(std::io::sink());
    write_root(root, aside, &mut measure, |_, _| {});
    let mut out = Counting::new(Vec::with_capacity(measure.written));
    let mut members = Vec::with_capacity(root.len());
    write_root(root, aside, &mut out, |key, value| {
        members.push((key.to_owned(), value))
    });
    JsonText {
        text: String::from_utf8(out.inner).unwrap_or_default(),
        members,
    }
}

/// Writes the object `root` as compact JSON into `out`, in [`ordered`] order, telling `member`
/// each key and the range of its value's text.
fn write_root<W: std::io::Write>(
    root: &serde_json::Map<String, Value>,
    aside: Option<&super::outline::SetAside>,
    out: &mut Counting<W>,
    mut member: impl FnMut(&str, Range<usize>),
) {
    // Writing into a `Vec` or a sink cannot fail.
    let _ = out.write_all(b"{");
    for (i, (key, value)) in ordered(root).into_iter().enumerate() {
        if i > 0 {
            let _ = out.write_all(b",");
        }
        let _ = serde_json::to_writer(&mut *out, key);
        let _ = out.write_all(b":");
        let start = out.written;
        let _ = match aside {
            Some(aside) => aside.write(value, &mut *out),
            None => serde_json::to_writer(&mut *out, value),
        };
        member(key, start..out.written);
    }
    let _ = out.write_all(b"}");
}

/// A writer that counts the bytes written through it.
struct Counting<W> {
    inner: W,
    written: usize,
}

impl<W> Counting<W> {
    fn new(inner: W) -> Self {
        Self { inner, written: 0 }
    }
}

impl<W: std::io::Write> std::io::Write for Counting<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.written += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Below this much JSON the YAML is written on one thread: a thread costs more than it saves.
const SPLIT_YAML_FROM: usize = 256 * 1024;

/// The size of the parts a YAML text is written in: far under the size from which the
/// allocator maps a block apart (glibc's threshold starts at 128 KiB), and small enough for
/// the holes a freed tree leaves (on DigitalOcean's document 16 KiB parts still raised the
/// peak by 1–1.6 MB, 4 KiB parts not at all).
const PART: usize = 4 * 1024;

/// The JSON text as one part, its writer's spare room given back (allocators shrink a large
/// block in place).
pub(crate) fn json_parts(mut json: JsonText) -> Vec<String> {
    json.text.shrink_to_fit();
    vec![json.text]
}

/// YAML text of `json`, in its key order, in parts that each end at a line end. Read event by
/// event from the text: the document's tree can be dropped first, and no second tree is
/// built. A large document's root members are written in two runs, the later members on a
/// second thread where there is one core more: a block mapping's text is its members' texts
/// one after the other.
pub(crate) fn to_yaml(json: &JsonText) -> Result<Vec<String>, String> {
    let members = &json.members[..];
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if members.len() < 2 || json.text.len() < SPLIT_YAML_FROM || cores < 2 {
        if members.is_empty() {
            let mut de = serde_json::Deserializer::from_str(&json.text);
            let mut out = LineParts::new(PART);
            serde_saphyr::to_fmt_writer(&mut out, &serde_transcode::Transcoder::new(&mut de))
                .map_err(|e| e.to_string())?;
            return Ok(out.finish());
        }
        return yaml_members(&json.text, members);
    }
    // The first member from which the rest holds about half the text.
    let half = json.text.len() / 2;
    let split = members
        .iter()
        .position(|(_, value)| value.end >= half)
        .map_or(members.len() - 1, |i| i + 1)
        .clamp(1, members.len() - 1);
    let (first, rest) = members.split_at(split);
    std::thread::scope(|scope| {
        let later = scope.spawn(|| yaml_members(&json.text, rest));
        let mut parts = yaml_members(&json.text, first)?;
        let later = later
            .join()
            .unwrap_or_else(|_| Err("writing YAML stopped".to_owned()))?;
        parts.extend(later);
        Ok(parts)
    })
}

/// The YAML of root members `members` of `json`: each a one-member mapping, one after the other.
fn yaml_members(json: &str, members: &[(String, Range<usize>)]) -> Result<Vec<String>, String> {
    /// A root member: its key and a reader of its value's text.
    struct Member<'a, 'de> {
        key: &'a str,
        value: serde_transcode::Transcoder<&'a mut serde_json::Deserializer<StrRead<'de>>>,
    }
    impl serde::Serialize for Member<'_, '_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry(self.key, &self.value)?;
            map.end()
        }
    }
    let mut out = LineParts::new(PART);
    for (key, value) in members {
        let mut de = serde_json::Deserializer::from_str(&json[value.clone()]);
        let member = Member {
            key,
            value: serde_transcode::Transcoder::new(&mut de),
        };
        serde_saphyr::to_fmt_writer(&mut out, &member).map_err(|e| e.to_string())?;
        if !out.ends_with('\n') {
            std::fmt::Write::write_char(&mut out, '\n').map_err(|e| e.to_string())?;
        }
    }
    Ok(out.finish())
}

/// The deepest a JSON text for YAML may nest: the JSON reader the YAML is written through
/// refuses more than 128 levels of arrays and objects.
const YAML_DEPTH: usize = 120;

/// The served YAML, written from the served JSON the first time it is asked for: most
/// clients and the docs page read the JSON, and a large document's YAML text is about the
/// size of its file. Made only for JSON shallow enough to be written (deeper JSON is written
/// at start-up, which reports the failure), so writing it later does not fail.
pub(crate) struct LaterYaml {
    members: Vec<(String, Range<usize>)>,
    token: String,
    done: OnceLock<Result<Rendered, String>>,
}

impl LaterYaml {
    /// The YAML of `json` for later, if it can be written from it later; `None` when it has
    /// to be written now.
    pub fn of(json: &JsonText, token: &str) -> Option<Self> {
        let shallow = crate::body::nesting_exceeds(json.text.as_bytes(), YAML_DEPTH).is_none();
        shallow.then(|| Self {
            members: json.members.clone(),
            token: token.to_owned(),
            done: OnceLock::new(),
        })
    }

    /// The YAML, written from `json` (the served JSON this was made of) on first use.
    pub fn get(&self, json: &Rendered) -> Result<&Rendered, &str> {
        self.done
            .get_or_init(|| {
                let text =
                    String::from_utf8(json.text_with(&self.token)).map_err(|e| e.to_string())?;
                let json = JsonText {
                    text,
                    members: self.members.clone(),
                };
                let parts = to_yaml(&json)?;
                Ok(Rendered::new(parts, &self.token, "application/yaml"))
            })
            .as_ref()
            .map_err(String::as_str)
    }

    #[cfg(test)]
    pub fn is_written(&self) -> bool {
        self.done.get().is_some()
    }
}

/// Text written in parts of about `size` bytes, each cut after a line end (a line longer than
/// a part stays whole), so that nothing within a line is ever split between two parts.
struct LineParts {
    done: Vec<String>,
    current: String,
    size: usize,
}

impl LineParts {
    fn new(size: usize) -> Self {
        Self {
            done: Vec::new(),
            current: String::with_capacity(size),
            size,
        }
    }

    fn ends_with(&self, c: char) -> bool {
        self.current.ends_with(c)
            || (self.current.is_empty() && self.done.last().is_some_and(|d| d.ends_with(c)))
    }

    fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.done.push(self.current);
        }
        self.done
    }
}

impl std::fmt::Write for LineParts {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.current.len() + s.len() > self.size
            && let Some(end) = self.current.rfind('\n')
        {
            // The line in progress starts the next part.
            let mut next = String::with_capacity(self.size.max(self.current.len() - end));
            next.push_str(&self.current[end + 1..]);
            self.current.truncate(end + 1);
            self.done.push(std::mem::replace(&mut self.current, next));
        }
        self.current.push_str(s);
        Ok(())
    }
}

fn ordered(root: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut keys: Vec<(&String, &Value)> = root.iter().filter(|(k, _)| *k != "servers").collect();
    keys.extend(root.get_key_value("servers"));
    keys
}

/// Raw deflate of `text` on its own (referring to nothing before it), sync-flushed:
/// byte-aligned, no final block.
fn deflate(text: &Text) -> Bytes {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(text.len() / 4 + 64);
    let written = text
        .parts
        .iter()
        .try_for_each(|part| {
            deflate_run(&mut compress, part, flate2::FlushCompress::None, &mut out)
        })
        .and_then(|()| deflate_run(&mut compress, &[], flate2::FlushCompress::Sync, &mut out));
    match written {
        Ok(()) => Bytes::from(out),
        Err(e) => {
            tracing::error!(target: "oasgate::serve", error = %e, "deflate failed");
            Bytes::new()
        }
    }
}

/// Feeds `input` to `compress`, then `flush`es, growing `out` as needed.
fn deflate_run(
    compress: &mut flate2::Compress,
    mut input: &[u8],
    flush: flate2::FlushCompress,
    out: &mut Vec<u8>,
) -> Result<(), flate2::CompressError> {
    loop {
        out.reserve(64 * 1024);
        let before = compress.total_in();
        compress.compress_vec(input, out, flush)?;
        let consumed = (compress.total_in() - before) as usize;
        input = &input[consumed..];
        // Done once all input is in and the output left room to spare.
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(());
        }
    }
}

/// Stored (uncompressed) deflate blocks holding `data`, none of them final.
fn put_stored(out: &mut BytesMut, data: &[u8]) {
    for chunk in data.chunks(0xffff) {
        let n = chunk.len() as u16;
        out.put_u8(0);
        out.put_u16_le(n);
        out.put_u16_le(!n);
        out.put_slice(chunk);
    }
}

/// A gzip member: header, the deflated prefix, each origin in stored blocks followed by its
/// deflated piece, an empty final block, then CRC and length.
fn gzip(deflated: &Deflated, origin: &[u8], crc: u32, len: usize) -> Bytes {
    let pieces: usize = deflated.pieces.iter().map(Bytes::len).sum();
    let mut out = BytesMut::with_capacity(
        deflated.prefix.len() + pieces + (origin.len() + 5) * deflated.pieces.len() + 32,
    );
    out.put_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.put_slice(&deflated.prefix);
    for piece in &deflated.pieces {
        put_stored(&mut out, origin);
        out.put_slice(piece);
    }
    // BFINAL=1, stored, empty.
    out.put_slice(&[1, 0, 0, 0xff, 0xff]);
    out.put_u32_le(crc);
    out.put_u32_le(len as u32);
    out.freeze()
}

/// A brotli stream of `prefix`, flushed to a byte boundary and not finished.
fn brotli_prefix(prefix: &Text) -> Bytes {
    let mut out = Vec::with_capacity(prefix.len() / 5 + 64);
    let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 9, 22);
    let written = prefix
        .parts
        .iter()
        .try_for_each(|part| writer.write_all(part))
        .and_then(|()| writer.flush());
    // Dropping the writer would finish the stream; keep only what the flush produced.
    let flushed = writer.get_ref().len();
    drop(writer);
    out.truncate(flushed);
    match written {
        Ok(()) => Bytes::from(out),
        Err(e) => {
            tracing::error!(target: "oasgate::serve", error = %e, "brotli failed");
            Bytes::new()
        }
    }
}

/// The flushed prefix, then the tail in uncompressed meta-blocks, then an empty last one.
fn brotli_with_tail(compressed: &Bytes, tail: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(compressed.len() + tail.len() + 16);
    out.put_slice(compressed);
    for chunk in tail.chunks(1 << 16) {
        // ISLAST=0, MNIBBLES=0 (four nibbles), MLEN-1 in 16 bits, ISUNCOMPRESSED=1, padding.
        let bits: u32 = ((chunk.len() as u32 - 1) << 3) | (1 << 19);
        out.put_slice(&bits.to_le_bytes()[..3]);
        out.put_slice(chunk);
    }
    // ISLAST=1, ISLASTEMPTY=1.
    out.put_u8(0b11);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    const TOKEN: &str = "\u{1}origin\u{1}";

    fn sample(size: usize) -> String {
        let mut text = String::from("{\"paths\":{");
        for i in 0..size {
            text.push_str(&format!(
                "\"/items/{i}\":{{\"get\":{{\"operationId\":\"get{i}\"}}}},"
            ));
        }
        text.push_str(&format!(
            "\"/x\":{{}}}},\"servers\":[{{\"url\":\"{TOKEN}/v2\"}},{{\"url\":\"{TOKEN}/v3\"}}]}}"
        ));
        text
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .expect("valid gzip");
        text
    }

    fn unbrotli(bytes: &[u8]) -> String {
        let mut text = String::new();
        brotli::Decompressor::new(bytes, 4096)
            .read_to_string(&mut text)
            .expect("valid brotli");
        text
    }

    #[test]
    fn every_coding_decodes_to_the_same_text() {
        // (document size in operations, origin)
        let rows = [
            (0, "http://a.test"),
            (3, ""),
            (2000, "https://b.test:8443/api"),
            (40_000, "http://[::1]:80"),
        ];
        for (size, origin) in rows {
            let text = sample(size);
            let want = text.replace(TOKEN, origin);
            let rendered = Rendered::new(vec![text], TOKEN, "application/json");
            let plain = rendered.body(origin, Coding::Identity);
            assert_eq!(std::str::from_utf8(&plain.bytes).unwrap(), want, "{size}");
            let gz = rendered.body(origin, Coding::Gzip);
            assert_eq!(gz.coding, Coding::Gzip);
            assert_eq!(gunzip(&gz.bytes), want, "gzip, {size} operations");
            let br = rendered.body(origin, Coding::Brotli);
            assert_eq!(unbrotli(&br.bytes), want, "brotli, {size} operations");
            if size >= 2000 {
                assert!(
                    gz.bytes.len() * 5 < want.len(),
                    "gzip compresses: {}",
                    gz.bytes.len()
                );
                assert!(
                    br.bytes.len() * 5 < want.len(),
                    "brotli compresses: {}",
                    br.bytes.len()
                );
            }
            // One tag per representation, the same for the same origin.
            assert_ne!(plain.etag, gz.etag);
            assert_eq!(plain.etag, rendered.body(origin, Coding::Identity).etag);
            assert!(plain.etag.starts_with(&rendered.identity_tag(origin)));
        }
    }

    /// A document whose first operation has its own `servers`: nearly all of it comes after
    /// the first origin.
    fn early_servers(size: usize) -> String {
        let mut text = format!(
            "{{\"paths\":{{\"/first\":{{\"servers\":[{{\"url\":\"{TOKEN}/one\"}}],\"get\":{{}}}},"
        );
        for i in 0..size {
            text.push_str(&format!(
                "\"/items/{i}\":{{\"get\":{{\"operationId\":\"get{i}\"}}}},"
            ));
        }
        text.push_str(&format!(
            "\"/x\":{{\"servers\":[{{\"url\":\"{TOKEN}\"}}]}}}},\"servers\":[{{\"url\":\"{TOKEN}/v2\"}}]}}"
        ));
        text
    }

    #[test]
    fn origins_anywhere_keep_gzip_compressed() {
        for origin in ["", "http://a.test", "https://b.test:8443/api"] {
            let text = early_servers(20_000);
            let want = text.replace(TOKEN, origin);
            let rendered = Rendered::new(vec![text], TOKEN, "application/json");
            assert!(!rendered.brotli_offered());
            let gz = rendered.body(origin, Coding::Gzip);
            assert_eq!(gz.coding, Coding::Gzip);
            assert_eq!(gunzip(&gz.bytes), want);
            assert!(gz.bytes.len() * 5 < want.len(), "{}", gz.bytes.len());
            // Brotli is not offered for it: asked anyway, the identity answers.
            let br = rendered.body(origin, Coding::Brotli);
            assert_eq!(br.coding, Coding::Identity);
            assert_eq!(std::str::from_utf8(&br.bytes).unwrap(), want);
            assert_eq!(
                gz.etag,
                format!("{}-gzip\"", rendered.identity_tag(origin)),
                "the tag's CRC is the whole text's"
            );
            let mut crc = crc32fast::Hasher::new();
            crc.update(want.as_bytes());
            assert!(gz.etag.starts_with(&format!("\"{:08x}", crc.finalize())));
        }
    }

    /// The YAML written from the JSON text is the text written key by key from the tree.
    #[test]
    fn yaml_in_one_pass_is_the_text_key_by_key() {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "a: b", "version": "1", "description": "two\nlines\n"},
            "paths": {"/a/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "schema": {"enum": ["yes", "no", "1", null, 1.5]}}]}}},
            "servers": [{"url": "http://x.test/v1"}],
            "components": {"schemas": {"Empty": {}, "List": {"type": "array", "items": []}}},
        });
        let root = doc.as_object().unwrap();
        let mut key_by_key = String::new();
        for (key, value) in ordered(root) {
            let mut one = Map::new();
            one.insert(key.clone(), value.clone());
            let text = serde_saphyr::to_string(&Value::Object(one)).unwrap();
            key_by_key.push_str(text.trim_start_matches("---\n"));
            if !key_by_key.ends_with('\n') {
                key_by_key.push('\n');
            }
        }
        let one_pass = to_yaml(&to_json(&doc, None)).unwrap().concat();
        assert_eq!(one_pass, key_by_key);
        let back: Value = serde_saphyr::from_str(&one_pass).unwrap();
        assert_eq!(back, doc);
    }

    /// A large document's YAML, written in two runs (on two threads where there are two
    /// cores), is the text written in one run from the whole JSON text.
    #[test]
    fn yaml_written_in_two_runs_is_the_text_of_one() {
        let mut paths = Map::new();
        for i in 0..3000 {
            paths.insert(
                format!("/items/{i}"),
                serde_json::json!({"get": {"operationId": format!("get{i}"), "description": "a: b\n- c", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"enum": ["yes", "no", null, 1.5, {}]}}}}}}}),
            );
        }
        let doc = serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": paths,
            "components": {"schemas": {"Empty": {}, "List": {"type": "array", "items": []}}},
            "x-tail": [[], [1, [2]], "three"],
            "servers": [{"url": "http://x.test"}],
        });
        let json = to_json(&doc, None);
        assert!(json.text.len() > SPLIT_YAML_FROM, "{}", json.text.len());
        let mut de = serde_json::Deserializer::from_str(&json.text);
        let whole = serde_saphyr::to_string(&serde_transcode::Transcoder::new(&mut de)).unwrap();
        assert_eq!(
            to_yaml(&json).unwrap().concat(),
            whole.trim_start_matches("---\n")
        );
        // Split at every member boundary: the runs' texts add up to the whole.
        for split in 1..json.members.len() {
            let (first, rest) = json.members.split_at(split);
            let runs = yaml_members(&json.text, first).unwrap().concat()
                + &yaml_members(&json.text, rest).unwrap().concat();
            assert_eq!(runs, whole, "split before member {split}");
        }
    }

    #[test]
    fn the_tag_follows_the_origin() {
        let rendered = Rendered::new(vec![sample(3)], TOKEN, "application/json");
        assert_ne!(
            rendered.body("http://a.test", Coding::Identity).etag,
            rendered.body("http://b.test", Coding::Identity).etag
        );
    }

    #[test]
    fn servers_come_last_the_rest_in_the_authors_order() {
        let doc = serde_json::json!({"servers": [{"url": "x"}], "paths": {"/b": {}, "/a": {}}, "openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "components": {}});
        let json = to_json(&doc, None).text;
        assert!(
            json.starts_with(
                "{\"paths\":{\"/b\":{},\"/a\":{}},\"openapi\":\"3.1.0\",\"info\":{\"title\":\"t\",\"version\":\"1\"},\"components\":{},\"servers\""
            ),
            "{json}"
        );
        assert!(json.ends_with("\"servers\":[{\"url\":\"x\"}]}"), "{json}");
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
        let yaml = to_yaml(&to_json(&doc, None)).unwrap().concat();
        assert!(
            yaml.starts_with("paths:\n  /b: {}\n  /a: {}\nopenapi:"),
            "{yaml}"
        );
        let last_key = yaml
            .lines()
            .rfind(|l| !l.starts_with(' ') && !l.starts_with('-'));
        assert_eq!(last_key, Some("servers:"), "{yaml}");
        let back: Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, doc);
    }

    /// The same text given in parts, cut anywhere but inside a placeholder, is served the
    /// same: every coding decodes to it, with the same tags.
    #[test]
    fn a_text_in_parts_is_served_as_the_whole() {
        let text = early_servers(40) + "\n" + &sample(30);
        let origin = "https://c.test:8443";
        let want = text.replace(TOKEN, origin);
        let whole = Rendered::new(vec![text.clone()], TOKEN, "application/yaml");
        let inside: Vec<std::ops::Range<usize>> = text
            .match_indices(TOKEN)
            .map(|(at, _)| at + 1..at + TOKEN.len())
            .collect();
        let cuts = (1..text.len())
            .filter(|at| text.is_char_boundary(*at) && !inside.iter().any(|r| r.contains(at)));
        let mut checked = 0;
        for size in [1, 7, 64, 1000] {
            // Parts of about `size` bytes, each cut at the next allowed place.
            let mut parts = Vec::new();
            let mut from = 0;
            for at in cuts.clone() {
                if at - from >= size {
                    parts.push(text[from..at].to_owned());
                    from = at;
                }
            }
            parts.push(text[from..].to_owned());
            let rendered = Rendered::new(parts, TOKEN, "application/yaml");
            for coding in [Coding::Identity, Coding::Gzip, Coding::Brotli] {
                let (got, expected) = (rendered.body(origin, coding), whole.body(origin, coding));
                let text = match got.coding {
                    Coding::Identity => String::from_utf8(got.bytes.to_vec()).unwrap(),
                    Coding::Gzip => gunzip(&got.bytes),
                    Coding::Brotli => unbrotli(&got.bytes),
                };
                assert_eq!(text, want, "parts of {size}, {coding:?}");
                assert_eq!(got.coding, expected.coding, "parts of {size}");
                assert_eq!(got.etag, expected.etag, "parts of {size}, {coding:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 12);
    }

    /// The YAML writer's parts: each but the last ends at a line end, so no part boundary is
    /// inside a line (where a placeholder could be); together they are what was written.
    #[test]
    fn yaml_parts_end_at_line_ends() {
        use std::fmt::Write as _;
        // (part size, the writes)
        let rows: [(usize, &[&str]); 5] = [
            (8, &["a: 1\n", "b: 2\n", "c: 3\n"]),
            (8, &["key: ", "a value longer than a part", "\n", "x\n"]),
            (4, &["one\ntwo\nthree\n"]),
            (16, &["no line end at all"]),
            (3, &["\n", "\n", "ab", "c\n", "d"]),
        ];
        for (size, writes) in rows {
            let mut out = LineParts::new(size);
            for w in writes {
                out.write_str(w).unwrap();
            }
            let parts = out.finish();
            assert_eq!(parts.concat(), writes.concat(), "{writes:?}");
            for part in &parts[..parts.len().saturating_sub(1)] {
                assert!(part.ends_with('\n'), "{part:?} of {parts:?}");
            }
            assert!(parts.iter().all(|p| !p.is_empty()), "{parts:?}");
        }
        // A large document's YAML comes in many parts, none much over the part size.
        let mut paths = Map::new();
        for i in 0..2000 {
            paths.insert(
                format!("/items/{i}"),
                serde_json::json!({"get": {"operationId": format!("get{i}")}}),
            );
        }
        let doc = serde_json::json!({"openapi": "3.0.3", "paths": paths});
        let parts = to_yaml(&to_json(&doc, None)).unwrap();
        assert!(parts.len() > 4, "{} parts", parts.len());
        assert!(
            parts.iter().all(|p| p.len() <= PART),
            "{:?}",
            parts.iter().map(String::len).max()
        );
    }
}
