//! A small function for the runtime-loop tests and the cold-start
//! benchmark: `echo` answers with its input over every trigger kind, and
//! `boom` panics. With `OTEL_EXPORTER_OTLP_ENDPOINT` set it exports its
//! spans over OTLP/HTTP.
//!
//! Run with a Lambda Runtime API at hand (AWS, `cargo lambda watch`, or the
//! mock of `tests/runtime_api.rs`):
//! `AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_LAMBDA_FUNCTION_NAME=echo
//! AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION=1
//! cargo run -p bisslog-lambda --bin lambda-echo`

use bisslog_core::{Ctx, Error, UseCase};
use bisslog_runtime::Service;
use serde_json::Value;

const METADATA: &str = r#"
name: lambda-echo
use_cases:
  echo:
    name: echo
    triggers:
      - type: http
        options: {method: post, path: "/echo/{id}"}
      - type: consumer
        options: {queue: echoes}
      - type: schedule
        options: {cronjob: "*/5 * * * *", event: {tick: true}}
  boom:
    name: boom
    triggers:
      - type: schedule
        options: {cronjob: "0 * * * *"}
"#;

struct Echo;

impl UseCase for Echo {
    type Input = Value;
    type Output = Value;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Value) -> Result<Value, Error> {
        Ok(input)
    }
}

struct Boom;

impl UseCase for Boom {
    type Input = Value;
    type Output = Value;
    type Error = Error;

    async fn run(&self, _: &Ctx, _: Value) -> Result<Value, Error> {
        panic!("boom");
    }
}

/// The service, set up once per cold start.
async fn lambda_service() -> Result<Service, Box<dyn std::error::Error + Send + Sync>> {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .map_err(|report| {
            bisslog_schema::render_report(&report, bisslog_schema::RenderOptions { color: false })
        })?;
    Ok(Service::builder(metadata)
        .use_case("echo", Echo)
        .use_case("boom", Boom)
        .build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    bisslog_runtime::logging::init();
    let service = lambda_service().await?;
    // Spans over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, as
    // `App::lambda` does; the runtime loop flushes them per invocation.
    let otlp = bisslog_runtime::trace::otlp::Otlp::from_env(service.name())?;
    if let Some(otlp) = &otlp {
        let _ = service.set_tracer(otlp.tracer());
    }
    bisslog_lambda::run(bisslog_lambda::LambdaHandler::new(service)?).await
}
