//! Config parsing, errors with positions, environment overrides, and the reference.

use std::collections::BTreeSet;
use std::time::Duration;

use super::*;

const REFERENCE: &str = include_str!("../../docs/config.md");

fn yaml(text: &str) -> Result<Config, String> {
    Config::from_text(text, "oasgate.yaml").map_err(|e| e.to_string())
}

fn toml_text(text: &str) -> Result<Config, String> {
    Config::from_text(text, "oasgate.toml").map_err(|e| e.to_string())
}

/// Every key's dotted path: `spec`, `options.body_limit`, `server.listen`…
fn all_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::from(["spec".to_owned()]);
    for section in SECTIONS {
        for key in section_keys(section).unwrap() {
            keys.insert(format!("{section}.{key}"));
        }
    }
    keys
}

#[test]
fn bad_files_name_the_place_and_the_fix() {
    // (file name, text, the whole message)
    let rows: [(&str, &str, &str); 18] = [
        (
            "oasgate.yaml",
            "server:\n  mode: proxy\nserver:\n  mode: proxy\n",
            "oasgate.yaml:3:1: `server` is given twice",
        ),
        (
            "oasgate.yaml",
            "spec: a.yaml\noptions:\n  body_limt: 1KiB\n",
            "oasgate.yaml:3:3: unknown key `body_limt`; did you mean `body_limit`?",
        ),
        (
            "oasgate.yaml",
            "sepc: a.yaml\n",
            "oasgate.yaml:1:1: unknown key `sepc`; did you mean `spec`?",
        ),
        (
            "oasgate.yaml",
            "body_limit: 1KiB\n",
            "oasgate.yaml:1:1: unknown key `body_limit`; it belongs in the `options` section",
        ),
        (
            "oasgate.yaml",
            "server:\n  upstream: http://127.0.0.1:1\n  lsiten: 127.0.0.1:1\n",
            "oasgate.yaml:3:3: unknown key `lsiten`; did you mean `listen`?",
        ),
        (
            "oasgate.yaml",
            "options:\n  body_limit: lots\n",
            "oasgate.yaml:2:15: expected a size such as `64KiB` or `1048576`, got `lots`",
        ),
        (
            "oasgate.yaml",
            "options:\n  unknown_routes: passthrough\n",
            "oasgate.yaml:2:19: unknown value `passthrough`; expected one of: reject, pass-through (did you mean `pass-through`?)",
        ),
        (
            "oasgate.yaml",
            "server:\n  mode: proxi\n",
            "oasgate.yaml:2:9: unknown value `proxi`; expected one of: proxy, forward-auth (did you mean `proxy`?)",
        ),
        (
            "oasgate.yaml",
            "server:\n  upstream: ftp://example.test\n",
            "oasgate.yaml:2:13: `ftp://example.test`: expected an http:// or https:// URL, not ftp://",
        ),
        (
            "oasgate.yaml",
            "options:\n  lenient_booleans: yes\n",
            "oasgate.yaml:2:21: invalid boolean",
        ),
        (
            "oasgate.toml",
            "[options]\nbody_limt = 1\n",
            "oasgate.toml:2:1: unknown key `body_limt`; did you mean `body_limit`?",
        ),
        (
            "oasgate.toml",
            "[server]\nmetrics_path = true\n",
            "oasgate.toml:2:16: `true` is not a path: give the path, or `false` to turn it off",
        ),
        (
            "oasgate.toml",
            "[server]\ntrusted_proxies = [\"10.0.0.0/40\"]\n",
            "oasgate.toml:2:19: `10.0.0.0/40`: the prefix length is at most 32",
        ),
        (
            "oasgate.toml",
            "[options]\nerror_cap = \"many\"\n",
            "oasgate.toml:2:13: invalid type: string \"many\", expected usize",
        ),
        (
            "oasgate.yaml",
            "server:\n  max_headers: 0\n",
            "oasgate.yaml:2:16: `0` is out of range: expected 1 to 10000",
        ),
        (
            "oasgate.yaml",
            "server:\n  header_read_timeout: 0s\n",
            "oasgate.yaml:2:24: `0s` is out of range: expected 100ms to 1h",
        ),
        (
            "oasgate.yaml",
            "server:\n  watch: true\n  max_connections: 0\n",
            "oasgate.yaml:3:20: `0` is out of range: expected 1 to 1000000",
        ),
        (
            "oasgate.toml",
            "[server]\nmax_header_size = \"1GiB\"\n",
            "oasgate.toml:2:19: `1024MiB` is out of range: expected 1KiB to 256KiB",
        ),
    ];
    let mut failures = Vec::new();
    for (name, text, want) in rows {
        match Config::from_text(text, name) {
            Ok(config) => failures.push(format!("{text:?}: parsed as {config:?}")),
            Err(e) if e.to_string().starts_with(want) => {}
            Err(e) => failures.push(format!("{text:?}:\n   got: {e}\n  want: {want}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn keys_set_options() {
    let config = yaml(
        "options:\n  prefix: /api/\n  body_limit: 2KiB\n  undeclared_query: reject\n  openapi_json_path: false\n  enforce: false\n",
    )
    .unwrap();
    let options = config.to_options();
    assert_eq!(options.prefix, "/api");
    assert_eq!(options.body_limit, 2048);
    assert_eq!(options.undeclared_query, UndeclaredParams::Reject);
    assert_eq!(options.openapi_json_path, None);
    assert!(!options.enforce);
    // Absent keys keep the builder's defaults.
    let defaults = Options::default();
    assert_eq!(options.error_cap, defaults.error_cap);
    assert_eq!(options.unknown_routes, defaults.unknown_routes);
    let empty = yaml("# nothing set\n").unwrap();
    assert_eq!(format!("{:?}", empty.to_options()), format!("{defaults:?}"));
}

/// A value for every `options` key, each unlike the default whatever the features.
const EVERY_OPTION: &[(&str, &str)] = &[
    ("prefix", "/api"),
    ("tolerate_trailing_slash", "true"),
    ("path_normalization", "normalize"),
    ("allow_encoded_slash", "true"),
    ("unknown_routes", "pass-through"),
    ("undeclared_query", "strip"),
    ("paging", "girder"),
    ("body_limit", "2KiB"),
    ("error_cap", "5"),
    ("unprocessable_bodies", "true"),
    ("lenient_booleans", "true"),
    ("openapi_json_path", "/spec.json"),
    ("enforce", "false"),
    ("canonical_query", "false"),
    ("fill_body_defaults", "true"),
    ("strict", "true"),
    ("lenient_dates", "true"),
    ("date_dialect", "month-first"),
    ("time_zone", "Europe/Paris"),
    ("openapi_yaml_path", "false"),
    ("docs_path", "/reference"),
    ("docs_ui", "redoc"),
    ("serve_bundled", "true"),
    ("describe_problems", "false"),
    ("document_cache_control", "public, max-age=60"),
    ("json_depth_limit", "32"),
    ("query_params_limit", "64"),
    ("param_length_limit", "1KiB"),
    ("pattern_backtrack_limit", "5000"),
    ("multipart_parts_limit", "10"),
    ("trusted_proxies", "[127.0.0.1, 10.0.0.0/8]"),
    ("response_validation", "enforce"),
    ("response_validation_max_body", "64KiB"),
    ("response_validation_sample", "5%"),
    ("forwards_upstream", "true"),
];

/// `Options`' fields from its pretty `Debug`: name → the field's text (one line or several).
fn option_fields(options: &Options) -> std::collections::BTreeMap<String, String> {
    let mut fields = std::collections::BTreeMap::new();
    let mut current = None;
    for line in format!("{options:#?}").lines() {
        // `    name: value` starts a field; other indented lines continue it.
        let field = line
            .strip_prefix("    ")
            .and_then(|rest| rest.split_once(": "))
            .filter(|(name, _)| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        match (field, line.starts_with("    ")) {
            (Some((name, value)), _) => {
                fields.insert(name.to_owned(), value.to_owned());
                current = Some(name.to_owned());
            }
            (None, true) => {
                let name = current.clone().expect("a field before its continuation");
                fields.get_mut(&name).unwrap().push_str(line.trim());
            }
            (None, false) => current = None,
        }
    }
    fields
}

// The examples name a zone (`Europe/Paris`).
#[cfg(feature = "time-zones")]
#[test]
fn every_options_key_reaches_its_option() {
    let rows = EVERY_OPTION;
    let listed: BTreeSet<&str> = rows.iter().map(|(k, _)| *k).collect();
    let keys: BTreeSet<&str> = OptionsSection::KEYS.iter().copied().collect();
    assert_eq!(listed, keys, "EVERY_OPTION lists each `options` key once");
    assert_eq!(listed.len(), rows.len(), "EVERY_OPTION lists a key twice");

    // Each key alone changes exactly the option of its name.
    let defaults = option_fields(&Options::default());
    for (key, value) in rows {
        let options = yaml(&format!("options:\n  {key}: {value}\n"))
            .unwrap()
            .to_options();
        let changed: Vec<String> = option_fields(&options)
            .into_iter()
            .filter(|(name, text)| defaults.get(name) != Some(text))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(changed, [key.to_string()], "`options.{key}: {value}`");
    }

    // All together, each with the value it was given.
    let text: String = rows
        .iter()
        .map(|(key, value)| format!("  {key}: {value}\n"))
        .collect();
    let o = yaml(&format!("options:\n{text}")).unwrap().to_options();
    assert_eq!(o.prefix, "/api");
    assert!(o.tolerate_trailing_slash);
    assert_eq!(o.path_normalization, crate::PathNormalization::Normalize);
    assert!(o.allow_encoded_slash);
    assert_eq!(o.unknown_routes, UnknownRoutes::PassThrough);
    assert_eq!(o.undeclared_query, UndeclaredParams::Strip);
    assert_eq!(o.body_limit, 2048);
    assert_eq!(o.error_cap, 5);
    assert!(o.unprocessable_bodies);
    assert!(o.lenient_booleans);
    assert_eq!(o.openapi_json_path.as_deref(), Some("/spec.json"));
    assert!(!o.enforce);
    assert!(!o.canonical_query);
    assert!(o.fill_body_defaults);
    assert!(o.lenient_dates);
    assert_eq!(o.date_dialect, Dialect::MonthFirst);
    assert_eq!(o.time_zone, Zone::parse("Europe/Paris").unwrap());
    assert_eq!(o.openapi_yaml_path, None);
    assert_eq!(o.docs_path.as_deref(), Some("/reference"));
    assert_eq!(o.docs_ui, DocsUi::Redoc);
    assert!(o.serve_bundled);
    assert!(!o.describe_problems);
    assert_eq!(o.document_cache_control, "public, max-age=60");
    assert_eq!(o.json_depth_limit, 32);
    assert_eq!(o.query_params_limit, 64);
    assert_eq!(o.param_length_limit, 1024);
    assert_eq!(o.pattern_backtrack_limit, 5000);
    assert_eq!(o.multipart_parts_limit, 10);
    assert_eq!(o.trusted_proxies, ["127.0.0.1/32", "10.0.0.0/8"]);
    assert_eq!(o.response_validation, crate::ResponseValidation::Enforce);
    assert_eq!(o.response_validation_max_body, 64 * 1024);
    assert_eq!(o.response_validation_sample, 0.05);
    assert!(o.forwards_upstream);
}

#[test]
fn a_share_is_a_number_from_0_to_1_or_a_percentage() {
    for (text, share) in [
        ("0", 0.0),
        ("0.25", 0.25),
        ("1", 1.0),
        ("5%", 0.05),
        ("100%", 1.0),
    ] {
        let options = yaml(&format!("options:\n  response_validation_sample: {text}\n"))
            .unwrap()
            .to_options();
        assert_eq!(options.response_validation_sample, share, "{text}");
    }
    for text in ["1.5", "-0.1", "often", "150%"] {
        let error = yaml(&format!("options:\n  response_validation_sample: {text}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("is not a share: expected 0 to 1"),
            "{text}: {error}"
        );
    }
}

#[test]
fn environment_overrides_single_keys() {
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut config = yaml("spec: a.yaml\noptions:\n  body_limit: 1KiB\n").unwrap();
    config
        .apply_env(env(&[
            ("OASGATE_OPTIONS_BODY_LIMIT", "2KiB"),
            ("OASGATE_OPTIONS_LENIENT_BOOLEANS", "true"),
            ("OASGATE_SERVER_LISTEN", "127.0.0.1:9999"),
            ("OASGATE_SERVER_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("OASGATE_SERVER_UPSTREAM_TIMEOUT", "250ms"),
            ("OASGATE_SERVER_MAX_CONNECTIONS", "64"),
            ("OASGATE_SPEC", "b.yaml"),
            ("PATH", "/bin"),
        ]))
        .unwrap();
    assert_eq!(config.options.body_limit, Some(ByteSize(2048)));
    assert_eq!(config.options.lenient_booleans, Some(true));
    assert_eq!(
        config.server.listen,
        Some("127.0.0.1:9999".parse().unwrap())
    );
    assert_eq!(config.server.trusted_proxies.as_ref().unwrap().0.len(), 2);
    assert_eq!(
        config.server.upstream_timeout,
        Some(Seconds(Duration::from_millis(250)))
    );
    assert_eq!(config.server.max_connections.map(|c| c.0), Some(64));
    assert_eq!(config.spec.as_deref(), Some(std::path::Path::new("b.yaml")));

    let rows = [
        (
            "OASGATE_OPTIONS_BODY_LIMT",
            "1",
            "environment: `OASGATE_OPTIONS_BODY_LIMT`: no config key has this variable; did you mean `OASGATE_OPTIONS_BODY_LIMIT`?",
        ),
        (
            "OASGATE_OPTIONS_ERROR_CAP",
            "many",
            "environment: `OASGATE_OPTIONS_ERROR_CAP`: `many` is not valid: invalid u64; for example `OASGATE_OPTIONS_ERROR_CAP=5`",
        ),
        // The value quoted, and a valid one from the reference configuration to copy.
        (
            "OASGATE_SERVER_LISTEN",
            "nope",
            "environment: `OASGATE_SERVER_LISTEN`: `nope` is not valid: invalid socket address syntax; for example `OASGATE_SERVER_LISTEN=",
        ),
        (
            "OASGATE_SERVER_MAX_HEADER_SIZE",
            "4",
            "environment: `OASGATE_SERVER_MAX_HEADER_SIZE`: `4` is not valid: `4` is out of range: expected 1KiB to 256KiB",
        ),
        (
            "OASGATE_SERVER_MODE",
            "sidecar",
            "environment: `OASGATE_SERVER_MODE`: `sidecar` is not valid: unknown variant `sidecar`",
        ),
    ];
    for (name, value, want) in rows {
        let mut config = Config::default();
        let e = config.apply_env(env(&[(name, value)])).unwrap_err();
        assert!(e.to_string().starts_with(want), "{name}: {e}");
    }
}

#[test]
fn env_names_are_unambiguous() {
    let names = env_names();
    let unique: BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    assert_eq!(names.len(), all_keys().len());
    for name in &names {
        assert!(env_key(name).is_some(), "{name}");
    }
}

#[test]
fn spec_path_is_relative_to_the_config_file() {
    let dir = std::env::temp_dir().join(format!("oasgate-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("oasgate.yaml");
    std::fs::write(&file, "spec: specs/api.yaml\n").unwrap();
    let config = Config::from_path_with_env(&file, Vec::new()).unwrap();
    assert_eq!(config.spec_path().unwrap(), dir.join("specs/api.yaml"));
    let e = Config::from_path_with_env(dir.join("missing.yaml"), Vec::new()).unwrap_err();
    assert!(e.message.starts_with("cannot read the file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The rows of the reference's key tables: (dotted key, env column).
///
/// Only rows of a table count: a run of `|` lines opening with a header and a `| --- |` line.
/// A row cut off from its header (by a blank line, say) renders as plain text, so it panics.
fn reference_rows() -> Vec<(String, String)> {
    reference_rows_of(REFERENCE).unwrap_or_else(|e| panic!("docs/config.md: {e}"))
}

fn reference_rows_of(text: &str) -> Result<Vec<(String, String)>, String> {
    let is_separator =
        |line: &str| line.contains('-') && line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '));
    let mut rows = Vec::new();
    // How many lines the current run of `|` lines has so far.
    let mut seen = 0;
    for (i, line) in text.lines().enumerate() {
        if !line.starts_with('|') {
            seen = 0;
            continue;
        }
        seen += 1;
        match seen {
            1 if line.starts_with("| `") => {
                return Err(format!(
                    "line {}: a key row with no table header above it",
                    i + 1
                ));
            }
            1 => {}
            2 if !is_separator(line) => {
                return Err(format!(
                    "line {}: a table header without a `| --- |` line under it",
                    i + 1
                ));
            }
            2 => {}
            _ if line.starts_with("| `") => {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let (Some(key), Some(env)) = (cells.get(1), cells.get(4)) else {
                    continue;
                };
                rows.push((
                    key.trim_matches('`').to_owned(),
                    env.trim_matches('`').to_owned(),
                ));
            }
            _ => {}
        }
    }
    Ok(rows)
}

#[test]
fn a_blank_line_inside_a_table_is_caught() {
    let whole = "| key | type | default | env | what |\n| --- | --- | --- | --- | --- |\n\
                 | `a.b` | boolean | `false` | `OASGATE_A_B` | x |\n\
                 | `a.c` | boolean | `false` | `OASGATE_A_C` | y |\n";
    assert_eq!(
        reference_rows_of(whole).unwrap(),
        [
            ("a.b".to_owned(), "OASGATE_A_B".to_owned()),
            ("a.c".to_owned(), "OASGATE_A_C".to_owned())
        ]
    );
    let split = whole.replacen("x |\n", "x |\n\n", 1);
    let e = reference_rows_of(&split).unwrap_err();
    assert!(
        e.starts_with("line 5: a key row with no table header"),
        "{e}"
    );
}

/// The body of the first fenced block of `lang` in the reference.
fn reference_block(lang: &str) -> String {
    let open = format!("```{lang}\n");
    let start = REFERENCE.find(&open).expect("the block exists") + open.len();
    let end = start + REFERENCE[start..].find("```").expect("the block ends");
    REFERENCE[start..end].to_owned()
}

#[test]
fn reference_lists_every_key_and_only_keys() {
    let rows = reference_rows();
    let documented: BTreeSet<String> = rows.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(documented.len(), rows.len(), "a key is documented twice");
    let keys = all_keys();
    let missing: Vec<_> = keys.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&keys).collect();
    assert!(
        missing.is_empty(),
        "keys missing from docs/config.md: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/config.md names no such keys: {unknown:?}"
    );
    for (key, env) in rows {
        let want = format!("OASGATE_{}", key.replace('.', "_").to_ascii_uppercase());
        assert_eq!(env, want, "the env column of `{key}`");
    }
}

// The examples name a zone (`Europe/Paris`).
#[cfg(feature = "time-zones")]
#[test]
fn reference_examples_parse_and_set_every_key() {
    let from_yaml = yaml(&reference_block("yaml")).unwrap();
    let from_toml = toml_text(&reference_block("toml")).unwrap();
    assert_eq!(from_yaml, from_toml, "the YAML and TOML examples differ");
    // Every key is set: the example's key paths are exactly all keys.
    let value: serde_json::Value = serde_saphyr::from_str(&reference_block("yaml")).unwrap();
    let mut set = BTreeSet::new();
    for (key, inner) in value.as_object().unwrap() {
        match inner.as_object() {
            Some(section) => set.extend(section.keys().map(|k| format!("{key}.{k}"))),
            None => {
                set.insert(key.clone());
            }
        }
    }
    assert_eq!(set, all_keys());
    assert_eq!(from_yaml.server.mode, Some(Mode::ForwardAuth));
    assert_eq!(from_yaml.server.healthz_path, Some(Endpoint::Off));
    assert_eq!(from_yaml.options.body_limit, Some(ByteSize(65536)));
}

#[cfg(not(feature = "time-zones"))]
#[test]
fn a_zone_name_says_which_feature_reads_it() {
    let error = Config::from_text("options:\n  time_zone: Europe/Paris\n", "oasgate.yaml")
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("with oasgate's `time-zones` feature"),
        "{error}"
    );
}

#[test]
fn the_example_an_env_error_gives_is_valid_for_every_key() {
    for name in env_names() {
        let (section, key) = env_key(&name).unwrap();
        let example = super::example_value(section, key)
            .unwrap_or_else(|| panic!("no example for {name} in docs/config.md"));
        Config::default()
            .apply_env([(name.clone(), example.clone())])
            .unwrap_or_else(|e| panic!("{name}={example}: {e}"));
    }
}

#[test]
fn every_mistake_of_a_file_is_reported_at_once() {
    // (file name, text, every line of the message)
    let rows: [(&str, &str, &[&str]); 7] = [
        (
            // Cutting the section's only origin must not report the section as lacking one.
            "oasgate.yaml",
            "server:\n  cors:\n    allow_origins: ['https://a.test/']\n  mode: proxi\n",
            &[
                "oasgate.yaml:3:21: `https://a.test/` is not an origin: it has a path or query (`/`); expected an origin such as `https://app.example.com`, `https://*.example.com` or `http://127.0.0.1:3000` (scheme, host and optional port, nothing after)",
                "oasgate.yaml:4:9: unknown value `proxi`; expected one of: proxy, forward-auth (did you mean `proxy`?)",
            ],
        ),
        (
            "oasgate.toml",
            "[server.cors]\nallow_origns = ['https://a.test']\n[options]\nenforce = 1\n",
            &[
                "oasgate.toml:2:1: unknown key `allow_origns`; did you mean `allow_origins`?",
                "oasgate.toml:4:11: invalid type: integer `1`, expected a boolean",
            ],
        ),
        (
            "oasgate.yaml",
            "spec: a.yaml\noptions:\n  body_limt: 1KiB\n  enforce: yes\n  paging: girder\nserver:\n  upstream: ftp://example.test\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.0/40\n  max_headers: 0\nsepc: b.yaml\n",
            &[
                "oasgate.yaml:3:3: unknown key `body_limt`; did you mean `body_limit`?",
                "oasgate.yaml:4:12: invalid boolean (strict mode expects true/false)",
                "oasgate.yaml:7:13: `ftp://example.test`: expected an http:// or https:// URL, not ftp://",
                "oasgate.yaml:10:7: `10.0.0.0/40`: the prefix length is at most 32",
                "oasgate.yaml:11:16: `0` is out of range: expected 1 to 10000",
                "oasgate.yaml:12:1: unknown key `sepc`; did you mean `spec`?",
            ],
        ),
        (
            // A misspelt section takes its keys along: they are not reported again.
            "oasgate.yaml",
            "optoins:\n  body_limt: 1KiB\nserver:\n  mode: proxi\n",
            &[
                "oasgate.yaml:1:1: unknown key `optoins`; did you mean `options`?",
                "oasgate.yaml:4:9: unknown value `proxi`; expected one of: proxy, forward-auth (did you mean `proxy`?)",
            ],
        ),
        (
            "oasgate.toml",
            "spec = \"a.yaml\"\n[options]\nbody_limt = 1\nerror_cap = \"many\"\n[server]\ntrusted_proxies = [\n  \"10.0.0.0/40\",\n]\nmax_headers = 0\n",
            &[
                "oasgate.toml:3:1: unknown key `body_limt`; did you mean `body_limit`?",
                "oasgate.toml:4:13: invalid type: string \"many\", expected usize",
                "oasgate.toml:6:19: `10.0.0.0/40`: the prefix length is at most 32",
                "oasgate.toml:9:15: `0` is out of range: expected 1 to 10000",
            ],
        ),
        (
            "oasgate.toml",
            "[optoins]\nbody_limt = 1\n[server]\nmode = \"proxi\"\n",
            &[
                "oasgate.toml:1:2: unknown key `optoins`; did you mean `options`?",
                "oasgate.toml:4:8: unknown value `proxi`; expected one of: proxy, forward-auth (did you mean `proxy`?)",
            ],
        ),
        (
            // Not well-formed: only the syntax error, which may hide anything after it.
            "oasgate.yaml",
            "options:\n  body_limt: 1KiB\n   enforce: [\nserver:\n  mode: proxi\n",
            &[],
        ),
    ];
    let mut failures = Vec::new();
    for (name, text, want) in rows {
        let e = match Config::from_text(text, name) {
            Ok(config) => {
                failures.push(format!("{text:?}: parsed as {config:?}"));
                continue;
            }
            Err(e) => e,
        };
        let text_of_e = e.to_string();
        let got: Vec<&str> = text_of_e.lines().collect();
        if want.is_empty() {
            if got.len() != 1 {
                failures.push(format!("{text:?}: want one error, got {got:#?}"));
            }
        } else if got != want {
            failures.push(format!("{text:?}:\n   got: {got:#?}\n  want: {want:#?}"));
        }
        assert_eq!(e.all().count(), got.len(), "{e}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_wrong_variable_is_reported_at_once() {
    let mut config = Config::default();
    let vars = [
        ("OASGATE_OPTIONS_BODY_LIMIT", "lots"),
        ("OASGATE_SERVER_LISTEN", "nope"),
        ("OASGATE_SERVR_LISTEN", "127.0.0.1:1"),
        ("OASGATE_OPTIONS_ENFORCE", "false"),
    ];
    let e = config
        .apply_env(vars.map(|(k, v)| (k.to_owned(), v.to_owned())))
        .unwrap_err();
    let names: Vec<&str> = e
        .all()
        .map(|e| e.message.split('`').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "OASGATE_OPTIONS_BODY_LIMIT",
            "OASGATE_SERVER_LISTEN",
            "OASGATE_SERVR_LISTEN"
        ],
        "{e}"
    );
    // The good variable among them is applied all the same.
    assert_eq!(config.options.enforce, Some(false));
}
