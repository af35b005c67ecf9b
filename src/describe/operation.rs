//! One operation: method, path template, parameters, body, responses, errors, callbacks.

use http::Method;
use schemars::JsonSchema;
use serde_json::{Map, Value};

use super::param::{Paging, Param};
use super::schema::{SchemaFn, problem_schema, schema_of};

/// What a request or response body carries: a type under a media type.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    pub media: String,
    pub schema: Option<SchemaFn>,
    pub example: Option<Value>,
    pub examples: Vec<(String, Value)>,
}

impl Content {
    fn of(schema: Option<SchemaFn>) -> Self {
        Self {
            media: "application/json".to_owned(),
            schema,
            example: None,
            examples: Vec::new(),
        }
    }
}

/// An operation's request body (JSON by default, required by default).
///
/// ```
/// use oasgate::describe::RequestBody;
///
/// let upload = RequestBody::of::<Vec<String>>()
///     .description("the names to add")
///     .example(serde_json::json!(["a", "b"]));
/// # let _ = upload;
/// ```
#[derive(Debug, Clone)]
pub struct RequestBody {
    pub(crate) content: Vec<Content>,
    pub(crate) description: Option<String>,
    pub(crate) required: bool,
}

impl RequestBody {
    /// A required `application/json` body of type `T`.
    pub fn of<T: JsonSchema + ?Sized>() -> Self {
        Self {
            content: vec![Content::of(Some(schema_of::<T>))],
            description: None,
            required: true,
        }
    }

    /// Also accepts `T` under another media type (form, multipart, XML…).
    pub fn or<T: JsonSchema + ?Sized>(mut self, media: impl Into<String>) -> Self {
        let mut content = Content::of(Some(schema_of::<T>));
        content.media = media.into();
        self.content.push(content);
        self
    }

    /// Uses `media` instead of `application/json` for the first type.
    pub fn media(mut self, media: impl Into<String>) -> Self {
        if let Some(first) = self.content.first_mut() {
            first.media = media.into();
        }
        self
    }

    /// Shown in the docs.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The body may be left out.
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// An example body for the docs.
    pub fn example(mut self, value: Value) -> Self {
        if let Some(first) = self.content.first_mut() {
            first.example = Some(value);
        }
        self
    }
}

/// One answer of an operation: a status, a description and, usually, a body type.
///
/// Several responses (or errors) with one status become one response whose schema is a
/// `oneOf` of their types and whose description joins theirs.
///
/// ```
/// use oasgate::describe::Response;
/// use serde_json::json;
///
/// let found = Response::of::<String>(200, "the name")
///     .named_example("short", json!("Al"))
///     .named_example("long", json!("Bartholomew"));
/// # let _ = found;
/// ```
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) description: String,
    pub(crate) content: Option<Content>,
    pub(crate) error: bool,
    /// The layer's own problem body ([`Response::problem`]).
    pub(crate) problem: bool,
    /// An example was given to a response without a body: a mistake to report.
    pub(crate) example_without_body: bool,
    pub(crate) headers: Vec<Param>,
}

impl Response {
    /// A `status` answer with an `application/json` body of type `T`.
    pub fn of<T: JsonSchema + ?Sized>(status: u16, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            content: Some(Content::of(Some(schema_of::<T>))),
            error: false,
            problem: false,
            example_without_body: false,
            headers: Vec::new(),
        }
    }

    /// A `status` answer without a body.
    pub fn empty(status: u16, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            content: None,
            error: false,
            problem: false,
            example_without_body: false,
            headers: Vec::new(),
        }
    }

    /// An error answer with a body of type `T`; wrapped in the API's
    /// [error envelope](super::Api::error_envelope) when it has one.
    pub fn error<T: JsonSchema + ?Sized>(status: u16, description: impl Into<String>) -> Self {
        Self {
            error: true,
            ..Self::of::<T>(status, description)
        }
    }

    /// A problem the layer itself answers with: an `application/problem+json` body as oasgate
    /// writes it, referencing the `Problem` schema the served document describes problems with.
    ///
    /// The served document adds the layer's problem responses only for statuses an operation
    /// does not declare; an operation that declares a status for its own errors (such as 400)
    /// declares the layer's problem for it too, so clients learn both bodies. With a custom
    /// [`Formatter`](crate::Formatter) the layer's bodies are yours: describe them with
    /// [`Response::error`] instead.
    pub fn problem(status: u16, description: impl Into<String>) -> Self {
        let mut content = Content::of(Some(problem_schema));
        content.media = "application/problem+json".to_owned();
        Self {
            status,
            description: description.into(),
            content: Some(content),
            error: false,
            problem: true,
            example_without_body: false,
            headers: Vec::new(),
        }
    }

    /// Uses `media` instead of `application/json`; a response without a body has none.
    pub fn media(mut self, media: impl Into<String>) -> Self {
        if let Some(content) = &mut self.content {
            content.media = media.into();
        }
        self
    }

    /// One example body for the docs. Given to a response without a body, it is a mistake
    /// [`Api::to_value`](super::Api::to_value) reports.
    pub fn example(mut self, value: Value) -> Self {
        match &mut self.content {
            Some(content) => content.example = Some(value),
            None => self.example_without_body = true,
        }
        self
    }

    /// A named example body for the docs; several may be given. Given to a response without
    /// a body, it is a mistake [`Api::to_value`](super::Api::to_value) reports.
    pub fn named_example(mut self, name: impl Into<String>, value: Value) -> Self {
        match &mut self.content {
            Some(content) => content.examples.push((name.into(), value)),
            None => self.example_without_body = true,
        }
        self
    }

    /// A response header, described like a parameter (its location is ignored).
    pub fn header(mut self, header: Param) -> Self {
        self.headers.push(header);
        self
    }
}

/// Who may call an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Access {
    /// The API's default security.
    #[default]
    Default,
    /// Anyone: `security: []`.
    Public,
    /// Any one of these alternatives, each a list of schemes with scopes.
    Requirements(Vec<Vec<(String, Vec<String>)>>),
}

/// An out-of-band request the server sends later to a URL taken from the request
/// (an OpenAPI `callbacks` entry).
#[derive(Debug, Clone)]
pub(crate) struct Callback {
    pub name: String,
    pub operation: Operation,
}

/// One operation, described with a chainable builder in the spirit of Girder's
/// `Description`.
///
/// ```
/// use oasgate::describe::{Operation, Param};
/// use serde_json::json;
///
/// /// A book on the shelf.
/// #[derive(schemars::JsonSchema)]
/// struct Book {
///     /// The title as printed.
///     title: String,
/// }
///
/// let find = Operation::get("/books/{isbn}")
///     .operation_id("find_book")
///     .summary("Finds a book by ISBN.")
///     .tag("Books")
///     .param(Param::path::<String>("isbn").description("13 digits"))
///     .response::<Book>(200, "The book.")
///     .error::<String>(404, "No book has this ISBN.")
///     .example(200, json!({"title": "Dune"}));
/// # let _ = find;
/// ```
#[derive(Debug, Clone)]
pub struct Operation {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) operation_id: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) params: Vec<Param>,
    pub(crate) body: Option<RequestBody>,
    /// [`consumes`](Operation::consumes): the body's media type, whenever the body is given.
    pub(crate) consumes: Option<String>,
    pub(crate) responses: Vec<Response>,
    /// [`example`](Operation::example)s given before a response with their status and a body.
    pub(crate) pending_examples: Vec<(u16, Value)>,
    pub(crate) deprecated: bool,
    pub(crate) access: Access,
    pub(crate) callbacks: Vec<Callback>,
    pub(crate) extensions: Map<String, Value>,
}

impl Operation {
    /// An operation for `method` on `path`, a template such as `/jobs/{id}`.
    ///
    /// Template parameters that no [`param`](Self::param) declares are declared as strings.
    /// A method without a fixed Path Item field (`QUERY`, `COPY`, `PURGE`) needs an OpenAPI
    /// 3.2 document ([`Api::openapi_version`](super::Api::openapi_version)), where it goes in
    /// `query` or `additionalOperations`, named as written (methods are case-sensitive).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            operation_id: None,
            summary: None,
            description: None,
            tags: Vec::new(),
            params: Vec::new(),
            body: None,
            consumes: None,
            responses: Vec::new(),
            pending_examples: Vec::new(),
            deprecated: false,
            access: Access::Default,
            callbacks: Vec::new(),
            extensions: Map::new(),
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// `PATCH path`.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// `QUERY path`: a safe, idempotent request whose query is its body
    /// (draft-ietf-httpbis-safe-method-w-body). It needs an OpenAPI 3.2 document:
    /// [`Api::openapi_version`](super::Api::openapi_version).
    pub fn query(path: impl Into<String>) -> Self {
        Self::new(crate::spec::methods::query_method(), path)
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A unique name for the operation (used in problems and by code generators).
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.operation_id = Some(id.into());
        self
    }

    /// One line on what the operation does.
    pub fn summary(mut self, text: impl Into<String>) -> Self {
        self.summary = Some(text.into());
        self
    }

    /// A longer description (CommonMark).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Girder's `notes`: another paragraph appended to the description.
    pub fn notes(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.description = Some(match self.description.take() {
            Some(before) => format!("{before}\n\n{text}"),
            None => text,
        });
        self
    }

    /// Groups the operation in the docs; may be called several times.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds a parameter.
    pub fn param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }

    /// Adds Girder-style paging (`limit`, `offset`, `sort`, `sortdir`) through `x-paging`;
    /// the engine declares the four parameters and merges them for the handler.
    pub fn paging(self, paging: Paging) -> Self {
        let value = paging.to_value();
        self.extension("x-paging", value)
    }

    /// A required JSON body of type `T`.
    pub fn body<T: JsonSchema + ?Sized>(self, description: impl Into<String>) -> Self {
        self.request_body(RequestBody::of::<T>().description(description))
    }

    /// A request body described in full.
    pub fn request_body(mut self, body: RequestBody) -> Self {
        self.body = Some(body);
        self
    }

    /// Girder's `consumes`: the body's media type instead of `application/json`, whether
    /// given before or after the body. Without a body it is a mistake
    /// [`Api::to_value`](super::Api::to_value) reports.
    pub fn consumes(mut self, media: impl Into<String>) -> Self {
        self.consumes = Some(media.into());
        self
    }

    /// A `status` answer with a JSON body of type `T`; called again with the same status,
    /// the types become a `oneOf`.
    pub fn response<T: JsonSchema + ?Sized>(
        self,
        status: u16,
        description: impl Into<String>,
    ) -> Self {
        self.respond(Response::of::<T>(status, description))
    }

    /// A `status` answer without a body.
    pub fn empty_response(self, status: u16, description: impl Into<String>) -> Self {
        self.respond(Response::empty(status, description))
    }

    /// An error type for `status`, like a `:raises NotFoundError:` in a docstring. Several
    /// errors with one status become a `oneOf`.
    pub fn error<T: JsonSchema + ?Sized>(
        self,
        status: u16,
        description: impl Into<String>,
    ) -> Self {
        self.respond(Response::error::<T>(status, description))
    }

    /// The layer's `application/problem+json` problem for `status`; see [`Response::problem`].
    pub fn problem(self, status: u16, description: impl Into<String>) -> Self {
        self.respond(Response::problem(status, description))
    }

    /// A response described in full.
    pub fn respond(mut self, response: Response) -> Self {
        self.responses.push(response);
        self
    }

    /// An example for the last response so far with `status` and a body (examples of several
    /// responses with one status are named). Given before any such response, it goes to the
    /// last one the operation ends up with; when there is none, it is a mistake
    /// [`Api::to_value`](super::Api::to_value) reports.
    pub fn example(mut self, status: u16, value: Value) -> Self {
        let with_body = self
            .responses
            .iter_mut()
            .rev()
            .find(|r| r.status == status && r.content.is_some());
        match with_body.and_then(|response| response.content.as_mut()) {
            Some(content) => content.example = Some(value),
            None => self.pending_examples.push((status, value)),
        }
        self
    }

    /// Marks the operation as deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Deprecated, and going away on `date` (`YYYY-MM-DD`): emitted as `x-sunset`, which the
    /// engine turns into a `Sunset` response header.
    pub fn sunset(mut self, date: impl Into<String>) -> Self {
        self.deprecated = true;
        self.extension("x-sunset", date.into())
    }

    /// No credentials needed, whatever the API's default security (`security: []`).
    pub fn public(mut self) -> Self {
        self.access = Access::Public;
        self
    }

    /// Requires `scheme` with `scopes`. Called again, adds another alternative (any one
    /// alternative is enough).
    pub fn security<S: Into<String>>(
        mut self,
        scheme: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        let requirement = vec![(scheme.into(), scopes.into_iter().map(Into::into).collect())];
        match &mut self.access {
            Access::Requirements(alternatives) => alternatives.push(requirement),
            access => *access = Access::Requirements(vec![requirement]),
        }
        self
    }

    /// An out-of-band request sent later to a URL from the request: `callback` is described
    /// like an operation whose path is a runtime expression such as
    /// `{$request.query.callback}`.
    pub fn callback(mut self, name: impl Into<String>, callback: Operation) -> Self {
        self.callbacks.push(Callback {
            name: name.into(),
            operation: callback,
        });
        self
    }

    /// Any other field of the operation object, such as an `x-` extension of your own.
    pub fn extension(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.into(), value.into());
        self
    }
}
