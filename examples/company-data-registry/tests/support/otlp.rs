#![allow(dead_code, unreachable_pub)]

//! An OTLP/HTTP receiver for the tests: it decodes the real protobuf the
//! services export (`POST /v1/traces`, `POST /v1/metrics`) and keeps every
//! span and the names of the metrics, by service.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message as _;
use tokio::sync::watch;

/// One span as the collector received it.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The `service.name` of its resource.
    pub service: String,
    pub name: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// OTLP's span kind (2 server, 3 client, 4 producer, 5 consumer).
    pub kind: i32,
    /// Its attributes as text.
    pub attributes: BTreeMap<String, String>,
    /// OTLP's status code (2 is error).
    pub status: i32,
    /// The span ids of its links.
    pub links: Vec<String>,
}

impl ReceivedSpan {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

#[derive(Clone)]
struct Received {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    /// `(service.name, metric name)` of every metric exported.
    metrics: Arc<Mutex<Vec<(String, String)>>>,
    count: Arc<watch::Sender<usize>>,
}

/// The receiver, listening on 127.0.0.1 until dropped.
pub struct Collector {
    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` is set to.
    pub endpoint: String,
    received: Received,
    server: tokio::task::JoinHandle<()>,
}

impl Collector {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Received {
            spans: Arc::default(),
            metrics: Arc::default(),
            count: Arc::new(watch::channel(0).0),
        };
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(export))
            .route("/v1/metrics", axum::routing::post(export_metrics))
            .with_state(received.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            endpoint,
            received,
            server,
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The spans once `done` holds of them; panics after 30 s with what
    /// arrived.
    pub async fn wait_for(&self, done: impl Fn(&[ReceivedSpan]) -> bool) -> Vec<ReceivedSpan> {
        let mut count = self.received.count.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let spans = self.spans();
                if done(&spans) {
                    return spans;
                }
                if count.changed().await.is_err() {
                    return spans;
                }
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("spans not received in 30 s: {:#?}", self.spans()))
    }
}

impl Collector {
    /// The names of the metrics `service` exported so far.
    pub fn metric_names(&self, service: &str) -> Vec<String> {
        self.received
            .metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(s, _)| s == service)
            .map(|(_, name)| name.clone())
            .collect()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn export(State(received): State<Received>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .and_then(|a| a.value.as_ref()?.value.as_ref().map(text))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                spans.push(ReceivedSpan {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    kind: span.kind,
                    attributes: span
                        .attributes
                        .iter()
                        .filter_map(|a| {
                            Some((a.key.clone(), text(a.value.as_ref()?.value.as_ref()?)))
                        })
                        .collect(),
                    status: span.status.map(|s| s.code).unwrap_or_default(),
                    links: span.links.iter().map(|l| hex(&l.span_id)).collect(),
                });
            }
        }
    }
    let total = {
        let mut all = received
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.extend(spans);
        all.len()
    };
    received.count.send_replace(total);
    StatusCode::OK
}

async fn export_metrics(State(received): State<Received>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportMetricsServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut metrics = Vec::new();
    for resource_metrics in request.resource_metrics {
        let service = resource_metrics
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .and_then(|a| a.value.as_ref()?.value.as_ref().map(text))
            .unwrap_or_default();
        for scope in resource_metrics.scope_metrics {
            for metric in scope.metrics {
                metrics.push((service.clone(), metric.name));
            }
        }
    }
    received
        .metrics
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(metrics);
    StatusCode::OK
}

fn text(value: &Value) -> String {
    match value {
        Value::StringValue(text) => text.clone(),
        Value::IntValue(number) => number.to_string(),
        Value::BoolValue(flag) => flag.to_string(),
        Value::DoubleValue(number) => number.to_string(),
        other => format!("{other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
