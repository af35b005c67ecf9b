//! The part of a view that compiled checks still read once compiling ends.
//!
//! A jsonschema check reads the view when it explains a failure (the failed keyword's schema,
//! `writeOnly` on the way, a discriminator's branches) and when it builds a dropped validator
//! again through the registry over the view. Everything else in the view (operations,
//! parameters compiled natively, schemas only other checks used) is read by nothing after
//! start-up, yet a whole view was kept as long as one such check lived: on a large document
//! the biggest thing left after start-up. [`reach`] finds what the checks can read, [`keep`]
//! moves just that into a tree of its own, every node at the pointer it had, so the pointers
//! the checks hold and jsonschema reports mean the same in it.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::spec::pointer;

/// Keywords that let a schema name another by something other than a local JSON pointer.
/// Where one is in reach, what a check may read is not just what pointers lead to.
const NAMING_KEYWORDS: [&str; 6] = [
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$dynamicRef",
    "$recursiveRef",
    "$recursiveAnchor",
];

/// The subtrees of `view` the schemas at `roots` reach through local `$ref`s, as a list in
/// which no pointer is below another; `None` when reach cannot be known from pointers (a
/// `$ref` that is not a local pointer, an `$id` or an anchor within reach) or is the whole
/// view.
///
/// Every node of a reached subtree is read as a possible schema, examples and defaults
/// included: a `$ref` member there at worst keeps more than needed.
pub(crate) fn reach<'r>(
    view: &Value,
    roots: impl IntoIterator<Item = &'r str>,
) -> Option<Vec<String>> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: Vec<String> = Vec::new();
    for root in roots {
        if seen.insert(root.to_owned()) {
            queue.push(root.to_owned());
        }
    }
    while let Some(at) = queue.pop() {
        let Some(node) = pointer::get(view, &at) else {
            continue;
        };
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            match node {
                Value::Object(map) => {
                    if NAMING_KEYWORDS
                        .iter()
                        .any(|k| map.get(*k).is_some_and(|v| v.is_string() || v.is_boolean()))
                    {
                        return None;
                    }
                    if let Some(Value::String(reference)) = map.get("$ref") {
                        if !reference.starts_with('#') {
                            return None;
                        }
                        if let Some(target) = pointer::local_ref(node)
                            && seen.insert(target.clone())
                        {
                            queue.push(target);
                        }
                    }
                    stack.extend(map.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
    if seen.contains("") {
        return None;
    }
    // Outermost first; a pointer below a kept one goes with it.
    let mut kept: Vec<String> = seen
        .iter()
        .filter(|at| {
            at.match_indices('/')
                .skip(1)
                .all(|(i, _)| !seen.contains(&at[..i]))
        })
        .cloned()
        .collect();
    kept.sort_unstable();
    Some(kept)
}

/// A tree holding the nodes of `view` at each of `pointers` (from [`reach`]) at the same
/// pointer, moved out of `view`. The objects and arrays above them hold only the way down;
/// an array keeps its length up to the kept index, earlier items `null`.
pub(crate) fn keep(view: &mut Value, pointers: &[String]) -> Value {
    let mut out = empty_like(view);
    for at in pointers {
        let segments = pointer::segments(at);
        // The shape of each container on the way, read before the node is moved out.
        let mut shapes = Vec::with_capacity(segments.len());
        let mut node = Some(&*view);
        for segment in &segments {
            shapes.push(node.map(empty_like).unwrap_or(Value::Null));
            node = node.and_then(|n| child(n, segment));
        }
        let Some(taken) = pointer::get_mut(view, at).map(std::mem::take) else {
            continue;
        };
        if let Some(slot) = way_down(&mut out, &segments, shapes) {
            *slot = taken;
        }
    }
    out
}

/// The node at `segments` below `slot`, made where missing, each container on the way made
/// with the shape `shapes` gives it.
fn way_down<'a>(
    mut slot: &'a mut Value,
    segments: &[String],
    shapes: Vec<Value>,
) -> Option<&'a mut Value> {
    for (segment, shape) in segments.iter().zip(shapes) {
        if slot.is_null() {
            *slot = shape;
        }
        slot = match slot {
            Value::Object(map) => map.entry(segment.clone()).or_insert(Value::Null),
            Value::Array(items) => {
                let i = segment.parse::<usize>().ok()?;
                if items.len() <= i {
                    items.resize(i + 1, Value::Null);
                }
                &mut items[i]
            }
            _ => return None,
        };
    }
    Some(slot)
}

fn empty_like(node: &Value) -> Value {
    match node {
        Value::Array(_) => Value::Array(Vec::new()),
        _ => Value::Object(Map::new()),
    }
}

fn child<'a>(node: &'a Value, segment: &str) -> Option<&'a Value> {
    match node {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn view() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {
                "/pets": {
                    "post": {
                        "parameters": [
                            {"name": "a", "in": "query", "schema": {"type": "string"}},
                            {"name": "b", "in": "query", "schema": {"$ref": "#/components/schemas/Tag"}}
                        ],
                        "requestBody": {"content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Pet"}
                        }}}
                    }
                }
            },
            "components": {"schemas": {
                "Pet": {"type": "object", "properties": {
                    "owner": {"$ref": "#/components/schemas/Owner"},
                    "kind": {"oneOf": [{"type": "integer"}, {"$ref": "#/components/schemas/Kind/allOf/1"}]}
                }},
                "Owner": {"type": "object", "properties": {"pet": {"$ref": "#/components/schemas/Pet"}}},
                "Kind": {"allOf": [{"type": "string"}, {"minLength": 2}]},
                "Tag": {"type": "object", "properties": {"big": {"type": "string", "description": "unused"}}},
                "Unused": {"type": "object"}
            }}
        })
    }

    #[test]
    fn reach_follows_references_and_keeps_outermost_pointers() {
        let view = view();
        let body = "/paths/~1pets/post/requestBody/content/application~1json/schema";
        let reached = reach(&view, [body, "/components/schemas/Pet/properties/owner"]).unwrap();
        assert_eq!(
            reached,
            [
                "/components/schemas/Kind/allOf/1",
                "/components/schemas/Owner",
                "/components/schemas/Pet",
                body,
            ]
        );
    }

    #[test]
    fn reach_refuses_what_pointers_cannot_tell() {
        let mut view = view();
        let body = "/paths/~1pets/post/requestBody/content/application~1json/schema";
        view["components"]["schemas"]["Owner"]["$id"] = json!("https://example.com/owner");
        assert_eq!(reach(&view, [body]), None, "an `$id` within reach");
        // Out of reach it changes nothing.
        assert!(reach(&view, ["/components/schemas/Tag"]).is_some());
        let mut view = super::tests::view();
        view["components"]["schemas"]["Owner"]["properties"]["pet"] =
            json!({"$ref": "https://example.com/pet.json"});
        assert_eq!(
            reach(&view, [body]),
            None,
            "a `$ref` that is no local pointer"
        );
        // A property named `$id` is a schema, not an identifier.
        let mut view = super::tests::view();
        view["components"]["schemas"]["Owner"]["properties"]["$id"] = json!({"type": "string"});
        assert!(reach(&view, [body]).is_some());
        assert_eq!(reach(&view, [""]), None, "the whole view");
    }

    #[test]
    fn keep_moves_each_subtree_to_its_own_pointer() {
        let mut view = view();
        let body = "/paths/~1pets/post/requestBody/content/application~1json/schema";
        let original = view.clone();
        let reached = reach(&view, [body]).unwrap();
        let kept = keep(&mut view, &reached);
        for at in &reached {
            assert_eq!(pointer::get(&kept, at), pointer::get(&original, at), "{at}");
        }
        // The way down holds nothing else; an array keeps the kept item's index.
        assert_eq!(
            kept["components"]["schemas"]["Kind"],
            json!({"allOf": [null, {"minLength": 2}]})
        );
        assert!(kept["components"]["schemas"].get("Unused").is_none());
        assert!(kept["paths"]["/pets"]["post"].get("parameters").is_none());
        assert!(kept.get("openapi").is_none());
        // Moved, not copied.
        assert_eq!(
            original["components"]["schemas"]["Tag"],
            view["components"]["schemas"]["Tag"]
        );
        assert_eq!(view["components"]["schemas"]["Pet"], Value::Null);
    }
}
