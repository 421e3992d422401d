//! Crash safety, end to end: 10,000 insertion messages, the registry
//! killed (SIGKILL, by its pid) five times at random moments and started
//! again, with its outbox relay killed mid-drain each time. Every message
//! must have its effect exactly once, and every insertion must reach the
//! audit service exactly once (its inbox absorbing the relay's duplicates).

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use bisslog::sql::{Database, on_engine, sqlx};
use bisslog_sql::testing::TestDatabase;
use reqwest::Method as M;
use serde_json::Value;
use support::{AUDIT, REGISTRY, RealBroker, Server};

const MESSAGES: u64 = 10_000;
const KILLS: usize = 5;

/// A random whole number in `range`.
fn random(range: std::ops::Range<u64>) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(Instant::now().elapsed().as_nanos() as u64);
    range.start + hasher.finish() % (range.end - range.start)
}

async fn count(db: &Database, sql: &'static str) -> i64 {
    on_engine!(db.pool(), pool => sqlx::query_scalar(sql).fetch_one(pool).await).unwrap()
}

/// Waits, for at most `limit`, until `done` says so, looking every 200 ms:
/// these are other processes' databases and queues, with nothing to
/// notify the test.
async fn until<F: std::future::Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> F,
) {
    let deadline = Instant::now() + limit;
    let mut ticks = tokio::time::interval(Duration::from_millis(200));
    loop {
        ticks.tick().await;
        if done().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
    }
}

async fn killed_five_times_every_effect_once(broker: RealBroker) {
    let Some(registry_db) = TestDatabase::postgres().await else {
        return;
    };
    let Some(audit_db) = TestDatabase::postgres().await else {
        return;
    };
    let namespace = support::namespace("kill");
    let url = broker.url();
    let env = [
        ("DATABASE_URL", registry_db.url.as_str()),
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
        ("RUST_LOG", "info,bisslog_runtime=warn"),
    ];
    let audit_env = [
        ("DATABASE_URL", audit_db.url.as_str()),
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
    ];
    let mut registry = Server::spawn(REGISTRY, &env, "registry data listening on http://");
    let audit = Server::spawn(AUDIT, &audit_env, "audit listening on http://");
    let (status, _) = registry
        .send(M::POST, "/schemas", Some(support::counter_schema()))
        .await;
    assert_eq!(status, 201);

    let client = support::client(broker, &namespace).await;
    support::publish_counters(&client, MESSAGES).await;

    let mut skipped_by_registry = 0;
    for kill in 1..=KILLS {
        // A random moment: after a random number of insertions.
        let wait_for = random(200..1200);
        for _ in 0..wait_for {
            if registry
                .wait_for_line_within(Duration::from_secs(30), |l| l.contains("[data-inserted]"))
                .is_none()
            {
                break;
            }
        }
        skipped_by_registry += registry
            .output()
            .iter()
            .filter(|l| l.contains("already handled"))
            .count();
        let status = registry.kill();
        assert!(!status.success(), "kill {kill} stopped it");
        registry = Server::spawn(REGISTRY, &env, "registry data listening on http://");
    }

    let records = &registry_db.database;
    until("every insertion", Duration::from_secs(300), || async {
        count(
            records,
            "SELECT COUNT(*) FROM records WHERE keyname = 'counter'",
        )
        .await
            >= MESSAGES as i64
    })
    .await;
    until(
        "the insertion queue to drain",
        Duration::from_secs(120),
        || async { support::depth(broker, &namespace, "company_data_insertion.queue").await == 0 },
    )
    .await;
    until("the outbox to drain", Duration::from_secs(120), || async {
        count(
            records,
            "SELECT COUNT(*) FROM bisslog_outbox WHERE published_at_ms IS NULL",
        )
        .await
            == 0
    })
    .await;
    let relayed_twice =
        count(records, "SELECT COUNT(*) FROM bisslog_outbox").await - MESSAGES as i64;
    skipped_by_registry += registry
        .output()
        .iter()
        .filter(|l| l.contains("already handled"))
        .count();
    assert!(registry.terminate().success());
    let rows: Vec<(String, String)> = on_engine!(records.pool(), pool => {
        sqlx::query_as("SELECT uid, data::text FROM records WHERE keyname = 'counter'")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let numbers: BTreeSet<u64> = rows
        .iter()
        .map(|(_, data)| {
            serde_json::from_str::<Value>(data).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(rows.len() as u64, MESSAGES, "no message had two effects");
    assert_eq!(
        numbers.len() as u64,
        MESSAGES,
        "every message had its effect"
    );

    // The relay was killed mid-drain five times; what it sent twice, the
    // audit's inbox dropped.
    let trail = &audit_db.database;
    until(
        "every insertion audited",
        Duration::from_secs(300),
        || async { count(trail, "SELECT COUNT(*) FROM audit_insertions").await >= MESSAGES as i64 },
    )
    .await;
    until(
        "the event queue to drain",
        Duration::from_secs(120),
        || async { support::depth(broker, &namespace, "company_data.inserted").await == 0 },
    )
    .await;
    let skipped = audit
        .output()
        .iter()
        .filter(|l| l.contains("already handled"))
        .count();
    assert!(audit.terminate().success());
    let audited: Vec<String> = on_engine!(trail.pool(), pool => {
        sqlx::query_scalar("SELECT uid FROM audit_insertions").fetch_all(pool).await
    })
    .unwrap();
    let uids: BTreeSet<&str> = rows.iter().map(|(uid, _)| uid.as_str()).collect();
    assert_eq!(
        audited.len() as u64,
        MESSAGES,
        "each insertion audited once"
    );
    assert_eq!(
        audited.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        uids
    );
    println!(
        "{broker:?}: {MESSAGES} messages, {KILLS} kills; redeliveries dropped by the registry's inbox: {skipped_by_registry}, by the audit's: {skipped}"
    );
    assert_eq!(relayed_twice, 0, "one outbox row per record");
    support::clean_up(broker, &namespace).await;
    registry_db.drop_database().await;
    audit_db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_five_times_every_effect_once_on_nats() {
    if !RealBroker::Nats.available() {
        return;
    }
    killed_five_times_every_effect_once(RealBroker::Nats).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_five_times_every_effect_once_on_rabbitmq() {
    if !RealBroker::Amqp.available() {
        return;
    }
    killed_five_times_every_effect_once(RealBroker::Amqp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_five_times_every_effect_once_on_redis() {
    if !RealBroker::Redis.available() {
        return;
    }
    killed_five_times_every_effect_once(RealBroker::Redis).await;
}
