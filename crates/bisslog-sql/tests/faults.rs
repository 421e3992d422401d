//! Faults survived, on real storage and a real server of the test's own:
//! a full disk (a small tmpfs), a database file that cannot be written,
//! a call cancelled mid-transaction, a PostgreSQL server stopped and
//! started again. Each time the database answers with a clear, transient
//! error while the fault lasts, says it is not ready, and heals by itself
//! once the fault is gone.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bisslog_core::{ErrorKind, UseCaseError};
use bisslog_sql::testing::{PrivatePostgres, SmallDisk, TestDatabase, in_ci};
use bisslog_sql::{Database, Migration, on_engine};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "notes",
    sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
    postgres: "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL);",
}];

/// One write in a transaction of its own, as an adapter outside a unit of
/// work makes it.
async fn write(db: &Database, bytes: usize) -> Result<(), bisslog_core::Error> {
    let mut session = db.transaction().await?;
    let body = vec![7_u8; bytes];
    on_engine!(session.connection()?, conn => {
        sqlx::query("INSERT INTO notes (body) VALUES ($1)").bind(body).execute(conn).await.map(drop)
    })
    .map_err(bisslog_sql::map_error)?;
    session.commit().await
}

/// Writes until one succeeds, then `streak` more in a row, `parallel` at a
/// time (so that every pooled connection takes a turn); the time it took.
/// Panics past `limit`.
async fn until_healed(db: &Database, streak: usize, parallel: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut in_a_row = 0;
    let mut last_error = None;
    while in_a_row < streak {
        assert!(
            started.elapsed() < limit,
            "still failing after {limit:?} (last error: {last_error:?})"
        );
        let writes = (0..parallel).map(|_| write(db, 64));
        for result in futures_util::future::join_all(writes).await {
            match result {
                Ok(()) => in_a_row += 1,
                Err(error) => {
                    in_a_row = 0;
                    last_error = Some(format!("{} {}", error.code(), error));
                }
            }
        }
    }
    started.elapsed()
}

/// Whether an error is what a storage fault must look like: transient
/// (`Unavailable`: a 503, a retry for a consumer), with a storage code —
/// never the internal error of a broken connection.
fn is_storage_fault(error: &bisslog_core::Error, codes: &[&str]) -> bool {
    error.kind() == ErrorKind::Unavailable && codes.contains(&error.code().as_ref())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_clearly_then_heals_by_itself() {
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let url = format!("sqlite://{}", disk.path().join("full.db").display());
    let db = Database::connect(&url).await.unwrap();
    db.migrate(MIGRATIONS).await.unwrap();
    write(&db, 64).await.unwrap();
    db.check_ready().await.unwrap();

    let filler = disk.fill();
    // The WAL may still hold room for a few small writes: write bigger
    // rows until the disk refuses one.
    let mut refused = None;
    for _ in 0..200 {
        if let Err(error) = write(&db, 256 * 1024).await {
            refused = Some(error);
            break;
        }
    }
    let refused = refused.expect("a full disk refused no write");
    assert!(
        is_storage_fault(&refused, &["database-storage-full", "database-io-error"]),
        "{} {refused}",
        refused.code()
    );
    let unready = db.check_ready().await.unwrap_err();
    assert_eq!(unready.kind(), ErrorKind::Unavailable, "{unready}");

    std::fs::remove_file(filler).unwrap();
    // Before the fix, a failed COMMIT went back to the pool inside its
    // transaction and every later write failed with "attempted to call
    // begin_with at non-zero transaction depth", until restart.
    let healed = until_healed(&db, 40, 4, Duration::from_secs(10)).await;
    eprintln!("writes succeed again {healed:?} after the space came back");
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Err(error) = db.check_ready().await {
        assert!(Instant::now() < deadline, "never ready again: {error}");
        tokio::task::yield_now().await;
    }
    db.close().await;
}

/// Makes the file unwritable for new opens: the immutable attribute as
/// root (whom permissions do not stop), read-only permissions otherwise.
/// `false` when this process may not (root of a user namespace).
fn protect(file: &Path, on: bool) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    let status = if root {
        Command::new("chattr")
            .arg(if on { "+i" } else { "-i" })
            .arg(file)
            .status()
    } else {
        Command::new("chmod")
            .arg(if on { "0444" } else { "0644" })
            .arg(file)
            .status()
    };
    status.is_ok_and(|s| s.success())
}

/// Makes a protected file writable again when dropped.
struct Unprotect<'a>(&'a Path);

impl Drop for Unprotect<'_> {
    fn drop(&mut self) {
        protect(self.0, false);
    }
}

/// Runs `check` on a fresh SQLite file with group commit (the default)
/// and on one with a transaction per unit of work (`?group_commit=0`).
async fn both_ways(check: impl AsyncFn(TestDatabase)) {
    for query in ["", "?group_commit=0"] {
        check(TestDatabase::sqlite_with(query).await).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_opened_while_the_file_was_read_only_are_replaced() {
    both_ways(connections_opened_while_the_file_was_read_only_are_replaced_on).await;
}

async fn connections_opened_while_the_file_was_read_only_are_replaced_on(test: TestDatabase) {
    let db = test.database.clone();
    db.migrate(MIGRATIONS).await.unwrap();
    write(&db, 64).await.unwrap();
    let file = test.url.trim_start_matches("sqlite://");
    let file = file.split('?').next().unwrap_or(file).to_owned();

    if !protect(Path::new(&file), true) {
        assert!(!in_ci(), "CI runs as root and must be able to chattr +i");
        bisslog_sql::testing::skip(&format!("cannot make {file} immutable here"));
        return;
    }
    // Writable again however the test ends: an immutable file left behind
    // could not even be deleted.
    let _writable_again = Unprotect(Path::new(&file));
    // A pool opened now: every connection it opens SQLite opens read-only,
    // silently, for the rest of its life. (The first pool's connections,
    // opened before and kept between its writes, stay writable; its
    // writers take turns, so they could take every write.)
    let db = Database::connect(&test.url).await.unwrap();
    // Six sessions at once: the pool opens six such connections.
    let readers = futures_util::future::join_all((0..6).map(|_| db.reader())).await;
    drop(readers);
    let writes = futures_util::future::join_all((0..6).map(|_| write(&db, 64))).await;
    let refused: Vec<_> = writes.into_iter().filter_map(Result::err).collect();
    assert!(!refused.is_empty(), "a read-only file took every write");
    for error in &refused {
        assert!(
            is_storage_fault(error, &["database-read-only", "database-io-error"]),
            "{} {error}",
            error.code()
        );
    }
    assert!(protect(Path::new(&file), false));

    // Before the fix ~40-60% of writes kept failing with "attempt to write
    // a readonly database" minutes later.
    let healed = until_healed(&db, 60, 6, Duration::from_secs(5)).await;
    eprintln!("writes succeed again {healed:?} after the file became writable");
    db.close().await;
    test.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_mid_transaction_leaves_no_open_transaction_behind() {
    both_ways(a_call_cancelled_mid_transaction_leaves_no_open_transaction_behind_on).await;
}

async fn a_call_cancelled_mid_transaction_leaves_no_open_transaction_behind_on(test: TestDatabase) {
    let db = test.database.clone();
    db.migrate(MIGRATIONS).await.unwrap();
    {
        let mut session = db.transaction().await.unwrap();
        on_engine!(session.connection().unwrap(), conn => {
            sqlx::query("INSERT INTO notes (body) VALUES (x'00')").execute(conn).await.map(drop)
        })
        .unwrap();
        // Dropped without commit, as a cancelled call drops it.
    }
    // Every later transaction begins and commits, on whichever connection.
    until_healed(&db, 20, 4, Duration::from_secs(5)).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM notes")
        .fetch_one(db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(
        rows, 20,
        "the dropped transaction's row must be rolled back"
    );
    test.drop_database().await;
}

/// A call cancelled while its `BEGIN IMMEDIATE` waits for another
/// writer's lock (an HTTP client that hangs up mid-request): SQLite runs
/// the `BEGIN` anyway once the lock is free, after the call has gone. The
/// connection must not go back to the pool inside that transaction (it
/// would hold the write lock for nobody, and the next call given it would
/// fail with "cannot start a transaction within a transaction").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_while_its_begin_waits_leaves_no_transaction_behind() {
    both_ways(a_call_cancelled_while_its_begin_waits_leaves_no_transaction_behind_on).await;
}

async fn a_call_cancelled_while_its_begin_waits_leaves_no_transaction_behind_on(
    test: TestDatabase,
) {
    let db = test.database.clone();
    db.migrate(MIGRATIONS).await.unwrap();
    // Connections opened beforehand, so that the cancelled call's is taken
    // from the pool's idle ones and its `BEGIN` is sent at once.
    let warm_up = (0..4).map(|_| write(&db, 8));
    for result in futures_util::future::join_all(warm_up).await {
        result.unwrap();
    }
    // A second pool of the same file, as another process would be: its
    // transaction holds SQLite's write lock but not this pool's turn to
    // write (`write_gate.rs`), so the cancelled call gets its turn and
    // waits in `BEGIN IMMEDIATE` itself. Every other round the holder is
    // this pool's, and the call is cancelled while it waits for the turn.
    let other = Database::connect(&test.url).await.unwrap();
    for round in 0..4 {
        let holder_db = if round % 2 == 0 { &other } else { &db };
        let mut holder = holder_db.transaction().await.unwrap();
        on_engine!(holder.connection().unwrap(), conn => {
            sqlx::query("INSERT INTO notes (body) VALUES (x'01')").execute(conn).await.map(drop)
        })
        .unwrap();
        // The write lock is held: this `BEGIN IMMEDIATE` waits (SQLite's
        // busy timeout is 5 s), or the turn does, and the timeout cancels
        // the call.
        let cancelled = tokio::time::timeout(Duration::from_millis(200), db.transaction()).await;
        assert!(
            cancelled.is_err(),
            "a transaction began while another held the write lock"
        );
        holder.commit().await.unwrap();
        // The cancelled call's connection is settled before anything else
        // writes: its `BEGIN` runs now that the lock is free, and it is
        // closed (or, were the rule broken, pooled inside that
        // transaction). Writes right away could keep the lock busy until
        // SQLite's busy timeout ended that `BEGIN`, hiding the difference.
        connections_back(&db).await;
        // Every later write commits at once, on whichever connection.
        for n in 0..12 {
            let written = tokio::time::timeout(Duration::from_secs(3), write(&db, 8)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(error)) => panic!("write {n} failed: {} {error}", error.code()),
                Err(_) => panic!("write {n} waited 3 s for a write lock nobody should hold"),
            }
        }
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM notes")
        .fetch_one(db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(rows, 4 + 4 * 13);
    other.close().await;
    test.drop_database().await;
}

/// Waits until no connection of `db` is in use (a cancelled call's
/// dropped one closed or back in the pool), failing after 10 s: longer
/// than SQLite's busy timeout, the most a `BEGIN` left running can wait.
async fn connections_back(db: &Database) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (in_use, _) = db.connections();
        if in_use == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{in_use} connection(s) still in use 10 s after every call ended"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_fails_fast_and_recovery_is_noticed_within_a_second() {
    let Some(mut server) = PrivatePostgres::start().await else {
        return;
    };
    let db = Database::connect(&server.url()).await.unwrap();
    db.migrate(MIGRATIONS).await.unwrap();
    write(&db, 64).await.unwrap();

    server.stop();
    // Each call answers within a second (not the pool's 5 s), as
    // `Unavailable` (503 with Retry-After), the first one included.
    for call in 0..5 {
        let started = Instant::now();
        let error = write(&db, 64).await.unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "call {call} took {took:?}");
        assert_eq!(error.kind(), ErrorKind::Unavailable, "call {call}: {error}");
        assert!(
            ["database-unreachable", "database-connection"].contains(&error.code().as_ref()),
            "call {call}: {} {error}",
            error.code()
        );
    }
    let started = Instant::now();
    let unready = db.check_ready().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(unready.code(), "database-unreachable", "{unready}");

    server.start_again().await;
    // The server accepts connections now: the database notices within a
    // second.
    let back = Instant::now();
    while let Err(error) = write(&db, 64).await {
        assert!(
            back.elapsed() < Duration::from_secs(1),
            "still failing {:?} after the server came back: {error}",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "writes succeed {:?} after the server came back",
        back.elapsed()
    );
    db.check_ready().await.unwrap();
    db.close().await;
}
