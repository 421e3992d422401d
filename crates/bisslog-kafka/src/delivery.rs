//! [`KafkaDelivery`]: one record handed to the runner, and its
//! settlement.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_messaging::{BrokerError, Delivery, Message};

use crate::codec::Counting;
use crate::consumer::{Assignment, Shared};

/// A record polled from a partition.
pub(crate) struct Record {
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    /// The assignment of the partition it was polled under.
    pub(crate) assignment: Arc<Assignment>,
    pub(crate) message: Message,
    pub(crate) attempt: u32,
}

/// One delivery of a record.
pub(crate) struct KafkaDelivery {
    /// `None` once settled.
    record: Option<Record>,
    shared: Arc<Shared>,
}

impl KafkaDelivery {
    pub(crate) fn new(record: Record, shared: Arc<Shared>) -> Self {
        Self {
            record: Some(record),
            shared,
        }
    }

    fn record(&self) -> &Record {
        match &self.record {
            Some(record) => record,
            // Settling takes the delivery by value: a settled one is
            // never reached through the trait.
            None => unreachable!("a settled Kafka delivery was used"),
        }
    }

    fn settle(mut self) -> (Record, Arc<Shared>) {
        let record = self.record.take();
        let shared = Arc::clone(&self.shared);
        match record {
            Some(record) => (record, shared),
            None => unreachable!("a Kafka delivery was settled twice"),
        }
    }
}

/// Hands `record` out again at once (this subscription is running), or
/// leaves it uncommitted for the group (it is closing).
fn again(shared: &Shared, mut record: Record, attempt: u32) {
    shared.back(&record);
    if !shared.closing.load(Ordering::SeqCst) {
        record.attempt = attempt;
        let _ = shared.redo.send(record);
    }
}

impl Delivery for KafkaDelivery {
    fn message(&self) -> &Message {
        &self.record().message
    }

    fn attempt(&self) -> u32 {
        self.record().attempt
    }

    /// The offset is marked done at once; only once the subscription is
    /// closing is there a commit to wait for, so otherwise the future is
    /// [`settled`](bisslog_messaging::settled) (no allocation per record).
    /// Whether it is closing is read here rather than at the first poll,
    /// which follows at once (the runner polls a settlement as it gets it).
    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let (record, shared) = (*self).settle();
        shared.done(&record);
        if !shared.closing.load(Ordering::SeqCst) {
            return bisslog_messaging::settled();
        }
        Box::pin(async move {
            shared.committed_if_closing().await;
            Ok(())
        })
    }

    /// Kafka does not redeliver one message: the retry is a copy
    /// published to the same topic (same key, so the same partition) with
    /// the next attempt number and the time it is due; once the cluster
    /// has it, the original counts as done.
    fn retry(self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        let (record, shared) = (*self).settle();
        Box::pin(async move {
            let counting = Counting {
                attempt: record.attempt.saturating_add(1),
                not_before: due(delay),
                retry_for: Some(shared.group.clone()),
            };
            match shared
                .broker
                .send(&shared.topic, &record.message, Some(counting))
                .await
            {
                Ok(()) => {
                    shared.done(&record);
                    shared.committed_if_closing().await;
                    Ok(())
                }
                Err(error) => {
                    let attempt = record.attempt.saturating_add(1);
                    again(&shared, record, attempt);
                    Err(error)
                }
            }
        })
    }

    fn release(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let (record, shared) = (*self).settle();
        let attempt = record.attempt;
        again(&shared, record, attempt);
        Box::pin(std::future::ready(Ok(())))
    }

    fn keep_alive(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.shared.touch(self.record());
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Drop for KafkaDelivery {
    /// Dropped unsettled: delivered again at once, as one more attempt.
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            let attempt = record.attempt.saturating_add(1);
            again(&self.shared, record, attempt);
        }
    }
}

/// Unix milliseconds `delay` from now, or `None` for no delay.
fn due(delay: Duration) -> Option<i64> {
    if delay.is_zero() {
        return None;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    i64::try_from((now + delay).as_millis()).ok()
}
