//! API Gateway REST and HTTP API events, and ALB requests.

use base64::Engine as _;
use bisslog_core::Trigger;
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::{body_json, fixture, handler, service};

#[tokio::test]
async fn a_rest_api_request_is_served_by_its_http_trigger() {
    let (handler, calls) = handler();
    let response = handler
        .handle(fixture("example-apigw-request.json"))
        .await
        .unwrap();
    let call = calls.only();
    assert_eq!(call.use_case, "hello");
    assert_eq!(call.trigger, Trigger::Http);
    // The path (`/hello/world`, not the resource `/{proxy+}`), the query
    // and the body, by the default mapping.
    assert_eq!(call.input, json!({"who": "world", "name": "me", "a": 1}));
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["isBase64Encoded"], false);
    assert_eq!(body_json(&response), call.input);
    assert_eq!(response["headers"]["content-type"], "application/json");
    assert_eq!(
        response["multiValueHeaders"]["content-type"],
        json!(["application/json"])
    );
    assert!(response["headers"]["x-transaction-id"].is_string());
}

#[tokio::test]
async fn rest_api_multi_value_parameters_reach_the_router() {
    let (handler, calls) = handler();
    let response = handler
        .handle(fixture("example-apigw-request-multi-value-parameters.json"))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200);
    // A repeated parameter maps its first value, as over HTTP.
    assert_eq!(calls.only().input["name"], "me");
}

/// The Python tool reads every event as a REST (1.0) event, so HTTP API
/// (2.0) events, which carry the method in `requestContext.http` and the
/// path in `rawPath`, were routed to the wrong place.
#[tokio::test]
async fn regression_python_tool_misroutes_http_api_v2_events() {
    let (handler, calls) = handler();
    let response = handler
        .handle(fixture(
            "example-apigw-v2-request-multi-value-parameters.json",
        ))
        .await
        .unwrap();
    let call = calls.only();
    assert_eq!(call.use_case, "my_path");
    assert_eq!(
        call.input,
        json!({"parameter": "value1", "cookie": "cookie1; cookie2", "header2": "value1,value2"})
    );
    assert_eq!(response["statusCode"], 200);
    assert_eq!(body_json(&response), call.input);
    // The 2.0 response: no multi-value headers.
    assert!(response.get("multiValueHeaders").is_none());
    assert_eq!(response["headers"]["content-type"], "application/json");

    let response = handler
        .handle(fixture("example-apigw-v2-request-no-authorizer.json"))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(calls.all()[1].use_case, "root");
}

#[tokio::test]
async fn http_api_paths_lose_a_named_stage() {
    let (handler, calls) = handler();
    let mut event = fixture("example-apigw-v2-request-no-authorizer.json");
    event["rawPath"] = json!("/prod/things/7");
    event["requestContext"]["stage"] = json!("prod");
    let response = handler.handle(event).await.unwrap();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(calls.only().input, json!({"id": "7"}));
}

#[tokio::test]
async fn base64_request_bodies_are_decoded() {
    let (handler, calls) = handler();
    let encoded = base64::engine::general_purpose::STANDARD.encode(br#"{"file": "report.pdf"}"#);
    let mut v2 = fixture("example-apigw-v2-request-no-authorizer.json");
    v2["rawPath"] = json!("/upload");
    v2["requestContext"]["http"]["method"] = json!("POST");
    v2["headers"]["content-type"] = json!("application/json");
    v2["body"] = json!(encoded);
    v2["isBase64Encoded"] = json!(true);
    let response = handler.handle(v2).await.unwrap();
    assert_eq!(response["statusCode"], 200);

    let mut v1 = fixture("example-apigw-request.json");
    v1["path"] = json!("/upload");
    v1["body"] = json!(encoded);
    v1["isBase64Encoded"] = json!(true);
    v1["queryStringParameters"] = json!(null);
    v1["multiValueQueryStringParameters"] = json!(null);
    let response = handler.handle(v1).await.unwrap();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(
        calls.inputs(),
        vec![json!({"file": "report.pdf"}), json!({"file": "report.pdf"})]
    );

    let mut bad = fixture("example-apigw-request.json");
    bad["body"] = json!("not base64!");
    bad["isBase64Encoded"] = json!(true);
    let error = handler.handle(bad).await.unwrap_err();
    assert!(
        matches!(error, bisslog_lambda::LambdaError::MalformedEvent { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn alb_requests_answer_in_the_header_mode_they_came_in() {
    let (handler, calls) = handler();
    // The fixture's body, `Some text`, is not JSON: the router's 400, as
    // over HTTP, in multi-value mode.
    let event = fixture("example-alb-lambda-target-request-multivalue-headers.json");
    let response = handler.handle(event.clone()).await.unwrap();
    assert_eq!(response["statusCode"], 400);
    assert_eq!(response["statusDescription"], "400 Bad Request");
    assert_eq!(
        response["multiValueHeaders"]["content-type"],
        json!(["application/problem+json"])
    );
    assert!(response.get("headers").is_none());
    assert_eq!(body_json(&response)["code"], "malformed-body");
    assert!(calls.all().is_empty());

    let mut without_body = event;
    without_body["body"] = json!(null);
    let response = handler.handle(without_body).await.unwrap();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["statusDescription"], "200 OK");
    assert_eq!(
        response["multiValueHeaders"]["content-type"],
        json!(["application/json"])
    );

    let response = handler
        .handle(fixture(
            "example-alb-lambda-target-request-headers-only.json",
        ))
        .await
        .unwrap();
    assert_eq!(response["headers"]["content-type"], "application/json");
    assert!(response.get("multiValueHeaders").is_none());
    assert_eq!(
        calls.inputs(),
        vec![json!({"key": "hello"}), json!({"key": "hello"})]
    );
}

#[tokio::test]
async fn a_problem_through_lambda_is_the_problem_the_server_answers() {
    let (handler, _) = handler();
    let mut event = fixture("example-apigw-v2-request-no-authorizer.json");
    event["rawPath"] = json!("/things/missing");
    event["headers"]["x-transaction-id"] = json!("tx-problem-1");
    let response = handler.handle(event).await.unwrap();

    let router = bisslog_http::HttpServer::builder(service(&Default::default()))
        .build()
        .unwrap()
        .router();
    let request = http::Request::builder()
        .uri("/things/missing")
        .header("x-transaction-id", "tx-problem-1")
        .body(axum::body::Body::empty())
        .unwrap();
    let served = router.oneshot(request).await.unwrap();
    let status = served.status().as_u16();
    let content_type = served.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = axum::body::to_bytes(served.into_body(), usize::MAX)
        .await
        .unwrap();

    assert_eq!(status, 404);
    assert_eq!(response["statusCode"], status);
    assert_eq!(response["headers"]["content-type"], content_type.as_str());
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(response["body"], std::str::from_utf8(&body).unwrap());
    assert_eq!(body_json(&response)["code"], "thing-not-found");
    assert_eq!(body_json(&response)["transaction_id"], "tx-problem-1");
}

#[tokio::test]
async fn an_unknown_route_is_the_routers_404_not_an_invocation_error() {
    let (handler, calls) = handler();
    let mut event = fixture("example-apigw-request.json");
    event["path"] = json!("/nowhere");
    let response = handler.handle(event).await.unwrap();
    assert_eq!(response["statusCode"], 404);
    assert_eq!(
        response["headers"]["content-type"],
        "application/problem+json"
    );
    assert!(calls.all().is_empty());
}

#[tokio::test]
async fn the_http_entry_point_can_be_configured_as_for_a_server() {
    let policy = bisslog_http::StatusPolicy::default()
        .with(bisslog_core::ErrorKind::NotFound, http::StatusCode::GONE);
    let http = bisslog_http::HttpServer::builder(service(&Default::default()))
        .status_policy(policy)
        .build()
        .unwrap();
    let handler = bisslog_lambda::LambdaHandler::from_http(http).unwrap();
    let mut event = fixture("example-apigw-v2-request-no-authorizer.json");
    event["rawPath"] = json!("/things/missing");
    let response = handler.handle(event).await.unwrap();
    assert_eq!(response["statusCode"], 410);
}
