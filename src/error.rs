//! Start-up errors: one [`BuildError`] lists every problem found in a document.

use std::fmt;

/// The `file` of a problem with the options rather than the document.
pub(crate) const OPTIONS: &str = "<options>";

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
    warnings: Vec<BuildWarning>,
}

impl BuildError {
    pub(crate) fn new(problems: Vec<BuildProblem>) -> Self {
        Self {
            problems,
            warnings: Vec::new(),
        }
    }

    pub(crate) fn with_warnings(mut self, warnings: Vec<BuildWarning>) -> Self {
        self.warnings = warnings;
        self
    }

    /// The defects found beside the problems, which alone would not have stopped the
    /// document (see [`BuildWarning`]).
    pub fn warnings(&self) -> &[BuildWarning] {
        &self.warnings
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
        // Problems of the options alone (a setting this build cannot honour) are not the
        // document's.
        let what = if n > 0 && self.problems.iter().all(|p| p.file == OPTIONS) {
            "the options have"
        } else {
            "the OpenAPI document has"
        };
        write!(f, "{what} {n} problem{}", if n == 1 { "" } else { "s" })?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

/// A defect of a document that oasgate works around: the document loads, and the warning says
/// what was done instead. [`Options::strict`](crate::Options::strict) makes every warning an
/// error. The cases and the reasoning behind each are in `docs/documents.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildWarning {
    /// Which defect this is.
    pub case: WarningCase,
    /// Where it is and what was done instead; `message` says both.
    pub at: BuildProblem,
}

impl fmt::Display for BuildWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.at, self.case.as_str())
    }
}

/// The defects a document may have and still load (see [`BuildWarning`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningCase {
    /// A `$ref` names a file that cannot be read or a node that does not exist, and no request
    /// reaches it: the document is served as written; nothing checks what it names.
    UnresolvedRef,
    /// Two path templates differ only in their parameter names (OpenAPI: "MUST NOT exist"),
    /// with different methods: each method is routed to the template that declares it.
    TemplateNames,
    /// A key of the Paths Object does not begin with `/`: it is not routed.
    PathKey,
    /// A Swagger 2.0 `basePath` that does not begin with `/`: read with one in front.
    BasePath,
    /// A Swagger 2.0 parameter without the required `type` (or a body parameter without
    /// `schema`): its value is taken as a string, the body as anything.
    ParameterType,
    /// A Swagger 2.0 document uses an OpenAPI 3 construct (an `http` or `openIdConnect`
    /// security scheme, an API key in a cookie): read as OpenAPI 3 reads it.
    ThreeInTwo,
    /// A key of a `content` map is not a media type (empty, `codecs=opus`): the entry is
    /// ignored.
    MediaTypeKey,
    /// A 3.1 schema uses OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum`: read as
    /// 3.0 reads it.
    SchemaKeyword,
    /// A `pattern` that is not an ECMA-262 regular expression (Java's `\p{Print}`, `\A…\z`,
    /// `[a&&[^b]]`): it is not checked.
    Pattern,
    /// Raw C1 control characters (U+0080 to U+009F but U+0085) in YAML text, which YAML 1.2
    /// does not allow (§5.1): read as U+FFFD.
    ControlCharacters,
    /// An `x-model` parameter whose model loader a program registers at run time
    /// (`Options::model_loader`): only when checking (`Options::lint`, `oasgate check`).
    ModelLoader,
    /// A server URL that is not an absolute URL or a path (`,`, `Your API URL`): the server is
    /// ignored.
    ServerUrl,
    /// In a 3.1 schema, a `$ref` below an `$id` that names nothing relative to that `$id` but
    /// a node relative to its file (`#/components/schemas/Pet` inside a schema with an `$id`):
    /// read relative to the file.
    RefBase,
    /// A 3.2 `additionalOperations` key that differs from a fixed method field only in case
    /// (`post`, `Query`): routed for that exact method, which a `POST` request is not.
    MethodCase,
}

impl WarningCase {
    /// Every case, in the order of `docs/documents.md`.
    pub const ALL: &'static [Self] = &[
        Self::UnresolvedRef,
        Self::RefBase,
        Self::TemplateNames,
        Self::PathKey,
        Self::BasePath,
        Self::ParameterType,
        Self::ThreeInTwo,
        Self::MediaTypeKey,
        Self::ServerUrl,
        Self::ControlCharacters,
        Self::SchemaKeyword,
        Self::Pattern,
        Self::ModelLoader,
        Self::MethodCase,
    ];

    /// The case's stable name, as `oasgate check` prints it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnresolvedRef => "unresolved-ref",
            Self::TemplateNames => "template-names",
            Self::PathKey => "path-key",
            Self::BasePath => "base-path",
            Self::ParameterType => "parameter-type",
            Self::ThreeInTwo => "three-in-two",
            Self::MediaTypeKey => "media-type-key",
            Self::SchemaKeyword => "schema-keyword",
            Self::Pattern => "pattern",
            Self::ModelLoader => "model-loader",
            Self::ControlCharacters => "control-characters",
            Self::ServerUrl => "server-url",
            Self::RefBase => "ref-base",
            Self::MethodCase => "method-case",
        }
    }
}
