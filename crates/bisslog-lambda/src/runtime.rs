//! The Lambda runtime loop.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::handler::LambdaHandler;

/// Serves invocations from the Lambda Runtime API until the process ends:
/// each event goes to [`LambdaHandler::handle`]; its response is posted
/// as the invocation's response, its error (a [`LambdaError`](crate::LambdaError)) as the
/// invocation's error, with the variant's name as the error type
/// (`bisslog::UnmatchedEvent`).
///
/// It fails only when the runtime cannot start or the Runtime API stops
/// answering; needs `AWS_LAMBDA_RUNTIME_API` and the other variables
/// Lambda sets.
pub async fn run(handler: LambdaHandler) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move {
            let request_id = event.context.request_id.clone();
            let outcome = handler.handle(event.payload).await;
            if let Err(error) = &outcome {
                tracing::warn!(request_id = %request_id, kind = error.name(), error = %error, "the invocation failed");
            }
            outcome
        }
    }))
    .await
}
