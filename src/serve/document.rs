//! What the served document adds to the loaded one: the problem answers the layer gives on
//! each operation, and `servers` that point at the URL the client used.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::problem;
use crate::spec::pointer;

/// What the layer can answer on one operation, read from its compiled plan.
#[derive(Debug, Clone)]
pub(crate) struct OperationFacts {
    /// Where the operation is in the served document (after following a path item `$ref`).
    pub at: String,
    /// Security that is not optional: 401.
    pub secured: bool,
    /// A request body is declared: 415.
    pub body_declared: bool,
    /// Some declared media type is read (JSON, form, multipart): 413, and 400/422 bodies.
    pub body_read: bool,
    /// Response validation is enforced: an invalid response is replaced by a problem.
    pub responses_enforced: bool,
}

/// How the problem responses are described.
pub(crate) struct ProblemStyle {
    /// A custom formatter renders problems: no body shape can be promised.
    pub custom_format: bool,
    /// A verifier is configured: secured operations may answer 403.
    pub verifier: bool,
    /// Schema-breaking bodies answer 422.
    pub unprocessable_bodies: bool,
    /// Invalid responses are answered `502` (a gateway's upstream) rather than `500`.
    pub forwards_upstream: bool,
}

/// Whether the served document is Swagger 2.0 (problems go in `definitions` and the root
/// `responses`, with a `schema` instead of `content`; `host`/`basePath` instead of `servers`).
fn is_2_0(doc: &Value) -> bool {
    doc.get("swagger").is_some()
}

/// The pointer of a reusable section: `/components/<section>`, or in 2.0 `/definitions` for
/// schemas and `/<section>` for the rest.
fn section_pointer(doc: &Value, section: &str) -> String {
    match (is_2_0(doc), section) {
        (true, "schemas") => "/definitions".to_owned(),
        (true, other) => format!("/{other}"),
        (false, other) => format!("/components/{other}"),
    }
}

/// A free name in `components/<section>`: `wanted`, or `wanted` with a number after it.
fn free_name(doc: &Value, section: &str, wanted: &str) -> String {
    let at = section_pointer(doc, section);
    let taken = |name: &str| pointer::get(doc, &at).and_then(|s| s.get(name)).is_some();
    if !taken(wanted) {
        return wanted.to_owned();
    }
    (2..)
        .map(|n| format!("{wanted}{n}"))
        .find(|name| !taken(name))
        .unwrap_or_default()
}

/// Where the problem schema goes: `Problem` when free or already the very same schema (a
/// described document declares it for its own problem responses), else a free variant.
fn problem_schema_name(doc: &Value) -> String {
    let existing = pointer::get(
        doc,
        &format!(
            "{}/{}",
            section_pointer(doc, "schemas"),
            problem::SCHEMA_NAME
        ),
    );
    match existing {
        Some(schema) if *schema == problem::json_schema() => problem::SCHEMA_NAME.to_owned(),
        _ => free_name(doc, "schemas", problem::SCHEMA_NAME),
    }
}

fn components<'d>(doc: &'d mut Value, section: &str) -> Option<&'d mut Map<String, Value>> {
    if is_2_0(doc) {
        let key = if section == "schemas" {
            "definitions"
        } else {
            section
        };
        return doc
            .as_object_mut()?
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut();
    }
    let root = doc.as_object_mut()?;
    let components = root
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    components
        .entry(section)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// One problem response per status the layer answers, in `components/responses`; answers the
/// names used, by status.
fn add_problem_components(doc: &mut Value, style: &ProblemStyle) -> Vec<(&'static str, String)> {
    let v2 = is_2_0(doc);
    let content = if style.custom_format {
        None
    } else {
        let schema = problem_schema_name(doc);
        let reference = format!(
            "#{}/{}",
            section_pointer(doc, "schemas"),
            pointer::escape(&schema)
        );
        if let Some(schemas) = components(doc, "schemas") {
            schemas.insert(schema, problem::json_schema());
        }
        Some(json!({"application/problem+json": {"schema": {"$ref": reference}}}))
    };
    let statuses: [(&str, &str, &str); 10] = [
        (
            "400",
            "ProblemBadRequest",
            "The parameters or the body break the document, or the request passes a limit \
             (every error is listed).",
        ),
        (
            "401",
            "ProblemUnauthorized",
            "Credentials are missing, malformed or refused.",
        ),
        (
            "403",
            "ProblemForbidden",
            "The credentials are valid but not enough for this operation.",
        ),
        (
            "404",
            "ProblemNotFound",
            "No operation has this path, or an entity the path names does not exist.",
        ),
        (
            "405",
            "ProblemMethodNotAllowed",
            "The path exists but not with this method.",
        ),
        (
            "413",
            "ProblemPayloadTooLarge",
            "The body is larger than the server accepts.",
        ),
        (
            "415",
            "ProblemUnsupportedMediaType",
            "The body's content type is not one the operation declares.",
        ),
        (
            "422",
            "ProblemUnprocessable",
            "The body parses but breaks its schema.",
        ),
        (
            "500",
            "ProblemInvalidResponse",
            "The service's answer breaks the document and response validation is enforced: \
             the problem (`urn:oasgate:problem:invalid-response`) lists its violations.",
        ),
        (
            "502",
            "ProblemInvalidUpstreamResponse",
            "The upstream's answer breaks the document and response validation is enforced: \
             the problem (`urn:oasgate:problem:invalid-response`) lists its violations.",
        ),
    ];
    let mut names = Vec::new();
    for (status, wanted, description) in statuses {
        let name = free_name(doc, "responses", wanted);
        let mut response = json!({"description": description});
        if let Some(content) = &content {
            if v2 {
                // 2.0: one `schema`; the media type is the operation's `produces`.
                response["schema"] = content["application/problem+json"]["schema"].clone();
            } else {
                response["content"] = content.clone();
            }
        }
        let header = |description: &str| {
            if v2 {
                json!({"description": description, "type": "string"})
            } else {
                json!({"description": description, "schema": {"type": "string"}})
            }
        };
        match status {
            "401" => {
                response["headers"] = json!({"WWW-Authenticate":
                    header("The schemes the operation accepts (RFC 9110).")})
            }
            "405" => response["headers"] = json!({"Allow": header("The methods the path allows.")}),
            _ => {}
        }
        if let Some(responses) = components(doc, "responses") {
            responses.insert(name.clone(), response);
        }
        names.push((status, name));
    }
    names
}

/// Adds to each operation the problem responses the layer can answer there, unless the
/// operation declares that status itself.
pub(crate) fn add_problem_responses(
    doc: &mut Value,
    operations: &[OperationFacts],
    style: &ProblemStyle,
) {
    if operations.is_empty() {
        return;
    }
    let names = add_problem_components(doc, style);
    let doc_sections = &if is_2_0(doc) {
        json!({"swagger": "2.0"})
    } else {
        json!({})
    };
    let v2 = is_2_0(doc);
    // The problem responses as added to the components, for entries that merge them.
    let problems: Vec<Value> = names
        .iter()
        .map(|(_, name)| {
            pointer::get(
                doc,
                &format!(
                    "{}/{}",
                    section_pointer(doc_sections, "responses"),
                    pointer::escape(name)
                ),
            )
            .cloned()
            .unwrap_or(Value::Null)
        })
        .collect();
    let mut used = vec![false; names.len()];
    // Each problem merged with a covering entry, as a component of its own: operations
    // covered by the same entry (a shared `default`, often on every operation) name it.
    // By the covering entry's text: (status index, component name).
    let mut shared: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    for facts in operations {
        let statuses = [
            // Every routed request meets the query limits (pair count, length), so any
            // operation can answer 400.
            ("400", true),
            ("401", facts.secured),
            ("403", facts.secured && style.verifier),
            ("404", true),
            ("405", true),
            ("413", facts.body_read),
            ("415", facts.body_declared),
            ("422", facts.body_read && style.unprocessable_bodies),
            // An invalid response is replaced by a problem only when enforced: 500 from the
            // layer, 502 from a gateway (the upstream's fault, RFC 9110 §15.6.3: "received an
            // invalid response from an inbound server").
            ("500", facts.responses_enforced && !style.forwards_upstream),
            ("502", facts.responses_enforced && style.forwards_upstream),
        ];
        // A status the operation's range (`4XX`) or `default` covers: an explicit entry "takes
        // precedence over the range definition for that code" (OpenAPI 3.1 §4.8.16.2), so a
        // bare problem entry would take away what the document allowed there — the service's
        // own answers under that range. The added entry keeps the range's content beside the
        // problem's. (2.0 has one `schema` per response: the problem is added as it is.)
        // Read once per range the operation gets an entry in, not once per status.
        let declared = pointer::get(doc, &facts.at).and_then(|op| op.get("responses"));
        let wanted = |range: u8| {
            statuses.iter().any(|(status, applies)| {
                *applies
                    && status.as_bytes()[0] == range
                    && declared.is_none_or(|r| r.get(*status).is_none())
            })
        };
        // The covering entry (its `$ref`s followed), what it is called, and its text.
        let covering_of = |range: u8| -> Option<(Value, &'static str, String)> {
            if v2 || !wanted(range) {
                return None;
            }
            let responses = declared?;
            let range_key = format!("{}XX", range as char);
            let (entry, label) = match responses
                .as_object()?
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(&range_key))
            {
                Some((_, entry)) => (entry, if range == b'4' { "4XX" } else { "5XX" }),
                None => (responses.get("default")?, "Default"),
            };
            let mut entry = follow_local(doc, entry).clone();
            if let Some(Value::Object(headers)) = entry.get_mut("headers") {
                for header in headers.values_mut() {
                    *header = follow_local(doc, header).clone();
                }
            }
            let text = entry.to_string();
            Some((entry, label, text))
        };
        let covering_4xx = covering_of(b'4');
        let covering_5xx = covering_of(b'5');
        let to_add: Vec<(&str, usize)> = statuses
            .iter()
            .filter(|(status, applies)| {
                *applies && declared.is_none_or(|r| r.get(*status).is_none())
            })
            .filter_map(|(status, _)| {
                names
                    .iter()
                    .position(|(s, _)| s == status)
                    .map(|i| (*status, i))
            })
            .collect();
        let mut added = Vec::new();
        for (status, i) in to_add {
            let covering = if status.starts_with('4') {
                &covering_4xx
            } else {
                &covering_5xx
            };
            let name = match covering {
                None => {
                    used[i] = true;
                    names[i].1.clone()
                }
                Some((covering, label, text)) => {
                    let known = shared
                        .get(text.as_str())
                        .and_then(|merged| merged.iter().find(|(status, _)| *status == i));
                    match known {
                        Some((_, name)) => name.clone(),
                        None => {
                            let wanted = format!("{}Or{label}", names[i].1);
                            let name = free_name(doc, "responses", &wanted);
                            if let Some(responses) = components(doc, "responses") {
                                responses.insert(name.clone(), merged(&problems[i], covering));
                            }
                            shared
                                .entry(text.clone())
                                .or_default()
                                .push((i, name.clone()));
                            name
                        }
                    }
                }
            };
            added.push((status, name));
        }
        let Some(Value::Object(op)) = pointer::get_mut(doc, &facts.at) else {
            continue;
        };
        let responses = op
            .entry("responses")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(responses) = responses else {
            continue;
        };
        for (status, name) in added {
            let reference = format!(
                "#{}/{}",
                section_pointer(doc_sections, "responses"),
                pointer::escape(&name)
            );
            responses.insert(status.to_owned(), json!({"$ref": reference}));
        }
    }
    // Keep only the responses some operation uses.
    if let Some(responses) = components(doc, "responses") {
        for ((_, name), used) in names.iter().zip(used) {
            if !used {
                responses.shift_remove(name);
            }
        }
    }
}

/// `node` with its local `$ref`s followed (at most a few: the document loaded, so none loops).
fn follow_local<'d>(doc: &'d Value, mut node: &'d Value) -> &'d Value {
    for _ in 0..32 {
        let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy())
            .and_then(|p| pointer::get(doc, &p))
        else {
            break;
        };
        node = target;
    }
    node
}

/// The problem response with the content of the range or `default` entry that covered its
/// status: either may answer there.
fn merged(problem: &Value, covering: &Value) -> Value {
    let mut response = problem.clone();
    let problem_description = problem["description"].as_str().unwrap_or_default();
    let covering_description = covering["description"].as_str().unwrap_or_default();
    response["description"] = json!(format!(
        "{problem_description} Otherwise as documented for this range: {covering_description}"
    ));
    if let Some(Value::Object(content)) = covering.get("content") {
        let target = response
            .as_object_mut()
            .expect("a problem response is an object")
            .entry("content")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(target) = target {
            for (media, entry) in content {
                target.entry(media.clone()).or_insert_with(|| entry.clone());
            }
        }
    }
    if let Some(Value::Object(headers)) = covering.get("headers") {
        let target = response
            .as_object_mut()
            .expect("a problem response is an object")
            .entry("headers")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(target) = target {
            for (name, header) in headers {
                // Not required: the problem does not carry the range's headers (their `$ref`s
                // were followed when the covering entry was read).
                let mut header = header.clone();
                if let Value::Object(h) = &mut header {
                    h.remove("required");
                }
                target.entry(name.clone()).or_insert(header);
            }
        }
    }
    response
}

/// Rewrites every `servers` list (document, path items, operations) so each URL is `origin`
/// (a placeholder filled per request) + the layer's prefix + the server's base path, with
/// variables at their defaults — exactly where the router listens. A document without
/// `servers` gets one, for the root.
pub(crate) fn template_servers(doc: &mut Value, prefix: &str, origin: &str) {
    if is_2_0(doc) {
        base_path_2_0(doc, prefix);
        return;
    }
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let servers = root
        .get("servers")
        .and_then(Value::as_array)
        .filter(|list| !list.is_empty())
        .cloned()
        .unwrap_or_else(|| vec![json!({"url": "/"})]);
    root.insert(
        "servers".into(),
        Value::Array(rewrite(&servers, prefix, origin)),
    );
    let added = crate::spec::methods::is_3_2(root.get("openapi"));
    let Some(Value::Object(paths)) = root.get_mut("paths") else {
        return;
    };
    for (_, item) in paths
        .iter_mut()
        .filter(|(k, _)| !crate::spec::is_extension(k))
    {
        let Value::Object(item) = item else {
            continue;
        };
        if let Some(Value::Array(list)) = item.get_mut("servers") {
            *list = rewrite(list, prefix, origin);
        }
        for (key, op) in item
            .iter_mut()
            .filter(|(k, _)| !crate::spec::is_extension(k))
        {
            // 3.2: `additionalOperations` maps methods to operations, each with its `servers`.
            if added
                && key == crate::spec::methods::ADDITIONAL
                && let Value::Object(ops) = op
            {
                for op in ops.values_mut() {
                    if let Some(Value::Array(list)) = op.get_mut("servers") {
                        *list = rewrite(list, prefix, origin);
                    }
                }
                continue;
            }
            if let Some(Value::Array(list)) = op.get_mut("servers") {
                *list = rewrite(list, prefix, origin);
            }
        }
    }
}

fn rewrite(servers: &[Value], prefix: &str, origin: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for server in servers {
        let Some(url) = server.get("url").and_then(Value::as_str) else {
            continue;
        };
        let path = crate::spec::base_path(server, url);
        let rewritten = format!("{origin}{prefix}{path}");
        if out.iter().any(|s| s["url"] == rewritten.as_str()) {
            continue;
        }
        let mut server = server.clone();
        if let Value::Object(map) = &mut server {
            map.shift_remove("variables");
            map.insert("url".into(), Value::String(rewritten));
        }
        out.push(server);
    }
    out
}

/// The 2.0 form of [`template_servers`]: 2.0 has one `host` and `basePath` and no per-request
/// placeholder fits a host without its scheme, so `host` and `schemes` are dropped — "If the
/// host is not included, the host serving the documentation is to be used (including the
/// port)"; without `schemes`, "the scheme used to access the API is the one used to access the
/// Swagger definition itself" (OpenAPI 2.0, "Swagger Object") — and `basePath` becomes the
/// layer's prefix + the base path, where the router listens.
fn base_path_2_0(doc: &mut Value, prefix: &str) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    root.shift_remove("host");
    root.shift_remove("schemes");
    let base = root
        .get("basePath")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_end_matches('/');
    let full = format!("{prefix}{base}");
    root.insert(
        "basePath".into(),
        Value::String(if full.is_empty() { "/".into() } else { full }),
    );
}
