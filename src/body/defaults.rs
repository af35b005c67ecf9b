//! Schema `default`s filled into JSON bodies (an option, off by default).
//!
//! Built once per body schema: which properties have defaults, at every depth reachable
//! through `properties`, `items`, `allOf` and `$ref`. Applying it inserts a default where a
//! property is absent and never changes a value the client sent.

use serde_json::Value;

use crate::spec::pointer;

/// Deepest nesting followed while building (recursive schemas stop here).
const MAX_DEPTH: usize = 16;

/// The defaults of one object or array schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Defaults {
    /// Property name, its default, and the defaults inside it.
    props: Vec<(String, Option<Value>, Option<Defaults>)>,
    items: Option<Box<Defaults>>,
}

impl Defaults {
    /// The defaults below `schema` (resolved against `doc`), or None when there are none.
    pub fn build(doc: &Value, schema: &Value) -> Option<Self> {
        Self::build_at(doc, schema, 0)
    }

    fn build_at(doc: &Value, schema: &Value, depth: usize) -> Option<Self> {
        if depth > MAX_DEPTH {
            return None;
        }
        let schema = pointer::resolve(doc, schema, "").map(|(s, _)| s).ok()?;
        let mut out = Defaults::default();
        if let Some(Value::Object(props)) = schema.get("properties") {
            for (name, prop) in props {
                let resolved = pointer::resolve(doc, prop, "")
                    .map(|(s, _)| s)
                    .unwrap_or(prop);
                let default = resolved.get("default").cloned();
                let inner = Self::build_at(doc, resolved, depth + 1);
                if default.is_some() || inner.is_some() {
                    out.props.push((name.clone(), default, inner));
                }
            }
        }
        if let Some(Value::Array(parts)) = schema.get("allOf") {
            for part in parts {
                if let Some(more) = Self::build_at(doc, part, depth + 1) {
                    out.props.extend(more.props);
                    out.items = out.items.or(more.items);
                }
            }
        }
        if let Some(items) = schema.get("items") {
            out.items = Self::build_at(doc, items, depth + 1).map(Box::new);
        }
        (!out.props.is_empty() || out.items.is_some()).then_some(out)
    }

    /// Inserts the defaults of absent properties; answers whether anything changed.
    pub fn apply(&self, value: &mut Value) -> bool {
        let mut changed = false;
        match value {
            Value::Object(map) => {
                for (name, default, inner) in &self.props {
                    match map.get_mut(name) {
                        Some(present) => {
                            if let Some(inner) = inner {
                                changed |= inner.apply(present);
                            }
                        }
                        None => {
                            if let Some(default) = default {
                                map.insert(name.clone(), default.clone());
                                changed = true;
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                if let Some(inner) = &self.items {
                    for item in items {
                        changed |= inner.apply(item);
                    }
                }
            }
            _ => {}
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_absent_properties_at_every_depth() {
        let doc = json!({"components": {"schemas": {
            "Tag": {"type": "object", "properties": {"color": {"type": "string", "default": "red"}}},
            "Node": {"type": "object", "properties": {
                "size": {"type": "integer", "default": 1},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}},
        }}});
        let schema = json!({"allOf": [
            {"type": "object", "properties": {"name": {"type": "string", "default": "anon"}, "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}}},
            {"$ref": "#/components/schemas/Node"},
        ]});
        let defaults = Defaults::build(&doc, &schema).unwrap();
        // (body, expected after filling)
        let rows = [
            (json!({}), json!({"name": "anon", "size": 1})),
            (
                json!({"name": "x", "size": 5}),
                json!({"name": "x", "size": 5}),
            ),
            (
                json!({"tags": [{}, {"color": "blue"}]}),
                json!({"name": "anon", "size": 1, "tags": [{"color": "red"}, {"color": "blue"}]}),
            ),
            (
                json!({"children": [{"children": [{}]}]}),
                json!({"name": "anon", "size": 1, "children": [{"size": 1, "children": [{"size": 1}]}]}),
            ),
            (json!([1, 2]), json!([1, 2])),
            (json!(null), json!(null)),
        ];
        for (mut body, want) in rows {
            let before = body.clone();
            let changed = defaults.apply(&mut body);
            assert_eq!(body, want, "{before}");
            assert_eq!(changed, before != want, "{before}");
        }
        assert_eq!(Defaults::build(&doc, &json!({"type": "string"})), None);
    }
}
