//! [`ConfigError`]: what is wrong in a config file or an `OASGATE_…` variable, and where.

use std::fmt;

/// A problem in a config file (with its line and column) or in an environment variable, and
/// the file's (or the environment's) other problems after it.
///
/// Displayed, it is one line per problem, each with its own place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file's path as given, or `environment` for an `OASGATE_…` variable.
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// What is wrong, lowercase, with the nearest valid key for a misspelt one.
    pub message: String,
    /// The problems found after this one, in order: a file is read to its end, so that
    /// every mistake is reported at once.
    pub others: Vec<ConfigError>,
}

impl ConfigError {
    pub(crate) fn new(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            column: None,
            message: message.into(),
            others: Vec::new(),
        }
    }

    /// This problem and the others after it.
    pub fn all(&self) -> impl Iterator<Item = &ConfigError> {
        std::iter::once(self).chain(&self.others)
    }

    pub(crate) fn at(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: (line > 0).then_some(line),
            column: (column > 0).then_some(column),
            message: message.into(),
            others: Vec::new(),
        }
    }

    /// Reads serde-saphyr's error: its position, and a message without the source snippet.
    pub(crate) fn from_yaml(file: &str, error: &serde_saphyr::Error, sections: &[&str]) -> Self {
        let (line, column) = error
            .location()
            .map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
        let message = match error.without_snippet() {
            serde_saphyr::Error::SerdeUnknownField {
                field, expected, ..
            } => unknown_key(field, expected, sections),
            serde_saphyr::Error::SerdeUnknownVariant {
                variant, expected, ..
            } => unknown_value(variant, expected),
            serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
                format!("`{key}` is given twice")
            }
            other => plain_message(other),
        };
        Self::at(file, line, column, message)
    }

    /// Reads the toml crate's error: its byte span becomes line and column.
    pub(crate) fn from_toml(
        file: &str,
        text: &str,
        error: &toml::de::Error,
        sections: &[&str],
    ) -> Self {
        let (line, column) = error
            .span()
            .map_or((0, 0), |span| line_column(text, span.start));
        let raw = error.message().trim();
        let message = match parse_unknown(raw, "unknown field") {
            Some((field, expected)) => unknown_key(&field, &expected, sections),
            None => match parse_unknown(raw, "unknown variant") {
                Some((variant, expected)) => unknown_value(&variant, &expected),
                None => lowercase_first(raw),
            },
        };
        Self::at(file, line, column, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        for other in &self.others {
            write!(f, "\n{other}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// serde-saphyr's message for an error, without position or snippet (those are kept apart).
pub(crate) fn plain_message(error: &serde_saphyr::Error) -> String {
    let text = error.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    // The position is reported separately; drop the one serde-saphyr appends.
    let first = first
        .rsplit_once(" at line ")
        .map_or(first, |(message, _)| message);
    lowercase_first(first)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `unknown key `x``, with the nearest valid key, or the section a known key belongs in.
fn unknown_key<S: AsRef<str>>(field: &str, expected: &[S], sections: &[&str]) -> String {
    let mut message = format!("unknown key `{field}`");
    if let Some(near) = nearest(field, expected.iter().map(AsRef::as_ref)) {
        message.push_str(&format!("; did you mean `{near}`?"));
    } else if let Some(section) = sections
        .iter()
        .find(|s| super::section_keys(s).is_some_and(|keys| keys.contains(&field)))
    {
        message.push_str(&format!("; it belongs in the `{section}` section"));
    } else {
        let list: Vec<&str> = expected.iter().map(AsRef::as_ref).collect();
        message.push_str(&format!("; expected one of: {}", list.join(", ")));
    }
    message
}

fn unknown_value<S: AsRef<str>>(value: &str, expected: &[S]) -> String {
    let list: Vec<&str> = expected.iter().map(AsRef::as_ref).collect();
    let mut message = format!(
        "unknown value `{value}`; expected one of: {}",
        list.join(", ")
    );
    if let Some(near) = nearest(value, list.iter().copied()) {
        message.push_str(&format!(" (did you mean `{near}`?)"));
    }
    message
}

/// Pulls the name and the expected list out of serde's "unknown field `x`, expected one of
/// `a`, `b`" (the toml crate renders serde's standard messages).
fn parse_unknown(message: &str, what: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix(what)?.trim_start();
    let rest = rest.strip_prefix('`')?;
    let (name, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((name.to_owned(), expected))
}

pub(crate) use crate::suggest::nearest;

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_serde_messages() {
        let (name, expected) = parse_unknown(
            "unknown field `bdy`, expected one of `a`, `b_c`",
            "unknown field",
        )
        .unwrap();
        assert_eq!(name, "bdy");
        assert_eq!(expected, ["a", "b_c"]);
        let (name, expected) =
            parse_unknown("unknown field `x`, expected `only`", "unknown field").unwrap();
        assert_eq!(name, "x");
        assert_eq!(expected, ["only"]);
        assert!(parse_unknown("invalid type", "unknown field").is_none());
    }

    #[test]
    fn positions() {
        assert_eq!(line_column("a\nbc\nd", 0), (1, 1));
        assert_eq!(line_column("a\nbc\nd", 3), (2, 2));
        assert_eq!(line_column("a\nbc\nd", 5), (3, 1));
    }
}
