//! Kafka for bisslog services, through librdkafka
//! ([`rdkafka`](https://docs.rs/rdkafka)): [`KafkaBroker`] implements
//! [`Broker`](bisslog_messaging::Broker).
//!
//! **Where it fits:** a service reaches it as `bisslog::kafka` (feature
//! `kafka` of the `bisslog` facade), and the runner connects it when
//! `BROKER_URL=kafka://host:port[,host:port][?options]`.
//!
//! # Layout
//!
//! - **A topic per queue**, named as the queue (`company_data.inserted`).
//!   Provisioning creates a missing topic with
//!   [`KafkaConfig::partitions`] partitions (default 3) through the admin
//!   API and never changes an existing one. Publishing to a topic that
//!   does not exist is [`BrokerError::NoQueue`](bisslog_messaging::BrokerError::NoQueue)
//!   (clients are set `allow.auto.create.topics=false`).
//! - **A consumer group per consumer and queue**, `{consumer}.{queue}`
//!   (`Subscription::consumer` scoped by the topic, as a JetStream
//!   durable consumer is by its stream): the instances of a service share
//!   the topic's partitions, and every other group (another service) gets
//!   every message. A topic's partitions bound how many instances of one
//!   service take work. Scoping by the queue keeps a rebalance of one
//!   topic from pausing the consumers of another.
//! - **The record key is the message key** (bisslog's `partition`): one
//!   key, one partition, in publish order.
//! - **Headers**: every standard header of
//!   [`bisslog_messaging::headers`] (`message-id`, `transaction-id`,
//!   `event-type`, `key`) and every other one (`traceparent`,
//!   `tracestate`, `content-type`) is a Kafka header of the same name
//!   with a UTF-8 value; JSON payloads get `content-type:
//!   application/json`. A record without `message-id` (from a producer
//!   that is not bisslog) is named `topic/partition/offset`.
//!
//! # Settlement
//!
//! - **ack** marks the offset done. Offsets are committed (by the
//!   consumer's thread, within ~50 ms, and synchronously before a
//!   partition is given up or the member leaves) only up to the first
//!   offset not done in each partition: a later message acknowledged
//!   before an earlier one never commits past it. A crash loses no
//!   acknowledged-but-uncommitted message: it is delivered again. Once
//!   the subscription is closing, an `ack` returns when the member's last
//!   commit is made, so a consumer's shutdown returns with its
//!   acknowledgements committed.
//! - **retry(delay)**: Kafka has no redelivery of one message, so the
//!   retry publishes a copy to the same topic (same key, same partition)
//!   with `x-bisslog-attempt: n+1` and `x-bisslog-not-before: <unix ms>`,
//!   and the original counts as done once the cluster has the copy. The
//!   consumer holds a copy that is not yet due aside (its offset stays
//!   uncommitted) while the records behind it go on. Attempts survive
//!   restarts since they travel in the record. The copy is appended to
//!   the partition, so a retried message comes after the later messages
//!   of its key.
//! - **Dead letters** are what the runner publishes to the dead-letter
//!   queue's topic, then acknowledges, as on every broker.
//! - **release** (shutdown): the offset is left uncommitted, so the
//!   message goes to the group's next owner of the partition after the
//!   member leaves. While the subscription runs, a released delivery (or
//!   one dropped unsettled) is handed out again at once.
//! - **keep_alive** renews the lease the revocation honours (below);
//!   Kafka itself has no per-message lease.
//! - **Rebalances**: when the group takes partitions away, the member
//!   stops handing them out, waits for its deliveries of them in flight
//!   (each up to `ack_wait` after its last keep-alive), commits, and lets
//!   them go; what it had polled and not handed out is delivered by the
//!   new owner from the committed offset. A crashed member's uncommitted
//!   messages are delivered again after the group rebalances
//!   (`session.timeout.ms`, 45 s by default).
//! - **depth** and **oldest_unacked_age** are `None`: lag is per group,
//!   and the trait asks per queue.
//!
//! # Build
//!
//! librdkafka is built from source (its own configure script, no cmake)
//! with nothing but plaintext connections: no TLS, SASL, zstd or zlib.
//! Enable `rdkafka`'s `ssl`, `sasl`, `zstd` or `libz` features in your
//! service's `Cargo.toml` for those.
//!
//! # Example
//!
//! ```no_run
//! use bisslog_kafka::KafkaBroker;
//! use bisslog_messaging::{Broker, Message};
//!
//! # async fn run() -> Result<(), bisslog_messaging::BrokerError> {
//! let broker = KafkaBroker::connect("kafka://127.0.0.1:9092?partitions=6").await?;
//! broker.provision("orders.created").await?;
//! let mut message = Message::new(&br#"{"id":1}"#[..]);
//! message.key = Some("customer-7".into());
//! broker.publish("orders.created", &message).await?;
//! # Ok(())
//! # }
//! ```

mod broker;
mod codec;
mod config;
mod consumer;
mod delivery;
mod error;

pub use broker::KafkaBroker;
pub use config::{KafkaConfig, UrlError};

/// Locks a mutex, through poisoning (the state stays consistent: every
/// critical section is a few map operations).
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// librdkafka's log lines as `tracing` events.
pub(crate) fn log(
    topic: &str,
    level: rdkafka::config::RDKafkaLogLevel,
    facility: &str,
    line: &str,
) {
    use rdkafka::config::RDKafkaLogLevel as Level;
    match level {
        Level::Emerg | Level::Alert | Level::Critical | Level::Error => {
            tracing::error!(topic, facility, "librdkafka: {line}");
        }
        Level::Warning => tracing::warn!(topic, facility, "librdkafka: {line}"),
        Level::Notice | Level::Info => tracing::info!(topic, facility, "librdkafka: {line}"),
        Level::Debug => tracing::debug!(topic, facility, "librdkafka: {line}"),
    }
}
