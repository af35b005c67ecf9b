//! The `/docs` page: Swagger UI (or Redoc) from files embedded in the binary, gzipped, with no
//! inline script (the initializer is a served file) and a Content-Security-Policy that says so.
// Without a page feature only the shared parts remain, unused.
#![cfg_attr(
    not(any(feature = "docs-ui", feature = "docs-redoc")),
    allow(dead_code)
)]

use std::io::{Read as _, Write as _};
use std::sync::OnceLock;

use bytes::Bytes;

/// One file the docs page is made of.
pub(crate) struct Asset {
    /// The name after the docs path (`""` for the page itself).
    pub name: String,
    pub content_type: &'static str,
    /// Gzipped bytes, when the file is worth compressing.
    pub gzip: Option<Bytes>,
    /// The bytes as they are (unpacked from `gzip` on first use when only that is embedded).
    plain: OnceLock<Bytes>,
    pub etag: String,
    /// Vendor files change only with the crate: cacheable; the page and initializer revalidate.
    pub immutable: bool,
}

impl Asset {
    fn new(name: &str, content_type: &'static str, plain: Bytes, immutable: bool) -> Self {
        let gzip = gzip(&plain);
        let etag = etag(&plain);
        Self {
            name: name.to_owned(),
            content_type,
            gzip: Some(gzip),
            plain: OnceLock::from(plain),
            etag,
            immutable,
        }
    }

    #[cfg_attr(not(feature = "docs-ui"), allow(dead_code))]
    fn gzipped(name: &str, content_type: &'static str, gzipped: Bytes) -> Self {
        let etag = etag(&gzipped);
        Self {
            name: name.to_owned(),
            content_type,
            gzip: Some(gzipped),
            plain: OnceLock::new(),
            etag,
            immutable: true,
        }
    }

    /// The bytes without content coding.
    pub fn plain(&self) -> Bytes {
        self.plain
            .get_or_init(|| {
                let mut out = Vec::new();
                if let Some(gz) = &self.gzip {
                    let _ = flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out);
                }
                Bytes::from(out)
            })
            .clone()
    }
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(bytes);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn etag(bytes: &[u8]) -> String {
    format!("\"{:08x}{:x}\"", crc32fast::hash(bytes), bytes.len())
}

/// The docs page and its files, under one path.
pub(crate) struct Docs {
    pub path: String,
    pub assets: Vec<Asset>,
    pub policy: &'static str,
}

/// Escapes text for an HTML element or attribute.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path relative to the page at `from` (`/a/docs`) that reaches `to` (`/openapi.json`), so
/// the page works behind a proxy that adds a path prefix.
pub(crate) fn relative(from: &str, to: &str) -> String {
    let depth = from.trim_start_matches('/').matches('/').count();
    format!("{}{}", "../".repeat(depth), to.trim_start_matches('/'))
}

/// The policy the page is served with: scripts and styles only from this server (Swagger UI
/// sets inline style attributes, hence `'unsafe-inline'` for styles only); requests only to it.
#[cfg_attr(not(feature = "docs-ui"), allow(dead_code))]
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'self'";

/// Redoc also runs its search in a worker made from a `blob:` URL.
#[cfg_attr(not(feature = "docs-redoc"), allow(dead_code))]
const REDOC_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

impl Docs {
    /// Swagger UI for the document served at `document` (a path on this server).
    #[cfg(feature = "docs-ui")]
    pub fn swagger_ui(path: &str, title: &str, document: &str) -> Result<Self, String> {
        let page_name = path.rsplit('/').next().unwrap_or_default();
        let here = |file: &str| format!("{}/{file}", html_escape(page_name));
        let page = format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
<link rel="stylesheet" href="{index_css}">
<link rel="icon" type="image/png" href="{icon}" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{bundle}" charset="utf-8"></script>
<script src="{init}" charset="utf-8"></script>
</body>
</html>
"#,
            title = html_escape(title),
            css = here("swagger-ui.css"),
            index_css = here("index.css"),
            icon = here("favicon-32x32.png"),
            bundle = here("swagger-ui-bundle.js"),
            init = here("oasgate-init.js"),
        );
        let settings = serde_json::json!({
            "url": relative(path, document),
            "dom_id": "#swagger-ui",
            "deepLinking": true,
            "displayOperationId": true,
            "displayRequestDuration": true,
            "showExtensions": true,
            "showCommonExtensions": true,
            "persistAuthorization": false,
            // The public validator is on the Internet: never call it.
            "validatorUrl": null,
            // `query`: OpenAPI 3.2's QUERY operations, which Swagger UI renders, can be tried.
            "supportedSubmitMethods": ["get", "put", "post", "delete", "options", "head", "patch", "trace", "query"],
            "oauth2RedirectUrl": null,
        });
        let init = format!(
            "// Starts Swagger UI for this API; the settings are written by oasgate.\n\
             window.addEventListener(\"load\", function () {{\n\
             \x20 var settings = {settings};\n\
             \x20 settings.oauth2RedirectUrl = new URL(\"{page_name}/oauth2-redirect.html\", document.baseURI).href;\n\
             \x20 settings.presets = [SwaggerUIBundle.presets.apis];\n\
             \x20 settings.layout = \"BaseLayout\";\n\
             \x20 window.ui = SwaggerUIBundle(settings);\n\
             }});\n",
        );
        let mut assets = vec![
            Asset::new("", "text/html; charset=utf-8", Bytes::from(page), false),
            Asset::new(
                "oasgate-init.js",
                "text/javascript; charset=utf-8",
                Bytes::from(init),
                false,
            ),
        ];
        let config = std::sync::Arc::new(utoipa_swagger_ui::Config::from(document.to_owned()));
        let vendored = [
            ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
            ("swagger-ui.css", "text/css; charset=utf-8"),
            ("index.css", "text/css; charset=utf-8"),
            ("favicon-32x32.png", "image/png"),
            ("oauth2-redirect.html", "text/html; charset=utf-8"),
            ("oauth2-redirect.js", "text/javascript; charset=utf-8"),
        ];
        for (name, content_type) in vendored {
            let file = utoipa_swagger_ui::serve(name, config.clone())
                .ok()
                .flatten()
                .ok_or_else(|| format!("the embedded Swagger UI has no `{name}`"))?;
            let bytes = Bytes::from(file.bytes.into_owned());
            assets.push(if file.gzpipped {
                Asset::gzipped(name, content_type, bytes)
            } else {
                let mut asset = Asset::new(name, content_type, bytes, true);
                asset.immutable = true;
                asset
            });
        }
        Ok(Self {
            path: path.to_owned(),
            assets,
            policy: POLICY,
        })
    }

    /// Redoc for the document served at `document`: its standalone script comes from the
    /// `aide` crate, which embeds it (in an inline-script page this layer does not use: the
    /// script is taken out of it once and served as a file).
    #[cfg(feature = "docs-redoc")]
    pub fn redoc(path: &str, title: &str, document: &str) -> Result<Self, String> {
        let page_name = path.rsplit('/').next().unwrap_or_default();
        let here = |file: &str| format!("{}/{file}", html_escape(page_name));
        let page = format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body>
<div id="redoc"></div>
<script src="{script}" charset="utf-8"></script>
<script src="{init}" charset="utf-8"></script>
</body>
</html>
"#,
            title = html_escape(title),
            script = here("redoc.standalone.js"),
            init = here("oasgate-init.js"),
        );
        let url = serde_json::Value::from(relative(path, document));
        let init = format!(
            "// Starts Redoc for this API; written by oasgate.\n\
             window.addEventListener(\"load\", function () {{\n\
             \x20 Redoc.init(new URL({url}, document.baseURI).href, {{}}, document.getElementById(\"redoc\"));\n\
             }});\n"
        );
        let wrapped = aide::redoc::Redoc::new("").html();
        let script = wrapped
            .split_once("<script>")
            .and_then(|(_, rest)| rest.split_once("Redoc.init("))
            .map(|(script, _)| script.trim())
            .filter(|script| script.len() > 100_000)
            .ok_or("the embedded Redoc script was not found in the `aide` crate's page")?;
        Ok(Self {
            path: path.to_owned(),
            assets: vec![
                Asset::new("", "text/html; charset=utf-8", Bytes::from(page), false),
                Asset::new(
                    "oasgate-init.js",
                    "text/javascript; charset=utf-8",
                    Bytes::from(init),
                    false,
                ),
                Asset::new(
                    "redoc.standalone.js",
                    "text/javascript; charset=utf-8",
                    Bytes::from(script.to_owned()),
                    true,
                ),
            ],
            policy: REDOC_POLICY,
        })
    }

    /// The asset a request path names, when it is under the docs path.
    pub fn find(&self, path: &str) -> Option<&Asset> {
        let rest = path.strip_prefix(self.path.as_str())?;
        let name = match rest {
            "" => "",
            rest => rest.strip_prefix('/')?,
        };
        self.assets.iter().find(|a| a.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_reach_the_document() {
        let rows = [
            ("/docs", "/openapi.json", "openapi.json"),
            ("/api/docs", "/openapi.json", "../openapi.json"),
            ("/a/b/docs", "/a/spec.yaml", "../../a/spec.yaml"),
        ];
        for (from, to, want) in rows {
            assert_eq!(relative(from, to), want, "{from} → {to}");
        }
    }

    #[test]
    fn escapes_the_title() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
