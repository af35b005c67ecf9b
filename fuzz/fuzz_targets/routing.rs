//! Routing: the first line is a request path, the next lines are templates. Building never
//! panics, and a match names an inserted template whose parameter values are non-empty
//! substrings of the path without `/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oasgate::router::{RouterBuilder, template_params};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let Some(path) = lines.next() else {
        return;
    };
    let templates: Vec<&str> = lines.take(16).collect();
    let mut builder = RouterBuilder::new();
    let mut inserted = Vec::new();
    for (id, template) in templates.iter().enumerate() {
        if builder.insert(template, id).is_ok() {
            inserted.push(id);
        }
    }
    let router = builder.build();
    let start = path.as_ptr() as usize;
    for found in [router.at(path), router.at_lenient(path)]
        .into_iter()
        .flatten()
    {
        assert!(inserted.contains(&found.id), "matched a refused template");
        let names = template_params(templates[found.id]).expect("an inserted template parses");
        assert_eq!(found.params.len(), names.len());
        for ((name, value), expected) in found.params.iter().zip(&names) {
            assert_eq!(name, *expected);
            assert!(
                !value.is_empty() && !value.contains('/'),
                "{name}={value:?}"
            );
            let offset = (value.as_ptr() as usize).wrapping_sub(start);
            assert!(
                path.get(offset..offset.saturating_add(value.len())) == Some(value),
                "{name}={value:?} is not a substring of {path:?}"
            );
        }
    }
});
