//! The response documents, read with AWS's own Rust types
//! (`aws_lambda_events`): what API Gateway, ALB and SQS accept.

use aws_lambda_events::alb::AlbTargetGroupResponse;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::sqs::SqsBatchResponse;
use serde_json::{Value, json};

use crate::support::{fixture, handler};

fn text(body: Option<&Body>) -> &str {
    match body {
        Some(Body::Text(text)) => text,
        other => panic!("not a text body: {other:?}"),
    }
}

#[tokio::test]
async fn every_response_is_a_document_aws_reads() {
    let (handler, _) = handler();

    let rest = handler
        .handle(fixture("example-apigw-request.json"))
        .await
        .unwrap();
    let rest: ApiGatewayProxyResponse = serde_json::from_value(rest).unwrap();
    assert_eq!(rest.status_code, 200);
    assert_eq!(rest.headers["content-type"], "application/json");
    assert_eq!(rest.multi_value_headers["content-type"], "application/json");
    assert!(!rest.is_base64_encoded);
    let body: Value = serde_json::from_str(text(rest.body.as_ref())).unwrap();
    assert_eq!(body, json!({"who": "world", "name": "me", "a": 1}));

    let v2 = handler
        .handle(fixture(
            "example-apigw-v2-request-multi-value-parameters.json",
        ))
        .await
        .unwrap();
    let v2: ApiGatewayV2httpResponse = serde_json::from_value(v2).unwrap();
    assert_eq!(v2.status_code, 200);
    assert_eq!(v2.headers["content-type"], "application/json");
    assert!(v2.cookies.is_empty());

    let alb = handler
        .handle(fixture(
            "example-alb-lambda-target-request-headers-only.json",
        ))
        .await
        .unwrap();
    let alb: AlbTargetGroupResponse = serde_json::from_value(alb).unwrap();
    assert_eq!(alb.status_code, 200);
    assert_eq!(alb.status_description.as_deref(), Some("200 OK"));
    assert_eq!(text(alb.body.as_ref()), r#"{"key":"hello"}"#);

    let mut records = fixture("example-sqs-event-orders.json");
    let mut failing = records["Records"][0].clone();
    failing["messageId"] = json!("m-2");
    failing["body"] = json!(r#"{"fail": true}"#);
    records["Records"].as_array_mut().unwrap().push(failing);
    let batch = handler.handle(records).await.unwrap();
    let batch: SqsBatchResponse = serde_json::from_value(batch).unwrap();
    let failed: Vec<&str> = batch
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-2"]);
}
