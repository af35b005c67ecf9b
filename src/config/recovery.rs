//! Reading a config file past its first mistake, so that every mistake is reported at once.
//!
//! serde stops at the first error. When the file itself is well-formed YAML or TOML, the
//! mistake is in its data: one entry (a key and its value) is wrong. That entry's lines are
//! blanked — so every other line keeps its number and column — and the text is read again,
//! which reports the next mistake, and so on. Reading stops at the first error whose entry
//! cannot be cut out cleanly: the text would stop being well-formed, or the error is one
//! already reported.

use std::ops::RangeInclusive;

use super::error::ConfigError;

/// Most times one file is read again.
const MOST: usize = 50;

/// The file's format, by its name.
#[derive(Clone, Copy)]
pub(super) enum Format {
    Yaml,
    Toml,
}

impl Format {
    pub(super) fn of(name: &str) -> Self {
        if name.ends_with(".toml") {
            Format::Toml
        } else {
            Format::Yaml
        }
    }

    /// Whether `text` parses at all, whatever its keys and values.
    fn well_formed(self, text: &str) -> bool {
        match self {
            Format::Toml => toml::from_str::<toml::Table>(text).is_ok(),
            Format::Yaml => {
                let mut options = serde_saphyr::Options::default();
                options.strict_booleans = true;
                serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(text, options).is_ok()
            }
        }
    }
}

/// A mistake, and the 1-based lines of the entry it is in (when known).
pub(super) struct Mistake {
    pub(super) error: Box<ConfigError>,
    pub(super) lines: Option<RangeInclusive<usize>>,
}

/// Reads `text` with `read`; on a mistake, reads on past it as the module says and returns
/// the first mistake with the others after it.
pub(super) fn read_all<T>(
    text: &str,
    format: Format,
    read: impl Fn(&str) -> Result<T, Mistake>,
) -> Result<T, ConfigError> {
    let first = match read(text) {
        Ok(value) => return Ok(value),
        Err(mistake) => mistake,
    };
    let error = *first.error;
    if !format.well_formed(text) {
        return Err(error);
    }
    let mut lines = first.lines;
    let mut text = text.to_owned();
    let mut others = Vec::new();
    let mut places = vec![(error.line, error.column)];
    let mut cuts: Vec<RangeInclusive<usize>> = Vec::new();
    for _ in 0..MOST {
        let Some(entry) = lines.take() else { break };
        text = blank(&text, entry.clone());
        cuts.push(entry);
        if !format.well_formed(&text) {
            break;
        }
        let Err(next) = read(&text) else { break };
        // An entry that was cut out cannot be reported again: a repeat means the cut did not
        // reach the mistake.
        let place = (next.error.line, next.error.column);
        if next.error.line.is_none() || places.contains(&place) {
            break;
        }
        places.push(place);
        lines = next.lines;
        // A section that lost an entry to a cut may now lack a key it needs: that mistake is
        // the cut's, not the file's. Its entry is cut in turn, unreported.
        let made_by_a_cut = lines.as_ref().is_some_and(|section| {
            cuts.iter()
                .any(|cut| section.contains(cut.start()) && section != cut)
        });
        if !made_by_a_cut {
            others.push(*next.error);
        }
    }
    // TOML tables are read in key order, not in the file's: report in the file's.
    others.sort_by_key(|e| (e.line, e.column));
    let at = others.partition_point(|e| (e.line, e.column) < (error.line, error.column));
    others.insert(at, error);
    let mut first = others.remove(0);
    first.others = others;
    Err(first)
}

/// The lines of the YAML entry at `line`: that line and the more indented ones after it.
pub(super) fn yaml_entry(text: &str, line: usize) -> Option<RangeInclusive<usize>> {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.get(line.checked_sub(1)?)?;
    let indent = indentation(first);
    let mut last = line;
    for (number, text) in lines.iter().enumerate().skip(line) {
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indentation(text) <= indent {
            break;
        }
        last = number + 1;
    }
    Some(line..=last)
}

/// The lines of the TOML entry from `first` to `last`; a table header takes its keys along.
pub(super) fn toml_entry(text: &str, first: usize, last: usize) -> RangeInclusive<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .get(first.saturating_sub(1))
        .is_some_and(|l| l.trim_start().starts_with('['));
    if !header {
        return first..=last.max(first);
    }
    let next_header = lines
        .iter()
        .enumerate()
        .skip(first)
        .find(|(_, l)| l.trim_start().starts_with('['))
        .map_or(lines.len(), |(index, _)| index);
    first..=next_header.max(first)
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `text` with the lines of `entry` emptied; the others keep their place.
fn blank(text: &str, entry: RangeInclusive<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if entry.contains(&(index + 1)) {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let text = "a:\n  b: 1\n  c:\n    - x\n\n    - y\n  d: 2\ne: 3\n";
        assert_eq!(yaml_entry(text, 1), Some(1..=7));
        assert_eq!(yaml_entry(text, 3), Some(3..=6));
        assert_eq!(yaml_entry(text, 4), Some(4..=4));
        assert_eq!(yaml_entry(text, 8), Some(8..=8));
        assert_eq!(yaml_entry(text, 9), None);
        let text = "[a]\nx = 1\n\n[b]\ny = [\n 1,\n]\n";
        assert_eq!(toml_entry(text, 1, 1), 1..=3);
        assert_eq!(toml_entry(text, 4, 4), 4..=7);
        assert_eq!(toml_entry(text, 5, 7), 5..=7);
        assert_eq!(blank("a\nb\nc", 2..=3), "a\n\n");
    }
}
