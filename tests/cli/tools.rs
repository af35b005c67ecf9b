//! `--help` and its examples, `check`, `route`, `bundle`, and how `serve` reports a bad start.

use serde_json::Value;

use crate::support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[test]
fn check_reports_every_problem_and_exits_non_zero() {
    let dir = TempDir::new("check");
    let good = format!("{FIXTURES}/oai/v3.0-petstore-expanded.yaml");
    let (code, out, _) = run(&dir.0, &["check", &good]);
    assert_eq!(code, 0);
    assert!(out.ends_with(": ok (OpenAPI 3.0)\n"), "{out}");

    dir.write(
        "bad.yaml",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a/{id}:\n    get:\n      responses: {}\n  /b:\n    get:\n      parameters:\n        - {name: q, in: query, schema: {type: strin}}\n      responses: {}\n",
    );
    let (code, _, err) = run(&dir.0, &["check", "bad.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("2 problems"), "{err}");
    assert!(
        err.contains("bad.yaml:5 at #/paths/~1a~1{id}/get: path parameter `id`"),
        "{err}"
    );

    let (code, out, _) = run(&dir.0, &["check", "bad.yaml", "--format", "json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], false);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[1]["file"], "bad.yaml");
    assert_eq!(problems[1]["line"], 10);
    assert_eq!(problems[1]["pointer"], "/paths/~1b/get/parameters/0/schema");
}

#[test]
fn check_lists_warnings_and_strict_makes_them_errors() {
    let dir = TempDir::new("check-warnings");
    // A 2.0 document with two defects oasgate works around (see docs/documents.md).
    dir.write(
        "warned.yaml",
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\nbasePath: api\npaths:\n  /a:\n    get:\n      parameters:\n        - {name: q, in: query}\n      responses: {'200': {description: ok}}\n",
    );
    let (code, out, err) = run(&dir.0, &["check", "warned.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with(": ok (OpenAPI 2.0, 2 warnings)\n"), "{out}");
    assert!(
        err.contains("warning: warned.yaml:3 at #/basePath: `basePath` is not a path")
            && err.contains("[base-path]"),
        "{err}"
    );
    assert!(
        err.contains("warned.yaml:8 at #/paths/~1a/get/parameters/0: parameter `q` has no `type`"),
        "{err}"
    );

    let (code, out, _) = run(&dir.0, &["check", "warned.yaml", "--format", "json"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["version"], "2.0");
    let warnings = report["warnings"].as_array().unwrap();
    let cases: Vec<_> = warnings.iter().map(|w| (&w["case"], &w["line"])).collect();
    assert_eq!(
        cases,
        [
            (&"base-path".into(), &3.into()),
            (&"parameter-type".into(), &8.into())
        ]
    );

    let (code, out, _) = run(
        &dir.0,
        &["check", "warned.yaml", "--strict", "--format", "json"],
    );
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"].as_array().unwrap().len(), 2);
    assert!(
        report["problems"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(an error under `strict`: base-path)"),
        "{report}"
    );
}

#[test]
fn bundle_refuses_a_document_whose_ref_names_nothing() {
    // A document that loads (the reference is reached by no request, a warning) cannot be
    // written self-contained: the output would hold a reference to nothing.
    let dir = TempDir::new("bundle-unresolved");
    dir.write(
        "api.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: 'gone.yaml#/Pet'}\n",
    );
    let (code, _, err) = run(&dir.0, &["check", "api.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("[unresolved-ref]"), "{err}");
    let (code, out, err) = run(&dir.0, &["bundle", "api.yaml"]);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("api.yaml:11 at #/paths/~1a/get/responses/200/content/application~1json/schema: `$ref` names `gone.yaml`, which cannot be read"),
        "{err}"
    );
}

#[test]
fn check_is_a_lint_step_for_the_demo_document() {
    // The demo's document has an `x-model` parameter: the program registers its loader, so
    // `check` warns rather than fails; `--deny-warnings` makes it fail.
    let dir = TempDir::new("check-lint");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/axum/petstore.yaml");
    let (code, out, err) = run(&dir.0, &["check", demo]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with(": ok (OpenAPI 3.0, 1 warning)\n"), "{out}");
    assert!(
        err.contains("`x-model: pet` needs a model loader") && err.contains("[model-loader]"),
        "{err}"
    );
    let (code, _, err) = run(&dir.0, &["check", demo, "--deny-warnings"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("(an error under `strict`: model-loader)"),
        "{err}"
    );
}

#[test]
fn route_shows_the_operation_and_coerced_values_or_the_problem() {
    let dir = TempDir::new("route");
    let spec = format!("{FIXTURES}/oai/v3.0-petstore-expanded.yaml");
    let (code, out, _) = run(
        &dir.0,
        &["route", &spec, "get", "/v2/pets?limit=5&tags=a&tags=b"],
    );
    assert_eq!(code, 0, "{out}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["operation"], "findPets");
    assert_eq!(answer["validated"]["query"]["limit"], 5);
    assert_eq!(
        answer["validated"]["query"]["tags"],
        serde_json::json!(["a", "b"])
    );

    let (code, out, _) = run(
        &dir.0,
        &["route", &spec, "DELETE", "http://localhost/v2/pets/abc"],
    );
    assert_eq!(code, 1);
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["status"], 400);
    assert_eq!(answer["problem"]["errors"][0]["name"], "id");

    // Options from a config file apply.
    dir.write("oasgate.yaml", "options:\n  undeclared_query: reject\n");
    let (code, out, _) = run(
        &dir.0,
        &[
            "route",
            &spec,
            "GET",
            "/v2/pets?color=red",
            "--config",
            "oasgate.yaml",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("undeclared"), "{out}");
}

#[test]
fn bundle_writes_one_self_contained_document() {
    let dir = TempDir::new("bundle");
    // (multi-file fixture, where its definitions go, a definition named after its file or
    // pointer, whether `check` passes on it: girder's `x-model` needs a loader the binary
    // does not have)
    let rows = [
        (
            "digitalocean/specification/DigitalOcean-public.v2.yaml",
            &["#/components/"][..],
            "/components/schemas/droplet",
            true,
        ),
        (
            "local/girder-swagger2.yaml",
            &["#/definitions/", "#/parameters/", "#/responses/"][..],
            "/definitions/ItemUpdate",
            false,
        ),
    ];
    for (name, homes, named, checks) in rows {
        let spec = format!("{FIXTURES}/{name}");
        let (code, _, err) = run(&dir.0, &["bundle", &spec, "-o", "bundled.json"]);
        assert_eq!(code, 0, "{name}: {err}");
        let text = std::fs::read_to_string(dir.0.join("bundled.json")).unwrap();
        assert!(
            !text.contains("x-oasgate-files"),
            "{name}: files kept aside"
        );
        let bundled: Value = serde_json::from_str(&text).unwrap();
        // Every `$ref` points into the components sections (those inside `example` values
        // are data, kept as written) and resolves.
        let mut refs = Vec::new();
        collect_refs(&bundled, &mut refs);
        assert!(refs.len() > 3, "{name}: {refs:?}");
        for reference in &refs {
            assert!(
                homes.iter().any(|home| reference.starts_with(home)),
                "{name}: {reference} is not a component"
            );
            let target = percent_encoding::percent_decode_str(&reference[1..]).decode_utf8_lossy();
            assert!(
                bundled.pointer(&target).is_some(),
                "{name}: {reference} resolves"
            );
        }
        assert!(bundled.pointer(named).is_some(), "{name}: {named}");
        // The library's bundle, the one `serve_bundled` serves, is this same document.
        let library = oasgate::Document::from_path(&spec).unwrap().bundled();
        assert!(library == bundled, "{name}: the library bundles otherwise");
        // And the bundle loads on its own.
        if checks {
            let (code, out, err) = run(&dir.0, &["check", "bundled.json"]);
            assert_eq!(code, 0, "{name}: {out}{err}");
        }
    }
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => into.push(r.clone()),
                    ("example", _) => {}
                    _ => collect_refs(v, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

#[test]
fn serve_refuses_to_start_with_a_clear_message() {
    let dir = TempDir::new("serve-errors");
    dir.write("pets.yaml", SPEC);
    dir.write(
        "typo.yaml",
        "spec: pets.yaml\nserver:\n  upstream: http://127.0.0.1:1\n  lisen: 127.0.0.1:0\n  mode: proxi\n",
    );
    // (arguments, what stderr says)
    let rows: [(&[&str], &str); 5] = [
        (
            &["serve", "--config", "typo.yaml"],
            "typo.yaml:4:3: unknown key `lisen`; did you mean `listen`?",
        ),
        // Every mistake of the file at once, each with its place.
        (
            &["serve", "--config", "typo.yaml"],
            "typo.yaml:5:9: unknown value `proxi`",
        ),
        (
            &["serve", "--spec", "pets.yaml"],
            "proxy mode needs an upstream",
        ),
        (
            &["serve", "--upstream", "http://127.0.0.1:1"],
            "no document",
        ),
        (
            &[
                "serve",
                "--spec",
                "missing.yaml",
                "--upstream",
                "http://127.0.0.1:1",
            ],
            "missing.yaml: cannot read the file",
        ),
    ];
    for (args, want) in rows {
        let (code, _, err) = run(&dir.0, args);
        assert_eq!(code, 1, "{args:?}");
        // Said once: a log line on standard error, not the log and the same text again.
        assert_eq!(err.matches(want).count(), 1, "{args:?}: {err}");
    }
}

/// The example command lines of a help text: its lines `  oasgate …`, split as a shell would.
fn help_examples(help: &str) -> Vec<Vec<String>> {
    help.lines()
        .filter(|line| line.starts_with("  oasgate "))
        .map(|line| shlex::split(line).unwrap_or_else(|| panic!("not a command line: {line}")))
        .collect()
}

/// The commands `oasgate --help` lists, but `help`.
fn commands(help: &str) -> Vec<String> {
    help.split_once("\nCommands:\n")
        .expect("a list of commands")
        .1
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Runs one example of the help in `dir` (which holds `openapi.yaml` and `oasgate.yaml`) and
/// checks it did what it says, as far as the command's output shows.
async fn run_example(dir: &TempDir, example: &[String]) {
    let line = example.join(" ");
    assert_eq!(example[0], "oasgate", "{line}");
    let args: Vec<&str> = example[1..].iter().map(String::as_str).collect();
    if args[0] == "serve" {
        // Started on a free port instead of 127.0.0.1:8080: it must listen, answer its
        // health and metrics endpoints, and check requests.
        let gateway = Gateway::start(dir, &args[1..]);
        assert_eq!(get(&gateway.url("/healthz")).await.status, 200, "{line}");
        let metrics = get(&gateway.url("/metrics")).await;
        assert_eq!(metrics.status, 200, "{line}");
        let mut request = http::Request::builder();
        request = if args.contains(&"forward-auth") {
            request
                .uri(gateway.url("/_auth"))
                .header("x-original-uri", "/v2/pets?limit=x")
        } else {
            request.uri(gateway.url("/v2/pets?limit=x"))
        };
        let answer = send(request.body(full("")).unwrap()).await;
        assert_eq!(answer.status, 400, "{line}: {}", answer.text);
        assert_eq!(
            answer.headers["content-type"], "application/problem+json",
            "{line}"
        );
        return;
    }
    let (code, out, err) = run(&dir.0, &args);
    assert_eq!(code, 0, "{line}: {out}{err}");
    match args[0] {
        "check" if args.contains(&"json") => {
            let report: Value = serde_json::from_str(&out).expect("check --format json");
            assert!(report.is_object() || report.is_array(), "{line}: {out}");
        }
        "check" => assert!(out.contains(": ok"), "{line}: {out}"),
        "route" => assert!(!out.trim().is_empty(), "{line}: no output"),
        "bundle" => {
            let text = match args.iter().position(|a| *a == "-o" || *a == "--output") {
                Some(i) => std::fs::read_to_string(dir.0.join(args[i + 1])).expect("the bundle"),
                None => out,
            };
            let bundle: Value = serde_json::from_str(&text).expect("a JSON bundle");
            assert_eq!(bundle["openapi"], "3.0.0", "{line}");
        }
        other => panic!("{line}: an example of `{other}`, which this test cannot run yet"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_says_what_oasgate_is_and_every_example_runs() {
    let dir = TempDir::new("help");
    let petstore =
        std::fs::read_to_string(format!("{FIXTURES}/oai/v3.0-petstore-expanded.yaml")).unwrap();
    dir.write("openapi.yaml", &petstore);
    let upstream = Upstream::start().await;
    dir.write(
        "oasgate.yaml",
        &format!(
            "spec: openapi.yaml\nserver:\n  upstream: {}\n",
            upstream.url()
        ),
    );

    let (code, help, err) = run(&dir.0, &["--help"]);
    assert_eq!(code, 0, "{err}");
    for needed in [
        "validating reverse proxy and forward-auth endpoint",
        "any HTTP service",
        "OpenAPI document",
        "config file",
        "/metrics",
        "/healthz",
        "SIGHUP",
        "--watch",
    ] {
        assert!(
            help.contains(needed),
            "`{needed}` not in oasgate --help:\n{help}"
        );
    }
    let commands = commands(&help);
    assert!(commands.len() >= 4, "{commands:?}");
    let mut examples = help_examples(&help);
    for command in &commands {
        assert!(
            examples.iter().any(|e| e[1] == *command),
            "oasgate --help has no example of `{command}`"
        );
        let (code, own, err) = run(&dir.0, &[command, "--help"]);
        assert_eq!(code, 0, "{command}: {err}");
        let own = help_examples(&own);
        assert!(!own.is_empty(), "oasgate {command} --help has no example");
        for example in &own {
            assert_eq!(example[1], *command, "in oasgate {command} --help");
        }
        examples.extend(own);
    }
    let (_, serve, _) = run(&dir.0, &["serve", "--help"]);
    for needed in ["/metrics", "/healthz", "SIGHUP", "--watch"] {
        assert!(serve.contains(needed), "`{needed}` not in serve --help");
    }
    examples.sort();
    examples.dedup();
    for example in &examples {
        run_example(&dir, example).await;
    }
}
