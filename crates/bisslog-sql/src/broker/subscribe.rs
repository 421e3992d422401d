//! A subscription: claims due messages with a lease, hands them out one by
//! one, and waits for a wake-up or a bounded poll when there are none.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bisslog_messaging::{BrokerError, Deliveries, Delivery, new_message_id};
use tokio::sync::Semaphore;

use super::acks::Acks;
use super::delivery::{Claim, Outstanding, Slot, SqlDelivery};
use super::error::broker_error;
use super::row::{self, Claimed};
use super::{sql, wake};
use crate::clock::now_ms;
use crate::database::{Backend, Database};
use crate::macros::own_statement;

/// What a subscription needs to know.
pub(super) struct Claimer {
    pub(super) db: Database,
    pub(super) queue: Arc<str>,
    pub(super) prefetch: usize,
    pub(super) ack_wait: Duration,
    pub(super) poll_interval: Duration,
    pub(super) claim_batch: usize,
    /// This subscription's part of the lease owner of its claims.
    subscriber: String,
    claims: u64,
    wakes: Arc<wake::QueueWakes>,
    /// The wake-up count read before the last claim, when that claim took
    /// every due message: until the count moves, claiming again would
    /// find nothing published here (others' are seen by the poll).
    drained_at: Option<u64>,
    outstanding: Arc<Outstanding>,
    /// Bounds the statements on this subscription's rows running at once
    /// (see [`SETTLING_AT_ONCE`]).
    settling: Arc<Semaphore>,
    /// The acknowledgements of this subscription's deliveries.
    acks: Arc<Acks>,
    /// Claimed, not yet handed out.
    buffer: VecDeque<Buffered>,
}

/// How many statements on its rows (acknowledgements, retries, lease
/// renewals) one subscription runs at once. The runner has up to
/// `batch_size` acknowledgements on their way besides the calls; each
/// takes a pooled connection, and SQLite runs one write at a time anyway:
/// without a bound they would take the whole pool and starve the
/// publishers of the same database.
const SETTLING_AT_ONCE: usize = 4;

struct Buffered {
    claim: Claim,
    message: bisslog_messaging::Message,
    attempt: u32,
    lease_until_ms: i64,
    slot: Slot,
}

impl Claimer {
    /// A subscription to `queue`.
    pub(super) fn new(
        db: Database,
        queue: &str,
        prefetch: u32,
        ack_wait: Duration,
        poll_interval: Duration,
        claim_batch: u32,
    ) -> Self {
        let wakes = wake::wakes_of(db.location(), queue);
        let settling = Arc::new(Semaphore::new(SETTLING_AT_ONCE));
        Self {
            acks: Arc::new(Acks::new(db.clone(), Arc::clone(&settling))),
            db,
            queue: queue.into(),
            prefetch: usize::try_from(prefetch).unwrap_or(usize::MAX).max(1),
            ack_wait: ack_wait.max(Duration::from_millis(1)),
            poll_interval: poll_interval.max(Duration::from_millis(1)),
            claim_batch: usize::try_from(claim_batch).unwrap_or(usize::MAX).max(1),
            subscriber: new_message_id(),
            claims: 0,
            wakes,
            drained_at: None,
            outstanding: Arc::default(),
            settling,
            buffer: VecDeque::new(),
        }
    }

    /// The deliveries, as a stream that ends never. Closing it drops the
    /// claimer, which gives back at once, uncounted, the claims it never
    /// handed out (see its `Drop`): nothing is left for the runner to
    /// release.
    pub(super) fn into_deliveries(self) -> Deliveries {
        Deliveries::new(futures_util::stream::unfold(
            self,
            |mut claimer| async move {
                let next = claimer.next().await;
                Some((next, claimer))
            },
        ))
    }

    fn ack_wait_ms(&self) -> i64 {
        i64::try_from(self.ack_wait.as_millis()).unwrap_or(i64::MAX)
    }

    /// The next delivery; waits while there is none.
    async fn next(&mut self) -> Result<Box<dyn Delivery>, BrokerError> {
        loop {
            if let Some(delivery) = self.hand_out().await? {
                return Ok(delivery);
            }
            // Enabled before looking, so a publication made while the
            // claim runs still wakes the wait below.
            let wakes = Arc::clone(&self.wakes);
            let outstanding = Arc::clone(&self.outstanding);
            let notified = wakes.notified();
            let freed = outstanding.freed.notified();
            tokio::pin!(notified, freed);
            notified.as_mut().enable();
            freed.as_mut().enable();
            let room = self.prefetch.saturating_sub(self.outstanding.count());
            if room == 0 {
                // Every prefetched message is unsettled: wait for one.
                freed.await;
                continue;
            }
            // Under a steady trickle every claim takes the one message a
            // publication woke it for; claiming again right after would
            // be a write that finds nothing.
            let seen = wakes.count();
            if self.drained_at.take() != Some(seen) {
                let limit = room.min(self.claim_batch);
                let claimed = self.claim(limit).await?;
                if claimed > 0 {
                    self.drained_at = (claimed < limit).then_some(seen);
                    continue;
                }
            }
            let wait = self.until_next_due().await?;
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The first buffered claim still safely leased.
    async fn hand_out(&mut self) -> Result<Option<Box<dyn Delivery>>, BrokerError> {
        while let Some(buffered) = self.buffer.pop_front() {
            // Held in the buffer for a while (the subscriber was busy):
            // renew the lease first, so the delivery starts with a whole
            // one; a lease already taken over means someone else has it.
            if buffered.lease_until_ms - now_ms() < self.ack_wait_ms() / 2 {
                let until = now_ms().saturating_add(self.ack_wait_ms());
                let renewed = buffered
                    .claim
                    .run("renewing a lease", sql::KEEP_ALIVE, Some(until))
                    .await;
                match renewed {
                    Ok(0) => continue,
                    Ok(_) => {}
                    Err(error) => {
                        self.buffer.push_front(buffered);
                        return Err(error);
                    }
                }
            }
            let Buffered {
                claim,
                message,
                attempt,
                slot,
                ..
            } = buffered;
            return Ok(Some(Box::new(SqlDelivery {
                claim,
                message,
                attempt,
                ack_wait: self.ack_wait,
                slot: Some(slot),
            })));
        }
        Ok(None)
    }

    /// Claims up to `limit` due messages into the buffer; how many.
    async fn claim(&mut self, limit: usize) -> Result<usize, BrokerError> {
        self.claims += 1;
        let owner: Arc<str> = format!("{}:{}", self.subscriber, self.claims).into();
        let now = now_ms();
        let until = now.saturating_add(self.ack_wait_ms());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let statement = match self.db.backend() {
            Backend::Sqlite => sql::CLAIM_SQLITE,
            Backend::Postgres => sql::CLAIM_POSTGRES,
        };
        let mut rows: Vec<Claimed> = own_statement!(self.db, |e| broker_error("claiming messages", e), conn => {
            sqlx::query_as(statement)
                .bind(&*owner)
                .bind(until)
                .bind(&*self.queue)
                .bind(now)
                .bind(limit)
                .fetch_all(conn)
                .await
        });
        rows.sort_by_key(|row| row.0);
        let claimed = rows.len();
        for (id, message_id, headers, payload, deliveries) in rows {
            self.buffer.push_back(Buffered {
                claim: Claim {
                    db: self.db.clone(),
                    queue: Arc::clone(&self.queue),
                    id,
                    owner: Arc::clone(&owner),
                    settling: Arc::clone(&self.settling),
                    acks: Arc::clone(&self.acks),
                },
                message: row::decode(&self.queue, message_id, &headers, payload),
                attempt: row::attempt(deliveries),
                lease_until_ms: until,
                slot: self.outstanding.take(),
            });
        }
        Ok(claimed)
    }

    /// How long to wait before looking again: until the next delayed
    /// message or lease is due, at most the poll interval (for messages
    /// published by other processes).
    async fn until_next_due(&self) -> Result<Duration, BrokerError> {
        let next: Option<i64> = own_statement!(self.db, |e| broker_error("reading when the next message is due", e), conn => {
            sqlx::query_scalar(sql::NEXT_DUE)
                .bind(&*self.queue)
                .fetch_one(conn)
                .await
        });
        let wait = match next {
            Some(due) => {
                let millis = u64::try_from(due.saturating_sub(now_ms())).unwrap_or(0);
                // Never zero: a row due now but not claimed is leased by
                // a claim that is just ending.
                Duration::from_millis(millis.max(5)).min(self.poll_interval)
            }
            None => self.poll_interval,
        };
        Ok(wait)
    }
}

impl Drop for Claimer {
    /// Claimed messages never handed out go back at once, uncounted.
    fn drop(&mut self) {
        for buffered in self.buffer.drain(..) {
            buffered.claim.release_in_background(sql::UNCLAIM);
        }
    }
}
