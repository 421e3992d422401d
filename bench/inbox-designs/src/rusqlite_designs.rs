//! The rusqlite designs: a writer thread fed by a channel, one hand-off per
//! message, with a transaction per message (c) or group commit (d); and
//! group commit called on the async task itself (e), no hand-off at all.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rusqlite::Connection;
use tokio::sync::mpsc;

use crate::consume::{Batches, Job, Outcome, savepoints};
use crate::message::{CONSUMER, now_ms};
use crate::schema::{RECORD, USE_CASE};
use crate::sqlx_designs::BATCH;

/// Designs c and d: the thread's loop.
pub(crate) fn on_thread(
    conn: Connection,
    mut jobs: mpsc::Receiver<Job>,
    group: bool,
    counts: &Batches,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        if group {
            fill(&mut jobs, &mut batch);
            commit_batch(&conn, &mut batch, counts);
        } else {
            for job in batch.drain(..) {
                let outcome = per_message(&conn, &job);
                counts.transactions.fetch_add(1, Ordering::Relaxed);
                counts.messages.fetch_add(1, Ordering::Relaxed);
                let _ = job.reply.send(outcome);
            }
        }
    }
}

/// Design e: the writer is a task; its SQLite calls block the runtime's
/// worker while they run (the upper bound: no hand-off between threads).
pub(crate) async fn on_task(conn: Connection, mut jobs: mpsc::Receiver<Job>, counts: Arc<Batches>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        // Woken by the first send, this task runs next (Tokio's LIFO
        // slot) before the other consumers could send theirs: let them
        // run first, or every batch would hold one message.
        tokio::task::yield_now().await;
        fill(&mut jobs, &mut batch);
        commit_batch(&conn, &mut batch, &counts);
    }
}

/// Takes what waits, up to a full batch.
fn fill(jobs: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Design c's transaction.
fn per_message(conn: &Connection, job: &Job) -> Outcome {
    if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
        return Outcome::Failed;
    }
    let (outcome, end) = match handle(conn, job) {
        Ok(outcome) => (outcome, "COMMIT"),
        Err(_) => (Outcome::Failed, "ROLLBACK"),
    };
    match conn.execute_batch(end) {
        Ok(()) => outcome,
        Err(_) => {
            let _ = conn.execute_batch("ROLLBACK");
            Outcome::Failed
        }
    }
}

/// Group commit: a savepoint per message, one `COMMIT`, then the answers.
fn commit_batch(conn: &Connection, batch: &mut Vec<Job>, counts: &Batches) {
    let outcomes = match run_batch(conn, batch) {
        Ok(outcomes) => outcomes,
        Err(_) => {
            // The batch is lost as a whole: none of it is acknowledged.
            let _ = conn.execute_batch("ROLLBACK");
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

fn run_batch(conn: &Connection, batch: &[Job]) -> rusqlite::Result<Vec<Outcome>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        if !savepoints() {
            // A failure fails the batch (the caller rolls it back).
            outcomes.push(handle(conn, job)?);
            continue;
        }
        conn.prepare_cached("SAVEPOINT message")?.execute([])?;
        match handle(conn, job) {
            Ok(outcome) => {
                conn.prepare_cached("RELEASE message")?.execute([])?;
                outcomes.push(outcome);
            }
            Err(_) => {
                // Undo this message only (its inbox row too); the others stay.
                conn.execute_batch("ROLLBACK TO message; RELEASE message")?;
                outcomes.push(Outcome::Failed);
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(outcomes)
}

/// The inbox row, then the use case's write unless it is a redelivery.
fn handle(conn: &Connection, job: &Job) -> rusqlite::Result<Outcome> {
    let recorded = conn
        .prepare_cached(RECORD)?
        .execute((CONSUMER, job.id.as_str(), now_ms()))?;
    if recorded == 0 {
        return Ok(Outcome::Duplicate);
    }
    conn.prepare_cached(USE_CASE)?
        .execute((job.id.as_str(), job.total))?;
    Ok(Outcome::Handled)
}
