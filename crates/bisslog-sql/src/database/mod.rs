//! A connection pool to SQLite or PostgreSQL, chosen by URL, that keeps
//! no connection it cannot trust and fails fast while its server is gone.

mod acquire;
pub(crate) use acquire::PooledConnection;
pub(crate) mod health;
mod kept;
mod readiness;
mod write_gate;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bisslog_core::{Adapter, BoxFuture};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::batch::GroupCommit;
use crate::error::SqlError;
use health::Health;
use kept::Keeper;
use write_gate::WriteGate;
pub(crate) use write_gate::WriteTurn;

/// How long a writer waits for SQLite's write lock (its busy timeout), and
/// so for its turn in the writers' line (`write_gate.rs`) or in group
/// commit (`crate::batch`), which stand in for that wait.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite: a file next to the service, the embedded default.
    Sqlite,
    /// PostgreSQL: shared by every instance of the service.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A pool of connections to SQLite or PostgreSQL. Cheap to clone; bind it
/// as the adapter of a database interaction so `/health/ready` asks it.
///
/// It survives faults by itself (docs/reliability.md): a connection whose
/// transaction state is unknown (a failed `COMMIT` or `ROLLBACK`, a call
/// cancelled mid-transaction) is closed, never reused; a SQLite storage
/// fault (full disk, read-only file, I/O error) retires every connection
/// opened before it; while a PostgreSQL server cannot be reached, sessions
/// fail at once as `Unavailable` (503) instead of waiting out the pool's
/// timeout, and the return of the server is noticed within a second.
///
/// ```no_run
/// # async fn run() -> Result<(), bisslog_sql::SqlError> {
/// use bisslog_sql::{Backend, Database};
///
/// let db = Database::connect("sqlite://data/service.db").await?;
/// assert_eq!(db.backend(), Backend::Sqlite);
/// let shared = Database::connect("postgres://app@db.internal/orders").await?;
/// assert_eq!(shared.backend(), Backend::Postgres);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool,
    /// Tells this database's units of work from another's.
    id: u64,
    health: Arc<Health>,
    /// Which database this is, for pools of one process that reach the
    /// same one (the URL without its password; unique for in-memory ones).
    location: Arc<str>,
    /// Wakes the outbox relays of this database when an event commits:
    /// shared by every [`Outbox`](crate::Outbox) of it, clones or not.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// SQLite's group commit (`?group_commit=N`), when on.
    group_commit: Option<Arc<GroupCommit>>,
    /// The queue of a SQLite file's writers without group commit
    /// (`write_gate.rs`); `None` on PostgreSQL and in memory.
    write_gate: Option<WriteGate>,
    /// The SQLite connections kept between the framework's statements
    /// (`kept.rs`); `None` on PostgreSQL and in memory.
    keeper: Option<Arc<Keeper>>,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Connects to the database a URL names: `sqlite://path/to/file.db`
    /// (created when missing; `sqlite::memory:` for a private in-memory
    /// database) or `postgres://user@host:port/database`.
    ///
    /// On a SQLite file the units of work of concurrent calls share one
    /// transaction, up to [`DEFAULT_GROUP_COMMIT`] of them (`?group_commit=N`
    /// sets another bound), each in a savepoint of its own
    /// (docs/reliability.md, "Group commit"): far fewer commits and
    /// hand-offs to SQLite's thread under load, at the price of a commit
    /// waiting for the others of its transaction. `?group_commit=0` gives
    /// every unit of work a transaction of its own.
    pub async fn connect(url: &str) -> Result<Self, SqlError> {
        let redacted = redact(url);
        let (url, group_commit) =
            take_group_commit(url).map_err(|reason| SqlError::InvalidUrl {
                url: redacted.clone(),
                reason,
            })?;
        let url = url.as_str();
        let health;
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| SqlError::InvalidUrl {
                    url: redacted.clone(),
                    reason: e.to_string(),
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true);
            // An in-memory database lives as long as its one connection.
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            health = Health::sqlite();
            let retiring = Arc::clone(&health);
            let mut pool = SqlitePoolOptions::new()
                .acquire_timeout(Duration::from_secs(5))
                // sqlx pings a pooled connection before handing it out,
                // which on SQLite is a round trip to the connection's
                // thread (a wake-up there and one back) for every
                // statement and transaction: it found a broken network
                // connection, and a file has none. What a storage fault
                // leaves broken is retired below.
                .test_before_acquire(false)
                // A connection opened before a storage fault may be
                // read-only for life or mid-way through a transaction
                // nobody knows the state of: close it, open a fresh one.
                .before_acquire(move |_, meta| {
                    let keep = !retiring.retire(meta.age);
                    Box::pin(async move { Ok(keep) })
                });
            if in_memory {
                pool = pool
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    // A transaction left unended (a cancelled call) cannot
                    // be rolled back by closing the connection, as it is on
                    // a file: that would delete the database. It is rolled
                    // back here, when the connection comes back.
                    .after_release(|conn, _| Box::pin(roll_back_leftover(conn)));
            }
            Pool::Sqlite(
                pool.connect_with(options)
                    .await
                    .map_err(|e| SqlError::Connect {
                        url: redacted,
                        source: e,
                    })?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            if let GroupCommitSetting::Given(Some(_)) = group_commit {
                return Err(SqlError::InvalidUrl {
                    url: redacted,
                    reason: "`group_commit` is for SQLite, whose one writer it relieves; PostgreSQL runs concurrent transactions".to_owned(),
                });
            }
            let options = PgConnectOptions::from_str(url).map_err(|e| SqlError::InvalidUrl {
                url: redacted.clone(),
                reason: e.to_string(),
            })?;
            health = Health::postgres(options.clone());
            let pool = PgPoolOptions::new()
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .map_err(|e| SqlError::Connect {
                    url: redacted,
                    source: e,
                })?;
            Pool::Postgres(pool)
        } else {
            return Err(SqlError::InvalidUrl {
                url: redacted,
                reason: "the scheme must be `sqlite:` or `postgres:`".to_owned(),
            });
        };
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // Two connections to `sqlite::memory:` are two databases.
        let location = if url.contains(":memory:") || url.contains("mode=memory") {
            format!("{IN_MEMORY}{id}")
        } else {
            redact(url)
        };
        let group_commit = match group_commit {
            GroupCommitSetting::Given(max) => max,
            // A SQLite file's writers share transactions unless told not
            // to; in memory the one connection is the queue already.
            GroupCommitSetting::Absent => (matches!(pool, Pool::Sqlite(_))
                && !location.starts_with(IN_MEMORY))
            .then_some(DEFAULT_GROUP_COMMIT),
        };
        let group_commit = group_commit.map(|max| {
            let in_memory = location.starts_with(IN_MEMORY);
            Arc::new(GroupCommit::new(max, Arc::clone(&health), in_memory))
        });
        let keeper = match &pool {
            Pool::Sqlite(sqlite) if !location.starts_with(IN_MEMORY) => {
                Some(Arc::new(Keeper::new(Arc::clone(&health), sqlite.clone())))
            }
            _ => None,
        };
        // In memory the one connection is the queue already.
        let write_gate = (matches!(pool, Pool::Sqlite(_))
            && group_commit.is_none()
            && !location.starts_with(IN_MEMORY))
        .then(WriteGate::default);
        Ok(Self {
            pool,
            id,
            health,
            location: location.into(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            group_commit,
            write_gate,
            keeper,
        })
    }

    /// The most units of work one transaction holds under group commit
    /// (`?group_commit=N`), or `None` when every unit of work has a
    /// transaction of its own.
    pub fn group_commit(&self) -> Option<usize> {
        self.group_commit.as_ref().map(|group| group.max())
    }

    /// The group commit units of work join, when on.
    pub(crate) fn batches(&self) -> Option<&Arc<GroupCommit>> {
        self.group_commit.as_ref()
    }

    /// The turn a write takes on SQLite, held while it runs: a
    /// transaction of its own (from before `BEGIN IMMEDIATE` to its end)
    /// or a write of the framework's. Under group commit the shared
    /// transaction commits first and none begins meanwhile; otherwise the
    /// file's writers queue in arrival order (`write_gate.rs`). `None` on
    /// PostgreSQL and in memory.
    pub(crate) async fn write_turn(&self) -> Result<Option<WriteTurn>, bisslog_core::Error> {
        match (&self.group_commit, &self.write_gate) {
            (Some(group), _) => group.write_turn().await.map(|t| Some(WriteTurn::Batch(t))),
            (None, Some(gate)) => gate.turn().await.map(Some),
            (None, None) => Ok(None),
        }
    }

    /// Whether this is an in-memory SQLite database, which lives as long
    /// as its one connection.
    pub(crate) fn in_memory(&self) -> bool {
        self.location.starts_with(IN_MEMORY)
    }

    /// What this database knows of its server and storage.
    pub(crate) fn health(&self) -> &Arc<Health> {
        &self.health
    }

    /// This pool's identity (clones share it).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Which unit of work this database is: the same for its clones (one
    /// pool), another for a second pool of the same data, since adapters
    /// join only the unit of work of their own pool.
    pub(crate) fn unit_of_work_id(&self) -> bisslog_core::UnitOfWorkId {
        bisslog_core::UnitOfWorkId::new(format!("{} (pool {})", self.location, self.id))
    }

    /// The wake-up of this database's outbox relays.
    pub(crate) fn outbox_wake(&self) -> &Arc<tokio::sync::Notify> {
        &self.outbox_wake
    }

    /// Which database this is: the same for every pool of the process
    /// opened on the same URL.
    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite pool, when this is SQLite.
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, when this is PostgreSQL.
    pub fn postgres(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// The pool, per engine (match it, or use [`on_engine!`](crate::on_engine)).
    pub fn pool(&self) -> PoolRef<'_> {
        match &self.pool {
            Pool::Sqlite(pool) => PoolRef::Sqlite(pool),
            Pool::Postgres(pool) => PoolRef::Postgres(pool),
        }
    }

    /// The pool's connections: `(in use, idle)`. On SQLite the idle ones
    /// include those the framework keeps out of the pool between its own
    /// statements.
    pub fn connections(&self) -> (u32, u32) {
        let (size, idle) = match &self.pool {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        };
        let kept = self.keeper.as_ref().map_or(0, |keeper| keeper.idle_count());
        let idle = u32::try_from(idle.saturating_add(kept)).unwrap_or(u32::MAX);
        (size.saturating_sub(idle), idle)
    }

    /// The SQLite connections kept between the framework's statements.
    pub(crate) fn keeper(&self) -> Option<&Arc<Keeper>> {
        self.keeper.as_ref()
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        if let Some(keeper) = &self.keeper {
            keeper.close();
        }
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// The most units of work one transaction may be asked to hold.
const MAX_GROUP_COMMIT: usize = 10_000;

/// The most units of work one transaction holds on a SQLite file whose URL
/// does not say (`?group_commit=N`).
pub const DEFAULT_GROUP_COMMIT: usize = 64;

/// What a URL says of group commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupCommitSetting {
    /// Nothing: the default ([`DEFAULT_GROUP_COMMIT`] on a SQLite file).
    Absent,
    /// `group_commit=N`: at most `N` per transaction, `None` for `0` (a
    /// transaction each).
    Given(Option<usize>),
}

/// Takes `group_commit=N` out of a URL's query (the drivers refuse
/// parameters they do not know): the URL without it, and what it said.
fn take_group_commit(url: &str) -> Result<(String, GroupCommitSetting), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), GroupCommitSetting::Absent));
    };
    let mut group_commit = GroupCommitSetting::Absent;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("group_commit", value)) => {
                let max = value
                    .parse::<usize>()
                    .ok()
                    .filter(|max| *max <= MAX_GROUP_COMMIT)
                    .ok_or_else(|| {
                        format!(
                            "`group_commit={value}`: expected the most units of work one transaction holds, 1 to {MAX_GROUP_COMMIT} (0: a transaction each)"
                        )
                    })?;
                group_commit = GroupCommitSetting::Given((max > 0).then_some(max));
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, group_commit))
}

/// How the location of an in-memory database starts.
const IN_MEMORY: &str = "memory#";

/// Rolls back the transaction a connection of an in-memory database came
/// back to the pool inside, if any; the connection is kept either way.
async fn roll_back_leftover(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    if let Err(error) = sqlx::raw_sql("ROLLBACK").execute(conn).await {
        // What SQLite answers when there is nothing to roll back.
        if !error.to_string().contains("no transaction is active") {
            tracing::warn!(%error, "rolling back a transaction left unended failed");
        }
    }
    Ok(true)
}

/// `/health/ready` asks [`Database::check_ready`].
impl Adapter for Database {
    fn ready(&self) -> BoxFuture<'_, Result<(), bisslog_core::Error>> {
        Box::pin(self.check_ready())
    }
}

/// The pool of a [`Database`], per engine.
#[derive(Debug, Clone, Copy)]
pub enum PoolRef<'a> {
    /// SQLite.
    Sqlite(&'a SqlitePool),
    /// PostgreSQL.
    Postgres(&'a PgPool),
}

impl<'a> From<PoolRef<'a>> for crate::session::Engine<&'a SqlitePool, &'a PgPool> {
    fn from(pool: PoolRef<'a>) -> Self {
        match pool {
            PoolRef::Sqlite(pool) => crate::session::Engine::Sqlite(pool),
            PoolRef::Postgres(pool) => crate::session::Engine::Postgres(pool),
        }
    }
}

/// The URL without its password, for messages and logs.
pub(crate) use bisslog_core::mask_url_password as redact;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_commit_is_read_off_the_url() {
        use GroupCommitSetting::{Absent, Given};
        assert_eq!(
            take_group_commit("sqlite://a.db?group_commit=64"),
            Ok(("sqlite://a.db".to_owned(), Given(Some(64))))
        );
        assert_eq!(
            take_group_commit("sqlite://a.db?mode=rwc&group_commit=8&cache=shared"),
            Ok((
                "sqlite://a.db?mode=rwc&cache=shared".to_owned(),
                Given(Some(8))
            ))
        );
        assert_eq!(
            take_group_commit("sqlite://a.db?group_commit=0"),
            Ok(("sqlite://a.db".to_owned(), Given(None)))
        );
        assert_eq!(
            take_group_commit("sqlite://a.db"),
            Ok(("sqlite://a.db".to_owned(), Absent))
        );
        assert_eq!(
            take_group_commit("sqlite://a.db?mode=rwc"),
            Ok(("sqlite://a.db?mode=rwc".to_owned(), Absent))
        );
        for bad in ["x", "-1", "", "10001"] {
            let error = take_group_commit(&format!("sqlite://a.db?group_commit={bad}"));
            assert!(
                error.as_ref().is_err_and(|e| e.contains("1 to 10000")),
                "{bad}: {error:?}"
            );
        }
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite://data.db"), "sqlite://data.db");
    }
}
