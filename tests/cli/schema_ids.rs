//! `oasgate serve` with an OpenAPI 3.1 document whose schemas are identified as JSON Schema
//! 2020-12 identifies them (`$id`, `$anchor`, `$dynamicRef`), across files: what the layer
//! tests check, through the real binary and a real upstream.

use http::Request;

use crate::support::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/local/schema-ids"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_checks_requests_by_the_schemas_ids_name() {
    let dir = TempDir::new("schema-ids");
    std::fs::create_dir_all(dir.0.join("schemas")).unwrap();
    for file in ["openapi.yaml", "schemas/money.yaml", "schemas/country.yaml"] {
        dir.write(
            file,
            &std::fs::read_to_string(format!("{FIXTURE}/{file}")).unwrap(),
        );
    }
    let upstream = Upstream::start().await;
    let gateway = Gateway::start(
        &dir,
        &["--spec", "openapi.yaml", "--upstream", &upstream.url()],
    );
    let order = r#"{"id": "ord_abcd1234", "customer": {"email": "ada@example.test"}, "lines": [{"sku": "A-1", "quantity": 2, "price": {"value": "9.99", "currency": "EUR"}}], "total": {"value": "19.98", "currency": "EUR"}}"#;
    // (path, body, status, first error as (pointer, code))
    let rows: [(&str, String, u16, Option<(&str, &str)>); 7] = [
        ("/orders", order.to_owned(), 200, None),
        // `$ref: '#order-id'`: an `$anchor` in the Order resource.
        (
            "/orders",
            order.replace("ord_abcd1234", "order-1"),
            400,
            Some(("/id", "pattern")),
        ),
        // `$ref: money#/$defs/amount`, in the resource another file declares.
        (
            "/orders",
            order.replace(
                r#""19.98", "currency": "EUR""#,
                r#""19.98", "currency": "JPY""#,
            ),
            400,
            Some(("/total/currency", "enum")),
        ),
        // The generic array bound to numbers through `$dynamicAnchor`.
        ("/numbers", "[1, 2.5, -3]".to_owned(), 200, None),
        (
            "/numbers",
            r#"[1, "two"]"#.to_owned(),
            400,
            Some(("/1", "type")),
        ),
        (
            "/measurements",
            r#"{"dataType": "number", "data": [1, 2]}"#.to_owned(),
            200,
            None,
        ),
        (
            "/measurements",
            r#"{"dataType": "number", "data": [1, "x"]}"#.to_owned(),
            400,
            None,
        ),
    ];
    let mut forwarded = 0;
    for (path, body, status, first) in rows {
        let request = Request::post(gateway.url(path))
            .header("content-type", "application/json")
            .body(full(body.clone()))
            .unwrap();
        let answer = send(request).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{path} {body}: {}",
            answer.text
        );
        if status == 200 {
            forwarded += 1;
        }
        // A refused request never reaches the upstream.
        assert_eq!(upstream.seen().len(), forwarded, "{path} {body}");
        if let Some((pointer, code)) = first {
            let problem = answer.json();
            let error = &problem["errors"][0];
            assert_eq!(
                (error["pointer"].as_str(), error["code"].as_str()),
                (Some(pointer), Some(code)),
                "{path} {body}: {problem}"
            );
        }
    }
}
