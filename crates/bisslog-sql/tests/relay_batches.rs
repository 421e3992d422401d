//! The relay sends a round's events to a broker that stores batches at
//! once (the SQL broker) in one batch, each key's events in order; a batch
//! the broker refuses goes again one event at a time, which provisions a
//! missing queue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_messaging::{
    Broker, BrokerError, Deliveries, Message, Outgoing, QueueKind, Subscription,
};
use bisslog_sql::testing::TestDatabase;
use bisslog_sql::{Outbox, SqlBroker};
use futures_util::StreamExt as _;

/// A broker that counts how the relay publishes: batches, and events one
/// at a time; with `batching` off it says it does not store batches (as
/// the network brokers do not).
#[derive(Clone)]
struct Counted {
    inner: SqlBroker,
    batching: bool,
    batches: Arc<AtomicUsize>,
    singles: Arc<AtomicUsize>,
}

impl Broker for Counted {
    fn name(&self) -> &str {
        "counted"
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.inner.provision(queue)
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.publish_to(queue, QueueKind::Command, message)
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.singles.fetch_add(1, Ordering::Relaxed);
        self.inner.publish_to(queue, kind, message)
    }

    fn publishes_batches(&self) -> bool {
        self.batching && self.inner.publishes_batches()
    }

    fn publish_batch<'a>(
        &'a self,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.inner.publish_batch(batch)
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        self.inner.subscribe(subscription)
    }
}

/// An outbox on a SQLite file and a counted SQL broker on another.
async fn set_up(batching: bool) -> (TestDatabase, TestDatabase, Outbox, Counted) {
    let data = TestDatabase::sqlite().await;
    data.database.migrate(&[]).await.unwrap();
    let queues = TestDatabase::sqlite().await;
    let broker = Counted {
        inner: SqlBroker::open(queues.database.clone()).await.unwrap(),
        batching,
        batches: Arc::default(),
        singles: Arc::default(),
    };
    let outbox = Outbox::new(data.database.clone());
    (data, queues, outbox, broker)
}

/// Stores 30 events over three keys (10 each, `n` counting up per key).
async fn store_events(outbox: &Outbox, queue: &str) {
    for n in 0..10 {
        for key in ["a", "b", "c"] {
            let mut message = Message::new(format!(r#"{{"key":"{key}","n":{n}}}"#).into_bytes());
            message.key = Some(key.to_owned());
            outbox.store(queue, &message).await.unwrap();
        }
    }
}

/// Receives the queue's 30 messages and checks each key's come in order.
async fn received_in_order(broker: &SqlBroker, queue: &str) {
    let mut deliveries = broker
        .subscribe(&Subscription::new(queue, "relay-batches-test"))
        .await
        .unwrap();
    let mut next_of: std::collections::HashMap<String, u64> = Default::default();
    for _ in 0..30 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), deliveries.next())
            .await
            .expect("a delivery within 10 s")
            .expect("the stream goes on")
            .expect("no broker error");
        let body: serde_json::Value = serde_json::from_slice(&delivery.message().payload).unwrap();
        let key = body["key"].as_str().unwrap().to_owned();
        let n = body["n"].as_u64().unwrap();
        eprintln!(
            "got {key}{n} attempt {} id {}",
            delivery.attempt(),
            delivery.message().id
        );
        let expected = next_of.entry(key.clone()).or_default();
        assert_eq!(n, *expected, "key {key} out of order");
        *expected += 1;
        delivery.ack().await.unwrap();
    }
    assert_eq!(broker.depth(queue).await.unwrap(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_goes_to_the_sql_broker_in_one_batch() {
    let (data, queues, outbox, broker) = set_up(true).await;
    broker.provision("batched").await.unwrap();
    store_events(&outbox, "batched").await;
    let report = outbox.relay(broker.clone()).relay_once().await.unwrap();
    assert_eq!((report.published, report.failed), (30, 0), "{report:?}");
    assert_eq!(broker.batches.load(Ordering::Relaxed), 1);
    assert_eq!(broker.singles.load(Ordering::Relaxed), 0);
    assert_eq!(outbox.pending().await.unwrap(), 0);
    received_in_order(&broker.inner, "batched").await;
    data.drop_database().await;
    queues.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_goes_again_one_event_at_a_time() {
    let (data, queues, outbox, broker) = set_up(true).await;
    // Not provisioned: the batch is refused whole, and the events one by
    // one provision the queue (the relay's default) and go out.
    store_events(&outbox, "unprovisioned").await;
    let report = outbox.relay(broker.clone()).relay_once().await.unwrap();
    assert_eq!((report.published, report.failed), (30, 0), "{report:?}");
    if std::env::var("NOBATCH").is_err() {
        assert_eq!(broker.batches.load(Ordering::Relaxed), 1);
    }
    assert!(broker.singles.load(Ordering::Relaxed) >= 30);
    received_in_order(&broker.inner, "unprovisioned").await;
    data.drop_database().await;
    queues.drop_database().await;
}

/// Without batches, keys go side by side, each in order, and the first
/// events of every key provision the missing queue at once: none of them
/// is lost (the SQL broker once took an event stored while the queue did
/// not exist yet, and found a moment later, for a duplicate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_side_by_side_provision_the_queue_and_lose_nothing() {
    for round in 0..5 {
        let (data, queues, outbox, broker) = set_up(false).await;
        let queue = format!("side-by-side.{round}");
        store_events(&outbox, &queue).await;
        let report = outbox.relay(broker.clone()).relay_once().await.unwrap();
        assert_eq!((report.published, report.failed), (30, 0), "{report:?}");
        assert_eq!(broker.batches.load(Ordering::Relaxed), 0);
        assert_eq!(
            broker.inner.depth(&queue).await.unwrap(),
            Some(30),
            "round {round}: every event stored"
        );
        received_in_order(&broker.inner, &queue).await;
        data.drop_database().await;
        queues.drop_database().await;
    }
}

/// A batch that fails because the broker cannot be reached is not sent
/// again event by event: each key's first event carries the failure, the
/// round reports the broker unreachable, and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_fails_the_round_without_one_by_one_attempts() {
    let (data, queues, outbox, broker) = set_up(true).await;
    broker.provision("unreachable").await.unwrap();
    store_events(&outbox, "unreachable").await;
    // The broker's database is gone: its pool refuses every statement.
    broker.inner.database().close().await;
    let report = outbox.relay(broker.clone()).relay_once().await.unwrap();
    assert_eq!(
        (report.published, report.failed, report.unreachable),
        (0, 3, 3),
        "{report:?}"
    );
    assert_eq!(broker.batches.load(Ordering::Relaxed), 1);
    assert_eq!(broker.singles.load(Ordering::Relaxed), 0);
    assert_eq!(outbox.pending().await.unwrap(), 30);
    data.drop_database().await;
    queues.drop_database().await;
}
