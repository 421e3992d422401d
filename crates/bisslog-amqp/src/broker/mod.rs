//! The broker: [`AmqpBroker`], the state its clones share, and its
//! [`Broker`] implementation, which hands each operation to the module
//! holding it:
//!
//! - [`connection`]: the connection and its channels (reconnection,
//!   publishing channels in confirm mode, one-off channels for
//!   declarations, the health check);
//! - [`topology`]: declaring, checking, counting and deleting queues, and
//!   the queues known to exist;
//! - [`retry`]: the retry queues of delayed retries;
//! - [`publishing`]: mandatory publishes and their confirms;
//! - [`subscribing`]: a consumer per subscription, with its prefetch.

mod connection;
mod events;
mod publishing;
mod retry;
mod subscribing;
mod topology;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bisslog_core::BoxFuture;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, QueueKind, Subscription};
use lapin::Connection;

use crate::config::AmqpConfig;

use self::connection::{PublisherSlot, redact};

/// Locks one of the broker's mutexes, poisoned or not.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a single read or write of plain data.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// RabbitMQ as a bisslog [`Broker`]: a connection to one RabbitMQ server
/// (or cluster node), shared by the clones of this value.
///
/// See the [crate documentation](crate) for how queues, retries and
/// acknowledgements map to RabbitMQ.
///
/// ```no_run
/// # async fn run() -> Result<(), bisslog_messaging::BrokerError> {
/// use bisslog_amqp::{AmqpBroker, AmqpConfig};
/// use bisslog_messaging::{Broker, Message};
///
/// let broker = AmqpBroker::connect_with(
///     "amqp://guest:guest@127.0.0.1:5672/%2f",
///     AmqpConfig::default().connection_name("company-data-registry"),
/// )
/// .await?;
/// broker.provision("company_data_insertion.queue").await?;
/// broker
///     .publish("company_data_insertion.queue", &Message::new(&br#"{"name":"Ana"}"#[..]))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AmqpBroker {
    inner: Arc<Inner>,
}

/// What the clones of a broker and its subscriptions share.
pub(crate) struct Inner {
    url: String,
    config: AmqpConfig,
    /// The connection, replaced when it is found broken.
    connection: Mutex<Option<Arc<Connection>>>,
    /// Held while connecting, so a broken connection is replaced once.
    connecting: tokio::sync::Mutex<()>,
    /// The publishing channels, taken in turn (`next_publisher`) so
    /// concurrent publishes do not wait on one channel's confirms.
    publishers: Box<[PublisherSlot]>,
    next_publisher: AtomicUsize,
    /// Queues known to exist: provisioned, found, or consumed by this
    /// broker. Publishing to another first checks that it exists.
    known: RwLock<HashSet<String>>,
    /// Event exchanges known to exist.
    exchanges: RwLock<HashSet<String>>,
    /// Retry queues, and when this broker last declared them.
    retry_queues: Mutex<HashMap<String, Instant>>,
}

impl AmqpBroker {
    /// Connects to RabbitMQ with the default [`AmqpConfig`].
    ///
    /// The URL is `amqp://user:password@host:port/vhost`, with the vhost
    /// percent-encoded (`%2f` for the default vhost `/`); `amqps://` for
    /// TLS needs one of lapin's TLS features. The connection lives on the
    /// Tokio runtime that calls this; when it breaks, the next operation
    /// connects again.
    pub async fn connect(url: &str) -> Result<AmqpBroker, BrokerError> {
        Self::connect_with(url, AmqpConfig::default()).await
    }

    /// Connects to RabbitMQ with `config`.
    pub async fn connect_with(url: &str, config: AmqpConfig) -> Result<AmqpBroker, BrokerError> {
        let publishers = (0..config.publisher_channels.max(1))
            .map(|_| PublisherSlot::default())
            .collect();
        let inner = Arc::new(Inner {
            url: url.to_owned(),
            config,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            publishers,
            next_publisher: AtomicUsize::new(0),
            known: RwLock::new(HashSet::new()),
            exchanges: RwLock::new(HashSet::new()),
            retry_queues: Mutex::new(HashMap::new()),
        });
        for slot in inner.publishers.iter() {
            inner.open_publisher(slot).await?;
        }
        Ok(AmqpBroker { inner })
    }

    /// The configuration.
    pub fn config(&self) -> &AmqpConfig {
        &self.inner.config
    }

    /// The RabbitMQ queue holding the messages of `queue` retried after
    /// `delay`: `{queue}.retry.{milliseconds}ms`. Its messages go back to
    /// `queue` when the delay has passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(
    ///     bisslog_amqp::AmqpBroker::retry_queue_name("orders", Duration::from_secs(2)),
    ///     "orders.retry.2000ms"
    /// );
    /// ```
    pub fn retry_queue_name(queue: &str, delay: Duration) -> String {
        retry::retry_queue_name(queue, delay)
    }

    /// Deletes a queue with the messages in it, and the retry queues this
    /// broker declared for it, and returns how many messages the queue
    /// held. Deleting a queue that does not exist succeeds. For tests and
    /// tooling: consumers of the queue are cancelled, and messages waiting
    /// in its retry queues are lost.
    pub async fn delete_queue(&self, queue: &str) -> Result<u32, BrokerError> {
        let inner = &self.inner;
        for name in &inner.forget_retry_queues(queue) {
            inner.delete(name).await?;
        }
        inner.forget(queue);
        inner.delete(queue).await
    }

    /// Deletes the exchange of an event queue; the queues of its consumers
    /// (`<queue>.<consumer>`, see [`delete_queue`](Self::delete_queue))
    /// stay. Deleting an exchange that does not exist succeeds. For tests
    /// and tooling: events published meanwhile are refused as
    /// [`BrokerError::NoQueue`].
    pub async fn delete_exchange(&self, queue: &str) -> Result<(), BrokerError> {
        self.inner.delete_exchange(queue).await
    }
}

impl Broker for AmqpBroker {
    fn name(&self) -> &str {
        "amqp"
    }

    fn system(&self) -> &'static str {
        "rabbitmq"
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.inner.declare(queue))
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.inner.publish(queue, message))
    }

    fn supports_events(&self) -> bool {
        true
    }

    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        match kind {
            QueueKind::Command => Box::pin(self.inner.declare(queue)),
            QueueKind::Event => Box::pin(self.inner.declare_exchange(queue, true)),
        }
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        match kind {
            QueueKind::Command => Box::pin(self.inner.publish(queue, message)),
            QueueKind::Event => Box::pin(self.inner.publish_event(queue, message)),
        }
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(self.inner.subscribe(subscription))
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(self.inner.ready())
    }

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        Box::pin(async move {
            let ready = self
                .inner
                .inspect(queue, &format!("counting the messages of `{queue}`"))
                .await?;
            // Ready messages only: RabbitMQ does not count unacknowledged
            // ones here.
            Ok(Some(u64::from(ready)))
        })
    }
}

impl std::fmt::Debug for AmqpBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpBroker")
            .field("url", &redact(&self.inner.url))
            .field("config", &self.inner.config)
            .field("connected", &self.inner.current_connection().is_some())
            .finish()
    }
}
