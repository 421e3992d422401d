//! One delivered stream entry ([`RedisDelivery`]) and how it is settled,
//! and the stream of a subscription ([`RedisDeliveries`]): claims of due
//! retries and expired leases, then blocking group reads.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_messaging::{BrokerError, Delivery, DeliveryStream, Message};
use futures_util::Stream;
use redis::aio::ConnectionManager;
use tokio::time::Instant;

use crate::reply::{self, Entry};
use crate::{codec, error, scripts};

/// The longest a read blocks on the server: it bounds how long closing a
/// subscription waits for the read in progress.
pub(crate) const MAX_BLOCK: Duration = Duration::from_secs(2);

/// How often a subscriber removes the consumers of gone instances from
/// its group.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// What every delivery of one subscription shares.
pub(crate) struct Group {
    /// For everything but the blocking reads.
    pub(crate) conn: ConnectionManager,
    /// The stream: the queue's name.
    pub(crate) stream: String,
    /// The consumer group: the subscription's consumer name.
    pub(crate) group: String,
    /// This subscriber's consumer in the group.
    pub(crate) consumer: String,
    /// The group's sorted set of entries waiting for a delayed retry.
    pub(crate) delayed: String,
    /// Acknowledgements waiting for the next `XACK` of the group.
    pub(crate) acks: Mutex<PendingAcks>,
    /// Told when the task sending `XACK`s has sent every queued one.
    pub(crate) acks_sent: tokio::sync::Notify,
}

/// The most acknowledgements queued for the next `XACK` without anyone
/// waiting for its answer ([`Delivery::ack_queued`]; with the batch on its
/// way, at most twice this many are unanswered); past it, one waits for
/// its answer as [`Delivery::ack`] does, which holds the consumer's
/// fetching back while Redis does not answer.
const MOST_UNWATCHED: usize = 256;

/// Acknowledgements not sent yet: the deliveries settled while an `XACK`
/// was being prepared or answered share the next one (one command of many
/// ids instead of one per message), and wait for its answer together (one
/// [`AckBatch`] per command, not a channel per message).
#[derive(Default)]
pub(crate) struct PendingAcks {
    ids: Vec<String>,
    /// Who to wake when the ids above are answered: registered under the
    /// lock the id is pushed under, so an acknowledgement costs no lock of
    /// its own to wait.
    waiters: Vec<Waker>,
    /// The answer the ids above will get.
    batch: Arc<AckBatch>,
    /// A task is sending them.
    flushing: bool,
    /// How many of `ids` no one waits for: the task that sends them
    /// reports their failure.
    unwatched: usize,
    /// The subscription is closing: every acknowledgement waits for its
    /// answer (the consumer waits for those before it ends).
    closing: bool,
}

impl PendingAcks {
    /// Whether one more may be queued without anyone waiting for it.
    fn has_room(&self) -> bool {
        !self.closing && self.unwatched < MOST_UNWATCHED
    }

    /// Queues `id` for the next `XACK`: the batch whose answer it waits
    /// for (woken by `waker`), or `None` when it is `queued_only` and
    /// there is room for one more no one waits for; and whether a task
    /// must be started to send the batch.
    fn push(
        &mut self,
        id: String,
        queued_only: bool,
        waker: &Waker,
    ) -> (Option<Arc<AckBatch>>, bool) {
        self.ids.push(id);
        let batch = if queued_only && self.has_room() {
            self.unwatched += 1;
            None
        } else {
            self.waiters.push(waker.clone());
            Some(Arc::clone(&self.batch))
        };
        (batch, !std::mem::replace(&mut self.flushing, true))
    }
}

/// The answer to one `XACK`, for every delivery it acknowledges.
#[derive(Default)]
pub(crate) struct AckBatch {
    answer: OnceLock<Result<(), redis::RedisError>>,
    /// Acknowledgements polled again before the answer (a waker that
    /// changed), besides the ones registered with their ids.
    late: Mutex<Vec<Waker>>,
}

impl AckBatch {
    /// Records the answer, then wakes every acknowledgement of the batch:
    /// `waiters`, taken with the ids, and the late ones. A late one
    /// registers under `late`'s lock only while the answer is unset, so
    /// none is missed.
    fn answer(&self, result: Result<(), redis::RedisError>, waiters: &mut Vec<Waker>) {
        let _ = self.answer.set(result);
        let late = std::mem::take(&mut *lock(&self.late));
        for waker in waiters.drain(..).chain(late) {
            waker.wake();
        }
    }

    fn outcome(result: &Result<(), redis::RedisError>) -> Result<(), BrokerError> {
        result
            .clone()
            .map_err(|e| error::command("acknowledging an entry (XACK)", e))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One delivery's acknowledgement: its id joins the group's next `XACK`
/// at the first poll, then it waits for that command's answer, unless it
/// is `queued_only` ([`Delivery::ack_queued`]) and the group has room for
/// one more that no one waits for.
enum Acking {
    Queued {
        group: Arc<Group>,
        id: String,
        queued_only: bool,
    },
    Waiting(Arc<AckBatch>),
}

impl Future for Acking {
    type Output = Result<(), BrokerError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let batch = match this {
            Acking::Queued {
                group,
                id,
                queued_only,
            } => {
                let (batch, start) =
                    lock(&group.acks).push(std::mem::take(id), *queued_only, cx.waker());
                if start {
                    // A task of its own: the batch is sent even if the
                    // future that started it is dropped.
                    tokio::spawn(flush_acks(Arc::clone(group)));
                }
                let Some(batch) = batch else {
                    return Poll::Ready(Ok(()));
                };
                *this = Acking::Waiting(batch);
                // Nothing is answered before that task has run.
                return Poll::Pending;
            }
            Acking::Waiting(batch) => batch,
        };
        if let Some(result) = batch.answer.get() {
            return Poll::Ready(AckBatch::outcome(result));
        }
        let mut late = lock(&batch.late);
        if let Some(result) = batch.answer.get() {
            return Poll::Ready(AckBatch::outcome(result));
        }
        late.push(cx.waker().clone());
        Poll::Pending
    }
}

/// Answers a batch whose `XACK` was never answered (its task was dropped:
/// the runtime is shutting down), so that no delivery waits forever.
struct Unanswered(Option<(Arc<AckBatch>, Vec<Waker>)>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some((batch, mut waiters)) = self.0.take() {
            let shutting_down =
                redis::RedisError::from((redis::ErrorKind::Io, "the runtime is shutting down"));
            batch.answer(Err(shutting_down), &mut waiters);
        }
    }
}

/// Sends the group's pending acknowledgements, batch after batch, until
/// none is left; each batch's deliveries get its answer.
async fn flush_acks(group: Arc<Group>) {
    // The deliveries settled in the same wake-up join this batch.
    tokio::task::yield_now().await;
    let mut spare = (Vec::new(), Vec::new());
    loop {
        let (ids, batch, waiters, unwatched) = {
            let mut acks = lock(&group.acks);
            if acks.ids.is_empty() {
                acks.flushing = false;
                drop(acks);
                group.acks_sent.notify_waiters();
                return;
            }
            // The last batch's buffers take the next ones: no regrowth.
            (
                std::mem::replace(&mut acks.ids, std::mem::take(&mut spare.0)),
                std::mem::take(&mut acks.batch),
                std::mem::replace(&mut acks.waiters, std::mem::take(&mut spare.1)),
                std::mem::take(&mut acks.unwatched),
            )
        };
        let mut unanswered = Unanswered(Some((batch, waiters)));
        let mut conn = group.conn.clone();
        // XACK only: the entries stay in the stream for the other groups
        // (other services) that read them.
        let result = redis::cmd("XACK")
            .arg(&group.stream)
            .arg(&group.group)
            .arg(&ids)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop);
        if let Err(error) = &result
            && unwatched > 0
        {
            tracing::warn!(stream = %group.stream, group = %group.group, entries = unwatched, %error,
                "acknowledging entries failed (XACK); they will be delivered again");
        }
        if let Some((batch, mut waiters)) = unanswered.0.take() {
            batch.answer(result, &mut waiters);
            spare.1 = waiters;
        }
        spare.0 = ids;
        spare.0.clear();
    }
}

/// One entry delivered to this subscriber, pending in its group until
/// settled.
pub(crate) struct RedisDelivery {
    group: Arc<Group>,
    id: String,
    message: Message,
    attempt: u32,
}

impl RedisDelivery {
    fn new(group: &Arc<Group>, entry: Entry) -> Self {
        let message = codec::message(&group.stream, &entry.id, entry.fields);
        Self {
            group: Arc::clone(group),
            id: entry.id,
            message,
            attempt: entry.deliveries,
        }
    }
}

/// The acknowledgement of `id`, queued at its first poll (see [`Acking`]).
fn acking(
    group: Arc<Group>,
    id: String,
    queued_only: bool,
) -> BoxFuture<'static, Result<(), BrokerError>> {
    Box::pin(Acking::Queued {
        group,
        id,
        queued_only,
    })
}

/// Marks the group's subscription closing (every later acknowledgement
/// waits for its answer), then waits until the acknowledgements queued
/// before were sent.
async fn close_acks(group: &Group) {
    lock(&group.acks).closing = true;
    loop {
        let sent = group.acks_sent.notified();
        let mut sent = std::pin::pin!(sent);
        // Registered before looking, so a task that finishes in between
        // still wakes this one.
        sent.as_mut().enable();
        if !lock(&group.acks).flushing {
            return;
        }
        sent.await;
    }
}

impl Delivery for RedisDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let RedisDelivery { group, id, .. } = *self;
        acking(group, id, false)
    }

    /// Done once queued for the group's next `XACK` (up to
    /// [`MOST_UNWATCHED`] at a time, and not once the subscription is
    /// closing): no future per message waits for the batch's answer. With
    /// room, it is queued here, and the future returned is
    /// [`settled`](bisslog_messaging::settled) (no allocation).
    fn ack_queued(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let RedisDelivery { group, id, .. } = *self;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Its first poll, in a runtime, queues it.
            return acking(group, id, true);
        };
        let start = {
            let mut acks = lock(&group.acks);
            if !acks.has_room() {
                drop(acks);
                return acking(group, id, true);
            }
            acks.push(id, true, Waker::noop()).1
        };
        if start {
            runtime.spawn(flush_acks(group));
        }
        bisslog_messaging::settled()
    }

    fn retry(self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        Box::pin(async move {
            let group = &self.group;
            let mut conn = group.conn.clone();
            let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            scripts::PARK
                .key(&group.delayed)
                .arg(&self.id)
                .arg(millis)
                .invoke_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(|e| error::command("parking an entry for a delayed retry", e))
        })
    }

    fn release(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        Box::pin(async move {
            let group = &self.group;
            let mut conn = group.conn.clone();
            // Its last delivery set to the epoch: its lease is over, and
            // the next claim of any subscriber of the group takes it.
            redis::cmd("XCLAIM")
                .arg(&group.stream)
                .arg(&group.group)
                .arg(&group.consumer)
                .arg(0)
                .arg(&self.id)
                .arg("TIME")
                .arg(1)
                .arg("JUSTID")
                .query_async::<redis::Value>(&mut conn)
                .await
                .map(drop)
                .map_err(|e| error::command("releasing an entry (XCLAIM)", e))
        })
    }

    fn keep_alive(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            let group = &self.group;
            let mut conn = group.conn.clone();
            let kept = scripts::KEEP_ALIVE
                .key(&group.stream)
                .arg(&group.group)
                .arg(&group.consumer)
                .arg(&self.id)
                .invoke_async::<i64>(&mut conn)
                .await
                .map_err(|e| error::command("keeping an entry's lease (XCLAIM)", e))?;
            if kept == 0 {
                tracing::warn!(stream = %group.stream, group = %group.group, entry = %self.id,
                    "the lease ran out before it was kept: another consumer of the group has the entry");
            }
            Ok(())
        })
    }
}

/// Why a fetch gave nothing.
enum Fetch {
    /// A passing problem: reported, then the next poll tries again.
    Failed(BrokerError),
    /// The group (or its stream) is gone: the subscription ends, and the
    /// runner subscribes again (provisioning it again when it may).
    NoGroup,
}

/// The reading side of a subscription: its own connection, which blocks
/// on `XREADGROUP`, and where it is in its claims.
pub(crate) struct Reader {
    pub(crate) group: Arc<Group>,
    pub(crate) blocking: ConnectionManager,
    pub(crate) batch: usize,
    pub(crate) lease: Duration,
    pub(crate) claim_every: Duration,
    pub(crate) next_claim: Instant,
    pub(crate) next_due: Option<Instant>,
    pub(crate) cursor: String,
    /// Consumers idle this long with nothing pending are gone.
    pub(crate) forget_consumers_after: Duration,
    pub(crate) next_sweep: Instant,
}

impl Reader {
    async fn fetch(mut self) -> (Self, Result<Vec<RedisDelivery>, Fetch>) {
        let result = self.fetch_once().await;
        (self, result)
    }

    async fn fetch_once(&mut self) -> Result<Vec<RedisDelivery>, Fetch> {
        let now = Instant::now();
        if now >= self.next_sweep {
            self.next_sweep = now + SWEEP_EVERY;
            self.sweep().await;
        }
        if now >= self.next_claim || self.next_due.is_some_and(|due| due <= now) {
            let claimed = self.claim().await?;
            if !claimed.is_empty() {
                return Ok(claimed);
            }
        }
        self.read().await
    }

    /// Removes the consumers of gone instances (an operator's aid: a
    /// failure is only logged).
    async fn sweep(&self) {
        let group = &self.group;
        let mut conn = group.conn.clone();
        let after = u64::try_from(self.forget_consumers_after.as_millis()).unwrap_or(u64::MAX);
        let removed = scripts::SWEEP
            .key(&group.stream)
            .arg(&group.group)
            .arg(after)
            .arg(&group.consumer)
            .invoke_async::<i64>(&mut conn)
            .await;
        match removed {
            Ok(0) => {}
            Ok(removed) => tracing::info!(stream = %group.stream, group = %group.group, removed,
                "removed the consumers of gone instances from the group"),
            Err(error) => tracing::debug!(stream = %group.stream, group = %group.group, %error,
                "could not remove the consumers of gone instances"),
        }
    }

    /// Claims due retries and entries whose lease ran out.
    async fn claim(&mut self) -> Result<Vec<RedisDelivery>, Fetch> {
        let group = Arc::clone(&self.group);
        let mut conn = group.conn.clone();
        let lease = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let answer = scripts::CLAIM
            .key(&group.stream)
            .key(&group.delayed)
            .arg(&group.group)
            .arg(&group.consumer)
            .arg(lease)
            .arg(self.batch)
            .arg(&self.cursor)
            .invoke_async::<redis::Value>(&mut conn)
            .await
            .map_err(|e| failed("claiming due retries and expired leases", e))?;
        let doing = "claiming due retries and expired leases";
        let claimed = reply::claimed(answer)
            .ok_or_else(|| Fetch::Failed(error::unexpected(doing, "the claim")))?;
        let now = Instant::now();
        // A full batch may have left more behind: claim again next time.
        self.next_claim = if claimed.entries.len() >= self.batch {
            now
        } else {
            now + self.claim_every
        };
        self.next_due = claimed
            .next_due_ms
            .map(|ms| now + Duration::from_millis(ms));
        self.cursor = claimed.cursor;
        Ok(claimed
            .entries
            .into_iter()
            .map(|entry| RedisDelivery::new(&group, entry))
            .collect())
    }

    /// Reads new entries, blocking until the next claim is due.
    async fn read(&mut self) -> Result<Vec<RedisDelivery>, Fetch> {
        let now = Instant::now();
        let until = self
            .next_due
            .map_or(self.next_claim, |due| due.min(self.next_claim));
        // BLOCK 0 would be forever.
        let block = until
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), MAX_BLOCK);
        let group = Arc::clone(&self.group);
        let answer = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&group.group)
            .arg(&group.consumer)
            .arg("COUNT")
            .arg(self.batch)
            .arg("BLOCK")
            .arg(u64::try_from(block.as_millis()).unwrap_or(1))
            .arg("STREAMS")
            .arg(&group.stream)
            .arg(">")
            .query_async::<redis::Value>(&mut self.blocking)
            .await
            .map_err(|e| failed("reading the stream (XREADGROUP)", e))?;
        let (entries, deleted) = reply::read_group(answer).ok_or_else(|| {
            Fetch::Failed(error::unexpected(
                "reading the stream (XREADGROUP)",
                "the entries",
            ))
        })?;
        if !deleted.is_empty() {
            // Deleted before they could be read: nothing to deliver.
            let mut conn = group.conn.clone();
            let _ = redis::cmd("XACK")
                .arg(&group.stream)
                .arg(&group.group)
                .arg(&deleted)
                .query_async::<i64>(&mut conn)
                .await;
        }
        Ok(entries
            .into_iter()
            .map(|entry| RedisDelivery::new(&group, entry))
            .collect())
    }
}

fn failed(doing: &str, e: redis::RedisError) -> Fetch {
    if error::is_no_group(&e) {
        tracing::warn!(%e, "the consumer group or its stream is gone");
        Fetch::NoGroup
    } else {
        Fetch::Failed(error::command(doing, e))
    }
}

type Fetching = BoxFuture<'static, (Reader, Result<Vec<RedisDelivery>, Fetch>)>;

/// The deliveries of one subscription: what a read or claim took is
/// handed out in order, and the next read is sent as soon as half of the
/// last one is handed out, so that it is answered while the rest are
/// processed (a read waiting for an empty buffer leaves the runner idle
/// for a round trip every batch).
pub(crate) struct RedisDeliveries {
    group: Arc<Group>,
    buffer: VecDeque<RedisDelivery>,
    /// The next read starts when the buffer holds this many or fewer.
    low_water: usize,
    /// `None` while fetching, or once the subscription ended.
    reader: Option<Reader>,
    fetching: Option<Fetching>,
    /// A failed read, reported once what was read before is handed out.
    failed: Option<BrokerError>,
}

impl RedisDeliveries {
    pub(crate) fn new(reader: Reader) -> Self {
        Self {
            group: Arc::clone(&reader.group),
            buffer: VecDeque::new(),
            low_water: reader.batch / 2,
            reader: Some(reader),
            fetching: None,
            failed: None,
        }
    }
}

type Item = Result<Box<dyn Delivery>, BrokerError>;

impl RedisDeliveries {
    /// Sends the next read when the buffer is low and none is on its way,
    /// and takes in the answer of the one on its way when it has come.
    fn poll_fetch(&mut self, cx: &mut Context<'_>) {
        if self.fetching.is_none()
            && self.failed.is_none()
            && self.buffer.len() <= self.low_water
            && let Some(reader) = self.reader.take()
        {
            self.fetching = Some(Box::pin(reader.fetch()));
        }
        let Some(fetching) = &mut self.fetching else {
            return;
        };
        let Poll::Ready((reader, result)) = fetching.as_mut().poll(cx) else {
            return;
        };
        self.fetching = None;
        match result {
            Ok(batch) => {
                self.reader = Some(reader);
                self.buffer.extend(batch);
            }
            Err(Fetch::Failed(error)) => {
                self.reader = Some(reader);
                self.failed = Some(error);
            }
            // The reader is dropped: the subscription ends once the
            // buffer is handed out.
            Err(Fetch::NoGroup) => {}
        }
    }
}

impl Stream for RedisDeliveries {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = &mut *self;
        loop {
            let handed = this.buffer.pop_front();
            // After the pop: the read that this one brought the buffer
            // down for is sent now, answered while these are processed.
            this.poll_fetch(cx);
            if let Some(delivery) = handed {
                return Poll::Ready(Some(Ok(Box::new(delivery))));
            }
            if !this.buffer.is_empty() {
                continue;
            }
            if let Some(error) = this.failed.take() {
                return Poll::Ready(Some(Err(error)));
            }
            match (&this.fetching, &this.reader) {
                (Some(_), _) => return Poll::Pending,
                (None, None) => return Poll::Ready(None),
                // A read that came back empty (it blocked until the next
                // claim was due): send another.
                (None, Some(_)) => {}
            }
        }
    }
}

impl DeliveryStream for RedisDeliveries {
    fn close(self: Pin<Box<Self>>) -> BoxFuture<'static, Vec<Box<dyn Delivery>>> {
        let this = *Pin::into_inner(self);
        Box::pin(async move {
            let RedisDeliveries {
                group,
                buffer,
                fetching,
                ..
            } = this;
            // The acknowledgements queued without a waiter are sent before
            // the consumer goes on to end (it waits only for the ones it
            // holds); not answered within MAX_BLOCK (Redis is gone), their
            // entries are delivered again, as at-least-once allows.
            if tokio::time::timeout(MAX_BLOCK, close_acks(&group))
                .await
                .is_err()
            {
                tracing::warn!(stream = %group.stream, group = %group.group,
                    "the queued acknowledgements were not answered before closing; their entries will be delivered again");
            }
            let mut taken: Vec<Box<dyn Delivery>> = buffer
                .into_iter()
                .map(|d| Box::new(d) as Box<dyn Delivery>)
                .collect();
            // A read in progress may still take entries (it blocks for
            // at most MAX_BLOCK): they are handed back too.
            if let Some(fetching) = fetching
                && let (_, Ok(batch)) = fetching.await
            {
                taken.extend(batch.into_iter().map(|d| Box::new(d) as Box<dyn Delivery>));
            }
            taken
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    #[derive(Default)]
    struct Counted(AtomicUsize);

    impl Wake for Counted {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(acking: &mut Acking, waker: &Arc<Counted>) -> Poll<Result<(), BrokerError>> {
        let waker = Waker::from(Arc::clone(waker));
        Pin::new(acking).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn an_answer_wakes_the_acknowledgements_registered_with_their_ids_and_late_ones() {
        let batch = Arc::new(AckBatch::default());
        let (with_id, late) = (Arc::new(Counted::default()), Arc::new(Counted::default()));
        let mut acking = Acking::Waiting(Arc::clone(&batch));
        // Polled again before the answer, with another waker: it registers.
        assert!(poll(&mut acking, &late).is_pending());
        let mut waiters = vec![Waker::from(Arc::clone(&with_id))];
        batch.answer(Ok(()), &mut waiters);
        assert_eq!(with_id.0.load(Ordering::SeqCst), 1);
        assert_eq!(late.0.load(Ordering::SeqCst), 1);
        assert!(waiters.is_empty());
        assert!(matches!(poll(&mut acking, &late), Poll::Ready(Ok(()))));
    }

    #[test]
    fn queued_only_acknowledgements_wait_for_nothing_up_to_the_bound() {
        let waker = Waker::from(Arc::new(Counted::default()));
        let mut acks = PendingAcks::default();
        let (batch, start) = acks.push("1-0".into(), true, &waker);
        assert!(
            batch.is_none(),
            "queued only, room left: no answer waited for"
        );
        assert!(start, "the first one starts the task that sends the batch");
        for n in 1..MOST_UNWATCHED {
            let (batch, start) = acks.push(format!("{n}-0"), true, &waker);
            assert!(batch.is_none() && !start, "{n}");
        }
        let (batch, _) = acks.push("full-0".into(), true, &waker);
        assert!(batch.is_some(), "past the bound it waits for the answer");
        let (batch, _) = acks.push("answered-0".into(), false, &waker);
        assert!(
            batch.is_some(),
            "an acknowledgement that is not queued only waits"
        );
        assert_eq!(acks.ids.len(), MOST_UNWATCHED + 2);
        assert_eq!((acks.unwatched, acks.waiters.len()), (MOST_UNWATCHED, 2));
    }

    #[test]
    fn a_closing_subscription_waits_for_every_answer() {
        let waker = Waker::from(Arc::new(Counted::default()));
        let mut acks = PendingAcks {
            closing: true,
            ..PendingAcks::default()
        };
        let (batch, _) = acks.push("1-0".into(), true, &waker);
        assert!(batch.is_some());
        assert_eq!(acks.unwatched, 0);
    }

    #[test]
    fn a_batch_never_answered_fails_its_acknowledgements_when_dropped() {
        let batch = Arc::new(AckBatch::default());
        let woken = Arc::new(Counted::default());
        let mut acking = Acking::Waiting(Arc::clone(&batch));
        assert!(poll(&mut acking, &woken).is_pending());
        drop(Unanswered(Some((batch, Vec::new()))));
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll(&mut acking, &woken), Poll::Ready(Err(_))));
    }
}
