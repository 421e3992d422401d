//! OTLP export of a service's metrics to a real receiver: an HTTP server on
//! 127.0.0.1 decoding the protobuf requests the export sends.

#![cfg(feature = "otlp")]
#![allow(clippy::unwrap_used, missing_docs)]

// The guard of log captures against tracing's interest cache.
#[path = "support/log_interest.rs"]
mod log_interest;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use bisslog_core::{Ctx, Error, Trigger, UseCase};
use bisslog_runtime::Service;
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::metrics::otlp::{MetricsExport, MetricsSettings};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, metric::Data,
    number_data_point,
};
use prost::Message as _;
use tokio::sync::watch;

#[derive(Clone)]
struct Received {
    requests: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
    count: Arc<watch::Sender<usize>>,
}

/// The receiver, listening on 127.0.0.1 until dropped.
struct Collector {
    endpoint: String,
    received: Received,
    server: tokio::task::JoinHandle<()>,
}

impl Collector {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Received {
            requests: Arc::default(),
            count: Arc::new(watch::channel(0).0),
        };
        let app = axum::Router::new()
            .route("/v1/metrics", axum::routing::post(export))
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

    fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.received
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits (30 s at most) until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<ExportMetricsServiceRequest> {
        let mut count = self.received.count.subscribe();
        tokio::time::timeout(Duration::from_secs(30), count.wait_for(|c| *c >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} exports not received in 30 s"))
            .unwrap();
        self.requests()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn export(State(received): State<Received>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportMetricsServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    received
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    received.count.send_modify(|c| *c += 1);
    StatusCode::OK
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Input {
    ok: bool,
}

struct Check;

impl UseCase for Check {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<(), Error> {
        if input.ok {
            Ok(())
        } else {
            Err(Error::invalid("bad", "bad input"))
        }
    }
}

const METADATA: &str = "
name: shop
use_cases:
  check:
    triggers: [{type: http, options: {method: post, path: /check}}]
";

fn service() -> Service {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    Service::builder(metadata)
        .use_case("check", Check)
        .build()
        .unwrap()
}

async fn call(service: &Service, ok: bool) {
    let check = service.use_case("check").unwrap();
    let input = Mapped::Owned(serde_json::json!({ "ok": ok }));
    let _ = check.call(Ctx::new("check", Trigger::Http), &input).await;
}

fn settings(vars: &[(&str, &str)]) -> MetricsSettings {
    MetricsSettings::read("shop", |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap()
    .unwrap()
}

fn text(value: &KeyValue) -> &str {
    match value.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(text)) => text,
        _ => "",
    }
}

fn has(attributes: &[KeyValue], wanted: &[(&str, &str)]) -> bool {
    wanted
        .iter()
        .all(|(k, v)| attributes.iter().any(|a| a.key == *k && text(a) == *v))
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    request.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn calls(request: &ExportMetricsServiceRequest, outcome: &str) -> NumberDataPoint {
    let metric = metric(request, "bisslog_use_case_calls");
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!("{metric:?}");
    };
    assert!(sum.is_monotonic);
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    sum.data_points
        .iter()
        .find(|p| has(&p.attributes, &[("outcome", outcome)]))
        .unwrap()
        .clone()
}

fn successes(request: &ExportMetricsServiceRequest) -> HistogramDataPoint {
    let metric = metric(request, "bisslog_use_case_duration_seconds");
    assert_eq!(metric.unit, "s");
    let Some(Data::Histogram(histogram)) = &metric.data else {
        panic!("{metric:?}");
    };
    histogram
        .data_points
        .iter()
        .find(|p| has(&p.attributes, &[("outcome", "success")]))
        .unwrap()
        .clone()
}

/// The cumulative `le` counts of the successes' duration in the text.
fn prometheus_buckets(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter(|l| {
            l.starts_with("bisslog_use_case_duration_seconds_bucket{")
                && l.contains("outcome=\"success\"")
        })
        .map(|l| {
            let le = l.split("le=\"").nth(1).unwrap().split('"').next().unwrap();
            let count = l.rsplit_once(' ').unwrap().1.parse().unwrap();
            (le.to_owned(), count)
        })
        .collect()
}

#[tokio::test]
async fn the_registry_reaches_the_collector_periodically_and_on_shutdown() {
    let collector = Collector::start().await;
    let service = service();
    let metrics = service.metrics().unwrap().clone();
    let pool = metrics.pool();
    metrics.on_scrape(move || {
        pool.in_use.set(7);
    });
    for ok in [true, true, true, false] {
        call(&service, ok).await;
    }
    let export = MetricsExport::start(
        metrics.clone(),
        settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "50"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"),
        ]),
    )
    .unwrap();

    let first = collector.wait_for(1).await.remove(0);
    let resource = first.resource_metrics[0].resource.as_ref().unwrap();
    assert!(has(
        &resource.attributes,
        &[("service.name", "shop"), ("deployment.environment", "test")]
    ));
    assert_eq!(
        first.resource_metrics[0].scope_metrics[0]
            .scope
            .as_ref()
            .unwrap()
            .name,
        "bisslog"
    );
    let success = calls(&first, "success");
    assert_eq!(success.value, Some(number_data_point::Value::AsInt(3)));
    assert!(has(
        &success.attributes,
        &[
            ("service", "shop"),
            ("use_case", "check"),
            ("trigger", "http"),
            ("outcome", "success"),
        ]
    ));
    let created = metrics
        .created()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    assert_eq!(u128::from(success.start_time_unix_nano), created);
    assert!(success.time_unix_nano > success.start_time_unix_nano);
    assert_eq!(
        calls(&first, "failure").value,
        Some(number_data_point::Value::AsInt(1))
    );

    // The histogram says what the Prometheus text says, per bucket.
    let histogram = successes(&first);
    assert_eq!(histogram.count, 3);
    assert_eq!(histogram.start_time_unix_nano, success.start_time_unix_nano);
    let buckets = prometheus_buckets(&metrics.encode());
    assert_eq!(buckets.last().unwrap(), &("+Inf".to_owned(), 3));
    assert_eq!(histogram.explicit_bounds.len() + 1, buckets.len());
    assert_eq!(histogram.bucket_counts.len(), buckets.len());
    let mut cumulative = 0;
    for (i, (le, count)) in buckets.iter().enumerate() {
        cumulative += histogram.bucket_counts[i];
        assert_eq!(cumulative, *count, "le={le}");
        if let Some(bound) = histogram.explicit_bounds.get(i) {
            assert_eq!(le.parse::<f64>().unwrap(), *bound);
        }
    }
    assert_eq!(histogram.explicit_bounds[0], 0.001);

    // A gauge set by a scrape hook: the hooks run before each export.
    let pool = metric(&first, "bisslog_db_pool_connections");
    let Some(Data::Gauge(gauge)) = &pool.data else {
        panic!("{pool:?}");
    };
    let in_use = gauge
        .data_points
        .iter()
        .find(|p| has(&p.attributes, &[("state", "in_use")]))
        .unwrap();
    assert_eq!(in_use.value, Some(number_data_point::Value::AsInt(7)));
    assert_eq!(in_use.start_time_unix_nano, 0, "a gauge has no start");

    export.shutdown().await.unwrap();

    // Without a periodic export due, shutting down sends exactly one, with
    // the calls made since the last.
    let export = MetricsExport::start(
        metrics.clone(),
        settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint)]),
    )
    .unwrap();
    assert_eq!(export.settings().interval, Duration::from_secs(60));
    call(&service, true).await;
    let before = collector.requests().len();
    export.shutdown().await.unwrap();
    let requests = collector.requests();
    assert_eq!(requests.len(), before + 1, "one final export");
    let last = requests.last().unwrap();
    assert_eq!(
        calls(last, "success").value,
        Some(number_data_point::Value::AsInt(4))
    );
    assert_eq!(successes(last).count, 4);
}

/// Captures what is logged, to see the warning.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

// Current-thread runtime: the export task logs on this thread, where the
// capturing subscriber is the default.
#[tokio::test]
async fn an_unreachable_collector_is_a_warning_and_shutdown_is_bounded() {
    // Defensive: the other tests of this binary run the exporter on their
    // own threads, without a subscriber; none reaches the lines asserted
    // here today (their exports succeed, or fail only at shutdown), but
    // one that did could hide them (see `log_interest`).
    log_interest::keep_every_callsite_interesting();
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    // A port nothing listens on any more.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let export = MetricsExport::start(
        service().metrics().unwrap().clone(),
        settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "20"),
        ]),
    )
    .unwrap();
    tokio::time::timeout(Duration::from_secs(30), async {
        while !logs.text().contains("metrics could not be exported") {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no warning: {}", logs.text()));
    assert!(logs.text().contains("WARN"), "{}", logs.text());

    let error = export.shutdown().await.unwrap_err();
    assert!(!error.to_string().is_empty());

    // A collector that refuses (503) then accepts: the failure is said
    // once, not at every interval, and the recovery once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let attempts = Arc::new(watch::channel(0_usize).0);
    let accept = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = axum::Router::new().route(
        "/v1/metrics",
        axum::routing::post({
            let (attempts, accept) = (Arc::clone(&attempts), Arc::clone(&accept));
            move || async move {
                attempts.send_modify(|n| *n += 1);
                if accept.load(std::sync::atomic::Ordering::SeqCst) {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let logs = Logs::default();
    let writer = logs.clone();
    let _default = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    );
    let export = MetricsExport::start(
        service().metrics().unwrap().clone(),
        settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "10"),
        ]),
    )
    .unwrap();
    let mut seen = attempts.subscribe();
    let waited = Duration::from_secs(30);
    tokio::time::timeout(waited, seen.wait_for(|n| *n >= 4))
        .await
        .unwrap()
        .unwrap();
    let text = logs.text();
    assert_eq!(
        text.matches("metrics could not be exported").count(),
        1,
        "{text}"
    );
    assert!(text.contains("503"), "{text}");
    accept.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::timeout(waited, async {
        while !logs.text().contains("metrics exported again") {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no recovery: {}", logs.text()));
    export.shutdown().await.unwrap();
    server.abort();

    // A collector that takes the connection and never answers: the final
    // export gives up after the export timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let export = MetricsExport::start(
        service().metrics().unwrap().clone(),
        settings(&[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                &format!("http://{}", silent.local_addr().unwrap()),
            ),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "300"),
        ]),
    )
    .unwrap();
    let started = Instant::now();
    let error = export.shutdown().await.unwrap_err();
    assert!(error.to_string().contains("no answer"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A gRPC receiver: the generated `MetricsService` server of the real
/// protocol, keeping each request and its `authorization` header.
#[cfg(feature = "otlp-grpc")]
mod grpc {
    use std::sync::{Arc, Mutex, PoisonError};

    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
        MetricsService, MetricsServiceServer,
    };
    use opentelemetry_proto::tonic::collector::metrics::v1::{
        ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    };

    /// A request and its `authorization` header.
    type Received = (Option<String>, ExportMetricsServiceRequest);

    #[derive(Clone, Default)]
    pub(super) struct Receiver {
        requests: Arc<Mutex<Vec<Received>>>,
    }

    impl Receiver {
        pub(super) fn requests(&self) -> Vec<Received> {
            self.requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
    }

    #[tonic::async_trait]
    impl MetricsService for Receiver {
        async fn export(
            &self,
            request: tonic::Request<ExportMetricsServiceRequest>,
        ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
            let authorization = request
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            self.requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((authorization, request.into_inner()));
            Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
        }
    }

    /// Serves on 127.0.0.1; returns the endpoint.
    pub(super) async fn start(receiver: Receiver) -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let incoming = futures_util::stream::unfold(listener, |listener| async move {
            let accepted = listener.accept().await.map(|(stream, _)| stream);
            Some((accepted, listener))
        });
        let server = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(MetricsServiceServer::new(receiver))
                .serve_with_incoming(incoming)
                .await;
        });
        (endpoint, server)
    }
}

#[cfg(feature = "otlp-grpc")]
#[tokio::test]
async fn over_grpc_with_headers() {
    let receiver = grpc::Receiver::default();
    let (endpoint, server) = grpc::start(receiver.clone()).await;
    let service = service();
    for ok in [true, false] {
        call(&service, ok).await;
    }
    let metrics = service.metrics().unwrap().clone();
    let settings = settings(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            "Authorization=Bearer%20k",
        ),
        ("OTEL_METRIC_EXPORT_INTERVAL", "50"),
    ]);
    assert_eq!(settings.metrics_url(), endpoint);
    let export = MetricsExport::start(metrics, settings).unwrap();
    tokio::time::timeout(Duration::from_secs(30), async {
        while receiver.requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("no periodic export over gRPC in 30 s");
    call(&service, true).await;
    export.shutdown().await.unwrap();
    let requests = receiver.requests();
    let (authorization, first) = &requests[0];
    assert_eq!(authorization.as_deref(), Some("Bearer k"));
    assert_eq!(
        calls(first, "failure").value,
        Some(number_data_point::Value::AsInt(1))
    );
    let (_, last) = requests.last().unwrap();
    assert_eq!(
        calls(last, "success").value,
        Some(number_data_point::Value::AsInt(2)),
        "the final export has the last call"
    );
    server.abort();

    // Nothing listening: the final export fails fast, without a panic.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let export = MetricsExport::start(
        service.metrics().unwrap().clone(),
        self::settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]),
    )
    .unwrap();
    let started = Instant::now();
    assert!(export.shutdown().await.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
}
