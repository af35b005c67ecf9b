//! OpenAPI 3.2's document-level constructs through the layer: `$self` as the base URI of
//! references, `components/mediaTypes` and `content` entries that are references to them,
//! the Discriminator Object's `defaultMapping`, and the new Example and Tag Object fields.

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use oasgate::body::Body;
use oasgate::{Document, OpenApiLayer, Options, ResponseValidation};
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt};

use crate::support::*;

const FIXTURE: &str = "local/documents32/openapi.yaml";

/// (pointer, or the parameter's name when the pointer is empty; code) of each error.
fn errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let pointer = e["pointer"].as_str().unwrap_or_default();
            let at = if pointer.is_empty() {
                e["name"].as_str().unwrap_or_default()
            } else {
                pointer
            };
            (
                at.to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn owned(errors: &[(&str, &str)]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn requests_follow_self_media_type_references_and_the_default_mapping() {
    let layer = fixture_layer(FIXTURE, Options::default());
    let json_ct = "application/json";
    // (what, method, path, body, status, errors as (pointer or name, code))
    let rows: Vec<(&str, &str, &str, &str, u16, Vec<(&str, &str)>)> = vec![
        // `$ref: shared/common#/components/parameters/Page`, resolved against `$self` to the
        // shared document's `$self`, read from `shared/common.yaml`.
        (
            "page from the $self-named document",
            "GET",
            "/library/books?page=2",
            "",
            200,
            vec![],
        ),
        (
            "page below its minimum",
            "GET",
            "/library/books?page=0",
            "",
            400,
            vec![("page", "minimum")],
        ),
        // A parameter's `content` entry that is a reference to `components/mediaTypes`.
        (
            "filter through a media type reference",
            "GET",
            "/library/books?filter=%7B%22author%22%3A%22Herbert%22%7D",
            "",
            200,
            vec![],
        ),
        (
            "filter with an undeclared key",
            "GET",
            "/library/books?filter=%7B%22colour%22%3A%22red%22%7D",
            "",
            400,
            vec![("filter", "additionalProperties")],
        ),
        // A request body's `content` entry that is a reference to `components/mediaTypes`.
        (
            "a book",
            "POST",
            "/library/books",
            r#"{"title":"Dune","isbn":"9780441013593"}"#,
            200,
            vec![],
        ),
        (
            "a book breaking its schema",
            "POST",
            "/library/books",
            r#"{"title":"","isbn":"123"}"#,
            400,
            vec![("/title", "minLength"), ("/isbn", "pattern")],
        ),
        // The schema walk reaches `Book` through the media type: its `readOnly` `id` is
        // refused in a request.
        (
            "a book with its read-only id",
            "POST",
            "/library/books",
            r#"{"id":"b1","title":"Dune","isbn":"9780441013593"}"#,
            400,
            vec![("/id", "readOnly")],
        ),
        // A request body in the shared document whose media type is a reference there, its
        // schema `../schemas/loan` resolved against that document's `$self`.
        (
            "a loan",
            "POST",
            "/library/loans",
            r#"{"isbn":"9780441013593","member":"M000123","days":14}"#,
            200,
            vec![],
        ),
        (
            "a loan breaking the schema its $id names",
            "POST",
            "/library/loans",
            r#"{"isbn":"9780441013593","member":"X1","days":40}"#,
            400,
            vec![("/member", "pattern"), ("/days", "maximum")],
        ),
        // The discriminator picks the mapped branch.
        (
            "a printed item",
            "POST",
            "/library/items",
            r#"{"format":"printed","shelf":"A12"}"#,
            200,
            vec![],
        ),
        (
            "a printed item on a bad shelf",
            "POST",
            "/library/items",
            r#"{"format":"printed","shelf":"a1"}"#,
            400,
            vec![("/shelf", "pattern")],
        ),
        // `defaultMapping: OtherItem`: "the schema ... that is expected to validate the
        // structure of the model when the discriminating property is not present in the
        // payload or contains a value for which there is no explicit or implicit mapping".
        (
            "an item without a format",
            "POST",
            "/library/items",
            r#"{"description":"A map of the county"}"#,
            200,
            vec![],
        ),
        (
            "an item without a format nor description",
            "POST",
            "/library/items",
            r#"{}"#,
            400,
            vec![("/description", "required")],
        ),
        (
            "an item of an unmapped format",
            "POST",
            "/library/items",
            r#"{"format":"vinyl","description":""}"#,
            400,
            vec![("/description", "minLength")],
        ),
        (
            "an item of an unmapped format, valid",
            "POST",
            "/library/items",
            r#"{"format":"vinyl","description":"An LP"}"#,
            200,
            vec![],
        ),
        // "`discriminator` MUST NOT change the validation outcome": a mapped value the
        // default branch also rejects is judged by the `oneOf`, reported on the mapped branch.
        (
            "a digital item without its url",
            "POST",
            "/library/items",
            r#"{"format":"digital","description":"An e-book"}"#,
            400,
            vec![("/url", "required")],
        ),
    ];
    for (what, method, path, body, status, want) in rows {
        let request = if body.is_empty() {
            request(method, path)
        } else {
            with_body(method, path, json_ct, body)
        };
        let answer = send(&layer, request).await;
        assert_eq!(answer.status.as_u16(), status, "{what}: {}", answer.json);
        if status != 200 {
            assert_eq!(
                errors(&answer.json),
                owned(&want),
                "{what}: {}",
                answer.json
            );
        }
    }
}

/// The same discriminated `oneOf` in 3.1 and 3.2: `defaultMapping` is an unknown field
/// before 3.2, and the verdicts are the same in both (the discriminator changes only which
/// errors are reported).
#[tokio::test]
async fn default_mapping_is_read_in_3_2_only() {
    let spec = |version: &str| {
        format!(
            r##"
openapi: {version}
info: {{title: t, version: "1"}}
paths:
  /shapes:
    post:
      requestBody:
        content:
          application/json:
            schema:
              oneOf:
                - $ref: "#/components/schemas/Circle"
                - $ref: "#/components/schemas/Blob"
              discriminator: {{propertyName: kind, defaultMapping: Blob}}
      responses: {{"201": {{description: made}}}}
components:
  schemas:
    Circle:
      type: object
      required: [kind, radius]
      properties: {{kind: {{const: Circle}}, radius: {{type: number}}}}
    Blob:
      type: object
      required: [area]
      properties: {{kind: {{not: {{const: Circle}}}}, area: {{type: number}}}}
"##
        )
    };
    // (version, body, status, errors)
    let rows: Vec<(&str, &str, u16, Vec<(&str, &str)>)> = vec![
        ("3.2.0", r#"{"area":2}"#, 200, vec![]),
        ("3.1.1", r#"{"area":2}"#, 200, vec![]),
        ("3.2.0", r#"{}"#, 400, vec![("/area", "required")]),
        ("3.1.1", r#"{}"#, 400, vec![("/kind", "discriminator")]),
        (
            "3.2.0",
            r#"{"kind":"Square"}"#,
            400,
            vec![("/area", "required")],
        ),
        (
            "3.1.1",
            r#"{"kind":"Square"}"#,
            400,
            vec![("/kind", "discriminator")],
        ),
        (
            "3.2.0",
            r#"{"kind":"Circle"}"#,
            400,
            vec![("/radius", "required")],
        ),
    ];
    for (version, body, status, want) in rows {
        let layer = layer(&spec(version), Options::default());
        let answer = send(
            &layer,
            with_body("POST", "/shapes", "application/json", body),
        )
        .await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{version} {body}: {}",
            answer.json
        );
        assert_eq!(
            errors(&answer.json),
            owned(&want),
            "{version} {body}: {}",
            answer.json
        );
    }
}

#[tokio::test]
async fn responses_follow_media_type_references() {
    let doc = Document::from_path(fixture(FIXTURE)).unwrap();
    let layer = OpenApiLayer::with_options(
        &doc,
        Options::default().response_validation(ResponseValidation::Enforce),
    )
    .unwrap();
    // (what the service answers, status the client gets, errors)
    let rows: Vec<(&str, u16, Vec<(&str, &str)>)> = vec![
        (
            r#"{"items":[{"title":"Dune","isbn":"9780441013593"}]}"#,
            200,
            vec![],
        ),
        (
            r#"{"items":[{"title":"Dune"}]}"#,
            500,
            vec![("/items/0/isbn", "required")],
        ),
        (r#"{"next":"p2"}"#, 500, vec![("/items", "required")]),
    ];
    for (answer, status, want) in rows {
        let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
            move |_request: Request<Body>| async move {
                Ok::<_, std::convert::Infallible>(
                    Response::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(Body::from(answer))
                        .unwrap(),
                )
            },
        );
        let response = service.oneshot(get("/library/books")).await.unwrap();
        let got = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(got, StatusCode::from_u16(status).unwrap(), "{answer}");
        if status != 200 {
            let problem: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(errors(&problem), owned(&want), "{answer}: {problem}");
        }
    }
}

#[tokio::test]
async fn the_served_document_keeps_the_3_2_fields() {
    for bundled in [false, true] {
        let layer = fixture_layer(FIXTURE, Options::default().serve_bundled(bundled));
        let answer = send(&layer, get_with("/openapi.json", &[("host", "api.test")])).await;
        assert_eq!(answer.status, 200, "bundled {bundled}");
        let doc = answer.json;
        assert_eq!(doc["$self"], "https://api.example.test/library/openapi");
        // Tag Object fields new in 3.2, served as written.
        assert_eq!(
            doc["tags"][1],
            json!({"name": "books", "summary": "Books", "parent": "catalogue", "kind": "nav"})
        );
        // Example Object fields new in 3.2, data and not structure.
        let example = &doc["components"]["mediaTypes"]["Book"]["examples"]["dune"];
        assert_eq!(
            example["dataValue"],
            json!({"title": "Dune", "isbn": "9780441013593"})
        );
        assert_eq!(
            example["serializedValue"],
            r#"{"title":"Dune","isbn":"9780441013593"}"#
        );
        let body = &doc["paths"]["/books"]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(body["$ref"], "#/components/mediaTypes/Book");
        if bundled {
            // The shared document's media type moved into `components/mediaTypes`.
            assert!(doc.get("x-oasgate-files").is_none(), "{doc:#}");
            assert_eq!(
                doc["components"]["requestBodies"]["Loan"]["content"]["application/json"]["$ref"],
                "#/components/mediaTypes/Loan"
            );
            let loan = &doc["components"]["mediaTypes"]["Loan"]["schema"]["$ref"];
            let target = loan.as_str().unwrap().trim_start_matches('#');
            assert_eq!(
                doc.pointer(target).unwrap()["$id"],
                "https://api.example.test/library/schemas/loan"
            );
        }
    }
}

const SHARED: &str = "openapi: 3.2.0\n$self: SHARED_SELF\ninfo: {title: s, version: '1'}\ncomponents:\n  parameters:\n    Page: {name: page, in: query, schema: {type: integer, minimum: 1}}\n";

fn root(version: &str, own: &str, reference: &str) -> String {
    format!(
        "openapi: {version}\n$self: {own}\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      parameters:\n        - $ref: '{reference}'\n      responses: {{'200': {{description: ok}}}}\n"
    )
}

/// A relative `$self` "is resolved against the next possible base URI source" (here the
/// file's URI) "before being used for the resolution of other relative URI references";
/// a 3.1 document's `$self` is an unknown field, its references read relative to the file.
#[tokio::test]
async fn relative_self_and_older_versions() {
    // (what, root version, root $self, shared $self, reference, loads and routes)
    let rows = [
        (
            "absolute $self",
            "3.2.0",
            "https://x.test/api/openapi",
            "https://x.test/api/shared/common",
            "shared/common#/components/parameters/Page",
            true,
        ),
        (
            "relative $self",
            "3.2.0",
            "/api/openapi",
            "/api/shared/common",
            "shared/common#/components/parameters/Page",
            true,
        ),
        (
            "by the shared document's absolute $self",
            "3.2.0",
            "https://x.test/api/openapi",
            "https://x.test/api/shared/common",
            "https://x.test/api/shared/common#/components/parameters/Page",
            true,
        ),
        (
            "a file name as before",
            "3.2.0",
            "https://x.test/api/openapi",
            "https://x.test/api/shared/common",
            "shared/common.yaml#/components/parameters/Page",
            true,
        ),
        // A relative path resolves against no `urn:` base: read relative to the file.
        (
            "a urn: $self",
            "3.2.0",
            "urn:example:library",
            "urn:example:library:common",
            "shared/common.yaml#/components/parameters/Page",
            true,
        ),
        (
            "$self in 3.1 is no base",
            "3.1.1",
            "https://x.test/api/openapi",
            "https://x.test/api/shared/common",
            "shared/common#/components/parameters/Page",
            false,
        ),
        (
            "another $self than the shared one declares",
            "3.2.0",
            "https://x.test/api/openapi",
            "https://x.test/api/lib/common",
            "shared/common#/components/parameters/Page",
            false,
        ),
    ];
    for (what, version, own, shared, reference, loads) in rows {
        let scratch = Scratch::new(
            "documents32",
            &[
                ("openapi.yaml", &root(version, own, reference)),
                ("shared/common.yaml", &SHARED.replace("SHARED_SELF", shared)),
            ],
        );
        let doc = Document::from_path(scratch.0.join("openapi.yaml")).expect(what);
        let compiled = OpenApiLayer::new(&doc);
        assert_eq!(compiled.is_ok(), loads, "{what}: {:?}", compiled.err());
        if let Ok(layer) = compiled {
            let answer = send(&layer, get("/a?page=0")).await;
            assert_eq!(answer.status, 400, "{what}");
            assert_eq!(
                errors(&answer.json),
                owned(&[("page", "minimum")]),
                "{what}"
            );
        }
    }
}

/// Documents refused at start-up, each with the place and what is expected.
#[test]
fn bad_documents_are_refused_with_the_rule_they_break() {
    let item = |discriminator: &str| {
        format!(
            "openapi: 3.2.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /i:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema:\n              oneOf: [{{$ref: '#/components/schemas/A'}}, {{$ref: '#/components/schemas/B'}}]\n              discriminator: {discriminator}\n      responses: {{'201': {{description: ok}}}}\ncomponents:\n  schemas:\n    A: {{type: object, required: [k], properties: {{k: {{const: a}}}}}}\n    B: {{type: object, required: [n]}}\n    C: {{type: object}}\n"
        )
    };
    let media = "openapi: 3.2.0\ninfo: {title: t, version: '1'}\npaths:\n  /m:\n    post:\n      requestBody:\n        content:\n          application/json: {$ref: '#/components/mediaTypes/Missing'}\n      responses: {'201': {description: ok}}\ncomponents:\n  mediaTypes:\n    Present: {schema: {type: object}}\n";
    // (what, files, pointer, message part)
    let rows: Vec<(&str, Vec<(&str, String)>, &str, &str)> = vec![
        (
            "$self that is no string",
            vec![(
                "openapi.yaml",
                root("3.2.0", "42", "#/components/parameters/P"),
            )],
            "/$self",
            "`$self` 42 is no URI reference; \"This string MUST be in the form of a URI reference",
        ),
        (
            "$self that is no URI reference",
            vec![(
                "openapi.yaml",
                root("3.2.0", "'http://a b/'", "#/components/parameters/P"),
            )],
            "/$self",
            "is no URI reference",
        ),
        (
            "two documents with one $self",
            vec![
                (
                    "openapi.yaml",
                    root(
                        "3.2.0",
                        "https://x.test/api/openapi",
                        "shared/common.yaml#/components/parameters/Page",
                    ),
                ),
                (
                    "shared/common.yaml",
                    SHARED.replace("SHARED_SELF", "https://x.test/api/openapi"),
                ),
            ],
            "/$self",
            "openapi.yaml`; each document needs its own",
        ),
        (
            "a reference outside the $self's site",
            vec![(
                "openapi.yaml",
                root(
                    "3.2.0",
                    "https://x.test/api/openapi",
                    "https://elsewhere.test/common#/components/parameters/Page",
                ),
            )],
            "/paths/~1a/get/parameters/0",
            "resolves against `$self` `https://x.test/api/openapi` to `https://elsewhere.test/common`, which is neither the `$self` nor a schema `$id` of a document read",
        ),
        (
            "defaultMapping naming no branch",
            vec![("openapi.yaml", item("{propertyName: k, defaultMapping: C}"))],
            "/paths/~1i/post/requestBody/content/application~1json/schema/discriminator/defaultMapping",
            "`defaultMapping` `C` names no schema of the adjacent `oneOf`; all possible schemas must be listed explicitly there",
        ),
        (
            "defaultMapping that is no string",
            vec![("openapi.yaml", item("{propertyName: k, defaultMapping: 3}"))],
            "/paths/~1i/post/requestBody/content/application~1json/schema/discriminator/defaultMapping",
            "`defaultMapping` must be a string",
        ),
        (
            "a media type reference naming nothing",
            vec![("openapi.yaml", media.to_owned())],
            "/paths/~1m/post/requestBody/content/application~1json",
            "unresolvable `$ref`",
        ),
    ];
    for (what, files, pointer, message) in rows {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let scratch = Scratch::new("documents32-bad", &files);
        let error = match Document::from_path(scratch.0.join("openapi.yaml")) {
            Err(error) => error,
            Ok(doc) => OpenApiLayer::new(&doc)
                .err()
                .unwrap_or_else(|| panic!("{what}: accepted")),
        };
        let found = error
            .problems()
            .iter()
            .find(|p| p.pointer == pointer)
            .unwrap_or_else(|| panic!("{what}: nothing at {pointer}: {error}"));
        assert!(found.message.contains(message), "{what}: {}", found.message);
    }
}

/// `dataValue` and `serializedValue` hold the example itself ("Embedded literal example"), as
/// `value` does: a `$ref` inside is data, not followed; the Example Object itself may be a
/// reference, followed.
#[test]
fn example_values_are_data() {
    let doc = Document::from_str(
        r##"
openapi: 3.2.0
info: {title: t, version: "1"}
paths:
  /notes:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object}
            examples:
              pointer: {$ref: "#/components/examples/Pointer"}
      responses: {"201": {description: ok}}
components:
  examples:
    Pointer:
      dataValue: {$ref: "elsewhere.yaml#/nothing"}
      serializedValue: '{"$ref":"elsewhere.yaml#/nothing"}'
"##,
    )
    .unwrap();
    assert_eq!(doc.unresolved_refs().count(), 0);
    let layer = OpenApiLayer::new(&doc).unwrap();
    drop(layer);
    let example = &doc.as_json()["components"]["examples"]["Pointer"];
    assert_eq!(
        example["dataValue"],
        json!({"$ref": "elsewhere.yaml#/nothing"})
    );
}
