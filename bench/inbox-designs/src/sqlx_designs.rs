//! The sqlx designs: a transaction per message over the pool (a, what
//! bisslog-sql does today), and group commit on one connection (b). Each
//! statement is a round trip to the connection's worker thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::mpsc;

use crate::consume::{Batches, Job, Outcome, savepoints};
use crate::message::{CONSUMER, now_ms};
use crate::schema::{RECORD, USE_CASE};

/// Group commit's largest batch.
pub(crate) const BATCH: usize = 64;

/// Design a: `BEGIN IMMEDIATE`, the inbox row, the use case's insert,
/// `COMMIT`, on a connection of the pool, as `bisslog_sql`'s `Tx`.
pub(crate) async fn per_message(pool: &SqlitePool, id: &str, total: i64) -> Outcome {
    let Ok(mut conn) = pool.acquire().await else {
        return Outcome::Failed;
    };
    if sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .is_err()
    {
        conn.close_on_drop();
        return Outcome::Failed;
    }
    let (outcome, end) = match handle(&mut conn, id, total).await {
        Ok(outcome) => (outcome, "COMMIT"),
        Err(_) => (Outcome::Failed, "ROLLBACK"),
    };
    if sqlx::raw_sql(end).execute(&mut *conn).await.is_err() {
        // Nobody knows where the transaction stands: as bisslog-sql, close.
        conn.close_on_drop();
        return Outcome::Failed;
    }
    outcome
}

/// The inbox row, then the use case's write unless it is a redelivery.
async fn handle(conn: &mut SqliteConnection, id: &str, total: i64) -> Result<Outcome, sqlx::Error> {
    let recorded = sqlx::query(RECORD)
        .bind(CONSUMER)
        .bind(id)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if recorded == 0 {
        return Ok(Outcome::Duplicate);
    }
    sqlx::query(USE_CASE)
        .bind(id)
        .bind(total)
        .execute(&mut *conn)
        .await?;
    Ok(Outcome::Handled)
}

/// Design b: one writer task on one connection. It waits for a message,
/// begins, runs each waiting message (up to [`BATCH`]) in a savepoint of
/// its own, commits when the batch is full or nothing waits, and answers
/// (acknowledges) only after the `COMMIT`.
pub(crate) async fn group_commit(
    mut conn: PoolConnection<Sqlite>,
    mut jobs: mpsc::Receiver<Job>,
    counts: Arc<Batches>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcomes = match run_batch(&mut conn, &batch).await {
            Ok(outcomes) => outcomes,
            Err(_) => {
                // The batch is lost as a whole: none of it is acknowledged.
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                vec![Outcome::Failed; batch.len()]
            }
        };
        counts.transactions.fetch_add(1, Ordering::Relaxed);
        counts
            .messages
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        for (job, outcome) in batch.drain(..).zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
    }
}

async fn run_batch(
    conn: &mut SqliteConnection,
    batch: &[Job],
) -> Result<Vec<Outcome>, sqlx::Error> {
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        if !savepoints() {
            // A failure fails the batch (the caller rolls it back).
            outcomes.push(handle(conn, &job.id, job.total).await?);
            continue;
        }
        sqlx::raw_sql("SAVEPOINT message")
            .execute(&mut *conn)
            .await?;
        match handle(conn, &job.id, job.total).await {
            Ok(outcome) => {
                sqlx::raw_sql("RELEASE message").execute(&mut *conn).await?;
                outcomes.push(outcome);
            }
            Err(_) => {
                // Undo this message only (its inbox row too); the others stay.
                sqlx::raw_sql("ROLLBACK TO message; RELEASE message")
                    .execute(&mut *conn)
                    .await?;
                outcomes.push(Outcome::Failed);
            }
        }
    }
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    Ok(outcomes)
}
