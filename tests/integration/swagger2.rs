//! Swagger 2.0 documents through the layer: the OAI petstores and a Girder-style document
//! (tests/fixtures/local/girder-swagger2.yaml) with every collectionFormat × location, body
//! and formData parameters, every security definition kind, root references, Girder's
//! transforms and paging, and the served document in its own version.

use oasgate::models::loader_fn;
use oasgate::{Document, OpenApiLayer, Options, PagingMode, Version};
use serde_json::{Value, json};

use crate::support::*;

fn girder(options: Options) -> OpenApiLayer {
    let folders = loader_fn(|id: Value| async move {
        Ok((id == "5f0000000000000000000001").then(|| json!({"_id": id, "name": "Public"})))
    });
    fixture_layer(
        "local/girder-swagger2.yaml",
        options.model_loader("folder", folders),
    )
}

const ID: &str = "5f0000000000000000000001";

/// The query string the service behind the layer receives.
async fn seen_query(layer: &OpenApiLayer, uri: &str) -> String {
    use http_body_util::BodyExt;
    use tower::{ServiceBuilder, ServiceExt};
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
        |req: http::Request<oasgate::body::Body>| async move {
            let query = req.uri().query().unwrap_or("").to_owned();
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                bytes::Bytes::from(query),
            )))
        },
    );
    let response = service.oneshot(get(uri)).await.unwrap();
    assert_eq!(response.status(), 200, "{uri}");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn the_oai_petstores_load_as_2_0() {
    for name in ["oai/v2.0-petstore.yaml", "oai/v2.0-petstore-expanded.yaml"] {
        let doc = Document::from_path(fixture(name)).unwrap();
        assert_eq!(doc.version(), Version::V2_0, "{name}");
        OpenApiLayer::new(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[tokio::test]
async fn the_expanded_petstore_validates_under_its_base_path() {
    let layer = fixture_layer("oai/v2.0-petstore-expanded.yaml", Options::default());
    // (method, uri, body, status, what the handler sees or the problem's first error)
    let rows: &[(&str, &str, Option<&str>, u16)] = &[
        ("GET", "/api/pets", None, 200),
        // `collectionFormat: csv` (also the 2.0 default): one value, split on commas.
        ("GET", "/api/pets?tags=a,b&limit=3", None, 200),
        ("GET", "/api/pets?limit=ten", None, 400),
        ("GET", "/pets", None, 404),
        ("GET", "/api/pets/12", None, 200),
        ("GET", "/api/pets/x", None, 400),
        (
            "POST",
            "/api/pets",
            Some(r#"{"name": "Rex", "tag": "dog"}"#),
            200,
        ),
        ("POST", "/api/pets", Some(r#"{"tag": "dog"}"#), 400),
        ("DELETE", "/api/pets/3", None, 204),
    ];
    for (method, uri, body, status) in rows {
        let request = match body {
            Some(b) => with_body(method, uri, "application/json", b),
            None => request(method, uri),
        };
        let answer = send(&layer, request).await;
        let want = if *status == 204 { 200 } else { *status };
        assert_eq!(answer.status, want, "{method} {uri}: {}", answer.json);
        if uri.contains("tags=a,b") {
            assert_eq!(answer.json["validated"]["query"]["tags"], json!(["a", "b"]));
            assert_eq!(answer.json["validated"]["query"]["limit"], 3);
        }
    }
}

#[tokio::test]
async fn every_collection_format_in_every_location() {
    let layer = girder(Options::default());
    let base = "/api/v1/formats";
    // (path after /formats, query, headers, parameter, expected value or error)
    let rows: &[(&str, &str, &[(&str, &str)], &str, Result<Value, ()>)] = &[
        ("/1,2/3%204/5|6/7", "", &[], "csv", Ok(json!([1, 2]))),
        ("/1,2/3%204/5|6/7", "", &[], "ssv", Ok(json!([3, 4]))),
        ("/1,2/3%204/5|6/7", "", &[], "pipes", Ok(json!([5, 6]))),
        ("/1,2/3%204/5|6/7", "", &[], "tsv", Ok(json!([7]))),
        ("/1,2/3%204/5%7C6/7", "", &[], "pipes", Ok(json!([5, 6]))),
        // `+` is data in a path, not a space.
        ("/1/3+4/5/7", "", &[], "ssv", Err(())),
        ("/1/3/5,6/7", "", &[], "pipes", Err(())),
        ("/1/3/5/x", "", &[], "tsv", Err(())),
        // A tab is a control character: refused in any path before routing (see
        // docs/security.md), so a `tsv` path parameter holds one item.
        ("/1/3/5/7%098", "", &[], "", Err(())),
        (
            "/1/3/5/7",
            "qdefault=1,2",
            &[],
            "qdefault",
            Ok(json!([1, 2])),
        ),
        ("/1/3/5/7", "qcsv=1,2", &[], "qcsv", Ok(json!([1, 2]))),
        ("/1/3/5/7", "qcsv=1&qcsv=2", &[], "qcsv", Err(())),
        ("/1/3/5/7", "qssv=1%202", &[], "qssv", Ok(json!([1, 2]))),
        ("/1/3/5/7", "qssv=1+2", &[], "qssv", Ok(json!([1, 2]))),
        ("/1/3/5/7", "qpipes=1|2", &[], "qpipes", Ok(json!([1, 2]))),
        ("/1/3/5/7", "qtsv=1%092", &[], "qtsv", Ok(json!([1, 2]))),
        ("/1/3/5/7", "qtsv=1,2", &[], "qtsv", Err(())),
        (
            "/1/3/5/7",
            "qmulti=1&qmulti=2",
            &[],
            "qmulti",
            Ok(json!([1, 2])),
        ),
        ("/1/3/5/7", "qmulti=1,2", &[], "qmulti", Err(())),
        (
            "/1/3/5/7",
            "",
            &[("x-csv", "1, 2")],
            "X-Csv",
            Ok(json!([1, 2])),
        ),
        (
            "/1/3/5/7",
            "",
            &[("x-ssv", "1 2")],
            "X-Ssv",
            Ok(json!([1, 2])),
        ),
        (
            "/1/3/5/7",
            "",
            &[("x-pipes", "1|2")],
            "X-Pipes",
            Ok(json!([1, 2])),
        ),
        (
            "/1/3/5/7",
            "",
            &[("x-tsv", "1\t2")],
            "X-Tsv",
            Ok(json!([1, 2])),
        ),
        ("/1/3/5/7", "", &[("x-pipes", "1,2")], "X-Pipes", Err(())),
    ];
    for (path, query, headers, name, want) in rows {
        let uri = format!("{base}{path}?{query}");
        let answer = send(&layer, get_with(&uri, headers)).await;
        let v = &answer.json["validated"];
        match want {
            Ok(value) => {
                assert_eq!(answer.status, 200, "{uri} {headers:?}: {}", answer.json);
                let got = [&v["path"][name], &v["query"][name], &v["header"][name]]
                    .into_iter()
                    .find(|g| !g.is_null())
                    .cloned()
                    .unwrap_or(Value::Null);
                assert_eq!(&got, value, "{uri} {headers:?} {name}");
            }
            Err(()) => {
                assert_eq!(answer.status, 400, "{uri} {headers:?}: {}", answer.json);
                assert_eq!(
                    answer.json["errors"][0]["name"], *name,
                    "{uri}: {}",
                    answer.json
                );
            }
        }
    }
}

#[tokio::test]
async fn the_handler_sees_collection_formats_written_back_in_their_own_form() {
    let layer = girder(Options::default());
    let answer = send(
        &layer,
        get("/api/v1/formats/1/2/3/4?qtsv=1%092&qssv=3+4&qpipes=5|6&qmulti=7&qmulti=8&qdefault=9,10"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let query = answer.json["validated"]["query"].clone();
    assert_eq!(query["qtsv"], json!([1, 2]));
    // The canonical query the service receives keeps each parameter's delimiter.
    let seen = seen_query(
        &layer,
        "/api/v1/formats/1/2/3/4?qtsv=1%092&qssv=3+4&qpipes=5|6&qmulti=7&qmulti=8&qdefault=9,10",
    )
    .await;
    assert_eq!(
        seen,
        "qdefault=9,10&qssv=3%204&qpipes=5%7C6&qtsv=1%092&qmulti=7&qmulti=8"
    );
}

#[tokio::test]
async fn form_bodies_hold_each_field_to_its_own_constraints() {
    let layer = girder(Options::default());
    let form = "application/x-www-form-urlencoded";
    // (uri, body, status, field: expected value)
    let rows: &[(&str, &str, u16, Option<(&str, Value)>)] = &[
        (
            "/api/v1/file/chunk",
            "offset=3",
            200,
            Some(("offset", json!(3))),
        ),
        ("/api/v1/file/chunk", "offset=-1", 400, None),
        ("/api/v1/file/chunk", "note=hi", 400, None),
        ("/api/v1/file/chunk", "offset=1&note=toolong", 400, None),
        (
            "/api/v1/formats/form",
            "csv=1%2C2",
            200,
            Some(("csv", json!([1, 2]))),
        ),
        (
            "/api/v1/formats/form",
            "ssv=1%202",
            200,
            Some(("ssv", json!([1, 2]))),
        ),
        (
            "/api/v1/formats/form",
            "pipes=1%7C2",
            200,
            Some(("pipes", json!([1, 2]))),
        ),
        (
            "/api/v1/formats/form",
            "tsv=1%092",
            200,
            Some(("tsv", json!([1, 2]))),
        ),
        (
            "/api/v1/formats/form",
            "multi=1&multi=2",
            200,
            Some(("multi", json!([1, 2]))),
        ),
        ("/api/v1/formats/form", "tsv=1%2C2", 400, None),
    ];
    for (uri, body, status, field) in rows {
        let answer = send(&layer, with_body("POST", uri, form, body)).await;
        assert_eq!(answer.status, *status, "{uri} {body}: {}", answer.json);
        if let Some((name, value)) = field {
            assert_eq!(&answer.json["validated"]["body"][name], value, "{body}");
        }
    }
    // A form operation refuses JSON: its body is declared as a form only.
    let json_body = send(
        &layer,
        with_body(
            "POST",
            "/api/v1/file/chunk",
            "application/json",
            r#"{"offset": 1}"#,
        ),
    )
    .await;
    assert_eq!(json_body.status, 415, "{}", json_body.json);
}

#[tokio::test]
async fn multipart_uploads_with_a_file_part() {
    let layer = girder(Options::default());
    let ct = "multipart/form-data; boundary=XyZ";
    let part = |name: &str, extra: &str, value: &str| {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n"
        )
    };
    let file = "; filename=\"a.bin\"\r\nContent-Type: application/octet-stream";
    let ok = format!(
        "{}{}{}{}{}--XyZ--\r\n",
        part("parentId", "", ID),
        part("size", "", "4"),
        part("chunk", file, "\u{1}\u{2}\u{3}\u{4}"),
        part("tags", "", "a"),
        part("tags", "", "b"),
    );
    let answer = send(&layer, with_body("POST", "/api/v1/file", ct, &ok)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    // (body without one part or with a broken one, the field named)
    let rows = [
        (
            format!(
                "{}{}--XyZ--\r\n",
                part("parentId", "", ID),
                part("size", "", "4")
            ),
            "chunk",
        ),
        (
            format!(
                "{}{}{}--XyZ--\r\n",
                part("parentId", "", ID),
                part("size", "", "-4"),
                part("chunk", file, "x")
            ),
            "size",
        ),
        (
            format!(
                "{}{}{}--XyZ--\r\n",
                part("parentId", "", "nope"),
                part("size", "", "4"),
                part("chunk", file, "x")
            ),
            "parentId",
        ),
    ];
    for (body, field) in rows {
        let answer = send(&layer, with_body("POST", "/api/v1/file", ct, &body)).await;
        assert_eq!(answer.status, 400, "{field}: {}", answer.json);
        assert!(
            answer.json.to_string().contains(field),
            "{field}: {}",
            answer.json
        );
    }
}

#[tokio::test]
async fn body_parameters_become_the_request_body() {
    let layer = girder(Options::default());
    let token = [("girder-token", "t")];
    let post = |body: &str| {
        let mut r = with_body("POST", "/api/v1/item", "application/json", body);
        r.headers_mut().insert("girder-token", "t".parse().unwrap());
        r
    };
    // (body, status) — `_id` is readOnly: not required in a request, and refused when sent.
    let rows = [
        (r#"{"name": "a", "folderId": "f"}"#, 200),
        (r#"{"name": "a"}"#, 400),
        (r#"{"name": "", "folderId": "f"}"#, 400),
        (r#"{"_id": "x", "name": "a", "folderId": "f"}"#, 400),
        // `exclusiveMaximum: true` bounds `maximum` exclusively, as in 3.0.
        (r#"{"name": "a", "folderId": "f", "size": 99}"#, 200),
        (r#"{"name": "a", "folderId": "f", "size": 100}"#, 400),
        // `x-nullable: true`
        (
            r#"{"name": "a", "folderId": "f", "description": null}"#,
            200,
        ),
        (r#"{"name": "a", "folderId": "f", "size": null}"#, 400),
    ];
    for (body, status) in rows {
        let answer = send(&layer, post(body)).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.json);
    }
    let _ = token;
    // The operation's `consumes` lists the media types; a definition from another file.
    let put = |ct: &str, body: &str| {
        let mut r = with_body("PUT", &format!("/api/v1/item/{ID}"), ct, body);
        r.headers_mut().insert("girder-token", "t".parse().unwrap());
        r
    };
    let rows = [
        ("application/json", r#"{"size": 3}"#, 200),
        ("application/merge-patch+json", r#"{"name": "b"}"#, 200),
        ("application/json", r#"{"size": -3}"#, 400),
        ("application/json", r#"{"other": 1}"#, 400),
        ("text/plain", "x", 415),
    ];
    for (ct, body, status) in rows {
        let answer = send(&layer, put(ct, body)).await;
        assert_eq!(answer.status, status, "{ct} {body}: {}", answer.json);
    }
}

#[tokio::test]
async fn every_security_definition_kind() {
    let layer = girder(Options::default());
    // (method, uri, headers, status)
    let rows: &[(&str, &str, &[(&str, &str)], u16)] = &[
        ("GET", "/api/v1/secure/basic", &[], 401),
        (
            "GET",
            "/api/v1/secure/basic",
            &[("authorization", "Basic dTpw")],
            200,
        ),
        (
            "GET",
            "/api/v1/secure/basic",
            &[("authorization", "Bearer x")],
            401,
        ),
        ("GET", "/api/v1/secure/oauth", &[], 401),
        (
            "GET",
            "/api/v1/secure/oauth",
            &[("authorization", "Bearer x")],
            200,
        ),
        // apiKey in a header (the operation's own `security`)…
        ("POST", "/api/v1/item", &[], 401),
        // …or in the query, either of two alternatives.
        ("PUT", "/api/v1/item/5f0000000000000000000001", &[], 401),
        (
            "PUT",
            "/api/v1/item/5f0000000000000000000001?token=abc",
            &[],
            200,
        ),
        (
            "PUT",
            "/api/v1/item/5f0000000000000000000001",
            &[("girder-token", "t")],
            200,
        ),
        // No security on the operation.
        ("GET", "/api/v1/item", &[], 200),
    ];
    for (method, uri, headers, status) in rows {
        let mut r = request(method, uri);
        for (k, v) in *headers {
            r.headers_mut().insert(*k, v.parse().unwrap());
        }
        if *method == "POST" {
            r = with_body(
                method,
                uri,
                "application/json",
                r#"{"name": "a", "folderId": "f"}"#,
            );
            for (k, v) in *headers {
                r.headers_mut().insert(*k, v.parse().unwrap());
            }
        }
        let answer = send(&layer, r).await;
        assert_eq!(
            answer.status, *status,
            "{method} {uri} {headers:?}: {}",
            answer.json
        );
        if *status == 401 {
            assert!(answer.headers.contains_key("www-authenticate"), "{uri}");
        }
    }
}

#[tokio::test]
async fn girder_transforms_json_dates_models_and_defaults() {
    let layer = girder(Options::default());
    // (query, status, parameter, expected value)
    let rows: &[(&str, u16, &str, Value)] = &[
        ("text=%20hello%20", 200, "text", json!("hello")),
        ("name=%20ALPHA%20", 200, "name", json!("alpha")),
        ("name=gamma", 400, "name", Value::Null),
        ("code=abc", 200, "code", json!("ABC")),
        ("code=ab", 400, "code", Value::Null),
        (
            "metadata=%7B%22key%22%3A1%7D",
            200,
            "metadata",
            json!({"key": 1}),
        ),
        ("metadata=%7B%7D", 400, "metadata", Value::Null),
        ("metadata=nope", 400, "metadata", Value::Null),
        (
            "created=2024-01-02T10:00:00%2B02:00",
            200,
            "created",
            json!("2024-01-02T08:00:00Z"),
        ),
        (
            "since=2%20January%202024",
            200,
            "since",
            json!("2024-01-02"),
        ),
        ("blank=", 200, "blank", json!("")),
        ("size=9.5", 200, "size", json!(9.5)),
        ("size=10", 400, "size", Value::Null),
        ("", 200, "offset", json!(0)),
        ("", 200, "limit", json!(50)),
        ("", 200, "sort", json!("lowerName")),
        (
            "folderId=5f0000000000000000000001",
            200,
            "folderId",
            json!("5f0000000000000000000001"),
        ),
        (
            "folderId=5f0000000000000000000002",
            404,
            "folderId",
            Value::Null,
        ),
    ];
    for (query, status, name, value) in rows {
        let answer = send(&layer, get(&format!("/api/v1/item?{query}"))).await;
        assert_eq!(answer.status, *status, "?{query}: {}", answer.json);
        if *status == 200 {
            assert_eq!(&answer.json["validated"]["query"][name], value, "?{query}");
        } else if *status == 400 {
            assert_eq!(
                answer.json["errors"][0]["name"], *name,
                "?{query}: {}",
                answer.json
            );
        }
    }
}

#[tokio::test]
async fn paging_girder_merges_the_declared_parameters() {
    // (options, query, expected paging or null)
    let rows: &[(PagingMode, &str, Value)] = &[
        (PagingMode::Declared, "", Value::Null),
        (
            PagingMode::Girder,
            "",
            json!({"limit": 50, "offset": 0, "sort": [{"field": "lowerName", "dir": 1}]}),
        ),
        (
            PagingMode::Girder,
            "limit=5&offset=10&sort=%20size%20&sortdir=-1",
            json!({"limit": 5, "offset": 10, "sort": [{"field": "size", "dir": -1}]}),
        ),
        // Several keys, and a signed key: the declared `sortdir` default does not clash.
        (
            PagingMode::Girder,
            "sort=name,-size",
            json!({"limit": 50, "offset": 0, "sort": [{"field": "name", "dir": 1}, {"field": "size", "dir": -1}]}),
        ),
        (
            PagingMode::Girder,
            "sort=-size",
            json!({"limit": 50, "offset": 0, "sort": [{"field": "size", "dir": -1}]}),
        ),
        // Girder caps nothing: a large limit is the document's to refuse, not paging's.
        (
            PagingMode::Girder,
            "limit=5000",
            json!({"limit": 5000, "offset": 0, "sort": [{"field": "lowerName", "dir": 1}]}),
        ),
    ];
    for (mode, query, want) in rows {
        let layer = girder(Options::default().paging(*mode));
        let answer = send(&layer, get(&format!("/api/v1/item?{query}"))).await;
        assert_eq!(answer.status, 200, "{mode:?} ?{query}: {}", answer.json);
        assert_eq!(
            answer.json["validated"]["paging"], *want,
            "{mode:?} ?{query}"
        );
    }
    let layer = girder(Options::default().paging(PagingMode::Girder));
    // `sortdir` is declared with `enum: [1, -1]`.
    let bad = send(&layer, get("/api/v1/item?sortdir=2")).await;
    assert_eq!(bad.status, 400, "{}", bad.json);
    // An operation without the four parameters gets no paging.
    let answer = send(&layer, get(&format!("/api/v1/item/{ID}"))).await;
    assert_eq!(answer.json["validated"]["paging"], Value::Null);
}

#[tokio::test]
async fn the_served_document_stays_2_0() {
    let layer = girder(Options::default().prefix("/gw"));
    let answer = send(&layer, get("/openapi.json")).await;
    assert_eq!(answer.status, 200);
    let doc = answer.json;
    assert_eq!(doc["swagger"], "2.0");
    assert!(doc.get("openapi").is_none() && doc.get("components").is_none());
    assert!(doc.get("servers").is_none());
    // Where the router listens; host and schemes left to the client's own.
    assert_eq!(doc["basePath"], "/gw/api/v1");
    assert!(doc.get("host").is_none() && doc.get("schemes").is_none());
    // The layer's problem answers, in 2.0 form.
    let post = &doc["paths"]["/item"]["post"]["responses"];
    assert_eq!(
        post["401"],
        json!({"$ref": "#/responses/ProblemUnauthorized"})
    );
    assert_eq!(
        post["415"],
        json!({"$ref": "#/responses/ProblemUnsupportedMediaType"})
    );
    assert_eq!(
        doc["responses"]["ProblemUnauthorized"]["schema"],
        json!({"$ref": "#/definitions/Problem"})
    );
    assert_eq!(
        doc["responses"]["ProblemUnauthorized"]["headers"]["WWW-Authenticate"]["type"],
        "string"
    );
    assert_eq!(doc["definitions"]["Problem"]["type"], "object");
    // The document's own 400 and 404 stay as written.
    assert_eq!(
        doc["paths"]["/item"]["get"]["responses"]["400"],
        json!({"description": "A parameter was invalid."})
    );
    assert_eq!(
        doc["paths"]["/item/{id}"]["get"]["responses"]["404"],
        json!({"$ref": "#/responses/NotFound"})
    );
    // The 2.0 text itself, not a conversion.
    let item = &doc["paths"]["/item"]["get"]["parameters"][1];
    assert_eq!(item["_strip"], true);
    assert_eq!(item["type"], "string");
    // YAML too.
    let yaml = send(&layer, get("/openapi.yaml")).await;
    assert!(
        yaml.json
            .as_str()
            .unwrap_or_default()
            .starts_with("swagger: \"2.0\"\n"),
        "{}",
        yaml.json
    );
    // Routes under the prefix.
    assert_eq!(send(&layer, get("/gw/api/v1/item")).await.status, 200);
    // The docs page loads that same document (Swagger UI reads 2.0 itself).
    let docs = send(&layer, get("/docs")).await;
    assert_eq!(docs.status, 200);
    let init = send(&layer, get("/docs/oasgate-init.js")).await;
    let script = init.json.as_str().unwrap_or_default();
    assert!(script.contains("openapi.json"), "{script}");
}

#[tokio::test]
async fn x_paging_adds_its_parameters_in_2_0_form() {
    let spec = r#"
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /things:
    get:
      x-paging: {max_limit: 20}
      responses: {"200": {description: ok}}
"#;
    let layer = layer(spec, Options::default());
    let doc = send(&layer, get("/openapi.json")).await.json;
    let params = &doc["paths"]["/things"]["get"]["parameters"];
    assert_eq!(params[0]["name"], "limit");
    assert_eq!(params[0]["type"], "integer");
    assert_eq!(params[0]["maximum"], 20);
    assert!(params[0].get("schema").is_none(), "{params}");
    let answer = send(&layer, get("/things?limit=21")).await;
    assert_eq!(answer.status, 400);
    let answer = send(&layer, get("/things?sort=%20a")).await;
    assert_eq!(answer.json["validated"]["paging"]["sort"][0]["field"], "a");
}

#[test]
fn problems_name_the_2_0_file_line_and_pointer() {
    let dir = Scratch::new(
        "swagger2-errors",
        &[
            (
                "api.yaml",
                "swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\nparameters:\n  limit:\n    name: limit\n    in: query\n    type: integr\npaths:\n  /a:\n    post:\n      parameters:\n        - $ref: '#/parameters/limit'\n        - name: body\n          in: body\n          schema: {$ref: 'defs.yaml#/definitions/Thing'}\n        - name: tags\n          in: header\n          type: array\n          items: {type: string}\n          collectionFormat: multi\n      responses: {\"200\": {description: ok}}\n",
            ),
            (
                "defs.yaml",
                "definitions:\n  Thing:\n    type: object\n    properties:\n      n: {type: numbr}\n",
            ),
        ],
    );
    let doc = Document::from_path(dir.0.join("api.yaml")).unwrap();
    let Err(error) = OpenApiLayer::new(&doc) else {
        panic!("the document is refused");
    };
    let problems: Vec<String> = error
        .problems()
        .iter()
        .map(|p| {
            format!(
                "{}:{}:{}",
                p.file.rsplit('/').next().unwrap_or_default(),
                p.line.map_or("-".into(), |l| l.to_string()),
                p.pointer
            )
        })
        .collect();
    // A schema is refused as a whole: a non-body parameter's schema is the parameter itself
    // (reached here through `#/parameters/limit`), a body's is its `schema` — here only a
    // `$ref`, so the problem is where the schema it names is defined (compiled once there,
    // however many operations use it).
    for want in [
        "api.yaml:4:/parameters/limit",
        "api.yaml:20:/paths/~1a/post/parameters/2/collectionFormat",
        "defs.yaml:2:/definitions/Thing",
    ] {
        assert!(
            problems.iter().any(|p| p == want),
            "{want} in {problems:?}\n{error}"
        );
    }
    assert_eq!(problems.len(), 3, "{error}");
    // Nothing names a place only the conversion has.
    let text = error.to_string();
    assert!(
        !text.contains("requestBody") && !text.contains("components"),
        "{text}"
    );
}

#[test]
fn unsupported_swagger_versions_are_named() {
    let e = Document::from_str("swagger: \"1.2\"\ninfo: {title: t, version: \"1\"}\n").unwrap_err();
    assert!(
        e.to_string().contains("unsupported Swagger version `1.2`"),
        "{e}"
    );
}

/// "A unique parameter is defined by a combination of a name and location", and an operation's
/// parameter "will override" the path item's of the same pair (OpenAPI 2.0, Path Item Object
/// `parameters`). Shared parameters are converted once (a path item's stay on it, a
/// referenced one is named from each operation); every operation still gets exactly its own.
#[tokio::test]
async fn shared_parameters_apply_to_each_operation_and_yield_to_its_own() {
    let spec = r#"
swagger: "2.0"
info: {title: t, version: "1"}
parameters:
  tenant: {name: X-Tenant, in: header, type: string, required: true, pattern: "^t-"}
paths:
  /items:
    parameters:
      - {name: limit, in: query, type: integer, maximum: 10, required: true}
      - $ref: '#/parameters/tenant'
    get:
      parameters:
        - {name: limit, in: query, type: integer, maximum: 5}
      responses: {"200": {description: ok}}
    delete:
      responses: {"200": {description: ok}}
  /other:
    get:
      parameters:
        - $ref: '#/parameters/tenant'
      responses: {"200": {description: ok}}
"#;
    let layer = layer(spec, Options::default());
    // (method, uri, tenant header, status, the first error's place and keyword)
    let rows = [
        ("GET", "/items?limit=5", Some("t-1"), 200, None),
        // The operation's `limit` (maximum 5, optional) replaces the path item's.
        (
            "GET",
            "/items?limit=7",
            Some("t-1"),
            400,
            Some(("query", "limit", "maximum")),
        ),
        ("GET", "/items", Some("t-1"), 200, None),
        // The other operation inherits the path item's (maximum 10, required).
        ("DELETE", "/items?limit=7", Some("t-1"), 200, None),
        (
            "DELETE",
            "/items?limit=11",
            Some("t-1"),
            400,
            Some(("query", "limit", "maximum")),
        ),
        (
            "DELETE",
            "/items",
            Some("t-1"),
            400,
            Some(("query", "limit", "required")),
        ),
        // The referenced header, from the path item and from an operation.
        (
            "GET",
            "/items?limit=1",
            Some("x-1"),
            400,
            Some(("header", "X-Tenant", "pattern")),
        ),
        (
            "DELETE",
            "/items?limit=1",
            None,
            400,
            Some(("header", "X-Tenant", "required")),
        ),
        (
            "GET",
            "/other",
            Some("x-1"),
            400,
            Some(("header", "X-Tenant", "pattern")),
        ),
        ("GET", "/other", Some("t-2"), 200, None),
    ];
    for (method, uri, tenant, status, first) in rows {
        let mut req = request(method, uri);
        if let Some(tenant) = tenant {
            req.headers_mut()
                .insert("x-tenant", tenant.parse().unwrap());
        }
        let answer = send(&layer, req).await;
        assert_eq!(answer.status, status, "{method} {uri}: {}", answer.json);
        if let Some((place, name, code)) = first {
            let error = &answer.json["errors"][0];
            assert_eq!(
                (&error["in"], &error["name"], &error["code"]),
                (&json!(place), &json!(name), &json!(code)),
                "{method} {uri}: {}",
                answer.json
            );
        }
    }
}

/// A layer that does not check responses leaves a 2.0 document's responses out of what it
/// compiles; a lint (`oasgate check`) and response validation read them, and so report what
/// is wrong in their schemas.
#[test]
fn response_schemas_are_read_by_a_lint_and_by_response_validation() {
    let spec = r#"
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200": {description: ok, schema: {$ref: '#/definitions/Out'}}
definitions:
  Out: {type: string, pattern: '\Aabc'}
"#;
    let doc = Document::from_str(spec).unwrap();
    let patterns = |options: Options| {
        let layer = OpenApiLayer::with_options(&doc, options).unwrap();
        layer
            .warnings()
            .iter()
            .filter(|w| w.case.as_str() == "pattern")
            .map(|w| w.at.pointer.clone())
            .collect::<Vec<_>>()
    };
    let read = vec!["/definitions/Out/pattern".to_owned()];
    assert_eq!(patterns(Options::default()), Vec::<String>::new());
    assert_eq!(patterns(Options::default().lint(true)), read);
    assert_eq!(
        patterns(Options::default().response_validation(oasgate::ResponseValidation::Report)),
        read
    );
}

#[tokio::test]
async fn x_paging_wins_over_the_girder_reading() {
    let params = r#"
      parameters:
        - {name: limit, in: query, type: integer, default: 50}
        - {name: offset, in: query, type: integer, default: 0}
        - {name: sort, in: query, type: string, _strip: true}
        - {name: sortdir, in: query, type: integer, enum: [1, -1], default: 1}
      responses: {"200": {description: ok}}"#;
    let spec = format!(
        "swagger: \"2.0\"\ninfo: {{title: t, version: \"1\"}}\npaths:\n  /off:\n    get:\n      x-paging: false{params}\n  /capped:\n    get:\n      x-paging: {{max_limit: 10}}{params}\n  /girder:\n    get:{params}\n"
    );
    let layer = layer(&spec, Options::default().paging(PagingMode::Girder));
    // (uri, status, paging is set)
    let rows = [
        ("/off?limit=20", 200, false),
        ("/capped?limit=10", 200, true),
        ("/capped?limit=20", 400, false),
        // The declared `sortdir` default does not count as sent (x-paging's merge too).
        ("/capped?limit=5&sort=a,-b", 200, true),
        ("/capped?limit=5&sort=-b", 200, true),
        ("/girder?limit=20", 200, true),
    ];
    for (uri, status, paged) in rows {
        let answer = send(&layer, get(uri)).await;
        assert_eq!(answer.status, status, "{uri}: {}", answer.json);
        if status == 200 {
            assert_eq!(
                !answer.json["validated"]["paging"].is_null(),
                paged,
                "{uri}: {}",
                answer.json
            );
        }
    }
}

#[tokio::test]
async fn path_items_and_parameters_in_other_files() {
    let dir = Scratch::new(
        "swagger2-files",
        &[
            (
                "api.yaml",
                "swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\nbasePath: /v1\npaths:\n  /things/{id}:\n    $ref: 'paths.yaml#/thing'\n",
            ),
            (
                "paths.yaml",
                "thing:\n  get:\n    parameters:\n      - $ref: 'params.yaml#/id'\n      - {name: q, in: query, type: array, items: {type: integer}, collectionFormat: pipes}\n    responses: {\"200\": {description: ok}}\n",
            ),
            (
                "params.yaml",
                "id: {name: id, in: path, required: true, type: integer, minimum: 1}\n",
            ),
        ],
    );
    let doc = Document::from_path(dir.0.join("api.yaml")).unwrap();
    let layer = OpenApiLayer::new(&doc).unwrap();
    let answer = send(&layer, get("/v1/things/3?q=1|2")).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["validated"]["query"]["q"], json!([1, 2]));
    assert_eq!(send(&layer, get("/v1/things/0")).await.status, 400);
    // The served document adds its problem answers where the operation is: in paths.yaml.
    let served = send(&layer, get("/openapi.json")).await.json;
    let op = &served["x-oasgate-files"]["paths.yaml"]["thing"]["get"];
    assert_eq!(
        op["responses"]["400"],
        json!({"$ref": "#/responses/ProblemBadRequest"}),
        "{served}"
    );
    // A problem in another file is reported there.
    std::fs::write(
        dir.0.join("params.yaml"),
        "id: {name: id, in: path, required: true, type: array, items: {type: integer}, collectionFormat: multi}\n",
    )
    .unwrap();
    let doc = Document::from_path(dir.0.join("api.yaml")).unwrap();
    let Err(error) = OpenApiLayer::new(&doc) else {
        panic!("the document is refused");
    };
    let problem = &error.problems()[0];
    assert!(problem.file.ends_with("params.yaml"), "{error}");
    assert_eq!(problem.pointer, "/id/collectionFormat", "{error}");
    assert!(problem.message.contains("collectionFormat"), "{error}");
}

#[tokio::test]
async fn a_bundled_2_0_document_keeps_2_0_sections() {
    let layer = girder(Options::default().serve_bundled(true));
    let doc = send(&layer, get("/openapi.json")).await.json;
    assert!(doc.get("x-oasgate-files").is_none(), "{doc}");
    assert!(doc.get("components").is_none(), "{doc}");
    assert_eq!(
        doc["paths"]["/item/{id}"]["put"]["parameters"][0]["schema"],
        json!({"$ref": "#/definitions/ItemUpdate"})
    );
    assert_eq!(
        doc["definitions"]["ItemUpdate"]["properties"]["size"],
        json!({"$ref": "#/definitions/Size"})
    );
    assert_eq!(doc["definitions"]["Size"]["minimum"], 0);
    // The bundle is itself a 2.0 document that loads.
    let again = Document::from_value(doc).unwrap();
    assert_eq!(again.version(), Version::V2_0);
}

#[tokio::test]
async fn paging_girder_reads_3_x_documents_too() {
    let spec = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /items:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 20}}
        - {name: offset, in: query, schema: {type: integer, default: 0}}
        - {name: sort, in: query, x-strip: true, schema: {type: string, default: name}}
        - {name: sortdir, in: query, schema: {type: integer, enum: [1, -1], default: 1}}
      responses: {"200": {description: ok}}
  /half:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 20}}
        - {name: offset, in: query, schema: {type: integer, default: 0}}
      responses: {"200": {description: ok}}
"#;
    let layer = layer(spec, Options::default().paging(PagingMode::Girder));
    let answer = send(&layer, get("/items?sortdir=-1")).await;
    assert_eq!(
        answer.json["validated"]["paging"],
        json!({"limit": 20, "offset": 0, "sort": [{"field": "name", "dir": -1}]})
    );
    // Only the four together are Girder's paging.
    let answer = send(&layer, get("/half")).await;
    assert_eq!(answer.json["validated"]["paging"], Value::Null);
}

/// A 2.0 document's tree goes into its 3.0 conversion (what it keeps unchanged is moved, not
/// copied) while the served document waits as JSON text: the served document is still the
/// document as written, a `$ref` that names nothing included, and the moved `definitions`
/// still check bodies.
#[tokio::test]
async fn the_served_2_0_document_is_what_the_conversion_took() {
    let text = r##"{
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "x-team": {"name": "a", "tags": [1, null]},
        "paths": {
            "/a": {"get": {"responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Gone"}}}}},
            "/b": {"post": {
                "consumes": ["application/json"],
                "parameters": [{"name": "b", "in": "body", "required": true, "schema": {"$ref": "#/definitions/B"}}],
                "responses": {"200": {"description": "ok"}}
            }}
        },
        "definitions": {"B": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "x-nullable": true}}}}
    }"##;
    let written: Value = serde_json::from_str(text).unwrap();
    let layer = OpenApiLayer::new(Document::from_str(text).unwrap()).unwrap();
    // The response's `$ref` names nothing and no request reaches it: a warning.
    assert_eq!(layer.warnings().len(), 1, "{:?}", layer.warnings());
    let served = send(&layer, get("/openapi.json")).await.json;
    assert_eq!(served["info"], written["info"]);
    assert_eq!(served["x-team"], written["x-team"]);
    assert_eq!(served["definitions"]["B"], written["definitions"]["B"]);
    assert_eq!(
        served["paths"]["/a"]["get"]["responses"]["200"],
        written["paths"]["/a"]["get"]["responses"]["200"]
    );
    let post = |body: &'static str| with_body("POST", "/b", "application/json", body);
    assert_eq!(send(&layer, post(r#"{"n": 1}"#)).await.status, 200);
    assert_eq!(send(&layer, post(r#"{"n": null}"#)).await.status, 200);
    let refused = send(&layer, post(r#"{"n": "one"}"#)).await;
    assert_eq!(refused.status, 400, "{}", refused.json);
}
