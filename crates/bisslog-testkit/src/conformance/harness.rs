//! What the conformance cases share: a service whose use case records what
//! it sees, a broker wrapper that records every settlement, a reader of the
//! dead-letter queue, and bounded waits.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bisslog_core::{BoxFuture, Ctx, Error, ErrorKind, UseCase};
use bisslog_messaging::{
    Broker, BrokerError, Deliveries, Delivery, Message, QueueKind, Subscription,
};
use bisslog_runtime::messaging::{ConsumerConfig, Consumers, RunningConsumers};
use bisslog_runtime::{MemoryInbox, Service};
use futures_util::StreamExt as _;
use serde::Deserialize;
use tokio::sync::Notify;

/// How long any wait for the broker may take before the case fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// The lease the cases give deliveries, short so redeliveries show fast.
pub(crate) const ACK_WAIT: Duration = Duration::from_secs(1);

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Everything a case observes, with one notification for any change.
#[derive(Default)]
pub(crate) struct Observed {
    pub(crate) calls: Mutex<Vec<Call>>,
    pub(crate) settlements: Mutex<Vec<Settled>>,
    pub(crate) dead: Mutex<Vec<Message>>,
    /// Messages whose first acknowledgement is lost on the way, as if the
    /// consumer crashed after its effect and before the broker heard.
    pub(crate) lose_first_ack: Mutex<std::collections::HashSet<String>>,
    /// Calls of instance 1 waiting at the gate (`behave: gated`).
    pub(crate) gated: Mutex<usize>,
    /// Opened once: the gated calls go on.
    pub(crate) gate: Gate,
    /// Keys with a call running now (`behave: keyed`), and what was seen
    /// of them.
    pub(crate) keyed: Mutex<Keyed>,
    changed: Notify,
}

/// The keys of `keyed` calls running at once.
#[derive(Debug, Default)]
pub(crate) struct Keyed {
    running: HashMap<String, usize>,
    /// The most distinct keys seen running at once.
    pub(crate) most_at_once: usize,
    /// A call that began while another of its key ran: `(key, n)`.
    pub(crate) same_key_overlaps: Vec<(String, u32)>,
}

/// A gate calls wait at until a case opens it.
pub(crate) struct Gate(tokio::sync::watch::Sender<bool>);

impl Default for Gate {
    fn default() -> Self {
        Self(tokio::sync::watch::Sender::new(false))
    }
}

impl Gate {
    pub(crate) fn open(&self) {
        self.0.send_replace(true);
    }

    async fn passed(&self) {
        let mut opened = self.0.subscribe();
        let _ = opened.wait_for(|open| *open).await;
    }
}

/// One call of the use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) n: u32,
    /// The message's key, as its payload repeats it.
    pub(crate) key: String,
    pub(crate) message_id: String,
    pub(crate) attempt: u32,
    pub(crate) parent: Option<String>,
    /// The trace the call continues: its `traceparent` and `tracestate`.
    pub(crate) trace: Option<(String, Option<String>)>,
    pub(crate) instance: u32,
    pub(crate) succeeded: bool,
}

/// One settlement of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settled {
    /// Which delivery: a serial number per delivery the wrapper saw.
    pub(crate) delivery: u64,
    pub(crate) message_id: String,
    pub(crate) attempt: u32,
    pub(crate) how: &'static str,
}

impl Observed {
    fn changed(&self) {
        self.changed.notify_waiters();
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        lock(&self.calls).clone()
    }

    pub(crate) fn dead(&self) -> Vec<Message> {
        lock(&self.dead).clone()
    }

    /// Waits until `check` holds, for at most [`PATIENCE`].
    pub(crate) async fn until(&self, what: &str, check: impl FnMut(&Self) -> bool) {
        self.until_within(what, PATIENCE, check).await;
    }

    /// Waits until `check` holds, for at most `within`.
    pub(crate) async fn until_within(
        &self,
        what: &str,
        within: Duration,
        mut check: impl FnMut(&Self) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let changed = self.changed.notified();
            if check(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!(
                    "timed out waiting for {what}\n  calls: {:?}\n  dead letters: {}\n  settlements: {:?}",
                    self.calls(),
                    self.dead().len(),
                    lock(&self.settlements)
                );
            }
        }
    }

    /// Every delivery was settled exactly once (none twice, none
    /// abandoned), and no message was acknowledged twice.
    pub(crate) fn assert_settled_once(&self) {
        self.assert_deliveries_settled_once();
        let settlements = lock(&self.settlements).clone();
        let mut acks: HashMap<&str, usize> = HashMap::new();
        for s in settlements.iter().filter(|s| s.how == "ack") {
            *acks.entry(&s.message_id).or_default() += 1;
        }
        for (id, count) in acks {
            assert_eq!(count, 1, "message {id} was acknowledged {count} times");
        }
    }

    /// Every delivery was settled exactly once: none twice, none
    /// abandoned.
    pub(crate) fn assert_deliveries_settled_once(&self) {
        let settlements = lock(&self.settlements).clone();
        let mut per_delivery: HashMap<u64, Vec<&Settled>> = HashMap::new();
        for s in settlements.iter().filter(|s| s.how != "keep-alive") {
            per_delivery.entry(s.delivery).or_default().push(s);
        }
        for settles in per_delivery.values() {
            assert!(
                settles.len() == 1 && settles[0].how != "abandoned",
                "a delivery was not settled exactly once: {settles:?}"
            );
        }
    }

    pub(crate) fn settlements_of(&self, how: &str) -> usize {
        lock(&self.settlements)
            .iter()
            .filter(|s| s.how == how)
            .count()
    }
}

/// The use case of every case. What it does depends on the message's
/// `behave`: `ok`, `transient` (always unavailable), `fail-first`
/// (unavailable on the first delivery), `permanent` (not found), `slow`
/// (takes `millis`), `gated` (in instance 1, waits for [`Observed::gate`]);
/// `keyed`, `keyed-fail-first` and `keyed-slow` are `ok`, `fail-first` and
/// `slow` that also track the keys running at once ([`Observed::keyed`]).
pub(crate) struct Handle {
    pub(crate) observed: Arc<Observed>,
    pub(crate) instance: u32,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct Input {
    n: u32,
    #[serde(default)]
    behave: String,
    #[serde(default)]
    millis: u64,
    message_id: String,
    attempt: u32,
    /// The key the payload repeats (the consumer orders by the message's
    /// `key` header).
    #[serde(default)]
    key: String,
}

impl UseCase for Handle {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: Input) -> Result<(), Error> {
        let keyed = input.behave.starts_with("keyed");
        if keyed {
            self.enter_key(&input).await;
        }
        let outcome = self.behave(ctx, &input).await;
        if keyed {
            let mut seen = lock(&self.observed.keyed);
            if let Some(running) = seen.running.get_mut(&input.key) {
                *running -= 1;
                if *running == 0 {
                    seen.running.remove(&input.key);
                }
            }
        }
        outcome
    }
}

impl Handle {
    /// A `keyed` call: counts its key as running, notes another call of
    /// the key running already, then waits until two keys have been seen
    /// running at once (at once for every call after that). A consumer
    /// that ran one key at a time would never get past the first call:
    /// the case then times out saying so.
    async fn enter_key(&self, input: &Input) {
        {
            let mut seen = lock(&self.observed.keyed);
            let running = seen.running.entry(input.key.clone()).or_default();
            *running += 1;
            if *running > 1 {
                seen.same_key_overlaps.push((input.key.clone(), input.n));
            }
            seen.most_at_once = seen.most_at_once.max(seen.running.len());
        }
        self.observed.changed();
        self.observed
            .until("two keys running at once", |o| {
                lock(&o.keyed).most_at_once >= 2
            })
            .await;
    }

    async fn behave(&self, ctx: &Ctx, input: &Input) -> Result<(), Error> {
        if input.behave == "slow" || input.behave == "keyed-slow" {
            // The call's own duration: what the case is about.
            tokio::time::sleep(Duration::from_millis(input.millis)).await;
        }
        if input.behave == "gated" && self.instance == 1 {
            *lock(&self.observed.gated) += 1;
            self.observed.changed();
            self.observed.gate.passed().await;
        }
        let failure = match input.behave.as_str() {
            "transient" => Some(Error::new(
                ErrorKind::Unavailable,
                "down",
                "the store is down",
            )),
            "fail-first" | "keyed-fail-first" if input.attempt == 1 => Some(Error::new(
                ErrorKind::Timeout,
                "slow-store",
                "the store timed out",
            )),
            "permanent" => Some(Error::not_found("no-such-thing", "there is no such thing")),
            _ => None,
        };
        lock(&self.observed.calls).push(Call {
            n: input.n,
            key: input.key.clone(),
            message_id: input.message_id.clone(),
            attempt: input.attempt,
            parent: ctx.parent_transaction_id().map(|t| t.text().into_owned()),
            trace: ctx
                .trace_context()
                .map(|t| (t.traceparent(), t.state().map(str::to_owned))),
            instance: self.instance,
            succeeded: failure.is_none(),
        });
        self.observed.changed();
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The options of the consumer trigger of a case.
pub(crate) struct Trigger {
    pub(crate) semantic: &'static str,
    pub(crate) max_retries: u32,
    pub(crate) retry_delay: u32,
    pub(crate) batch_size: u32,
    /// The trigger's `partition`: ordered by key when set.
    pub(crate) partition: Option<&'static str>,
    /// The queue's kind, as the metadata writes it.
    pub(crate) queue_kind: QueueKind,
}

impl Default for Trigger {
    fn default() -> Self {
        Self {
            semantic: "at-least-once",
            max_retries: 2,
            retry_delay: 0,
            batch_size: 4,
            partition: None,
            queue_kind: QueueKind::Command,
        }
    }
}

/// One case: unique queue names, the observations, the broker.
pub(crate) struct Case {
    pub(crate) queue: String,
    pub(crate) dead_letter_queue: String,
    pub(crate) observed: Arc<Observed>,
    pub(crate) broker: Arc<dyn Broker>,
    trigger: Trigger,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Case {
    /// A case on fresh queues of `broker`; the dead-letter queue is read
    /// into [`Observed::dead`] from the start.
    pub(crate) async fn new(name: &str, broker: impl Broker, trigger: Trigger) -> Self {
        let unique = &bisslog_messaging::new_message_id()[..8];
        let queue = format!("conformance.{name}.{unique}");
        let dead_letter_queue = format!("{queue}.dlq");
        let broker: Arc<dyn Broker> = Arc::new(broker);
        let observed = Arc::new(Observed::default());
        let mut case = Self {
            queue,
            dead_letter_queue,
            observed,
            broker,
            trigger,
            readers: Vec::new(),
        };
        case.read_dead_letters().await;
        case
    }

    async fn read_dead_letters(&mut self) {
        let subscription = Subscription {
            queue: self.dead_letter_queue.clone(),
            consumer: "conformance-dead-letter-reader".into(),
            prefetch: 16,
            ack_wait: Duration::from_secs(30),
            provision: true,
            kind: QueueKind::Command,
        };
        self.broker
            .provision(&self.dead_letter_queue)
            .await
            .unwrap_or_else(|e| panic!("provisioning {}: {e}", self.dead_letter_queue));
        let mut deliveries = self
            .broker
            .subscribe(&subscription)
            .await
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.dead_letter_queue));
        let observed = Arc::clone(&self.observed);
        self.readers.push(tokio::spawn(async move {
            while let Some(delivery) = deliveries.next().await {
                let Ok(delivery) = delivery else { continue };
                lock(&observed.dead).push(delivery.message().clone());
                let _ = delivery.ack().await;
                observed.changed();
            }
        }));
    }

    /// The metadata of a service named `service` (its consumer name
    /// follows) consuming the case's queue.
    pub(crate) fn metadata_of(&self, service: &str) -> bisslog_schema::ServiceMetadata {
        let t = &self.trigger;
        let yaml = format!(
            "name: {service}
use_cases:
  handle:
    name: handle
    triggers:
      - type: consumer
        options:
          queue: {queue}
          queue_kind: {kind}
          dead_letter_queue: {dlq}
          delivery_semantic: {semantic}
          max_retries: {retries}
          retry_delay: {delay}
          batch_size: {batch}{partition}
          mapper:
            event.n: n
            event.behave: behave
            event.millis: millis
            context.message_id: message_id
            context.attempt: attempt
            event.key: key
",
            queue = self.queue,
            kind = t.queue_kind,
            dlq = self.dead_letter_queue,
            semantic = t.semantic,
            retries = t.max_retries,
            delay = t.retry_delay,
            batch = t.batch_size,
            partition = t
                .partition
                .map(|p| format!("\n          partition: {p}"))
                .unwrap_or_default(),
        );
        match bisslog_schema::validate_str("conformance.yml", &yaml).into_service() {
            Ok(service) => service,
            Err(report) => panic!(
                "the conformance metadata is invalid:\n{}",
                bisslog_schema::render_report(&report, bisslog_schema::RenderOptions::default())
            ),
        }
    }

    /// Starts the consumers of instance `instance` on `broker`.
    pub(crate) async fn consume_on(&self, broker: impl Broker, instance: u32) -> RunningConsumers {
        self.consume_leased(broker, instance, ACK_WAIT).await
    }

    /// Starts the consumers of instance `instance` on `broker`, their
    /// deliveries leased for `ack_wait`.
    pub(crate) async fn consume_leased(
        &self,
        broker: impl Broker,
        instance: u32,
        ack_wait: Duration,
    ) -> RunningConsumers {
        self.consume_as("conformance", broker, instance, ack_wait)
            .await
    }

    /// Starts the consumers of instance `instance` of the service named
    /// `service` on `broker`, their deliveries leased for `ack_wait`.
    pub(crate) async fn consume_as(
        &self,
        service: &str,
        broker: impl Broker,
        instance: u32,
        ack_wait: Duration,
    ) -> RunningConsumers {
        self.try_consume_as(service, broker, instance, ack_wait)
            .await
            .unwrap_or_else(|e| panic!("starting the consumers: {e}"))
    }

    /// [`Case::consume_as`], the start's error returned.
    pub(crate) async fn try_consume_as(
        &self,
        service: &str,
        broker: impl Broker,
        instance: u32,
        ack_wait: Duration,
    ) -> Result<RunningConsumers, bisslog_runtime::messaging::StartError> {
        let mut builder = Service::builder(self.metadata_of(service)).use_case(
            "handle",
            Handle {
                observed: Arc::clone(&self.observed),
                instance,
            },
        );
        if self.trigger.semantic == "exactly-once" {
            builder = builder.unit_of_work(MemoryInbox::new());
        }
        let service = builder
            .build()
            .unwrap_or_else(|e| panic!("the conformance service: {e}"));
        let counting = Counting {
            inner: Arc::new(broker),
            observed: Arc::clone(&self.observed),
        };
        let config = ConsumerConfig::default()
            .ack_wait(ack_wait)
            .retry_delays(Duration::from_secs(1), Duration::from_secs(4))
            .shutdown_grace(Duration::from_secs(10));
        Consumers::new(service, counting)
            .config(config)
            .start()
            .await
    }

    /// Starts the consumers on the case's broker.
    pub(crate) async fn consume(&self) -> RunningConsumers {
        self.consume_on(Arc::clone(&self.broker), 1).await
    }

    /// Publishes a message whose payload is `payload`.
    pub(crate) async fn publish(&self, payload: impl Into<Vec<u8>>) -> Message {
        let mut message = Message::new(payload.into());
        message.transaction_id = Some("producer-transaction".into());
        self.publish_message(&message).await;
        message
    }

    pub(crate) async fn publish_message(&self, message: &Message) {
        self.broker
            .publish_to(&self.queue, self.trigger.queue_kind, message)
            .await
            .unwrap_or_else(|e| panic!("publishing to {}: {e}", self.queue));
    }

    /// Publishes `{"n": n, "behave": behave}`, losing the first
    /// acknowledgement of its delivery.
    pub(crate) async fn publish_losing_first_ack(&self, n: u32) -> Message {
        let mut message = Message::new(format!(r#"{{"n":{n},"behave":"ok"}}"#).into_bytes());
        message.transaction_id = Some("producer-transaction".into());
        lock(&self.observed.lose_first_ack).insert(message.id.clone());
        self.publish_message(&message).await;
        message
    }

    /// Publishes `{"n": n, "behave": behave, "millis": millis, "key": key}`
    /// with the key `key`.
    pub(crate) async fn publish_keyed(
        &self,
        n: u32,
        behave: &str,
        millis: u64,
        key: &str,
    ) -> Message {
        let mut message = Message::new(
            format!(r#"{{"n":{n},"behave":"{behave}","millis":{millis},"key":"{key}"}}"#)
                .into_bytes(),
        );
        message.transaction_id = Some("producer-transaction".into());
        message.key = Some(key.to_owned());
        self.publish_message(&message).await;
        message
    }

    /// Publishes `{"n": n, "behave": behave}`.
    pub(crate) async fn publish_n(&self, n: u32, behave: &str) -> Message {
        self.publish(format!(r#"{{"n":{n},"behave":"{behave}"}}"#))
            .await
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// Waits `window`, to see that nothing more happens in it: only for
/// asserting an absence, never to wait for something to happen.
pub(crate) async fn observe_quiet(window: Duration) {
    tokio::time::sleep(window).await;
}

/// Runs `future` for at most [`PATIENCE`].
pub(crate) async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// A broker wrapper that records every settlement of every delivery.
struct Counting {
    inner: Arc<dyn Broker>,
    observed: Arc<Observed>,
}

impl Broker for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn system(&self) -> &'static str {
        self.inner.system()
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.inner.provision(queue)
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.inner.publish(queue, message)
    }

    fn supports_events(&self) -> bool {
        self.inner.supports_events()
    }

    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.inner.provision_queue(queue, kind)
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.inner.publish_to(queue, kind, message)
    }

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        self.inner.depth(queue)
    }

    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, BrokerError>> {
        self.inner.oldest_unacked_age(queue)
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(async move {
            let observed = Arc::clone(&self.observed);
            let deliveries = self.inner.subscribe(subscription).await?;
            Ok(deliveries.map_deliveries(move |inner| {
                static SERIAL: AtomicU64 = AtomicU64::new(0);
                Box::new(Counted {
                    inner: Some(inner),
                    serial: SERIAL.fetch_add(1, Ordering::Relaxed),
                    observed: Arc::clone(&observed),
                }) as Box<dyn Delivery>
            }))
        })
    }
}

struct Counted {
    /// `None` once settled.
    inner: Option<Box<dyn Delivery>>,
    serial: u64,
    observed: Arc<Observed>,
}

impl Counted {
    fn record(&self, inner: &dyn Delivery, how: &'static str) {
        lock(&self.observed.settlements).push(Settled {
            delivery: self.serial,
            message_id: inner.message().id.clone(),
            attempt: inner.attempt(),
            how,
        });
        self.observed.changed();
    }

    fn take(&mut self, how: &'static str) -> Box<dyn Delivery> {
        let inner = self
            .inner
            .take()
            .unwrap_or_else(|| panic!("a delivery was settled twice (second: {how})"));
        self.record(inner.as_ref(), how);
        inner
    }

    /// Records an acknowledgement and sends it with `ack` (either kind),
    /// unless the test asked for this message's first one to be lost.
    fn acked(
        mut self,
        ack: impl FnOnce(Box<dyn Delivery>) -> BoxFuture<'static, Result<(), BrokerError>>,
    ) -> BoxFuture<'static, Result<(), BrokerError>> {
        let id = self.message().id.clone();
        let lost = lock(&self.observed.lose_first_ack).remove(&id);
        if lost {
            // Dropped unsettled: the broker delivers it again.
            drop(self.take("ack-lost"));
            return Box::pin(std::future::ready(Ok(())));
        }
        ack(self.take("ack"))
    }

    fn inner(&self) -> &dyn Delivery {
        match &self.inner {
            Some(inner) => inner.as_ref(),
            None => panic!("a settled delivery was used"),
        }
    }
}

impl Delivery for Counted {
    fn message(&self) -> &Message {
        self.inner().message()
    }

    fn attempt(&self) -> u32 {
        self.inner().attempt()
    }

    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        (*self).acked(|inner| inner.ack())
    }

    fn ack_queued(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        (*self).acked(|inner| inner.ack_queued())
    }

    fn retry(mut self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.take("retry").retry(delay)
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.take("release").release()
    }

    fn keep_alive(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.record(self.inner(), "keep-alive");
        self.inner().keep_alive()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            self.record(inner.as_ref(), "abandoned");
        }
    }
}
