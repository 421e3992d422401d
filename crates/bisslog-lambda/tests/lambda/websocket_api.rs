//! API Gateway WebSocket events.

use bisslog_core::Trigger;
use serde_json::json;

use crate::support::{body_json, fixture, handler};

#[tokio::test]
async fn connect_message_and_disconnect_reach_their_route_keys() {
    let (handler, calls) = handler();
    let response = handler
        .handle(fixture("example-apigw-websocket-request.json"))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200);
    let connect = calls.only();
    assert_eq!(connect.use_case, "connect");
    assert_eq!(connect.trigger, Trigger::WebSocket);
    assert_eq!(
        connect.input,
        json!({
            "connection": "TWegAcC4EowCHnA=",
            "route": "$connect",
            "host": "*.execute-api.eu-central-1.amazonaws.com"
        })
    );
    assert_eq!(body_json(&response), connect.input);

    // `sendmessage` has no trigger: the message goes to `$default`.
    let response = handler
        .handle(fixture("example-apigw-websocket-request-message.json"))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200);
    let chat = calls.all()[1].clone();
    assert_eq!(chat.use_case, "chat");
    assert_eq!(
        chat.input,
        json!({"connection": "TWegAcC4EowCHnA=", "route": "$default", "text": "hello"})
    );

    let response = handler
        .handle(fixture(
            "example-apigw-websocket-request-disconnect-route.json",
        ))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200);
    let disconnect = calls.all()[2].clone();
    assert_eq!(disconnect.use_case, "disconnect");
    assert_eq!(disconnect.input, json!({"connection": "AAAA1234="}));
}

#[tokio::test]
async fn a_message_that_is_not_json_is_a_400_problem() {
    let (handler, calls) = handler();
    let mut event = fixture("example-apigw-websocket-request-message.json");
    event["body"] = json!("hello?");
    let response = handler.handle(event).await.unwrap();
    assert_eq!(response["statusCode"], 400);
    assert_eq!(body_json(&response)["code"], "malformed-message");
    assert!(calls.all().is_empty());
}
