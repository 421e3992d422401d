//! Publishing straight to a broker, for events that need not commit with
//! a database write.

use std::collections::BTreeSet;
use std::sync::Arc;

use bisslog_core::{Adapter, BoxFuture, Error, Event, Publisher};

use crate::broker::{Broker, BrokerError, QueueKind};
use crate::message::Message;

/// A [`Publisher`] that sends each event to the broker at once and returns
/// when the broker has accepted it. Use the outbox of `bisslog-sql` instead
/// when the event must commit or roll back with the use case's writes.
///
/// The queue is provisioned the first time a publish finds it missing
/// (turn this off with [`BrokerPublisher::provision`] where operators own
/// the queues).
///
/// Queues are command queues unless named in
/// [`BrokerPublisher::events`]: those are published the event way (to
/// every consumer; on RabbitMQ, to the event's exchange).
///
/// ```
/// use bisslog_core::{Event, Publisher};
/// use bisslog_messaging::BrokerPublisher;
/// use bisslog_runtime::messaging::InProcessBroker;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let broker = InProcessBroker::new();
/// let publisher = BrokerPublisher::new(broker.clone());
/// publisher.publish("greeted", Event::json(&"Ana").unwrap()).await.unwrap();
/// assert_eq!(&broker.messages("greeted")[0].payload[..], br#""Ana""#);
/// # }
/// ```
#[derive(Clone)]
pub struct BrokerPublisher {
    broker: Arc<dyn Broker>,
    provision: bool,
    events: Arc<BTreeSet<String>>,
}

impl BrokerPublisher {
    /// Publishes through `broker`.
    pub fn new(broker: impl Broker) -> Self {
        Self {
            broker: Arc::new(broker),
            provision: true,
            events: Arc::default(),
        }
    }

    /// The queues that are event queues (the metadata's publishers with
    /// `queue_kind: event`); the others are command queues.
    #[must_use]
    pub fn events<I, S>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut events = (*self.events).clone();
        events.extend(queues.into_iter().map(Into::into));
        self.events = Arc::new(events);
        self
    }

    /// The kind of a queue this publisher publishes to.
    pub fn kind(&self, queue: &str) -> QueueKind {
        if self.events.contains(queue) {
            QueueKind::Event
        } else {
            QueueKind::Command
        }
    }

    /// Whether a missing queue is provisioned (the default) or an error.
    #[must_use]
    pub fn provision(mut self, provision: bool) -> Self {
        self.provision = provision;
        self
    }

    /// Publishes a whole message (what a relay forwards).
    pub async fn publish_message(&self, queue: &str, message: &Message) -> Result<(), BrokerError> {
        let kind = self.kind(queue);
        publish_provisioning_to(self.broker.as_ref(), queue, kind, message, self.provision).await
    }
}

/// Publishes to a command queue, provisioning it once when the broker
/// says it is missing and `provision` allows it.
pub async fn publish_provisioning(
    broker: &dyn Broker,
    queue: &str,
    message: &Message,
    provision: bool,
) -> Result<(), BrokerError> {
    publish_provisioning_to(broker, queue, QueueKind::Command, message, provision).await
}

/// Publishes to a queue of the given kind, provisioning it once when the
/// broker says it is missing and `provision` allows it.
pub async fn publish_provisioning_to(
    broker: &dyn Broker,
    queue: &str,
    kind: QueueKind,
    message: &Message,
    provision: bool,
) -> Result<(), BrokerError> {
    match broker.publish_to(queue, kind, message).await {
        Err(BrokerError::NoQueue { .. }) if provision => {
            tracing::info!(
                queue,
                kind = kind.as_str(),
                broker = broker.name(),
                "provisioning a queue to publish to"
            );
            broker.provision_queue(queue, kind).await?;
            broker.publish_to(queue, kind, message).await
        }
        other => other,
    }
}

impl Publisher for BrokerPublisher {
    fn publish<'a>(&'a self, queue: &'a str, event: Event) -> BoxFuture<'a, Result<(), Error>> {
        let message = Message::from_event(&event);
        Box::pin(async move {
            self.publish_message(queue, &message)
                .await
                .map_err(Error::from)
        })
    }
}

impl Adapter for BrokerPublisher {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { self.broker.ready().await.map_err(Error::from) })
    }
}

impl std::fmt::Debug for BrokerPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerPublisher")
            .field("broker", &self.broker.name())
            .field("provision", &self.provision)
            .field("events", &self.events)
            .finish()
    }
}
