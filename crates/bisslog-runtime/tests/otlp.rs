//! `trace::otlp` against real OTLP receivers on 127.0.0.1 decoding the real
//! protobuf: over gRPC (a tonic `TraceService`) and HTTP/protobuf (an axum
//! route), spans arrive with their names, kinds, parents, resource and
//! attributes after `shutdown()`, and after `Tracer::flush()` with the
//! exporter still running; with the collector down, calls still succeed
//! and shutting down is bounded.

#![cfg(feature = "otlp")]
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bisslog_core::{Ctx, Error, Trigger, UseCase};
use bisslog_runtime::Service;
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::trace::otlp::{Otlp, OtlpSettings, Protocol};
use bisslog_runtime::trace::{SpanKind, SpanStart, Tracer};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message as _;

/// One span as a receiver decoded it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    /// OTLP's span kind (1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    kind: i32,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
    attributes: BTreeMap<String, String>,
}

/// Every span the receiver was sent.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<Received>>>);

impl Spans {
    fn keep(&self, request: ExportTraceServiceRequest) {
        let mut spans = self.0.lock().unwrap();
        for resource_spans in request.resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref()?.value.as_ref().map(text))
                .unwrap_or_default();
            for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                spans.push(Received {
                    service: service.clone(),
                    name: span.name,
                    kind: span.kind,
                    trace_id: span.trace_id,
                    span_id: span.span_id,
                    parent_span_id: span.parent_span_id,
                    attributes: span
                        .attributes
                        .iter()
                        .filter_map(|a| {
                            Some((a.key.clone(), text(a.value.as_ref()?.value.as_ref()?)))
                        })
                        .collect(),
                });
            }
        }
    }

    fn all(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    fn named(&self, name: &str) -> Received {
        self.all()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no span `{name}` in {:#?}", self.all()))
    }
}

fn text(value: &AnyValue) -> String {
    match value {
        AnyValue::StringValue(text) => text.clone(),
        AnyValue::IntValue(number) => number.to_string(),
        AnyValue::BoolValue(flag) => flag.to_string(),
        other => format!("{other:?}"),
    }
}

/// An OTLP/HTTP receiver: `POST /v1/traces` with a protobuf body.
async fn http_receiver() -> (String, Spans) {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::StatusCode;

    async fn export(State(spans): State<Spans>, body: Bytes) -> StatusCode {
        match ExportTraceServiceRequest::decode(body) {
            Ok(request) => {
                spans.keep(request);
                StatusCode::OK
            }
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }

    let spans = Spans::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(export))
        .with_state(spans.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, spans)
}

#[cfg(feature = "otlp-grpc")]
mod grpc {
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use tonic::{Request, Response, Status};

    use super::Spans;

    struct Receiver(Spans);

    #[tonic::async_trait]
    impl TraceService for Receiver {
        async fn export(
            &self,
            request: Request<ExportTraceServiceRequest>,
        ) -> Result<Response<ExportTraceServiceResponse>, Status> {
            self.0.keep(request.into_inner());
            Ok(Response::new(ExportTraceServiceResponse {
                partial_success: None,
            }))
        }
    }

    /// An OTLP/gRPC receiver: the collector's `TraceService`.
    pub(super) async fn receiver() -> (String, Spans) {
        let spans = Spans::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Receiver(spans.clone())));
        tokio::spawn(
            server.serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        (endpoint, spans)
    }
}

fn settings(endpoint: String, protocol: Protocol) -> OtlpSettings {
    OtlpSettings::new(endpoint, protocol, "otlp-test")
}

/// A server span and its child, as an entry point and a call make them.
fn record_two_spans(tracer: &Tracer) {
    let server = tracer.start(
        SpanStart::new("GET /things/{id}", SpanKind::Server)
            .attribute("http.route", "/things/{id}")
            .attribute("http.response.status_code", 200_i64),
    );
    let child = tracer.start(
        SpanStart::new("load_thing", SpanKind::Internal)
            .parent(server.context())
            .attribute("bisslog.use_case", "load_thing"),
    );
    child.end();
    server.end();
}

fn assert_two_spans(spans: &Spans) {
    let server = spans.named("GET /things/{id}");
    let child = spans.named("load_thing");
    assert_eq!(server.service, "otlp-test");
    assert_eq!(child.service, "otlp-test");
    assert_eq!(server.kind, 2, "server");
    assert_eq!(child.kind, 1, "internal");
    assert!(server.parent_span_id.is_empty(), "a root: {server:?}");
    assert_eq!(child.parent_span_id, server.span_id);
    assert_eq!(child.trace_id, server.trace_id);
    assert_eq!(
        server.attributes.get("http.route").map(String::as_str),
        Some("/things/{id}")
    );
    assert_eq!(
        server
            .attributes
            .get("http.response.status_code")
            .map(String::as_str),
        Some("200")
    );
    assert_eq!(
        child.attributes.get("bisslog.use_case").map(String::as_str),
        Some("load_thing")
    );
}

/// Runs the SDK's blocking `shutdown` off the async threads.
async fn shut_down(otlp: Otlp) -> Result<(), String> {
    tokio::task::spawn_blocking(move || otlp.shutdown().map_err(|e| e.to_string()))
        .await
        .unwrap()
}

#[cfg(feature = "otlp-grpc")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_export_delivers_names_kinds_parents_resource_and_attributes() {
    let (endpoint, spans) = grpc::receiver().await;
    let otlp = Otlp::new(settings(endpoint, Protocol::Grpc)).unwrap();
    record_two_spans(&otlp.tracer());
    shut_down(otlp).await.unwrap();
    assert_two_spans(&spans);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_export_delivers_names_kinds_parents_resource_and_attributes() {
    let (endpoint, spans) = http_receiver().await;
    let otlp = Otlp::new(settings(endpoint, Protocol::HttpProtobuf)).unwrap();
    record_two_spans(&otlp.tracer());
    shut_down(otlp).await.unwrap();
    assert_two_spans(&spans);
}

/// What AWS Lambda needs between invocations: the spans ended so far are
/// sent by `Tracer::flush`, and the exporter keeps exporting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_sends_the_spans_without_shutting_down() {
    let (endpoint, spans) = http_receiver().await;
    let otlp = Otlp::new(settings(endpoint, Protocol::HttpProtobuf)).unwrap();
    let tracer = otlp.tracer();
    for round in 1..=2 {
        record_two_spans(&tracer);
        let flushing = tracer.clone();
        tokio::task::spawn_blocking(move || flushing.flush())
            .await
            .unwrap()
            .unwrap();
        // The batch delay is five seconds: only the flush sent them.
        assert_eq!(spans.all().len(), 2 * round, "{:#?}", spans.all());
    }
    assert_two_spans(&spans);
    shut_down(otlp).await.unwrap();
}

struct Double;

impl UseCase for Double {
    type Input = serde_json::Value;
    type Output = serde_json::Value;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: serde_json::Value) -> Result<serde_json::Value, Error> {
        Ok(serde_json::json!(
            input["n"].as_i64().unwrap_or_default() * 2
        ))
    }
}

/// Nothing listens on the endpoint: calls are unaffected, and flushing and
/// shutting down end within the exporter's timeout.
async fn collector_down(protocol: Protocol) {
    let endpoint = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let otlp = Otlp::new(settings(endpoint, protocol)).unwrap();
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: doubler\nuse_cases:\n  double:\n    triggers: [{type: http, options: {method: post, path: /double}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("double", Double)
        .tracer(otlp.tracer())
        .build()
        .unwrap();
    let double = service.use_case("double").unwrap();
    for _ in 0..3 {
        let reply = double
            .call(
                Ctx::new("double", Trigger::Direct),
                &Mapped::Owned(serde_json::json!({"n": 21})),
            )
            .await
            .unwrap();
        assert_eq!(reply.body.as_deref(), Some(&b"42"[..]));
    }
    let started = Instant::now();
    let tracer = otlp.tracer();
    let flushed = tokio::task::spawn_blocking(move || tracer.flush().map_err(|e| e.to_string()))
        .await
        .unwrap();
    let shut = shut_down(otlp).await;
    let took = started.elapsed();
    // Each waits at most five seconds; a refused connection fails at once.
    assert!(
        took < Duration::from_secs(11),
        "flush {flushed:?} and shutdown {shut:?} took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_http_collector_down_calls_succeed_and_shutdown_is_bounded() {
    collector_down(Protocol::HttpProtobuf).await;
}

#[cfg(feature = "otlp-grpc")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_grpc_collector_down_calls_succeed_and_shutdown_is_bounded() {
    collector_down(Protocol::Grpc).await;
}

/// `OTEL_TRACES_SAMPLER=always_off`: spans still have contexts (marked not
/// sampled, for what is sent on) and nothing reaches the collector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_the_sampler_leaves_out_carry_their_context_and_are_not_sent() {
    let (endpoint, spans) = http_receiver().await;
    let mut settings = settings(endpoint, Protocol::HttpProtobuf);
    settings.sampler =
        bisslog_runtime::trace::otlp::Sampler::read(Some("always_off"), None).unwrap();
    let otlp = Otlp::new(settings).unwrap();
    let tracer = otlp.tracer();
    let span = tracer.start(SpanStart::new("GET /x", SpanKind::Server));
    let context = span.context().cloned().expect("a context");
    assert!(!context.sampled());
    let child = tracer.start(SpanStart::new("x", SpanKind::Internal).parent(Some(&context)));
    let child_context = child.context().cloned().expect("a context");
    assert_eq!(child_context.trace_id(), context.trace_id());
    assert!(!child_context.sampled());
    child.end();
    span.end();
    record_two_spans(&tracer);
    shut_down(otlp).await.unwrap();
    assert!(spans.all().is_empty(), "{:#?}", spans.all());
}
