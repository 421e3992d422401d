//! The AWS Lambda entry point of bisslog services: one function serves
//! every trigger of the metadata, routed by the shape of the event.
//!
//! **Where it fits:** A service uses it through the facade, as
//! `bisslog::lambda` (feature `lambda`); `bisslog lambda generate` writes the
//! deployable layout around it.
//!
//! | event | routed to | input | response |
//! |---|---|---|---|
//! | API Gateway REST (1.0), HTTP API (2.0), ALB | the HTTP trigger of the method and path, through the same axum router `bisslog-http` serves | the trigger's mapper, as over HTTP | status, headers, body (base64 when not text); errors are the same problem+json |
//! | API Gateway WebSocket | the WebSocket trigger of `routeKey` (`$default` for unknown message keys) | mapper sources `connection_id`, `route_key`, `headers`, `body` | `{statusCode, body}` |
//! | SQS | every record, to the consumer triggers of its queue (the queue [`QUEUES_VARIABLE`] names for `eventSourceARN`, else its last segment) | the body, mapped as broker consumers map messages | `{"batchItemFailures": [...]}`: exactly the failed records |
//! | SNS | the consumer triggers whose queue is the topic's name | `Sns.Message` | `null`; a failure fails the invocation |
//! | EventBridge event | the consumer triggers whose queue is the `detail-type` | `detail` | the output |
//! | schedule (`{"bisslog_schedule": ...}` or a "Scheduled Event") | the schedule trigger | its static `event` | the output |
//!
//! Anything else fails with a [`LambdaError`] saying what was seen. The
//! service is set up once per cold start, outside the handler; see
//! `docs/lambda.md` for deployment.
//!
//! ```no_run
//! # async fn lambda_service() -> Result<bisslog_runtime::Service, Box<dyn std::error::Error + Send + Sync>> { unimplemented!() }
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     bisslog_runtime::logging::init();
//!     let service = lambda_service().await?; // once per cold start
//!     bisslog_lambda::run(bisslog_lambda::LambdaHandler::new(service)?).await
//! }
//! ```
//!
//! [`LambdaHandler::handle`] routes one event, without the runtime loop:
//!
//! ```
//! use bisslog_core::{Ctx, Error, UseCase};
//! use bisslog_lambda::LambdaHandler;
//! use bisslog_runtime::Service;
//! use serde::{Deserialize, Serialize};
//! use serde_json::json;
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Input { a: i64, b: i64 }
//! #[derive(Serialize, schemars::JsonSchema)]
//! struct Sum { result: i64 }
//!
//! struct Add;
//! impl UseCase for Add {
//!     type Input = Input;
//!     type Output = Sum;
//!     type Error = Error;
//!     async fn run(&self, _: &Ctx, input: Input) -> Result<Sum, Error> {
//!         Ok(Sum { result: input.a + input.b })
//!     }
//! }
//!
//! let metadata = bisslog_schema::validate_str(
//!     "metadata.yml",
//!     "name: calculator\nuse_cases:\n  add:\n    name: add\n    triggers: [{type: http, options: {method: post, path: /add}}]\n",
//! ).into_service().unwrap();
//! let service = Service::builder(metadata).use_case("add", Add).build().unwrap();
//! let handler = LambdaHandler::new(service).unwrap();
//!
//! // An API Gateway HTTP API (payload 2.0) request.
//! let event = json!({
//!     "version": "2.0",
//!     "routeKey": "POST /add",
//!     "rawPath": "/add",
//!     "rawQueryString": "",
//!     "headers": {"content-type": "application/json"},
//!     "requestContext": {"http": {"method": "POST", "path": "/add"}, "stage": "$default"},
//!     "body": "{\"a\": 1, \"b\": 2}",
//!     "isBase64Encoded": false
//! });
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let response = handler.handle(event).await.unwrap();
//! assert_eq!(response["statusCode"], 200);
//! assert_eq!(response["body"], r#"{"result":3}"#);
//! # });
//! ```

mod error;
mod events;
mod handler;
mod routes;
mod routing;
mod runtime;
mod shape;

pub use error::LambdaError;
pub use handler::LambdaHandler;
pub use routes::QUEUES_VARIABLE;
pub use runtime::run;

/// The key of the envelope that runs a schedule trigger:
/// `{"bisslog_schedule": {"use_case": "<keyname>", "trigger": <index>}}`,
/// where the index is the trigger's position in the use case's `triggers`
/// (the generated EventBridge Scheduler events send it as their input).
pub const SCHEDULE_KEY: &str = "bisslog_schedule";
