//! The unit of work over SQLite or PostgreSQL: one transaction per
//! use-case call (or, under SQLite's group commit, a savepoint in a
//! transaction shared with the calls around it: `crate::batch`), begun when
//! an adapter first joins it, committed or rolled back by the runtime, and
//! the inbox kept inside it.

use std::any::Any;
use std::sync::{Arc, PoisonError};

use bisslog_core::{BoxFuture, Error};
use bisslog_messaging::{UnitOfWork, Work};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::batch::Member;
use crate::clock::now_ms;
use crate::database::WriteTurn;
use crate::database::{Backend, Database, PooledConnection};
use crate::on_engine;
use crate::session::Connection;

/// A transaction on either engine, on a connection of its own.
///
/// Transactions are begun and ended with plain `BEGIN`/`COMMIT`/`ROLLBACK`
/// rather than sqlx's `Transaction`: when sqlx's `COMMIT` fails (a full
/// disk), its rollback on drop may fail too and the connection goes back to
/// the pool believing it is still inside a transaction, so every later
/// `begin` on it fails. Here a connection whose transaction did not end
/// cleanly (a failed `COMMIT` or `ROLLBACK`, or a transaction dropped
/// unended by a cancelled call) is closed, which rolls back whatever it
/// held, and the pool opens a fresh one.
pub(crate) struct Tx {
    conn: PooledConnection,
    db: Database,
    open: bool,
    /// Its turn to write (`database/write_gate.rs`, or group commit's),
    /// dropped with it.
    _turn: Option<WriteTurn>,
}

impl Tx {
    /// Begins a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that reads and then writes would
    /// otherwise fail with `SQLITE_BUSY` when another writer got there
    /// first, instead of waiting its turn.
    pub(crate) async fn begin(db: &Database) -> Result<Tx, Error> {
        let turn = db.write_turn().await?;
        let conn = db.acquire().await?;
        let begin = match conn.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        // Open before the `BEGIN` is sent: a call cancelled while it waits
        // (for SQLite's write lock, held by another writer) drops the
        // transaction here, but the `BEGIN` still runs on the connection
        // afterwards. Pooled again, the connection would hold the write
        // lock for nobody, and the next call given it would fail with
        // "cannot start a transaction within a transaction" (seen as 500s
        // when load-test clients hung up). Dropped open, it is closed.
        let mut tx = Tx {
            conn,
            db: db.clone(),
            open: true,
            _turn: turn,
        };
        if let Err(error) = tx.conn.run_raw(begin).await {
            return Err(db.statement_failed(error));
        }
        Ok(tx)
    }

    pub(crate) fn backend(&self) -> Backend {
        self.conn.backend()
    }

    pub(crate) fn connection(&mut self) -> Connection<'_> {
        self.conn.connection()
    }

    pub(crate) async fn commit(mut self) -> Result<(), Error> {
        self.end("COMMIT").await?;
        self.db.health().note_write();
        Ok(())
    }

    pub(crate) async fn rollback(mut self) -> Result<(), Error> {
        self.end("ROLLBACK").await
    }

    async fn end(&mut self, statement: &'static str) -> Result<(), Error> {
        let result = self.conn.run_raw(statement).await;
        self.open = false;
        match result {
            Ok(()) => {
                // Ended cleanly: kept for the next transaction.
                self.conn.reusable();
                Ok(())
            }
            Err(error) => {
                // Nobody knows where the transaction stands now.
                self.discard();
                Err(self.db.statement_failed(error))
            }
        }
    }

    /// Closes the connection instead of pooling it again, which rolls back
    /// whatever it held. Not an in-memory database's: its one connection
    /// is the database, so its pool rolls back every connection it takes
    /// back instead (`Database::connect`).
    fn discard(&mut self) {
        if !self.db.in_memory() {
            self.conn.discard();
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open {
            // Dropped unended (a cancelled call).
            self.discard();
        }
    }
}

/// Where a unit of work stands.
pub(crate) enum Slot {
    /// No adapter has joined yet: no transaction, no connection held.
    Idle,
    Open(Joined),
    /// Committed or rolled back.
    Ended,
}

/// The transaction a unit of work's adapters joined.
pub(crate) enum Joined {
    /// A transaction of its own.
    Own(Tx),
    /// Its savepoint in the transaction of a group commit.
    Batch(Member),
}

impl Joined {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Joined::Own(tx) => tx.backend(),
            Joined::Batch(_) => Backend::Sqlite,
        }
    }

    pub(crate) fn connection(&mut self) -> Result<Connection<'_>, Error> {
        match self {
            Joined::Own(tx) => Ok(tx.connection()),
            Joined::Batch(member) => member.connection(),
        }
    }

    async fn commit(self) -> Result<(), Error> {
        match self {
            Joined::Own(tx) => tx.commit().await,
            Joined::Batch(member) => member.commit().await,
        }
    }

    async fn rollback(self) -> Result<(), Error> {
        match self {
            Joined::Own(tx) => tx.rollback().await,
            Joined::Batch(member) => member.rollback().await,
        }
    }
}

/// The unit of work of one use-case call on one [`Database`].
#[derive(Clone)]
pub(crate) struct SqlWork(Arc<Shared>);

struct Shared {
    db: Database,
    slot: Arc<Mutex<Slot>>,
    after_commit: std::sync::Mutex<Vec<Box<dyn FnOnce() + Send>>>,
}

impl SqlWork {
    fn new(db: Database) -> Self {
        Self(Arc::new(Shared {
            db,
            slot: Arc::new(Mutex::new(Slot::Idle)),
            after_commit: std::sync::Mutex::new(Vec::new()),
        }))
    }

    pub(crate) fn database_id(&self) -> u64 {
        self.0.db.id()
    }

    /// The open transaction, begun now if no one has joined yet.
    pub(crate) async fn open(&self) -> Result<OwnedMutexGuard<Slot>, Error> {
        let mut slot = self.join().await?;
        if let Slot::Open(Joined::Batch(member)) = &mut *slot {
            member.open().await?;
        }
        Ok(slot)
    }

    /// The joined slot; under group commit, its savepoint is opened with
    /// the first statement ([`Member`]).
    async fn join(&self) -> Result<OwnedMutexGuard<Slot>, Error> {
        let mut slot = Arc::clone(&self.0.slot).lock_owned().await;
        match &*slot {
            Slot::Open(_) => {}
            Slot::Idle => {
                let db = &self.0.db;
                *slot = Slot::Open(match db.batches() {
                    Some(batches) => Joined::Batch(batches.join(db).await?),
                    None => Joined::Own(Tx::begin(db).await?),
                });
            }
            Slot::Ended => {
                return Err(Error::internal(
                    "the use case's unit of work has already ended (was the database used from a task that outlived the call?)",
                ));
            }
        }
        Ok(slot)
    }

    /// The open transaction, if one has begun.
    pub(crate) async fn if_open(&self) -> Option<OwnedMutexGuard<Slot>> {
        let slot = Arc::clone(&self.0.slot).lock_owned().await;
        matches!(&*slot, Slot::Open(_)).then_some(slot)
    }

    /// Runs `hook` once the work has committed (dropped if it rolls back).
    pub(crate) fn after_commit(&self, hook: impl FnOnce() + Send + 'static) {
        self.0
            .after_commit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(hook));
    }

    async fn end(&self, commit: bool) -> Result<(), Error> {
        let mut slot = self.0.slot.lock().await;
        let result = match std::mem::replace(&mut *slot, Slot::Ended) {
            Slot::Open(tx) if commit => tx.commit().await,
            Slot::Open(tx) => tx.rollback().await,
            Slot::Idle => Ok(()),
            Slot::Ended => Err(Error::internal("the unit of work was ended twice")),
        };
        drop(slot);
        let hooks = std::mem::take(
            &mut *self
                .0
                .after_commit
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if commit && result.is_ok() {
            for hook in hooks {
                hook();
            }
        }
        result
    }
}

const RECORD: &str = "INSERT INTO bisslog_inbox (consumer, message_id, handled_at_ms) \
    VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

impl Work for SqlWork {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn record_message<'a>(
        &'a self,
        consumer: &'a str,
        message_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut slot = self.join().await?;
            let Slot::Open(joined) = &mut *slot else {
                return Err(Error::internal("the unit of work is not open"));
            };
            if let Joined::Batch(member) = joined {
                // Its savepoint and the record in one round trip.
                return member.record(consumer, message_id, now_ms()).await;
            }
            // On PostgreSQL a concurrent insert of the same id waits for
            // the other transaction, then sees its outcome: exactly one
            // of two redeliveries running at once gets `true`.
            let inserted = on_engine!(joined.connection()?, conn => {
                sqlx::query(RECORD)
                    .bind(consumer)
                    .bind(message_id)
                    .bind(now_ms())
                    .execute(conn)
                    .await
                    .map(|r| r.rows_affected())
            })
            .map_err(|e| self.0.db.statement_failed(e))?;
            Ok(inserted == 1)
        })
    }

    fn commit(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.end(true))
    }

    fn rollback(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.end(false))
    }
}

/// A database is a unit of work: give it to
/// `ServiceBuilder::unit_of_work` and every use-case call runs in one
/// transaction of it, joined by the adapters that use [`Database::begin`]
/// and by the outbox.
impl UnitOfWork for Database {
    fn begin(&self) -> Arc<dyn Work> {
        Arc::new(SqlWork::new(self.clone()))
    }

    fn id(&self) -> Option<bisslog_core::UnitOfWorkId> {
        Some(self.unit_of_work_id())
    }
}
