//! What a first start logs: provisioning an event on a fresh exchange
//! name, subscribing and publishing log no ERROR (lapin logs every
//! channel RabbitMQ closes at ERROR, so a declaration RabbitMQ refuses on
//! the normal path would show here). Against a real server
//! (`BISSLOG_TEST_AMQP_URL`; skipped, saying so, when unset outside CI).
//!
//! A binary of its own: it installs a global subscriber (lapin logs from
//! its own connection task, not the test's thread), which would capture
//! the other tests' deliberate refusals too.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bisslog_messaging::{Broker, Delivery, Message, QueueKind, Subscription, event_copy_name};
use common::{Queues, connect};
use futures_util::StreamExt as _;

/// Every log line of the process, as tracing's plain text.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures the lines at INFO and above of every thread.
    fn capture() -> Self {
        let logs = Logs::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("the only global subscriber of this binary");
        logs
    }

    fn lines(&self) -> Vec<String> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_on_a_fresh_exchange_logs_no_error() {
    if !common::available() {
        return;
    }
    let logs = Logs::capture();
    let mut queues = Queues::default();
    let queue = common::unique("first-start");
    queues.add(format!("{}{queue}", common::EXCHANGE));
    let broker = connect().await;

    // What the service runner does at start: provision the event queue a
    // publisher names, subscribe its consumer trigger, then publish.
    broker
        .provision_queue(&queue, QueueKind::Event)
        .await
        .expect("provisioning the event");
    let event = Subscription {
        queue: queue.clone(),
        consumer: "audit".to_owned(),
        prefetch: 4,
        ack_wait: Duration::from_secs(30),
        provision: true,
        kind: QueueKind::Event,
    };
    queues.add(event_copy_name(&queue, "audit"));
    let mut deliveries = broker.subscribe(&event).await.expect("subscribing");
    let sent = Message::new(br#"{"n":1}"#.to_vec());
    broker
        .publish_to(&queue, QueueKind::Event, &sent)
        .await
        .expect("publishing the event");
    let delivery: Box<dyn Delivery> =
        match tokio::time::timeout(Duration::from_secs(20), deliveries.next()).await {
            Ok(Some(Ok(delivery))) => delivery,
            other => panic!("no delivery: {:?}", other.map(|o| o.map(|r| r.err()))),
        };
    assert_eq!(delivery.message().id, sent.id);
    delivery.ack().await.expect("acknowledging");
    // A round trip on the broker's connection after the acknowledgement:
    // lapin has handled every frame RabbitMQ sent before it.
    broker.ready().await.expect("ready");

    let lines = logs.lines();
    let errors: Vec<&String> = lines.iter().filter(|l| l.contains(" ERROR ")).collect();
    assert!(
        errors.is_empty(),
        "a first start logged errors: {errors:#?}\nall lines: {lines:#?}"
    );
}
