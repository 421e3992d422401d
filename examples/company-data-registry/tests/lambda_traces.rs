//! The registry on AWS Lambda exports its spans over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set: `App::lambda` turns the exporter
//! on for the main service, and flushing its tracer after an invocation
//! (what `bisslog::lambda::run` does) sends that invocation's spans while
//! the environment still runs.
//!
//! The variables are read at the cold start, so the function runs in a
//! child process: this test binary again, with them set.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/otlp.rs"]
mod otlp;

use bisslog::lambda::LambdaHandler;
use serde_json::json;

/// Set in the child process, where the function runs.
const CHILD: &str = "BISSLOG_TEST_LAMBDA_TRACES_CHILD";
const TEST: &str = "an_invocations_spans_reach_the_collector_without_a_shutdown";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocations_spans_reach_the_collector_without_a_shutdown() {
    if std::env::var_os(CHILD).is_some() {
        invoke_once().await;
        return;
    }
    let collector = otlp::Collector::start().await;
    let endpoint = collector.endpoint.clone();
    // Blocking: the collector answers on the runtime's threads meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            // The batch timer never fires in the child's lifetime: only
            // the flush sends the spans.
            .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env_remove("OTEL_SDK_DISABLED")
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        output.status.success(),
        "the function failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The child has exited: what it flushed is all there is.
    let spans = collector.spans();
    let server = spans
        .iter()
        .find(|s| s.name == "GET /schemas")
        .unwrap_or_else(|| panic!("no `GET /schemas` span in {spans:#?}"));
    assert_eq!(server.service, "company registry data");
    assert_eq!(server.kind, 2, "server");
    assert_eq!(server.attribute("faas.trigger"), Some("http"));
    let call = spans
        .iter()
        .find(|s| s.name == "get_all_schemas")
        .unwrap_or_else(|| panic!("no use-case span in {spans:#?}"));
    assert_eq!(call.parent_span_id, server.span_id);
    assert_eq!(call.trace_id, server.trace_id);
}

/// The child: one API Gateway request, then the flush the runtime loop
/// makes after each invocation.
async fn invoke_once() {
    let service = company_data_registry::lambda_service().await.unwrap();
    let tracer = service
        .tracer()
        .cloned()
        .expect("App::lambda turned tracing on");
    let handler = LambdaHandler::new(service).unwrap();
    let response = handler
        .handle(json!({
            "version": "2.0",
            "routeKey": "GET /schemas",
            "rawPath": "/schemas",
            "rawQueryString": "",
            "headers": {},
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "stage": "$default",
                "requestId": "r-1", "routeKey": "GET /schemas",
                "http": {"method": "GET", "path": "/schemas", "protocol": "HTTP/1.1",
                         "sourceIp": "192.0.2.1", "userAgent": "test"},
                "time": "21/Nov/2026:19:00:00 +0000", "timeEpoch": 1_795_287_600_000_i64
            },
            "isBase64Encoded": false
        }))
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    tokio::task::spawn_blocking(move || tracer.flush())
        .await
        .unwrap()
        .unwrap();
}
