//! Parameters and paging, with the Girder extras as `x-` extensions.

use schemars::JsonSchema;
use serde_json::{Map, Value, json};

use super::schema::{SchemaFn, schema_of};

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamIn {
    /// A segment of the path template (`/jobs/{id}`); always required.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl ParamIn {
    /// The OpenAPI `in` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamIn::Path => "path",
            ParamIn::Query => "query",
            ParamIn::Header => "header",
            ParamIn::Cookie => "cookie",
        }
    }
}

/// One parameter of an [`Operation`](super::Operation): name, location, type and rules.
///
/// The type comes from [`JsonSchema`]; everything else is chained:
///
/// ```
/// use oasgate::describe::Param;
///
/// let sort = Param::query::<String>("sort")
///     .description("field to sort by")
///     .enumeration(["name", "created"])
///     .default("name")
///     .strip()
///     .lowercase();
/// # let _ = sort;
/// ```
#[derive(Debug, Clone)]
pub struct Param {
    pub(crate) name: String,
    pub(crate) location: ParamIn,
    pub(crate) schema: SchemaFn,
    pub(crate) json_content: bool,
    pub(crate) required: bool,
    pub(crate) description: Option<String>,
    pub(crate) deprecated: bool,
    /// Keywords added to the type's schema: `default`, `enum`.
    pub(crate) schema_keywords: Map<String, Value>,
    /// Keywords on the parameter object: `example`, `style`, `explode`, `x-…`.
    pub(crate) keywords: Map<String, Value>,
}

impl Param {
    /// A parameter of type `T` in `location`; optional unless in the path.
    pub fn new<T: JsonSchema + ?Sized>(location: ParamIn, name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            location,
            schema: schema_of::<T>,
            json_content: false,
            required: location == ParamIn::Path,
            description: None,
            deprecated: false,
            schema_keywords: Map::new(),
            keywords: Map::new(),
        }
    }

    /// A path parameter of type `T` (always required).
    pub fn path<T: JsonSchema + ?Sized>(name: impl Into<String>) -> Self {
        Self::new::<T>(ParamIn::Path, name)
    }

    /// An optional query parameter of type `T`.
    pub fn query<T: JsonSchema + ?Sized>(name: impl Into<String>) -> Self {
        Self::new::<T>(ParamIn::Query, name)
    }

    /// An optional header parameter of type `T`.
    pub fn header<T: JsonSchema + ?Sized>(name: impl Into<String>) -> Self {
        Self::new::<T>(ParamIn::Header, name)
    }

    /// An optional cookie parameter of type `T`.
    pub fn cookie<T: JsonSchema + ?Sized>(name: impl Into<String>) -> Self {
        Self::new::<T>(ParamIn::Cookie, name)
    }

    /// A parameter whose value is JSON text of type `T` (Girder's `jsonParam`): declared as
    /// `content: application/json`, parsed and checked against `T`'s schema.
    pub fn json<T: JsonSchema + ?Sized>(location: ParamIn, name: impl Into<String>) -> Self {
        Self {
            json_content: true,
            ..Self::new::<T>(location, name)
        }
    }

    /// A parameter naming an entity that a loader registered for `model` turns into the entity
    /// (Girder's `modelParam`), emitted as `x-model`. Its value is an identifier string.
    pub fn model(location: ParamIn, name: impl Into<String>, model: impl Into<String>) -> Self {
        Self::new::<str>(location, name).extension("x-model", model.into())
    }

    /// Shown in the docs.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Must be sent (path parameters always are).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Filled in when the request does not send the parameter.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.schema_keywords.insert("default".into(), value.into());
        self
    }

    /// The only values accepted (checked after coercion and transforms).
    pub fn enumeration<V: Into<Value>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        self.schema_keywords
            .insert("enum".into(), Value::Array(values));
        self
    }

    /// An example value for the docs.
    pub fn example(mut self, value: impl Into<Value>) -> Self {
        self.keywords.insert("example".into(), value.into());
        self
    }

    /// Marks the parameter as deprecated in the docs.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Trims surrounding white space before validation (`x-strip`).
    pub fn strip(self) -> Self {
        self.extension("x-strip", true)
    }

    /// Lowercases the value before validation (`x-lowercase`).
    pub fn lowercase(self) -> Self {
        self.extension("x-lowercase", true)
    }

    /// Uppercases the value before validation (`x-uppercase`).
    pub fn uppercase(self) -> Self {
        self.extension("x-uppercase", true)
    }

    /// Accepts dates and times as a person types them (`x-date: lenient`); the handler still
    /// receives one canonical form. For types with `format: date` or `date-time`.
    pub fn lenient_date(self) -> Self {
        self.extension("x-date", "lenient")
    }

    /// The serialization `style` (`form`, `simple`, `deepObject`…), when not the location's
    /// default.
    pub fn style(self, style: impl Into<String>) -> Self {
        self.extension("style", style.into())
    }

    /// Whether arrays and objects are sent exploded.
    pub fn explode(self, explode: bool) -> Self {
        self.extension("explode", explode)
    }

    /// Any other field of the parameter object, such as an `x-` extension of your own.
    pub fn extension(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.keywords.insert(key.into(), value.into());
        self
    }
}

/// Girder's `pagingParams`: `limit`, `offset`, `sort` and `sortdir`, merged into one
/// `Paging` value for the handler. Emitted as the operation's `x-paging`.
///
/// ```
/// use oasgate::describe::Paging;
///
/// let paging = Paging::new().sort_fields(["name", "created"]).max_limit(200);
/// # let _ = paging;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Paging {
    default_sort: Option<String>,
    default_sortdir: Option<i8>,
    default_limit: Option<u64>,
    max_limit: Option<u64>,
    sort_fields: Option<Vec<String>>,
}

impl Paging {
    /// The engine's defaults: no sort, ascending, limit 50, at most 1000, any field.
    pub fn new() -> Self {
        Self::default()
    }

    /// The field sorted by when the request names none.
    pub fn default_sort(mut self, field: impl Into<String>) -> Self {
        self.default_sort = Some(field.into());
        self
    }

    /// `1` (ascending) or `-1` (descending) when the request does not say.
    pub fn default_sortdir(mut self, dir: i8) -> Self {
        self.default_sortdir = Some(dir);
        self
    }

    /// `limit` when the request does not say.
    pub fn default_limit(mut self, limit: u64) -> Self {
        self.default_limit = Some(limit);
        self
    }

    /// The largest `limit` accepted.
    pub fn max_limit(mut self, limit: u64) -> Self {
        self.max_limit = Some(limit);
        self
    }

    /// The only fields `sort` may name.
    pub fn sort_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.sort_fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// `true` when every setting is the default, else the settings that differ.
    pub(crate) fn to_value(&self) -> Value {
        if *self == Self::default() {
            return Value::Bool(true);
        }
        let mut out = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                out.insert(key.to_owned(), value);
            }
        };
        put("default_sort", self.default_sort.clone().map(Value::from));
        put("default_sortdir", self.default_sortdir.map(Value::from));
        put("default_limit", self.default_limit.map(Value::from));
        put("max_limit", self.max_limit.map(Value::from));
        put("sort_fields", self.sort_fields.as_ref().map(|f| json!(f)));
        Value::Object(out)
    }
}
