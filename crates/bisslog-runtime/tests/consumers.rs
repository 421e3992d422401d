//! The consumer runner's decisions, on the in-process broker: success
//! acknowledges, a transient failure is retried with backoff then
//! dead-lettered, a permanent failure or a malformed message is
//! dead-lettered at once, `at-most-once` never retries, `exactly-once`
//! skips a redelivered message id, and shutdown stops consuming. (The
//! brokers' own contract is `bisslog-testkit`'s conformance suite.)
//!
//! Time is tokio's paused clock: retry delays pass at once, and every wait
//! is on the broker becoming idle, never a sleep.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};

use bisslog_core::{Ctx, Error, ErrorKind, UseCase};
use bisslog_messaging::{Broker, Message, headers};
use bisslog_runtime::messaging::{ConsumerConfig, Consumers, InProcessBroker, RunningConsumers};
use bisslog_runtime::resilience::{Attempt, AttemptError, Interaction, Policy, Retry};
use bisslog_runtime::{MemoryInbox, Service};

const METADATA: &str = "
name: runner
use_cases:
  handle:
    name: handle
    triggers: [{type: consumer, options: {queue: work, max_retries: 2}}]
  once:
    name: once
    triggers: [{type: consumer, options: {queue: once, delivery_semantic: exactly-once}}]
  fragile:
    name: fragile
    triggers: [{type: consumer, options: {queue: fragile, delivery_semantic: at-most-once}}]
  slow:
    name: slow
    triggers:
      - {type: consumer, options: {queue: slow, timeout: 500, max_retries: 1}}
      - {type: consumer, options: {queue: slow.unbounded, max_retries: 0}}
      - {type: consumer, options: {queue: slow.fragile, timeout: 300, delivery_semantic: at-most-once}}
  fetch:
    name: fetch
    external_interactions:
      - keyname: registry
        type_interaction: external_system
        idempotent: true
        retry: {max_attempts: 10, initial_delay: 100ms, max_delay: 10s}
    triggers: [{type: consumer, options: {queue: fetch, timeout: 1000, max_retries: 0}}]
  report:
    name: report
    triggers: [{type: consumer, options: {queue: report, max_retries: 0}}]
";

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Input {
    outcome: String,
}

/// Every call, as `use_case:outcome`.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<String>>>);

impl Calls {
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Does what the message says: `ok`, `invalid` (permanent) or
/// `unavailable` (transient).
struct Obey(&'static str, Calls);

impl UseCase for Obey {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<(), Error> {
        self.1
            .0
            .lock()
            .unwrap()
            .push(format!("{}:{}", self.0, input.outcome));
        match input.outcome.as_str() {
            "ok" => Ok(()),
            "invalid" => Err(Error::invalid("bad-thing", "the thing is bad")),
            _ => Err(Error::new(
                ErrorKind::Unavailable,
                "later",
                "try again later",
            )),
        }
    }
}

/// Never finishes when told to `hang` (then records its cancellation as
/// `slow:cancelled`); else succeeds.
struct Stall(Calls);

/// Records `slow:cancelled` when the call holding it is dropped unfinished.
struct Cancelled(Calls);

impl Drop for Cancelled {
    fn drop(&mut self) {
        self.0.0.lock().unwrap().push("slow:cancelled".to_owned());
    }
}

impl UseCase for Stall {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<(), Error> {
        self.0
            .0
            .lock()
            .unwrap()
            .push(format!("slow:{}", input.outcome));
        if input.outcome == "hang" {
            let _cancelled = Cancelled(self.0.clone());
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

/// Calls a registry that is down, through an interaction retrying 10
/// times from 100 ms, doubling: its attempts are recorded as
/// `fetch:<ms since the first>`.
struct Fetch(Calls, Interaction);

impl UseCase for Fetch {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: Input) -> Result<(), Error> {
        let start = tokio::time::Instant::now();
        self.1
            .call(|attempt: Attempt| {
                self.0
                    .0
                    .lock()
                    .unwrap()
                    .push(format!("fetch:{}", start.elapsed().as_millis()));
                std::future::ready(Err::<(), AttemptError>(
                    Error::new(
                        ErrorKind::Connection,
                        format!("down-{}", attempt.number),
                        "the registry is down",
                    )
                    .into(),
                ))
            })
            .await
    }
}

/// An output JSON cannot hold: encoding it fails.
#[derive(schemars::JsonSchema)]
struct Unencodable(u8);

impl serde::Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(format!(
            "{} is not encodable",
            self.0
        )))
    }
}

/// Does its work, then returns what no consumer reads.
struct Report(Calls);

impl UseCase for Report {
    type Input = Input;
    type Output = Unencodable;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<Unencodable, Error> {
        self.0
            .0
            .lock()
            .unwrap()
            .push(format!("report:{}", input.outcome));
        Ok(Unencodable(7))
    }
}

async fn start() -> (InProcessBroker, Calls, RunningConsumers) {
    start_with(ConsumerConfig::default()).await
}

async fn start_with(config: ConsumerConfig) -> (InProcessBroker, Calls, RunningConsumers) {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let calls = Calls::default();
    let service = Service::builder(metadata)
        .use_case("handle", Obey("handle", calls.clone()))
        .use_case("once", Obey("once", calls.clone()))
        .use_case("fragile", Obey("fragile", calls.clone()))
        .use_case("slow", Stall(calls.clone()))
        .use_case("report", Report(calls.clone()))
        .use_case(
            "fetch",
            Fetch(
                calls.clone(),
                Interaction::new(
                    "registry",
                    Policy {
                        idempotent: true,
                        retry: Some(Retry {
                            max_attempts: 10,
                            initial_delay: std::time::Duration::from_millis(100),
                            max_delay: std::time::Duration::from_secs(10),
                            multiplier: 2.0,
                            jitter: 0.0,
                        }),
                        ..Policy::default()
                    },
                ),
            ),
        )
        // The registry is the interaction `Fetch` makes by hand.
        .blank("registry")
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap();
    let broker = InProcessBroker::new();
    let running = Consumers::new(service, broker.clone())
        .config(config)
        .start()
        .await
        .unwrap();
    (broker, calls, running)
}

/// Waits until `queue` is idle, failing the test after a minute of
/// (paused) time: a call that is never given up would otherwise hold the
/// queue forever.
async fn idle_within_a_minute(broker: &InProcessBroker, queue: &str) {
    let idle = tokio::time::timeout(std::time::Duration::from_secs(60), broker.idle(queue)).await;
    assert!(idle.is_ok(), "`{queue}` still busy after a minute");
}

fn message(outcome: &str) -> Message {
    Message::new(format!(r#"{{"outcome":"{outcome}"}}"#))
}

#[tokio::test(start_paused = true)]
async fn success_is_acknowledged() {
    let (broker, calls, running) = start().await;
    broker.publish("work", &message("ok")).await.unwrap();
    broker.idle("work").await;
    assert_eq!(calls.all(), ["handle:ok"]);
    assert!(broker.messages("work").is_empty());
    assert!(broker.messages("work.dlq").is_empty());
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_message_is_acknowledged_without_encoding_the_output_nobody_reads() {
    let (broker, calls, running) = start().await;
    broker.publish("report", &message("ok")).await.unwrap();
    broker.idle("report").await;
    // Encoded, the output would fail the call after its work was done.
    assert_eq!(calls.all(), ["report:ok"]);
    assert!(broker.messages("report").is_empty());
    assert!(broker.messages("report.dlq").is_empty());
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_retried_then_dead_lettered() {
    let (broker, calls, running) = start().await;
    let started = tokio::time::Instant::now();
    broker
        .publish("work", &message("unavailable"))
        .await
        .unwrap();
    broker.idle("work").await;
    // max_retries: 2, so three deliveries, the retries backing off.
    assert_eq!(calls.all(), ["handle:unavailable"; 3]);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1 + 2));
    let dead = broker.messages("work.dlq");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].header(headers::DEAD_LETTER_CAUSE),
        Some("retries-exhausted")
    );
    assert_eq!(dead[0].header(headers::DEAD_LETTER_ATTEMPTS), Some("3"));
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_permanent_failure_is_dead_lettered_at_once() {
    let (broker, calls, running) = start().await;
    broker.publish("work", &message("invalid")).await.unwrap();
    broker.idle("work").await;
    assert_eq!(calls.all(), ["handle:invalid"]);
    let dead = broker.messages("work.dlq");
    assert_eq!(dead[0].header(headers::DEAD_LETTER_CAUSE), Some("rejected"));
    assert!(
        dead[0]
            .header(headers::DEAD_LETTER_REASON)
            .unwrap()
            .contains("bad-thing")
    );
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_malformed_message_never_reaches_the_use_case() {
    let (broker, calls, running) = start().await;
    broker
        .publish("work", &Message::new(&b"not json"[..]))
        .await
        .unwrap();
    broker
        .publish("work", &Message::new(&br#"{"other":1}"#[..]))
        .await
        .unwrap();
    broker.idle("work").await;
    assert!(calls.all().is_empty());
    let dead = broker.messages("work.dlq");
    assert_eq!(dead.len(), 2);
    for message in &dead {
        assert_eq!(
            message.header(headers::DEAD_LETTER_CAUSE),
            Some("malformed")
        );
    }
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_call_past_its_timeout_is_cancelled_retried_then_dead_lettered() {
    let (broker, calls, running) = start().await;
    let started = tokio::time::Instant::now();
    broker.publish("slow", &message("hang")).await.unwrap();
    broker.publish("slow", &message("quick")).await.unwrap();
    idle_within_a_minute(&broker, "slow").await;
    // `timeout: 500, max_retries: 1`: two attempts, each cancelled; the
    // quick message beside them is not held up.
    let all = calls.all();
    assert_eq!(
        all.iter().filter(|c| *c == "slow:hang").count(),
        2,
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|c| *c == "slow:cancelled").count(),
        2,
        "{all:?}"
    );
    assert_eq!(all.iter().filter(|c| *c == "slow:quick").count(), 1);
    assert!(started.elapsed() >= std::time::Duration::from_millis(500 + 1_000 + 500));
    let dead = broker.messages("slow.dlq");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].header(headers::DEAD_LETTER_CAUSE),
        Some("retries-exhausted")
    );
    assert_eq!(dead[0].header(headers::DEAD_LETTER_ATTEMPTS), Some("2"));
    let reason = dead[0].header(headers::DEAD_LETTER_REASON).unwrap();
    assert!(
        reason.contains("timeout") && reason.contains("500 ms"),
        "{reason}"
    );
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn without_a_timeout_the_runner_default_bounds_a_call() {
    let limit = std::time::Duration::from_secs(2);
    let (broker, calls, running) = start_with(ConsumerConfig::default().call_timeout(limit)).await;
    let started = tokio::time::Instant::now();
    broker
        .publish("slow.unbounded", &message("hang"))
        .await
        .unwrap();
    idle_within_a_minute(&broker, "slow.unbounded").await;
    assert_eq!(calls.all(), ["slow:hang", "slow:cancelled"]);
    assert!(started.elapsed() >= limit);
    let dead = broker.messages("slow.unbounded.dlq");
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .header(headers::DEAD_LETTER_REASON)
            .unwrap()
            .contains("within 2000 ms")
    );
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_at_most_once_call_past_its_timeout_is_cancelled_and_copied_to_dead_letters() {
    let (broker, calls, running) = start().await;
    broker
        .publish("slow.fragile", &message("hang"))
        .await
        .unwrap();
    // Acknowledged before the call: the queue is idle at once, and the
    // copy reaches the dead-letter queue once the timeout has passed.
    let started = tokio::time::Instant::now();
    while broker.messages("slow.fragile.dlq").is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no dead letter after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(calls.all(), ["slow:hang", "slow:cancelled"]);
    let dead = broker.messages("slow.fragile.dlq");
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .header(headers::DEAD_LETTER_REASON)
            .unwrap()
            .contains("within 300 ms")
    );
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn retries_inside_a_call_stop_before_its_timeout() {
    let (broker, calls, running) = start().await;
    broker.publish("fetch", &message("any")).await.unwrap();
    idle_within_a_minute(&broker, "fetch").await;
    // Attempts at 0, 100, 300 and 700 ms; the next, after 800 ms more,
    // would end past the 1,000 ms timeout: the call gives up at once with
    // the last failure instead of being cancelled.
    assert_eq!(
        calls.all(),
        ["fetch:0", "fetch:100", "fetch:300", "fetch:700"]
    );
    let dead = broker.messages("fetch.dlq");
    assert_eq!(dead.len(), 1);
    let reason = dead[0].header(headers::DEAD_LETTER_REASON).unwrap();
    assert!(reason.contains("down-4"), "{reason}");
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn at_most_once_never_retries() {
    let (broker, calls, running) = start().await;
    broker
        .publish("fragile", &message("unavailable"))
        .await
        .unwrap();
    broker.idle("fragile").await;
    assert_eq!(calls.all(), ["fragile:unavailable"]);
    // The failure is only copied to the dead-letter queue.
    assert_eq!(broker.messages("fragile.dlq").len(), 1);
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn exactly_once_skips_a_redelivered_message() {
    let (broker, calls, running) = start().await;
    let mut first = message("ok");
    first.id = "m-1".to_owned();
    broker.publish("once", &first).await.unwrap();
    broker.idle("once").await;
    // The same message id again (a broker redelivering after a lost ack).
    broker.publish("once", &first).await.unwrap();
    broker.idle("once").await;
    assert_eq!(calls.all(), ["once:ok"]);
    assert!(broker.messages("once").is_empty());
    assert!(broker.messages("once.dlq").is_empty());
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_exactly_once_call_is_not_recorded_as_handled() {
    let (broker, calls, running) = start().await;
    let mut failing = message("invalid");
    failing.id = "m-2".to_owned();
    broker.publish("once", &failing).await.unwrap();
    broker.idle("once").await;
    // Its inbox entry was rolled back with the call: a redelivery runs.
    broker.publish("once", &failing).await.unwrap();
    broker.idle("once").await;
    assert_eq!(calls.all(), ["once:invalid", "once:invalid"]);
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn after_shutdown_nothing_is_consumed() {
    let (broker, calls, running) = start().await;
    assert_eq!(running.served().len(), 8);
    running.shutdown().await;
    broker.publish("work", &message("ok")).await.unwrap();
    tokio::task::yield_now().await;
    assert!(calls.all().is_empty());
    assert_eq!(broker.messages("work").len(), 1);
}

/// A broker that keeps the trait's defaults for event queues: it does not
/// support them.
struct CommandsOnly(InProcessBroker);

impl Broker for CommandsOnly {
    fn name(&self) -> &str {
        "commands-only"
    }

    fn provision<'a>(
        &'a self,
        queue: &'a str,
    ) -> bisslog_core::BoxFuture<'a, Result<(), bisslog_messaging::BrokerError>> {
        self.0.provision(queue)
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> bisslog_core::BoxFuture<'a, Result<(), bisslog_messaging::BrokerError>> {
        self.0.publish(queue, message)
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a bisslog_messaging::Subscription,
    ) -> bisslog_core::BoxFuture<
        'a,
        Result<bisslog_messaging::Deliveries, bisslog_messaging::BrokerError>,
    > {
        self.0.subscribe(subscription)
    }
}

const EVENTS: &str = "
name: audit
use_cases:
  record:
    name: record
    triggers: [{type: consumer, options: {queue: orders.created, queue_kind: event}}]
  notify:
    name: notify
    triggers: [{type: consumer, options: {queue: orders.created, queue_kind: event}}]
";

fn event_service(calls: &Calls) -> Service {
    let metadata = bisslog_schema::validate_str("audit.yml", EVENTS)
        .into_service()
        .unwrap();
    Service::builder(metadata)
        .use_case("record", Obey("record", calls.clone()))
        .use_case("notify", Obey("notify", calls.clone()))
        .build()
        .unwrap()
}

/// Consumer triggers of an event queue are refused at start on a broker
/// that does not support events, rather than left to compete.
#[tokio::test]
async fn event_triggers_need_a_broker_with_events() {
    let refused = Consumers::new(
        event_service(&Calls::default()),
        CommandsOnly(InProcessBroker::new()),
    )
    .start()
    .await
    .err()
    .unwrap();
    assert!(
        matches!(
            refused.source,
            bisslog_messaging::BrokerError::Unsupported { .. }
        ),
        "{refused}"
    );
    assert_eq!(refused.queue, "orders.created");
}

/// Two use cases of one service consuming one event queue each get every
/// event: their consumer names differ.
#[tokio::test]
async fn each_consumer_trigger_of_an_event_gets_every_event() {
    let calls = Calls::default();
    let broker = InProcessBroker::new();
    let running = Consumers::new(event_service(&calls), broker.clone())
        .start()
        .await
        .unwrap();
    for _ in 0..3 {
        broker
            .publish_to(
                "orders.created",
                bisslog_messaging::QueueKind::Event,
                &Message::new(&br#"{"outcome":"ok"}"#[..]),
            )
            .await
            .unwrap();
    }
    broker.idle("orders.created").await;
    running.shutdown().await;
    let mut all = calls.all();
    all.sort();
    assert_eq!(
        all,
        [
            "notify:ok",
            "notify:ok",
            "notify:ok",
            "record:ok",
            "record:ok",
            "record:ok"
        ]
    );
}
