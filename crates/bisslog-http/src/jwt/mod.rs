//! JWT bearer tokens (RFC 7519, RFC 6750): a built-in [`Authenticator`].
//!
//! A route whose metadata says `authenticator: <name>` is guarded by the
//! [`JwtAuthenticator`] registered under that name. It reads
//! `Authorization: Bearer <token>`, checks the token's signature with a
//! key from a JWKS (a file or a URL) or an HS256 secret, then its `exp`,
//! `nbf`, and, when configured, `iss` and `aud`.
//!
//! - Algorithms: RS256, ES256 (P-256), EdDSA (Ed25519) and HS256, each key
//!   with the one algorithm its type decides; a token whose header `alg`
//!   is another is refused (algorithm confusion), and so is `alg: none`.
//! - `exp` is required; `nbf` is honoured; both with a clock skew of
//!   [`leeway`](JwtAuthenticatorBuilder::leeway) (30 s by default).
//! - Tokens longer than [`max_token_length`](JwtAuthenticatorBuilder::max_token_length)
//!   (8 KiB by default) are refused before any parsing.
//! - Refusals answer 401 with `WWW-Authenticate: Bearer` and a problem
//!   `code` of `missing-token`, `invalid-token` or `expired-token`, whose
//!   `detail` does not say which check failed; the precise reason is
//!   logged with the transaction id (never the token).
//!
//! Every top-level claim of an accepted token becomes a context attribute
//! under its own name, as its JSON value: `sub`, `iss`, `aud`, `scope` or
//! `scp`, `roles`, and any other (mappers read `context.sub`, use cases
//! `ctx.attribute("roles")`).
//!
//! ```
//! use bisslog_http::jwt::{JwtAuthenticator, JwtKeys};
//! use jsonwebtoken::{EncodingKey, Header, encode};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"a secret of at least thirty-two bytes";
//! let authenticator = JwtAuthenticator::builder(JwtKeys::hmac_secret(secret)?)
//!     .issuer("https://idp.example.com")
//!     .audience("company-data-registry")
//!     .build()?;
//! // Registered with `HttpServer::builder(service).authenticator("user", authenticator)`.
//!
//! let exp = jsonwebtoken::get_current_timestamp() + 60;
//! let claims = serde_json::json!({
//!     "sub": "ana", "roles": ["schema-manager"], "exp": exp,
//!     "iss": "https://idp.example.com", "aud": "company-data-registry",
//! });
//! let token = encode(&Header::default(), &claims, &EncodingKey::from_secret(secret)?)?;
//!
//! let request = http::Request::get("/schemas")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(())?
//!     .into_parts()
//!     .0;
//! use bisslog_http::Authenticator as _;
//! let attributes = authenticator.authenticate(&request).await?;
//! assert_eq!(attributes["sub"], "ana");
//! assert_eq!(attributes["roles"][0], "schema-manager");
//! # Ok(())
//! # }
//! ```

mod error;
mod keys;
mod remote;

use std::sync::Arc;
use std::time::Duration;

use bisslog_core::{BoxFuture, Error, TransactionId};
use http::HeaderValue;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use serde_json::{Map, Value};

/// The extra CA certificates the JWKS client trusts besides the system's
/// ([`JwtAuthenticatorBuilder::ca_bundle`]).
pub use bisslog_runtime::tls::CaBundle;
pub use error::JwtError;
pub use keys::JwtKeys;

use crate::Authenticator;
use keys::{Key, KeySet, Source};
use remote::RemoteKeys;

/// The problem `code` of a request without a bearer token.
pub const MISSING_TOKEN: &str = "missing-token";
/// The problem `code` of a token that is not accepted (malformed, badly
/// signed, unknown key, not yet valid, wrong issuer or audience...).
pub const INVALID_TOKEN: &str = "invalid-token";
/// The problem `code` of a token past its `exp` (and the leeway).
pub const EXPIRED_TOKEN: &str = "expired-token";

/// Checks JWT bearer tokens; see [the module](self).
pub struct JwtAuthenticator {
    keys: Keys,
    issuer: Option<Vec<String>>,
    audience: Option<Vec<String>>,
    leeway: Duration,
    max_token_length: usize,
}

enum Keys {
    Fixed(Arc<KeySet>),
    // Boxed: the cache, the gate and the client are much larger than an
    // `Arc`.
    Remote(Box<RemoteKeys>),
}

impl JwtAuthenticator {
    /// A builder checking tokens with `keys`.
    pub fn builder(keys: JwtKeys) -> JwtAuthenticatorBuilder {
        JwtAuthenticatorBuilder {
            keys,
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(30),
            max_token_length: 8 * 1024,
            min_refresh_interval: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(5),
            ca: None,
        }
    }

    /// The token's claims, or why it is refused.
    async fn check(&self, request: &http::request::Parts) -> Result<Map<String, Value>, Refusal> {
        let token = bearer_token(request, self.max_token_length)?;
        let header = decode_header(token).map_err(|e| Refusal::invalid("header", e))?;
        let key = match &self.keys {
            Keys::Fixed(set) => set.find(header.kid.as_deref()),
            Keys::Remote(remote) => remote.find(header.kid.as_deref()).await,
        }
        .ok_or_else(|| Refusal::Invalid(format!("no key for kid {:?}", header.kid)))?;
        if header.alg != key.algorithm {
            return Err(Refusal::Invalid(format!(
                "alg {:?} is not the algorithm of key {:?} ({:?})",
                header.alg, key.kid, key.algorithm
            )));
        }
        let validation = self.validation(&key);
        match decode::<Map<String, Value>>(token, &key.decoding, &validation) {
            Ok(data) => Ok(data.claims),
            Err(error) if *error.kind() == JwtErrorKind::ExpiredSignature => Err(Refusal::Expired),
            Err(error) => Err(Refusal::invalid("claims or signature", error)),
        }
    }

    fn validation(&self, key: &Key) -> Validation {
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(issuer);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(audience);
                required.push("aud");
            }
            // Without a configured audience, a token's `aud` is the
            // service's to read, not a reason to refuse it.
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("max_token_length", &self.max_token_length)
            .finish_non_exhaustive()
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<Map<String, Value>, Error>> {
        Box::pin(async move {
            self.check(request).await.map_err(|refusal| {
                let transaction_id = request
                    .extensions
                    .get::<TransactionId>()
                    .map(ToString::to_string);
                let transaction_id = transaction_id.as_deref().unwrap_or("-");
                match &refusal {
                    Refusal::Missing(reason) => {
                        tracing::debug!(transaction_id, reason, "bearer token missing");
                    }
                    Refusal::Invalid(reason) => {
                        tracing::info!(transaction_id, reason, "bearer token refused");
                    }
                    Refusal::Expired => {
                        tracing::info!(transaction_id, "bearer token expired");
                    }
                }
                refusal.into_error()
            })
        })
    }

    fn challenge(&self, refusal: &Error) -> Option<HeaderValue> {
        use bisslog_core::UseCaseError as _;
        // RFC 6750 §3.1: no error code when the request had no token.
        Some(if refusal.code() == MISSING_TOKEN {
            HeaderValue::from_static("Bearer")
        } else {
            HeaderValue::from_static("Bearer error=\"invalid_token\"")
        })
    }

    fn security_scheme(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "a JWT in `Authorization: Bearer <token>`; its `roles` claim and its `scope` or `scp` claim say what the caller may do",
        }))
    }
}

/// Settings of a [`JwtAuthenticator`].
#[derive(Debug)]
#[must_use]
pub struct JwtAuthenticatorBuilder {
    keys: JwtKeys,
    issuer: Option<Vec<String>>,
    audience: Option<Vec<String>>,
    leeway: Duration,
    max_token_length: usize,
    min_refresh_interval: Duration,
    fetch_timeout: Duration,
    ca: Option<CaBundle>,
}

impl JwtAuthenticatorBuilder {
    /// Accepts only tokens whose `iss` is `issuer` (call again to accept
    /// several); by default `iss` is not checked.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer.get_or_insert_with(Vec::new).push(issuer.into());
        self
    }

    /// Accepts only tokens whose `aud` is or contains `audience` (call
    /// again to accept several); by default `aud` is not checked.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience
            .get_or_insert_with(Vec::new)
            .push(audience.into());
        self
    }

    /// The clock skew tolerated on `exp` and `nbf`, in whole seconds
    /// (30 s by default).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest token accepted, in bytes (8 KiB by default); longer
    /// ones are refused before any parsing.
    pub fn max_token_length(mut self, bytes: usize) -> Self {
        self.max_token_length = bytes;
        self
    }

    /// With a JWKS URL: the least time between two fetches of the key set
    /// after a successful one (60 s by default). A token naming an unknown
    /// `kid` within it is refused without a fetch. After a failed fetch the
    /// next may come sooner: 1 s later, then 2 s, 4 s... doubling up to
    /// this interval, so that a JWKS server down at the first token does
    /// not lock new keys out for the whole interval.
    pub fn min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// With a JWKS URL: how long a fetch may take (5 s by default); a fetch
    /// that takes longer fails and the cached keys stay.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// With an `https` JWKS URL (the `tls` feature): the extra CA
    /// certificates trusted besides the system's. By default, those of the
    /// PEM file `BISSLOG_CA_FILE` names, if set.
    pub fn ca_bundle(mut self, ca: CaBundle) -> Self {
        self.ca = Some(ca);
        self
    }

    /// The authenticator.
    ///
    /// # Errors
    ///
    /// With a JWKS URL: the CA bundle of `BISSLOG_CA_FILE` can not be read,
    /// or the HTTP client can not be set up.
    pub fn build(self) -> Result<JwtAuthenticator, JwtError> {
        let keys = match self.keys.0 {
            Source::Fixed(set) => Keys::Fixed(set),
            Source::Url(url) => {
                let ca = match self.ca {
                    Some(ca) => ca,
                    None => CaBundle::from_env()?,
                };
                Keys::Remote(Box::new(RemoteKeys::new(
                    url,
                    &ca,
                    self.fetch_timeout,
                    self.min_refresh_interval,
                )?))
            }
        };
        Ok(JwtAuthenticator {
            keys,
            issuer: self.issuer,
            audience: self.audience,
            leeway: self.leeway,
            max_token_length: self.max_token_length,
        })
    }
}

/// Why a token was refused. The reason is for the log only.
#[derive(Debug)]
enum Refusal {
    Missing(&'static str),
    Invalid(String),
    Expired,
}

impl Refusal {
    fn invalid(part: &str, error: jsonwebtoken::errors::Error) -> Self {
        Self::Invalid(format!("{part}: {error}"))
    }

    /// The error the caller is answered with: the same detail for every
    /// invalid token, whatever check failed.
    fn into_error(self) -> Error {
        match self {
            Self::Missing(_) => Error::unauthenticated(
                MISSING_TOKEN,
                "this route requires a bearer token in the Authorization header",
            ),
            Self::Invalid(_) => {
                Error::unauthenticated(INVALID_TOKEN, "the bearer token is not valid")
            }
            Self::Expired => Error::unauthenticated(EXPIRED_TOKEN, "the bearer token has expired"),
        }
    }
}

/// The token of `Authorization: Bearer <token>`, checked for its length
/// and its characters (base64url in three parts) before any parsing.
fn bearer_token(request: &http::request::Parts, max_length: usize) -> Result<&str, Refusal> {
    let mut values = request.headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values
        .next()
        .ok_or(Refusal::Missing("no Authorization header"))?;
    if values.next().is_some() {
        return Err(Refusal::Invalid("several Authorization headers".into()));
    }
    // `Bearer ` and the token: anything longer is refused unread.
    if value.len() > max_length.saturating_add(7) {
        return Err(Refusal::Invalid(format!(
            "the Authorization header is {} bytes long",
            value.len()
        )));
    }
    let value = value
        .to_str()
        .map_err(|_| Refusal::Invalid("the Authorization header is not ASCII".into()))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::Missing("the Authorization scheme is not Bearer"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(Refusal::Missing("an empty bearer token"));
    }
    if token.len() > max_length {
        return Err(Refusal::Invalid(format!(
            "the token is {} bytes long",
            token.len()
        )));
    }
    let well_formed = token.split('.').count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !well_formed {
        return Err(Refusal::Invalid(
            "the token is not three base64url parts".into(),
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(authorization: &[&str]) -> http::request::Parts {
        let mut request = http::Request::get("/");
        for value in authorization {
            request = request.header("authorization", *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn bearer_tokens_are_read_and_checked_before_parsing() {
        let ok = parts(&["Bearer a.b.c"]);
        assert_eq!(bearer_token(&ok, 10).unwrap(), "a.b.c");
        let lower = parts(&["bearer a.b.c"]);
        assert_eq!(bearer_token(&lower, 10).unwrap(), "a.b.c");
        for (headers, missing) in [
            (&[][..], true),
            (&["Basic dXNlcjpwYXNz"][..], true),
            (&["Bearer"][..], true),
            (&["Bearer "][..], true),
            (&["Bearer a.b"][..], false),
            (&["Bearer a.b.c.d"][..], false),
            (&["Bearer a.b.c="][..], false),
            (&["Bearer a.b.c", "Bearer a.b.c"][..], false),
            (&["Bearer abcde.fghij.klmno"][..], false),
        ] {
            let refusal = bearer_token(&parts(headers), 16).unwrap_err();
            assert_eq!(
                matches!(refusal, Refusal::Missing(_)),
                missing,
                "{headers:?}: {refusal:?}"
            );
        }
    }
}
