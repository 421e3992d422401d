//! The one builder of the framework's HTTP clients: the JWKS fetches of
//! `bisslog-http`, the calls of `bisslog-http-client`'s `ServiceClient`
//! and the OTLP/HTTP exporters all start from [`client_builder`].
//!
//! With the `tls` feature, those clients speak HTTPS: rustls with the
//! *ring* provider, server certificates verified against the operating
//! system's trust store (`rustls-platform-verifier`) plus, when the
//! operator names one, the PEM bundle of [`CA_FILE_VARIABLE`]
//! (`BISSLOG_CA_FILE`): a private CA added to the system's, not replacing
//! them. Without the feature, [`check_scheme`] refuses `https://` URLs
//! when a client is configured, naming the feature, so that no call fails
//! later for it.
//!
//! Why a variable of its own rather than `SSL_CERT_FILE`: the platform
//! verifier reads `SSL_CERT_FILE` on Linux only, and there it *replaces*
//! the system's roots; `BISSLOG_CA_FILE` adds to them on every platform.
//!
//! The crypto provider is handed to each client (a preconfigured rustls
//! `ClientConfig`): nothing here installs a process-wide default. An
//! application whose own reqwest clients need one (reqwest built with
//! rustls but without a provider panics when such a client is built) calls
//! `install_default_provider` (with the `tls` feature).

use std::path::{Path, PathBuf};
#[cfg(feature = "tls")]
use std::sync::Arc;

/// The variable naming a PEM file of extra CA certificates trusted by the
/// framework's HTTPS clients, besides the system's.
pub const CA_FILE_VARIABLE: &str = "BISSLOG_CA_FILE";

/// Whether this build's clients speak HTTPS (the `tls` feature).
pub const HTTPS_ENABLED: bool = cfg!(feature = "tls");

/// Why an outgoing HTTP client could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// An `https://` URL in a build without the `tls` feature.
    #[error(
        "the {what} `{url}` is an https URL, but this build has no TLS client: \
         enable the `tls` feature (of `bisslog`, or of the crate making the call)"
    )]
    HttpsNotEnabled {
        /// What the URL is for (`JWKS URL`, `service base URL`, ...).
        what: &'static str,
        /// The URL.
        url: String,
    },
    /// The CA bundle file could not be read.
    #[error("the CA bundle {} could not be read: {source}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA bundle holds no certificate, or one that is not valid PEM.
    #[error("the CA bundle {origin} is not usable: {reason}")]
    CaBundle {
        /// Where it came from (a path, or what the caller named it).
        origin: String,
        /// Why.
        reason: String,
    },
    /// The bundle `BISSLOG_CA_FILE` names is not usable.
    #[error("{CA_FILE_VARIABLE}: {0}")]
    CaVariable(#[source] Box<TlsError>),
    /// The TLS client could not be set up (no trust store, for one).
    #[error("the TLS client could not be set up: {0}")]
    Setup(String),
}

/// Extra CA certificates trusted besides the system's: none by default,
/// or a PEM bundle.
#[derive(Clone, Default)]
pub struct CaBundle {
    origin: Option<String>,
    /// The certificates, DER; empty without the `tls` feature, which has
    /// nothing to give them to.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    certificates: Vec<Vec<u8>>,
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.origin {
            Some(origin) => write!(f, "CaBundle({origin})"),
            None => f.write_str("CaBundle(none)"),
        }
    }
}

impl CaBundle {
    /// No extra CA: the system's trust store only.
    pub fn none() -> Self {
        Self::default()
    }

    /// The bundle `BISSLOG_CA_FILE` names, or none when it is unset or
    /// empty.
    ///
    /// # Errors
    ///
    /// The file can not be read or holds no PEM certificate.
    pub fn from_env() -> Result<Self, TlsError> {
        match std::env::var_os(CA_FILE_VARIABLE) {
            Some(path) if !path.is_empty() => {
                Self::from_file(Path::new(&path)).map_err(|e| TlsError::CaVariable(Box::new(e)))
            }
            _ => Ok(Self::none()),
        }
    }

    /// The certificates of a PEM file.
    ///
    /// # Errors
    ///
    /// The file can not be read or holds no PEM certificate.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, TlsError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|source| TlsError::CaFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_pem(path.display().to_string(), &pem)
    }

    /// The certificates of a PEM document; `origin` names it in errors
    /// and logs.
    ///
    /// # Errors
    ///
    /// No `CERTIFICATE` block, or one that is not valid.
    pub fn from_pem(origin: impl Into<String>, pem: &[u8]) -> Result<Self, TlsError> {
        let origin = origin.into();
        let certificates = parse_pem(&origin, pem)?;
        Ok(Self {
            origin: Some(origin),
            certificates,
        })
    }

    /// Whether it adds no CA.
    pub fn is_empty(&self) -> bool {
        self.origin.is_none()
    }
}

#[cfg(feature = "tls")]
fn parse_pem(origin: &str, pem: &[u8]) -> Result<Vec<Vec<u8>>, TlsError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let invalid = |reason: String| TlsError::CaBundle {
        origin: origin.to_owned(),
        reason,
    };
    let certificates = CertificateDer::pem_slice_iter(pem)
        .map(|certificate| certificate.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(e.to_string()))?;
    if certificates.is_empty() {
        return Err(invalid("it holds no PEM CERTIFICATE block".to_owned()));
    }
    Ok(certificates)
}

#[cfg(not(feature = "tls"))]
fn parse_pem(_origin: &str, _pem: &[u8]) -> Result<Vec<Vec<u8>>, TlsError> {
    // Without a TLS client the bundle has no use; it is not parsed.
    Ok(Vec::new())
}

/// Refuses an `https` `scheme` in a build without the `tls` feature;
/// `what` and `url` name the setting in the error.
///
/// # Errors
///
/// [`TlsError::HttpsNotEnabled`].
pub fn check_scheme(what: &'static str, url: &str, scheme: &str) -> Result<(), TlsError> {
    if scheme.eq_ignore_ascii_case("https") && !HTTPS_ENABLED {
        return Err(TlsError::HttpsNotEnabled {
            what,
            url: url.to_owned(),
        });
    }
    Ok(())
}

/// A reqwest client builder for the framework's outgoing calls: with the
/// `tls` feature, HTTPS verified against the system's roots and `ca`'s;
/// without, plain HTTP only (check URLs with [`check_scheme`] first).
///
/// `https` says whether the client is for an `https://` URL. When it is
/// not, a trust store that can not be loaded (a container image without CA
/// certificates) is no error: the client gets no roots at all, so it could
/// reach no HTTPS server, and it never tries (the framework's clients do
/// not follow redirects).
///
/// # Errors
///
/// With `tls` and `https`: the platform's trust store can not be used.
pub fn client_builder(ca: &CaBundle, https: bool) -> Result<reqwest::ClientBuilder, TlsError> {
    let builder = reqwest::Client::builder();
    #[cfg(feature = "tls")]
    let builder = builder.tls_backend_preconfigured(match rustls_config(ca) {
        Ok(config) => config,
        Err(_) if !https => no_roots_config()?,
        Err(error) => return Err(error),
    });
    #[cfg(not(feature = "tls"))]
    let _ = (ca, https);
    Ok(builder)
}

/// A configuration trusting no server: for a plain-HTTP client whose trust
/// store could not be loaded (reqwest built with rustls needs one).
#[cfg(feature = "tls")]
fn no_roots_config() -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// The rustls configuration of every client: ring, TLS 1.2 and 1.3, the
/// platform verifier with `ca`'s certificates added.
#[cfg(feature = "tls")]
fn rustls_config(ca: &CaBundle) -> Result<rustls::ClientConfig, TlsError> {
    use rustls::pki_types::CertificateDer;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup = |e: rustls::Error| TlsError::Setup(e.to_string());
    let verifier = if ca.certificates.is_empty() {
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(setup)?
    } else {
        let extra = ca
            .certificates
            .iter()
            .map(|der| CertificateDer::from(der.clone()));
        extra_roots_verifier(extra, Arc::clone(&provider))?
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .dangerous()
        // The platform verifier is a full verifier (chain, name, expiry,
        // revocation where the platform checks it), not a bypass.
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

#[cfg(all(
    feature = "tls",
    any(all(unix, not(target_os = "android")), target_os = "windows")
))]
fn extra_roots_verifier(
    extra: impl Iterator<Item = rustls::pki_types::CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, TlsError> {
    rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
        .map_err(|e| TlsError::Setup(e.to_string()))
}

#[cfg(all(
    feature = "tls",
    not(any(all(unix, not(target_os = "android")), target_os = "windows"))
))]
fn extra_roots_verifier(
    _extra: impl Iterator<Item = rustls::pki_types::CertificateDer<'static>>,
    _provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, TlsError> {
    Err(TlsError::Setup(format!(
        "{CA_FILE_VARIABLE} is not supported on this platform (its verifier takes no extra roots)"
    )))
}

/// Installs rustls's *ring* provider as the process's default, unless one
/// is installed already; for applications whose own reqwest clients are
/// built without a preconfigured TLS setup. The framework's clients do
/// not need it, and never call it.
#[cfg(feature = "tls")]
pub fn install_default_provider() {
    // `Err` means another provider is installed: that one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_refused_without_the_feature_and_accepted_with_it() {
        assert!(check_scheme("JWKS URL", "http://idp/jwks", "http").is_ok());
        let https = check_scheme("JWKS URL", "https://idp/jwks", "https");
        if HTTPS_ENABLED {
            assert!(https.is_ok());
        } else {
            let error = https.unwrap_err().to_string();
            assert!(error.contains("`tls` feature"), "{error}");
            assert!(error.contains("https://idp/jwks"), "{error}");
        }
    }

    #[test]
    fn a_client_builder_is_made_and_bad_bundles_are_refused() {
        client_builder(&CaBundle::none(), true)
            .unwrap()
            .build()
            .unwrap();
        client_builder(&CaBundle::none(), false)
            .unwrap()
            .build()
            .unwrap();
        #[cfg(feature = "tls")]
        no_roots_config().unwrap();
        let missing = CaBundle::from_file("/nonexistent/ca.pem").unwrap_err();
        assert!(matches!(missing, TlsError::CaFile { .. }), "{missing}");
        if HTTPS_ENABLED {
            let empty = CaBundle::from_pem("empty.pem", b"no certificate here").unwrap_err();
            assert!(matches!(empty, TlsError::CaBundle { .. }), "{empty}");
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn with_the_default_provider_installed_plain_reqwest_clients_build_too() {
        // reqwest built with rustls and no provider panics on
        // `Client::new()` unless one is installed; installing twice is fine.
        install_default_provider();
        install_default_provider();
        reqwest::Client::builder().build().unwrap();
    }
}
