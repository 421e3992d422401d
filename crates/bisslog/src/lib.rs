//! Microservices in Rust with hexagonal architecture, the bisslog way.
//!
//! A service's business logic is a set of [use cases](UseCase) in plain
//! Rust that reach the outside only through ports (traits). One metadata
//! file declares the use cases, how each is triggered (HTTP, WebSocket,
//! message consumer, schedule), the external interactions each one uses,
//! and how critical it is. This crate binds the use cases to real entry
//! points and adapters from that file, with transaction ids, error mapping
//! and logs built in.
//!
//! | feature | default | module | what it adds |
//! |---|---|---|---|
//! | `app` | yes | [`app`](mod@app) | the service runner: `bisslog::app!().run(compose)` is a binary's whole `main` (configuration, resources, every trigger served, ordered shutdown, the standard commands); enables `http` |
//! | `macros` | yes | [`service!`], [`keynames!`] | a service's registrations and keyname constants checked against its metadata file at compile time: a misspelt keyname, an unregistered use case or an interaction without an adapter is a compile error naming the metadata line |
//! | `http` | yes | [`http`] | axum HTTP and WebSocket entry points built from the metadata |
//! | `jwt` | no | `http::jwt` | a built-in authenticator for JWT bearer tokens (`JwtAuthenticator`): keys from a JWKS file or URL, or an HS256 secret; RS256, ES256, EdDSA, HS256; `exp`, `nbf`, `iss`, `aud`; claims as context attributes; enables `http` |
//! | `http-client` | no | `http_client` | calls to other services over HTTP (`ServiceClient`): the call's transaction id and trace context sent on, failure answers and problem documents as error kinds |
//! | `tls` | no | `tls` | HTTPS for every outgoing call of the framework (JWKS URLs, `ServiceClient`, OTLP/HTTP): rustls with the *ring* provider, the system's trust store plus the PEM bundle `BISSLOG_CA_FILE` names; without it an `https://` URL is refused when the client is configured |
//! | `sql` | no | `sql` | SQLite / PostgreSQL pools from a URL, embedded migrations, error kinds, the unit of work, the transactional outbox and its relay, the inbox, `SqlBroker` (a durable broker in the database) |
//! | `nats` | no | `nats` | NATS JetStream: consumer triggers on durable pull consumers, a publisher with acknowledgements |
//! | `amqp` | no | `amqp` | RabbitMQ: consumer triggers on durable queues, a publisher with confirms |
//! | `redis` | no | `redis` | Redis Streams: consumer triggers on consumer groups (every service gets every message, its instances share them), a publisher with `XADD` |
//! | `kafka` | no | `kafka` | Kafka through librdkafka: a topic per queue, a consumer group per consumer, offsets committed after the effect (builds librdkafka from C sources) |
//! | `lambda` | no | `lambda` | AWS Lambda: one function for every trigger kind (API Gateway, ALB, SQS with partial batch failures, SNS, EventBridge, schedules) |
//! | `testing` | no | `testkit` | for a service's tests (in `[dev-dependencies]`): `testkit::TestService` drives every trigger in process (HTTP, queue messages, schedule ticks, WebSockets), in-memory fakes of the ports, the domain dependency check, the broker conformance suite, and with `sql` the throwaway databases of `sql::testing` |
//!
//! Without any feature, [`messaging`] serves consumer triggers from the
//! in-process broker (in memory; with `sql`, `sql::SqlBroker` is the
//! durable embedded one); [`schedule`] serves schedule
//! triggers in process; [`command`] runs one use case from the command
//! line.
//!
//! Units of work (`sql::Database` is one) are [`messaging::UnitOfWork`]s.
//!
//! The domain of a service should depend on [`bisslog_core`] alone (it is
//! re-exported here as [`core`]); the composition root uses this crate.
//!
//! What adapters need comes through here too, so a service names one
//! framework crate: [`tracing`] for logs (an event with a `checkpoint_id`
//! field is a bisslog checkpoint: `tracing::info!(checkpoint_id =
//! "data-stored", "…")`, as [`Ctx::checkpoint`] writes it), and with the
//! `sql` feature `bisslog::sql::sqlx` and `bisslog::sql::on_engine!`; with
//! `http`, `bisslog::http::WebSocketRegistry` (the
//! [`WebSocketConnections`] port to register as an adapter for use cases
//! that push to clients).
//!
//! # Example
//!
//! ```no_run
//! use bisslog::{BuildError, Ctx, Error, Resources, Service, UseCase};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Input { a: i64, b: i64, c: i64 }
//! #[derive(Serialize, schemars::JsonSchema)]
//! struct Sum { result: i64 }
//!
//! struct AddNumbers;
//! impl UseCase for AddNumbers {
//!     type Input = Input;
//!     type Output = Sum;
//!     type Error = Error;
//!     async fn run(&self, ctx: &Ctx, input: Input) -> Result<Sum, Error> {
//!         ctx.checkpoint("added", "numbers added");
//!         Ok(Sum { result: input.a + input.b + input.c })
//!     }
//! }
//!
//! // The composition: use cases and adapters bound to the metadata, from
//! // the resources the runner made (database, broker, settings).
//! async fn compose(resources: Resources) -> Result<Service, BuildError> {
//!     Service::builder(resources.metadata()).use_case("add_numbers", AddNumbers).build()
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     // Serves on PORT until SIGTERM; `--help` lists the commands (call,
//!     // config, check, openapi, ...). In a crate with a `metadata.yml`,
//!     // `bisslog::app!()` embeds it.
//!     bisslog::App::new("metadata.yml", METADATA).run(compose).await
//! }
//!
//! const METADATA: &str = "
//! name: adder
//! use_cases:
//!   add_numbers:
//!     triggers:
//!       - type: http
//!         options: {method: post, path: '/add/{c}'}
//! ";
//! ```
//!
//! Without the runner, `Service::builder` and `bisslog::http::HttpServer`
//! (and `messaging::Consumers`, `schedule::Schedules`) are the parts it
//! assembles.

pub use bisslog_core as core;
pub use bisslog_core::{
    Adapter, BoxError, BoxFuture, Completion, Ctx, Error, ErrorKind, Event, NoInput, Publisher,
    TraceContext, TransactionId, Trigger, UnitOfWorkId, UseCase, UseCaseError,
    WebSocketConnections,
};
pub use bisslog_runtime::{
    BuildError, BuildProblem, Failure, MemoryInbox, Reply, Service, ServiceBuilder, UseCaseHandle,
    command, logging, mapper, problem,
};

/// Messaging: the contract of brokers, messages, units of work and the
/// current context (`bisslog-messaging`, what broker and store adapters
/// implement), and the runner that serves consumer triggers from a broker
/// (`bisslog-runtime`), in one place.
pub mod messaging {
    pub use bisslog_messaging::*;
    pub use bisslog_runtime::messaging::*;
}

/// Schedule triggers: the scheduler (`bisslog-runtime`) and the tick store
/// contract it claims ticks in (`bisslog-messaging`).
pub mod schedule {
    pub use bisslog_messaging::{Claim, RunLease, TickStore};
    pub use bisslog_runtime::schedule::*;
}
/// Prometheus metrics: each service's registry, served at `/metrics`
/// (`bisslog-runtime`; see `docs/observability.md`).
pub mod metrics {
    pub use bisslog_runtime::metrics::*;
}
/// Distributed traces: W3C trace context carried by every call, request
/// and message, spans per call and entry point, OTLP export with the
/// `otlp` feature (`bisslog-runtime`; see `docs/observability.md`).
pub mod trace {
    pub use bisslog_runtime::trace::*;
}
/// Resilience policies around adapters' calls to external systems:
/// timeouts, retries with backoff, circuit breakers, bulkheads, and the
/// use cases seen calling each interaction (`bisslog-runtime`; see
/// `docs/resilience.md`).
pub mod resilience {
    pub use bisslog_runtime::resilience::*;
}
pub use bisslog_schema as schema;
pub use tracing;

#[cfg(feature = "amqp")]
pub use bisslog_amqp as amqp;
#[cfg(feature = "app")]
pub use bisslog_app as app;
/// `bisslog::app!()`: the [`App`] of the crate's embedded `metadata.yml`.
#[cfg(feature = "app")]
pub use bisslog_app::app;
#[cfg(feature = "app")]
pub use bisslog_app::{App, Composition, Resources};
#[cfg(feature = "http")]
pub use bisslog_http as http;
#[cfg(feature = "http-client")]
pub use bisslog_http_client as http_client;
#[cfg(feature = "kafka")]
pub use bisslog_kafka as kafka;
#[cfg(feature = "lambda")]
pub use bisslog_lambda as lambda;
#[cfg(feature = "macros")]
pub use bisslog_macros::{keynames, service};
#[cfg(feature = "nats")]
pub use bisslog_nats as nats;
#[cfg(feature = "redis")]
pub use bisslog_redis as redis;
/// HTTPS for the framework's outgoing calls (the `tls` feature): the
/// shared client builder, `CaBundle` and `BISSLOG_CA_FILE`.
#[cfg(feature = "tls")]
pub use bisslog_runtime::tls;
#[cfg(feature = "sql")]
pub use bisslog_sql as sql;
#[cfg(feature = "testing")]
pub use bisslog_testkit as testkit;
