//! SQLite connections kept between the framework's uses, so that giving
//! one back costs no round trip.
//!
//! sqlx's pool pings every connection it takes back (`return_to_pool`,
//! on a spawned task, with no option to turn it off): on SQLite a ping is a
//! round trip to the connection's own thread, a wake-up there and one
//! back, as dear as the statement itself. The framework's statements (the
//! units of work, the durable broker's claims, publications and
//! acknowledgements) come back from a connection in a state they know: a
//! statement or a transaction that ended well. Such a connection is kept
//! here, out of the pool, and handed to the next of them as it is.
//!
//! Only a connection whose holder said it ended well
//! ([`Kept::reusable`]) is kept: one dropped otherwise (a failed statement,
//! a cancelled call, one marked to be closed) goes back through the pool,
//! which checks it or closes it as before. A kept connection opened before
//! the last storage fault is closed instead of handed out, as the pool
//! does with its own (`Database::connect`). At most [`MOST_KEPT`] are kept
//! so that the pool keeps connections for the statements sent to it
//! directly; an in-memory database has no keeper (its one connection is
//! the database, and its pool rolls back what comes back to it).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sqlx::Sqlite;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqlitePool;

use super::health::Health;

/// The most connections kept out of the pool: the pool opens at most 10
/// (sqlx's default), and this leaves it at least 6 for statements sent to
/// it directly, while covering the broker's statements of a subscription
/// (4 at once) and a unit of work.
pub(crate) const MOST_KEPT: usize = 4;

/// A connection and when it was taken from the pool: a connection opened
/// before a storage fault was taken before it too, or the pool would have
/// retired it then.
struct Idle {
    conn: PoolConnection<Sqlite>,
    taken_at: Instant,
}

/// The kept connections of one SQLite database (shared by its clones).
pub(crate) struct Keeper {
    idle: Mutex<Shelf>,
    health: Arc<Health>,
    /// The pool they come from, to see whether anyone may wait for one.
    pool: SqlitePool,
}

/// What the keeper's lock guards.
#[derive(Default)]
struct Shelf {
    idle: Vec<Idle>,
    /// The database is closing: connections go back to the pool.
    closed: bool,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper")
            .field("idle", &self.idle_count())
            .finish_non_exhaustive()
    }
}

impl Keeper {
    pub(crate) fn new(health: Arc<Health>, pool: SqlitePool) -> Self {
        Self {
            idle: Mutex::new(Shelf::default()),
            health,
            pool,
        }
    }

    /// A kept connection still to be trusted, if there is one: the one
    /// given back last (its thread the likeliest to be warm).
    pub(crate) fn take(self: &Arc<Self>) -> Option<Kept> {
        loop {
            let idle = self.lock().idle.pop()?;
            if self.health.retire(idle.taken_at.elapsed()) {
                // Opened before a storage fault: closed, not reused.
                let mut conn = idle.conn;
                conn.close_on_drop();
                continue;
            }
            return Some(Kept {
                conn: Some(idle.conn),
                home: Some(Arc::clone(self)),
                taken_at: idle.taken_at,
                reusable: false,
            });
        }
    }

    /// Wraps a connection just taken from the pool, to be kept when it
    /// comes back well.
    pub(crate) fn adopt(self: &Arc<Self>, conn: PoolConnection<Sqlite>) -> Kept {
        Kept {
            conn: Some(conn),
            home: Some(Arc::clone(self)),
            taken_at: Instant::now(),
            reusable: false,
        }
    }

    /// How many connections are kept now.
    pub(crate) fn idle_count(&self) -> usize {
        self.lock().idle.len()
    }

    /// Gives every kept connection back to the pool and keeps none from
    /// now on, so that the pool can close them all.
    pub(crate) fn close(&self) {
        let idle = {
            let mut kept = self.lock();
            kept.closed = true;
            std::mem::take(&mut kept.idle)
        };
        drop(idle);
    }

    /// Keeps `idle`, or gives it back to the pool when the keeper is full
    /// or closed, or when the pool has every connection out (someone may be
    /// waiting for one: a statement sent to the pool directly would
    /// otherwise wait while connections sit here).
    fn give_back(&self, idle: Idle) {
        let pool_exhausted = self.pool.num_idle() == 0
            && self.pool.size() >= self.pool.options().get_max_connections();
        let mut kept = self.lock();
        if !kept.closed && !pool_exhausted && kept.idle.len() < MOST_KEPT {
            kept.idle.push(idle);
            return;
        }
        drop(kept);
        drop(idle);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shelf> {
        // Nothing panics while holding it; a poisoned list is still a list.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A SQLite connection for the framework's statements, kept when it is
/// dropped [reusable](Kept::reusable), else given back to the pool.
pub(crate) struct Kept {
    /// `None` only once dropped.
    conn: Option<PoolConnection<Sqlite>>,
    /// Where it is kept; `None` for a connection of a database without a
    /// keeper (in memory).
    home: Option<Arc<Keeper>>,
    taken_at: Instant,
    reusable: bool,
}

impl Kept {
    /// A connection of a database without a keeper: always given back to
    /// the pool.
    pub(crate) fn pooled(conn: PoolConnection<Sqlite>) -> Self {
        Self {
            conn: Some(conn),
            home: None,
            taken_at: Instant::now(),
            reusable: false,
        }
    }

    /// Says the connection is in a known, clean state (its statement or
    /// transaction ended well): dropped, it is kept for the next use.
    /// Anything run on it afterwards makes it unknown again until said
    /// anew, so say it last.
    pub(crate) fn reusable(&mut self) {
        self.reusable = true;
    }

    /// Closes the connection when it is dropped instead of keeping or
    /// pooling it.
    pub(crate) fn close_on_drop(&mut self) {
        self.reusable = false;
        if let Some(conn) = &mut self.conn {
            conn.close_on_drop();
        }
    }
}

impl std::ops::Deref for Kept {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        // Present until dropped.
        self.conn.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Kept {
    fn deref_mut(&mut self) -> &mut Self::Target {
        // Whoever runs a statement on it makes its state unknown again.
        self.reusable = false;
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        match &self.home {
            Some(home) if self.reusable => home.give_back(Idle {
                conn,
                taken_at: self.taken_at,
            }),
            // Through the pool, which checks it (or closes it when marked).
            _ => drop(conn),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Database;
    use crate::database::PooledConnection;

    /// A database on a fresh file of this test.
    async fn database(name: &str) -> Database {
        let path =
            std::env::temp_dir().join(format!("bisslog-kept-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Database::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    }

    fn sqlite(conn: &mut PooledConnection) -> &mut Kept {
        match conn {
            PooledConnection::Sqlite(conn) => conn,
            PooledConnection::Postgres(_) => unreachable!("a SQLite database"),
        }
    }

    /// Marks the connection: a temporary table is the connection's own.
    async fn mark(conn: &mut PooledConnection) {
        sqlx::raw_sql("CREATE TEMP TABLE marked (x)")
            .execute(&mut **sqlite(conn))
            .await
            .unwrap();
    }

    async fn is_marked(conn: &mut PooledConnection) -> bool {
        sqlx::raw_sql("SELECT x FROM temp.marked")
            .execute(&mut **sqlite(conn))
            .await
            .is_ok()
    }

    fn kept(db: &Database) -> usize {
        db.keeper().unwrap().idle_count()
    }

    #[tokio::test]
    async fn a_connection_that_ended_well_is_kept_and_handed_out_next() {
        let db = database("kept").await;
        let mut conn = db.acquire().await.unwrap();
        mark(&mut conn).await;
        conn.reusable();
        drop(conn);
        assert_eq!(kept(&db), 1);
        assert_eq!(
            db.connections().1,
            1 + db.sqlite().unwrap().num_idle() as u32
        );
        let mut again = db.acquire().await.unwrap();
        assert_eq!(kept(&db), 0, "handed out, no longer kept");
        assert!(is_marked(&mut again).await, "the same connection");
    }

    #[tokio::test]
    async fn a_connection_not_said_to_have_ended_well_goes_back_to_the_pool() {
        let db = database("unsaid").await;
        let mut conn = db.acquire().await.unwrap();
        mark(&mut conn).await;
        drop(conn);
        assert_eq!(kept(&db), 0);
        // Said, then used again: unknown again.
        let mut conn = db.acquire().await.unwrap();
        conn.reusable();
        mark(&mut conn).await;
        drop(conn);
        assert_eq!(kept(&db), 0);
    }

    #[tokio::test]
    async fn a_connection_discarded_is_closed_even_if_said_reusable() {
        let db = database("discarded").await;
        let mut conn = db.acquire().await.unwrap();
        conn.reusable();
        conn.discard();
        drop(conn);
        assert_eq!(kept(&db), 0);
    }

    #[tokio::test]
    async fn a_kept_connection_taken_before_a_storage_fault_is_not_handed_out() {
        let db = database("fault").await;
        let mut conn = db.acquire().await.unwrap();
        mark(&mut conn).await;
        sqlx::raw_sql("SELECT 1")
            .execute(&mut **sqlite(&mut conn))
            .await
            .unwrap();
        conn.reusable();
        drop(conn);
        assert_eq!(kept(&db), 1);
        db.health().note_fault_now();
        let mut fresh = db.acquire().await.unwrap();
        assert_eq!(kept(&db), 0, "the kept one was closed");
        assert!(!is_marked(&mut fresh).await, "a fresh connection");
    }

    #[tokio::test]
    async fn at_most_a_few_are_kept() {
        let db = database("most").await;
        let mut taken = Vec::new();
        for _ in 0..MOST_KEPT + 2 {
            taken.push(db.acquire().await.unwrap());
        }
        for mut conn in taken {
            conn.reusable();
            drop(conn);
        }
        assert_eq!(kept(&db), MOST_KEPT);
    }

    #[tokio::test]
    async fn with_every_connection_of_the_pool_out_one_given_back_goes_to_the_pool() {
        let db = database("exhausted").await;
        let pool = db.sqlite().unwrap().clone();
        let max = pool.options().get_max_connections() as usize;
        let mut taken = Vec::new();
        for _ in 0..max {
            taken.push(db.acquire().await.unwrap());
        }
        let waiting = tokio::spawn(async move { pool.acquire().await.map(drop) });
        let mut first = taken.pop().unwrap();
        first.reusable();
        drop(first);
        assert_eq!(kept(&db), 0, "the pool had nothing left: given back");
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the waiting acquisition got the connection")
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn closing_the_database_gives_the_kept_connections_back() {
        let db = database("close").await;
        let mut conn = db.acquire().await.unwrap();
        conn.reusable();
        drop(conn);
        assert_eq!(kept(&db), 1);
        tokio::time::timeout(std::time::Duration::from_secs(10), db.close())
            .await
            .expect("the pool closed: nothing kept back from it");
        assert_eq!(kept(&db), 0);
    }

    #[tokio::test]
    async fn a_connection_given_back_after_the_close_is_not_kept() {
        let db = database("late").await;
        let mut conn = db.acquire().await.unwrap();
        db.keeper().unwrap().close();
        conn.reusable();
        drop(conn);
        assert_eq!(kept(&db), 0);
    }

    #[tokio::test]
    async fn an_in_memory_database_keeps_nothing() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        assert!(db.keeper().is_none());
        let mut conn = db.acquire().await.unwrap();
        conn.reusable();
        drop(conn);
        // Its one connection went back to the pool.
        let _again = tokio::time::timeout(std::time::Duration::from_secs(5), db.acquire())
            .await
            .unwrap()
            .unwrap();
    }
}
