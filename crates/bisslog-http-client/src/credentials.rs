//! OAuth 2.0 client credentials (RFC 6749 §4.4): the bearer tokens of a
//! service calling another on its own behalf, fetched from an
//! authorization server's token endpoint and cached until they expire.
//!
//! One fetch at a time: callers that find no fresh token wait for the
//! fetch under way and share its token (or its failure) instead of each
//! asking the token endpoint.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use bisslog_core::{BoxFuture, Error, ErrorKind};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use tokio::time::Instant;

use crate::client::{ClientError, DEFAULT_CONNECT_TIMEOUT, TokenProvider, http_builder};
use crate::codes;

/// How long a token is used before its expiry, unless the builder says
/// otherwise: a token about to expire may expire on its way to the other
/// service, and clocks differ.
pub const DEFAULT_EXPIRY_SKEW: Duration = Duration::from_secs(30);

/// The lifetime assumed for a token whose answer has no `expires_in`
/// (the field is only recommended by RFC 6749): 5 minutes, so a token the
/// server revokes without saying when is not kept for long.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// How long a token fetch may take in all unless the builder says
/// otherwise; past it the call fails as a `Timeout` error.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a token is kept, whatever its `expires_in` says: a day
/// (a larger `expires_in` would overflow the clock, and a token that
/// claims to live for years is renewed daily anyway).
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest token endpoint answer read: tokens are a few KiB at most.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The longest part of a token endpoint's `error_description` quoted in
/// an error message: it is outside input.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// Bearer tokens from an OAuth 2.0 token endpoint, by the client
/// credentials grant (RFC 6749 §4.4): give it to
/// [`ServiceClientBuilder::bearer_token_provider`](crate::ServiceClientBuilder::bearer_token_provider).
///
/// - The client authenticates with HTTP Basic (RFC 6749 §2.3.1: its id
///   and secret form-urlencoded, then base64) and asks with the form body
///   `grant_type=client_credentials`, plus `scope` and `audience` when
///   set (`audience` is the extension Auth0 and others use to name the API
///   the token is for).
/// - The token is cached until its `expires_in` minus a skew
///   ([`DEFAULT_EXPIRY_SKEW`], at most half its lifetime, so short-lived
///   tokens are still reused); an answer without `expires_in` counts as
///   [`DEFAULT_TOKEN_LIFETIME`]. A missing `token_type` is taken as
///   `Bearer`; any other type is refused.
/// - One fetch at a time: concurrent calls that need a token wait for the
///   same fetch.
/// - When the called service answers 401, the client drops the cached
///   token and tries the request once more with a new one.
/// - Failures of the token endpoint fail the call before anything is sent
///   to the other service, with these kinds: a refused client
///   (`invalid_client`, or a 401) is `ExternalAuthentication`
///   ([`codes::OAUTH_INVALID_CLIENT`]); `unauthorized_client`,
///   `invalid_scope`, `access_denied` or a 403 `ExternalAuthorization`,
///   another refusal `Configuration` ([`codes::OAUTH_TOKEN_REFUSED`]); a 5xx
///   or 429 is `Unavailable` ([`codes::OAUTH_TOKEN_UNAVAILABLE`]), an
///   endpoint that cannot be reached `Connection` and one that does not
///   answer in time `Timeout`: transient kinds, which the client's
///   [interaction](crate::ServiceClientBuilder::interaction) may retry; an
///   answer without a usable token is `Processing`
///   ([`codes::OAUTH_BAD_TOKEN_RESPONSE`]).
///
/// The secret and the tokens are never in `Debug` output nor in error
/// messages.
///
/// ```no_run
/// use bisslog_http_client::{ClientCredentials, ServiceClient};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The secret from a file the platform mounts, not from the code.
/// let secret = std::fs::read_to_string("/run/secrets/importer-client-secret")?;
/// let credentials = ClientCredentials::builder(
///     "https://auth.example.com/oauth/token",
///     "importer",
///     secret.trim_end(),
/// )
/// .audience("company-data-registry")
/// .build()?;
/// let registry = ServiceClient::builder("http://registry:8080")
///     .bearer_token_provider(credentials)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientCredentials {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    token_url: Url,
    client_id: String,
    /// `Basic base64(urlencode(id):urlencode(secret))`, marked sensitive;
    /// the secret itself is not kept.
    authorization: HeaderValue,
    /// `grant_type=client_credentials&scope=...&audience=...`.
    form: String,
    scope: Option<String>,
    audience: Option<String>,
    skew: Duration,
    /// The cached token and the outcome of the last fetch.
    state: Mutex<State>,
    /// Held by the one fetch under way.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    token: Option<Cached>,
    /// How many fetches have ended: a caller that waited for a fetch
    /// knows by it that one ended meanwhile.
    fetches: u64,
    /// How the last fetch failed, for the callers that waited for it.
    failure: Option<Failure>,
}

struct Cached {
    value: String,
    fresh_until: Instant,
}

/// A fetch's error, kept to give each caller that waited for it its own
/// copy (`bisslog_core::Error` is not `Clone`).
#[derive(Clone)]
struct Failure {
    kind: ErrorKind,
    code: &'static str,
    message: String,
}

impl Failure {
    fn error(&self) -> Error {
        Error::new(self.kind, self.code, self.message.clone())
    }
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.inner.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"***")
            .field("scope", &self.inner.scope)
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// A builder for the client `client_id` with `client_secret` at the
    /// token endpoint `token_url`
    /// (`https://auth.example.com/oauth/token`).
    pub fn builder(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> ClientCredentialsBuilder {
        ClientCredentialsBuilder {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: None,
            audience: None,
            skew: DEFAULT_EXPIRY_SKEW,
            timeout: DEFAULT_TOKEN_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            ca: None,
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        self.inner.token_url.as_str()
    }

    /// The cached token when it is still fresh.
    fn fresh(&self) -> Option<String> {
        let state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state
            .token
            .as_ref()
            .filter(|t| Instant::now() < t.fresh_until)
            .map(|t| t.value.clone())
    }

    /// A fresh token: the cached one, the one of the fetch under way, or
    /// a new one.
    async fn current(&self) -> Result<String, Error> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let seen = self.state().fetches;
        let _fetching = self.inner.fetching.lock().await;
        {
            let state = self.state();
            if let Some(token) = state
                .token
                .as_ref()
                .filter(|t| Instant::now() < t.fresh_until)
            {
                return Ok(token.value.clone());
            }
            // A fetch ended while this caller waited, and failed: its
            // failure is this caller's too (asking again at once would
            // multiply the load on an endpoint in trouble).
            if state.fetches != seen
                && let Some(failure) = &state.failure
            {
                return Err(failure.error());
            }
        }
        let outcome = self.fetch().await;
        let mut state = self.state();
        state.fetches = state.fetches.wrapping_add(1);
        match outcome {
            Ok((value, lifetime)) => {
                state.failure = None;
                state.token = Some(Cached {
                    value: value.clone(),
                    fresh_until: Instant::now() + fresh_for(lifetime, self.inner.skew),
                });
                Ok(value)
            }
            Err(failure) => {
                state.token = None;
                state.failure = Some(failure.clone());
                Err(failure.error())
            }
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after any panic (plain assignments).
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the token endpoint: the token and its lifetime.
    async fn fetch(&self) -> Result<(String, Duration), Failure> {
        let inner = &self.inner;
        let mut answer = inner
            .http
            .post(inner.token_url.clone())
            .header(AUTHORIZATION, inner.authorization.clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .body(inner.form.clone())
            .send()
            .await
            .map_err(|e| self.transport_failure(&e))?;
        let status = answer.status();
        // Outside input: read no more than a token answer needs.
        let mut body = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| self.transport_failure(&e))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(self.bad_answer(&format!(
                    "answered {status} with a body over {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            parse_token(&body).map_err(|why| self.bad_answer(why))
        } else {
            Err(self.refusal(status, &body))
        }
    }

    /// The endpoint could not be asked or did not answer.
    fn transport_failure(&self, error: &reqwest::Error) -> Failure {
        let (kind, code, what) = if error.is_connect() {
            (
                ErrorKind::Connection,
                codes::CONNECT_FAILED,
                "cannot be reached",
            )
        } else if error.is_timeout() {
            (ErrorKind::Timeout, codes::TIMEOUT, "did not answer in time")
        } else {
            (
                ErrorKind::Connection,
                codes::TRANSPORT_FAILED,
                "closed the connection",
            )
        };
        Failure {
            kind,
            code,
            message: format!("the OAuth token endpoint {} {what}", self.token_url()),
        }
    }

    /// A success without a usable token.
    fn bad_answer(&self, why: &str) -> Failure {
        Failure {
            kind: ErrorKind::Processing,
            code: codes::OAUTH_BAD_TOKEN_RESPONSE,
            message: format!("the OAuth token endpoint {} {why}", self.token_url()),
        }
    }

    /// An answer that is not a success, as RFC 6749 §5.2 describes it
    /// (`{"error": "invalid_client", "error_description": "..."}`) or not.
    fn refusal(&self, status: StatusCode, body: &[u8]) -> Failure {
        let document = serde_json::from_slice::<Value>(body).ok();
        let member = |name: &str| {
            document
                .as_ref()
                .and_then(|d| d.get(name))
                .and_then(Value::as_str)
                .map(quotable)
                .filter(|text| !text.is_empty())
        };
        let error = member("error");
        let (kind, code) = match (error.as_deref(), status) {
            (Some("invalid_client"), _) | (None, StatusCode::UNAUTHORIZED) => (
                ErrorKind::ExternalAuthentication,
                codes::OAUTH_INVALID_CLIENT,
            ),
            (_, s) if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
                (ErrorKind::Unavailable, codes::OAUTH_TOKEN_UNAVAILABLE)
            }
            (Some("unauthorized_client" | "invalid_scope" | "access_denied"), _)
            | (None, StatusCode::FORBIDDEN) => {
                (ErrorKind::ExternalAuthorization, codes::OAUTH_TOKEN_REFUSED)
            }
            _ => (ErrorKind::Configuration, codes::OAUTH_TOKEN_REFUSED),
        };
        let said = match (error, member("error_description")) {
            (Some(error), Some(description)) => format!(": {error} ({description})"),
            (Some(error), None) => format!(": {error}"),
            _ => String::new(),
        };
        Failure {
            kind,
            code,
            message: format!(
                "the OAuth token endpoint {} refused the client `{}` with {status}{said}",
                self.token_url(),
                self.inner.client_id
            ),
        }
    }
}

impl TokenProvider for ClientCredentials {
    fn token(&self) -> BoxFuture<'_, Result<String, Error>> {
        Box::pin(self.current())
    }

    fn reject(&self, token: &str) -> bool {
        let mut state = self.state();
        // Only the token refused: when another caller already replaced it,
        // the new one is kept.
        if state.token.as_ref().is_some_and(|t| t.value == token) {
            state.token = None;
        }
        true
    }
}

/// How long a token living `lifetime` is used: `skew` less, but at least
/// half its lifetime.
fn fresh_for(lifetime: Duration, skew: Duration) -> Duration {
    lifetime.saturating_sub(skew).max(lifetime / 2)
}

/// The token and lifetime of a successful answer (RFC 6749 §5.1), or what
/// is wrong with it.
fn parse_token(body: &[u8]) -> Result<(String, Duration), &'static str> {
    let document: Value =
        serde_json::from_slice(body).map_err(|_| "answered a body that is not JSON")?;
    let token = document
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("answered without an access_token")?;
    // It goes into a header: visible ASCII only (RFC 6750's b64token is
    // narrower still).
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("answered an access_token that cannot be sent in a header");
    }
    match document.get("token_type") {
        // Some servers leave it out; a bearer token is what they mean.
        None => {}
        Some(Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err("answered a token_type other than Bearer"),
    }
    let lifetime = match document.get("expires_in") {
        None | Some(Value::Null) => DEFAULT_TOKEN_LIFETIME,
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Duration::from_secs)
            .or_else(|| {
                n.as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(|s| Duration::from_secs_f64(s.min(MAX_TOKEN_LIFETIME.as_secs_f64())))
            })
            .ok_or("answered a negative expires_in")?,
        // Some servers send it as a string of digits.
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| "answered an expires_in that is not a number of seconds")?,
        Some(_) => return Err("answered an expires_in that is not a number of seconds"),
    };
    Ok((token.to_owned(), lifetime.min(MAX_TOKEN_LIFETIME)))
}

/// `text` fit for an error message: control characters dropped, at most
/// [`MAX_DESCRIPTION_CHARS`].
fn quotable(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_DESCRIPTION_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Builds [`ClientCredentials`]; see [`ClientCredentials::builder`].
#[must_use]
pub struct ClientCredentialsBuilder {
    token_url: String,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    audience: Option<String>,
    skew: Duration,
    timeout: Duration,
    connect_timeout: Duration,
    /// `None`: `BISSLOG_CA_FILE`'s, read when the provider is built.
    ca: Option<bisslog_runtime::tls::CaBundle>,
}

impl std::fmt::Debug for ClientCredentialsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentialsBuilder")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scope", &self.scope)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl ClientCredentialsBuilder {
    /// The `scope` asked for (space-separated scopes); none unless set.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The `audience` asked for (the API the token is for, as Auth0 and
    /// other servers name it); none unless set.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// How long before its expiry a token is replaced
    /// ([`DEFAULT_EXPIRY_SKEW`] unless set; at most half its lifetime).
    pub fn expiry_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// How long a token fetch may take in all
    /// ([`DEFAULT_TOKEN_TIMEOUT`] unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long connecting to the token endpoint may take
    /// ([`DEFAULT_CONNECT_TIMEOUT`] unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// With an `https://` token endpoint (the `tls` feature): the extra CA
    /// certificates trusted besides the system's. By default, those of the
    /// PEM file `BISSLOG_CA_FILE` names, if set.
    pub fn ca_bundle(mut self, ca: bisslog_runtime::tls::CaBundle) -> Self {
        self.ca = Some(ca);
        self
    }

    /// The provider; fails when the token URL is not an absolute
    /// `http://` or `https://` URL without credentials or fragment (an
    /// `https://` one needs the `tls` feature), the client id is empty, or
    /// `BISSLOG_CA_FILE` names a file that is not a PEM bundle.
    pub fn build(self) -> Result<ClientCredentials, ClientError> {
        let token_url = token_url(&self.token_url)?;
        if self.client_id.is_empty() {
            return Err(ClientError::InvalidCredentials {
                reason: "the client id is empty".to_owned(),
            });
        }
        // RFC 6749 §2.3.1: both form-urlencoded before they are joined.
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!(
            "{}:{}",
            encode(&self.client_id),
            encode(&self.client_secret)
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(pair);
        let mut authorization = HeaderValue::from_str(&format!("Basic {basic}")).map_err(|_| {
            ClientError::InvalidCredentials {
                reason: "the credentials cannot be sent in a header".to_owned(),
            }
        })?;
        authorization.set_sensitive(true);
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &self.scope {
            form.append_pair("scope", scope);
        }
        if let Some(audience) = &self.audience {
            form.append_pair("audience", audience);
        }
        let ca = match self.ca {
            Some(ca) => ca,
            None => bisslog_runtime::tls::CaBundle::from_env()?,
        };
        let https = token_url.scheme() == "https";
        let http = http_builder(self.connect_timeout, &ca, https)?
            .timeout(self.timeout)
            .build()
            .map_err(ClientError::Build)?;
        Ok(ClientCredentials {
            inner: Arc::new(Inner {
                http,
                token_url,
                client_id: self.client_id,
                authorization,
                form: form.finish(),
                scope: self.scope,
                audience: self.audience,
                skew: self.skew,
                state: Mutex::new(State::default()),
                fetching: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

/// `given` checked: an absolute `http(s)` URL that failures may quote.
fn token_url(given: &str) -> Result<Url, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidTokenUrl {
        url: given.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(given.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    bisslog_runtime::tls::check_scheme("OAuth token endpoint", given, url.scheme())?;
    if !url.has_host() {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the client's credentials are given apart, not in the URL, which failures quote",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("it cannot have a fragment (RFC 6749 §3.2)"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_used_until_their_expiry_less_the_skew_or_half_their_lifetime() {
        let skew = Duration::from_secs(30);
        let secs = Duration::from_secs;
        assert_eq!(fresh_for(secs(3600), skew), secs(3570));
        assert_eq!(fresh_for(secs(40), skew), secs(20));
        assert_eq!(fresh_for(secs(0), skew), secs(0));
        assert_eq!(fresh_for(secs(10), Duration::ZERO), secs(10));
    }

    #[test]
    fn token_answers_are_read_strictly() {
        let ok = |body: &str| parse_token(body.as_bytes());
        assert_eq!(
            ok(r#"{"access_token": "t-1", "token_type": "bearer", "expires_in": 60}"#),
            Ok(("t-1".to_owned(), Duration::from_secs(60)))
        );
        assert_eq!(
            ok(r#"{"access_token": "t-1", "expires_in": "90"}"#),
            Ok(("t-1".to_owned(), Duration::from_secs(90)))
        );
        assert_eq!(
            ok(r#"{"access_token": "t-1", "token_type": "Bearer"}"#),
            Ok(("t-1".to_owned(), DEFAULT_TOKEN_LIFETIME))
        );
        assert_eq!(
            ok(r#"{"access_token": "t-1", "expires_in": 1e30}"#),
            Ok(("t-1".to_owned(), MAX_TOKEN_LIFETIME))
        );
        for bad in [
            "not json",
            r#"{"token_type": "Bearer"}"#,
            r#"{"access_token": ""}"#,
            r#"{"access_token": 7}"#,
            r#"{"access_token": "a b"}"#,
            r#"{"access_token": "t", "token_type": "mac"}"#,
            r#"{"access_token": "t", "token_type": null}"#,
            r#"{"access_token": "t", "expires_in": -5}"#,
            r#"{"access_token": "t", "expires_in": "soon"}"#,
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn https_token_endpoints_need_the_tls_feature() {
        let built = ClientCredentials::builder(
            "https://auth.example.com/oauth/token",
            "importer",
            "s3cret",
        )
        .build();
        if bisslog_runtime::tls::HTTPS_ENABLED {
            assert!(built.is_ok());
        } else {
            let error = built.unwrap_err();
            assert!(
                matches!(
                    error,
                    ClientError::Tls(bisslog_runtime::tls::TlsError::HttpsNotEnabled { .. })
                ),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.contains("OAuth token endpoint"), "{message}");
            assert!(message.contains("`tls` feature"), "{message}");
        }
    }

    #[test]
    fn token_urls_are_checked_and_secrets_stay_out_of_debug() {
        for bad in [
            "auth/token",
            "ftp://auth/token",
            "http://id:secret@auth/token",
            "http://auth/token#x",
        ] {
            let built = ClientCredentials::builder(bad, "importer", "s3cret").build();
            assert!(
                matches!(built, Err(ClientError::InvalidTokenUrl { .. })),
                "{bad}"
            );
        }
        let empty_id = ClientCredentials::builder("http://auth/token", "", "s3cret").build();
        assert!(matches!(
            empty_id,
            Err(ClientError::InvalidCredentials { .. })
        ));
        let builder =
            ClientCredentials::builder("http://auth/token?tenant=a", "importer", "s3cret")
                .scope("registry.read");
        assert!(!format!("{builder:?}").contains("s3cret"));
        let credentials = builder.build().unwrap();
        let debug = format!("{credentials:?}");
        assert!(
            debug.contains("importer") && debug.contains("registry.read"),
            "{debug}"
        );
        assert!(!debug.contains("s3cret"), "{debug}");
        assert_eq!(credentials.token_url(), "http://auth/token?tenant=a");
    }

    #[test]
    fn refusals_map_to_kinds() {
        let credentials = ClientCredentials::builder("http://auth/token", "importer", "s")
            .build()
            .unwrap();
        let cases: [(u16, &str, ErrorKind, &str); 8] = [
            (
                400,
                r#"{"error": "invalid_client"}"#,
                ErrorKind::ExternalAuthentication,
                codes::OAUTH_INVALID_CLIENT,
            ),
            (
                401,
                "",
                ErrorKind::ExternalAuthentication,
                codes::OAUTH_INVALID_CLIENT,
            ),
            (
                400,
                r#"{"error": "invalid_scope"}"#,
                ErrorKind::ExternalAuthorization,
                codes::OAUTH_TOKEN_REFUSED,
            ),
            (
                403,
                "<html>",
                ErrorKind::ExternalAuthorization,
                codes::OAUTH_TOKEN_REFUSED,
            ),
            (
                400,
                r#"{"error": "unsupported_grant_type"}"#,
                ErrorKind::Configuration,
                codes::OAUTH_TOKEN_REFUSED,
            ),
            (
                404,
                "not found",
                ErrorKind::Configuration,
                codes::OAUTH_TOKEN_REFUSED,
            ),
            (
                503,
                "",
                ErrorKind::Unavailable,
                codes::OAUTH_TOKEN_UNAVAILABLE,
            ),
            (
                429,
                r#"{"error": "slow_down"}"#,
                ErrorKind::Unavailable,
                codes::OAUTH_TOKEN_UNAVAILABLE,
            ),
        ];
        for (status, body, kind, code) in cases {
            let failure =
                credentials.refusal(StatusCode::from_u16(status).unwrap(), body.as_bytes());
            assert_eq!(
                (failure.kind, failure.code),
                (kind, code),
                "{status} {body}"
            );
        }
        let failure = credentials.refusal(
            StatusCode::BAD_REQUEST,
            br#"{"error": "invalid_client", "error_description": "unknown\nclient"}"#,
        );
        assert_eq!(
            failure.message,
            "the OAuth token endpoint http://auth/token refused the client `importer` with 400 Bad Request: invalid_client (unknownclient)"
        );
    }
}
