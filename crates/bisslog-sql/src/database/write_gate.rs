//! One writer at a time, in the order they asked: the write transactions
//! of a SQLite file database wait for each other here, in the process,
//! rather than in SQLite's busy handler.
//!
//! SQLite lets one transaction write at a time. Without this, the others
//! wait in `BEGIN IMMEDIATE`, where the busy handler sleeps 1, 2, 5, 10, …
//! up to 100 ms between tries: a writer asleep misses the moments the lock
//! is free while writers arriving later take it, so under load some waited
//! over a second (the `slow statement` warnings of the system path and the
//! exactly-once consumer, docs/benchmarks.md). Here they queue first come,
//! first served (Tokio's mutex is fair) and the next one is woken when the
//! last one's transaction ends, so SQLite's lock is nearly always free when
//! `BEGIN IMMEDIATE` asks for it; the busy handler is left to writers of
//! other processes and to the framework's single-statement writes.
//!
//! The turn is held exactly as long as SQLite's write lock would be (from
//! before `BEGIN IMMEDIATE` to the end of `COMMIT` or `ROLLBACK`), so it
//! adds no wait that the lock did not already impose; and it is bounded by
//! the same 5 s as the busy timeout, so a transaction that holds it while
//! it awaits something slow fails the others with a busy error as the lock
//! did, rather than hanging them. Only units of work and the framework's
//! writes that take [`Database::write_turn`](super::Database::write_turn)
//! use it; under group commit its own turn takes this one's place.

use std::sync::Arc;

use bisslog_core::{Error, ErrorKind};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::BUSY_TIMEOUT;
use crate::batch::BatchTurn;

/// The queue of a SQLite file database's writers (shared by its clones).
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteGate(Arc<Mutex<()>>);

impl WriteGate {
    /// Waits for the turn, at most [`BUSY_TIMEOUT`].
    pub(crate) async fn turn(&self) -> Result<WriteTurn, Error> {
        match tokio::time::timeout(BUSY_TIMEOUT, Arc::clone(&self.0).lock_owned()).await {
            Ok(guard) => Ok(WriteTurn::Gate(guard)),
            Err(_) => Err(Error::new(
                ErrorKind::Unavailable,
                "database-busy",
                "waited 5 s for a turn to write to the database: another write transaction holds it",
            )),
        }
    }
}

/// A writer's turn, held (never read) while it writes: dropping it lets
/// the next writer in.
#[allow(dead_code, reason = "the guards are held for their drop, never read")]
pub(crate) enum WriteTurn {
    /// Its turn in the writers' line.
    Gate(OwnedMutexGuard<()>),
    /// Group commit's turn.
    Batch(BatchTurn),
}

#[cfg(test)]
mod tests {
    use bisslog_core::UseCaseError as _;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn writers_take_turns_in_the_order_they_asked() {
        let gate = Arc::new(WriteGate::default());
        let first = gate.turn().await.map_err(|e| e.to_string());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for n in 0..3 {
            let gate = Arc::clone(&gate);
            let order = Arc::clone(&order);
            waiting.push(tokio::spawn(async move {
                let _turn = gate.turn().await.map_err(|e| e.to_string())?;
                order.lock().map_err(|e| e.to_string())?.push(n);
                // Yields while holding the turn: the next waits.
                tokio::task::yield_now().await;
                Ok::<_, String>(())
            }));
            // Each queued before the next asks.
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
        }
        assert!(
            order.lock().is_ok_and(|o| o.is_empty()),
            "all wait for the first"
        );
        drop(first);
        for task in waiting {
            assert_eq!(task.await.ok(), Some(Ok(())));
        }
        assert_eq!(*order.lock().expect("not poisoned"), [0, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_turn_fails_the_next_writer_after_the_busy_timeout() {
        let gate = WriteGate::default();
        let _held = gate.turn().await.expect("free");
        let started = tokio::time::Instant::now();
        let error = gate.turn().await.err().expect("busy");
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        assert_eq!(error.code(), "database-busy");
        assert_eq!(started.elapsed(), BUSY_TIMEOUT);
    }
}
