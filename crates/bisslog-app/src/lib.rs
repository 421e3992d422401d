//! The bisslog service runner: a service binary's whole `main`.
//!
//! Give it the metadata and a composition function (resources in, services
//! out) and it does the rest, from configuration:
//!
//! - **Resources**: the database (`DATABASE_URL`: `memory`,
//!   `sqlite://file.db`, `postgres://...`), the broker (`BROKER_URL`: unset
//!   for in-process, `sqlite://`, `postgres://`, `nats://`, `amqp://`,
//!   `redis://`, `kafka://`), the queue namespace, and what adapters need from them:
//!   the publisher through the outbox ([`Resources::events`]) and the unit
//!   of work ([`Resources::transactions`]) that must go together.
//! - **Serving** what the metadata declares: HTTP and WebSocket routes,
//!   health endpoints and `/openapi.json`, consumers, schedules, and the
//!   relay of every outbox handed out.
//! - **One shutdown**, on SIGTERM or Ctrl-C, in this order: readiness turns
//!   false (for `SHUTDOWN_DELAY`, still serving), HTTP drains, consumers
//!   finish the messages in flight, schedules finish their ticks, the
//!   relays drain, the databases close; exit 0. A part that fails to start
//!   stops what had started and exits 1 with a message naming it.
//! - **Commands** every service has: `serve` (the default), `call`,
//!   `config`, `check`, `openapi`, `asyncapi`, `metadata`, `outbox stuck`,
//!   `outbox redrive`, `--help`, `--version`.
//! - **Configuration** by `bisslog-config`: defaults < `--config FILE` <
//!   environment (`VAR_FILE` for secrets) < flags; a bad value exits 2.
//!
//! Several services may run in one process ([`Composition::with`]): the
//! embedded mode of a system whose services talk through an in-process or
//! SQLite broker. The same composition builds the AWS Lambda function
//! ([`App::lambda`]).
//!
//! # Example
//!
//! ```no_run
//! use bisslog_app::Resources;
//! use bisslog_core::{Ctx, Error, UseCase};
//! use bisslog_runtime::{BuildError, Service};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Name { name: String }
//!
//! struct Greet;
//! impl UseCase for Greet {
//!     type Input = Name;
//!     type Output = String;
//!     type Error = Error;
//!     async fn run(&self, _: &Ctx, input: Name) -> Result<String, Error> {
//!         Ok(format!("Hello, {}!", input.name))
//!     }
//! }
//!
//! async fn compose(resources: Resources) -> Result<Service, BuildError> {
//!     Service::builder(resources.metadata()).use_case("greet", Greet).build()
//! }
//!
//! const METADATA: &str = "name: hello\nuse_cases:\n  greet:\n    triggers: [{type: http, options: {method: GET, path: '/hello/{name}'}}]\n";
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     // `hello` serves on PORT; `hello --help` lists the commands.
//!     bisslog_app::App::new("metadata.yml", METADATA).run(compose).await
//! }
//! ```

mod app;
mod authn;
mod broker;
mod cli;
mod commands;
mod composition;
mod error;
mod injection;
#[cfg(feature = "otlp")]
mod otlp;
mod resources;
mod serve;
#[cfg(feature = "sql")]
mod sql_metrics;

pub use app::{App, Compose};
pub use authn::{API_KEY_AUTHENTICATOR, JWT_AUTHENTICATOR};
pub use bisslog_config::{ConnectionUrl, NoServiceSettings, Secret, Settings};
pub use broker::Reach;
pub use composition::Composition;
pub use error::{BoxError, StartError};
pub use injection::QUEUE_INJECTION_PATH;
pub use resources::{Events, Resources, Store, Transactions};

/// An [`App`] of the crate's `metadata.yml` (or the file named, relative to
/// the crate's root), embedded in the binary, at the crate's version:
/// `bisslog::app!().run(compose).await`.
#[macro_export]
macro_rules! app {
    () => {
        $crate::app!("metadata.yml")
    };
    ($file:literal) => {
        $crate::App::new(
            $file,
            ::core::include_str!(::core::concat!(
                ::core::env!("CARGO_MANIFEST_DIR"),
                "/",
                $file
            )),
        )
        .version(::core::env!("CARGO_PKG_VERSION"))
    };
}
