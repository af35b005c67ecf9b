//! Schemas compiled once: a native checker for simple ones, jsonschema for the rest.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, PatternOptions, Validator};
use serde_json::Value;

use crate::params::{SchemaError, SimpleSchema, format_checker, format_description};
use crate::pattern::{self, Patterns};
use crate::problem::FieldCode;
use crate::spec::{pointer, walk};

/// The URI under which the request view of the document is registered for `$ref`s.
///
/// Its scheme is the one jsonschema gives a schema without a base URI: for a node under such
/// a base, jsonschema keeps no absolute location (a URI per compiled node, a fifth of a large
/// document's compiled checks), and an error's `schema_path` is already the node's pointer
/// in the view. Schema resources with an `$id` of their own keep their absolute locations.
pub(crate) const REQUEST_URI: &str = "json-schema:///oasgate/request";
const DEFAULT_SCHEME: &str = "json-schema:";

/// A view of the document (the request or the response view) as jsonschema reads it.
///
/// In an OpenAPI 3.1 document a schema with an `$id` is a schema resource (JSON Schema
/// 2020-12 Core §9.1.2), and `$dynamicRef` looks for `$dynamicAnchor`s in "the outermost
/// schema resource in the dynamic scope" (§8.2.3.2): which resources evaluation entered. So
/// here every `$id` is absolute (resolved against its file's URI), each resource is registered
/// under it, and every `$ref` into a resource names it by that URI (the loader rewrote them
/// all to local pointers, which would enter a resource without its scope).
pub(crate) struct Engine {
    doc: Arc<Value>,
    /// Schema resources: pointer in the view and absolute `$id`, longest pointer first.
    ids: Arc<Vec<(String, String)>>,
}

impl Engine {
    /// The engine's copy of `view`; `bases` as [`Document::schema_bases`](crate::Document)
    /// answers (empty: no `$id` has a meaning, and the view is used as it is).
    pub fn new(view: &Arc<Value>, bases: &[(String, String)]) -> Self {
        let mut ids: Vec<(String, String)> = Vec::new();
        let mut dynamic: Vec<(String, String)> = Vec::new();
        let files = format!("/{}/", crate::spec::FILES_KEY);
        for (prefix, base) in bases {
            let Some(region) = pointer::get(view, prefix) else {
                continue;
            };
            let mut at = prefix.clone();
            walk::ref_holders_with_bases(region, &mut at, base, &mut |node, at, base, own| {
                // The root file's walk passes through the other files with the wrong base.
                if prefix.is_empty() && at.starts_with(&files) {
                    return;
                }
                if own {
                    ids.push((at.to_owned(), base.to_owned()));
                }
                if let Some(reference) = node.get("$dynamicRef").and_then(Value::as_str)
                    && let Some(absolute) = crate::spec::uri::resolve(reference, base)
                {
                    dynamic.push((at.to_owned(), absolute));
                }
            });
        }
        if ids.is_empty() && dynamic.is_empty() {
            return Self {
                doc: view.clone(),
                ids: Arc::default(),
            };
        }
        ids.sort_by_key(|(at, _)| std::cmp::Reverse(at.len()));
        let mut doc = (**view).clone();
        for (at, id) in &ids {
            if let Some(Value::Object(node)) = pointer::get_mut(&mut doc, at) {
                node.insert("$id".to_owned(), Value::String(id.clone()));
            }
        }
        // Resolved statically first, as `$ref` is; only the fragment's anchor name is then
        // looked up in the dynamic scope (§8.2.3.2), so the absolute form means the same.
        for (at, reference) in dynamic {
            if let Some(Value::Object(node)) = pointer::get_mut(&mut doc, &at) {
                node.insert("$dynamicRef".to_owned(), Value::String(reference));
            }
        }
        walk::ref_holders_mut(&mut doc, &mut String::new(), &mut |node, _| {
            if let Some(target) = pointer::local_ref(node)
                && let Some(reference) = node.get_mut("$ref")
            {
                *reference = Value::String(uri_of(&ids, &target));
            }
            true
        });
        Self {
            doc: Arc::new(doc),
            ids: Arc::new(ids),
        }
    }
}

/// The registry of the view `doc` under [`REQUEST_URI`], and of each schema resource in it
/// (pointer, absolute `$id`) under its `$id`.
fn registry_of(
    doc: &Arc<Value>,
    ids: &[(String, String)],
) -> Result<jsonschema::Registry<'static>, String> {
    let mut builder = jsonschema::Registry::new()
        .draft(Draft::Draft202012)
        .add(REQUEST_URI, doc.clone());
    for (at, id) in ids {
        if let Some(node) = pointer::get(doc, at) {
            builder = builder.and_then(|b| b.add(id.as_str(), node.clone()));
        }
    }
    builder
        .and_then(|b| b.prepare())
        .map_err(|e| format!("cannot index the document's schemas: {e}"))
}

/// The URI of the node at `at`: through the innermost schema resource holding it, or from the
/// view's root.
fn uri_of(ids: &[(String, String)], at: &str) -> String {
    for (resource, id) in ids {
        if let Some(rest) = at.strip_prefix(resource.as_str())
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return if rest.is_empty() {
                id.clone()
            } else {
                format!("{id}#{}", pointer::to_fragment(rest))
            };
        }
    }
    format!("{REQUEST_URI}#{}", pointer::to_fragment(at))
}

/// The pointer into the view of a node jsonschema names by `uri` (see [`uri_of`]).
fn pointer_of(ids: &[(String, String)], uri: &str) -> Option<String> {
    let (resource, fragment) = uri.split_once('#').unwrap_or((uri, ""));
    let fragment = pointer::percent_decoded(fragment);
    if resource == REQUEST_URI {
        return Some(fragment);
    }
    ids.iter()
        .find(|(_, id)| id == resource)
        .map(|(at, _)| format!("{at}{fragment}"))
}

/// A compiled schema check.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// No schema: anything goes.
    Any,
    /// Type, bounds, enum, pattern and format only: checked natively, no JSON tree walk.
    Simple(Arc<SimpleSchema>),
    /// Everything else, through jsonschema.
    Schema(Arc<SchemaCheck>),
}

/// A jsonschema validator and the document it points into (for error messages).
///
/// Every validator is built at start-up, so a schema's errors are all found there. One that
/// only explains a failure (a JSON body the stream walk takes, a discriminator's branch) is then
/// dropped and built again on its first use: on large documents the compiled validators are
/// most of the memory, and most of them never run.
pub(crate) struct SchemaCheck {
    validator: OnceLock<Validator>,
    /// What builds it again, and the view it reads: the wrapper's `$ref` and the engine that
    /// took it at start-up.
    recipe: Recipe,
    /// Where the compiled schema is in the view: evaluation paths start there.
    root: String,
    /// `oneOf`/`anyOf` nodes with a `discriminator`, by pointer: their branches compiled
    /// apart, so a failure reports the errors of the branch the discriminator picks.
    discriminators: Vec<(String, Discriminator)>,
    /// The patterns as written and the bound, for messages.
    patterns: Patterns,
    /// Schema resources of the view (see [`Engine`]), to place what jsonschema reports.
    ids: Arc<Vec<(String, String)>>,
}

/// The branches of one discriminated `oneOf`/`anyOf`.
struct Discriminator {
    property: String,
    /// Discriminator value → the branch's check.
    branches: Vec<(String, Check)>,
    /// The branch `defaultMapping` names (OpenAPI 3.2): the one whose errors are reported
    /// when the property is absent or its value is not mapped.
    default: Option<Check>,
}

/// How a dropped validator is built again, as it was at start-up.
struct Recipe {
    home: Arc<Home>,
    uri: String,
    bounded: bool,
}

/// Builds validators against the registry of one view; kept for as long as a check may have
/// to build its validator again.
pub(crate) struct Builder {
    registry: jsonschema::Registry<'static>,
    /// The view the registry holds, which checks read to explain a failure.
    view: Arc<Value>,
    backtrack_limit: usize,
}

/// The builder every check of one compiler reads, narrowed once compiling ends to what those
/// checks reach (see [`Narrowing`]).
pub(crate) struct Home {
    /// Empty only while [`Narrowing::apply`] holds it, before any request.
    builder: RwLock<Option<Arc<Builder>>>,
}

impl Home {
    fn current(&self) -> Result<Arc<Builder>, String> {
        self.builder
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| "the document's schemas are not indexed".to_owned())
    }
}

/// What a compiler's checks read of its view once compiling ends (see [`super::narrow`]),
/// ready to replace the view they share.
pub(crate) struct Narrowing {
    home: Arc<Home>,
    keep: Vec<String>,
}

impl Narrowing {
    /// Moves what the checks reach out of the view into a view of its own, indexes it, and
    /// hands it to them; the rest of the view is freed. Call once nothing else holds the
    /// view: while something does, it stays as it is (its nodes cannot be moved).
    pub fn apply(self) -> Result<(), String> {
        let mut slot = self
            .home
            .builder
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(current) = slot.take() else {
            return Ok(());
        };
        let current = match Arc::try_unwrap(current) {
            Ok(builder) => builder,
            Err(shared) => {
                *slot = Some(shared);
                return Ok(());
            }
        };
        let Builder {
            registry,
            view,
            backtrack_limit,
        } = current;
        // The registry holds the view too.
        drop(registry);
        let mut view = match Arc::try_unwrap(view) {
            Ok(view) => view,
            Err(shared) => {
                *slot = Some(Arc::new(Builder::over(shared, backtrack_limit)?));
                return Ok(());
            }
        };
        let kept = Arc::new(super::narrow::keep(&mut view, &self.keep));
        drop(view);
        *slot = Some(Arc::new(Builder::over(kept, backtrack_limit)?));
        Ok(())
    }
}

impl Builder {
    /// A builder over `view`, a view without schema resources of its own (no `$id`).
    fn over(view: Arc<Value>, backtrack_limit: usize) -> Result<Self, String> {
        let registry = registry_of(&view, &[])?;
        Ok(Self {
            registry,
            view,
            backtrack_limit,
        })
    }

    fn options(&self, bounded: bool) -> jsonschema::ValidationOptions<'_> {
        let mut options = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true);
        for format in FORMATS {
            if let Some(check) = format_checker(format) {
                options = options.with_format(format, check);
            }
        }
        if bounded {
            // `fancy-regex` hands every part of a pattern that needs no backtracking, and so
            // every pattern without lookaround or backreference, whole to the linear-time
            // engine, so only those parts are bounded rather than linear.
            options.with_pattern_options(
                PatternOptions::fancy_regex().backtrack_limit(self.backtrack_limit),
            )
        } else {
            options.with_pattern_options(PatternOptions::regex())
        }
    }

    /// The validator of the schema `uri` names, and whether it needed the bounded engine.
    /// Linear first: a schema whose patterns all run on it keeps it. A pattern that needs
    /// lookaround or a backreference fails that build; the bounded engine then runs it.
    fn build(&self, uri: &str) -> Result<(Validator, bool), String> {
        self.build_on(uri, false)
            .map(|v| (v, false))
            .or_else(|e| self.build_on(uri, true).map(|v| (v, true)).map_err(|_| e))
            .map_err(|e| format!("invalid schema: {e}"))
    }

    /// The validator of the schema `uri` names, on one engine.
    fn build_on(&self, uri: &str, bounded: bool) -> Result<Validator, String> {
        self.options(bounded)
            .build(&serde_json::json!({ "$ref": uri }))
            .map_err(|e| lowercase_first(&e.masked().to_string()))
    }
}

impl Recipe {
    fn build(&self) -> Result<Validator, String> {
        self.home.current()?.build_on(&self.uri, self.bounded)
    }

    /// The view the checks read, as narrowed.
    fn view(&self) -> Result<Arc<Value>, String> {
        self.home.current().map(|builder| builder.view.clone())
    }
}

/// Why a schema cannot be compiled.
enum Failure {
    /// The validator refused it (explained by [`Compiler::explain`]).
    Build(String),
    /// A defect at a pointer of its own.
    At(String, String),
}

impl std::fmt::Debug for SchemaCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaCheck")
    }
}

/// One schema violation: where in the value, which keyword, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violation {
    pub pointer: String,
    pub code: FieldCode,
    pub detail: String,
}

/// Compiles schemas against one prepared registry holding the request view.
pub(crate) struct Compiler {
    /// Every pattern on the linear-time `regex` engine, except a schema with a pattern that
    /// needs lookaround or a backreference: `fancy-regex` under the backtrack limit.
    builder: Arc<Builder>,
    /// What its checks read once compiling ends: the same builder until narrowed.
    home: Arc<Home>,
    view: Arc<Value>,
    patterns: Patterns,
    /// Each schema compiled so far, by its pointer after plain `$ref`s: a schema that many
    /// operations reach through `$ref` is compiled once and shared.
    compiled: RefCell<HashMap<String, Compiled>>,
    ids: Arc<Vec<(String, String)>>,
}

/// A compiled check, or every problem of the schema with the pointer it is at.
type Compiled = Result<Check, Vec<(String, String)>>;

impl Compiler {
    /// The registry jsonschema resolves references in: the view, and each schema resource in
    /// it under its `$id`.
    pub fn registry(engine: &Engine) -> Result<jsonschema::Registry<'static>, String> {
        registry_of(&engine.doc, &engine.ids)
    }

    pub fn new(
        registry: jsonschema::Registry<'static>,
        engine: &Engine,
        view: Arc<Value>,
        patterns: Patterns,
    ) -> Self {
        let builder = Arc::new(Builder {
            registry,
            view: view.clone(),
            backtrack_limit: patterns.backtrack_limit,
        });
        Self {
            home: Arc::new(Home {
                builder: RwLock::new(Some(builder.clone())),
            }),
            builder,
            view,
            patterns,
            compiled: RefCell::default(),
            ids: engine.ids.clone(),
        }
    }

    /// The document's pattern settings.
    pub fn patterns(&self) -> &Patterns {
        &self.patterns
    }

    /// What the checks compiled so far read of the view, to apply once the compiler and
    /// every other holder of the view are gone; `None` when they read no view or what they
    /// read cannot be told from pointers (see [`super::narrow::reach`]).
    pub fn narrowing(&self) -> Option<Narrowing> {
        if !self.ids.is_empty() {
            return None;
        }
        let compiled = self.compiled.borrow();
        let mut roots = compiled
            .values()
            .filter_map(|done| match done {
                Ok(Check::Schema(check)) => Some(check.root.as_str()),
                _ => None,
            })
            .peekable();
        roots.peek()?;
        let keep = super::narrow::reach(&self.view, roots)?;
        Some(Narrowing {
            home: self.home.clone(),
            keep,
        })
    }

    /// Compiles the schema at `at` (a pointer into the request view) for a check that runs on
    /// every request; on failure, every problem with the pointer it is at. A schema that is
    /// only a `$ref` is the schema it names, compiled once however many places name it.
    pub fn compile(&self, at: &str) -> Compiled {
        let done = self.compile_for(at, true)?;
        if let Check::Schema(check) = &done {
            // Compiled before for a check that only explained failures.
            check.warm();
        }
        Ok(done)
    }

    /// As [`compile`](Self::compile), for a check that only explains why a value another
    /// check refused is wrong: its validator is built (so its errors are found now), then
    /// dropped until a failure needs it.
    pub fn compile_explaining(&self, at: &str) -> Compiled {
        self.compile_for(at, false)
    }

    fn compile_for(&self, at: &str, keep: bool) -> Compiled {
        let target = self.plain_ref_target(at);
        if let Some(done) = self.compiled.borrow().get(&target) {
            return done.clone();
        }
        let done = self.compile_uncached(&target, keep);
        // A simple schema written in place in an operation is read by that parameter alone;
        // remembering each by its pointer would hold a table as large as the document's
        // parameters (thousands in some) until compiling ends, to save nothing.
        let in_place_simple =
            target.starts_with("/paths/") && matches!(done, Ok(Check::Simple(_) | Check::Any));
        if !in_place_simple {
            self.compiled.borrow_mut().insert(target, done.clone());
        }
        done
    }

    /// Where a chain of schemas that are nothing but a local `$ref` ends. A `$ref` with
    /// sibling keywords is a schema of its own (JSON Schema 2020-12 §8.2.3.1: `$ref` is an
    /// applicator beside the others), so the chain stops there; so it does at a cycle.
    fn plain_ref_target(&self, at: &str) -> String {
        let mut at = at.to_owned();
        for _ in 0..64 {
            let Some(node) = pointer::get(&self.view, &at) else {
                break;
            };
            // Extensions beside it (`x-oasgate-ref`, the reference as written) check nothing.
            let plain = node
                .as_object()
                .is_some_and(|m| m.keys().all(|k| k == "$ref" || k.starts_with("x-")));
            // A `$ref` naming nothing stays: compiling it reports the broken reference.
            match pointer::local_ref(node) {
                Some(target)
                    if plain && target != at && pointer::get(&self.view, &target).is_some() =>
                {
                    at = target
                }
                _ => break,
            }
        }
        at
    }

    fn compile_uncached(&self, at: &str, keep: bool) -> Compiled {
        // The engines read some syntax that is not ECMA-262 (`\p{Print}`, `\A`): refused
        // first, so no engine gives it a meaning the document did not.
        if self.patterns.any_refused() {
            let refused =
                self.pattern_problems(at, |p| self.patterns.refused(p).map(str::to_owned));
            if !refused.is_empty() {
                return Err(refused);
            }
        }
        self.compile_inner(at, keep)
            .map_err(|failure| match failure {
                Failure::Build(message) => self.explain(at, message),
                Failure::At(at, message) => vec![(at, message)],
            })
    }

    /// The problems behind a failed compilation: each `pattern` that cannot run, at its own
    /// pointer, or else the validator's message at the schema.
    fn explain(&self, at: &str, message: String) -> Vec<(String, String)> {
        let mut problems = self.pattern_problems(at, |p| self.pattern_problem(p));
        if problems.is_empty() {
            problems.push((at.to_owned(), message));
        }
        problems
    }

    /// Each `pattern` and `patternProperties` key under `at` that `problem` finds wrong, at
    /// its own pointer.
    fn pattern_problems(
        &self,
        at: &str,
        problem: impl Fn(&str) -> Option<String>,
    ) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for node_at in walk::schemas_under(&self.view, at) {
            let Some(node) = pointer::get(&self.view, &node_at) else {
                continue;
            };
            if let Some(pattern) = node.get("pattern").and_then(Value::as_str)
                && let Some(why) = problem(pattern)
            {
                problems.push((pointer::join(&node_at, "pattern"), why));
            }
            if let Some(Value::Object(map)) = node.get("patternProperties") {
                for key in map.keys() {
                    if let Some(why) = problem(key) {
                        let keys_at = pointer::join(&node_at, "patternProperties");
                        problems.push((pointer::join(&keys_at, key), why));
                    }
                }
            }
        }
        problems
    }

    /// Why `pattern` (as it stands in the view) cannot run.
    fn pattern_problem(&self, pattern: &str) -> Option<String> {
        pattern::refusal(pattern, &self.patterns)
    }

    fn compile_inner(&self, at: &str, keep: bool) -> Result<Check, Failure> {
        let Some(schema) = pointer::get(&self.view, at) else {
            return Ok(Check::Any);
        };
        if schema.as_object().is_some_and(|m| m.is_empty()) || schema == &Value::Bool(true) {
            return Ok(Check::Any);
        }
        if let Some(simple) = SimpleSchema::compile_with(schema, &self.patterns) {
            return Ok(Check::Simple(Arc::new(simple)));
        }
        let mut discriminators = Vec::new();
        for node_at in walk::schemas_under(&self.view, at) {
            if let Some(d) = self.discriminator(&node_at)? {
                discriminators.push((node_at, d));
            }
        }
        Ok(Check::Schema(Arc::new(self.schema_check(
            at,
            discriminators,
            keep,
        )?)))
    }

    /// The jsonschema check of the schema at `at`, its validator built now and kept or
    /// dropped (see [`SchemaCheck`]).
    fn schema_check(
        &self,
        at: &str,
        discriminators: Vec<(String, Discriminator)>,
        keep: bool,
    ) -> Result<SchemaCheck, Failure> {
        let uri = uri_of(&self.ids, at);
        let (validator, bounded) = self.builder.build(&uri).map_err(Failure::Build)?;
        let built = OnceLock::new();
        if keep {
            let _ = built.set(validator);
        }
        Ok(SchemaCheck {
            validator: built,
            recipe: Recipe {
                home: self.home.clone(),
                uri,
                bounded,
            },
            root: at.to_owned(),
            discriminators,
            patterns: self.patterns.clone(),
            ids: self.ids.clone(),
        })
    }

    /// Compiles the branches of a discriminated `oneOf`/`anyOf` at `at`, if it is one.
    fn discriminator(&self, at: &str) -> Result<Option<Discriminator>, Failure> {
        let Some(node) = pointer::get(&self.view, at) else {
            return Ok(None);
        };
        let Some(property) = node
            .get("discriminator")
            .and_then(|d| d.get("propertyName"))
            .and_then(Value::as_str)
        else {
            return Ok(None);
        };
        let Some((keyword, Value::Array(branches))) = ["oneOf", "anyOf"]
            .into_iter()
            .find_map(|k| node.get(k).map(|b| (k, b)))
        else {
            return Ok(None);
        };
        let discriminator = node.get("discriminator");
        let mapping = discriminator.and_then(|d| d.get("mapping"));
        // "The schema name or URI reference to a schema that is expected to validate the
        // structure of the model when the discriminating property is not present in the
        // payload or contains a value for which there is no explicit or implicit mapping"
        // (OpenAPI 3.2, Discriminator Object); an unknown field before 3.2.
        let default_mapping = discriminator
            .and_then(|d| d.get("defaultMapping"))
            .filter(|_| crate::spec::is_v3_2(&self.view));
        let default_at = pointer::join(&pointer::join(at, "discriminator"), "defaultMapping");
        let default_mapping = match default_mapping {
            None => None,
            Some(Value::String(name)) => Some(name.as_str()),
            Some(_) => {
                return Err(Failure::At(
                    default_at,
                    "`defaultMapping` must be a string: a schema name or a URI reference to one of \
                     the schemas of the `oneOf`/`anyOf`"
                        .to_owned(),
                ));
            }
        };
        // Whether `written` (a mapping value) names the branch whose `$ref` targets `target`:
        // a schema name (treated as such first, "it is RECOMMENDED that it be treated as a
        // schema name") or a reference to it.
        let names = |written: &str, target: &str| {
            written == target.rsplit('/').next().unwrap_or_default()
                || pointer::percent_decoded(written.trim_start_matches('#')) == target
        };
        let mut compiled = Vec::new();
        let mut default = None;
        for (i, branch) in branches.iter().enumerate() {
            let branch_at = format!("{}/{i}", pointer::join(at, keyword));
            let target = pointer::local_ref(branch);
            // Explicit mapping values first, then the implicit one: the schema's name.
            let mut values: Vec<String> = mapping
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, r)| {
                    let r = r.as_str().unwrap_or_default();
                    target.as_deref().is_some_and(|t| names(r, t))
                })
                .map(|(value, _)| value.clone())
                .collect();
            if let Some(name) = target.as_deref().and_then(|t| t.rsplit('/').next()) {
                values.push(pointer::unescape(name));
            }
            let is_default = default.is_none()
                && default_mapping
                    .zip(target.as_deref())
                    .is_some_and(|(written, t)| names(written, t));
            if values.is_empty() && !is_default {
                continue;
            }
            // Run only to explain a failure of the schema holding it.
            let check = Check::Schema(Arc::new(self.schema_check(
                &branch_at,
                Vec::new(),
                false,
            )?));
            if is_default {
                default = Some(check.clone());
            }
            for value in values {
                compiled.push((value, check.clone()));
            }
        }
        if let Some(written) = default_mapping
            && default.is_none()
        {
            // "In both the `oneOf` and `anyOf` use cases, where those keywords are adjacent
            // to `discriminator`, all possible schemas MUST be listed explicitly" (OpenAPI
            // 3.2, Discriminator Object).
            return Err(Failure::At(
                default_at,
                format!(
                    "`defaultMapping` `{written}` names no schema of the adjacent `{keyword}`; all \
                     possible schemas must be listed explicitly there"
                ),
            ));
        }
        Ok(Some(Discriminator {
            property: property.to_owned(),
            branches: compiled,
            default,
        }))
    }
}

/// Formats oasgate checks itself, so parameters and bodies agree on them.
pub(crate) const FORMATS: [&str; 12] = [
    "date",
    "date-time",
    "time",
    "duration",
    "uuid",
    "email",
    "ipv4",
    "ipv6",
    "uri",
    "byte",
    "int32",
    "int64",
];

impl Check {
    pub fn is_valid(&self, value: &Value) -> bool {
        match self {
            Check::Any => true,
            Check::Simple(s) => s.is_valid(value),
            Check::Schema(s) => s.validator().is_ok_and(|v| v.is_valid(value)),
        }
    }

    /// Every violation (call after `is_valid` said no; this is the slow, rich path).
    pub fn violations(&self, value: &Value, hide_values: bool) -> Vec<Violation> {
        self.violations_up_to(value, hide_values, usize::MAX).0
    }

    /// At most `cap` violations, and how many more there are: those are counted, never
    /// described, so a body with a million bad items costs a walk, not a million messages.
    pub fn violations_up_to(
        &self,
        value: &Value,
        hide_values: bool,
        cap: usize,
    ) -> (Vec<Violation>, usize) {
        match self {
            Check::Any => (Vec::new(), 0),
            Check::Simple(s) => {
                let mut out = Vec::new();
                let more = s.check_limited(value, &mut out, cap);
                let described = out
                    .into_iter()
                    .map(
                        |SchemaError {
                             pointer,
                             code,
                             detail,
                         }| Violation {
                            pointer,
                            code,
                            detail: if hide_values { hidden(code) } else { detail },
                        },
                    )
                    .collect();
                (described, more)
            }
            Check::Schema(s) => s.violations(value, hide_values, cap),
        }
    }
}

impl SchemaCheck {
    /// The validator, built again first if it was dropped. That build succeeded at start-up
    /// from the same registry and options, so it fails only if something broke since; the
    /// check then fails closed, naming why.
    fn validator(&self) -> Result<&Validator, String> {
        if let Some(built) = self.validator.get() {
            return Ok(built);
        }
        let built = self.recipe.build()?;
        Ok(self.validator.get_or_init(|| built))
    }

    /// Whether the validator is built (for tests: which checks keep theirs).
    #[cfg(test)]
    pub(crate) fn is_built(&self) -> bool {
        self.validator.get().is_some()
    }

    /// The view the check reads (for tests: what it keeps once compiling ends).
    #[cfg(test)]
    pub(crate) fn view(&self) -> Arc<Value> {
        self.recipe.view().expect("a view")
    }

    /// Builds the validator now if it was dropped: the check is going to run on every request.
    fn warm(&self) {
        let _ = self.validator();
    }

    fn violations(&self, value: &Value, hide_values: bool, cap: usize) -> (Vec<Violation>, usize) {
        let found = self
            .validator()
            .and_then(|validator| Ok((validator, self.recipe.view()?)));
        let (validator, view) = match found {
            Ok(found) => found,
            Err(why) => {
                let violation = Violation {
                    pointer: String::new(),
                    code: FieldCode::Schema,
                    detail: format!("cannot be checked: the schema no longer compiles ({why})"),
                };
                return (vec![violation], 0);
            }
        };
        let mut out = Vec::new();
        let mut more = 0;
        for error in validator.iter_errors(value) {
            if out.len() >= cap {
                more += 1;
                continue;
            }
            let keyword_at = match error.absolute_keyword_location() {
                Some(uri) => pointer_of(&self.ids, uri.as_str()),
                // Under the request view's own URI (see [`REQUEST_URI`]), unless a resource
                // of the document took that scheme for its `$id` too: then it is not known
                // which resource the path is in.
                None if !self
                    .ids
                    .iter()
                    .any(|(_, id)| id.starts_with(DEFAULT_SCHEME)) =>
                {
                    Some(error.schema_path().as_str().to_owned())
                }
                None => None,
            };
            let parent_at = keyword_at
                .as_deref()
                .and_then(|at| at.rsplit_once('/'))
                .map(|(p, _)| p);
            let instance_at = error.instance_path().as_str().to_owned();
            if let Some(parent_at) = parent_at
                && let Some((_, d)) = self.discriminators.iter().find(|(at, _)| at == parent_at)
                && let Some(instance) = pointer::get(value, &instance_at)
            {
                d.explain(instance, &instance_at, hide_values, &mut out);
                continue;
            }
            let schema = parent_at.and_then(|p| pointer::get(&view, p));
            let secret = hide_values
                || schema.is_some_and(is_secret_schema)
                || self.secret_on_the_way(&view, error.evaluation_path().as_str());
            let mut at = instance_at;
            let (code, detail) = match error.kind() {
                ValidationErrorKind::Pattern { pattern } => (
                    FieldCode::Pattern,
                    format!(
                        "does not match pattern `{}`",
                        self.patterns.written(pattern)
                    ),
                ),
                // Not decided within the bound: refused (a gateway fails closed).
                ValidationErrorKind::BacktrackLimitExceeded { .. }
                | ValidationErrorKind::RegexEngineFailure { .. } => {
                    // The keyword's location (this error kind has only a schema path).
                    let pattern = [keyword_at.as_deref(), Some(error.schema_path().as_str())]
                        .into_iter()
                        .flatten()
                        .filter_map(|k| pointer::get(&view, k))
                        .find_map(|node| match node {
                            Value::String(p) => Some(p.as_str()),
                            other => other.get("pattern").and_then(Value::as_str),
                        })
                        .unwrap_or("");
                    (FieldCode::Pattern, self.patterns.undecided(pattern))
                }
                kind => describe(kind, error.instance(), secret, &mut at),
            };
            out.push(Violation {
                pointer: at,
                code,
                detail,
            });
        }
        // A discriminator's branch may have added several at once.
        if out.len() > cap {
            more += out.len() - cap;
            out.truncate(cap);
        }
        (out, more)
    }

    /// Whether a schema the evaluation passed through on its way to the failed keyword is
    /// secret: a `writeOnly` object hides what is inside it, even behind `$ref`s.
    fn secret_on_the_way(&self, view: &Value, evaluation_path: &str) -> bool {
        let mut segments = pointer::segments(evaluation_path);
        // The last segment is the failed keyword itself.
        segments.pop();
        // The path starts with the `$ref` from the wrapper to the compiled schema.
        let mut rest = segments.iter();
        if rest.next().map(String::as_str) != Some("$ref") {
            return false;
        }
        let Some(mut node) = pointer::get(view, &self.root) else {
            return false;
        };
        for segment in rest {
            if is_secret_schema(node) {
                return true;
            }
            let next = if segment == "$ref" {
                pointer::local_ref(node).and_then(|target| pointer::get(view, &target))
            } else {
                match node {
                    Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                    other => other.get(segment.as_str()),
                }
            };
            match next {
                Some(next) => node = next,
                None => return false,
            }
        }
        is_secret_schema(node)
    }
}

impl Discriminator {
    /// The errors of the branch the discriminator value picks, or why none is picked.
    fn explain(&self, instance: &Value, at: &str, hide_values: bool, out: &mut Vec<Violation>) {
        let property_at = format!("{at}{}", pointer::join("", &self.property));
        let allowed = || {
            let mut names: Vec<&str> = self.branches.iter().map(|(v, _)| v.as_str()).collect();
            names.dedup();
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let value = instance.get(&self.property);
        let picked = value
            .and_then(Value::as_str)
            .and_then(|v| self.branches.iter().find(|(name, _)| name == v));
        // Absent or not mapped: "the payload should validate against the `OtherPet` schema"
        // (OpenAPI 3.2, Discriminator Object, the `defaultMapping` example).
        if picked.is_none()
            && let Some(check) = &self.default
        {
            let before = out.len();
            for mut v in check.violations(instance, hide_values) {
                v.pointer = format!("{at}{}", v.pointer);
                out.push(v);
            }
            if out.len() > before {
                return;
            }
        }
        if value.is_none() {
            out.push(Violation {
                pointer: property_at,
                code: FieldCode::Discriminator,
                detail: format!(
                    "missing discriminator property `{}` (one of {})",
                    self.property,
                    allowed()
                ),
            });
            return;
        }
        let Some((_, check)) = picked else {
            out.push(Violation {
                pointer: property_at,
                code: FieldCode::Discriminator,
                detail: format!("`{}` must be one of {}", self.property, allowed()),
            });
            return;
        };
        for mut v in check.violations(instance, hide_values) {
            v.pointer = format!("{at}{}", v.pointer);
            out.push(v);
        }
    }
}

/// Whether values under this schema must never be echoed.
pub(crate) fn is_secret_schema(schema: &Value) -> bool {
    schema.get("format").and_then(Value::as_str) == Some("password")
        || schema.get("writeOnly").and_then(Value::as_bool) == Some(true)
}

fn hidden(code: FieldCode) -> String {
    format!("the value breaks `{code}` (value hidden)")
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 64 {
        let cut: String = text.chars().take(61).collect();
        format!("`{cut}...`")
    } else {
        format!("`{text}`")
    }
}

fn type_names(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(ts) => ts
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// A lowercase message naming what was expected; adjusts `at` to the offending property.
fn describe(
    kind: &ValidationErrorKind,
    value: &Value,
    secret: bool,
    at: &mut String,
) -> (FieldCode, String) {
    let got = || {
        if secret {
            "a hidden value".to_owned()
        } else {
            show(value)
        }
    };
    match kind {
        ValidationErrorKind::Type { kind } => (
            FieldCode::Type,
            format!("expected {}, got {}", type_names(kind), json_type(value)),
        ),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            at.push_str(&pointer::join("", name));
            (
                FieldCode::Required,
                format!("missing required property `{name}`"),
            )
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => (
            FieldCode::AdditionalProperties,
            format!(
                "unexpected propert{} {}",
                if unexpected.len() == 1 { "y" } else { "ies" },
                unexpected
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        ValidationErrorKind::Enum { options } => (
            FieldCode::Enum,
            format!("must be one of {}, got {}", list(options), got()),
        ),
        ValidationErrorKind::Constant { expected_value } => (
            FieldCode::Const,
            format!("must be {}", show(expected_value)),
        ),
        ValidationErrorKind::Minimum { limit } => (
            FieldCode::Minimum,
            format!("expected ≥ {limit}, got {}", got()),
        ),
        ValidationErrorKind::Maximum { limit } => (
            FieldCode::Maximum,
            format!("expected ≤ {limit}, got {}", got()),
        ),
        ValidationErrorKind::ExclusiveMinimum { limit } => (
            FieldCode::ExclusiveMinimum,
            format!("expected > {limit}, got {}", got()),
        ),
        ValidationErrorKind::ExclusiveMaximum { limit } => (
            FieldCode::ExclusiveMaximum,
            format!("expected < {limit}, got {}", got()),
        ),
        ValidationErrorKind::MinLength { limit } => (
            FieldCode::MinLength,
            format!(
                "expected at least {}",
                count(*limit, "character", "characters")
            ),
        ),
        ValidationErrorKind::MaxLength { limit } => (
            FieldCode::MaxLength,
            format!(
                "expected at most {}",
                count(*limit, "character", "characters")
            ),
        ),
        ValidationErrorKind::MinItems { limit } => (
            FieldCode::MinItems,
            format!("expected at least {}", count(*limit, "item", "items")),
        ),
        ValidationErrorKind::MaxItems { limit } => (
            FieldCode::MaxItems,
            format!("expected at most {}", count(*limit, "item", "items")),
        ),
        ValidationErrorKind::MinProperties { limit } => (
            FieldCode::MinProperties,
            format!(
                "expected at least {}",
                count(*limit, "property", "properties")
            ),
        ),
        ValidationErrorKind::MaxProperties { limit } => (
            FieldCode::MaxProperties,
            format!(
                "expected at most {}",
                count(*limit, "property", "properties")
            ),
        ),
        ValidationErrorKind::UniqueItems => {
            (FieldCode::UniqueItems, "items must be unique".to_owned())
        }
        ValidationErrorKind::Format { format } => (
            FieldCode::Format,
            match format_description(format) {
                Some(d) => format!("expected {d}"),
                None => format!("expected format `{format}`"),
            },
        ),
        ValidationErrorKind::MultipleOf { .. } => (
            FieldCode::MultipleOf,
            format!(
                "{} is not a multiple of the step the schema requires",
                got()
            ),
        ),
        ValidationErrorKind::Not { schema }
            if schema.get("x-oasgate-read-only").is_some() || schema == &serde_json::json!({}) =>
        {
            (
                FieldCode::ReadOnly,
                "this property is read-only and must not be sent".to_owned(),
            )
        }
        ValidationErrorKind::OneOfNotValid { .. } => (
            FieldCode::OneOf,
            "matches none of the allowed shapes (oneOf)".to_owned(),
        ),
        ValidationErrorKind::OneOfMultipleValid { .. } => (
            FieldCode::OneOf,
            "matches more than one of the allowed shapes (oneOf)".to_owned(),
        ),
        ValidationErrorKind::AnyOf { .. } => (
            FieldCode::AnyOf,
            "matches none of the allowed shapes (anyOf)".to_owned(),
        ),
        ValidationErrorKind::FalseSchema => {
            (FieldCode::False, "no value is allowed here".to_owned())
        }
        other => (
            FieldCode::Schema,
            format!("breaks the `{}` rule", other.keyword()),
        ),
    }
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn list(options: &Value) -> String {
    match options {
        Value::Array(items) => {
            let mut shown: Vec<String> = items.iter().take(10).map(show).collect();
            if items.len() > 10 {
                shown.push("…".to_owned());
            }
            shown.join(", ")
        }
        other => show(other),
    }
}

pub(crate) fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiler(view: Value) -> Compiler {
        let view = Arc::new(view);
        let engine = Engine::new(&view, &[]);
        let registry = Compiler::registry(&engine).unwrap();
        Compiler::new(registry, &engine, view, Patterns::default())
    }

    fn built(check: &Check) -> bool {
        match check {
            Check::Schema(s) => s.is_built(),
            _ => panic!("expected a jsonschema check, got {check:?}"),
        }
    }

    fn pet_view() -> Value {
        serde_json::json!({"components": {"schemas": {
            "Pet": {
                "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                "discriminator": {"propertyName": "kind"}
            },
            "Cat": {"type": "object", "required": ["kind", "lives"],
                    "properties": {"kind": {"const": "Cat"}, "lives": {"type": "integer", "maximum": 9}}},
            "Dog": {"type": "object", "required": ["kind"],
                    "properties": {"kind": {"const": "Dog"}, "name": {"type": "string", "pattern": "^[A-Z]"}}}
        }}})
    }

    #[test]
    fn an_explaining_check_builds_its_validator_again_on_first_use_and_finds_the_same() {
        let at = "/components/schemas/Pet";
        let hot = compiler(pet_view()).compile(at).unwrap();
        let cold = compiler(pet_view()).compile_explaining(at).unwrap();
        assert!(built(&hot));
        assert!(!built(&cold), "built at start-up, then dropped");
        let table = [
            (serde_json::json!({"kind": "Cat", "lives": 3}), true),
            (serde_json::json!({"kind": "Cat", "lives": 12}), false),
            (serde_json::json!({"kind": "Dog", "name": "rex"}), false),
            (serde_json::json!({"kind": "Cow"}), false),
            (serde_json::json!({"lives": 1}), false),
        ];
        for (value, valid) in table {
            assert_eq!(cold.is_valid(&value), valid, "{value}");
            assert_eq!(hot.is_valid(&value), valid, "{value}");
            assert_eq!(
                cold.violations(&value, false),
                hot.violations(&value, false),
                "{value}"
            );
        }
        assert!(built(&cold), "kept once built again");
    }

    /// Once compiling ends the checks keep only what they reach of the view, and explain every
    /// failure as they did with the whole view: discriminator branches, `writeOnly` reached
    /// through `$ref`, patterns, an explaining check building its validator again.
    #[test]
    fn narrowed_checks_explain_as_with_the_whole_view() {
        let mut view = pet_view();
        let schemas = &mut view["components"]["schemas"];
        schemas["Owner"] = serde_json::json!({"type": "object", "properties": {
            "pet": {"$ref": "#/components/schemas/Pet"},
            "secret": {"$ref": "#/components/schemas/Secret"}
        }});
        schemas["Secret"] = serde_json::json!({"type": "object", "writeOnly": true,
            "properties": {"pin": {"type": "integer", "maximum": 9999}}});
        schemas["Unread"] = serde_json::json!({"type": "object", "minProperties": 3});
        view["paths"] = serde_json::json!({"/owners": {"post": {
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Owner"}
            }}}
        }}});
        let compiler = compiler(view);
        let hot = compiler.compile("/components/schemas/Owner").unwrap();
        let cold = compiler
            .compile_explaining("/components/schemas/Pet")
            .unwrap();
        let values = [
            serde_json::json!({"pet": {"kind": "Cow"}}),
            serde_json::json!({"pet": {"kind": "Cat", "lives": 12}}),
            serde_json::json!({"pet": {"kind": "Dog", "name": "rex"}}),
            serde_json::json!({"secret": {"pin": 123456}}),
            serde_json::json!({"pet": 3, "secret": []}),
        ];
        let before: Vec<_> = values.iter().map(|v| hot.violations(v, false)).collect();
        let narrowing = compiler
            .narrowing()
            .expect("pointers tell what the checks reach");
        drop(compiler);
        narrowing.apply().unwrap();
        let Check::Schema(check) = &hot else {
            panic!("expected a jsonschema check");
        };
        let narrowed = check.view();
        let kept: Vec<&String> = narrowed["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(kept, ["Cat", "Dog", "Owner", "Pet", "Secret"]);
        assert!(
            narrowed.get("paths").is_none(),
            "no check reads the operation"
        );
        for (value, before) in values.iter().zip(before) {
            assert_eq!(hot.violations(value, false), before, "{value}");
        }
        assert!(!built(&cold), "still dropped");
        let pet = serde_json::json!({"kind": "Dog", "name": "rex"});
        assert_eq!(
            cold.violations(&pet, false),
            vec![Violation {
                pointer: "/name".to_owned(),
                code: FieldCode::Pattern,
                detail: "does not match pattern `^[A-Z]`".to_owned(),
            }],
            "built again from the narrowed view"
        );
    }

    #[test]
    fn a_check_compiled_to_explain_is_warmed_when_a_later_use_runs_it_on_every_request() {
        let compiler = compiler(pet_view());
        let cold = compiler
            .compile_explaining("/components/schemas/Pet")
            .unwrap();
        assert!(!built(&cold));
        // The same schema, reached through another place that names it.
        let hot = compiler.compile("/components/schemas/Pet").unwrap();
        assert!(built(&hot) && built(&cold), "one shared check, now built");
    }

    /// The failed keyword's place in the view comes from the error's schema path under the
    /// request view's URI (jsonschema keeps no absolute location there) and from the absolute
    /// location inside a resource with an `$id`: a discriminator's explanation and a
    /// `writeOnly` value's secrecy read it either way.
    #[test]
    fn the_failed_keyword_is_found_inside_and_outside_schema_resources() {
        let mut view = pet_view();
        view["components"]["schemas"]["Secret"] = serde_json::json!({
            "type": "object",
            "properties": {"pin": {"type": "integer", "writeOnly": true, "maximum": 9999}}
        });
        let plain = compiler(view.clone());
        let mut with_ids = view;
        for name in ["Pet", "Cat", "Dog", "Secret"] {
            with_ids["components"]["schemas"][name]["$id"] =
                Value::String(format!("https://example.com/{name}"));
        }
        let with_ids = Arc::new(with_ids);
        let bases = [(String::new(), "file:///api/openapi.json".to_owned())];
        let engine = Engine::new(&with_ids, &bases);
        assert_eq!(engine.ids.len(), 4, "each `$id` is a resource");
        let registry = Compiler::registry(&engine).unwrap();
        let with_ids = Compiler::new(registry, &engine, with_ids, Patterns::default());
        let table = [
            (
                "/components/schemas/Pet",
                serde_json::json!({"kind": "Cow"}),
                (
                    FieldCode::Discriminator,
                    "/kind",
                    "`kind` must be one of `Cat`, `Dog`",
                ),
            ),
            (
                "/components/schemas/Pet",
                serde_json::json!({"kind": "Cat", "lives": 12}),
                (FieldCode::Maximum, "/lives", "expected ≤ 9, got `12`"),
            ),
            (
                "/components/schemas/Secret",
                serde_json::json!({"pin": 123456}),
                (
                    FieldCode::Maximum,
                    "/pin",
                    "expected ≤ 9999, got a hidden value",
                ),
            ),
        ];
        for (at, value, (code, pointer, detail)) in table {
            let expected = vec![Violation {
                pointer: pointer.to_owned(),
                code,
                detail: detail.to_owned(),
            }];
            for compiler in [&plain, &with_ids] {
                let check = compiler.compile(at).unwrap();
                assert_eq!(check.violations(&value, false), expected, "{at} {value}");
            }
        }
    }

    #[test]
    fn an_explaining_check_still_finds_the_schema_errors_at_start_up() {
        let view = serde_json::json!({"components": {"schemas": {
            "Bad": {"type": "object", "properties": {
                "a": {"type": "string", "pattern": "("},
                "b": {"$ref": "#/components/schemas/Missing"}
            }}
        }}});
        let at = "/components/schemas/Bad";
        let hot = compiler(view.clone()).compile(at).unwrap_err();
        let cold = compiler(view).compile_explaining(at).unwrap_err();
        assert!(!cold.is_empty());
        assert_eq!(cold, hot);
    }
}
