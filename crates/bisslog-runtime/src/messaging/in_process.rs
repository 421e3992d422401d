//! The in-process broker: queues in memory, shared by every service and
//! publisher in the process that holds a clone; nothing survives the
//! process, so it suits tests. `bisslog_sql::SqlBroker` is the durable
//! embedded broker.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bisslog_core::BoxFuture;
use tokio::sync::Notify;
use tokio::time::Instant;

use bisslog_messaging::Message;
use bisslog_messaging::{
    Broker, BrokerError, Deliveries, Delivery, QueueKind, Subscription, event_copy_name,
};

/// A broker inside the process: the same contract as NATS or RabbitMQ
/// (competing consumers, delayed retries, redelivery of what was not
/// settled), without durability. Clones share the queues.
///
/// An [event queue](QueueKind::Event) keeps a copy per consumer name: an
/// ordinary queue named [`event_copy_name`] (`<queue>.<consumer>`),
/// created by the consumer name's first subscription, that every later
/// event is pushed to; the subscribers sharing the name compete for it.
/// [`messages`](InProcessBroker::messages) and
/// [`idle`](InProcessBroker::idle) take those names as well as the event
/// queue's own (all its copies).
///
/// ```
/// use bisslog_messaging::{Broker, Message};
/// use bisslog_runtime::messaging::InProcessBroker;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let broker = InProcessBroker::new();
/// broker.provision("greetings").await.unwrap();
/// broker.publish("greetings", &Message::new(&br#"{"name":"Ana"}"#[..])).await.unwrap();
/// assert_eq!(broker.messages("greetings").len(), 1);
/// // Publishing to a queue nobody provisioned is refused, as on RabbitMQ.
/// assert!(broker.publish("nowhere", &Message::new(&b"{}"[..])).await.is_err());
/// # }
/// ```
#[derive(Clone, Default)]
pub struct InProcessBroker(Arc<Shared>);

#[derive(Default)]
struct Shared {
    queues: Mutex<HashMap<String, Arc<Queue>>>,
    /// The event queues, each with the consumer names that have a copy.
    events: Mutex<HashMap<String, BTreeSet<String>>>,
}

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    notify: Notify,
    /// Told whenever a delivery is settled.
    settled: Notify,
}

#[derive(Default)]
struct QueueState {
    ready: VecDeque<Envelope>,
    delayed: BinaryHeap<Delayed>,
    sequence: u64,
    /// Messages published so far.
    published: u64,
    unsettled: usize,
}

struct Envelope {
    message: Message,
    /// Deliveries so far.
    deliveries: u32,
    /// Its place in the queue's order of publication.
    published: u64,
}

struct Delayed {
    due: Instant,
    sequence: u64,
    envelope: Envelope,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.sequence) == (other.due, other.sequence)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    /// Earliest first in a max-heap.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.sequence).cmp(&(self.due, self.sequence))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The state stays consistent across a panic: every change is one push
    // or pop.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InProcessBroker {
    /// A broker with no queues.
    pub fn new() -> Self {
        Self::default()
    }

    fn queue(&self, name: &str) -> Option<Arc<Queue>> {
        lock(&self.0.queues).get(name).cloned()
    }

    fn queue_or_create(&self, name: &str) -> Arc<Queue> {
        Arc::clone(lock(&self.0.queues).entry(name.to_owned()).or_default())
    }

    /// The copies of an event queue (`None` when it is not one).
    fn copies(&self, event: &str) -> Option<Vec<Arc<Queue>>> {
        let names = lock(&self.0.events).get(event)?.clone();
        Some(
            names
                .iter()
                .map(|consumer| self.queue_or_create(&event_copy_name(event, consumer)))
                .collect(),
        )
    }

    /// The queue a subscription takes its messages from: the queue itself,
    /// or the consumer name's copy of an event queue (made on its first
    /// subscription, when provisioning is on).
    fn source(&self, subscription: &Subscription) -> Result<Arc<Queue>, BrokerError> {
        let missing = || BrokerError::Provisioning {
            queue: subscription.queue.clone(),
            message: "the queue does not exist and provisioning is off".to_owned(),
        };
        match subscription.kind {
            QueueKind::Command if subscription.provision => {
                Ok(self.queue_or_create(&subscription.queue))
            }
            QueueKind::Command => self.queue(&subscription.queue).ok_or_else(missing),
            QueueKind::Event => {
                let mut events = lock(&self.0.events);
                let copy = event_copy_name(&subscription.queue, &subscription.consumer);
                let known = events
                    .get(&subscription.queue)
                    .is_some_and(|c| c.contains(&subscription.consumer));
                if !known && !subscription.provision {
                    return Err(missing());
                }
                events
                    .entry(subscription.queue.clone())
                    .or_default()
                    .insert(subscription.consumer.clone());
                drop(events);
                Ok(self.queue_or_create(&copy))
            }
        }
    }

    /// The messages waiting in a queue (ready or waiting for a retry), in
    /// delivery order: what a test reads from a dead-letter queue. For an
    /// event queue, those of every consumer name's copy, one copy after
    /// the other.
    pub fn messages(&self, queue: &str) -> Vec<Message> {
        if let Some(copies) = self.copies(queue) {
            return copies.iter().flat_map(|q| q.messages()).collect();
        }
        let Some(queue) = self.queue(queue) else {
            return Vec::new();
        };
        queue.messages()
    }

    /// How many messages of a queue are delivered and not yet settled.
    pub fn unsettled(&self, queue: &str) -> usize {
        if let Some(copies) = self.copies(queue) {
            return copies.iter().map(|q| lock(&q.state).unsettled).sum();
        }
        self.queue(queue).map_or(0, |q| lock(&q.state).unsettled)
    }

    /// Waits until a queue is idle: nothing waiting, nothing delivered and
    /// unsettled (retries included); for an event queue, every copy. What
    /// a test awaits after publishing, instead of sleeping.
    pub async fn idle(&self, queue: &str) {
        let queues = self
            .copies(queue)
            .unwrap_or_else(|| vec![self.queue_or_create(queue)]);
        for queue in queues {
            queue.idle().await;
        }
    }

    /// Removes every waiting message of a queue and returns them (a test
    /// draining a dead-letter queue).
    pub fn take(&self, queue: &str) -> Vec<Message> {
        let messages = self.messages(queue);
        let queues = self
            .copies(queue)
            .unwrap_or_else(|| self.queue(queue).into_iter().collect());
        for queue in queues {
            let mut state = lock(&queue.state);
            state.ready.clear();
            state.delayed.clear();
        }
        messages
    }
}

impl Queue {
    fn messages(&self) -> Vec<Message> {
        let state = lock(&self.state);
        let mut delayed: Vec<&Delayed> = state.delayed.iter().collect();
        delayed.sort_by(|a, b| b.cmp(a));
        state
            .ready
            .iter()
            .map(|e| e.message.clone())
            .chain(delayed.into_iter().map(|d| d.envelope.message.clone()))
            .collect()
    }

    async fn idle(&self) {
        loop {
            let settled = self.settled.notified();
            if self.is_idle() {
                return;
            }
            settled.await;
        }
    }

    /// A new message, last in line.
    fn publish(&self, message: Message) {
        let mut state = lock(&self.state);
        state.published += 1;
        let published = state.published;
        state.ready.push_back(Envelope {
            message,
            deliveries: 0,
            published,
        });
        drop(state);
        self.notify.notify_one();
    }

    /// A message back in the queue: last in line (a retry), or back in
    /// its place (`in_place`: released or dropped unsettled), ahead of
    /// every message published after it, so that messages given back one
    /// after the other keep their order, as RabbitMQ requeues them.
    fn push(&self, envelope: Envelope, in_place: bool) {
        let mut state = lock(&self.state);
        if in_place {
            let at = state
                .ready
                .iter()
                .position(|e| e.published > envelope.published)
                .unwrap_or(state.ready.len());
            state.ready.insert(at, envelope);
        } else {
            state.ready.push_back(envelope);
        }
        drop(state);
        self.notify.notify_one();
    }

    fn push_delayed(&self, envelope: Envelope, delay: Duration) {
        let mut state = lock(&self.state);
        state.sequence += 1;
        let sequence = state.sequence;
        state.delayed.push(Delayed {
            due: Instant::now() + delay,
            sequence,
            envelope,
        });
        drop(state);
        // A waiting subscriber recomputes how long to sleep.
        self.notify.notify_one();
    }

    /// The next message, or when to look again.
    fn next(&self) -> Result<Envelope, Option<Instant>> {
        let mut state = lock(&self.state);
        let now = Instant::now();
        while state.delayed.peek().is_some_and(|d| d.due <= now) {
            if let Some(due) = state.delayed.pop() {
                state.ready.push_back(due.envelope);
            }
        }
        match state.ready.pop_front() {
            Some(mut envelope) => {
                envelope.deliveries += 1;
                state.unsettled += 1;
                Ok(envelope)
            }
            None => Err(state.delayed.peek().map(|d| d.due)),
        }
    }

    fn settled(&self) {
        let mut state = lock(&self.state);
        state.unsettled = state.unsettled.saturating_sub(1);
        drop(state);
        self.settled.notify_waiters();
    }

    fn is_idle(&self) -> bool {
        let state = lock(&self.state);
        state.ready.is_empty() && state.delayed.is_empty() && state.unsettled == 0
    }

    async fn deliver(self: &Arc<Self>) -> Box<dyn Delivery> {
        loop {
            let notified = self.notify.notified();
            match self.next() {
                Ok(envelope) => {
                    return Box::new(InProcessDelivery {
                        queue: Arc::clone(self),
                        envelope,
                        settled: false,
                    });
                }
                Err(Some(due)) => {
                    tokio::select! {
                        () = notified => {}
                        () = tokio::time::sleep_until(due) => {}
                    }
                }
                Err(None) => notified.await,
            }
        }
    }
}

impl Broker for InProcessBroker {
    fn name(&self) -> &str {
        "in-process"
    }

    fn system(&self) -> &'static str {
        "in-process"
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.queue_or_create(queue);
        Box::pin(std::future::ready(Ok(())))
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        let result = match self.queue(queue) {
            Some(target) => {
                target.publish(message.clone());
                Ok(())
            }
            None => Err(BrokerError::NoQueue {
                queue: queue.to_owned(),
            }),
        };
        Box::pin(std::future::ready(result))
    }

    fn supports_events(&self) -> bool {
        true
    }

    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        match kind {
            QueueKind::Command => self.provision(queue),
            QueueKind::Event => {
                lock(&self.0.events).entry(queue.to_owned()).or_default();
                Box::pin(std::future::ready(Ok(())))
            }
        }
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        if kind == QueueKind::Command {
            return self.publish(queue, message);
        }
        let result = match self.copies(queue) {
            // An event nobody has subscribed to yet reaches no one, as on
            // a RabbitMQ exchange without bound queues.
            Some(copies) => {
                for copy in copies {
                    copy.publish(message.clone());
                }
                Ok(())
            }
            None => Err(BrokerError::NoQueue {
                queue: queue.to_owned(),
            }),
        };
        Box::pin(std::future::ready(result))
    }

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        let queues = self
            .copies(queue)
            .unwrap_or_else(|| self.queue(queue).into_iter().collect());
        let depth: usize = queues
            .iter()
            .map(|q| {
                let state = lock(&q.state);
                state.ready.len() + state.delayed.len() + state.unsettled
            })
            .sum();
        Box::pin(std::future::ready(Ok(Some(depth as u64))))
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        let queue = self.source(subscription);
        // A message is taken from the queue only when the stream is
        // polled: nothing is held ahead, so closing it has nothing to give
        // back.
        Box::pin(std::future::ready(queue.map(|queue| {
            Deliveries::new(futures_util::stream::unfold(queue, |queue| async move {
                let delivery = queue.deliver().await;
                Some((Ok(delivery), queue))
            }))
        })))
    }
}

impl std::fmt::Debug for InProcessBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queues = lock(&self.0.queues);
        let mut names: Vec<&String> = queues.keys().collect();
        names.sort();
        let events = lock(&self.0.events);
        let mut events: Vec<&String> = events.keys().collect();
        events.sort();
        f.debug_struct("InProcessBroker")
            .field("queues", &names)
            .field("events", &events)
            .finish()
    }
}

struct InProcessDelivery {
    queue: Arc<Queue>,
    envelope: Envelope,
    settled: bool,
}

impl InProcessDelivery {
    /// Marks it settled and gives back a copy of the envelope to queue again.
    /// The envelope to put back in the queue. The delivery counts as
    /// settled only once the caller has put it back (`Queue::settled`
    /// after `push`): in between, the queue would look idle to
    /// `InProcessBroker::idle` with the message in nobody's hands.
    fn take_back(&mut self) -> Envelope {
        self.settled = true;
        Envelope {
            message: self.envelope.message.clone(),
            deliveries: self.envelope.deliveries,
            published: self.envelope.published,
        }
    }
}

impl Delivery for InProcessDelivery {
    fn message(&self) -> &Message {
        &self.envelope.message
    }

    fn attempt(&self) -> u32 {
        self.envelope.deliveries
    }

    fn ack(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.settled = true;
        self.queue.settled();
        Box::pin(std::future::ready(Ok(())))
    }

    fn retry(mut self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        let envelope = self.take_back();
        if delay.is_zero() {
            self.queue.push(envelope, false);
        } else {
            self.queue.push_delayed(envelope, delay);
        }
        self.queue.settled();
        Box::pin(std::future::ready(Ok(())))
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let mut envelope = self.take_back();
        // Never started: this delivery does not count as an attempt.
        envelope.deliveries = envelope.deliveries.saturating_sub(1);
        self.queue.push(envelope, true);
        self.queue.settled();
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Drop for InProcessDelivery {
    /// Unsettled: delivered again, back in its place.
    fn drop(&mut self) {
        if !self.settled {
            let envelope = self.take_back();
            self.queue.push(envelope, true);
            self.queue.settled();
        }
    }
}
