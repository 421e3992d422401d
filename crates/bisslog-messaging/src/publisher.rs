//! Publishing straight to a broker, for events that need not commit with
//! a database write.

use std::sync::Arc;

use bisslog_core::{Adapter, BoxFuture, Error, Event, Publisher};

use crate::broker::{Broker, BrokerError};
use crate::message::Message;

/// A [`Publisher`] that sends each event to the broker at once and returns
/// when the broker has accepted it. Use the outbox of `bisslog-sql` instead
/// when the event must commit or roll back with the use case's writes.
///
/// The queue is provisioned the first time a publish finds it missing
/// (turn this off with [`BrokerPublisher::provision`] where operators own
/// the queues).
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
}

impl BrokerPublisher {
    /// Publishes through `broker`.
    pub fn new(broker: impl Broker) -> Self {
        Self {
            broker: Arc::new(broker),
            provision: true,
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
        publish_provisioning(self.broker.as_ref(), queue, message, self.provision).await
    }
}

/// Publishes, provisioning the queue once when the broker says it is
/// missing and `provision` allows it.
pub async fn publish_provisioning(
    broker: &dyn Broker,
    queue: &str,
    message: &Message,
    provision: bool,
) -> Result<(), BrokerError> {
    match broker.publish(queue, message).await {
        Err(BrokerError::NoQueue { .. }) if provision => {
            tracing::info!(
                queue,
                broker = broker.name(),
                "provisioning a queue to publish to"
            );
            broker.provision(queue).await?;
            broker.publish(queue, message).await
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
            .finish()
    }
}
