//! One delivered message, leased to its subscriber until settled.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_messaging::{BrokerError, Delivery, Message};
use tokio::sync::Notify;

use super::acks::Acks;
use super::error::broker_error;
use super::{sql, wake};
use crate::clock::now_ms;
use crate::database::Database;
use crate::macros::own_statement;

/// How many messages a subscription holds unsettled (claimed, handed out
/// or not), against its prefetch.
#[derive(Default)]
pub(super) struct Outstanding {
    count: AtomicUsize,
    /// Told whenever one is settled.
    pub(super) freed: Notify,
}

impl Outstanding {
    /// How many are held now.
    pub(super) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Counts one more until the returned slot is dropped.
    pub(super) fn take(self: &Arc<Self>) -> Slot {
        self.count.fetch_add(1, Ordering::AcqRel);
        Slot(Arc::clone(self))
    }
}

/// One unit of a subscription's prefetch; given back when dropped.
pub(super) struct Slot(Arc<Outstanding>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
        self.0.freed.notify_one();
    }
}

/// Which row, under which claim: every statement on it names both, so a
/// delivery whose lease expired (and was claimed again elsewhere) cannot
/// settle the newer claim.
#[derive(Clone)]
pub(super) struct Claim {
    pub(super) db: Database,
    pub(super) queue: Arc<str>,
    pub(super) id: i64,
    pub(super) owner: Arc<str>,
    /// Shared by the subscription's claims: how many of their statements
    /// may run at once.
    pub(super) settling: Arc<tokio::sync::Semaphore>,
    /// Shared by the subscription's claims: acknowledgements sent together.
    pub(super) acks: Arc<Acks>,
}

impl Claim {
    /// Runs one of the row's statements; how many rows it changed.
    pub(super) async fn run(
        &self,
        what: &str,
        statement: &'static str,
        until_ms: Option<i64>,
    ) -> Result<u64, BrokerError> {
        // Never closed; were it, the statement runs unbounded.
        let _turn = self.settling.acquire().await.ok();
        Ok(own_statement!(self.db, |e| broker_error(what, e), conn => {
            let query = sqlx::query(statement).bind(self.id).bind(&*self.owner);
            let query = match until_ms {
                Some(ms) => query.bind(ms),
                None => query,
            };
            query.execute(conn).await.map(|r| r.rows_affected())
        }))
    }

    /// Wakes this process's subscribers of the queue.
    pub(super) fn wake(&self) {
        wake::wake(self.db.location(), &self.queue);
    }

    /// Gives the row back in the background (a delivery or a claim dropped
    /// unsettled), so it is delivered again now rather than when its lease
    /// runs out; without a runtime, the lease running out does it.
    pub(super) fn release_in_background(self, statement: &'static str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            match self.run("giving back a message", statement, None).await {
                Ok(_) => self.wake(),
                Err(error) => tracing::debug!(
                    queue = %self.queue,
                    error = %error,
                    "giving back a message failed; it is delivered again when its lease runs out"
                ),
            }
        });
    }
}

/// A message claimed from the database, deleted when acknowledged.
pub(super) struct SqlDelivery {
    pub(super) claim: Claim,
    pub(super) message: Message,
    pub(super) attempt: u32,
    pub(super) ack_wait: Duration,
    /// `None` once settled.
    pub(super) slot: Option<Slot>,
}

impl SqlDelivery {
    /// The claim, marking the delivery settled.
    fn settle(&mut self) -> (Claim, Option<Slot>) {
        (self.claim.clone(), self.slot.take())
    }
}

/// A settlement that found the row under another claim: its lease ran out
/// and the message went to another delivery, which settles it.
fn lease_lost(claim: &Claim, how: &str) {
    tracing::warn!(
        queue = %claim.queue,
        how,
        "the delivery's lease had run out and the message was delivered again; this settlement changes nothing"
    );
}

impl Delivery for SqlDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn ack(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let (claim, slot) = self.settle();
        Box::pin(async move {
            let deleted = claim.acks.ack(claim.id, Arc::clone(&claim.owner)).await?;
            drop(slot);
            if !deleted {
                lease_lost(&claim, "ack");
            }
            Ok(())
        })
    }

    fn retry(mut self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        let (claim, slot) = self.settle();
        let delay = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        Box::pin(async move {
            let due = now_ms().saturating_add(delay);
            let changed = claim
                .run("scheduling a retry", sql::RETRY, Some(due))
                .await?;
            drop(slot);
            if changed == 0 {
                lease_lost(&claim, "retry");
            }
            // Waiting subscribers recompute when to look again.
            claim.wake();
            Ok(())
        })
    }

    fn keep_alive(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            let ack_wait = i64::try_from(self.ack_wait.as_millis()).unwrap_or(i64::MAX);
            let until = now_ms().saturating_add(ack_wait);
            let changed = self
                .claim
                .run("extending a lease", sql::KEEP_ALIVE, Some(until))
                .await?;
            if changed == 0 {
                return Err(BrokerError::Rejected {
                    message: "the delivery's lease had run out: the message was delivered again"
                        .to_owned(),
                });
            }
            Ok(())
        })
    }
}

impl Drop for SqlDelivery {
    /// Unsettled: delivered again at once.
    fn drop(&mut self) {
        if self.slot.take().is_some() {
            self.claim.clone().release_in_background(sql::RELEASE);
        }
    }
}
