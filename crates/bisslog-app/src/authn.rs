//! Authentication the runner configures from its settings: JWT bearer
//! tokens (`JWT_*`, feature `jwt`) and API keys (`API_KEYS_FILE`),
//! registered under the names `jwt` and `api_key` on every service's HTTP
//! server, and made the default of every route that names none.

use std::sync::Arc;

use bisslog_config::Settings;
use bisslog_http::api_key::ApiKeys;
use bisslog_http::{Authenticator, HttpServerBuilder};

/// The name the runner registers the JWT authenticator under.
pub const JWT_AUTHENTICATOR: &str = "jwt";
/// The name the runner registers the API keys under.
pub const API_KEY_AUTHENTICATOR: &str = "api_key";

/// Why the configured authentication cannot be set up: a configuration
/// error (exit 2), naming the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub(crate) struct AuthnError {
    var: &'static str,
    message: String,
}

/// The authenticators the settings configure, none when none is set.
#[derive(Clone, Default)]
pub(crate) struct Authentication {
    jwt: Option<Arc<dyn Authenticator>>,
    api_keys: Option<Arc<ApiKeys>>,
}

impl Authentication {
    /// Builds what the settings ask for; reads the JWKS and keys files.
    pub(crate) fn from_settings(settings: &Settings) -> Result<Self, AuthnError> {
        let api_keys = match &settings.api_keys_file {
            None => None,
            Some(path) => Some(Arc::new(ApiKeys::from_file(path).map_err(|error| {
                AuthnError {
                    var: "API_KEYS_FILE",
                    message: error.to_string(),
                }
            })?)),
        };
        Ok(Self {
            jwt: jwt(settings)?,
            api_keys,
        })
    }

    /// Registers the authenticators on `builder`, and makes JWT (or the
    /// API keys, when they are all there is) the default of every route
    /// that names no authenticator.
    pub(crate) fn apply(&self, mut builder: HttpServerBuilder) -> HttpServerBuilder {
        if let Some(keys) = &self.api_keys {
            builder = builder.authenticator(API_KEY_AUTHENTICATOR, Arc::clone(keys));
        }
        if let Some(jwt) = &self.jwt {
            builder = builder
                .authenticator(JWT_AUTHENTICATOR, Arc::clone(jwt))
                .authenticate_all_with(JWT_AUTHENTICATOR);
        } else if self.api_keys.is_some() {
            builder = builder.authenticate_all_with(API_KEY_AUTHENTICATOR);
        }
        builder
    }

    /// What the start-up log says of it.
    pub(crate) fn describe(&self) -> Option<&'static str> {
        match (self.jwt.is_some(), self.api_keys.is_some()) {
            (true, true) => {
                Some("JWT bearer tokens on every route (API keys where a route names `api_key`)")
            }
            (true, false) => Some("JWT bearer tokens on every route"),
            (false, true) => Some("API keys on every route"),
            (false, false) => None,
        }
    }
}

#[cfg(feature = "jwt")]
fn jwt(settings: &Settings) -> Result<Option<Arc<dyn Authenticator>>, AuthnError> {
    use bisslog_http::jwt::{JwtAuthenticator, JwtKeys};
    let (var, keys) = if let Some(path) = &settings.jwt_jwks_file {
        ("JWT_JWKS_FILE", JwtKeys::from_jwks_file(path))
    } else if let Some(url) = &settings.jwt_jwks_url {
        ("JWT_JWKS_URL", JwtKeys::jwks_url(url))
    } else if let Some(secret) = &settings.jwt_hmac_secret {
        ("JWT_HMAC_SECRET", JwtKeys::hmac_secret(secret.expose()))
    } else {
        return Ok(None);
    };
    let fail = |error: bisslog_http::jwt::JwtError| AuthnError {
        var,
        message: error.to_string(),
    };
    let mut builder = JwtAuthenticator::builder(keys.map_err(fail)?);
    if let Some(issuer) = &settings.jwt_issuer {
        builder = builder.issuer(issuer);
    }
    for audience in &settings.jwt_audience {
        builder = builder.audience(audience);
    }
    if let Some(leeway) = settings.jwt_leeway {
        builder = builder.leeway(leeway);
    }
    Ok(Some(Arc::new(builder.build().map_err(fail)?)))
}

#[cfg(not(feature = "jwt"))]
fn jwt(settings: &Settings) -> Result<Option<Arc<dyn Authenticator>>, AuthnError> {
    if !settings.jwt_configured() {
        return Ok(None);
    }
    let var = if settings.jwt_jwks_file.is_some() {
        "JWT_JWKS_FILE"
    } else if settings.jwt_jwks_url.is_some() {
        "JWT_JWKS_URL"
    } else {
        "JWT_HMAC_SECRET"
    };
    Err(AuthnError {
        var,
        message: "this service is built without JWT support (the `jwt` feature of bisslog-app, `bisslog/jwt`)".to_owned(),
    })
}
