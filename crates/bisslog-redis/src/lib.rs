//! Redis Streams for bisslog services.
//!
//! **Where it fits:** A service uses it through the facade, as
//! `bisslog::redis` (feature `redis`), or through the runner with
//! `BROKER_URL=redis://host:6379/0`.
//!
//! [`RedisBroker`] is a [`Broker`](bisslog_messaging::Broker): give it to
//! `bisslog::messaging::Consumers` and every consumer trigger of the
//! service's metadata reads its queue through a Redis consumer group,
//! shared by all the service's instances; give it to
//! [`BrokerPublisher`](bisslog_messaging::BrokerPublisher) and use cases
//! publish with `XADD`. The domain code and the metadata do not change
//! when a service moves from the in-process broker, NATS or RabbitMQ to
//! Redis. It needs Redis 6.2 or later (`XAUTOCLAIM`, `XADD NOMKSTREAM`);
//! 7.0 or later for [`depth`](bisslog_messaging::Broker::depth). One
//! server (or a primary): Redis Cluster is not supported, since a queue's
//! stream and its groups' delayed-retry sets are used together in scripts.
//!
//! ```no_run
//! use bisslog_core::{Ctx, Error, Event, Publisher, UseCase};
//! use bisslog_messaging::BrokerPublisher;
//! use bisslog_redis::RedisBroker;
//! use bisslog_runtime::Service;
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
//! let broker = RedisBroker::connect("redis://127.0.0.1:6379/0").await?;
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
//! # Layout
//!
//! | bisslog | Redis |
//! |---|---|
//! | queue `orders.created` | the stream whose key is `orders.created` |
//! | consumer name (`service-use_case`) | a consumer group of that name on the stream |
//! | an instance's subscription | a consumer `bisslog-<random>` in the group |
//! | a message | an entry: field `body` (the payload) and one field per header |
//! | a retry waiting for its delay | its entry id in the sorted set `bisslog:delayed:<group>:<queue>` |
//!
//! Each consumer name (each use case of each service, see
//! [`consumer_name`](bisslog_messaging::consumer_name)) is a group of its
//! own, so **every service that consumes a queue gets every message**,
//! and the instances of one service share theirs (each entry goes to one
//! consumer of the group). A group is created, when the runner provisions,
//! at the stream's first entry: a service that subscribes late reads what
//! was published before it.
//!
//! An entry's fields are `body` (the payload, bytes as they are) then the
//! headers: `message-id`, `transaction-id`, `event-type` and `key` when the
//! message has them, then its other headers (`traceparent`, `tracestate`,
//! `content-type`, ...) under their names. A header named `body` is
//! refused. So another program can feed a bisslog consumer:
//!
//! ```text
//! redis-cli XADD orders.created '*' body '{"id":7}' message-id order-7
//! ```
//!
//! and read what bisslog publishes with a group of its own:
//!
//! ```text
//! redis-cli XGROUP CREATE orders.confirmed reporting 0 MKSTREAM
//! redis-cli XREADGROUP GROUP reporting r1 COUNT 10 STREAMS orders.confirmed '>'
//! ```
//!
//! An entry without a `body` field (`XADD orders.created '*' id 7`) is
//! read as the JSON object of its fields, values as strings
//! (`{"id":"7"}`); an entry without `message-id` gets the id
//! `<queue>:<entry id>`, the same at every delivery (what the inbox of
//! `exactly-once` triggers deduplicates on).
//!
//! [Provisioning](bisslog_messaging::Broker::provision) creates an empty
//! stream when the key does not exist, and refuses a key of another type;
//! it never deletes, trims or changes an existing stream. Publishing to a
//! stream that does not exist is
//! [`BrokerError::NoQueue`](bisslog_messaging::BrokerError::NoQueue)
//! (`XADD ... NOMKSTREAM`), which `BrokerPublisher` answers by
//! provisioning. Streams are not trimmed unless
//! [`RedisConfig::max_len`] is set (`XADD MAXLEN ~`): an acknowledged
//! entry stays for the other groups, and for replays.
//!
//! # Settling
//!
//! | the runner says | Redis gets |
//! |---|---|
//! | `ack` | `XACK`: the entry leaves the group's pending list (it stays in the stream); the acks of a subscription settled while one is on its way share the next `XACK` |
//! | `retry(delay)` | the entry id into the group's delayed set, due in `delay`; it stays pending, and once due a subscriber claims it again (`XCLAIM`) |
//! | `release` (shutdown) | `XCLAIM ... TIME 1 JUSTID`: its lease is over at once, the next claim of any instance takes it |
//! | `keep_alive` | `XCLAIM ... JUSTID` by the same consumer (if it still has it): the lease starts again |
//! | dropped unsettled, or the instance crashed | nothing: once pending longer than the lease (the runner's `ack_wait`), another instance claims it (`XAUTOCLAIM`) |
//!
//! [`Delivery::attempt`](bisslog_messaging::Delivery::attempt) is the
//! entry's delivery count in the group: 1 when first read, one more at
//! every claim (a lease that ran out, a release, a due retry). A delayed
//! retry never leaves the group's pending list, so the count survives
//! it, and no other group sees anything of it. Dead letters are what the
//! runner publishes to the trigger's dead-letter queue: another stream.
//!
//! Each subscription claims (due retries first, then entries whose lease
//! ran out, skipping those waiting for a delay) every
//! [`RedisConfig::claim_interval`], and otherwise blocks on
//! `XREADGROUP ... >` for new entries on a connection of its own. A
//! retry or a released entry is so delivered up to a claim interval late.
//! Claims and the retries' due times use the server's clock (`TIME` in
//! Lua scripts), never the instances'.
//!
//! # What is guaranteed
//!
//! - At-least-once delivery per group: an entry stays pending in its
//!   group until acknowledged, whatever happens to the instance that read
//!   it; redeliveries keep the message id, for the inbox.
//! - A publication is accepted when `XADD` answers. Whether it survives a
//!   Redis restart is the server's persistence (`appendonly yes`,
//!   `appendfsync`); it is not replicated before the answer.
//! - Not guaranteed: order across retries and redeliveries; delivery of
//!   entries trimmed (`MAXLEN`, `XTRIM`) or deleted before a group read
//!   them.
//!
//! Consumers of instances that are gone stay listed in their group
//! (`XINFO CONSUMERS`) until their entries were claimed and they were idle
//! for [`RedisConfig::forget_consumers_after`] (an hour); then the
//! group's subscribers remove them (at start, and every 10 minutes).
//! Consumers not named `bisslog-...` (an operator's) are never removed.

mod broker;
mod codec;
mod config;
mod delivery;
mod error;
mod reply;
mod scripts;

pub use broker::RedisBroker;
pub use config::RedisConfig;
pub use error::ConfigError;
