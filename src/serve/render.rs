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

/// One representation (JSON or YAML) of the served document.
pub(crate) struct Rendered {
    pub content_type: &'static str,
    /// The text before the first origin.
    prefix: Bytes,
    /// The fixed pieces after each origin (one per origin), slices of the same text.
    pieces: Vec<Bytes>,
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
    /// Splits `text` at every `token` (the origin placeholder).
    pub fn new(mut text: String, token: &str, content_type: &'static str) -> Self {
        // Slices of the text itself: a large document is not copied again. The writer's spare
        // capacity is given back (allocators shrink a large block in place).
        text.shrink_to_fit();
        let starts: Vec<usize> = text.match_indices(token).map(|(at, _)| at).collect();
        let text = Bytes::from(text);
        let ends = starts.iter().copied().chain([text.len()]);
        let prefix = text.slice(..ends.clone().next().unwrap_or_default());
        let pieces: Vec<Bytes> = starts
            .iter()
            .zip(ends.skip(1))
            .map(|(start, end)| text.slice(start + token.len()..end))
            .collect();
        let crc_of = |text: &[u8]| {
            let mut crc = crc32fast::Hasher::new();
            crc.update(text);
            crc
        };
        Self {
            content_type,
            prefix_crc: crc_of(&prefix),
            piece_crcs: pieces.iter().map(|piece| crc_of(piece)).collect(),
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
            tail.extend_from_slice(piece);
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
        self.pieces.iter().map(|p| p.len()).sum::<usize>() < MAX_BROTLI_TAIL
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
                out.put_slice(&self.prefix);
                out.put_slice(&self.tail(origin));
                out.freeze()
            }
            Coding::Gzip => {
                let deflated = self.gzip.get_or_init(|| Deflated {
                    prefix: deflate(&self.prefix),
                    pieces: self.pieces.iter().map(|p| deflate(p)).collect(),
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
pub(crate) fn to_json(doc: &Value) -> JsonText {
    let Value::Object(root) = doc else {
        return JsonText {
            text: doc.to_string(),
            members: Vec::new(),
        };
    };
    // Written into one buffer: no member's text is made apart and copied in.
    let mut out = vec![b'{'];
    let mut members = Vec::with_capacity(root.len());
    for (i, (key, value)) in ordered(root).into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing a `Value` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut out, key);
        out.push(b':');
        let start = out.len();
        let _ = serde_json::to_writer(&mut out, value);
        members.push((key.clone(), start..out.len()));
    }
    out.push(b'}');
    JsonText {
        text: String::from_utf8(out).unwrap_or_default(),
        members,
    }
}

/// Below this much JSON the YAML is written on one thread: a thread costs more than it saves.
const SPLIT_YAML_FROM: usize = 256 * 1024;

/// YAML text of `json`, in its key order. Read event by event from the text: the document's
/// tree can be dropped first, and no second tree is built. A large document's root members
/// are written in two runs, the later members on a second thread where there is one core more:
/// a block mapping's text is its members' texts one after the other.
pub(crate) fn to_yaml(json: &JsonText) -> Result<String, String> {
    let members = &json.members[..];
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if members.len() < 2 || json.text.len() < SPLIT_YAML_FROM || cores < 2 {
        if members.is_empty() {
            let mut de = serde_json::Deserializer::from_str(&json.text);
            return serde_saphyr::to_string(&serde_transcode::Transcoder::new(&mut de))
                .map_err(|e| e.to_string());
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
        let mut text = yaml_members(&json.text, first)?;
        let later = later
            .join()
            .unwrap_or_else(|_| Err("writing YAML stopped".to_owned()))?;
        text.push_str(&later);
        Ok(text)
    })
}

/// The YAML of root members `members` of `json`: each a one-member mapping, one after the other.
fn yaml_members(json: &str, members: &[(String, Range<usize>)]) -> Result<String, String> {
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
    let mut text = String::with_capacity(members.iter().map(|(_, v)| v.len()).sum());
    for (key, value) in members {
        let mut de = serde_json::Deserializer::from_str(&json[value.clone()]);
        let member = Member {
            key,
            value: serde_transcode::Transcoder::new(&mut de),
        };
        serde_saphyr::to_fmt_writer(&mut text, &member).map_err(|e| e.to_string())?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}

fn ordered(root: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut keys: Vec<(&String, &Value)> = root.iter().filter(|(k, _)| *k != "servers").collect();
    keys.extend(root.get_key_value("servers"));
    keys
}

/// Raw deflate of `text` on its own (referring to nothing before it), sync-flushed:
/// byte-aligned, no final block.
fn deflate(text: &[u8]) -> Bytes {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(text.len() / 4 + 64);
    let mut input = text;
    loop {
        out.reserve(64 * 1024);
        let before = compress.total_in();
        let status = compress.compress_vec(input, &mut out, flate2::FlushCompress::Sync);
        let consumed = (compress.total_in() - before) as usize;
        input = &input[consumed..];
        match status {
            // Done once all input is in and the flush left room to spare.
            Ok(_) if input.is_empty() && out.len() < out.capacity() => break,
            Ok(_) => continue,
            Err(e) => {
                tracing::error!(target: "oasgate::serve", error = %e, "deflate failed");
                return Bytes::new();
            }
        }
    }
    Bytes::from(out)
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
fn brotli_prefix(prefix: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(prefix.len() / 5 + 64);
    let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 9, 22);
    let written = writer.write_all(prefix).and_then(|()| writer.flush());
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
            let rendered = Rendered::new(text, TOKEN, "application/json");
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
            let rendered = Rendered::new(text, TOKEN, "application/json");
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
        let one_pass = to_yaml(&to_json(&doc)).unwrap();
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
        let json = to_json(&doc);
        assert!(json.text.len() > SPLIT_YAML_FROM, "{}", json.text.len());
        let mut de = serde_json::Deserializer::from_str(&json.text);
        let whole = serde_saphyr::to_string(&serde_transcode::Transcoder::new(&mut de)).unwrap();
        assert_eq!(to_yaml(&json).unwrap(), whole.trim_start_matches("---\n"));
        // Split at every member boundary: the runs' texts add up to the whole.
        for split in 1..json.members.len() {
            let (first, rest) = json.members.split_at(split);
            let runs =
                yaml_members(&json.text, first).unwrap() + &yaml_members(&json.text, rest).unwrap();
            assert_eq!(runs, whole, "split before member {split}");
        }
    }

    #[test]
    fn the_tag_follows_the_origin() {
        let rendered = Rendered::new(sample(3), TOKEN, "application/json");
        assert_ne!(
            rendered.body("http://a.test", Coding::Identity).etag,
            rendered.body("http://b.test", Coding::Identity).etag
        );
    }

    #[test]
    fn servers_come_last_the_rest_in_the_authors_order() {
        let doc = serde_json::json!({"servers": [{"url": "x"}], "paths": {"/b": {}, "/a": {}}, "openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "components": {}});
        let json = to_json(&doc).text;
        assert!(
            json.starts_with(
                "{\"paths\":{\"/b\":{},\"/a\":{}},\"openapi\":\"3.1.0\",\"info\":{\"title\":\"t\",\"version\":\"1\"},\"components\":{},\"servers\""
            ),
            "{json}"
        );
        assert!(json.ends_with("\"servers\":[{\"url\":\"x\"}]}"), "{json}");
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
        let yaml = to_yaml(&to_json(&doc)).unwrap();
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
}
