//! How a [`NatsBroker`](crate::NatsBroker) connects and what it
//! provisions.

use std::time::Duration;

use async_nats::jetstream::stream;
use bisslog_messaging::{BrokerError, QueueKind};

use crate::NatsBroker;
use crate::error;

/// Where a provisioned stream keeps its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// On disk: messages survive a server restart (the default).
    #[default]
    File,
    /// In memory: faster, lost when the server restarts.
    Memory,
}

/// When a provisioned stream forgets a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retention {
    /// Once it is acknowledged (the default): a stream is a queue, and
    /// only one durable consumer (one use case) may read each subject.
    /// Event queues get [`Retention::Interest`] instead.
    #[default]
    WorkQueue,
    /// Once every consumer that exists has acknowledged it; a message
    /// published while no consumer exists is dropped.
    Interest,
    /// Only by the stream's limits: every consumer gets every message.
    Limits,
}

/// Options of a [`NatsBroker`]; every field has a default.
///
/// ```no_run
/// use std::time::Duration;
/// use bisslog_nats::{NatsConfig, Storage};
///
/// # async fn run() -> Result<(), bisslog_messaging::BrokerError> {
/// let broker = NatsConfig::default()
///     .storage(Storage::Memory)
///     .duplicate_window(Duration::from_secs(10 * 60))
///     .connection_name("orders")
///     .connect("nats://127.0.0.1:4222")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NatsConfig {
    /// Where streams the broker creates keep their messages.
    pub storage: Storage,
    /// Copies of each stream the broker creates kept in a cluster (1 on a
    /// single server).
    pub replicas: usize,
    /// How long JetStream remembers a message id to drop a re-publication
    /// of it (a relay publishing again after a crash).
    pub duplicate_window: Duration,
    /// When streams the broker creates forget messages.
    pub retention: Retention,
    /// The connection's name, shown by the server's monitoring.
    pub connection_name: Option<String>,
    /// How long a JetStream request (a publish acknowledgement, a stream
    /// or consumer lookup) may take.
    pub request_timeout: Duration,
    /// Send the message id as `Nats-Msg-Id`, so JetStream drops a message
    /// published again with the same id within the duplicate window.
    pub deduplicate: bool,
    /// Wait for the server to confirm each acknowledgement (a round trip
    /// per message) instead of sending it and going on.
    pub confirm_acks: bool,
    /// Messages asked for by each pull request; by default the
    /// subscription's prefetch.
    pub pull_batch: Option<usize>,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            storage: Storage::File,
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            retention: Retention::WorkQueue,
            connection_name: None,
            request_timeout: Duration::from_secs(5),
            deduplicate: true,
            confirm_acks: false,
            pull_batch: None,
        }
    }
}

impl NatsConfig {
    /// Sets [`NatsConfig::storage`].
    #[must_use]
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// Sets [`NatsConfig::replicas`] (at least 1).
    #[must_use]
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    /// Sets [`NatsConfig::duplicate_window`].
    #[must_use]
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// Sets [`NatsConfig::retention`].
    #[must_use]
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Sets [`NatsConfig::connection_name`].
    #[must_use]
    pub fn connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = Some(name.into());
        self
    }

    /// Sets [`NatsConfig::request_timeout`].
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`NatsConfig::deduplicate`].
    #[must_use]
    pub fn deduplicate(mut self, deduplicate: bool) -> Self {
        self.deduplicate = deduplicate;
        self
    }

    /// Sets [`NatsConfig::confirm_acks`].
    #[must_use]
    pub fn confirm_acks(mut self, confirm: bool) -> Self {
        self.confirm_acks = confirm;
        self
    }

    /// Sets [`NatsConfig::pull_batch`] (at least 1).
    #[must_use]
    pub fn pull_batch(mut self, batch: usize) -> Self {
        self.pull_batch = Some(batch.max(1));
        self
    }

    /// Connects to the server at `url` (`nats://host:4222`; credentials
    /// may be given in it: `nats://user:password@host:4222`).
    pub async fn connect(self, url: &str) -> Result<NatsBroker, BrokerError> {
        let mut options = async_nats::ConnectOptions::new()
            .request_timeout(Some(self.request_timeout))
            .connection_timeout(self.request_timeout);
        if let Some(name) = &self.connection_name {
            options = options.name(name);
        }
        let client = options.connect(url).await.map_err(error::connect)?;
        Ok(self.with_client(client))
    }

    /// A broker over a client connected elsewhere (with TLS, credentials
    /// files or callbacks this configuration does not cover).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime: the JetStream context starts a task there,
    /// as the client itself did.
    pub fn with_client(self, client: async_nats::Client) -> NatsBroker {
        NatsBroker::new(client, self)
    }

    /// The configuration of the stream created for `queue`. An event
    /// queue's stream keeps a message until every durable consumer has
    /// acknowledged it (interest retention), unless [`Retention::Limits`]
    /// is chosen: a work queue could have only one consumer.
    pub(crate) fn stream_config(&self, name: &str, queue: &str, kind: QueueKind) -> stream::Config {
        let retention = match (kind, self.retention) {
            (_, Retention::Limits) => stream::RetentionPolicy::Limits,
            (QueueKind::Event, _) | (_, Retention::Interest) => stream::RetentionPolicy::Interest,
            (_, Retention::WorkQueue) => stream::RetentionPolicy::WorkQueue,
        };
        let description = match kind {
            QueueKind::Event => format!("bisslog event queue `{queue}`"),
            _ => format!("bisslog queue `{queue}`"),
        };
        stream::Config {
            name: name.to_owned(),
            subjects: vec![queue.to_owned()],
            retention,
            storage: match self.storage {
                Storage::File => stream::StorageType::File,
                Storage::Memory => stream::StorageType::Memory,
            },
            num_replicas: self.replicas.max(1),
            duplicate_window: self.duplicate_window,
            description: Some(description),
            ..Default::default()
        }
    }
}
