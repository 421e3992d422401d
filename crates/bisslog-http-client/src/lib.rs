//! Calls from a bisslog service to other services over HTTP.
//!
//! An adapter that implements a port by asking another service holds a
//! [`ServiceClient`] for that service's base URL and returns what it
//! answers as [`bisslog_core::Error`]s, so the use case gets failures of the
//! right kind without translating anything:
//!
//! - every request carries the current call's `x-transaction-id` and, inside
//!   a traced call, its `traceparent` and `tracestate`, so the other
//!   service's logs and spans join the caller's (the call is found through
//!   [`bisslog_messaging::current`]; outside a use case none are sent);
//! - an answer that is not a success becomes an error whose kind follows its
//!   status ([`kind_for_status`]: 404 is `NotFound`, 503 `Unavailable`, 504
//!   `Timeout`, ...); when it is a problem document
//!   (`application/problem+json`, which is how bisslog services answer
//!   failures) its `code` becomes the error's code and its `detail` (or
//!   `title`) the message, otherwise the code is `http-<status>`;
//! - a service that cannot be reached is a `Connection` error (nothing was
//!   sent), one that does not answer in time a `Timeout`, and a success
//!   whose body is not the JSON expected an `InvalidData` error (the
//!   [`codes`] module lists the codes).
//!
//! ```
//! use bisslog_core::{ErrorKind, UseCaseError};
//! use bisslog_http_client::ServiceClient;
//! use serde::Deserialize;
//!
//! /// The part of the registry's schemas the caller reads.
//! #[derive(Deserialize)]
//! struct Schema {
//!     schema_keyname: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use axum::{Json, Router, routing::get};
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let registry_url = format!("http://{}", listener.local_addr()?);
//! # let registry = Router::new()
//! #     .route("/schemas", get(|| async { Json(serde_json::json!([{"schema_keyname": "language"}])) }))
//! #     .route("/schemas/{keyname}", get(|| async {
//! #         (
//! #             axum::http::StatusCode::NOT_FOUND,
//! #             [("content-type", "application/problem+json")],
//! #             r#"{"status": 404, "code": "schema-not-found", "detail": "schema `currency` does not exist"}"#,
//! #         )
//! #     }));
//! # let server = tokio::spawn(async move { axum::serve(listener, registry).await });
//! // One client per service, made once and shared: it keeps its connections.
//! let registry = ServiceClient::new(&registry_url)?;
//!
//! let schemas: Vec<Schema> = registry.get_json("/schemas").await?;
//! assert_eq!(schemas[0].schema_keyname, "language");
//!
//! // The registry's problem document, as an error the use case can return.
//! let Err(missing) = registry.get_json::<Schema>("/schemas/currency").await else {
//!     panic!("the registry has no such schema");
//! };
//! assert_eq!(missing.kind(), ErrorKind::NotFound);
//! assert_eq!(missing.code(), "schema-not-found");
//! assert_eq!(missing.to_string(), "schema `currency` does not exist");
//! # server.abort();
//! # Ok(())
//! # }
//! ```
//!
//! # Credentials
//!
//! [`ServiceClientBuilder::bearer_token`] sends a fixed token,
//! [`ServiceClientBuilder::api_key`] an API key, and
//! [`ServiceClientBuilder::bearer_token_provider`] asks a [`TokenProvider`]
//! before every attempt. For service-to-service calls, [`ClientCredentials`]
//! is that provider for an OAuth 2.0 token endpoint (the client credentials
//! grant): it caches each token until shortly before it expires, fetches
//! one at a time for all concurrent calls, and after a 401 from the other
//! service gets a new token and sends the request once more.
//!
//! ```
//! use bisslog_http_client::{ClientCredentials, ServiceClient};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use axum::{Json, Router, http::HeaderMap, routing::{get, post}};
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let base = format!("http://{}", listener.local_addr()?);
//! # let app = Router::new()
//! #     .route("/oauth/token", post(|| async {
//! #         Json(serde_json::json!({"access_token": "t-1", "token_type": "Bearer", "expires_in": 3600}))
//! #     }))
//! #     .route("/schemas", get(|headers: HeaderMap| async move {
//! #         assert_eq!(headers["authorization"], "Bearer t-1");
//! #         Json(serde_json::json!([]))
//! #     }));
//! # let server = tokio::spawn(async move { axum::serve(listener, app).await });
//! # let (token_url, registry_url) = (format!("{base}/oauth/token"), base.clone());
//! # let secret = "importer-secret".to_owned();
//! // The secret comes from the environment or a mounted file, never the code.
//! let credentials = ClientCredentials::builder(&token_url, "importer", secret)
//!     .audience("company-data-registry")
//!     .build()?;
//! let registry = ServiceClient::builder(&registry_url)
//!     .bearer_token_provider(credentials)
//!     .build()?;
//! let schemas: Vec<serde_json::Value> = registry.get_json("/schemas").await?;
//! assert!(schemas.is_empty());
//! # server.abort();
//! # Ok(())
//! # }
//! ```
//!
//! # HTTPS
//!
//! The client speaks plain HTTP, as services inside one network do.
//! `https://` base URLs (and token endpoints) need the `tls` feature (of
//! this crate, or of `bisslog`): rustls with the *ring* provider, certificates verified
//! against the system's trust store plus the PEM bundle `BISSLOG_CA_FILE`
//! names (or the `ca_bundle` of [`ServiceClientBuilder`] and
//! [`ClientCredentialsBuilder`]). Without it,
//! [`ServiceClientBuilder::build`] (and [`ClientCredentialsBuilder::build`])
//! refuses an `https://` URL ([`ClientError::Tls`]), naming the feature.

mod answer;
mod attempt;
mod client;
pub mod codes;
mod credentials;
mod propagation;
mod response;

pub use answer::kind_for_status;
/// The extra CA certificates an HTTPS client trusts besides the system's
/// ([`ServiceClientBuilder::ca_bundle`]).
pub use bisslog_runtime::tls::CaBundle;
pub use client::{
    ClientError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, ServiceClient,
    ServiceClientBuilder, TokenProvider,
};
pub use credentials::{
    ClientCredentials, ClientCredentialsBuilder, DEFAULT_EXPIRY_SKEW, DEFAULT_TOKEN_LIFETIME,
    DEFAULT_TOKEN_TIMEOUT,
};
pub use propagation::TRANSACTION_HEADER;
/// The HTTP method of [`ServiceClient::send`], and the types of a
/// [`Response`]'s status and headers.
pub use reqwest::{Method, StatusCode, header::HeaderMap};
pub use response::Response;
