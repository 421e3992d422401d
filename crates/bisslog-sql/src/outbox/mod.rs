//! The transactional outbox: events stored in the same transaction as the
//! use case's writes, then relayed to the broker.

mod backoff;
mod relay;
mod rows;

use std::sync::Arc;

use bisslog_core::{Adapter, BoxFuture, Error, Event, Publisher};
use bisslog_messaging::Message;
use tokio::sync::Notify;

use crate::clock::now_ms;
use crate::database::Database;
use crate::error::map_error;
use crate::on_engine;

pub use relay::{OutboxRelay, RelayConfig, RelayHealth, RelayReport, RunningRelay};
pub use rows::OutboxRow;

const INSERT: &str = "INSERT INTO bisslog_outbox \
    (message_id, queue, ordering_key, event_type, transaction_id, headers, payload, created_at_ms, next_attempt_at_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

/// The [`Publisher`] that writes events to the `bisslog_outbox` table.
///
/// Inside a use case whose service runs in this database's unit of work
/// (`ServiceBuilder::unit_of_work(db)`), the event is written in the same
/// transaction as the use case's other writes: if the use case fails, the
/// event is never sent; if it succeeds, an [`OutboxRelay`] sends it, at
/// least once, in order per key. Outside any use case the row is committed
/// at once (see [`Outbox::store`]).
///
/// Every `Outbox` of the same [`Database`] (clones of it, or another
/// `Outbox::new` of a clone of the database) shares the relays' wake-up: an
/// event committed through one is relayed at once by a relay built from
/// any other, not at the next poll.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use bisslog_runtime::messaging::InProcessBroker;
/// use bisslog_sql::{Database, Outbox};
///
/// let db = Database::connect("sqlite://service.db").await?;
/// db.migrate(&[]).await?; // creates the outbox, inbox and lease tables
/// let outbox = Outbox::new(db.clone());
/// // bind `outbox` as the use cases' Publisher, `db` as the unit of work, then:
/// let relay = outbox.relay(InProcessBroker::new()).spawn();
/// // ...
/// relay.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Database,
}

impl Outbox {
    /// The outbox of `db` (migrated with [`Database::migrate`]).
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// A relay that sends this outbox's events through `broker`.
    pub fn relay(&self, broker: impl bisslog_messaging::Broker) -> OutboxRelay {
        OutboxRelay::new(self.clone(), broker)
    }

    /// The wake-up of the relays, the database's: shared by every
    /// `Outbox` of it.
    pub(crate) fn wake(&self) -> &Arc<Notify> {
        self.db.outbox_wake()
    }

    /// Stores a message for `queue`. Inside a use case it joins the call's
    /// unit of work and is sent when that commits (refused, as
    /// [`Database::begin`] refuses, when the call runs in no unit of work
    /// of this database: the event would go out even if the use case
    /// failed). Outside any use case it is committed, and sent, at once.
    pub async fn store(&self, queue: &str, message: &Message) -> Result<(), Error> {
        let headers = serde_json::to_string(&message.headers)
            .map_err(|e| Error::internal("the headers could not be stored").with_source(e))?;
        let now = now_ms();
        let in_a_call = bisslog_messaging::current::with(|ctx| ctx.is_some());
        let mut session = if in_a_call {
            self.db.begin().await?
        } else {
            self.db.transaction().await?
        };
        on_engine!(session.connection()?, conn => {
            sqlx::query(INSERT)
                .bind(&message.id)
                .bind(queue)
                .bind(message.key.as_deref())
                .bind(message.event_type.as_deref())
                .bind(message.transaction_id.as_deref())
                .bind(&headers)
                .bind(&message.payload[..])
                .bind(now)
                .execute(conn)
                .await
                .map(drop)
        })
        .map_err(map_error)?;
        let joined = session.is_joined();
        session.commit().await?;
        match self.db.current_work().filter(|_| joined) {
            Some(work) => {
                let wake = Arc::clone(self.wake());
                work.after_commit(move || wake.notify_one());
            }
            None => self.wake().notify_one(),
        }
        Ok(())
    }
}

impl Publisher for Outbox {
    fn publish<'a>(&'a self, queue: &'a str, event: Event) -> BoxFuture<'a, Result<(), Error>> {
        // Read now: the current transaction is the caller's.
        let message = Message::from_event(&event);
        Box::pin(async move { self.store(queue, &message).await })
    }
}

/// Bound with `ServiceBuilder::adapter`, the outbox requires its
/// database's unit of work: `build()` refuses the service without
/// `unit_of_work(db)` of the same `Database` (a clone of it).
impl Adapter for Outbox {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.db.ping())
    }

    fn required_unit_of_work(&self) -> Option<bisslog_core::UnitOfWorkId> {
        Some(self.db.unit_of_work_id())
    }
}
