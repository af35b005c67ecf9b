//! Loading an OpenAPI document: JSON or YAML, `$ref`s across files, version detection.
//!
//! A [`Document`] is the document as its author wrote it, with every file its `$ref`s reach
//! bundled in (see [`Document::as_json`]). It is what the layer serves at `/openapi.json` and
//! what [`OpenApiLayer`](crate::OpenApiLayer) compiles. A Swagger 2.0 document
//! ([`Version::V2_0`]) stays 2.0 here; the compiler converts it once into the 3.0 shape and
//! reports problems at their 2.0 places (see `docs/swagger2.md`).
//!
//! # Example
//!
//! ```
//! let doc = oasgate::Document::from_str(r#"
//! openapi: 3.1.0
//! info: {title: Pets, version: "1"}
//! paths: {}
//! "#).unwrap();
//! assert_eq!(doc.version(), oasgate::Version::V3_1);
//! ```

mod bundle;
pub(crate) mod components;
pub(crate) mod methods;
pub(crate) mod normalize;
pub(crate) mod pointer;
mod prefetch;
pub(crate) mod source;
pub(crate) mod swagger2;
pub(crate) mod uri;
pub(crate) mod walk;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

pub(crate) use bundle::{
    Dangling, FILES_KEY, WRITTEN_KEY, is_data_value, problem_at, restore_written_refs,
};
pub(crate) use source::SourceFile;

/// Whether a key of a Paths, Path Item, Callback or Responses Object is a Specification
/// Extension: "The field name MUST begin with `x-`" (OpenAPI 3.1 §4.9), and those objects
/// "MAY be extended with Specification Extensions". Such a key is no path, method, expression
/// or status code.
pub(crate) fn is_extension(key: &str) -> bool {
    key.starts_with("x-")
}

/// The member `key` of an object: [`Value::get`], except that an object of a few members is
/// searched in order rather than through its hash table. The document's objects are mostly
/// that small, and a start-up walk asks hundreds of thousands of them for a member; the hash
/// (SipHash, `serde_json`'s maps) costs more than comparing a few keys.
pub(crate) fn field<'a>(node: &'a Value, key: &str) -> Option<&'a Value> {
    member(node.as_object()?, key)
}

/// [`field`] of a map.
pub(crate) fn member<'a>(map: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// Whether `doc` (as written, or a view of it) is an OpenAPI 3.2 document: there a `content`
/// entry may be a Reference Object ("Map[`string`, Media Type Object | Reference Object]" in
/// the Request Body, Response, Parameter and Header Objects of 3.2), `components` has
/// `mediaTypes`, and a Discriminator Object may have a `defaultMapping`. In 3.0 and 3.1 those
/// are a Media Type Object only, an unknown section, an unknown field.
pub(crate) fn is_v3_2(doc: &Value) -> bool {
    doc.get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v == "3.2" || v.starts_with("3.2."))
}

use crate::error::{BuildError, BuildProblem};

/// The OpenAPI versions oasgate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// Swagger 2.0 (OpenAPI 2.0): converted once at start-up into the 3.0 shape the compiler
    /// reads, and served as written.
    V2_0,
    /// OpenAPI 3.0.x: schemas are the 3.0 dialect (`nullable`, boolean exclusive bounds).
    V3_0,
    /// OpenAPI 3.1.x: schemas are JSON Schema 2020-12.
    V3_1,
    /// OpenAPI 3.2.x: schemas are JSON Schema 2020-12, as in 3.1.
    V3_2,
}

/// A loaded OpenAPI document with every referenced file bundled in.
#[derive(Debug, Clone)]
pub struct Document {
    root: Arc<Value>,
    version: Version,
    files: Arc<Vec<SourceFile>>,
    paths: Arc<Vec<PathBuf>>,
    dangling: Arc<Vec<bundle::Dangling>>,
    warnings: Arc<Vec<crate::error::BuildWarning>>,
    /// Each file's URI, for schema `$id`s (3.1 only; see [`bundle::Bundle::bases`]).
    bases: Arc<Vec<String>>,
}

impl Document {
    /// Reads a document from a file; relative `$ref`s are read from beside it, each file once.
    ///
    /// The files' texts are not kept: a start-up message that names a line (when a layer is
    /// built from the document) reads its file again, and names no line if the file changed
    /// since.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, BuildError> {
        Self::from_bundle(bundle::from_path(path.as_ref())?)
    }

    /// Parses a document from JSON or YAML text; relative `$ref`s resolve from the current
    /// directory.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Self, BuildError> {
        Self::from_bundle(bundle::from_text(text, "<document>", Path::new("."), None)?)
    }

    /// Like [`Document::from_str`], with the name start-up errors use for this text (for a
    /// document embedded with `include_str!`, say).
    pub fn from_str_named(text: &str, name: &str) -> Result<Self, BuildError> {
        Self::from_bundle(bundle::from_text(text, name, Path::new("."), None)?)
    }

    /// Parses a document from JSON or YAML bytes (UTF-8).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BuildError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| BuildError::single("<document>", format!("not UTF-8: {e}")))?;
        Self::from_str(text)
    }

    /// Takes a document already parsed into JSON; it may not reference other files.
    pub fn from_value(value: Value) -> Result<Self, BuildError> {
        Self::from_bundle(bundle::from_value(value)?)
    }

    fn from_bundle(bundle: bundle::Bundle) -> Result<Self, BuildError> {
        let version = detect_version(&bundle.root)
            .map_err(|message| BuildError::new(vec![problem_at(&bundle.files, "", message)]))?;
        Ok(Self {
            root: Arc::new(bundle.root),
            version,
            files: Arc::new(bundle.files),
            paths: Arc::new(bundle.paths),
            dangling: Arc::new(bundle.dangling),
            warnings: Arc::new(bundle.warnings),
            bases: Arc::new(bundle.bases),
        })
    }

    /// The OpenAPI version the document declares.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The document as loaded: the root file, with other files under `x-oasgate-files` and
    /// every `$ref` rewritten to a local pointer, so the value stands alone for oasgate (for
    /// other tools, see [`Document::bundled`]).
    ///
    /// In an OpenAPI 3.1 document a `$ref` inside a schema resource (below an `$id`) resolves
    /// against that `$id`; it is rewritten too, to the node it names, and keeps what was
    /// written beside it (`x-oasgate-ref`). The served document and [`Document::bundled`]
    /// carry it as written again.
    pub fn as_json(&self) -> &Value {
        &self.root
    }

    /// The base URI of each part of [`Document::as_json`]: the pointer prefix of each file in
    /// it (`""` for the root file) and the file's URI, against which schema `$id`s resolve.
    /// Empty unless schemas are JSON Schema 2020-12 (OpenAPI 3.1).
    pub(crate) fn schema_bases(&self) -> Vec<(String, String)> {
        self.bases
            .iter()
            .enumerate()
            .map(|(i, base)| (bundle::prefix_of(&self.files, i), base.clone()))
            .collect()
    }

    /// The document as one self-contained file for any tool: every definition a `$ref`
    /// reaches in another file moves into `components` (in Swagger 2.0, `definitions`,
    /// `parameters`, `responses`), named after its pointer's last segment or its file
    /// (`droplet.yml` → `droplet`, `droplet_2` when taken), and every `$ref` points there.
    /// What has no components section (a path item in 3.0) is copied in place. This is what
    /// `oasgate bundle` writes and what [`Options::serve_bundled`](crate::Options::serve_bundled)
    /// serves. Only when in-place copies form a cycle do those files stay under
    /// `x-oasgate-files` (a warning is logged).
    pub fn bundled(&self) -> Value {
        let mut doc = (*self.root).clone();
        components::bundle(&mut doc);
        bundle::restore_written_refs(&mut doc);
        doc
    }

    /// Every file the document was read from: the root file first (when it was read from a
    /// path), then each file a `$ref` reached, in the order they were read. A reload that
    /// watches for edits watches these.
    pub fn source_paths(&self) -> &[PathBuf] {
        &self.paths
    }

    pub(crate) fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Defects of the files' text that reading worked around.
    pub(crate) fn warnings(&self) -> &[crate::error::BuildWarning] {
        &self.warnings
    }

    /// The `$ref`s whose target is missing (a file that cannot be read, a node that does not
    /// exist), each with its place. Compiling makes each an error where a request reaches it
    /// and a warning elsewhere; a self-contained copy ([`Document::bundled`]) cannot be made
    /// while there are any.
    pub fn unresolved_refs(&self) -> impl Iterator<Item = &BuildProblem> {
        self.dangling.iter().map(|d| &d.problem)
    }

    /// References whose target is missing (see [`bundle::Dangling`]).
    pub(crate) fn dangling(&self) -> &[bundle::Dangling] {
        &self.dangling
    }

    /// The document's tree, moved out when this is its only holder (copied otherwise); what is
    /// left answers [`Document::as_json`] with `null`. For a build that owns the document.
    pub(crate) fn take_json(&mut self) -> Value {
        match Arc::try_unwrap(std::mem::take(&mut self.root)) {
            Ok(root) => root,
            Err(shared) => {
                let copy = (*shared).clone();
                self.root = shared;
                copy
            }
        }
    }
}

/// A copy that shares the parsed tree (cheap): what lets [`OpenApiLayer`](crate::OpenApiLayer)
/// take a document by reference or by value.
impl From<&Document> for Document {
    fn from(document: &Document) -> Self {
        document.clone()
    }
}

fn detect_version(root: &Value) -> Result<Version, String> {
    if !root.is_object() {
        return Err("an OpenAPI document must be an object".into());
    }
    if let Some(swagger) = root.get("swagger") {
        return match swagger {
            Value::String(v) if v == "2.0" => Ok(Version::V2_0),
            Value::String(v) => Err(format!(
                "unsupported Swagger version `{v}`: expected \"2.0\" (or an `openapi` 3.0.x, 3.1.x or 3.2.x document)"
            )),
            _ => Err("`swagger` must be the version string \"2.0\"".into()),
        };
    }
    match root.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.0.") || v == "3.0" => Ok(Version::V3_0),
        Some(Value::String(v)) if v.starts_with("3.1.") || v == "3.1" => Ok(Version::V3_1),
        Some(Value::String(v)) if v.starts_with("3.2.") || v == "3.2" => Ok(Version::V3_2),
        Some(Value::String(v)) => Err(format!(
            "unsupported OpenAPI version `{v}`: expected 3.0.x, 3.1.x or 3.2.x"
        )),
        Some(_) => Err("`openapi` must be a version string such as \"3.1.0\"".into()),
        None => Err("missing `openapi` version field".into()),
    }
}

/// The base path of one server object: its URL with variables at their defaults, the scheme
/// and host dropped, no trailing slash (`https://api.test/{v}/` with `v: v1` gives `/v1`).
pub(crate) fn base_path(server: &Value, url: &str) -> String {
    let mut url = url.to_owned();
    if let Some(Value::Object(vars)) = server.get("variables") {
        for (name, var) in vars {
            let default = var
                .get("default")
                .and_then(Value::as_str)
                .unwrap_or_default();
            url = url.replace(&format!("{{{name}}}"), default);
        }
    }
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url.as_str(),
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::{Document, field};
    use serde_json::Value;

    const SPEC: &str = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n";

    #[test]
    fn a_field_is_what_get_answers_in_small_and_large_objects() {
        for size in [0, 1, 8, 9, 40] {
            let object: serde_json::Map<String, Value> = (0..size)
                .map(|i| (format!("k{i}"), Value::from(i)))
                .collect();
            let node = Value::Object(object);
            for key in ["k0", "k7", "k8", "k39", "missing", ""] {
                assert_eq!(field(&node, key), node.get(key), "{size} members, {key}");
            }
        }
        assert_eq!(field(&Value::from(3), "k0"), None);
        assert_eq!(field(&serde_json::json!([1]), "0"), None);
    }

    #[test]
    fn the_tree_is_moved_out_of_a_document_held_once_and_copied_out_of_a_shared_one() {
        let mut only = Document::from_str(SPEC).unwrap();
        let taken = only.take_json();
        assert_eq!(taken["openapi"], "3.1.0");
        assert!(only.as_json().is_null(), "moved, not copied");

        let kept = Document::from_str(SPEC).unwrap();
        let mut shared = Document::from(&kept);
        let copy = shared.take_json();
        assert_eq!(copy, *kept.as_json());
        assert!(
            std::ptr::eq(shared.as_json(), kept.as_json()),
            "both still share the one tree"
        );
    }
}
