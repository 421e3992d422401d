//! What is particular to RabbitMQ: declarations, mandatory publishing,
//! retry queues, foreign messages, redeliveries.

mod common;

use std::time::{Duration, Instant};

use bisslog_amqp::{AmqpBroker, AmqpConfig};
use bisslog_messaging::{
    Broker, BrokerError, BrokerPublisher, Deliveries, Delivery, Message, Subscription,
};
use common::{Queues, connect};
use futures_util::StreamExt as _;
use futures_util::future::join_all;
use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, ByteArray, FieldArray, FieldTable, ShortString};
use lapin::{BasicProperties, Connection, ConnectionProperties};

const PATIENCE: Duration = Duration::from_secs(20);

fn subscription(queue: &str, provision: bool) -> Subscription {
    Subscription {
        queue: queue.to_owned(),
        consumer: "bisslog-amqp-tests".to_owned(),
        prefetch: 4,
        ack_wait: Duration::from_secs(30),
        provision,
        kind: Default::default(),
    }
}

async fn next(deliveries: &mut Deliveries) -> Box<dyn Delivery> {
    match tokio::time::timeout(PATIENCE, deliveries.next()).await {
        Ok(Some(Ok(delivery))) => delivery,
        Ok(Some(Err(e))) => panic!("the subscription failed: {e}"),
        Ok(None) => panic!("the subscription ended"),
        Err(_) => panic!("no delivery within {PATIENCE:?}"),
    }
}

/// A raw lapin channel, as another producer or an operator has.
async fn raw_channel() -> (Connection, lapin::Channel) {
    let connection = Connection::connect(&common::url(), ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| panic!("connecting: {e}"));
    let channel = connection
        .create_channel()
        .await
        .unwrap_or_else(|e| panic!("opening a channel: {e}"));
    (connection, channel)
}

fn json(n: u32) -> Message {
    Message::new(format!(r#"{{"n":{n}}}"#).into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_is_idempotent_even_when_concurrent() {
    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let broker = connect().await;
    let other = connect().await;
    let queue = queues.unique("provision");
    broker
        .provision(&queue)
        .await
        .expect("the first declaration");
    broker.provision(&queue).await.expect("the same again");
    other
        .provision(&queue)
        .await
        .expect("from another connection");

    let fresh = queues.unique("provision-together");
    let outcomes = join_all((0..8).map(|i| {
        let client = if i % 2 == 0 { &broker } else { &other };
        client.provision(&fresh)
    }))
    .await;
    for outcome in outcomes {
        outcome.expect("concurrent declarations of a new queue all succeed");
    }
    broker
        .publish(&fresh, &json(1))
        .await
        .expect("the queue works");
    broker.ready().await.expect("still ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_to_a_missing_queue_is_no_queue() {
    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let broker = connect().await;
    let missing = common::unique("missing");
    match broker.publish(&missing, &json(1)).await {
        Err(BrokerError::NoQueue { queue }) => assert_eq!(queue, missing),
        other => panic!("expected NoQueue, got {other:?}"),
    }

    // A queue the broker saw, deleted behind its back: the mandatory
    // publish comes back.
    let queue = queues.unique("deleted");
    broker.provision(&queue).await.expect("provisioning");
    broker.publish(&queue, &json(1)).await.expect("publishing");
    connect()
        .await
        .delete_queue(&queue)
        .await
        .expect("deleting it from elsewhere");
    match broker.publish(&queue, &json(2)).await {
        Err(BrokerError::NoQueue { queue: q }) => assert_eq!(q, queue),
        other => panic!("expected NoQueue from the basic.return, got {other:?}"),
    }
    match broker.publish(&queue, &json(3)).await {
        Err(BrokerError::NoQueue { .. }) => {}
        other => panic!("expected NoQueue again, got {other:?}"),
    }

    // A publisher that may provision declares it and publishes.
    let publisher = BrokerPublisher::new(broker.clone());
    let message = json(4);
    publisher
        .publish_message(&queue, &message)
        .await
        .expect("provisioned on the way");
    let mut deliveries = broker
        .subscribe(&subscription(&queue, false))
        .await
        .expect("subscribing");
    let delivery = next(&mut deliveries).await;
    assert_eq!(delivery.message().id, message.id);
    delivery.ack().await.expect("acknowledging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_waits_in_its_retry_queue_and_counts_one_more_attempt() {
    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let broker = connect().await;
    let queue = queues.unique("retry");
    let delay = Duration::from_millis(1500);
    queues.add(AmqpBroker::retry_queue_name(&queue, delay));
    broker.provision(&queue).await.expect("provisioning");
    let mut deliveries = broker
        .subscribe(&subscription(&queue, true))
        .await
        .expect("subscribing");

    let mut sent = json(1).with_header("x-tenant", "acme");
    sent.transaction_id = Some("t-1".into());
    sent.event_type = Some("inserted".into());
    sent.key = Some("company-7".into());
    broker.publish(&queue, &sent).await.expect("publishing");

    let first = next(&mut deliveries).await;
    assert_eq!(first.attempt(), 1);
    assert_eq!(first.message().id, sent.id);
    let retried_at = Instant::now();
    first.retry(delay).await.expect("retrying");

    let second = next(&mut deliveries).await;
    let waited = retried_at.elapsed();
    assert!(
        waited >= delay - Duration::from_millis(100) && waited < delay + Duration::from_secs(10),
        "back after about {delay:?}, not {waited:?}"
    );
    assert_eq!(second.attempt(), 2);
    let message = second.message();
    assert_eq!(message.id, sent.id, "the same id");
    assert_eq!(message.payload, sent.payload);
    assert_eq!(message.transaction_id.as_deref(), Some("t-1"));
    assert_eq!(message.event_type.as_deref(), Some("inserted"));
    assert_eq!(message.key.as_deref(), Some("company-7"));
    assert_eq!(message.header("x-tenant"), Some("acme"));
    assert_eq!(message.header("x-bisslog-attempt"), None);
    assert!(
        message.headers.iter().all(|(n, _)| !n.contains("death")),
        "RabbitMQ's dead-lettering records are not headers: {:?}",
        message.headers
    );

    // The retry queue is what the crate documents.
    let (_connection, channel) = raw_channel().await;
    let retry_queue = AmqpBroker::retry_queue_name(&queue, delay);
    channel
        .queue_declare(
            retry_queue.as_str().into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("the retry queue exists");

    // No delay: straight back, counting on.
    second
        .retry(Duration::ZERO)
        .await
        .expect("retrying at once");
    let third = next(&mut deliveries).await;
    assert_eq!(third.attempt(), 3);
    assert_eq!(third.message().id, sent.id);
    third.ack().await.expect("acknowledging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_delivery_comes_back_as_another_attempt() {
    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let broker = connect().await;
    let queue = queues.unique("abandoned");
    broker.provision(&queue).await.expect("provisioning");
    let mut deliveries = broker
        .subscribe(&subscription(&queue, true))
        .await
        .expect("subscribing");
    let sent = json(1);
    broker.publish(&queue, &sent).await.expect("publishing");
    let first = next(&mut deliveries).await;
    assert_eq!(first.attempt(), 1);
    drop(first);
    let second = next(&mut deliveries).await;
    assert_eq!(second.message().id, sent.id);
    assert_eq!(second.attempt(), 2, "RabbitMQ marked it redelivered");
    second.ack().await.expect("acknowledging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_messages_are_consumed_and_decoded() {
    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let broker = connect().await;
    let queue = queues.unique("foreign");
    broker.provision(&queue).await.expect("provisioning");

    let (_connection, channel) = raw_channel().await;
    let mut headers = FieldTable::default();
    for (name, value) in [
        ("transaction-id", AMQPValue::LongString("upstream-7".into())),
        ("x-count", AMQPValue::LongInt(-42)),
        ("x-big", AMQPValue::LongLongInt(9_000_000_000)),
        ("x-flag", AMQPValue::Boolean(true)),
        ("x-ratio", AMQPValue::Double(0.25)),
        ("x-when", AMQPValue::Timestamp(1_700_000_000)),
        ("x-latin1", AMQPValue::LongString(vec![b'a', 0xe9].into())),
        (
            "x-list",
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::LongInt(1)])),
        ),
        ("x-table", AMQPValue::FieldTable(FieldTable::default())),
        (
            "x-bytes",
            AMQPValue::ByteArray(ByteArray::from(vec![1, 2, 3])),
        ),
        ("x-nothing", AMQPValue::Void),
    ] {
        headers.insert(ShortString::from(name), value);
    }
    let properties = BasicProperties::default()
        .with_headers(headers)
        .with_content_type("text/plain".into());
    channel
        .basic_publish(
            ShortString::from(""),
            ShortString::from(queue.as_str()),
            BasicPublishOptions::default(),
            b"plain text, no id",
            properties,
        )
        .await
        .expect("publishing raw")
        .await
        .expect("sent");
    // Nothing at all but a payload.
    channel
        .basic_publish(
            ShortString::from(""),
            ShortString::from(queue.as_str()),
            BasicPublishOptions::default(),
            &[0xff, 0x00],
            BasicProperties::default(),
        )
        .await
        .expect("publishing raw")
        .await
        .expect("sent");

    let mut deliveries = broker
        .subscribe(&subscription(&queue, false))
        .await
        .expect("subscribing");
    let delivery = next(&mut deliveries).await;
    let message = delivery.message().clone();
    assert_eq!(delivery.attempt(), 1);
    assert!(!message.id.is_empty(), "a message without an id gets one");
    assert_eq!(&message.payload[..], b"plain text, no id");
    assert_eq!(message.transaction_id.as_deref(), Some("upstream-7"));
    assert_eq!(message.event_type, None);
    for (name, value) in [
        ("x-count", "-42"),
        ("x-big", "9000000000"),
        ("x-flag", "true"),
        ("x-ratio", "0.25"),
        ("x-when", "1700000000"),
        ("x-latin1", "a\u{fffd}"),
        ("content-type", "text/plain"),
    ] {
        assert_eq!(message.header(name), Some(value), "{name}");
    }
    for skipped in ["x-list", "x-table", "x-bytes", "x-nothing"] {
        assert_eq!(message.header(skipped), None, "{skipped}");
    }
    // Retried, it keeps the id it was given.
    delivery.retry(Duration::ZERO).await.expect("retrying");

    let bare = next(&mut deliveries).await;
    assert_eq!(&bare.message().payload[..], &[0xff, 0x00]);
    assert!(bare.message().headers.is_empty());
    assert!(!bare.message().id.is_empty());
    bare.ack().await.expect("acknowledging");

    let again = next(&mut deliveries).await;
    assert_eq!(again.message().id, message.id);
    assert_eq!(again.attempt(), 2);
    assert_eq!(again.message().header("x-count"), Some("-42"));
    again.ack().await.expect("acknowledging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provisioning_conflict_is_reported_and_the_broker_keeps_working() {
    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let queue = queues.unique("conflict");
    let (_connection, channel) = raw_channel().await;
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-length".into(), AMQPValue::LongLongInt(10));
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await
        .expect("an operator's queue");

    let broker = connect().await;
    match broker.provision(&queue).await {
        Err(BrokerError::Provisioning { queue: q, message }) => {
            assert_eq!(q, queue);
            assert!(
                message.contains("x-max-length") && message.contains("other settings"),
                "the message says what differs: {message}"
            );
        }
        other => panic!("expected a provisioning error, got {other:?}"),
    }
    match broker.subscribe(&subscription(&queue, true)).await {
        Err(BrokerError::Provisioning { .. }) => {}
        Err(other) => panic!("expected a provisioning error, got {other:?}"),
        Ok(_) => panic!("expected a provisioning error, got a subscription"),
    }

    // The broker goes on: other queues, the conflicting one as it is.
    let other = queues.unique("after-conflict");
    broker
        .provision(&other)
        .await
        .expect("another queue afterwards");
    broker.ready().await.expect("ready");
    let sent = json(1);
    broker
        .publish(&queue, &sent)
        .await
        .expect("publishing to the existing queue");
    let mut deliveries = broker
        .subscribe(&subscription(&queue, false))
        .await
        .expect("without provisioning, any settings do");
    let delivery = next(&mut deliveries).await;
    assert_eq!(delivery.message().id, sent.id);
    delivery.ack().await.expect("acknowledging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_provisioning_the_queue_must_exist() {
    if !common::available() {
        return;
    }
    let broker = connect().await;
    let missing = common::unique("not-provisioned");
    match broker.subscribe(&subscription(&missing, false)).await {
        Err(BrokerError::Provisioning { queue, message }) => {
            assert_eq!(queue, missing);
            assert!(message.contains("does not exist"), "{message}");
        }
        Err(other) => panic!("expected a provisioning error, got {other:?}"),
        Ok(_) => panic!("subscribed to a queue that does not exist"),
    }
    broker.ready().await.expect("still ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_of_one_queue_share_its_messages() {
    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let broker = connect().await;
    let queue = queues.unique("competing");
    broker.provision(&queue).await.expect("provisioning");
    let mut first = broker
        .subscribe(&subscription(&queue, true))
        .await
        .expect("subscribing");
    let mut second = connect()
        .await
        .subscribe(&subscription(&queue, true))
        .await
        .expect("subscribing again");
    for n in 0..2 {
        broker.publish(&queue, &json(n)).await.expect("publishing");
    }
    // Round robin: one each, and neither is handed the other's.
    let a = next(&mut first).await;
    let b = next(&mut second).await;
    assert_ne!(a.message().id, b.message().id);
    a.ack().await.expect("acknowledging");
    b.ack().await.expect("acknowledging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_do_not_leak_the_password() {
    if !common::available() {
        return;
    }
    let error = AmqpBroker::connect_with(
        "amqp://guest:hunter2@127.0.0.1:1/%2f",
        AmqpConfig::default().operation_timeout(Duration::from_secs(5)),
    )
    .await
    .expect_err("nothing listens on port 1");
    assert!(
        matches!(
            error,
            BrokerError::Connection { .. } | BrokerError::Timeout { .. }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");

    let broker = connect().await;
    assert!(!format!("{broker:?}").contains(":guest@"));
    broker.ready().await.expect("ready");
}

/// An event queue is a fanout exchange named after it: a plain AMQP queue
/// bound to it gets each event once, with the documented properties and
/// headers, alongside a bisslog consumer's own queue; a plain publisher
/// to the exchange feeds both; an event nobody subscribed to is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_interoperate_with_plain_amqp_clients() {
    use bisslog_messaging::{QueueKind, event_copy_name, headers};
    use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions};

    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let broker = connect().await;
    let queue = common::unique("events");
    queues.add(format!("{}{queue}", common::EXCHANGE));

    // Provisioned, with no consumer yet: publishing is accepted and the
    // event reaches no one.
    broker
        .provision_queue(&queue, QueueKind::Event)
        .await
        .unwrap();
    broker
        .publish_to(&queue, QueueKind::Event, &json(0))
        .await
        .expect("an event nobody subscribed to is accepted");

    let bisslog_side = Subscription {
        consumer: "billing-charge".into(),
        kind: QueueKind::Event,
        ..subscription(&queue, true)
    };
    queues.add(event_copy_name(&queue, "billing-charge"));
    let mut deliveries = broker.subscribe(&bisslog_side).await.unwrap();

    // What an operator writes for a program that is not bisslog.
    let (_connection, channel) = raw_channel().await;
    let plain_queue = queues.unique("plain-reader");
    channel
        .queue_declare(
            plain_queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            plain_queue.as_str().into(),
            queue.as_str().into(),
            queue.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut plain = channel
        .basic_consume(
            plain_queue.as_str().into(),
            "plain-reader".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();

    let mut sent = json(1);
    sent.event_type = Some("order-created".into());
    sent.transaction_id = Some("tx-1".into());
    broker
        .publish_to(&queue, QueueKind::Event, &sent)
        .await
        .unwrap();
    let got = tokio::time::timeout(PATIENCE, plain.next())
        .await
        .expect("the plain queue gets the event")
        .unwrap()
        .unwrap();
    assert_eq!(&got.data[..], br#"{"n":1}"#);
    let properties = &got.properties;
    assert_eq!(
        properties.message_id().as_ref().map(|s| s.as_str()),
        Some(sent.id.as_str())
    );
    assert_eq!(
        properties.kind().as_ref().map(|s| s.as_str()),
        Some("order-created")
    );
    assert_eq!(
        properties.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(properties.delivery_mode(), &Some(2));
    let transaction = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(headers::TRANSACTION_ID).cloned());
    assert!(
        matches!(&transaction, Some(AMQPValue::LongString(s)) if s.to_string() == "tx-1"),
        "{transaction:?}"
    );
    got.ack(BasicAckOptions::default()).await.unwrap();
    let first = next(&mut deliveries).await;
    assert_eq!(first.message().id, sent.id);
    assert_eq!(first.message().event_type.as_deref(), Some("order-created"));
    first.ack().await.unwrap();

    // A plain publisher to the exchange feeds both.
    channel
        .basic_publish(
            queue.as_str().into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            br#"{"n":2}"#,
            BasicProperties::default().with_message_id("from-plain-2".into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let second = next(&mut deliveries).await;
    assert_eq!(second.message().id, "from-plain-2");
    second.ack().await.unwrap();
    let again = tokio::time::timeout(PATIENCE, plain.next())
        .await
        .expect("the plain queue gets the plain event")
        .unwrap()
        .unwrap();
    assert_eq!(&again.data[..], br#"{"n":2}"#);
    again.ack(BasicAckOptions::default()).await.unwrap();
    // Each got the two events once, and the one published before either
    // subscribed reached neither.
    assert_eq!(
        broker
            .depth(&event_copy_name(&queue, "billing-charge"))
            .await
            .unwrap(),
        Some(0)
    );
    drop(deliveries);

    // Without its exchange, an event has nowhere to go: no queue.
    broker.delete_exchange(&queue).await.unwrap();
    match broker.publish_to(&queue, QueueKind::Event, &json(3)).await {
        Err(BrokerError::NoQueue { .. }) => {}
        other => panic!("expected NoQueue without the exchange, got {other:?}"),
    }
}

/// Provisioning never changes an operator's exchange: a (non-durable)
/// topic exchange named after the event is kept as it is, and used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_exchange_of_another_kind_is_used_as_it_is() {
    use bisslog_messaging::{QueueKind, event_copy_name};
    use lapin::ExchangeKind;
    use lapin::options::ExchangeDeclareOptions;

    if !common::available() {
        return;
    }
    let mut queues = Queues::default();
    let queue = common::unique("operators-exchange");
    queues.add(format!("{}{queue}", common::EXCHANGE));
    let (_connection, channel) = raw_channel().await;
    let operators = ExchangeDeclareOptions::default();
    channel
        .exchange_declare(
            queue.as_str().into(),
            ExchangeKind::Topic,
            operators,
            FieldTable::default(),
        )
        .await
        .expect("an operator's topic exchange");

    let broker = connect().await;
    broker
        .provision_queue(&queue, QueueKind::Event)
        .await
        .expect("an exchange of another kind is used, not an error");
    let event = Subscription {
        kind: QueueKind::Event,
        ..subscription(&queue, true)
    };
    queues.add(event_copy_name(&queue, &event.consumer));
    let mut deliveries = broker.subscribe(&event).await.expect("subscribing");
    let sent = json(1);
    broker
        .publish_to(&queue, QueueKind::Event, &sent)
        .await
        .expect("publishing to the operator's exchange");
    let delivery = next(&mut deliveries).await;
    assert_eq!(delivery.message().id, sent.id);
    delivery.ack().await.expect("acknowledging");

    // Still the operator's: declaring it again as it was is accepted (a
    // durable fanout in its place would be refused, PRECONDITION_FAILED).
    channel
        .exchange_declare(
            queue.as_str().into(),
            ExchangeKind::Topic,
            operators,
            FieldTable::default(),
        )
        .await
        .expect("the exchange is still a non-durable topic exchange");
}

/// Without provisioning, an event's exchange must exist: a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_provisioning_the_event_exchange_must_exist() {
    use bisslog_messaging::QueueKind;

    if !common::available() {
        return;
    }
    let broker = connect().await;
    let missing = common::unique("no-exchange");
    let event = Subscription {
        kind: QueueKind::Event,
        ..subscription(&missing, false)
    };
    match broker.subscribe(&event).await {
        Err(BrokerError::Provisioning { queue, message }) => {
            assert_eq!(queue, missing);
            assert!(
                message.contains("does not exist") && message.contains("operators"),
                "{message}"
            );
        }
        Err(other) => panic!("expected a provisioning error, got {other:?}"),
        Ok(_) => panic!("subscribed to an event whose exchange does not exist"),
    }
    match broker
        .publish_to(&missing, QueueKind::Event, &json(1))
        .await
    {
        Err(BrokerError::NoQueue { queue }) => assert_eq!(queue, missing),
        other => panic!("expected NoQueue, got {other:?}"),
    }
    broker.ready().await.expect("still ready");
}
