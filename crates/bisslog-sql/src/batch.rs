//! Group commit on SQLite: the units of work of concurrent calls share one
//! transaction, each in a savepoint of its own.
//!
//! SQLite has one writer at a time, and every unit of work of its own costs
//! a pool acquisition, `BEGIN IMMEDIATE` and `COMMIT` (a WAL append), each a
//! round trip to sqlx's connection thread. With group commit
//! (`sqlite://file.db?group_commit=64`) units of work take turns, in the
//! order they asked, on one connection inside one transaction:
//!
//! - a unit of work's first join waits for its turn (at most the busy
//!   timeout, 5 s, as `BEGIN IMMEDIATE` waited for the write lock); its
//!   first statement begins the transaction if none is open and opens its
//!   `SAVEPOINT` (a consumer's inbox record rides with it);
//! - its commit leaves the savepoint to be released and passes the turn
//!   on, and returns only once the transaction's `COMMIT` has: nothing is
//!   reported done (a message acknowledged, a response sent) before it is
//!   durable, as without group commit. The transaction commits when the
//!   units of work waiting for a turn when the last one committed have had
//!   theirs (a committer task queues for a turn behind them), or at once
//!   when `max` have committed;
//! - its rollback, or its drop unended (a cancelled call), leaves the
//!   savepoint to be rolled back: only its own writes are undone;
//! - what a savepoint leaves is done by the statement that comes next
//!   anyway (`RELEASE bisslog_work; SAVEPOINT bisslog_work`, or `...;
//!   COMMIT`), in the same round trip to SQLite's thread: a unit of work
//!   costs one round trip of the framework's own besides its statements;
//! - a failed `COMMIT` (or any statement that leaves the transaction in an
//!   unknown state) fails every unit of work of the batch: none is reported
//!   done, and their messages come back (the inbox rows went with the
//!   rollback, so exactly-once holds).
//!
//! Writes outside units of work ([`BatchTurn`]: the relay's, leases', a
//! transaction of its own) take the same turn, after the open transaction
//! commits.
//!
//! The price: a unit of work's commit waits for the others of its batch, and
//! one that holds its turn while it awaits something slow holds up every
//! other writer, as it held SQLite's write lock without group commit.

use std::sync::{Arc, OnceLock, Weak};

use bisslog_core::{Error, ErrorKind, UseCaseError as _};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

use crate::database::health::Health;
use crate::database::{BUSY_TIMEOUT, Database, PooledConnection};
use crate::session::Connection;

/// The inbox's record, as [`Member::record`] sends it: `RETURNING` tells a
/// new record from a known one (the changes SQLite counts are not this
/// statement's when it follows others in one round trip).
macro_rules! record {
    () => {
        "INSERT INTO bisslog_inbox (consumer, message_id, handled_at_ms) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1"
    };
}

/// What is left of the last unit of work's savepoint (one name for all:
/// turns never overlap, so savepoints never nest). It is ended by the
/// statement sent next anyway, in the same round trip to SQLite's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// No transaction yet: the next unit of work begins it.
    NotBegun,
    Nothing,
    /// Committed: released before what comes next.
    Release,
    /// Rolled back, or dropped unended (a cancelled call): its writes are
    /// undone before what comes next.
    RollBack,
    /// A statement that opens a savepoint or commits was sent and its
    /// caller dropped before the answer (a cancelled call): SQLite may
    /// have run it or not. Nobody can tell what the transaction holds, so
    /// the next holder of the turn fails it (its units of work are not
    /// reported done) and begins afresh.
    Unknown,
}

/// What opens the next unit of work's savepoint after what `Left` names
/// (a literal, so that [`Left::opening_with_record`] can append to it).
macro_rules! opening {
    (NotBegun) => {
        "BEGIN IMMEDIATE; SAVEPOINT bisslog_work"
    };
    (Nothing) => {
        "SAVEPOINT bisslog_work"
    };
    (Release) => {
        "RELEASE bisslog_work; SAVEPOINT bisslog_work"
    };
    (RollBack) => {
        "ROLLBACK TO bisslog_work; RELEASE bisslog_work; SAVEPOINT bisslog_work"
    };
}

impl Left {
    /// What opens the next unit of work's savepoint after this.
    fn opening(self) -> &'static str {
        match self {
            Left::NotBegun => opening!(NotBegun),
            Left::Nothing => opening!(Nothing),
            Left::Release => opening!(Release),
            Left::RollBack | Left::Unknown => opening!(RollBack),
        }
    }

    /// The same, then the inbox's record: a consumer's unit of work opens
    /// with it, in one round trip.
    fn opening_with_record(self) -> &'static str {
        match self {
            Left::NotBegun => concat!(opening!(NotBegun), "; ", record!()),
            Left::Nothing => concat!(opening!(Nothing), "; ", record!()),
            Left::Release => concat!(opening!(Release), "; ", record!()),
            Left::RollBack | Left::Unknown => concat!(opening!(RollBack), "; ", record!()),
        }
    }

    /// What commits the transaction after this (`None`: none was begun).
    fn commit(self) -> Option<&'static str> {
        match self {
            Left::NotBegun => None,
            Left::Nothing => Some("COMMIT"),
            Left::Release => Some("RELEASE bisslog_work; COMMIT"),
            Left::RollBack | Left::Unknown => {
                Some("ROLLBACK TO bisslog_work; RELEASE bisslog_work; COMMIT")
            }
        }
    }
}

/// The group commit of one database (shared by its clones).
#[derive(Debug)]
pub(crate) struct GroupCommit {
    turn: Arc<Mutex<Batch>>,
    /// Tells the committer a transaction may be left to commit.
    due: Arc<Notify>,
    /// The most units of work one transaction holds.
    max: usize,
    store: Store,
    committer: OnceLock<()>,
}

/// The open transaction, if any, and who waits for its `COMMIT`.
#[derive(Debug, Default)]
struct Batch {
    open: Option<Open>,
}

struct Open {
    conn: PooledConnection,
    /// The units of work that committed, waiting for the `COMMIT`.
    released: Vec<oneshot::Sender<Outcome>>,
    left: Left,
}

impl std::fmt::Debug for Open {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Open")
            .field("released", &self.released.len())
            .field("left", &self.left)
            .finish_non_exhaustive()
    }
}

/// What a batch's `COMMIT` came to, for each of its units of work.
type Outcome = Result<(), Shared>;

/// Why a shared transaction failed, as each of its units of work reports
/// it: always transient (`Unavailable`: a consumer retries the message, an
/// HTTP caller gets 503 with `Retry-After`), since most of them did
/// nothing wrong; with the cause's own code when the cause is a storage or
/// connection fault (`database-storage-full`...), else
/// `group-commit-failed`.
#[derive(Debug, Clone)]
struct Shared {
    code: String,
    message: String,
}

impl Shared {
    fn of(cause: &Error) -> Self {
        let code = match cause.kind() {
            ErrorKind::Unavailable | ErrorKind::Connection | ErrorKind::Timeout => {
                cause.code().into_owned()
            }
            _ => "group-commit-failed".to_owned(),
        };
        Self {
            code,
            message: format!(
                "the transaction this call shared with others failed (group commit): {cause}"
            ),
        }
    }

    fn error(self) -> Error {
        Error::new(ErrorKind::Unavailable, self.code, self.message)
    }
}

impl GroupCommit {
    /// The group commit of a database whose health is `health`.
    pub(crate) fn new(max: usize, health: Arc<Health>, in_memory: bool) -> Self {
        Self {
            turn: Arc::new(Mutex::new(Batch::default())),
            due: Arc::new(Notify::new()),
            max: max.max(1),
            store: Store { health, in_memory },
            committer: OnceLock::new(),
        }
    }

    /// The most units of work one transaction holds.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Waits for the turn of a unit of work of `db`. Its savepoint is
    /// opened with its first statement ([`Member::open`], or
    /// [`Member::record`] for a consumer's inbox).
    pub(crate) async fn join(&self, db: &Database) -> Result<Member, Error> {
        self.committer.get_or_init(|| {
            // Not the database itself: the task would keep it (and this)
            // alive forever.
            tokio::spawn(commit_when_due(
                Arc::downgrade(&self.turn),
                Arc::clone(&self.due),
                self.store.clone(),
            ));
        });
        let mut batch = tokio::time::timeout(BUSY_TIMEOUT, Arc::clone(&self.turn).lock_owned())
            .await
            .map_err(|_| busy())?;
        let store = self.store.clone();
        if batch
            .open
            .as_ref()
            .is_some_and(|open| open.left == Left::Unknown)
        {
            fail(&mut batch, &store, &unknown());
        }
        if batch.open.is_none() {
            batch.open = Some(Open {
                conn: db.acquire().await?,
                released: Vec::new(),
                left: Left::NotBegun,
            });
        }
        Ok(Member {
            turn: Turn {
                batch,
                due: Arc::clone(&self.due),
                inside: false,
            },
            store,
            max: self.max,
        })
    }
}

/// The turn of a write outside units of work (the outbox relay's, a
/// lease's, a transaction of its own): the shared transaction has
/// committed, and no unit of work begins until this is dropped. Without
/// it such writes wait for SQLite's write lock with the busy handler's
/// sleeps and, under load, find it free only between shared transactions;
/// with it they wait in line like any unit of work.
pub(crate) struct BatchTurn {
    _batch: OwnedMutexGuard<Batch>,
}

impl GroupCommit {
    /// Waits for the turn (at most the busy timeout), commits the shared
    /// transaction if one is open, and holds the turn.
    pub(crate) async fn write_turn(&self) -> Result<BatchTurn, Error> {
        let (give, take) = oneshot::channel();
        let turn = Arc::clone(&self.turn);
        let store = self.store.clone();
        // On a task of its own: a caller cancelled during the `COMMIT`
        // would leave the units of work of the transaction not knowing
        // whether it committed. A caller gone by then drops the turn.
        tokio::spawn(async move {
            let mut batch = turn.lock_owned().await;
            commit(&mut batch, &store).await;
            let _ = give.send(batch);
        });
        match tokio::time::timeout(BUSY_TIMEOUT, take).await {
            Ok(Ok(batch)) => Ok(BatchTurn { _batch: batch }),
            Ok(Err(_)) => Err(ended()),
            Err(_) => Err(busy()),
        }
    }
}

/// Waiting for the turn took longer than SQLite's busy timeout.
fn busy() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "database-busy",
        "waited 5 s for a turn to write to the database (group commit): a unit of work holds it",
    )
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        // The committer sees the batch gone and ends.
        self.due.notify_one();
    }
}

/// A unit of work's turn on the batch's connection, inside its savepoint
/// once `inside`.
pub(crate) struct Member {
    turn: Turn,
    store: Store,
    max: usize,
}

/// The turn itself: given back (and the committer told) when dropped.
struct Turn {
    batch: OwnedMutexGuard<Batch>,
    due: Arc<Notify>,
    inside: bool,
}

/// The transaction ended under a unit of work still using it.
fn ended() -> Error {
    Error::internal("the group commit's transaction has ended; this is a bug in bisslog-sql")
}

impl Member {
    /// The connection to run statements on (after [`Member::open`]).
    pub(crate) fn connection(&mut self) -> Result<Connection<'_>, Error> {
        match &mut self.turn.batch.open {
            Some(open) if self.turn.inside => Ok(open.conn.connection()),
            _ => Err(ended()),
        }
    }

    /// Opens the unit of work's savepoint, if not yet.
    pub(crate) async fn open(&mut self) -> Result<(), Error> {
        if self.turn.inside {
            return Ok(());
        }
        let Some(open) = &mut self.turn.batch.open else {
            return Err(ended());
        };
        let sql = open.left.opening();
        open.left = Left::Unknown;
        let result = open.conn.run_raw(sql).await;
        self.opened(result)
    }

    /// Opens the savepoint if not yet and records `message_id` in the
    /// inbox, in one round trip: `false` when it was recorded before.
    pub(crate) async fn record(
        &mut self,
        consumer: &str,
        message_id: &str,
        now_ms: i64,
    ) -> Result<bool, Error> {
        let opening = !self.turn.inside;
        let Some(open) = &mut self.turn.batch.open else {
            return Err(ended());
        };
        let PooledConnection::Sqlite(conn) = &mut open.conn else {
            return Err(Error::internal("group commit is for SQLite"));
        };
        let sql = if opening {
            let sql = open.left.opening_with_record();
            open.left = Left::Unknown;
            sql
        } else {
            record!()
        };
        let rows = sqlx::query(sql)
            .bind(consumer)
            .bind(message_id)
            .bind(now_ms)
            .fetch_all(&mut **conn)
            .await;
        let recorded = rows.as_ref().map(|rows| !rows.is_empty()).unwrap_or(false);
        if opening {
            self.opened(rows.map(drop))?;
            Ok(recorded)
        } else {
            // A failed record inside the savepoint fails this unit of work
            // only: its caller rolls it back.
            rows.map(|_| recorded).map_err(|e| self.store.failed(e))
        }
    }

    /// Notes how opening the savepoint went; a failure leaves the
    /// transaction in a state nobody knows, so it fails the batch.
    fn opened(&mut self, result: Result<(), sqlx::Error>) -> Result<(), Error> {
        match result {
            Ok(()) => {
                if let Some(open) = &mut self.turn.batch.open {
                    open.left = Left::Nothing;
                }
                self.turn.inside = true;
                Ok(())
            }
            Err(error) => {
                let error = self.store.failed(error);
                fail(&mut self.turn.batch, &self.store, &error);
                Err(error)
            }
        }
    }

    /// Leaves the savepoint to be released with the next statement and
    /// waits for the batch's `COMMIT`.
    pub(crate) async fn commit(self) -> Result<(), Error> {
        let Member {
            mut turn,
            store,
            max,
        } = self;
        if !turn.inside {
            // It wrote nothing (its savepoint was never opened).
            return match turn.batch.open {
                Some(_) => Ok(()),
                None => Err(ended()),
            };
        }
        let (answer, outcome) = oneshot::channel();
        let full = match &mut turn.batch.open {
            Some(open) => {
                open.left = Left::Release;
                open.released.push(answer);
                open.released.len() >= max
            }
            None => return Err(ended()),
        };
        turn.inside = false;
        if full {
            // On a task of its own, holding the turn: a caller cancelled
            // meanwhile would leave the others of the transaction not
            // knowing whether it committed.
            tokio::spawn(async move {
                commit(&mut turn.batch, &store).await;
                drop(turn);
            });
        } else {
            // The turn passes on here (and the committer is told): it
            // queues behind whoever waits for the turn now.
            drop(turn);
        }
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(shared)) => Err(shared.error()),
            Err(_) => Err(Error::new(
                ErrorKind::Unavailable,
                "group-commit-failed",
                "the transaction ended unanswered (the runtime is shutting down); nothing of this unit of work is known to be kept",
            )),
        }
    }

    /// Undoes the unit of work's writes (only its own), with the next
    /// statement: whatever comes of that, none of them is kept.
    pub(crate) async fn rollback(self) -> Result<(), Error> {
        // Dropped inside its savepoint: rolled back (`Turn`'s `Drop`).
        drop(self);
        Ok(())
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.inside
            && let Some(open) = &mut self.batch.open
        {
            // Rolled back, or dropped unended (a cancelled call).
            open.left = Left::RollBack;
        }
        // Nobody may come after: the committer ends the transaction (or
        // gives back a connection no one began one on).
        self.due.notify_one();
    }
}

/// Commits the open transaction and answers its units of work.
async fn commit(batch: &mut Batch, store: &Store) {
    let Some(open) = &mut batch.open else {
        return;
    };
    if open.left == Left::Unknown {
        fail(batch, store, &unknown());
        return;
    }
    let Some(sql) = open.left.commit() else {
        // Nothing was begun: the connection goes back to the pool.
        batch.open = None;
        return;
    };
    // Dropped before the answer (the runtime shutting down), the next
    // holder of the turn, if any, fails the transaction.
    open.left = Left::Unknown;
    match open.conn.run_raw(sql).await {
        Ok(()) => {
            store.health.note_write();
            if let Some(mut open) = batch.open.take() {
                for answer in open.released.drain(..) {
                    let _ = answer.send(Ok(()));
                }
                // Committed cleanly: kept for the next batch.
                open.conn.reusable();
            }
            // The connection goes back between batches: an in-memory
            // database has only the one.
        }
        Err(error) => {
            let error = store.failed(error);
            fail(batch, store, &error);
        }
    }
}

/// Why a transaction whose state is unknown was given up.
fn unknown() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "database-busy",
        "a call was cancelled while SQLite ran a statement of the shared transaction; nobody knows what it holds, so it was rolled back",
    )
}

/// Ends the transaction in failure: every unit of work released into it
/// gets the error, and its connection, in a state nobody knows, is closed
/// (which rolls back whatever it held).
fn fail(batch: &mut Batch, store: &Store, error: &Error) {
    let Some(mut open) = batch.open.take() else {
        return;
    };
    let shared = Shared::of(error);
    for answer in open.released.drain(..) {
        let _ = answer.send(Err(shared.clone()));
    }
    if store.in_memory {
        // Its one connection is the database: the pool rolls it back when
        // it comes back instead.
        return;
    }
    open.conn.discard();
}

/// Commits the batch once the units of work waiting for a turn when it
/// was told have had theirs (the turn is first come, first served), and
/// ends a transaction nobody is left to commit.
async fn commit_when_due(turn: Weak<Mutex<Batch>>, due: Arc<Notify>, store: Store) {
    loop {
        due.notified().await;
        let Some(turn) = turn.upgrade() else {
            return;
        };
        let mut batch = turn.lock_owned().await;
        commit(&mut batch, &store).await;
    }
}

/// What ending a transaction needs of its database.
#[derive(Clone, Debug)]
struct Store {
    health: Arc<Health>,
    in_memory: bool,
}

impl Store {
    /// A failed statement, noted for the readiness check.
    fn failed(&self, error: sqlx::Error) -> Error {
        self.health.note_error(&error);
        crate::error::map_error(error)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::future::Future;
    use std::task::Poll;

    use super::*;

    /// Whether SQLite ran a statement whose caller was dropped before the
    /// answer cannot be told (sqlx runs what was sent; how far depends on
    /// timing), so the transaction is marked unknown and the next holder
    /// of the turn gives it up rather than guess. The statement is held
    /// back by another connection's write lock, so it is surely still with
    /// SQLite's thread when its caller is dropped.
    #[tokio::test]
    async fn a_statement_cancelled_mid_flight_leaves_the_transaction_unknown() {
        let path = std::env::temp_dir().join(format!(
            "bisslog-batch-{}-{}.db",
            std::process::id(),
            now_nanos()
        ));
        let url = format!("sqlite://{}", path.display());
        let plain = Database::connect(&url).await.unwrap();
        plain.migrate_framework().await.unwrap();
        let db = Database::connect(&format!("{url}?group_commit=8"))
            .await
            .unwrap();
        let group = db.batches().unwrap();

        let blocker = crate::work::Tx::begin(&plain).await.unwrap();
        let mut member = group.join(&db).await.unwrap();
        {
            let mut record = Box::pin(member.record("consumer", "m-1", 0));
            let first = std::future::poll_fn(|cx| Poll::Ready(record.as_mut().poll(cx))).await;
            assert!(first.is_pending(), "{first:?}");
        }
        assert_eq!(member.turn.batch.open.as_ref().unwrap().left, Left::Unknown);
        drop(member);
        blocker.rollback().await.unwrap();

        // The next unit of work gives the transaction up and begins afresh.
        let mut next = group.join(&db).await.unwrap();
        assert_eq!(next.turn.batch.open.as_ref().unwrap().left, Left::NotBegun);
        assert!(next.record("consumer", "m-2", 0).await.unwrap());
        next.commit().await.unwrap();
        let recorded: Vec<String> = sqlx::query_scalar("SELECT message_id FROM bisslog_inbox")
            .fetch_all(plain.sqlite().unwrap())
            .await
            .unwrap();
        assert_eq!(recorded, ["m-2"], "the cancelled record is not kept");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    fn now_nanos() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    }
}
