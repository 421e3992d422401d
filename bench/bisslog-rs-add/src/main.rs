//! The bench harness's use case served by bisslog-rs, wired as a user would:
//! metadata (`metadata.yml`, embedded) + a plain-Rust use case + the HTTP
//! entry point.
//!
//! POST /add/{c}  body {"a": <int>, "b": <int>}  ->  {"result": a + b + c}
//!
//! Listens on 127.0.0.1:$PORT (default 8080); stops on SIGTERM or Ctrl-C.
//! Logs at INFO (start-up and shutdown lines only; nothing per request).
use bisslog_core::{Ctx, Error, UseCase};
use bisslog_http::HttpServer;
use bisslog_runtime::Service;
use serde::{Deserialize, Serialize};

const METADATA: &str = include_str!("../metadata.yml");

#[derive(Deserialize, schemars::JsonSchema)]
struct AddInput {
    a: i64,
    b: i64,
    c: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct AddResult {
    result: i64,
}

struct AddNumbers;

impl UseCase for AddNumbers {
    type Input = AddInput;
    type Output = AddResult;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: AddInput) -> Result<AddResult, Error> {
        Ok(AddResult {
            result: input.a + input.b + input.c,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // LOGGING=0 leaves logging uninitialised, to show what initialised
    // logging costs per request (nothing is logged per request at INFO).
    if !std::env::var("LOGGING").is_ok_and(|l| l == "0") {
        bisslog_runtime::logging::init();
    }
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .map_err(|report| {
            bisslog_schema::render_report(&report, bisslog_schema::RenderOptions::default())
        })?;
    // METRICS=0 builds the service without metrics (the
    // `bisslog-rs-no-metrics` contender), to show what they cost per request.
    let metrics = !std::env::var("METRICS").is_ok_and(|m| m == "0");
    let service = Service::builder(metadata)
        .use_case("add_numbers", AddNumbers)
        .metrics(metrics)
        .build()?;
    // HEADER_READ_TIMEOUT_MS=0 turns the slow-headers protection off (the
    // `bisslog-rs-no-hrt` contender), to show what it costs per request.
    let mut config = bisslog_http::HttpConfig::default();
    if std::env::var("HEADER_READ_TIMEOUT_MS").is_ok_and(|ms| ms == "0") {
        config.header_read_timeout = None;
    }
    let server = HttpServer::builder(service).config(config).build()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    server.serve(listener).await?;
    Ok(())
}
