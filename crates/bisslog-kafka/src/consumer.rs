//! One subscription: a consumer-group member polled on a thread of its
//! own, the offsets it took and their settlement, and the commits of the
//! contiguous settled prefix of each partition.
//!
//! librdkafka's consumer is polled by a dedicated thread (rebalance
//! callbacks run inside `poll`, and the revocation waits for deliveries
//! in flight, which must not block an async worker). Records go to the
//! subscription's stream in batches (what one round of polls brought),
//! at most `prefetch` of them sent and not yet taken; when that many wait
//! the thread keeps up to `prefetch` more and waits for the stream to
//! take half of them (the stream wakes it then, not at every record),
//! and pauses the partitions only when the stream takes nothing for a
//! poll's time, still polling so that the group's rebalances are
//! served. A record's offset is registered once, under the lock, when it
//! is polled, and settled once; passing it on and handing it out take
//! none (see [`Assignment`]).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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

/// How often, at most, the thread commits while records flow (when the
/// partitions are quiet it commits at once).
const COMMIT_EVERY: Duration = Duration::from_millis(20);

/// Starts a member of the consumer group `subscription.consumer` on the
/// topic `subscription.queue`.
pub(crate) fn subscribe(
    broker: Arc<Inner>,
    subscription: &Subscription,
) -> Result<Deliveries, BrokerError> {
    let (redo, redone) = mpsc::unbounded_channel();
    let prefetch = subscription.prefetch.max(1) as usize;
    let shared = Arc::new(Shared {
        topic: subscription.queue.clone(),
        group: group_id(subscription),
        ack_wait: subscription.ack_wait,
        broker: Arc::clone(&broker),
        state: Mutex::new(State::default()),
        settled: Condvar::new(),
        waiting: AtomicUsize::new(0),
        room: Condvar::new(),
        waiting_room: AtomicBool::new(false),
        dirty: AtomicBool::new(false),
        queued: AtomicUsize::new(0),
        resume_at: prefetch - (prefetch / 2).max(1),
        epoch: Instant::now(),
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
    // Unbounded: the thread bounds what it sends by `Shared::queued`.
    let (sender, receiver) = mpsc::unbounded_channel();
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
        batch: VecDeque::new(),
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
    /// Notified when someone waits for it (`waiting`): whenever a
    /// delivery is settled or handed back.
    settled: Condvar,
    /// How many threads wait on `settled`: counted under the `state` lock,
    /// so that a change made under it skips the notification (a system
    /// call) when nobody waits, as for nearly every message.
    waiting: AtomicUsize,
    /// Notified when the stream has brought the channel down to
    /// `resume_at` and the thread waits for it (`waiting_room`): apart
    /// from `settled`, so that the acknowledgements do not wake the thread
    /// each time while it waits for room (they did, once per message).
    room: Condvar,
    waiting_room: AtomicBool,
    /// Some offset was settled since the last commit.
    dirty: AtomicBool,
    /// Records sent to the stream and not yet taken off by it: the
    /// channel's fill, bounded by the prefetch.
    queued: AtomicUsize,
    /// The fill the thread waits for when the stream lags: the stream
    /// wakes it when `queued` comes down to this, not at every record.
    resume_at: usize,
    /// The origin of [`Assignment::touched`].
    epoch: Instant,
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
    /// Sorted by partition number: a member has few, and a binary search
    /// costs less per record than hashing the number.
    partitions: Vec<Partition>,
}

impl State {
    fn get(&self, partition: i32) -> Option<&Partition> {
        let at = self.find(partition).ok()?;
        self.partitions.get(at)
    }

    fn get_mut(&mut self, partition: i32) -> Option<&mut Partition> {
        let at = self.find(partition).ok()?;
        self.partitions.get_mut(at)
    }

    /// Puts `part` in its place; the one it replaces.
    fn insert(&mut self, part: Partition) -> Option<Partition> {
        match self.find(part.number) {
            Ok(at) => Some(std::mem::replace(&mut self.partitions[at], part)),
            Err(at) => {
                self.partitions.insert(at, part);
                None
            }
        }
    }

    fn remove(&mut self, partition: i32) {
        if let Ok(at) = self.find(partition) {
            self.partitions.remove(at);
        }
    }

    fn find(&self, partition: i32) -> Result<usize, usize> {
        self.partitions
            .binary_search_by_key(&partition, |p| p.number)
    }
}

/// One assignment of a partition to this member, as the records polled
/// under it carry it: whether it still holds and what of it is in flight
/// are atomics, so that passing a record on and handing it out take no
/// lock (its offset is registered once, under the lock, when it is
/// polled, and settled once, under the lock).
pub(crate) struct Assignment {
    /// Revoked, or replaced by a later assignment: nothing more polled
    /// under it is handed out.
    gone: AtomicBool,
    /// Its deliveries handed out and not yet settled or handed back.
    in_flight: AtomicUsize,
    /// When one of its deliveries was last handed out or kept alive
    /// (microseconds since [`Shared::epoch`]): a revocation waits for the
    /// deliveries in flight until this is a lease old.
    touched: AtomicU64,
}

/// A partition assigned to this member.
struct Partition {
    number: i32,
    /// Which assignment: records of another one are stale.
    assignment: Arc<Assignment>,
    /// The offsets taken and not yet committed, in order, and whether
    /// each is settled (acknowledged, or its retry's copy published).
    /// Records come in offset order, so registering one is a push at the
    /// back and the settled prefix is popped off the front.
    slots: VecDeque<(i64, bool)>,
    /// The offset to commit: one past the settled prefix.
    done_to: Option<i64>,
    committed_to: Option<i64>,
}

impl Partition {
    /// Registers `offset` as taken, not settled.
    fn take(&mut self, offset: i64) {
        match self.slots.back() {
            Some((last, _)) if *last >= offset => match self.find(offset) {
                Ok(at) => self.slots[at].1 = false,
                Err(at) => self.slots.insert(at, (offset, false)),
            },
            _ => self.slots.push_back((offset, false)),
        }
    }

    /// Marks `offset` settled and moves `done_to` past the settled
    /// prefix.
    fn settle(&mut self, offset: i64) {
        if let Ok(at) = self.find(offset) {
            self.slots[at].1 = true;
        }
        while let Some(&(offset, true)) = self.slots.front() {
            self.slots.pop_front();
            self.done_to = Some(offset + 1);
        }
    }

    fn find(&self, offset: i64) -> Result<usize, usize> {
        self.slots.binary_search_by_key(&offset, |(o, _)| *o)
    }
}

impl Shared {
    /// Registers a polled record; its assignment, or `None` when its
    /// partition is not (or no longer) this member's.
    fn take(&self, partition: i32, offset: i64) -> Option<Arc<Assignment>> {
        let mut state = lock(&self.state);
        let part = state.get_mut(partition)?;
        if part.assignment.gone.load(Ordering::SeqCst) {
            return None;
        }
        part.take(offset);
        Some(Arc::clone(&part.assignment))
    }

    /// Marks `record` handed out, unless its assignment is gone.
    ///
    /// Counted before the check, as a revocation marks the assignment gone
    /// before it counts what is in flight: either the revocation sees this
    /// delivery in flight, or this sees the assignment gone.
    fn hand_out(&self, record: &Record) -> bool {
        // Touched first: a revocation never sees it in flight with a
        // lease older than this hand-out.
        self.touch(record);
        let assignment = &record.assignment;
        assignment.in_flight.fetch_add(1, Ordering::SeqCst);
        if assignment.gone.load(Ordering::SeqCst) {
            self.landed(record, None);
            return false;
        }
        true
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
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        record.assignment.touched.fetch_max(now, Ordering::SeqCst);
    }

    /// The delivery is done with: its offset may be committed.
    pub(crate) fn done(&self, record: &Record) {
        self.landed(record, Some(record.offset));
    }

    /// A delivery handed back: taken, not in flight.
    pub(crate) fn back(&self, record: &Record) {
        self.landed(record, None);
    }

    /// A record that is never handed out (another group's retry) is done
    /// with.
    fn skip(&self, record: &Record) {
        let mut state = lock(&self.state);
        self.settle(&mut state, record);
    }

    /// A delivery of `record` is no longer in flight, and its offset is
    /// `settled` (or not). Under the lock, so that a revocation counting
    /// what is in flight under it cannot miss the notification.
    fn landed(&self, record: &Record, settled: Option<i64>) {
        let mut state = lock(&self.state);
        record.assignment.in_flight.fetch_sub(1, Ordering::SeqCst);
        if settled.is_some() {
            self.settle(&mut state, record);
        }
        let waiting = self.waiting.load(Ordering::SeqCst) > 0;
        drop(state);
        if waiting {
            self.settled.notify_all();
        }
    }

    /// Settles the offset of `record` if its assignment still holds the
    /// partition (revoking ones accept settlements).
    fn settle(&self, state: &mut State, record: &Record) {
        if let Some(part) = state.get_mut(record.partition)
            && Arc::ptr_eq(&part.assignment, &record.assignment)
        {
            part.settle(record.offset);
            self.dirty.store(true, Ordering::SeqCst);
        }
    }

    /// The stream took `record` off the channel: when that brings the
    /// channel down to `resume_at`, wakes the thread if it waits for room.
    fn taken_off(&self) {
        if self.queued.fetch_sub(1, Ordering::SeqCst) == self.resume_at + 1
            && self.waiting_room.load(Ordering::SeqCst)
        {
            // The lock orders this with the thread's check of `queued`:
            // it either saw the room or is waiting by now.
            drop(lock(&self.state));
            self.room.notify_all();
        }
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

    /// Waits (at most one poll's time) until the stream has brought the
    /// channel down to `resume_at` records; whether it did.
    fn wait_for_room(&self, sender: &mpsc::UnboundedSender<Item>) -> bool {
        let deadline = Instant::now() + POLL;
        let mut state = lock(&self.state);
        // Announced before `queued` is read (both sequentially
        // consistent), as the stream reads `waiting_room` after bringing
        // `queued` down: either this read sees the room, or the stream
        // sees the thread waiting and wakes it (announced after the read,
        // the stream's one notification could fall between the two and
        // the thread would sleep out the poll's time).
        self.waiting_room.store(true, Ordering::SeqCst);
        let room = loop {
            if self.queued.load(Ordering::SeqCst) <= self.resume_at || sender.is_closed() {
                break true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break false;
            };
            state = match self.room.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        };
        self.waiting_room.store(false, Ordering::SeqCst);
        drop(state);
        room
    }

    /// The offsets to commit, of `only` these partitions or of all,
    /// counted as committed; `again` includes those already sent (a
    /// synchronous commit makes sure of what an asynchronous one may have
    /// failed to commit).
    fn to_commit(&self, only: Option<&[i32]>, again: bool) -> Option<TopicPartitionList> {
        let mut state = lock(&self.state);
        self.dirty.store(false, Ordering::SeqCst);
        let mut list = TopicPartitionList::new();
        for part in &mut state.partitions {
            if only.is_some_and(|o| !o.contains(&part.number)) {
                continue;
            }
            if let Some(to) = part
                .done_to
                .filter(|to| again || Some(*to) != part.committed_to)
                && list
                    .add_partition_offset(&self.topic, part.number, Offset::Offset(to))
                    .is_ok()
            {
                part.committed_to = Some(to);
            }
        }
        (list.count() > 0).then_some(list)
    }

    /// Waits until no delivery of `partitions` (or of any) is in flight,
    /// or until the lease of each has run out: a lease after the last
    /// hand-out or keep-alive of a delivery of its partition.
    fn wait_in_flight(&self, partitions: Option<&[i32]>) {
        let mut state = lock(&self.state);
        loop {
            let latest = state
                .partitions
                .iter()
                .filter(|p| partitions.is_none_or(|o| o.contains(&p.number)))
                .map(|part| &part.assignment)
                .filter(|a| a.in_flight.load(Ordering::SeqCst) > 0)
                .map(|a| a.touched.load(Ordering::SeqCst))
                .max();
            let Some(latest) = latest else { return };
            let expires = Duration::from_micros(latest) + self.ack_wait;
            let Some(left) = expires.checked_sub(self.epoch.elapsed()) else {
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
            if let Some(part) = state.get_mut(*partition) {
                part.committed_to = None;
            }
        }
        self.dirty.store(true, Ordering::SeqCst);
    }

    fn any_in_flight(&self) -> bool {
        lock(&self.state)
            .partitions
            .iter()
            .any(|p| p.assignment.in_flight.load(Ordering::SeqCst) > 0)
    }

    fn assigned(&self, partitions: &[i32]) {
        let mut state = lock(&self.state);
        for partition in partitions {
            let assignment = Arc::new(Assignment {
                gone: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                touched: AtomicU64::new(0),
            });
            let part = Partition {
                number: *partition,
                assignment,
                slots: VecDeque::new(),
                done_to: None,
                committed_to: None,
            };
            if let Some(earlier) = state.insert(part) {
                // Records polled under the earlier assignment are stale.
                earlier.assignment.gone.store(true, Ordering::SeqCst);
            }
        }
        drop(state);
        self.reassigned.store(true, Ordering::SeqCst);
    }

    /// The group takes `partitions` away: hand out none of them any more,
    /// let the deliveries in flight finish (within their lease), commit,
    /// forget them.
    fn revoke(&self, consumer: &BaseConsumer<Member>, partitions: &[i32]) {
        {
            let state = lock(&self.state);
            for partition in partitions {
                if let Some(part) = state.get(*partition) {
                    part.assignment.gone.store(true, Ordering::SeqCst);
                }
            }
        }
        self.wait_in_flight(Some(partitions));
        self.commit(consumer, Some(partitions), CommitMode::Sync);
        let mut state = lock(&self.state);
        for partition in partitions {
            state.remove(*partition);
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

/// What the thread sends the stream: the records polled since its last
/// send, in order, or an error.
type Item = Result<VecDeque<Record>, BrokerError>;

/// The consumer thread: polls, passes records on, pauses when the stream
/// lags, commits, and leaves the group once closed and settled.
fn run(
    consumer: &BaseConsumer<Member>,
    shared: &Arc<Shared>,
    sender: &mpsc::UnboundedSender<Item>,
    prefetch: usize,
) {
    let mut backlog: VecDeque<Record> = VecDeque::new();
    let mut paused = false;
    let mut committed_at = Instant::now();
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
            pass_on(shared, sender, &mut backlog, prefetch);
            if shared.reassigned.swap(false, Ordering::SeqCst) {
                paused = false;
            }
            // The stream is behind: wait for it to take half a channel's
            // worth before pausing. A pause drops what librdkafka fetched
            // ahead and the resume fetches it again, a round trip each
            // time the stream lags by a few records (messages/s fell to
            // ~1,000 on the mock cluster); waiting for half the channel
            // lets this thread go on once per many records rather than
            // once per record (the stream wakes it only when half the
            // channel is free). Only a stream that takes nothing for a
            // poll's time pauses the partitions.
            if !paused && backlog.len() >= prefetch && shared.wait_for_room(sender) {
                continue;
            }
            let lagging = backlog.len() >= prefetch;
            if lagging != paused {
                paused = pause(consumer, lagging);
            }
        }
        // One poll that waits (it also serves the group's rebalances),
        // then what librdkafka already has, up to a backlog's worth: the
        // stream gets them in one send.
        let mut wait = POLL;
        let mut idle = true;
        loop {
            match consumer.poll(wait) {
                Some(Ok(message)) => {
                    idle = false;
                    if !shared.closing.load(Ordering::SeqCst) {
                        polled(shared, &message, &mut backlog);
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(topic = %shared.topic, %error, "consuming from Kafka");
                    // Not more errors than records waiting to be taken.
                    if shared.queued.load(Ordering::SeqCst) < prefetch {
                        pass_on(shared, sender, &mut backlog, prefetch);
                        let _ = sender.send(Err(crate::error::kafka(
                            &format!("consuming `{}`", shared.topic),
                            error,
                        )));
                    }
                    break;
                }
                None => break,
            }
            if backlog.len() >= prefetch {
                break;
            }
            wait = Duration::ZERO;
        }
        // Committed when the partitions are quiet, and at most every
        // COMMIT_EVERY while records flow: an asynchronous commit is a
        // request to the group coordinator, too dear to send per record.
        if shared.dirty.load(Ordering::SeqCst) && (idle || committed_at.elapsed() >= COMMIT_EVERY) {
            shared.commit(consumer, None, CommitMode::Async);
            committed_at = Instant::now();
        }
    }
    shared.wait_in_flight(None);
    shared.commit(consumer, None, CommitMode::Sync);
    shared.flushed.send_replace(true);
    shared.finished.send_replace(true);
    // Dropping the consumer leaves the group (the revocation commits
    // nothing more: everything settled is committed above).
}

/// Registers a polled message and decodes it into the backlog (or holds
/// it until due, or settles another group's retry at once).
fn polled(
    shared: &Arc<Shared>,
    message: &rdkafka::message::BorrowedMessage<'_>,
    backlog: &mut VecDeque<Record>,
) {
    let Some(assignment) = shared.take(message.partition(), message.offset()) else {
        return;
    };
    // The topic's name is looked up only for a record without an id.
    let (decoded, counting) =
        codec::decode(message.payload(), message.key(), message.headers(), || {
            format!(
                "{}/{}/{}",
                message.topic(),
                message.partition(),
                message.offset()
            )
        });
    let record = Record {
        partition: message.partition(),
        offset: message.offset(),
        assignment,
        message: decoded,
        attempt: counting.attempt,
    };
    if counting
        .retry_for
        .as_deref()
        .is_some_and(|group| group != shared.group)
    {
        // Another group's retry: done here, never delivered.
        shared.skip(&record);
        return;
    }
    match delay_until(counting.not_before) {
        Some(delay) => hold(shared, record, delay),
        None => backlog.push_back(record),
    }
}

/// Sends the stream as much of the backlog as the channel has room for,
/// in one batch.
fn pass_on(
    shared: &Shared,
    sender: &mpsc::UnboundedSender<Item>,
    backlog: &mut VecDeque<Record>,
    prefetch: usize,
) {
    let room = prefetch.saturating_sub(shared.queued.load(Ordering::SeqCst));
    if room == 0 || backlog.is_empty() {
        return;
    }
    // Records of an assignment gone since are left to the hand-out's
    // check. A backlog that fits goes whole (its buffer, not each record,
    // is moved; the next one starts at its size).
    let batch = if backlog.len() <= room {
        let size = backlog.len();
        std::mem::replace(backlog, VecDeque::with_capacity(size))
    } else {
        backlog.drain(..room).collect()
    };
    // Counted before the send: the stream counts each record off.
    shared.queued.fetch_add(batch.len(), Ordering::SeqCst);
    let _ = sender.send(Ok(batch));
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
    records: mpsc::UnboundedReceiver<Item>,
    /// The rest of the last batch received, handed out one by one.
    batch: VecDeque<Record>,
    redone: mpsc::UnboundedReceiver<Record>,
    shared: Arc<Shared>,
}

impl Records {
    fn deliver(&self, record: Record) -> Option<Box<dyn Delivery>> {
        self.shared
            .hand_out(&record)
            .then(|| Box::new(KafkaDelivery::new(record, Arc::clone(&self.shared))) as _)
    }

    /// The next record of the current batch, counted off the channel.
    fn next_of_batch(&mut self) -> Option<Record> {
        let record = self.batch.pop_front()?;
        self.shared.taken_off();
        Some(record)
    }
}

impl Stream for Records {
    type Item = Result<Box<dyn Delivery>, BrokerError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            // Records handed back come first. The channel is polled (which
            // registers the waker) only when it has something, and before
            // the stream goes to sleep: not once per record.
            if !self.redone.is_empty()
                && let Poll::Ready(Some(record)) = self.redone.poll_recv(cx)
            {
                if let Some(delivery) = self.deliver(record) {
                    return Poll::Ready(Some(Ok(delivery)));
                }
                continue;
            }
            if let Some(record) = self.next_of_batch() {
                if let Some(delivery) = self.deliver(record) {
                    return Poll::Ready(Some(Ok(delivery)));
                }
                continue;
            }
            match self.records.poll_recv(cx) {
                Poll::Ready(Some(Ok(batch))) => self.batch = batch,
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => match self.redone.poll_recv(cx) {
                    Poll::Ready(Some(record)) => {
                        if let Some(delivery) = self.deliver(record) {
                            return Poll::Ready(Some(Ok(delivery)));
                        }
                    }
                    _ => return Poll::Pending,
                },
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
        loop {
            while let Some(record) = self.next_of_batch() {
                taken.extend(self.deliver(record));
            }
            match self.records.try_recv() {
                Ok(Ok(batch)) => self.batch = batch,
                Ok(Err(_)) => {}
                Err(_) => break,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn partition() -> Partition {
        Partition {
            number: 0,
            assignment: Arc::new(Assignment {
                gone: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                touched: AtomicU64::new(0),
            }),
            slots: VecDeque::new(),
            done_to: None,
            committed_to: None,
        }
    }

    #[test]
    fn only_the_settled_prefix_is_committed() {
        let mut part = partition();
        for offset in [10, 11, 12, 13] {
            part.take(offset);
        }
        part.settle(12);
        part.settle(11);
        assert_eq!(part.done_to, None, "10 is not settled");
        part.settle(10);
        assert_eq!(part.done_to, Some(13), "past 10, 11, 12; not 13");
        assert_eq!(part.slots, [(13, false)]);
        part.settle(13);
        assert_eq!(part.done_to, Some(14));
        assert!(part.slots.is_empty());
    }

    #[test]
    fn offsets_out_of_order_keep_their_place() {
        let mut part = partition();
        part.take(20);
        part.take(22);
        // Polled again after a seek back, or taken anew after a settled
        // one: in its place, unsettled.
        part.take(21);
        part.take(20);
        assert_eq!(part.slots, [(20, false), (21, false), (22, false)]);
        part.settle(21);
        part.settle(22);
        part.settle(99);
        assert_eq!(part.done_to, None, "nothing past an unsettled 20");
        part.settle(20);
        assert_eq!(part.done_to, Some(23));
    }
}
