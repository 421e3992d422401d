//! The keys tokens are checked with: where they come from, and each key
//! bound to the one algorithm its type allows.

use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::JwtError;

/// The shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash's
/// size).
const MIN_SECRET_LEN: usize = 32;

/// Where a [`JwtAuthenticator`](super::JwtAuthenticator) takes its keys
/// from.
///
/// Each key is used only with the algorithm its type decides (RSA: RS256,
/// EC P-256: ES256, OKP Ed25519: EdDSA, a shared secret: HS256), whatever a
/// token's header claims: that is what stops algorithm confusion.
#[derive(Clone)]
pub struct JwtKeys(pub(super) Source);

#[derive(Clone)]
pub(super) enum Source {
    /// Keys known when the authenticator is built.
    Fixed(Arc<KeySet>),
    /// A JWKS fetched from this URL, cached and refreshed.
    Url(reqwest::Url),
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material (an HS256 secret is one).
        match &self.0 {
            Source::Fixed(set) => write!(f, "JwtKeys({} fixed keys)", set.keys.len()),
            Source::Url(url) => write!(f, "JwtKeys({url})"),
        }
    }
}

impl JwtKeys {
    /// The signature keys of a JWKS file (RFC 7517). Keys of other types,
    /// curves or algorithms, encryption keys and symmetric (`oct`) keys are
    /// skipped; none usable is an error.
    pub fn from_jwks_file(path: impl AsRef<Path>) -> Result<Self, JwtError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| JwtError::JwksFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_jwks_json(&text)
    }

    /// The signature keys of a JWKS document, as
    /// [`from_jwks_file`](Self::from_jwks_file).
    pub fn from_jwks_json(json: &str) -> Result<Self, JwtError> {
        Ok(Self(Source::Fixed(Arc::new(KeySet::from_jwks(json)?))))
    }

    /// A JWKS served at `url`, fetched on the first token, cached, and
    /// fetched again when a token names a key the cache does not hold (at
    /// most once per the builder's `min_refresh_interval` after a
    /// successful fetch; after a failed one, sooner, with a backoff).
    ///
    /// `http` URLs, and `https` ones with the `tls` feature (rustls, the
    /// system's trust store plus the CA bundle of `BISSLOG_CA_FILE` or
    /// [`JwtAuthenticatorBuilder::ca_bundle`](super::JwtAuthenticatorBuilder::ca_bundle));
    /// without it an `https` URL is refused here, naming the feature.
    pub fn jwks_url(url: &str) -> Result<Self, JwtError> {
        let invalid = |reason: String| JwtError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        match parsed.scheme() {
            "http" => {}
            "https" => bisslog_runtime::tls::check_scheme("JWKS URL", url, "https")?,
            other => {
                return Err(invalid(format!(
                    "the scheme `{other}` is not supported (only `http` and `https`)"
                )));
            }
        }
        Ok(Self(Source::Url(parsed)))
    }

    /// A shared secret for HS256, at least 32 bytes long. Tokens signed
    /// with it may carry any `kid`, or none.
    pub fn hmac_secret(secret: impl AsRef<[u8]>) -> Result<Self, JwtError> {
        let secret = secret.as_ref();
        if secret.len() < MIN_SECRET_LEN {
            return Err(JwtError::WeakSecret(secret.len()));
        }
        let key = Key {
            kid: None,
            algorithm: Algorithm::HS256,
            decoding: DecodingKey::from_secret(secret).map_err(|_| JwtError::NoUsableKeys)?,
        };
        Ok(Self(Source::Fixed(Arc::new(KeySet {
            keys: vec![Arc::new(key)],
        }))))
    }
}

/// One verification key and the only algorithm it verifies.
pub(super) struct Key {
    pub(super) kid: Option<String>,
    pub(super) algorithm: Algorithm,
    pub(super) decoding: DecodingKey,
}

/// The keys an authenticator knows at one moment.
#[derive(Default)]
pub(super) struct KeySet {
    pub(super) keys: Vec<Arc<Key>>,
}

impl KeySet {
    /// The usable signature keys of a JWKS document; at least one.
    pub(super) fn from_jwks(json: &str) -> Result<Self, JwtError> {
        // Key by key, so that one key of a type this crate does not know
        // does not make the others unusable.
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_str(json).map_err(JwtError::InvalidJwks)?;
        let keys: Vec<_> = document
            .keys
            .into_iter()
            .filter_map(|value| {
                let jwk: Jwk = serde_json::from_value(value)
                    .inspect_err(|error| tracing::debug!(%error, "JWKS key skipped: not a JWK"))
                    .ok()?;
                usable(&jwk).map(Arc::new)
            })
            .collect();
        if keys.is_empty() {
            return Err(JwtError::NoUsableKeys);
        }
        Ok(Self { keys })
    }

    /// The key a token's header names: the one with its `kid`, or the only
    /// key when there is one and either side has no `kid`.
    pub(super) fn find(&self, kid: Option<&str>) -> Option<Arc<Key>> {
        if let Some(kid) = kid
            && let Some(key) = self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
        {
            return Some(key.clone());
        }
        match self.keys.as_slice() {
            [only] if kid.is_none() || only.kid.is_none() => Some(only.clone()),
            _ => None,
        }
    }
}

/// A JWK as a key bound to its algorithm, when it is a signature key of a
/// supported type.
fn usable(jwk: &Jwk) -> Option<Key> {
    let kid = jwk.common.key_id.clone();
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        tracing::debug!(?kid, "JWKS key skipped: not a signature key");
        return None;
    }
    let (algorithm, declared) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        // Symmetric secrets do not belong in a key set (see `hmac_secret`);
        // other curves and types are not supported.
        _ => {
            tracing::debug!(?kid, "JWKS key skipped: unsupported key type or curve");
            return None;
        }
    };
    // A key that says it is for another algorithm (RS512, PS256...) is not
    // used with this one.
    if jwk.common.key_algorithm.is_some_and(|a| a != declared) {
        tracing::debug!(?kid, "JWKS key skipped: declared for another algorithm");
        return None;
    }
    let decoding = DecodingKey::from_jwk(jwk)
        .inspect_err(|error| tracing::debug!(?kid, %error, "JWKS key skipped: unreadable"))
        .ok()?;
    Some(Key {
        kid,
        algorithm,
        decoding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real RSA key (a short modulus is refused).
    fn rsa(kid: &str) -> String {
        let jwks: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/jwt/jwks.json")).unwrap();
        let mut key = jwks["keys"][0].clone();
        key["kid"] = kid.into();
        key.to_string()
    }

    #[test]
    fn keys_are_bound_to_the_algorithm_of_their_type_and_others_skipped() {
        let json = format!(
            r#"{{"keys":[{},
            {{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}},
            {{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}},
            {{"kty":"RSA","kid":"ps","alg":"PS256","n":"AQAB","e":"AQAB"}},
            {{"kty":"whatever","kid":"w"}}]}}"#,
            rsa("r")
        );
        let set = KeySet::from_jwks(&json).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].algorithm, Algorithm::RS256);
        assert!(set.find(Some("r")).is_some());
        assert!(
            set.find(Some("s")).is_none(),
            "a secret in a JWKS is not used"
        );
    }

    #[test]
    fn a_token_without_kid_needs_a_single_key() {
        let one = KeySet::from_jwks(&format!(r#"{{"keys":[{}]}}"#, rsa("r"))).unwrap();
        assert!(one.find(None).is_some());
        assert!(one.find(Some("other")).is_none());
        let two = KeySet::from_jwks(&format!(r#"{{"keys":[{},{}]}}"#, rsa("r"), rsa("q"))).unwrap();
        assert!(two.find(None).is_none());
        assert_eq!(two.find(Some("q")).unwrap().kid.as_deref(), Some("q"));
    }

    #[test]
    fn bad_sets_and_secrets_are_refused() {
        assert!(matches!(
            KeySet::from_jwks("{}"),
            Err(JwtError::InvalidJwks(_))
        ));
        assert!(matches!(
            KeySet::from_jwks(r#"{"keys":[]}"#),
            Err(JwtError::NoUsableKeys)
        ));
        assert!(matches!(
            JwtKeys::hmac_secret(b"short"),
            Err(JwtError::WeakSecret(5))
        ));
        assert!(matches!(
            JwtKeys::jwks_url("ftp://idp.example.com/jwks"),
            Err(JwtError::InvalidUrl { .. })
        ));
        assert!(matches!(
            JwtKeys::jwks_url("not a url"),
            Err(JwtError::InvalidUrl { .. })
        ));
        assert!(JwtKeys::jwks_url("http://127.0.0.1:1/jwks").is_ok());
    }

    #[test]
    fn https_jwks_urls_need_the_tls_feature() {
        let https = JwtKeys::jwks_url("https://idp.example.com/jwks");
        if bisslog_runtime::tls::HTTPS_ENABLED {
            assert!(https.is_ok());
        } else {
            let error = https.unwrap_err();
            assert!(
                matches!(
                    error,
                    JwtError::Tls(bisslog_runtime::tls::TlsError::HttpsNotEnabled { .. })
                ),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.contains("`tls` feature"), "{message}");
            assert!(message.contains("JWKS URL"), "{message}");
        }
    }
}
