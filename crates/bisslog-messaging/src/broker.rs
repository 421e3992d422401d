//! The broker contract: what the consumer runner and the publishers need
//! from NATS JetStream, RabbitMQ or the in-process broker.

use std::time::Duration;

use crate::message::Message;
use bisslog_core::{BoxFuture, ErrorKind};

use crate::deliveries::Deliveries;

/// What a queue carries, which decides who receives its messages: the
/// metadata's `queue_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QueueKind {
    /// Work for one service: the subscribers of the queue compete, each
    /// message goes to one of them whatever their consumer names. The
    /// default, and all a broker without [`Broker::supports_events`]
    /// offers.
    #[default]
    Command,
    /// Something that happened: each consumer name subscribed to the
    /// queue gets its own copy of every message, and the subscribers that
    /// share a consumer name (the instances of one service) share that
    /// copy. A consumer name receives the events published after its
    /// first subscription (which creates its copy); the copy outlives its
    /// subscribers.
    Event,
}

impl QueueKind {
    /// The name as the metadata writes it: `command`, `event`.
    pub const fn as_str(self) -> &'static str {
        match self {
            QueueKind::Command => "command",
            QueueKind::Event => "event",
        }
    }
}

impl std::fmt::Display for QueueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message broker: provisions queues, publishes, and delivers messages
/// to competing consumers (command queues) or to every consumer (event
/// queues, where the broker [supports them](Broker::supports_events)).
///
/// Queue names are the metadata's logical names (`orders.created`);
/// adapters map them to their own objects (a JetStream stream and subject,
/// a durable RabbitMQ queue or exchange) and provision them idempotently.
///
/// The plain methods ([`provision`](Broker::provision),
/// [`publish`](Broker::publish)) are about command queues; the `_queue`
/// and `_to` forms take the [`QueueKind`] and, by default, pass commands
/// to the plain methods and refuse events with
/// [`BrokerError::Unsupported`].
pub trait Broker: Send + Sync + 'static {
    /// A short name for logs: `nats`, `amqp`, `in-process`.
    fn name(&self) -> &str;

    /// The broker's kind as OpenTelemetry's `messaging.system` names it
    /// (`nats`, `rabbitmq`, `in-process`, `sqlite`, `postgresql`), for the
    /// spans of the messages it carries. Brokers that do not say are
    /// `other`.
    fn system(&self) -> &'static str {
        "other"
    }

    /// Makes sure the queue exists, creating it when it does not;
    /// provisioning an existing queue changes nothing.
    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>>;

    /// Publishes a message and returns once the broker has durably
    /// accepted it (a JetStream publish acknowledgement, a RabbitMQ
    /// publisher confirm). A message no queue receives is an error.
    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>>;

    /// Whether the broker lays out [event queues](QueueKind::Event): a
    /// copy of each message per consumer name. Brokers that do not (the
    /// default) refuse to provision or publish to an event queue, and the
    /// runtime refuses to subscribe to one, rather than let the consumers
    /// of an event compete.
    fn supports_events(&self) -> bool {
        false
    }

    /// Makes sure a queue of the given kind exists, creating what is
    /// missing and changing nothing that exists. For an event queue this
    /// is what its publishers need (a stream, an exchange); each consumer
    /// name's copy is created when it subscribes.
    ///
    /// The default provisions a command queue with
    /// [`provision`](Broker::provision) and refuses an event queue.
    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        match kind {
            QueueKind::Command => self.provision(queue),
            QueueKind::Event => Box::pin(std::future::ready(Err(events_unsupported(queue)))),
        }
    }

    /// Publishes to a queue of the given kind and returns once the broker
    /// has durably accepted the message. Unlike a command, an event that
    /// no consumer has subscribed to yet is accepted (and reaches no one)
    /// once its queue is provisioned; before that it is a
    /// [`BrokerError::NoQueue`], as for commands.
    ///
    /// The default publishes a command with [`publish`](Broker::publish)
    /// and refuses an event.
    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        match kind {
            QueueKind::Command => self.publish(queue, message),
            QueueKind::Event => Box::pin(std::future::ready(Err(events_unsupported(queue)))),
        }
    }

    /// Whether [`publish_batch`](Broker::publish_batch) stores a batch in
    /// one operation, all of it or none (one database transaction), so
    /// that a publisher with many messages at hand (the outbox relay) does
    /// better to send them together than one by one. `false` by default.
    fn publishes_batches(&self) -> bool {
        false
    }

    /// Publishes the messages of `batch` in order and returns once the
    /// broker has durably accepted every one of them.
    ///
    /// A broker that [publishes batches](Broker::publishes_batches) stores
    /// all of them or none. The default publishes them one by one with
    /// [`publish_to`](Broker::publish_to) and stops at the first failure;
    /// the messages before it stay published (a publisher sends them
    /// again, at least once).
    fn publish_batch<'a>(
        &'a self,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            for outgoing in batch {
                self.publish_to(outgoing.queue, outgoing.kind, outgoing.message)
                    .await?;
            }
            Ok(())
        })
    }

    /// Starts delivering the queue's messages to this subscriber; the
    /// subscribers that share a `consumer` name share the messages (each
    /// goes to one of them). On an [event queue](Subscription::kind), each
    /// consumer name has its own copy of every message. Without
    /// `provision`, a queue (or broker-side consumer) that does not exist
    /// is a [`BrokerError::Provisioning`].
    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>>;

    /// Whether the broker can be reached now.
    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// How many messages wait in the queue, for operators and tests
    /// (`None` when the broker cannot tell). What counts differs: the
    /// in-process broker and JetStream work queues count delivered but
    /// unsettled messages too, RabbitMQ only the ready ones.
    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        let _ = queue;
        Box::pin(std::future::ready(Ok(None)))
    }

    /// How long the oldest message of the queue not yet acknowledged has
    /// waited (zero when the queue is empty), for the consumers'
    /// `bisslog_consumer_oldest_unacked_age_seconds`; `None` when the
    /// broker cannot tell (RabbitMQ without its management API, JetStream
    /// streams that are not work queues, the in-process broker).
    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, BrokerError>> {
        let _ = queue;
        Box::pin(std::future::ready(Ok(None)))
    }
}

impl<B: Broker + ?Sized> Broker for std::sync::Arc<B> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn system(&self) -> &'static str {
        (**self).system()
    }
    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        (**self).provision(queue)
    }
    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        (**self).publish(queue, message)
    }
    fn supports_events(&self) -> bool {
        (**self).supports_events()
    }
    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        (**self).provision_queue(queue, kind)
    }
    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        (**self).publish_to(queue, kind, message)
    }
    fn publishes_batches(&self) -> bool {
        (**self).publishes_batches()
    }
    fn publish_batch<'a>(
        &'a self,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        (**self).publish_batch(batch)
    }
    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        (**self).subscribe(subscription)
    }
    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        (**self).ready()
    }
    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        (**self).depth(queue)
    }
    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, BrokerError>> {
        (**self).oldest_unacked_age(queue)
    }
}

/// One message of a batch to publish ([`Broker::publish_batch`]).
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The queue it goes to.
    pub queue: &'a str,
    /// Whether that queue is a command or an event queue.
    pub kind: QueueKind,
    /// The message.
    pub message: &'a Message,
}

/// The error of a broker asked for an event queue it cannot lay out.
fn events_unsupported(queue: &str) -> BrokerError {
    BrokerError::Unsupported {
        queue: queue.to_owned(),
        kind: QueueKind::Event,
    }
}

/// What a subscriber asks for.
///
/// Build it with [`Subscription::new`] (or fill the fields and
/// `..Subscription::default()`), so that fields added later keep their
/// defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscription {
    /// The logical queue.
    pub queue: String,
    /// The consumer's durable name, shared by every instance of the
    /// service (`company-data-registry-insert_company_data`).
    pub consumer: String,
    /// How many unsettled messages the broker may hand this subscriber.
    pub prefetch: u32,
    /// How long a delivery may stay unsettled before the broker gives it
    /// to another subscriber, unless [`Delivery::keep_alive`] extends it.
    pub ack_wait: Duration,
    /// Whether the subscriber may create the broker-side consumer; when
    /// `false`, operators own it and it must exist.
    pub provision: bool,
    /// Whether the queue carries commands (the subscribers compete
    /// whatever their consumer names; the default) or events (each
    /// consumer name gets its own copy). The runtime subscribes to an
    /// event queue only on a broker that
    /// [supports events](Broker::supports_events).
    pub kind: QueueKind,
}

impl Subscription {
    /// A subscription to a command queue that may provision, with a
    /// prefetch of 256 and an `ack_wait` of 30 seconds (the consumer
    /// runner's defaults).
    pub fn new(queue: impl Into<String>, consumer: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            consumer: consumer.into(),
            prefetch: 256,
            ack_wait: Duration::from_secs(30),
            provision: true,
            kind: QueueKind::Command,
        }
    }

    /// Sets [`Subscription::kind`].
    #[must_use]
    pub fn kind(mut self, kind: QueueKind) -> Self {
        self.kind = kind;
        self
    }
}

/// One message delivered to a subscriber, to be settled exactly once.
///
/// Settling takes the delivery by value, so a message cannot be settled
/// twice. A delivery dropped unsettled is delivered again (at once by the
/// in-process broker and RabbitMQ, after `ack_wait` by JetStream).
pub trait Delivery: Send + Sync + 'static {
    /// The message.
    fn message(&self) -> &Message;

    /// Which delivery of the message this is: 1 the first time.
    fn attempt(&self) -> u32;

    /// The message is done with: the broker forgets it. Resolves with the
    /// broker's answer where there is one.
    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>>;

    /// The message is done with, as [`Delivery::ack`], for a caller that
    /// need not wait for the broker's answer: an at-least-once or
    /// exactly-once consumer, for which a lost acknowledgement only brings
    /// the message back (never an at-most-once one, which must know the
    /// message is settled before it runs the use case).
    ///
    /// An adapter that sends acknowledgements in batches resolves it once
    /// this one is queued for the next batch, reports a batch that fails
    /// itself, and bounds how many wait unanswered so (past the bound, and
    /// once its subscription is closing, it resolves with the answer, as
    /// [`Delivery::ack`]); [`DeliveryStream::close`](crate::DeliveryStream::close)
    /// returns after the queued ones were sent. The caller then keeps no
    /// future per message waiting for a batch. The default is
    /// [`Delivery::ack`].
    fn ack_queued(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.ack()
    }

    /// Deliver the message again after `delay` (to this or another
    /// subscriber), counting one more attempt.
    fn retry(self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>>;

    /// Hands back a message this subscriber took but never started (its
    /// consumer is shutting down): the broker delivers it again at once,
    /// to any subscriber. Unlike [`Delivery::retry`] it is not a failed
    /// attempt, where the broker can tell the two apart (the in-process
    /// broker can; JetStream and RabbitMQ count every redelivery).
    fn release(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.retry(Duration::ZERO)
    }

    /// The message is still being worked on: the broker must not give it
    /// to anyone else yet. A no-op where deliveries have no deadline.
    fn keep_alive(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The future of a settlement done at once, for an adapter whose
/// acknowledgement completed before it returned: it has no size, so its box
/// allocates nothing (a ready future of a result would take an allocation
/// per message).
pub fn settled() -> BoxFuture<'static, Result<(), BrokerError>> {
    Box::pin(Settled)
}

/// See [`settled`].
struct Settled;

impl std::future::Future for Settled {
    type Output = Result<(), BrokerError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Why a broker operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The broker could not be reached, or the connection broke.
    #[error("the broker cannot be reached: {message}")]
    Connection {
        /// What happened.
        message: String,
        /// The client library's error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The broker did not answer in time.
    #[error("the broker did not answer in time: {message}")]
    Timeout {
        /// What was waited for.
        message: String,
    },
    /// The broker refused a message: no queue receives it, it was
    /// negatively confirmed, it is too large.
    #[error("the broker refused the message: {message}")]
    Rejected {
        /// Why.
        message: String,
    },
    /// The queue does not exist (it was never provisioned): a message
    /// published to it would reach no one.
    #[error("the queue `{queue}` does not exist")]
    NoQueue {
        /// The logical queue.
        queue: String,
    },
    /// The broker does not support what was asked of this queue (an
    /// event queue on a broker without
    /// [`supports_events`](Broker::supports_events)).
    #[error(
        "`{queue}` is declared `queue_kind: {kind}`, which this broker does not support (a copy of each message per consumer name): consume it once, or use a broker that supports events (in-process, NATS, RabbitMQ)"
    )]
    Unsupported {
        /// The logical queue.
        queue: String,
        /// The kind of queue it does not support.
        kind: QueueKind,
    },
    /// A queue, stream or consumer could not be created or found.
    #[error("`{queue}` could not be provisioned: {message}")]
    Provisioning {
        /// The logical queue.
        queue: String,
        /// Why.
        message: String,
    },
}

impl BrokerError {
    /// A [`BrokerError::Connection`] from a client library's error.
    pub fn connection(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        BrokerError::Connection {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The [`ErrorKind`] a use case sees when publishing fails this way.
    pub fn kind(&self) -> ErrorKind {
        match self {
            BrokerError::Connection { .. } => ErrorKind::Connection,
            BrokerError::Timeout { .. } => ErrorKind::Timeout,
            BrokerError::Rejected { .. } | BrokerError::NoQueue { .. } => ErrorKind::Delivery,
            BrokerError::Provisioning { .. } | BrokerError::Unsupported { .. } => {
                ErrorKind::Configuration
            }
        }
    }
}

impl From<BrokerError> for bisslog_core::Error {
    fn from(error: BrokerError) -> Self {
        let kind = error.kind();
        let message = error.to_string();
        bisslog_core::Error::new(kind, "broker", message).with_source(error)
    }
}
