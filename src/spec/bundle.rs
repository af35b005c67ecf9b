//! Reading a document and every file its `$ref`s reach into one self-contained value.
//!
//! Each file is read once. The root file stays where it is; every other file is placed under
//! [`FILES_KEY`] keyed by its path relative to the root file, and every `$ref` is rewritten to a
//! local pointer (`#/...`). References stay references, so cycles need no special care and
//! the result is still a valid OpenAPI document that any tool can read.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::prefetch::Prefetch;
use super::source::{self, SourceFile};
use super::{pointer, uri, walk};
use crate::error::{BuildError, BuildProblem, BuildWarning, WarningCase};

/// Where files reached through `$ref` are kept in the bundled document.
pub(crate) const FILES_KEY: &str = "x-oasgate-files";

/// Beside a rewritten `$ref` below an `$id` (OpenAPI 3.1): the reference as written, which
/// means the same node only relative to that `$id`; see [`restore_written_refs`].
pub(crate) const WRITTEN_KEY: &str = "x-oasgate-ref";

/// Keys whose values are data, not document structure: a `$ref` in them is not followed.
const DATA_KEYS: [&str; 4] = ["example", "default", "const", "enum"];

/// Maps whose keys are names, where `default` or `example` is a name, not data (the
/// `default` response, a property called `example`).
const NAME_MAPS: [&str; 6] = [
    "/responses",
    "/properties",
    "/patternProperties",
    "/examples",
    "/schemas",
    "/$defs",
];

/// Keys of an Example Object that hold the example itself: "Embedded literal example"
/// (OpenAPI 3.1 §4.8.19, `value`; 3.2 adds `dataValue` and `serializedValue`).
const EXAMPLE_VALUE_KEYS: [&str; 3] = ["value", "dataValue", "serializedValue"];

/// Whether `key` inside the map at pointer `at` holds data rather than structure.
pub(crate) fn is_data(key: &str, at: &str) -> bool {
    if NAME_MAPS.iter().any(|m| at.ends_with(m)) {
        return false;
    }
    // An Example Object is an entry of an `examples` map (a media type's, a parameter's, or
    // `components/examples`).
    let in_example = || {
        at.rsplit_once('/')
            .is_some_and(|(parent, _)| parent.ends_with("/examples"))
    };
    DATA_KEYS.contains(&key) || (EXAMPLE_VALUE_KEYS.contains(&key) && in_example())
}

/// [`is_data`] knowing the value too: JSON Schema's `examples` is an array of instances,
/// where OpenAPI's `examples` is a map of Example Objects.
pub(crate) fn is_data_value(key: &str, at: &str, value: &Value) -> bool {
    is_data(key, at) || (key == "examples" && value.is_array())
}

/// The bundled document and the text of every file it was made from.
pub(crate) struct Bundle {
    pub root: Value,
    pub files: Vec<SourceFile>,
    /// The files read from disk, the root first when it is one.
    pub paths: Vec<PathBuf>,
    /// References that name a file that cannot be read or a node that does not exist: an error
    /// only where a request reaches them (decided when the document is compiled).
    pub dangling: Vec<Dangling>,
    /// Defects of the files' text that reading worked around.
    pub warnings: Vec<BuildWarning>,
    /// Each file's URI (the base its schemas' `$id`s and `$ref`s resolve against), in the
    /// order of `files`; empty unless schemas follow JSON Schema 2020-12 (OpenAPI 3.1).
    pub bases: Vec<String>,
}

/// A `$ref` whose target is missing, left as written.
#[derive(Debug, Clone)]
pub(crate) struct Dangling {
    /// Pointer of the object holding the `$ref`, in the bundle.
    pub at: String,
    /// Where it is in its file and what is missing.
    pub problem: BuildProblem,
}

struct Loader<'p> {
    /// Reads the files references name ahead, on a second core.
    prefetch: &'p Prefetch,
    root_dir: PathBuf,
    /// Schema resources, for documents whose schemas are JSON Schema 2020-12 (OpenAPI 3.1).
    ids: Option<Ids>,
    /// Normalized path → index in `files`.
    seen: HashMap<PathBuf, usize>,
    files: Vec<SourceFile>,
    values: Vec<Option<Value>>,
    dirs: Vec<PathBuf>,
    problems: Vec<BuildProblem>,
    dangling: Vec<Dangling>,
    warnings: Vec<BuildWarning>,
}

/// The schema resources of an OpenAPI 3.1 document. "Relative references in Schema Objects,
/// including any that appear as `$id` values, use the nearest parent `$id` as a Base URI, as
/// described by JSON Schema Specification Draft 2020-12. Relative URI references in other
/// Objects, and in Schema Objects where no parent schema contains an `$id`, MUST be resolved
/// using the referring document's base URI" (OpenAPI 3.1.1 §4.6.1, "Relative References in
/// URIs"); a file's base URI is the URI it was read from, its `file:` URI here.
#[derive(Default)]
struct Ids {
    /// Each file's URI, in the order of the loader's `files`.
    bases: Vec<String>,
    /// Absolute `$id` → (file, pointer in it).
    resources: HashMap<String, (usize, String)>,
    /// (resource URI, `$anchor` or `$dynamicAnchor` name) → (file, pointer in it).
    anchors: HashMap<(String, String), (usize, String)>,
    /// Whether the document is OpenAPI 3.2, where an OpenAPI Object's `$self` is its base URI.
    v3_2: bool,
    /// Files whose base URI their `$self` set (OpenAPI 3.2), by index in `files`.
    selves: Vec<usize>,
}

/// Whether a document's schemas are JSON Schema 2020-12, where `$id` sets a base URI: OpenAPI
/// 3.1 and 3.2. OpenAPI 3.0's Schema Object lists the JSON Schema keywords it takes, `$id` not among
/// them, and "additional properties defined by the JSON Schema specification that are not
/// mentioned here are strictly unsupported" (3.0.4 §4.8.24.1); 2.0 has no `$id` either.
fn uses_schema_ids(root: &Value) -> bool {
    root.get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| {
            ["3.1", "3.2"]
                .iter()
                .any(|m| v == *m || v.starts_with(&format!("{m}.")))
        })
}

/// What a `$ref` in a 3.1 document names.
enum Target {
    /// A node: the file and the pointer in it.
    Node(usize, String),
    /// Nothing that exists (a dangling reference), with the reason.
    Missing(String),
    /// Something oasgate does not read (a remote document), with the reason.
    Refused(String),
    /// A file that is not JSON or YAML, reported when it was read.
    Reported,
    /// A node that a reference below an `$id` names only when read relative to its file (a
    /// defect), with what it names relative to the `$id`.
    FromFile(usize, String, String),
}

/// Loads a document from a file path, following relative `$ref`s to other files.
pub(crate) fn from_path(path: &Path) -> Result<Bundle, BuildError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| BuildError::single(&name, format!("cannot read the file: {e}")))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    from_text(&text, &name, &dir, Some(normalize(path)))
}

/// Loads a document from text; relative `$ref`s are resolved against `base_dir`. `root_path`
/// is the file `text` was read from, if it was: it is read again for a message's line rather
/// than the text held (see [`SourceFile::on_disk`]).
pub(crate) fn from_text(
    text: &str,
    name: &str,
    base_dir: &Path,
    root_path: Option<PathBuf>,
) -> Result<Bundle, BuildError> {
    let prefetch = Prefetch::new(files_named);
    from_text_with(text, name, base_dir, root_path, &prefetch)
}

fn from_text_with(
    text: &str,
    name: &str,
    base_dir: &Path,
    root_path: Option<PathBuf>,
    prefetch: &Prefetch,
) -> Result<Bundle, BuildError> {
    let (value, syntax, c1) = source::parse(text).map_err(|e| BuildError::single(name, e))?;
    let ids = uses_schema_ids(&value).then(|| Ids {
        v3_2: super::is_v3_2(&value),
        bases: vec![match &root_path {
            Some(path) => uri::file_uri(path, false),
            None => uri::file_uri(base_dir, true),
        }],
        ..Ids::default()
    });
    if may_name_files(text) {
        prefetch.after(&normalize(base_dir), &value);
    }
    let mut loader = Loader {
        prefetch,
        ids,
        root_dir: normalize(base_dir),
        seen: HashMap::new(),
        files: vec![match root_path.clone() {
            Some(path) => SourceFile::on_disk(name.to_owned(), path, text, syntax),
            None => SourceFile::new(name.to_owned(), text.to_owned(), syntax),
        }],
        values: vec![Some(value)],
        dirs: vec![normalize(base_dir)],
        problems: Vec::new(),
        dangling: Vec::new(),
        warnings: Vec::new(),
    };
    loader.control_characters(0, c1);
    if let Some(p) = root_path {
        loader.seen.insert(p, 0);
    }
    prefetch.around(|| loader.run());
    loader.finish()
}

/// Bundles an in-memory value; any reference to another file is an error.
pub(crate) fn from_value(value: Value) -> Result<Bundle, BuildError> {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let ids = uses_schema_ids(&value).then(|| Ids {
        v3_2: super::is_v3_2(&value),
        bases: vec![uri::file_uri(Path::new("."), true)],
        ..Ids::default()
    });
    let prefetch = Prefetch::with_worker(files_named, false);
    let mut loader = Loader {
        prefetch: &prefetch,
        ids,
        root_dir: PathBuf::new(),
        seen: HashMap::new(),
        files: vec![SourceFile::new(
            "<document>".to_owned(),
            text,
            source::Syntax::Json,
        )],
        values: vec![Some(value)],
        dirs: vec![PathBuf::new()],
        problems: Vec::new(),
        dangling: Vec::new(),
        warnings: Vec::new(),
    };
    loader.run();
    loader.finish()
}

/// Resolves `.` and `..` lexically, so the same file reached two ways is read once.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The pointer prefix under which file `index` lives in the bundle.
pub(crate) fn prefix_of(files: &[SourceFile], index: usize) -> String {
    if index == 0 {
        String::new()
    } else {
        format!("/{FILES_KEY}/{}", pointer::escape(&files[index].name))
    }
}

/// Maps a pointer in the bundle back to the file it came from and the pointer inside it.
pub(crate) fn locate<'a>(files: &'a [SourceFile], at: &str) -> (&'a SourceFile, String) {
    let marker = format!("/{FILES_KEY}/");
    if let Some(rest) = at.strip_prefix(&marker) {
        let (key, inner) = rest.split_once('/').map_or((rest, ""), |(k, i)| (k, i));
        let key = pointer::unescape(key);
        if let Some(file) = files.iter().skip(1).find(|f| f.name == key) {
            let inner = if inner.is_empty() {
                String::new()
            } else {
                format!("/{inner}")
            };
            return (file, inner);
        }
    }
    (&files[0], at.to_owned())
}

/// Builds a problem for a pointer in the bundle, with its file and line.
pub(crate) fn problem_at(files: &[SourceFile], at: &str, message: String) -> BuildProblem {
    let (file, inner) = locate(files, at);
    BuildProblem {
        file: file.name.clone(),
        line: source::line_of(file, &inner),
        pointer: inner,
        message,
    }
}

/// Whether some `$ref` of `text` may name another file: one whose value does not begin with
/// `#`. A quick look at the text, so that a single-file document is not walked for the files
/// it names; a reference it misses (a key written with escapes) is still read, only not ahead.
fn may_name_files(text: &str) -> bool {
    text.match_indices("$ref").any(|(at, _)| {
        let after = text[at + 4..]
            .trim_start_matches(|c: char| c == '"' || c == '\'' || c == ':' || c.is_whitespace());
        !after.starts_with('#')
    })
}

/// The files the `$ref`s of `value`, a file in folder `dir`, name by a relative path: the
/// files [`Loader::local_target`] reads (or, below an `$id`, may read).
fn files_named(dir: &Path, value: &Value) -> Vec<PathBuf> {
    let mut named = Vec::new();
    walk::ref_holders(value, &mut String::new(), &mut |node, _| {
        if let Some(Value::String(reference)) = node.get("$ref") {
            let path_part = reference
                .split_once('#')
                .map_or(reference.as_str(), |(p, _)| p);
            if !path_part.is_empty() && !path_part.contains("://") && !path_part.starts_with("urn:")
            {
                named.push(normalize(
                    &dir.join(pointer::percent_decoded(path_part).as_str()),
                ));
            }
        }
    });
    named
}

impl Loader<'_> {
    fn run(&mut self) {
        if self.ids.is_some() {
            return self.run_with_ids();
        }
        let mut next = 0;
        while next < self.values.len() {
            let mut value = self.values[next].take().unwrap_or(Value::Null);
            let mut at = String::new();
            self.rewrite(next, &mut value, &mut at);
            self.values[next] = Some(value);
            next += 1;
        }
    }

    /// [`Loader::run`] for a 3.1 document: first every file a `$ref` reaches is read and its
    /// `$id`s and anchors indexed (a `$ref` may name an `$id` declared in a file read later),
    /// then every `$ref` is rewritten.
    fn run_with_ids(&mut self) {
        self.own_self(0);
        self.index(0);
        let mut next = 0;
        while next < self.values.len() {
            let value = self.values[next].take().unwrap_or(Value::Null);
            for (_, base, reference) in self.references(next, &value) {
                // Read what it names; whether it exists is decided once all is read.
                let _ = self.target(next, &value, &reference, &base);
            }
            self.values[next] = Some(value);
            next += 1;
        }
        let mut next = 0;
        while next < self.values.len() {
            let mut value = self.values[next].take().unwrap_or(Value::Null);
            for (at, base, reference) in self.references(next, &value) {
                let own = self.ids.as_ref().map(|ids| ids.bases[next].clone());
                let rewritten = match self.target(next, &value, &reference, &base) {
                    Target::Node(file, inner) => format!(
                        "#{}",
                        pointer::to_fragment(&format!("{}{inner}", prefix_of(&self.files, file)))
                    ),
                    Target::Missing(message) => {
                        let source = &self.files[next];
                        self.dangling.push(Dangling {
                            at: format!("{}{at}", prefix_of(&self.files, next)),
                            problem: BuildProblem {
                                file: source.name.clone(),
                                line: source::line_of(source, &at),
                                pointer: at.clone(),
                                message,
                            },
                        });
                        continue;
                    }
                    Target::Refused(message) => {
                        self.report(next, &at, message);
                        continue;
                    }
                    Target::Reported => continue,
                    Target::FromFile(file, inner, strict) => {
                        let source = &self.files[next];
                        self.warnings.push(BuildWarning {
                            case: WarningCase::RefBase,
                            at: BuildProblem {
                                file: source.name.clone(),
                                line: source::line_of(source, &at),
                                pointer: at.clone(),
                                message: format!(
                                    "`$ref` `{reference}` is below an `$id`, against which it \
                                     names `{strict}`, which does not exist; read relative to \
                                     the file, as tools that ignore `$id` read it"
                                ),
                            },
                        });
                        // No written form to keep: it names nothing for JSON Schema.
                        if let Some(Value::Object(holder)) = pointer::get_mut(&mut value, &at) {
                            holder.insert(
                                "$ref".to_owned(),
                                Value::String(format!(
                                    "#{}",
                                    pointer::to_fragment(&format!(
                                        "{}{inner}",
                                        prefix_of(&self.files, file)
                                    ))
                                )),
                            );
                        }
                        continue;
                    }
                };
                let Some(Value::Object(holder)) = pointer::get_mut(&mut value, &at) else {
                    continue;
                };
                let written = holder.insert("$ref".to_owned(), Value::String(rewritten));
                // Below an `$id`, the reference as written is what other tools resolve.
                if own.as_deref() != Some(base.as_str())
                    && let Some(written) = written
                {
                    holder.insert(WRITTEN_KEY.to_owned(), written);
                }
            }
            self.values[next] = Some(value);
            next += 1;
        }
    }

    /// Every `$ref` of file `file` (`value`): the pointer of the object holding it, its base
    /// URI, and the reference.
    fn references(&self, file: usize, value: &Value) -> Vec<(String, String, String)> {
        let Some(ids) = &self.ids else {
            return Vec::new();
        };
        let mut found = Vec::new();
        walk::ref_holders_with_bases(
            value,
            &mut String::new(),
            &ids.bases[file],
            &mut |node, at, base, _| {
                if let Some(Value::String(reference)) = node.get("$ref") {
                    found.push((at.to_owned(), base.to_owned(), reference.clone()));
                }
            },
        );
        found
    }

    /// Indexes the `$id`s and anchors of file `file`.
    fn index(&mut self, file: usize) {
        let (Some(ids), Some(Some(value))) = (self.ids.as_mut(), self.values.get(file)) else {
            return;
        };
        let mut duplicates = Vec::new();
        walk::ref_holders_with_bases(
            value,
            &mut String::new(),
            &ids.bases[file],
            &mut |node, at, base, own| {
                if own {
                    match ids.resources.get(base) {
                        Some((other, other_at)) if (*other, other_at.as_str()) != (file, at) => {
                            duplicates.push((at.to_owned(), base.to_owned()));
                        }
                        _ => {
                            ids.resources.insert(base.to_owned(), (file, at.to_owned()));
                        }
                    }
                }
                for keyword in ["$anchor", "$dynamicAnchor"] {
                    if let Some(name) = node.get(keyword).and_then(Value::as_str) {
                        ids.anchors
                            .entry((base.to_owned(), name.to_owned()))
                            .or_insert_with(|| (file, at.to_owned()));
                    }
                }
            },
        );
        for (at, id) in duplicates {
            // "there is no way for a URI to identify more than one schema. When multiple schemas
            // try to identify as the same URI, validators SHOULD raise an error condition"
            // (JSON Schema 2020-12 Core §9.1.2).
            self.report(
                file,
                &pointer::join(&at, "$id"),
                format!("`$id` `{id}` is declared twice; each schema resource needs its own"),
            );
        }
    }

    /// [`Loader::target_strict`], or where that names nothing below an `$id`, what the
    /// reference names relative to its file: `$ref: '#/components/schemas/Pet'` inside a schema
    /// with an `$id` is common in published documents, written for tools that ignore `$id`,
    /// and it can mean nothing else.
    fn target(&mut self, file: usize, value: &Value, reference: &str, base: &str) -> Target {
        let strict = self.target_strict(file, reference, base);
        let own = self.ids.as_ref().map(|ids| ids.bases[file].clone());
        let missing = match &strict {
            Target::Missing(_) => true,
            Target::Node(target, at) => !self.exists(file, value, *target, at),
            _ => false,
        };
        if own.as_deref() == Some(base) || !missing {
            return strict;
        }
        let Some(own) = own else {
            return strict;
        };
        match self.target_strict(file, reference, &own) {
            Target::Node(target, at) if self.exists(file, value, target, &at) => Target::FromFile(
                target,
                at,
                uri::resolve(reference, base).unwrap_or_else(|| reference.to_owned()),
            ),
            _ => strict,
        }
    }

    /// Whether the node at `at` in file `target` exists; `value` is file `file`, taken out
    /// of the loader while its references are read.
    fn exists(&self, file: usize, value: &Value, target: usize, at: &str) -> bool {
        let root = if target == file {
            Some(value)
        } else {
            self.values.get(target).and_then(Option::as_ref)
        };
        root.is_some_and(|root| pointer::get(root, at).is_some())
    }

    /// What `reference`, written in file `file` where the base URI is `base`, names, reading
    /// the file it names when that is one.
    fn target_strict(&mut self, file: usize, reference: &str, base: &str) -> Target {
        let Some(ids) = &self.ids else {
            return Target::Missing(String::new());
        };
        let own = ids.bases[file].clone();
        let resolved = uri::resolve(reference, base);
        if let Some(resolved) = &resolved {
            let (resource, fragment) = uri::split(resolved);
            if let Some((target, at)) = ids.resources.get(resource).cloned() {
                return self.fragment(target, at, resource, fragment, reference);
            }
            if resource == uri::split(&own).0 {
                return self.fragment(file, String::new(), resource, fragment, reference);
            }
        }
        let has_self = self
            .ids
            .as_ref()
            .is_some_and(|ids| ids.selves.contains(&file));
        // A relative reference resolves against no `$self` that is no hierarchical URI
        // (`urn:example:library`): it is read relative to the file below, as tools that
        // ignore `$self` read it.
        if base == own
            && has_self
            && let Some(resolved) = resolved
        {
            // No `$id` in effect, the base is the file's `$self`: what the reference names
            // there is mapped back to the file's folder (see `disk_path`).
            let (resource, fragment) = uri::split(&resolved);
            let Some(path) = self.disk_path(file, resource) else {
                return Target::Refused(format!(
                    "`$ref` `{reference}` resolves against `$self` `{own}` to `{resource}`, \
                     which is neither the `$self` nor a schema `$id` of a document read, nor \
                     below the folder of `$self`; only those are read"
                ));
            };
            let target = match self.load_self_named(path, resource) {
                Ok(index) => index,
                Err(None) => return Target::Reported,
                Err(Some(e)) => return Target::Missing(unreadable(resource, e)),
            };
            let resource = self.ids.as_ref().map(|ids| ids.bases[target].clone());
            let resource = resource.unwrap_or_default();
            return self.fragment(target, String::new(), &resource, fragment, reference);
        }
        if base == own {
            // No `$id` in effect: a path relative to the file, as in every version.
            let (path_part, fragment) = reference.split_once('#').unwrap_or((reference, ""));
            if path_part.contains("://") || path_part.starts_with("urn:") {
                return Target::Refused(format!(
                    "`$ref` `{reference}` names a remote document; only relative file \
                     references and schema `$id`s of the document are read"
                ));
            }
            let target = if path_part.is_empty() {
                file
            } else {
                let path = normalize(&self.dirs[file].join(pointer::percent_decoded(path_part)));
                match self.load_path(path) {
                    Ok(index) => index,
                    Err(None) => return Target::Reported,
                    Err(Some(e)) => return Target::Missing(unreadable(path_part, e)),
                }
            };
            let resource = self.ids.as_ref().map(|ids| ids.bases[target].clone());
            let resource = resource.unwrap_or_default();
            return self.fragment(target, String::new(), &resource, fragment, reference);
        }
        let Some(resolved) = resolved else {
            return Target::Missing(format!("`$ref` `{reference}` is not a URI reference"));
        };
        let (resource, fragment) = uri::split(&resolved);
        let Some(path) = uri::to_path(resource) else {
            return Target::Missing(format!(
                "`$ref` `{reference}` resolves to `{resource}`, which is neither a schema \
                 `$id` of the document nor a file"
            ));
        };
        let path = if self.root_dir.is_absolute() {
            path
        } else {
            relative_to_current(&path)
        };
        match self.load_path(normalize(&path)) {
            Ok(target) => self.fragment(target, String::new(), resource, fragment, reference),
            Err(None) => Target::Reported,
            Err(Some(e)) => Target::Missing(unreadable(resource, e)),
        }
    }

    /// The node `fragment` names in the resource at (`file`, `at`), whose URI is `resource`:
    /// a JSON pointer from the resource's root, or a plain name an `$anchor` or
    /// `$dynamicAnchor` declares in it ("The "$anchor" and "$dynamicAnchor" keywords are used
    /// to specify such fragments", JSON Schema 2020-12 Core §8.2.2).
    fn fragment(
        &self,
        file: usize,
        at: String,
        resource: &str,
        fragment: &str,
        reference: &str,
    ) -> Target {
        let fragment = pointer::percent_decoded(fragment);
        if fragment.is_empty() {
            return Target::Node(file, at);
        }
        if fragment.starts_with('/') {
            return Target::Node(file, format!("{at}{fragment}"));
        }
        let anchor = self
            .ids
            .as_ref()
            .and_then(|ids| ids.anchors.get(&(resource.to_owned(), fragment.clone())));
        match anchor {
            Some((file, at)) => Target::Node(*file, at.clone()),
            None => Target::Missing(format!(
                "unresolvable `$ref` `{reference}`: no `$anchor` `{fragment}` in `{resource}`"
            )),
        }
    }

    fn rewrite(&mut self, file: usize, value: &mut Value, at: &mut String) {
        walk::ref_holders_mut(value, at, &mut |node, at| {
            let Some(Value::String(reference)) = node.get_mut("$ref") else {
                return true;
            };
            match self.local_target(file, reference, at) {
                Some(target) => {
                    *reference = target;
                    true
                }
                // Reported; what is below an unloadable reference is not followed.
                None => false,
            }
        });
    }

    /// The local `#/...` form of a reference written in `file`, loading its target file.
    fn local_target(&mut self, file: usize, reference: &str, at: &str) -> Option<String> {
        let (path_part, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let fragment = pointer::percent_decoded(fragment);
        if !fragment.is_empty() && !fragment.starts_with('/') {
            self.report(file, at, format!("`$ref` `{reference}` uses a plain-name fragment; only JSON pointers are supported"));
            return None;
        }
        let target_file = if path_part.is_empty() {
            file
        } else if path_part.contains("://") || path_part.starts_with("urn:") {
            self.report(
                file,
                at,
                format!("`$ref` `{reference}` names a remote document; only relative file references are read"),
            );
            return None;
        } else {
            self.load(file, path_part, at)?
        };
        let prefix = prefix_of(&self.files, target_file);
        Some(format!(
            "#{}",
            pointer::to_fragment(&format!("{prefix}{fragment}"))
        ))
    }

    fn load(&mut self, from: usize, relative: &str, at: &str) -> Option<usize> {
        let decoded = pointer::percent_decoded(relative);
        let path = normalize(&self.dirs[from].join(decoded.as_str()));
        match self.load_path(path) {
            Ok(index) => Some(index),
            Err(None) => None,
            Err(Some(e)) => {
                let source = &self.files[from];
                self.dangling.push(Dangling {
                    at: format!("{}{at}", prefix_of(&self.files, from)),
                    problem: BuildProblem {
                        file: source.name.clone(),
                        line: source::line_of(source, at),
                        pointer: at.to_owned(),
                        message: unreadable(relative, e),
                    },
                });
                None
            }
        }
    }

    /// Reads the file at `path` (normalized) once; `Err(Some(why))` when it cannot be read,
    /// `Err(None)` when it was read but is not JSON or YAML (reported).
    fn load_path(&mut self, path: PathBuf) -> Result<usize, Option<String>> {
        if let Some(&index) = self.seen.get(&path) {
            return if index == usize::MAX {
                Err(None)
            } else {
                Ok(index)
            };
        }
        let (text, parsed) = self.prefetch.take(&path).map_err(Some)?;
        let name = relative_name(&self.root_dir, &path);
        let (value, syntax, c1) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                self.problems.push(BuildProblem {
                    file: name,
                    pointer: String::new(),
                    line: None,
                    message: e,
                });
                self.seen.insert(path, usize::MAX);
                return Err(None);
            }
        };
        let index = self.files.len();
        self.files
            .push(SourceFile::on_disk(name, path.clone(), &text, syntax));
        drop(text);
        self.control_characters(index, c1);
        self.values.push(Some(value));
        if let Some(ids) = &mut self.ids {
            ids.bases.push(uri::file_uri(&path, false));
        }
        self.dirs
            .push(path.parent().map(Path::to_path_buf).unwrap_or_default());
        self.seen.insert(path, index);
        self.own_self(index);
        self.index(index);
        Ok(index)
    }

    /// Makes the `$self` of file `file`, when it is an OpenAPI 3.2 document's, its base URI:
    /// "The `$self` field provides the self-assigned URI of this document, which also serves
    /// as its base URI"; "If `$self` is a relative URI reference, it is resolved against the
    /// next possible base URI source [...] before being used" (OpenAPI 3.2, OpenAPI Object
    /// and "Establishing the Base URI"), here the file's URI. The file is then known by that
    /// URI too: "references MUST use the target document's `$self` URI if the `$self` field
    /// is present".
    fn own_self(&mut self, file: usize) {
        let Some(ids) = &self.ids else {
            return;
        };
        if !ids.v3_2 {
            return;
        }
        let Some(written) = self
            .values
            .get(file)
            .and_then(Option::as_ref)
            .and_then(|value| value.get("$self"))
        else {
            return;
        };
        let base = match written {
            Value::String(reference) => uri::resolve(reference, &ids.bases[file])
                .map(|resolved| uri::split(&resolved).0.to_owned()),
            _ => None,
        };
        let Some(base) = base else {
            self.report(
                file,
                "/$self",
                format!(
                    "`$self` {written} is no URI reference; \"This string MUST be in the form \
                     of a URI reference\" (RFC 3986 §4.1)"
                ),
            );
            return;
        };
        if let Some((other, _)) = ids.resources.get(&base).cloned() {
            let other = self.files[other].name.clone();
            self.report(
                file,
                "/$self",
                format!(
                    "`$self` `{base}` is already the URI of `{other}`; each document needs \
                     its own"
                ),
            );
            return;
        }
        let Some(ids) = &mut self.ids else {
            return;
        };
        ids.bases[file] = base.clone();
        ids.resources.insert(base, (file, String::new()));
        ids.selves.push(file);
    }

    /// The file a reference written in file `file`, which has a `$self`, names on disk:
    /// `resolved` (the reference resolved against that `$self`) is mapped back from the
    /// `$self`'s folder to the file's folder (`https://example.com/api/openapi` read from
    /// `/srv/api/openapi.yaml`: `https://example.com/api/shared/foo` is
    /// `/srv/api/shared/foo`). `None` when it is on another scheme or authority.
    fn disk_path(&self, file: usize, resolved: &str) -> Option<PathBuf> {
        let own = &self.ids.as_ref()?.bases[file];
        let relative = uri::relative_path(own, resolved)?;
        Some(normalize(
            &self.dirs[file].join(pointer::percent_decoded(&relative)),
        ))
    }

    /// [`Loader::load_path`], and where `path` has no extension and no file is there, the
    /// file beside it with the extension `.yaml`, `.yml` or `.json` whose `$self` (or, for a
    /// schema document, root `$id`) is `resource`: the layout of OpenAPI 3.2 documents referenced by their `$self`
    /// (`$ref: shared/foo#/...` for the document `shared/foo.yaml` whose `$self` ends in
    /// `shared/foo`).
    fn load_self_named(&mut self, path: PathBuf, resource: &str) -> Result<usize, Option<String>> {
        let error = match self.load_path(path.clone()) {
            Err(Some(error)) if path.extension().is_none() => error,
            other => return other,
        };
        for extension in ["yaml", "yml", "json"] {
            let candidate = path.with_extension(extension);
            let declares = std::fs::metadata(&candidate).is_ok_and(|m| m.is_file())
                && std::fs::read_to_string(&candidate)
                    .ok()
                    .and_then(|text| source::parse(&text).ok())
                    .and_then(|(value, _, _)| {
                        // A document's `$self`, or a schema document's `$id`.
                        let written = value
                            .get("$self")
                            .or_else(|| value.get("$id"))?
                            .as_str()?
                            .to_owned();
                        let base = uri::file_uri(&candidate, false);
                        uri::resolve(&written, &base)
                    })
                    .is_some_and(|uri| uri::split(&uri).0 == resource);
            if declares {
                return self.load_path(candidate);
            }
        }
        Err(Some(error))
    }

    /// The warning for raw C1 control characters read as U+FFFD in file `index`, if any.
    fn control_characters(&mut self, index: usize, found: Option<source::Replaced>) {
        let Some((line, count)) = found else {
            return;
        };
        self.warnings.push(BuildWarning {
            case: WarningCase::ControlCharacters,
            at: BuildProblem {
                file: self.files[index].name.clone(),
                pointer: String::new(),
                line: Some(line),
                message: format!(
                    "{count} raw C1 control character{} (U+0080 to U+009F), which YAML does not \
                     allow, read as U+FFFD",
                    if count == 1 { "" } else { "s" }
                ),
            },
        });
    }

    fn report(&mut self, file: usize, at: &str, message: String) {
        let source = &self.files[file];
        self.problems.push(BuildProblem {
            file: source.name.clone(),
            line: source::line_of(source, at),
            pointer: at.to_owned(),
            message,
        });
    }

    fn finish(mut self) -> Result<Bundle, BuildError> {
        let mut values = self.values.into_iter().map(Option::unwrap_or_default);
        let mut root = values.next().unwrap_or_default();
        if self.files.len() > 1 {
            let mut extra = Map::new();
            for (file, value) in self.files.iter().skip(1).zip(values) {
                extra.insert(file.name.clone(), value);
            }
            match &mut root {
                Value::Object(map) => {
                    map.insert(FILES_KEY.to_owned(), Value::Object(extra));
                }
                _ => self.problems.push(BuildProblem {
                    file: self.files[0].name.clone(),
                    pointer: String::new(),
                    line: None,
                    message: "the document is not an object".into(),
                }),
            }
        }
        check_targets(&root, &self.files, &mut self.dangling);
        if self.problems.is_empty() {
            let mut read: Vec<(usize, PathBuf)> = self
                .seen
                .into_iter()
                .filter(|(_, index)| *index != usize::MAX)
                .map(|(path, index)| (index, path))
                .collect();
            read.sort();
            let bases = self.ids.map(|ids| ids.bases).unwrap_or_default();
            Ok(Bundle {
                root,
                files: self.files,
                paths: read.into_iter().map(|(_, path)| path).collect(),
                dangling: self.dangling,
                warnings: self.warnings,
                bases,
            })
        } else {
            Err(BuildError::new(self.problems))
        }
    }
}

/// Puts back, in a document meant for other tools (served, or bundled into one file), each
/// `$ref` below an `$id` as written (kept under [`WRITTEN_KEY`]): a JSON Schema tool resolves
/// it against that `$id`, where the local pointer oasgate rewrote it to would be read from the
/// resource's root. Only where the written reference still names the same node in `doc` (its
/// resource is there, with its `$id`); elsewhere the local pointer stays (a reference to a file
/// from below a relative `$id`, say, whose file is now part of the document).
pub(crate) fn restore_written_refs(doc: &mut Value) {
    // Only the loader of such a document writes them: the walk below is not needed elsewhere.
    if !uses_schema_ids(doc) {
        return;
    }
    // Any absolute base: a tool resolves the document's relative `$id`s against where it
    // read it, and the written references resolve the same way relative to those.
    const BASE: &str = "file:///openapi.json";
    let mut resources: HashMap<String, String> = HashMap::new();
    let mut anchors: HashMap<(String, String), String> = HashMap::new();
    let mut marked = Vec::new();
    let mut adopted = Vec::new();
    walk::ref_holders_with_bases(doc, &mut String::new(), BASE, &mut |node, at, base, own| {
        if own {
            resources
                .entry(base.to_owned())
                .or_insert_with(|| at.to_owned());
        }
        for keyword in ["$anchor", "$dynamicAnchor"] {
            if let Some(name) = node.get(keyword).and_then(Value::as_str) {
                anchors
                    .entry((base.to_owned(), name.to_owned()))
                    .or_insert_with(|| at.to_owned());
            }
        }
        if let Some(Value::String(written)) = node.get(WRITTEN_KEY) {
            marked.push((
                at.to_owned(),
                base.to_owned(),
                written.clone(),
                pointer::local_ref(node),
            ));
        }
    });
    for (at, base, written, target) in marked {
        let names = uri::resolve(&written, &base).and_then(|resolved| {
            let (resource, fragment) = uri::split(&resolved);
            let root = resources.get(resource)?;
            let fragment = pointer::percent_decoded(fragment);
            if fragment.is_empty() || fragment.starts_with('/') {
                Some(format!("{root}{fragment}"))
            } else {
                anchors.get(&(resource.to_owned(), fragment)).cloned()
            }
        });
        let Some(Value::Object(holder)) = pointer::get_mut(doc, &at) else {
            continue;
        };
        holder.shift_remove(WRITTEN_KEY);
        if names.is_some() && names == target {
            holder.insert("$ref".to_owned(), Value::String(written));
        } else if let Some(target) = target
            && let Some(resolved) = uri::resolve(&written, &base)
            && !resolved.contains('#')
            && !resources.contains_key(&resolved)
            && let Some(id) = resolved.strip_prefix("file:///")
        {
            adopted.push((at, written, target, id.to_owned()));
        }
    }
    // A file named from below a relative `$id` (`$id: schemas/address`, `$ref: country.yaml`)
    // is part of the document now: its schema becomes the resource the written reference
    // names (`$id: schemas/country.yaml`, relative to the document as the referring one is),
    // where no reference inside it would change meaning.
    for (at, written, target, id) in adopted {
        let adoptable = doc
            .pointer(&target)
            .is_some_and(|node| node.is_object() && !holds_reference(node));
        if !adoptable {
            continue;
        }
        if let Some(Value::Object(node)) = pointer::get_mut(doc, &target) {
            node.insert("$id".to_owned(), Value::String(id));
        }
        if let Some(Value::Object(holder)) = pointer::get_mut(doc, &at) {
            holder.insert("$ref".to_owned(), Value::String(written));
        }
    }
}

/// Whether a schema holds a `$ref`, `$dynamicRef` or `$id` anywhere.
fn holds_reference(node: &Value) -> bool {
    match node {
        Value::Object(map) => map.iter().any(|(key, value)| {
            matches!(key.as_str(), "$ref" | "$dynamicRef" | "$id") || holds_reference(value)
        }),
        Value::Array(items) => items.iter().any(holds_reference),
        _ => false,
    }
}

/// Why a `$ref`'s file is missing.
fn unreadable(named: &str, error: String) -> String {
    format!("`$ref` names `{named}`, which cannot be read: {error}")
}

/// An absolute path as the loader names files read from a relative root: relative to the
/// current directory (`..` where it lies outside).
fn relative_to_current(path: &Path) -> PathBuf {
    let Ok(current) = std::env::current_dir() else {
        return path.to_path_buf();
    };
    let current = uri::absolute(&current);
    let (mut here, mut there) = (
        current.components().peekable(),
        path.components().peekable(),
    );
    while let (Some(a), Some(b)) = (here.peek(), there.peek()) {
        if a != b {
            break;
        }
        here.next();
        there.next();
    }
    let mut out: PathBuf = here.map(|_| Component::ParentDir).collect();
    out.extend(there);
    out
}

/// A display name for `path`: relative to the root file's folder where it lies below it.
fn relative_name(root_dir: &Path, path: &Path) -> String {
    let name = path.strip_prefix(root_dir).unwrap_or(path);
    name.to_string_lossy().replace('\\', "/")
}

/// Lists every local `$ref` whose target is missing.
fn check_targets(root: &Value, files: &[SourceFile], dangling: &mut Vec<Dangling>) {
    // Those already found missing are left as written.
    let known: std::collections::HashSet<String> = dangling.iter().map(|d| d.at.clone()).collect();
    walk::ref_holders(root, &mut String::new(), &mut |node, at| {
        if known.contains(at) {
            return;
        }
        if let Some(target) = pointer::local_ref(node)
            && pointer::get(root, &target).is_none()
        {
            let (file, inner) = locate(files, &target);
            dangling.push(Dangling {
                at: at.to_owned(),
                problem: problem_at(
                    files,
                    at,
                    format!(
                        "unresolvable `$ref`: `{}#{}` does not exist",
                        file.name, inner
                    ),
                ),
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_references_that_may_name_files() {
        let rows = [
            ("{\"$ref\": \"#/components/schemas/A\"}", false),
            ("$ref: '#/definitions/A'\nx: 1\n", false),
            ("a:\n  $ref:   \"#/a\"\n", false),
            ("openapi: 3.0.3\n", false),
            ("{\"$ref\":\"pets.yaml#/Pet\"}", true),
            ("$ref: ./paths/pets.yaml\n", true),
            ("a: {$ref: '#/x'}\nb: {$ref: 'common.json'}\n", true),
            // A mention that is no reference only costs a walk.
            ("description: the $ref keyword\n", true),
        ];
        for (text, want) in rows {
            assert_eq!(may_name_files(text), want, "{text}");
        }
    }

    /// Reading ahead on a second core changes when files are read, not what the loader makes
    /// of them: the same bundle, warnings and dangling references, in the same order.
    #[test]
    fn files_read_ahead_make_the_same_bundle() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let roots = [
            "digitalocean/specification/DigitalOcean-public.v2.yaml",
            "local/schema-ids/openapi.yaml",
            "local/documents32/openapi.yaml",
        ];
        let summary = |bundle: Result<Bundle, BuildError>| match bundle {
            Ok(b) => format!(
                "{}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                b.root,
                b.files
                    .iter()
                    .map(|f| (&f.name, f.text()))
                    .collect::<Vec<_>>(),
                b.paths,
                b.dangling,
                b.warnings,
                b.bases
            ),
            Err(e) => format!("{e:?}"),
        };
        for root in roots {
            let path = fixtures.join(root);
            let text = std::fs::read_to_string(&path).expect("fixture");
            let dir = path.parent().expect("a folder");
            let bundle = |ahead| {
                let prefetch = Prefetch::with_worker(files_named, ahead);
                from_text_with(&text, root, dir, Some(normalize(&path)), &prefetch)
            };
            let alone = summary(bundle(false));
            assert!(alone.contains(FILES_KEY), "{root} is made of several files");
            assert_eq!(summary(bundle(true)), alone, "{root}");
        }
    }

    #[test]
    fn names_files_relative_to_the_current_directory() {
        let current = uri::absolute(&std::env::current_dir().unwrap());
        let rows = [
            (current.join("schemas/country.yaml"), "schemas/country.yaml"),
            (current.join("a/../b.yaml"), "b.yaml"),
        ];
        for (path, want) in rows {
            assert_eq!(
                relative_to_current(&uri::absolute(&path)),
                PathBuf::from(want)
            );
        }
        if let Some(parent) = current.parent() {
            assert_eq!(
                relative_to_current(&parent.join("x.yaml")),
                PathBuf::from("../x.yaml")
            );
        }
    }

    #[test]
    fn restores_written_references_only_where_they_name_the_same_node() {
        let mut doc = serde_json::json!({
            "openapi": "3.1.0",
            "components": {"schemas": {
                "Order": {"$id": "https://x.test/order", "$defs": {"id": {"$anchor": "id"}},
                    "properties": {
                        "id": {"$ref": "#/components/schemas/Order/$defs/id", "x-oasgate-ref": "#id"},
                        "wrong": {"$ref": "#/components/schemas/Other", "x-oasgate-ref": "#id"},
                        "gone": {"$ref": "#/components/schemas/Other", "x-oasgate-ref": "other"}}},
                "Other": {"type": "string"}}}
        });
        restore_written_refs(&mut doc);
        let props = &doc["components"]["schemas"]["Order"]["properties"];
        assert_eq!(props["id"], serde_json::json!({"$ref": "#id"}));
        assert_eq!(
            props["wrong"],
            serde_json::json!({"$ref": "#/components/schemas/Other"})
        );
        // `https://x.test/other` is no file: the pointer stays, and nothing is adopted.
        assert_eq!(
            props["gone"],
            serde_json::json!({"$ref": "#/components/schemas/Other"})
        );
        assert!(doc["components"]["schemas"]["Other"].get("$id").is_none());
        // Only the loader of a 3.1 or 3.2 document writes the marks: a 3.0 document's own
        // extension of that name is served as written.
        let mut doc = serde_json::json!({
            "openapi": "3.0.3",
            "components": {"schemas": {
                "A": {"$ref": "#/components/schemas/B", "x-oasgate-ref": "#b"},
                "B": {"type": "string"}}}
        });
        let before = doc.clone();
        restore_written_refs(&mut doc);
        assert_eq!(doc, before);
    }
}
