//! The three services as a system, with the real binaries over real
//! sockets: an import sent to the importer over HTTP (which asks the
//! registry over HTTP whether the schema exists) becomes insertion
//! requests on the registry's queue, company data in the registry, and
//! entries in the audit trail; the importer's progress reads the
//! registry's database (the deliberate shared database). The registry's
//! `company_data.inserted` events reach both of their subscribers, the
//! audit service and the importer, each insertion once each. In one process on
//! the in-process broker, and as separate processes on NATS JetStream,
//! RabbitMQ, Redis Streams and (with the example's `kafka` feature) Kafka.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use bisslog_sql::testing::TestDatabase;
use reqwest::Method as M;
use serde_json::{Value, json};
use support::{AUDIT, IMPORTER, REGISTRY, RealBroker, Server};

fn language_schema() -> Value {
    json!({
        "schema_keyname": "language",
        "schema_name": "Language",
        "schema_description": "Language schema",
        "current_schema_definition": serde_json::from_str::<Value>(include_str!("language.schema.json")).unwrap()
    })
}

fn languages() -> Value {
    json!({"records": [
        {"code": "es", "name": "español", "emoji": "🇪🇸", "translations": {"en": "Spanish"}},
        {"code": "fr", "name": "français", "emoji": "🇫🇷", "translations": {"en": "French"}},
    ]})
}

async fn send(client: &reqwest::Client, method: M, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The codes of the registry's records of `language`, sorted.
fn codes(found: &Value) -> Vec<String> {
    let mut codes: Vec<String> = found["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["code"].as_str().map(str::to_owned))
        .collect();
    codes.sort();
    codes
}

/// Waits (30 s at most per line) until `server` has printed `count` lines
/// containing `text`, counting the ones already read.
fn until_lines(server: &Server, text: &str, count: usize) {
    while server.output().iter().filter(|l| l.contains(text)).count() < count {
        server.wait_for_line(|l| l.contains(text));
    }
}

/// The registry's records of `language` once there are `count` of them
/// (see [`support::get_until`]).
async fn codes_once_committed(registry: &Server, count: usize) -> Vec<String> {
    let found = registry
        .get_until("/company/data/language", |found| {
            codes(found).len() >= count
        })
        .await;
    codes(&found)
}

/// With no broker configured the three services run in the registry's
/// process: an import over HTTP ends up as company data, audited, and the
/// importer sees it in the registry's database.
#[tokio::test]
async fn an_import_becomes_company_data_in_one_process() {
    let db = TestDatabase::sqlite().await;
    let registry = Server::start(&db.url);
    let importer = registry.base_of("importer listening on http://");
    let audit = registry.base_of("audit listening on http://");
    let (status, _) = registry
        .send(M::POST, "/schemas", Some(language_schema()))
        .await;
    assert_eq!(status, 201);

    let client = &registry.client;
    let url = format!("{importer}/imports/language");
    let (status, accepted) = send(client, M::POST, &url, Some(languages())).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["requested"], 2);
    assert_eq!(accepted["schema_keyname"], "language");
    for _ in 0..2 {
        registry.wait_for_line(|l| l.contains("[insertion-recorded]"));
    }
    assert_eq!(codes_once_committed(&registry, 2).await, ["es", "fr"]);
    // The event's second subscriber, the importer, noted both too.
    until_lines(&registry, "[insertion-noticed]", 2);
    let trail = support::get_until(client, &format!("{audit}/audit/language"), |t| {
        t["insertions"].as_array().is_some_and(|i| i.len() >= 2)
    })
    .await;
    assert_eq!(trail["insertions"].as_array().map(Vec::len), Some(2));
    let progress = format!("{importer}/imports/language/progress");
    let (status, progress) = send(client, M::GET, &progress, None).await;
    assert_eq!(status, 200);
    assert_eq!(progress["records_in_registry"], 2);

    // Refused before anything is queued: the registry (asked over HTTP)
    // has no such schema; the batch is empty; a record is not an object.
    let unknown = format!("{importer}/imports/currency");
    let (status, problem) = send(client, M::POST, &unknown, Some(languages())).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["code"], "schema-not-found");
    let (status, problem) = send(client, M::POST, &url, Some(json!({"records": []}))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "empty-import");
    let (status, problem) = send(client, M::POST, &url, Some(json!({"records": [1]}))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "record-not-an-object");

    assert!(registry.terminate().success());
    db.drop_database().await;
}

/// The registry and the importer as separate processes on a real broker:
/// the import reaches the registry through the broker, and the importer
/// reads the registry's database from outside.
async fn an_import_between_processes(broker: RealBroker, database: TestDatabase) {
    let namespace = support::namespace(&format!("import-{broker:?}").to_lowercase());
    let url = broker.url();
    let registry_env = [
        ("DATABASE_URL", database.url.as_str()),
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
    ];
    let registry = Server::spawn(
        REGISTRY,
        &registry_env,
        "registry data listening on http://",
    );
    let importer_env = [
        ("REGISTRY_URL", registry.base.as_str()),
        ("REGISTRY_DATABASE_URL", database.url.as_str()),
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
    ];
    let importer = Server::spawn(IMPORTER, &importer_env, "importer listening on http://");
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

    let (status, accepted) = importer
        .send(M::POST, "/imports/language", Some(languages()))
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert!(
        accepted["import_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    for _ in 0..2 {
        registry.wait_for_line(|l| l.contains("[data-inserted]"));
    }
    assert_eq!(codes_once_committed(&registry, 2).await, ["es", "fr"]);
    let (status, progress) = importer
        .send(M::GET, "/imports/language/progress", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(progress["records_in_registry"], 2);

    // Both subscribers of the registry's events, the audit service and
    // the importer, got each insertion: the event fans out.
    let uids: std::collections::BTreeSet<String> = registry
        .get_until("/company/data/language", |found| codes(found).len() >= 2)
        .await["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(uids.len(), 2);
    until_lines(&audit, "[insertion-recorded]", 2);
    until_lines(&importer, "[insertion-noticed]", 2);
    for (server, line) in [
        (&audit, "[insertion-recorded]"),
        (&importer, "[insertion-noticed]"),
    ] {
        let seen: Vec<String> = server
            .output()
            .into_iter()
            .filter(|l| l.contains(line))
            .collect();
        for uid in &uids {
            assert_eq!(
                seen.iter().filter(|l| l.contains(uid.as_str())).count(),
                1,
                "{line} once for {uid}: {seen:?}"
            );
        }
    }

    assert!(importer.terminate().success());
    assert!(audit.terminate().success());
    assert!(registry.terminate().success());
    support::clean_up(broker, &namespace).await;
    database.drop_database().await;
    audit_db.drop_database().await;
}

#[tokio::test]
async fn an_import_between_processes_on_nats_and_sqlite() {
    if !RealBroker::Nats.available() {
        return;
    }
    an_import_between_processes(RealBroker::Nats, TestDatabase::sqlite().await).await;
}

#[tokio::test]
async fn an_import_between_processes_on_rabbitmq_and_postgres() {
    if !RealBroker::Amqp.available() {
        return;
    }
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    an_import_between_processes(RealBroker::Amqp, database).await;
}

#[tokio::test]
async fn an_import_between_processes_on_redis_and_sqlite() {
    if !RealBroker::Redis.available() {
        return;
    }
    an_import_between_processes(RealBroker::Redis, TestDatabase::sqlite().await).await;
}

/// With the example's `kafka` feature (`.ci/run` runs it on Tansu, a
/// Kafka-compatible broker).
#[cfg(feature = "kafka")]
#[tokio::test]
async fn an_import_between_processes_on_kafka_and_sqlite() {
    if !RealBroker::Kafka.available() {
        return;
    }
    an_import_between_processes(RealBroker::Kafka, TestDatabase::sqlite().await).await;
}
