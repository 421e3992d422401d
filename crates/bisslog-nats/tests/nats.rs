//! What is particular to NATS JetStream: streams found by subject, ids of
//! foreign messages, deduplication, provisioning races. Against a real
//! server (`BISSLOG_TEST_NATS_URL`; skipped, saying so, when unset outside CI).

mod support;

use std::time::Duration;

use async_nats::jetstream::stream;
use bisslog_messaging::{
    Broker, BrokerError, BrokerPublisher, Deliveries, Delivery, Message, Subscription,
};
use bisslog_nats::{NatsConfig, Storage};
use bytes::Bytes;
use futures_util::StreamExt as _;
use support::{
    connect, connect_with, delete_streams, messages_in, unique_id, unique_queue, until_messages_in,
};

fn subscription(queue: &str, consumer: &str) -> Subscription {
    Subscription {
        queue: queue.to_owned(),
        consumer: consumer.to_owned(),
        prefetch: 8,
        ack_wait: Duration::from_secs(10),
        provision: true,
        kind: Default::default(),
    }
}

async fn next(deliveries: &mut Deliveries) -> Box<dyn Delivery> {
    match tokio::time::timeout(Duration::from_secs(10), deliveries.next()).await {
        Ok(Some(Ok(delivery))) => delivery,
        Ok(Some(Err(e))) => panic!("the subscription reported: {e}"),
        Ok(None) => panic!("the subscription ended"),
        Err(_) => panic!("no delivery within 10 s"),
    }
}

async fn subscribe(broker: &impl Broker, subscription: &Subscription) -> Deliveries {
    match broker.subscribe(subscription).await {
        Ok(deliveries) => deliveries,
        Err(e) => panic!("subscribing to {}: {e}", subscription.queue),
    }
}

/// Provisions `queue` and publishes `count` messages `{"n": 0}`, `{"n": 1}`, ...
async fn publish_numbered(broker: &impl Broker, queue: &str, count: usize) {
    broker
        .provision(queue)
        .await
        .expect("provisioning the queue");
    for n in 0..count {
        let message = Message::new(format!(r#"{{"n":{n}}}"#).into_bytes());
        broker
            .publish(queue, &message)
            .await
            .expect("publishing a numbered message");
    }
}

async fn stream_of(broker: &bisslog_nats::NatsBroker, queue: &str) -> String {
    match broker.stream_of(queue).await {
        Ok(Some(stream)) => stream,
        other => panic!("the stream of {queue}: {other:?}"),
    }
}

#[tokio::test]
async fn provisioning_twice_or_concurrently_is_idempotent() {
    if !support::available() {
        return;
    }
    let queue = unique_queue("idempotent");
    let (first, second) = (connect().await, connect().await);
    let (a, b, c) = tokio::join!(
        first.provision(&queue),
        second.provision(&queue),
        first.provision(&queue)
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    second.provision(&queue).await.unwrap();
    let stream = stream_of(&first, &queue).await;
    assert_eq!(stream, queue.replace('.', "_"), "named after the queue");
    let fresh = connect().await;
    fresh.provision(&queue).await.unwrap();
    assert_eq!(stream_of(&fresh, &queue).await, stream);

    // Two instances creating the one durable consumer at once.
    let subscription = subscription(&queue, "idempotent");
    let (a, b) = tokio::join!(
        first.subscribe(&subscription),
        second.subscribe(&subscription)
    );
    let (Ok(a), Ok(b)) = (a, b) else {
        panic!("both instances subscribe");
    };
    drop((a, b));
    let again = subscribe(&fresh, &subscription).await;
    drop(again);
    delete_streams(&first, &[&stream]).await;
}

#[tokio::test]
async fn a_stream_already_capturing_the_subject_is_used_and_foreign_messages_get_stream_ids() {
    if !support::available() {
        return;
    }
    // What the benchmark harness does: its own stream (`BENCH`), its own
    // subject (`bench.add`), messages published without headers.
    let broker = connect().await;
    let id = unique_id();
    let queue = format!("bisslog_nats_test.bench.{id}");
    let harness_stream = format!("bisslog_nats_test_BENCH_{id}");
    broker
        .jetstream()
        .create_stream(stream::Config {
            name: harness_stream.clone(),
            subjects: vec![queue.clone()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::Memory,
            ..Default::default()
        })
        .await
        .unwrap();

    broker.provision(&queue).await.unwrap();
    assert_eq!(stream_of(&broker, &queue).await, harness_stream);
    assert!(
        broker
            .jetstream()
            .get_stream(queue.replace('.', "_"))
            .await
            .is_err(),
        "no stream of its own was created"
    );

    let js = broker.jetstream();
    let plain = js
        .publish(queue.clone(), Bytes::from_static(br#"{"a":1,"b":1,"c":2}"#))
        .await
        .unwrap()
        .await
        .unwrap();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Origin", "harness");
    let binary = js
        .publish_with_headers(queue.clone(), headers, Bytes::from_static(b"\xff\x00\xfe"))
        .await
        .unwrap()
        .await
        .unwrap();

    let mut deliveries = subscribe(&broker, &subscription(&queue, "bench-reader")).await;
    let first = next(&mut deliveries).await;
    assert_eq!(
        first.message().id,
        format!("{harness_stream}:{}", plain.sequence)
    );
    assert_eq!(first.attempt(), 1);
    assert_eq!(&first.message().payload[..], br#"{"a":1,"b":1,"c":2}"#);
    assert_eq!(first.message().transaction_id, None);
    first.ack().await.unwrap();
    let second = next(&mut deliveries).await;
    assert_eq!(
        second.message().id,
        format!("{harness_stream}:{}", binary.sequence)
    );
    assert_eq!(&second.message().payload[..], b"\xff\x00\xfe");
    assert_eq!(second.message().header("x-origin"), Some("harness"));
    second.ack().await.unwrap();
    // A work queue forgets what was acknowledged.
    until_messages_in(&broker, &harness_stream, 0).await;
    drop(deliveries);
    delete_streams(&broker, &[&harness_stream]).await;
}

#[tokio::test]
async fn publishing_where_no_stream_listens_is_no_queue() {
    if !support::available() {
        return;
    }
    let broker = connect().await;
    let queue = unique_queue("nowhere");
    let message = Message::new(&b"{}"[..]);
    match broker.publish(&queue, &message).await {
        Err(BrokerError::NoQueue { queue: named }) => assert_eq!(named, queue),
        other => panic!("expected NoQueue, got {other:?}"),
    }
    // Which the publisher of use cases answers by provisioning the queue.
    BrokerPublisher::new(broker.clone())
        .publish_message(&queue, &message)
        .await
        .unwrap();
    let stream = stream_of(&broker, &queue).await;
    assert_eq!(messages_in(&broker, &stream).await, 1);
    delete_streams(&broker, &[&stream]).await;
}

#[tokio::test]
async fn publishing_one_message_id_again_is_deduplicated() {
    if !support::available() {
        return;
    }
    let broker = connect().await;
    let queue = unique_queue("dedup");
    broker.provision(&queue).await.unwrap();
    let stream = stream_of(&broker, &queue).await;
    let message = Message::new(&br#"{"n":1}"#[..]);
    for _ in 0..3 {
        broker.publish(&queue, &message).await.unwrap();
    }
    assert_eq!(messages_in(&broker, &stream).await, 1, "stored once");
    broker
        .publish(&queue, &Message::new(&br#"{"n":1}"#[..]))
        .await
        .unwrap();
    assert_eq!(
        messages_in(&broker, &stream).await,
        2,
        "another id is stored"
    );

    let without = connect_with(NatsConfig::default().deduplicate(false)).await;
    without.publish(&queue, &message).await.unwrap();
    assert_eq!(
        messages_in(&broker, &stream).await,
        3,
        "no Nats-Msg-Id, no deduplication"
    );

    // The one stored copy comes back with the id and headers it was sent with.
    let mut deliveries = subscribe(&broker, &subscription(&queue, "dedup-reader")).await;
    let delivery = next(&mut deliveries).await;
    assert_eq!(delivery.message().id, message.id);
    assert!(
        delivery.message().header("Nats-Msg-Id").is_none(),
        "the broker's field is not a header of the message"
    );
    drop(deliveries);
    delete_streams(&broker, &[&stream]).await;
}

#[tokio::test]
async fn retries_come_back_later_counting_attempts() {
    if !support::available() {
        return;
    }
    let broker = connect_with(NatsConfig::default().storage(Storage::Memory)).await;
    let queue = unique_queue("retry");
    broker.provision(&queue).await.unwrap();
    let stream = stream_of(&broker, &queue).await;
    let mut sent = Message::new(&br#"{"n":1}"#[..]).with_header("x-tenant", "acme");
    sent.transaction_id = Some("producer".into());
    sent.event_type = Some("created".into());
    sent.key = Some("order-7".into());
    broker.publish(&queue, &sent).await.unwrap();

    let mut deliveries = subscribe(&broker, &subscription(&queue, "retry-reader")).await;
    let first = next(&mut deliveries).await;
    assert_eq!(first.attempt(), 1);
    assert_eq!(first.message(), &sent, "every field read back");
    first.keep_alive().await.unwrap();
    let retried_at = tokio::time::Instant::now();
    first.retry(Duration::from_millis(300)).await.unwrap();
    let second = next(&mut deliveries).await;
    assert!(
        retried_at.elapsed() >= Duration::from_millis(250),
        "delivered again after the delay, not {:?}",
        retried_at.elapsed()
    );
    assert_eq!(second.attempt(), 2);
    assert_eq!(second.message().id, sent.id);
    second.retry(Duration::ZERO).await.unwrap();
    let third = next(&mut deliveries).await;
    assert_eq!(third.attempt(), 3);
    third.ack().await.unwrap();
    until_messages_in(&broker, &stream, 0).await;
    drop(deliveries);
    delete_streams(&broker, &[&stream]).await;
}

#[tokio::test]
async fn binding_requires_the_stream_and_consumer_when_not_provisioning() {
    if !support::available() {
        return;
    }
    let broker = connect().await;
    let queue = unique_queue("bind");
    let mut bind = subscription(&queue, "operators-own-it");
    bind.provision = false;
    match broker.subscribe(&bind).await {
        Err(BrokerError::Provisioning { queue: named, .. }) => assert_eq!(named, queue),
        Err(other) => panic!("expected Provisioning, got {other:?}"),
        Ok(_) => panic!("no stream captures the queue"),
    }
    broker.provision(&queue).await.unwrap();
    let stream = stream_of(&broker, &queue).await;
    match broker.subscribe(&bind).await {
        Err(BrokerError::Provisioning { message, .. }) => {
            assert!(message.contains("operators-own-it"), "{message}");
        }
        Err(other) => panic!("expected Provisioning, got {other:?}"),
        Ok(_) => panic!("the consumer does not exist"),
    }
    // Once it exists (made by a provisioning instance), binding works.
    drop(subscribe(&broker, &subscription(&queue, "operators-own-it")).await);
    drop(subscribe(&broker, &bind).await);
    delete_streams(&broker, &[&stream]).await;
}

#[tokio::test]
async fn names_nats_cannot_carry_are_refused_without_panicking() {
    if !support::available() {
        return;
    }
    let broker = connect().await;
    for queue in [
        "",
        "orders.*",
        "orders.>",
        "two words",
        "a..b",
        "$JS.API.INFO",
    ] {
        assert!(
            matches!(
                broker.provision(queue).await,
                Err(BrokerError::Provisioning { .. })
            ),
            "{queue:?}"
        );
        assert!(
            matches!(
                broker.publish(queue, &Message::new(&b"{}"[..])).await,
                Err(BrokerError::Rejected { .. })
            ),
            "{queue:?}"
        );
        assert!(
            matches!(
                broker.subscribe(&subscription(queue, "c")).await,
                Err(BrokerError::Provisioning { .. })
            ),
            "{queue:?}"
        );
    }
    let queue = unique_queue("names");
    for message in [
        Message::new(&b"{}"[..]).with_header("two words", "v"),
        Message::new(&b"{}"[..]).with_header("x-multi", "line\r\nbreak"),
    ] {
        assert!(
            matches!(
                broker.publish(&queue, &message).await,
                Err(BrokerError::Rejected { .. })
            ),
            "{message:?}"
        );
    }
    assert!(
        matches!(
            broker.subscribe(&subscription(&queue, "dotted.name")).await,
            Err(BrokerError::Provisioning { .. })
        ),
        "consumer names cannot hold dots"
    );
}

#[tokio::test]
async fn ready_asks_the_server() {
    if !support::available() {
        return;
    }
    let broker = connect().await;
    broker.ready().await.unwrap();
    assert_eq!(broker.name(), "nats");
}

/// Closing a subscription hands back what the client had taken from the
/// pull consumer ahead of being asked; released, those messages go to the
/// next subscriber at once, not after the 30-second `ack_wait`, each once.
#[tokio::test]
async fn closing_a_subscription_hands_back_what_it_fetched_ahead() {
    if !support::available() {
        return;
    }
    const MESSAGES: usize = 200;
    const STARTED: usize = 4;
    let queue = unique_queue("close");
    let broker = connect().await;
    publish_numbered(&broker, &queue, MESSAGES).await;
    let lease = Subscription {
        prefetch: 256,
        ack_wait: Duration::from_secs(30),
        ..subscription(&queue, "closer")
    };
    let first = connect().await;
    let mut deliveries = subscribe(&first, &lease).await;
    let mut started = Vec::new();
    for _ in 0..STARTED {
        started.push(next(&mut deliveries).await);
    }
    // Every message out to the first subscriber (bounded): the case is
    // "fetched ahead", not "still on the server".
    let stream = stream_of(&broker, &queue).await;
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = broker
        .jetstream()
        .get_consumer_from_stream("closer", &stream)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while consumer.info().await.unwrap().num_ack_pending < MESSAGES {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never sent every message"
        );
        tokio::task::yield_now().await;
    }
    let since = std::time::Instant::now();
    let taken = deliveries.close().await;
    let released = taken.len();
    assert_eq!(
        released,
        MESSAGES - STARTED,
        "everything fetched ahead comes back"
    );
    for delivery in taken {
        delivery.release().await.unwrap();
    }
    let second = connect().await;
    let mut again = subscribe(&second, &lease).await;
    let mut received = std::collections::BTreeSet::new();
    while received.len() < MESSAGES - STARTED {
        let delivery = match tokio::time::timeout(Duration::from_secs(5), again.next()).await {
            Ok(Some(Ok(delivery))) => delivery,
            _ => panic!(
                "{} of {} released messages came back, then nothing for 5 s",
                received.len(),
                MESSAGES - STARTED
            ),
        };
        assert!(
            received.insert(delivery.message().id.clone()),
            "delivered twice: {:?} (attempt {})",
            delivery.message().payload,
            delivery.attempt()
        );
        delivery.ack().await.unwrap();
    }
    let took = since.elapsed();
    for delivery in started {
        assert!(!received.contains(&delivery.message().id));
        delivery.ack().await.unwrap();
    }
    eprintln!("released {released}; all back at the next subscriber {took:?} after closing");
    assert!(
        took < Duration::from_secs(10),
        "the released messages came back after {took:?}, not at once"
    );
    delete_streams(&broker, &[&stream]).await;
}

/// Closing a subscription while the server still holds a backlog strands
/// nothing: the next subscriber gets every message at once, not some
/// after `ack_wait`. Taking the buffered messages polls async-nats's pull
/// stream, which wakes its background task to ask for another batch once
/// half of the last one is used up; closed from this test's own thread
/// (not one of the runtime's workers), an idle worker ran that task at
/// once and the server sent the batch to the inbox being unsubscribed
/// (11 failures in 40 runs before `close` took the buffer in a task of
/// its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_subscription_with_a_backlog_asks_for_no_more() {
    if !support::available() {
        return;
    }
    const MESSAGES: usize = 600;
    const BATCH: usize = 64;
    const STARTED: usize = 4;
    let queue = unique_queue("close-backlog");
    let broker = connect().await;
    publish_numbered(&broker, &queue, MESSAGES).await;
    let lease = Subscription {
        prefetch: BATCH as u32,
        ack_wait: Duration::from_secs(60),
        ..subscription(&queue, "backlog")
    };
    let stream = stream_of(&broker, &queue).await;
    let first = connect().await;
    let mut deliveries = subscribe(&first, &lease).await;
    let mut started = Vec::new();
    for _ in 0..STARTED {
        started.push(next(&mut deliveries).await);
    }
    // The first batch all in the client's buffer (bounded), the rest of
    // the messages still on the server.
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = broker
        .jetstream()
        .get_consumer_from_stream("backlog", &stream)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut out = 0;
    while out < BATCH {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never sent the first batch ({out} of {BATCH})"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        out = consumer.info().await.unwrap().num_ack_pending;
    }
    let taken = deliveries.close().await;
    let released = taken.len();
    for delivery in taken {
        delivery.release().await.unwrap();
    }
    let second = connect().await;
    let mut again = subscribe(&second, &lease).await;
    let mut received = std::collections::BTreeSet::new();
    while received.len() < MESSAGES - STARTED {
        let delivery = match tokio::time::timeout(Duration::from_secs(5), again.next()).await {
            Ok(Some(Ok(delivery))) => delivery,
            _ => panic!(
                "{} of {} messages reached the next subscriber, then nothing for 5 s \
                 (the closed one handed back {released})",
                received.len(),
                MESSAGES - STARTED
            ),
        };
        received.insert(delivery.message().id.clone());
        delivery.ack().await.unwrap();
    }
    for delivery in started {
        delivery.ack().await.unwrap();
    }
    delete_streams(&broker, &[&stream]).await;
}

/// An event queue is a stream with interest retention: a plain JetStream
/// consumer on the subject gets each event once, with the documented
/// headers, alongside a bisslog consumer; a plain publisher feeds both;
/// once both acknowledged, the stream holds nothing.
#[tokio::test]
async fn events_interoperate_with_plain_jetstream_clients() {
    use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
    use bisslog_messaging::{QueueKind, headers};

    if !support::available() {
        return;
    }
    let broker = connect().await;
    let queue = unique_queue("events");
    broker
        .provision_queue(&queue, QueueKind::Event)
        .await
        .unwrap();
    let stream = stream_of(&broker, &queue).await;
    let info = broker
        .jetstream()
        .get_stream(&stream)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .clone();
    assert_eq!(info.config.retention, stream::RetentionPolicy::Interest);

    let bisslog_side = Subscription {
        kind: QueueKind::Event,
        ..subscription(&queue, "billing-charge")
    };
    let mut deliveries = subscribe(&broker, &bisslog_side).await;
    // What an operator writes for a program that is not bisslog.
    let plain: async_nats::jetstream::consumer::PullConsumer = broker
        .jetstream()
        .create_consumer_on_stream(
            pull::Config {
                durable_name: Some("plain-reader".into()),
                filter_subject: queue.clone(),
                deliver_policy: DeliverPolicy::New,
                ack_policy: AckPolicy::Explicit,
                ..Default::default()
            },
            &stream,
        )
        .await
        .unwrap();
    let mut plain_messages = plain.messages().await.unwrap();

    let mut sent =
        Message::new(&br#"{"order":7}"#[..]).with_header("content-type", "application/json");
    sent.event_type = Some("order-created".into());
    sent.transaction_id = Some("tx-1".into());
    broker
        .publish_to(&queue, QueueKind::Event, &sent)
        .await
        .unwrap();

    let got = tokio::time::timeout(Duration::from_secs(10), plain_messages.next())
        .await
        .expect("the plain consumer gets the event")
        .unwrap()
        .unwrap();
    let header = |name: &str| {
        got.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    assert_eq!(&got.payload[..], br#"{"order":7}"#);
    assert_eq!(
        header(headers::MESSAGE_ID).as_deref(),
        Some(sent.id.as_str())
    );
    assert_eq!(header("Nats-Msg-Id").as_deref(), Some(sent.id.as_str()));
    assert_eq!(
        header(headers::EVENT_TYPE).as_deref(),
        Some("order-created")
    );
    assert_eq!(header(headers::TRANSACTION_ID).as_deref(), Some("tx-1"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    got.ack().await.unwrap();
    let first = next(&mut deliveries).await;
    assert_eq!(first.message().id, sent.id);
    assert_eq!(first.message().event_type.as_deref(), Some("order-created"));
    first.ack().await.unwrap();

    // A plain publisher feeds the bisslog consumer (and the plain one).
    let mut plain_headers = async_nats::HeaderMap::new();
    plain_headers.insert(headers::MESSAGE_ID, "from-plain-1");
    plain_headers.insert(headers::EVENT_TYPE, "order-created");
    broker
        .jetstream()
        .publish_with_headers(
            queue.clone(),
            plain_headers,
            Bytes::from_static(br#"{"order":8}"#),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let second = next(&mut deliveries).await;
    assert_eq!(second.message().id, "from-plain-1");
    assert_eq!(&second.message().payload[..], br#"{"order":8}"#);
    second.ack().await.unwrap();
    let again = tokio::time::timeout(Duration::from_secs(10), plain_messages.next())
        .await
        .expect("the plain consumer gets the plain event")
        .unwrap()
        .unwrap();
    assert_eq!(&again.payload[..], br#"{"order":8}"#);
    again.ack().await.unwrap();

    // Acknowledged by every consumer: an interest stream lets it go.
    until_messages_in(&broker, &stream, 0).await;
    drop(deliveries);
    drop(plain_messages);
    delete_streams(&broker, &[&stream]).await;
}

/// A stream an operator made as a work queue is not changed into an event
/// stream: subscribing to it as an event is a provisioning error.
#[tokio::test]
async fn an_event_on_a_work_queue_stream_is_refused() {
    use bisslog_messaging::QueueKind;

    if !support::available() {
        return;
    }
    let broker = connect().await;
    let queue = unique_queue("work-event");
    broker.provision(&queue).await.unwrap();
    let stream = stream_of(&broker, &queue).await;
    let refused = broker
        .subscribe(&Subscription {
            kind: QueueKind::Event,
            ..subscription(&queue, "billing-charge")
        })
        .await
        .err();
    assert!(
        matches!(&refused, Some(BrokerError::Provisioning { message, .. }) if message.contains("work queue")),
        "{refused:?}"
    );
    delete_streams(&broker, &[&stream]).await;
}
