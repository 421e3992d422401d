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
/// answering. It needs the variables Lambda sets (`AWS_LAMBDA_RUNTIME_API`,
/// `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`,
/// `AWS_LAMBDA_FUNCTION_VERSION`): without them it fails at once, naming
/// the missing one, instead of the runtime's panic.
pub async fn run(handler: LambdaHandler) -> Result<(), lambda_runtime::Error> {
    check_environment()?;
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

/// The variables `lambda_runtime` reads with `expect`.
const REQUIRED: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

fn check_environment() -> Result<(), lambda_runtime::Error> {
    for name in REQUIRED {
        if std::env::var_os(name).is_none() {
            return Err(format!(
                "{name} is not set: this runs inside AWS Lambda (or `cargo lambda watch`), which sets it"
            )
            .into());
        }
    }
    let memory = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        return Err(format!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not a number: `{memory}`").into());
    }
    Ok(())
}
