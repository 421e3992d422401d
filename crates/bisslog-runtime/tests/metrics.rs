//! The service's metrics, read back from the exposition text after real
//! calls: direct calls, consumers on the in-process broker, schedules on
//! tokio's paused clock.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bisslog_core::{Ctx, Error, ErrorKind, Trigger, UseCase};
use bisslog_messaging::{Broker, Message};
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::messaging::{ConsumerConfig, Consumers, InProcessBroker, RunningConsumers};
use bisslog_runtime::schedule::{Clock, Schedules};
use bisslog_runtime::{MemoryInbox, Service};
use tokio::sync::Notify;

/// The value of the one series named `name` whose labels include all of
/// `labels` and no other than `service` and those; `None` when absent.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, number) = line.rsplit_once(' ').unwrap();
        let (series_name, set) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if series_name != name {
            continue;
        }
        let set: BTreeMap<&str, &str> = set
            .split("\",")
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once("=\"").unwrap();
                (k, v.trim_end_matches('"'))
            })
            .collect();
        let mut wanted: BTreeMap<&str, &str> = labels.iter().copied().collect();
        wanted.insert("service", set.get("service").copied().unwrap_or("?"));
        if set == wanted {
            assert!(found.is_none(), "two series match {name}{labels:?}");
            found = Some(number.parse().unwrap());
        }
    }
    found
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Input {
    outcome: String,
}

/// Does what the input says: `ok`, `invalid`, `not_found` (permanent),
/// `unavailable` (transient), or `wait` for the gate.
#[derive(Clone, Default)]
struct Obey(Arc<Notify>);

impl UseCase for Obey {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<(), Error> {
        match input.outcome.as_str() {
            "ok" => Ok(()),
            "wait" => {
                self.0.notified().await;
                Ok(())
            }
            "invalid" => Err(Error::invalid("bad", "bad input")),
            "not_found" => Err(Error::new(ErrorKind::NotFound, "gone", "not there")),
            _ => Err(Error::new(ErrorKind::Unavailable, "later", "try later")),
        }
    }
}

const METADATA: &str = "
name: shop
use_cases:
  order:
    criticality: high
    triggers:
      - {type: http, options: {method: post, path: /orders}}
      - {type: consumer, options: {queue: orders, max_retries: 1}}
  once:
    triggers: [{type: consumer, options: {queue: once, delivery_semantic: exactly-once}}]
";

fn service(gate: &Obey) -> Service {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    Service::builder(metadata)
        .use_case("order", gate.clone())
        .use_case("once", gate.clone())
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap()
}

fn input(outcome: &str) -> Mapped<'static> {
    Mapped::Owned(serde_json::json!({ "outcome": outcome }))
}

fn http() -> Ctx {
    Ctx::new("order", Trigger::Http)
}

#[tokio::test]
async fn calls_are_counted_by_outcome_and_error_kind_and_timed() {
    let gate = Obey::default();
    let service = service(&gate);
    let order = service.use_case("order").unwrap();
    for outcome in ["ok", "ok", "ok", "invalid", "not_found", "not_found"] {
        let _ = order.call(http(), &input(outcome)).await;
    }
    let text = service.metrics().unwrap().encode();
    let calls = "bisslog_use_case_calls_total";
    let base = [
        ("use_case", "order"),
        ("trigger", "http"),
        ("criticality", "high"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut labels = base.to_vec();
        labels.extend_from_slice(extra);
        labels
    };
    assert_eq!(
        value(&text, calls, &with(&[("outcome", "success")])),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            calls,
            &with(&[("outcome", "failure"), ("error_kind", "invalid")])
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            calls,
            &with(&[("outcome", "failure"), ("error_kind", "not_found")])
        ),
        Some(2.0)
    );
    let duration = "bisslog_use_case_duration_seconds_count";
    assert_eq!(
        value(&text, duration, &with(&[("outcome", "success")])),
        Some(3.0)
    );
    assert_eq!(
        value(&text, duration, &with(&[("outcome", "failure")])),
        Some(3.0)
    );
    let mut bucket = with(&[("outcome", "success")]);
    bucket.push(("le", "10.0"));
    assert_eq!(
        value(&text, "bisslog_use_case_duration_seconds_bucket", &bucket),
        Some(3.0)
    );
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_in_flight",
            &[("use_case", "order"), ("trigger", "http")]
        ),
        Some(0.0)
    );
    assert!(text.contains(r#"service="shop""#), "{text}");
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn a_call_at_an_earlier_instant_is_timed_from_it() {
    // An entry point that read the clock already (for its timeout) passes
    // that reading: the call's duration counts from it, not from the call.
    let gate = Obey::default();
    let service = service(&gate);
    let order = service.use_case("order").unwrap();
    let two_seconds_ago = std::time::Instant::now()
        .checked_sub(Duration::from_secs(2))
        .unwrap();
    order
        .call_at(http(), &input("ok"), two_seconds_ago)
        .await
        .unwrap();
    let text = service.metrics().unwrap().encode();
    let labels = |le: &'static str| {
        vec![
            ("use_case", "order"),
            ("trigger", "http"),
            ("criticality", "high"),
            ("outcome", "success"),
            ("le", le),
        ]
    };
    let bucket = "bisslog_use_case_duration_seconds_bucket";
    assert_eq!(value(&text, bucket, &labels("1.0")), Some(0.0), "{text}");
    assert_eq!(value(&text, bucket, &labels("2.5")), Some(1.0), "{text}");
    let sum = value(
        &text,
        "bisslog_use_case_duration_seconds_sum",
        &labels("")[..4],
    )
    .unwrap();
    assert!((2.0..2.5).contains(&sum), "{sum}");
}

#[tokio::test]
async fn a_call_is_in_flight_until_it_ends_or_is_dropped() {
    let gate = Obey::default();
    let service = service(&gate);
    let order = service.use_case("order").unwrap().clone();
    let in_flight = |service: &Service| {
        value(
            &service.metrics().unwrap().encode(),
            "bisslog_use_case_in_flight",
            &[("use_case", "order"), ("trigger", "http")],
        )
    };
    let running = tokio::spawn(order.call(http(), &input("wait")));
    // Polled until it waits on the gate: a yield per step, bounded.
    for _ in 0..1000 {
        if in_flight(&service) == Some(1.0) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(in_flight(&service), Some(1.0));
    gate.0.notify_one();
    running.await.unwrap().unwrap();
    assert_eq!(in_flight(&service), Some(0.0));

    // A future dropped before it ends (the client went away).
    let dropped = order.call(http(), &input("wait"));
    assert_eq!(in_flight(&service), Some(1.0));
    drop(dropped);
    assert_eq!(in_flight(&service), Some(0.0));
}

#[tokio::test]
async fn a_service_built_without_metrics_has_none() {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let service = Service::builder(metadata)
        .use_case("order", Obey::default())
        .use_case("once", Obey::default())
        .unit_of_work(MemoryInbox::new())
        .metrics(false)
        .build()
        .unwrap();
    assert!(service.metrics().is_none());
    assert!(service.use_case("order").unwrap().metrics().is_none());
}

/// The service's consumers, started on a new in-process broker.
async fn consuming(service: &Service) -> (InProcessBroker, RunningConsumers) {
    let broker = InProcessBroker::new();
    let running = Consumers::new(service.clone(), broker.clone())
        .config(ConsumerConfig::default())
        .start()
        .await
        .unwrap();
    (broker, running)
}

fn message(outcome: &str) -> Message {
    Message::new(format!(r#"{{"outcome":"{outcome}"}}"#))
}

#[tokio::test(start_paused = true)]
async fn consumers_count_received_retried_redelivered_dead_lettered_and_duplicates() {
    let gate = Obey::default();
    let service = service(&gate);
    let (broker, running) = consuming(&service).await;
    for outcome in ["ok", "invalid", "unavailable"] {
        broker.publish("orders", &message(outcome)).await.unwrap();
    }
    broker
        .publish("orders", &Message::new(&b"not json"[..]))
        .await
        .unwrap();
    broker.idle("orders").await;
    let mut twice = message("ok");
    twice.id = "m-1".to_owned();
    broker.publish("once", &twice).await.unwrap();
    broker.idle("once").await;
    broker.publish("once", &twice).await.unwrap();
    broker.idle("once").await;
    running.shutdown().await;

    let text = service.metrics().unwrap().encode();
    let orders = [("queue", "orders"), ("use_case", "order")];
    let count = |name: &str, extra: &[(&'static str, &'static str)]| {
        let mut labels = orders.to_vec();
        labels.extend_from_slice(extra);
        value(&text, name, &labels)
    };
    // ok, invalid, unavailable twice (max_retries: 1), not json.
    assert_eq!(
        count("bisslog_consumer_messages_received_total", &[]),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        count("bisslog_consumer_messages_retried_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        count("bisslog_consumer_messages_redelivered_total", &[]),
        Some(1.0)
    );
    for (reason, expected) in [
        ("permanent", 1.0),
        ("malformed", 1.0),
        ("attempts_exhausted", 1.0),
    ] {
        assert_eq!(
            count(
                "bisslog_consumer_messages_dead_lettered_total",
                &[("reason", reason)]
            ),
            Some(expected),
            "{reason}"
        );
    }
    assert_eq!(count("bisslog_consumer_in_flight", &[]), Some(0.0));
    assert_eq!(
        value(
            &text,
            "bisslog_inbox_duplicates_total",
            &[("queue", "once"), ("use_case", "once")]
        ),
        Some(1.0)
    );
    // The use case saw the consumer trigger: ok once, then the others.
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_calls_total",
            &[
                ("use_case", "order"),
                ("trigger", "consumer"),
                ("outcome", "failure"),
                ("criticality", "high"),
                ("error_kind", "unavailable"),
            ]
        ),
        Some(2.0)
    );
}

/// A consumer call given up at its trigger's `timeout` is a failure of
/// kind `timeout` in the use case's series, each attempt, timed at the
/// limit; without that a use case whose every call hangs shows no calls.
#[tokio::test(start_paused = true)]
async fn a_consumer_call_given_up_at_its_timeout_counts_as_a_timeout_failure() {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "
name: shop
use_cases:
  order:
    criticality: high
    triggers:
      - {type: consumer, options: {queue: orders, max_retries: 1, timeout: 250}}
",
    )
    .into_service()
    .unwrap();
    let gate = Obey::default();
    let service = Service::builder(metadata)
        .use_case("order", gate.clone())
        .build()
        .unwrap();
    let (broker, running) = consuming(&service).await;
    // Never let through: both attempts run into the timeout.
    broker.publish("orders", &message("wait")).await.unwrap();
    broker.idle("orders").await;
    running.shutdown().await;

    let text = service.metrics().unwrap().encode();
    let labels = |extra: &[(&'static str, &'static str)]| {
        let mut labels = vec![
            ("use_case", "order"),
            ("trigger", "consumer"),
            ("criticality", "high"),
        ];
        labels.extend_from_slice(extra);
        labels
    };
    let failure = [("outcome", "failure")];
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_calls_total",
            &labels(&[("outcome", "failure"), ("error_kind", "timeout")])
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_duration_seconds_count",
            &labels(&failure)
        ),
        Some(2.0)
    );
    // Timed at the limit: 0.25 s each.
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_duration_seconds_sum",
            &labels(&failure)
        ),
        Some(0.5)
    );
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_in_flight",
            &[("use_case", "order"), ("trigger", "consumer")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &text,
            "bisslog_consumer_messages_dead_lettered_total",
            &[
                ("queue", "orders"),
                ("use_case", "order"),
                ("reason", "attempts_exhausted")
            ]
        ),
        Some(1.0)
    );
}

#[tokio::test(start_paused = true)]
async fn schedules_count_runs_skips_and_misfires() {
    #[derive(Clone)]
    struct Slow;
    impl UseCase for Slow {
        type Input = serde_json::Value;
        type Output = ();
        type Error = Error;
        async fn run(&self, _: &Ctx, _: serde_json::Value) -> Result<(), Error> {
            tokio::time::sleep(Duration::from_secs(7 * 60)).await;
            Ok(())
        }
    }
    let yaml = "name: janitor\nuse_cases:\n  tick:\n    triggers:\n      - {type: schedule, options: {cronjob: \"*/5 * * * *\"}}\n";
    let metadata = bisslog_schema::validate_str("metadata.yml", yaml)
        .into_service()
        .unwrap();
    let service = Service::builder(metadata)
        .use_case("tick", Slow)
        .build()
        .unwrap();
    let start: jiff::Timestamp = "2026-05-01T00:02:00Z".parse().unwrap();
    let schedules = Schedules::new(service.clone())
        .clock(Clock::simulated(start, 1))
        .start()
        .unwrap();
    // Ticks at :05 .. :30; each run takes 7 minutes, so every other one
    // finds the previous still running (overlap_policy: skip).
    tokio::time::sleep(Duration::from_secs(30 * 60)).await;
    schedules.shutdown().await;
    let text = service.metrics().unwrap().encode();
    let ticks = |result| {
        value(
            &text,
            "bisslog_schedule_ticks_total",
            &[("use_case", "tick"), ("result", result)],
        )
    };
    assert_eq!(ticks("run"), Some(3.0), "{text}");
    assert_eq!(ticks("skipped"), Some(3.0));
    assert_eq!(ticks("misfired"), Some(0.0));
    let last: jiff::Timestamp = "2026-05-01T00:25:00Z".parse().unwrap();
    assert_eq!(
        value(
            &text,
            "bisslog_schedule_last_tick_timestamp_seconds",
            &[("use_case", "tick")]
        ),
        Some(last.as_second() as f64)
    );
}

#[tokio::test]
async fn nested_calls_are_counted_under_the_call_trigger() {
    struct Outer;
    impl UseCase for Outer {
        type Input = bisslog_core::NoInput;
        type Output = ();
        type Error = Error;
        async fn run(&self, ctx: &Ctx, _: bisslog_core::NoInput) -> Result<(), Error> {
            ctx.call(&Inner, bisslog_core::NoInput).await?;
            // A failing callee: its kind is counted, the caller carries on.
            let _ = ctx.call(&Failing, bisslog_core::NoInput).await;
            Ok(())
        }
    }
    struct Inner;
    impl UseCase for Inner {
        type Input = bisslog_core::NoInput;
        type Output = ();
        type Error = Error;
        async fn run(&self, _: &Ctx, _: bisslog_core::NoInput) -> Result<(), Error> {
            Ok(())
        }
    }
    struct Failing;
    impl UseCase for Failing {
        type Input = bisslog_core::NoInput;
        type Output = ();
        type Error = Error;
        async fn run(&self, _: &Ctx, _: bisslog_core::NoInput) -> Result<(), Error> {
            Err(Error::new(ErrorKind::Conflict, "taken", "already there"))
        }
    }
    let yaml = "name: nest\nuse_cases:\n  outer:\n    triggers: [{type: http, options: {method: post, path: /outer}}]\n  inner:\n    criticality: low\n  failing: {}\n";
    let metadata = bisslog_schema::validate_str("metadata.yml", yaml)
        .into_service()
        .unwrap();
    let service = Service::builder(metadata)
        .use_case("outer", Outer)
        .use_case("inner", Inner)
        .use_case("failing", Failing)
        .build()
        .unwrap();
    let outer = service.use_case("outer").unwrap();
    outer
        .call(Ctx::new("outer", Trigger::Http), &Mapped::object())
        .await
        .unwrap();
    let text = service.metrics().unwrap().encode();
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_calls_total",
            &[
                ("use_case", "inner"),
                ("trigger", "call"),
                ("outcome", "success"),
                ("criticality", "low"),
            ]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "bisslog_use_case_calls_total",
            &[
                ("use_case", "failing"),
                ("trigger", "call"),
                ("outcome", "failure"),
                ("criticality", "medium"),
                ("error_kind", "conflict"),
            ]
        ),
        Some(1.0)
    );
}

/// The in-process broker, telling a fixed backlog age for `orders` only.
struct TellingAge(InProcessBroker);

impl Broker for TellingAge {
    fn name(&self) -> &str {
        "telling"
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
    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> bisslog_core::BoxFuture<'a, Result<Option<Duration>, bisslog_messaging::BrokerError>> {
        let age = (queue == "orders").then_some(Duration::from_secs(42));
        Box::pin(std::future::ready(Ok(age)))
    }
}

#[tokio::test(start_paused = true)]
async fn the_oldest_unacked_age_comes_from_brokers_that_tell_it() {
    let gate = Obey::default();
    let service = service(&gate);
    let running = Consumers::new(service.clone(), TellingAge(InProcessBroker::new()))
        .config(ConsumerConfig::default().backlog_interval(Duration::from_secs(15)))
        .start()
        .await
        .unwrap();
    let gauge = |text: &str, queue: &str| {
        value(
            text,
            "bisslog_consumer_oldest_unacked_age_seconds",
            &[("queue", queue)],
        )
    };
    // The first reading is taken at once; a bounded wait on the paused clock.
    let mut text = String::new();
    for _ in 0..100 {
        text = service.metrics().unwrap().encode();
        if gauge(&text, "orders").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gauge(&text, "orders"), Some(42.0), "{text}");
    // A broker that cannot tell leaves no series behind.
    assert_eq!(gauge(&text, "once"), None, "{text}");
    running.shutdown().await;
}
