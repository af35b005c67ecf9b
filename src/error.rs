//! Start-up errors: one [`BuildError`] lists every problem found in a document.

use std::fmt;

/// One problem found while loading or compiling a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildProblem {
    /// The file the problem is in, as given or as reached through a relative `$ref`.
    pub file: String,
    /// JSON pointer to the offending node inside `file` (`""` for the whole file).
    pub pointer: String,
    /// 1-based line of the node in `file`, where it could be found.
    pub line: Option<usize>,
    /// What is wrong, lowercase.
    pub message: String,
}

impl fmt::Display for BuildProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.pointer.is_empty() {
            write!(f, " at #{}", self.pointer)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem that stopped a document from loading or compiling.
///
/// Start-up never stops at the first problem: the list holds all of them, so a spec author can
/// fix them in one go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    problems: Vec<BuildProblem>,
}

impl BuildError {
    pub(crate) fn new(problems: Vec<BuildProblem>) -> Self {
        Self { problems }
    }

    /// A single problem with no position, for errors about the whole input.
    pub(crate) fn single(file: &str, message: impl Into<String>) -> Self {
        Self::new(vec![BuildProblem {
            file: file.to_owned(),
            pointer: String::new(),
            line: None,
            message: message.into(),
        }])
    }

    /// The problems, in the order they were found.
    pub fn problems(&self) -> &[BuildProblem] {
        &self.problems
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the OpenAPI document has {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}
