//! The contract between bisslog's runtime and the adapters of brokers and
//! stores: what `bisslog-nats`, `bisslog-amqp` and `bisslog-sql` implement
//! or exchange, without depending on the runtime.
//!
//! **Where it fits:** A service does not depend on it directly: the facade's
//! `bisslog::messaging` holds this contract and the runtime's consumer runner
//! together. Depend on it when writing a broker or store adapter.
//!
//! Like `tower-service` or `tracing-core`, it is small and stable on
//! purpose: an adapter depends on this crate (and `bisslog-core`), the
//! runtime drives what the adapter implements.
//!
//! - [`Broker`], [`Subscription`], [`Deliveries`], [`Delivery`] and
//!   [`BrokerError`]: a message broker, and the settlement of each
//!   delivery (ack, retry, release), exactly once; [`QueueKind`]: command
//!   queues (competing consumers) and event queues (a copy per consumer).
//! - [`Message`] with its standard [`headers`], [`DeadLetter`] copies.
//! - [`BrokerPublisher`]: the [`Publisher`](bisslog_core::Publisher) port
//!   straight over any broker; [`Namespaced`]: a broker's queues under a
//!   prefix.
//! - [`TickStore`]: where schedules claim their ticks across instances.
//! - [`UnitOfWork`] and [`Work`]: a use case's writes, events and inbox
//!   record committed together; [`work`] finds a call's work.
//! - [`current`]: the context of the call being polled, for adapters.
//! - [`consumer_name`] and [`sanitized_name`]: the names every broker
//!   derives from keynames.
//!
//! The in-process broker, the consumer runner and the scheduler that use
//! this contract are in `bisslog-runtime`; a service reaches all of them
//! through the `bisslog` facade (`bisslog::messaging`).
//!
//! # Example
//!
//! A broker adapter implements [`Broker`]; anything that publishes takes
//! any broker:
//!
//! ```
//! use bisslog_core::{Event, Publisher};
//! use bisslog_messaging::{Broker, BrokerPublisher, Message, headers};
//! use bisslog_runtime::messaging::InProcessBroker;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let broker = InProcessBroker::new();
//! broker.provision("orders").await.unwrap();
//! broker.publish("orders", &Message::new(&br#"{"id":1}"#[..])).await.unwrap();
//!
//! let publisher = BrokerPublisher::new(broker.clone());
//! publisher.publish("orders", Event::json(&2).unwrap().with_type("order-placed")).await.unwrap();
//!
//! let sent = broker.messages("orders");
//! assert_eq!(sent.len(), 2);
//! assert_eq!(sent[1].header(headers::EVENT_TYPE), Some("order-placed"));
//! # }
//! ```

mod broker;
pub mod current;
mod deliveries;
mod message;
mod names;
mod namespace;
mod publisher;
mod ticks;
pub mod work;

pub use broker::{Broker, BrokerError, Delivery, Outgoing, QueueKind, Subscription, settled};
pub use deliveries::{Deliveries, DeliveryStream};
pub use message::{DeadLetter, DeadLetterCause, Message, headers, new_message_id};
pub use names::{consumer_name, event_copy_name, sanitized_name};
pub use namespace::Namespaced;
pub use publisher::{BrokerPublisher, publish_provisioning, publish_provisioning_to};
pub use ticks::{Claim, RunLease, TickStore};
pub use work::{UnitOfWork, Work};
