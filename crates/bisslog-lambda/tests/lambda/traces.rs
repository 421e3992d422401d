//! Spans and W3C trace context of invocations: API Gateway requests, SQS
//! records and schedules continue (or start) their traces.

use bisslog_core::TraceContext;
use bisslog_lambda::SCHEDULE_KEY;
use bisslog_runtime::trace::{FinishedSpan, RecordedSpans, SpanKind, Value};
use serde_json::json;

use crate::support::{fixture, handler, traced_handler};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn caller() -> TraceContext {
    TraceContext::parse(TRACEPARENT).unwrap()
}

fn named(spans: &RecordedSpans, name: &str) -> FinishedSpan {
    spans
        .named(name)
        .unwrap_or_else(|| panic!("no span `{name}` in {:#?}", spans.finished()))
}

/// The SQS fixture's record, carrying `traceparent` as a message attribute.
fn sqs_event_with_traceparent() -> serde_json::Value {
    let mut event = fixture("example-sqs-event-orders.json");
    event["Records"][0]["messageAttributes"]["traceparent"] =
        json!({"stringValue": TRACEPARENT, "dataType": "String"});
    event
}

#[tokio::test]
async fn an_api_gateway_request_continues_its_callers_trace() {
    let (handler, calls, spans) = traced_handler();
    let mut event = fixture("example-apigw-request.json");
    event["headers"]["traceparent"] = json!(TRACEPARENT);
    event["multiValueHeaders"]["traceparent"] = json!([TRACEPARENT]);
    let response = handler.handle(event).await.unwrap();
    assert_eq!(response["statusCode"], 200);
    let server = named(&spans, "POST /hello/{who}");
    assert_eq!(server.kind, SpanKind::Server);
    assert_eq!(server.parent.as_ref(), Some(&caller()));
    assert_eq!(server.attribute("http.route"), Some("/hello/{who}"));
    assert_eq!(server.attribute("faas.trigger"), Some("http"));
    assert_eq!(server.attribute("cloud.provider"), Some("aws"));
    assert_eq!(
        server.attribute("faas.invocation_id"),
        Some("deef4878-7910-11e6-8f14-25afc3e9ae33")
    );
    assert_eq!(
        server.value("http.response.status_code"),
        Some(&Value::Int(200))
    );
    let use_case = named(&spans, "hello");
    assert_eq!(use_case.parent.as_ref(), Some(&server.context));
    assert_eq!(
        calls.only().trace.as_deref(),
        Some(use_case.context.traceparent().as_str())
    );
}

#[tokio::test]
async fn an_http_api_request_without_traceparent_starts_a_trace() {
    let (handler, _, spans) = traced_handler();
    let response = handler
        .handle(fixture("example-apigw-v2-request-no-authorizer.json"))
        .await
        .unwrap();
    let server = spans
        .finished()
        .into_iter()
        .find(|s| s.kind == SpanKind::Server)
        .expect("a server span");
    assert!(server.parent.is_none());
    assert_eq!(
        server.attribute("faas.invocation_id"),
        Some("LV7fzho-PHcEJPw=")
    );
    assert_eq!(
        server.value("http.response.status_code"),
        Some(&Value::Int(i64::from(
            u16::try_from(response["statusCode"].as_u64().unwrap()).unwrap()
        )))
    );
}

#[tokio::test]
async fn an_sqs_record_continues_the_trace_of_its_message_attribute() {
    let (handler, calls, spans) = traced_handler();
    let response = handler.handle(sqs_event_with_traceparent()).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    let consumer = named(&spans, "process orders");
    assert_eq!(consumer.kind, SpanKind::Consumer);
    assert_eq!(consumer.parent.as_ref(), Some(&caller()));
    assert_eq!(consumer.attribute("faas.trigger"), Some("pubsub"));
    assert_eq!(consumer.attribute("messaging.system"), Some("aws_sqs"));
    assert_eq!(
        consumer.attribute("messaging.destination.name"),
        Some("orders")
    );
    assert_eq!(
        consumer.attribute("messaging.operation.type"),
        Some("process")
    );
    assert_eq!(
        consumer.attribute("messaging.message.id"),
        Some("MessageID_1")
    );
    assert_eq!(consumer.value("bisslog.attempt"), Some(&Value::Int(2)));
    assert_eq!(consumer.attribute("bisslog.settlement"), Some("ack"));
    let use_case = named(&spans, "take_order");
    assert_eq!(use_case.parent.as_ref(), Some(&consumer.context));
    // The transaction still comes from the `transaction-id` attribute.
    assert_eq!(
        calls.only().parent.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
}

#[tokio::test]
async fn a_failed_sqs_record_is_settled_for_retry_on_its_span() {
    let (handler, _, spans) = traced_handler();
    let mut event = sqs_event_with_traceparent();
    event["Records"][0]["body"] = json!(r#"{"fail": true}"#);
    let response = handler.handle(event).await.unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "MessageID_1"}]})
    );
    let consumer = named(&spans, "process orders");
    assert_eq!(consumer.attribute("bisslog.settlement"), Some("retry"));
    assert!(consumer.error.is_some());
}

#[tokio::test]
async fn without_a_tracer_an_sqs_record_passes_its_trace_on() {
    let (handler, calls) = handler();
    handler.handle(sqs_event_with_traceparent()).await.unwrap();
    assert_eq!(calls.only().trace.as_deref(), Some(TRACEPARENT));
}

#[tokio::test]
async fn a_schedule_tick_starts_a_trace() {
    let (handler, _, spans) = traced_handler();
    let event = json!({SCHEDULE_KEY: {"use_case": "nightly_report", "trigger": 1}});
    handler.handle(event).await.unwrap();
    let tick = named(&spans, "tick nightly_report");
    assert_eq!(tick.kind, SpanKind::Internal);
    assert!(tick.parent.is_none());
    assert_eq!(tick.attribute("bisslog.schedule"), Some("0 3 * * *"));
    assert_eq!(tick.attribute("faas.trigger"), Some("timer"));
    assert_eq!(
        named(&spans, "nightly_report").parent.as_ref(),
        Some(&tick.context)
    );
}

#[tokio::test]
async fn an_eventbridge_scheduled_event_records_its_scheduled_time() {
    let (handler, _, spans) = traced_handler();
    let mut event = fixture("example-eventbridge-schedule.json");
    event["resources"] = json!(["arn:aws:events:us-east-1:123456789012:rule/nightly_report"]);
    handler.handle(event.clone()).await.unwrap();
    let tick = named(&spans, "tick nightly_report");
    assert_eq!(
        tick.attribute("bisslog.scheduled_time"),
        event["time"].as_str()
    );
}

#[tokio::test]
async fn a_websocket_connect_continues_the_trace_of_its_headers() {
    let (handler, _, spans) = traced_handler();
    let mut event = fixture("example-apigw-websocket-request.json");
    event["headers"]["traceparent"] = json!(TRACEPARENT);
    event["multiValueHeaders"] = json!({});
    let response = handler.handle(event).await.unwrap();
    assert_eq!(response["statusCode"], 200);
    let connect = named(&spans, "WS $connect");
    assert_eq!(connect.kind, SpanKind::Server);
    assert_eq!(connect.parent.as_ref(), Some(&caller()));
    assert_eq!(
        named(&spans, "connect").parent.as_ref(),
        Some(&connect.context)
    );
}
