//! A bundle for tools that read one file: definitions from other files move into
//! `components`.
//!
//! A loaded [`Document`](crate::Document) keeps every other file under `x-oasgate-files` and
//! points there with local `$ref`s: self-contained, but not where tools look. Here every
//! definition a `$ref` reaches in another file moves to `components/<section>/<name>`, the
//! section chosen by where it is used (a parameter list → `parameters`, `responses` →
//! `responses`, a schema position → `schemas`…) and the name taken from the pointer's last
//! segment or the file's stem (`droplet.yml` → `droplet`, numbered when taken). References
//! stay references, so recursive schemas stay finite. What has no components section (a path
//! item in 3.0, a `$ref` standing where text belongs) is copied in place.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::spec::{pointer, walk};

const FILES: &str = "/x-oasgate-files/";

/// Rounds of copying in place before giving up on a cycle of in-place references.
const INLINE_ROUNDS: usize = 16;

/// Moves every definition reached in another file into `components` (see the module docs).
pub(crate) fn bundle(doc: &mut Value) {
    if doc.get("x-oasgate-files").is_none() {
        return;
    }
    let v2 = doc.get("swagger").is_some();
    let v3_2 = crate::spec::is_v3_2(doc);
    let mut sites = Vec::new();
    collect(doc, &mut String::new(), &mut sites);
    // Target → (section, name) for targets that move; sections and names in order of use.
    let mut moved: HashMap<String, String> = HashMap::new();
    let mut taken: HashMap<String, Vec<String>> = HashMap::new();
    let mut moves: Vec<(String, String)> = Vec::new();
    for (site, target) in &sites {
        if !target.starts_with(FILES) || moved.contains_key(target) {
            continue;
        }
        let Some(section) = section_for(site, v3_2).and_then(|s| home(v2, s)) else {
            continue;
        };
        let names = taken.entry(section.to_owned()).or_insert_with(|| {
            pointer::get(doc, section)
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        });
        let wanted = name_for(target);
        let name = std::iter::once(wanted.clone())
            .chain((2..).map(|n| format!("{wanted}_{n}")))
            .find(|n| !names.contains(n))
            .unwrap_or_default();
        names.push(name.clone());
        let to = format!("{section}/{}", pointer::escape(&name));
        moved.insert(target.clone(), to.clone());
        moves.push((target.clone(), to));
    }
    // A target inside another moved one is reached through it, not copied again.
    let nested: Vec<String> = moves
        .iter()
        .filter(|(from, _)| {
            moves.iter().any(|(outer, _)| {
                from.len() > outer.len() && from.starts_with(&format!("{outer}/"))
            })
        })
        .map(|(from, _)| from.clone())
        .collect();
    moves.retain(|(from, _)| !nested.contains(from));
    moved.retain(|from, _| !nested.contains(from));
    for (from, to) in &moves {
        let Some(value) = pointer::get(doc, from).cloned() else {
            continue;
        };
        // Every parent object on the way is made when missing.
        let tokens: Vec<String> = to.split('/').skip(1).map(pointer::unescape).collect();
        let Some((name, parents)) = tokens.split_last() else {
            continue;
        };
        let mut node = &mut *doc;
        for token in parents {
            match node {
                Value::Object(map) => {
                    node = map
                        .entry(token.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                }
                _ => break,
            }
        }
        if let Some(entries) = node.as_object_mut() {
            entries.insert(name.clone(), value);
        }
    }
    retarget(doc, &moved);
    for _ in 0..INLINE_ROUNDS {
        let mut sites = Vec::new();
        collect(doc, &mut String::new(), &mut sites);
        let inline: Vec<(String, String)> = sites
            .into_iter()
            .filter(|(site, target)| target.starts_with(FILES) && !site.starts_with(FILES))
            .collect();
        if inline.is_empty() {
            if let Some(root) = doc.as_object_mut() {
                root.shift_remove("x-oasgate-files");
            }
            return;
        }
        for (site, target) in inline {
            let Some(mut copy) = pointer::get(doc, &target).cloned() else {
                continue;
            };
            if let Some(Value::Object(node)) = pointer::get_mut(doc, &site) {
                node.shift_remove("$ref");
                if let Value::Object(copy_map) = &mut copy {
                    // Siblings of `$ref` (a `description`, a `summary`) win over the copy's.
                    for (k, v) in std::mem::take(node) {
                        copy_map.insert(k, v);
                    }
                    *node = std::mem::take(copy_map);
                } else if node.is_empty() {
                    *pointer::get_mut(doc, &site).unwrap_or(&mut Value::Null) = copy;
                }
            }
        }
    }
    tracing::warn!(target: "oasgate::spec", "some in-place `$ref`s form a cycle; the bundle keeps `x-oasgate-files`");
}

/// Every `$ref` site (the object's pointer) with its local target.
fn collect(node: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
    walk::ref_holders(node, at, &mut |node, at| {
        if let Some(target) = pointer::local_ref(node) {
            out.push((at.to_owned(), target));
        }
    });
}

/// Rewrites `$ref`s into moved definitions (or below them) to their new place.
fn retarget(node: &mut Value, moved: &HashMap<String, String>) {
    walk::ref_holders_mut(node, &mut String::new(), &mut |node, _| {
        if let Some(Value::String(reference)) = node.get_mut("$ref")
            && let Some(target) = reference.strip_prefix('#')
        {
            let target = pointer::percent_decoded(target);
            // The longest moved ancestor of the target (itself included).
            let mut prefix = target.as_str();
            loop {
                if let Some(to) = moved.get(prefix) {
                    let rest = &target[prefix.len()..];
                    *reference = format!("#{}", pointer::to_fragment(&format!("{to}{rest}")));
                    break;
                }
                match prefix.rfind('/') {
                    Some(i) if i > 0 => prefix = &prefix[..i],
                    _ => break,
                }
            }
        }
        true
    });
}

/// Where definitions of a components section live: `/components/<section>`, or in a
/// Swagger 2.0 document the root `definitions`, `parameters` and `responses` (2.0 has no other
/// reusable sections; the rest is copied in place).
fn home(v2: bool, section: &str) -> Option<&'static str> {
    Some(match (v2, section) {
        (true, "schemas") => "/definitions",
        (true, "parameters") => "/parameters",
        (true, "responses") => "/responses",
        (true, _) => return None,
        (false, "schemas") => "/components/schemas",
        (false, "responses") => "/components/responses",
        (false, "parameters") => "/components/parameters",
        (false, "examples") => "/components/examples",
        (false, "requestBodies") => "/components/requestBodies",
        (false, "headers") => "/components/headers",
        (false, "securitySchemes") => "/components/securitySchemes",
        (false, "links") => "/components/links",
        (false, "callbacks") => "/components/callbacks",
        (false, "mediaTypes") => "/components/mediaTypes",
        (false, _) => return None,
    })
}

/// The components section a definition used at `site` belongs in; `None` to copy in place.
/// `v3_2`: the document is OpenAPI 3.2, whose `content` entries may be references to
/// `components/mediaTypes`.
fn section_for(site: &str, v3_2: bool) -> Option<&'static str> {
    let mut tokens: Vec<String> = site.split('/').skip(1).map(pointer::unescape).collect();
    if site.starts_with(FILES) {
        tokens.drain(..2.min(tokens.len()));
    }
    let last = tokens.last().map(String::as_str)?;
    let prev = tokens.len().checked_sub(2).map(|i| tokens[i].as_str());
    let before = tokens.len().checked_sub(3).map(|i| tokens[i].as_str());
    let numeric = last.bytes().all(|b| b.is_ascii_digit());
    const SECTIONS: [&str; 10] = [
        "mediaTypes",
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
    ];
    if before == Some("components")
        && let Some(section) = SECTIONS.iter().find(|s| Some(**s) == prev)
    {
        return Some(*section).filter(|s| v3_2 || *s != "mediaTypes");
    }
    if matches!(
        prev,
        Some("properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas")
    ) || (numeric && matches!(prev, Some("allOf" | "anyOf" | "oneOf" | "prefixItems")))
        || matches!(
            last,
            "schema"
                | "items"
                | "additionalProperties"
                | "not"
                | "contains"
                | "if"
                | "then"
                | "else"
                | "propertyNames"
                | "unevaluatedItems"
                | "unevaluatedProperties"
                | "additionalItems"
                | "contentSchema"
        )
    {
        return Some("schemas");
    }
    match prev {
        Some("parameters") if numeric => Some("parameters"),
        Some("responses") => Some("responses"),
        Some("headers") => Some("headers"),
        Some("examples") if !numeric => Some("examples"),
        Some("links") => Some("links"),
        Some("callbacks") => Some("callbacks"),
        // A `content` entry: "Map[`string`, Media Type Object | Reference Object]" (3.2).
        Some("content") if v3_2 => Some("mediaTypes"),
        _ if last == "requestBody" => Some("requestBodies"),
        _ => None,
    }
}

/// A component name for a target: its last pointer segment, or the file's stem.
fn name_for(target: &str) -> String {
    let rest = &target[FILES.len()..];
    let (file, inner) = rest.split_once('/').unwrap_or((rest, ""));
    let raw = match inner.rsplit('/').next().filter(|s| !s.is_empty()) {
        Some(last) => pointer::unescape(last),
        None => {
            let file = pointer::unescape(file);
            let base = file.rsplit('/').next().unwrap_or(&file).to_owned();
            base.split('.').next().unwrap_or(&base).to_owned()
        }
    };
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "definition".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_the_section_from_the_use() {
        let rows = [
            ("/paths/~1a/get/parameters/0", Some("parameters")),
            ("/paths/~1a/get/responses/200", Some("responses")),
            ("/paths/~1a/get/requestBody", Some("requestBodies")),
            (
                "/paths/~1a/get/responses/200/content/application~1json/schema",
                Some("schemas"),
            ),
            (
                "/paths/~1a/get/responses/200/headers/X-Rate",
                Some("headers"),
            ),
            ("/components/schemas/Pet", Some("schemas")),
            ("/components/parameters/id", Some("parameters")),
            (
                "/x-oasgate-files/a.yml/properties/parameters",
                Some("schemas"),
            ),
            ("/x-oasgate-files/a.yml/allOf/1", Some("schemas")),
            ("/paths/~1a", None),
            ("/tags/0/description", None),
        ];
        for (site, want) in rows {
            assert_eq!(section_for(site, false), want, "{site}");
        }
        let content = "/paths/~1a/get/requestBody/content/application~1json";
        assert_eq!(section_for(content, true), Some("mediaTypes"));
        assert_eq!(section_for(content, false), None);
        assert_eq!(
            section_for("/components/mediaTypes/Page", true),
            Some("mediaTypes")
        );
    }

    #[test]
    fn moves_definitions_and_keeps_references() {
        let mut doc = json!({
            "openapi": "3.0.3",
            "paths": {
                "/a": {"$ref": "#/x-oasgate-files/paths.yml/a"},
            },
            "components": {"schemas": {"node": {"type": "string"}}},
            "x-oasgate-files": {
                "paths.yml": {"a": {"get": {
                    "parameters": [{"$ref": "#/x-oasgate-files/params.yml/id"}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/x-oasgate-files/node.yml"}}}}}}}},
                "params.yml": {"id": {"name": "id", "in": "query", "schema": {"type": "integer"}}},
                "node.yml": {"type": "object", "properties": {
                    "next": {"$ref": "#/x-oasgate-files/node.yml"},
                    "name": {"$ref": "#/x-oasgate-files/node.yml/properties/next"}}}
            }
        });
        bundle(&mut doc);
        assert!(doc.get("x-oasgate-files").is_none(), "{doc:#}");
        let get = &doc["paths"]["/a"]["get"];
        assert_eq!(get["parameters"][0]["$ref"], "#/components/parameters/id");
        let schema = &get["responses"]["200"]["content"]["application/json"]["schema"];
        // `node` is taken by the root document: the moved one is numbered.
        assert_eq!(schema["$ref"], "#/components/schemas/node_2");
        let node = &doc["components"]["schemas"]["node_2"];
        assert_eq!(
            node["properties"]["next"]["$ref"],
            "#/components/schemas/node_2"
        );
        assert_eq!(
            node["properties"]["name"]["$ref"],
            "#/components/schemas/node_2/properties/next"
        );
        assert_eq!(doc["components"]["parameters"]["id"]["name"], "id");
    }
}
