//! The schedule envelope of the generated templates.

use bisslog_core::{ErrorKind, Trigger};
use bisslog_lambda::{LambdaError, SCHEDULE_KEY};
use serde_json::{Value, json};

use crate::support::handler;

fn envelope(use_case: &str, trigger: usize) -> Value {
    json!({SCHEDULE_KEY: {"use_case": use_case, "trigger": trigger}})
}

#[tokio::test]
async fn the_envelope_runs_the_trigger_it_names_with_its_static_event() {
    let (handler, calls) = handler();
    let response = handler.handle(envelope("nightly_report", 1)).await.unwrap();
    let call = calls.only();
    assert_eq!(call.trigger, Trigger::Schedule);
    assert_eq!(call.input, json!({"report": "nightly"}));
    assert_eq!(response, json!({"report": "nightly"}));
}

#[tokio::test]
async fn a_panicking_schedule_fails_its_invocation_only() {
    let (handler, calls) = handler();
    let error = handler.handle(envelope("explode", 0)).await.unwrap_err();
    assert_eq!(error.use_case_kind(), Some(ErrorKind::Internal), "{error}");
    assert_eq!(error.name(), "UseCaseFailed");
    // No `event`: an empty input.
    assert_eq!(calls.only().input, json!({}));
    handler.handle(envelope("nightly_report", 1)).await.unwrap();
}

#[tokio::test]
async fn envelopes_that_name_nothing_are_errors() {
    let (handler, _) = handler();
    let error = handler
        .handle(envelope("nightly_report", 0))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LambdaError::UnmatchedEvent { .. }),
        "{error}"
    );
    let error = handler
        .handle(envelope("weekly_report", 0))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, LambdaError::UnknownUseCase { keyname } if keyname == "weekly_report"),
        "{error}"
    );
    let error = handler
        .handle(json!({SCHEDULE_KEY: {"use_case": "explode", "trigger": "first"}}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LambdaError::MalformedEvent { .. }),
        "{error}"
    );
}
