//! `pattern` and `patternProperties`: every ECMA-262 pattern runs, each on the engine it needs.
//!
//! A pattern goes through three steps (see `docs/patterns.md`):
//!
//! 1. [`rewrite`]: ECMA-262 syntax the Rust engines do not read is written in an equivalent
//!    form: the Annex B forms real documents use (a class escape as a range endpoint, legacy
//!    octal escapes, `\8`), named backreferences, UTF-16 surrogates, and a counted repetition
//!    ending the pattern (which need not repeat beyond its minimum: patterns are not anchored).
//! 2. [`classify`]: the rewritten pattern runs on the linear-time `regex` engine if it can; a
//!    pattern with lookaround or a backreference runs on `fancy-regex` with a backtrack limit.
//! 3. What is not ECMA-262 at all is refused, with the reason, by [`refusal`] alone.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::spec::{pointer, walk};

/// Backtracking steps a pattern with lookaround or a backreference may take on one value
/// before its match is called undecided (a few milliseconds of work).
pub(crate) const DEFAULT_BACKTRACK_LIMIT: usize = 100_000;

/// The engine a pattern runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// `regex`: linear in the length of the value, whatever the pattern.
    Linear,
    /// `fancy-regex` under a backtrack limit: lookaround and backreferences.
    Bounded,
}

/// How patterns run in one compiled document: the bound, and the patterns as written for
/// every pattern [`rewrite`] changed (messages quote what the document says).
#[derive(Debug, Clone)]
pub(crate) struct Patterns {
    pub backtrack_limit: usize,
    written: Arc<HashMap<String, String>>,
    /// Patterns (as they stand in the document view) that are not ECMA-262: why.
    refused: Arc<HashMap<String, String>>,
    /// Each pattern compiled so far, by its text in the view: generated documents put the
    /// same pattern (`.*\S.*` on every path parameter) on hundreds of schemas, and each
    /// compiled copy of a Unicode-aware pattern takes tens of kilobytes. Clones share the
    /// compiled program. Emptied when the build ends ([`Patterns::forget_compiled`]).
    compiled: Arc<Mutex<HashMap<String, Matcher>>>,
}

impl Default for Patterns {
    fn default() -> Self {
        Self {
            backtrack_limit: DEFAULT_BACKTRACK_LIMIT,
            written: Arc::default(),
            refused: Arc::default(),
            compiled: Arc::default(),
        }
    }
}

impl Patterns {
    /// Rewrites every `pattern` and `patternProperties` key of the schemas in `doc` (see
    /// [`rewrite`]), remembering what each said.
    ///
    /// A `pattern` that is not ECMA-262 at all (Java's `\p{Print}`, `\A…\z`) is taken out of
    /// its schema, so nothing checks it: the second value lists each one, at the pointer of
    /// its `pattern` keyword, with the reason, for the caller to warn about. (Under a
    /// `patternProperties` key the same text stays an error: leaving the key out would move
    /// the properties it names under `additionalProperties`.)
    pub fn rewrite_document(
        doc: &mut Value,
        backtrack_limit: usize,
    ) -> (Self, Vec<(String, String)>) {
        // Rewritten → as written; `None` when two texts would claim it (messages then quote
        // the rewritten pattern, which means the same).
        let mut written: HashMap<String, Option<String>> = HashMap::new();
        let mut claim = |new: &str, old: &str| {
            written
                .entry(new.to_owned())
                .and_modify(|w| {
                    if w.as_deref() != Some(old) {
                        *w = None;
                    }
                })
                .or_insert_with(|| Some(old.to_owned()));
        };
        let mut seen: Vec<String> = Vec::new();
        let mut ignored = Vec::new();
        // Rewritten pattern → why it is not ECMA-262, if it is not.
        let mut not_ecma: HashMap<String, Option<String>> = HashMap::new();
        // Children before parents: a parent's `patternProperties` keys are rewritten after
        // the schemas below them, which are found by those keys.
        let schemas = walk::all_schemas(doc);
        pointer::for_each_mut(doc, schemas, &mut |at, node| {
            let at = at.trim_start_matches('#');
            let Value::Object(node) = node else {
                return;
            };
            if let Some(Value::String(pattern)) = node.get("pattern") {
                let old = pattern.clone();
                let mut new = rewrite(&old).into_owned();
                let why = not_ecma
                    .entry(new.clone())
                    .or_insert_with(|| match classify(&new) {
                        Err(why @ Refused::NotEcma(_)) => Some(refusal_message(&old, why)),
                        _ => None,
                    });
                if let Some(why) = why {
                    ignored.push((format!("{at}/pattern"), format!("{why}; it is not checked")));
                    node.remove("pattern");
                    return;
                }
                let lengths_ok = ["minLength", "maxLength"]
                    .iter()
                    .all(|k| node.get(*k).is_none_or(|v| v.as_u64().is_some()));
                if let Some((run, min, max)) = long_anchored_run(&new).filter(|_| lengths_ok) {
                    // `^X{m,n}$` with X one character: `^X*$` and `m` to `n` characters.
                    new = run;
                    narrow_length(node, min, max);
                }
                claim(&new, &old);
                seen.push(new.clone());
                node.insert("pattern".to_owned(), Value::String(new));
            }
            if let Some(Value::Object(keys)) = node.get_mut("patternProperties") {
                let old = std::mem::take(keys);
                for (key, schema) in old {
                    let new = rewrite(&key).into_owned();
                    claim(&new, &key);
                    seen.push(new.clone());
                    keys.insert(new, schema);
                }
            }
        });
        let written: HashMap<String, String> = written
            .into_iter()
            .filter_map(|(new, old)| old.filter(|old| *old != new).map(|old| (new, old)))
            .collect();
        // Syntax only here (cheap); a pattern too large to compile fails its schema's build.
        seen.sort_unstable();
        seen.dedup();
        let refused = seen
            .into_iter()
            .filter_map(|pattern| match classify(&pattern) {
                Err(why) => {
                    let shown = written
                        .get(&pattern)
                        .cloned()
                        .unwrap_or_else(|| pattern.clone());
                    Some((pattern, refusal_message(&shown, why)))
                }
                Ok(_) => None,
            })
            .collect();
        let patterns = Self {
            backtrack_limit,
            written: Arc::new(written),
            refused: Arc::new(refused),
            compiled: Arc::default(),
        };
        (patterns, ignored)
    }

    /// The matcher of `pattern` (as it stands in the view): compiled once per build, however
    /// many schemas carry it.
    pub fn matcher(&self, pattern: &str) -> Result<Matcher, Refused> {
        let mut compiled = self.compiled.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(matcher) = compiled.get(pattern) {
            return Ok(matcher.clone());
        }
        let matcher = Matcher::new(&rewrite(pattern), self.backtrack_limit)?;
        compiled.insert(pattern.to_owned(), matcher.clone());
        Ok(matcher)
    }

    /// Drops the matchers kept for the build: those still used live on in their checks.
    pub fn forget_compiled(&self) {
        *self.compiled.lock().unwrap_or_else(PoisonError::into_inner) = HashMap::new();
    }

    /// Whether some pattern of the document is not ECMA-262.
    pub fn any_refused(&self) -> bool {
        !self.refused.is_empty()
    }

    /// Why `pattern` (as it stands in the view) cannot run, if it was found not ECMA-262.
    pub fn refused(&self, pattern: &str) -> Option<&str> {
        self.refused.get(pattern).map(String::as_str)
    }

    /// `pattern` as the document wrote it.
    pub fn written<'a>(&'a self, pattern: &'a str) -> &'a str {
        self.written.get(pattern).map_or(pattern, String::as_str)
    }

    /// The message for a value whose match against `pattern` did not finish within the bound.
    pub fn undecided(&self, pattern: &str) -> String {
        let which = match pattern {
            "" => "a pattern".to_owned(),
            p => format!("pattern {}", quoted(self.written(p))),
        };
        format!(
            "could not be checked against {which} within oasgate's bound of {} backtracking \
             steps, so it is refused",
            self.backtrack_limit
        )
    }
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Linear(regex::Regex),
    Bounded(fancy_regex::Regex),
}

impl Matcher {
    /// Compiles a rewritten pattern (see [`rewrite`]) on the engine it needs.
    pub fn new(pattern: &str, backtrack_limit: usize) -> Result<Self, Refused> {
        let (translated, engine) = classify(pattern)?;
        match engine {
            Engine::Linear => regex::Regex::new(&translated)
                .map(Matcher::Linear)
                .map_err(|e| Refused::from_regex(&e)),
            Engine::Bounded => fancy_regex::RegexBuilder::new(&translated)
                .backtrack_limit(backtrack_limit)
                .build()
                .map(Matcher::Bounded)
                .map_err(|e| Refused::from_fancy(&e)),
        }
    }

    /// Whether `text` matches; `None` when the bounded engine hit its limit.
    pub fn is_match(&self, text: &str) -> Option<bool> {
        match self {
            Matcher::Linear(re) => Some(re.is_match(text)),
            Matcher::Bounded(re) => re.is_match(text).ok(),
        }
    }
}

/// Why a pattern cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not ECMA-262 syntax (or an unknown Unicode property): the reason.
    NotEcma(String),
    /// ECMA-262, but compiled larger than the engines' size limit.
    TooLarge,
}

impl Refused {
    fn from_regex(error: &regex::Error) -> Self {
        match error {
            regex::Error::CompiledTooBig(_) => Refused::TooLarge,
            other => Refused::NotEcma(last_line(&other.to_string())),
        }
    }

    fn from_fancy(error: &fancy_regex::Error) -> Self {
        match error {
            fancy_regex::Error::CompileError(inner) if matches!(&**inner, fancy_regex::CompileError::InnerError(e) if e.size_limit().is_some()) => {
                Refused::TooLarge
            }
            other => Refused::NotEcma(lowercase(&other.to_string())),
        }
    }
}

/// The one place a pattern is refused at load: `Some(message)` when `pattern` (as it stands
/// in the rewritten document) cannot run; the message quotes it as written. Warnings may
/// later take some of these; everything is decided here and in [`classify`].
pub(crate) fn refusal(pattern: &str, patterns: &Patterns) -> Option<String> {
    Matcher::new(pattern, patterns.backtrack_limit)
        .err()
        .map(|why| refusal_message(patterns.written(pattern), why))
}

/// How a refusal reads.
fn refusal_message(written: &str, why: Refused) -> String {
    let shown = quoted(written);
    match why {
        Refused::NotEcma(why) => {
            format!("pattern {shown} is not an ECMA-262 regular expression: {why}")
        }
        Refused::TooLarge => format!(
            "pattern {shown} is too large for oasgate's regex engines: a counted repetition \
             (`{{m,n}}`) with large bounds inside the pattern unrolls past their size limit; \
             bound the length with `maxLength` instead"
        ),
    }
}

/// The Rust translation of a rewritten pattern and the engine it needs.
pub(crate) fn classify(pattern: &str) -> Result<(String, Engine), Refused> {
    if !jsonschema_regex::is_valid_ecma_regex(pattern) {
        return Err(Refused::NotEcma(syntax_reason(pattern)));
    }
    let translated = jsonschema_regex::to_rust_regex(pattern)
        .map_err(|()| Refused::NotEcma(syntax_reason(pattern)))?
        .into_owned();
    use regex_syntax::ast::ErrorKind;
    match regex_syntax::Parser::new().parse(&translated) {
        Ok(_) => Ok((translated, Engine::Linear)),
        Err(regex_syntax::Error::Parse(e))
            if matches!(
                e.kind(),
                ErrorKind::UnsupportedLookAround | ErrorKind::UnsupportedBackreference
            ) =>
        {
            Ok((translated, Engine::Bounded))
        }
        Err(regex_syntax::Error::Parse(e)) => {
            Err(Refused::NotEcma(lowercase(&e.kind().to_string())))
        }
        Err(regex_syntax::Error::Translate(e)) => {
            Err(Refused::NotEcma(lowercase(&e.kind().to_string())))
        }
        Err(other) => Err(Refused::NotEcma(lowercase(&other.to_string()))),
    }
}

/// What makes `pattern` not ECMA-262, as precisely as a quick look can tell.
fn syntax_reason(pattern: &str) -> String {
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('A' | 'Z' | 'z' | 'G' | 'Q' | 'E' | 'h' | 'H' | 'R' | 'X')) => {
                    return format!("`\\{e}` is no ECMA-262 escape (it is Perl, Java or PCRE)");
                }
                Some(e) if e.is_ascii_alphabetic() && !"bBdDsSwWfnrtvcxupPk".contains(e) => {
                    return format!("`\\{e}` is no ECMA-262 escape");
                }
                _ => {}
            },
            '[' if in_class && pattern.contains("&&") => {
                return "`&&` (class intersection) is not ECMA-262 syntax".to_owned();
            }
            '[' => in_class = true,
            ']' if in_class => in_class = false,
            '(' if chars.peek() == Some(&'?') => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("?>") || rest.starts_with("?P") || rest.starts_with("?#") {
                    return format!("`({}` is not ECMA-262 group syntax", &rest[..2]);
                }
            }
            '*' | '+' | '?' | '}' if matches!(chars.peek(), Some('+')) => {
                return "possessive quantifiers (`*+`, `++`, `?+`) are not ECMA-262 syntax"
                    .to_owned();
            }
            _ => {}
        }
    }
    "syntax error".to_owned()
}

fn last_line(text: &str) -> String {
    let line = text.lines().last().unwrap_or(text);
    lowercase(line.trim_start_matches("error: "))
}

fn lowercase(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text in backticks, cut to 64 characters.
pub(crate) fn quoted(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

/// `pattern` with ECMA-262 syntax the Rust engines do not read written in an equivalent form;
/// borrowed when nothing changes. Each rewrite is exact:
///
/// - Annex B (B.1.2, `CharacterRangeOrUnion`): a class escape (`\d`, `\w`, `\s`, negated) as a
///   range endpoint makes the `-` a literal: `[\w-.]` is `[\w\-.]`.
/// - Annex B legacy octal escapes (`LegacyOctalEscapeSequence`): `\0` followed by octal
///   digits, and `\1`…`\7` where the pattern has fewer capturing groups, are the character
///   with that octal value (`\000` is U+0000); `\8` and `\9` there are the digit itself.
/// - `\k<name>` is the backreference to that group's number.
/// - UTF-16 surrogates: a pair of `\u` escapes is the one code point they encode. A lone
///   surrogate is in no valid string (JSON strings oasgate reads hold Unicode scalar values):
///   outside a class it matches nothing; inside one it adds nothing, and a range is cut to the
///   scalar values it spans.
/// - A counted repetition `X{m,n}` or `X{m,}` ending a top-level alternative is `X{m}`: a
///   pattern is not anchored (JSON Schema 2020-12 validation 6.3.3), nothing follows that
///   repetition, so whenever `X{m,n}` matches there its first `m` repetitions match too.
pub(crate) fn rewrite(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains(['\\', '{']) {
        return Cow::Borrowed(pattern);
    }
    let mut out = Rewriter::new(pattern);
    match out.run() {
        Some(text) if text != pattern => Cow::Owned(text),
        _ => Cow::Borrowed(pattern),
    }
}

/// Repetitions past which an anchored run is checked by length keywords (below that the
/// engines compile the repetition cheaply).
const LONG_RUN: u64 = 1_000;

/// `^X{m,n}$` or `^X{m,}$` with `X` one character (a class, `.`, an escape or a literal) and
/// more than [`LONG_RUN`] repetitions: `^X*$`, `m` and `n`. A string matches the pattern
/// exactly when it is made of `X` characters only and has `m` to `n` of them; ECMA-262 with
/// the `u` flag matches code points, which `minLength`/`maxLength` count (JSON Schema 2020-12
/// validation §6.3.1).
fn long_anchored_run(pattern: &str) -> Option<(String, u64, Option<u64>)> {
    let body = pattern.strip_prefix('^')?.strip_suffix('$')?;
    if body.ends_with("\\$") || body.ends_with('\\') {
        return None;
    }
    let open = body.rfind('{')?;
    let (atom, quantifier) = body.split_at(open);
    let quantifier = quantifier.strip_suffix('}')?.strip_prefix('{')?;
    let (min, max) = match quantifier.split_once(',') {
        Some((m, "")) => (m.parse::<u64>().ok()?, None),
        Some((m, n)) => (m.parse::<u64>().ok()?, Some(n.parse::<u64>().ok()?)),
        None => {
            let m = quantifier.parse::<u64>().ok()?;
            (m, Some(m))
        }
    };
    if max.is_some_and(|n| n < min) || max.unwrap_or(min) <= LONG_RUN {
        return None;
    }
    one_character(atom).then(|| (format!("^{atom}*$"), min, max))
}

/// Whether `atom` is one atom matching exactly one character.
fn one_character(atom: &str) -> bool {
    let mut chars = atom.chars();
    match (chars.next(), chars.as_str()) {
        (Some('.'), "") => true,
        (Some(c), "") => !"^$\\.*+?()[]{}|/".contains(c),
        (Some('['), rest) => {
            // One class: no `[` or unescaped `]` inside before its end.
            let Some(inner) = rest.strip_suffix(']') else {
                return false;
            };
            let mut escaped = false;
            inner.chars().all(|c| {
                let ok = escaped || (c != '[' && c != ']');
                escaped = !escaped && c == '\\';
                ok
            }) && !escaped
        }
        (Some('\\'), rest) => {
            matches!(rest, "d" | "D" | "w" | "W" | "s" | "S")
                || (rest.starts_with(['p', 'P'])
                    && rest[1..].starts_with('{')
                    && rest.ends_with('}')
                    && !rest[2..rest.len() - 1].contains(['{', '}']))
                || (rest.len() == 1 && !rest.chars().all(|c| c.is_ascii_alphanumeric()))
        }
        _ => false,
    }
}

/// `minLength` at least `min`, `maxLength` at most `max`, keeping a stricter bound already
/// there.
fn narrow_length(node: &mut serde_json::Map<String, Value>, min: u64, max: Option<u64>) {
    let current_min = node.get("minLength").and_then(Value::as_u64);
    let current_max = node.get("maxLength").and_then(Value::as_u64);
    node.insert(
        "minLength".to_owned(),
        current_min.map_or(min, |c| c.max(min)).into(),
    );
    if let Some(max) = max {
        node.insert(
            "maxLength".to_owned(),
            current_max.map_or(max, |c| c.min(max)).into(),
        );
    }
}

struct Rewriter {
    chars: Vec<char>,
    at: usize,
    out: String,
    groups: u32,
    names: Vec<String>,
    depth: usize,
    /// Where in `out` the last top-level counted repetition started and ended.
    trailing: Option<(usize, usize, u32)>,
}

/// One atom of a character class.
#[derive(Debug, Clone)]
enum ClassAtom {
    /// One code point (a surrogate code point stays here, as it was written).
    Char(u32),
    /// A class escape (`\d`, `\p{L}`, …) as written.
    Set(String),
}

const LEAD: std::ops::RangeInclusive<u32> = 0xD800..=0xDBFF;
const TRAIL: std::ops::RangeInclusive<u32> = 0xDC00..=0xDFFF;
const SURROGATES: std::ops::RangeInclusive<u32> = 0xD800..=0xDFFF;

impl Rewriter {
    fn new(pattern: &str) -> Self {
        let chars: Vec<char> = pattern.chars().collect();
        let (groups, names) = capturing_groups(&chars);
        Self {
            chars,
            at: 0,
            out: String::with_capacity(pattern.len()),
            groups,
            names,
            depth: 0,
            trailing: None,
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn run(&mut self) -> Option<String> {
        while let Some(c) = self.peek(0) {
            match c {
                '\\' => self.escape()?,
                '[' => self.class()?,
                '(' => {
                    self.depth += 1;
                    self.push_char(c);
                }
                ')' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.push_char(c);
                }
                '|' if self.depth == 0 => {
                    self.end_alternative();
                    self.push_char(c);
                }
                '{' => {
                    let start = self.out.len();
                    match self.counted() {
                        Some(Some(min)) if self.depth == 0 => {
                            self.trailing = Some((start, self.out.len(), min));
                        }
                        Some(_) => {}
                        None => self.push_char(c),
                    }
                }
                _ => self.push_char(c),
            }
        }
        self.end_alternative();
        Some(std::mem::take(&mut self.out))
    }

    fn push_char(&mut self, c: char) {
        self.out.push(c);
        self.at += 1;
    }

    /// A top-level alternative ends here: a counted repetition just before is cut to its
    /// minimum (see [`rewrite`]).
    fn end_alternative(&mut self) {
        if let Some((start, end, min)) = self.trailing.take()
            && end == self.out.len()
        {
            self.out.truncate(start);
            let _ = write!(self.out, "{{{min}}}");
        }
    }

    /// At `{`: a quantifier `{m}`, `{m,}`, `{m,n}` (with `?`), copied, and its minimum when
    /// it may repeat more than that; `None`, nothing consumed, when `{` is no quantifier.
    fn counted(&mut self) -> Option<Option<u32>> {
        let rest: String = self.chars[self.at..].iter().take(40).collect();
        let close = rest.find('}')?;
        let body = &rest[1..close];
        let (min, max) = match body.split_once(',') {
            Some((m, n)) => (m, Some(n)),
            None => (body, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(min) || max.is_some_and(|n| !n.is_empty() && !digits(n)) {
            return None;
        }
        let min_value: u32 = min.parse().ok()?;
        // Only a long repetition is worth cutting (a short one compiles cheaply and keeps
        // the pattern as written).
        let repeats_more = match max {
            None | Some("") => false,
            Some(n) => n.parse::<u64>().ok()? > u64::from(min_value) + LONG_RUN,
        };
        if max.is_some_and(|n| !n.is_empty() && n.parse::<u64>().ok() < Some(min_value.into())) {
            return None;
        }
        let mut len = close + 1;
        if self.chars.get(self.at + len) == Some(&'?') {
            len += 1;
        }
        for _ in 0..len {
            let c = self.chars[self.at];
            self.push_char(c);
        }
        Some(repeats_more.then_some(min_value))
    }

    /// An escape outside a class.
    fn escape(&mut self) -> Option<()> {
        let Some(next) = self.peek(1) else {
            self.push_char('\\');
            return Some(());
        };
        match next {
            '0'..='9' => {
                let digits: String = self.chars[self.at + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                let number: u64 = digits.parse().unwrap_or(u64::MAX);
                if next == '0' && digits.len() == 1 {
                    // `\0` alone: the NUL CharacterEscape, as it stands.
                    self.copy(2);
                } else if next != '0' && number <= u64::from(self.groups) {
                    self.copy(1 + digits.len());
                } else if let Some((value, used)) = legacy_octal(&self.chars[self.at + 1..]) {
                    self.at += 1 + used;
                    let _ = write!(self.out, "\\x{value:02X}");
                } else if next == '0' {
                    self.copy(2);
                } else {
                    // `\8`, `\9` with no such group: the digit itself (Annex B IdentityEscape).
                    self.at += 2;
                    self.out.push(next);
                }
            }
            'k' if self.peek(2) == Some('<') => {
                let name: String = self.chars[self.at + 3..]
                    .iter()
                    .take_while(|c| **c != '>')
                    .collect();
                match self.names.iter().position(|n| *n == name) {
                    Some(index) if self.peek(3 + name.chars().count()) == Some('>') => {
                        self.at += 4 + name.chars().count();
                        let _ = write!(self.out, "\\{}", index + 1);
                    }
                    _ => self.copy(2),
                }
            }
            'u' => match self.unicode_escape(self.at) {
                Some((value, used)) if SURROGATES.contains(&value) => {
                    self.at += used;
                    match self.trail_after(value) {
                        Some(code_point) => {
                            let _ = write!(self.out, "\\u{{{code_point:X}}}");
                        }
                        // In no valid string: matches nothing.
                        None => self.out.push_str("[^\\u{0}-\\u{10FFFF}]"),
                    }
                }
                // Whole, so the braces of `\u{41}` are not read as a quantifier.
                Some((_, used)) => self.copy(used),
                None => self.copy(2),
            },
            'p' | 'P' if self.peek(2) == Some('{') => {
                let len = self.chars[self.at..]
                    .iter()
                    .position(|c| *c == '}')
                    .map_or(2, |p| p + 1);
                self.copy(len);
            }
            _ => self.copy(2),
        }
        Some(())
    }

    /// After a lead surrogate `lead` just read, a trail surrogate escape: the code point of
    /// the pair, consumed. A trail surrogate `lead` itself, or none after: `None`.
    fn trail_after(&mut self, lead: u32) -> Option<u32> {
        if !LEAD.contains(&lead) || self.peek(0) != Some('\\') {
            return None;
        }
        let (trail, used) = self.unicode_escape(self.at)?;
        if !TRAIL.contains(&trail) {
            return None;
        }
        self.at += used;
        Some(0x10000 + ((lead - 0xD800) << 10) + (trail - 0xDC00))
    }

    /// `\uXXXX` or `\u{X…}` at `at`: its value and length.
    fn unicode_escape(&self, at: usize) -> Option<(u32, usize)> {
        if self.chars.get(at) != Some(&'\\') || self.chars.get(at + 1) != Some(&'u') {
            return None;
        }
        if self.chars.get(at + 2) == Some(&'{') {
            let hex: String = self.chars[at + 3..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect();
            if self.chars.get(at + 3 + hex.len()) != Some(&'}') {
                return None;
            }
            return Some((u32::from_str_radix(&hex, 16).ok()?, 4 + hex.len()));
        }
        let hex: String = self.chars.get(at + 2..at + 6)?.iter().collect();
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some((u32::from_str_radix(&hex, 16).ok()?, 6))
    }

    fn copy(&mut self, len: usize) {
        for _ in 0..len {
            if let Some(c) = self.peek(0) {
                self.push_char(c);
            }
        }
    }

    /// A character class, from `[` to its `]`: copied unless an atom needs rewriting.
    fn class(&mut self) -> Option<()> {
        let start = self.at;
        self.at += 1;
        let negated = self.peek(0) == Some('^');
        if negated {
            self.at += 1;
        }
        // ECMA-262 22.2.1 `ClassContents`: an atom, or `atom - atom` (a range).
        let mut items: Vec<ClassItem> = Vec::new();
        let mut changed = false;
        loop {
            if self.peek(0)? == ']' {
                self.at += 1;
                break;
            }
            let first = self.class_atom(&mut changed)?;
            if self.peek(0) == Some('-') && self.peek(1).is_some_and(|c| c != ']') {
                self.at += 1;
                let second = self.class_atom(&mut changed)?;
                match (first, second) {
                    (ClassAtom::Char(a), ClassAtom::Char(b)) => items.push(ClassItem::Range(a, b)),
                    // A class escape at either end: the union with `-` (Annex B).
                    (first, second) => {
                        changed = true;
                        items.push(ClassItem::Atom(first));
                        items.push(ClassItem::Atom(ClassAtom::Char('-' as u32)));
                        items.push(ClassItem::Atom(second));
                    }
                }
            } else {
                items.push(ClassItem::Atom(first));
            }
        }
        if !changed {
            let text: String = self.chars[start..self.at].iter().collect();
            self.out.push_str(&text);
            return Some(());
        }
        let mut body = String::new();
        for item in items {
            match item {
                ClassItem::Atom(ClassAtom::Set(text)) => body.push_str(&text),
                ClassItem::Atom(ClassAtom::Char(c)) => {
                    if !SURROGATES.contains(&c) {
                        push_class_char(&mut body, c);
                    }
                }
                ClassItem::Range(a, b) => {
                    // The scalar values the range spans: surrogates cut out.
                    for (lo, hi) in [(a, b.min(0xD7FF)), (a.max(0xE000), b)] {
                        if lo <= hi {
                            push_class_char(&mut body, lo);
                            if hi > lo {
                                body.push('-');
                                push_class_char(&mut body, hi);
                            }
                        }
                    }
                }
            }
        }
        match (body.is_empty(), negated) {
            // `[]` matches nothing and `[^]` any character.
            (true, false) => self.out.push_str("[^\\u{0}-\\u{10FFFF}]"),
            (true, true) => self.out.push_str("[\\u{0}-\\u{10FFFF}]"),
            (false, _) => {
                self.out.push('[');
                if negated {
                    self.out.push('^');
                }
                self.out.push_str(&body);
                self.out.push(']');
            }
        }
        Some(())
    }

    /// One class atom; `changed` is set when it must be rewritten.
    fn class_atom(&mut self, changed: &mut bool) -> Option<ClassAtom> {
        let c = self.peek(0)?;
        let atom = if c == '\\' {
            let (atom, rewritten) = self.class_escape()?;
            *changed |= rewritten;
            atom
        } else {
            self.at += 1;
            ClassAtom::Char(c as u32)
        };
        if let ClassAtom::Char(v) = atom
            && SURROGATES.contains(&v)
        {
            *changed = true;
        }
        Some(atom)
    }

    /// An escape inside a class: the atom, and whether it needs rewriting.
    fn class_escape(&mut self) -> Option<(ClassAtom, bool)> {
        let next = self.peek(1)?;
        let simple = |c: char| Some((ClassAtom::Char(c as u32), false));
        let result = match next {
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                self.at += 2;
                return Some((ClassAtom::Set(format!("\\{next}")), false));
            }
            'p' | 'P' if self.peek(2) == Some('{') => {
                let len = self.chars[self.at..].iter().position(|c| *c == '}')? + 1;
                let text: String = self.chars[self.at..self.at + len].iter().collect();
                self.at += len;
                return Some((ClassAtom::Set(text), false));
            }
            'u' => {
                let (value, used) = self.unicode_escape(self.at)?;
                self.at += used;
                if SURROGATES.contains(&value)
                    && let Some(code_point) = self.trail_after(value)
                {
                    return Some((ClassAtom::Char(code_point), true));
                }
                return Some((ClassAtom::Char(value), false));
            }
            '0'..='9' => {
                // In a class a digit escape is never a backreference (Annex B: legacy octal,
                // or for `\8`, `\9` the digit).
                let (value, used, rewritten) = match legacy_octal(&self.chars[self.at + 1..]) {
                    Some((value, used)) => (value, used, !(value == 0 && used == 1)),
                    None if next == '0' => (0, 1, false),
                    None => (next as u32, 1, true),
                };
                self.at += 1 + used;
                return Some((ClassAtom::Char(value), rewritten));
            }
            'b' => simple('\u{8}'),
            'n' => simple('\n'),
            'r' => simple('\r'),
            't' => simple('\t'),
            'f' => simple('\u{c}'),
            'v' => simple('\u{b}'),
            'c' => {
                let letter = self.peek(2).filter(char::is_ascii_alphabetic)?;
                self.at += 3;
                return Some((ClassAtom::Char(letter as u32 % 32), false));
            }
            'x' => {
                let hex: String = self.chars.get(self.at + 2..self.at + 4)?.iter().collect();
                let value = u32::from_str_radix(&hex, 16).ok()?;
                self.at += 4;
                return Some((ClassAtom::Char(value), false));
            }
            c if !c.is_ascii_alphanumeric() => simple(c),
            // An unknown escape (`\A`, `\z`, …): not rewritten, left for the check to refuse.
            _ => None,
        };
        self.at += 2;
        result
    }
}

enum ClassItem {
    Atom(ClassAtom),
    Range(u32, u32),
}

fn push_class_char(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() => out.push(ch),
        _ => {
            let _ = write!(out, "\\u{{{c:X}}}");
        }
    }
}

/// A `LegacyOctalEscapeSequence` (ECMA-262 B.1.2) at the start of `digits`: its value and the
/// digits it takes.
fn legacy_octal(digits: &[char]) -> Option<(u32, usize)> {
    let octal = |i: usize| digits.get(i).and_then(|c| c.to_digit(8));
    let first = octal(0)?;
    match (octal(1), octal(2)) {
        // ZeroToThree OctalDigit OctalDigit
        (Some(second), Some(third)) if first <= 3 => Some((first * 64 + second * 8 + third, 3)),
        // ZeroToThree OctalDigit, FourToSeven OctalDigit
        (Some(second), _) => Some((first * 8 + second, 2)),
        // `\0` alone is the NUL CharacterEscape already; other single digits are octal.
        (None, _) => Some((first, 1)),
    }
}

/// The capturing groups of a pattern: how many, and their names in order (an unnamed group
/// has an empty name).
fn capturing_groups(chars: &[char]) -> (u32, Vec<String>) {
    let mut count = 0;
    let mut names = Vec::new();
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => {
                let next = chars.get(i + 1).copied();
                let after = chars.get(i + 2).copied();
                if next != Some('?') {
                    count += 1;
                    names.push(String::new());
                } else if after == Some('<') && !matches!(chars.get(i + 3), Some('=' | '!')) {
                    count += 1;
                    names.push(chars[i + 3..].iter().take_while(|c| **c != '>').collect());
                }
            }
            _ => {}
        }
        i += 1;
    }
    (count, names)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rewrites_are_equivalent_ecma_262() {
        // (written, rewritten)
        let rows = [
            ("^[a-z]+$", "^[a-z]+$"),
            // Annex B: a class escape as a range endpoint makes `-` literal.
            (r"^[\w-.]+$", r"^[\w\u{2D}\u{2E}]+$"),
            (r"[.-\d]", r"[\u{2E}\u{2D}\d]"),
            (r"[a-z\d-]", r"[a-z\d-]"),
            (r"[\d-a-z]", r"[\d\u{2D}a\u{2D}z]"),
            // Legacy octal.
            (r"\000", r"\x00"),
            (r"a\0b", r"a\0b"),
            (r"\08", r"\x008"),
            (r"\101", r"\x41"),
            (r"\18", r"\x018"),
            (r"\8", "8"),
            (r"(a)\1", r"(a)\1"),
            (r"(a)\2", r"(a)\x02"),
            (r"[\000-\037]", r"[\u{0}-\u{1F}]"),
            // Named backreferences.
            (r"(?<x>a)(?<y>b)\k<y>", r"(?<x>a)(?<y>b)\2"),
            // Surrogates.
            (r"\uD83D\uDE00", r"\u{1F600}"),
            (r"^\u{41}\u{1F600}{2,5000}", r"^\u{41}\u{1F600}{2}"),
            (r"a\uD800", r"a[^\u{0}-\u{10FFFF}]"),
            (r"[\uD800-\uDBFF]", r"[^\u{0}-\u{10FFFF}]"),
            (r"[^\uD800-\uDFFF]", r"[\u{0}-\u{10FFFF}]"),
            // Ranges over scalar values already leave surrogates out.
            (r"[\u0000-\uFFFF]", r"[\u0000-\uFFFF]"),
            (r"[\uDB00-\uFFFF]", r"[\u{E000}-\u{FFFF}]"),
            (r"[a\uDC00]", r"[a]"),
            (r"[\uD83D\uDE00-\uD83D\uDE4F]", r"[\u{1F600}-\u{1F64F}]"),
            // A counted repetition ending a top-level alternative.
            (r"^.{1,2097152}", r"^.{1}"),
            (r"[^\p{C}]{1,2048}", r"[^\p{C}]{1}"),
            (r"^a{2,5000}|b{3,5000}?", r"^a{2}|b{3}"),
            // Short ones compile cheaply and stay as written.
            (r"^a{2,}|b{3,5}?", r"^a{2,}|b{3,5}?"),
            (r"^.{1,2097152}$", r"^.{1,2097152}$"),
            (r"^(a{1,5})", r"^(a{1,5})"),
            (r"^a{3}", r"^a{3}"),
            (r"\p{L}{2,9}x", r"\p{L}{2,9}x"),
            (r"a{,5}", r"a{,5}"),
        ];
        let mut failures = Vec::new();
        for (written, want) in rows {
            let got = rewrite(written);
            if got != want {
                failures.push(format!("{written}: got {got}, want {want}"));
            }
            // The document is rewritten once and each engine rewrites again: nothing moves.
            if rewrite(want) != want {
                failures.push(format!("{want}: rewritten again to {}", rewrite(want)));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn a_long_anchored_run_of_one_character_becomes_length_keywords() {
        // (pattern, schema before, schema after); `None` leaves the schema alone.
        let rows = [
            (
                r"^.{1,2097152}$",
                json!({}),
                Some(json!({"pattern": "^.*$", "minLength": 1, "maxLength": 2097152})),
            ),
            (
                r"^[^\p{C}]{1,2048}$",
                json!({"maxLength": 100}),
                Some(json!({"pattern": r"^[^\p{C}]*$", "minLength": 1, "maxLength": 100})),
            ),
            (
                r"^\p{L}{5000,}$",
                json!({"minLength": 6000}),
                Some(json!({"pattern": r"^\p{L}*$", "minLength": 6000})),
            ),
            (
                r"^\d{2000}$",
                json!({}),
                Some(json!({"pattern": r"^\d*$", "minLength": 2000, "maxLength": 2000})),
            ),
            (
                r"^[a\]]{1,9999}$",
                json!({}),
                Some(json!({"pattern": r"^[a\]]*$", "minLength": 1, "maxLength": 9999})),
            ),
            // Short, two atoms, a group, an escaped `$`, a malformed bound: left alone.
            (r"^.{1,20}$", json!({}), None),
            (r"^ab{1,9999}$", json!({}), None),
            (r"^(ab){1,9999}$", json!({}), None),
            (r"^a{1,9999}\$", json!({}), None),
            (r"^.{1,9999}$", json!({"maxLength": "9"}), None),
        ];
        let mut failures = Vec::new();
        for (pattern, mut schema, want) in rows {
            schema["pattern"] = json!(pattern);
            let mut doc =
                json!({"openapi": "3.1.0", "components": {"schemas": {"S": schema.clone()}}});
            let (patterns, _) = Patterns::rewrite_document(&mut doc, DEFAULT_BACKTRACK_LIMIT);
            let got = &doc["components"]["schemas"]["S"];
            let want = want.unwrap_or(schema);
            if *got != want {
                failures.push(format!("{pattern}: got {got}, want {want}"));
            }
            if patterns.written(got["pattern"].as_str().unwrap()) != pattern {
                failures.push(format!("{pattern}: messages would not quote it"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn each_pattern_runs_on_the_engine_it_needs() {
        use Engine::*;
        // (written, engine)
        let rows = [
            ("^[a-z]+$", Linear),
            (r"^\d{3}-\w+$", Linear),
            ("^(a+)+$", Linear),
            (r"^.{1,2097152}", Linear),
            (r"[^\p{C}]{1,2048}", Linear),
            (r"^[\w-.]+$", Linear),
            (r"\000", Linear),
            (r"[\uD800-\uDBFF]", Linear),
            (r"^(?!\s*$).+", Bounded),
            ("(?<=a)b", Bounded),
            (r"(a)\1", Bounded),
            (r"(?<x>a)\k<x>", Bounded),
        ];
        let mut failures = Vec::new();
        for (written, want) in rows {
            match classify(&rewrite(written)) {
                Ok((_, engine)) if engine == want => {}
                other => failures.push(format!("{written}: {other:?}")),
            }
            if let Err(e) = Matcher::new(&rewrite(written), DEFAULT_BACKTRACK_LIMIT) {
                failures.push(format!("{written}: does not compile: {e:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn rewritten_patterns_match_what_ecma_262_matches() {
        // (written, value, matches)
        let rows = [
            (r"^[\w-.]+$", "a-b.c", true),
            (r"^[\w-.]+$", "a b", false),
            (r"^\000$", "\0", true),
            (r"^\000$", "000", false),
            (r"^\101$", "A", true),
            (r"^(a)\2$", "a\u{2}", true),
            (r"^\uD83D\uDE00$", "😀", true),
            (r"[\uD800-\uDBFF]", "😀", false),
            (r"^[^\uD800-\uDFFF]$", "😀", true),
            (r"^.{1,2097152}", "x", true),
            (r"^.{1,2097152}", "", false),
            (r"^a{2,5000}|^b{3,5000}", "bbx", false),
            (r"^a{2,5000}|^b{3,5000}", "bbbbbbb", true),
            (r"[^\p{C}]{1,2048}", "\u{0}a", true),
            (r"[^\p{C}]{1,2048}", "\u{0}", false),
            (r"^(?!\s*$).+", "  ", false),
            (r"^(?!\s*$).+", " x", true),
            (r"^(?<x>a+)-\k<x>$", "aa-aa", true),
            (r"^(?<x>a+)-\k<x>$", "aa-a", false),
        ];
        let mut failures = Vec::new();
        for (written, value, want) in rows {
            match Matcher::new(&rewrite(written), DEFAULT_BACKTRACK_LIMIT) {
                Ok(m) if m.is_match(value) == Some(want) => {}
                Ok(m) => failures.push(format!("{written} on {value:?}: {:?}", m.is_match(value))),
                Err(e) => failures.push(format!("{written}: {e:?}")),
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn what_is_not_ecma_262_is_refused_with_the_reason() {
        // (written, the refusal starts with)
        let rows = [
            (
                r"\p{Print}",
                "pattern `\\p{Print}` is not an ECMA-262 regular expression: unicode property not found",
            ),
            (
                r"\A[a-z]+\z",
                "pattern `\\A[a-z]+\\z` is not an ECMA-262 regular expression: `\\A` is no ECMA-262 escape",
            ),
            (
                r"[a&&[^b]]",
                "pattern `[a&&[^b]]` is not an ECMA-262 regular expression: `&&`",
            ),
            (
                "(unclosed",
                "pattern `(unclosed` is not an ECMA-262 regular expression: syntax error",
            ),
            (
                "a++",
                "pattern `a++` is not an ECMA-262 regular expression: possessive",
            ),
            (
                "(?>a)",
                "pattern `(?>a)` is not an ECMA-262 regular expression: `(?>`",
            ),
            (r"^.{1,2097152}$", "pattern `^.{1,2097152}$` is too large"),
        ];
        let mut failures = Vec::new();
        for (written, want) in rows {
            match refusal(&rewrite(written), &Patterns::default()) {
                Some(message)
                    if message.starts_with(want) && !message.contains("backreference") => {}
                other => failures.push(format!("{written}: {other:?}")),
            }
        }
        for runs in [r"\000", "(a)\\1", r"[\w-.]", "^(?=a)"] {
            if let Some(message) = refusal(&rewrite(runs), &Patterns::default()) {
                failures.push(format!("{runs}: {message}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    /// One compiled matcher per pattern text for the whole build, rewritten as every other
    /// use rewrites it; forgotten when the build ends.
    #[test]
    fn a_pattern_is_compiled_once_per_build() {
        let patterns = Patterns::default();
        let count = |p: &Patterns| p.compiled.lock().unwrap().len();
        let a = patterns.matcher(r".*\S.*").unwrap();
        let b = patterns.clone().matcher(r".*\S.*").unwrap();
        assert_eq!(
            count(&patterns),
            1,
            "clones of `Patterns` share the matchers"
        );
        for m in [&a, &b] {
            assert_eq!(m.is_match(" x "), Some(true));
            assert_eq!(m.is_match("   "), Some(false));
        }
        // An ECMA-262 escape the Rust engines read only once rewritten (Annex B octal).
        let octal = patterns.matcher(r"^\101$").unwrap();
        assert_eq!(octal.is_match("A"), Some(true));
        assert_eq!(count(&patterns), 2);
        assert!(patterns.matcher("(").is_err());
        assert_eq!(count(&patterns), 2, "a refused pattern is not kept");
        patterns.forget_compiled();
        assert_eq!(count(&patterns), 0);
        assert_eq!(
            a.is_match("y"),
            Some(true),
            "a matcher in use outlives the build's list"
        );
    }

    #[test]
    fn a_bounded_match_past_the_limit_is_undecided() {
        let m = Matcher::new(r"^(a|aa)+\1$", 1_000).unwrap();
        assert_eq!(m.is_match(&format!("{}!", "a".repeat(5_000))), None);
        assert_eq!(m.is_match("aaaa"), Some(true));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Whatever the text, rewriting and classifying answer (no panic), and a rewritten
        /// pattern is rewritten to itself.
        #[test]
        fn any_text_is_rewritten_once_and_classified(
            pattern in r"[\\(){}\[\]^$|?*+.,0-9a-dkpuxDSwAB<>=!:-]{0,16}"
        ) {
            let once = rewrite(&pattern).into_owned();
            proptest::prop_assert_eq!(rewrite(&once), once.as_str());
            let _ = classify(&once);
            let _ = refusal(&once, &Patterns::default());
            let _ = long_anchored_run(&once);
        }
    }
}
