//! The outbox relay across a NATS outage, against a nats-server of the
//! test's own (killed by its pid, restarted on the same port and store):
//! while the broker is down the relay backs off instead of retrying in a
//! hot loop, and once the client has reconnected it publishes at once.
//! The outbox is SQLite: no PostgreSQL needed.

use std::time::{Duration, Instant};

use bisslog_messaging::{Broker, Message};
use bisslog_nats::NatsBroker;
use bisslog_sql::{Database, Outbox, RelayConfig};
use bisslog_testkit::private_nats::PrivateNats;

const QUEUE: &str = "relay.recovery";

/// Polls `check` until it holds, for at most `within` (between polls a
/// short pause: the conditions are states, not events one can await).
async fn until<F: std::future::Future<Output = bool>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) -> Instant {
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn keyed(n: u32) -> Message {
    Message {
        key: Some("order-7".into()),
        ..Message::new(format!(r#"{{"n":{n}}}"#).into_bytes())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_backs_off_while_nats_is_down_and_publishes_at_once_when_it_is_back() {
    let Some(mut nats) = PrivateNats::start_or_skip("relay_recovery") else {
        return;
    };
    let broker = NatsBroker::connect(&nats.url()).await.unwrap();
    broker.provision(QUEUE).await.unwrap();
    let db = Database::connect(&format!("sqlite://{}/outbox.db", nats.dir().display()))
        .await
        .unwrap();
    db.migrate(&[]).await.unwrap();
    let outbox = Outbox::new(db);
    // The default failure backoff and recovery probe: what services get.
    let relay = outbox
        .relay(broker.clone())
        .config(RelayConfig::default().poll_interval(Duration::from_millis(200)))
        .spawn();
    let health = relay.health().clone();

    outbox.store(QUEUE, &keyed(0)).await.unwrap();
    until(
        "the first event published",
        Duration::from_secs(10),
        || async { outbox.pending().await.unwrap() == 0 },
    )
    .await;

    // The outage: the server killed, events written meanwhile.
    nats.stop().unwrap();
    for n in 1..=5 {
        outbox.store(QUEUE, &keyed(n)).await.unwrap();
    }
    until("the relay failing", Duration::from_secs(10), || async {
        health.failing()
    })
    .await;
    let attempts_before = health.publish_attempts();
    let rounds_before = health.failed_rounds();
    // Two seconds of outage: the scenario's length, not a wait for an
    // event.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attempts_during = health.publish_attempts() - attempts_before;
    let rounds_during = health.failed_rounds() - rounds_before;
    eprintln!(
        "during 2 s of outage: {attempts_during} publish attempts, {rounds_during} failed rounds, {} failures in a row",
        health.failures_in_a_row()
    );
    assert_eq!(
        attempts_during, 0,
        "while the broker is down the relay probes it instead of publishing"
    );
    assert!(
        rounds_during <= 8,
        "backing off, not a hot loop: {rounds_during} failed rounds in 2 s"
    );
    assert_eq!(outbox.pending().await.unwrap(), 5);

    // Back, on the same port and store.
    nats.restart().unwrap();
    let accepting = Instant::now();
    let reconnected = until(
        "the client reconnected",
        Duration::from_secs(15),
        || async { broker.client().connection_state() == async_nats::connection::State::Connected },
    )
    .await;
    let published = until("the events published", Duration::from_secs(15), || async {
        outbox.pending().await.unwrap() == 0
    })
    .await;
    let after_reconnection = published.saturating_duration_since(reconnected);
    eprintln!(
        "published {after_reconnection:?} after the client reconnected ({:?} after the server accepted connections again)",
        published.saturating_duration_since(accepting)
    );
    assert!(
        after_reconnection < Duration::from_millis(1500),
        "the relay took {after_reconnection:?} after reconnection"
    );
    // The round that published them clears the failure when it returns,
    // a moment after the events were marked published.
    until(
        "the relay no longer failing",
        Duration::from_secs(5),
        || async { !health.failing() },
    )
    .await;
    assert_eq!(broker.depth(QUEUE).await.unwrap(), Some(6));
    // Nothing consumed them: the first one waits since it was published.
    let age = broker.oldest_unacked_age(QUEUE).await.unwrap().unwrap();
    assert!(
        age > Duration::ZERO && age < Duration::from_secs(120),
        "{age:?}"
    );
    relay.shutdown().await;
}
