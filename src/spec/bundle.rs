//! Reading a document and every file its `$ref`s reach into one self-contained value.
//!
//! Each file is read once. The root file stays where it is; every other file is placed under
//! [`FILES_KEY`] keyed by its path relative to the root file, and every `$ref` is rewritten to a
//! local pointer (`#/...`). References stay references, so cycles need no special care and
//! the result is still a valid OpenAPI document that any tool can read.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::source::{self, SourceFile};
use super::{pointer, walk};
use crate::error::{BuildError, BuildProblem, BuildWarning, WarningCase};

/// Where files reached through `$ref` are kept in the bundled document.
pub(crate) const FILES_KEY: &str = "x-oasgate-files";

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
}

/// A `$ref` whose target is missing, left as written.
#[derive(Debug, Clone)]
pub(crate) struct Dangling {
    /// Pointer of the object holding the `$ref`, in the bundle.
    pub at: String,
    /// Where it is in its file and what is missing.
    pub problem: BuildProblem,
}

struct Loader {
    root_dir: PathBuf,
    /// Normalized path → index in `files`.
    seen: HashMap<PathBuf, usize>,
    files: Vec<SourceFile>,
    values: Vec<Option<Value>>,
    dirs: Vec<PathBuf>,
    problems: Vec<BuildProblem>,
    dangling: Vec<Dangling>,
    warnings: Vec<BuildWarning>,
}

/// Loads a document from a file path, following relative `$ref`s to other files.
pub(crate) fn from_path(path: &Path) -> Result<Bundle, BuildError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| BuildError::single(&name, format!("cannot read the file: {e}")))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    from_text(&text, &name, &dir, Some(normalize(path)))
}

/// Loads a document from text; relative `$ref`s are resolved against `base_dir`.
pub(crate) fn from_text(
    text: &str,
    name: &str,
    base_dir: &Path,
    root_path: Option<PathBuf>,
) -> Result<Bundle, BuildError> {
    let (value, syntax, c1) = source::parse(text).map_err(|e| BuildError::single(name, e))?;
    let mut loader = Loader {
        root_dir: normalize(base_dir),
        seen: HashMap::new(),
        files: vec![SourceFile {
            name: name.to_owned(),
            text: text.to_owned(),
            syntax,
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
    loader.run();
    loader.finish()
}

/// Bundles an in-memory value; any reference to another file is an error.
pub(crate) fn from_value(value: Value) -> Result<Bundle, BuildError> {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let mut loader = Loader {
        root_dir: PathBuf::new(),
        seen: HashMap::new(),
        files: vec![SourceFile {
            name: "<document>".to_owned(),
            text,
            syntax: source::Syntax::Json,
        }],
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
fn prefix_of(files: &[SourceFile], index: usize) -> String {
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

impl Loader {
    fn run(&mut self) {
        let mut next = 0;
        while next < self.values.len() {
            let mut value = self.values[next].take().unwrap_or(Value::Null);
            let mut at = String::new();
            self.rewrite(next, &mut value, &mut at);
            self.values[next] = Some(value);
            next += 1;
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
        if let Some(&index) = self.seen.get(&path) {
            return Some(index);
        }
        // Only regular files: a device or a pipe (`/dev/zero`) would never end.
        let text = match std::fs::metadata(&path).and_then(|meta| {
            if meta.is_file() {
                std::fs::read_to_string(&path)
            } else {
                Err(std::io::Error::other("not a regular file"))
            }
        }) {
            Ok(text) => text,
            Err(e) => {
                let source = &self.files[from];
                self.dangling.push(Dangling {
                    at: format!("{}{at}", prefix_of(&self.files, from)),
                    problem: BuildProblem {
                        file: source.name.clone(),
                        line: source::line_of(source, at),
                        pointer: at.to_owned(),
                        message: format!("`$ref` names `{relative}`, which cannot be read: {e}"),
                    },
                });
                return None;
            }
        };
        let name = relative_name(&self.root_dir, &path);
        let (value, syntax, c1) = match source::parse(&text) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.problems.push(BuildProblem {
                    file: name,
                    pointer: String::new(),
                    line: None,
                    message: e,
                });
                self.seen.insert(path, usize::MAX);
                return None;
            }
        };
        let index = self.files.len();
        self.files.push(SourceFile { name, text, syntax });
        self.control_characters(index, c1);
        self.values.push(Some(value));
        self.dirs
            .push(path.parent().map(Path::to_path_buf).unwrap_or_default());
        self.seen.insert(path, index);
        Some(index)
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
            Ok(Bundle {
                root,
                files: self.files,
                paths: read.into_iter().map(|(_, path)| path).collect(),
                dangling: self.dangling,
                warnings: self.warnings,
            })
        } else {
            Err(BuildError::new(self.problems))
        }
    }
}

/// A display name for `path`: relative to the root file's folder where it lies below it.
fn relative_name(root_dir: &Path, path: &Path) -> String {
    let name = path.strip_prefix(root_dir).unwrap_or(path);
    name.to_string_lossy().replace('\\', "/")
}

/// Lists every local `$ref` whose target is missing.
fn check_targets(root: &Value, files: &[SourceFile], dangling: &mut Vec<Dangling>) {
    walk::ref_holders(root, &mut String::new(), &mut |node, at| {
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
