//! Code-first descriptions: what the builder emits, the mistakes it reports, and requests
//! validated by the layer built from a described document.

use http::Request;
use oasgate::body::Body;
use oasgate::describe::{
    Api, Operation, Paging, Param, ParamIn, RequestBody, Response, SecurityScheme,
};
use oasgate::{OpenApiLayer, Options};
use schemars::JsonSchema;
use serde_json::{Value, json};

use crate::support::{get, send, with_body};

/// A book on the shelf.
///
/// Books are lent, never sold.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Book {
    /// The ISBN-13 identifier.
    id: uuid::Uuid,
    /// The title as printed
    /// on the cover.
    title: String,
    /// Where the book is.
    state: State,
    /// When it came back last, if ever.
    returned: Option<chrono::DateTime<chrono::Utc>>,
    /// The day it was bought.
    bought: chrono::NaiveDate,
    /// How many pages.
    pages: u32,
}

/// Where a book is.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum State {
    /// On its shelf.
    OnShelf,
    /// Lent to a reader.
    Lent,
}

/// No book has this identifier.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Missing {
    /// What was looked for.
    id: String,
}

/// The request was not understood.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Confused {
    /// Why.
    reason: String,
}

/// A type whose name is the one the layer's problem schema needs.
#[derive(JsonSchema)]
#[schemars(rename = "Problem")]
#[allow(dead_code)]
struct Shadow {
    /// Anything.
    what: String,
}

/// A filter sent as JSON in the query.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Filter {
    /// Only books in this state.
    state: State,
}

fn library() -> Api {
    Api::new("Library", "2.1")
        .description("Books and loans.")
        .server("http://localhost/lib")
        .security_scheme("key", SecurityScheme::api_key_header("X-Key"))
        .default_security("key", Vec::<String>::new())
        .tag("Books", "The catalog.")
        .error_envelope("error")
        .operation(
            Operation::get("/books")
                .operation_id("list_books")
                .tag("Books")
                .tag("Listing")
                .summary("Lists books.")
                .param(Param::query::<State>("state").default("on_shelf"))
                .param(Param::query::<String>("title").strip().lowercase())
                .param(
                    Param::query::<String>("code")
                        .uppercase()
                        .enumeration(["A", "B"]),
                )
                .param(Param::query::<chrono::NaiveDate>("since").lenient_date())
                .param(Param::json::<Filter>(ParamIn::Query, "filter"))
                .param(Param::header::<u32>("X-Page-Size").default(20))
                .param(Param::cookie::<String>("session").deprecated())
                .paging(Paging::new())
                .response::<Vec<Book>>(200, "The books."),
        )
        .operation(
            Operation::get("/books/{id}")
                .operation_id("get_book")
                .tag("Books")
                .param(Param::path::<uuid::Uuid>("id").description("The book."))
                .response::<Book>(200, "The book.")
                .example(200, json!({"title": "Dune"}))
                .error::<Missing>(404, "No such book.")
                .error::<Confused>(404, "Not even an identifier."),
        )
        .operation(
            Operation::put("/books/{id}")
                .operation_id("put_book")
                .notes("Replaces the book.")
                .notes("Idempotent.")
                .request_body(RequestBody::of::<Book>().or::<Book>("application/xml"))
                .respond(
                    Response::of::<Book>(200, "Stored.")
                        .named_example("dune", json!({"title": "Dune"})),
                )
                .response::<Missing>(200, "Nothing to store.")
                .respond(Response::empty(204, "Unchanged.").header(Param::header::<String>("ETag")))
                .paging(Paging::new().max_limit(10).sort_fields(["title"]))
                .sunset("2030-01-01"),
        )
        .operation(
            Operation::delete("/books/{id}/loans/{loan}")
                .deprecated()
                .param(Param::model(ParamIn::Path, "id", "book"))
                .public()
                .security("key", ["admin"])
                .security("key", ["librarian", "audit"]),
        )
        .operation(
            Operation::post("/watch")
                .public()
                .param(Param::query::<String>("hook").required())
                .body::<Filter>("What to watch.")
                .consumes("application/merge-patch+json")
                .empty_response(202, "Watching.")
                .callback(
                    "changed",
                    Operation::post("{$request.query.hook}")
                        .request_body(RequestBody::of::<Book>())
                        .empty_response(200, "Received."),
                ),
        )
}

fn document() -> Value {
    library()
        .to_value()
        .expect("the library is described without mistakes")
}

#[test]
fn types_become_components_with_their_docs_and_formats() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    // (row, pointer into components/schemas, expected value)
    let rows: &[(&str, &str, Value)] = &[
        (
            "title and description from the doc comment",
            "/Book/description",
            json!("A book on the shelf.\n\nBooks are lent, never sold."),
        ),
        (
            "a wrapped doc comment is one line",
            "/Book/properties/title/description",
            json!("The title as printed on the cover."),
        ),
        ("uuid format", "/Book/properties/id/format", json!("uuid")),
        (
            "date-time format",
            "/Book/properties/returned/format",
            json!("date-time"),
        ),
        (
            "date format",
            "/Book/properties/bought/format",
            json!("date"),
        ),
        (
            "unsigned integers have a minimum",
            "/Book/properties/pages/minimum",
            json!(0),
        ),
        (
            "Option is not required",
            "/Book/required",
            json!(["id", "title", "state", "bought", "pages"]),
        ),
        (
            "an enum is a string enum",
            "/State/enum",
            json!(["on_shelf", "lent"]),
        ),
        ("an enum is a string", "/State/type", json!("string")),
        (
            "variant docs are listed",
            "/State/description",
            json!("Where a book is.\n\n- `on_shelf`: On its shelf.\n- `lent`: Lent to a reader."),
        ),
        (
            "a field of a named type is a reference",
            "/Book/properties/state/$ref",
            json!("#/components/schemas/State"),
        ),
    ];
    for (row, pointer, expected) in rows {
        assert_eq!(
            schemas.pointer(pointer),
            Some(expected),
            "{row}: {pointer} in {schemas:#}"
        );
    }
    let names: Vec<&String> = schemas.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["State", "Filter", "Book", "Missing", "Confused"],
        "each type once, in the order the description first uses it"
    );
    let text = doc.to_string();
    assert!(
        !text.contains("$defs") && !text.contains("$schema"),
        "refs point into components"
    );
}

#[test]
fn the_dialect_is_named_only_when_asked() {
    // OAS 3.1.1, OpenAPI Object: `jsonSchemaDialect` is "the default value for the `$schema`
    // keyword within Schema Objects"; absent, the OAS dialect applies, which the generated
    // schemas are written in. Swagger UI warns about any other value.
    assert!(document().get("jsonSchemaDialect").is_none());
    let asked = library()
        .json_schema_dialect("https://json-schema.org/draft/2020-12/schema")
        .to_value()
        .expect("the library is described without mistakes");
    assert_eq!(
        asked["jsonSchemaDialect"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let keys: Vec<&String> = asked.as_object().unwrap().keys().collect();
    assert_eq!(keys[..3], ["openapi", "info", "jsonSchemaDialect"]);
}

#[test]
fn the_generated_document_reads_top_down() {
    let doc = library()
        .extension("x-owner", "the library team")
        .to_value()
        .expect("the library is described without mistakes");
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "openapi",
            "info",
            "servers",
            "paths",
            "components",
            "security",
            "tags",
            "x-owner"
        ]
    );
    // Paths in the order the operations were added, tags in the order they were described
    // (then the ones only used).
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        [
            "/books",
            "/books/{id}",
            "/books/{id}/loans/{loan}",
            "/watch"
        ]
    );
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["Books", "Listing"]);
    // The text printed (Api::to_json) keeps the same order.
    let text = library().to_json().unwrap();
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    assert!(at("openapi") < at("info") && at("info") < at("servers"));
    assert!(at("servers") < at("paths") && at("paths") < at("components"));
}

#[test]
fn parameters_carry_the_girder_extras() {
    let doc = document();
    let params = &doc["paths"]["/books"]["get"]["parameters"];
    let by_name = |name: &str| {
        params
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    // (row, parameter, pointer, expected)
    let rows: &[(&str, &str, &str, Value)] = &[
        (
            "a default beside a named type inlines it",
            "state",
            "/schema",
            json!({
                "type": "string", "enum": ["on_shelf", "lent"], "default": "on_shelf",
                "description": "Where a book is.\n\n- `on_shelf`: On its shelf.\n- `lent`: Lent to a reader.",
            }),
        ),
        ("optional by default", "state", "/required", Value::Null),
        ("strip", "title", "/x-strip", json!(true)),
        ("lowercase", "title", "/x-lowercase", json!(true)),
        ("uppercase", "code", "/x-uppercase", json!(true)),
        (
            "enum",
            "code",
            "/schema",
            json!({"type": "string", "enum": ["A", "B"]}),
        ),
        ("lenient date", "since", "/x-date", json!("lenient")),
        ("date format", "since", "/schema/format", json!("date")),
        (
            "JSON parameter",
            "filter",
            "/content/application~1json/schema/$ref",
            json!("#/components/schemas/Filter"),
        ),
        (
            "JSON parameter has no schema of its own",
            "filter",
            "/schema",
            Value::Null,
        ),
        (
            "header default",
            "X-Page-Size",
            "/schema/default",
            json!(20),
        ),
        ("header location", "X-Page-Size", "/in", json!("header")),
        ("cookie", "session", "/in", json!("cookie")),
        ("deprecated", "session", "/deprecated", json!(true)),
    ];
    for (row, name, pointer, expected) in rows {
        let param = by_name(name);
        assert_eq!(
            param.pointer(pointer).unwrap_or(&Value::Null),
            expected,
            "{row}: {param:#}"
        );
    }
    let get = &doc["paths"]["/books"]["get"];
    assert_eq!(get["x-paging"], json!(true), "default paging");
    assert_eq!(get["tags"], json!(["Books", "Listing"]));
    let put = &doc["paths"]["/books/{id}"]["put"];
    assert_eq!(
        put["x-paging"],
        json!({"max_limit": 10, "sort_fields": ["title"]})
    );
    assert_eq!(
        (&put["deprecated"], &put["x-sunset"]),
        (&json!(true), &json!("2030-01-01"))
    );
    assert_eq!(put["description"], "Replaces the book.\n\nIdempotent.");
    // A template parameter nobody declared is declared as a string.
    assert_eq!(
        put["parameters"],
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}])
    );
    let delete = &doc["paths"]["/books/{id}/loans/{loan}"]["delete"];
    assert_eq!(
        delete["parameters"][0]["name"], "loan",
        "undeclared template names come first"
    );
    assert_eq!(delete["parameters"][1]["x-model"], "book");
    assert_eq!(delete["parameters"][1]["schema"], json!({"type": "string"}));
}

#[test]
fn responses_errors_security_and_callbacks() {
    let doc = document();
    let get = &doc["paths"]["/books/{id}"]["get"];
    let rows: &[(&str, &Value, &str, Value)] = &[
        (
            "a response's schema",
            get,
            "/responses/200/content/application~1json/schema/$ref",
            json!("#/components/schemas/Book"),
        ),
        (
            "one example",
            get,
            "/responses/200/content/application~1json/example",
            json!({"title": "Dune"}),
        ),
        (
            "errors of one status share the envelope",
            get,
            "/responses/404/content/application~1json/schema",
            json!({
                "type": "object",
                "properties": {"error": {"oneOf": [
                    {"$ref": "#/components/schemas/Missing"},
                    {"$ref": "#/components/schemas/Confused"},
                ]}},
                "required": ["error"],
                "additionalProperties": false,
            }),
        ),
        (
            "their descriptions are joined",
            get,
            "/responses/404/description",
            json!("No such book. **OR** Not even an identifier."),
        ),
        (
            "default security is not repeated",
            get,
            "/security",
            Value::Null,
        ),
    ];
    for (row, op, pointer, expected) in rows {
        assert_eq!(
            op.pointer(pointer).unwrap_or(&Value::Null),
            expected,
            "{row}: {op:#}"
        );
    }
    let put = &doc["paths"]["/books/{id}"]["put"];
    let ok = &put["responses"]["200"];
    assert_eq!(
        ok["content"]["application/json"]["schema"],
        json!({"oneOf": [{"$ref": "#/components/schemas/Book"}, {"$ref": "#/components/schemas/Missing"}]}),
        "a union of response types"
    );
    assert_eq!(
        ok["content"]["application/json"]["examples"],
        json!({"dune": {"value": {"title": "Dune"}}})
    );
    assert_eq!(
        put["responses"]["204"]["headers"]["ETag"],
        json!({"schema": {"type": "string"}})
    );
    assert!(put["responses"]["204"].get("content").is_none());
    let media: Vec<&String> = put["requestBody"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(media, ["application/json", "application/xml"]);

    let delete = &doc["paths"]["/books/{id}/loans/{loan}"]["delete"];
    assert_eq!(
        delete["security"],
        json!([{"key": ["admin"]}, {"key": ["librarian", "audit"]}])
    );
    assert_eq!(delete["responses"], json!({"200": {"description": "OK"}}));

    let watch = &doc["paths"]["/watch"]["post"];
    assert_eq!(watch["security"], json!([]));
    assert_eq!(
        watch["requestBody"]["content"]["application/merge-patch+json"]["schema"]["$ref"],
        "#/components/schemas/Filter"
    );
    let callback = &watch["callbacks"]["changed"]["{$request.query.hook}"]["post"];
    assert_eq!(
        callback["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Book"
    );
    assert!(
        callback.get("parameters").is_none(),
        "a callback URL is not a path template"
    );

    assert_eq!(doc["security"], json!([{"key": []}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["key"],
        json!({"type": "apiKey", "in": "header", "name": "X-Key"})
    );
    assert_eq!(
        doc["tags"],
        json!([{"name": "Books", "description": "The catalog."}, {"name": "Listing"}])
    );
    assert_eq!(doc["servers"], json!([{"url": "http://localhost/lib"}]));
    assert_eq!(
        doc["info"],
        json!({"title": "Library", "version": "2.1", "description": "Books and loans."})
    );
}

#[test]
fn operations_carry_their_summary_id_and_deprecation() {
    let doc = document();
    let list = &doc["paths"]["/books"]["get"];
    assert_eq!(list["summary"], "Lists books.");
    assert_eq!(list["operationId"], "list_books");
    assert!(list.get("deprecated").is_none(), "not deprecated: {list:#}");
    assert_eq!(
        doc["paths"]["/books/{id}"]["get"]["operationId"],
        "get_book"
    );
    assert_eq!(
        doc["paths"]["/books/{id}"]["put"]["operationId"],
        "put_book"
    );
    let delete = &doc["paths"]["/books/{id}/loans/{loan}"]["delete"];
    assert!(
        delete.get("operationId").is_none() && delete.get("summary").is_none(),
        "neither given: {delete:#}"
    );
    assert_eq!(delete["deprecated"], true);
    assert!(
        delete.get("x-sunset").is_none(),
        "deprecated without a sunset date: {delete:#}"
    );
}

#[test]
fn consumes_and_examples_apply_whatever_the_order() {
    let first = Operation::post("/a")
        .consumes("text/csv")
        .example(201, json!("made"))
        .body::<String>("The rows.")
        .response::<String>(201, "Made.");
    let last = Operation::post("/a")
        .body::<String>("The rows.")
        .consumes("text/csv")
        .response::<String>(201, "Made.")
        .example(201, json!("made"));
    let render = |op: Operation| {
        let doc = Api::new("t", "1")
            .operation(op)
            .to_value()
            .expect("no mistakes");
        doc["paths"]["/a"]["post"].clone()
    };
    let (first, last) = (render(first), render(last));
    assert_eq!(first, last);
    let media: Vec<&String> = first["requestBody"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(media, ["text/csv"]);
    assert_eq!(
        first["responses"]["201"]["content"]["application/json"]["example"],
        "made"
    );
}

#[tokio::test]
async fn the_layers_problem_is_declared_beside_an_operations_own_errors() {
    let api = Api::new("t", "1").error_envelope("error").operation(
        Operation::post("/a")
            .body::<Filter>("The filter.")
            .empty_response(204, "Done.")
            .error::<Confused>(400, "Not understood.")
            .problem(400, "The input breaks the document."),
    );
    let doc = api.to_value().expect("no mistakes");
    let bad = &doc["paths"]["/a"]["post"]["responses"]["400"];
    assert_eq!(
        bad["description"],
        "Not understood. **OR** The input breaks the document."
    );
    assert_eq!(
        bad["content"]["application/json"]["schema"]["properties"]["error"]["$ref"],
        "#/components/schemas/Confused",
        "the operation's own error keeps its envelope"
    );
    assert_eq!(
        bad["content"]["application/problem+json"]["schema"],
        json!({"$ref": "#/components/schemas/Problem"}),
        "the problem is not wrapped in the envelope"
    );
    let problem = &doc["components"]["schemas"]["Problem"];
    assert_eq!(
        problem["required"],
        json!(["type", "title", "status", "detail"])
    );

    // The served document keeps the declared 400, and its own problem responses use the
    // same schema rather than a second copy.
    let layer = OpenApiLayer::new(api.document().unwrap()).expect("compiles");
    let served = send(
        &layer,
        crate::support::get_with("/openapi.json", &[("host", "t.example")]),
    )
    .await
    .json;
    let responses = &served["paths"]["/a"]["post"]["responses"];
    assert_eq!(&responses["400"], bad);
    assert_eq!(&served["components"]["schemas"]["Problem"], problem);
    assert!(served["components"]["schemas"].get("Problem2").is_none());
    let unsupported = responses["415"]["$ref"].as_str().expect("a 415 problem");
    let unsupported = served
        .pointer(unsupported.trim_start_matches('#'))
        .expect("the 415 response exists");
    assert_eq!(
        unsupported["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

#[test]
fn every_mistake_in_a_description_is_reported() {
    // (row, description, JSON pointer, phrase)
    let rows: Vec<(&str, Api, &str, &str)> = vec![
        (
            "an operation described twice",
            Api::new("t", "1")
                .operation(Operation::get("/a"))
                .operation(Operation::get("/a")),
            "/paths/~1a/get",
            "GET /a is described twice",
        ),
        (
            "a path parameter not in the template",
            Api::new("t", "1").operation(Operation::get("/a").param(Param::path::<u32>("id"))),
            "/paths/~1a/get/parameters/0",
            "path parameter `id` is not in the path template `/a`",
        ),
        (
            "a parameter declared twice",
            Api::new("t", "1").operation(
                Operation::get("/a")
                    .param(Param::query::<u32>("n"))
                    .param(Param::query::<String>("n")),
            ),
            "/paths/~1a/get/parameters/1",
            "query parameter `n` is declared twice",
        ),
        (
            "a status that is not one",
            Api::new("t", "1").operation(Operation::get("/a").empty_response(99, "no")),
            "/paths/~1a/get/responses",
            "status 99 is not an HTTP status",
        ),
        (
            "an unregistered scheme on an operation",
            Api::new("t", "1").operation(Operation::get("/a").security("jwt", ["x"])),
            "/paths/~1a/get/security",
            "security scheme `jwt` is not registered",
        ),
        (
            "an unregistered default scheme",
            Api::new("t", "1").default_security("jwt", Vec::<String>::new()),
            "/security",
            "security scheme `jwt` is not registered",
        ),
        (
            "a broken template",
            Api::new("t", "1").operation(Operation::get("/a/{id")),
            "/paths/~1a~1{id/get",
            "path `/a/{id`",
        ),
        (
            "an operationId used twice",
            Api::new("t", "1")
                .operation(Operation::get("/a").operation_id("x"))
                .operation(Operation::get("/b").operation_id("x")),
            "/paths/~1b/get/operationId",
            "duplicate operationId `x` (also at #/paths/~1a/get)",
        ),
        (
            "a callback's operationId used by an operation",
            Api::new("t", "1").operation(Operation::get("/a").operation_id("x").callback(
                "hook",
                Operation::post("{$request.query.hook}").operation_id("x"),
            )),
            "/paths/~1a/get/callbacks/0/operationId",
            "duplicate operationId `x` (also at #/paths/~1a/get)",
        ),
        (
            "consumes without a body",
            Api::new("t", "1").operation(Operation::post("/a").consumes("text/csv")),
            "/paths/~1a/post",
            "`consumes(\"text/csv\")` is given but the operation has no request body",
        ),
        (
            "an example for a status whose response has no body",
            Api::new("t", "1").operation(
                Operation::get("/a")
                    .empty_response(204, "Nothing.")
                    .example(204, json!("x")),
            ),
            "/paths/~1a/get/responses",
            "an example is given for status 204, but no response with that status has a body",
        ),
        (
            "an example for a status without a response",
            Api::new("t", "1").operation(Operation::get("/a").example(200, json!("x"))),
            "/paths/~1a/get/responses",
            "an example is given for status 200, but no response with that status has a body",
        ),
        (
            "an example given to a response without a body",
            Api::new("t", "1").operation(
                Operation::get("/a")
                    .respond(Response::empty(204, "Nothing.").named_example("x", json!("x"))),
            ),
            "/paths/~1a/get/responses",
            "an example is given for the status 204 response, which has no body",
        ),
        (
            "a type named like the layer's problem schema",
            Api::new("t", "1").operation(
                Operation::get("/a")
                    .response::<Shadow>(200, "Something.")
                    .problem(400, "Broken."),
            ),
            "/components/schemas/Problem",
            "a type of the description is named `Problem`",
        ),
        (
            "a type named like the layer's problem schema, described after it",
            Api::new("t", "1").operation(
                Operation::get("/a")
                    .problem(400, "Broken.")
                    .response::<Shadow>(200, "Something."),
            ),
            "/components/schemas/Problem",
            "a type of the description is named `Problem`",
        ),
    ];
    for (row, api, pointer, phrase) in rows {
        let error = api.to_value().expect_err(row);
        let found = error.problems().iter().any(|p| {
            p.pointer == pointer && p.message.contains(phrase) && p.file == "<description>"
        });
        assert!(found, "{row}: {error}");
        let written = api.write_json(std::env::temp_dir().join("never-written.json"));
        assert_eq!(
            written.unwrap_err().kind(),
            std::io::ErrorKind::InvalidData,
            "{row}"
        );
    }
    // All of them at once, in one error.
    let api = Api::new("t", "1")
        .default_security("nope", Vec::<String>::new())
        .operation(
            Operation::get("/a")
                .param(Param::path::<u32>("id"))
                .empty_response(600, "x"),
        );
    assert_eq!(api.to_value().unwrap_err().problems().len(), 3);
}

#[tokio::test]
async fn the_layer_validates_requests_against_a_described_document() {
    let doc = library().document().expect("document");
    let books =
        oasgate::models::loader_fn(|id| async move { Ok(Some(serde_json::json!({"id": id}))) });
    let options = Options::default().model_loader("book", books);
    let layer = OpenApiLayer::with_options(&doc, options).expect("compiles");
    let key = ("x-key", "k");
    let id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    let rows: Vec<(&str, Request<Body>, u16, &str)> = vec![
        ("no key", get(&format!("/lib/books/{id}")), 401, ""),
        (
            "a UUID",
            crate::support::get_with(&format!("/lib/books/{id}"), &[key]),
            200,
            "",
        ),
        (
            "not a UUID",
            crate::support::get_with("/lib/books/42", &[key]),
            400,
            "id",
        ),
        (
            "an enum value",
            crate::support::get_with("/lib/books?state=lent", &[key]),
            200,
            "",
        ),
        (
            "not an enum value",
            crate::support::get_with("/lib/books?state=sold", &[key]),
            400,
            "state",
        ),
        (
            "JSON parameter",
            crate::support::get_with("/lib/books?filter=%7B%22state%22%3A%22lent%22%7D", &[key]),
            200,
            "",
        ),
        (
            "JSON parameter of the wrong shape",
            crate::support::get_with("/lib/books?filter=%7B%22state%22%3A1%7D", &[key]),
            400,
            "filter",
        ),
        (
            "a header of the wrong type",
            crate::support::get_with("/lib/books", &[key, ("x-page-size", "many")]),
            400,
            "X-Page-Size",
        ),
        (
            "a public operation",
            with_body(
                "POST",
                "/lib/watch?hook=http://h",
                "application/merge-patch+json",
                r#"{"state": "lent"}"#,
            ),
            200,
            "",
        ),
        (
            "a bad body",
            with_body(
                "POST",
                "/lib/watch?hook=http://h",
                "application/merge-patch+json",
                r#"{"state": "sold"}"#,
            ),
            400,
            "",
        ),
        (
            "a required query parameter",
            with_body(
                "POST",
                "/lib/watch",
                "application/merge-patch+json",
                r#"{"state": "lent"}"#,
            ),
            400,
            "hook",
        ),
    ];
    for (row, request, status, name) in rows {
        let answer = send(&layer, request).await;
        assert_eq!(answer.status.as_u16(), status, "{row}: {}", answer.json);
        if status == 400 {
            let names: Vec<&str> = answer.json["errors"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["name"].as_str())
                .collect();
            assert!(names.contains(&name), "{row}: {names:?}");
        }
    }
    // Defaults come from the description.
    let answer = send(&layer, crate::support::get_with("/lib/books", &[key])).await;
    assert_eq!(answer.json["validated"]["query"]["state"], "on_shelf");
    assert_eq!(answer.json["validated"]["header"]["X-Page-Size"], 20);
}

#[test]
fn the_document_is_written_to_a_file_and_reads_back_the_same() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("library.openapi.json");
    library().write_json(&path).expect("written");
    let read = oasgate::Document::from_path(&path).expect("reads back");
    assert_eq!(read.as_json(), &document());
    assert_eq!(read.version(), oasgate::Version::V3_1);
}
