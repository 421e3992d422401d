//! The client of one service: its base URL, its connections, the calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bisslog_core::{BoxFuture, Error, ErrorKind};
use bisslog_runtime::resilience::{AttemptError, Interaction};
use bytes::Bytes;
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::attempt::{self, Request};
use crate::codes;
use crate::response::Response;

/// How long connecting to the other service may take unless the builder
/// says otherwise: services in one network connect in milliseconds, and an
/// address that does not answer should fail the call long before the
/// operating system gives up (minutes).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest answer body read unless the builder says otherwise (16 MiB):
/// another service's answer is outside input.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What the client accepts unless told otherwise: JSON, and problem
/// documents for failures.
const DEFAULT_ACCEPT: &str = "application/json, application/problem+json";

/// Why a [`ServiceClient`] could not be made: its configuration is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL is not an absolute `http://` or `https://` URL without
    /// credentials, query or fragment.
    #[error("`{url}` is not a service's base URL: {reason}")]
    InvalidBaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A default header's name or value is not valid in HTTP.
    #[error("the default header `{name}` is not a valid HTTP header name and value")]
    InvalidHeader {
        /// The header's name, as given.
        name: String,
    },
    /// The user agent is not a valid header value.
    #[error("the user agent `{0}` is not a valid HTTP header value")]
    InvalidUserAgent(String),
    /// The underlying HTTP client could not be set up.
    #[error("the HTTP client could not be set up")]
    Build(#[source] reqwest::Error),
    /// The token endpoint of [`ClientCredentials`](crate::ClientCredentials)
    /// is not an absolute `http://` or `https://` URL without credentials
    /// or fragment.
    #[error("`{url}` is not an OAuth token endpoint's URL: {reason}")]
    InvalidTokenUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The client id or secret of
    /// [`ClientCredentials`](crate::ClientCredentials) cannot be used (the
    /// reason never quotes the secret).
    #[error("the OAuth client credentials cannot be used: {reason}")]
    InvalidCredentials {
        /// What is wrong with them.
        reason: String,
    },
    /// An `https://` base URL without the `tls` feature, or a CA bundle
    /// (`BISSLOG_CA_FILE`) that can not be used.
    #[error(transparent)]
    Tls(#[from] bisslog_runtime::tls::TlsError),
}

/// A client of another service at one base URL: cheap to clone, keeping
/// its connections, so one is made per service and shared by the adapters
/// that call it.
///
/// Every call sends the current use case's transaction id and trace
/// context, and returns the other service's failures as
/// [`bisslog_core::Error`]s of the matching kind (see the
/// [crate documentation](crate)).
///
/// ```
/// use std::time::Duration;
/// use bisslog_http_client::ServiceClient;
///
/// let registry = ServiceClient::builder("http://registry:8080")
///     .timeout(Duration::from_secs(10))
///     .default_header("x-api-key", "k-123")
///     .build()?;
/// assert_eq!(registry.base_url(), "http://registry:8080");
/// # Ok::<(), bisslog_http_client::ClientError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServiceClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// Without a trailing `/`: paths start with one.
    base: String,
    max_body: usize,
    /// The guard every request goes through, when given.
    interaction: Option<Interaction>,
    /// Where each attempt's bearer token comes from, when it expires.
    tokens: Option<Arc<dyn TokenProvider>>,
}

/// Gives the bearer token of each attempt: for tokens that expire (an
/// OAuth2 client-credentials grant, a token file a sidecar renews). It
/// caches what it can; it is asked before every attempt.
pub trait TokenProvider: Send + Sync + 'static {
    /// The token to send now, without `Bearer `; an error fails the
    /// attempt before anything is sent.
    fn token(&self) -> BoxFuture<'_, Result<String, Error>>;

    /// The other service answered 401 to a request with `token`: whether
    /// the provider will give another one (it forgets `token`), in which
    /// case the client sends the request once more, at most once per
    /// call. By default `false`: the 401 is the call's error.
    fn reject(&self, token: &str) -> bool {
        let _ = token;
        false
    }
}

impl std::fmt::Debug for dyn TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenProvider")
    }
}

impl ServiceClient {
    /// A client of the service at `base_url` (`http://registry:8080`, or
    /// with a path prefix `http://gateway/registry`), with the defaults of
    /// [`ServiceClient::builder`].
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Self::builder(base_url).build()
    }

    /// A builder, to set timeouts, default headers or the user agent.
    pub fn builder(base_url: impl Into<String>) -> ServiceClientBuilder {
        ServiceClientBuilder {
            base_url: base_url.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: None,
            user_agent: concat!("bisslog/", env!("CARGO_PKG_VERSION")).to_owned(),
            headers: Vec::new(),
            max_body: DEFAULT_MAX_BODY_BYTES,
            interaction: None,
            tokens: None,
            ca: None,
        }
    }

    /// The base URL requests' paths are appended to, without a trailing
    /// `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// `GET path`, the answer's JSON body read into `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.execute(Request::new(Method::GET, path, None))
            .await?
            .json()
    }

    /// `POST path` with `body` as JSON, the answer's JSON body read into
    /// `T` (`()` when it has none).
    pub async fn post_json<B, T>(&self, path: &str, body: &B) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let body = encode(&Method::POST, path, body)?;
        self.execute(Request::new(Method::POST, path, Some(body)))
            .await?
            .json()
    }

    /// `PUT path` with `body` as JSON, the answer's JSON body read into `T`
    /// (`()` when it has none).
    pub async fn put_json<B, T>(&self, path: &str, body: &B) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let body = encode(&Method::PUT, path, body)?;
        self.execute(Request::new(Method::PUT, path, Some(body)))
            .await?
            .json()
    }

    /// `DELETE path`; whatever a success answers is ignored.
    pub async fn delete(&self, path: &str) -> Result<(), Error> {
        self.execute(Request::new(Method::DELETE, path, None))
            .await
            .map(drop)
    }

    /// Any request, with an optional JSON body: the success answer as it
    /// came, for a caller that needs its status or headers. An answer that
    /// is not a success is an error, as for the other calls.
    ///
    /// ```no_run
    /// # async fn f(registry: bisslog_http_client::ServiceClient) -> Result<(), bisslog_core::Error> {
    /// use bisslog_http_client::Method;
    ///
    /// let patch = serde_json::json!({"schema_description": "ISO 639 languages"});
    /// let answer = registry.send(Method::PATCH, "/schemas/language", Some(&patch)).await?;
    /// let etag = answer.headers().get("etag");
    /// # Ok(()) }
    /// ```
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, Error> {
        let body = body.map(|b| encode(&method, path, b)).transpose()?;
        self.execute(Request::new(method, path, body)).await
    }

    /// Makes `request`: the one way every call above reaches the other
    /// service. It makes a single attempt; this is where a resilience
    /// policy wraps attempts (retrying a transient failure only when the
    /// request is idempotent or was not sent).
    async fn execute(&self, request: Request) -> Result<Response, Error> {
        // Whether a token was already rejected in this call: a new one is
        // asked for once per call, whatever the attempts.
        let renewed = AtomicBool::new(false);
        match &self.inner.interaction {
            None => self
                .attempt(&request, &renewed)
                .await
                .map_err(|failure| failure.error),
            Some(interaction) => {
                interaction
                    .call(|_| async {
                        self.attempt(&request, &renewed)
                            .await
                            .map_err(|failure| AttemptError {
                                error: failure.error,
                                sent: failure.sent,
                            })
                    })
                    .await
            }
        }
    }

    /// One attempt at `request`: with a token provider, its token sent,
    /// and after a 401 (the token revoked, or expired early) the request
    /// sent again with a new one when the provider has one and `renewed`
    /// says this call has not done so yet. The other service did nothing
    /// with a request it refused as unauthenticated, so sending it again
    /// is safe whatever the method.
    async fn attempt(
        &self,
        request: &Request,
        renewed: &AtomicBool,
    ) -> Result<Response, attempt::AttemptFailure> {
        let url = self.url(&request.path);
        let Some(tokens) = &self.inner.tokens else {
            return attempt::once(&self.inner.http, &url, request, self.inner.max_body).await;
        };
        loop {
            let token = tokens
                .token()
                .await
                .map_err(attempt::AttemptFailure::not_sent)?;
            let authorized = with_token(request, &token)?;
            match attempt::once(&self.inner.http, &url, &authorized, self.inner.max_body).await {
                Err(failure)
                    if failure.unauthorized
                        && !renewed.swap(true, Ordering::Relaxed)
                        && tokens.reject(&token) => {}
                outcome => return outcome,
            }
        }
    }

    /// The base URL followed by `path` (a missing leading `/` added).
    fn url(&self, path: &str) -> String {
        let separator = if path.is_empty() || path.starts_with('/') {
            ""
        } else {
            "/"
        };
        format!("{}{separator}{path}", self.inner.base)
    }
}

/// `request` with `Authorization: Bearer <token>`.
fn with_token(request: &Request, token: &str) -> Result<Request, attempt::AttemptFailure> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        attempt::AttemptFailure::not_sent(Error::new(
            ErrorKind::Internal,
            codes::INVALID_REQUEST,
            "the token provider gave a token that is not a valid header value",
        ))
    })?;
    value.set_sensitive(true);
    let mut request = request.clone();
    request
        .headers
        .insert(reqwest::header::AUTHORIZATION, value);
    Ok(request)
}

/// `body` as JSON; a value that cannot be written as JSON (a map with
/// non-text keys) is a bug of the caller, found before anything is sent.
fn encode<B: Serialize + ?Sized>(method: &Method, path: &str, body: &B) -> Result<Bytes, Error> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            codes::INVALID_REQUEST,
            format!("the body of {method} {path} cannot be written as JSON: {e}"),
        )
        .with_source(e)
    })
}

/// Builds a [`ServiceClient`]; see [`ServiceClient::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ServiceClientBuilder {
    base_url: String,
    connect_timeout: Duration,
    timeout: Option<Duration>,
    user_agent: String,
    headers: Vec<(String, String)>,
    max_body: usize,
    interaction: Option<Interaction>,
    tokens: Option<Arc<dyn TokenProvider>>,
    /// `None`: `BISSLOG_CA_FILE`'s, read when the client is built.
    ca: Option<bisslog_runtime::tls::CaBundle>,
}

impl ServiceClientBuilder {
    /// How long connecting may take ([`DEFAULT_CONNECT_TIMEOUT`] unless
    /// set); past it the call fails as a `Connection` error, nothing sent.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long each request may take in all, from connecting to the last
    /// byte of the answer; past it the call fails as a `Timeout` error.
    /// None unless set: the calling use case's own timeout bounds it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A header sent with every request (an API key, a `Host`); checked
    /// by [`build`](Self::build). Its value is kept out of `Debug` output.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The `user-agent` sent; `bisslog/<version>` unless set.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The largest answer body read, in bytes
    /// ([`DEFAULT_MAX_BODY_BYTES`] unless set); a larger one fails the call
    /// as `Processing` ([`codes::BODY_TOO_LARGE`]).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// Sends every request through `interaction`, the guard of the
    /// external interaction this client serves
    /// (`ServiceBuilder::interaction("company registry data")`): its
    /// timeout per attempt, retries, circuit breaker and bulkhead, as the
    /// metadata declares them, and its record of which use case calls it.
    /// A request that failed before it was sent (connection refused) may
    /// be retried even when the interaction is not idempotent.
    pub fn interaction(mut self, interaction: Interaction) -> Self {
        self.interaction = Some(interaction);
        self
    }

    /// Sends `Authorization: Bearer <token>` on every request: a token
    /// that does not expire while the client lives (a service account's
    /// long-lived token). For tokens that expire, see
    /// [`bearer_token_provider`](Self::bearer_token_provider).
    pub fn bearer_token(self, token: impl AsRef<str>) -> Self {
        let value = format!("Bearer {}", token.as_ref());
        self.default_header("authorization", value)
    }

    /// Asks `provider` for the bearer token of every attempt
    /// ([`ClientCredentials`](crate::ClientCredentials) for an OAuth 2.0
    /// token endpoint); after a 401, when the provider
    /// [rejects](TokenProvider::reject) the token, the request is sent
    /// once more with a new one.
    pub fn bearer_token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.tokens = Some(Arc::new(provider));
        self
    }

    /// Sends `x-api-key: <key>` on every request (what
    /// `bisslog_http::api_key::ApiKeys` reads).
    pub fn api_key(self, key: impl Into<String>) -> Self {
        self.default_header("x-api-key", key)
    }

    /// With an `https://` base URL (the `tls` feature): the extra CA
    /// certificates trusted besides the system's. By default, those of the
    /// PEM file `BISSLOG_CA_FILE` names, if set.
    pub fn ca_bundle(mut self, ca: bisslog_runtime::tls::CaBundle) -> Self {
        self.ca = Some(ca);
        self
    }

    /// The client; fails when the base URL, a header or the user agent is
    /// not valid, when the base URL is `https://` in a build without the
    /// `tls` feature, or when `BISSLOG_CA_FILE` names a file that is not a
    /// PEM bundle.
    pub fn build(self) -> Result<ServiceClient, ClientError> {
        let base = base_url(&self.base_url)?;
        let ca = match self.ca {
            Some(ca) => ca,
            None => bisslog_runtime::tls::CaBundle::from_env()?,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let invalid = || ClientError::InvalidHeader { name: name.clone() };
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let mut value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            // Default headers are often credentials.
            value.set_sensitive(true);
            headers.append(header, value);
        }
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static(DEFAULT_ACCEPT));
        }
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| ClientError::InvalidUserAgent(self.user_agent.clone()))?;
        let https = base.starts_with("https:");
        let mut http = http_builder(self.connect_timeout, &ca, https)?
            .user_agent(user_agent)
            .default_headers(headers);
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        Ok(ServiceClient {
            inner: Arc::new(Inner {
                http: http.build().map_err(ClientError::Build)?,
                base,
                max_body: self.max_body,
                interaction: self.interaction,
                tokens: self.tokens,
            }),
        })
    }
}

/// The `reqwest` client builder of every client this crate makes (a
/// service's, a token endpoint's): one place for what they share, on the
/// framework's shared builder (HTTPS with the `tls` feature, `ca`'s
/// certificates trusted besides the system's).
pub(crate) fn http_builder(
    connect_timeout: Duration,
    ca: &bisslog_runtime::tls::CaBundle,
    https: bool,
) -> Result<reqwest::ClientBuilder, ClientError> {
    Ok(bisslog_runtime::tls::client_builder(ca, https)?
        // A service's API does not send its callers elsewhere; following
        // a redirect would send the default headers (often credentials)
        // wherever it points. A 3xx is a failure (`Processing`).
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(concat!("bisslog/", env!("CARGO_PKG_VERSION"))))
}

/// `given` checked and written without its trailing `/`.
fn base_url(given: &str) -> Result<String, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidBaseUrl {
        url: given.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(given.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    bisslog_runtime::tls::check_scheme("service base URL", given, url.scheme())?;
    if !url.has_host() {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "credentials go in a default header (`authorization`), not in the URL, which failures quote",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "paths are appended to it, so it cannot have a query or fragment",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_paths_appended() {
        let client = ServiceClient::new("http://127.0.0.1:8080").unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:8080");
        assert_eq!(client.url("/schemas"), "http://127.0.0.1:8080/schemas");
        assert_eq!(client.url("schemas"), "http://127.0.0.1:8080/schemas");
        let prefixed = ServiceClient::new("http://gateway/registry/").unwrap();
        assert_eq!(prefixed.url("/schemas"), "http://gateway/registry/schemas");
        for bad in [
            "registry:8080",
            "ftp://registry",
            "http://registry/?a=1",
            "http://registry/#top",
            "http://user:secret@registry",
            "",
        ] {
            assert!(
                matches!(
                    ServiceClient::new(bad),
                    Err(ClientError::InvalidBaseUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn headers_and_user_agents_are_checked() {
        let bad_name = ServiceClient::builder("http://a")
            .default_header("bad name", "x")
            .build();
        assert!(matches!(bad_name, Err(ClientError::InvalidHeader { name }) if name == "bad name"));
        let bad_value = ServiceClient::builder("http://a")
            .default_header("x-a", "line\nbreak")
            .build();
        assert!(matches!(bad_value, Err(ClientError::InvalidHeader { .. })));
        let bad_agent = ServiceClient::builder("http://a")
            .user_agent("a\u{7f}")
            .build();
        assert!(matches!(bad_agent, Err(ClientError::InvalidUserAgent(_))));
    }

    #[test]
    fn https_base_urls_need_the_tls_feature() {
        let https = ServiceClient::new("https://registry.example.com");
        if bisslog_runtime::tls::HTTPS_ENABLED {
            assert!(https.is_ok());
        } else {
            let error = https.unwrap_err();
            assert!(
                matches!(
                    error,
                    ClientError::Tls(bisslog_runtime::tls::TlsError::HttpsNotEnabled { .. })
                ),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.contains("`tls` feature"), "{message}");
            assert!(message.contains("service base URL"), "{message}");
        }
    }
}
