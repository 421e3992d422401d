//! The broker: one connection, publisher channels with confirms, one
//! channel per subscription, temporary channels for declarations.

mod connection;
mod publishing;
mod retry;
mod topology;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bisslog_core::BoxFuture;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, Subscription};
use lapin::Connection;
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};

use crate::codec::short;
use crate::config::AmqpConfig;
use crate::delivery::{AmqpDeliveries, Consuming};
use crate::error;

use self::connection::{PublisherSlot, redact};

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
    publishers: Box<[PublisherSlot]>,
    next_publisher: AtomicUsize,
    /// Queues known to exist: provisioned, found, or consumed by this
    /// broker. Publishing to another first checks that it exists.
    known: RwLock<HashSet<String>>,
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
}

impl Inner {
    async fn subscribe(
        self: &Arc<Self>,
        subscription: &Subscription,
    ) -> Result<Deliveries, BrokerError> {
        let queue = subscription.queue.as_str();
        let Some(name) = short(queue) else {
            return Err(BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: error::name_too_long(queue),
            });
        };
        let connection = self.connection().await?;
        let prefetch = u16::try_from(subscription.prefetch)
            .unwrap_or(u16::MAX)
            .max(1);
        let declare = QueueDeclareOptions {
            passive: !subscription.provision,
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let tag = consumer_tag(&subscription.consumer);
        let setup = async {
            let channel = connection.create_channel().await.map_err(|e| {
                error::connection(&format!("opening a channel to consume `{queue}`"), e)
            })?;
            channel
                .queue_declare(name.clone(), declare, FieldTable::default())
                .await
                .map_err(|e| error::provisioning(queue, declare.passive, e))?;
            channel
                .basic_qos(prefetch, BasicQosOptions { global: false })
                .await
                .map_err(|e| error::connection(&format!("setting the prefetch of `{queue}`"), e))?;
            let consumer = channel
                .basic_consume(
                    name,
                    tag,
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|e| error::provisioning(queue, declare.passive, e))?;
            Ok::<_, BrokerError>((channel, consumer))
        };
        let (channel, consumer) =
            match tokio::time::timeout(self.config.operation_timeout, setup).await {
                Ok(outcome) => outcome?,
                Err(_) => return Err(error::timeout(format!("starting to consume `{queue}`"))),
            };
        self.remember(queue);
        let consuming = Arc::new(Consuming {
            channel,
            broker: Arc::clone(self),
            queue: subscription.queue.clone(),
        });
        Ok(Deliveries::closable(AmqpDeliveries {
            tag: consumer.tag(),
            consumer,
            consuming,
            timeout: self.config.operation_timeout,
        }))
    }
}

impl Broker for AmqpBroker {
    fn name(&self) -> &str {
        "amqp"
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

/// A consumer tag naming the durable consumer, unique on its channel
/// (each subscription has its own).
fn consumer_tag(consumer: &str) -> ShortString {
    // Room for RabbitMQ's view of it, within the 255-byte limit.
    let mut end = consumer.len().min(200);
    while !consumer.is_char_boundary(end) {
        end -= 1;
    }
    ShortString::try_new(&consumer[..end]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_tags_fit_in_a_short_string() {
        assert_eq!(consumer_tag("svc-use_case").as_str(), "svc-use_case");
        assert_eq!(consumer_tag(&"é".repeat(200)).as_str().len(), 200);
    }
}
