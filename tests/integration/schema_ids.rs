//! OpenAPI 3.1 schemas identified as JSON Schema 2020-12 identifies them: `$id`, `$anchor`,
//! `$dynamicRef`/`$dynamicAnchor`, through the layer and in the served document.

use oasgate::{Document, OpenApiLayer, Options};
use serde_json::{Value, json};

use crate::support::*;

const FIXTURE: &str = "local/schema-ids/openapi.yaml";

/// (pointer, code) of each error in a problem.
fn errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["pointer"].as_str().unwrap_or_default().to_owned(),
                        e["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn requests_are_checked_by_the_schemas_ids_name() {
    let layer = fixture_layer(FIXTURE, Options::default());
    let order = json!({
        "id": "ord_abcd1234",
        "customer": {"email": "ada@example.test"},
        "lines": [{"sku": "A-1", "quantity": 2, "price": {"value": "9.99", "currency": "EUR"}}],
        "total": {"value": "19.98", "currency": "EUR"}
    });
    let with = |pointer: &str, value: Value| {
        let mut body = order.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap()[key] = value;
        body.to_string()
    };
    // (method, path, body, status, errors as (pointer, code))
    let rows: Vec<(&str, &str, String, u16, Vec<(&str, &str)>)> = vec![
        ("POST", "/orders", order.to_string(), 200, vec![]),
        // `$ref: '#order-id'`: the `$anchor` in the Order resource.
        (
            "POST",
            "/orders",
            with("/id", json!("order-1")),
            400,
            vec![("/id", "pattern")],
        ),
        // `$ref: customer`: the resource https://shop.example.test/schemas/customer.
        (
            "POST",
            "/orders",
            with("/customer", json!({"name": "Ada"})),
            400,
            vec![("/customer/email", "required")],
        ),
        (
            "POST",
            "/orders",
            with("/customer/email", json!("not an address")),
            400,
            vec![("/customer/email", "format")],
        ),
        // `$ref: money#currency`: an `$anchor` in another file's resource.
        (
            "POST",
            "/orders",
            with("/customer/preferredCurrency", json!("JPY")),
            400,
            vec![("/customer/preferredCurrency", "enum")],
        ),
        // `$ref: '#/$defs/line'`: a pointer from the Order resource's root.
        (
            "POST",
            "/orders",
            with("/lines/0/quantity", json!(0)),
            400,
            vec![("/lines/0/quantity", "minimum")],
        ),
        (
            "POST",
            "/orders",
            with("/lines", json!([])),
            400,
            vec![("/lines", "minItems")],
        ),
        // `$ref: money#/$defs/amount`: a pointer into the resource schemas/money.yaml declares,
        // whose own `$ref: '#/$defs/currency'` is from that resource's root.
        (
            "POST",
            "/orders",
            with("/total/currency", json!("JPY")),
            400,
            vec![("/total/currency", "enum")],
        ),
        (
            "POST",
            "/orders",
            with("/lines/0/price/value", json!("9.999")),
            400,
            vec![("/lines/0/price/value", "pattern")],
        ),
        (
            "POST",
            "/orders",
            with("/total/note", json!("x")),
            400,
            vec![("/total", "additionalProperties")],
        ),
        // The generic array: `numberArray` binds `#generic-array` to numbers.
        ("POST", "/numbers", "[1, 2.5, -3]".to_owned(), 200, vec![]),
        ("POST", "/numbers", "[]".to_owned(), 200, vec![]),
        (
            "POST",
            "/numbers",
            r#"[1, "two"]"#.to_owned(),
            400,
            vec![("/1", "type")],
        ),
        (
            "POST",
            "/numbers",
            r#"{"0": 1}"#.to_owned(),
            400,
            vec![("", "type")],
        ),
        // `obj_with_typed_array`: `dataType` picks the array the `oneOf` branch binds.
        (
            "POST",
            "/measurements",
            r#"{"dataType": "number", "data": [1, 2]}"#.to_owned(),
            200,
            vec![],
        ),
        (
            "POST",
            "/measurements",
            r#"{"dataType": "string", "data": ["a", "b"]}"#.to_owned(),
            200,
            vec![],
        ),
        (
            "POST",
            "/measurements",
            r#"{"dataType": "number", "data": [1, "b"]}"#.to_owned(),
            400,
            vec![("", "oneOf")],
        ),
        (
            "POST",
            "/measurements",
            r#"{"dataType": "string", "data": [1]}"#.to_owned(),
            400,
            vec![("", "oneOf")],
        ),
        (
            "POST",
            "/measurements",
            r#"{"dataType": "bool", "data": []}"#.to_owned(),
            400,
            vec![("/dataType", "enum"), ("", "oneOf")],
        ),
        // `$id: schemas/address`, so `$ref: country.yaml` is schemas/country.yaml.
        (
            "PUT",
            "/addresses",
            r#"{"street": "Main St 1", "country": "DE"}"#.to_owned(),
            200,
            vec![],
        ),
        (
            "PUT",
            "/addresses",
            r#"{"street": "Main St 1", "country": "Germany"}"#.to_owned(),
            400,
            vec![("/country", "pattern")],
        ),
    ];
    for (method, path, body, status, want) in rows {
        let answer = send(&layer, with_body(method, path, "application/json", &body)).await;
        assert_eq!(
            answer.status, status,
            "{method} {path} {body}: {}",
            answer.json
        );
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        if status != 200 {
            assert_eq!(
                errors(&answer.json),
                want,
                "{method} {path} {body}: {}",
                answer.json
            );
        }
    }
}

/// Whether any object in `doc` still holds `key`.
fn holds_key(doc: &Value, key: &str) -> bool {
    match doc {
        Value::Object(map) => map.contains_key(key) || map.values().any(|v| holds_key(v, key)),
        Value::Array(items) => items.iter().any(|v| holds_key(v, key)),
        _ => false,
    }
}

#[tokio::test]
async fn served_and_bundled_documents_keep_references_json_schema_resolves() {
    let doc = Document::from_path(fixture(FIXTURE)).expect("loads");
    assert_eq!(doc.unresolved_refs().count(), 0);
    // For oasgate every `$ref` is a local pointer to the node it names.
    assert_eq!(
        doc.as_json()["components"]["schemas"]["Order"]["properties"]["id"]["$ref"],
        "#/components/schemas/Order/$defs/orderId"
    );
    let layer = OpenApiLayer::new(&doc).expect("compiles");
    let served = send(&layer, get("/openapi.json")).await;
    assert_eq!(served.status, 200);
    let bundled = doc.bundled();
    assert!(bundled.get("x-oasgate-files").is_none(), "{bundled:#}");
    // Money moved into components under a free name, its `$id` with it.
    assert_eq!(
        bundled["components"]["schemas"]["Money_2"]["$id"],
        "https://shop.example.test/schemas/money"
    );
    // (pointer of a `$ref`, in the served document, in the bundled one). Below an `$id` a
    // reference goes out as written: JSON Schema resolves it against that `$id` ("Relative
    // references in Schema Objects, including any that appear as `$id` values, use the
    // nearest parent `$id` as a Base URI", OpenAPI 3.1.1 §4.6.1), where a pointer from the
    // document's root would be read from the resource's root.
    let order = "/components/schemas/Order/properties";
    let rows: &[(String, &str, &str)] = &[
        (format!("{order}/id/$ref"), "#order-id", "#order-id"),
        (format!("{order}/customer/$ref"), "customer", "customer"),
        (
            format!("{order}/lines/items/$ref"),
            "#/$defs/line",
            "#/$defs/line",
        ),
        (
            format!("{order}/total/$ref"),
            "money#/$defs/amount",
            "money#/$defs/amount",
        ),
        (
            "/components/schemas/numberArray/$ref".to_owned(),
            "fully_generic_array",
            "fully_generic_array",
        ),
        (
            "/components/schemas/objWithTypedArray/oneOf/0/properties/data/$ref".to_owned(),
            "array_of_strings",
            "array_of_strings",
        ),
        // No `$id` above: a pointer from the document's root, as every tool reads it.
        (
            "/paths/~1measurements/post/requestBody/content/application~1json/schema/$ref"
                .to_owned(),
            "#/components/schemas/objWithTypedArray",
            "#/components/schemas/objWithTypedArray",
        ),
        (
            "/components/schemas/Money/$ref".to_owned(),
            "#/x-oasgate-files/schemas~1money.yaml/Money",
            "#/components/schemas/Money_2",
        ),
        // A file named from below a relative `$id`: its schema, part of the document now,
        // gets the `$id` the written reference resolves to.
        (
            "/components/schemas/Address/properties/country/$ref".to_owned(),
            "country.yaml",
            "country.yaml",
        ),
        (
            "/components/schemas/Address/$id".to_owned(),
            "schemas/address",
            "schemas/address",
        ),
    ];
    assert_eq!(
        served.json["x-oasgate-files"]["schemas/country.yaml"]["$id"],
        "schemas/country.yaml"
    );
    assert_eq!(
        bundled["components"]["schemas"]["country"]["$id"],
        "schemas/country.yaml"
    );
    for (at, in_served, in_bundled) in rows {
        assert_eq!(
            served.json.pointer(at),
            Some(&json!(in_served)),
            "served {at}"
        );
        assert_eq!(
            bundled.pointer(at),
            Some(&json!(in_bundled)),
            "bundled {at}"
        );
    }
    assert_eq!(
        served.json.pointer(
            "/x-oasgate-files/schemas~1money.yaml/Money/$defs/amount/properties/currency/$ref"
        ),
        Some(&json!("#/$defs/currency"))
    );
    for (name, document) in [("served", &served.json), ("bundled", &bundled)] {
        assert!(!holds_key(document, "x-oasgate-ref"), "{name}");
    }
    // The bundled document stands alone: it loads with nothing unresolved and checks
    // requests as the original does.
    let again = Document::from_value(bundled).expect("the bundle loads");
    assert_eq!(
        again
            .unresolved_refs()
            .map(|p| p.to_string())
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );
    let rebuilt = OpenApiLayer::new(&again).expect("the bundle compiles");
    // (path, body, status)
    let rows = [
        ("/numbers", "[1, 2]", 200),
        ("/numbers", r#"[1, "x"]"#, 400),
        (
            "/measurements",
            r#"{"dataType": "string", "data": ["a"]}"#,
            200,
        ),
        (
            "/measurements",
            r#"{"dataType": "string", "data": [1]}"#,
            400,
        ),
        ("/orders", r#"{"id": "bad"}"#, 400),
    ];
    for (path, body, status) in rows {
        for (name, layer) in [("original", &layer), ("bundled", &rebuilt)] {
            let answer = send(layer, with_body("POST", path, "application/json", body)).await;
            assert_eq!(
                answer.status, status,
                "{name} {path} {body}: {}",
                answer.json
            );
        }
    }
}

#[test]
fn references_to_ids_that_are_nowhere_are_errors_where_requests_reach_them() {
    let document = |schema: &str| {
        format!(
            r##"{{"openapi": "3.1.0", "info": {{"title": "t", "version": "1"}},
                "paths": {{"/a": {{"post": {{"requestBody": {{"content": {{"application/json":
                    {{"schema": {{"$ref": "#/components/schemas/Reached"}}}}}}}},
                    "responses": {{"204": {{"description": "ok"}}}}}}}}}},
                "components": {{"schemas": {{"Reached": {schema}, "Unreached": {schema}}}}}}}"##
        )
    };
    // (schema, what the message says)
    let rows = [
        (
            r#"{"$id": "https://x.test/order", "properties": {"c": {"$ref": "customer"}}}"#,
            "`$ref` `customer` resolves to `https://x.test/customer`, which is neither a schema `$id` of the document nor a file",
        ),
        (
            r##"{"$id": "https://x.test/order", "properties": {"c": {"$ref": "#nowhere"}}}"##,
            "no `$anchor` `nowhere` in `https://x.test/order",
        ),
        (
            r##"{"$id": "https://x.test/order", "properties": {"c": {"$ref": "#/$defs/gone"}}}"##,
            "does not exist",
        ),
    ];
    // One `$id` for two schemas: which one it names is undecided.
    let twice = Document::from_str(&document(rows[0].0)).expect_err("the same `$id` twice");
    assert!(
        twice
            .to_string()
            .contains("`$id` `https://x.test/order` is declared twice"),
        "{twice}"
    );
    for (schema, message) in rows {
        // Each component its own resource: `order` in one, `order2` in the other.
        let document = |schema: &str| {
            let text = document(schema);
            match text.rfind("https://x.test/order") {
                Some(i) => format!("{}https://x.test/order2{}", &text[..i], &text[i + 20..]),
                None => text,
            }
        };
        let doc = Document::from_str(&document(schema)).expect("loads");
        let problems: Vec<String> = doc.unresolved_refs().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 2, "{schema}: {problems:?}");
        assert!(
            problems.iter().all(|p| p.contains(message)),
            "{schema}: {problems:?}"
        );
        let error = OpenApiLayer::new(&doc).expect_err("a request reaches one");
        assert_eq!(error.problems().len(), 1, "{schema}: {error}");
        assert_eq!(
            error.problems()[0].pointer,
            "/components/schemas/Reached/properties/c"
        );
        // Only the unreached one left: a warning.
        let unreached = document(schema).replace(
            r##""schema": {"$ref": "#/components/schemas/Reached"}"##,
            r#""schema": {"type": "object"}"#,
        );
        let layer = OpenApiLayer::new(Document::from_str(&unreached).unwrap())
            .unwrap_or_else(|e| panic!("{schema}: {e}"));
        let warned: Vec<_> = layer
            .warnings()
            .iter()
            .map(|w| (w.case, w.at.pointer.as_str()))
            .collect();
        assert_eq!(
            warned,
            [
                (
                    oasgate::WarningCase::UnresolvedRef,
                    "/components/schemas/Reached/properties/c"
                ),
                (
                    oasgate::WarningCase::UnresolvedRef,
                    "/components/schemas/Unreached/properties/c"
                ),
            ],
            "{schema}"
        );
    }
}

#[test]
fn openapi_3_0_keeps_ref_relative_to_the_file() {
    // OpenAPI 3.0's Schema Object takes no `$id` ("additional properties defined by the JSON
    // Schema specification that are not mentioned here are strictly unsupported", 3.0.4
    // §4.8.24.1): a `$ref` beside one is a file path, and `#/...` is from the document root.
    let text = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
        "components": {"schemas": {
            "A": {"$id": "fully_generic_array", "type": "array", "items": {"$ref": "fully_generic_array"}},
            "B": {"$id": "https://x.test/b", "properties": {"c": {"$ref": "#/components/schemas/A"}}}}}}"##;
    let doc = Document::from_str(text).expect("loads");
    let problems: Vec<String> = doc.unresolved_refs().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("`$ref` names `fully_generic_array`, which cannot be read"),
        "{problems:?}"
    );
    assert_eq!(
        doc.as_json()["components"]["schemas"]["B"]["properties"]["c"]["$ref"],
        "#/components/schemas/A"
    );
    // In 3.1 both resolve against the `$id`s: `fully_generic_array` is A itself, and
    // `https://x.test/b#/components/schemas/A` is no node, so the pointer is read from the
    // file, with a warning.
    let doc = Document::from_str(&text.replace("3.0.3", "3.1.0")).expect("loads");
    assert_eq!(doc.unresolved_refs().count(), 0);
    assert_eq!(
        doc.as_json()["components"]["schemas"]["A"]["items"]["$ref"],
        "#/components/schemas/A"
    );
    let layer = OpenApiLayer::new(&doc).expect("compiles");
    let warned: Vec<_> = layer
        .warnings()
        .iter()
        .map(|w| (w.case, w.at.pointer.as_str()))
        .collect();
    assert_eq!(
        warned,
        [(
            oasgate::WarningCase::RefBase,
            "/components/schemas/B/properties/c"
        )]
    );
}

#[tokio::test]
async fn a_pointer_below_an_id_written_for_the_file_is_read_from_the_file_with_a_warning() {
    // Published 3.1 documents give components an `$id` and still point from the document's
    // root; relative to the `$id` such a pointer names nothing, from the file one node.
    let text = r##"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/pets": {"post": {"requestBody": {"content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/Pet"}}}},
            "responses": {"204": {"description": "ok"}}}}},
        "components": {"schemas": {
            "Pet": {"$id": "https://x.test/pet", "type": "object",
                "properties": {"tag": {"$ref": "#/components/schemas/Tag"}}},
            "Tag": {"type": "string", "maxLength": 3}}}}"##;
    let doc = Document::from_str(text).expect("loads");
    assert_eq!(doc.unresolved_refs().count(), 0);
    let layer = OpenApiLayer::new(&doc).expect("compiles");
    let warned: Vec<_> = layer
        .warnings()
        .iter()
        .map(|w| (w.case, w.at.pointer.as_str()))
        .collect();
    assert_eq!(
        warned,
        [(
            oasgate::WarningCase::RefBase,
            "/components/schemas/Pet/properties/tag"
        )]
    );
    assert!(
        layer.warnings()[0]
            .at
            .message
            .contains("`https://x.test/pet#/components/schemas/Tag`"),
        "{}",
        layer.warnings()[0]
    );
    // (body, status, errors)
    let rows: &[(&str, u16, &[(&str, &str)])] = &[
        (r#"{"tag": "abc"}"#, 200, &[]),
        (r#"{"tag": "abcd"}"#, 400, &[("/tag", "maxLength")]),
    ];
    for (body, status, want) in rows {
        let answer = send(&layer, with_body("POST", "/pets", "application/json", body)).await;
        assert_eq!(answer.status, *status, "{body}: {}", answer.json);
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        assert_eq!(errors(&answer.json), want, "{body}");
    }
    OpenApiLayer::with_options(&doc, Options::default().strict(true))
        .expect_err("strict refuses the defect");
}
