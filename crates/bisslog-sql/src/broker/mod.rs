//! A durable broker kept in SQLite or PostgreSQL: the embedded default
//! that loses nothing when the process dies.

mod acks;
mod delivery;
mod error;
mod publish;
mod row;
mod sql;
mod subscribe;
mod wake;

use std::sync::Arc;
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_messaging::{
    Broker, BrokerError, Deliveries, Message, Outgoing, QueueKind, Subscription, event_copy_name,
};

use crate::clock::now_ms;
use crate::database::Database;
use crate::error::SqlError;
use crate::on_engine;

use self::error::broker_error;
use self::subscribe::Claimer;

/// How a [`SqlBroker`] works; every field has a default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqlBrokerConfig {
    /// The longest a waiting subscriber goes without looking at its queue
    /// (for messages published by other processes, and leases that ran
    /// out); publications and retries in this process wake it at once.
    pub poll_interval: Duration,
    /// The most messages one claim takes (within the subscription's
    /// prefetch).
    pub claim_batch: u32,
}

impl Default for SqlBrokerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            claim_batch: 16,
        }
    }
}

impl SqlBrokerConfig {
    /// Sets [`SqlBrokerConfig::poll_interval`].
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets [`SqlBrokerConfig::claim_batch`] (at least 1).
    #[must_use]
    pub fn claim_batch(mut self, batch: u32) -> Self {
        self.claim_batch = batch.max(1);
        self
    }
}

/// A [`Broker`] whose queues are tables of a SQLite or PostgreSQL
/// database: the same contract as NATS JetStream or RabbitMQ, with nothing
/// but the database.
///
/// - **Durable.** A publication returns once its row is committed; a
///   message stays in the database until a subscriber acknowledges it, so
///   a crash loses nothing and a restarted process delivers whatever was
///   not acknowledged.
/// - **Leases.** A delivered message is leased to its subscriber for the
///   subscription's `ack_wait` (extended by
///   [`keep_alive`](bisslog_messaging::Delivery::keep_alive)); a
///   delivery dropped unsettled is delivered again at once, one whose
///   process died when its lease runs out.
/// - **Competing consumers.** Every subscriber of a queue, in this process
///   or in another on the same database, takes its own messages (on
///   PostgreSQL with `FOR UPDATE SKIP LOCKED`).
/// - **No busy polling.** Publications and retries made in this process
///   wake its subscribers at once; other processes' are seen within
///   [`SqlBrokerConfig::poll_interval`].
/// - **Events.** An [event queue](QueueKind::Event) keeps a copy per
///   consumer name: the queue `<queue>.<consumer>`, recorded at the
///   consumer name's first subscription, which each event published
///   afterwards is stored in (one statement for all the copies); an event
///   published while no consumer name has a copy reaches no one.
/// - **At least once.** A message whose acknowledgement is lost is
///   delivered again; consumers with `exactly-once` drop the copy in their
///   inbox. Publishing a message id the queue still holds stores it once.
///
/// ```no_run
/// use bisslog_messaging::{Broker, Message};
/// use bisslog_sql::SqlBroker;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let broker = SqlBroker::connect("sqlite://broker.db").await?;
/// broker.provision("greetings").await?;
/// broker.publish("greetings", &Message::new(&br#"{"name":"Ana"}"#[..])).await?;
/// assert_eq!(broker.depth("greetings").await?, Some(1));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqlBroker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    config: SqlBrokerConfig,
}

impl SqlBroker {
    /// Opens the database a URL names (`sqlite://broker.db`,
    /// `postgres://...`) and creates the broker's tables when missing.
    pub async fn connect(url: &str) -> Result<Self, SqlError> {
        Self::open(Database::connect(url).await?).await
    }

    /// A broker on a database already open (a service's own, so its
    /// outbox and queues live together), creating the broker's tables when
    /// missing.
    pub async fn open(db: Database) -> Result<Self, SqlError> {
        db.migrate_framework().await?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                config: SqlBrokerConfig::default(),
            }),
        })
    }

    /// Replaces the configuration (of this handle and the clones made
    /// from it afterwards).
    #[must_use]
    pub fn config(self, config: SqlBrokerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                db: self.inner.db.clone(),
                config,
            }),
        }
    }

    /// The database the queues live in.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    async fn queue_exists(&self, queue: &str) -> Result<bool, BrokerError> {
        let count: i64 = on_engine!(self.inner.db.pool(), pool => {
            sqlx::query_scalar(sql::QUEUE_EXISTS).bind(queue).fetch_one(pool).await
        })
        .map_err(|e| broker_error("looking the queue up", e))?;
        Ok(count > 0)
    }

    /// Records an event queue (`consumer` empty) or a consumer name's
    /// copy of it.
    async fn record_event(&self, queue: &str, consumer: &str) -> Result<(), BrokerError> {
        on_engine!(self.inner.db.pool(), pool => {
            sqlx::query(sql::PROVISION_EVENT)
                .bind(queue)
                .bind(consumer)
                .bind(now_ms())
                .execute(pool)
                .await
                .map(drop)
        })
        .map_err(|e| BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: broker_error("provisioning", e).to_string(),
        })
    }

    async fn event_exists(&self, queue: &str, consumer: &str) -> Result<bool, BrokerError> {
        let count: i64 = on_engine!(self.inner.db.pool(), pool => {
            sqlx::query_scalar(sql::EVENT_EXISTS).bind(queue).bind(consumer).fetch_one(pool).await
        })
        .map_err(|e| broker_error("looking the event queue up", e))?;
        Ok(count > 0)
    }
}

impl Broker for SqlBroker {
    fn name(&self) -> &str {
        "sql"
    }

    fn system(&self) -> &'static str {
        match self.inner.db.backend() {
            crate::Backend::Sqlite => "sqlite",
            crate::Backend::Postgres => "postgresql",
        }
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            on_engine!(self.inner.db.pool(), pool => {
                sqlx::query(sql::PROVISION)
                    .bind(queue)
                    .bind(now_ms())
                    .execute(pool)
                    .await
                    .map(drop)
            })
            .map_err(|e| BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: broker_error("provisioning", e).to_string(),
            })
        })
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.insert(queue, QueueKind::Command, message))
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
            QueueKind::Command => self.provision(queue),
            QueueKind::Event => Box::pin(self.record_event(queue, "")),
        }
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.insert(queue, kind, message))
    }

    /// One transaction for the whole batch: the outbox relay's events go
    /// out in one commit rather than one each.
    fn publishes_batches(&self) -> bool {
        true
    }

    fn publish_batch<'a>(
        &'a self,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.insert_batch(batch))
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(async move {
            // An event's subscribers take from their consumer name's copy.
            let queue = match subscription.kind {
                QueueKind::Event => event_copy_name(&subscription.queue, &subscription.consumer),
                _ => subscription.queue.clone(),
            };
            let exists = match subscription.kind {
                QueueKind::Event => {
                    self.event_exists(&subscription.queue, &subscription.consumer)
                        .await?
                }
                _ => self.queue_exists(&queue).await?,
            };
            if subscription.provision {
                if subscription.kind == QueueKind::Event {
                    self.record_event(&subscription.queue, "").await?;
                    self.record_event(&subscription.queue, &subscription.consumer)
                        .await?;
                }
                self.provision(&queue).await?;
            } else if !exists {
                return Err(BrokerError::Provisioning {
                    queue: subscription.queue.clone(),
                    message: "the queue does not exist and provisioning is off".to_owned(),
                });
            }
            let config = &self.inner.config;
            Ok(Claimer::new(
                self.inner.db.clone(),
                &queue,
                subscription.prefetch,
                subscription.ack_wait,
                config.poll_interval,
                config.claim_batch,
            )
            .into_deliveries())
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            on_engine!(self.inner.db.pool(), pool => {
                sqlx::query("SELECT 1").execute(pool).await.map(drop)
            })
            .map_err(|e| broker_error("answering a ping", e))
        })
    }

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        Box::pin(async move {
            let count: i64 = on_engine!(self.inner.db.pool(), pool => {
                sqlx::query_scalar(sql::DEPTH).bind(queue).fetch_one(pool).await
            })
            .map_err(|e| broker_error("counting messages", e))?;
            Ok(Some(u64::try_from(count).unwrap_or(0)))
        })
    }

    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, BrokerError>> {
        Box::pin(async move {
            let oldest: Option<i64> = on_engine!(self.inner.db.pool(), pool => {
                sqlx::query_scalar(sql::OLDEST).bind(queue).fetch_optional(pool).await
            })
            .map_err(|e| broker_error("reading the oldest message", e))?;
            let age_ms = oldest.map_or(0, |created| now_ms().saturating_sub(created).max(0));
            Ok(Some(std::time::Duration::from_millis(
                u64::try_from(age_ms).unwrap_or(0),
            )))
        })
    }
}
