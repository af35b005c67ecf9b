//! Parameter decoding and checking.
//!
//! Turns the raw text of path, query, header and cookie parameters into JSON
//! values following the OpenAPI 3.x `style` × `explode` serialization rules,
//! and checks simple parameter schemas without a full JSON Schema validator.
//!
//! - [`Shape::from_schema`] says what a parameter decodes into: a primitive,
//!   an array of primitives or an object of primitives.
//! - [`decode_path`], [`decode_query`], [`decode_header`] and
//!   [`decode_cookie`] work on raw, still percent-encoded text. Values are
//!   split on their delimiters before each piece is percent-decoded, so an
//!   encoded delimiter (`%2C`) is data. In query strings `+` is a space;
//!   elsewhere it is literal. Malformed escapes such as `%zz` are kept as
//!   they are; escapes that decode to invalid UTF-8 fail with `encoding`.
//! - [`split_query`] and [`split_cookies`] cut a query or a `Cookie` header into [`Pair`]s:
//!   each name percent-decoded once (every declared parameter compares with it), each value
//!   as sent.
//! - [`coerce`] turns text into a JSON primitive, strictly by default.
//! - [`check_format`] and [`SimpleSchema`] validate values allocation-free
//!   when they are valid.
//!
//! Decode errors carry a short `code`: `type` (coercion failed), `empty`
//! (empty value without `allowEmptyValue`), `duplicate` (a single-valued
//! parameter or an object property given twice), `format` (the value does not
//! follow its style's syntax) or `encoding` (invalid UTF-8 once decoded).
//!
//! Choices where OpenAPI is silent:
//! - a style the location does not support is read as the location's default
//!   (`simple` for path and header, `form` for query and cookie), except the delimited
//!   list styles on path and header arrays (below);
//!   `deepObject` applies to objects only, other shapes fall back to `form`;
//! - `pipeDelimited` splits on `|` and on `%7C`, `spaceDelimited` on `%20`,
//!   a literal space and `+`; with `explode=true` both behave like `form`;
//! - `tabDelimited` (Swagger 2.0's `collectionFormat: tsv`, no 3.x style) splits on `%09`
//!   and a literal tab; a 2.0 document's `ssv`, `pipes` and `tsv` path and header arrays
//!   split on their delimiter too (in a path `+` is data; a header is split on the literal
//!   character only);
//! - with `allowEmptyValue`, an empty value is `""` for strings, `[]` for
//!   arrays and `{}` for objects, and a `type` error for other primitives;
//! - exploded `form` objects (`R=100&G=200`) collect declared properties only,
//!   while `deepObject`, non-exploded lists and path/header objects also keep
//!   undeclared properties (coerced by `additionalProperties`, else strings);
//! - several header lines form one comma-separated list for arrays and
//!   objects, and whitespace around list items is dropped; a primitive header
//!   given on several lines is a `duplicate`;
//! - cookie values keep surrounding double quotes;
//! - OpenAPI 3.2's `style: cookie` reads like `form` over the cookie pairs, but percent-decodes
//!   nothing (3.2: "any apparent percent-encoding MUST NOT be decoded").

mod coerce;
mod decode;
mod encode;
mod formats;
mod shape;
mod simple;

pub use coerce::{Coercion, DecodeError, coerce};
pub use decode::{
    Pair, ParamSpec, decode_cookie, decode_header, decode_path, decode_query, split_cookies,
    split_query,
};
pub(crate) use decode::{Pairs, split_query_bounded, split_query_into};
pub use encode::{encode_query, push_raw_pair};
pub(crate) use encode::{push_digits, push_encoded, push_padded_digits, push_pair};
pub use formats::{check_format, format_checker, format_description};
pub use shape::{Location, ObjectShape, Prim, Shape, Style};
pub(crate) use simple::Scalar;
pub use simple::{SchemaError, SimpleSchema};
