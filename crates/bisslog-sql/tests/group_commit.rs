//! Group commit on real SQLite files (`?group_commit=N`): units of work
//! share a transaction, each in its own savepoint; a commit returns only
//! once the shared `COMMIT` has; a failing or cancelled one undoes only its
//! own writes; a failed `COMMIT` fails all of them.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use bisslog_core::{Ctx, ErrorKind, Trigger, UseCaseError};
use bisslog_messaging::{UnitOfWork, Work, current, work};
use bisslog_sql::testing::TestDatabase;
use bisslog_sql::{Database, Migration, SqlError, on_engine};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "things",
    sqlite: "CREATE TABLE things (n INTEGER PRIMARY KEY);
             CREATE TABLE parents (id INTEGER PRIMARY KEY);
             CREATE TABLE children (parent INTEGER NOT NULL
                 REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);",
    postgres: "SELECT 1",
}];

/// A fresh SQLite file migrated through a plain pool (kept for checking
/// what is committed), and a second pool on it with group commit.
async fn grouped(max: usize) -> (TestDatabase, Database) {
    let test = TestDatabase::sqlite().await;
    test.database.migrate_framework().await.unwrap();
    test.database.migrate(MIGRATIONS).await.unwrap();
    let db = Database::connect(&format!("{}?group_commit={max}", test.url))
        .await
        .unwrap();
    assert_eq!(db.group_commit(), Some(max));
    (test, db)
}

/// Begins a unit of work of `db` and runs `sql` in it, joined; the work
/// is left open for the caller to end.
async fn write(db: &Database, sql: &'static str) -> Arc<dyn Work> {
    let begun = UnitOfWork::begin(db);
    let ctx = Ctx::new("manual", Trigger::Direct);
    work::attach(&ctx, Arc::clone(&begun)).ok().unwrap();
    current::scope(ctx, async {
        let mut session = db.begin().await.unwrap();
        on_engine!(session.connection().unwrap(), conn => {
            sqlx::query(sql).execute(conn).await.map(drop)
        })
        .unwrap();
    })
    .await;
    begun
}

/// What is committed, read through the plain pool.
async fn things(test: &TestDatabase) -> BTreeSet<i64> {
    sqlx::query_scalar("SELECT n FROM things")
        .fetch_all(test.database.sqlite().unwrap())
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn inbox(test: &TestDatabase) -> BTreeSet<String> {
    sqlx::query_scalar("SELECT message_id FROM bisslog_inbox")
        .fetch_all(test.database.sqlite().unwrap())
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// One call's work: records the message `n`, writes `n`, commits.
async fn call(db: &Database, n: i64) -> Result<bool, bisslog_core::Error> {
    let begun = UnitOfWork::begin(db);
    let ctx = Ctx::new("manual", Trigger::Direct);
    work::attach(&ctx, Arc::clone(&begun)).ok().unwrap();
    let first = begun.record_message("consumer", &format!("m-{n}")).await?;
    if first {
        current::scope(ctx, async {
            let mut session = db.begin().await?;
            on_engine!(session.connection()?, conn => {
                sqlx::query("INSERT INTO things (n) VALUES ($1)").bind(n).execute(conn).await.map(drop)
            })
            .map_err(bisslog_sql::map_error)
        })
        .await?;
    }
    begun.commit().await?;
    Ok(first)
}

/// Many calls at once all commit, and each message is recorded once even
/// when two deliveries of it share a transaction.
#[tokio::test]
async fn concurrent_calls_all_commit_and_a_message_counts_once() {
    let (test, db) = grouped(8).await;
    let calls = (0..50).map(|n| call(&db, n));
    let outcomes = futures_util::future::join_all(calls).await;
    assert!(
        outcomes.iter().all(|o| matches!(o, Ok(true))),
        "{outcomes:?}"
    );
    assert_eq!(things(&test).await, (0..50).collect());
    assert_eq!(inbox(&test).await.len(), 50);

    // Two deliveries of one message in one transaction: one runs.
    let (a, b) = tokio::join!(call(&db, 100), call(&db, 100));
    assert_eq!(
        [a.unwrap(), b.unwrap()]
            .into_iter()
            .filter(|first| *first)
            .count(),
        1
    );
    assert!(things(&test).await.contains(&100));
    test.drop_database().await;
}

/// Polls `future` once, with this task's waker.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// Runs `work` while driving `pending` (a commit waiting for its shared
/// transaction), which must not finish meanwhile.
async fn while_pending<T, P>(pending: &mut P, work: impl Future<Output = T>) -> T
where
    P: Future + Unpin,
    P::Output: std::fmt::Debug,
{
    let mut work = std::pin::pin!(work);
    tokio::select! {
        biased;
        out = &mut work => out,
        done = &mut *pending => panic!("a commit returned while its transaction was still open: {done:?}"),
    }
}

/// `write`, polled once so that it waits in line for the turn.
async fn queued<'d>(
    db: &'d Database,
    sql: &'static str,
) -> Pin<Box<impl Future<Output = Arc<dyn Work>> + 'd>> {
    let mut next = Box::pin(write(db, sql));
    assert!(poll_once(&mut next).await.is_pending(), "the turn is held");
    next
}

/// A released unit of work's commit waits for the transaction it shares:
/// its write is not visible, nor its commit done, while the next one still
/// holds the turn; both are once that one commits.
#[tokio::test]
async fn a_commit_returns_only_once_the_shared_transaction_has() {
    let (test, db) = grouped(64).await;
    let first = write(&db, "INSERT INTO things (n) VALUES (1)").await;
    let next = queued(&db, "INSERT INTO things (n) VALUES (2)").await;
    let mut first_commit = first.commit();
    // Releasing passes the turn: the second joins the same transaction.
    let second = while_pending(&mut first_commit, next).await;
    assert!(things(&test).await.is_empty(), "nothing is committed yet");
    let (a, b) = tokio::join!(first_commit, second.commit());
    a.unwrap();
    b.unwrap();
    assert_eq!(things(&test).await, BTreeSet::from([1, 2]));
    test.drop_database().await;
}

/// A unit of work that rolls back, and one dropped unended (a cancelled
/// call), undo only their own writes; the others of their transaction
/// commit.
#[tokio::test]
async fn a_failed_or_cancelled_unit_of_work_undoes_only_its_own_writes() {
    let (test, db) = grouped(64).await;
    let kept = write(&db, "INSERT INTO things (n) VALUES (1)").await;
    // In line for the turn before the first releases it: all four share
    // its transaction (the committer queues behind them).
    let second = queued(&db, "INSERT INTO things (n) VALUES (2)").await;
    let third = queued(&db, "INSERT INTO things (n) VALUES (3)").await;
    let fourth = queued(&db, "INSERT INTO things (n) VALUES (4)").await;
    let mut kept_commit = kept.commit();
    let failed = while_pending(&mut kept_commit, second).await;
    while_pending(&mut kept_commit, async {
        failed.record_message("consumer", "m-2").await.unwrap();
        failed.rollback().await.unwrap();
    })
    .await;
    let cancelled = while_pending(&mut kept_commit, third).await;
    drop(cancelled);
    let last = while_pending(&mut kept_commit, fourth).await;
    let (a, b) = tokio::join!(kept_commit, last.commit());
    a.unwrap();
    b.unwrap();
    assert_eq!(things(&test).await, BTreeSet::from([1, 4]));
    assert!(
        inbox(&test).await.is_empty(),
        "the rolled back record is gone"
    );
    test.drop_database().await;
}

/// A `COMMIT` that fails (a deferred foreign key, checked only then)
/// fails every unit of work of the transaction: none is reported done and
/// none of their writes is kept. The next ones commit as usual.
#[tokio::test]
async fn a_failed_commit_fails_every_unit_of_work_of_its_transaction() {
    let (test, db) = grouped(64).await;
    let innocent = write(&db, "INSERT INTO things (n) VALUES (1)").await;
    innocent.record_message("consumer", "m-1").await.unwrap();
    // Passes its statement; the missing parent is noticed at `COMMIT`.
    let next = queued(&db, "INSERT INTO children (parent) VALUES (42)").await;
    let mut innocent_commit = innocent.commit();
    let orphan = while_pending(&mut innocent_commit, next).await;
    let (a, b) = tokio::join!(innocent_commit, orphan.commit());
    // Transient for both (a message is retried, not dead-lettered: most
    // of a transaction did nothing wrong).
    for outcome in [a, b] {
        let error = outcome.unwrap_err();
        assert_eq!(error.code(), "group-commit-failed", "{error}");
        assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
        assert!(error.to_string().contains("FOREIGN KEY"), "{error}");
    }
    assert!(things(&test).await.is_empty());
    assert!(inbox(&test).await.is_empty());

    let after = write(&db, "INSERT INTO things (n) VALUES (5)").await;
    after.commit().await.unwrap();
    assert_eq!(things(&test).await, BTreeSet::from([5]));
    test.drop_database().await;
}

/// A write outside units of work (a transaction of its own, as the
/// outbox relay's and leases' writes) takes the same turn: the shared
/// transaction commits first, and none begins while it writes.
#[tokio::test]
async fn a_transaction_of_its_own_takes_its_turn() {
    let (test, db) = grouped(64).await;
    let first = write(&db, "INSERT INTO things (n) VALUES (1)").await;
    let mut first_commit = first.commit();
    assert!(poll_once(&mut first_commit).await.is_pending());
    let mut own = db.transaction().await.unwrap();
    assert!(!own.is_joined());
    // The shared transaction committed before this one began.
    first_commit.await.unwrap();
    assert_eq!(things(&test).await, BTreeSet::from([1]));
    on_engine!(own.connection().unwrap(), conn => {
        sqlx::query("INSERT INTO things (n) VALUES (2)").execute(conn).await.map(drop)
    })
    .unwrap();
    // No unit of work begins while it holds the turn.
    let mut next = queued(&db, "INSERT INTO things (n) VALUES (3)").await;
    own.commit().await.unwrap();
    let next = (&mut next).await;
    next.commit().await.unwrap();
    assert_eq!(things(&test).await, BTreeSet::from([1, 2, 3]));
    test.drop_database().await;
}

/// A transaction of one (`group_commit=1`) commits with its unit of work.
#[tokio::test]
async fn a_full_transaction_commits_with_its_last_unit_of_work() {
    let (test, db) = grouped(1).await;
    let only = write(&db, "INSERT INTO things (n) VALUES (7)").await;
    only.commit().await.unwrap();
    assert_eq!(things(&test).await, BTreeSet::from([7]));
    test.drop_database().await;
}

/// An in-memory database has one connection: the shared transaction gives
/// it back between transactions, so plain reads still get it.
#[tokio::test]
async fn an_in_memory_database_takes_group_commit() {
    let db = Database::connect("sqlite::memory:?group_commit=4")
        .await
        .unwrap();
    db.migrate_framework().await.unwrap();
    db.migrate(MIGRATIONS).await.unwrap();
    let outcomes = futures_util::future::join_all((0..10).map(|n| call(&db, n))).await;
    assert!(
        outcomes.iter().all(|o| matches!(o, Ok(true))),
        "{outcomes:?}"
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM things")
        .fetch_one(db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(count, 10);
}

/// On by default on a SQLite file, with `DEFAULT_GROUP_COMMIT`; `0` turns
/// it off; an in-memory database has its one connection instead.
#[tokio::test]
async fn group_commit_is_the_default_on_a_sqlite_file() {
    let test = TestDatabase::sqlite().await;
    assert_eq!(
        test.database.group_commit(),
        Some(bisslog_sql::DEFAULT_GROUP_COMMIT)
    );
    assert_eq!(bisslog_sql::DEFAULT_GROUP_COMMIT, 64);
    let off = Database::connect(&format!("{}?group_commit=0", test.url))
        .await
        .unwrap();
    assert_eq!(off.group_commit(), None);
    let other = Database::connect(&format!("{}?group_commit=8", test.url))
        .await
        .unwrap();
    assert_eq!(other.group_commit(), Some(8));
    let memory = Database::connect("sqlite::memory:").await.unwrap();
    assert_eq!(memory.group_commit(), None);
    off.close().await;
    other.close().await;
    test.drop_database().await;
}

#[tokio::test]
async fn group_commit_is_for_sqlite_and_takes_a_count() {
    let error = Database::connect("postgres://app@127.0.0.1:1/db?group_commit=8")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SqlError::InvalidUrl { reason, .. } if reason.contains("is for SQLite")),
        "{error}"
    );
    let error = Database::connect("sqlite::memory:?group_commit=many")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SqlError::InvalidUrl { reason, .. } if reason.contains("group_commit=many")),
        "{error}"
    );
    let off = Database::connect("sqlite::memory:?group_commit=0")
        .await
        .unwrap();
    assert_eq!(off.group_commit(), None);
}
