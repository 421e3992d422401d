//! What the Redis broker promises beyond the conformance suite: plain
//! Redis clients feed and read bisslog's streams, every consumer name
//! (service) gets every message while the instances of one share them, a
//! crashed consumer's entries are claimed after the lease, a retry's
//! delay holds and stays within its group, and the backlog is measured.
//! Against `BISSLOG_TEST_REDIS_URL` (skipped when unset outside CI).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use bisslog_messaging::{Broker, Deliveries, Delivery, Message, QueueKind, Subscription};
use bisslog_redis::RedisBroker;
use futures_util::StreamExt as _;
use tokio::time::{Instant, timeout};

/// How long any wait for the server may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

fn subscription(queue: &str, consumer: &str, ack_wait: Duration) -> Subscription {
    Subscription {
        queue: queue.to_owned(),
        consumer: consumer.to_owned(),
        prefetch: 1,
        ack_wait,
        provision: true,
        // A group per consumer name, as for an event: the tests read
        // with several names side by side.
        kind: QueueKind::Event,
    }
}

async fn next(deliveries: &mut Deliveries) -> Box<dyn Delivery> {
    match timeout(PATIENCE, deliveries.next()).await {
        Ok(Some(Ok(delivery))) => delivery,
        Ok(Some(Err(e))) => panic!("the subscription failed: {e}"),
        Ok(None) => panic!("the subscription ended"),
        Err(_) => panic!("no delivery within {PATIENCE:?}"),
    }
}

/// Nothing is delivered within `window` (asserting an absence).
async fn nothing_within(deliveries: &mut Deliveries, window: Duration) {
    if let Ok(Some(item)) = timeout(window, deliveries.next()).await {
        let what = item.map(|d| d.message().id.clone());
        panic!("expected nothing within {window:?}, got {what:?}");
    }
}

#[tokio::test]
async fn a_plain_xadd_feeds_a_consumer_and_a_plain_group_reads_bisslogs_events() {
    if !support::available() {
        return;
    }
    let broker = support::connect().await;
    let queue = support::unique_queue("interop");
    let mut deliveries = broker
        .subscribe(&subscription(&queue, "svc-reader", Duration::from_secs(30)))
        .await
        .unwrap();
    let mut conn = broker.connection();
    let entry: String = redis::cmd("XADD")
        .arg(&queue)
        .arg("*")
        .arg("body")
        .arg(r#"{"id":7}"#)
        .arg("message-id")
        .arg("order-7")
        .arg("traceparent")
        .arg("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .query_async(&mut conn)
        .await
        .unwrap();
    let delivery = next(&mut deliveries).await;
    assert_eq!(delivery.message().id, "order-7");
    assert_eq!(&delivery.message().payload[..], br#"{"id":7}"#);
    assert_eq!(delivery.attempt(), 1);
    assert!(delivery.message().trace_context().is_some());
    delivery.ack().await.unwrap();

    // Without `body` and `message-id`: the fields as JSON, a stable id.
    let foreign: String = redis::cmd("XADD")
        .arg(&queue)
        .arg("*")
        .arg("id")
        .arg("8")
        .query_async(&mut conn)
        .await
        .unwrap();
    let delivery = next(&mut deliveries).await;
    assert_eq!(delivery.message().id, format!("{queue}:{foreign}"));
    assert_eq!(&delivery.message().payload[..], br#"{"id":"8"}"#);
    delivery.ack().await.unwrap();

    // A group of another program reads what bisslog publishes, from the
    // stream's start.
    let mut published =
        Message::new(&br#"{"id":9}"#[..]).with_header("content-type", "application/json");
    published.event_type = Some("order-placed".into());
    broker.publish(&queue, &published).await.unwrap();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&queue)
        .arg("reporting")
        .arg("0")
        .query_async(&mut conn)
        .await
        .unwrap();
    let read: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("reporting")
        .arg("r1")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(&queue)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    let entries = entries_of(read);
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[0].0, entry);
    let last = &entries[2].1;
    assert_eq!(last["body"], r#"{"id":9}"#);
    assert_eq!(last["message-id"], published.id);
    assert_eq!(last["event-type"], "order-placed");
    assert_eq!(last["content-type"], "application/json");
    drop(deliveries);
    support::delete_keys(&broker, &[queue]).await;
}

/// The entries of an `XREADGROUP` answer: ids and fields.
fn entries_of(answer: redis::Value) -> Vec<(String, BTreeMap<String, String>)> {
    let text = |v: &redis::Value| match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not a string: {other:?}"),
    };
    let items = |v: redis::Value| match v {
        redis::Value::Array(items) => items,
        other => panic!("not an array: {other:?}"),
    };
    let mut out = Vec::new();
    for stream in items(answer) {
        let mut stream = items(stream).into_iter();
        let _name = stream.next();
        for entry in items(stream.next().unwrap()) {
            let entry = items(entry);
            let fields = items(entry[1].clone());
            let fields = fields
                .chunks(2)
                .map(|kv| (text(&kv[0]), text(&kv[1])))
                .collect();
            out.push((text(&entry[0]), fields));
        }
    }
    out
}

#[tokio::test]
async fn every_consumer_name_gets_every_message_and_instances_of_one_share_them() {
    if !support::available() {
        return;
    }
    let lease = Duration::from_secs(30);
    let publisher = support::connect().await;
    let queue = support::unique_queue("fan-out");
    publisher.provision(&queue).await.unwrap();
    // Two services: `billing` with two instances, `audit` with one.
    let (billing_1, billing_2, audit) = (
        support::connect().await,
        support::connect().await,
        support::connect().await,
    );
    let b1 = billing_1
        .subscribe(&subscription(&queue, "billing-charge", lease))
        .await
        .unwrap();
    let b2 = billing_2
        .subscribe(&subscription(&queue, "billing-charge", lease))
        .await
        .unwrap();
    let a = audit
        .subscribe(&subscription(&queue, "audit-record", lease))
        .await
        .unwrap();
    const MESSAGES: usize = 40;
    let mut sent = Vec::new();
    for n in 0..MESSAGES {
        let message = Message::new(format!(r#"{{"n":{n}}}"#));
        publisher.publish(&queue, &message).await.unwrap();
        sent.push(message.id);
    }
    sent.sort();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(&'static str, String)>();
    let mut readers = Vec::new();
    for (name, mut deliveries) in [("billing-1", b1), ("billing-2", b2), ("audit", a)] {
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(delivery)) = deliveries.next().await {
                let id = delivery.message().id.clone();
                delivery.ack().await.unwrap();
                if tx.send((name, id)).is_err() {
                    break;
                }
            }
        }));
    }
    let mut got: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let deadline = Instant::now() + PATIENCE;
    while got.values().map(Vec::len).sum::<usize>() < 2 * MESSAGES {
        let (name, id) = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out; so far: {got:?}"))
            .unwrap();
        got.entry(name).or_default().push(id);
    }
    let mut audit_ids = got.remove("audit").unwrap_or_default();
    audit_ids.sort();
    assert_eq!(audit_ids, sent, "audit got every message once");
    let first = got.remove("billing-1").unwrap_or_default();
    let second = got.remove("billing-2").unwrap_or_default();
    assert!(
        !first.is_empty() && !second.is_empty(),
        "both billing instances took work: {} and {}",
        first.len(),
        second.len()
    );
    let mut billing_ids: Vec<String> = first.into_iter().chain(second).collect();
    billing_ids.sort();
    assert_eq!(billing_ids, sent, "billing got every message once, shared");
    for reader in readers {
        reader.abort();
    }
    support::delete_keys(&publisher, &[queue]).await;
}

#[tokio::test]
async fn a_crashed_consumers_message_is_claimed_by_another_after_the_lease() {
    if !support::available() {
        return;
    }
    let lease = Duration::from_millis(800);
    let queue = support::unique_queue("crash");
    let crashing = support::connect().await;
    let mut first = crashing
        .subscribe(&subscription(&queue, "svc-work", lease))
        .await
        .unwrap();
    let message = Message::new(&br#"{"n":1}"#[..]);
    crashing.publish(&queue, &message).await.unwrap();
    let taken = next(&mut first).await;
    let taken_at = Instant::now();
    assert_eq!(
        (taken.message().id.as_str(), taken.attempt()),
        (message.id.as_str(), 1)
    );
    // The instance dies holding it: nothing settled, nothing released.
    drop(taken);
    drop(first);
    drop(crashing);

    let survivor = support::connect().await;
    let mut second = survivor
        .subscribe(&subscription(&queue, "svc-work", lease))
        .await
        .unwrap();
    let again = next(&mut second).await;
    let waited = taken_at.elapsed();
    assert_eq!(again.message().id, message.id);
    assert_eq!(again.attempt(), 2, "the claim counts a delivery");
    assert!(
        waited >= lease.mul_f32(0.9),
        "claimed only once the lease ran out, not after {waited:?}"
    );
    again.ack().await.unwrap();
    nothing_within(&mut second, lease * 2).await;
    assert_eq!(survivor.depth(&queue).await.unwrap(), Some(0));
    drop(second);
    support::delete_keys(&survivor, &[queue]).await;
}

#[tokio::test]
async fn a_retry_waits_its_delay_within_its_group_and_counts_an_attempt() {
    if !support::available() {
        return;
    }
    let lease = Duration::from_millis(400);
    let broker = support::connect().await;
    let queue = support::unique_queue("retry");
    let mut work = broker
        .subscribe(&subscription(&queue, "svc-work", lease))
        .await
        .unwrap();
    let mut other = broker
        .subscribe(&subscription(&queue, "svc-other", lease))
        .await
        .unwrap();
    let message = Message::new(&br#"{"n":1}"#[..]);
    broker.publish(&queue, &message).await.unwrap();
    next(&mut other).await.ack().await.unwrap();
    let delivery = next(&mut work).await;
    let delay = Duration::from_millis(1500);
    let retried_at = Instant::now();
    delivery.retry(delay).await.unwrap();
    // Longer than the lease: a parked retry is not an expired lease.
    let again = next(&mut work).await;
    let waited = retried_at.elapsed();
    assert!(waited >= delay.mul_f32(0.9), "redelivered after {waited:?}");
    assert_eq!((again.message(), again.attempt()), (&message, 2));
    again.ack().await.unwrap();
    nothing_within(&mut other, Duration::from_millis(300)).await;
    assert_eq!(broker.depth(&queue).await.unwrap(), Some(0));
    drop((work, other));
    support::delete_keys(
        &broker,
        &[queue.clone(), RedisBroker::delayed_key(&queue, "svc-work")],
    )
    .await;
}

#[tokio::test]
async fn the_backlog_counts_what_the_slowest_group_has_not_acknowledged() {
    if !support::available() {
        return;
    }
    let broker = support::connect().await;
    let queue = support::unique_queue("depth");
    assert!(matches!(
        broker.depth(&queue).await,
        Err(bisslog_messaging::BrokerError::NoQueue { .. })
    ));
    broker.provision(&queue).await.unwrap();
    broker.provision(&queue).await.unwrap();
    assert_eq!(broker.depth(&queue).await.unwrap(), Some(0));
    assert_eq!(
        broker.oldest_unacked_age(&queue).await.unwrap(),
        Some(Duration::ZERO)
    );
    for n in 0..3 {
        broker
            .publish(&queue, &Message::new(format!(r#"{{"n":{n}}}"#)))
            .await
            .unwrap();
    }
    let mut deliveries = broker
        .subscribe(&subscription(&queue, "svc-depth", Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(broker.depth(&queue).await.unwrap(), Some(3));
    next(&mut deliveries).await.ack().await.unwrap();
    let unacked = next(&mut deliveries).await;
    // One acknowledged, one pending, one not delivered yet.
    assert_eq!(broker.depth(&queue).await.unwrap(), Some(2));
    let age = broker.oldest_unacked_age(&queue).await.unwrap();
    assert!(age.is_some_and(|a| a < PATIENCE), "{age:?}");
    unacked.ack().await.unwrap();
    drop(deliveries);
    support::delete_keys(&broker, &[queue]).await;
}

#[tokio::test]
async fn publishing_needs_the_stream_and_provisioning_refuses_other_keys() {
    if !support::available() {
        return;
    }
    let broker = support::connect().await;
    let queue = support::unique_queue("missing");
    let error = broker
        .publish(&queue, &Message::new(&b"{}"[..]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, bisslog_messaging::BrokerError::NoQueue { .. }),
        "{error}"
    );
    let mut conn = broker.connection();
    let _: () = redis::cmd("SET")
        .arg(&queue)
        .arg("a string")
        .query_async(&mut conn)
        .await
        .unwrap();
    let error = broker.provision(&queue).await.unwrap_err();
    assert!(error.to_string().contains("not a stream"), "{error}");
    let mut without = subscription(&queue, "svc-x", Duration::from_secs(1));
    without.provision = false;
    support::delete_keys(&broker, std::slice::from_ref(&queue)).await;
    let error = broker.subscribe(&without).await.err().unwrap();
    assert!(
        matches!(error, bisslog_messaging::BrokerError::Provisioning { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn the_consumers_of_gone_instances_are_removed_from_their_group() {
    if !support::available() {
        return;
    }
    let queue = support::unique_queue("sweep");
    let group = "svc-sweep";
    let broker = support::connect().await;
    broker.provision(&queue).await.unwrap();
    let mut conn = broker.connection();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&queue)
        .arg(group)
        .arg("0")
        .query_async(&mut conn)
        .await
        .unwrap();
    // A gone instance's consumer, and an operator's.
    for consumer in ["bisslog-gone", "operator"] {
        let _: i64 = redis::cmd("XGROUP")
            .arg("CREATECONSUMER")
            .arg(&queue)
            .arg(group)
            .arg(consumer)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    // Idle longer than the threshold (20 ms), as the server counts it.
    let forget_after = Duration::from_millis(20);
    let deadline = Instant::now() + PATIENCE;
    while consumers(&broker, &queue, group).await["bisslog-gone"] <= forget_after {
        assert!(Instant::now() < deadline, "the consumer never got idle");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let config = bisslog_redis::RedisConfig::default().forget_consumers_after(forget_after);
    let sweeper = config.connect(&support::url()).await.unwrap();
    let mut deliveries = sweeper
        .subscribe(&subscription(&queue, group, Duration::from_secs(30)))
        .await
        .unwrap();
    // The subscription's first fetch sweeps, then reads.
    let reading = tokio::spawn(async move { while deliveries.next().await.is_some() {} });
    let deadline = Instant::now() + PATIENCE;
    let names = loop {
        let names: Vec<String> = consumers(&broker, &queue, group)
            .await
            .into_keys()
            .collect();
        if !names.contains(&"bisslog-gone".to_owned()) {
            break names;
        }
        assert!(Instant::now() < deadline, "never removed: {names:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(names.contains(&"operator".to_owned()), "{names:?}");
    reading.abort();
    support::delete_keys(&broker, &[queue]).await;
}

/// The consumers of a group, with how long each has been idle.
async fn consumers(broker: &RedisBroker, queue: &str, group: &str) -> BTreeMap<String, Duration> {
    let mut conn = broker.connection();
    let answer: Vec<BTreeMap<String, redis::Value>> = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(queue)
        .arg(group)
        .query_async(&mut conn)
        .await
        .unwrap();
    answer
        .into_iter()
        .map(|fields| {
            let name = match &fields["name"] {
                redis::Value::BulkString(name) => String::from_utf8_lossy(name).into_owned(),
                other => panic!("{other:?}"),
            };
            let idle = match fields["idle"] {
                redis::Value::Int(ms) => Duration::from_millis(u64::try_from(ms).unwrap()),
                ref other => panic!("{other:?}"),
            };
            (name, idle)
        })
        .collect()
}

#[tokio::test]
async fn max_len_trims_the_stream_approximately_and_nothing_else_does() {
    if !support::available() {
        return;
    }
    let queue = support::unique_queue("max-len");
    let untrimmed = support::connect().await;
    untrimmed.provision(&queue).await.unwrap();
    let trimming = bisslog_redis::RedisBroker::connect(&format!("{}?max_len=10", support::url()))
        .await
        .unwrap();
    assert_eq!(trimming.config().max_len, Some(10));
    let length = |broker: RedisBroker, queue: String| async move {
        redis::cmd("XLEN")
            .arg(&queue)
            .query_async::<u64>(&mut broker.connection())
            .await
            .unwrap()
    };
    for n in 0..300 {
        untrimmed
            .publish(&queue, &Message::new(format!(r#"{{"n":{n}}}"#)))
            .await
            .unwrap();
    }
    assert_eq!(length(untrimmed.clone(), queue.clone()).await, 300);
    for n in 0..300 {
        trimming
            .publish(&queue, &Message::new(format!(r#"{{"n":{n}}}"#)))
            .await
            .unwrap();
    }
    // `~`: Redis trims whole nodes (100 entries by default), so about 10
    // is at most a node or two.
    let trimmed = length(untrimmed.clone(), queue.clone()).await;
    assert!((10..=200).contains(&trimmed), "{trimmed} entries left");
    support::delete_keys(&untrimmed, &[queue]).await;
}

#[tokio::test]
async fn the_next_read_is_sent_when_half_of_the_last_is_handed_out() {
    if !support::available() {
        return;
    }
    let queue = support::unique_queue("read-ahead");
    let broker = support::connect().await;
    broker.provision(&queue).await.unwrap();
    for n in 0..30 {
        let message = Message::new(format!(r#"{{"n":{n}}}"#));
        broker.publish(&queue, &message).await.unwrap();
    }
    let mut reading = subscription(&queue, "svc-read-ahead", Duration::from_secs(30));
    // Reads of ten.
    reading.prefetch = 20;
    let mut deliveries = broker.subscribe(&reading).await.unwrap();
    let mut handed = Vec::new();
    for _ in 0..4 {
        handed.push(next(&mut deliveries).await);
    }
    // Six left of the first read: no second read yet. Handing out the
    // fifth leaves five: the second read is sent; closing waits for it and
    // hands back what is left of the first read and all of the second.
    handed.push(next(&mut deliveries).await);
    let taken = deliveries.close().await;
    assert_eq!(
        taken.len(),
        15,
        "five of the first read and ten of the second"
    );
    let mut ids: Vec<String> = handed
        .iter()
        .chain(taken.iter())
        .map(|d| d.message().id.clone())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 20, "every entry read once, in stream order");
    for delivery in handed.into_iter().chain(taken) {
        delivery.ack().await.unwrap();
    }
    support::delete_keys(&broker, &[queue]).await;
}

#[tokio::test]
async fn closing_hands_back_what_was_read_ahead_and_a_release_goes_to_another_at_once() {
    if !support::available() {
        return;
    }
    let lease = Duration::from_secs(30);
    let queue = support::unique_queue("release");
    let first = support::connect().await;
    first.provision(&queue).await.unwrap();
    let mut sent = Vec::new();
    for n in 0..10 {
        let message = Message::new(format!(r#"{{"n":{n}}}"#));
        first.publish(&queue, &message).await.unwrap();
        sent.push(message.id);
    }
    let mut reading = subscription(&queue, "svc-release", lease);
    // Reads of half the prefetch: ten; the next read would start once
    // five or fewer are left.
    reading.prefetch = 20;
    let mut deliveries = first.subscribe(&reading).await.unwrap();
    let started = next(&mut deliveries).await;
    let taken = deliveries.close().await;
    assert_eq!(taken.len(), 9, "one read of ten, one handed out");
    let since = Instant::now();
    for delivery in taken {
        delivery.release().await.unwrap();
    }
    started.ack().await.unwrap();

    let second = support::connect().await;
    let mut deliveries = second.subscribe(&reading).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 9 {
        let delivery = next(&mut deliveries).await;
        assert_eq!(delivery.attempt(), 2, "a release is counted as a delivery");
        got.push(delivery.message().id.clone());
        delivery.ack().await.unwrap();
    }
    let took = since.elapsed();
    assert!(took < lease / 3, "released messages came after {took:?}");
    got.sort();
    let mut rest = sent[1..].to_vec();
    rest.sort();
    assert_eq!(got, rest);
    assert_eq!(second.depth(&queue).await.unwrap(), Some(0));
    drop(deliveries);
    support::delete_keys(&second, &[queue]).await;
}

#[tokio::test]
async fn acknowledgements_settled_together_all_leave_the_pending_list() {
    if !support::available() {
        return;
    }
    let broker = support::connect().await;
    let queue = support::unique_queue("acks");
    let mut sub = subscription(&queue, "svc-acks", Duration::from_secs(30));
    sub.prefetch = 64;
    let mut deliveries = broker.subscribe(&sub).await.unwrap();
    for i in 0..50 {
        let message = Message::new(format!(r#"{{"i":{i}}}"#).into_bytes());
        broker.publish(&queue, &message).await.unwrap();
    }
    let mut taken = Vec::new();
    while taken.len() < 50 {
        taken.push(next(&mut deliveries).await);
    }
    // Settled at once: they share XACKs, and every one is answered.
    let acked = futures_util::future::join_all(taken.into_iter().map(|d| d.ack())).await;
    assert_eq!(acked.len(), 50);
    assert!(acked.iter().all(Result::is_ok), "{acked:?}");
    // Then one more, alone.
    broker
        .publish(&queue, &Message::new(&b"{}"[..]))
        .await
        .unwrap();
    next(&mut deliveries).await.ack().await.unwrap();
    assert_eq!(pending(&broker, &queue, "svc-acks").await, 0);
    drop(deliveries);
    support::delete_keys(&broker, &[queue]).await;
}

#[tokio::test]
async fn queued_acknowledgements_are_sent_before_closing_returns() {
    if !support::available() {
        return;
    }
    let broker = support::connect().await;
    let queue = support::unique_queue("queued-acks");
    let mut sub = subscription(&queue, "svc-queued", Duration::from_secs(30));
    sub.prefetch = 512;
    let mut deliveries = broker.subscribe(&sub).await.unwrap();
    for i in 0..300 {
        let message = Message::new(format!(r#"{{"i":{i}}}"#).into_bytes());
        broker.publish(&queue, &message).await.unwrap();
    }
    let mut taken = Vec::new();
    while taken.len() < 300 {
        taken.push(next(&mut deliveries).await);
    }
    // Up to the bound (256) are done once queued, without their answer;
    // the rest wait for it.
    let mut answered = Vec::new();
    for delivery in taken {
        let mut ack = delivery.ack_queued();
        // One poll (this test's runtime runs the task that sends them only
        // once the test waits).
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(ack.as_mut().poll(cx))).await;
        if first.is_pending() {
            answered.push(ack);
        }
    }
    assert_eq!(
        answered.len(),
        300 - 256,
        "past the bound, acknowledgements wait"
    );
    // Closing returns once every queued one was sent: none is pending.
    // (Closing also waits for the read in progress, which often covers
    // the send on its own; the unit tests in `delivery.rs` cover the bound
    // and the closing subscription's acknowledgements that wait.)
    let taken = deliveries.close().await;
    assert!(taken.is_empty());
    assert_eq!(pending(&broker, &queue, "svc-queued").await, 0);
    for ack in answered {
        ack.await.unwrap();
    }
    support::delete_keys(&broker, &[queue]).await;
}

/// How many entries of `queue` the group has delivered and not seen
/// acknowledged (`XPENDING`'s summary).
async fn pending(broker: &RedisBroker, queue: &str, group: &str) -> i64 {
    let mut conn = broker.connection();
    let answer: redis::Value = redis::cmd("XPENDING")
        .arg(queue)
        .arg(group)
        .query_async(&mut conn)
        .await
        .unwrap();
    match answer {
        redis::Value::Array(summary) => match summary.first() {
            Some(redis::Value::Int(count)) => *count,
            _ => panic!("not an XPENDING summary: {summary:?}"),
        },
        other => panic!("not an XPENDING summary: {other:?}"),
    }
}
