//! Events nothing routes are errors that say what they were.

use bisslog_lambda::LambdaError;
use serde_json::json;

use crate::support::handler;

#[tokio::test]
async fn unknown_events_are_described_not_guessed() {
    let (handler, calls) = handler();
    let cases = [
        (
            json!({"hello": "world"}),
            "this function cannot route an event with the fields hello",
        ),
        (
            json!({"Records": [{"eventSource": "aws:s3", "s3": {}}]}),
            "this function cannot route a batch of records from `aws:s3`",
        ),
        (
            json!(null),
            "this function cannot route an empty (null) event",
        ),
    ];
    for (event, message) in cases {
        let error = handler.handle(event).await.unwrap_err();
        assert!(
            matches!(error, LambdaError::UnmatchedEvent { .. }),
            "{error}"
        );
        assert_eq!(error.to_string(), message);
    }
    assert!(calls.all().is_empty());
}
