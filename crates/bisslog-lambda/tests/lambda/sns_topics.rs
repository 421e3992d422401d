//! SNS notifications.

use bisslog_core::{ErrorKind, Trigger};
use bisslog_lambda::LambdaError;
use serde_json::{Value, json};

use crate::support::{fixture, handler};

#[tokio::test]
async fn a_message_reaches_the_consumer_of_its_topic() {
    let (handler, calls) = handler();
    let response = handler
        .handle(fixture("example-sns-event-json.json"))
        .await
        .unwrap();
    assert_eq!(response, Value::Null);
    let call = calls.only();
    assert_eq!(call.use_case, "greet");
    assert_eq!(call.trigger, Trigger::Consumer);
    assert_eq!(call.input, json!({"greeting": "Hello world!"}));
}

#[tokio::test]
async fn a_failure_fails_the_invocation_so_sns_retries() {
    let (handler, calls) = handler();
    // The unchanged fixture's message, `Hello\r\nworld!`, is not JSON.
    let error = handler
        .handle(fixture("example-sns-event.json"))
        .await
        .unwrap_err();
    assert_eq!(error.use_case_kind(), Some(ErrorKind::Malformed), "{error}");
    assert!(calls.all().is_empty());

    let mut event = fixture("example-sns-event-json.json");
    event["Records"][0]["Sns"]["TopicArn"] = json!("arn:aws:sns:us-east-1:246796806071:nobody");
    let error = handler.handle(event).await.unwrap_err();
    assert!(
        matches!(error, LambdaError::UnmatchedEvent { .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "this function cannot route an SNS message from topic `nobody`, which no consumer trigger consumes"
    );
}
