//! RabbitMQ for bisslog services: [`AmqpBroker`] is the
//! [`Broker`](bisslog_messaging::Broker) that serves consumer
//! triggers from RabbitMQ queues and publishes events to them, over AMQP
//! 0-9-1 with [lapin](https://docs.rs/lapin).
//!
//! **Where it fits:** A service uses it through the facade, as
//! `bisslog::amqp` (feature `amqp`).
//!
//! Use it where the in-process broker is: the consumer runner
//! (`bisslog::messaging::Consumers`) and the
//! publisher port ([`BrokerPublisher`](bisslog_messaging::BrokerPublisher))
//! take any broker, and the domain code does not change.
//!
//! ```no_run
//! use bisslog_amqp::AmqpBroker;
//! use bisslog_runtime::Service;
//! use bisslog_messaging::BrokerPublisher;
//! use bisslog_runtime::messaging::Consumers;
//!
//! # fn build_service(events: BrokerPublisher) -> Service { unimplemented!() }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let broker = AmqpBroker::connect("amqp://guest:guest@127.0.0.1:5672/%2f").await?;
//!
//! // The publisher port of the use cases: each event is confirmed by
//! // RabbitMQ before `publish` returns.
//! let events = BrokerPublisher::new(broker.clone());
//! let service = build_service(events);
//!
//! // Every consumer trigger of the metadata, served from RabbitMQ; every
//! // instance of the service competes for the same queues.
//! let running = Consumers::new(service, broker).start().await?;
//! // ... until the process is asked to stop:
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Queues
//!
//! | bisslog | RabbitMQ |
//! |---|---|
//! | queue `company_data_insertion.queue` | durable queue `company_data_insertion.queue`, published to through the default exchange (routing key = queue name) |
//! | dead-letter queue (`{queue}.dlq` unless the trigger names one) | another durable queue; the runtime publishes the dead-lettered copy there, with the reason in its headers (RabbitMQ's own dead-lettering is not used for it) |
//! | retry after a delay | durable queue `{queue}.retry.{delay}ms` (see [`AmqpBroker::retry_queue_name`]) |
//! | consumer name (`service-use_case`) | the consumer tag; the instances share the queue as competing consumers |
//! | event queue `company_data.inserted` (`queue_kind: event`) | durable fanout exchange `company_data.inserted` (declared, which changes nothing on one that exists with those settings; one of another type or settings is checked and used as it is, never changed); events are published to it with the queue's name as routing key, persistent, confirmed, **not** `mandatory` (an event no queue is bound for is accepted and dropped) |
//! | a consumer name of an event queue | durable queue `company_data.inserted.{consumer}` bound to the exchange (binding key the queue's name), with its own retry queues; the consumer name's instances compete on it |
//!
//! **Provisioned**: with provisioning on (the default of
//! `bisslog::messaging::ConsumerConfig`), each
//! consumer trigger's queue and dead-letter queue are declared durable,
//! without arguments, when consumers start; publishing through a
//! [`BrokerPublisher`](bisslog_messaging::BrokerPublisher)
//! declares a queue the first time it finds it missing. Declaring is
//! idempotent. A queue that exists with other settings (arguments such as
//! `x-max-length`, or not durable) makes RabbitMQ refuse the declaration:
//! that is a [`BrokerError::Provisioning`](bisslog_messaging::BrokerError::Provisioning)
//! quoting RabbitMQ, and the broker goes on working (declarations run on
//! channels of their own). Where operators own the queues (quorum
//! queues, queues with arguments, which a plain declaration conflicts
//! with), turn provisioning off: the queue is then only checked (a
//! passive declaration) and must exist, with any settings they choose.
//!
//! **Classic queues.** Queues bisslog declares are of the server's default
//! type, classic unless the vhost says otherwise; retry queues are always
//! classic. Quorum queues count deliveries (`x-delivery-count`), but
//! classic queues are faster on one node and what most installations
//! have, so bisslog counts attempts itself and does not need the count.
//!
//! TLS (`amqps://`) needs a TLS feature of `lapin`, which this crate
//! leaves off: add `lapin = "4.12"` (its default features include TLS
//! with rustls) to the service's dependencies.
//!
//! # Publishing
//!
//! Every publish is persistent (`delivery_mode` 2), `mandatory`, and waits
//! for RabbitMQ's publisher confirm ([`AmqpConfig::confirm_timeout`]), on
//! a channel kept for publishing ([`AmqpConfig::publisher_channels`]).
//! The message id is the AMQP `message_id` property, the event type the
//! `type` property, the `content-type` header the `content_type` property
//! (`application/json` for payloads that start like a JSON object or
//! array); the transaction id, the key and every other header go to the
//! `headers` table. Failures map to
//! [`BrokerError`](bisslog_messaging::BrokerError):
//!
//! - no such queue (checked once per queue, and a `basic.return` of the
//!   mandatory publish) → `NoQueue`, which a
//!   [`BrokerPublisher`](bisslog_messaging::BrokerPublisher)
//!   answers by provisioning the queue;
//! - a negative confirm (`basic.nack`), or a message RabbitMQ refuses
//!   (too large, access refused) → `Rejected`;
//! - no confirm in time → `Timeout`; a broken connection → `Connection`
//!   (the next operation connects again).
//!
//! # Consuming
//!
//! Each subscription has a channel of its own, with
//! `basic.qos(prefetch)` and a `basic.consume` with manual
//! acknowledgements. Its deliveries decode the message from the
//! properties and headers; a message from another producer may carry
//! headers of any AMQP type: strings, numbers and booleans become text,
//! the others are skipped. **A message without a `message_id` gets a new
//! id at each delivery, so the inbox (`exactly-once`) cannot recognise
//! its redeliveries**: producers that are not bisslog should set
//! `message_id`.
//!
//! | settling | RabbitMQ |
//! |---|---|
//! | ack | `basic.ack` |
//! | retry after `delay` | a copy (same id, attempt + 1) is published to the retry queue of the delay and confirmed, then the original is acknowledged; a copy that cannot be published is answered with `basic.nack` + requeue instead, so the message is never lost; no delay: the copy goes straight back to the queue |
//! | dead-letter | the runtime publishes a copy to the dead-letter queue, then acknowledges |
//! | dropped unsettled | `basic.nack` + requeue (RabbitMQ also requeues what is unacknowledged when the channel closes) |
//! | keep alive | nothing: RabbitMQ has no per-message lease |
//!
//! A retry queue holds a message for its delay (`x-message-ttl`, the same
//! for every message of the queue, so none waits behind a longer one),
//! then RabbitMQ dead-letters it back to the queue
//! (`x-dead-letter-exchange` `""`, `x-dead-letter-routing-key` the queue).
//! Retry queues are declared when first needed, declared again every few
//! minutes while in use, and delete themselves after ten idle minutes
//! past their delay (`x-expires`).
//!
//! **Attempts.** Classic queues do not count deliveries, so the copy of a
//! retried message carries the attempt number of its next delivery in the
//! `x-bisslog-attempt` header (never shown to the use case). A message
//! RabbitMQ itself delivers again (the `redelivered` flag: a consumer
//! crashed, a channel closed, a delivery was dropped) counts one attempt
//! more than its header says; one more however many times that happened.
//!
//! **Deadlines.** RabbitMQ closes a channel whose delivery stays
//! unacknowledged longer than its `consumer_timeout` (30 minutes by
//! default); its unacknowledged messages go to other consumers. The
//! subscription's `ack_wait` does not apply: set `consumer_timeout`
//! above the longest use-case call.
//!
//! **Ordering.** One consumer with a prefetch of 1 sees the messages of a
//! queue in order; several consumers, a larger prefetch, a retry (the
//! copy goes to the back of the queue after its delay) or a requeue
//! reorder them. The `key` of a message travels as a header but does not
//! partition the queue; a consumer trigger with `partition` orders by it
//! in the runner, within one instance.
//!
//! **Caveats.** RabbitMQ dead-letters from the retry queues without
//! publisher confirms: a message whose queue is deleted while it waits
//! for its retry is dropped. Messages of one subscription that RabbitMQ
//! had sent ahead (prefetch) when it ends go back to the queue marked
//! redelivered, so they count one attempt more.

mod broker;
mod codec;
mod config;
mod delivery;
mod error;

pub use broker::AmqpBroker;
pub use config::AmqpConfig;
