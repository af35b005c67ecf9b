//! The checks themselves: the head (status, content type, headers) when the response arrives,
//! the body once it is read.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use http_body::{Body, Frame};

use super::ResponseBody;
use super::{Context, Origin, ResponseChecked, ResponseReport, ResponseValidation};
use crate::body::MediaType;
use crate::params::{Coercion, ParamSpec, Style};
use crate::plan::Operation;
use crate::plan::responses::{ResponseEntry, ResponsePlan};
use crate::problem::{FieldCode, FieldError, Place, Problem, ProblemKind, Rejection};

/// What the head decided about the body.
enum BodyRule {
    /// Not read.
    Unread,
    /// Must carry no content: the violation to report if it does.
    Empty { code: FieldCode, detail: String },
    /// JSON, against `bodies[media]` of the matched entry.
    Json { media: usize },
    /// One string, against `bodies[media]` of the matched entry.
    Text { media: usize },
}

/// The head's verdict, and what remains to check in the body.
struct Verdict {
    status: StatusCode,
    /// The matched entry, by index.
    entry: Option<usize>,
    /// The matched media type of that entry, by index.
    media: Option<usize>,
    errors: Vec<FieldError>,
    rule: BodyRule,
}

impl Context {
    /// The request's id as text, for the log lines.
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_ref().and_then(|id| id.to_str().ok())
    }

    fn operation(&self) -> &Operation {
        &self.plan.operations[self.op]
    }

    fn responses(&self) -> &ResponsePlan {
        self.operation()
            .responses
            .as_deref()
            .expect("a response context is made only for an operation with a response plan")
    }

    fn mode(&self) -> ResponseValidation {
        self.responses().mode
    }

    fn max_body(&self) -> usize {
        self.plan.options.response_validation_max_body
    }

    fn cap(&self) -> usize {
        self.plan.options.error_cap
    }

    fn entry(&self, verdict: &Verdict) -> Option<&ResponseEntry> {
        verdict.entry.and_then(|i| self.responses().entries.get(i))
    }

    /// Status, headers and content type.
    fn check_head(&self, status: StatusCode, headers: &HeaderMap) -> Verdict {
        let plan = self.responses();
        let code = status.as_u16();
        let mut errors = Vec::new();
        // RFC 9110 §15.3.5 and §15.4.5: a 204 and a 304 end at the header section; §9.3.2:
        // "the server MUST NOT send content in the response" to HEAD.
        let no_content = if self.head_request {
            Some("an answer to `HEAD` must carry no content")
        } else if code == 204 || code == 304 || status.is_informational() {
            Some("this status must carry no content")
        } else {
            None
        };
        let empty = |detail: &str| BodyRule::Empty {
            code: FieldCode::NoContent,
            detail: format!("body: {detail}"),
        };
        let Some(index) = plan.entry(code) else {
            errors.push(FieldError {
                place: Place::Status,
                name: String::new(),
                pointer: String::new(),
                code: FieldCode::Undeclared,
                detail: if plan.declared.is_empty() {
                    format!("status {code} is not declared (the operation declares no responses)")
                } else {
                    format!(
                        "status {code} is not declared (declared: {})",
                        plan.declared
                    )
                },
            });
            return Verdict {
                status,
                entry: None,
                media: None,
                errors,
                rule: no_content.map_or(BodyRule::Unread, empty),
            };
        };
        let entry = &plan.entries[index];
        self.check_headers(entry, headers, &mut errors);
        let mut matched = None;
        let rule = if let Some(why) = no_content {
            empty(why)
        } else if entry.media.is_empty() {
            BodyRule::Empty {
                code: FieldCode::NoContent,
                detail: format!("body: status {} declares no content", entry.key),
            }
        } else {
            match headers
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().ok().and_then(MediaType::parse))
            {
                None => BodyRule::Empty {
                    code: FieldCode::MediaType,
                    detail: format!(
                        "body: content without a `Content-Type` (declared: {})",
                        entry.declared_media
                    ),
                },
                Some(None) => {
                    errors.push(content_type_error(format!(
                        "`Content-Type` is not a media type (declared: {})",
                        entry.declared_media
                    )));
                    BodyRule::Unread
                }
                Some(Some(actual)) => match crate::body::media::best_match(&actual, &entry.media) {
                    None => {
                        errors.push(content_type_error(format!(
                            "content type `{}/{}` is not declared for status {} (declared: {})",
                            actual.ty, actual.subtype, entry.key, entry.declared_media
                        )));
                        BodyRule::Unread
                    }
                    Some(media) => {
                        matched = Some(media);
                        let body = &entry.bodies[media];
                        let checked = !matches!(body.check, crate::plan::Check::Any);
                        if checked && actual.is_json() {
                            BodyRule::Json { media }
                        } else if checked
                            && actual.ty == "text"
                            && body.string_schema
                            && actual.subtype != "event-stream"
                        {
                            // Not an event stream: a sequence of events, not one string,
                            // that need not end, so it is never held to be checked.
                            BodyRule::Text { media }
                        } else {
                            BodyRule::Unread
                        }
                    }
                },
            }
        };
        Verdict {
            status,
            entry: Some(index),
            media: matched,
            errors,
            rule,
        }
    }

    /// The extension an answer let through carries.
    fn checked(&self, verdict: &Verdict) -> ResponseChecked {
        let op = self.operation();
        let entry = self.entry(verdict);
        ResponseChecked {
            operation: op.id.clone().unwrap_or_else(|| op.label.clone()),
            operation_id: op.id.clone(),
            status_entry: entry.map(|e| e.key.clone()),
            media_type: entry
                .zip(verdict.media)
                .and_then(|(e, i)| e.media_names.get(i).cloned()),
            mode: self.mode(),
        }
    }

    fn check_headers(
        &self,
        entry: &ResponseEntry,
        headers: &HeaderMap,
        errors: &mut Vec<FieldError>,
    ) {
        let coercion = Coercion::default();
        for declared in &entry.headers {
            let name = declared.name.as_str();
            let error = |code: FieldCode, detail: String| FieldError {
                place: Place::Header,
                name: name.to_owned(),
                pointer: String::new(),
                code,
                detail: format!("header `{name}`: {detail}"),
            };
            let Ok(values) = headers
                .get_all(&declared.name)
                .iter()
                .map(|v| v.to_str())
                .collect::<Result<Vec<&str>, _>>()
            else {
                errors.push(error(
                    FieldCode::Encoding,
                    "expected visible ASCII text".to_owned(),
                ));
                continue;
            };
            let spec = ParamSpec {
                name,
                style: Style::Simple,
                explode: false,
                shape: &declared.shape,
                allow_empty: false,
                coercion: &coercion,
            };
            match crate::params::decode_header(&values, &spec) {
                Ok(None) if declared.required && values.is_empty() => errors.push(error(
                    FieldCode::Required,
                    "missing required header".to_owned(),
                )),
                Ok(None) => {}
                Ok(Some(value)) => {
                    if !declared.check.is_valid(&value) {
                        let (found, _) =
                            declared
                                .check
                                .violations_up_to(&value, declared.secret, self.cap());
                        for v in found {
                            let mut e = error(v.code, v.detail);
                            e.pointer = v.pointer;
                            errors.push(e);
                        }
                    }
                }
                Err(e) if declared.secret => errors.push(error(
                    e.code,
                    format!("the value breaks `{}` (value hidden)", e.code),
                )),
                Err(e) => errors.push(error(e.code, e.detail)),
            }
        }
    }

    /// The body, read whole (`seen` bytes arrived; `bytes` holds them unless the rule needs
    /// none).
    fn check_body(&self, verdict: &mut Verdict, bytes: &[u8], seen: u64) {
        let rule = std::mem::replace(&mut verdict.rule, BodyRule::Unread);
        let body_error = |code: FieldCode, pointer: String, detail: String| FieldError {
            place: Place::Body,
            name: String::new(),
            pointer,
            code,
            detail,
        };
        let media = match rule {
            BodyRule::Unread => return,
            BodyRule::Empty { code, detail } => {
                if seen > 0 {
                    verdict.errors.push(body_error(code, String::new(), detail));
                }
                return;
            }
            BodyRule::Json { media } | BodyRule::Text { media } => media,
        };
        let Some(entry) = self.entry(verdict) else {
            return;
        };
        let checked = &entry.bodies[media];
        let value = if matches!(rule, BodyRule::Json { .. }) {
            let depth = self.plan.options.json_depth_limit;
            if let Some(stream) = &checked.stream
                && stream.accepts(bytes, depth)
            {
                return;
            }
            match crate::body::parse_json(bytes, depth) {
                Ok(value) => value,
                Err(malformed) => {
                    let detail = if bytes.is_empty() {
                        "body: expected JSON, got no content".to_owned()
                    } else {
                        format!("body: {}", malformed.detail)
                    };
                    verdict
                        .errors
                        .push(body_error(FieldCode::Malformed, String::new(), detail));
                    return;
                }
            }
        } else {
            match std::str::from_utf8(bytes) {
                Ok(text) => serde_json::Value::String(text.to_owned()),
                Err(_) => {
                    verdict.errors.push(body_error(
                        FieldCode::Encoding,
                        String::new(),
                        "body: expected UTF-8 text".to_owned(),
                    ));
                    return;
                }
            }
        };
        if checked.check.is_valid(&value) {
            return;
        }
        let (found, _) = checked
            .check
            .violations_up_to(&value, checked.secret, self.cap());
        for v in found {
            // The response view forbids `writeOnly` properties as the request view forbids
            // `readOnly` ones, and the schema messages name the request's case.
            let (code, detail) = if v.code == FieldCode::ReadOnly {
                (
                    FieldCode::WriteOnly,
                    "this property is write-only and must not appear in a response".to_owned(),
                )
            } else {
                (v.code, v.detail)
            };
            let detail = if v.pointer.is_empty() {
                format!("body: {detail}")
            } else {
                format!("body `{}`: {detail}", v.pointer)
            };
            verdict.errors.push(body_error(code, v.pointer, detail));
        }
    }

    /// Logs the violations (report mode, or enforce mode's problem).
    fn log(&self, verdict: &Verdict, enforced: bool) {
        if verdict.errors.is_empty() {
            return;
        }
        let capped = &verdict.errors[..verdict.errors.len().min(self.cap())];
        self.observe(verdict, capped, enforced, false);
        let summary = verdict
            .errors
            .iter()
            .map(|e| match e.place {
                Place::Body if !e.pointer.is_empty() => format!("body {} {}", e.pointer, e.code),
                Place::Header => format!("header `{}` {}", e.name, e.code),
                place => format!("{} {}", place.as_str(), e.code),
            })
            .collect::<Vec<_>>()
            .join(", ");
        tracing::warn!(
            target: "oasgate::response",
            operation = self.operation().name(),
            status = verdict.status.as_u16(),
            entry = self.entry(verdict).map_or("", |e| &*e.key),
            violations = %summary,
            request_id = self.request_id(),
            enforced,
            "response {}: {}",
            if enforced { "replaced by a problem" } else { "breaks the document (report)" },
            verdict.errors[0].detail
        );
    }

    fn observe(&self, verdict: &Verdict, violations: &[FieldError], enforced: bool, skipped: bool) {
        if let Some(observer) = &self.plan.options.response_observer {
            observer(&ResponseReport {
                operation: self.operation().name(),
                status: verdict.status,
                violations,
                enforced,
                body_skipped: skipped,
            });
        }
    }

    /// Logs that a body was too long to check.
    fn log_skip(&self, verdict: &Verdict) {
        self.observe(verdict, &[], false, true);
        tracing::info!(
            target: "oasgate::response",
            operation = self.operation().name(),
            status = verdict.status.as_u16(),
            limit = self.max_body(),
            request_id = self.request_id(),
            "response body not checked: longer than `response_validation_max_body`"
        );
    }

    /// The problem that replaces an invalid response.
    fn problem(&self, verdict: Verdict, upstream: bool) -> Response<Bytes> {
        self.log(&verdict, true);
        let kind = if upstream {
            ProblemKind::InvalidUpstreamResponse
        } else {
            ProblemKind::InvalidResponse
        };
        let total = verdict.errors.len();
        let detail = match verdict.errors.first() {
            Some(first) if total > 1 => format!("{} (and {} more)", first.detail, total - 1),
            Some(first) => first.detail.clone(),
            None => "the response breaks the document".to_owned(),
        };
        let op = self.operation();
        let mut problem = Problem::new(kind, detail).with_errors(verdict.errors, self.cap());
        problem.instance = self.instance.clone();
        problem.operation_id = op.id.as_deref().map(str::to_owned);
        let mut response = match &self.plan.options.formatter {
            Some(format) => format(&problem),
            None => problem.to_response(),
        };
        response.extensions_mut().insert(Rejection {
            status: Problem::status(kind, false),
            kind,
            operation: Some(op.id.clone().unwrap_or_else(|| op.label.clone())),
            codes: problem.errors.iter().map(|e| e.code).collect(),
            secret_path: op.secret_path,
        });
        crate::response::finish(&mut response, op.response_headers.as_deref());
        response
    }
}

fn content_type_error(detail: String) -> FieldError {
    FieldError {
        place: Place::Header,
        name: "content-type".to_owned(),
        pointer: String::new(),
        code: FieldCode::MediaType,
        detail,
    }
}

/// The chunks of a body as one slice: the chunk itself when there is one (the usual case),
/// else a copy.
fn joined<'a>(
    mut chunks: impl Iterator<Item = &'a Bytes>,
    len: usize,
) -> std::borrow::Cow<'a, [u8]> {
    let Some(first) = chunks.next() else {
        return std::borrow::Cow::Borrowed(&[]);
    };
    let Some(second) = chunks.next() else {
        return std::borrow::Cow::Borrowed(first);
    };
    let mut all = Vec::with_capacity(len);
    all.extend_from_slice(first);
    all.extend_from_slice(second);
    for chunk in chunks {
        all.extend_from_slice(chunk);
    }
    std::borrow::Cow::Owned(all)
}

/// What [`start`] decided.
pub(crate) enum Started<B> {
    /// The response to send now.
    Done(Response<ResponseBody<B>>),
    /// Enforce mode: the body must be read before the answer is chosen.
    Collect(Box<Collect<B>>),
}

/// Checks the head of `response`; decides whether to answer now, watch the body as it
/// streams (report), or read it first (enforce).
pub(crate) fn start<B>(ctx: Box<Context>, response: Response<B>) -> Started<B>
where
    B: Body<Data = Bytes>,
{
    let origin = response.extensions().get::<Origin>().copied();
    if origin == Some(Origin::Gateway) {
        return Started::Done(response.map(ResponseBody::inner));
    }
    let upstream = origin == Some(Origin::Upstream);
    let (mut parts, body) = response.into_parts();
    let mut verdict = ctx.check_head(parts.status, &parts.headers);
    let empty = body.is_end_stream() || body.size_hint().exact() == Some(0);
    let too_long = body.size_hint().lower() > ctx.max_body() as u64;
    let enforce = ctx.mode() == ResponseValidation::Enforce;
    let inner = |parts, body| Started::Done(Response::from_parts(parts, ResponseBody::inner(body)));
    if matches!(verdict.rule, BodyRule::Unread) || empty || too_long {
        if empty {
            ctx.check_body(&mut verdict, &[], 0);
        } else if too_long {
            if let BodyRule::Empty { code, detail } = &verdict.rule {
                // Known to carry content without reading it.
                verdict.errors.push(FieldError {
                    place: Place::Body,
                    name: String::new(),
                    pointer: String::new(),
                    code: *code,
                    detail: detail.clone(),
                });
            } else if !matches!(verdict.rule, BodyRule::Unread) {
                ctx.log_skip(&verdict);
            }
        }
        if enforce && !verdict.errors.is_empty() {
            let problem = ctx.problem(verdict, upstream);
            return Started::Done(problem.map(ResponseBody::full));
        }
        ctx.log(&verdict, false);
        parts.extensions.insert(ctx.checked(&verdict));
        return inner(parts, body);
    }
    if enforce {
        return Started::Collect(Box::new(Collect {
            parts: Some(parts),
            body: Some(Box::pin(body)),
            frames: VecDeque::new(),
            len: 0,
            ctx,
            verdict: Some(verdict),
            upstream,
        }));
    }
    parts.extensions.insert(ctx.checked(&verdict));
    let watch = Watch {
        ctx,
        verdict,
        chunks: Vec::new(),
        kept: 0,
        seen: 0,
        skipped: false,
        done: false,
    };
    Started::Done(Response::from_parts(
        parts,
        ResponseBody::watched(body, Box::new(watch)),
    ))
}

/// Enforce mode: the body read up to the bound before the answer is chosen.
pub(crate) struct Collect<B> {
    parts: Option<http::response::Parts>,
    body: Option<Pin<Box<B>>>,
    frames: VecDeque<Frame<Bytes>>,
    len: usize,
    ctx: Box<Context>,
    verdict: Option<Verdict>,
    upstream: bool,
}

impl<B> Collect<B>
where
    B: Body<Data = Bytes>,
{
    /// Reads until the body ends, breaks, proves invalid or passes the bound.
    pub(crate) fn poll(&mut self, cx: &mut TaskContext<'_>) -> Poll<Response<ResponseBody<B>>> {
        loop {
            let Some(body) = self.body.as_mut() else {
                return Poll::Ready(self.finish(true));
            };
            match body.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(self.finish(true)),
                Poll::Ready(Some(Err(_))) => {
                    let verdict = self.verdict.as_mut().expect("collected once");
                    verdict.errors.push(FieldError {
                        place: Place::Body,
                        name: String::new(),
                        pointer: String::new(),
                        code: FieldCode::Incomplete,
                        detail: format!("body: broke off after {} bytes", self.len),
                    });
                    self.body = None;
                    self.frames.clear();
                    return Poll::Ready(self.finish(false));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    let data_len = frame.data_ref().map_or(0, Bytes::len);
                    self.len += data_len;
                    self.frames.push_back(frame);
                    let verdict = self.verdict.as_ref().expect("collected once");
                    if data_len > 0 && matches!(verdict.rule, BodyRule::Empty { .. }) {
                        // Known to carry content: no need to read on.
                        return Poll::Ready(self.finish(false));
                    }
                    if self.len > self.ctx.max_body() {
                        return Poll::Ready(self.pass_unchecked());
                    }
                }
            }
        }
    }

    /// The body ended (or carries content it must not): the problem, or the response whole.
    fn finish(&mut self, ended: bool) -> Response<ResponseBody<B>> {
        let mut verdict = self.verdict.take().expect("collected once");
        let mut parts = self.parts.take().expect("collected once");
        let bytes = joined(self.frames.iter().filter_map(Frame::data_ref), self.len);
        self.ctx.check_body(&mut verdict, &bytes, self.len as u64);
        if !verdict.errors.is_empty() {
            self.body = None;
            let problem = self.ctx.problem(verdict, self.upstream);
            return problem.map(ResponseBody::full);
        }
        let rest = if ended { None } else { self.body.take() };
        parts.extensions.insert(self.ctx.checked(&verdict));
        Response::from_parts(
            parts,
            ResponseBody::replay(std::mem::take(&mut self.frames), rest),
        )
    }

    /// Past the bound: what was read goes first, then the rest, unchecked — unless the head
    /// was already invalid, which nothing in the body can mend.
    fn pass_unchecked(&mut self) -> Response<ResponseBody<B>> {
        let verdict = self.verdict.take().expect("collected once");
        let mut parts = self.parts.take().expect("collected once");
        if !verdict.errors.is_empty() {
            self.body = None;
            return self
                .ctx
                .problem(verdict, self.upstream)
                .map(ResponseBody::full);
        }
        self.ctx.log_skip(&verdict);
        parts.extensions.insert(self.ctx.checked(&verdict));
        Response::from_parts(
            parts,
            ResponseBody::replay(std::mem::take(&mut self.frames), self.body.take()),
        )
    }
}

/// Report mode: the body checked as it streams to the client, logged once it has passed.
pub(crate) struct Watch {
    ctx: Box<Context>,
    verdict: Verdict,
    /// The chunks passed so far (shared, not copied), `kept` bytes in all.
    chunks: Vec<Bytes>,
    kept: usize,
    seen: u64,
    skipped: bool,
    /// Logged already (the body ended or broke off).
    done: bool,
}

impl Watch {
    /// One chunk passed to the client.
    pub(crate) fn feed(&mut self, data: &Bytes) {
        self.seen += data.len() as u64;
        if self.skipped || matches!(self.verdict.rule, BodyRule::Empty { .. }) {
            return;
        }
        if self.kept + data.len() > self.ctx.max_body() {
            self.skipped = true;
            self.chunks = Vec::new();
            self.ctx.log_skip(&self.verdict);
            return;
        }
        self.kept += data.len();
        self.chunks.push(data.clone());
    }

    /// The body ended: check it and log.
    pub(crate) fn finish(&mut self) {
        if self.skipped && !matches!(self.verdict.rule, BodyRule::Empty { .. }) {
            self.verdict.rule = BodyRule::Unread;
        }
        let chunks = std::mem::take(&mut self.chunks);
        let bytes = joined(chunks.iter(), self.kept);
        self.ctx.check_body(&mut self.verdict, &bytes, self.seen);
        self.ctx.log(&self.verdict, false);
        self.done = true;
    }

    /// The body broke off: the head's violations are logged, the body is not judged.
    pub(crate) fn broke_off(&mut self) {
        tracing::debug!(
            target: "oasgate::response",
            operation = self.ctx.operation().name(),
            "response body broke off; not checked"
        );
        self.ctx.log(&self.verdict, false);
        self.done = true;
    }
}

impl Drop for Watch {
    /// A body dropped before its end (the client left, or a server that sends no content to
    /// `HEAD` never read it): the head's violations are still logged.
    fn drop(&mut self) {
        if !self.done {
            self.ctx.log(&self.verdict, false);
        }
    }
}
