//! One subscription: a consumer-group member polled on a thread of its
//! own, the offsets it took and their settlement, and the commits of the
//! contiguous settled prefix of each partition.
//!
//! librdkafka's consumer is polled by a dedicated thread (rebalance
//! callbacks run inside `poll`, and the revocation waits for deliveries
//! in flight, which must not block an async worker). Records go to the
//! subscription's stream through a channel of `prefetch` records; when it
//! is full the thread keeps up to `prefetch` more and waits for the stream
//! to take half a channel's worth, and pauses the partitions only when the
//! stream takes nothing for a poll's time, still polling so that the
//! group's rebalances are served.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bisslog_core::BoxFuture;
use bisslog_messaging::{
    BrokerError, Deliveries, Delivery, DeliveryStream, QueueKind, Subscription,
};
use futures_util::Stream;
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message as _;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::broker::{Inner, client_config, millis};
use crate::codec;
use crate::delivery::{KafkaDelivery, Record};
use crate::lock;

/// How long one `poll` of the consumer thread waits: the latency of
/// commits, pauses and noticing a close.
const POLL: Duration = Duration::from_millis(50);

/// Starts a member of the consumer group `subscription.consumer` on the
/// topic `subscription.queue`.
pub(crate) fn subscribe(
    broker: Arc<Inner>,
    subscription: &Subscription,
) -> Result<Deliveries, BrokerError> {
    let (redo, redone) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        topic: subscription.queue.clone(),
        group: group_id(subscription),
        ack_wait: subscription.ack_wait,
        broker: Arc::clone(&broker),
        state: Mutex::new(State::default()),
        settled: Condvar::new(),
        waiting: AtomicUsize::new(0),
        closing: AtomicBool::new(false),
        reassigned: AtomicBool::new(false),
        redo,
        flushed: tokio::sync::watch::Sender::new(false),
        finished: tokio::sync::watch::Sender::new(false),
        runtime: tokio::runtime::Handle::current(),
    });
    let consumer: BaseConsumer<Member> = client_config(&broker.config)
        .set("group.id", shared.group.as_str())
        // Offsets are committed by the adapter, only past settled
        // messages.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // A new group starts at the beginning: messages published before
        // its first member joined are its too.
        .set("auto.offset.reset", "earliest")
        .set(
            "max.poll.interval.ms",
            max_poll_interval(subscription.ack_wait),
        )
        .create_with_context(Member {
            shared: Arc::clone(&shared),
        })
        .map_err(|e| crate::error::kafka("creating the Kafka consumer", e))?;
    consumer
        .subscribe(&[subscription.queue.as_str()])
        .map_err(|e| crate::error::kafka(&format!("subscribing to `{}`", subscription.queue), e))?;
    let prefetch = subscription.prefetch.max(1) as usize;
    let (sender, receiver) = mpsc::channel(prefetch);
    let polling = Arc::clone(&shared);
    std::thread::Builder::new()
        .name(format!("kafka-{}", subscription.queue))
        .spawn(move || run(&consumer, &polling, &sender, prefetch))
        .map_err(|e| BrokerError::Connection {
            message: format!("starting the Kafka consumer thread: {e}"),
            source: None,
        })?;
    Ok(Deliveries::closable(Records {
        records: receiver,
        redone,
        shared,
    }))
}

/// The consumer group of a subscription: `<consumer>.<queue>` for an
/// event, `<queue>` for a command.
///
/// Scoped by the queue as a JetStream durable consumer is scoped by its
/// stream and a RabbitMQ queue by itself: the instances of one consumer
/// share one topic's partitions, and a rebalance of one topic's group
/// never pauses the consumers of another topic (a Kafka group spanning
/// topics rebalances them all together).
///
/// A command queue's consumers compete whatever their names: they share
/// one group named after the queue; an event's consumer names each have
/// their own.
pub(crate) fn group_id(subscription: &Subscription) -> String {
    match subscription.kind {
        QueueKind::Event => format!("{}.{}", subscription.consumer, subscription.queue),
        QueueKind::Command => subscription.queue.clone(),
    }
}

/// librdkafka's `max.poll.interval.ms` (at least its 5-minute default):
/// the revocation waits for deliveries up to the lease, inside `poll`.
fn max_poll_interval(ack_wait: Duration) -> String {
    millis((ack_wait * 2).max(Duration::from_secs(300)))
}

/// What the thread, the stream and the deliveries share.
pub(crate) struct Shared {
    pub(crate) topic: String,
    /// The consumer group (`group.id`), which a retry's copy is addressed
    /// to.
    pub(crate) group: String,
    ack_wait: Duration,
    pub(crate) broker: Arc<Inner>,
    state: Mutex<State>,
    /// Notified whenever a delivery is handed out or settled, when someone
    /// waits for it (`waiting`).
    settled: Condvar,
    /// How many threads wait on `settled`: counted under the `state` lock,
    /// so that a change made under it skips the notification (a system
    /// call) when nobody waits, as for nearly every message.
    waiting: AtomicUsize,
    /// The subscription is closing: nothing more is handed out, and the
    /// member leaves once what it handed out is settled.
    pub(crate) closing: AtomicBool,
    /// The assignment changed: the thread's pause no longer holds.
    reassigned: AtomicBool,
    /// Records to hand out again (redelivered, or due after a delay).
    pub(crate) redo: mpsc::UnboundedSender<Record>,
    /// Set once the member, closing, has committed what was settled
    /// before.
    flushed: tokio::sync::watch::Sender<bool>,
    /// Set once the member has committed its last offsets, after closing.
    pub(crate) finished: tokio::sync::watch::Sender<bool>,
    pub(crate) runtime: tokio::runtime::Handle,
}

#[derive(Default)]
struct State {
    partitions: HashMap<i32, Partition>,
    next_generation: u64,
    dirty: bool,
}

/// A partition assigned to this member.
struct Partition {
    /// Which assignment: records of an earlier one are stale.
    generation: u64,
    /// Being revoked: nothing more of it is handed out.
    revoking: bool,
    /// The offsets taken and not yet committed.
    slots: BTreeMap<i64, Slot>,
    /// The offset to commit: one past the settled prefix.
    done_to: Option<i64>,
    committed_to: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Polled, not handed out (or handed back).
    Taken,
    /// Handed out; the lease was last renewed then.
    Out(Instant),
    /// Acknowledged, or its retry's copy published.
    Done,
}

impl Shared {
    /// Registers a polled record; its generation, or `None` when its
    /// partition is not (or no longer) this member's.
    fn take(&self, partition: i32, offset: i64) -> Option<u64> {
        let mut state = lock(&self.state);
        let part = state.partitions.get_mut(&partition)?;
        if part.revoking {
            return None;
        }
        part.slots.insert(offset, Slot::Taken);
        Some(part.generation)
    }

    /// Whether `record` is of a current assignment (not revoked since).
    fn fresh(&self, record: &Record) -> bool {
        let state = lock(&self.state);
        state
            .partitions
            .get(&record.partition)
            .is_some_and(|p| p.generation == record.generation && !p.revoking)
    }

    /// Marks `record` handed out, unless it is stale.
    fn hand_out(&self, record: &Record) -> bool {
        self.set(record, Slot::Out(Instant::now()), false)
    }

    /// Once closing, waits (at most the broker's timeout) until the member
    /// has committed the offsets settled before it leaves, so that a
    /// consumer's shutdown returns with its acknowledgements committed: an
    /// instance started next does not get them again.
    pub(crate) async fn committed_if_closing(&self) {
        if !self.closing.load(Ordering::SeqCst) {
            return;
        }
        let mut finished = self.finished.subscribe();
        let _ =
            tokio::time::timeout(self.broker.config.timeout, finished.wait_for(|done| *done)).await;
    }

    /// Renews the lease of a delivery in flight.
    pub(crate) fn touch(&self, record: &Record) {
        self.set(record, Slot::Out(Instant::now()), true);
    }

    /// The delivery is done with: its offset may be committed.
    pub(crate) fn done(&self, record: &Record) {
        self.set(record, Slot::Done, true);
    }

    /// A delivery handed back: taken, not in flight.
    pub(crate) fn back(&self, record: &Record) {
        self.set(record, Slot::Taken, true);
    }

    /// Sets the slot of a fresh record; `revoking` partitions accept
    /// settlements, not new deliveries.
    fn set(&self, record: &Record, slot: Slot, settling: bool) -> bool {
        let mut state = lock(&self.state);
        let Some(part) = state.partitions.get_mut(&record.partition) else {
            return false;
        };
        if part.generation != record.generation || (part.revoking && !settling) {
            return false;
        }
        part.slots.insert(record.offset, slot);
        if slot == Slot::Done {
            while let Some(entry) = part.slots.first_entry() {
                if *entry.get() != Slot::Done {
                    break;
                }
                let (offset, _) = entry.remove_entry();
                part.done_to = Some(offset + 1);
            }
            state.dirty = true;
        }
        let waiting = self.waiting.load(Ordering::SeqCst) > 0;
        drop(state);
        if waiting {
            self.settled.notify_all();
        }
        true
    }

    /// Waits on `settled` for at most `left`, counted in `waiting`.
    fn wait<'a>(&self, state: MutexGuard<'a, State>, left: Duration) -> MutexGuard<'a, State> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let state = match self.settled.wait_timeout(state, left) {
            Ok((state, _)) => state,
            Err(poisoned) => poisoned.into_inner().0,
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        state
    }

    /// Waits (at most one poll's time) until the stream has taken `room`
    /// records off a full channel; whether it did. Handing a record out
    /// notifies `settled`.
    fn wait_for_room(&self, sender: &mpsc::Sender<Item>, room: usize) -> bool {
        let deadline = Instant::now() + POLL;
        let mut state = lock(&self.state);
        while sender.capacity() < room && !sender.is_closed() {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = self.wait(state, left);
        }
        true
    }

    /// The offsets to commit, of `only` these partitions or of all,
    /// counted as committed; `again` includes those already sent (a
    /// synchronous commit makes sure of what an asynchronous one may have
    /// failed to commit).
    fn to_commit(&self, only: Option<&[i32]>, again: bool) -> Option<TopicPartitionList> {
        let mut state = lock(&self.state);
        state.dirty = false;
        let mut list = TopicPartitionList::new();
        for (partition, part) in &mut state.partitions {
            if only.is_some_and(|o| !o.contains(partition)) {
                continue;
            }
            if let Some(to) = part
                .done_to
                .filter(|to| again || Some(*to) != part.committed_to)
                && list
                    .add_partition_offset(&self.topic, *partition, Offset::Offset(to))
                    .is_ok()
            {
                part.committed_to = Some(to);
            }
        }
        (list.count() > 0).then_some(list)
    }

    /// Waits until no delivery of `partitions` (or of any) is in flight,
    /// or until the lease of each has run out.
    fn wait_in_flight(&self, partitions: Option<&[i32]>) {
        let mut state = lock(&self.state);
        loop {
            let latest = state
                .partitions
                .iter()
                .filter(|(p, _)| partitions.is_none_or(|o| o.contains(p)))
                .flat_map(|(_, part)| part.slots.values())
                .filter_map(|slot| match slot {
                    Slot::Out(touched) => Some(*touched),
                    _ => None,
                })
                .max();
            let Some(latest) = latest else { return };
            let Some(left) = (latest + self.ack_wait).checked_duration_since(Instant::now()) else {
                tracing::warn!(
                    topic = %self.topic,
                    "deliveries still in flight after their lease; the partitions go to the group \
                     without them and their messages will be delivered again"
                );
                return;
            };
            state = self.wait(state, left.min(POLL));
        }
    }

    /// A commit of `partitions` failed: send their offsets again.
    fn uncommitted(&self, partitions: &[i32]) {
        let mut state = lock(&self.state);
        for partition in partitions {
            if let Some(part) = state.partitions.get_mut(partition) {
                part.committed_to = None;
            }
        }
        state.dirty = true;
    }

    fn dirty(&self) -> bool {
        lock(&self.state).dirty
    }

    fn any_in_flight(&self) -> bool {
        lock(&self.state)
            .partitions
            .values()
            .flat_map(|p| p.slots.values())
            .any(|s| matches!(s, Slot::Out(_)))
    }

    fn assigned(&self, partitions: &[i32]) {
        let mut state = lock(&self.state);
        for partition in partitions {
            state.next_generation += 1;
            let generation = state.next_generation;
            state.partitions.insert(
                *partition,
                Partition {
                    generation,
                    revoking: false,
                    slots: BTreeMap::new(),
                    done_to: None,
                    committed_to: None,
                },
            );
        }
        drop(state);
        self.reassigned.store(true, Ordering::SeqCst);
    }

    /// The group takes `partitions` away: hand out none of them any more,
    /// let the deliveries in flight finish (within their lease), commit,
    /// forget them.
    fn revoke(&self, consumer: &BaseConsumer<Member>, partitions: &[i32]) {
        {
            let mut state = lock(&self.state);
            for partition in partitions {
                if let Some(part) = state.partitions.get_mut(partition) {
                    part.revoking = true;
                }
            }
        }
        self.wait_in_flight(Some(partitions));
        self.commit(consumer, Some(partitions), CommitMode::Sync);
        let mut state = lock(&self.state);
        for partition in partitions {
            state.partitions.remove(partition);
        }
    }

    fn commit(&self, consumer: &BaseConsumer<Member>, only: Option<&[i32]>, mode: CommitMode) {
        if let Some(list) = self.to_commit(only, matches!(mode, CommitMode::Sync))
            && let Err(error) = consumer.commit(&list, mode)
        {
            // A later commit covers these offsets; if none comes, the
            // messages are delivered again (at least once).
            tracing::warn!(topic = %self.topic, %error, "committing offsets failed");
        }
    }
}

/// The consumer's context: the rebalance callbacks.
pub(crate) struct Member {
    shared: Arc<Shared>,
}

impl ClientContext for Member {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        crate::log(&self.shared.topic, level, fac, log_message);
    }
}

impl ConsumerContext for Member {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = ours(list, &self.shared.topic);
            self.shared.revoke(consumer, &partitions);
        }
    }

    fn commit_callback(
        &self,
        result: rdkafka::error::KafkaResult<()>,
        offsets: &TopicPartitionList,
    ) {
        if let Err(error) = result {
            tracing::warn!(topic = %self.shared.topic, %error, "committing offsets failed; they are sent again");
            self.shared.uncommitted(&ours(offsets, &self.shared.topic));
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => self.shared.assigned(&ours(list, &self.shared.topic)),
            Rebalance::Revoke(_) => {}
            Rebalance::Error(error) => {
                tracing::warn!(topic = %self.shared.topic, %error, "a Kafka rebalance failed");
            }
        }
    }
}

fn ours(list: &TopicPartitionList, topic: &str) -> Vec<i32> {
    list.elements_for_topic(topic)
        .iter()
        .map(|e| e.partition())
        .collect()
}

type Item = Result<Record, BrokerError>;

/// The consumer thread: polls, passes records on, pauses when the stream
/// lags, commits, and leaves the group once closed and settled.
fn run(
    consumer: &BaseConsumer<Member>,
    shared: &Arc<Shared>,
    sender: &mpsc::Sender<Item>,
    prefetch: usize,
) {
    let mut backlog: VecDeque<Record> = VecDeque::new();
    let mut paused = false;
    loop {
        if shared.closing.load(Ordering::SeqCst) || sender.is_closed() {
            shared.closing.store(true, Ordering::SeqCst);
            if !*shared.flushed.borrow() {
                shared.commit(consumer, None, CommitMode::Sync);
                shared.flushed.send_replace(true);
            }
            backlog.clear();
            if !paused {
                paused = pause(consumer, true);
            }
            if !shared.any_in_flight() {
                break;
            }
        } else {
            while let Some(record) = backlog.pop_front() {
                if !shared.fresh(&record) {
                    continue;
                }
                match sender.try_send(Ok(record)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(Ok(record))) => {
                        backlog.push_front(record);
                        break;
                    }
                    Err(_) => break,
                }
            }
            if shared.reassigned.swap(false, Ordering::SeqCst) {
                paused = false;
            }
            // The stream is behind: wait for it to take half a channel's
            // worth before pausing. A pause drops what librdkafka fetched
            // ahead and the resume fetches it again, a round trip each
            // time the stream lags by a few records (messages/s fell to
            // ~1,000 on the mock cluster); waiting for half the channel
            // lets this thread go on once per many records rather than
            // once per record (each hand-out wakes it to look). Only a
            // stream that takes nothing for a poll's time pauses the
            // partitions.
            if !paused
                && backlog.len() >= prefetch
                && shared.wait_for_room(sender, (prefetch / 2).max(1))
            {
                continue;
            }
            let lagging = backlog.len() >= prefetch;
            if lagging != paused {
                paused = pause(consumer, lagging);
            }
        }
        match consumer.poll(POLL) {
            Some(Ok(message)) => {
                if !shared.closing.load(Ordering::SeqCst)
                    && let Some(generation) = shared.take(message.partition(), message.offset())
                {
                    let (decoded, counting) = codec::decode(
                        message.payload(),
                        message.key(),
                        message.headers(),
                        (message.topic(), message.partition(), message.offset()),
                    );
                    let record = Record {
                        partition: message.partition(),
                        offset: message.offset(),
                        generation,
                        message: decoded,
                        attempt: counting.attempt,
                    };
                    if counting
                        .retry_for
                        .as_deref()
                        .is_some_and(|group| group != shared.group)
                    {
                        // Another group's retry: done here, never delivered.
                        shared.done(&record);
                        continue;
                    }
                    match delay_until(counting.not_before) {
                        Some(delay) => hold(shared, record, delay),
                        None => backlog.push_back(record),
                    }
                }
            }
            Some(Err(error)) => {
                tracing::warn!(topic = %shared.topic, %error, "consuming from Kafka");
                let _ = sender.try_send(Err(crate::error::kafka(
                    &format!("consuming `{}`", shared.topic),
                    error,
                )));
            }
            None => {}
        }
        if shared.dirty() {
            shared.commit(consumer, None, CommitMode::Async);
        }
    }
    shared.wait_in_flight(None);
    shared.commit(consumer, None, CommitMode::Sync);
    shared.flushed.send_replace(true);
    shared.finished.send_replace(true);
    // Dropping the consumer leaves the group (the revocation commits
    // nothing more: everything settled is committed above).
}

/// Pauses (or resumes) the whole assignment; whether it is now paused.
fn pause(consumer: &BaseConsumer<Member>, paused: bool) -> bool {
    let Ok(assignment) = consumer.assignment() else {
        return !paused;
    };
    let outcome = if paused {
        consumer.pause(&assignment)
    } else {
        consumer.resume(&assignment)
    };
    match outcome {
        Ok(()) => paused,
        Err(_) => !paused,
    }
}

/// How long a retry's copy must still wait, from its not-before time.
fn delay_until(not_before: Option<i64>) -> Option<Duration> {
    let at = u64::try_from(not_before?).ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Duration::from_millis(at)
        .checked_sub(now)
        .filter(|d| !d.is_zero())
}

/// Keeps a retry's copy aside until it is due, while the records behind
/// it go on; its offset stays uncommitted until it is settled.
fn hold(shared: &Arc<Shared>, record: Record, delay: Duration) {
    let redo = shared.redo.clone();
    shared.runtime.spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = redo.send(record);
    });
}

/// The subscription's stream of deliveries.
struct Records {
    records: mpsc::Receiver<Item>,
    redone: mpsc::UnboundedReceiver<Record>,
    shared: Arc<Shared>,
}

impl Records {
    fn deliver(&self, record: Record) -> Option<Box<dyn Delivery>> {
        self.shared
            .hand_out(&record)
            .then(|| Box::new(KafkaDelivery::new(record, Arc::clone(&self.shared))) as _)
    }
}

impl Stream for Records {
    type Item = Result<Box<dyn Delivery>, BrokerError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Poll::Ready(Some(record)) = self.redone.poll_recv(cx) {
                if let Some(delivery) = self.deliver(record) {
                    return Poll::Ready(Some(Ok(delivery)));
                }
                continue;
            }
            match self.records.poll_recv(cx) {
                Poll::Ready(Some(Ok(record))) => {
                    if let Some(delivery) = self.deliver(record) {
                        return Poll::Ready(Some(Ok(delivery)));
                    }
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl DeliveryStream for Records {
    fn close(mut self: Pin<Box<Self>>) -> BoxFuture<'static, Vec<Box<dyn Delivery>>> {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.records.close();
        let mut taken = Vec::new();
        while let Ok(record) = self.redone.try_recv() {
            taken.extend(self.deliver(record));
        }
        while let Ok(item) = self.records.try_recv() {
            if let Ok(record) = item {
                taken.extend(self.deliver(record));
            }
        }
        // What was acknowledged before is committed before the close
        // returns: an instance started next does not get it again.
        let mut flushed = self.shared.flushed.subscribe();
        let patience = self.shared.broker.config.timeout;
        Box::pin(async move {
            let _ = tokio::time::timeout(patience, flushed.wait_for(|done| *done)).await;
            taken
        })
    }
}

impl Drop for Records {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::SeqCst);
    }
}
