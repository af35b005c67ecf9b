//! `check`, `route` and `bundle`: the document tools.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use http::{HeaderName, HeaderValue, Method, Request, Uri};
use oasgate::config::Config;
use oasgate::{Document, OpenApiLayer, Options, Version};
use serde_json::{Value, json};

use crate::Format;

/// Loads and compiles `spec`; prints `ok` or every problem, and every warning.
pub fn check(spec: &Path, format: Format, strict: bool) -> ExitCode {
    let result = Document::from_path(spec).and_then(|doc| {
        let version = doc.version();
        OpenApiLayer::with_options(doc, Options::default().lint(true).strict(strict))
            .map(|layer| (version, layer.warnings().to_vec()))
    });
    let (problems, warnings) = match &result {
        Ok((_, warnings)) => (&[][..], &warnings[..]),
        Err(error) => (error.problems(), error.warnings()),
    };
    let version = result.as_ref().ok().map(|(version, _)| match version {
        Version::V2_0 => "2.0",
        Version::V3_0 => "3.0",
        Version::V3_1 => "3.1",
        _ => "3.2",
    });
    match format {
        Format::Text => {
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            match (&result, version) {
                (Ok(_), Some(version)) => {
                    let noted = match warnings.len() {
                        0 => String::new(),
                        1 => ", 1 warning".to_owned(),
                        n => format!(", {n} warnings"),
                    };
                    println!("{}: ok (OpenAPI {version}{noted})", spec.display());
                }
                (Err(error), _) => eprintln!("{error}"),
                (Ok(_), None) => {}
            }
        }
        Format::Json => {
            let place = |p: &oasgate::BuildProblem| json!({"file": p.file, "line": p.line, "pointer": p.pointer, "message": p.message});
            let report = json!({
                "ok": result.is_ok(),
                "version": version,
                "problems": problems.iter().map(place).collect::<Vec<_>>(),
                "warnings": warnings.iter().map(|w| {
                    let mut entry = place(&w.at);
                    entry["case"] = json!(w.case.as_str());
                    entry
                }).collect::<Vec<_>>(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Matches one request against `spec` and prints the operation and its values, or the problem.
pub fn route(
    spec: &Path,
    method: &str,
    url: &str,
    headers: &[String],
    config: Option<&Path>,
) -> ExitCode {
    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    };
    let options = match config.map(Config::from_path).transpose() {
        Ok(config) => config.map_or_else(Options::default, |c| c.to_options()),
        Err(error) => return fail(error.to_string()),
    };
    let layer = match Document::from_path(spec).and_then(|d| OpenApiLayer::with_options(d, options))
    {
        Ok(layer) => layer,
        Err(error) => return fail(error.to_string()),
    };
    let request = match build_request(method, url, headers) {
        Ok(request) => request,
        Err(message) => return fail(message),
    };
    let (parts, ()) = request.into_parts();
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(format!("cannot start the runtime: {error}")),
    };
    let (report, code) = match runtime.block_on(layer.check_head(&parts)) {
        Ok(Some(validated)) => (
            json!({"status": 200, "operation": &*validated.operation, "validated": validated}),
            ExitCode::SUCCESS,
        ),
        Ok(None) => (
            json!({"status": 200, "operation": null, "detail": "not validated: no operation has this path and unknown routes pass through, or it is the served document"}),
            ExitCode::SUCCESS,
        ),
        Err(problem) => {
            let body: Value = serde_json::from_slice(problem.body()).unwrap_or(Value::Null);
            (
                json!({"status": problem.status().as_u16(), "problem": body}),
                ExitCode::FAILURE,
            )
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    code
}

fn build_request(method: &str, url: &str, headers: &[String]) -> Result<Request<()>, String> {
    // `get` for `GET` is a convenience for the standard methods (and 3.2's `QUERY`); any other
    // method is taken as written, since "the method token is case-sensitive" (RFC 9110 §9.1):
    // `PURGE` and `purge` are two methods.
    const STANDARD: [&str; 10] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
    ];
    let upper = method.to_ascii_uppercase();
    let token = if STANDARD.contains(&upper.as_str()) {
        upper.as_str()
    } else {
        method
    };
    let method = Method::from_bytes(token.as_bytes())
        .map_err(|_| format!("`{method}` is not an HTTP method"))?;
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    // Only the path and query matter for matching.
    let uri: Uri = match uri.path_and_query() {
        Some(pq) => pq.as_str().parse().map_err(|e| format!("`{url}`: {e}"))?,
        None => "/".parse().expect("`/` is a URI"),
    };
    let mut request = Request::builder().method(method).uri(uri).body(()).unwrap();
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("header `{header}` is not `Name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("`{}` is not a header name", name.trim()))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("the value of `{name}` is not a valid header value"))?;
        request.headers_mut().append(name, value);
    }
    Ok(request)
}

/// Writes the document as one self-contained file (pretty JSON): definitions from other
/// files under `components`, as `serve_bundled` serves it.
pub fn bundle(spec: &Path, output: Option<&Path>) -> ExitCode {
    let document = match Document::from_path(spec) {
        Ok(document) => document,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut unresolved = document.unresolved_refs().peekable();
    if unresolved.peek().is_some() {
        for problem in unresolved {
            eprintln!("error: {problem}");
        }
        eprintln!("error: cannot write a self-contained document while a `$ref` names nothing");
        return ExitCode::FAILURE;
    }
    let bundled = document.bundled();
    if bundled.get("x-oasgate-files").is_some() {
        eprintln!(
            "warning: some `$ref`s copied in place form a cycle; their files stay under `x-oasgate-files`"
        );
    }
    let mut text = serde_json::to_string_pretty(&bundled).unwrap_or_default();
    text.push('\n');
    let written = match output {
        Some(path) => std::fs::write(path, text),
        None => std::io::stdout().write_all(text.as_bytes()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the bundle: {error}");
            ExitCode::FAILURE
        }
    }
}
