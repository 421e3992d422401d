//! The caller API Gateway's authorizer verified, and the metadata's
//! `authorization` rules decided against it: REST API (Cognito claims and
//! Lambda authorizer context), HTTP API (JWT and Lambda authorizers) and
//! WebSocket events.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bisslog_core::{BoxFuture, Ctx, Error, UseCase};
use bisslog_http::{Authenticator, HttpServer};
use bisslog_lambda::LambdaHandler;
use bisslog_runtime::Service;
use serde_json::{Map, Value, json};

use crate::support::{body_json, fixture};

const METADATA: &str = r#"
name: lambda authorization
use_cases:
  hello:
    name: hello
    authorization: {roles: [greeter]}
    triggers: [{type: http, options: {method: post, path: "/hello/{who}"}}]
  my_path:
    name: my path
    authorization: {roles: [admin], scopes: [scope1]}
    triggers: [{type: http, options: {method: get, path: /my/path}}]
  connect:
    name: connect
    triggers: [{type: websocket, options: {route_key: $connect}}]
  chat:
    name: chat
    authorization: {roles: [chatter]}
    triggers: [{type: websocket, options: {route_key: $default}}]
"#;

/// Replies with the caller it saw, and counts its runs.
#[derive(Clone)]
struct Caller(Arc<AtomicUsize>);

impl UseCase for Caller {
    type Input = Value;
    type Output = Value;
    type Error = Error;
    async fn run(&self, ctx: &Ctx, _: Value) -> Result<Value, Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Value::Object(ctx.attributes().clone()))
    }
}

/// Accepts `x-user: <name>` as a caller with the roles `admin` and
/// `greeter` and the scope `scope1` (for these tests only).
struct HeaderUser;

impl Authenticator for HeaderUser {
    fn authenticate<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<Map<String, Value>, Error>> {
        Box::pin(async move {
            let user = request
                .headers
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Error::unauthenticated("no-user", "an x-user header is required"))?;
            let attributes = json!({"sub": user, "roles": ["admin", "greeter"], "scope": "scope1"});
            Ok(attributes.as_object().cloned().unwrap_or_default())
        })
    }
}

fn service(runs: &Arc<AtomicUsize>) -> Service {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let caller = Caller(Arc::clone(runs));
    let mut builder = Service::builder(metadata);
    for name in ["hello", "my_path", "connect", "chat"] {
        builder = builder.use_case(name, caller.clone());
    }
    builder.build().unwrap()
}

fn handler() -> (LambdaHandler, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    (LambdaHandler::new(service(&runs)).unwrap(), runs)
}

/// `event` with this `requestContext.authorizer`.
fn authorized(mut event: Value, authorizer: Value) -> Value {
    event["requestContext"]["authorizer"] = authorizer;
    event
}

fn assert_refused(response: &Value, status: u16) {
    assert_eq!(response["statusCode"], status, "{response}");
    let problem = body_json(response);
    assert_eq!(problem["status"], status, "{problem}");
    let code = if status == 401 {
        "unauthenticated"
    } else {
        "forbidden"
    };
    assert_eq!(problem["code"], code, "{problem}");
}

#[tokio::test]
async fn rest_api_cognito_claims_are_the_caller() {
    let (handler, runs) = handler();
    let rest = fixture("example-apigw-request.json");
    let greeter = authorized(
        rest.clone(),
        json!({"claims": {"sub": "ana", "roles": "[greeter reader]", "email": "ana@example.com"}}),
    );
    let response = handler.handle(greeter).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let seen = body_json(&response);
    assert_eq!(seen["sub"], "ana");
    // API Gateway's flattened list, back into a list.
    assert_eq!(seen["roles"], json!(["greeter", "reader"]));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let reader = authorized(rest, json!({"claims": {"sub": "bob", "roles": "[reader]"}}));
    let response = handler.handle(reader).await.unwrap();
    assert_refused(&response, 403);
    assert!(
        body_json(&response)["detail"]
            .as_str()
            .unwrap()
            .contains("`greeter`")
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the refused call did not run"
    );
}

#[tokio::test]
async fn rest_api_lambda_authorizer_context_is_the_caller() {
    let (handler, runs) = handler();
    // The fixture's authorizer: `principalId: admin` and two context
    // fields, no roles.
    let response = handler
        .handle(fixture("example-apigw-request.json"))
        .await
        .unwrap();
    assert_refused(&response, 403);
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    let with_role = authorized(
        fixture("example-apigw-request.json"),
        json!({"principalId": "admin", "integrationLatency": 3, "clientId": 1, "roles": "greeter"}),
    );
    let response = handler.handle(with_role).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(
        body_json(&response),
        json!({"sub": "admin", "clientId": 1, "roles": "greeter"})
    );
}

#[tokio::test]
async fn http_api_jwt_claims_and_scopes_are_the_caller() {
    let (handler, runs) = handler();
    let event = fixture("example-apigw-v2-request-jwt-authorizer.json");
    let admin = authorized(
        event.clone(),
        json!({"jwt": {"claims": {"sub": "ana", "roles": "[admin]"}, "scopes": ["scope1", "scope2"]}}),
    );
    let response = handler.handle(admin).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let seen = body_json(&response);
    assert_eq!(seen["sub"], "ana");
    assert_eq!(seen["scope"], "scope1 scope2");

    let reader = authorized(
        event.clone(),
        json!({"jwt": {"claims": {"sub": "bob", "roles": "[reader]"}, "scopes": ["scope1"]}}),
    );
    assert_refused(&handler.handle(reader).await.unwrap(), 403);
    let unscoped = authorized(
        event.clone(),
        json!({"jwt": {"claims": {"sub": "ana", "roles": "[admin]"}, "scopes": ["scope2"]}}),
    );
    let response = handler.handle(unscoped).await.unwrap();
    assert_refused(&response, 403);
    assert!(
        body_json(&response)["detail"]
            .as_str()
            .unwrap()
            .contains("`scope1`")
    );
    // The fixture as AWS ships it: claims with neither roles nor `sub`.
    assert_refused(&handler.handle(event).await.unwrap(), 403);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn http_api_lambda_authorizer_context_is_the_caller() {
    let (handler, runs) = handler();
    let event = fixture("example-apigw-v2-request-lambda-authorizer.json");
    assert_refused(&handler.handle(event.clone()).await.unwrap(), 403);
    let admin = authorized(
        event,
        json!({"lambda": {"sub": "ana", "roles": "admin", "scope": "scope1"}}),
    );
    let response = handler.handle(admin).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(body_json(&response)["sub"], "ana");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_an_authorizer_the_rules_are_not_enforced() {
    let (handler, runs) = handler();
    let mut event = fixture("example-apigw-v2-request-no-authorizer.json");
    event["rawPath"] = json!("/my/path");
    let response = handler.handle(event).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(body_json(&response), json!({}));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_routes_authenticator_still_runs_and_its_attributes_win() {
    let runs = Arc::new(AtomicUsize::new(0));
    let http = HttpServer::builder(service(&runs))
        .authenticator("header", HeaderUser)
        .authenticate_all_with("header")
        .build()
        .unwrap();
    let handler = LambdaHandler::from_http(http).unwrap();
    let claims =
        json!({"jwt": {"claims": {"sub": "ana", "roles": "[admin]"}, "scopes": ["scope1"]}});
    let event = authorized(
        fixture("example-apigw-v2-request-jwt-authorizer.json"),
        claims,
    );
    // The gateway's claims do not stand in for the function's own check:
    // its authenticator refuses the call.
    let response = handler.handle(event.clone()).await.unwrap();
    assert_eq!(response["statusCode"], 401, "{response}");
    assert_eq!(body_json(&response)["code"], "no-user");
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    let mut with_user = event;
    with_user["headers"]["x-user"] = json!("carl");
    let response = handler.handle(with_user).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(body_json(&response)["sub"], "carl");
}

#[tokio::test]
async fn websocket_messages_are_decided_against_the_connect_authorizers_context() {
    let (handler, runs) = handler();
    // `$connect` declares no rule.
    let response = handler
        .handle(fixture("example-apigw-websocket-request.json"))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // The fixture's authorizer context has no roles.
    let message = fixture("example-apigw-websocket-request-message.json");
    let response = handler.handle(message.clone()).await.unwrap();
    assert_refused(&response, 403);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the refused message did not run"
    );

    let chatter = authorized(
        message,
        json!({"principalId": "admin", "integrationLatency": 5, "roles": "[chatter]", "connection_id": "forged"}),
    );
    let response = handler.handle(chatter).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let seen = body_json(&response);
    assert_eq!(seen["sub"], "admin");
    assert_eq!(seen["roles"], json!(["chatter"]));
    assert_eq!(seen["connection_id"], "TWegAcC4EowCHnA=");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
