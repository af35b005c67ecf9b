//! Loading: every fixture, multi-file `$ref`s, and start-up errors that list every problem.

use oasgate::{Document, OpenApiLayer, Options, Version};

use crate::support::*;

#[test]
fn every_fixture_loads() {
    // (fixture, version)
    let rows: &[(&str, Version)] = &[
        ("oai/v3.0-petstore.yaml", Version::V3_0),
        ("oai/v3.0-petstore-expanded.yaml", Version::V3_0),
        ("oai/v3.0-uspto.yaml", Version::V3_0),
        ("oai/v3.0-callback-example.yaml", Version::V3_0),
        ("oai/v3.1-webhook-example.yaml", Version::V3_1),
        ("jobs.openapi.json", Version::V3_1),
        (
            "digitalocean/specification/DigitalOcean-public.v2.yaml",
            Version::V3_0,
        ),
        ("oai/v2.0-petstore.yaml", Version::V2_0),
        ("oai/v2.0-petstore-expanded.yaml", Version::V2_0),
        ("local/girder-swagger2.yaml", Version::V2_0),
        ("local/schema-ids/openapi.yaml", Version::V3_1),
        ("local/library-3.2.yaml", Version::V3_2),
    ];
    for (name, version) in rows {
        let doc = Document::from_path(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.version(), *version, "{name}");
        let options = Options::default()
            .model_loader("folder", oasgate::models::loader_fn(|_| async { Ok(None) }));
        OpenApiLayer::with_options(&doc, options).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[tokio::test]
async fn digitalocean_routes_and_validates() {
    let layer = fixture_layer(
        "digitalocean/specification/DigitalOcean-public.v2.yaml",
        Options::default(),
    );
    let auth = [("authorization", "Bearer t")];
    let ok = send(&layer, get_with("/v2/droplets?per_page=20&page=2", &auth)).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["validated"]["operationId"], "droplets_list");
    assert_eq!(ok.json["validated"]["query"]["per_page"], 20);
    let bad = send(&layer, get_with("/v2/droplets?per_page=500", &auth)).await;
    assert_eq!(bad.status, 400, "{}", bad.json);
    let anonymous = send(&layer, get("/v2/droplets")).await;
    assert_eq!(anonymous.status, 401);
    // A body schema reached through a `$ref` standing where `properties` belongs.
    let body = r#"{"name": "lb", "region": "nyc3", "droplet_ids": [1], "forwarding_rules": [{"entry_protocol": "http", "entry_port": 80, "target_protocol": "http", "target_port": 80}]}"#;
    let mut request = with_body("POST", "/v2/load_balancers", "application/json", body);
    request
        .headers_mut()
        .insert("authorization", "Bearer t".parse().unwrap());
    let created = send(&layer, request).await;
    assert_eq!(created.status, 200, "{}", created.json);
}

#[tokio::test]
async fn refs_across_files_with_cycles() {
    let dir = Scratch::new(
        "refs",
        &[
            (
                "api.yaml",
                "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /nodes:\n    $ref: 'paths/nodes.yaml'\n",
            ),
            (
                "paths/nodes.yaml",
                "post:\n  requestBody:\n    content:\n      application/json:\n        schema: {$ref: '../schemas/node.yaml'}\n  responses: {'200': {description: ok}}\n",
            ),
            (
                "schemas/node.yaml",
                "type: object\nrequired: [name]\nproperties:\n  name: {type: string}\n  children:\n    type: array\n    items: {$ref: 'node.yaml'}\n  parent: {$ref: '#/properties/name'}\n",
            ),
        ],
    );
    let doc = Document::from_path(dir.0.join("api.yaml")).expect("loads");
    let files = doc.as_json()["x-oasgate-files"].as_object().unwrap();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["paths/nodes.yaml", "schemas/node.yaml"],
        "each file once"
    );
    // Every file read, root first, as paths a watcher can stat.
    assert_eq!(
        doc.source_paths(),
        [
            dir.0.join("api.yaml"),
            dir.0.join("paths/nodes.yaml"),
            dir.0.join("schemas/node.yaml"),
        ]
    );
    assert!(
        Document::from_str("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
            .unwrap()
            .source_paths()
            .is_empty()
    );
    let layer = OpenApiLayer::new(&doc).expect("compiles");
    let ok = send(
        &layer,
        with_body(
            "POST",
            "/nodes",
            "application/json",
            r#"{"name": "a", "children": [{"name": "b", "children": []}]}"#,
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let bad = send(
        &layer,
        with_body(
            "POST",
            "/nodes",
            "application/json",
            r#"{"name": "a", "children": [{"children": [{"name": 1}]}]}"#,
        ),
    )
    .await;
    assert_eq!(bad.status, 400);
    let pointers: Vec<&str> = bad.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        ["/children/0/name", "/children/0/children/0/name"],
        "{}",
        bad.json
    );
}

#[test]
fn a_broken_document_lists_every_problem() {
    let dir = Scratch::new(
        "broken",
        &[(
            "api.yaml",
            r#"openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a/{id}:
    get:
      operationId: same
      parameters:
        - {name: other, in: path, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
  /a/{name}:
    get:
      operationId: same
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
        - {name: bad, in: query, schema: {type: [string, 'null']}}
      requestBody:
        content:
          application/json:
            schema: {$ref: 'missing.yaml#/Thing'}
      responses: {'200': {description: ok}}
  /b:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Nope'}
      responses: {'200': {description: ok}}
  /c:
    get:
      parameters:
        - {name: q, in: query, schema: {type: string, minLength: -1}}
      security: [{ghost: []}]
      responses: {'200': {description: ok}}
"#,
        )],
    );
    let error = Document::from_path(dir.0.join("api.yaml"))
        .and_then(|d| OpenApiLayer::new(&d))
        .expect_err("broken");
    let text = error.to_string();
    let problems = error.problems();
    // Both unresolvable references are reported (a request reaches each), beside every
    // other problem; the second half checks those once the references are fixed.
    assert_eq!(problems.len(), 9, "{text}");
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("missing.yaml") && p.line == Some(19)),
        "{text}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("#/components/schemas/Nope")
                && p.pointer == "/paths/~1b/post/requestBody/content/application~1json/schema"),
        "{text}"
    );

    let fixed = std::fs::read_to_string(dir.0.join("api.yaml"))
        .unwrap()
        .replace("{$ref: 'missing.yaml#/Thing'}", "{type: object}")
        .replace("{$ref: '#/components/schemas/Nope'}", "{type: object}");
    let error = Document::from_str(&fixed)
        .and_then(|d| OpenApiLayer::new(&d))
        .expect_err("still broken");
    let text = error.to_string();
    let messages: Vec<&str> = error
        .problems()
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    let expected = [
        "`type` must be a single type name in OpenAPI 3.0",
        "path parameter `id` is in the template but not declared",
        "path parameter `other` is declared but not in the template",
        "duplicate operationId `same`",
        "matches the same requests as `/a/{id}`",
        "invalid schema",
        "unknown scheme `ghost`",
    ];
    for e in expected {
        assert!(
            messages.iter().any(|m| m.contains(e)),
            "missing {e:?} in:\n{text}"
        );
    }
    assert!(
        error
            .problems()
            .iter()
            .all(|p| !p.pointer.is_empty() && p.line.is_some()),
        "every problem has a pointer and a line:\n{text}"
    );
}

#[test]
fn bad_input_never_panics() {
    for text in [
        "",
        "[]",
        "42",
        "openapi: 3.0.0",
        "openapi: 9.9.9\npaths: {}",
        "{",
        "openapi: [3]",
        "\u{0}",
        "paths:\n  /a: 7\nopenapi: 3.1.0",
    ] {
        let result = Document::from_str(text).and_then(|d| OpenApiLayer::new(&d));
        if let Err(e) = result {
            assert!(!e.problems().is_empty());
        }
    }
}

/// OpenAPI 3.1 §4.8.19 (Example Object): `value` is an "Embedded literal example"; the same
/// holds for `example` on schemas and media types, and JSON Schema's `default`, `enum`,
/// `const` and `examples` hold instances, not schemas. A `$ref` member there is data: it is
/// neither followed nor rewritten, and a target that does not exist is no error.
#[tokio::test]
async fn refs_inside_example_and_schema_data_are_data() {
    let spec = r##"
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /users:
    post:
      requestBody:
        content:
          application/scim+json:
            schema:
              type: object
              default: {$ref: 'missing-default.yaml'}
              examples: [{$ref: '#/nowhere/examples'}]
              properties:
                kind:
                  enum: [{$ref: '#/nowhere/enum'}, plain]
                tag:
                  const: {$ref: 'missing-const.yaml#/x'}
                  example: {$ref: '#/nowhere/example'}
            example: {$ref: 'missing-example.yaml'}
            examples:
              inline:
                value: {schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], $ref: 'missing-inline.yaml'}
              shared: {$ref: '#/components/examples/scim'}
      responses: {'200': {description: ok}}
components:
  examples:
    scim:
      summary: a SCIM payload whose member is called $ref
      value: {$ref: '#/components/schemas/Nowhere'}
"##;
    let doc = Document::from_str(spec).unwrap_or_else(|e| panic!("{e}"));
    let root = doc.as_json();
    // Left exactly as written.
    assert_eq!(
        root["components"]["examples"]["scim"]["value"]["$ref"],
        "#/components/schemas/Nowhere"
    );
    let media = &root["paths"]["/users"]["post"]["requestBody"]["content"]["application/scim+json"];
    assert_eq!(media["example"]["$ref"], "missing-example.yaml");
    assert_eq!(
        media["examples"]["inline"]["value"]["$ref"],
        "missing-inline.yaml"
    );
    assert_eq!(media["schema"]["default"]["$ref"], "missing-default.yaml");
    assert!(root.get("x-oasgate-files").is_none(), "no file was read");
    let layer = OpenApiLayer::new(&doc).unwrap_or_else(|e| panic!("{e}"));
    // `enum` and `const` compare instances: an object with a `$ref` member is one of them.
    let ok = send(
        &layer,
        with_body(
            "POST",
            "/users",
            "application/scim+json",
            r##"{"kind": {"$ref": "#/nowhere/enum"}, "tag": {"$ref": "missing-const.yaml#/x"}}"##,
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let bad = send(
        &layer,
        with_body(
            "POST",
            "/users",
            "application/scim+json",
            r#"{"kind": "other"}"#,
        ),
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.json);
}

/// A request schema may `$ref` a subschema of another schema's `readOnly` property (DigitalOcean
/// does). The request view forbids the `readOnly` property itself — "the property SHOULD NOT be
/// sent as part of the request" (OpenAPI 3.0 Schema Object, `readOnly`) — yet the schema it
/// holds is still a schema that other places may reference.
#[tokio::test]
async fn refs_into_read_only_properties_resolve_in_requests() {
    let spec = r##"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /droplets:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/DropletCreate'}
      responses: {'200': {description: ok}}
    put:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Droplet'}
      responses: {'200': {description: ok}}
components:
  schemas:
    Droplet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
        networks:
          type: object
          readOnly: true
          properties:
            v4:
              type: array
              items: {type: string, format: ipv4}
            ports:
              type: object
              properties:
                secret: {type: integer, readOnly: true}
                number: {type: integer}
    DropletCreate:
      type: object
      required: [name]
      properties:
        name: {type: string}
        ips: {$ref: '#/components/schemas/Droplet/properties/networks/properties/v4'}
        ports: {$ref: '#/components/schemas/Droplet/properties/networks/properties/ports'}
"##;
    let layer = layer(spec, Options::default());
    let post = |body: &'static str| with_body("POST", "/droplets", "application/json", body);
    let ok = send(
        &layer,
        post(r#"{"name": "a", "ips": ["10.0.0.1"], "ports": {"number": 22}}"#),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    // The referenced schema still validates.
    let bad = send(&layer, post(r#"{"name": "a", "ips": [1]}"#)).await;
    assert_eq!(bad.status, 400, "{}", bad.json);
    assert_eq!(bad.json["errors"][0]["pointer"], "/ips/0", "{}", bad.json);
    // And the request view reaches through the reference: a `readOnly` property below it is
    // still refused in a request.
    let nested = send(&layer, post(r#"{"name": "a", "ports": {"secret": 1}}"#)).await;
    assert_eq!(nested.status, 400, "{}", nested.json);
    assert_eq!(
        nested.json["errors"][0]["code"], "readOnly",
        "{}",
        nested.json
    );
    // The `readOnly` properties themselves stay refused and not required.
    let put = |body: &'static str| with_body("PUT", "/droplets", "application/json", body);
    assert_eq!(send(&layer, put(r#"{"name": "a"}"#)).await.status, 200);
    for body in [
        r#"{"name": "a", "id": 1}"#,
        r#"{"name": "a", "networks": {}}"#,
    ] {
        let refused = send(&layer, put(body)).await;
        assert_eq!(refused.status, 400, "{body}");
        assert_eq!(
            refused.json["errors"][0]["code"], "readOnly",
            "{}",
            refused.json
        );
    }
}

/// The Paths Object "MAY be extended with Specification Extensions" (OpenAPI 3.1 §4.8.8), and
/// so may a Path Item Object (§4.8.9): an `x-` key there is neither a path nor a method.
#[tokio::test]
async fn extensions_in_paths_and_path_items_are_skipped() {
    let spec = r##"
openapi: 3.0.1
info: {title: t, version: '1'}
paths:
  x-codegen-contextRoot: /apis/v1
  x-tags: {a: {get: 1}}
  /a:
    x-handler: {get: not an operation}
    x-get: {responses: 1}
    get:
      responses: {'200': {description: ok}}
"##;
    let layer = layer(spec, Options::default());
    assert_eq!(send(&layer, get("/a")).await.status, 200);
    assert_eq!(
        send(&layer, get("/x-codegen-contextRoot")).await.status,
        404
    );
}

/// OpenAPI 3.2 keeps 3.1's schema dialect, JSON Schema 2020-12 (3.2.0, Schema Object); a
/// version oasgate does not know is refused by name.
#[tokio::test]
async fn a_3_2_document_reads_its_schemas_as_2020_12() {
    let spec = "openapi: 3.2.0\ninfo: {title: t, version: '1'}\npaths:\n  /things/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: [integer, 'null'], exclusiveMinimum: 0}}\n      responses: {'200': {description: ok}}\n";
    let doc = Document::from_str(spec).unwrap();
    assert_eq!(doc.version(), Version::V3_2);
    let layer = OpenApiLayer::new(&doc).unwrap();
    // (path, status): `exclusiveMinimum` is a number in 2020-12.
    for (path, status) in [("/things/1", 200), ("/things/0", 400), ("/things/x", 400)] {
        let answer = send(&layer, get(path)).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.json);
    }
    let newer = spec.replace("3.2.0", "3.3.0");
    let error = Document::from_str(&newer).unwrap_err().to_string();
    assert!(
        error.contains("unsupported OpenAPI version `3.3.0`: expected 3.0.x, 3.1.x or 3.2.x"),
        "{error}"
    );
}

/// One realistic 3.2 document using what 3.2 adds for requests, each construct with a valid
/// and an invalid request (the per-construct tables are in `methods_32`, `params32`,
/// `streams` and `documents32`).
#[tokio::test]
async fn the_3_2_library_checks_every_construct_it_uses() {
    let layer = fixture_layer("local/library-3.2.yaml", Options::default());
    assert!(layer.warnings().is_empty(), "{:?}", layer.warnings());
    let staff = ("x-staff-key", "k");
    let isbn = "9781234567897";
    let sse = "text/event-stream";
    // (what, request, status, the first error's code when refused)
    let rows: Vec<(&str, http::Request<oasgate::body::Body>, u16, Option<&str>)> = vec![
        ("query parameter", get("/lib/books?shelf=A12"), 200, None),
        (
            "query parameter",
            get("/lib/books?shelf=a"),
            400,
            Some("pattern"),
        ),
        (
            "style: cookie, exploded object",
            get_with("/lib/books", &[("cookie", "sort=year; size=10")]),
            200,
            None,
        ),
        (
            "style: cookie, exploded object",
            get_with("/lib/books", &[("cookie", "sort=year; size=99")]),
            400,
            Some("maximum"),
        ),
        (
            "QUERY, body through components/mediaTypes",
            with_body(
                "QUERY",
                "/lib/books",
                "application/json",
                r#"{"text": "tolkien"}"#,
            ),
            200,
            None,
        ),
        (
            "QUERY, body through components/mediaTypes",
            with_body("QUERY", "/lib/books", "application/json", r#"{"limit": 5}"#),
            400,
            Some("required"),
        ),
        (
            "querystring, form",
            get("/lib/books/filter?author=Le%20Guin&year=1969&lang=en&lang=fr"),
            200,
            None,
        ),
        (
            "querystring, form",
            get("/lib/books/filter?author=Le&colour=red"),
            400,
            Some("additionalProperties"),
        ),
        (
            "discriminator defaultMapping, security by URI or deprecated key",
            authorized(
                with_body(
                    "POST",
                    "/lib/books",
                    "application/json",
                    r#"{"kind": "periodical", "issn": "1234-567X"}"#,
                ),
                staff,
            ),
            200,
            None,
        ),
        (
            "discriminator defaultMapping, security by URI or deprecated key",
            authorized(
                with_body(
                    "POST",
                    "/lib/books",
                    "application/json",
                    r#"{"title": "No ISBN"}"#,
                ),
                staff,
            ),
            400,
            None,
        ),
        (
            "security by URI or deprecated key",
            with_body(
                "POST",
                "/lib/books",
                "application/json",
                r#"{"isbn": "9781234567897", "title": "t"}"#,
            ),
            401,
            None,
        ),
        (
            "itemSchema, JSON Lines",
            authorized(
                with_body(
                    "POST",
                    "/lib/books/import",
                    "application/jsonl",
                    "{\"isbn\": \"9781234567897\", \"title\": \"a\"}\n{\"isbn\": \"9791234567896\", \"title\": \"b\"}\n",
                ),
                staff,
            ),
            200,
            None,
        ),
        (
            "itemSchema, JSON Lines",
            authorized(
                with_body(
                    "POST",
                    "/lib/books/import",
                    "application/jsonl",
                    "{\"isbn\": \"9781234567897\", \"title\": \"a\"}\n{\"isbn\": \"123\", \"title\": \"b\"}\n",
                ),
                staff,
            ),
            400,
            Some("pattern"),
        ),
        (
            "itemSchema, event stream",
            authorized(
                with_body(
                    "POST",
                    "/lib/loans/events",
                    sse,
                    "event: lent\ndata: {\"isbn\": 1}\nid: 7\n\n",
                ),
                staff,
            ),
            200,
            None,
        ),
        (
            "itemSchema, event stream",
            authorized(
                with_body("POST", "/lib/loans/events", sse, "event: lost\ndata: x\n\n"),
                staff,
            ),
            400,
            Some("enum"),
        ),
        (
            "additionalOperations: COPY",
            authorized(
                request_with(
                    "COPY",
                    &format!("/lib/books/{isbn}"),
                    &[("destination", "/lib/books/9791234567896")],
                ),
                staff,
            ),
            200,
            None,
        ),
        (
            "additionalOperations: COPY",
            authorized(
                request_with(
                    "COPY",
                    &format!("/lib/books/{isbn}"),
                    &[("destination", "/elsewhere")],
                ),
                staff,
            ),
            400,
            Some("pattern"),
        ),
        (
            "path parameter",
            get(&format!("/lib/books/{isbn}")),
            200,
            None,
        ),
        ("path parameter", get("/lib/books/12"), 400, Some("pattern")),
    ];
    let mut failures = Vec::new();
    for (what, request, status, code) in rows {
        let line = format!("{} {}", request.method(), request.uri());
        let answer = send(&layer, request).await;
        let got_code = answer.json["errors"][0]["code"].as_str();
        if answer.status != status || (code.is_some() && got_code != code) {
            failures.push(format!(
                "{what}: {line}: {} {:?}, want {status} {code:?}\n  {}",
                answer.status, got_code, answer.json
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn authorized(
    mut request: http::Request<oasgate::body::Body>,
    (name, value): (&'static str, &'static str),
) -> http::Request<oasgate::body::Body> {
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

fn request_with(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> http::Request<oasgate::body::Body> {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(oasgate::body::Body::empty()).unwrap()
}
