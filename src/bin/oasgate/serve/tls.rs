//! TLS: the listener's certificate and key, and the client side towards `https://` upstreams.
//!
//! Everything is read from PEM files when the gateway is built (at start and on each reload),
//! so a reload with a bad file fails and the previous settings keep serving.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The protocols the listener offers in ALPN, most preferred first (RFC 7301 §3.2: the
/// server selects).
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Every certificate in a PEM file, the leaf first.
fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, what, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, what, &e))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} `{shown}`: no certificate found; expected a PEM `CERTIFICATE` block"
        ));
    }
    Ok(certs)
}

/// The private key in a PEM file.
fn private_key(path: &Path, what: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => format!(
            "{what} `{}`: no private key found; expected a PEM `PRIVATE KEY`, `RSA PRIVATE KEY` \
             or `EC PRIVATE KEY` block",
            path.display()
        ),
        other => pem_error(path, what, &other),
    })
}

fn pem_error(path: &Path, what: &str, error: &pem::Error) -> String {
    let shown = path.display();
    match error {
        pem::Error::Io(io) => format!("{what} `{shown}`: cannot read the file: {io}"),
        pem::Error::NoItemsFound => {
            format!("{what} `{shown}`: nothing found; expected a PEM file")
        }
        other => format!("{what} `{shown}`: not a valid PEM file: {other}"),
    }
}

/// The listener's TLS settings from a certificate chain and its key, offering HTTP/2 and
/// HTTP/1.1 through ALPN.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs = certificates(cert, "server.tls_cert")?;
    let key_der = private_key(key, "server.tls_key")?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("server.tls_cert: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| {
            format!(
                "server.tls_key `{}`: cannot be used with the certificate `{}`: {}; expected \
                 the private key of that certificate",
                key.display(),
                cert.display(),
                rustls_reason(&e)
            )
        })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn rustls_reason(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            "the key does not match the certificate".to_owned()
        }
        other => other.to_string().to_lowercase(),
    }
}

/// Where `https://` upstreams are trusted from and whether the gateway shows a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamTls {
    /// A PEM bundle of the CAs to trust instead of the built-in Mozilla roots.
    pub ca: Option<std::path::PathBuf>,
    /// The gateway's client certificate and key (mutual TLS).
    pub client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// The client side towards `https://` upstreams.
pub fn client_config(settings: &UpstreamTls) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    match &settings.ca {
        Some(path) => {
            for cert in certificates(path, "server.upstream_ca")? {
                roots.add(cert).map_err(|e| {
                    format!(
                        "server.upstream_ca `{}`: a certificate cannot be used as a trust \
                         anchor: {}",
                        path.display(),
                        rustls_reason(&e)
                    )
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("server.upstream_ca: {e}"))?
        .with_root_certificates(roots);
    match &settings.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let certs = certificates(cert, "server.upstream_client_cert")?;
            let key_der = private_key(key, "server.upstream_client_key")?;
            builder.with_client_auth_cert(certs, key_der).map_err(|e| {
                format!(
                    "server.upstream_client_key `{}`: cannot be used with the certificate \
                     `{}`: {}; expected the private key of that certificate",
                    key.display(),
                    cert.display(),
                    rustls_reason(&e)
                )
            })
        }
    }
}
