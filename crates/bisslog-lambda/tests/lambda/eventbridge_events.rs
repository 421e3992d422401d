//! EventBridge events, custom and scheduled.

use bisslog_core::Trigger;
use bisslog_lambda::LambdaError;
use serde_json::json;

use crate::support::{fixture, handler};

#[tokio::test]
async fn a_custom_event_reaches_the_consumer_of_its_detail_type() {
    let (handler, calls) = handler();
    let response = handler
        .handle(fixture("example-eventbridge-event-obj.json"))
        .await
        .unwrap();
    let call = calls.only();
    assert_eq!(call.use_case, "instance_changed");
    assert_eq!(call.trigger, Trigger::Consumer);
    assert_eq!(
        call.input,
        json!({"instance": "i-abcd1111", "state": "pending"})
    );
    assert_eq!(response, call.input);
}

#[tokio::test]
async fn a_scheduled_event_runs_the_schedule_of_the_rule_named_after_its_use_case() {
    let (handler, calls) = handler();
    let mut event = fixture("example-eventbridge-schedule.json");
    event["resources"] = json!(["arn:aws:events:us-east-1:123456789012:rule/nightly_report"]);
    let response = handler.handle(event).await.unwrap();
    let call = calls.only();
    assert_eq!(call.use_case, "nightly_report");
    assert_eq!(call.trigger, Trigger::Schedule);
    assert_eq!(call.input, json!({"report": "nightly"}));
    assert_eq!(response, call.input);
}

#[tokio::test]
async fn a_scheduled_event_of_another_rule_needs_a_single_schedule() {
    let (handler, calls) = handler();
    // `my-scheduled-rule` names no use case, and the service has two.
    let error = handler
        .handle(fixture("example-eventbridge-schedule.json"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LambdaError::UnmatchedEvent { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("`my-scheduled-rule`"), "{error}");
    assert!(calls.all().is_empty());

    // A function serving one use case has one schedule.
    let handler = handler.only("nightly_report").unwrap();
    handler
        .handle(fixture("example-eventbridge-schedule.json"))
        .await
        .unwrap();
    assert_eq!(calls.only().use_case, "nightly_report");
}
