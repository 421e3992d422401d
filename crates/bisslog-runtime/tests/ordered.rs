//! Order by key (`partition`), on the in-process broker: a keyed message
//! that fails transiently is retried in place while the later ones of its
//! key wait and other keys go on; the key can come from the payload
//! (`partition: event.<path>`); shutdown gives a retrying head back before
//! what waits behind it, in order; and what the runner holds is bounded by
//! the prefetch. (The brokers' side is `keeps_order_per_key` in
//! `bisslog-testkit`'s conformance suite.)

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bisslog_core::{Ctx, Error, ErrorKind, UseCase};
use bisslog_messaging::{Broker, Message};
use bisslog_runtime::Service;
use bisslog_runtime::messaging::{ConsumerConfig, Consumers, InProcessBroker, RunningConsumers};
use tokio::sync::watch;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Input {
    #[serde(default)]
    account: String,
    n: u32,
    outcome: String,
    attempt: u32,
}

/// Every call, as `account n @attempt outcome`.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<String>>>);

impl Calls {
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// The calls of `account`.
    fn of(&self, account: &str) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|c| c.starts_with(&format!("{account} ")))
            .collect()
    }
}

/// Does what the message says: `ok`, `flaky` (unavailable on the first
/// attempt), `down` (always unavailable) or `gated` (waits for the gate).
struct Record {
    calls: Calls,
    gate: watch::Receiver<bool>,
}

impl UseCase for Record {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<(), Error> {
        if input.outcome == "gated" {
            let _ = self.gate.clone().wait_for(|open| *open).await;
        }
        self.calls.0.lock().unwrap().push(format!(
            "{} {} @{} {}",
            input.account, input.n, input.attempt, input.outcome
        ));
        let unavailable = match input.outcome.as_str() {
            "flaky" => input.attempt == 1,
            "down" => true,
            _ => false,
        };
        if unavailable {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "later",
                "try again later",
            ));
        }
        Ok(())
    }
}

struct Running {
    broker: InProcessBroker,
    calls: Calls,
    gate: watch::Sender<bool>,
    consumers: RunningConsumers,
}

async fn start(options: &str, config: ConsumerConfig) -> Running {
    let metadata = format!(
        "name: ordered
use_cases:
  handle:
    name: handle
    triggers:
      - type: consumer
        options:
          queue: orders
          {options}
          mapper:
            event.account: account
            event.n: n
            event.outcome: outcome
            context.attempt: attempt
"
    );
    let metadata = bisslog_schema::validate_str("metadata.yml", &metadata)
        .into_service()
        .unwrap();
    let calls = Calls::default();
    let (gate, opened) = watch::channel(false);
    let service = Service::builder(metadata)
        .use_case(
            "handle",
            Record {
                calls: calls.clone(),
                gate: opened,
            },
        )
        .build()
        .unwrap();
    let broker = InProcessBroker::new();
    let consumers = Consumers::new(service, broker.clone())
        .config(config)
        .start()
        .await
        .unwrap();
    Running {
        broker,
        calls,
        gate,
        consumers,
    }
}

/// `{"account": account, "n": n, "outcome": outcome}`, keyed by `key`.
fn message(account: &str, n: u32, outcome: &str, key: Option<&str>) -> Message {
    let mut message = Message::new(format!(
        r#"{{"account":"{account}","n":{n},"outcome":"{outcome}"}}"#
    ));
    message.key = key.map(str::to_owned);
    message
}

/// Waits, for at most 10 s, until `check` holds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_keyed_retry_runs_in_place_and_holds_back_its_key_only() {
    let running = start(
        "partition: event.account\n          batch_size: 4\n          max_retries: 2\n          retry_delay: 1",
        ConsumerConfig::default(),
    )
    .await;
    let broker = &running.broker;
    // No key header: the key is the payload's `account`.
    for (account, n, outcome) in [
        ("a", 1, "flaky"),
        ("a", 2, "ok"),
        ("b", 1, "ok"),
        ("a", 3, "ok"),
    ] {
        broker
            .publish("orders", &message(account, n, outcome, None))
            .await
            .unwrap();
    }
    broker.idle("orders").await;
    assert_eq!(
        running.calls.of("a"),
        ["a 1 @1 flaky", "a 1 @2 flaky", "a 2 @1 ok", "a 3 @1 ok"],
        "a 2 and a 3 waited for a 1's retry"
    );
    let all = running.calls.all();
    let b = all.iter().position(|c| c == "b 1 @1 ok").unwrap();
    let retried = all.iter().position(|c| c == "a 1 @2 flaky").unwrap();
    assert!(b < retried, "b was not held back by a's retry: {all:?}");
    assert!(broker.messages("orders.dlq").is_empty());
    running.consumers.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_keyed_call_that_never_finishes_gives_its_key_back_after_its_retries() {
    let running = start(
        "partition: event.account\n          batch_size: 4\n          max_retries: 1\n          retry_delay: 1\n          timeout: 500",
        ConsumerConfig::default(),
    )
    .await;
    let broker = &running.broker;
    let started = tokio::time::Instant::now();
    // `a 1` waits for a gate nobody opens: without a timeout it would hold
    // key `a` (and `a 2` behind it) forever.
    for (account, n, outcome) in [("a", 1, "gated"), ("a", 2, "ok"), ("b", 1, "ok")] {
        broker
            .publish("orders", &message(account, n, outcome, None))
            .await
            .unwrap();
    }
    let idle = tokio::time::timeout(Duration::from_secs(60), broker.idle("orders")).await;
    assert!(idle.is_ok(), "key `a` still held after a minute");
    assert_eq!(running.calls.of("a"), ["a 2 @1 ok"]);
    assert_eq!(running.calls.of("b"), ["b 1 @1 ok"]);
    // Two attempts of 500 ms each and the retry's second between them.
    assert!(started.elapsed() >= Duration::from_millis(500 + 1_000 + 500));
    let dead = broker.messages("orders.dlq");
    assert_eq!(
        dead.len(),
        1,
        "a 1 is dead-lettered once its retry timed out"
    );
    assert!(dead[0].payload.starts_with(br#"{"account":"a","n":1"#));
    assert!(
        dead[0]
            .header(bisslog_messaging::headers::DEAD_LETTER_REASON)
            .unwrap()
            .contains("within 500 ms")
    );
    running.consumers.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_message_key_comes_before_the_payload_member() {
    let running = start(
        "partition: event.account\n          batch_size: 4\n          max_retries: 2\n          retry_delay: 1",
        ConsumerConfig::default(),
    )
    .await;
    let broker = &running.broker;
    // Keyed `k` by header, whatever the payload says: `y 2` waits for `x 1`.
    broker
        .publish("orders", &message("x", 1, "flaky", Some("k")))
        .await
        .unwrap();
    broker
        .publish("orders", &message("y", 2, "ok", Some("k")))
        .await
        .unwrap();
    broker.idle("orders").await;
    assert_eq!(
        running.calls.all(),
        ["x 1 @1 flaky", "x 1 @2 flaky", "y 2 @1 ok"]
    );
    running.consumers.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn without_partition_a_retry_goes_back_to_the_broker() {
    let running = start(
        "batch_size: 1\n          max_retries: 2\n          retry_delay: 1",
        ConsumerConfig::default(),
    )
    .await;
    let broker = &running.broker;
    for (n, outcome) in [(1, "flaky"), (2, "ok")] {
        broker
            .publish("orders", &message("a", n, outcome, Some("a")))
            .await
            .unwrap();
    }
    broker.idle("orders").await;
    assert_eq!(
        running.calls.all(),
        ["a 1 @1 flaky", "a 2 @1 ok", "a 1 @2 flaky"],
        "today's behaviour: the retry comes back after the later message"
    );
    running.consumers.shutdown().await;
}

#[tokio::test]
async fn shutdown_gives_back_a_retrying_head_before_its_key_in_order() {
    let running = start(
        "partition: orders_by_account\n          batch_size: 4\n          max_retries: 3\n          retry_delay: 60",
        ConsumerConfig::default().shutdown_grace(Duration::from_secs(10)),
    )
    .await;
    let broker = &running.broker;
    let sent: Vec<Message> = [
        ("a", 1, "down"),
        ("a", 2, "ok"),
        ("b", 1, "ok"),
        ("a", 3, "ok"),
    ]
    .into_iter()
    .map(|(account, n, outcome)| message(account, n, outcome, Some(account)))
    .collect();
    for message in &sent {
        broker.publish("orders", message).await.unwrap();
    }
    let calls = running.calls.clone();
    until("a 1's first attempt and b 1", || calls.all().len() >= 2).await;
    // a 1 now waits a minute for its retry, a 2 and a 3 behind it.
    let since = tokio::time::Instant::now();
    running.consumers.shutdown().await;
    assert!(
        since.elapsed() < Duration::from_secs(5),
        "the retry's wait ended at shutdown"
    );
    let mut ran = calls.all();
    ran.sort();
    assert_eq!(ran, ["a 1 @1 down", "b 1 @1 ok"]);
    let left: Vec<String> = broker
        .messages("orders")
        .into_iter()
        .map(|m| m.id)
        .collect();
    let expected: Vec<String> = [&sent[0], &sent[1], &sent[3]]
        .iter()
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(left, expected, "a 1, a 2, a 3 back in the queue, in order");
}

#[tokio::test]
async fn the_messages_held_are_bounded_by_the_prefetch() {
    let running = start(
        "partition: orders_by_account\n          batch_size: 2",
        ConsumerConfig::default().prefetch(4),
    )
    .await;
    let broker = &running.broker;
    broker
        .publish("orders", &message("hot", 0, "gated", Some("hot")))
        .await
        .unwrap();
    for n in 1..20 {
        broker
            .publish("orders", &message("hot", n, "ok", Some("hot")))
            .await
            .unwrap();
    }
    // One running at the gate, three waiting behind it: the other 16 stay
    // with the broker.
    until("4 messages taken", || broker.messages("orders").len() <= 16).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // a quiet window: nothing more is taken
    assert_eq!(broker.messages("orders").len(), 16);
    assert!(running.calls.all().is_empty());
    running.gate.send_replace(true);
    broker.idle("orders").await;
    let order: Vec<String> = running.calls.all();
    let expected: Vec<String> = (0..20)
        .map(|n| format!("hot {n} @1 {}", if n == 0 { "gated" } else { "ok" }))
        .collect();
    assert_eq!(order, expected);
    running.consumers.shutdown().await;
}
