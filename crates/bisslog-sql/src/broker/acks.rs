//! Acknowledgements of one subscription sent together.
//!
//! Each acknowledgement is a `DELETE` of its row, and on SQLite every
//! statement is a round trip to the connection's thread and, outside a
//! transaction, a commit of its own that waits for the write lock. Under
//! load that was most of the broker's cost per message. So the
//! acknowledgements made while one `DELETE` runs share the next one:
//! one statement for all of them, which deletes each row only under the
//! claim that acknowledges it, and says which it deleted. An idle queue
//! still sends each acknowledgement at once (a batch of one).

use std::sync::{Arc, Mutex, PoisonError};

use bisslog_messaging::BrokerError;
use tokio::sync::{Semaphore, oneshot};

use super::error::{broker_error, shared};
use super::sql;
use crate::database::{Backend, Database};
use crate::macros::own_statement;

/// The most rows one statement deletes: a bound on the statement's
/// parameter, far above what a subscription has unsettled at once.
const MOST_AT_ONCE: usize = 1024;

/// Whether an acknowledged row was deleted: `false` when its lease had
/// run out and another claim holds it.
pub(super) type Acked = Result<bool, BrokerError>;

/// The acknowledgements of one subscription.
pub(super) struct Acks {
    db: Database,
    /// Shared with the subscription's other statements on its rows.
    settling: Arc<Semaphore>,
    pending: Mutex<Pending>,
    /// Statements sent, for the tests.
    #[cfg(test)]
    statements: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct Pending {
    /// Waiting for the next statement: row, claim, who to answer.
    rows: Vec<(i64, Arc<str>, oneshot::Sender<Acked>)>,
    /// A task is sending statements; it takes the rows above next.
    sending: bool,
}

impl Acks {
    pub(super) fn new(db: Database, settling: Arc<Semaphore>) -> Self {
        Self {
            db,
            settling,
            pending: Mutex::default(),
            #[cfg(test)]
            statements: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        // Pushes and takes only: a panic elsewhere leaves it consistent.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Deletes row `id` under claim `owner`, with the acknowledgements
    /// made meanwhile; resolves once that statement has returned.
    pub(super) async fn ack(self: &Arc<Self>, id: i64, owner: Arc<str>) -> Acked {
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut pending = self.pending();
            pending.rows.push((id, owner, answer));
            !std::mem::replace(&mut pending.sending, true)
        };
        if start {
            // Its own task, so an acknowledgement dropped while its
            // statement runs neither cancels the others' nor leaves the
            // queue without a sender.
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(Arc::clone(self).send())),
                // sqlx cannot run a statement without Tokio either.
                Err(_) => self.fail_waiting("no Tokio runtime runs the acknowledgement"),
            }
        }
        answered.await.unwrap_or_else(|_| {
            Err(BrokerError::Connection {
                message: "the acknowledgement was dropped unsent: the runtime is shutting down"
                    .to_owned(),
                source: None,
            })
        })
    }

    /// Fails every acknowledgement waiting, and lets the next one start
    /// a sender.
    fn fail_waiting(&self, why: &str) {
        let waiting = {
            let mut pending = self.pending();
            pending.sending = false;
            std::mem::take(&mut pending.rows)
        };
        for (_, _, answer) in waiting {
            let _ = answer.send(Err(BrokerError::Connection {
                message: why.to_owned(),
                source: None,
            }));
        }
    }

    /// Sends the waiting acknowledgements, a statement at a time, until
    /// none waits.
    async fn send(self: Arc<Self>) {
        loop {
            let batch = {
                let mut pending = self.pending();
                if pending.rows.is_empty() {
                    pending.sending = false;
                    return;
                }
                if pending.rows.len() <= MOST_AT_ONCE {
                    std::mem::take(&mut pending.rows)
                } else {
                    pending.rows.drain(..MOST_AT_ONCE).collect()
                }
            };
            match self.delete(&batch).await {
                Ok(deleted) => {
                    for (id, _, answer) in batch {
                        let _ = answer.send(Ok(deleted.binary_search(&id).is_ok()));
                    }
                }
                Err(error) => {
                    for (_, _, answer) in batch {
                        let _ = answer.send(Err(shared(&error)));
                    }
                }
            }
        }
    }

    /// One statement for the batch; the ids it deleted, sorted.
    async fn delete(
        &self,
        batch: &[(i64, Arc<str>, oneshot::Sender<Acked>)],
    ) -> Result<Vec<i64>, BrokerError> {
        let pairs: Vec<(i64, &str)> = batch.iter().map(|(id, owner, _)| (*id, &**owner)).collect();
        let pairs = serde_json::to_string(&pairs).map_err(|e| BrokerError::Rejected {
            message: format!("the acknowledgements could not be encoded: {e}"),
        })?;
        let statement = match self.db.backend() {
            Backend::Sqlite => sql::ACK_SQLITE,
            Backend::Postgres => sql::ACK_POSTGRES,
        };
        // Never closed; were it, the statement runs unbounded.
        let _turn = self.settling.acquire().await.ok();
        #[cfg(test)]
        self.statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut deleted: Vec<i64> = own_statement!(self.db, |e| broker_error("acknowledging messages", e), conn => {
            sqlx::query_scalar(statement).bind(&pairs).fetch_all(conn).await
        });
        deleted.sort_unstable();
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A SQLite file of this test, its framework tables made, with rows
    /// `1..=claimed` leased to `claim:1` and one more to `someone-else`.
    async fn database(name: &str, claimed: i64) -> (Database, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("bisslog-acks-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let db = Database::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        db.migrate_framework().await.unwrap();
        for id in 1..=claimed + 1 {
            let owner = if id <= claimed {
                "claim:1"
            } else {
                "someone-else"
            };
            sqlx::query(
                "INSERT INTO bisslog_broker_messages (id, queue, message_id, headers, payload, \
                 available_at_ms, lease_owner, lease_until_ms, created_at_ms) \
                 VALUES ($1, 'q', $2, '{}', x'00', 0, $3, 0, 0)",
            )
            .bind(id)
            .bind(format!("m-{id}"))
            .bind(owner)
            .execute(db.sqlite().unwrap())
            .await
            .unwrap();
        }
        (db, path)
    }

    fn acks_on(db: &Database) -> Arc<Acks> {
        Arc::new(Acks::new(db.clone(), Arc::new(Semaphore::new(4))))
    }

    fn remove(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// Yields until `done` holds, a bounded number of times.
    async fn until(what: &str, done: impl Fn() -> bool) {
        for _ in 0..100_000 {
            if done() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("never: {what}");
    }

    /// The acknowledgements made while a statement runs share the next
    /// one, and each deletes its row only under its own claim. The first
    /// statement is held back by another connection's write lock, so the
    /// others surely arrive while it runs.
    #[tokio::test]
    async fn acknowledgements_made_meanwhile_share_one_statement() {
        let (db, path) = database("share", 20).await;
        let acks = acks_on(&db);
        let blocker = crate::work::Tx::begin(&db).await.unwrap();

        let owner: Arc<str> = "claim:1".into();
        let first = tokio::spawn({
            let (acks, owner) = (Arc::clone(&acks), Arc::clone(&owner));
            async move { acks.ack(1, owner).await }
        });
        until("the first is being sent", || {
            let pending = acks.pending();
            pending.sending && pending.rows.is_empty()
        })
        .await;
        // 2..=20 under their claim; 21 is leased to someone else.
        let rest: Vec<_> = (2..=21)
            .map(|id| {
                let (acks, owner) = (Arc::clone(&acks), Arc::clone(&owner));
                tokio::spawn(async move { (id, acks.ack(id, owner).await) })
            })
            .collect();
        until("the rest wait", || acks.pending().rows.len() == 20).await;
        blocker.rollback().await.unwrap();

        assert!(first.await.unwrap().unwrap());
        for task in rest {
            let (id, acked) = task.await.unwrap();
            assert_eq!(acked.unwrap(), id <= 20, "row {id}");
        }
        assert_eq!(
            acks.statements.load(std::sync::atomic::Ordering::Relaxed),
            2
        );
        let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM bisslog_broker_messages")
            .fetch_all(db.sqlite().unwrap())
            .await
            .unwrap();
        assert_eq!(left, [21], "someone else's claim is kept");
        db.close().await;
        remove(&path);
    }

    /// Without a Tokio runtime nothing can send: the acknowledgement fails
    /// at once instead of waiting for a sender that never comes.
    #[test]
    fn without_a_runtime_an_acknowledgement_fails_at_once() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (db, path) = runtime.block_on(database("no-runtime", 1));
        let acks = acks_on(&db);
        // Polled outside any runtime: ready at the first poll.
        let mut ack = std::pin::pin!(acks.ack(1, "claim:1".into()));
        let polled = std::future::Future::poll(
            ack.as_mut(),
            &mut std::task::Context::from_waker(std::task::Waker::noop()),
        );
        assert!(
            matches!(
                polled,
                std::task::Poll::Ready(Err(BrokerError::Connection { .. }))
            ),
            "{polled:?}"
        );
        assert!(!acks.pending().sending, "the next one may start a sender");
        runtime.block_on(db.close());
        remove(&path);
    }

    /// A statement that fails fails every acknowledgement it carried, with
    /// the failure's kind (a closed database: the connection).
    #[tokio::test]
    async fn a_failed_statement_fails_every_acknowledgement_it_carried() {
        let (db, path) = database("fail", 3).await;
        let acks = acks_on(&db);
        db.close().await;
        let owner: Arc<str> = "claim:1".into();
        let results =
            futures_util::future::join_all((1..=3).map(|id| acks.ack(id, Arc::clone(&owner))))
                .await;
        for result in results {
            assert!(
                matches!(result, Err(BrokerError::Connection { .. })),
                "{result:?}"
            );
        }
        remove(&path);
    }
}
