//! Testing bisslog services and the adapters under them.
//!
//! **Where it fits:** A service's tests use it through the facade, as
//! `bisslog::testkit` (feature `testing`, in `[dev-dependencies]`).
//!
//! - [`RecordingPublisher`]: an in-memory [`Publisher`](bisslog_core::Publisher)
//!   that keeps what a use case published, for unit tests of the domain.
//! - [`broker_conformance!`]: the suite every broker adapter passes, run
//!   unchanged against the in-process broker, NATS JetStream and RabbitMQ:
//!   acknowledgement on success, retries then dead-letter, permanent and
//!   malformed messages dead-lettered at once with the reason, poison
//!   messages that do not stall the rest, no double settlement, leases
//!   kept by long calls, competing consumers, the inbox, shutdown that
//!   releases what was fetched ahead.
//! - `private_nats` (feature `private-nats`): a nats-server of a test's
//!   own, to stop and restart for outage tests.
//! - [`server_url`]: the URL of a server a test needs, from its variable;
//!   the test is skipped (saying so) without it, and fails under `CI=true`.
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
#[cfg(feature = "private-nats")]
pub mod private_nats;
mod recording;
mod server;

pub use recording::{Published, RecordingPublisher};
pub use server::{server_url, skip};
