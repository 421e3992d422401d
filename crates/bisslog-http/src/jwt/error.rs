//! Why a JWT authenticator could not be set up.

use std::path::PathBuf;

/// Why a [`JwtKeys`](super::JwtKeys) or a
/// [`JwtAuthenticator`](super::JwtAuthenticator) could not be built. Token
/// refusals are not errors of this type: they are answered with 401.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The JWKS file could not be read.
    #[error("the JWKS file {} could not be read: {source}", path.display())]
    JwksFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The JWKS document is not a JSON object with a `keys` array.
    #[error("the JWKS document is not valid: {0}")]
    InvalidJwks(#[source] serde_json::Error),
    /// The JWKS holds no key this authenticator can use (RS256, ES256 on
    /// P-256, EdDSA on Ed25519, for signatures).
    #[error("the JWKS holds no usable signature key (RS256, ES256 or EdDSA)")]
    NoUsableKeys,
    /// An HS256 secret shorter than the 32 bytes RFC 7518 §3.2 requires.
    #[error("an HS256 secret must be at least 32 bytes long, this one has {0}")]
    WeakSecret(usize),
    /// The JWKS URL is not an `http` or `https` URL.
    #[error("the JWKS URL `{url}` is not valid: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The HTTP client for the JWKS URL could not be built.
    #[error("the HTTP client for the JWKS URL could not be built: {0}")]
    Client(#[source] reqwest::Error),
    /// An `https` JWKS URL without the `tls` feature, or a CA bundle that
    /// can not be used.
    #[error(transparent)]
    Tls(#[from] bisslog_runtime::tls::TlsError),
}
