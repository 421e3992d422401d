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
/// When the service has a tracer, the spans of each invocation are
/// flushed before its response is posted: Lambda freezes the execution
/// environment once it has the response, and spans still queued would
/// wait, unsent, for the next invocation (or be lost with the environment).
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
            flush_spans(&handler).await;
            outcome
        }
    }))
    .await
}

/// Sends the invocation's spans while the environment still runs. The
/// exporter blocks, so off the async threads; a collector that does not
/// answer costs the invocation the exporter's timeout, never its outcome.
async fn flush_spans(handler: &LambdaHandler) {
    let Some(tracer) = handler.service().tracer().cloned() else {
        return;
    };
    match tokio::task::spawn_blocking(move || tracer.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "the invocation's spans were not exported"),
        Err(error) => tracing::warn!(%error, "flushing the invocation's spans failed"),
    }
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
