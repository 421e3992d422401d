//! NATS JetStream for bisslog services.
//!
//! **Where it fits:** A service uses it through the facade, as
//! `bisslog::nats` (feature `nats`).
//!
//! [`NatsBroker`] is a [`Broker`](bisslog_messaging::Broker): give
//! it to `bisslog::messaging::Consumers` and every
//! consumer trigger of the service's metadata is served from a durable
//! JetStream pull consumer, shared by all the service's instances; give it
//! to [`BrokerPublisher`](bisslog_messaging::BrokerPublisher) and
//! use cases publish to JetStream, each publication awaited until the
//! server has stored it. The domain code and the metadata do not change
//! when a service moves from the in-process broker to NATS.
//!
//! ```no_run
//! use bisslog_core::{Ctx, Error, Event, Publisher, UseCase};
//! use bisslog_nats::NatsBroker;
//! use bisslog_runtime::Service;
//! use bisslog_messaging::BrokerPublisher;
//! use bisslog_runtime::messaging::Consumers;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Order { id: u64 }
//!
//! /// Consumes `orders.created`, publishes `orders.confirmed`.
//! struct ConfirmOrder { events: BrokerPublisher }
//!
//! impl UseCase for ConfirmOrder {
//!     type Input = Order;
//!     type Output = ();
//!     type Error = Error;
//!     async fn run(&self, ctx: &Ctx, order: Order) -> Result<(), Error> {
//!         ctx.checkpoint("confirmed", format!("order {} confirmed", order.id));
//!         self.events.publish("orders.confirmed", Event::json(&order.id)?).await
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // metadata.yml: use case `confirm_order`, trigger
//! // `{type: consumer, options: {queue: orders.created}}`.
//! let metadata = bisslog_schema::load(None)?;
//! let broker = NatsBroker::connect("nats://127.0.0.1:4222").await?;
//! let events = BrokerPublisher::new(broker.clone());
//! let service = Service::builder(metadata)
//!     .use_case("confirm_order", ConfirmOrder { events })
//!     .build()?;
//! let running = Consumers::new(service, broker).start().await?;
//! // ... until the process is asked to stop:
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Queues, subjects and streams
//!
//! A queue of the metadata is the NATS subject of the same name:
//! `company_data_insertion.queue` is published on
//! `company_data_insertion.queue`. Its messages live in the JetStream
//! stream that captures that subject:
//!
//! - when a stream already captures it (one an operator or a benchmark
//!   harness made, with any name, any subjects, wildcards included), the
//!   broker uses that stream and changes nothing in it;
//! - otherwise [provisioning](bisslog_messaging::Broker::provision)
//!   creates one named after the queue, every character outside
//!   `[A-Za-z0-9_-]` made `_` (`company_data_insertion_queue`), capturing
//!   just that subject, with work-queue retention (a message is deleted
//!   once acknowledged), file storage, one replica and a two-minute
//!   duplicate window ([`NatsConfig`] changes these). If that name is taken
//!   by a stream of other subjects, a hash of the queue is appended.
//!
//! Provisioning is idempotent: instances starting together all succeed,
//! and the queue-to-stream resolution is remembered per broker. A queue
//! name must be a valid subject: no spaces, no wildcards (`*`, `>`), no
//! empty tokens; anything else is a
//! [`BrokerError::Provisioning`](bisslog_messaging::BrokerError::Provisioning).
//! Publishing to a subject no stream captures is
//! [`BrokerError::NoQueue`](bisslog_messaging::BrokerError::NoQueue)
//! (which `BrokerPublisher` answers by provisioning the queue, unless told
//! not to).
//!
//! Each consumer trigger subscribes with a durable pull consumer named
//! after the service and the use case
//! (`company-data-registry-insert_company_data`), filtered on the queue's
//! subject, with explicit acknowledgement, the runner's `ack_wait`, and
//! `max_ack_pending` of at least JetStream's default 1000 (and at least 32
//! instances' prefetch). Every instance of the service binds the same
//! consumer, so each message goes to one of them. Each instance pulls
//! messages in batches of the subscription's prefetch
//! ([`NatsConfig::pull_batch`] overrides it), asking for more when half a
//! batch is left, so at most about a batch and a half waits in the
//! instance beyond what it is processing. When provisioning is off
//! (`ConsumerConfig::provision(false)`), the stream and consumer must
//! exist; operators own their settings.
//!
//! With work-queue retention a subject can have only one consumer: two use
//! cases cannot consume the same command queue (JetStream refuses the
//! second consumer). A queue several use cases read, each getting every
//! message, is an **event** queue (`queue_kind: event`,
//! [`QueueKind::Event`](bisslog_messaging::QueueKind::Event)): its stream
//! is provisioned with interest retention (an event is kept until every
//! durable consumer that existed when it was published acknowledged it;
//! one published while no consumer exists is dropped), each consumer name
//! has its durable consumer starting at new events, and an event is
//! published on the subject like a command. A subject already captured by
//! a work-queue stream cannot be an event queue: subscribing to it as one
//! is a [`BrokerError::Provisioning`](bisslog_messaging::BrokerError::Provisioning)
//! naming the stream, which is left unchanged. [`Retention::Limits`] keeps
//! limits retention for event streams too.
//!
//! # Settling
//!
//! | the runner says | JetStream gets |
//! |---|---|
//! | `ack` | `+ACK`: the message is deleted from a work-queue stream |
//! | `retry(delay)` | `-NAK {"delay": …}`: delivered again after the delay, the delivery count one higher |
//! | `keep_alive` | `+WPI` (work in progress): the `ack_wait` starts again |
//! | dropped unsettled | nothing: delivered again once `ack_wait` has passed |
//!
//! Messages pulled but not yet handed to the runner when it stops are
//! delivered again, to any instance, once their `ack_wait` has passed.
//!
//! [`Delivery::attempt`](bisslog_messaging::Delivery::attempt) is
//! JetStream's delivery count. Acknowledgements are sent without waiting
//! for the server's confirmation, as a hand-written JetStream consumer
//! does: a lost one (the connection broke just then) only means the
//! message is delivered again after `ack_wait`, which at-least-once
//! delivery allows and the inbox of exactly-once triggers absorbs.
//! [`NatsConfig::confirm_acks`] waits for each confirmation instead, at the
//! cost of a round trip per message (what makes `at-most-once` strict).
//!
//! # Message ids and the duplicate window
//!
//! A message is published with its headers (`message-id`,
//! `transaction-id`, `event-type`, `key` and its own) and with
//! `Nats-Msg-Id` set to its id. JetStream drops a message whose id it has
//! stored within the stream's duplicate window (two minutes by default), so
//! an outbox relay that publishes again after a crash does not deliver an
//! event twice. Publishing the same id after the window stores it again;
//! turn the header off with [`NatsConfig::deduplicate`].
//!
//! A message from another producer (no `message-id` header) gets its
//! `Nats-Msg-Id`, if it has one, as its id, else `{stream}:{sequence}`
//! (`BENCH:42`), which stays the same across redeliveries. NATS keeps
//! headers in no particular order, so a consumed message's other headers
//! may come in another order than they were published in.

mod broker;
mod config;
mod delivery;
mod error;
mod names;

pub use broker::NatsBroker;
pub use config::{NatsConfig, Retention, Storage};
