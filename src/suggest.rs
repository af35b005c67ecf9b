//! "Did you mean": the closest of a few known names to one given, for messages only.

/// The candidate closest to `word` by edit distance (ASCII case ignored; swapping two
/// neighbours is one edit, `sepc` → `spec`), if it is close enough to be a typo: at most a
/// third of the longer name's length, and at least one edit allowed.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .map(|c| (strsim::osa_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names() {
        let keys = ["body_limit", "error_cap", "prefix", "lenient_booleans"];
        let params = ["limit", "offset", "tags", "sort"];
        // (word, the candidates, the suggestion)
        let rows: &[(&str, &[&str], Option<&str>)] = &[
            ("body_limt", &keys, Some("body_limit")),
            ("bodylimit", &keys, Some("body_limit")),
            ("BODY_LIMIT", &keys, Some("body_limit")),
            ("error_cpa", &keys, Some("error_cap")),
            ("prefx", &keys, Some("prefix")),
            ("lenient_bools", &keys, Some("lenient_booleans")),
            ("listen", &keys, None),
            ("zzz", &keys, None),
            ("limt", &params, Some("limit")),
            ("limmit", &params, Some("limit")),
            ("ofset", &params, Some("offset")),
            ("tag", &params, Some("tags")),
            ("srot", &params, Some("sort")),
            ("color", &params, None),
            ("so", &params, None),
        ];
        for (word, candidates, want) in rows {
            assert_eq!(nearest(word, candidates.iter().copied()), *want, "{word}");
        }
    }
}
