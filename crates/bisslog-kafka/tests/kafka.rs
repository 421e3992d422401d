//! What the conformance suite does not show of the Kafka adapter:
//! commits stop at the first unsettled offset, retries come back later
//! with the next attempt, every group gets every message, a plain Kafka
//! client reads and writes what bisslog does. Each test runs on the mock
//! cluster (`on_mock::`) and on the server of `BISSLOG_TEST_KAFKA_URL`
//! (`on_server::`, skipped without one outside CI).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bisslog_kafka::KafkaBroker;
use bisslog_messaging::{
    Broker, BrokerError, Deliveries, Delivery, Message, QueueKind, Subscription,
};
use futures_util::StreamExt as _;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{Header, Headers as _, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use common::On;

const PATIENCE: Duration = Duration::from_secs(30);

async fn broker(on: &On) -> KafkaBroker {
    KafkaBroker::connect(&on.url("")).await.unwrap()
}

/// A fresh topic's name, the topic made in the mock (which has no
/// CreateTopics; on a server the test's provisioning creates it).
async fn topic(on: &On, name: &str) -> String {
    let topic = format!("kafka.{name}.{}", &bisslog_messaging::new_message_id()[..8]);
    on.create_topic(&topic).await;
    topic
}

fn subscription(queue: &str, consumer: &str) -> Subscription {
    Subscription {
        queue: queue.to_owned(),
        consumer: consumer.to_owned(),
        prefetch: 16,
        ack_wait: Duration::from_secs(1),
        provision: false,
        // A group per consumer name, as for an event: the tests read
        // with several names side by side.
        kind: QueueKind::Event,
    }
}

async fn next(deliveries: &mut Deliveries) -> Box<dyn Delivery> {
    tokio::time::timeout(PATIENCE, deliveries.next())
        .await
        .expect("a delivery in time")
        .expect("the subscription goes on")
        .expect("no error")
}

fn payload(delivery: &dyn Delivery) -> String {
    String::from_utf8_lossy(&delivery.message().payload).into_owned()
}

async fn publish_keyed(broker: &KafkaBroker, queue: &str, key: &str, body: &str) -> Message {
    let mut message = Message::new(body.to_owned().into_bytes());
    message.key = Some(key.to_owned());
    broker.publish(queue, &message).await.unwrap();
    message
}

async fn commits_stop_at_the_first_unsettled_offset(on: On) {
    let broker = broker(&on).await;
    let queue = topic(&on, "commits").await;
    broker.provision(&queue).await.unwrap();
    for n in 1..=3 {
        // One key: one partition, in order.
        publish_keyed(&broker, &queue, "k", &n.to_string()).await;
    }
    let mut deliveries = broker.subscribe(&subscription(&queue, "g")).await.unwrap();
    let first = next(&mut deliveries).await;
    let second = next(&mut deliveries).await;
    let third = next(&mut deliveries).await;
    assert_eq!(
        [payload(&*first), payload(&*second), payload(&*third)],
        ["1", "2", "3"]
    );
    // The later ones are acknowledged, the first is handed back at
    // shutdown: nothing may be committed past it.
    third.ack().await.unwrap();
    second.ack().await.unwrap();
    assert!(deliveries.close().await.is_empty(), "nothing else taken");
    first.release().await.unwrap();

    let mut again = broker.subscribe(&subscription(&queue, "g")).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let delivery = next(&mut again).await;
        seen.push(payload(&*delivery));
        delivery.ack().await.unwrap();
    }
    assert_eq!(
        seen,
        ["1", "2", "3"],
        "redelivered from the first unsettled"
    );
    assert!(again.close().await.is_empty());

    // Everything is settled now: a new member starts after the three.
    publish_keyed(&broker, &queue, "k", "4").await;
    let mut last = broker.subscribe(&subscription(&queue, "g")).await.unwrap();
    let fourth = next(&mut last).await;
    assert_eq!(payload(&*fourth), "4");
    fourth.ack().await.unwrap();
    last.close().await;
}

/// The consumer thread hands the stream batches within the prefetch and,
/// when the stream lags, waits for it to take half of them: with a
/// prefetch of 4 and 60 records of one key waiting, each comes once, in
/// order, and all are committed when the stream closes.
async fn a_small_prefetch_passes_every_record_on_in_order(on: On) {
    let broker = broker(&on).await;
    let queue = topic(&on, "prefetch").await;
    broker.provision(&queue).await.unwrap();
    let sent: Vec<String> = (0..60).map(|n| n.to_string()).collect();
    for body in &sent {
        publish_keyed(&broker, &queue, "k", body).await;
    }
    let small = Subscription {
        prefetch: 4,
        ..subscription(&queue, "g")
    };
    let mut deliveries = broker.subscribe(&small).await.unwrap();
    let mut seen = Vec::new();
    for _ in &sent {
        let delivery = next(&mut deliveries).await;
        seen.push(payload(&*delivery));
        delivery.ack().await.unwrap();
    }
    assert_eq!(seen, sent);
    assert!(deliveries.close().await.is_empty(), "nothing more taken");

    publish_keyed(&broker, &queue, "k", "60").await;
    let mut again = broker.subscribe(&small).await.unwrap();
    let after = next(&mut again).await;
    assert_eq!(payload(&*after), "60", "the 60 before were committed");
    after.ack().await.unwrap();
    again.close().await;
}

async fn retries_come_back_later_with_the_next_attempt(on: On) {
    let broker = broker(&on).await;
    let queue = topic(&on, "retry").await;
    broker.provision(&queue).await.unwrap();
    let sent = publish_keyed(&broker, &queue, "k", r#"{"n":1}"#).await;
    let mut deliveries = broker.subscribe(&subscription(&queue, "g")).await.unwrap();
    let first = next(&mut deliveries).await;
    assert_eq!(
        (first.message().id.as_str(), first.attempt()),
        (sent.id.as_str(), 1)
    );
    let retried_at = tokio::time::Instant::now();
    first.retry(Duration::from_millis(700)).await.unwrap();
    let second = next(&mut deliveries).await;
    assert!(
        retried_at.elapsed() >= Duration::from_millis(700),
        "not before its delay: attempt {} after {:?}",
        second.attempt(),
        retried_at.elapsed()
    );
    assert_eq!(second.message().id, sent.id, "the same message");
    assert_eq!(second.attempt(), 2);
    assert_eq!(second.message().key.as_deref(), Some("k"));
    assert!(
        second
            .message()
            .headers
            .iter()
            .all(|(n, _)| !n.starts_with("x-bisslog-")),
        "the adapter's headers are its own: {:?}",
        second.message().headers
    );
    second.ack().await.unwrap();
    deliveries.close().await;
}

async fn missing_topics_are_errors(on: On) {
    let broker = broker(&on).await;
    let queue = format!(
        "kafka.missing.{}",
        &bisslog_messaging::new_message_id()[..8]
    );
    let error = broker
        .publish(&queue, &Message::new(&b"{}"[..]))
        .await
        .unwrap_err();
    assert!(matches!(error, BrokerError::NoQueue { .. }), "{error}");
    let error = broker
        .subscribe(&subscription(&queue, "g"))
        .await
        .unwrap_err();
    assert!(matches!(error, BrokerError::Provisioning { .. }), "{error}");
    let error = broker.provision("not a topic").await.unwrap_err();
    assert!(error.to_string().contains("` `"), "{error}");
}

/// A plain client's configuration.
fn plain(on: &On) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", on.bootstrap());
    config
}

async fn every_group_gets_every_message_and_plain_clients_interoperate(on: On) {
    let broker = broker(&on).await;
    let queue = topic(&on, "interop").await;
    broker.provision(&queue).await.unwrap();
    let mut sent = Message::new(&br#"{"id":7}"#[..]).with_header(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    );
    sent.key = Some("acme".into());
    sent.event_type = Some("company-inserted".into());
    sent.transaction_id = Some("tx-1".into());
    broker.publish(&queue, &sent).await.unwrap();

    // Two services: each group receives the event.
    for service in ["audit", "search"] {
        let mut deliveries = broker
            .subscribe(&subscription(&queue, service))
            .await
            .unwrap();
        let delivery = next(&mut deliveries).await;
        assert_eq!(delivery.message(), &{
            let mut expected = sent.clone();
            expected
                .headers
                .push(("content-type".into(), "application/json".into()));
            expected
        });
        delivery.ack().await.unwrap();
        deliveries.close().await;
    }

    // A plain consumer sees the key and the documented headers.
    let topic = queue.clone();
    let mut reader = plain(&on);
    let (key, headers) = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = reader
            .set("group.id", "plain-reader")
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap();
        consumer.subscribe(&[topic.as_str()]).unwrap();
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "no record for the plain consumer"
            );
            if let Some(record) = consumer.poll(Duration::from_millis(100)) {
                let record = record.unwrap();
                let headers: Vec<(String, String)> = record
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| {
                                let value = String::from_utf8_lossy(h.value.unwrap_or_default());
                                (h.key.to_owned(), value.into_owned())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let key = record
                    .key()
                    .map(|k| String::from_utf8_lossy(k).into_owned());
                return (key, headers);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(key.as_deref(), Some("acme"));
    for (name, value) in [
        ("message-id", sent.id.as_str()),
        ("transaction-id", "tx-1"),
        ("event-type", "company-inserted"),
        ("key", "acme"),
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
        ("content-type", "application/json"),
    ] {
        assert!(
            headers.iter().any(|(n, v)| n == name && v == value),
            "{name}: {value} in {headers:?}"
        );
    }

    // A plain producer's record reaches a bisslog consumer.
    let producer: FutureProducer = plain(&on).create().unwrap();
    let record = FutureRecord::to(&queue)
        .key("pk")
        .payload(r#"{"plain":true}"#)
        .headers(OwnedHeaders::new().insert(Header {
            key: "x-tenant",
            value: Some("acme"),
        }));
    producer.send(record, PATIENCE).await.unwrap();
    let mut deliveries = broker
        .subscribe(&subscription(&queue, "audit"))
        .await
        .unwrap();
    let delivery = next(&mut deliveries).await;
    let message = delivery.message();
    assert_eq!(message.payload.as_ref(), br#"{"plain":true}"#);
    assert_eq!(message.key.as_deref(), Some("pk"));
    assert_eq!(message.header("x-tenant"), Some("acme"));
    assert!(
        message.id.starts_with(&format!("{queue}/")),
        "{}",
        message.id
    );
    delivery.ack().await.unwrap();
    deliveries.close().await;
}

/// The partitions of `topic` the cluster reports.
fn partitions(on: &On, topic: &str) -> usize {
    let consumer: BaseConsumer = plain(on).create().unwrap();
    let metadata = consumer.fetch_metadata(Some(topic), PATIENCE).unwrap();
    metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len())
}

/// On a server only (the mock has no CreateTopics): provisioning creates a
/// missing topic with the configured partitions through the admin API, and
/// leaves an operator's topic as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_creates_missing_topics_and_changes_no_other() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;

    let Some(on) = On::server() else {
        return;
    };
    let broker = KafkaBroker::connect(&on.url("&partitions=5"))
        .await
        .unwrap();
    let fresh = topic(&on, "fresh").await;
    broker.provision(&fresh).await.unwrap();
    assert_eq!(
        partitions(&on, &fresh),
        5,
        "created with the URL's partitions"
    );

    let operators = topic(&on, "operators").await;
    let admin: AdminClient<DefaultClientContext> = plain(&on).create().unwrap();
    let created = admin
        .create_topics(
            [&NewTopic::new(&operators, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(PATIENCE)),
        )
        .await
        .unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    broker.provision(&operators).await.unwrap();
    assert_eq!(
        partitions(&on, &operators),
        1,
        "left as the operator made it"
    );
    publish_keyed(&broker, &operators, "k", "{}").await;
}

/// Each test above twice: on the mock cluster, and on the server.
macro_rules! on_mock_and_server {
    ($($case:ident),* $(,)?) => {
        mod on_mock {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::On::Mock).await;
                }
            )*
        }

        mod on_server {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(on) = super::On::server() {
                        super::$case(on).await;
                    }
                }
            )*
        }
    };
}

on_mock_and_server!(
    commits_stop_at_the_first_unsettled_offset,
    a_small_prefetch_passes_every_record_on_in_order,
    retries_come_back_later_with_the_next_attempt,
    missing_topics_are_errors,
    every_group_gets_every_message_and_plain_clients_interoperate,
);
