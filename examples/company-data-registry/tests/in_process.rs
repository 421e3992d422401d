//! The registry driven through its triggers in process with the test kit:
//! its HTTP routes and its consumer trigger on
//! `company_data_insertion.queue` (acknowledged, retried, dead-lettered),
//! on the memory store, with no socket and no broker.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use bisslog::core::{Adapter, BoxFuture, Error, ErrorKind, Event, Publisher};
use bisslog::messaging::{DeadLetterCause, Message};
use bisslog_testkit::{MemoryInbox, RecordingPublisher, Settlement, TestService};
use company_data_registry::adapters::MemoryStore;
use serde_json::{Value, json};

const QUEUE: &str = "company_data_insertion.queue";

fn registry<P: Publisher + Adapter + Clone>(events: P) -> TestService {
    let metadata = company_data_registry::metadata().unwrap();
    let service =
        company_data_registry::service(metadata, MemoryStore::new(), events, MemoryInbox::new())
            .unwrap();
    TestService::new(service).unwrap()
}

fn language_schema() -> Value {
    json!({
        "schema_keyname": "language",
        "schema_name": "Language",
        "schema_description": "Language schema",
        "current_schema_definition": {
            "type": "object",
            "required": ["code", "name"],
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}}
        }
    })
}

async fn with_language_schema(kit: &TestService) {
    let created = kit.post_json("/schemas", &language_schema()).await.unwrap();
    assert_eq!(created.status(), 201, "{}", created.text());
}

#[tokio::test]
async fn an_insertion_over_http_is_stored_and_announced() {
    let events = RecordingPublisher::new();
    let kit = registry(events.clone());
    with_language_schema(&kit).await;

    let inserted = kit
        .post_json(
            "/company/data/language",
            &json!({"code": "es", "name": "español"}),
        )
        .await
        .unwrap();
    assert_eq!(inserted.status(), 201);
    let uid = inserted.json::<Value>().unwrap()["inserted"].clone();
    assert!(uid.is_string(), "{}", inserted.text());
    let announced = events.published();
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].queue, "company_data.inserted");
    assert_eq!(
        announced[0].transaction_id.as_deref(),
        inserted.transaction_id()
    );

    let found = kit.get("/company/data/language").await.unwrap();
    assert_eq!(found.status(), 200);
    assert!(found.text().contains("español"), "{}", found.text());
}

#[tokio::test]
async fn data_that_does_not_match_its_schema_is_a_problem_document() {
    let events = RecordingPublisher::new();
    let kit = registry(events.clone());
    with_language_schema(&kit).await;
    let refused = kit
        .post_json("/company/data/language", &json!({"code": 34}))
        .await
        .unwrap();
    assert_eq!(refused.status(), 422, "{}", refused.text());
    let problem = refused.problem().unwrap();
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (422, "invalid-data")
    );
    // The use case's details: each field that does not match.
    let errors = &problem.details.unwrap()["errors"];
    assert_eq!(errors.as_array().map(Vec::len), Some(2), "{errors}");
    assert_eq!(
        Some(problem.transaction_id.as_str()),
        refused.transaction_id()
    );
    assert!(events.published().is_empty(), "nothing is announced");

    let unknown = kit
        .post_json("/company/data/planet", &json!({"name": "Mars"}))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.problem().unwrap().status, 404);
}

#[tokio::test]
async fn a_message_on_the_insertion_queue_is_stored_and_acknowledged() {
    let events = RecordingPublisher::new();
    let kit = registry(events.clone());
    with_language_schema(&kit).await;
    let message = json!({"schema_keyname": "language", "body": {"code": "gl", "name": "galego"}});
    assert_eq!(
        kit.deliver(QUEUE, &message).await.unwrap(),
        Settlement::Acked
    );
    assert_eq!(events.payloads("company_data.inserted").len(), 1);
    let found = kit.get("/company/data/language").await.unwrap();
    assert!(found.text().contains("galego"), "{}", found.text());
}

/// A publisher whose broker is down: the insertion fails transiently.
#[derive(Clone)]
struct BrokerDown;

impl Publisher for BrokerDown {
    fn publish<'a>(&'a self, _: &'a str, _: Event) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(std::future::ready(Err(Error::new(
            ErrorKind::Unavailable,
            "broker-down",
            "the broker cannot be reached",
        ))))
    }
}

impl Adapter for BrokerDown {}

#[tokio::test]
async fn a_transient_failure_is_retried_then_dead_lettered_after_max_retries() {
    let kit = registry(BrokerDown);
    with_language_schema(&kit).await;
    let message = || {
        Message::new(
            json!({"schema_keyname": "language", "body": {"code": "eu", "name": "euskara"}})
                .to_string()
                .into_bytes(),
        )
    };
    // retry_delay: 1 (seconds), doubling; max_retries: 3.
    for (attempt, delay) in [(1, 1), (2, 2), (3, 4)] {
        assert_eq!(
            kit.deliver_message(QUEUE, message(), attempt)
                .await
                .unwrap(),
            Settlement::Retried {
                attempt,
                delay: Duration::from_secs(delay)
            }
        );
    }
    let Settlement::DeadLettered {
        queue,
        cause,
        reason,
        attempts,
    } = kit.deliver_message(QUEUE, message(), 4).await.unwrap()
    else {
        panic!("the fourth delivery is the last of max_retries: 3");
    };
    assert_eq!(queue, "company_data_insertion.dlq_queue");
    assert_eq!(cause, DeadLetterCause::RetriesExhausted);
    assert!(reason.starts_with("broker-down: "), "{reason}");
    assert_eq!(attempts, 4);
}

#[tokio::test]
async fn unknown_schemas_and_unreadable_messages_are_dead_lettered_at_once() {
    let kit = registry(RecordingPublisher::new());
    let Settlement::DeadLettered { cause, reason, .. } = kit
        .deliver(
            QUEUE,
            &json!({"schema_keyname": "planet", "body": {"name": "Mars"}}),
        )
        .await
        .unwrap()
    else {
        panic!("an unknown schema is permanent");
    };
    assert_eq!(cause, DeadLetterCause::Rejected);
    assert!(reason.contains("planet"), "{reason}");

    let Settlement::DeadLettered { cause, .. } = kit
        .deliver_message(QUEUE, Message::new(&b"{not json"[..]), 1)
        .await
        .unwrap()
    else {
        panic!("a payload that is not JSON is malformed");
    };
    assert_eq!(cause, DeadLetterCause::Malformed);
}

#[tokio::test]
async fn the_weekly_clean_up_runs_at_its_tick_only() {
    let kit = registry(RecordingPublisher::new());
    let sunday = "2026-12-06T00:00:00Z".parse().unwrap();
    let tick = kit
        .tick("delete_all_inactive_schema_version", sunday)
        .await
        .unwrap();
    assert!(tick.ran(), "{tick:?}");
    let saturday = "2026-12-05T00:00:00Z".parse().unwrap();
    let refused = kit
        .tick("delete_all_inactive_schema_version", saturday)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("the next one is 2026-12-06T00:00:00Z"),
        "{refused}"
    );
}
