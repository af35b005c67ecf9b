//! Document → plan: every operation compiled, every problem collected.

use std::collections::HashMap;
use std::sync::Arc;

use std::sync::atomic::AtomicBool;

use http::{HeaderName, HeaderValue, Method};
use serde_json::{Map, Value};

use super::schema::{Compiler, Engine, is_secret_schema};
use super::{
    BodyEntry, BodyPlan, Check, DateParam, Operation, Param, Plan, Querystring, QuerystringKind,
    Route, StreamBuilder, Transform,
};
use crate::body::defaults::Defaults;
use crate::body::items::ItemFormat;
use crate::body::{BodyKind, FormField, MediaType};
use crate::dates::{DateKind, LenientDates};
use crate::error::{BuildError, BuildProblem, BuildWarning, WarningCase};
use crate::options::PagingMode;
use crate::options::{Options, UndeclaredParams};
use crate::paging::{self, PagingConfig};
use crate::params::{Coercion, Location, Shape, Style};
use crate::path::PathRules;
use crate::pattern::Patterns;
use crate::router::{RouteError, RouterBuilder, template_params};
use crate::security::{Requirement, SchemeCheck, SecurityPlan, scheme_kind};
use crate::serve::{OperationFacts, ServedDocuments, ServedTree};
use crate::spec::swagger2::{self, PointerMap};
use crate::spec::{
    Dangling, Document, Version, base_path, methods, normalize, pointer, problem_at, walk,
};

/// Header parameters the specification says to ignore.
const IGNORED_HEADERS: [&str; 3] = ["accept", "content-type", "authorization"];

/// Compiles a document into a plan, or lists every problem that prevents it.
pub(crate) fn compile(mut doc: Document, options: Options) -> Result<Plan, BuildError> {
    // What the middleware adds (paging parameters) is part of the served document too. A
    // document handed over by value is not copied for it (see `Document::take_json`).
    let mut served = doc.take_json();
    let document = doc;
    let doc = &document;
    let mut findings = Vec::new();
    let v2 = doc.version() == Version::V2_0;
    paging::augment(&mut served, &mut findings, v2);
    // Whether a request reaches each reference whose target is missing, read in the document
    // as written before anything changes it (`dangling_refs`).
    let dangling = DanglingReach::new(doc.dangling(), &served);
    // The views are made of the tree itself, changed in place (missing references dropped,
    // schemas normalized); what is served goes on as an outline of it (see `ServedTree`).
    let kept = options
        .serves_document()
        .then(|| ServedTree::of(&served, options.serve_bundled));
    let own = |served: &mut Value| {
        let mut tree = std::mem::take(served);
        // A reference whose target is missing constrains nothing in the compiled views.
        for missing in doc.dangling() {
            if let Some(Value::Object(holder)) = pointer::get_mut(&mut tree, &missing.at) {
                holder.remove("$ref");
            }
        }
        tree
    };
    // A 2.0 document is compiled from its 3.0 conversion, made of the tree; problems point
    // into the 2.0 text.
    let mut source_warnings = Vec::new();
    let (mut normalized, map, version) = if v2 {
        // Responses are converted only for response validation, which nothing else reads,
        // and for a lint (`oasgate check`), which reports what is wrong in them too.
        let responses =
            options.lint || super::responses::needed(&served, options.response_validation);
        let converted = if doc.dangling().is_empty() {
            swagger2::convert(std::mem::take(&mut served), responses)
        } else {
            swagger2::convert(own(&mut served), responses)
        };
        findings.extend(converted.problems);
        source_warnings.extend(converted.warnings);
        // Its schemas still speak 2.0; normalizing rewrites them.
        (converted.doc, Some(converted.map), Version::V2_0)
    } else {
        (own(&mut served), None, doc.version())
    };
    let mut converted_findings = Vec::new();
    let mut keyword_warnings = Vec::new();
    normalize::to_2020_12(
        &mut normalized,
        version,
        &mut converted_findings,
        &mut keyword_warnings,
    );
    // Patterns in the form the engines read (Annex B, surrogates, …), each exactly equivalent.
    let (patterns, ignored_patterns) =
        Patterns::rewrite_document(&mut normalized, options.pattern_backtrack_limit);
    // The response view from a copy, the request view from the normalized document itself:
    // one copy of a large document fewer at the peak.
    let response_view = super::responses::needed(&normalized, options.response_validation)
        .then(|| Arc::new(super::responses::response_view(normalized.clone())));
    // What no request reaches is not kept in the request view. Before 3.1 every reference is
    // a JSON pointer the walk follows; from 3.1 on, only where no `$id`, anchor or dynamic
    // reference makes reach wider.
    if matches!(version, Version::V2_0 | Version::V3_0) || !walk::names_by_id(&normalized) {
        walk::prune_for_requests(&mut normalized);
    }
    let view = Arc::new(normalize::request_view(normalized));
    let bases = doc.schema_bases();
    let engine = Engine::new(&view, &bases);
    let response_engine = response_view.as_ref().map(|v| Engine::new(v, &bases));
    let registry = Compiler::registry(&engine)
        .map_err(|e| BuildError::new(vec![problem_at(doc.files(), "", e)]))?;
    let response_registry = match &response_engine {
        Some(e) => Some(
            Compiler::registry(e)
                .map_err(|e| BuildError::new(vec![problem_at(doc.files(), "", e)]))?,
        ),
        None => None,
    };
    let mut responses = response_view
        .as_ref()
        .zip(response_registry.zip(response_engine.as_ref()))
        .map(|(v, (r, e))| {
            super::responses::ResponseCompiler::new(
                v,
                Compiler::new(r, e, v.clone(), patterns.clone()),
            )
        });
    let stream = StreamBuilder::new(&view, patterns.clone());
    let compiler = Compiler::new(registry, &engine, view.clone(), patterns);
    let mut ctx = Compilation {
        view: &view,
        compiler,
        stream,
        problems: Vec::new(),
        warnings: Vec::new(),
        files: doc.files(),
        map: map.as_ref(),
        paging_mode: options.paging,
        schemes: HashMap::new(),
        models: options
            .models
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        lenient_dates: options.lenient_dates,
        fill_body_defaults: options.fill_body_defaults,
        lint: options.lint,
        version,
        sequential: version == Version::V3_2,
    };
    for (at, message) in findings {
        ctx.report_source(&at, message);
    }
    for (at, message) in converted_findings {
        ctx.report(&at, message);
    }
    for (case, at, message) in source_warnings {
        ctx.warn_source(case, &at, message);
    }
    for (at, message) in keyword_warnings {
        ctx.warn(WarningCase::SchemaKeyword, &at, message);
    }
    for (at, message) in ignored_patterns {
        ctx.warn(WarningCase::Pattern, &at, message);
    }
    ctx.warnings.extend(doc.warnings().iter().cloned());
    ctx.dangling_refs(dangling, response_view.is_some());
    ctx.warn_quirks();
    ctx.read_schemes();

    let root_policy = ctx.policy(&view, "", options.undeclared_query);
    let root_bases = ctx.base_paths(view.get("servers"), "/servers");
    let root_security = view.get("security");
    let mut router = RouterBuilder::new();
    let mut routes = Vec::new();
    let mut operations: Vec<Operation> = Vec::new();
    let mut operation_ids: HashMap<String, String> = HashMap::new();
    let mut facts: Vec<OperationFacts> = Vec::new();
    let mut all_bases: Vec<String> = Vec::new();
    // Whether a raw `;` in a request path can mean something to this document.
    let mut semicolons = false;

    let paths = view.get("paths").and_then(Value::as_object);
    for (template, _) in paths.into_iter().flatten() {
        if crate::spec::is_extension(template) {
            continue;
        }
        let item_at = pointer::join("/paths", template);
        let Some((item, item_at)) = ctx.resolve(&item_at) else {
            continue;
        };
        // "The field name MUST begin with a forward slash (`/`)" (OpenAPI 3.1 §4.8.8.1; 2.0
        // likewise): such a key names no path a request can have, so it is left unrouted.
        if !template.starts_with('/') {
            ctx.warn(
                WarningCase::PathKey,
                &item_at,
                format!(
                    "path `{template}` does not begin with `/`; it is not routed, and a request \
                     for it gets what an unknown path gets"
                ),
            );
            continue;
        }
        let template_names = match template_params(template) {
            Ok(names) => names,
            Err(e) => {
                ctx.report(&item_at, e.to_string());
                continue;
            }
        };
        let item_bases = match item.get("servers") {
            Some(servers) => ctx.base_paths(Some(servers), &pointer::join(&item_at, "servers")),
            None => root_bases.clone(),
        };
        // (base path, method, operation index)
        let mut placed: Vec<(String, Method, usize)> = Vec::new();
        let added = version == Version::V3_2;
        if added {
            ctx.additional_operations(item, &item_at);
        }
        for found in methods::operations(item, &item_at, added) {
            let method = found.method;
            if found
                .additional
                .as_deref()
                .is_some_and(|key| methods::refused_key(key).is_some())
            {
                continue;
            }
            let Some((op, op_at)) = ctx.resolve(&found.at) else {
                continue;
            };
            let label: Arc<str> = format!("{} {template}", method.as_str()).into();
            let mut operation = ctx.operation(OperationInput {
                item,
                item_at: &item_at,
                op,
                op_at: &op_at,
                label,
                template_names: &template_names,
                root_security,
                root_policy,
                options: &options,
            });
            operation.responses = responses
                .as_mut()
                .and_then(|r| r.operation(&op_at, options.response_validation))
                .map(Box::new);
            if let Some(id) = &operation.id
                && let Some(first) = operation_ids.insert(id.to_string(), op_at.clone())
            {
                ctx.report(
                    &pointer::join(&op_at, "operationId"),
                    format!("duplicate operationId `{id}` (also at #{first})"),
                );
            }
            let bases = match op.get("servers") {
                Some(servers) => ctx.base_paths(Some(servers), &pointer::join(&op_at, "servers")),
                None => item_bases.clone(),
            };
            facts.push(operation_facts(&operation, ctx.source(&op_at)));
            let index = operations.len();
            operations.push(operation);
            placed.extend(bases.into_iter().map(|b| (b, method.clone(), index)));
        }
        let mut bases: Vec<&String> = placed.iter().map(|(b, _, _)| b).collect();
        bases.dedup();
        bases.sort();
        bases.dedup();
        for base in bases {
            let methods: Vec<(Method, usize)> = placed
                .iter()
                .filter(|(b, _, _)| b == base)
                .map(|(_, m, i)| (m.clone(), *i))
                .collect();
            let allow = allow_header(&methods);
            let full = format!("{}{base}{template}", options.prefix);
            let under = format!("{}{base}", options.prefix);
            if !under.is_empty() && !all_bases.contains(&under) {
                all_bases.push(under);
            }
            semicolons |= full.contains(';');
            let id = routes.len();
            match router.insert(&full, id) {
                Ok(()) => routes.push(Route { methods, allow }),
                Err(RouteError::Conflict {
                    existing,
                    existing_id,
                    ..
                }) => {
                    let route = &mut routes[existing_id];
                    let shared: Vec<&str> = methods
                        .iter()
                        .filter(|(m, _)| route.methods.iter().any(|(n, _)| n == m))
                        .map(|(m, _)| m.as_str())
                        .collect();
                    // "Templated paths with the same hierarchy but different templated names
                    // MUST NOT exist as they are identical" (OpenAPI 3.1 §4.8.8.2). With
                    // different methods a request still names one operation; with a shared
                    // method it names two.
                    if !shared.is_empty() {
                        ctx.report(
                            &item_at,
                            format!(
                                "path template `{full}` matches the same requests as `{existing}` \
                                 (they differ only in parameter names) and both declare {}; \
                                 a request cannot be routed to one of them",
                                shared.join(", ")
                            ),
                        );
                        continue;
                    }
                    ctx.warn(
                        WarningCase::TemplateNames,
                        &item_at,
                        format!(
                            "path template `{full}` differs from `{existing}` only in parameter \
                             names (OpenAPI: such templates must not exist); their methods \
                             differ, so each request is routed to the template that declares \
                             its method"
                        ),
                    );
                    let names: Box<[Box<str>]> = template_names.iter().map(|&n| n.into()).collect();
                    for (_, index) in &methods {
                        operations[*index].path_names = Some(names.clone());
                    }
                    route.methods.extend(methods);
                    route.allow = allow_header(&route.methods);
                }
                Err(e) => ctx.report(&item_at, e.to_string()),
            }
        }
    }

    ctx.stream.finish();
    if let Some(responses) = &mut responses {
        responses.stream.finish();
    }
    // What the checks read of each view once compiling ends, taken before the compilers go;
    // a lint runs no check afterwards.
    let mut narrowings = Vec::new();
    if !options.lint {
        narrowings.extend(ctx.compiler.narrowing());
    }
    if let Some(responses) = responses {
        if !options.lint {
            narrowings.extend(responses.narrowing());
        }
        for (at, message) in responses.problems {
            ctx.report(&at, message);
        }
    }
    if options.strict {
        for warning in ctx.warnings.drain(..) {
            let mut problem = warning.at;
            problem.message = format!(
                "{} (an error under `strict`: {})",
                problem.message,
                warning.case.as_str()
            );
            ctx.problems.push(problem);
        }
    }
    if !ctx.problems.is_empty() {
        return Err(BuildError::new(ctx.problems).with_warnings(ctx.warnings));
    }
    // Done with the files' texts (kept for line numbers), a 2.0 document's pointer map and the
    // compile state: they are not held while the served document is written, the peak of a
    // large document's start. The views stay only where a compiled check holds them (one that
    // explains failures reads its schema there), and then only what those checks reach (see
    // `narrow`); a document whose checks are all native frees them here.
    let warnings = std::mem::take(&mut ctx.warnings);
    ctx.compiler.patterns().forget_compiled();
    drop(ctx);
    drop((view, engine, response_engine, response_view));
    // Where a failure to index the narrowed view is reported: the document's root (its line
    // is not looked up ahead: that reads the file again).
    let root_file = doc
        .files()
        .first()
        .map(|f| f.name.clone())
        .unwrap_or_default();
    drop(document);
    drop(map);
    // The views shrink to what the checks read (see `narrow`): on a large document, what was
    // left of them after start-up was the view of every operation.
    for narrowing in narrowings {
        narrowing.apply().map_err(|message| {
            BuildError::new(vec![BuildProblem {
                file: root_file.clone(),
                pointer: String::new(),
                line: None,
                message,
            }])
        })?;
    }
    semicolons |= operations
        .iter()
        .flat_map(|op| &op.path)
        .any(|p| p.style == Style::Matrix);
    // Kept for the gateway's life: without the room pushing left (up to half of a list of
    // operations of about a kilobyte each).
    operations.shrink_to_fit();
    routes.shrink_to_fit();
    let path_rules = PathRules {
        normalization: options.path_normalization,
        encoded_slash: options.allow_encoded_slash,
        semicolons,
    };
    let kept = kept.unwrap_or(ServedTree::Whole(Value::Null));
    let served = ServedDocuments::build(kept, &facts, &options).map_err(|messages| {
        BuildError::new(
            messages
                .into_iter()
                .map(|message| BuildProblem {
                    file: crate::error::OPTIONS.to_owned(),
                    pointer: String::new(),
                    line: None,
                    message,
                })
                .collect(),
        )
    })?;
    Ok(Plan {
        path_rules,
        router: router.build(),
        routes,
        operations,
        coercion: Coercion {
            lenient_booleans: options.lenient_booleans,
        },
        dates: LenientDates {
            dialect: options.date_dialect,
            zone: options.time_zone.clone(),
        },
        models: options.models.iter().cloned().collect(),
        options,
        served,
        bases: all_bases,
        warnings,
    })
}

/// The references whose target is missing, and for each whether a request reaches it, read
/// in the document as written before the views' tree is made of it. Whether responses count
/// is known only later, so both answers are kept (a document rarely has any such reference).
struct DanglingReach<'d> {
    refs: &'d [Dangling],
    by_requests: Vec<bool>,
    with_responses: Vec<bool>,
}

impl<'d> DanglingReach<'d> {
    /// `root` is the document as written (paging parameters added, which move no node).
    fn new(refs: &'d [Dangling], root: &Value) -> Self {
        let reach = |responses| {
            if refs.is_empty() {
                return Vec::new();
            }
            let holders = refs.iter().map(|d| d.at.as_str()).collect();
            let reached = walk::reached_by_requests(root, &holders, responses);
            refs.iter().map(|d| reached.contains(&d.at)).collect()
        };
        Self {
            refs,
            by_requests: reach(false),
            with_responses: reach(true),
        }
    }
}

/// The `Allow` header of a path: its declared methods, `HEAD` wherever `GET` is (RFC 9110
/// §9.3.2: a GET is answered to HEAD too), and `OPTIONS`, which the layer answers itself.
fn allow_header(methods: &[(Method, usize)]) -> HeaderValue {
    let declared = |method: &Method| methods.iter().any(|(m, _)| m == method);
    let mut allow: Vec<&str> = Vec::with_capacity(methods.len() + 2);
    for (method, _) in methods {
        allow.push(method.as_str());
        if *method == Method::GET && !declared(&Method::HEAD) {
            allow.push("HEAD");
        }
    }
    if !declared(&Method::OPTIONS) {
        allow.push("OPTIONS");
    }
    HeaderValue::from_str(&allow.join(", ")).unwrap_or(HeaderValue::from_static(""))
}

/// The state of compiling one document: the view, the schema compiler, the problems found.
struct Compilation<'a> {
    view: &'a Value,
    compiler: Compiler,
    /// The stream checks of every JSON body, in one node table.
    stream: StreamBuilder<'a>,
    problems: Vec<BuildProblem>,
    warnings: Vec<BuildWarning>,
    files: &'a [crate::spec::SourceFile],
    /// For a 2.0 document: converted pointers back to the 2.0 places.
    map: Option<&'a PointerMap>,
    paging_mode: PagingMode,
    schemes: HashMap<String, Arc<SchemeCheck>>,
    /// Model names a loader is registered for.
    models: Vec<String>,
    lenient_dates: bool,
    fill_body_defaults: bool,
    /// Checking, not serving: a missing model loader is a warning (`Options::lint`).
    lint: bool,
    /// The document's version: constructs new in 3.2 are read only in a 3.2 document.
    version: Version,
    /// An OpenAPI 3.2 document: sequential media types are read item by item.
    sequential: bool,
}

struct OperationInput<'i> {
    item: &'i Value,
    item_at: &'i str,
    op: &'i Value,
    op_at: &'i str,
    label: Arc<str>,
    template_names: &'i [&'i str],
    root_security: Option<&'i Value>,
    root_policy: UndeclaredParams,
    options: &'i Options,
}

impl<'a> Compilation<'a> {
    /// The pointer in the document as written (the 2.0 place of a converted node).
    fn source(&self, at: &str) -> String {
        match self.map {
            Some(map) => map.source(at),
            None => at.to_owned(),
        }
    }

    /// Reports a problem at a pointer of the compiled tree.
    fn report(&mut self, at: &str, message: String) {
        let at = self.source(at);
        self.report_source(&at, message);
    }

    /// Reports a problem at a pointer of the document as written.
    fn report_source(&mut self, at: &str, message: String) {
        let problem = problem_at(self.files, at, message);
        // A shared schema compiled for several operations reports its problem once.
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }

    /// Sorts the references whose target is missing: an error where a request reaches one (the
    /// document cannot be served faithfully), a warning elsewhere. `responses`: whether the
    /// operations' responses are checked too (and so reached).
    fn dangling_refs(&mut self, dangling: DanglingReach, responses: bool) {
        let reached = if responses {
            dangling.with_responses
        } else {
            dangling.by_requests
        };
        for (missing, reached) in dangling.refs.iter().zip(reached) {
            let mut problem = missing.problem.clone();
            if reached {
                problem
                    .message
                    .push_str("; a request reaches it, so it cannot be checked");
                self.problems.push(problem);
            } else {
                problem.message.push_str(
                    "; no request reaches it, so the document is served as written and nothing \
                     is checked against it",
                );
                self.warnings.push(BuildWarning {
                    case: WarningCase::UnresolvedRef,
                    at: problem,
                });
            }
        }
    }

    /// Records a defect oasgate works around, at a pointer of the compiled tree; `message`
    /// says what is wrong and what is done instead.
    fn warn(&mut self, case: WarningCase, at: &str, message: String) {
        self.warn_source(case, &self.source(at), message);
    }

    /// [`Self::warn`] at a pointer of the document as written.
    fn warn_source(&mut self, case: WarningCase, at: &str, message: String) {
        let at = problem_at(self.files, at, message);
        let warning = BuildWarning { case, at };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The compiled check of the schema at `at`; an invalid schema is reported.
    fn check(&mut self, at: &str) -> Check {
        let compiled = self.compiler.compile(at);
        self.reported(compiled)
    }

    /// As [`check`](Self::check), for a check that only explains what a stream check
    /// refused (see [`Compiler::compile_explaining`]).
    fn explaining_check(&mut self, at: &str) -> Check {
        let compiled = self.compiler.compile_explaining(at);
        self.reported(compiled)
    }

    fn reported(&mut self, compiled: Result<Check, Vec<(String, String)>>) -> Check {
        compiled.unwrap_or_else(|problems| {
            for (at, message) in problems {
                self.report(&at, message);
            }
            Check::Any
        })
    }

    /// The node at `at`, following `$ref`s; reports a broken chain.
    fn resolve(&mut self, at: &str) -> Option<(&'a Value, String)> {
        let node = pointer::get(self.view, at)?;
        match pointer::resolve(self.view, node, at) {
            Ok(found) => Some(found),
            Err(e) => {
                self.report(at, e);
                None
            }
        }
    }

    /// The Media Type Object of a `content` entry at `at`. In OpenAPI 3.2 the entry may be a
    /// Reference Object ("Map[`string`, Media Type Object | Reference Object]", the `content`
    /// of 3.2's Request Body, Response, Parameter and Header Objects; to
    /// `components/mediaTypes` or elsewhere): followed, a broken chain reported. Earlier
    /// versions allow no reference there, so the entry is read as it stands.
    fn media_entry(&mut self, at: &str) -> Option<(&'a Value, String)> {
        if crate::spec::is_v3_2(self.view) {
            self.resolve(at)
        } else {
            pointer::get(self.view, at).map(|node| (node, at.to_owned()))
        }
    }

    /// The 3.2 `additionalOperations` of a path item: a map from method to operation; an entry
    /// that is no method, or a method a fixed field defines, is refused.
    fn additional_operations(&mut self, item: &Value, item_at: &str) {
        let Some(map) = item.get(methods::ADDITIONAL) else {
            return;
        };
        let at = pointer::join(item_at, methods::ADDITIONAL);
        let Value::Object(map) = map else {
            self.report(
                &at,
                "`additionalOperations` must be an object mapping HTTP methods to Operation \
                 Objects"
                    .to_owned(),
            );
            return;
        };
        for key in map.keys() {
            let key_at = pointer::join(&at, key);
            if let Some(message) = methods::refused_key(key) {
                self.report(&key_at, message);
            } else if let Some(field) = methods::case_variant(key) {
                // "The map key is the HTTP method with the same capitalization that is to be
                // sent in the request" (OpenAPI 3.2), and "The method token is case-sensitive"
                // (RFC 9110 §9.1): `post` is a method of its own, routed as written.
                self.warn(
                    WarningCase::MethodCase,
                    &key_at,
                    format!(
                        "`{key}` is routed for requests whose method is exactly `{key}`; \
                         methods are case-sensitive (RFC 9110 §9.1), so a `{}` request does \
                         not reach it (the `{field}` field defines `{}`)",
                        field.to_ascii_uppercase(),
                        field.to_ascii_uppercase()
                    ),
                );
            }
        }
    }

    /// Harmless oddities real documents have: logged, never fatal.
    fn warn_quirks(&self) {
        if let Some(Value::Array(tags)) = self.view.get("tags") {
            for (i, tag) in tags.iter().enumerate() {
                if tag.get("description").is_some_and(|d| !d.is_string()) {
                    tracing::warn!(target: "oasgate::spec", pointer = %format!("/tags/{i}/description"), "a tag description is not a string (a `$ref` where text belongs); it is served as written");
                }
            }
        }
    }

    fn read_schemes(&mut self) {
        let Some(Value::Object(schemes)) = self
            .view
            .get("components")
            .and_then(|c| c.get("securitySchemes"))
        else {
            return;
        };
        for name in schemes.keys() {
            let at = pointer::join("/components/securitySchemes", name);
            let Some((scheme, at)) = self.resolve(&at) else {
                continue;
            };
            match scheme_kind(scheme) {
                Ok(kind) => {
                    self.schemes
                        .insert(name.clone(), Arc::new(SchemeCheck::from(kind)));
                }
                Err(e) => self.report(&at, e),
            }
        }
    }

    /// The Security Scheme Object a 3.2 Security Requirement names by URI ("or be the URI of
    /// a Security Scheme Object"): a fragment in this document (`#/components/...`), or in a
    /// file the document's `$ref`s reach (`common.yaml#/components/...`).
    fn scheme_by_uri(&mut self, uri: &str) -> Result<Arc<SchemeCheck>, String> {
        let unknown = || {
            format!(
                "security requirement names `{uri}`, which is neither a security scheme \
                 component nor the URI of a Security Scheme Object in this document or a file \
                 its `$ref`s reach (\"Each name or URI MUST correspond to a security scheme\")"
            )
        };
        let (file, fragment) = uri.split_once('#').ok_or_else(unknown)?;
        if !fragment.starts_with('/') {
            return Err(unknown());
        }
        let file = file.strip_prefix("./").unwrap_or(file);
        let at = if file.is_empty() {
            pointer::percent_decoded(fragment)
        } else {
            let in_bundle = self
                .view
                .get(crate::spec::FILES_KEY)
                .is_some_and(|files| files.get(file).is_some());
            if !in_bundle {
                return Err(unknown());
            }
            format!(
                "{}{}",
                pointer::join(&pointer::join("", crate::spec::FILES_KEY), file),
                pointer::percent_decoded(fragment)
            )
        };
        if pointer::get(self.view, &at).is_none() {
            return Err(unknown());
        }
        let (scheme, _) = self.resolve(&at).ok_or_else(unknown)?;
        scheme_kind(scheme)
            .map(|kind| Arc::new(SchemeCheck::from(kind)))
            .map_err(|e| format!("security scheme `{uri}`: {e}"))
    }

    /// `x-oasgate-undeclared-query` on a node, or the inherited policy.
    fn policy(&mut self, node: &Value, at: &str, inherited: UndeclaredParams) -> UndeclaredParams {
        match node.get("x-oasgate-undeclared-query") {
            None => inherited,
            Some(v) => match v.as_str().and_then(UndeclaredParams::parse) {
                Some(p) => p,
                None => {
                    self.report(
                        &pointer::join(at, "x-oasgate-undeclared-query"),
                        "`x-oasgate-undeclared-query` must be `accept`, `reject` or `strip`"
                            .to_owned(),
                    );
                    inherited
                }
            },
        }
    }

    /// Base paths of a `servers` list: variables filled with defaults, host dropped.
    fn base_paths(&mut self, servers: Option<&Value>, at: &str) -> Vec<String> {
        let Some(Value::Array(servers)) = servers else {
            return vec![String::new()];
        };
        let mut bases = Vec::new();
        for (i, server) in servers.iter().enumerate() {
            let Some(url) = server.get("url").and_then(Value::as_str) else {
                self.report(&format!("{at}/{i}"), "a server needs a `url`".to_owned());
                continue;
            };
            let base = base_path(server, url);
            // A relative URL is "relative to the location where the document is being served"
            // (3.1 §4.8.5.1), which oasgate does not know; one that is not a path at all
            // (`,`, `Your API URL`) names no place either.
            if !base.is_empty() && !base.starts_with('/') {
                self.warn(
                    WarningCase::ServerUrl,
                    &format!("{at}/{i}/url"),
                    format!(
                        "server url `{url}` is neither an absolute URL nor a path starting with \
                         `/`; this server is ignored"
                    ),
                );
                continue;
            }
            if !bases.contains(&base) {
                bases.push(base);
            }
        }
        if bases.is_empty() {
            bases.push(String::new());
        }
        bases
    }

    fn operation(&mut self, input: OperationInput<'_>) -> Operation {
        let OperationInput {
            item,
            item_at,
            op,
            op_at,
            label,
            template_names,
            root_security,
            root_policy,
            options,
        } = input;
        // Path-item parameters first, then the operation's, which win on (in, name).
        let mut merged: Vec<(String, String)> = Vec::new(); // (key, pointer)
        for (node, at) in [(item, item_at), (op, op_at)] {
            let Some(Value::Array(list)) = node.get("parameters") else {
                continue;
            };
            for i in 0..list.len() {
                let p_at = format!("{}/{i}", pointer::join(at, "parameters"));
                let Some((p, p_at)) = self.resolve(&p_at) else {
                    continue;
                };
                let key = format!(
                    "{}:{}",
                    p.get("in").and_then(Value::as_str).unwrap_or_default(),
                    p.get("name").and_then(Value::as_str).unwrap_or_default()
                );
                match merged.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = p_at,
                    None => merged.push((key, p_at)),
                }
            }
        }
        let mut operation = Operation {
            id: op.get("operationId").and_then(Value::as_str).map(Arc::from),
            label,
            path: Vec::new(),
            query: Vec::new(),
            header: Vec::new(),
            header_names: Box::default(),
            cookie: Vec::new(),
            querystring: None,
            body: None,
            security: SecurityPlan::default(),
            undeclared_query: self.policy(op, op_at, root_policy),
            extra_query_names: Vec::new(),
            paging: op
                .get("x-paging")
                .and_then(|v| PagingConfig::from_extension(v).ok().flatten()),
            response_headers: self.deprecation(op, op_at),
            deprecated: op.get("deprecated").and_then(Value::as_bool) == Some(true),
            deprecation_logged: AtomicBool::new(false),
            has_models: false,
            secret_path: false,
            responses: None,
            path_names: None,
        };
        if self.version == Version::V3_2 {
            self.querystring_conflicts(&merged);
        }
        for (key, p_at) in merged {
            if self.version == Version::V3_2 && key.starts_with("querystring:") {
                if operation.querystring.is_none() {
                    operation.querystring = self.querystring(&p_at).map(Box::new);
                }
                continue;
            }
            let Some(param) = self.parameter(&p_at) else {
                continue;
            };
            match param.location {
                Location::Path => operation.path.push(param),
                Location::Query => operation.query.push(param),
                Location::Header => operation.header.push(param),
                Location::Cookie => operation.cookie.push(param),
            }
        }
        for name in template_names {
            if !operation.path.iter().any(|p| &*p.name == *name) {
                self.report(
                    op_at,
                    format!("path parameter `{name}` is in the template but not declared"),
                );
            }
        }
        for param in &operation.path {
            if !template_names.contains(&&*param.name) {
                self.report(
                    op_at,
                    format!(
                        "path parameter `{}` is declared but not in the template",
                        param.name
                    ),
                );
            }
        }
        // `x-paging` on the operation, `false` included, wins over the Girder reading.
        if op.get("x-paging").is_none() && self.paging_mode == PagingMode::Girder {
            let declared = |name: &str| operation.query.iter().find(|p| &*p.name == name);
            if ["limit", "offset", "sort", "sortdir"]
                .iter()
                .all(|name| declared(name).is_some())
            {
                operation.paging = Some(PagingConfig::girder(|name| {
                    declared(name).and_then(|p| p.default.clone())
                }));
            }
        }
        // Declared defaults of `sort` and `sortdir` become the paging's own (unless the
        // paging sets its own): filled in as values, a default `sortdir: 1` would read as sent
        // and clash with `sort=name,-created` or `sort=-name`.
        if let Some(config) = &mut operation.paging {
            for param in &mut operation.query {
                match (&*param.name, param.default.take()) {
                    ("sort", Some(Value::String(field)))
                        if config
                            .sort_fields
                            .as_ref()
                            .is_none_or(|fields| fields.contains(&field)) =>
                    {
                        config.default_sort.get_or_insert(field);
                    }
                    ("sortdir", Some(dir)) => {
                        if config.default_sortdir == 1 && dir.as_i64() == Some(-1) {
                            config.default_sortdir = -1;
                        }
                    }
                    (_, default) => param.default = default,
                }
            }
        }
        let has_models = operation.params().any(|p| p.model.is_some());
        operation.has_models = has_models;
        operation.secret_path = operation.path.iter().any(|p| p.secret);
        if op.get("requestBody").is_some() {
            operation.body = self.body(&pointer::join(op_at, "requestBody"));
        }
        let security = op.get("security").or(root_security);
        let security_at = if op.get("security").is_some() {
            pointer::join(op_at, "security")
        } else {
            "/security".to_owned()
        };
        operation.security = self.security(security, &security_at);
        operation.extra_query_names = operation
            .security
            .query_names()
            .map(str::to_owned)
            .collect();
        let _ = options;
        // Held for the layer's life, without the room the lists grew by (a large document
        // has thousands of parameters).
        for list in [
            &mut operation.path,
            &mut operation.query,
            &mut operation.header,
            &mut operation.cookie,
        ] {
            list.shrink_to_fit();
        }
        operation.header_names = operation
            .header
            .iter()
            .map(|p| http::HeaderName::from_bytes(p.name.as_bytes()).ok())
            .collect();
        operation
    }

    /// The MUSTs of OpenAPI 3.2 ("Parameter Locations") on where `in: querystring` may appear,
    /// over one operation's merged parameters (`in:name` keys with their pointers).
    fn querystring_conflicts(&mut self, merged: &[(String, String)]) {
        let mut querystrings = merged
            .iter()
            .filter(|(key, _)| key.starts_with("querystring:"));
        let Some((_, first)) = querystrings.next() else {
            return;
        };
        let first = first.clone();
        let rest: Vec<String> = querystrings.map(|(_, at)| at.clone()).collect();
        for at in rest {
            self.report(
                &at,
                format!(
                    "a second `in: querystring` parameter (the first is at `{}`); a \
                     querystring parameter \"MUST NOT appear more than once\"",
                    self.source(&first)
                ),
            );
        }
        let query: Vec<String> = merged
            .iter()
            .filter_map(|(key, at)| key.strip_prefix("query:").map(|name| (name, at)))
            .map(|(name, at)| format!("`{name}` at `{}`", self.source(at)))
            .collect();
        if !query.is_empty() {
            self.report(
                &first,
                format!(
                    "an `in: querystring` parameter beside `in: query` parameters ({}); it \
                     \"MUST NOT appear in the same operation (or in the operation's path-item) \
                     as any `in: \"query\"` parameters\"",
                    query.join(", ")
                ),
            );
        }
    }

    /// An `in: querystring` parameter (OpenAPI 3.2): the whole query string, described by the
    /// one media type of its `content`.
    fn querystring(&mut self, at: &str) -> Option<Querystring> {
        let node = pointer::get(self.view, at)?;
        let Some(name) = node.get("name").and_then(Value::as_str) else {
            self.report(at, "a parameter needs a `name`".to_owned());
            return None;
        };
        let mut refused = false;
        for key in ["style", "explode", "allowReserved", "schema"] {
            if node.get(key).is_some() {
                self.report(
                    &pointer::join(at, key),
                    format!(
                        "parameter `{name}`: `{key}` is not allowed on an `in: querystring` \
                         parameter (\"These fields MUST NOT be used with `in: \"querystring\"`\"); \
                         describe the query string with `content`"
                    ),
                );
                refused = true;
            }
        }
        let Some(Value::Object(content)) = node.get("content") else {
            self.report(
                at,
                format!(
                    "parameter `{name}`: an `in: querystring` parameter needs `content` (its \
                     value \"MUST be specified using the `content` field\")"
                ),
            );
            return None;
        };
        let content_at = pointer::join(at, "content");
        let mut entries = content.keys();
        let (Some(media_name), None) = (entries.next(), entries.next()) else {
            self.report(
                &content_at,
                format!(
                    "parameter `{name}`: `content` has {} entries; expected exactly one (\"The \
                     map MUST only contain one entry.\")",
                    content.len()
                ),
            );
            return None;
        };
        let (entry, entry_at) = self.resolve(&pointer::join(&content_at, media_name))?;
        let Some(media) = MediaType::parse(media_name) else {
            self.report(
                &entry_at,
                format!("parameter `{name}`: `{media_name}` is not a media type"),
            );
            return None;
        };
        if refused {
            return None;
        }
        let schema_at = pointer::join(&entry_at, "schema");
        let kind = if media.is_form() {
            QuerystringKind::Form(self.form_fields(entry, &schema_at))
        } else if media.is_json() {
            QuerystringKind::Json
        } else {
            QuerystringKind::Text
        };
        let (check, secret) = match entry.get("schema") {
            Some(schema) => {
                let secret = holds_secret(&self.shallow_resolved(schema));
                (self.check(&schema_at), secret)
            }
            None => (Check::Any, false),
        };
        Some(Querystring {
            name: name.into(),
            required: node
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            kind,
            check,
            secret,
        })
    }

    /// `Deprecation` (RFC 9745) and `Sunset` (RFC 8594) headers for a deprecated operation.
    fn deprecation(&mut self, op: &Value, op_at: &str) -> Option<Arc<[(HeaderName, HeaderValue)]>> {
        let deprecated = op
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut headers = Vec::new();
        if deprecated {
            // Without a date: the epoch, "deprecated already, since a date not given" — the same
            // on every replica and restart, unlike the start-up time.
            let since = match op.get("x-deprecated-at") {
                Some(v) => match v.as_str().and_then(parse_day) {
                    Some(t) => t.timestamp(),
                    None => {
                        self.report(
                            &pointer::join(op_at, "x-deprecated-at"),
                            "`x-deprecated-at` must be a date such as `2024-01-31`".into(),
                        );
                        return None;
                    }
                },
                None => 0,
            };
            if let Ok(v) = HeaderValue::from_str(&format!("@{since}")) {
                headers.push((HeaderName::from_static("deprecation"), v));
            }
        }
        if let Some(v) = op.get("x-sunset") {
            match v.as_str().and_then(parse_day) {
                Some(t) => {
                    let http_date = t.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                    if let Ok(v) = HeaderValue::from_str(&http_date) {
                        headers.push((HeaderName::from_static("sunset"), v));
                    }
                }
                None => self.report(
                    &pointer::join(op_at, "x-sunset"),
                    "`x-sunset` must be a date such as `2025-12-31`".into(),
                ),
            }
        }
        (!headers.is_empty()).then(|| headers.into())
    }

    fn parameter(&mut self, at: &str) -> Option<Param> {
        let node = pointer::get(self.view, at)?;
        let Some(name) = node.get("name").and_then(Value::as_str) else {
            self.report(at, "a parameter needs a `name`".to_owned());
            return None;
        };
        let location = match node
            .get("in")
            .and_then(Value::as_str)
            .and_then(Location::parse)
        {
            Some(l) => l,
            None => {
                self.report(
                    at,
                    format!("parameter `{name}`: `in` must be path, query, header or cookie"),
                );
                return None;
            }
        };
        if location == Location::Header
            && IGNORED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
        {
            return None;
        }
        let required = location == Location::Path
            || node
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let (schema_at, json_content) = if node.get("schema").is_some() {
            (pointer::join(at, "schema"), false)
        } else if let Some(Value::Object(content)) = node.get("content") {
            let entry = content.iter().next().and_then(|(media, _)| {
                let media_at = pointer::join(&pointer::join(at, "content"), media);
                let (entry, media_at) = self.media_entry(&media_at)?;
                Some((media, entry, media_at))
            });
            match entry {
                Some((media, entry, media_at)) if entry.get("schema").is_some() => {
                    let is_json = MediaType::parse(media).is_some_and(|m| m.is_json());
                    (pointer::join(&media_at, "schema"), is_json)
                }
                _ => (String::new(), false),
            }
        } else {
            self.report(
                at,
                format!("parameter `{name}` needs a `schema` or `content`"),
            );
            return None;
        };
        let (schema, schema_at) = if schema_at.is_empty() {
            (&Value::Bool(true), schema_at)
        } else {
            self.resolve(&schema_at)?
        };
        let style = match node.get("style").and_then(Value::as_str) {
            None => Style::default_for(location),
            Some(s) => match Style::parse(s) {
                // `style: cookie` is new in OpenAPI 3.2: elsewhere it stays an unknown style.
                Some(Style::Cookie) if self.version != Version::V3_2 => {
                    self.report(at, format!("parameter `{name}`: unknown style `{s}`"));
                    return None;
                }
                Some(style) => style,
                None => {
                    self.report(at, format!("parameter `{name}`: unknown style `{s}`"));
                    return None;
                }
            },
        };
        let explode = node
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style.default_explode());
        let shape_schema = self.shallow_resolved(schema);
        let flag = |ctx: &mut Self, key: &str| match node.get(key) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                ctx.report(
                    &pointer::join(at, key),
                    format!("`{key}` must be true or false"),
                );
                false
            }
        };
        let transform = Transform {
            strip: flag(self, "x-strip"),
            lowercase: flag(self, "x-lowercase"),
            uppercase: flag(self, "x-uppercase"),
        };
        let lenient = match node.get("x-date").map(|v| v.as_str()) {
            None => self.lenient_dates,
            Some(Some("lenient")) => true,
            Some(Some("strict")) => false,
            Some(_) => {
                self.report(
                    &pointer::join(at, "x-date"),
                    "`x-date` must be `lenient` or `strict`".into(),
                );
                false
            }
        };
        let date = match shape_schema.get("format").and_then(Value::as_str) {
            Some("date") => Some(DateKind::Date),
            Some("date-time") => Some(DateKind::DateTime),
            _ => None,
        }
        .filter(|_| {
            matches!(
                Shape::from_schema(&shape_schema),
                Shape::Primitive(crate::params::Prim::String)
            )
        })
        .map(|kind| DateParam { kind, lenient });
        let model: Option<Arc<str>> = match node.get("x-model") {
            None => None,
            Some(Value::String(name)) => {
                if !self.models.contains(name) {
                    let at = pointer::join(at, "x-model");
                    if self.lint {
                        self.warn(
                            WarningCase::ModelLoader,
                            &at,
                            format!(
                                "`x-model: {name}` needs a model loader, which a program \
                                 registers with `Options::model_loader`; `oasgate serve` has \
                                 none, so it refuses this document"
                            ),
                        );
                    } else {
                        self.report(
                            &at,
                            format!(
                                "no model loader is registered for `{name}` \
                                 (Options::model_loader); `oasgate serve` cannot load models, \
                                 so it cannot serve a document with `x-model` parameters"
                            ),
                        );
                    }
                }
                Some(name.as_str().into())
            }
            Some(_) => {
                self.report(
                    &pointer::join(at, "x-model"),
                    "`x-model` must be a model name".into(),
                );
                None
            }
        };
        let shape = if json_content {
            Shape::Primitive(crate::params::Prim::String)
        } else {
            Shape::from_schema(&shape_schema)
        };
        let check = if schema_at.is_empty() {
            Check::Any
        } else {
            self.check(&schema_at)
        };
        Some(Param {
            name: name.into(),
            location,
            required,
            style,
            explode,
            owns_object_keys: matches!(shape, Shape::Object(_))
                && (style == Style::DeepObject || (style == Style::Form && explode)),
            shape,
            allow_empty: node
                .get("allowEmptyValue")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            default: schema.get("default").cloned(),
            check,
            secret: location == Location::Cookie || holds_secret(&shape_schema),
            json_content,
            transform,
            date,
            model,
        })
    }

    /// A copy of a schema with `$ref`s one level down (items, properties) resolved, so its
    /// shape can be read.
    fn shallow_resolved(&self, schema: &Value) -> Value {
        let follow = |v: &Value| {
            pointer::resolve(self.view, v, "")
                .map(|(v, _)| v.clone())
                .unwrap_or_else(|_| v.clone())
        };
        let mut copy = follow(schema);
        if let Some(items) = copy.get_mut("items") {
            *items = follow(items);
        }
        if let Some(Value::Object(props)) = copy.get_mut("properties") {
            for value in props.values_mut() {
                *value = follow(value);
            }
        }
        if let Some(Value::Array(all)) = copy.get("allOf").cloned() {
            // Object parameters composed with allOf: merge their properties for the shape.
            let mut props = Map::new();
            for part in all {
                if let Some(Value::Object(p)) = follow(&part).get("properties") {
                    for (k, v) in p {
                        props.insert(k.clone(), follow(v));
                    }
                }
            }
            if !props.is_empty() && copy.get("properties").is_none() {
                copy["properties"] = Value::Object(props);
                copy["type"] = Value::from("object");
            }
        }
        copy
    }

    fn body(&mut self, at: &str) -> Option<BodyPlan> {
        let (node, at) = self.resolve(at)?;
        let required = node
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(Value::Object(content)) = node.get("content") else {
            self.report(&at, "a request body needs `content`".to_owned());
            return None;
        };
        let mut plan = BodyPlan {
            required,
            media: Vec::new(),
            entries: Vec::new(),
            declared: content.keys().cloned().collect::<Vec<_>>().join(", "),
        };
        for media_name in content.keys() {
            let entry_at = pointer::join(&pointer::join(&at, "content"), media_name);
            let Some((entry, entry_at)) = self.media_entry(&entry_at) else {
                continue;
            };
            let Some(media) = MediaType::parse(media_name) else {
                // `content` keys are "a media type or media type range" (OpenAPI 3.1
                // §4.8.13.1); a request's `Content-Type` can never match another key.
                self.warn(
                    WarningCase::MediaTypeKey,
                    &entry_at,
                    format!(
                        "`{media_name}` is not a media type; the entry is ignored, and a body \
                         whose type no other entry declares is refused with 415"
                    ),
                );
                continue;
            };
            // OpenAPI 3.2, "Sequential Media Types": "Implementations MUST support mapping sequential media
            // types into the JSON Schema data model by treating them as if the values were in
            // an array in the same order", and `itemSchema` "MUST be applied to each item in
            // the stream independently". Older documents read these types as before.
            let format = ItemFormat::of(&media).filter(|_| self.sequential);
            let item_schema = format.and(entry.get("itemSchema"));
            // A text body is read only when its schema describes a string: then the text is
            // that string. Any other schema on text (or raw bytes) is not checked.
            let kind = match (format, BodyKind::of(&media)) {
                (Some(format), _) if entry.get("schema").is_some() || item_schema.is_some() => {
                    BodyKind::Sequence(format)
                }
                (_, BodyKind::Text)
                    if !entry
                        .get("schema")
                        .is_some_and(|s| describes_text(&self.shallow_resolved(s))) =>
                {
                    BodyKind::PassThrough
                }
                (_, kind) => kind,
            };
            let schema_at = pointer::join(&entry_at, "schema");
            // A range (`application/*`) may receive JSON, so its schema is compiled too.
            let is_range = media.ty == "*" || media.subtype == "*";
            let checked =
                (kind != BodyKind::PassThrough || is_range) && entry.get("schema").is_some();
            let form_fields = match kind {
                BodyKind::Form | BodyKind::Multipart => self.form_fields(entry, &schema_at),
                _ => Vec::new(),
            };
            let reads_json = kind == BodyKind::Json || is_range && kind != BodyKind::Text;
            let defaults = match (self.fill_body_defaults, entry.get("schema")) {
                (true, Some(schema)) if reads_json => Defaults::build(self.view, schema),
                _ => None,
            };
            // A body the stream walk takes reaches the full check only when it is invalid.
            let stream = if checked && reads_json && defaults.is_none() {
                self.stream.compile(&schema_at)
            } else {
                None
            };
            let check = match &stream {
                _ if !checked => Check::Any,
                Some(_) => self.explaining_check(&schema_at),
                None => self.check(&schema_at),
            };
            let stream = stream.filter(|_| !matches!(check, Check::Any));
            let items = item_schema.map(|_| self.check(&pointer::join(&entry_at, "itemSchema")));
            plan.media.push(media.into_owned());
            plan.entries.push(BodyEntry {
                kind,
                check,
                stream,
                form_fields,
                defaults,
                items,
            });
        }
        Some(plan)
    }

    fn form_fields(&mut self, entry: &Value, schema_at: &str) -> Vec<FormField> {
        let Some(schema) = entry.get("schema") else {
            return Vec::new();
        };
        let schema = self.shallow_resolved(schema);
        let Some(Value::Object(props)) = schema.get("properties") else {
            return Vec::new();
        };
        let encodings = entry.get("encoding");
        props
            .iter()
            .map(|(name, prop)| {
                let encoding = encodings.and_then(|e| e.get(name));
                let style = encoding
                    .and_then(|e| e.get("style"))
                    .and_then(Value::as_str)
                    .and_then(Style::parse)
                    .unwrap_or(Style::Form);
                let explode = encoding
                    .and_then(|e| e.get("explode"))
                    .and_then(Value::as_bool)
                    .unwrap_or(style == Style::Form);
                let _ = schema_at;
                let prop = self.shallow_resolved(prop);
                FormField {
                    name: name.clone(),
                    shape: Shape::from_schema(&prop),
                    style,
                    explode,
                    secret: is_secret_schema(&prop),
                }
            })
            .collect()
    }

    fn security(&mut self, security: Option<&Value>, at: &str) -> SecurityPlan {
        let Some(Value::Array(alternatives)) = security else {
            return SecurityPlan::default();
        };
        let mut plan = SecurityPlan::default();
        for (i, alternative) in alternatives.iter().enumerate() {
            let Value::Object(schemes) = alternative else {
                self.report(
                    &format!("{at}/{i}"),
                    "a security requirement must be an object".to_owned(),
                );
                continue;
            };
            let mut all = Vec::new();
            for (name, scopes) in schemes {
                // A component name first: "Property names that are identical to a component
                // name under the Components Object MUST be treated as a component name"; then,
                // in a 3.2 document, the URI of a Security Scheme Object.
                let check = match self.schemes.get(name).cloned() {
                    Some(check) => check,
                    None if self.version == Version::V3_2 => match self.scheme_by_uri(name) {
                        Ok(check) => check,
                        Err(e) => {
                            self.report(&format!("{at}/{i}"), e);
                            continue;
                        }
                    },
                    None => {
                        self.report(
                            &format!("{at}/{i}"),
                            format!("security requirement names unknown scheme `{name}`"),
                        );
                        continue;
                    }
                };
                let scopes: Vec<String> = scopes
                    .as_array()
                    .map(|s| {
                        s.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                all.push(Requirement {
                    scheme: name.as_str().into(),
                    check,
                    scopes: scopes.into(),
                });
            }
            plan.alternatives.push(all);
        }
        plan
    }
}

/// Whether a `text/*` entry's schema describes a string the text can be checked as
/// (`format: binary` is raw bytes, not text).
fn describes_text(schema: &Value) -> bool {
    let string = match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    string && schema.get("format").and_then(Value::as_str) != Some("binary")
}

/// What the served document says the layer can answer on `op`.
fn operation_facts(op: &Operation, at: String) -> OperationFacts {
    OperationFacts {
        at,
        secured: !op.security.is_public(),
        body_declared: op.body.is_some(),
        body_read: op.body.as_ref().is_some_and(|body| {
            body.entries.iter().any(|e| e.kind != BodyKind::PassThrough)
                || body.media.iter().any(|m| m.ty == "*" || m.subtype == "*")
        }),
        responses_enforced: op
            .responses
            .as_ref()
            .is_some_and(|r| r.mode == crate::options::ResponseValidation::Enforce),
    }
}

/// Whether a parameter schema, its items or one of its properties is secret (`format:
/// password`, `writeOnly`), so that errors about the parameter never show its value.
fn holds_secret(schema: &Value) -> bool {
    is_secret_schema(schema)
        || schema.get("items").is_some_and(is_secret_schema)
        || schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|props| props.values().any(is_secret_schema))
}

/// Midnight UTC of an ISO day (`2025-12-31`).
fn parse_day(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}
