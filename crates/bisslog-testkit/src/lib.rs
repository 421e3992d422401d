//! Testing bisslog services and the adapters under them.
//!
//! **Where it fits:** A service's tests use it through the facade, as
//! `bisslog::testkit` (feature `testing`, in `[dev-dependencies]`).
//!
//! - [`TestService`]: a built service driven through the triggers of its
//!   metadata in process, with no socket, broker or clock: an HTTP request
//!   gets the [`Answer`] a client would (status, headers, output or RFC 9457
//!   problem document), a message on a queue gets its [`Settlement`]
//!   (acknowledged, retried after its delay, dead-lettered with its
//!   reason), a schedule [`Tick`] at an instant runs with the trigger's
//!   event, a WebSocket route key gets its reply frame. Each goes through
//!   the production code (routes, mappers, error mapping, settlement).
//! - In-memory fakes of the ports: [`RecordingPublisher`] (events a use
//!   case published), [`RecordingConnections`] (messages pushed to
//!   WebSocket clients), [`MemoryInbox`] (a unit of work for
//!   `exactly-once` consumers).
//! - [`assert_domain_depends_only_on_core`] and [`DomainCheck`]: a domain
//!   crate reaches `bisslog-core` and none of the infrastructure, checked
//!   with `cargo metadata`.
//! - [`broker_conformance!`]: the suite every broker adapter passes, run
//!   unchanged against the in-process broker, NATS JetStream and RabbitMQ:
//!   acknowledgement on success, retries then dead-letter, permanent and
//!   malformed messages dead-lettered at once with the reason, poison
//!   messages that do not stall the rest, no double settlement, leases
//!   kept by long calls, competing consumers, the inbox, shutdown that
//!   releases what was fetched ahead.
//! - `private_nats` (feature `private-nats`): a nats-server of a test's
//!   own, to stop and restart for outage tests.
//! - Drift: with [`OBSERVED_INTERACTIONS_VAR`]
//!   (`BISSLOG_OBSERVED_INTERACTIONS=<dir>`) set, each [`TestService`]
//!   writes, when dropped, the use cases its service saw calling each
//!   external interaction, for `bisslog drift --observed <dir>`.
//! - [`server_url`]: the URL of a server a test needs, from its variable;
//!   the test is skipped (saying so) without it, and fails under `CI=true`.
//!
//! ```
//! use bisslog_core::{Ctx, Error, ErrorKind, UseCase};
//! use bisslog_runtime::Service;
//! use bisslog_testkit::{Settlement, TestService};
//! use serde::{Deserialize, Serialize};
//! use serde_json::json;
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Name { name: String }
//! #[derive(Serialize, Deserialize, schemars::JsonSchema)]
//! struct Greeting { message: String }
//!
//! struct Greet;
//! impl UseCase for Greet {
//!     type Input = Name;
//!     type Output = Greeting;
//!     type Error = Error;
//!     async fn run(&self, _: &Ctx, input: Name) -> Result<Greeting, Error> {
//!         if input.name.is_empty() {
//!             return Err(Error::new(ErrorKind::Invalid, "empty-name", "a name is needed"));
//!         }
//!         Ok(Greeting { message: format!("Hello, {}!", input.name) })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let metadata = bisslog_schema::validate_str("metadata.yml", r#"
//! name: hello
//! use_cases:
//!   greet:
//!     triggers:
//!       - {type: http, options: {method: get, path: "/hello/{name}"}}
//!       - {type: consumer, options: {queue: greetings}}
//! "#).into_service().map_err(|report| format!("{report:?}"))?;
//! let service = Service::builder(metadata).use_case("greet", Greet).build()?;
//! let kit = TestService::new(service)?;
//!
//! let answer = kit.get("/hello/Ana").await?;
//! assert_eq!(answer.status(), 200);
//! assert_eq!(answer.json::<Greeting>()?.message, "Hello, Ana!");
//!
//! assert_eq!(kit.deliver("greetings", &json!({"name": "Ana"})).await?, Settlement::Acked);
//! let refused = kit.deliver("greetings", &json!({"name": ""})).await?;
//! assert!(matches!(refused, Settlement::DeadLettered { ref reason, .. } if reason.starts_with("empty-name")));
//! # Ok(()) }
//! ```
//!
//! A use case that publishes gets a [`RecordingPublisher`] as its adapter,
//! to read back what it published:
//!
//! ```
//! use bisslog_core::{Event, Publisher};
//! use bisslog_testkit::RecordingPublisher;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let publisher = RecordingPublisher::new();
//! publisher.publish("greeted", Event::json(&"Ana").unwrap()).await.unwrap();
//! assert_eq!(publisher.payloads("greeted"), vec![serde_json::json!("Ana")]);
//! # }
//! ```

pub mod conformance;
mod connections;
mod domain;
#[cfg(feature = "private-nats")]
pub mod private_nats;
mod recording;
mod server;
mod service;

pub use bisslog_runtime::MemoryInbox;
pub use connections::RecordingConnections;
pub use domain::{
    DomainCheck, DomainCheckError, INFRASTRUCTURE_CRATES, Offence,
    assert_domain_depends_only_on_core,
};
/// The instant of a schedule tick ([`TestService::tick`]).
pub use jiff::Timestamp;
pub use recording::{Published, RecordingPublisher};
pub use server::{server_url, skip};
pub use service::{
    Answer, KitError, OBSERVED_INTERACTIONS_VAR, Settlement, TEST_CONNECTION_ID, TestService, Tick,
};
