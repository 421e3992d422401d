//! SQS batches and partial batch failures.

use bisslog_core::Trigger;
use serde_json::{Value, json};

use crate::support::{fixture, handler};

/// The fixture's record with another id, queue and body.
fn record(id: &str, queue: &str, body: &str) -> Value {
    let mut record = fixture("example-sqs-event-orders.json")["Records"][0].clone();
    record["messageId"] = json!(id);
    record["eventSourceARN"] = json!(format!("arn:aws:sqs:us-west-2:123456789012:{queue}"));
    record["body"] = json!(body);
    record
}

fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_record_reaches_the_consumer_of_its_queue_with_its_transaction() {
    let (handler, calls) = handler();
    let response = handler
        .handle(fixture("example-sqs-event-orders.json"))
        .await
        .unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    let call = calls.only();
    assert_eq!(call.use_case, "take_order");
    assert_eq!(call.trigger, Trigger::Consumer);
    assert_eq!(call.input, json!({"order": 1}));
    assert_eq!(
        call.parent.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
}

#[tokio::test]
async fn a_record_nobody_consumes_fails_alone() {
    let (handler, calls) = handler();
    // The unchanged fixture: queue `SQSQueue`, which no trigger consumes.
    let response = handler
        .handle(fixture("example-sqs-event.json"))
        .await
        .unwrap();
    assert_eq!(failures(&response), ["MessageID_1"]);
    assert!(calls.all().is_empty());
}

#[tokio::test]
async fn a_batch_of_ten_with_three_failures_reports_exactly_those_three() {
    let (handler, calls) = handler();
    let records: Vec<Value> = (0..10)
        .map(|i| {
            let id = format!("m-{i}");
            match i {
                2 => record(&id, "orders", r#"{"order": 2, "fail": true}"#),
                5 => record(&id, "orders", "not json"),
                8 => record(&id, "nobody-consumes-this", r#"{"order": 8}"#),
                _ => record(&id, "orders", &format!(r#"{{"order": {i}}}"#)),
            }
        })
        .collect();
    let response = handler.handle(json!({"Records": records})).await.unwrap();
    assert_eq!(failures(&response), ["m-2", "m-5", "m-8"]);
    // Every record but the malformed one and the unrouted one ran.
    let mut orders: Vec<i64> = calls
        .inputs()
        .iter()
        .map(|input| input["order"].as_i64().unwrap())
        .collect();
    orders.sort_unstable();
    assert_eq!(orders, [0, 1, 2, 3, 4, 6, 7, 9]);
}

/// `orders` has `timeout: 200`: a record whose call never finishes fails
/// alone once it has run 200 ms, and the rest of the batch still runs
/// (without it the function's `Timeout` would end the whole invocation).
#[tokio::test]
async fn a_record_past_its_timeout_fails_alone() {
    let (handler, calls) = handler();
    let started = tokio::time::Instant::now();
    let records = vec![
        record("h-0", "orders", r#"{"order": 0, "hang": true}"#),
        record("h-1", "orders", r#"{"order": 1}"#),
    ];
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        handler.handle(json!({"Records": records})),
    )
    .await
    .expect("the batch was answered")
    .unwrap();
    assert_eq!(failures(&response), ["h-0"]);
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(
        calls.inputs(),
        vec![json!({"order": 0, "hang": true}), json!({"order": 1})]
    );
    // Counted as a timeout failure of the use case, as on a broker.
    let metrics = handler.service().metrics().unwrap().encode();
    let timeouts = metrics
        .lines()
        .filter(|line| {
            line.starts_with("bisslog_use_case_calls_total{")
                && line.contains(r#"trigger="consumer""#)
                && line.contains(r#"error_kind="timeout""#)
        })
        .collect::<Vec<_>>();
    assert_eq!(timeouts.len(), 1, "{metrics}");
    assert!(timeouts[0].ends_with(" 1"), "{metrics}");
}

#[tokio::test]
async fn a_fifo_batch_stops_at_its_first_failure() {
    let (handler, calls) = handler();
    let records: Vec<Value> = (0..5)
        .map(|i| {
            let body = if i == 1 {
                r#"{"order": 1, "fail": true}"#.to_owned()
            } else {
                format!(r#"{{"order": {i}}}"#)
            };
            record(&format!("f-{i}"), "orders.fifo", &body)
        })
        .collect();
    let response = handler.handle(json!({"Records": records})).await.unwrap();
    assert_eq!(failures(&response), ["f-1", "f-2", "f-3", "f-4"]);
    assert_eq!(
        calls.inputs(),
        vec![json!({"order": 0}), json!({"order": 1, "fail": true})]
    );
}

/// CloudFormation names the queues (and `orders.created` is no valid SQS
/// name): the generated template's `BISSLOG_QUEUES` says which queue of the
/// metadata each ARN is, and routing follows it.
#[tokio::test]
async fn a_queue_named_by_cloudformation_is_routed_by_its_arn() {
    let (handler, calls) = handler();
    let arn = "arn:aws:sqs:us-west-2:123456789012:stack-OrdersQueue-1A2B3C";
    let handler = handler.queue_arns([("orders", arn)]);
    let mut renamed = record("m-1", "stack-OrdersQueue-1A2B3C", r#"{"order": 1}"#);
    renamed["eventSourceARN"] = json!(arn);
    let response = handler.handle(json!({"Records": [renamed]})).await.unwrap();
    assert_eq!(failures(&response), Vec::<String>::new());
    assert_eq!(calls.only().use_case, "take_order");
}
