//! OTLP export of a service's metrics (the `otlp` feature), configured by
//! the standard `OTEL_*` variables: every `OTEL_METRIC_EXPORT_INTERVAL`
//! the registry is read and pushed to the collector over HTTP/protobuf
//! (or gRPC with the `otlp-grpc` feature), and once more when the export
//! shuts down.
//!
//! The registry stays Prometheus': `/metrics` serves the same series, and
//! the export reads them through [`Metrics::encode`], so what a collector
//! receives and what a scrape sees can not drift apart.

mod convert;
mod text;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;
use tokio::sync::oneshot;

use super::Metrics;
pub use crate::trace::otlp::{OtlpError, Protocol};
use crate::trace::otlp::{Signal, disabled, millis, resource_attributes, trimmed};

/// The instrumentation scope the metrics are recorded under.
const SCOPE: &str = "bisslog";

/// How long the final export on shutdown may take at most.
const FINAL_EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// `OTEL_METRIC_EXPORT_INTERVAL`'s default, as the specification says.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// `OTEL_METRIC_EXPORT_TIMEOUT`'s default, as the specification says.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the `OTEL_*` variables ask for the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Where metrics go: the metrics endpoint as given, or the base endpoint.
    pub endpoint: String,
    /// Whether `endpoint` is the base (`/v1/metrics` is added for HTTP).
    pub endpoint_is_base: bool,
    /// The protocol.
    pub protocol: Protocol,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// Other resource attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    pub resource: Vec<(String, String)>,
    /// Headers sent with every export (`OTEL_EXPORTER_OTLP_HEADERS`,
    /// `OTEL_EXPORTER_OTLP_METRICS_HEADERS`).
    pub headers: Vec<(String, String)>,
    /// Time between exports (`OTEL_METRIC_EXPORT_INTERVAL`, 60 s).
    pub interval: Duration,
    /// How long one export may take (`OTEL_METRIC_EXPORT_TIMEOUT`, 30 s).
    pub timeout: Duration,
}

impl MetricsSettings {
    /// Reads the settings through `var` (`std::env::var` in a service);
    /// `Ok(None)` when export is off: no endpoint, `OTEL_SDK_DISABLED=true`,
    /// or `OTEL_METRICS_EXPORTER` without `otlp` (`none`, or `prometheus`:
    /// `/metrics` is always served).
    ///
    /// # Errors
    ///
    /// An exporter, protocol or number this build does not support.
    pub fn read(
        service: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, OtlpError> {
        let var = trimmed(var);
        if disabled(&var) {
            return Ok(None);
        }
        if let Some(exporters) = var("OTEL_METRICS_EXPORTER") {
            let mut otlp = false;
            for exporter in exporters.split(',').map(str::trim) {
                match exporter {
                    "otlp" => otlp = true,
                    "none" | "prometheus" => {}
                    _ => {
                        return Err(OtlpError::Unsupported {
                            variable: "OTEL_METRICS_EXPORTER",
                            value: exporters.clone(),
                            reason: "bisslog exports metrics with `otlp` (or `none`; `/metrics` is always served)",
                        });
                    }
                }
            }
            if !otlp {
                return Ok(None);
            }
        }
        let Some((endpoint, endpoint_is_base, protocol)) = Signal::Metrics.destination(&var)?
        else {
            return Ok(None);
        };
        let headers = Signal::Metrics.headers(&var);
        let resource = resource_attributes(&var);
        Ok(Some(Self {
            endpoint,
            endpoint_is_base,
            protocol,
            service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| service.to_owned()),
            resource,
            headers,
            interval: millis(&var, "OTEL_METRIC_EXPORT_INTERVAL", DEFAULT_INTERVAL)?,
            timeout: millis(&var, "OTEL_METRIC_EXPORT_TIMEOUT", DEFAULT_TIMEOUT)?,
        }))
    }

    /// The URL metrics are sent to (gRPC takes the endpoint as is).
    pub fn metrics_url(&self) -> String {
        match (self.protocol, self.endpoint_is_base) {
            (Protocol::HttpProtobuf, true) => {
                format!("{}/v1/metrics", self.endpoint.trim_end_matches('/'))
            }
            _ => self.endpoint.clone(),
        }
    }
}

/// A running export of one registry; [`shutdown`](Self::shutdown) sends
/// the last values and says whether they arrived. Dropped instead, it
/// still sends them, from its task, while the runtime lives.
#[derive(Debug)]
pub struct MetricsExport {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), OtlpError>>,
    settings: MetricsSettings,
}

impl MetricsExport {
    /// Starts exporting `metrics` as `settings` say; the first export is
    /// one interval from now. Call it inside the Tokio runtime.
    ///
    /// # Errors
    ///
    /// An endpoint or header the client can not use; gRPC without the
    /// `otlp-grpc` feature; no Tokio runtime.
    pub fn start(metrics: Metrics, settings: MetricsSettings) -> Result<Self, OtlpError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| OtlpError::Exporter(format!("metrics export: {e}")))?;
        let url = settings.metrics_url();
        let ca = crate::trace::otlp::check_endpoint(&url, settings.protocol == Protocol::Grpc)?;
        let transport = match settings.protocol {
            Protocol::HttpProtobuf => Transport::Http(
                crate::tls::client_builder(&ca, url.starts_with("https:"))
                    .map_err(|e| OtlpError::Exporter(e.to_string()))?
                    .build()
                    .map_err(|e| OtlpError::Exporter(e.to_string()))?,
            ),
            #[cfg(feature = "otlp-grpc")]
            Protocol::Grpc => {
                Transport::Grpc(Box::new(grpc::Client::new(&url, &settings.headers)?))
            }
            #[cfg(not(feature = "otlp-grpc"))]
            Protocol::Grpc => {
                return Err(OtlpError::Unsupported {
                    variable: "OTEL_EXPORTER_OTLP_PROTOCOL",
                    value: "grpc".to_owned(),
                    reason: "`grpc` needs the `otlp-grpc` feature",
                });
            }
        };
        let exporter = Exporter {
            metrics,
            transport,
            url,
            settings: settings.clone(),
        };
        let (stop, stopped) = oneshot::channel();
        let task = runtime.spawn(exporter.run(stopped));
        Ok(Self {
            stop,
            task,
            settings,
        })
    }

    /// What it was configured with.
    pub fn settings(&self) -> &MetricsSettings {
        &self.settings
    }

    /// Stops the periodic exports (one under way is dropped) and sends the
    /// registry's values one last time, waiting five seconds at most.
    ///
    /// # Errors
    ///
    /// The collector did not take the last export (unreachable, an error
    /// status, too slow).
    pub async fn shutdown(self) -> Result<(), OtlpError> {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(result) => result,
            Err(error) => Err(OtlpError::Exporter(error.to_string())),
        }
    }
}

/// How the requests travel.
enum Transport {
    Http(reqwest::Client),
    #[cfg(feature = "otlp-grpc")]
    Grpc(Box<grpc::Client>),
}

/// The task's side: the registry and where it goes.
struct Exporter {
    metrics: Metrics,
    transport: Transport,
    url: String,
    settings: MetricsSettings,
}

impl Exporter {
    async fn run(self, mut stop: oneshot::Receiver<()>) -> Result<(), OtlpError> {
        let interval = self.settings.interval;
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A collector that is down is said once, and again when it is back,
        // not at every interval.
        let mut failing = false;
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = ticks.tick() => {}
            }
            // A stop cancels an export under way: the final one follows.
            tokio::select! {
                _ = &mut stop => break,
                result = self.export(self.settings.timeout) => match result {
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(%error, url = %self.url, "metrics could not be exported");
                    }
                    Err(error) => {
                        tracing::debug!(%error, url = %self.url, "metrics could not be exported");
                    }
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!(url = %self.url, "metrics exported again");
                    }
                    Ok(()) => {}
                },
            }
        }
        self.export(self.settings.timeout.min(FINAL_EXPORT_TIMEOUT))
            .await
    }

    async fn export(&self, timeout: Duration) -> Result<(), OtlpError> {
        let request = self.request();
        let sent = async {
            match &self.transport {
                Transport::Http(client) => self.post(client, &request).await,
                #[cfg(feature = "otlp-grpc")]
                Transport::Grpc(client) => client.export(request).await,
            }
        };
        tokio::time::timeout(timeout, sent)
            .await
            .map_err(|_| OtlpError::Exporter(format!("no answer within {timeout:?}")))?
    }

    /// HTTP/protobuf: the encoded request to `<endpoint>/v1/metrics`.
    async fn post(
        &self,
        client: &reqwest::Client,
        request: &ExportMetricsServiceRequest,
    ) -> Result<(), OtlpError> {
        let mut post = client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(request.encode_to_vec());
        for (key, value) in &self.settings.headers {
            post = post.header(key.as_str(), value.as_str());
        }
        let response = post
            .send()
            .await
            .map_err(|e| OtlpError::Exporter(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(OtlpError::Exporter(format!(
                "the collector answered {status}"
            )))
        }
    }

    /// The registry now, as one OTLP request.
    fn request(&self) -> ExportMetricsServiceRequest {
        let text = self.metrics.encode();
        let times = convert::Times {
            start: nanos(self.metrics.created()),
            now: nanos(SystemTime::now()),
        };
        let mut resource = vec![convert::attribute(
            "service.name",
            &self.settings.service_name,
        )];
        resource.extend(
            self.settings
                .resource
                .iter()
                .map(|(k, v)| convert::attribute(k, v)),
        );
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: resource,
                    ..Resource::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: SCOPE.to_owned(),
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                        ..InstrumentationScope::default()
                    }),
                    metrics: convert::metrics(&text::parse(&text), times),
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        }
    }
}

#[cfg(feature = "otlp-grpc")]
mod grpc {
    //! gRPC: the OTLP `MetricsService/Export` call over one lazily
    //! connected channel, which reconnects by itself.

    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
    use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
    use tonic::transport::{Channel, Endpoint};

    use super::OtlpError;

    pub(super) struct Client {
        client: MetricsServiceClient<Channel>,
        metadata: MetadataMap,
    }

    impl Client {
        pub(super) fn new(url: &str, headers: &[(String, String)]) -> Result<Self, OtlpError> {
            let channel = Endpoint::from_shared(url.to_owned())
                .map_err(|e| OtlpError::Exporter(format!("{url}: {e}")))?
                .connect_lazy();
            let mut metadata = MetadataMap::new();
            for (key, value) in headers {
                let header = |e: &dyn std::fmt::Display| {
                    OtlpError::Exporter(format!("the header `{key}`: {e}"))
                };
                let name = AsciiMetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
                    .map_err(|e| header(&e))?;
                let value = AsciiMetadataValue::try_from(value.as_str()).map_err(|e| header(&e))?;
                metadata.append(name, value);
            }
            Ok(Self {
                client: MetricsServiceClient::new(channel),
                metadata,
            })
        }

        pub(super) async fn export(
            &self,
            message: ExportMetricsServiceRequest,
        ) -> Result<(), OtlpError> {
            let mut request = tonic::Request::new(message);
            *request.metadata_mut() = self.metadata.clone();
            self.client
                .clone()
                .export(request)
                .await
                .map(drop)
                .map_err(|status| {
                    OtlpError::Exporter(format!(
                        "the collector answered {:?}: {}",
                        status.code(),
                        status.message()
                    ))
                })
        }
    }
}

/// Nanoseconds since the Unix epoch (0 before it).
fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<MetricsSettings>, OtlpError> {
        MetricsSettings::read("registry", |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    const ENDPOINT: (&str, &str) = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/");

    #[test]
    fn off_without_an_endpoint_or_when_disabled() {
        assert!(read(&[]).unwrap().is_none());
        assert!(
            read(&[ENDPOINT, ("OTEL_SDK_DISABLED", "TRUE")])
                .unwrap()
                .is_none()
        );
        for exporter in ["none", "prometheus", "none,prometheus"] {
            assert!(
                read(&[ENDPOINT, ("OTEL_METRICS_EXPORTER", exporter)])
                    .unwrap()
                    .is_none(),
                "{exporter}"
            );
        }
        assert!(
            read(&[ENDPOINT, ("OTEL_METRICS_EXPORTER", "prometheus,otlp")])
                .unwrap()
                .is_some()
        );
        // Spans off does not turn metrics off.
        assert!(
            read(&[ENDPOINT, ("OTEL_TRACES_EXPORTER", "none")])
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn endpoints_intervals_headers_and_resource() {
        let settings = read(&[
            ENDPOINT,
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1,Auth=Basic%20x"),
            ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "auth=m, broken"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=eu%2C1,service.name=x",
            ),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.metrics_url(), "http://127.0.0.1:4318/v1/metrics");
        assert_eq!(settings.service_name, "registry");
        assert_eq!(settings.interval, Duration::from_secs(60));
        assert_eq!(settings.timeout, Duration::from_secs(30));
        assert_eq!(
            settings.headers,
            [("a".into(), "1".into()), ("auth".into(), "m".into())]
        );
        assert_eq!(
            settings.resource,
            [("deployment.environment".into(), "eu,1".into())]
        );
        let settings = read(&[
            ENDPOINT,
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://c:9/m"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "250"),
            ("OTEL_SERVICE_NAME", "registry-eu"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.metrics_url(), "http://c:9/m");
        assert_eq!(settings.interval, Duration::from_millis(250));
        assert_eq!(settings.service_name, "registry-eu");
        assert_eq!(settings.protocol, Protocol::HttpProtobuf);
    }

    #[test]
    fn unsupported_values_name_their_variable() {
        for (variable, value) in [
            ("OTEL_METRICS_EXPORTER", "console"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "soon"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ] {
            let error = read(&[ENDPOINT, (variable, value)]).unwrap_err();
            assert!(error.to_string().contains(variable), "{error}");
        }
    }

    #[test]
    fn grpc_takes_the_endpoint_as_is_with_its_feature() {
        let grpc = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
        ]);
        if cfg!(feature = "otlp-grpc") {
            let grpc = grpc.unwrap().unwrap();
            assert_eq!(grpc.protocol, Protocol::Grpc);
            assert_eq!(grpc.metrics_url(), "http://c:4317");
        } else {
            let error = grpc.unwrap_err();
            assert!(error.to_string().contains("otlp-grpc"), "{error}");
        }
    }

    #[test]
    fn starting_outside_a_runtime_is_an_error() {
        let settings = read(&[ENDPOINT]).unwrap().unwrap();
        let error = MetricsExport::start(Metrics::new("registry"), settings).unwrap_err();
        assert!(error.to_string().contains("runtime"), "{error}");
    }
}
