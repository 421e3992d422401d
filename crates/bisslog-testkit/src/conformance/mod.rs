//! The conformance suite of broker adapters: one set of cases, run
//! unchanged against every [`Broker`].
//!
//! Each case takes a function that connects a new broker client (the
//! competing-consumers case connects two), uses fresh, uniquely named
//! queues, and panics with what it saw when the broker breaks the
//! contract. [`broker_conformance!`](crate::broker_conformance) expands to
//! one `#[tokio::test]` per case:
//!
//! ```no_run
//! use bisslog_runtime::messaging::InProcessBroker;
//!
//! // One broker shared by every connection: the in-process broker's
//! // "server" is the process.
//! fn shared() -> &'static InProcessBroker {
//!     static BROKER: std::sync::OnceLock<InProcessBroker> = std::sync::OnceLock::new();
//!     BROKER.get_or_init(InProcessBroker::new)
//! }
//!
//! async fn connect() -> InProcessBroker {
//!     shared().clone()
//! }
//!
//! bisslog_testkit::broker_conformance!(connect);
//! ```

mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use bisslog_messaging::{Broker, Message, QueueKind};

use harness::{ACK_WAIT, Case, Trigger, bounded, lock, observe_quiet};

/// The consumer services of the fan-out cases, two instances each:
/// instances 1 and 2 are the first service's, 3 and 4 the second's.
const SERVICES: [(&str, [u32; 2]); 2] = [("conformance-a", [1, 2]), ("conformance-b", [3, 4])];

/// Expands to one `#[tokio::test]` per conformance case, each calling
/// `$connect().await` for its broker clients. The calling crate depends on
/// `tokio` with the `macros` and `rt-multi-thread` features.
///
/// `broker_conformance!(connect, if available)` runs each case only when
/// `available()` is `true` (a server for the adapter is configured); the
/// function says why it skips, as the README promises.
#[macro_export]
macro_rules! broker_conformance {
    ($connect:path) => {
        $crate::broker_conformance!(@all $connect, $crate::conformance::always);
    };
    ($connect:path, if $available:path) => {
        $crate::broker_conformance!(@all $connect, $available);
    };
    (@all $connect:path, $available:path) => {
        $crate::broker_conformance!(@cases $connect, $available;
            acknowledges_success_once,
            retries_transient_failures_then_dead_letters,
            dead_letters_permanent_failures_at_once,
            dead_letters_malformed_messages_with_the_reason,
            a_poison_message_does_not_stall_the_rest,
            settles_every_delivery_exactly_once,
            long_calls_keep_their_lease,
            instances_share_a_queue,
            exactly_once_drops_redeliveries,
            at_most_once_acknowledges_first,
            consumers_are_children_of_the_producer,
            trace_headers_arrive_unchanged,
            shutdown_releases_unstarted_messages,
            keeps_order_per_key,
            events_fan_out_to_every_consumer,
            commands_keep_one_consumer
        );
    };
    (@cases $connect:path, $available:path; $($case:ident),*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if !$available() {
                    return;
                }
                $crate::conformance::$case(|| $connect()).await;
            }
        )*
    };
}

/// Always `true`: the cases of [`broker_conformance!`](crate::broker_conformance)
/// without a condition.
#[doc(hidden)]
pub fn always() -> bool {
    true
}

/// Twenty messages are each processed once and acknowledged once; after a
/// restart and a full lease, none comes back.
pub async fn acknowledges_success_once<B: Broker, F: Future<Output = B>>(connect: impl Fn() -> F) {
    let case = Case::new("ack", connect().await, Trigger::default()).await;
    let running = case.consume().await;
    for n in 0..20 {
        case.publish_n(n, "ok").await;
    }
    case.observed
        .until("20 calls", |o| o.calls().len() >= 20)
        .await;
    bounded("shutdown", running.shutdown()).await;
    // A new instance, then a marker through it, then a whole lease of
    // quiet: an unacknowledged message would be delivered in it.
    let running = case.consume().await;
    case.publish_n(1000, "ok").await;
    case.observed
        .until("the marker", |o| o.calls().iter().any(|c| c.n == 1000))
        .await;
    observe_quiet(ACK_WAIT * 2).await;
    bounded("shutdown", running.shutdown()).await;
    let calls = case.observed.calls();
    let numbers: BTreeSet<u32> = calls.iter().map(|c| c.n).collect();
    assert_eq!(calls.len(), 21, "every message processed once: {calls:?}");
    assert_eq!(numbers.len(), 21);
    assert!(
        calls.iter().all(|c| c.attempt == 1),
        "no redelivery: {calls:?}"
    );
    assert_eq!(case.observed.settlements_of("ack"), 21);
    assert!(case.observed.dead().is_empty());
    case.observed.assert_settled_once();
}

/// A message failing with a transient error is delivered exactly
/// `max_retries + 1` times, then dead-lettered, and stays so.
pub async fn retries_transient_failures_then_dead_letters<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let trigger = Trigger {
        max_retries: 2,
        ..Trigger::default()
    };
    let case = Case::new("retries", connect().await, trigger).await;
    let running = case.consume().await;
    let sent = case.publish_n(7, "transient").await;
    case.observed
        .until("the dead letter", |o| !o.dead().is_empty())
        .await;
    let attempts: Vec<u32> = case.observed.calls().iter().map(|c| c.attempt).collect();
    assert_eq!(attempts, [1, 2, 3], "max_retries + 1 deliveries");
    let dead = case.observed.dead();
    let letter = &dead[0];
    assert_eq!(letter.id, sent.id);
    assert_eq!(letter.payload, sent.payload);
    assert_eq!(
        letter.header("dead-letter-cause"),
        Some("retries-exhausted")
    );
    assert_eq!(letter.header("dead-letter-attempts"), Some("3"));
    assert_eq!(
        letter.header("dead-letter-queue"),
        Some(case.queue.as_str())
    );
    assert!(
        letter
            .header("dead-letter-reason")
            .is_some_and(|r| r.contains("the store is down")),
        "{letter:?}"
    );
    observe_quiet(Duration::from_secs(1)).await;
    assert_eq!(
        case.observed.calls().len(),
        3,
        "still 3 deliveries a second later"
    );
    assert_eq!(
        case.observed.dead().len(),
        1,
        "still one dead letter a second later"
    );
    bounded("shutdown", running.shutdown()).await;
    case.observed.assert_settled_once();
}

/// A permanent error (not found) goes to the dead-letter queue on the
/// first delivery.
pub async fn dead_letters_permanent_failures_at_once<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let case = Case::new("permanent", connect().await, Trigger::default()).await;
    let running = case.consume().await;
    case.publish_n(1, "permanent").await;
    case.observed
        .until("the dead letter", |o| !o.dead().is_empty())
        .await;
    let letter = &case.observed.dead()[0];
    assert_eq!(letter.header("dead-letter-cause"), Some("rejected"));
    assert_eq!(letter.header("dead-letter-attempts"), Some("1"));
    assert!(
        letter
            .header("dead-letter-reason")
            .is_some_and(|r| r.starts_with("no-such-thing:")),
        "{letter:?}"
    );
    observe_quiet(Duration::from_millis(500)).await;
    assert_eq!(case.observed.calls().len(), 1, "never retried");
    bounded("shutdown", running.shutdown()).await;
    case.observed.assert_settled_once();
}

/// A payload that is not JSON, and one that is not the use case's input,
/// go to the dead-letter queue untouched, with the reason in a header; the
/// use case never runs.
pub async fn dead_letters_malformed_messages_with_the_reason<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let case = Case::new("malformed", connect().await, Trigger::default()).await;
    let running = case.consume().await;
    let not_json = case.publish(&b"this is not JSON \xff"[..]).await;
    let wrong_shape = case.publish(&br#"{"n": "seven"}"#[..]).await;
    case.observed
        .until("two dead letters", |o| o.dead().len() >= 2)
        .await;
    let dead: BTreeMap<String, Message> = case
        .observed
        .dead()
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    let letter = &dead[&not_json.id];
    assert_eq!(
        letter.payload, not_json.payload,
        "the payload is kept byte for byte"
    );
    assert_eq!(letter.header("dead-letter-cause"), Some("malformed"));
    assert!(
        letter
            .header("dead-letter-reason")
            .is_some_and(|r| r.contains("UTF-8") || r.contains("JSON")),
        "{letter:?}"
    );
    let letter = &dead[&wrong_shape.id];
    assert_eq!(letter.header("dead-letter-cause"), Some("malformed"));
    assert!(
        letter
            .header("dead-letter-reason")
            .is_some_and(|r| r.contains("`n`")),
        "the reason names the field: {letter:?}"
    );
    assert!(case.observed.calls().is_empty(), "the use case never ran");
    bounded("shutdown", running.shutdown()).await;
    case.observed.assert_settled_once();
}

/// With one message processed at a time, a message that keeps failing
/// waits for its retries aside while the 100 behind it are processed.
pub async fn a_poison_message_does_not_stall_the_rest<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let trigger = Trigger {
        max_retries: 2,
        retry_delay: 1,
        batch_size: 1,
        ..Trigger::default()
    };
    let case = Case::new("poison", connect().await, trigger).await;
    let running = case.consume().await;
    case.publish_n(0, "transient").await;
    for n in 1..=100 {
        case.publish_n(n, "ok").await;
    }
    case.observed
        .until("the 100 good messages", |o| {
            o.calls().iter().filter(|c| c.succeeded).count() >= 100
        })
        .await;
    assert!(
        case.observed.dead().is_empty(),
        "the 100 were done before the poison message's retries (1 s, then 2 s) ran out"
    );
    case.observed
        .until("the poison's dead letter", |o| !o.dead().is_empty())
        .await;
    let poison = case.observed.calls().iter().filter(|c| c.n == 0).count();
    assert_eq!(poison, 3);
    bounded("shutdown", running.shutdown()).await;
    case.observed.assert_settled_once();
}

/// 200 messages of every outcome, 8 at a time: every delivery is settled
/// exactly once and every message acknowledged exactly once.
pub async fn settles_every_delivery_exactly_once<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let trigger = Trigger {
        max_retries: 1,
        batch_size: 8,
        ..Trigger::default()
    };
    let case = Case::new("settle", connect().await, trigger).await;
    let running = case.consume().await;
    let behaviours = ["ok", "transient", "permanent", "fail-first"];
    for n in 0..200u32 {
        case.publish_n(n, behaviours[n as usize % 4]).await;
    }
    // ok: 50 acks; fail-first: 50 retries + 50 acks; permanent: 50 dead
    // letters; transient: 50 retries + 50 dead letters.
    case.observed
        .until("every message settled", |o| {
            o.dead().len() >= 100 && o.settlements_of("ack") >= 200
        })
        .await;
    bounded("shutdown", running.shutdown()).await;
    assert_eq!(case.observed.settlements_of("ack"), 200);
    assert_eq!(case.observed.settlements_of("retry"), 100);
    assert_eq!(case.observed.settlements_of("abandoned"), 0);
    case.observed.assert_settled_once();
}

/// A call longer than the lease keeps its delivery: it is not given to
/// anyone else meanwhile.
pub async fn long_calls_keep_their_lease<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let case = Case::new("lease", connect().await, Trigger::default()).await;
    let running = case.consume().await;
    let millis = (ACK_WAIT * 3).as_millis();
    case.publish(format!(r#"{{"n":1,"behave":"slow","millis":{millis}}}"#))
        .await;
    case.observed
        .until("the slow call", |o| !o.calls().is_empty())
        .await;
    observe_quiet(ACK_WAIT).await;
    bounded("shutdown", running.shutdown()).await;
    let calls = case.observed.calls();
    assert_eq!(calls.len(), 1, "delivered once: {calls:?}");
    assert_eq!(case.observed.settlements_of("ack"), 1);
    case.observed.assert_settled_once();
}

/// Two instances (two broker clients) with the same consumer name share
/// one queue: each message is processed once, by one of them.
pub async fn instances_share_a_queue<B: Broker, F: Future<Output = B>>(connect: impl Fn() -> F) {
    let trigger = Trigger {
        batch_size: 1,
        ..Trigger::default()
    };
    let case = Case::new("share", connect().await, trigger).await;
    let first = case.consume_on(connect().await, 1).await;
    let second = case.consume_on(connect().await, 2).await;
    for n in 0..100u32 {
        case.publish(format!(r#"{{"n":{n},"behave":"slow","millis":5}}"#))
            .await;
    }
    case.observed
        .until("100 calls", |o| o.calls().len() >= 100)
        .await;
    bounded("shutdown", first.shutdown()).await;
    bounded("shutdown", second.shutdown()).await;
    let calls = case.observed.calls();
    let numbers: BTreeSet<u32> = calls.iter().map(|c| c.n).collect();
    assert_eq!(
        (calls.len(), numbers.len()),
        (100, 100),
        "each message once"
    );
    let by_first = calls.iter().filter(|c| c.instance == 1).count();
    assert!(
        by_first > 0 && by_first < 100,
        "both instances took work: the first did {by_first} of 100"
    );
    case.observed.assert_settled_once();
}

/// `exactly-once`: a message whose acknowledgement was lost after its
/// effect committed is delivered again and has no second effect; a failed
/// attempt's inbox entry is rolled back, so its retry runs.
pub async fn exactly_once_drops_redeliveries<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let trigger = Trigger {
        semantic: "exactly-once",
        batch_size: 1,
        ..Trigger::default()
    };
    let case = Case::new("inbox", connect().await, trigger).await;
    let running = case.consume().await;
    let once = case.publish_losing_first_ack(1).await;
    let flaky = case.publish_n(2, "fail-first").await;
    case.observed
        .until("both messages acknowledged", |o| {
            o.settlements_of("ack") >= 2
        })
        .await;
    bounded("shutdown", running.shutdown()).await;
    let calls = case.observed.calls();
    let succeeded: Vec<(u32, u32)> = calls
        .iter()
        .filter(|c| c.succeeded)
        .map(|c| (c.n, c.attempt))
        .collect();
    assert_eq!(succeeded, [(1, 1), (2, 2)], "one effect each: {calls:?}");
    assert!(
        calls
            .iter()
            .any(|c| c.message_id == flaky.id && !c.succeeded)
    );
    let settled: Vec<&str> = case
        .observed
        .settlements
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|s| s.message_id == once.id && s.how != "keep-alive")
        .map(|s| s.how)
        .collect();
    assert_eq!(
        settled,
        ["ack-lost", "ack"],
        "delivered again, skipped by the inbox"
    );
    case.observed.assert_settled_once();
}

/// `at-most-once`: acknowledged before the call, never retried; a failure
/// leaves a copy in the dead-letter queue.
pub async fn at_most_once_acknowledges_first<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let trigger = Trigger {
        semantic: "at-most-once",
        max_retries: 0,
        ..Trigger::default()
    };
    let case = Case::new("at_most_once", connect().await, trigger).await;
    let running = case.consume().await;
    case.publish_n(1, "transient").await;
    case.publish_n(2, "ok").await;
    case.observed
        .until("the dead letter", |o| !o.dead().is_empty())
        .await;
    case.observed
        .until("both calls", |o| o.calls().len() >= 2)
        .await;
    observe_quiet(Duration::from_millis(500)).await;
    bounded("shutdown", running.shutdown()).await;
    assert_eq!(case.observed.calls().len(), 2, "never retried");
    assert_eq!(case.observed.settlements_of("ack"), 2);
    assert_eq!(case.observed.settlements_of("retry"), 0);
    case.observed.assert_settled_once();
}

/// The consumer's transaction is a child of the producer's: the message's
/// `transaction-id` header is the call's parent.
pub async fn consumers_are_children_of_the_producer<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    let case = Case::new("parent", connect().await, Trigger::default()).await;
    let running = case.consume().await;
    let sent = case.publish_n(1, "ok").await;
    case.observed
        .until("the call", |o| !o.calls().is_empty())
        .await;
    bounded("shutdown", running.shutdown()).await;
    let call = &case.observed.calls()[0];
    assert_eq!(call.parent.as_deref(), Some("producer-transaction"));
    assert_eq!(
        call.message_id, sent.id,
        "the message id reaches the use case"
    );
    case.observed.assert_settled_once();
}

/// A message's trace headers arrive unchanged: the `traceparent` and
/// `tracestate` a producer sent are the trace the consumer's call continues
/// (no tracer: passed on as they are), and a dead-lettered copy keeps them.
pub async fn trace_headers_arrive_unchanged<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    use bisslog_core::trace::{TRACEPARENT, TRACESTATE};
    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const STATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    let trigger = Trigger {
        max_retries: 0,
        ..Trigger::default()
    };
    let case = Case::new("trace", connect().await, trigger).await;
    let running = case.consume().await;
    for (n, behave) in [(1, "ok"), (2, "permanent")] {
        let mut message = Message::new(format!(r#"{{"n":{n},"behave":"{behave}"}}"#));
        message
            .headers
            .push((TRACEPARENT.to_owned(), PARENT.to_owned()));
        message
            .headers
            .push((TRACESTATE.to_owned(), STATE.to_owned()));
        case.publish_message(&message).await;
    }
    case.observed
        .until("both calls and the dead letter", |o| {
            o.calls().len() >= 2 && !o.dead().is_empty()
        })
        .await;
    bounded("shutdown", running.shutdown()).await;
    let expected = Some((PARENT.to_owned(), Some(STATE.to_owned())));
    for call in case.observed.calls() {
        assert_eq!(call.trace, expected, "message {}", call.n);
    }
    let dead = &case.observed.dead()[0];
    assert_eq!(dead.header(TRACEPARENT), Some(PARENT));
    assert_eq!(dead.header(TRACESTATE), Some(STATE));
    case.observed.assert_settled_once();
}

/// Shutdown hands back what a consumer took ahead and never started:
/// with 200 messages, a concurrency of 4, a prefetch of 256 and every
/// call blocked, shutting the consumer down leaves its 4 calls to finish
/// and releases the rest, which a second instance with a 30-second lease
/// receives well within that lease (not after it, as an abandoned
/// delivery would be). Each message is processed once.
pub async fn shutdown_releases_unstarted_messages<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    const MESSAGES: u32 = 200;
    const LEASE: Duration = Duration::from_secs(30);
    let case = Case::new("release", connect().await, Trigger::default()).await;
    let concurrency = Trigger::default().batch_size as usize;
    let first = case.consume_leased(connect().await, 1, LEASE).await;
    for n in 0..MESSAGES {
        case.publish_n(n, "gated").await;
    }
    case.observed
        .until("the first instance's calls at the gate", |o| {
            *lock(&o.gated) >= concurrency
        })
        .await;
    let since = tokio::time::Instant::now();
    let stopping = tokio::spawn(first.shutdown());
    let second = case.consume_leased(connect().await, 2, LEASE).await;
    let rest = MESSAGES as usize - concurrency;
    case.observed
        .until_within(
            "the unstarted messages at the second instance",
            LEASE / 3,
            |o| o.calls().iter().filter(|c| c.instance == 2).count() >= rest,
        )
        .await;
    let took = since.elapsed();
    case.observed.gate.open();
    bounded("the first instance's shutdown", stopping)
        .await
        .unwrap_or_else(|e| panic!("the shutdown panicked: {e}"));
    bounded("shutdown", second.shutdown()).await;
    let calls = case.observed.calls();
    let numbers: BTreeSet<u32> = calls.iter().map(|c| c.n).collect();
    assert_eq!(
        (calls.len(), numbers.len()),
        (MESSAGES as usize, MESSAGES as usize),
        "each message processed once: {calls:?}"
    );
    let by_first = calls.iter().filter(|c| c.instance == 1).count();
    assert_eq!(
        by_first, concurrency,
        "the first instance finished what it had started"
    );
    assert_eq!(case.observed.settlements_of("ack"), MESSAGES as usize);
    assert_eq!(case.observed.settlements_of("abandoned"), 0);
    case.observed.assert_deliveries_settled_once();
    eprintln!(
        "{}: {} unstarted messages released; the second instance had all {rest} remaining {took:?} after shutdown began",
        case.broker.name(),
        case.observed.settlements_of("release"),
    );
}

/// A trigger with `partition` keeps the order of each key, retries
/// included, and runs different keys side by side: 1,000 messages over 50
/// keys, published in order, every 7th failing (transiently) on its first
/// delivery, one call (the second message) outlasting the lease twice over,
/// 8 at a time. Per key, the use case's successful calls are in publish
/// order, no two calls of one key ever overlap, two keys were seen running
/// at once, no message went back to the broker for its retry (it was
/// retried in place, holding its key), and none was delivered twice: the
/// messages waiting behind the slow call kept their leases.
pub async fn keeps_order_per_key<B: Broker, F: Future<Output = B>>(connect: impl Fn() -> F) {
    const MESSAGES: u32 = 1_000;
    const KEYS: u32 = 50;
    let trigger = Trigger {
        batch_size: 8,
        max_retries: 3,
        partition: Some("conformance_order"),
        ..Trigger::default()
    };
    let case = Case::new("order", connect().await, trigger).await;
    let running = case.consume().await;
    let mut published: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for n in 0..MESSAGES {
        let key = format!("key-{}", n % KEYS);
        let (behave, millis) = if n % 7 == 0 {
            ("keyed-fail-first", 0)
        } else if n == 1 {
            ("keyed-slow", (ACK_WAIT * 5 / 2).as_millis() as u64)
        } else {
            ("keyed", 0)
        };
        case.publish_keyed(n, behave, millis, &key).await;
        published.entry(key).or_default().push(n);
    }
    case.observed
        .until("every message handled", |o| {
            o.calls().iter().filter(|c| c.succeeded).count() >= MESSAGES as usize
        })
        .await;
    bounded("shutdown", running.shutdown()).await;
    let calls = case.observed.calls();
    let mut seen: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for call in calls.iter().filter(|c| c.succeeded) {
        seen.entry(call.key.clone()).or_default().push(call.n);
    }
    for (key, order) in &published {
        assert_eq!(
            seen.get(key),
            Some(order),
            "the successful calls of {key} are in publish order"
        );
    }
    let failed: Vec<(u32, u32)> = calls
        .iter()
        .filter(|c| !c.succeeded)
        .map(|c| (c.n, c.attempt))
        .collect();
    assert_eq!(
        failed.len(),
        MESSAGES.div_ceil(7) as usize,
        "every 7th failed once: {failed:?}"
    );
    assert!(
        failed
            .iter()
            .all(|(n, attempt)| n % 7 == 0 && *attempt == 1)
    );
    let keyed = lock(&case.observed.keyed);
    assert!(
        keyed.same_key_overlaps.is_empty(),
        "calls of one key overlapped: {:?}",
        keyed.same_key_overlaps
    );
    assert!(keyed.most_at_once >= 2, "two keys ran at once");
    assert_eq!(
        case.observed.settlements_of("retry"),
        0,
        "retried in place, not through the broker"
    );
    assert_eq!(case.observed.settlements_of("ack"), MESSAGES as usize);
    assert!(case.observed.dead().is_empty());
    case.observed.assert_settled_once();
    eprintln!(
        "{}: {MESSAGES} messages over {KEYS} keys in order per key; at most {} keys at once",
        case.broker.name(),
        keyed.most_at_once
    );
}

/// Starts two instances of each of the two [`SERVICES`] on the case's
/// queue, each instance on a broker client of its own.
async fn two_services<B: Broker, F: Future<Output = B>>(
    case: &Case,
    connect: &impl Fn() -> F,
) -> Vec<bisslog_runtime::messaging::RunningConsumers> {
    let mut running = Vec::new();
    for (service, instances) in SERVICES {
        for instance in instances {
            running.push(
                case.consume_as(service, connect().await, instance, ACK_WAIT)
                    .await,
            );
        }
    }
    running
}

/// How many times each service processed each message number
/// successfully.
fn per_service(case: &Case) -> BTreeMap<&'static str, BTreeMap<u32, usize>> {
    let mut seen: BTreeMap<&'static str, BTreeMap<u32, usize>> = BTreeMap::new();
    for call in case.observed.calls().into_iter().filter(|c| c.succeeded) {
        let Some((service, _)) = SERVICES.iter().find(|(_, i)| i.contains(&call.instance)) else {
            continue;
        };
        *seen.entry(service).or_default().entry(call.n).or_default() += 1;
    }
    seen
}

/// An event queue consumed by two services of two instances each: every
/// event is processed exactly once by each service (by one of its
/// instances), however the instances share the work; an event that fails
/// once is retried (after a delay) within each service's copy, reaching
/// neither service twice. Skipped, saying so, on brokers that do not
/// [support events](Broker::supports_events).
pub async fn events_fan_out_to_every_consumer<B: Broker, F: Future<Output = B>>(
    connect: impl Fn() -> F,
) {
    const EVENTS: u32 = 40;
    let trigger = Trigger {
        queue_kind: QueueKind::Event,
        retry_delay: 1,
        ..Trigger::default()
    };
    let case = Case::new("fan-out", connect().await, trigger).await;
    if !case.broker.supports_events() {
        eprintln!(
            "skipped: the {} broker does not support event queues (Broker::supports_events)",
            case.broker.name()
        );
        return;
    }
    let running = two_services(&case, &connect).await;
    for n in 0..EVENTS {
        let behave = if n % 10 == 0 { "fail-first" } else { "ok" };
        case.publish_n(n, behave).await;
    }
    let every = |_: &harness::Observed| {
        per_service(&case)
            .values()
            .map(BTreeMap::len)
            .sum::<usize>()
            >= 2 * EVENTS as usize
    };
    case.observed
        .until("every event in both services", every)
        .await;
    // A whole lease of quiet: a copy delivered twice, or to the other
    // service's instances only, would show in it.
    observe_quiet(ACK_WAIT * 2).await;
    for running in running {
        bounded("shutdown", running.shutdown()).await;
    }
    let seen = per_service(&case);
    for (service, _) in SERVICES {
        let counts = seen.get(service).cloned().unwrap_or_default();
        let expected: BTreeMap<u32, usize> = (0..EVENTS).map(|n| (n, 1)).collect();
        assert_eq!(
            counts, expected,
            "{service} processes each event exactly once"
        );
    }
    assert!(case.observed.dead().is_empty());
    // Each event is acknowledged once per service, so twice in all; the
    // failing ones were retried once per service.
    case.observed.assert_deliveries_settled_once();
    assert_eq!(case.observed.settlements_of("ack"), 2 * EVENTS as usize);
    assert_eq!(
        case.observed.settlements_of("retry"),
        2 * EVENTS.div_ceil(10) as usize
    );
}

/// A command queue keeps today's semantics when a second service (a
/// second consumer name) consumes it too: the broker either refuses the
/// second consumer at start (JetStream's work queues allow one consumer
/// per subject) or lets the two compete (RabbitMQ, the in-process
/// broker); either way each message is processed exactly once in all.
pub async fn commands_keep_one_consumer<B: Broker, F: Future<Output = B>>(connect: impl Fn() -> F) {
    const COMMANDS: u32 = 40;
    let case = Case::new("commands", connect().await, Trigger::default()).await;
    let mut running = Vec::new();
    for (service, instances) in SERVICES {
        for instance in instances {
            match case
                .try_consume_as(service, connect().await, instance, ACK_WAIT)
                .await
            {
                Ok(consumers) => running.push(consumers),
                Err(refused) if service != SERVICES[0].0 => {
                    assert!(
                        matches!(
                            refused.source,
                            bisslog_messaging::BrokerError::Provisioning { .. }
                        ),
                        "a second consumer of a command queue is refused as a provisioning error: {refused}"
                    );
                }
                Err(error) => panic!("starting the consumers: {error}"),
            }
        }
    }
    for n in 0..COMMANDS {
        case.publish_n(n, "ok").await;
    }
    case.observed
        .until("every command", |o| {
            o.calls().iter().map(|c| c.n).collect::<BTreeSet<_>>().len() >= COMMANDS as usize
        })
        .await;
    observe_quiet(ACK_WAIT * 2).await;
    for running in running {
        bounded("shutdown", running.shutdown()).await;
    }
    let calls = case.observed.calls();
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for call in &calls {
        *counts.entry(call.n).or_default() += 1;
    }
    let expected: BTreeMap<u32, usize> = (0..COMMANDS).map(|n| (n, 1)).collect();
    assert_eq!(
        counts, expected,
        "each command processed once across both services: {calls:?}"
    );
    case.observed.assert_settled_once();
}
