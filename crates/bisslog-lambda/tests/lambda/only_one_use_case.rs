//! `LambdaHandler::only`: one function per use case.

use bisslog_lambda::{LambdaError, SCHEDULE_KEY};
use serde_json::json;

use crate::support::{fixture, handler};

#[tokio::test]
async fn only_serves_its_use_case_and_refuses_the_others() {
    let (handler, calls) = handler();
    let error = handler.clone().only("nobody").unwrap_err();
    assert!(
        matches!(error, LambdaError::UnknownUseCase { .. }),
        "{error}"
    );

    let hello = handler.only("hello").unwrap();
    assert_eq!(hello.serves_only(), Some("hello"));
    let response = hello
        .handle(fixture("example-apigw-request.json"))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200);

    let error = hello
        .handle(fixture(
            "example-apigw-v2-request-multi-value-parameters.json",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, LambdaError::NotServed { serves, .. } if serves == "hello"),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "this function serves only `hello`, but received an HTTP request GET /my/path"
    );

    let response = hello
        .handle(fixture("example-sqs-event-orders.json"))
        .await
        .unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "MessageID_1"}]})
    );
    let error = hello
        .handle(json!({SCHEDULE_KEY: {"use_case": "explode", "trigger": 0}}))
        .await
        .unwrap_err();
    assert!(matches!(error, LambdaError::NotServed { .. }), "{error}");
    let error = hello
        .handle(fixture("example-apigw-websocket-request.json"))
        .await
        .unwrap_err();
    assert!(matches!(error, LambdaError::NotServed { .. }), "{error}");

    assert_eq!(calls.only().use_case, "hello");
}
