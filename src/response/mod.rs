//! Response validation: what the inner service answers is checked against the document.
//!
//! Off by default. [`Options::response_validation`](crate::Options::response_validation) (config
//! key `options.response_validation`) turns it on for every operation; an operation may
//! choose its own mode with `x-oasgate-response-validation: off | report | enforce`.
//!
//! What is checked, for a request matched to an operation:
//!
//! - the **status** is declared: its exact code, else its range (`4XX`), else `default`;
//! - the **content type** is declared for that status (with parameters, `type/*` and `*/*`
//!   ranges); content where the status declares none, and content on a `204`, a `304` or an
//!   answer to `HEAD`, are violations;
//! - a **JSON body** (`application/json`, any `+json` type) breaks no rule of its schema, read
//!   with response semantics: `writeOnly` properties must not appear, `readOnly` ones may and
//!   `required` applies to them; a `text/*` body with a string schema is checked as one
//!   string; other media types are not read;
//! - the declared **headers** (`simple` style): present when `required`, and valid against
//!   their schema.
//!
//! Every violation is listed (capped by [`Options::error_cap`](crate::Options::error_cap)) with
//! the header name or a JSON pointer into the body, and what was expected; values of secret
//! schemas (`format: password`, `writeOnly`) are never shown.
//!
//! - [`ResponseValidation::Report`]: the response goes on unchanged, streamed as it comes; the
//!   body is checked once it has passed whole, and the violations are logged (`warn`) under
//!   the `tracing` target `oasgate::response` with the operation, status, matched response
//!   entry and violations. [`Options::response_validation_sample`](crate::Options::response_validation_sample)
//!   checks only a share of each operation's responses.
//! - [`ResponseValidation::Enforce`]: the answer waits for the body (up to
//!   [`Options::response_validation_max_body`](crate::Options::response_validation_max_body));
//!   an invalid response is replaced by a problem `urn:oasgate:problem:invalid-response` —
//!   500 from the layer, 502 when the response carries the [`Origin::Upstream`] extension,
//!   as `oasgate serve` marks what it forwards. The original body is never forwarded in part.
//!
//! An answer checked and let through carries a [`ResponseChecked`] extension naming the
//! operation, the `responses` entry and the `content` key it matched.
//!
//! A body longer than the bound (declared so, or found so while it is read) is not held: it
//! streams on unchecked, and the skip is logged under `oasgate::response`. In enforce mode the
//! bytes read so far go first, then the rest; the client never receives a part of a body
//! followed by a problem.

mod body;
mod check;

use std::sync::Arc;

pub use crate::options::{ResponseObserver, ResponseReport, ResponseValidation};
pub use body::ResponseBody;
pub(crate) use check::{Collect, Started, Watch, start};

use crate::plan::Plan;

/// A response extension saying where a response comes from, for a gateway built on the layer
/// (`oasgate serve` marks every answer it forwards or makes). A response without it is the
/// inner service's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The service behind the gateway: an invalid response is answered `502 Bad Gateway`
    /// (the upstream sent something the document does not allow) instead of `500`.
    Upstream,
    /// The gateway's own answer (its `502` and `504` problems): not checked.
    Gateway,
}

/// A response extension on every answer response validation checked and let through: which
/// operation, which entry of its `responses` and which declared media type the answer
/// matched — the response-side analogue of [`Validated`](crate::Validated), for a handler's
/// tests and for middleware outside the layer.
///
/// In enforce mode it marks an answer that passed whole (a replaced answer carries a
/// [`Rejection`](crate::Rejection) instead). In report mode it is set from the head, before
/// the body has streamed, whether or not the answer breaks the document; the violations go
/// to the log. Answers not checked (validation off, not sampled, the layer's own problems,
/// [`Origin::Gateway`]) carry none.
///
/// ```
/// # use oasgate::response::ResponseChecked;
/// fn entry(response: &http::Response<()>) -> Option<&str> {
///     response.extensions().get::<ResponseChecked>()?.status_entry.as_deref()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseChecked {
    /// The operation's name: its `operationId`, or `METHOD /template` when it has none.
    pub operation: Arc<str>,
    /// The operation's `operationId`, if it has one.
    pub operation_id: Option<Arc<str>>,
    /// The `responses` key the status matched, as written: `200`, `2XX` or `default`; `None`
    /// when the status is not declared (report mode).
    pub status_entry: Option<Arc<str>>,
    /// The `content` key the `Content-Type` matched, as written (`application/json`,
    /// `application/*`); `None` for an answer without content or one whose type is not
    /// declared (report mode).
    pub media_type: Option<Arc<str>>,
    /// The operation's mode: [`ResponseValidation::Report`] or
    /// [`ResponseValidation::Enforce`].
    pub mode: ResponseValidation,
}

/// What a response is checked against: the operation the request was matched to.
pub(crate) struct Context {
    pub plan: Arc<Plan>,
    pub op: usize,
    /// The request was a `HEAD`: the answer carries no content.
    pub head_request: bool,
    /// The request path, for the problem's `instance` (none for a secret path).
    pub instance: Option<String>,
    /// The request's `X-Request-Id`, for the log lines about its answer.
    pub request_id: Option<http::HeaderValue>,
}

impl Plan {
    /// The context for checking the answer to a request matched to operation `index`, when
    /// that operation's responses are validated.
    pub(crate) fn response_context(
        self: &Arc<Self>,
        index: usize,
        parts: &http::request::Parts,
    ) -> Option<Box<Context>> {
        let op = &self.operations[index];
        if !op
            .responses
            .as_ref()?
            .sampled(self.options.response_validation_sample)
        {
            return None;
        }
        Some(Box::new(Context {
            plan: self.clone(),
            op: index,
            head_request: parts.method == http::Method::HEAD,
            instance: (!op.secret_path).then(|| parts.uri.path().to_owned()),
            request_id: parts.headers.get(crate::request::REQUEST_ID).cloned(),
        }))
    }
}

/// Finishes a response of an operation: its fixed headers (`Deprecation`, `Sunset`). The one
/// place every answer passes, the inner service's and the layer's own problems alike.
pub(crate) fn finish<B>(
    response: &mut http::Response<B>,
    headers: Option<&[(http::HeaderName, http::HeaderValue)]>,
) {
    for (name, value) in headers.into_iter().flatten() {
        response.headers_mut().insert(name.clone(), value.clone());
    }
}
