//! [`KafkaBroker`]: provisioning topics, publishing records, subscribing
//! consumer groups.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bisslog_core::BoxFuture;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, QueueKind, Subscription};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};

use crate::KafkaConfig;
use crate::codec::{self, Counting};
use crate::error::{invalid_topic, kafka};

/// A Kafka cluster as a bisslog [`Broker`]: a topic per queue, a consumer
/// group per consumer name, offsets committed after the effect. Cloning
/// shares the clients.
///
/// See the [crate docs](crate) for the layout and the settlement of
/// deliveries.
#[derive(Clone)]
pub struct KafkaBroker {
    inner: Arc<Inner>,
}

/// What the broker and its subscriptions share.
pub(crate) struct Inner {
    pub(crate) config: KafkaConfig,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    /// Topics seen to exist, so that publishing asks for metadata once.
    known: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for KafkaBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBroker")
            .field("bootstrap_servers", &self.inner.config.bootstrap_servers)
            .finish_non_exhaustive()
    }
}

impl KafkaBroker {
    /// Connects to the cluster `kafka://host:port[,host:port]?options`
    /// names (see [`KafkaConfig`]) and checks that it answers.
    pub async fn connect(url: &str) -> Result<Self, BrokerError> {
        let config = KafkaConfig::from_url(url).map_err(|e| BrokerError::Connection {
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        Self::with_config(config).await
    }

    /// Connects with `config` and checks that the cluster answers.
    pub async fn with_config(config: KafkaConfig) -> Result<Self, BrokerError> {
        let producer: FutureProducer = client_config(&config)
            // A publish waits for every in-sync replica (librdkafka's
            // default, said here because the durability rests on it).
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", millis(config.timeout))
            .create()
            .map_err(|e| kafka("creating the Kafka producer", e))?;
        let admin: AdminClient<DefaultClientContext> = client_config(&config)
            .create()
            .map_err(|e| kafka("creating the Kafka admin client", e))?;
        let broker = Self {
            inner: Arc::new(Inner {
                config,
                producer,
                admin,
                known: Mutex::new(HashSet::new()),
            }),
        };
        broker.check_reachable().await?;
        Ok(broker)
    }

    /// The configuration it was connected with.
    pub fn config(&self) -> &KafkaConfig {
        &self.inner.config
    }

    async fn check_reachable(&self) -> Result<(), BrokerError> {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            inner
                .producer
                .client()
                .fetch_metadata(None, inner.config.timeout)
                .map(drop)
                .map_err(|e| kafka("reaching the Kafka cluster", e))
        })
        .await
    }
}

/// The properties every client of `config` starts from.
pub(crate) fn client_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.bootstrap_servers)
        // Topics are made by provisioning, with the configured
        // partitions; a publish to a missing topic is an error, as on
        // the other brokers.
        .set("allow.auto.create.topics", "false");
    for (name, value) in &config.properties {
        client.set(name, value);
    }
    client
}

pub(crate) fn millis(duration: std::time::Duration) -> String {
    duration.as_millis().max(1).to_string()
}

/// Runs a blocking librdkafka call off the async threads.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, BrokerError> + Send + 'static,
) -> Result<T, BrokerError> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| BrokerError::Connection {
            message: format!("a Kafka client call failed: {e}"),
            source: None,
        })?
}

impl Inner {
    /// Whether the topic exists, from the cluster's metadata.
    async fn exists(self: &Arc<Self>, topic: &str) -> Result<bool, BrokerError> {
        if crate::lock(&self.known).contains(topic) {
            return Ok(true);
        }
        let inner = Arc::clone(self);
        let name = topic.to_owned();
        let exists = blocking(move || {
            let metadata = inner
                .producer
                .client()
                .fetch_metadata(Some(&name), inner.config.timeout)
                .map_err(|e| kafka(&format!("reading the metadata of `{name}`"), e))?;
            Ok(metadata
                .topics()
                .iter()
                .any(|t| t.name() == name && t.error().is_none() && !t.partitions().is_empty()))
        })
        .await?;
        if exists {
            crate::lock(&self.known).insert(topic.to_owned());
        }
        Ok(exists)
    }

    /// Creates the topic unless it exists; never changes one that does.
    pub(crate) async fn provision(self: &Arc<Self>, queue: &str) -> Result<(), BrokerError> {
        check_topic(queue)?;
        if self.exists(queue).await? {
            return Ok(());
        }
        let topic = NewTopic::new(
            queue,
            self.config.partitions,
            TopicReplication::Fixed(self.config.replication.unwrap_or(-1)),
        );
        let options = AdminOptions::new().operation_timeout(Some(self.config.timeout));
        let results = self
            .admin
            .create_topics([&topic], &options)
            .await
            .map_err(|e| BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!("creating the topic: {e}"),
            })?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    return Err(BrokerError::Provisioning {
                        queue: queue.to_owned(),
                        message: format!("Kafka refused to create the topic: {code}"),
                    });
                }
            }
        }
        crate::lock(&self.known).insert(queue.to_owned());
        Ok(())
    }

    /// Fails with a provisioning error unless the topic exists.
    pub(crate) async fn require(self: &Arc<Self>, queue: &str) -> Result<(), BrokerError> {
        check_topic(queue)?;
        if self.exists(queue).await? {
            Ok(())
        } else {
            Err(BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: "the topic does not exist and provisioning is off, so operators must \
                          create it"
                    .into(),
            })
        }
    }

    /// Publishes `message` to the topic `queue` and waits for the
    /// cluster's acknowledgement (`acks=all`).
    pub(crate) async fn send(
        self: &Arc<Self>,
        queue: &str,
        message: &Message,
        counting: Option<Counting>,
    ) -> Result<(), BrokerError> {
        if invalid_topic(queue).is_some() || !self.exists(queue).await? {
            return Err(BrokerError::NoQueue {
                queue: queue.to_owned(),
            });
        }
        let mut record = FutureRecord::<str, [u8]>::to(queue)
            .payload(&message.payload[..])
            .headers(codec::headers(message, counting));
        if let Some(key) = &message.key {
            record = record.key(key.as_str());
        }
        match self.producer.send(record, self.config.timeout).await {
            Ok(_) => Ok(()),
            Err((error, _)) => {
                if error.rdkafka_error_code() == Some(RDKafkaErrorCode::UnknownTopicOrPartition) {
                    crate::lock(&self.known).remove(queue);
                    return Err(BrokerError::NoQueue {
                        queue: queue.to_owned(),
                    });
                }
                Err(kafka(&format!("publishing to `{queue}`"), error))
            }
        }
    }
}

fn check_topic(queue: &str) -> Result<(), BrokerError> {
    match invalid_topic(queue) {
        Some(message) => Err(BrokerError::Provisioning {
            queue: queue.to_owned(),
            message,
        }),
        None => Ok(()),
    }
}

impl Broker for KafkaBroker {
    fn name(&self) -> &str {
        "kafka"
    }

    fn system(&self) -> &'static str {
        "kafka"
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.inner.provision(queue))
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.inner.send(queue, message, None))
    }

    /// Every topic fans out to its consumer groups: an event is a topic
    /// whose consumer names each have a group.
    fn supports_events(&self) -> bool {
        true
    }

    /// The same topic for either kind: the kind decides the groups.
    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        _kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.inner.provision(queue))
    }

    /// The same record for either kind.
    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        _kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.inner.send(queue, message, None))
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(async move {
            if subscription.provision {
                self.inner.provision(&subscription.queue).await?;
            } else {
                self.inner.require(&subscription.queue).await?;
            }
            crate::consumer::subscribe(Arc::clone(&self.inner), subscription)
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(self.check_reachable())
    }
}
