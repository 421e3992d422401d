//! The [`Broker`] over NATS JetStream: stream provisioning, acknowledged
//! publishing, durable pull consumers.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamByNameErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::{HeaderMap, HeaderName, HeaderValue, header};
use bisslog_core::BoxFuture;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, QueueKind, Subscription};

use crate::config::NatsConfig;
use crate::delivery::NatsDeliveries;
use crate::{error, names};

/// How long the server may stay silent on a waiting pull request before
/// the subscription reports a missed heartbeat (twice this).
const IDLE_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);

/// The least `max_ack_pending` of a provisioned consumer: JetStream's own
/// default. It is shared by every instance (and by messages waiting for a
/// delayed retry), so it is also at least 32 instances' prefetch.
const MIN_MAX_ACK_PENDING: i64 = 1000;
const INSTANCES_ROOM: i64 = 32;

/// A [`Broker`] on NATS JetStream. Clones share one connection.
///
/// A queue is the NATS subject of the same name, captured by a stream:
/// the stream that already captures it, or one the broker creates (see
/// the [crate documentation](crate)).
///
/// ```no_run
/// use bisslog_nats::NatsBroker;
/// use bisslog_messaging::{Broker, Message};
///
/// # async fn run() -> Result<(), bisslog_messaging::BrokerError> {
/// let broker = NatsBroker::connect("nats://127.0.0.1:4222").await?;
/// broker.provision("orders.created").await?;
/// broker.publish("orders.created", &Message::new(&br#"{"id":7}"#[..])).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NatsBroker {
    inner: Arc<Inner>,
}

struct Inner {
    client: async_nats::Client,
    jetstream: async_nats::jetstream::Context,
    config: NatsConfig,
    /// Queue → the stream capturing it, as found or created.
    streams: Mutex<HashMap<String, Arc<str>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A cache: any state it was left in is valid.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl NatsBroker {
    /// The state of the queue's stream when it deletes what is
    /// acknowledged (a work queue, or an event queue's interest stream,
    /// which deletes what every consumer acknowledged), `None` otherwise.
    async fn work_queue_state(
        &self,
        queue: &str,
    ) -> Result<Option<async_nats::jetstream::stream::State>, BrokerError> {
        check_queue(queue)?;
        let Some(name) = self.stream(queue, None).await? else {
            return Err(BrokerError::NoQueue {
                queue: queue.to_owned(),
            });
        };
        let mut stream = self
            .inner
            .jetstream
            .get_stream(&*name)
            .await
            .map_err(|e| error::api(queue, "reading the stream", e))?;
        let info = stream
            .info()
            .await
            .map_err(|e| error::api(queue, "reading the stream", e))?;
        use async_nats::jetstream::stream::RetentionPolicy;
        Ok(matches!(
            info.config.retention,
            RetentionPolicy::WorkQueue | RetentionPolicy::Interest
        )
        .then(|| info.state.clone()))
    }

    /// Connects to the server at `url` with the default [`NatsConfig`].
    pub async fn connect(url: &str) -> Result<Self, BrokerError> {
        NatsConfig::default().connect(url).await
    }

    /// A broker over a client connected elsewhere, with the default
    /// [`NatsConfig`].
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (see [`NatsConfig::with_client`]).
    pub fn from_client(client: async_nats::Client) -> Self {
        NatsConfig::default().with_client(client)
    }

    pub(crate) fn new(client: async_nats::Client, config: NatsConfig) -> Self {
        let jetstream = async_nats::jetstream::ContextBuilder::new()
            .timeout(config.request_timeout)
            .build(client.clone());
        Self {
            inner: Arc::new(Inner {
                client,
                jetstream,
                config,
                streams: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The NATS client.
    pub fn client(&self) -> &async_nats::Client {
        &self.inner.client
    }

    /// The JetStream context the broker uses.
    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.inner.jetstream
    }

    /// The configuration.
    pub fn config(&self) -> &NatsConfig {
        &self.inner.config
    }

    /// The name of the stream capturing `queue`, if one does (without
    /// creating it).
    pub async fn stream_of(&self, queue: &str) -> Result<Option<String>, BrokerError> {
        check_queue(queue)?;
        Ok(self.stream(queue, None).await?.map(|name| name.to_string()))
    }

    /// The stream capturing `queue`: remembered, found by subject, or (when
    /// `create` gives the queue's kind) created.
    async fn stream(
        &self,
        queue: &str,
        create: Option<QueueKind>,
    ) -> Result<Option<Arc<str>>, BrokerError> {
        if let Some(name) = lock(&self.inner.streams).get(queue) {
            return Ok(Some(Arc::clone(name)));
        }
        let name = match (self.find_stream(queue).await?, create) {
            (Some(name), _) => name,
            (None, Some(kind)) => self.create_stream(queue, kind).await?,
            (None, None) => return Ok(None),
        };
        let name: Arc<str> = name.into();
        lock(&self.inner.streams).insert(queue.to_owned(), Arc::clone(&name));
        Ok(Some(name))
    }

    /// Forgets what [`NatsBroker::stream`] remembered of `queue` (its
    /// stream was deleted).
    fn forget(&self, queue: &str) {
        lock(&self.inner.streams).remove(queue);
    }

    /// An error at once when the client is not connected now. A JetStream
    /// request made while disconnected waits its whole timeout, even when
    /// the connection comes back meanwhile (it went out on the old one, or
    /// its answer did); failing fast lets the caller retry on the new
    /// connection as soon as there is one.
    fn connected(&self, doing: &str) -> Result<(), BrokerError> {
        let state = self.inner.client.connection_state();
        if state == async_nats::connection::State::Connected {
            Ok(())
        } else {
            Err(BrokerError::Connection {
                message: format!("{doing}: the connection to NATS is {state}"),
                source: None,
            })
        }
    }

    async fn find_stream(&self, queue: &str) -> Result<Option<String>, BrokerError> {
        self.connected("looking up the stream of the subject")?;
        match self.inner.jetstream.stream_by_subject(queue).await {
            Ok(name) => Ok(Some(name)),
            Err(e) if e.kind() == GetStreamByNameErrorKind::NotFound => Ok(None),
            Err(e) => Err(error::api(queue, "looking up the stream of the subject", e)),
        }
    }

    /// Creates the stream of `queue`, or finds the one another instance
    /// created meanwhile.
    async fn create_stream(&self, queue: &str, kind: QueueKind) -> Result<String, BrokerError> {
        let names = [
            names::stream_name(queue),
            names::disambiguated_stream_name(queue),
        ];
        for name in names {
            self.connected("creating a stream")?;
            let config = self.inner.config.stream_config(&name, queue, kind);
            let failure = match self.inner.jetstream.create_stream(config).await {
                Ok(_) => {
                    tracing::info!(checkpoint_id = "provisioned", queue, stream = %name, "created a JetStream stream");
                    return Ok(name);
                }
                Err(failure) => failure,
            };
            // Another instance may have created a stream for the queue
            // meanwhile, with other settings or another name.
            if let Some(existing) = self.find_stream(queue).await? {
                return Ok(existing);
            }
            match failure.kind() {
                CreateStreamErrorKind::JetStream(js)
                    if js.error_code() == async_nats::jetstream::ErrorCode::STREAM_NAME_EXIST =>
                {
                    tracing::debug!(queue, stream = %name,
                        "the stream name is taken by a stream of other subjects");
                }
                _ => return Err(error::create_stream(queue, failure)),
            }
        }
        Err(BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!(
                "the stream names `{}` and `{}` are taken by streams of other subjects",
                names::stream_name(queue),
                names::disambiguated_stream_name(queue)
            ),
        })
    }

    /// The durable consumer of a subscription on `stream`.
    async fn consumer(
        &self,
        stream: &str,
        subscription: &Subscription,
    ) -> Result<PullConsumer, async_nats::jetstream::stream::ConsumerError> {
        let jetstream = &self.inner.jetstream;
        if !subscription.provision {
            return jetstream
                .get_consumer_from_stream(&subscription.consumer, stream)
                .await;
        }
        let max_ack_pending = i64::from(subscription.prefetch)
            .saturating_mul(INSTANCES_ROOM)
            .max(MIN_MAX_ACK_PENDING);
        // An event consumer starts with the events published after it is
        // created, as a queue bound to a RabbitMQ exchange does: not with
        // whatever an interest stream still keeps for other consumers.
        let deliver_policy = match subscription.kind {
            QueueKind::Event => DeliverPolicy::New,
            _ => DeliverPolicy::All,
        };
        let config = pull::Config {
            durable_name: Some(subscription.consumer.clone()),
            filter_subject: subscription.queue.clone(),
            deliver_policy,
            ack_policy: AckPolicy::Explicit,
            ack_wait: subscription.ack_wait,
            max_ack_pending,
            ..Default::default()
        };
        // Creating a durable consumer that exists with the same settings
        // changes nothing; with other settings it updates them.
        jetstream.create_consumer_on_stream(config, stream).await
    }

    async fn subscribe_to(&self, subscription: &Subscription) -> Result<Deliveries, BrokerError> {
        let queue = subscription.queue.as_str();
        check_queue(queue)?;
        if !names::is_valid_name(&subscription.consumer) {
            return Err(BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!(
                    "`{}` is not a valid JetStream consumer name (no dots, spaces or wildcards)",
                    subscription.consumer
                ),
            });
        }
        let mut again = true;
        let (stream, consumer) = loop {
            let create = subscription.provision.then_some(subscription.kind);
            let Some(stream) = self.stream(queue, create).await? else {
                return Err(BrokerError::Provisioning {
                    queue: queue.to_owned(),
                    message: "no JetStream stream captures the subject, and this subscriber may not create one".to_owned(),
                });
            };
            if subscription.kind == QueueKind::Event {
                self.check_event_stream(queue, &stream).await?;
            }
            match self.consumer(&stream, subscription).await {
                Ok(consumer) => break (stream, consumer),
                // The remembered stream was deleted: look again, once.
                Err(e) if again && error::is_stream_not_found(&e) => {
                    self.forget(queue);
                    again = false;
                }
                Err(e) => return Err(error::consumer(queue, &subscription.consumer, e)),
            }
        };
        let max_batch = usize::try_from(consumer.cached_info().config.max_batch).unwrap_or(0);
        let mut batch = self
            .inner
            .config
            .pull_batch
            .unwrap_or(subscription.prefetch as usize)
            .max(1);
        if max_batch > 0 {
            batch = batch.min(max_batch);
        }
        let messages = consumer
            .stream()
            .max_messages_per_batch(batch)
            .heartbeat(IDLE_HEARTBEAT)
            .messages()
            .await
            .map_err(|e| error::api(queue, "starting to pull messages", e))?;
        tracing::debug!(queue, stream = %stream, consumer = %subscription.consumer, batch, "subscribed");
        Ok(Deliveries::closable(NatsDeliveries::new(
            messages,
            self.inner.client.clone(),
            consumer,
            queue.into(),
            stream,
            self.inner.config.confirm_acks,
        )))
    }

    /// An event queue needs a stream several durable consumers can read:
    /// a work-queue stream (an operator's, or the queue's provisioned as a
    /// command before) cannot, and the broker never changes a stream.
    async fn check_event_stream(&self, queue: &str, stream: &str) -> Result<(), BrokerError> {
        let mut found = self
            .inner
            .jetstream
            .get_stream(stream)
            .await
            .map_err(|e| error::api(queue, "reading the stream", e))?;
        let info = found
            .info()
            .await
            .map_err(|e| error::api(queue, "reading the stream", e))?;
        if info.config.retention == async_nats::jetstream::stream::RetentionPolicy::WorkQueue {
            return Err(BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!(
                    "it is an event queue, and the stream `{stream}` that captures it is a work queue, which allows one consumer per subject; give the subject a stream with interest or limits retention (bisslog does not change existing streams)"
                ),
            });
        }
        Ok(())
    }

    /// The headers a message is published with.
    fn headers(&self, message: &Message) -> Result<HeaderMap, BrokerError> {
        let mut headers = HeaderMap::new();
        for (name, value) in message.all_headers() {
            if name.eq_ignore_ascii_case(header::NATS_MESSAGE_ID.as_ref()) {
                // The broker's own field, set from the id below.
                continue;
            }
            let name = HeaderName::from_str(name).map_err(|_| BrokerError::Rejected {
                message: format!("`{name}` is not a valid NATS header name"),
            })?;
            headers.append(name, header_value(value)?);
        }
        if self.inner.config.deduplicate {
            headers.insert(header::NATS_MESSAGE_ID, header_value(&message.id)?);
        }
        Ok(headers)
    }

    async fn send(&self, queue: &str, message: &Message) -> Result<(), BrokerError> {
        if let Some(reason) = names::invalid_subject(queue) {
            return Err(BrokerError::Rejected {
                message: format!("`{queue}` is not a valid queue name: {reason}"),
            });
        }
        // Not connected: fail now rather than wait for an acknowledgement
        // that may only come after the request timeout.
        self.connected(&format!("publishing to `{queue}`"))?;
        let publish = PublishMessage::build()
            .payload(message.payload.clone())
            .headers(self.headers(message)?);
        let acknowledgement = self
            .inner
            .jetstream
            .send_publish(async_nats::Subject::from(queue), publish)
            .await
            .map_err(|e| error::publish(queue, e))?;
        let ack = acknowledgement
            .await
            .map_err(|e| error::publish(queue, e))?;
        if ack.duplicate {
            tracing::debug!(queue, message_id = %message.id, stream = %ack.stream,
                "JetStream already had this message id; the publication was dropped");
        }
        Ok(())
    }
}

fn header_value(value: &str) -> Result<HeaderValue, BrokerError> {
    HeaderValue::from_str(value).map_err(|_| BrokerError::Rejected {
        message: "a header value contains a line break".to_owned(),
    })
}

fn check_queue(queue: &str) -> Result<(), BrokerError> {
    match names::invalid_subject(queue) {
        None => Ok(()),
        Some(reason) => Err(BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("it is not a valid NATS subject: {reason}"),
        }),
    }
}

impl Broker for NatsBroker {
    fn name(&self) -> &str {
        "nats"
    }

    fn system(&self) -> &'static str {
        "nats"
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            check_queue(queue)?;
            self.stream(queue, Some(QueueKind::Command)).await.map(drop)
        })
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.send(queue, message))
    }

    fn supports_events(&self) -> bool {
        true
    }

    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            check_queue(queue)?;
            self.stream(queue, Some(kind)).await.map(drop)
        })
    }

    /// An event is published like a command, on the subject: the stream
    /// that captures it keeps it for every durable consumer.
    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        _kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.send(queue, message))
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(self.subscribe_to(subscription))
    }

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        Box::pin(async move {
            // Only a work queue forgets what was acknowledged.
            Ok(self
                .work_queue_state(queue)
                .await?
                .map(|state| state.messages))
        })
    }

    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, BrokerError>> {
        Box::pin(async move {
            // A work queue deletes what is acknowledged: its first message
            // is the oldest one not acknowledged yet.
            Ok(self.work_queue_state(queue).await?.map(|state| {
                if state.messages == 0 {
                    return std::time::Duration::ZERO;
                }
                let first = std::time::SystemTime::from(state.first_timestamp);
                first.elapsed().unwrap_or_default()
            }))
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            let state = self.inner.client.connection_state();
            if state != async_nats::connection::State::Connected {
                return Err(BrokerError::Connection {
                    message: format!("the connection to NATS is {state}"),
                    source: None,
                });
            }
            // Read as plain JSON: async-nats' `Account` does not parse the
            // answer of every server version (2.9 among them).
            let info: serde_json::Value = self
                .inner
                .jetstream
                .request("INFO", &())
                .await
                .map_err(error::ready)?;
            match info.get("error") {
                None => Ok(()),
                Some(problem) => Err(BrokerError::Connection {
                    message: format!("JetStream is not available: {problem}"),
                    source: None,
                }),
            }
        })
    }
}

impl std::fmt::Debug for NatsBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let streams = lock(&self.inner.streams);
        let mut queues: Vec<&String> = streams.keys().collect();
        queues.sort();
        f.debug_struct("NatsBroker")
            .field("state", &self.inner.client.connection_state())
            .field("config", &self.inner.config)
            .field("queues", &queues)
            .finish()
    }
}
