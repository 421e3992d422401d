//! Messaging: consumer triggers served from a broker, and events published
//! to one.
//!
//! The contract (the [`Broker`](bisslog_messaging::Broker) and
//! [`Delivery`](bisslog_messaging::Delivery) traits broker adapters
//! implement, [`Message`](bisslog_messaging::Message), the
//! [`BrokerPublisher`](bisslog_messaging::BrokerPublisher)) is in
//! `bisslog-messaging`; this module runs it.
//!
//! - [`InProcessBroker`]: a broker in memory (for tests and the embedded
//!   default: nothing survives the process). The others are
//!   `bisslog-nats` (NATS JetStream), `bisslog-amqp` (RabbitMQ) and
//!   `bisslog-sql`'s durable `SqlBroker` (SQLite or PostgreSQL).
//! - [`Consumers`]: serves every consumer trigger of a service. Success
//!   acknowledges; a transient error is retried with exponential backoff up
//!   to `max_retries`, then dead-lettered; a permanent error, or a message
//!   that is not JSON or not the use case's input, goes to the dead-letter
//!   queue at once with the reason in its headers. A delivery is settled
//!   exactly once (settling takes it by value). A trigger with
//!   `partition` orders by key: the messages of one key run one at a
//!   time in arrival order, and a keyed message's transient failure is
//!   retried in place, holding back its key only (`docs/messaging.md`,
//!   "Order by key").
//! - [`call_with_message`]: one message through a consumer trigger's
//!   mapper and use case, settled by the caller (AWS Lambda).
//!
//! `delivery_semantic` of a consumer trigger:
//!
//! | semantic | acknowledged | a crash mid-call | costs |
//! |---|---|---|---|
//! | `at-most-once` | before the use case | loses the message | nothing extra; failures are only copied to the dead-letter queue |
//! | `at-least-once` (default) | after the use case | delivers it again | a use case may see a message twice: make it idempotent |
//! | `exactly-once` | after the use case | delivers it again; the inbox drops it | one inbox row per message, in the use case's unit of work (the service needs one) |
//!
//! ```
//! use bisslog_core::{Ctx, Error, UseCase};
//! use bisslog_runtime::Service;
//! use bisslog_messaging::{Broker, Message};
//! use bisslog_runtime::messaging::{Consumers, InProcessBroker};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Greeting { name: String }
//!
//! struct Greet;
//! impl UseCase for Greet {
//!     type Input = Greeting;
//!     type Output = ();
//!     type Error = Error;
//!     async fn run(&self, ctx: &Ctx, input: Greeting) -> Result<(), Error> {
//!         ctx.checkpoint("greeted", format!("hello, {}", input.name));
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let metadata = bisslog_schema::validate_str(
//!     "metadata.yml",
//!     "name: greeter\nuse_cases:\n  greet:\n    name: greet\n    triggers: [{type: consumer, options: {queue: greetings}}]\n",
//! ).into_service().unwrap();
//! let service = Service::builder(metadata).use_case("greet", Greet).build().unwrap();
//!
//! let broker = InProcessBroker::new();
//! let running = Consumers::new(service, broker.clone()).start().await.unwrap();
//! broker.publish("greetings", &Message::new(&br#"{"name":"Ana"}"#[..])).await.unwrap();
//! // A message that is not JSON lands in `greetings.dlq`, saying why.
//! broker.publish("greetings", &Message::new(&b"hello?"[..])).await.unwrap();
//! while broker.messages("greetings.dlq").is_empty() { tokio::task::yield_now().await; }
//! let dead = &broker.messages("greetings.dlq")[0];
//! assert_eq!(dead.header("dead-letter-cause"), Some("malformed"));
//! running.shutdown().await;
//! # }
//! ```

mod consumer;
mod in_process;
mod keys;
mod kinds;
mod process;
mod settle;

pub(crate) use consumer::exactly_once_triggers;
pub use consumer::{ConsumerConfig, Consumers, RunningConsumers, StartError};
pub use in_process::InProcessBroker;
pub use kinds::{event_queues, queue_kind};
pub use process::call_with_message;
pub use settle::RetryPolicy;
