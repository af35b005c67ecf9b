//! Types → JSON Schema 2020-12 through `schemars`, registered under `components/schemas`.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};

/// Produces a type's schema (a `$ref` for named types) and registers what it needs.
///
/// A plain `fn` pointer keeps builders free of generics: the type is remembered by which
/// instance of [`schema_of`] was taken, and the schema is made once, when the document is.
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The [`SchemaFn`] for `T`.
pub(crate) fn schema_of<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Where named schemas go, and what their `$ref`s start with.
pub(crate) const COMPONENTS: &str = "#/components/schemas/";

/// One generator per document, so each type is registered once and referenced everywhere.
pub(crate) fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            // The document's `jsonSchemaDialect` says which dialect every schema uses.
            s.meta_schema = None;
        })
        .into_generator()
}

/// The named component a schema refers to, when it is only a `$ref`.
pub(crate) fn component_name(schema: &Value) -> Option<&str> {
    let object = schema.as_object()?;
    if object.len() != 1 {
        return None;
    }
    object.get("$ref")?.as_str()?.strip_prefix(COMPONENTS)
}

/// A schema that can take more keywords (`default`, `enum`…) and still be read the same way by
/// every tool: a bare `$ref` is replaced by a copy of what it refers to.
pub(crate) fn inlined(schema: Value, definitions: &Map<String, Value>) -> Value {
    match component_name(&schema).and_then(|name| definitions.get(name)) {
        Some(definition) => definition.clone(),
        None => schema,
    }
}
