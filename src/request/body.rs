//! Step 6, body: media type, size limit, JSON, forms and multipart, each checked against its
//! schema; multipart streamed to the inner service while its fields are validated.

use bytes::Bytes;
use http::header;
use http::request::Parts;
use http_body::Body;
use serde_json::Value;

use super::{Rejected, summary, truncate};
use crate::body::items::{FirstItem, ItemBody, ItemRules, Refusal};
use crate::body::{self, BodyKind, MediaType, MultipartFailure, best_match, tee};
use crate::plan::{BodyEntry, Check, Operation, Plan};
use crate::problem::{FieldError, Place, Problem, ProblemKind};
use crate::validated::ReadBody;
use futures_util::future::Either;

/// What reading the body decided.
pub(crate) enum BodyStep<B> {
    /// Hand this body on, with the parsed value when one was read.
    Ready(B, ReadBody),
    /// A stream of items (OpenAPI 3.2 `itemSchema`): its first item checked, the rest checked
    /// as the inner service reads them. A refused item ends `body` with an error and leaves
    /// its problem in `refusal`.
    Items {
        body: crate::body::Body,
        refusal: Refusal,
        entry: usize,
    },
    /// A multipart body: stream it to the inner service while validating its fields.
    Multipart {
        body: B,
        entry: usize,
        boundary: String,
    },
}

impl Plan {
    /// Reads and checks the body when the operation declares one of a kind oasgate reads.
    ///
    /// Answers the body to hand on (the same bytes, or the untouched stream) and the parsed
    /// value — or, for multipart, that the body is to be streamed while it is validated.
    pub(crate) async fn body<'o, B>(
        &self,
        op: &'o Operation,
        parts: &Parts,
        body: B,
    ) -> Result<BodyStep<B>, Rejected<'o>>
    where
        B: Body<Data = Bytes> + From<Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(plan) = &op.body else {
            return Ok(BodyStep::Ready(body, ReadBody::default()));
        };
        let reject = |kind, detail: String| Rejected::new(Problem::new(kind, detail), Some(op));
        let empty = body.is_end_stream() || body.size_hint().exact() == Some(0);
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let Some(content_type) = content_type else {
            if empty && !plan.required {
                return Ok(BodyStep::Ready(body, ReadBody::default()));
            }
            if empty {
                return Err(reject(
                    ProblemKind::InvalidBody,
                    format!("a request body is required ({})", plan.declared),
                ));
            }
            return Err(reject(
                ProblemKind::UnsupportedMediaType,
                format!("the body has no content type; expected {}", plan.declared),
            ));
        };
        let media = MediaType::parse(content_type);
        let Some(index) = media.as_ref().and_then(|m| best_match(m, &plan.media)) else {
            return Err(reject(
                ProblemKind::UnsupportedMediaType,
                format!(
                    "content type `{}` is not accepted; expected {}",
                    truncate(content_type),
                    plan.declared
                ),
            ));
        };
        let entry = &plan.entries[index];
        let request_kind = media.as_ref().map_or(BodyKind::PassThrough, BodyKind::of);
        let kind = if entry.kind == BodyKind::PassThrough {
            // A range (`*/*`) reads JSON and forms it may receive; text only under a string
            // schema declared for text.
            if request_kind == BodyKind::Text {
                BodyKind::PassThrough
            } else {
                request_kind
            }
        } else {
            entry.kind
        };
        if kind == BodyKind::PassThrough {
            // A typed body of no bytes is present: zero bytes are a valid binary. Only a body
            // without a type counts as missing (above).
            return Ok(BodyStep::Ready(body, ReadBody::default()));
        }
        if kind == BodyKind::Multipart {
            // MediaType lowercases parameters; the boundary is case-sensitive, so take it
            // from the header itself.
            let Some(boundary) = original_param(content_type, "boundary") else {
                return Err(reject(
                    ProblemKind::MalformedBody,
                    "a multipart body needs a `boundary` parameter".to_owned(),
                ));
            };
            return Ok(BodyStep::Multipart {
                body,
                entry: index,
                boundary,
            });
        }
        let items = self.item_rules(entry);
        if let Some(rules) = &items
            && matches!(entry.check, Check::Any)
        {
            // Only an `itemSchema`: the stream goes on item by item, unbounded as a whole,
            // each item within `body_limit`. Its first item is read and checked here, so that
            // a stream refused at its first item never reaches the inner service.
            let mut streamed = ItemBody::new(body, rules.clone());
            let refusal = streamed.refusal();
            match streamed.first_item().await {
                Ok(()) => {}
                Err(FirstItem::Refused(problem)) => return Err(Rejected::new(problem, Some(op))),
                Err(FirstItem::Unreadable) => {
                    return Err(reject(
                        ProblemKind::MalformedBody,
                        "the body could not be read".to_owned(),
                    )
                    .unpassable());
                }
            }
            if plan.required && !streamed.received_any() {
                return Err(reject(
                    ProblemKind::InvalidBody,
                    format!("a request body is required ({})", plan.declared),
                ));
            }
            return Ok(BodyStep::Items {
                body: crate::body::Body::new(streamed),
                refusal,
                entry: index,
            });
        }
        // RFC 9110 §8.3.2: "HTTP uses "charset" names to indicate or negotiate the character
        // encoding scheme ... of a textual representation." Text in another charset would be
        // checked as characters it does not hold, so it is refused (415, §15.5.16: "the
        // content is in a format not supported"), never passed on unread. Without the
        // parameter the text is read as UTF-8, of which US-ASCII is a part.
        let ascii_only = match media.as_ref().and_then(|m| m.param("charset")) {
            _ if kind != BodyKind::Text => false,
            None | Some("utf-8") => false,
            Some("us-ascii") => true,
            Some(other) => {
                return Err(reject(
                    ProblemKind::UnsupportedMediaType,
                    format!(
                        "charset `{}` is not read; expected `utf-8` or `us-ascii` text",
                        truncate(other)
                    ),
                ));
            }
        };
        let limit = self.options.body_limit;
        if let Some(length) = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && length > limit as u64
        {
            return Err(reject(
                ProblemKind::PayloadTooLarge,
                format!("the body is {length} bytes; the limit is {limit}"),
            ));
        }
        let bytes = match body::read_whole(body, limit).await {
            Ok(bytes) => bytes,
            Err(body::ReadError::TooLarge) => {
                return Err(reject(
                    ProblemKind::PayloadTooLarge,
                    format!("the body is larger than the limit of {limit} bytes"),
                ));
            }
            Err(body::ReadError::Failed) => {
                return Err(reject(
                    ProblemKind::MalformedBody,
                    "the body could not be read".to_owned(),
                )
                .unpassable());
            }
        };
        // A typed text body of no bytes is the string `""`, checked by its schema below.
        if bytes.is_empty() && kind != BodyKind::Text {
            if plan.required {
                return Err(reject(
                    ProblemKind::InvalidBody,
                    format!("a request body is required ({})", plan.declared),
                ));
            }
            return Ok(BodyStep::Ready(B::from(bytes), ReadBody::default()));
        }
        if kind == BodyKind::Json
            && let Some(stream) = &entry.stream
            && stream.accepts(&bytes, self.options.json_depth_limit)
        {
            return Ok(BodyStep::Ready(
                B::from(bytes.clone()),
                ReadBody::text(bytes),
            ));
        }
        let parsed = match kind {
            BodyKind::Json => {
                body::parse_json(&bytes, self.options.json_depth_limit).map_err(|m| {
                    let duplicate = m.duplicate_error();
                    let mut problem = Problem::new(ProblemKind::MalformedBody, m.detail);
                    problem.location = m.location;
                    if let Some(error) = duplicate {
                        problem = problem.with_errors(vec![error], self.options.error_cap);
                    }
                    Rejected::new(problem, Some(op))
                })?
            }
            BodyKind::Form => body::parse_form(
                &bytes,
                &entry.form_fields,
                &self.coercion,
                self.options.query_params_limit,
            )
            .map_err(|errors| self.body_problem(ProblemKind::InvalidBody, errors, op))?,
            BodyKind::Text => body::parse_text(&bytes, ascii_only).map_err(|m| {
                let mut problem = Problem::new(ProblemKind::MalformedBody, m.detail);
                problem.location = m.location;
                Rejected::new(problem, Some(op))
            })?,
            // A `schema` over a sequential media type applies "to the complete content
            // (treated as an array ...)" (OpenAPI 3.2, "Streaming Sequential Media Types"):
            // the stream was read whole, within `body_limit`, and its items, each checked
            // against the `itemSchema` when there is one too, become that array.
            BodyKind::Sequence(_) if let Some(rules) = &items => {
                let values = rules
                    .items_of(&bytes)
                    .map_err(|bad| Rejected::new(bad.0, Some(op)))?;
                Value::Array(values)
            }
            BodyKind::Sequence(_) | BodyKind::Multipart | BodyKind::PassThrough => {
                return Ok(BodyStep::Ready(B::from(bytes), ReadBody::default()));
            }
        };
        if let Some(problem) = self.schema_problem(op, entry, &parsed) {
            return Err(problem);
        }
        let mut parsed = parsed;
        if let Some(defaults) = &entry.defaults
            && defaults.apply(&mut parsed)
        {
            // The inner service reads the filled-in body; its length changes with it.
            let filled = Bytes::from(serde_json::to_vec(&parsed).unwrap_or_default());
            return Ok(BodyStep::Ready(B::from(filled), ReadBody::parsed(parsed)));
        }
        Ok(BodyStep::Ready(B::from(bytes), ReadBody::parsed(parsed)))
    }

    /// How the items of a sequential media type entry are read and checked.
    fn item_rules(&self, entry: &BodyEntry) -> Option<ItemRules> {
        let BodyKind::Sequence(format) = entry.kind else {
            return None;
        };
        Some(ItemRules {
            format,
            check: entry.items.clone().unwrap_or(Check::Any),
            depth_limit: self.options.json_depth_limit,
            item_limit: self.options.body_limit,
            error_cap: self.options.error_cap,
        })
    }

    /// Checks a parsed body against its schema: the 400/422 problem listing every violation,
    /// or None when it is valid.
    pub(crate) fn schema_problem<'o>(
        &self,
        op: &'o Operation,
        entry: &BodyEntry,
        parsed: &Value,
    ) -> Option<Rejected<'o>> {
        if entry.check.is_valid(parsed) {
            return None;
        }
        let (violations, more) =
            entry
                .check
                .violations_up_to(parsed, false, self.options.error_cap);
        let errors = violations
            .into_iter()
            .map(|v| FieldError {
                place: Place::Body,
                name: String::new(),
                detail: if v.pointer.is_empty() {
                    format!("body: {}", v.detail)
                } else {
                    format!("body `{}`: {}", v.pointer, v.detail)
                },
                pointer: v.pointer,
                code: v.code,
            })
            .collect();
        Some(self.body_problem_with_more(ProblemKind::InvalidBody, errors, more, op))
    }

    /// Streams a multipart body to `call` while its fields are validated; a refused body
    /// never reaches the inner service whole, and its problem answers instead.
    pub(crate) async fn stream_multipart<'o, B, F, Fut, T, E>(
        &self,
        op: &'o Operation,
        step: (B, usize, String),
        call: F,
    ) -> Result<Result<T, E>, Rejected<'o>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        F: FnOnce(crate::body::Body) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let (body, index, boundary) = step;
        let entry = &op
            .body
            .as_ref()
            .expect("multipart comes from a body plan")
            .entries[index];
        let (reader, inner_body, tee) = tee::tee(body);
        let validation = async {
            let parsed = body::parse_multipart(
                reader,
                &boundary,
                &entry.form_fields,
                &self.coercion,
                self.multipart_limits(),
            )
            .await;
            let outcome = match self.multipart_problem(op, entry, parsed) {
                Some(problem) => Err(problem),
                None => Ok(()),
            };
            tee.finish(outcome.is_ok()).await;
            outcome
        };
        let inner = call(inner_body);
        futures_util::pin_mut!(validation);
        futures_util::pin_mut!(inner);
        match futures_util::future::select(validation, inner).await {
            Either::Left((Ok(()), inner)) => Ok(inner.await),
            // Dropping the inner future cancels it: it never saw a complete body.
            Either::Left((Err(problem), _)) => Err(problem),
            // The inner service answered before reading everything: the request must
            // still be valid for its answer to stand.
            Either::Right((answer, validation)) => validation.await.map(|()| answer),
        }
    }

    fn multipart_limits(&self) -> body::MultipartLimits {
        body::MultipartLimits {
            parts: self.options.multipart_parts_limit,
            json_depth: self.options.json_depth_limit,
            field_bytes: self.options.body_limit,
        }
    }

    /// The problem a parsed multipart body answers, or None when it is valid.
    fn multipart_problem<'o>(
        &self,
        op: &'o Operation,
        entry: &BodyEntry,
        parsed: Result<Value, MultipartFailure>,
    ) -> Option<Rejected<'o>> {
        match parsed {
            Ok(fields) => self.schema_problem(op, entry, &fields),
            Err(MultipartFailure::Malformed(errors)) => {
                Some(self.body_problem(ProblemKind::MalformedBody, errors, op))
            }
            Err(MultipartFailure::TooLarge(limit)) => Some(Rejected::new(
                Problem::new(
                    ProblemKind::PayloadTooLarge,
                    format!("the multipart fields are larger than the limit of {limit} bytes"),
                ),
                Some(op),
            )),
        }
    }

    /// Checks a multipart body already read whole (report-only mode).
    pub(crate) async fn check_multipart_bytes<'o>(
        &self,
        op: &'o Operation,
        entry: usize,
        boundary: &str,
        bytes: Bytes,
    ) -> Option<Rejected<'o>> {
        let entry = &op.body.as_ref()?.entries[entry];
        let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
        let parsed = body::parse_multipart(
            stream,
            boundary,
            &entry.form_fields,
            &self.coercion,
            self.multipart_limits(),
        )
        .await;
        self.multipart_problem(op, entry, parsed)
    }

    fn body_problem<'o>(
        &self,
        kind: ProblemKind,
        errors: Vec<FieldError>,
        op: &'o Operation,
    ) -> Rejected<'o> {
        self.body_problem_with_more(kind, errors, 0, op)
    }

    /// A body problem whose errors were cut short, `more` of them only counted.
    fn body_problem_with_more<'o>(
        &self,
        kind: ProblemKind,
        errors: Vec<FieldError>,
        more: usize,
        op: &'o Operation,
    ) -> Rejected<'o> {
        let detail = match (errors.first(), errors.len() + more) {
            (Some(first), total) if total > 1 => {
                format!("{} (and {} more)", first.detail, total - 1)
            }
            _ => summary(&errors, "body"),
        };
        let mut problem = Problem::new(kind, detail).with_errors(errors, self.options.error_cap);
        problem.errors_omitted += more;
        Rejected::new(problem, Some(op))
    }
}

/// The body check in report-only mode.
pub(crate) enum ReportOnly<'o, B> {
    /// Checked (or passed unread); go on as when enforcing.
    Checked(Result<BodyStep<B>, Rejected<'o>>),
    /// The body breaks the document: here it is whole, with the refusal it would answer.
    Rejected(B, Rejected<'o>),
}

/// Reads a body only when its declared size is within the limit, so that the same bytes can
/// be handed on whatever the verdict; a body of unknown or larger size passes unread.
impl Plan {
    pub(crate) async fn report_only_body<'o, B>(
        &self,
        op: &'o Operation,
        parts: &Parts,
        body: B,
    ) -> ReportOnly<'o, B>
    where
        B: Body<Data = Bytes> + From<Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let limit = self.options.body_limit as u64;
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .or(body.size_hint().exact());
        if declared.is_none_or(|n| n > limit) {
            tracing::debug!(
                target: "oasgate::rejection",
                operation = op.name(),
                "report-only: body of unknown or too large size not checked"
            );
            return ReportOnly::Checked(Ok(BodyStep::Ready(body, Default::default())));
        }
        let bytes = match body::read_whole(body, self.options.body_limit).await {
            Ok(bytes) => bytes,
            // The client hung up or sent more than it declared: nothing whole is left to hand on.
            Err(_) => {
                let problem =
                    Problem::new(ProblemKind::MalformedBody, "the body could not be read");
                return ReportOnly::Checked(Err(Rejected::new(problem, Some(op)).unpassable()));
            }
        };
        match self.body(op, parts, B::from(bytes.clone())).await {
            // Read whole already: check the fields here rather than streaming, so a refused
            // upload can still be handed on whole.
            Ok(BodyStep::Multipart {
                entry, boundary, ..
            }) => {
                match self
                    .check_multipart_bytes(op, entry, &boundary, bytes.clone())
                    .await
                {
                    Some(problem) => ReportOnly::Rejected(B::from(bytes), problem),
                    None => {
                        ReportOnly::Checked(Ok(BodyStep::Ready(B::from(bytes), Default::default())))
                    }
                }
            }
            // Read whole already: every item is checked here, so that a refused stream can
            // still be handed on whole.
            Ok(BodyStep::Items { entry, .. }) => {
                let rules = op
                    .body
                    .as_ref()
                    .and_then(|plan| self.item_rules(&plan.entries[entry]));
                match rules.map(|rules| rules.items_of(&bytes)) {
                    Some(Err(bad)) => {
                        ReportOnly::Rejected(B::from(bytes), Rejected::new(bad.0, Some(op)))
                    }
                    _ => {
                        ReportOnly::Checked(Ok(BodyStep::Ready(B::from(bytes), Default::default())))
                    }
                }
            }
            Ok(step) => ReportOnly::Checked(Ok(step)),
            Err(problem) => ReportOnly::Rejected(B::from(bytes), problem),
        }
    }
}

/// A parameter's value exactly as written in the header (case preserved).
fn original_param(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::Full;

    use super::BodyStep;
    use crate::options::Options;
    use crate::problem::ProblemKind;
    use crate::request::testing::{parts, plan};

    /// (content type, body, what the body step decides: the parsed value, or the problem kind).
    #[tokio::test]
    async fn bodies() {
        let plan = plan(Options::default().body_limit(64));
        let op = &plan.operations[1];
        let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(80));
        let rows: Vec<(Option<&str>, String, Result<&str, ProblemKind>)> = vec![
            (
                Some("application/json"),
                r#"{"name": "rex"}"#.into(),
                Ok(r#"{"name":"rex"}"#),
            ),
            (
                Some("application/json; charset=utf-8"),
                r#"{"name": "rex"}"#.into(),
                Ok(r#"{"name":"rex"}"#),
            ),
            (
                Some("application/x-www-form-urlencoded"),
                "age=3".into(),
                Ok(r#"{"age":3}"#),
            ),
            (
                Some("application/json"),
                r#"{"name": "much too long"}"#.into(),
                Err(ProblemKind::InvalidBody),
            ),
            (
                Some("application/json"),
                r#"{"name": "#.into(),
                Err(ProblemKind::MalformedBody),
            ),
            (
                Some("application/json"),
                big,
                Err(ProblemKind::PayloadTooLarge),
            ),
            (
                Some("text/plain"),
                "rex".into(),
                Err(ProblemKind::UnsupportedMediaType),
            ),
            (None, "rex".into(), Err(ProblemKind::UnsupportedMediaType)),
            (None, String::new(), Err(ProblemKind::InvalidBody)),
        ];
        for (content_type, body, want) in rows {
            let headers: Vec<(&str, &str)> =
                content_type.iter().map(|t| ("content-type", *t)).collect();
            let head = parts("POST", "/pets", &headers);
            let got = match plan
                .body(op, &head, Full::new(Bytes::from(body.clone())))
                .await
            {
                Ok(BodyStep::Ready(_, read)) => {
                    Ok(read.value().map(|v| v.to_string()).unwrap_or_default())
                }
                Ok(BodyStep::Multipart { .. }) => Ok("multipart".to_owned()),
                Ok(BodyStep::Items { .. }) => Ok("items".to_owned()),
                Err(rejected) => Err(rejected.problem.kind),
            };
            assert_eq!(got, want.map(str::to_owned), "{content_type:?} {body}");
        }
    }
}
