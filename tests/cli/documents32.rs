//! `oasgate serve` with a multi-file OpenAPI 3.2 document: references resolved against
//! `$self`, `content` entries referencing `components/mediaTypes`, `defaultMapping`.

use http::Request;
use serde_json::Value;

use crate::support::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/local/documents32"
);

/// The fixture's files, copied into `dir` as laid out there.
fn copy_fixture(dir: &TempDir) {
    for file in ["openapi.yaml", "shared/common.yaml", "schemas/loan.yaml"] {
        let text = std::fs::read_to_string(format!("{FIXTURE}/{file}")).unwrap();
        if let Some((folder, _)) = file.rsplit_once('/') {
            std::fs::create_dir_all(dir.0.join(folder)).unwrap();
        }
        dir.write(file, &text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_checks_requests_through_self_and_media_type_references() {
    let dir = TempDir::new("documents32");
    copy_fixture(&dir);
    let upstream = Upstream::start().await;
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: openapi.yaml\noptions:\n  serve_bundled: true\nserver:\n  upstream: {}\n",
            upstream.url()
        ),
    );
    let gateway = Gateway::start(&dir, &["--config", "oasgate.yaml"]);
    // (method, path, body, status, first error as (pointer or parameter name, code))
    let rows: [(&str, &str, &str, u16, Option<(&str, &str)>); 9] = [
        ("GET", "/library/books?page=3", "", 200, None),
        (
            "GET",
            "/library/books?page=0",
            "",
            400,
            Some(("page", "minimum")),
        ),
        (
            "GET",
            "/library/books?filter=%7B%22year%22%3A%22old%22%7D",
            "",
            400,
            Some(("/year", "type")),
        ),
        (
            "POST",
            "/library/books",
            r#"{"title":"Dune","isbn":"9780441013593"}"#,
            200,
            None,
        ),
        (
            "POST",
            "/library/books",
            r#"{"title":"Dune","isbn":"12"}"#,
            400,
            Some(("/isbn", "pattern")),
        ),
        (
            "POST",
            "/library/loans",
            r#"{"isbn":"9780441013593","member":"M1","days":7}"#,
            400,
            Some(("/member", "pattern")),
        ),
        (
            "POST",
            "/library/items",
            r#"{"format":"digital","url":"https://books.example.test/1"}"#,
            200,
            None,
        ),
        // `defaultMapping`: no format, so the errors are those of `OtherItem`.
        (
            "POST",
            "/library/items",
            r#"{"note":"no format"}"#,
            400,
            Some(("/description", "required")),
        ),
        (
            "POST",
            "/library/items",
            r#"{"format":"vinyl","description":"An LP"}"#,
            200,
            None,
        ),
    ];
    let mut forwarded = 0;
    for (method, path, body, status, first) in rows {
        let mut request = Request::builder().method(method).uri(gateway.url(path));
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let answer = send(request.body(full(body.to_owned())).unwrap()).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{method} {path} {body}: {}",
            answer.text
        );
        if status == 200 {
            forwarded += 1;
        }
        assert_eq!(upstream.seen().len(), forwarded, "{method} {path} {body}");
        if let Some((at, code)) = first {
            let problem = answer.json();
            let error = &problem["errors"][0];
            let pointer = error["pointer"].as_str().unwrap_or_default();
            let name = error["name"].as_str().unwrap_or_default();
            assert_eq!(
                (
                    if pointer.is_empty() { name } else { pointer },
                    error["code"].as_str().unwrap_or_default()
                ),
                (at, code),
                "{method} {path} {body}: {problem}"
            );
        }
    }
    // The bundled document: the shared document's media type moved to `components`.
    let served: Value = get(&gateway.url("/openapi.json")).await.json();
    assert_eq!(served["openapi"], "3.2.0");
    assert_eq!(served["$self"], "https://api.example.test/library/openapi");
    assert!(served.get("x-oasgate-files").is_none(), "{served:#}");
    assert!(
        served["components"]["mediaTypes"]["Loan"]["schema"].is_object(),
        "{served:#}"
    );
    assert_eq!(served["tags"][1]["parent"], "catalogue");
    assert_eq!(
        served["components"]["mediaTypes"]["Book"]["examples"]["dune"]["dataValue"]["title"],
        "Dune"
    );
}

#[test]
fn check_and_bundle_read_the_3_2_document() {
    let dir = TempDir::new("documents32-tools");
    copy_fixture(&dir);
    let (code, out, err) = run(&dir.0, &["check", "openapi.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(": ok (OpenAPI 3.2)\n"), "{out}");
    let (code, out, err) = run(&dir.0, &["bundle", "openapi.yaml"]);
    assert_eq!(code, 0, "{err}");
    let bundled: Value = serde_json::from_str(&out).unwrap();
    let body = &bundled["components"]["requestBodies"]["Loan"]["content"]["application/json"];
    assert_eq!(body["$ref"], "#/components/mediaTypes/Loan", "{out}");
}
