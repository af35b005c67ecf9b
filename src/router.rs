//! Matching request paths against OpenAPI path templates.
//!
//! A [`RouterBuilder`] collects path templates such as `/v1/pets/{petId}` or
//! `/files/{name}.{ext}` (already joined with the server base path), each with
//! a caller-chosen route id. [`Router::at`] then finds the template a request
//! path belongs to and returns the raw parameter values.
//!
//! # Template syntax
//!
//! A template starts with `/` and is split into segments at every `/`. A
//! parameter is written `{name}`; the name may hold any character except `{`,
//! `}` and `/`, must not be empty, and must not repeat within one template.
//! A segment is one of:
//!
//! - *static*: only literal text (possibly empty, as in `/a//b`),
//! - *parameter*: exactly one parameter and nothing else (`{petId}`),
//! - *mixed*: parameters sharing the segment with literal text or with other
//!   parameters (`{name}.{ext}`, `{year}-{month}`, `{id}.json`, `v{n}`).
//!
//! There is no catch-all and no escaping: `{*rest}` is an ordinary parameter
//! named `*rest`.
//!
//! # Matching
//!
//! - Matching is case-sensitive and byte-exact; nothing is percent-decoded.
//!   Parameter values are raw substrings of the request path, so `%2F` stays
//!   inside one value and the caller decodes after splitting.
//! - A parameter matches one or more characters and never a `/`: `/pets/`
//!   does not match `/pets/{id}`.
//! - A trailing slash is significant in [`Router::at`]; [`Router::at_lenient`]
//!   also accepts a path that differs by exactly one trailing slash.
//! - Within a mixed segment, parameters are filled from left to right and each
//!   takes the *shortest* non-empty value that still lets the rest of the
//!   segment match. So `{name}.{ext}` on `archive.tar.gz` gives
//!   `name = archive`, `ext = tar.gz`; `{year}-{month}` on `2024-05-01` gives
//!   `year = 2024`, `month = 05-01`; and `{id}.json` on `a.json.json` gives
//!   `id = a.json` (the last parameter of a segment always runs to its end).
//!
//! # Precedence rules
//!
//! A request path may match several templates (`/pets/mine` and
//! `/pets/{petId}`). Candidates always have the same number of segments as
//! the path, and the winner is chosen as follows:
//!
//! 1. Compare the templates segment by segment, from the left. At the first
//!    segment where they differ in kind, the more specific kind wins:
//!    static segment > mixed segment > parameter segment. So `/pets/mine`
//!    beats `/pets/{petId}`, `/files/{name}.{ext}` beats `/files/{file}`, and
//!    `/{a}.x/{b}` beats `/{c}/y` (the first segment decides).
//! 2. If every segment has the same kind, the template inserted first wins
//!    (for example `/f/{a}.{b}` and `/f/{c}-{d}` on `/f/x.y-z`).
//! 3. Insertion order never matters otherwise: a static segment beats a
//!    parameter whichever was inserted first.
//! 4. In [`Router::at_lenient`], an exact match always beats a match that
//!    needed the trailing slash added or removed.
//!
//! Two templates that are equal once parameter names are ignored
//! (`/pets/{id}` and `/pets/{name}`) conflict and the second is rejected with
//! [`RouteError::Conflict`].
//!
//! # Implementation
//!
//! Templates made only of static and parameter segments go into a
//! [`matchit`] router, whose static-before-parameter lookup with backtracking
//! implements rule 1 directly. Templates with a mixed segment are compiled
//! into anchored regular expressions (each parameter is `[^/]+?`) and grouped
//! by segment count into a [`regex::RegexSet`], so one pass finds all
//! candidates. matchit 0.9 can match one parameter with a prefix and/or
//! suffix inside a segment, but not two parameters in one segment, and its
//! own priority and conflict rules for such segments (longest suffix first;
//! prefixed and suffixed parameters at one position rejected as conflicting)
//! differ from the rules above, so every mixed template takes the regex path.
//!
//! The regexes define what a mixed template matches, not how it is usually
//! matched: up to sixteen templates of one segment count are each tried by a
//! short backtracking walk over the template's text and parameters, which
//! finds the same values as the regex's captures (each parameter the shortest
//! run after which the rest matches) in a few steps, where the regex's capture
//! engine costs thousands of instructions. More templates than that are
//! searched through the set first. The walk has a budget proportional to the
//! path's length; past it, the regex answers, so a lookup stays linear in the
//! path whatever a client sends.
//!
//! A lookup that resolves to a matchit route, or a walked regex route, with at
//! most four parameters allocates nothing in this module. Outside it: matchit
//! keeps a small heap stack when it walks past a static segment that has a
//! parameter sibling and holds more than three values on the heap, and the
//! regex engine builds a search cache once per thread. A bucket searched
//! through its set runs one `RegexSet::is_match` (no allocation once the cache
//! exists), and `RegexSet::matches` on a hit.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// How many parameter values [`Params`] keeps inline before using the heap.
const INLINE_PARAMS: usize = 4;

/// Compiled-size limit for one template's regex and for a bucket's set.
const REGEX_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// Error returned by [`RouterBuilder::insert`] and [`template_params`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// The template equals an already inserted one once parameter names are ignored.
    Conflict {
        /// The template being inserted.
        template: String,
        /// The template inserted earlier.
        existing: String,
        /// The id the earlier template was inserted under.
        existing_id: usize,
    },
    /// The template is malformed.
    Invalid {
        /// The offending template.
        template: String,
        /// What is wrong with it (lowercase).
        detail: String,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Conflict {
                template, existing, ..
            } => write!(
                f,
                "path template `{template}` conflicts with `{existing}` (they differ only in parameter names)"
            ),
            Self::Invalid { template, detail } => {
                write!(f, "invalid path template `{template}`: {detail}")
            }
        }
    }
}

impl std::error::Error for RouteError {}

/// Returns the parameter names of `template`, in order of appearance.
///
/// # Errors
///
/// [`RouteError::Invalid`] for a malformed template, exactly as
/// [`RouterBuilder::insert`] would report it.
pub fn template_params(template: &str) -> Result<Vec<&str>, RouteError> {
    parse(template).map(|parsed| parsed.names)
}

/// Collects path templates and builds a [`Router`].
#[derive(Debug, Default)]
pub struct RouterBuilder {
    /// Routes for exact matching, in insertion order.
    exact: TableBuilder,
    /// Normalized template (`{}` for every parameter) to index in `exact.routes`.
    keys: HashMap<String, usize>,
}

impl RouterBuilder {
    /// Creates an empty builder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `template` (a full OpenAPI path template, already joined with its
    /// server base path, e.g. `/v1/pets/{petId}`) under the caller's route `id`.
    ///
    /// Re-inserting the identical template string with the same id is a no-op.
    ///
    /// # Errors
    ///
    /// - [`RouteError::Conflict`] if the template equals an existing one once
    ///   parameter names are ignored (`/pets/{id}` then `/pets/{name}`).
    /// - [`RouteError::Invalid`] if the template is malformed: not starting
    ///   with `/`, unbalanced braces, an empty or repeated parameter name.
    pub fn insert(&mut self, template: &str, id: usize) -> Result<(), RouteError> {
        let parsed = parse(template)?;
        let key = parsed.normalized();
        if let Some(&existing) = self.keys.get(&key) {
            let existing = &self.exact.routes[existing];
            if &*existing.template == template && existing.id == id {
                return Ok(());
            }
            return Err(RouteError::Conflict {
                template: template.to_owned(),
                existing: existing.template.to_string(),
                existing_id: existing.id,
            });
        }
        self.exact
            .add(template, &parsed, id)
            .map_err(|detail| RouteError::Invalid {
                template: template.to_owned(),
                detail,
            })?;
        self.keys.insert(key, self.exact.routes.len() - 1);
        Ok(())
    }

    /// Finishes the router, including the trailing-slash-tolerant variant
    /// used by [`Router::at_lenient`].
    #[must_use]
    pub fn build(self) -> Router {
        let mut toggled = TableBuilder::default();
        let mut seen = HashSet::new();
        for route in &self.exact.routes {
            let Some(other) = toggle_trailing_slash(&route.template) else {
                continue;
            };
            let Ok(parsed) = parse(&other) else {
                continue;
            };
            let key = parsed.normalized();
            // A real template with that shape exists: the exact table serves it.
            // Two templates toggling to the same shape: the first one keeps it.
            if self.keys.contains_key(&key) || !seen.insert(key) {
                continue;
            }
            // The only possible failure is a regex size limit; that template
            // then simply does not tolerate the extra or missing slash.
            let _ = toggled.add(&other, &parsed, route.id);
        }
        Router {
            exact: self.exact.finish(),
            toggled: toggled.finish(),
        }
    }
}

/// Matches request paths against the inserted templates; see the module docs.
#[derive(Clone)]
pub struct Router {
    exact: Table,
    toggled: Table,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.exact.routes.iter().map(|r| (&r.template, r.id)))
            .finish()
    }
}

impl Router {
    /// Finds the route for `path` (the request path without the query, still
    /// percent-encoded). A trailing slash is significant.
    #[must_use]
    pub fn at<'p>(&'p self, path: &'p str) -> Option<Match<'p>> {
        self.exact.at(path)
    }

    /// Like [`Router::at`], but a path differing only by one trailing slash
    /// also matches: `/pets/` finds `/pets` and `/pets` finds `/pets/`.
    /// An exact match is preferred.
    #[must_use]
    pub fn at_lenient<'p>(&'p self, path: &'p str) -> Option<Match<'p>> {
        self.exact.at(path).or_else(|| self.toggled.at(path))
    }

    /// Number of inserted templates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.exact.routes.len()
    }

    /// Whether no template was inserted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.exact.routes.is_empty()
    }
}

/// A successful lookup.
#[derive(Clone, Debug)]
pub struct Match<'p> {
    /// The id given to [`RouterBuilder::insert`].
    pub id: usize,
    /// The parameter values.
    pub params: Params<'p>,
}

/// Raw (still percent-encoded) parameter values, borrowed from the request
/// path, in template order.
#[derive(Clone)]
pub struct Params<'p> {
    names: &'p [Box<str>],
    values: Values<'p>,
}

#[derive(Clone)]
enum Values<'p> {
    Inline([&'p str; INLINE_PARAMS], usize),
    Heap(Vec<&'p str>),
}

impl<'p> Params<'p> {
    fn for_names(names: &'p [Box<str>]) -> Self {
        let values = if names.len() <= INLINE_PARAMS {
            Values::Inline([""; INLINE_PARAMS], 0)
        } else {
            Values::Heap(Vec::with_capacity(names.len()))
        };
        Self { names, values }
    }

    fn push(&mut self, value: &'p str) {
        match &mut self.values {
            Values::Inline(buf, len) => {
                if let Some(slot) = buf.get_mut(*len) {
                    *slot = value;
                    *len += 1;
                }
            }
            Values::Heap(vec) => vec.push(value),
        }
    }

    /// Drops the values pushed after the first `len`.
    fn truncate(&mut self, len: usize) {
        match &mut self.values {
            Values::Inline(_, count) => *count = (*count).min(len),
            Values::Heap(vec) => vec.truncate(len),
        }
    }

    fn values(&self) -> &[&'p str] {
        match &self.values {
            Values::Inline(buf, len) => &buf[..*len],
            Values::Heap(vec) => vec,
        }
    }

    /// The same values under other names: those of a template that differs from the matched
    /// one only in its parameter names.
    #[must_use]
    pub fn renamed(self, names: &'p [Box<str>]) -> Self {
        Self {
            names,
            values: self.values,
        }
    }

    /// The raw value of parameter `name`, if the template has it.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&'p str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// `(name, raw value)` pairs in template order.
    pub fn iter(&self) -> impl Iterator<Item = (&'p str, &'p str)> {
        let names: &'p [Box<str>] = self.names;
        names
            .iter()
            .map(|n| &**n)
            .zip(self.values().iter().copied())
    }

    /// Number of parameters.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values().len()
    }

    /// Whether the template has no parameters.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values().is_empty()
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

// ---------------------------------------------------------------------------
// Template parsing

/// Specificity of a template segment; the derived order is the precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SegmentKind {
    Param,
    Mixed,
    Static,
}

#[derive(Clone, Copy, Debug)]
enum Piece<'t> {
    Text(&'t str),
    Param(&'t str),
}

/// A validated template: its segments (after the leading `/`) and parameter names.
#[derive(Debug)]
struct Parsed<'t> {
    segments: Vec<Vec<Piece<'t>>>,
    names: Vec<&'t str>,
}

fn parse(template: &str) -> Result<Parsed<'_>, RouteError> {
    let invalid = |detail: String| RouteError::Invalid {
        template: template.to_owned(),
        detail,
    };
    let Some(body) = template.strip_prefix('/') else {
        return Err(invalid("template must start with '/'".to_owned()));
    };
    let mut segments = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for raw in body.split('/') {
        let mut pieces = Vec::new();
        let mut rest = raw;
        while !rest.is_empty() {
            let Some(open) = rest.find(['{', '}']) else {
                pieces.push(Piece::Text(rest));
                break;
            };
            if open > 0 {
                pieces.push(Piece::Text(&rest[..open]));
            }
            if rest[open..].starts_with('}') {
                return Err(invalid("unbalanced '}'".to_owned()));
            }
            let after = &rest[open + 1..];
            let Some(close) = after.find(['{', '}']) else {
                return Err(invalid(
                    "unclosed '{' (a parameter cannot contain '/')".to_owned(),
                ));
            };
            if after[close..].starts_with('{') {
                return Err(invalid("nested '{' in a parameter".to_owned()));
            }
            let name = &after[..close];
            if name.is_empty() {
                return Err(invalid("empty parameter name".to_owned()));
            }
            if names.contains(&name) {
                return Err(invalid(format!("duplicate parameter name `{name}`")));
            }
            names.push(name);
            pieces.push(Piece::Param(name));
            rest = &after[close + 1..];
        }
        segments.push(pieces);
    }
    Ok(Parsed { segments, names })
}

fn segment_kind(pieces: &[Piece<'_>]) -> SegmentKind {
    match pieces {
        [Piece::Param(_)] => SegmentKind::Param,
        _ if pieces.iter().any(|p| matches!(p, Piece::Param(_))) => SegmentKind::Mixed,
        _ => SegmentKind::Static,
    }
}

impl Parsed<'_> {
    fn kinds(&self) -> Box<[SegmentKind]> {
        self.segments.iter().map(|s| segment_kind(s)).collect()
    }

    /// The template with every parameter written `{}`: equal keys conflict.
    fn normalized(&self) -> String {
        self.render(|_, _| "{}".to_owned(), str::to_owned)
    }

    /// Form for matchit: parameters renamed `{p0}`, `{p1}`, … so that any
    /// OpenAPI name (even `*rest`) is accepted.
    fn matchit_route(&self) -> String {
        self.render(|i, _| format!("{{p{i}}}"), str::to_owned)
    }

    /// Anchored regex: literal text escaped, each parameter `([^/]+?)`.
    fn regex_pattern(&self) -> String {
        let mut out = String::from("^");
        out.push_str(&self.render(|_, _| "([^/]+?)".to_owned(), regex::escape));
        out.push('$');
        out
    }

    fn render(
        &self,
        mut param: impl FnMut(usize, &str) -> String,
        mut text: impl FnMut(&str) -> String,
    ) -> String {
        let mut out = String::new();
        let mut index = 0;
        for segment in &self.segments {
            out.push('/');
            for piece in segment {
                match piece {
                    Piece::Text(t) => out.push_str(&text(t)),
                    Piece::Param(name) => {
                        out.push_str(&param(index, name));
                        index += 1;
                    }
                }
            }
        }
        out
    }
}

/// `/pets` → `/pets/`, `/pets/` → `/pets`; `None` for `/` (nothing to remove).
fn toggle_trailing_slash(template: &str) -> Option<String> {
    match template.strip_suffix('/') {
        Some("") => None,
        Some(shorter) => Some(shorter.to_owned()),
        None => Some(format!("{template}/")),
    }
}

fn count_slashes(path: &str) -> usize {
    path.bytes().filter(|&b| b == b'/').count()
}

// ---------------------------------------------------------------------------
// Route tables

#[derive(Clone, Debug)]
struct Route {
    /// The template as matched by this table.
    template: Box<str>,
    id: usize,
    names: Box<[Box<str>]>,
    kinds: Box<[SegmentKind]>,
}

impl Route {
    fn is_static(&self) -> bool {
        self.kinds.iter().all(|k| *k == SegmentKind::Static)
    }
}

/// A template compiled for the regex path.
#[derive(Clone, Debug)]
struct SlowRoute {
    /// Index in `Table::routes`.
    route: usize,
    regex: Regex,
    /// The template as text and parameters, `/`s in the text: what [`SlowRoute::capture`]
    /// reads instead of running the regex's capture engine.
    parts: Box<[Part]>,
}

/// A piece of a template on the regex path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(Box<str>),
    Param,
}

/// Regex routes of one segment count up to which each is tried in turn rather than through
/// the bucket's set.
const WALKED_BUCKET: usize = 16;

/// Steps [`SlowRoute::capture`] may take per byte of the path before the regex takes over.
const CAPTURE_STEPS_PER_BYTE: usize = 4;

/// The backtracking in [`SlowRoute::capture`] ran out of steps.
struct OutOfSteps;

impl SlowRoute {
    fn new(route: usize, regex: Regex, parsed: &Parsed<'_>) -> Self {
        let mut parts: Vec<Part> = Vec::new();
        let mut text = String::new();
        for segment in &parsed.segments {
            text.push('/');
            for piece in segment {
                match piece {
                    Piece::Text(t) => text.push_str(t),
                    Piece::Param(_) => {
                        if !text.is_empty() {
                            parts.push(Part::Text(std::mem::take(&mut text).into()));
                        }
                        parts.push(Part::Param);
                    }
                }
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text.into()));
        }
        Self {
            route,
            regex,
            parts: parts.into(),
        }
    }

    /// The parameters' values in `path`, as the anchored regex captures them, or `None` when
    /// it does not match.
    ///
    /// Each parameter is `([^/]+?)`: lazy, so its value is the shortest non-empty run without
    /// `/` after which the rest of the template matches. Trying the shortest first and
    /// backtracking finds what the regex engine's leftmost-first captures are, in a few steps
    /// for the paths routes see, where the regex's capture engine costs some thousand
    /// instructions. Adversarial input could make backtracking slow, so it is given a budget
    /// proportional to the path's length; past it, the regex (linear in the path) answers.
    fn capture<'p>(&self, path: &'p str, names: &'p [Box<str>]) -> Option<Params<'p>> {
        self.capture_within(path, names, CAPTURE_STEPS_PER_BYTE * path.len() + 16)
    }

    fn capture_within<'p>(
        &self,
        path: &'p str,
        names: &'p [Box<str>],
        mut steps: usize,
    ) -> Option<Params<'p>> {
        let mut params = Params::for_names(names);
        match walk(&self.parts, path, &mut params, &mut steps) {
            Ok(true) => Some(params),
            Ok(false) => None,
            Err(OutOfSteps) => {
                let caps = self.regex.captures(path)?;
                let mut params = Params::for_names(names);
                for group in caps.iter().skip(1) {
                    params.push(group.map_or("", |m| m.as_str()));
                }
                Some(params)
            }
        }
    }
}

/// Matches `parts` against all of `text`, pushing each parameter's value: the shortest first.
fn walk<'p>(
    parts: &[Part],
    text: &'p str,
    params: &mut Params<'p>,
    steps: &mut usize,
) -> Result<bool, OutOfSteps> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(text.is_empty());
    };
    let Part::Text(literal) = first else {
        // A parameter ends before the next `/`, one or more characters in.
        let run = text.find('/').unwrap_or(text.len());
        // The scan for `/` is paid for too, or long runs would make each step cost their length.
        *steps = steps.checked_sub(1 + run / 8).ok_or(OutOfSteps)?;
        if rest.is_empty() {
            // The last part: it takes the rest, which must be one run.
            if run == 0 || run != text.len() {
                return Ok(false);
            }
            params.push(text);
            return Ok(true);
        }
        let ends = text[..run]
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain((run > 0).then_some(run));
        for end in ends {
            *steps = steps.checked_sub(1).ok_or(OutOfSteps)?;
            let pushed = params.len();
            params.push(&text[..end]);
            if walk(rest, &text[end..], params, steps)? {
                return Ok(true);
            }
            params.truncate(pushed);
        }
        return Ok(false);
    };
    match text.strip_prefix(&**literal) {
        Some(after) => walk(rest, after, params, steps),
        None => Ok(false),
    }
}

/// Regex routes whose templates contain `slashes` slashes.
#[derive(Clone, Debug)]
struct Bucket {
    slashes: usize,
    /// Set over `entries` (same order); `None` for a bucket of at most `WALKED_BUCKET`
    /// entries, or if it exceeded the size limit.
    set: Option<RegexSet>,
    entries: Vec<SlowRoute>,
}

#[derive(Debug, Default)]
struct TableBuilder {
    routes: Vec<Route>,
    fast: matchit::Router<usize>,
    slow: Vec<SlowRoute>,
}

impl TableBuilder {
    /// Adds a parsed template; the error is a lowercase detail.
    fn add(&mut self, template: &str, parsed: &Parsed<'_>, id: usize) -> Result<(), String> {
        let index = self.routes.len();
        let kinds = parsed.kinds();
        if kinds.contains(&SegmentKind::Mixed) {
            let regex = RegexBuilder::new(&parsed.regex_pattern())
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|_| "template is too large to compile".to_owned())?;
            self.slow.push(SlowRoute::new(index, regex, parsed));
        } else {
            self.fast
                .insert(parsed.matchit_route(), index)
                .map_err(|err| match err {
                    matchit::InsertError::Conflict { .. } => {
                        "conflicts with another template in the path router".to_owned()
                    }
                    _ => "template is not supported by the path router".to_owned(),
                })?;
        }
        self.routes.push(Route {
            template: template.into(),
            id,
            names: parsed.names.iter().map(|n| Box::from(*n)).collect(),
            kinds,
        });
        Ok(())
    }

    fn finish(self) -> Table {
        let mut buckets: Vec<Bucket> = Vec::new();
        for slow in self.slow {
            let slashes = count_slashes(&self.routes[slow.route].template);
            match buckets.iter_mut().find(|b| b.slashes == slashes) {
                Some(bucket) => bucket.entries.push(slow),
                None => buckets.push(Bucket {
                    slashes,
                    set: None,
                    entries: vec![slow],
                }),
            }
        }
        // A bucket small enough to be walked never reads a set.
        for bucket in buckets
            .iter_mut()
            .filter(|b| b.entries.len() > WALKED_BUCKET)
        {
            bucket.set = RegexSetBuilder::new(bucket.entries.iter().map(|e| e.regex.as_str()))
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .ok();
        }
        Table {
            routes: self.routes,
            fast: self.fast,
            buckets,
        }
    }
}

#[derive(Clone, Debug)]
struct Table {
    /// In insertion order: a lower index wins ties.
    routes: Vec<Route>,
    fast: matchit::Router<usize>,
    buckets: Vec<Bucket>,
}

impl Table {
    /// Sort key of a route: larger is more specific (see "Precedence rules").
    fn rank(&self, route: usize) -> (&[SegmentKind], Reverse<usize>) {
        (&self.routes[route].kinds, Reverse(route))
    }

    fn at<'p>(&'p self, path: &'p str) -> Option<Match<'p>> {
        let fast = self.fast.at(path).ok();
        let fast_route = fast.as_ref().map(|m| *m.value);
        // A fully static template cannot be beaten by a regex template,
        // which has a mixed segment where this one has a static one.
        let fully_static = fast_route.is_some_and(|route| self.routes[route].is_static());
        if !fully_static && let Some(found) = self.best_slow(path, fast_route) {
            return Some(found);
        }
        let found = fast?;
        let route = &self.routes[*found.value];
        let mut params = Params::for_names(&route.names);
        for (_, value) in found.params.iter() {
            params.push(value);
        }
        Some(Match {
            id: route.id,
            params,
        })
    }

    /// The most specific regex route matching `path`, with its values, if it beats `current`.
    fn best_slow<'p>(&'p self, path: &'p str, current: Option<usize>) -> Option<Match<'p>> {
        if self.buckets.is_empty() {
            return None;
        }
        let slashes = count_slashes(path);
        let bucket = self.buckets.iter().find(|b| b.slashes == slashes)?;
        let capture = |entry: &'p SlowRoute| {
            let names = &self.routes[entry.route].names;
            Some((entry, entry.capture(path, names)?))
        };
        let by_rank = |a: &&SlowRoute, b: &&SlowRoute| self.rank(a.route).cmp(&self.rank(b.route));
        let best = match &bucket.set {
            // A few templates are each tried by the walk, which fails at the first text
            // that differs: cheaper than a pass of a set.
            None if bucket.entries.len() <= WALKED_BUCKET => {
                let mut best: Option<(&SlowRoute, Params<'p>)> = None;
                for entry in &bucket.entries {
                    if best
                        .as_ref()
                        .is_some_and(|(b, _)| self.rank(b.route) > self.rank(entry.route))
                    {
                        continue;
                    }
                    if let Some(found) = capture(entry) {
                        best = Some(found);
                    }
                }
                best
            }
            Some(set) => {
                if !set.is_match(path) {
                    return None;
                }
                set.matches(path)
                    .into_iter()
                    .filter_map(|i| bucket.entries.get(i))
                    .max_by(by_rank)
                    .and_then(capture)
            }
            None => bucket
                .entries
                .iter()
                .filter(|e| e.regex.is_match(path))
                .max_by(by_rank)
                .and_then(capture),
        };
        let (entry, params) = best?;
        if current.is_some_and(|current| self.rank(current) > self.rank(entry.route)) {
            return None;
        }
        Some(Match {
            id: self.routes[entry.route].id,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // -----------------------------------------------------------------------
    // Captures on the regex path

    /// The template compiled for the regex path, and its parameter names.
    fn slow_route(template: &str) -> (SlowRoute, Box<[Box<str>]>) {
        let parsed = parse(template).unwrap();
        let regex = Regex::new(&parsed.regex_pattern()).unwrap();
        let names = parsed.names.iter().map(|n| Box::from(*n)).collect();
        (SlowRoute::new(0, regex, &parsed), names)
    }

    /// What the anchored regex captures: the meaning `SlowRoute::capture` keeps.
    fn regex_captures<'p>(route: &SlowRoute, path: &'p str) -> Option<Vec<&'p str>> {
        let caps = route.regex.captures(path)?;
        Some(caps.iter().skip(1).map(|m| m.unwrap().as_str()).collect())
    }

    fn captured<'p>(
        route: &SlowRoute,
        names: &'p [Box<str>],
        path: &'p str,
        steps: Option<usize>,
    ) -> Option<Vec<&'p str>> {
        let params = match steps {
            Some(steps) => route.capture_within(path, names, steps),
            None => route.capture(path, names),
        }?;
        Some(params.values().to_vec())
    }

    #[test]
    fn mixed_segments_capture_what_the_lazy_regex_captures() {
        // (template, path, values): each parameter is `([^/]+?)`, the shortest non-empty
        // run after which the rest of the template matches.
        let rows: &[(&str, &str, Option<&[&str]>)] = &[
            ("/f/{a}.{b}", "/f/x.y.z", Some(&["x", "y.z"])),
            ("/f/{a}.{b}", "/f/x.", None),
            ("/f/{a}.{b}", "/f/.y", None),
            ("/{a}{b}", "/xyz", Some(&["x", "yz"])),
            ("/{a}{b}", "/x", None),
            ("/{a}-{b}-{c}", "/1-2-3-4", Some(&["1", "2", "3-4"])),
            ("/r/{y}-{m}", "/r/2026-", None),
            ("/v1/{name}:wait", "/v1/x:wait:wait", Some(&["x:wait"])),
            ("/v1/{name}:wait", "/v1/a/b:wait", None),
            ("/café/{a}é{b}", "/café/ééé", Some(&["é", "é"])),
            ("/p/{a}.json/{b}", "/p/v.json/x", Some(&["v", "x"])),
            ("/p/{a}.json/{b}", "/p/v.json/", None),
            ("/{a}.{b}/", "/x.y/", Some(&["x", "y"])),
            ("/{a}.{b}/", "/x.y", None),
        ];
        for (template, path, want) in rows {
            let (route, names) = slow_route(template);
            let want = want.map(<[&str]>::to_vec);
            assert_eq!(
                captured(&route, &names, path, None),
                want,
                "{template} on {path}"
            );
            assert_eq!(
                regex_captures(&route, path),
                want,
                "the regex: {template} on {path}"
            );
        }
    }

    /// Random templates and paths over a small alphabet: the walk, and the regex it falls back
    /// to when out of steps, agree with the regex's captures on every one.
    #[test]
    fn capture_agrees_with_the_regex_on_generated_templates() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: usize| rng.below(n);
        const TEXT: [&str; 6] = ["a", ".", "-", "é", ":", "ab"];
        let (mut matched, mut fell_back) = (0, 0);
        for _ in 0..1000 {
            let mut template = String::new();
            let mut params = 0;
            for _ in 0..1 + next(3) {
                template.push('/');
                for _ in 0..1 + next(4) {
                    if next(2) == 0 {
                        template.push_str(&format!("{{p{params}}}"));
                        params += 1;
                    } else {
                        template.push_str(TEXT[next(TEXT.len())]);
                    }
                }
            }
            let (route, names) = slow_route(&template);
            for _ in 0..8 {
                // Half the paths fill the template in, the others are any text.
                let path = if next(2) == 0 {
                    let mut path = String::new();
                    for part in &route.parts {
                        match part {
                            Part::Text(text) => path.push_str(text),
                            Part::Param => {
                                for _ in 0..1 + next(4) {
                                    path.push_str(TEXT[next(TEXT.len())]);
                                }
                            }
                        }
                    }
                    path
                } else {
                    let mut path = String::new();
                    for _ in 0..1 + next(3) {
                        path.push('/');
                        for _ in 0..next(7) {
                            path.push_str(TEXT[next(TEXT.len())]);
                        }
                    }
                    path
                };
                let want = regex_captures(&route, &path);
                matched += usize::from(want.is_some());
                assert_eq!(
                    captured(&route, &names, &path, None),
                    want,
                    "{template} on {path}"
                );
                // Without steps, the regex answers.
                assert_eq!(
                    captured(&route, &names, &path, Some(0)),
                    want,
                    "{template} on {path}, out of steps"
                );
                let mut params = Params::for_names(&names);
                fell_back += usize::from(walk(&route.parts, &path, &mut params, &mut 0).is_err());
            }
        }
        // The generator reaches both answers and the fallback.
        assert!(
            matched > 1000 && matched < 7000,
            "{matched} of 8000 matched"
        );
        assert!(fell_back > 0);
    }

    /// A path that makes backtracking try every split: the walk stops within its budget, the
    /// regex answers.
    #[test]
    fn backtracking_is_bounded_by_the_path_length() {
        let (route, names) = slow_route("/{a}{b}{c}{d}x");
        let path = format!("/{}", "y".repeat(4000));
        let mut params = Params::for_names(&names);
        let mut steps = CAPTURE_STEPS_PER_BYTE * path.len() + 16;
        assert!(walk(&route.parts, &path, &mut params, &mut steps).is_err());
        assert_eq!(route.capture(&path, &names).map(|p| p.len()), None);
        let path = format!("{path}x");
        let values = captured(&route, &names, &path, None).unwrap();
        assert_eq!(values[..3], ["y", "y", "y"]);
        assert_eq!(values[3].len(), 3997);
    }

    // -----------------------------------------------------------------------
    // Insert table

    enum Expect {
        Ok,
        /// The `existing` template named by the conflict.
        Conflict(&'static str),
        /// A substring of the detail.
        Invalid(&'static str),
    }

    /// `(templates with ids, expectation for the last insert)`; earlier inserts must succeed.
    type InsertRow = (&'static [(&'static str, usize)], Expect);

    const INSERT_TABLE: &[InsertRow] = &[
        (&[("/pets", 0)], Expect::Ok),
        (&[("/", 0)], Expect::Ok),
        (&[("/v1/pets/{petId}", 0)], Expect::Ok),
        (&[("/files/{name}.{ext}", 0)], Expect::Ok),
        (&[("/reports/{year}-{month}", 0)], Expect::Ok),
        (&[("/a/{x}/b", 0)], Expect::Ok),
        (&[("/{a}{b}", 0)], Expect::Ok),
        (&[("/{*rest}", 0)], Expect::Ok),
        (&[("/a//b", 0)], Expect::Ok),
        (&[("/café/{ü}", 0)], Expect::Ok),
        (&[("/pets/{id}", 0), ("/pets/mine", 1)], Expect::Ok),
        (&[("/pets/mine", 0), ("/pets/{id}", 1)], Expect::Ok),
        (&[("/pets/{id}", 0), ("/pets/{id}/", 1)], Expect::Ok),
        (&[("/pets/{id}", 0), ("/pets/{id}.json", 1)], Expect::Ok),
        (&[("/f/{a}.{b}", 0), ("/f/{a}-{b}", 1)], Expect::Ok),
        (&[("/x/{a}.json", 0), ("/x/v{a}", 1)], Expect::Ok),
        (&[("/v1/pets/{id}", 0), ("/v2/pets/{id}", 1)], Expect::Ok),
        // identical template and id again: no-op
        (&[("/pets/{id}", 3), ("/pets/{id}", 3)], Expect::Ok),
        (
            &[("/pets/{id}", 0), ("/pets/{name}", 1)],
            Expect::Conflict("/pets/{id}"),
        ),
        (
            &[("/pets/{id}", 0), ("/pets/{id}", 1)],
            Expect::Conflict("/pets/{id}"),
        ),
        (&[("/pets", 0), ("/pets", 1)], Expect::Conflict("/pets")),
        (
            &[("/files/{a}.{b}", 0), ("/files/{c}.{d}", 1)],
            Expect::Conflict("/files/{a}.{b}"),
        ),
        (
            &[("/a/{x}/b/{y}", 0), ("/c", 1), ("/a/{p}/b/{q}", 2)],
            Expect::Conflict("/a/{x}/b/{y}"),
        ),
        (&[("pets", 0)], Expect::Invalid("must start with '/'")),
        (&[("", 0)], Expect::Invalid("must start with '/'")),
        (&[("{id}", 0)], Expect::Invalid("must start with '/'")),
        (&[("/pets/{id", 0)], Expect::Invalid("unclosed '{'")),
        (&[("/pets/{", 0)], Expect::Invalid("unclosed '{'")),
        (&[("/pets/{a/b}", 0)], Expect::Invalid("unclosed '{'")),
        (&[("/pets/id}", 0)], Expect::Invalid("unbalanced '}'")),
        (&[("/pets/}{id}", 0)], Expect::Invalid("unbalanced '}'")),
        (&[("/pets/{{id}}", 0)], Expect::Invalid("nested '{'")),
        (&[("/pets/{}", 0)], Expect::Invalid("empty parameter name")),
        (
            &[("/pets/{}.json", 0)],
            Expect::Invalid("empty parameter name"),
        ),
        (
            &[("/a/{id}/b/{id}", 0)],
            Expect::Invalid("duplicate parameter name `id`"),
        ),
        (
            &[("/{a}.{a}", 0)],
            Expect::Invalid("duplicate parameter name `a`"),
        ),
    ];

    #[test]
    fn insert_table() {
        let mut failures = Vec::new();
        for (row, (inserts, expect)) in INSERT_TABLE.iter().enumerate() {
            let mut builder = RouterBuilder::new();
            let (last, earlier) = inserts.split_last().expect("row has an insert");
            for (template, id) in earlier {
                if let Err(err) = builder.insert(template, *id) {
                    failures.push(format!(
                        "row {row}: setup insert {template:?} failed: {err}"
                    ));
                }
            }
            let got = builder.insert(last.0, last.1);
            let ok = match (expect, &got) {
                (Expect::Ok, Ok(())) => true,
                (
                    Expect::Conflict(want),
                    Err(RouteError::Conflict {
                        template, existing, ..
                    }),
                ) => template == last.0 && existing == want,
                (Expect::Invalid(want), Err(RouteError::Invalid { template, detail })) => {
                    template == last.0 && detail.contains(want) && *detail == detail.to_lowercase()
                }
                _ => false,
            };
            if !ok {
                failures.push(format!("row {row}: inserting {inserts:?} gave {got:?}"));
            }
            // template_params agrees with insert on validity.
            if matches!(expect, Expect::Invalid(_)) != template_params(last.0).is_err() {
                failures.push(format!(
                    "row {row}: template_params disagrees on {:?}",
                    last.0
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn template_params_in_order() {
        assert_eq!(
            template_params("/v1/{a}/x/{b}.{c}").unwrap(),
            ["a", "b", "c"]
        );
        assert!(template_params("/pets").unwrap().is_empty());
        assert!(template_params("/{x}/{x}").is_err());
    }

    #[test]
    fn error_messages_are_lowercase_and_name_both_templates() {
        let mut builder = RouterBuilder::new();
        builder.insert("/pets/{id}", 0).unwrap();
        let err = builder.insert("/pets/{name}", 1).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/pets/{id}") && text.contains("/pets/{name}"),
            "{text}"
        );
        assert!(text.starts_with("path template"), "{text}");
        let err = builder.insert("/x/{", 2).unwrap_err().to_string();
        assert!(err.starts_with("invalid path template `/x/{`:"), "{err}");
        let _: &dyn std::error::Error = &RouteError::Invalid {
            template: String::new(),
            detail: String::new(),
        };
    }

    // -----------------------------------------------------------------------
    // Match table

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Mode {
        Strict,
        Lenient,
    }
    use Mode::{Lenient, Strict};

    type Expected = Option<(&'static str, &'static [(&'static str, &'static str)])>;
    /// `(templates in insertion order, request path, mode, expected template and params)`.
    type MatchRow = (&'static [&'static str], &'static str, Mode, Expected);

    const PETS: &[&str] = &["/pets", "/pets/mine", "/pets/{petId}", "/pets/{petId}/toys"];
    const PETS_REV: &[&str] = &["/pets/{petId}/toys", "/pets/{petId}", "/pets/mine", "/pets"];

    const MATCH_TABLE: &[MatchRow] = &[
        // static vs parameter, both insertion orders
        (PETS, "/pets/mine", Strict, Some(("/pets/mine", &[]))),
        (PETS_REV, "/pets/mine", Strict, Some(("/pets/mine", &[]))),
        (
            PETS,
            "/pets/42",
            Strict,
            Some(("/pets/{petId}", &[("petId", "42")])),
        ),
        (
            PETS_REV,
            "/pets/42",
            Strict,
            Some(("/pets/{petId}", &[("petId", "42")])),
        ),
        (
            PETS,
            "/pets/mine/toys",
            Strict,
            Some(("/pets/{petId}/toys", &[("petId", "mine")])),
        ),
        (
            PETS_REV,
            "/pets/mine/toys",
            Strict,
            Some(("/pets/{petId}/toys", &[("petId", "mine")])),
        ),
        (PETS, "/pets", Strict, Some(("/pets", &[]))),
        (
            PETS,
            "/pets/mines",
            Strict,
            Some(("/pets/{petId}", &[("petId", "mines")])),
        ),
        (
            PETS,
            "/pets/min",
            Strict,
            Some(("/pets/{petId}", &[("petId", "min")])),
        ),
        (PETS, "/pets/42/food", Strict, None),
        // matchit backtracking: static segment first, then the parameter
        (
            &["/a/b/c", "/a/{x}/d"],
            "/a/b/d",
            Strict,
            Some(("/a/{x}/d", &[("x", "b")])),
        ),
        (
            &["/a/{x}/d", "/a/b/c"],
            "/a/b/c",
            Strict,
            Some(("/a/b/c", &[])),
        ),
        (
            &["/{x}/b", "/a/{y}"],
            "/a/b",
            Strict,
            Some(("/a/{y}", &[("y", "b")])),
        ),
        (
            &["/a/{y}", "/{x}/b"],
            "/a/b",
            Strict,
            Some(("/a/{y}", &[("y", "b")])),
        ),
        // mixed segments
        (
            &["/items/{id}.json"],
            "/items/7.json",
            Strict,
            Some(("/items/{id}.json", &[("id", "7")])),
        ),
        (&["/items/{id}.json"], "/items/7.xml", Strict, None),
        (&["/items/{id}.json"], "/items/.json", Strict, None),
        (&["/items/{id}.json"], "/items/7.json/", Strict, None),
        (
            &["/items/{id}.json"],
            "/items/a.json.json",
            Strict,
            Some(("/items/{id}.json", &[("id", "a.json")])),
        ),
        (
            &["/img-{id}.png"],
            "/img-1.png",
            Strict,
            Some(("/img-{id}.png", &[("id", "1")])),
        ),
        (&["/img-{id}.png"], "/img-.png", Strict, None),
        (
            &["/x/v{n}"],
            "/x/v2",
            Strict,
            Some(("/x/v{n}", &[("n", "2")])),
        ),
        (&["/x/v{n}"], "/x/v", Strict, None),
        // several parameters in one segment: shortest-first from the left
        (
            &["/files/{name}.{ext}"],
            "/files/archive.tar.gz",
            Strict,
            Some((
                "/files/{name}.{ext}",
                &[("name", "archive"), ("ext", "tar.gz")],
            )),
        ),
        (&["/files/{name}.{ext}"], "/files/.gz", Strict, None),
        (&["/files/{name}.{ext}"], "/files/a.", Strict, None),
        (&["/files/{name}.{ext}"], "/files/..", Strict, None),
        (
            &["/files/{name}.{ext}"],
            "/files/...",
            Strict,
            Some(("/files/{name}.{ext}", &[("name", "."), ("ext", ".")])),
        ),
        (
            &["/reports/{year}-{month}"],
            "/reports/2024-05",
            Strict,
            Some((
                "/reports/{year}-{month}",
                &[("year", "2024"), ("month", "05")],
            )),
        ),
        (
            &["/reports/{year}-{month}"],
            "/reports/2024-05-01",
            Strict,
            Some((
                "/reports/{year}-{month}",
                &[("year", "2024"), ("month", "05-01")],
            )),
        ),
        (&["/reports/{year}-{month}"], "/reports/2024", Strict, None),
        (&["/reports/{year}-{month}"], "/reports/-05", Strict, None),
        (
            &["/{a}{b}"],
            "/xyz",
            Strict,
            Some(("/{a}{b}", &[("a", "x"), ("b", "yz")])),
        ),
        (&["/{a}{b}"], "/x", Strict, None),
        (
            &["/{a}.{b}.{c}.{d}.{e}"],
            "/1.2.3.4.5.6",
            Strict,
            Some((
                "/{a}.{b}.{c}.{d}.{e}",
                &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5.6")],
            )),
        ),
        (
            &["/m/{a}.{b}/n/{c}-{d}/{e}"],
            "/m/1.2/n/3-4/5",
            Strict,
            Some((
                "/m/{a}.{b}/n/{c}-{d}/{e}",
                &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")],
            )),
        ),
        // regex metacharacters in static text are literal
        (
            &["/files/{n}(1).{e}"],
            "/files/a(1).b",
            Strict,
            Some(("/files/{n}(1).{e}", &[("n", "a"), ("e", "b")])),
        ),
        (&["/files/{n}(1).{e}"], "/files/a1.b", Strict, None),
        (&["/v1.0/{n}.json"], "/v1x0/a.json", Strict, None),
        (
            &["/v1.0/{n}.json"],
            "/v1.0/a.json",
            Strict,
            Some(("/v1.0/{n}.json", &[("n", "a")])),
        ),
        (&["/v1.0/{id}"], "/v1x0/1", Strict, None),
        (
            &["/a+b/{n}.*"],
            "/a+b/x.*",
            Strict,
            Some(("/a+b/{n}.*", &[("n", "x")])),
        ),
        (&["/a+b/{n}.*"], "/aab/x.y", Strict, None),
        // matchit route vs regex route: the more specific segment wins
        (
            &["/files/{id}", "/files/{name}.{ext}"],
            "/files/a.b",
            Strict,
            Some(("/files/{name}.{ext}", &[("name", "a"), ("ext", "b")])),
        ),
        (
            &["/files/{name}.{ext}", "/files/{id}"],
            "/files/a.b",
            Strict,
            Some(("/files/{name}.{ext}", &[("name", "a"), ("ext", "b")])),
        ),
        (
            &["/files/{id}", "/files/{name}.{ext}"],
            "/files/ab",
            Strict,
            Some(("/files/{id}", &[("id", "ab")])),
        ),
        (
            &["/files/{name}.{ext}", "/files/readme.txt"],
            "/files/readme.txt",
            Strict,
            Some(("/files/readme.txt", &[])),
        ),
        (
            &["/files/readme.txt", "/files/{name}.{ext}"],
            "/files/readme.txt",
            Strict,
            Some(("/files/readme.txt", &[])),
        ),
        (
            &["/items/{id}", "/items/{id}.json"],
            "/items/7.json",
            Strict,
            Some(("/items/{id}.json", &[("id", "7")])),
        ),
        (
            &["/items/{id}.json", "/items/{id}"],
            "/items/7.json",
            Strict,
            Some(("/items/{id}.json", &[("id", "7")])),
        ),
        // leftmost differing segment decides
        (
            &["/{c}/y", "/{a}.x/{b}"],
            "/q.x/y",
            Strict,
            Some(("/{a}.x/{b}", &[("a", "q"), ("b", "y")])),
        ),
        (
            &["/{a}.x/{b}", "/{c}/y"],
            "/q.x/y",
            Strict,
            Some(("/{a}.x/{b}", &[("a", "q"), ("b", "y")])),
        ),
        (
            &["/a/{x}/static", "/a/{y}.json/{z}"],
            "/a/v.json/static",
            Strict,
            Some(("/a/{y}.json/{z}", &[("y", "v"), ("z", "static")])),
        ),
        (
            &["/a/{y}.json/{z}", "/a/v.json/{w}"],
            "/a/v.json/q",
            Strict,
            Some(("/a/v.json/{w}", &[("w", "q")])),
        ),
        (
            &["/a/{y}.json/b", "/a/{x}/{z}.c"],
            "/a/v.json/b",
            Strict,
            Some(("/a/{y}.json/b", &[("y", "v")])),
        ),
        (
            &["/a/{x}/b", "/a/{y}.json/{z}"],
            "/a/v.json/b",
            Strict,
            Some(("/a/{y}.json/{z}", &[("y", "v"), ("z", "b")])),
        ),
        // equal kinds: first inserted wins
        (
            &["/f/{a}.{b}", "/f/{c}-{d}"],
            "/f/x.y-z",
            Strict,
            Some(("/f/{a}.{b}", &[("a", "x"), ("b", "y-z")])),
        ),
        (
            &["/f/{c}-{d}", "/f/{a}.{b}"],
            "/f/x.y-z",
            Strict,
            Some(("/f/{c}-{d}", &[("c", "x.y"), ("d", "z")])),
        ),
        (
            &["/x/{a}.json", "/x/v{a}"],
            "/x/v1.json",
            Strict,
            Some(("/x/{a}.json", &[("a", "v1")])),
        ),
        (
            &["/x/v{a}", "/x/{a}.json"],
            "/x/v1.json",
            Strict,
            Some(("/x/v{a}", &[("a", "1.json")])),
        ),
        // trailing slash: strict
        (&["/pets"], "/pets/", Strict, None),
        (&["/pets/"], "/pets", Strict, None),
        (
            &["/pets", "/pets/"],
            "/pets/",
            Strict,
            Some(("/pets/", &[])),
        ),
        (&["/pets/{id}"], "/pets/5/", Strict, None),
        // trailing slash: lenient
        (&["/pets"], "/pets/", Lenient, Some(("/pets", &[]))),
        (&["/pets/"], "/pets", Lenient, Some(("/pets/", &[]))),
        (&["/pets"], "/pets//", Lenient, None),
        (
            &["/pets", "/pets/"],
            "/pets/",
            Lenient,
            Some(("/pets/", &[])),
        ),
        (&["/pets", "/pets/"], "/pets", Lenient, Some(("/pets", &[]))),
        (
            &["/pets/{id}"],
            "/pets/5/",
            Lenient,
            Some(("/pets/{id}", &[("id", "5")])),
        ),
        (
            &["/pets/{id}/"],
            "/pets/5",
            Lenient,
            Some(("/pets/{id}/", &[("id", "5")])),
        ),
        (&["/pets/{id}"], "/pets/", Lenient, None),
        (
            &["/pets", "/pets/{id}"],
            "/pets/",
            Lenient,
            Some(("/pets", &[])),
        ),
        (
            &["/pets/{id}", "/pets/mine/"],
            "/pets/mine",
            Lenient,
            Some(("/pets/{id}", &[("id", "mine")])),
        ),
        (
            &["/pets/{id}", "/pets/mine/"],
            "/pets/mine/",
            Lenient,
            Some(("/pets/mine/", &[])),
        ),
        (
            &["/files/{n}.{e}"],
            "/files/a.b/",
            Lenient,
            Some(("/files/{n}.{e}", &[("n", "a"), ("e", "b")])),
        ),
        (
            &["/files/{n}.{e}/"],
            "/files/a.b",
            Lenient,
            Some(("/files/{n}.{e}/", &[("n", "a"), ("e", "b")])),
        ),
        (&["/files/{n}.{e}"], "/files/a.b/", Strict, None),
        (&["/"], "/", Lenient, Some(("/", &[]))),
        (&["/"], "", Lenient, None),
        (&["/"], "//", Lenient, None),
        (&["/a", "/a//"], "/a/", Lenient, Some(("/a", &[]))),
        // case sensitivity
        (&["/Pets"], "/pets", Strict, None),
        (&["/pets/{id}"], "/PETS/1", Strict, None),
        (
            &["/pets/{id}"],
            "/pets/AbC",
            Strict,
            Some(("/pets/{id}", &[("id", "AbC")])),
        ),
        (&["/f/{n}.JSON"], "/f/a.json", Strict, None),
        // encoded slash stays in one value, returned raw
        (
            &["/files/{name}"],
            "/files/a%2Fb",
            Strict,
            Some(("/files/{name}", &[("name", "a%2Fb")])),
        ),
        (&["/files/{name}"], "/files/a/b", Strict, None),
        (
            &["/files/{n}.{e}"],
            "/files/a%2Fb.txt",
            Strict,
            Some(("/files/{n}.{e}", &[("n", "a%2Fb"), ("e", "txt")])),
        ),
        (&["/files/{n}.{e}"], "/files/a/b.txt", Strict, None),
        (&["/a%20b"], "/a%20b", Strict, Some(("/a%20b", &[]))),
        (&["/a%20b"], "/a b", Strict, None),
        // empty segments
        (&["/pets/{id}"], "/pets/", Strict, None),
        (&["/pets/{id}"], "/pets//", Strict, None),
        (&["/a/{x}/b"], "/a//b", Strict, None),
        (
            &["/a/{x}/b"],
            "/a/x/b",
            Strict,
            Some(("/a/{x}/b", &[("x", "x")])),
        ),
        (&["/a//b"], "/a//b", Strict, Some(("/a//b", &[]))),
        (&["/a//b"], "/a/b", Strict, None),
        (&["/{x}"], "//", Strict, None),
        (&["/a/{x}.{y}/b"], "/a//b", Strict, None),
        // root
        (&["/"], "/", Strict, Some(("/", &[]))),
        (&["/", "/{x}"], "/", Strict, Some(("/", &[]))),
        (&["/{x}", "/"], "/", Strict, Some(("/", &[]))),
        (&["/", "/{x}"], "/a", Strict, Some(("/{x}", &[("x", "a")]))),
        (&["/{x}"], "/", Strict, None),
        (&["/pets"], "/", Strict, None),
        // base path prefixes
        (
            &["/v1/pets/{id}", "/v2/pets/{id}"],
            "/v2/pets/3",
            Strict,
            Some(("/v2/pets/{id}", &[("id", "3")])),
        ),
        (
            &["/v1/pets/{id}", "/v2/pets/{id}"],
            "/v3/pets/3",
            Strict,
            None,
        ),
        (&["/v1/pets/{id}"], "/pets/3", Strict, None),
        (
            &["/api/v2/files/{n}.{e}", "/api/v2/files/{id}"],
            "/api/v2/files/a.b",
            Strict,
            Some(("/api/v2/files/{n}.{e}", &[("n", "a"), ("e", "b")])),
        ),
        // odd request paths
        (&["/pets/{id}"], "", Strict, None),
        (&["/pets/{id}"], "pets/1", Strict, None),
        (
            &["/pets/{id}"],
            "/pets/{id}",
            Strict,
            Some(("/pets/{id}", &[("id", "{id}")])),
        ),
        (
            &["/pets/{id}.json"],
            "/pets/{x}.json",
            Strict,
            Some(("/pets/{id}.json", &[("id", "{x}")])),
        ),
        (
            &["/pets/{id}"],
            "/pets/}{",
            Strict,
            Some(("/pets/{id}", &[("id", "}{")])),
        ),
        (&["/{*rest}"], "/a/b", Strict, None),
        (
            &["/{*rest}"],
            "/x",
            Strict,
            Some(("/{*rest}", &[("*rest", "x")])),
        ),
        (
            &["/café/{x}"],
            "/café/é",
            Strict,
            Some(("/café/{x}", &[("x", "é")])),
        ),
        (&["/café/{x}"], "/cafe/é", Strict, None),
        (
            &["/é/{x}", "/è/{x}"],
            "/è/1",
            Strict,
            Some(("/è/{x}", &[("x", "1")])),
        ),
        (
            &["/n/{a}.{b}"],
            "/n/日本.語",
            Strict,
            Some(("/n/{a}.{b}", &[("a", "日本"), ("b", "語")])),
        ),
        (
            &["/p/{a}/{b}/{c}/{d}/{e}/{f}"],
            "/p/1/2/3/4/5/6",
            Strict,
            Some((
                "/p/{a}/{b}/{c}/{d}/{e}/{f}",
                &[
                    ("a", "1"),
                    ("b", "2"),
                    ("c", "3"),
                    ("d", "4"),
                    ("e", "5"),
                    ("f", "6"),
                ],
            )),
        ),
        (&[], "/anything", Strict, None),
        (&[], "/anything", Lenient, None),
    ];

    fn build(templates: &[&str]) -> Router {
        let mut builder = RouterBuilder::new();
        for (id, template) in templates.iter().enumerate() {
            builder
                .insert(template, id)
                .unwrap_or_else(|e| panic!("insert {template:?}: {e}"));
        }
        builder.build()
    }

    fn describe(templates: &[&str], m: Option<&Match<'_>>) -> String {
        match m {
            None => "no match".to_owned(),
            Some(m) => format!(
                "{:?} {:?}",
                templates.get(m.id),
                m.params.iter().collect::<Vec<_>>()
            ),
        }
    }

    #[test]
    fn match_table() {
        let mut failures = Vec::new();
        for (row, (templates, path, mode, expected)) in MATCH_TABLE.iter().enumerate() {
            let router = build(templates);
            let got = match mode {
                Strict => router.at(path),
                Lenient => router.at_lenient(path),
            };
            let ok = match (expected, &got) {
                (None, None) => true,
                (Some((template, params)), Some(m)) => {
                    templates.get(m.id) == Some(template)
                        && m.params.iter().eq(params.iter().copied())
                        && m.params.len() == params.len()
                        && params.iter().all(|(k, v)| m.params.get(k) == Some(*v))
                }
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "row {row}: templates {templates:?}, {mode:?} path {path:?}: expected {expected:?}, got {}",
                    describe(templates, got.as_ref())
                ));
            }
            // A strict match is always a lenient match too.
            if *mode == Strict && got.is_some() {
                let lenient = router.at_lenient(path).map(|m| m.id);
                if lenient != got.as_ref().map(|m| m.id) {
                    failures.push(format!(
                        "row {row}: at_lenient disagrees with at on {path:?}"
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn router_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Router>();
    }

    #[test]
    fn params_accessors() {
        let router = build(&["/a/{x}/{y}", "/p/{a}/{b}/{c}/{d}/{e}"]);
        let m = router.at("/a/1/2").unwrap();
        assert_eq!(m.params.len(), 2);
        assert!(!m.params.is_empty());
        assert_eq!(m.params.get("y"), Some("2"));
        assert_eq!(m.params.get("z"), None);
        assert_eq!(format!("{:?}", m.params), r#"{"x": "1", "y": "2"}"#);
        let m = router.at("/p/1/2/3/4/5").unwrap();
        assert_eq!(m.params.len(), 5);
        assert_eq!(m.params.get("e"), Some("5"));
        let router = build(&["/static"]);
        assert!(router.at("/static").unwrap().params.is_empty());
        assert_eq!(router.len(), 1);
        assert!(!router.is_empty());
        assert!(format!("{router:?}").contains("/static"));
    }

    #[test]
    fn caller_decodes_after_splitting() {
        let router = build(&["/files/{name}"]);
        let raw = router
            .at("/files/a%2Fb%20c")
            .unwrap()
            .params
            .get("name")
            .unwrap();
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, "a/b c");
    }

    // -----------------------------------------------------------------------
    // A large generated API

    fn large_api() -> Vec<String> {
        let mut templates = Vec::new();
        for r in 0..50 {
            let base = format!("/v1/res{r}");
            templates.push(base.clone());
            templates.push(format!("{base}/search"));
            templates.push(format!("{base}/{{id}}"));
            templates.push(format!("{base}/{{id}}.json"));
            templates.push(format!("{base}/{{id}}/export.{{fmt}}"));
            for s in 0..4 {
                templates.push(format!("{base}/{{id}}/sub{s}"));
                templates.push(format!("{base}/{{id}}/sub{s}/{{subId}}"));
            }
        }
        templates
    }

    /// A request path for `template`: every parameter `name` gets `v-name-{salt}`.
    fn concrete(template: &str, salt: usize) -> String {
        let parsed = parse(template).unwrap();
        parsed.render(|_, name| format!("v-{name}-{salt}"), str::to_owned)
    }

    #[test]
    fn large_api_routes_correctly() {
        let templates = large_api();
        assert!(templates.len() >= 600, "{}", templates.len());
        let mut builder = RouterBuilder::new();
        for (id, t) in templates.iter().enumerate() {
            builder.insert(t, id).unwrap();
        }
        let router = builder.build();
        let mut failures = Vec::new();
        for (id, t) in templates.iter().enumerate() {
            let path = concrete(t, id);
            let expect_names = template_params(t).unwrap();
            for (lenient, probe) in [(false, path.clone()), (true, format!("{path}/"))] {
                let got = if lenient {
                    router.at_lenient(&probe)
                } else {
                    router.at(&probe)
                };
                let ok = got.as_ref().is_some_and(|m| {
                    m.id == id
                        && m.params
                            .iter()
                            .map(|(k, _)| k)
                            .eq(expect_names.iter().copied())
                        && m.params.iter().all(|(k, v)| v == format!("v-{k}-{id}"))
                });
                if !ok {
                    let got = got.map(|m| (templates[m.id].clone(), format!("{:?}", m.params)));
                    failures.push(format!("{t} via {probe:?}: got {got:?}"));
                }
            }
        }
        for miss in [
            "/v1/res50",
            "/v1/res1/a/sub9",
            "/v1/res1/a/sub1/b/c",
            "/v2/res1",
            "/v1/res1//sub1",
        ] {
            if let Some(m) = router.at(miss) {
                failures.push(format!("{miss} should not match, got {}", templates[m.id]));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    // -----------------------------------------------------------------------
    // Property loop: never panics, values are substrings, template + values == path

    /// Small deterministic xorshift generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const PROPERTY_TEMPLATES: &[&str] = &[
        "/",
        "/pets",
        "/pets/",
        "/pets/mine",
        "/pets/{id}",
        "/pets/{id}/toys",
        "/pets/{id}.json",
        "/files/{name}.{ext}",
        "/files/{file}",
        "/reports/{year}-{month}",
        "/{a}{b}/x",
        "/a//b",
        "/{x}/{y}/{z}/{w}/{v}",
        "/é/{ü}",
    ];

    fn check_match(router: &Router, path: &str, lenient: bool) -> Result<(), String> {
        let got = if lenient {
            router.at_lenient(path)
        } else {
            router.at(path)
        };
        let Some(m) = got else { return Ok(()) };
        let template = PROPERTY_TEMPLATES[m.id];
        let start = path.as_ptr() as usize;
        let mut values = Vec::new();
        for (name, value) in m.params.iter() {
            let offset = (value.as_ptr() as usize).wrapping_sub(start);
            if value.is_empty()
                || value.contains('/')
                || offset > path.len()
                || path.get(offset..offset + value.len()) != Some(value)
            {
                return Err(format!(
                    "{path:?} -> {template}: bad value {name}={value:?}"
                ));
            }
            values.push(value);
        }
        let names = template_params(template).unwrap();
        if names.len() != values.len() || !m.params.iter().map(|(k, _)| k).eq(names) {
            return Err(format!("{path:?} -> {template}: wrong parameter names"));
        }
        let mut next = values.iter();
        let rebuilt = parse(template).unwrap().render(
            |_, _| next.next().map_or(String::new(), |v| (*v).to_owned()),
            str::to_owned,
        );
        let same = rebuilt == path
            || (lenient
                && (format!("{rebuilt}/") == path || rebuilt.strip_suffix('/') == Some(path)));
        if !same {
            return Err(format!("{path:?} -> {template}: rebuilt {rebuilt:?}"));
        }
        Ok(())
    }

    #[test]
    fn property_loop() {
        let router = build(PROPERTY_TEMPLATES);
        let atoms = [
            "pets", "mine", "toys", "files", "reports", "a", "b", "x", "é", "ü", "日本", "{", "}",
            "{id}", ".", "-", "..", "a.b", "2024-05", "%2F", "%", "", "json", ".json", "PETS",
            "\u{0}", " ", "?", "#", "*", "\\",
        ];
        let chars = ['/', 'a', '.', '-', '{', '}', '%', 'é', '0', 'x'];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut failures = Vec::new();
        let mut matched = 0usize;
        for i in 0..30_000 {
            let path = if i % 2 == 0 {
                // structured: segments built from atoms
                let mut p = String::new();
                if rng.below(10) != 0 {
                    p.push('/');
                }
                for s in 0..rng.below(6) {
                    if s > 0 {
                        p.push('/');
                    }
                    for _ in 0..=rng.below(2) {
                        p.push_str(rng.pick(&atoms));
                    }
                }
                if rng.below(4) == 0 {
                    p.push('/');
                }
                p
            } else {
                // unstructured characters
                (0..rng.below(24))
                    .map(|_| chars[rng.below(chars.len())])
                    .collect()
            };
            for lenient in [false, true] {
                if router.at(&path).is_some() {
                    matched += 1;
                }
                if let Err(e) = check_match(&router, &path, lenient) {
                    failures.push(e);
                }
            }
        }
        assert!(
            failures.is_empty(),
            "\n{}",
            failures[..failures.len().min(20)].join("\n")
        );
        assert!(matched > 1_000, "generator too weak: {matched} matches");
    }

    /// A segment count with more regex templates than `WALKED_BUCKET` is searched through its
    /// set, a smaller one by trying each template: both find the same template and values.
    #[test]
    fn walked_and_set_searched_buckets_route_alike() {
        let small = build(PROPERTY_TEMPLATES);
        // The same templates (same ids, so the same ties), then templates no generated path
        // reaches, enough to fill every bucket past `WALKED_BUCKET`.
        let mut padded: Vec<String> = PROPERTY_TEMPLATES.iter().map(|t| (*t).to_owned()).collect();
        for i in 0..=WALKED_BUCKET {
            padded.push(format!("/~{{a}}.z{i}"));
            padded.push(format!("/~z{i}/{{a}}.{{b}}"));
            padded.push(format!("/~z{i}/{{a}}.{{b}}/{{c}}.x"));
        }
        let padded: Vec<&str> = padded.iter().map(String::as_str).collect();
        let large = build(&padded);
        assert!(
            large
                .exact
                .buckets
                .iter()
                .all(|b| b.entries.len() > WALKED_BUCKET && b.set.is_some())
        );
        assert!(
            small
                .exact
                .buckets
                .iter()
                .all(|b| b.entries.len() <= WALKED_BUCKET && b.set.is_none())
        );
        let atoms = [
            "pets", "files", "reports", "a", "x", "é", ".", "-", "a.b", "2024-05", "json", ".json",
            "",
        ];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut matched = 0;
        for _ in 0..20_000 {
            let mut path = String::new();
            for _ in 0..=rng.below(3) {
                path.push('/');
                for _ in 0..=rng.below(2) {
                    path.push_str(rng.pick(&atoms));
                }
            }
            let seen = |m: Option<Match<'_>>| m.map(|m| (m.id, m.params.values().join("|")));
            let want = seen(small.at(&path));
            matched += usize::from(want.is_some());
            assert_eq!(seen(large.at(&path)), want, "{path}");
            assert_eq!(
                seen(large.at_lenient(&path)),
                seen(small.at_lenient(&path)),
                "{path}, lenient"
            );
        }
        assert!(matched > 1_000, "generator too weak: {matched} matches");
    }

    #[test]
    fn odd_inputs_never_panic() {
        let router = build(PROPERTY_TEMPLATES);
        let long_static = "/pets".repeat(20_000);
        let long_segment = format!("/pets/{}", "x".repeat(100_000));
        let long_mixed = format!("/files/{}.{}", "a.".repeat(20_000), "b");
        let many_slashes = "/".repeat(50_000);
        let inputs = [
            "",
            "/",
            "//",
            "///",
            "pets",
            "pets/1",
            "/pets//1",
            "{",
            "}",
            "/{",
            "/}",
            "/{}",
            "/pets/{",
            "/pets/}",
            "/é",
            "/\u{10FFFF}",
            "/pets/\u{0}",
            "/%",
            "/%%2F",
            long_static.as_str(),
            long_segment.as_str(),
            long_mixed.as_str(),
            many_slashes.as_str(),
        ];
        for path in inputs {
            let _ = router.at(path);
            let _ = router.at_lenient(path);
            check_match(&router, path, false).unwrap();
            check_match(&router, path, true).unwrap();
        }
        let m = router.at(&long_segment).unwrap();
        assert_eq!(m.params.get("id").map(str::len), Some(100_000));
        let m = router.at(&long_mixed).unwrap();
        assert_eq!(m.params.get("name"), Some("a"));

        // odd templates neither panic nor get accepted when malformed
        let mut builder = RouterBuilder::new();
        for t in [
            "",
            "{",
            "}",
            "/{",
            "/}",
            "/{}",
            "/{{}}",
            "/{a}}",
            "/é{",
            "//",
            "/\u{0}/{\u{0}}",
        ] {
            let _ = builder.insert(t, 0);
        }
        let router = builder.build();
        let _ = router.at("//");
        let _ = router.at_lenient("/");
    }
}
