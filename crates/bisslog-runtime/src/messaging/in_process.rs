//! The in-process broker: queues in memory, shared by every service and
//! publisher in the process that holds a clone; nothing survives the
//! process, so it suits tests. `bisslog_sql::SqlBroker` is the durable
//! embedded broker.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bisslog_core::BoxFuture;
use tokio::sync::Notify;
use tokio::time::Instant;

use bisslog_messaging::Message;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Delivery, Subscription};

/// A broker inside the process: the same contract as NATS or RabbitMQ
/// (competing consumers, delayed retries, redelivery of what was not
/// settled), without durability. Clones share the queues.
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

    /// The messages waiting in a queue (ready or waiting for a retry), in
    /// delivery order: what a test reads from a dead-letter queue.
    pub fn messages(&self, queue: &str) -> Vec<Message> {
        let Some(queue) = self.queue(queue) else {
            return Vec::new();
        };
        let state = lock(&queue.state);
        let mut delayed: Vec<&Delayed> = state.delayed.iter().collect();
        delayed.sort_by(|a, b| b.cmp(a));
        state
            .ready
            .iter()
            .map(|e| e.message.clone())
            .chain(delayed.into_iter().map(|d| d.envelope.message.clone()))
            .collect()
    }

    /// How many messages of a queue are delivered and not yet settled.
    pub fn unsettled(&self, queue: &str) -> usize {
        self.queue(queue).map_or(0, |q| lock(&q.state).unsettled)
    }

    /// Waits until a queue is idle: nothing waiting, nothing delivered and
    /// unsettled (retries included). What a test awaits after publishing,
    /// instead of sleeping.
    pub async fn idle(&self, queue: &str) {
        let queue = self.queue_or_create(queue);
        loop {
            let settled = queue.settled.notified();
            if queue.is_idle() {
                return;
            }
            settled.await;
        }
    }

    /// Removes every waiting message of a queue and returns them (a test
    /// draining a dead-letter queue).
    pub fn take(&self, queue: &str) -> Vec<Message> {
        let messages = self.messages(queue);
        if let Some(queue) = self.queue(queue) {
            let mut state = lock(&queue.state);
            state.ready.clear();
            state.delayed.clear();
        }
        messages
    }
}

impl Queue {
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

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        let depth = self.queue(queue).map_or(0, |q| {
            let state = lock(&q.state);
            state.ready.len() + state.delayed.len() + state.unsettled
        });
        Box::pin(std::future::ready(Ok(Some(depth as u64))))
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        let queue = if subscription.provision {
            Ok(self.queue_or_create(&subscription.queue))
        } else {
            self.queue(&subscription.queue)
                .ok_or_else(|| BrokerError::Provisioning {
                    queue: subscription.queue.clone(),
                    message: "the queue does not exist and provisioning is off".to_owned(),
                })
        };
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
        f.debug_struct("InProcessBroker")
            .field("queues", &names)
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
