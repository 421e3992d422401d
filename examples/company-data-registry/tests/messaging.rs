//! The registry's messaging end to end, with the real binaries: its
//! consumer trigger and its `company_data.inserted` events reaching the
//! audit service, on the in-process broker (one process), on NATS
//! JetStream, RabbitMQ, Redis Streams and (with the example's `kafka`
//! feature) Kafka, with SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::time::Duration;

use bisslog::messaging::{Broker, Message};
use bisslog_sql::testing::TestDatabase;
use reqwest::Method as M;
use serde_json::{Value, json};
use support::{AUDIT, REGISTRY, RealBroker, Server, transaction_of};

fn language_schema() -> Value {
    json!({
        "schema_keyname": "language",
        "schema_name": "Language",
        "schema_description": "Language schema",
        "current_schema_definition": serde_json::from_str::<Value>(include_str!("language.schema.json")).unwrap()
    })
}

fn spanish() -> Value {
    json!({"code": "es", "name": "español", "emoji": "🇪🇸", "translations": {"en": "Spanish"}})
}

/// With no broker configured everything runs in one process: an insertion
/// over HTTP goes through the outbox and the in-process broker to the
/// audit service, whose record names the registry's transaction.
#[tokio::test]
async fn insertions_reach_the_audit_service_in_one_process() {
    let db = TestDatabase::sqlite().await;
    let registry = Server::start(&db.url);
    let audit_base = registry.base_of("audit listening on http://");
    let (status, _) = registry
        .send(M::POST, "/schemas", Some(language_schema()))
        .await;
    assert_eq!(status, 201);
    let response = registry
        .client
        .post(registry.url("/company/data/language"))
        .json(&spanish())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let origin = response.headers()["x-transaction-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let uid = response.json::<Value>().await.unwrap()["inserted"].clone();
    registry.wait_for_line(|l| l.contains("[insertion-recorded]"));
    let trail = support::get_until(
        &registry.client,
        &format!("{audit_base}/audit/language"),
        |t| t["insertions"].as_array().is_some_and(|i| !i.is_empty()),
    )
    .await;
    assert_eq!(
        trail["insertions"],
        json!([{"schema_keyname": "language", "uid": uid, "origin_transaction_id": origin}])
    );
    assert!(registry.terminate().success());
    db.drop_database().await;
}

/// A message on `company_data_insertion.queue` inserts data exactly as
/// `POST /company/data/{schema}` does, and the insertion reaches the audit
/// service (another process) through the outbox; invalid and malformed
/// messages land in `company_data_insertion.dlq_queue`, saying why.
async fn the_consumer_trigger_and_the_event_flow(broker: RealBroker, database: TestDatabase) {
    let namespace = support::namespace(&format!("{broker:?}").to_lowercase());
    let url = broker.url();
    let env = [
        ("DATABASE_URL", database.url.as_str()),
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
    ];
    let registry = Server::spawn(REGISTRY, &env, "registry data listening on http://");
    let audit_db = TestDatabase::sqlite().await;
    let audit_env = [
        ("DATABASE_URL", audit_db.url.as_str()),
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
    ];
    let audit = Server::spawn(AUDIT, &audit_env, "audit listening on http://");
    let (status, _) = registry
        .send(M::POST, "/schemas", Some(language_schema()))
        .await;
    assert_eq!(status, 201);

    let client = support::client(broker, &namespace).await;
    let mut message = Message::new(
        serde_json::to_vec(&json!({"schema_keyname": "language", "body": spanish()})).unwrap(),
    );
    message.transaction_id = Some("producer-transaction".into());
    client
        .publish("company_data_insertion.queue", &message)
        .await
        .unwrap();
    let inserted = registry.wait_for_line(|l| l.contains("[data-inserted]"));
    let found = registry
        .get_until("/company/data/language", |found| {
            found["data"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    assert_eq!(found["data"].as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found["data"][0]["code"], "es");
    let uid = found["data"][0]["uid"].as_str().unwrap().to_owned();

    audit.wait_for_line(|l| l.contains("[insertion-recorded]") && l.contains(&uid));
    let trail = audit
        .get_until("/audit/language", |trail| {
            trail["insertions"]
                .as_array()
                .is_some_and(|i| !i.is_empty())
        })
        .await;
    assert_eq!(trail["insertions"][0]["uid"], uid.as_str());
    assert_eq!(
        trail["insertions"][0]["origin_transaction_id"],
        transaction_of(&inserted),
        "the audit's call is a child of the registry's"
    );

    // Data the schema rejects, and a message that is not JSON.
    let invalid = Message::new(
        serde_json::to_vec(&json!({"schema_keyname": "language", "body": {"code": "xx"}})).unwrap(),
    );
    client
        .publish("company_data_insertion.queue", &invalid)
        .await
        .unwrap();
    let dead = support::next_message(&client, "company_data_insertion.dlq_queue").await;
    assert_eq!(dead.id, invalid.id);
    assert_eq!(dead.payload, invalid.payload);
    assert_eq!(dead.header("dead-letter-cause"), Some("rejected"));
    assert!(
        dead.header("dead-letter-reason")
            .is_some_and(|r| r.starts_with("invalid-data:")),
        "{dead:?}"
    );
    let garbage = Message::new(&b"{not json"[..]);
    client
        .publish("company_data_insertion.queue", &garbage)
        .await
        .unwrap();
    let dead = support::next_message(&client, "company_data_insertion.dlq_queue").await;
    assert_eq!(dead.id, garbage.id);
    assert_eq!(dead.header("dead-letter-cause"), Some("malformed"));
    let (_, found) = registry.send(M::GET, "/company/data/language", None).await;
    assert_eq!(
        found["data"].as_array().map(Vec::len),
        Some(1),
        "nothing else was inserted"
    );

    assert!(registry.terminate().success());
    assert!(audit.terminate().success());
    support::clean_up(broker, &namespace).await;
    database.drop_database().await;
    audit_db.drop_database().await;
}

#[tokio::test]
async fn the_consumer_trigger_and_the_event_flow_on_nats_and_postgres() {
    if !RealBroker::Nats.available() {
        return;
    }
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    the_consumer_trigger_and_the_event_flow(RealBroker::Nats, database).await;
}

#[tokio::test]
async fn the_consumer_trigger_and_the_event_flow_on_rabbitmq_and_sqlite() {
    if !RealBroker::Amqp.available() {
        return;
    }
    the_consumer_trigger_and_the_event_flow(RealBroker::Amqp, TestDatabase::sqlite().await).await;
}

#[tokio::test]
async fn the_consumer_trigger_and_the_event_flow_on_redis_and_sqlite() {
    if !RealBroker::Redis.available() {
        return;
    }
    the_consumer_trigger_and_the_event_flow(RealBroker::Redis, TestDatabase::sqlite().await).await;
}

/// With the example's `kafka` feature (`.ci/run` runs it on Tansu, a
/// Kafka-compatible broker).
#[cfg(feature = "kafka")]
#[tokio::test]
async fn the_consumer_trigger_and_the_event_flow_on_kafka_and_sqlite() {
    if !RealBroker::Kafka.available() {
        return;
    }
    the_consumer_trigger_and_the_event_flow(RealBroker::Kafka, TestDatabase::sqlite().await).await;
}

/// Two instances of the registry on one PostgreSQL database and one NATS
/// queue share the work: every message is inserted once, and both
/// instances insert some.
#[tokio::test]
async fn two_instances_split_one_queue_on_postgres_and_nats() {
    if !RealBroker::Nats.available() {
        return;
    }
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let namespace = support::namespace("split");
    let url = RealBroker::Nats.url();
    let env = [
        ("DATABASE_URL", database.url.as_str()),
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
    ];
    let first = Server::spawn(REGISTRY, &env, "registry data listening on http://");
    let second = Server::spawn(REGISTRY, &env, "registry data listening on http://");
    let (status, _) = first
        .send(M::POST, "/schemas", Some(support::counter_schema()))
        .await;
    assert_eq!(status, 201);
    let client = support::client(RealBroker::Nats, &namespace).await;
    const MESSAGES: usize = 200;
    support::publish_counters(&client, MESSAGES as u64).await;
    let (mut by_first, mut by_second) = (0, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while by_first + by_second < MESSAGES {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {MESSAGES} inserted",
            by_first + by_second
        );
        let inserted = |l: &str| l.contains("[data-inserted]");
        if first
            .wait_for_line_within(Duration::from_millis(50), inserted)
            .is_some()
        {
            by_first += 1;
        }
        if second
            .wait_for_line_within(Duration::from_millis(50), inserted)
            .is_some()
        {
            by_second += 1;
        }
    }
    assert!(first.terminate().success());
    assert!(second.terminate().success());
    // Every record once: the same numbers, no more rows.
    let db = &database.database;
    let rows: Vec<String> = bisslog::sql::on_engine!(db.pool(), pool => {
        bisslog::sql::sqlx::query_scalar("SELECT data::text FROM records WHERE keyname = 'counter'")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let mut numbers: Vec<u64> = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..MESSAGES as u64).collect::<Vec<_>>());
    assert!(
        by_first > 0 && by_second > 0,
        "both instances worked: {by_first} and {by_second}"
    );
    support::clean_up(RealBroker::Nats, &namespace).await;
    database.drop_database().await;
}
