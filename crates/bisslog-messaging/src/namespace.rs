//! Queue names under a prefix, so several environments (or test runs)
//! share one broker without meeting.

use std::sync::Arc;

use bisslog_core::BoxFuture;

use crate::broker::{Broker, BrokerError, Outgoing, QueueKind, Subscription};
use crate::deliveries::Deliveries;
use crate::message::Message;

/// A broker whose queues all carry a prefix: the metadata's
/// `orders.created` is `staging.orders.created` on the broker. Use cases,
/// metadata and dead-letter headers keep the logical names.
///
/// ```
/// use bisslog_messaging::{Broker, Message, Namespaced};
/// use bisslog_runtime::messaging::InProcessBroker;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let broker = InProcessBroker::new();
/// let staging = Namespaced::new(broker.clone(), "staging.");
/// staging.provision("orders").await.unwrap();
/// staging.publish("orders", &Message::new(&b"{}"[..])).await.unwrap();
/// assert_eq!(broker.messages("staging.orders").len(), 1);
/// assert!(broker.messages("orders").is_empty());
/// # }
/// ```
#[derive(Clone)]
pub struct Namespaced {
    inner: Arc<dyn Broker>,
    prefix: String,
}

impl Namespaced {
    /// Puts every queue of `broker` under `prefix` (include a separator,
    /// such as `staging.`).
    pub fn new(broker: impl Broker, prefix: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(broker),
            prefix: prefix.into(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn name(&self, queue: &str) -> String {
        format!("{}{queue}", self.prefix)
    }
}

impl Broker for Namespaced {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn system(&self) -> &'static str {
        self.inner.system()
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move { self.inner.provision(&self.name(queue)).await })
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move { self.inner.publish(&self.name(queue), message).await })
    }

    fn supports_events(&self) -> bool {
        self.inner.supports_events()
    }

    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move { self.inner.provision_queue(&self.name(queue), kind).await })
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            self.inner
                .publish_to(&self.name(queue), kind, message)
                .await
        })
    }

    fn publishes_batches(&self) -> bool {
        self.inner.publishes_batches()
    }

    fn publish_batch<'a>(
        &'a self,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            let names: Vec<String> = batch.iter().map(|o| self.name(o.queue)).collect();
            let renamed: Vec<Outgoing<'_>> = batch
                .iter()
                .zip(&names)
                .map(|(outgoing, name)| Outgoing {
                    queue: name,
                    ..*outgoing
                })
                .collect();
            self.inner.publish_batch(&renamed).await
        })
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(async move {
            let subscription = Subscription {
                queue: self.name(&subscription.queue),
                ..subscription.clone()
            };
            self.inner.subscribe(&subscription).await
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.inner.ready()
    }

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        Box::pin(async move { self.inner.depth(&self.name(queue)).await })
    }

    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, BrokerError>> {
        Box::pin(async move { self.inner.oldest_unacked_age(&self.name(queue)).await })
    }
}

impl std::fmt::Debug for Namespaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespaced")
            .field("broker", &self.inner.name())
            .field("prefix", &self.prefix)
            .finish()
    }
}
