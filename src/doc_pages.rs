//! The reference pages under `docs/` checked against the code, in both directions: a page that
//! lists something the code lacks fails as surely as code the page forgets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::problem::{FieldCode, Problem, ProblemKind};

const PROBLEMS: &str = include_str!("../docs/problems.md");
const EXTENSIONS: &str = include_str!("../docs/extensions.md");
const DOCUMENTS: &str = include_str!("../docs/documents.md");

/// The rows of the first table under `## {heading}`, as trimmed cells.
fn table(page: &str, heading: &str) -> Vec<Vec<String>> {
    let start = page
        .lines()
        .position(|l| l.trim() == format!("## {heading}"))
        .unwrap_or_else(|| panic!("no `## {heading}` section"));
    page.lines()
        .skip(start + 1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header row and the `| --- |` row
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The text between the backticks of a cell written as `` `name` ``.
fn code_cell(cell: &str) -> &str {
    cell.strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .unwrap_or_else(|| panic!("the first cell `{cell}` is not one `code` span"))
}

#[test]
fn problem_types_page_matches_problem_kinds() {
    // What the code gives, by type URI: the titles and statuses of every kind that has it.
    let mut expected: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<u16>)> = BTreeMap::new();
    for kind in ProblemKind::ALL {
        let entry = expected.entry(kind.type_uri()).or_default();
        entry.0.insert(kind.title());
        for unprocessable in [false, true] {
            entry
                .1
                .insert(Problem::status(*kind, unprocessable).as_u16());
        }
    }
    let rows = table(PROBLEMS, "Problem types");
    let mut documented = BTreeSet::new();
    for row in &rows {
        let [uri, status, title, _when] = row.as_slice() else {
            panic!("a problem type row has not four cells: {row:?}");
        };
        let uri = code_cell(uri);
        assert!(
            documented.insert(uri),
            "docs/problems.md lists `{uri}` twice"
        );
        let Some((titles, statuses)) = expected.get(uri) else {
            panic!("docs/problems.md lists `{uri}`, which no ProblemKind has");
        };
        let listed: BTreeSet<u16> = status
            .split(", ")
            .map(|s| {
                s.parse()
                    .unwrap_or_else(|_| panic!("`{uri}`: status `{s}` is not a number"))
            })
            .collect();
        assert_eq!(&listed, statuses, "statuses of `{uri}`");
        let listed: BTreeSet<&str> = title.split(", ").collect();
        assert_eq!(&listed, titles, "titles of `{uri}`");
    }
    let missing: Vec<_> = expected
        .keys()
        .filter(|u| !documented.contains(*u))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from docs/problems.md: {missing:?}"
    );
}

#[test]
fn field_codes_page_matches_field_codes() {
    let rows = table(PROBLEMS, "Field error codes");
    let documented: Vec<&str> = rows.iter().map(|row| code_cell(&row[0])).collect();
    let code: Vec<&str> = FieldCode::ALL.iter().map(|c| c.as_str()).collect();
    // Same order too, so the page reads like the enum's documentation.
    assert_eq!(
        documented, code,
        "docs/problems.md field codes against FieldCode::ALL"
    );
}

/// String literals `"x-…"` in the crate's code that are not document extensions.
const NOT_EXTENSIONS: &[&str] = &[
    // HTTP header names, which `http` spells in lowercase.
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-prefix",
    "x-forwarded-proto",
    "x-request-id",
    // A content coding (RFC 9110 §8.4.1.3) and media subtypes.
    "x-gzip",
    "x-ndjson",
    "x-www-form-urlencoded",
    // Marks oasgate puts on its own compiled views of the document; never read from, nor
    // served in, a document.
    "x-oasgate-kept",
    "x-oasgate-read-only",
    "x-oasgate-write-only",
];

/// Every `"x-…"` string literal in `src/`, outside test code (a file's `#[cfg(test)]` tail,
/// `tests.rs` files and this file), with one file that has it.
fn extension_literals() -> BTreeMap<String, String> {
    fn walk(dir: &Path, found: &mut BTreeMap<String, String>, budget: &mut usize) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            *budget = budget
                .checked_sub(1)
                .expect("more than 10,000 entries under src/");
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found, budget);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs")
                || path
                    .file_name()
                    .is_some_and(|n| n == "tests.rs" || n == "doc_pages.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for piece in code.split("\"x-").skip(1) {
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                    .collect();
                if piece[name.len()..].starts_with('"') && !name.is_empty() {
                    found
                        .entry(format!("x-{name}"))
                        .or_insert_with(|| path.display().to_string());
                }
            }
        }
    }
    let mut found = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    walk(&src, &mut found, &mut 10_000);
    found
}

#[test]
fn extensions_page_matches_the_extensions_the_code_reads() {
    let in_code = extension_literals();
    let mut documented = BTreeSet::new();
    for heading in ["Read from the document", "Written by oasgate"] {
        for row in table(EXTENSIONS, heading) {
            let name = code_cell(&row[0]).to_owned();
            assert!(
                in_code.contains_key(&name),
                "docs/extensions.md lists `{name}`, which no code in src/ names"
            );
            assert!(documented.insert(name.clone()), "`{name}` listed twice");
        }
    }
    for (name, file) in &in_code {
        assert!(
            documented.contains(name) || NOT_EXTENSIONS.contains(&name.as_str()),
            "`{name}` ({file}) is missing from docs/extensions.md \
             (or, if it is no document extension, from NOT_EXTENSIONS)"
        );
    }
    for name in NOT_EXTENSIONS {
        assert!(
            in_code.contains_key(*name),
            "NOT_EXTENSIONS lists `{name}`, which no code in src/ names any more"
        );
    }
}

#[test]
fn document_defects_page_lists_every_warning_case_in_order() {
    let documented: Vec<String> = table(DOCUMENTS, "Warnings")
        .iter()
        .map(|row| code_cell(&row[0]).to_owned())
        .collect();
    let cases: Vec<&str> = crate::WarningCase::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(documented, cases);
}
