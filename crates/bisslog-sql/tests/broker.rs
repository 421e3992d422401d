//! The broker conformance suite every adapter passes, run unchanged on
//! [`SqlBroker`] over SQLite (a file of this test run) and over PostgreSQL
//! (`BISSLOG_TEST_POSTGRES_URL`; skipped when unset, required under
//! `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bisslog_sql::SqlBroker;

/// SQLite: every client the suite asks for is a new pool on one file, as
/// several processes on one machine would be.
mod sqlite {
    use super::SqlBroker;

    fn url() -> &'static str {
        static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        URL.get_or_init(|| {
            let path = std::env::temp_dir().join(format!(
                "bisslog-broker-conformance-{}.db",
                std::process::id()
            ));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}", path.display())
        })
    }

    async fn connect() -> SqlBroker {
        SqlBroker::connect(url())
            .await
            .unwrap_or_else(|e| panic!("opening the broker at {}: {e}", url()))
    }

    bisslog_testkit::broker_conformance!(connect);
}

/// PostgreSQL: every client is a new pool on one database of the test
/// server, kept between runs (the suite's queue names are unique).
mod postgres {
    use super::SqlBroker;
    use bisslog_sql::Database;
    use tokio::sync::OnceCell;

    const DATABASE: &str = "bisslog_test_broker_conformance";

    fn available() -> bool {
        bisslog_sql::testing::postgres_url().is_some()
    }

    async fn url() -> &'static str {
        static URL: OnceCell<String> = OnceCell::const_new();
        URL.get_or_init(|| async {
            let admin = bisslog_sql::testing::postgres_url()
                .unwrap_or_else(|| panic!("the cases run only with a server"));
            let server = Database::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("reaching the test server: {e}"));
            let pool = server
                .postgres()
                .unwrap_or_else(|| panic!("not PostgreSQL"));
            // Already there from an earlier run (or a concurrent one): fine.
            let _ = sqlx_create(pool).await;
            server.close().await;
            let url = bisslog_sql::testing::with_database(&admin, DATABASE);
            forget_left_overs(&url).await;
            url
        })
        .await
    }

    /// Removes what earlier runs left (a failed case's messages): rows
    /// older than any run takes, so a concurrent run keeps its own.
    async fn forget_left_overs(url: &str) {
        let broker = SqlBroker::connect(url)
            .await
            .unwrap_or_else(|e| panic!("opening the broker at {url}: {e}"));
        let pool = broker
            .database()
            .postgres()
            .unwrap_or_else(|| panic!("not PostgreSQL"));
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            - 10 * 60 * 1000;
        for table in ["bisslog_broker_messages", "bisslog_broker_queues"] {
            bisslog_sql::sqlx::query(bisslog_sql::sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE created_at_ms < $1"
            )))
            .bind(before)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("cleaning {table}: {e}"));
        }
        broker.database().close().await;
    }

    async fn sqlx_create(pool: &bisslog_sql::sqlx::PgPool) -> Result<(), bisslog_sql::sqlx::Error> {
        bisslog_sql::sqlx::query(bisslog_sql::sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {DATABASE}"
        )))
        .execute(pool)
        .await
        .map(drop)
    }

    async fn connect() -> SqlBroker {
        let url = url().await;
        SqlBroker::connect(url)
            .await
            .unwrap_or_else(|e| panic!("opening the broker at {url}: {e}"))
    }

    bisslog_testkit::broker_conformance!(connect, if available);
}

/// What the suite does not cover: surviving a process, duplicates,
/// unprovisioned queues, rows that do not parse.
mod durable {
    use std::time::Duration;

    use bisslog_messaging::{Broker, BrokerError, Deliveries, Delivery, Message, Subscription};
    use bisslog_sql::testing::TestDatabase;
    use bisslog_sql::{SqlBroker, on_engine, sqlx};
    use futures_util::StreamExt as _;

    fn subscription(queue: &str, ack_wait: Duration) -> Subscription {
        Subscription {
            queue: queue.to_owned(),
            consumer: "durable-test".to_owned(),
            prefetch: 16,
            ack_wait,
            provision: true,
            kind: Default::default(),
        }
    }

    /// The next delivery, within 10 s.
    async fn next(deliveries: &mut Deliveries) -> Box<dyn Delivery> {
        tokio::time::timeout(Duration::from_secs(10), deliveries.next())
            .await
            .expect("a delivery within 10 s")
            .expect("the stream goes on")
            .expect("no broker error")
    }

    fn text(delivery: &dyn Delivery) -> String {
        String::from_utf8(delivery.message().payload.to_vec()).unwrap()
    }

    /// An event queue keeps a copy per consumer name, in the database: an
    /// event nobody provisioned is no queue, one nobody subscribed to yet
    /// reaches no one, and a consumer name's copy holds what was published
    /// after its first subscription, for another broker handle too.
    #[tokio::test]
    async fn event_queues_keep_a_copy_per_consumer_name() {
        use bisslog_messaging::{QueueKind, event_copy_name};

        let test = TestDatabase::sqlite().await;
        let broker = SqlBroker::connect(&test.url).await.unwrap();
        assert!(broker.supports_events());
        let message = |n: u32| Message::new(format!(r#"{{"n":{n}}}"#).into_bytes());
        let missing = broker
            .publish_to("orders.created", QueueKind::Event, &message(0))
            .await;
        assert!(
            matches!(missing, Err(BrokerError::NoQueue { .. })),
            "{missing:?}"
        );
        broker
            .provision_queue("orders.created", QueueKind::Event)
            .await
            .unwrap();
        broker
            .publish_to("orders.created", QueueKind::Event, &message(1))
            .await
            .expect("an event nobody subscribed to is accepted");
        let mut billing = broker
            .subscribe(&Subscription {
                consumer: "billing-charge".into(),
                kind: QueueKind::Event,
                ..subscription("orders.created", Duration::from_secs(30))
            })
            .await
            .unwrap();
        let other = SqlBroker::connect(&test.url).await.unwrap();
        other
            .publish_to("orders.created", QueueKind::Event, &message(2))
            .await
            .unwrap();
        let copy = event_copy_name("orders.created", "billing-charge");
        assert_eq!(broker.depth(&copy).await.unwrap(), Some(1));
        let delivery = next(&mut billing).await;
        assert_eq!(text(delivery.as_ref()), r#"{"n":2}"#);
        delivery.ack().await.unwrap();
        assert_eq!(broker.depth(&copy).await.unwrap(), Some(0));
        test.drop_database().await;
    }

    /// The broker names its engine as OpenTelemetry's `messaging.system`.
    #[tokio::test]
    async fn the_messaging_system_is_the_engine() {
        let test = TestDatabase::sqlite().await;
        let broker = SqlBroker::connect(&test.url).await.unwrap();
        assert_eq!(broker.system(), "sqlite");
        test.drop_database().await;
        if let Some(test) = TestDatabase::postgres().await {
            let broker = SqlBroker::connect(&test.url).await.unwrap();
            assert_eq!(broker.system(), "postgresql");
            test.drop_database().await;
        }
    }

    /// A process that dies holding a delivery: a new one on the same
    /// database gets every unacknowledged message once the dead one's
    /// leases run out, counted as second deliveries.
    async fn unacknowledged_messages_outlive_the_process(test: TestDatabase) {
        let queue = "durable.restart";
        let first = SqlBroker::connect(&test.url).await.unwrap();
        first.provision(queue).await.unwrap();
        let mut sent = Vec::new();
        for n in 0..3 {
            let mut message =
                Message::new(format!("m{n}").into_bytes()).with_header("x-n", n.to_string());
            message.transaction_id = Some(format!("t{n}"));
            first.publish(queue, &message).await.unwrap();
            sent.push(message);
        }
        let mut deliveries = first
            .subscribe(&subscription(queue, Duration::from_millis(300)))
            .await
            .unwrap();
        let acked = next(&mut deliveries).await;
        assert_eq!(acked.message(), &sent[0], "a message round-trips exactly");
        acked.ack().await.unwrap();
        let held = next(&mut deliveries).await;
        assert_eq!(text(held.as_ref()), "m1");
        // The process dies: nothing is settled or given back.
        std::mem::forget(held);
        std::mem::forget(deliveries);
        drop(first);

        let second = SqlBroker::connect(&test.url).await.unwrap();
        assert_eq!(second.depth(queue).await.unwrap(), Some(2));
        let mut deliveries = second
            .subscribe(&subscription(queue, Duration::from_secs(30)))
            .await
            .unwrap();
        let mut seen = Vec::new();
        for _ in 0..2 {
            let delivery = next(&mut deliveries).await;
            seen.push((text(delivery.as_ref()), delivery.attempt()));
            assert_eq!(
                delivery.message(),
                &sent[if text(delivery.as_ref()) == "m1" {
                    1
                } else {
                    2
                }]
            );
            delivery.ack().await.unwrap();
        }
        seen.sort();
        // m2 too: the dead process had claimed it with m1 (one claim takes
        // a batch), and a claim counts as a delivery unless given back.
        assert_eq!(seen, [("m1".to_owned(), 2), ("m2".to_owned(), 2)]);
        assert_eq!(second.depth(queue).await.unwrap(), Some(0));
        drop(deliveries);
        second.database().close().await;
        test.drop_database().await;
    }

    /// Duplicates, unprovisioned queues, retries, dropped deliveries and a
    /// row whose headers do not parse.
    async fn the_rest_of_the_contract(test: TestDatabase) {
        let broker = SqlBroker::connect(&test.url).await.unwrap();
        let queue = "durable.contract";

        let refused = broker.publish(queue, &Message::new(&b"x"[..])).await;
        assert!(
            matches!(refused, Err(BrokerError::NoQueue { .. })),
            "{refused:?}"
        );
        let mut unprovisioned = subscription(queue, Duration::from_secs(30));
        unprovisioned.provision = false;
        assert!(matches!(
            broker.subscribe(&unprovisioned).await,
            Err(BrokerError::Provisioning { .. })
        ));

        broker.provision(queue).await.unwrap();
        broker.provision(queue).await.unwrap();
        let message = Message::new(&b"once"[..]);
        broker.publish(queue, &message).await.unwrap();
        broker.publish(queue, &message).await.unwrap();
        assert_eq!(broker.depth(queue).await.unwrap(), Some(1), "stored once");
        let age = broker.oldest_unacked_age(queue).await.unwrap().unwrap();
        assert!(age < Duration::from_secs(60), "just published: {age:?}");

        let mut deliveries = broker
            .subscribe(&subscription(queue, Duration::from_secs(30)))
            .await
            .unwrap();
        // Dropped unsettled: back at once, long before its 30 s lease.
        let dropped = next(&mut deliveries).await;
        assert_eq!(dropped.attempt(), 1);
        drop(dropped);
        let again = next(&mut deliveries).await;
        assert_eq!(
            (again.message().id.as_str(), again.attempt()),
            (message.id.as_str(), 2)
        );
        // Retried after a delay: not before it.
        let retried_at = std::time::Instant::now();
        again.retry(Duration::from_millis(300)).await.unwrap();
        let third = next(&mut deliveries).await;
        assert!(retried_at.elapsed() >= Duration::from_millis(300));
        assert_eq!(third.attempt(), 3);
        third.keep_alive().await.unwrap();
        third.ack().await.unwrap();

        // A row written by something else, its headers not JSON.
        on_engine!(broker.database().pool(), pool => {
            sqlx::query(
                "INSERT INTO bisslog_broker_messages \
                 (queue, message_id, headers, payload, deliveries, available_at_ms, created_at_ms) \
                 VALUES ($1, 'foreign-1', 'not json', $2, 0, 0, 0)",
            )
            .bind(queue)
            .bind(&b"{\"n\":1}"[..])
            .execute(pool)
            .await
            .map(drop)
        })
        .unwrap();
        // Published at the epoch: the backlog's age says so.
        let age = broker.oldest_unacked_age(queue).await.unwrap().unwrap();
        assert!(age > Duration::from_secs(50 * 365 * 86_400), "{age:?}");
        let foreign = next(&mut deliveries).await;
        assert_eq!(foreign.message().id, "foreign-1");
        assert_eq!(&foreign.message().payload[..], b"{\"n\":1}");
        foreign.ack().await.unwrap();
        assert_eq!(broker.depth(queue).await.unwrap(), Some(0));
        assert_eq!(
            broker.oldest_unacked_age(queue).await.unwrap(),
            Some(Duration::ZERO)
        );
        assert!(broker.ready().await.is_ok());
        drop(deliveries);
        broker.database().close().await;
        test.drop_database().await;
    }

    /// A batch is one transaction: all of it is stored, in order, or none
    /// (a queue nobody provisioned refuses the whole batch); duplicates are
    /// stored once; events reach every consumer name's copy; a namespaced
    /// broker passes the batch on under its prefix.
    async fn a_batch_is_stored_whole_or_not_at_all(test: TestDatabase) {
        use bisslog_messaging::{Namespaced, Outgoing, QueueKind, event_copy_name};

        let broker = SqlBroker::connect(&test.url).await.unwrap();
        assert!(broker.publishes_batches());
        let (queue, event) = ("batch.commands", "batch.events");
        broker.provision(queue).await.unwrap();
        broker
            .provision_queue(event, QueueKind::Event)
            .await
            .unwrap();
        let mut audit = broker
            .subscribe(&Subscription {
                consumer: "audit".into(),
                kind: QueueKind::Event,
                ..subscription(event, Duration::from_secs(30))
            })
            .await
            .unwrap();
        let messages: Vec<Message> = (0..4)
            .map(|n| Message::new(format!(r#"{{"n":{n}}}"#).into_bytes()))
            .collect();
        let command = |message| Outgoing {
            queue,
            kind: QueueKind::Command,
            message,
        };

        // A command queue, then an event queue, nobody provisioned.
        let missing = [
            Outgoing {
                queue: "batch.nobody",
                ..command(&messages[2])
            },
            Outgoing {
                queue: "batch.unheard-of",
                kind: QueueKind::Event,
                message: &messages[3],
            },
        ];
        for unknown in missing {
            let refused = broker
                .publish_batch(&[command(&messages[0]), command(&messages[1]), unknown])
                .await;
            assert!(
                matches!(&refused, Err(BrokerError::NoQueue { queue }) if queue == unknown.queue),
                "{refused:?}"
            );
            assert_eq!(broker.depth(queue).await.unwrap(), Some(0), "none stored");
        }

        let batch = [
            command(&messages[0]),
            Outgoing {
                queue: event,
                kind: QueueKind::Event,
                message: &messages[3],
            },
            command(&messages[1]),
            command(&messages[2]),
        ];
        broker.publish_batch(&batch).await.unwrap();
        broker.publish_batch(&batch[..2]).await.unwrap();
        assert_eq!(broker.depth(queue).await.unwrap(), Some(3), "stored once");
        let copy = event_copy_name(event, "audit");
        assert_eq!(broker.depth(&copy).await.unwrap(), Some(1));
        let delivery = next(&mut audit).await;
        assert_eq!(text(delivery.as_ref()), r#"{"n":3}"#);
        delivery.ack().await.unwrap();

        let mut deliveries = broker
            .subscribe(&subscription(queue, Duration::from_secs(30)))
            .await
            .unwrap();
        for n in 0..3 {
            let delivery = next(&mut deliveries).await;
            assert_eq!(
                text(delivery.as_ref()),
                format!(r#"{{"n":{n}}}"#),
                "in order"
            );
            delivery.ack().await.unwrap();
        }

        let staging = Namespaced::new(broker.clone(), "staging.");
        assert!(staging.publishes_batches());
        staging.provision(queue).await.unwrap();
        staging
            .publish_batch(&[command(&messages[0]), command(&messages[1])])
            .await
            .unwrap();
        assert_eq!(
            broker.depth("staging.batch.commands").await.unwrap(),
            Some(2)
        );
        drop((audit, deliveries));
        broker.database().close().await;
        test.drop_database().await;
    }

    /// A batch larger than one statement stores (several multi-row
    /// statements) keeps its order in every queue, commands and events
    /// interleaved; an id given twice in the batch is stored once; an
    /// event with no consumer copies yet reaches no one without failing.
    async fn a_large_batch_keeps_its_order(test: TestDatabase) {
        use bisslog_messaging::{Outgoing, QueueKind, event_copy_name};

        let broker = SqlBroker::connect(&test.url).await.unwrap();
        let (queue, event, unheard) = ("large.commands", "large.events", "large.unheard");
        broker.provision(queue).await.unwrap();
        for name in [event, unheard] {
            broker
                .provision_queue(name, QueueKind::Event)
                .await
                .unwrap();
        }
        let mut copies = Vec::new();
        for consumer in ["audit", "search"] {
            copies.push(
                broker
                    .subscribe(&Subscription {
                        consumer: consumer.into(),
                        kind: QueueKind::Event,
                        prefetch: 64,
                        ..subscription(event, Duration::from_secs(30))
                    })
                    .await
                    .unwrap(),
            );
        }
        // Over 100 (one statement's most) of each kind.
        const SENT: usize = 450;
        let messages: Vec<Message> = (0..SENT)
            .map(|n| Message::new(format!(r#"{{"n":{n}}}"#).into_bytes()))
            .collect();
        let mut batch: Vec<Outgoing<'_>> = Vec::new();
        for (n, message) in messages.iter().enumerate() {
            let (queue, kind) = match n % 3 {
                0 => (event, QueueKind::Event),
                1 => (unheard, QueueKind::Event),
                _ => (queue, QueueKind::Command),
            };
            batch.push(Outgoing {
                queue,
                kind,
                message,
            });
        }
        // The first command and the first event again, at the end.
        batch.push(batch[2]);
        batch.push(batch[0]);
        broker.publish_batch(&batch).await.unwrap();

        let expected = |rest: usize| -> Vec<String> {
            (0..SENT)
                .filter(|n| n % 3 == rest)
                .map(|n| format!(r#"{{"n":{n}}}"#))
                .collect()
        };
        let commands = expected(2);
        assert_eq!(
            broker.depth(queue).await.unwrap(),
            Some(commands.len() as u64),
            "the command given twice is stored once"
        );
        let mut deliveries = broker
            .subscribe(&Subscription {
                prefetch: 64,
                ..subscription(queue, Duration::from_secs(30))
            })
            .await
            .unwrap();
        for want in &commands {
            let delivery = next(&mut deliveries).await;
            assert_eq!(&text(delivery.as_ref()), want, "commands in order");
            delivery.ack().await.unwrap();
        }
        let events = expected(0);
        for (consumer, copy) in ["audit", "search"].into_iter().zip(&mut copies) {
            assert_eq!(
                broker
                    .depth(&event_copy_name(event, consumer))
                    .await
                    .unwrap(),
                Some(events.len() as u64),
                "{consumer}'s copy holds each event once"
            );
            for want in &events {
                let delivery = next(copy).await;
                assert_eq!(&text(delivery.as_ref()), want, "{consumer}: in order");
                delivery.ack().await.unwrap();
            }
        }
        drop((copies, deliveries));
        broker.database().close().await;
        test.drop_database().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_batch_keeps_its_order_on_sqlite() {
        a_large_batch_keeps_its_order(TestDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_batch_keeps_its_order_on_postgres() {
        if let Some(test) = TestDatabase::postgres().await {
            a_large_batch_keeps_its_order(test).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_is_stored_whole_or_not_at_all_on_sqlite() {
        a_batch_is_stored_whole_or_not_at_all(TestDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_is_stored_whole_or_not_at_all_on_postgres() {
        if let Some(test) = TestDatabase::postgres().await {
            a_batch_is_stored_whole_or_not_at_all(test).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unacknowledged_messages_outlive_the_process_on_sqlite() {
        unacknowledged_messages_outlive_the_process(TestDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unacknowledged_messages_outlive_the_process_on_postgres() {
        if let Some(test) = TestDatabase::postgres().await {
            unacknowledged_messages_outlive_the_process(test).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_rest_of_the_contract_on_sqlite() {
        the_rest_of_the_contract(TestDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_rest_of_the_contract_on_postgres() {
        if let Some(test) = TestDatabase::postgres().await {
            the_rest_of_the_contract(test).await;
        }
    }
}
