//! SQLite connections kept between the framework's uses, so that giving
//! one back costs no round trip.
//!
//! sqlx's pool pings every connection it takes back (`return_to_pool`,
//! on a spawned task, with no option to turn it off): on SQLite a ping is a
//! round trip to the connection's own thread, a wake-up there and one
//! back, as dear as the statement itself. The framework's statements (the
//! units of work, the durable broker's claims, publications and
//! acknowledgements, the outbox relay's) come back from a connection in a
//! state they know: a statement or a transaction that ended well. The
//! keeper owns a few connections taken from the pool and passes them from
//! one such statement to the next without the pool: when one comes back
//! well, it goes to a statement waiting for a connection, or waits for the
//! next one.
//!
//! Only a connection whose holder said it ended well
//! ([`Kept::reusable`]) stays: one dropped otherwise (a failed statement,
//! a cancelled call, one marked to be closed) goes back through the pool,
//! which checks it or closes it as before, and the keeper may own another
//! in its place. A kept connection taken before the last storage fault is
//! closed instead of handed out, as the pool does with its own
//! (`Database::connect`). The keeper owns at most half the pool's
//! connections, so that the others go round through the pool, in its
//! order, for the statements sent to it directly; an in-memory database
//! has no keeper (its one connection is the database, and its pool rolls
//! back what comes back to it).

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sqlx::Sqlite;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqlitePool;
use tokio::sync::Notify;

use super::health::Health;

/// A connection and when it was taken from the pool: a connection opened
/// before a storage fault was taken before it too, or the pool would have
/// retired it then.
struct Idle {
    conn: PoolConnection<Sqlite>,
    taken_at: Instant,
}

/// The kept connections of one SQLite database (shared by its clones).
pub(crate) struct Keeper {
    shelf: Mutex<Shelf>,
    /// The most connections it owns: half the pool's.
    most: usize,
    /// Statements waiting for a connection here as well as from the pool.
    waiting: AtomicUsize,
    /// Tells them one came back.
    returned: Notify,
    health: Arc<Health>,
    /// The pool they come from.
    pool: SqlitePool,
}

/// What the keeper's lock guards.
#[derive(Default)]
struct Shelf {
    idle: Vec<Idle>,
    /// The connections it owns: idle or lent.
    owned: usize,
    /// The database is closing: connections go back to the pool.
    closed: bool,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper")
            .field("idle", &self.idle_count())
            .field("most", &self.most)
            .finish_non_exhaustive()
    }
}

impl Keeper {
    pub(crate) fn new(health: Arc<Health>, pool: SqlitePool) -> Self {
        let most = usize::try_from(pool.options().get_max_connections() / 2).unwrap_or(1);
        Self {
            shelf: Mutex::new(Shelf::default()),
            most: most.max(1),
            waiting: AtomicUsize::new(0),
            returned: Notify::new(),
            health,
            pool,
        }
    }

    /// A connection for one of the framework's statements: a kept one,
    /// else whichever comes first of the pool's and a kept one coming
    /// back.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<Kept, sqlx::Error> {
        if let Some(kept) = self.take() {
            return Ok(kept);
        }
        let _waiting = Waiting::enter(&self.waiting);
        let mut from_pool = pin!(self.pool.acquire());
        loop {
            let mut returned = pin!(self.returned.notified());
            // Listening before looking: one given back in between wakes it.
            returned.as_mut().enable();
            if let Some(kept) = self.take() {
                return Ok(kept);
            }
            tokio::select! {
                conn = &mut from_pool => return conn.map(|conn| self.adopt(conn)),
                () = returned => {}
            }
        }
    }

    /// A kept connection still to be trusted, if there is one: the one
    /// given back last (its thread the likeliest to be warm).
    fn take(self: &Arc<Self>) -> Option<Kept> {
        loop {
            let idle = {
                let mut shelf = self.lock();
                let idle = shelf.idle.pop()?;
                if self.health.retire(idle.taken_at.elapsed()) {
                    // Taken before a storage fault: closed, not reused,
                    // and no longer owned.
                    shelf.owned = shelf.owned.saturating_sub(1);
                    drop(shelf);
                    let mut conn = idle.conn;
                    conn.close_on_drop();
                    continue;
                }
                idle
            };
            return Some(Kept::new(idle.conn, Some(Arc::clone(self)), idle.taken_at));
        }
    }

    /// Wraps a connection just taken from the pool: owned, to be kept
    /// when it comes back well, while the keeper owns fewer than its most.
    fn adopt(self: &Arc<Self>, conn: PoolConnection<Sqlite>) -> Kept {
        let home = {
            let mut shelf = self.lock();
            (!shelf.closed && shelf.owned < self.most).then(|| {
                shelf.owned += 1;
                Arc::clone(self)
            })
        };
        Kept::new(conn, home, Instant::now())
    }

    /// How many connections are kept idle now.
    pub(crate) fn idle_count(&self) -> usize {
        self.lock().idle.len()
    }

    /// Gives every kept connection back to the pool and keeps none from
    /// now on, so that the pool can close them all.
    pub(crate) fn close(&self) {
        let idle = {
            let mut shelf = self.lock();
            shelf.closed = true;
            let idle = std::mem::take(&mut shelf.idle);
            shelf.owned = shelf.owned.saturating_sub(idle.len());
            idle
        };
        drop(idle);
    }

    /// Keeps an owned connection that came back well for the next
    /// statement, and wakes one waiting for it; gives it back to the pool
    /// once the database closes.
    fn give_back(&self, idle: Idle) {
        let mut shelf = self.lock();
        if shelf.closed {
            shelf.owned = shelf.owned.saturating_sub(1);
            drop(shelf);
            drop(idle);
            return;
        }
        shelf.idle.push(idle);
        drop(shelf);
        if self.waiting.load(Ordering::Acquire) > 0 {
            self.returned.notify_one();
        }
    }

    /// An owned connection that went back to the pool: another may be
    /// owned in its place.
    fn disown(&self) {
        let mut shelf = self.lock();
        shelf.owned = shelf.owned.saturating_sub(1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shelf> {
        // Nothing panics while holding it; a poisoned list is still a list.
        self.shelf.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Keeper {
    /// The last clone of the database is gone: its kept connections go
    /// back to the pool, or, outside a Tokio runtime (where giving one
    /// back, which spawns a task, would panic), are closed on the spot.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        let in_runtime = tokio::runtime::Handle::try_current().is_ok();
        for Idle { conn, .. } in idle {
            if in_runtime {
                drop(conn);
            } else {
                drop(conn.detach());
            }
        }
    }
}

/// Counts a statement waiting for a connection, until dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A SQLite connection for the framework's statements, kept when it is
/// dropped [reusable](Kept::reusable) and owned by a keeper, else given
/// back to the pool.
pub(crate) struct Kept {
    /// `None` only once dropped.
    conn: Option<PoolConnection<Sqlite>>,
    /// The keeper that owns it; `None` for one it does not (it owned
    /// enough, or the database has none: in memory).
    home: Option<Arc<Keeper>>,
    taken_at: Instant,
    reusable: bool,
}

impl Kept {
    /// A connection of a database without a keeper: always given back to
    /// the pool.
    pub(crate) fn pooled(conn: PoolConnection<Sqlite>) -> Self {
        Self::new(conn, None, Instant::now())
    }

    fn new(conn: PoolConnection<Sqlite>, home: Option<Arc<Keeper>>, taken_at: Instant) -> Self {
        Self {
            conn: Some(conn),
            home,
            taken_at,
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
        let Some(home) = &self.home else {
            // Through the pool, which checks it (or closes it when marked).
            return drop(conn);
        };
        if self.reusable {
            home.give_back(Idle {
                conn,
                taken_at: self.taken_at,
            });
        } else {
            drop(conn);
            home.disown();
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
    async fn it_owns_at_most_half_the_pool() {
        let db = database("most").await;
        let max = db.sqlite().unwrap().options().get_max_connections() as usize;
        let mut taken = Vec::new();
        for _ in 0..max {
            taken.push(db.acquire().await.unwrap());
        }
        for mut conn in taken {
            conn.reusable();
            drop(conn);
        }
        assert_eq!(kept(&db), max / 2);
        assert_eq!(db.keeper().unwrap().most, max / 2);
    }

    /// Every connection of the pool taken by the framework's statements:
    /// the first taken (owned by the keeper) marked, and returned.
    async fn all_taken(db: &Database) -> (PooledConnection, Vec<PooledConnection>) {
        let max = db.sqlite().unwrap().options().get_max_connections() as usize;
        let mut first = db.acquire().await.unwrap();
        mark(&mut first).await;
        let mut rest = Vec::new();
        for _ in 1..max {
            rest.push(db.acquire().await.unwrap());
        }
        (first, rest)
    }

    #[tokio::test]
    async fn a_statement_waiting_for_a_connection_gets_one_that_comes_back_well() {
        let db = database("waiting").await;
        let (mut first, _rest) = all_taken(&db).await;
        let waiter = db.clone();
        let waiting = tokio::spawn(async move {
            let mut conn = waiter.acquire().await.unwrap();
            is_marked(&mut conn).await
        });
        // Not before it waits: a kept one would be taken at once.
        let mut polls = 0;
        while db.keeper().unwrap().waiting.load(Ordering::Acquire) == 0 {
            polls += 1;
            assert!(polls < 100_000, "the statement never waited");
            tokio::task::yield_now().await;
        }
        first.reusable();
        drop(first);
        let marked = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the waiting statement got the connection that came back")
            .unwrap();
        assert!(marked, "the kept connection, not one of the pool");
    }

    #[tokio::test]
    async fn statements_sent_to_the_pool_still_get_its_other_connections() {
        let db = database("direct").await;
        let (_first, mut rest) = all_taken(&db).await;
        let pool = db.sqlite().unwrap().clone();
        let direct = tokio::spawn(async move { pool.acquire().await.map(drop) });
        // The last taken is not the keeper's: it goes back to the pool,
        // however well it ended.
        let mut last = rest.pop().unwrap();
        last.reusable();
        drop(last);
        tokio::time::timeout(std::time::Duration::from_secs(5), direct)
            .await
            .expect("the pool's waiter got the connection")
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

    #[test]
    fn a_database_dropped_outside_a_runtime_closes_its_kept_connections() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let db = runtime.block_on(async {
            let db = database("outside").await;
            let mut conn = db.acquire().await.unwrap();
            conn.reusable();
            drop(conn);
            db
        });
        assert_eq!(kept(&db), 1);
        drop(runtime);
        // Given back to the pool, this would spawn a task: a panic here.
        drop(db);
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
