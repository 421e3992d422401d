//! The consumer runner: one loop per consumer trigger of the metadata,
//! fetching from the broker, processing with bounded concurrency (one
//! message at a time per key, when the trigger has `partition`), and
//! stopping gracefully.

use std::sync::Arc;
use std::time::Duration;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::Poll;

use bisslog_core::BoxFuture;
use bisslog_schema::{DeliverySemantic, TriggerKind};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt as _, StreamExt as _};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::mapper::InputMapper;
use crate::messaging::keys::{Keys, payload_key};
use crate::messaging::process::{Binding, PendingAck, acknowledged, process};
use crate::messaging::settle::RetryPolicy;
use crate::service::Service;
use bisslog_messaging::{
    Broker, BrokerError, Deliveries, Delivery, QueueKind, Subscription, consumer_name,
};

/// How consumers run; every field has a default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsumerConfig {
    /// Create queues, dead-letter queues and broker-side consumers at
    /// start-up (idempotently). Turn it off where operators own them.
    pub provision: bool,
    /// How long a delivery may stay unsettled before the broker gives it
    /// to another instance; long-running calls keep it alive meanwhile.
    pub ack_wait: Duration,
    /// Messages processed at once per trigger when the metadata gives no
    /// `batch_size`.
    pub default_concurrency: u32,
    /// How many unsettled messages a broker may hand a subscriber ahead of
    /// processing: `None` is twice the concurrency, at least 256. Lower it
    /// for slow calls: a message waiting here counts against `ack_wait`.
    pub prefetch: Option<u32>,
    /// Retries when the metadata gives no `max_retries`.
    pub default_max_retries: u32,
    /// The first retry's delay when the metadata gives no `retry_delay`.
    pub default_retry_delay: Duration,
    /// The longest delay between retries (they double each time).
    pub max_retry_delay: Duration,
    /// The longest one call of a consumer trigger's use case may take
    /// when the metadata gives no `timeout`. Past it the call is cancelled
    /// and fails as a timeout: retried like any transient failure, then
    /// dead-lettered, so a call that never finishes cannot hold its
    /// message (and, on an ordered trigger, its key) forever. Measured
    /// from when the call first waits: a call cannot be cancelled before.
    pub call_timeout: Duration,
    /// How long shutdown waits for in-flight messages; the ones still
    /// running after it are abandoned unsettled, so the broker delivers
    /// them again.
    pub shutdown_grace: Duration,
    /// How often the age of each consumed queue's oldest unacknowledged
    /// message is read from the broker for
    /// `bisslog_consumer_oldest_unacked_age_seconds` (when the service has
    /// metrics and the broker tells it).
    pub backlog_interval: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            provision: true,
            ack_wait: Duration::from_secs(30),
            default_concurrency: 16,
            prefetch: None,
            default_max_retries: 3,
            default_retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(300),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            shutdown_grace: Duration::from_secs(25),
            backlog_interval: Duration::from_secs(15),
        }
    }
}

/// [`ConsumerConfig::call_timeout`]'s default: five minutes, far above
/// what a message's work should take, yet a bound.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(300);

impl ConsumerConfig {
    /// Sets [`ConsumerConfig::call_timeout`] (at least a millisecond).
    #[must_use]
    pub fn call_timeout(mut self, limit: Duration) -> Self {
        self.call_timeout = limit.max(Duration::from_millis(1));
        self
    }

    /// Sets [`ConsumerConfig::backlog_interval`].
    #[must_use]
    pub fn backlog_interval(mut self, every: Duration) -> Self {
        self.backlog_interval = every;
        self
    }

    /// Sets [`ConsumerConfig::provision`].
    #[must_use]
    pub fn provision(mut self, provision: bool) -> Self {
        self.provision = provision;
        self
    }

    /// Sets [`ConsumerConfig::ack_wait`].
    #[must_use]
    pub fn ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }

    /// Sets [`ConsumerConfig::default_concurrency`] (at least 1).
    #[must_use]
    pub fn default_concurrency(mut self, concurrency: u32) -> Self {
        self.default_concurrency = concurrency.max(1);
        self
    }

    /// Sets [`ConsumerConfig::prefetch`].
    #[must_use]
    pub fn prefetch(mut self, prefetch: u32) -> Self {
        self.prefetch = Some(prefetch.max(1));
        self
    }

    /// Sets [`ConsumerConfig::shutdown_grace`].
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Sets [`ConsumerConfig::default_retry_delay`] and
    /// [`ConsumerConfig::max_retry_delay`].
    #[must_use]
    pub fn retry_delays(mut self, first: Duration, max: Duration) -> Self {
        self.default_retry_delay = first;
        self.max_retry_delay = max.max(first);
        self
    }
}

/// Serves a service's consumer triggers from a broker.
///
/// ```no_run
/// # async fn example(service: bisslog_runtime::Service) -> Result<(), Box<dyn std::error::Error>> {
/// use bisslog_runtime::messaging::{Consumers, InProcessBroker};
///
/// let broker = InProcessBroker::new();
/// let running = Consumers::new(service, broker).start().await?;
/// // ... until the process is asked to stop:
/// running.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Consumers {
    service: Service,
    broker: Arc<dyn Broker>,
    config: ConsumerConfig,
}

/// Why consumers could not start.
#[derive(Debug, thiserror::Error)]
#[error("the consumer of `{use_case}` on `{queue}` could not start: {source}")]
pub struct StartError {
    /// The use case.
    pub use_case: String,
    /// Its queue.
    pub queue: String,
    /// What the broker said.
    #[source]
    pub source: BrokerError,
}

impl Consumers {
    /// The consumers of every consumer trigger of `service`, on `broker`.
    pub fn new(service: Service, broker: impl Broker) -> Self {
        Self {
            service,
            broker: Arc::new(broker),
            config: ConsumerConfig::default(),
        }
    }

    /// Replaces the configuration.
    #[must_use]
    pub fn config(mut self, config: ConsumerConfig) -> Self {
        self.config = config;
        self
    }

    /// The `(use case, queue)` of every consumer trigger served.
    pub fn triggers(&self) -> Vec<(String, String)> {
        self.bindings()
            .iter()
            .map(|(b, _)| (b.handle.keyname().to_owned(), b.queue.clone()))
            .collect()
    }

    /// Processes one delivery of `queue` exactly as the running consumers
    /// do (the trigger's mapper, delivery semantic, inbox and retry
    /// policy), and settles it through the delivery: acknowledged,
    /// retried after the policy's delay, or copied to the trigger's
    /// dead-letter queue on this broker (its reason in the copy's
    /// `dead-letter-*` headers) and then acknowledged.
    ///
    /// For entry points that fetch deliveries themselves, and for tests
    /// that drive a consumer trigger without a running loop
    /// (`bisslog_testkit::TestService::deliver`). Returns `false`, leaving
    /// the delivery unsettled, when no consumer trigger of the service
    /// consumes `queue`.
    pub async fn process_one(&self, queue: &str, delivery: Box<dyn Delivery>) -> bool {
        let Some((binding, _)) = self.bindings().into_iter().find(|(b, _)| b.queue == queue) else {
            return false;
        };
        if let Some(ack) = process(&binding, self.broker.as_ref(), delivery, None).await {
            acknowledged(&binding.queue, ack.await);
        }
        true
    }

    fn bindings(&self) -> Vec<(Binding, u32)> {
        let config = &self.config;
        let mut bindings = Vec::new();
        for (keyname, spec) in &self.service.metadata().use_cases {
            let Some(handle) = self.service.use_case(keyname) else {
                continue;
            };
            for trigger in &spec.triggers {
                let TriggerKind::Consumer(consumer) = &trigger.kind else {
                    continue;
                };
                let mapper = InputMapper::new(consumer.mapper.as_ref());
                let policy = RetryPolicy {
                    max_retries: consumer.max_retries.unwrap_or(config.default_max_retries),
                    first_delay: consumer
                        .retry_delay
                        .map_or(config.default_retry_delay, |s| {
                            Duration::from_secs(s.into())
                        }),
                    max_delay: config.max_retry_delay,
                };
                let concurrency = consumer
                    .batch_size
                    .unwrap_or(config.default_concurrency)
                    .max(1);
                bindings.push((
                    Binding {
                        handle: handle.clone(),
                        reads_context: mapper.reads_context(),
                        mapper,
                        queue: consumer.queue.clone(),
                        kind: crate::messaging::queue_kind(consumer.queue_kind),
                        consumer: consumer_name(self.service.name(), keyname),
                        dead_letter_queue: consumer
                            .dead_letter_queue
                            .clone()
                            .unwrap_or_else(|| format!("{}.dlq", consumer.queue)),
                        semantic: consumer.delivery_semantic,
                        policy,
                        keep_alive_every: (config.ack_wait / 2).max(Duration::from_millis(100)),
                        timeout: consumer
                            .timeout_ms
                            .map_or(config.call_timeout, Duration::from_millis),
                        // Retries of the use case's interactions stop at
                        // the timeout, as on an HTTP route.
                        deadline: self.service.metadata().retries_in(keyname),
                        provision: config.provision,
                        ordered: consumer.partition.is_some(),
                        key_path: consumer
                            .partition_key_path()
                            .map(|path| path.into_iter().map(str::to_owned).collect()),
                        metrics: handle
                            .metrics()
                            .map(|m| m.consumer(&consumer.queue, keyname)),
                    },
                    concurrency,
                ));
            }
        }
        bindings
    }

    /// Provisions the queues and subscribes every consumer trigger, then
    /// processes messages in the background until
    /// [`RunningConsumers::shutdown`].
    pub async fn start(self) -> Result<RunningConsumers, StartError> {
        let (stop, stopped) = watch::channel(false);
        let mut loops = JoinSet::new();
        let mut served = Vec::new();
        let mut backlog = Vec::new();
        for (binding, concurrency) in self.bindings() {
            let fail = |source| StartError {
                use_case: binding.handle.keyname().to_owned(),
                queue: binding.queue.clone(),
                source,
            };
            if binding.kind == QueueKind::Event && !self.broker.supports_events() {
                return Err(fail(BrokerError::Unsupported {
                    queue: binding.queue.clone(),
                    kind: binding.kind,
                }));
            }
            if self.config.provision {
                self.broker
                    .provision_queue(&binding.queue, binding.kind)
                    .await
                    .map_err(fail)?;
                self.broker
                    .provision(&binding.dead_letter_queue)
                    .await
                    .map_err(fail)?;
            }
            let subscription = Subscription {
                queue: binding.queue.clone(),
                consumer: binding.consumer.clone(),
                prefetch: self
                    .config
                    .prefetch
                    .unwrap_or_else(|| concurrency.saturating_mul(2).max(256)),
                ack_wait: self.config.ack_wait,
                provision: self.config.provision,
                kind: binding.kind,
            };
            let deliveries = self.broker.subscribe(&subscription).await.map_err(fail)?;
            tracing::info!(
                checkpoint_id = "consuming",
                use_case = binding.handle.keyname(),
                queue = %binding.queue,
                broker = self.broker.name(),
                semantic = binding.semantic.as_str(),
                "consuming"
            );
            served.push((binding.handle.keyname().to_owned(), binding.queue.clone()));
            if let Some(metrics) = &binding.metrics {
                backlog.push((binding.queue.clone(), metrics.clone()));
            }
            let runner = Runner {
                binding: Arc::new(binding),
                broker: Arc::clone(&self.broker),
                hold: subscription.prefetch.max(concurrency) as usize,
                subscription,
                concurrency: concurrency as usize,
                grace: self.config.shutdown_grace,
                stopped: stopped.clone(),
            };
            loops.spawn(runner.run(deliveries));
        }
        if !backlog.is_empty() {
            loops.spawn(watch_backlog(
                Arc::clone(&self.broker),
                backlog,
                self.config.backlog_interval,
                stopped.clone(),
            ));
        }
        Ok(RunningConsumers {
            stop,
            loops,
            served,
        })
    }
}

/// Reads the age of each queue's oldest unacknowledged message every
/// `every` into its gauge, until stopped. A queue whose broker cannot tell
/// (or that fails) is dropped from the watch or skipped this round: the
/// gauge is an operator's aid, never a reason to stop consuming.
async fn watch_backlog(
    broker: Arc<dyn Broker>,
    mut queues: Vec<(String, crate::metrics::Consumer)>,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !queues.is_empty() {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        let mut told = Vec::with_capacity(queues.len());
        for (queue, metrics) in queues {
            match broker.oldest_unacked_age(&queue).await {
                Ok(Some(age)) => {
                    metrics.set_oldest_unacked_age(age.as_secs_f64());
                    told.push((queue, metrics));
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::debug!(%queue, %error, "the broker did not tell the backlog's age");
                    told.push((queue, metrics));
                }
            }
        }
        queues = told;
    }
}

impl std::fmt::Debug for Consumers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumers")
            .field("service", &self.service.name())
            .field("broker", &self.broker.name())
            .field("config", &self.config)
            .finish()
    }
}

/// Consumers running in the background.
#[derive(Debug)]
pub struct RunningConsumers {
    stop: watch::Sender<bool>,
    loops: JoinSet<()>,
    served: Vec<(String, String)>,
}

impl RunningConsumers {
    /// The `(use case, queue)` pairs being consumed.
    pub fn served(&self) -> &[(String, String)] {
        &self.served
    }

    /// Stops fetching, hands the messages taken ahead but not started
    /// back to the broker ([`Delivery::release`](bisslog_messaging::Delivery::release)),
    /// lets in-flight messages finish (up to the grace period) and
    /// returns when every loop has ended.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while let Some(ended) = self.loops.join_next().await {
            if let Err(error) = ended {
                tracing::error!(error = %error, "a consumer loop ended abnormally");
            }
        }
    }
}

/// One consumer trigger's loop.
struct Runner {
    binding: Arc<Binding>,
    broker: Arc<dyn Broker>,
    subscription: Subscription,
    concurrency: usize,
    /// The most deliveries held at once, running or waiting behind their
    /// key: the subscription's prefetch (at least the concurrency).
    hold: usize,
    grace: Duration,
    stopped: watch::Receiver<bool>,
}

/// What a processing future comes to: the key it held (ordered triggers),
/// and whether it panicked.
type Done = (
    Option<String>,
    Result<Option<PendingAck>, Box<dyn std::any::Any + Send>>,
);

/// One delivery being processed, in a box of its own that is used again
/// for the next delivery when the processing finishes at its first poll
/// (most do): no allocation per message for the future. Empty between
/// two uses.
struct Slot<F>(Pin<Box<Option<F>>>);

impl<F> Slot<F> {
    fn empty() -> Self {
        Self(Box::pin(None))
    }
}

impl<F: Future> Future for Slot<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        match self.0.as_mut().as_pin_mut() {
            Some(processing) => processing.poll(cx),
            // Never pushed empty.
            None => Poll::Pending,
        }
    }
}

/// The deliveries waiting behind a running message of their key.
type Waiting = Keys<Box<dyn Delivery>>;

/// The acknowledgements waiting for the broker's answer.
type Acking = FuturesUnordered<PendingAck>;

impl Runner {
    /// Fetches and processes until stopped. Every in-flight message is a
    /// future on this one task (no task per message): cheap, and the
    /// acknowledgements of a burst leave together.
    async fn run(self, deliveries: Deliveries) {
        let mut stopped = self.stopped.clone();
        let mut stop = std::pin::pin!(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        });
        let mut in_flight = FuturesUnordered::new();
        let make =
            |delivery: Box<dyn Delivery>, key: Option<String>| self.processing(delivery, key);
        let mut spare = Slot::empty();
        let mut waiting = Waiting::default();
        // Counted against `hold`, not the concurrency: a message whose
        // call is over does not keep the next one waiting for the
        // broker's answer to its acknowledgement.
        let mut acking = Acking::new();
        // Releases of the messages that waited behind a key at shutdown.
        let mut releasing = JoinSet::new();
        let mut subscription = Some(deliveries);
        let mut resubscribing: Option<BoxFuture<'_, Result<Deliveries, BrokerError>>> = None;
        let mut pause: Option<Pin<Box<tokio::time::Sleep>>> = None;
        let mut failures = 0u32;
        // The leases of the deliveries waiting behind their key are kept
        // alive as those of running calls are: a key's head may wait out
        // retries longer than `ack_wait`.
        let every = self.binding.keep_alive_every;
        let mut keep_waiting_alive =
            tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        keep_waiting_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Checked here while busy; the `stop` branch below wakes an
            // idle loop.
            if *self.stopped.borrow() {
                break;
            }
            let fetch = subscription.is_some()
                && pause.is_none()
                && in_flight.len() < self.concurrency
                && in_flight.len() + waiting.waiting() + acking.len() < self.hold;
            tokio::select! {
                biased;
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    let stopping = *self.stopped.borrow();
                    if let Some((next, key)) = finished(done, &mut waiting, &mut releasing, &mut acking, stopping) {
                        self.start(next, Some(key), &make, &mut spare, &mut waiting, &mut in_flight, &mut releasing, &mut acking).await;
                    }
                }
                Some(outcome) = acking.next(), if !acking.is_empty() => {
                    acknowledged(&self.binding.queue, outcome);
                }
                _ = keep_waiting_alive.tick(), if waiting.waiting() > 0 => {
                    // The calls and acknowledgements go on meanwhile: an
                    // adapter may bound its statements (the SQL broker runs
                    // 4 of a subscription's at once), and an acknowledgement
                    // or a call's own keep-alive holding one of those turns,
                    // left unpolled, would keep these keep-alives waiting
                    // for it forever (seen as a keyed call that never
                    // finished). Calls that end meanwhile are settled after.
                    let mut ended = Vec::new();
                    {
                        let mut keeping = std::pin::pin!(keep_alive_all(&waiting));
                        loop {
                            tokio::select! {
                                biased;
                                () = &mut keeping => break,
                                Some(done) = in_flight.next(), if !in_flight.is_empty() => ended.push(done),
                                Some(outcome) = acking.next(), if !acking.is_empty() => {
                                    acknowledged(&self.binding.queue, outcome);
                                }
                            }
                        }
                    }
                    for done in ended {
                        let stopping = *self.stopped.borrow();
                        if let Some((next, key)) = finished(done, &mut waiting, &mut releasing, &mut acking, stopping) {
                            self.start(next, Some(key), &make, &mut spare, &mut waiting, &mut in_flight, &mut releasing, &mut acking).await;
                        }
                    }
                }
                () = poll_some(&mut pause) => {
                    pause = None;
                    if subscription.is_none() {
                        resubscribing = Some(self.broker.subscribe(&self.subscription));
                    }
                }
                subscribed = poll_some(&mut resubscribing) => {
                    resubscribing = None;
                    match subscribed {
                        Ok(deliveries) => {
                            tracing::info!(queue = %self.binding.queue, "subscribed again");
                            subscription = Some(deliveries);
                        }
                        Err(error) => {
                            failures = failures.saturating_add(1);
                            tracing::warn!(queue = %self.binding.queue, error = %error, "subscribing failed");
                            pause = Some(Box::pin(tokio::time::sleep(backoff(failures))));
                        }
                    }
                }
                next = next_delivery(&mut subscription), if fetch => match next {
                    Some(Ok(delivery)) => {
                        failures = 0;
                        match self.key_of(delivery.as_ref()) {
                            None => self.start(delivery, None, &make, &mut spare, &mut waiting, &mut in_flight, &mut releasing, &mut acking).await,
                            Some(key) => {
                                if let Some(delivery) = waiting.admit(&key, delivery) {
                                    self.start(delivery, Some(key), &make, &mut spare, &mut waiting, &mut in_flight, &mut releasing, &mut acking).await;
                                }
                            }
                        }
                    }
                    Some(Err(error)) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(queue = %self.binding.queue, error = %error, "the subscription reported a problem");
                        pause = Some(Box::pin(tokio::time::sleep(backoff(failures))));
                    }
                    None => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(queue = %self.binding.queue, "the subscription ended; subscribing again");
                        subscription = None;
                        pause = Some(Box::pin(tokio::time::sleep(backoff(failures))));
                    }
                },
                () = &mut stop => break,
            }
        }
        // Stop fetching first: what the broker has not handed over stays
        // with it for the other instances, and what the adapter took
        // ahead goes back now rather than after `ack_wait`.
        drop(resubscribing);
        if let Some(deliveries) = subscription.take() {
            self.release_unstarted(deliveries, &mut waiting).await;
        }
        // The messages waiting behind a running one of their key go back
        // only once it is settled (a running call finishes; one waiting to
        // be retried in place is released), in their order.
        let drained = tokio::time::timeout(self.grace, async {
            while let Some(done) = in_flight.next().await {
                finished(done, &mut waiting, &mut releasing, &mut acking, true);
            }
            while let Some(outcome) = acking.next().await {
                acknowledged(&self.binding.queue, outcome);
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                queue = %self.binding.queue,
                abandoned = in_flight.len(),
                acknowledging = acking.len(),
                waiting = waiting.waiting(),
                "shutdown grace elapsed; abandoning in-flight messages, the broker will deliver them again"
            );
            // Abandoned after their key's running message, unsettled like
            // it: released, they could come back before it.
            drop(in_flight);
            drop(waiting.take_waiting());
        }
        let released = tokio::time::timeout(RELEASE_PATIENCE, async {
            while releasing.join_next().await.is_some() {}
        })
        .await;
        if released.is_err() {
            tracing::warn!(queue = %self.binding.queue,
                "releasing the messages waiting behind their key took too long; the broker will deliver them again after ack_wait");
        }
    }

    /// The key `delivery` is ordered by, when the trigger orders by key:
    /// its message's key, else the payload member `partition` names.
    fn key_of(&self, delivery: &dyn Delivery) -> Option<String> {
        if !self.binding.ordered {
            return None;
        }
        let message = delivery.message();
        match (&message.key, &self.binding.key_path) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(path)) => payload_key(&message.payload, path),
            (None, None) => None,
        }
    }

    /// The processing of `delivery`; one of `key` retries in place.
    fn processing(
        &self,
        delivery: Box<dyn Delivery>,
        key: Option<String>,
    ) -> impl Future<Output = Done> + Send + '_ {
        let in_place = key.is_some().then_some(&self.stopped);
        let processing = process(&self.binding, self.broker.as_ref(), delivery, in_place);
        AssertUnwindSafe(processing)
            .catch_unwind()
            .map(move |done| (key, done))
    }

    /// Starts `delivery` (its processing made by `make`, in the `spare`
    /// slot), polled at once: most calls finish in that poll and never
    /// join the set, and their slot serves the next delivery. One of a key
    /// that finishes so starts the next of its key the same way.
    #[allow(clippy::too_many_arguments)] // the loop's state, lent for one start
    async fn start<F, M>(
        &self,
        mut delivery: Box<dyn Delivery>,
        mut key: Option<String>,
        make: &M,
        spare: &mut Slot<F>,
        waiting: &mut Waiting,
        in_flight: &mut FuturesUnordered<Slot<F>>,
        releasing: &mut JoinSet<()>,
        acking: &mut Acking,
    ) where
        F: Future<Output = Done>,
        M: Fn(Box<dyn Delivery>, Option<String>) -> F,
    {
        loop {
            spare.0.set(Some(make(delivery, key)));
            let first = std::future::poll_fn(|cx| {
                Poll::Ready(
                    spare
                        .poll_unpin(cx)
                        .map(|(key, done)| (key, Ok(self.ack_at_once(report(done), cx)))),
                )
            })
            .await;
            let done = match first {
                Poll::Ready(done) => {
                    spare.0.set(None);
                    done
                }
                Poll::Pending => {
                    return in_flight.push(std::mem::replace(spare, Slot::empty()));
                }
            };
            match finished(done, waiting, releasing, acking, *self.stopped.borrow()) {
                Some((next, next_key)) => {
                    delivery = next;
                    key = Some(next_key);
                }
                None => return,
            }
        }
    }
}

impl Runner {
    /// Polls a finished processing's acknowledgement once, in the poll
    /// that finished it: most are done at once (on NATS it is a publish
    /// into the client's buffer) and then never join the set of
    /// acknowledgements waiting for an answer, which would cost an
    /// allocation and a wake-up of their own per message. What is left
    /// is the acknowledgement still waiting.
    fn ack_at_once(
        &self,
        ack: Option<PendingAck>,
        cx: &mut std::task::Context<'_>,
    ) -> Option<PendingAck> {
        let mut ack = ack?;
        match ack.as_mut().poll(cx) {
            Poll::Ready(outcome) => {
                acknowledged(&self.binding.queue, outcome);
                None
            }
            Poll::Pending => Some(ack),
        }
    }
}

/// Reports a finished processing; for a keyed one, the next delivery of
/// its key to start. Once the consumer is `stopping`, none: what waits
/// behind the key is released instead, in order, now that the message
/// before it is settled (released earlier, another instance could run it
/// first).
fn finished(
    (key, done): Done,
    waiting: &mut Waiting,
    releasing: &mut JoinSet<()>,
    acking: &mut Acking,
    stopping: bool,
) -> Option<(Box<dyn Delivery>, String)> {
    if let Some(ack) = report(done) {
        acking.push(ack);
    }
    let key = key?;
    if stopping {
        let behind = waiting.done_all(&key);
        if !behind.is_empty() {
            releasing.spawn(release_in_order(behind));
        }
        return None;
    }
    let next = waiting.done(&key)?;
    Some((next, key))
}

/// Tells the broker every waiting delivery is still wanted.
async fn keep_alive_all(waiting: &Waiting) {
    let outcomes =
        futures_util::future::join_all(waiting.iter_waiting().map(|d| d.keep_alive())).await;
    if let Some(Err(error)) = outcomes.into_iter().find(Result::is_err) {
        tracing::debug!(error = %error, "a keep-alive of a message waiting behind its key failed");
    }
}

/// Releases the deliveries of one key one after the other, in their order.
async fn release_in_order(deliveries: std::collections::VecDeque<Box<dyn Delivery>>) {
    for delivery in deliveries {
        if let Err(error) = delivery.release().await {
            tracing::warn!(error = %error,
                "a message waiting behind its key could not be released; the broker will deliver it again after ack_wait");
        }
    }
}

impl Runner {
    /// Closes the subscription and releases every delivery it had taken
    /// but not handed to this loop, bounded by [`RELEASE_PATIENCE`]: past
    /// it (a broker that stopped answering) the rest come back after
    /// `ack_wait`, as before. One whose key has a message running here
    /// joins the ones waiting behind it instead, to be released after it.
    async fn release_unstarted(&self, deliveries: Deliveries, waiting: &mut Waiting) {
        let queue = &self.binding.queue;
        let taken = match tokio::time::timeout(RELEASE_PATIENCE, deliveries.close()).await {
            Ok(taken) => taken,
            Err(_) => {
                tracing::warn!(queue = %queue,
                    "closing the subscription took too long; the broker will deliver what it had taken ahead again after ack_wait");
                return;
            }
        };
        let mut free = Vec::with_capacity(taken.len());
        for delivery in taken {
            match self.key_of(delivery.as_ref()) {
                Some(key) if waiting.is_active(&key) => {
                    let _ = waiting.admit(&key, delivery);
                }
                _ => free.push(delivery),
            }
        }
        let released = tokio::time::timeout(RELEASE_PATIENCE, async {
            let count = free.len();
            let outcomes = futures_util::future::join_all(
                free.into_iter().map(bisslog_messaging::Delivery::release),
            )
            .await;
            let failed = outcomes.iter().filter(|outcome| outcome.is_err()).count();
            if let Some(Err(error)) = outcomes.into_iter().find(Result::is_err) {
                tracing::warn!(queue = %queue, failed, error = %error,
                    "some unstarted messages could not be released; the broker will deliver them again after ack_wait");
            }
            count - failed
        })
        .await;
        match released {
            Ok(0) => {}
            Ok(released) => {
                tracing::info!(queue = %queue, released, "released the unstarted messages at shutdown");
            }
            Err(_) => tracing::warn!(queue = %queue,
                "releasing the unstarted messages took too long; the broker will deliver them again after ack_wait"),
        }
    }
}

/// How long shutdown may spend closing a subscription and releasing what
/// it had taken ahead.
const RELEASE_PATIENCE: Duration = Duration::from_secs(5);

/// The output of a pending future in a slot; never, while it is empty.
async fn poll_some<F: Future + Unpin>(slot: &mut Option<F>) -> F::Output {
    match slot {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// The next delivery; never, while there is no subscription.
async fn next_delivery(
    subscription: &mut Option<Deliveries>,
) -> Option<Result<Box<dyn bisslog_messaging::Delivery>, BrokerError>> {
    match subscription {
        Some(deliveries) => deliveries.next().await,
        None => std::future::pending().await,
    }
}

/// The wait before going on after the `failures`-th problem in a row.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(100)
        .saturating_mul(1 << failures.min(6))
        .min(Duration::from_secs(5))
}

/// The acknowledgement a processing left to send, after reporting a
/// panic.
fn report(done: Result<Option<PendingAck>, Box<dyn std::any::Any + Send>>) -> Option<PendingAck> {
    done.unwrap_or_else(|_| {
        tracing::error!("processing a message panicked; it will be delivered again");
        None
    })
}

/// Whether some consumer trigger of `metadata` asks for exactly-once.
pub(crate) fn exactly_once_triggers(
    metadata: &bisslog_schema::ServiceMetadata,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (keyname, spec) in &metadata.use_cases {
        for trigger in &spec.triggers {
            if let TriggerKind::Consumer(consumer) = &trigger.kind
                && consumer.delivery_semantic == DeliverySemantic::ExactlyOnce
            {
                found.push((keyname.clone(), consumer.queue.clone()));
            }
        }
    }
    found
}
