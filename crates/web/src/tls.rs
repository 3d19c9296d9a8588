//! HTTPS served by Ketaflow itself: a PEM certificate chain and key loaded into rustls (ring
//! as the crypto provider), HTTP/2 and HTTP/1.1 offered by ALPN, and HSTS on every answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::HeaderValue;
use axum::response::Response;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A loaded certificate and key, ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls(..)")
    }
}

/// Why the certificate or key cannot be used, in words that name the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file has no PEM certificate.
    #[error("{}: no PEM certificate found ({reason}); give the certificate chain in PEM form, the server's certificate first", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        reason: String,
    },
    /// The key file has no PEM private key.
    #[error("{}: no PEM private key found ({reason}); give the key in PEM form (PKCS#8, PKCS#1 or SEC1)", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        reason: String,
    },
    /// rustls refused the pair (for example a key that does not belong to the certificate).
    #[error("the certificate and key cannot be used together: {0}")]
    Pair(String),
}

/// Loads `cert` (PEM chain) and `key` (PEM private key).
pub fn load_tls(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Certificate {
            path: cert.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Certificate {
            path: cert.to_owned(),
            reason: "the file holds none".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_owned(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Pair(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Pair(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    })
}

/// One year, the value browsers' preload lists ask for; without `includeSubDomains`, since a
/// clinic's other sites on the same domain are not Ketaflow's to decide.
const HSTS: &str = "max-age=31536000";

/// Adds Strict-Transport-Security to an answer sent over TLS.
pub(crate) async fn hsts(mut res: Response) -> Response {
    res.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    res
}
