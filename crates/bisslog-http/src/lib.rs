//! HTTP and WebSocket entry points for bisslog services, on axum.
//!
//! **Where it fits:** A service uses it through the facade, as
//! `bisslog::http` (feature `http`, on by default).
//!
//! Every HTTP trigger of a service's metadata becomes a route: its method
//! and path, its mapper, and its options (`timeout` → 504, `rate_limit` →
//! 429, `cacheable` → cache headers and ETags on GET, `allow_cors` and
//! `allowed_origins`, `authenticator`, `content_type`). WebSocket triggers
//! share one endpoint (`/ws`), routed by route key. Failures are RFC 9457
//! `application/problem+json` documents carrying the transaction id, which
//! arrives in `x-transaction-id` when the caller sends one and is always
//! echoed back.
//!
//! The server protects itself: a body limit (413, chunked bodies too), a
//! header-read timeout, a request timeout, a panic in a use case answered
//! with 500 while the server keeps serving, graceful shutdown on SIGTERM
//! that lets requests in flight finish, and `/health/live` and
//! `/health/ready` (which asks every bound adapter).
//!
//! With [`HttpServerBuilder::openapi`] the server also serves its OpenAPI
//! document at `/openapi.json` and a self-contained HTML rendering of it at
//! `/docs` (no CDN, no script): the document `bisslog openapi` writes from
//! the metadata, typed by the use cases the service registered (their
//! input and output schemas, success status and error statuses; see
//! [`ApiDocs`]). Requests hyper refuses before routing (invalid bytes in
//! the path, a URI or headers too large) are answered with problem
//! documents too.
//!
//! With the `jwt` feature (off by default), `bisslog_http::jwt` holds a
//! built-in authenticator for JWT bearer tokens (see `docs/security.md`).
//! [`api_key::ApiKeys`] is a built-in authenticator for hashed API keys;
//! [`HttpServerBuilder::authenticate_all_with`] guards every route that
//! names no authenticator of its own.
//!
//! ```no_run
//! use bisslog_core::{Ctx, Error, UseCase};
//! use bisslog_http::HttpServer;
//! use bisslog_runtime::Service;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Input { a: i64, b: i64, c: i64 }
//! #[derive(Serialize, schemars::JsonSchema)]
//! struct Sum { result: i64 }
//!
//! struct Add;
//! impl UseCase for Add {
//!     type Input = Input;
//!     type Output = Sum;
//!     type Error = Error;
//!     async fn run(&self, _: &Ctx, i: Input) -> Result<Sum, Error> {
//!         Ok(Sum { result: i.a + i.b + i.c })
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     bisslog_runtime::logging::init();
//!     let metadata = bisslog_schema::load(Some("metadata.yml".as_ref()))?;
//!     let service = Service::builder(metadata).use_case("add", Add).build()?;
//!     let server = HttpServer::builder(service).build()?;
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     server.serve(listener).await?;
//!     Ok(())
//! }
//! ```

mod api_docs;
pub mod api_key;
mod auth;
mod config;
mod docs_page;
mod error;
mod handler;
mod header_timeout;
mod headers;
#[cfg(feature = "jwt")]
pub mod jwt;
mod problem;
mod rate;
mod rejections;
mod routes;
mod server;
mod sources;
mod trace;
mod websocket;

pub use api_docs::{ApiDocs, DOCS_PATH, OPENAPI_PATH};
pub use auth::{Authenticator, GatewayCaller};
pub use config::HttpConfig;
pub use error::HttpError;
pub use problem::{Problem, ProblemResponse, RETRY_AFTER_SECONDS, StatusPolicy};
pub use routes::router_path;
pub use server::{
    HttpServer, HttpServerBuilder, METRICS_PATH, OBSERVED_INTERACTIONS_PATH, shutdown_signal,
};
pub use trace::SpanAttributes;
pub use websocket::{WebSocketRegistry, WebSocketRoutes};

/// The header carrying the transaction id, both ways.
pub const TRANSACTION_HEADER: &str = "x-transaction-id";
