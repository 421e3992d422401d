//! W3C trace context and the server spans of requests and WebSocket
//! messages, recorded by a `MemoryTracer`.

use bisslog_core::TraceContext;
use bisslog_runtime::trace::{FinishedSpan, MemoryTracer, RecordedSpans, SpanKind, Value};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};

use crate::fixture::{Running, start, start_traced};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn caller() -> TraceContext {
    TraceContext::parse(TRACEPARENT).unwrap()
}

async fn traced() -> (Running, RecordedSpans) {
    let (tracer, spans) = MemoryTracer::recording();
    (start_traced(Some(tracer)).await, spans)
}

fn named(spans: &RecordedSpans, name: &str) -> FinishedSpan {
    spans
        .named(name)
        .unwrap_or_else(|| panic!("no span `{name}` in {:#?}", spans.finished()))
}

#[tokio::test]
async fn a_request_continues_its_callers_trace_under_a_server_span() {
    let (s, spans) = traced().await;
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("traceparent", TRACEPARENT)
        .header("tracestate", "congo=t61rcWkgMzE")
        .header("x-transaction-id", "tx-7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let server = named(&spans, "GET /things/{id}");
    assert_eq!(server.kind, SpanKind::Server);
    let parent = caller().with_state("congo=t61rcWkgMzE");
    assert_eq!(server.parent.as_ref(), Some(&parent));
    assert_eq!(server.context.trace_id(), caller().trace_id());
    assert_eq!(server.context.state(), Some("congo=t61rcWkgMzE"));
    assert_eq!(server.attribute("http.request.method"), Some("GET"));
    assert_eq!(server.attribute("http.route"), Some("/things/{id}"));
    assert_eq!(server.attribute("url.path"), Some("/things/7"));
    assert_eq!(server.attribute("url.scheme"), Some("http"));
    assert_eq!(server.attribute("bisslog.transaction_id"), Some("tx-7"));
    assert_eq!(
        server.value("http.response.status_code"),
        Some(&Value::Int(200))
    );
    assert!(server.error.is_none());
    let use_case = named(&spans, "get_thing");
    assert_eq!(use_case.kind, SpanKind::Internal);
    assert_eq!(use_case.parent.as_ref(), Some(&server.context));
}

#[tokio::test]
async fn server_errors_mark_the_span_and_client_errors_do_not() {
    let (s, spans) = traced().await;
    let r = s.client.post(s.url("/fail/internal")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let server = named(&spans, "POST /fail/{kind}");
    assert_eq!(
        server.value("http.response.status_code"),
        Some(&Value::Int(500))
    );
    assert_eq!(server.attribute("error.type"), Some("500"));
    assert!(server.error.is_some());
    assert!(server.parent.is_none(), "no traceparent: a new trace");
    assert_eq!(named(&spans, "fail").parent.as_ref(), Some(&server.context));

    let r = s.client.get(s.url("/things/8")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let server = named(&spans, "GET /things/{id}");
    assert_eq!(
        server.value("http.response.status_code"),
        Some(&Value::Int(404))
    );
    assert!(server.error.is_none(), "a 4xx is the client's: {server:?}");
    assert!(server.attribute("error.type").is_none());
}

#[tokio::test]
async fn requests_refused_before_their_use_case_have_a_server_span() {
    let (s, spans) = traced().await;
    let r = s
        .client
        .get(s.url("/me"))
        .header("traceparent", TRACEPARENT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let server = named(&spans, "GET /me");
    assert_eq!(
        server.value("http.response.status_code"),
        Some(&Value::Int(401))
    );
    assert_eq!(server.parent.as_ref(), Some(&caller()));
    assert!(spans.named("whoami").is_none(), "the use case never ran");
}

#[tokio::test]
async fn the_call_sees_its_own_span_as_its_trace_context() {
    let (s, spans) = traced().await;
    let r = s
        .client
        .get(s.url("/trace/1"))
        .header("traceparent", TRACEPARENT)
        .send()
        .await
        .unwrap();
    let body: Json = r.json().await.unwrap();
    let server = named(&spans, "GET /trace/{step}");
    let use_case = named(&spans, "trace");
    assert_eq!(body["parent"], json!(server.context.traceparent()));
    assert_eq!(body["traceparent"], json!(use_case.context.traceparent()));
}

#[tokio::test]
async fn without_a_tracer_the_incoming_trace_reaches_the_call_unchanged() {
    let s = start().await;
    let r = s
        .client
        .get(s.url("/trace/1"))
        .header("traceparent", TRACEPARENT)
        .send()
        .await
        .unwrap();
    let body: Json = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"traceparent": TRACEPARENT, "parent": TRACEPARENT})
    );
    let r = s.client.get(s.url("/trace/1")).send().await.unwrap();
    let body: Json = r.json().await.unwrap();
    assert_eq!(body, json!({"traceparent": null, "parent": null}));
}

#[tokio::test]
async fn each_websocket_message_has_a_span_in_the_upgrades_trace() {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let (s, spans) = traced().await;
    let mut request = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("traceparent", TRACEPARENT.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(r#"{"action": "echo", "text": "hola"}"#))
        .await
        .unwrap();
    let reply: Json =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(reply["echo"], "hola");

    let connect = named(&spans, "WS $connect");
    assert_eq!(connect.parent.as_ref(), Some(&caller()));
    let message = named(&spans, "WS echo");
    assert_eq!(message.kind, SpanKind::Server);
    assert_eq!(message.parent.as_ref(), Some(&caller()));
    assert_eq!(
        message.attribute("bisslog.websocket.route_key"),
        Some("echo")
    );
    assert_eq!(message.attribute("bisslog.outcome"), Some("success"));
    assert_eq!(
        named(&spans, "ws_echo").parent.as_ref(),
        Some(&message.context)
    );
}
