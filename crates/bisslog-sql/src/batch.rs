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
//!   timeout, 5 s, as `BEGIN IMMEDIATE` waited for the write lock), begins
//!   the transaction if none is open, then opens its `SAVEPOINT`;
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
//! The price: a unit of work's commit waits for the others of its batch, and
//! one that holds its turn while it awaits something slow holds up every
//! other writer, as it held SQLite's write lock without group commit.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bisslog_core::{Error, ErrorKind, UseCaseError as _};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

use crate::database::health::Health;
use crate::database::{Database, PooledConnection};
use crate::session::Connection;

/// How long a unit of work waits for its turn: SQLite's busy timeout,
/// which `BEGIN IMMEDIATE` waits for the write lock without group commit.
const TURN_PATIENCE: Duration = Duration::from_secs(5);

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
}

impl Left {
    /// What opens the next unit of work's savepoint after this.
    fn opening(self) -> &'static str {
        match self {
            Left::NotBegun => "BEGIN IMMEDIATE; SAVEPOINT bisslog_work",
            Left::Nothing => "SAVEPOINT bisslog_work",
            Left::Release => "RELEASE bisslog_work; SAVEPOINT bisslog_work",
            Left::RollBack => {
                "ROLLBACK TO bisslog_work; RELEASE bisslog_work; SAVEPOINT bisslog_work"
            }
        }
    }

    /// The same, then the inbox's record: a consumer's unit of work opens
    /// with it, in one round trip.
    fn opening_with_record(self) -> &'static str {
        match self {
            Left::NotBegun => concat!("BEGIN IMMEDIATE; SAVEPOINT bisslog_work; ", record!()),
            Left::Nothing => concat!("SAVEPOINT bisslog_work; ", record!()),
            Left::Release => concat!("RELEASE bisslog_work; SAVEPOINT bisslog_work; ", record!()),
            Left::RollBack => concat!(
                "ROLLBACK TO bisslog_work; RELEASE bisslog_work; SAVEPOINT bisslog_work; ",
                record!()
            ),
        }
    }

    /// What commits the transaction after this (`None`: none was begun).
    fn commit(self) -> Option<&'static str> {
        match self {
            Left::NotBegun => None,
            Left::Nothing => Some("COMMIT"),
            Left::Release => Some("RELEASE bisslog_work; COMMIT"),
            Left::RollBack => Some("ROLLBACK TO bisslog_work; RELEASE bisslog_work; COMMIT"),
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
type Outcome = Result<(), (ErrorKind, String)>;

impl GroupCommit {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            turn: Arc::new(Mutex::new(Batch::default())),
            due: Arc::new(Notify::new()),
            max: max.max(1),
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
                Store::of(db),
            ));
        });
        let mut batch = tokio::time::timeout(TURN_PATIENCE, Arc::clone(&self.turn).lock_owned())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Unavailable,
                    "database-busy",
                    "waited 5 s for a turn to write to the database (group commit): a unit of work holds it",
                )
            })?;
        if batch.open.is_none() {
            batch.open = Some(Open {
                conn: db.acquire().await?,
                released: Vec::new(),
                left: Left::NotBegun,
            });
        }
        Ok(Member {
            batch,
            store: Store::of(db),
            due: Arc::clone(&self.due),
            max: self.max,
            inside: false,
        })
    }
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
    batch: OwnedMutexGuard<Batch>,
    store: Store,
    due: Arc<Notify>,
    max: usize,
    inside: bool,
}

/// The transaction ended under a unit of work still using it.
fn ended() -> Error {
    Error::internal("the group commit's transaction has ended; this is a bug in bisslog-sql")
}

impl Member {
    /// The connection to run statements on (after [`Member::open`]).
    pub(crate) fn connection(&mut self) -> Result<Connection<'_>, Error> {
        match &mut self.batch.open {
            Some(open) if self.inside => Ok(open.conn.connection()),
            _ => Err(ended()),
        }
    }

    /// Opens the unit of work's savepoint, if not yet.
    pub(crate) async fn open(&mut self) -> Result<(), Error> {
        if self.inside {
            return Ok(());
        }
        let Some(open) = &mut self.batch.open else {
            return Err(ended());
        };
        let result = open.conn.run_raw(open.left.opening()).await;
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
        let opening = !self.inside;
        let Some(open) = &mut self.batch.open else {
            return Err(ended());
        };
        let PooledConnection::Sqlite(conn) = &mut open.conn else {
            return Err(Error::internal("group commit is for SQLite"));
        };
        let sql = if opening {
            open.left.opening_with_record()
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
                if let Some(open) = &mut self.batch.open {
                    open.left = Left::Nothing;
                }
                self.inside = true;
                Ok(())
            }
            Err(error) => {
                let error = self.store.failed(error);
                fail(&mut self.batch, &self.store, &error);
                Err(error)
            }
        }
    }

    /// Leaves the savepoint to be released with the next statement and
    /// waits for the batch's `COMMIT`.
    pub(crate) async fn commit(mut self) -> Result<(), Error> {
        if !self.inside {
            // It wrote nothing (its savepoint was never opened).
            return match self.batch.open {
                Some(_) => Ok(()),
                None => Err(ended()),
            };
        }
        let (answer, outcome) = oneshot::channel();
        let full = match &mut self.batch.open {
            Some(open) => {
                open.left = Left::Release;
                open.released.push(answer);
                open.released.len() >= self.max
            }
            None => return Err(ended()),
        };
        self.inside = false;
        if full {
            commit(&mut self.batch, &self.store).await;
        }
        // The turn passes on here (and the committer is told, `Drop`): it
        // queues behind whoever waits for the turn now.
        drop(self);
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err((kind, message))) => Err(Error::new(kind, "group-commit-failed", message)),
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
        // Dropped inside its savepoint: rolled back (see `Drop`).
        drop(self);
        Ok(())
    }
}

impl Drop for Member {
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
    let Some(mut open) = batch.open.take() else {
        return;
    };
    let Some(sql) = open.left.commit() else {
        // Nothing was begun: the connection goes back to the pool.
        return;
    };
    match open.conn.run_raw(sql).await {
        Ok(()) => {
            store.health.note_write();
            for answer in open.released.drain(..) {
                let _ = answer.send(Ok(()));
            }
            // The connection goes back to the pool between batches: an
            // in-memory database has only the one.
        }
        Err(error) => {
            let error = store.failed(error);
            batch.open = Some(open);
            fail(batch, store, &error);
        }
    }
}

/// Ends the transaction in failure: every unit of work released into it
/// gets the error, and its connection, in a state nobody knows, is closed
/// (which rolls back whatever it held).
fn fail(batch: &mut Batch, store: &Store, error: &Error) {
    let Some(mut open) = batch.open.take() else {
        return;
    };
    let message =
        format!("the shared transaction of this unit of work failed (group commit): {error}");
    for answer in open.released.drain(..) {
        let _ = answer.send(Err((error.kind(), message.clone())));
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
#[derive(Clone)]
struct Store {
    health: Arc<Health>,
    in_memory: bool,
}

impl Store {
    fn of(db: &Database) -> Self {
        Self {
            health: Arc::clone(db.health()),
            in_memory: db.in_memory(),
        }
    }

    /// A failed statement, noted for the readiness check.
    fn failed(&self, error: sqlx::Error) -> Error {
        self.health.note_error(&error);
        crate::error::map_error(error)
    }
}
