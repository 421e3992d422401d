//! The relay under a storage fault: it backs off, and events committed
//! meanwhile (each of which wakes it) do not turn that into a hot loop;
//! when the fault mends it goes on and publishes what waited.

use std::time::{Duration, Instant};

use bisslog_messaging::{Broker, Message};
use bisslog_runtime::messaging::InProcessBroker;
use bisslog_sql::testing::TestDatabase;
use bisslog_sql::{Outbox, RelayConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_relay_backs_off_however_often_it_is_woken() {
    let test = TestDatabase::sqlite().await;
    let db = test.database.clone();
    db.migrate(&[]).await.unwrap();
    let broker = InProcessBroker::new();
    broker.provision("backoff").await.unwrap();
    let outbox = Outbox::new(db.clone());
    let relay = outbox
        .relay(broker.clone())
        .config(
            // A short lease: the relay renews it (and so meets the fault
            // below) once half of it has passed, not every round.
            RelayConfig::default()
                .lease_ttl(Duration::from_millis(200))
                .failure_backoff(Duration::from_millis(50), Duration::from_secs(1)),
        )
        .spawn();
    let health = relay.health().clone();
    let pool = db.sqlite().unwrap();
    // The fault: the relay's lease table is gone (events can still be
    // written, and each wakes the relay).
    sqlx::query("ALTER TABLE bisslog_leases RENAME TO bisslog_leases_away")
        .execute(pool)
        .await
        .unwrap();
    let since = Instant::now();
    let mut stored = 0;
    while since.elapsed() < Duration::from_secs(2) {
        outbox
            .store("backoff", &Message::new(&b"{}"[..]))
            .await
            .unwrap();
        stored += 1;
    }
    let rounds = health.failed_rounds();
    eprintln!("{stored} events written in 2 s of fault; {rounds} failed rounds");
    assert!(health.failing());
    assert!(stored > 50, "the events woke the relay often: {stored}");
    // 50 ms doubling to 1 s: about 6 rounds in 2 s, whatever wakes it.
    assert!(
        (2..=10).contains(&rounds),
        "backing off, not a hot loop: {rounds} failed rounds in 2 s"
    );
    sqlx::query("ALTER TABLE bisslog_leases_away RENAME TO bisslog_leases")
        .execute(pool)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while outbox.pending().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the relay did not recover");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The round that published them clears the failure when it returns,
    // a moment after the events were marked published.
    while health.failing() {
        assert!(
            Instant::now() < deadline,
            "the relay still says it is failing"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(health.failures_in_a_row(), 0);
    assert_eq!(broker.messages("backoff").len(), stored);
    relay.shutdown().await;
}

/// A broker that takes publications and never answers.
#[derive(Debug)]
struct Unanswering;

impl Broker for Unanswering {
    fn name(&self) -> &str {
        "unanswering"
    }

    fn provision<'a>(
        &'a self,
        _queue: &'a str,
    ) -> bisslog_core::BoxFuture<'a, Result<(), bisslog_messaging::BrokerError>> {
        Box::pin(async { Ok(()) })
    }

    fn publish<'a>(
        &'a self,
        _queue: &'a str,
        _message: &'a Message,
    ) -> bisslog_core::BoxFuture<'a, Result<(), bisslog_messaging::BrokerError>> {
        Box::pin(std::future::pending())
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a bisslog_messaging::Subscription,
    ) -> bisslog_core::BoxFuture<
        'a,
        Result<bisslog_messaging::Deliveries, bisslog_messaging::BrokerError>,
    > {
        Box::pin(async move {
            Err(bisslog_messaging::BrokerError::Connection {
                message: format!("no subscriptions ({})", subscription.queue),
                source: None,
            })
        })
    }
}

/// A round that hangs (a broker that never answers) does not hold the
/// process's shutdown: the relay is stopped after its grace, and the
/// event it was publishing stays in the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_round_is_stopped_after_the_shutdown_grace() {
    let test = TestDatabase::sqlite().await;
    let db = test.database.clone();
    db.migrate(&[]).await.unwrap();
    let outbox = Outbox::new(db.clone());
    outbox
        .store("hangs", &Message::new(&b"{}"[..]))
        .await
        .unwrap();
    let relay = outbox
        .relay(Unanswering)
        .config(RelayConfig::default().shutdown_grace(Duration::from_millis(300)))
        .spawn();
    let health = relay.health().clone();
    // The round has begun when the relay has tried to publish.
    let deadline = Instant::now() + Duration::from_secs(10);
    while health.publish_attempts() == 0 {
        assert!(
            Instant::now() < deadline,
            "the relay never tried to publish"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stopping = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), relay.shutdown())
        .await
        .expect("the shutdown waited past the grace");
    assert!(
        stopping.elapsed() >= Duration::from_millis(300),
        "stopped before the grace: {:?}",
        stopping.elapsed()
    );
    assert_eq!(
        outbox.pending().await.unwrap(),
        1,
        "the event stays in the outbox"
    );
}
