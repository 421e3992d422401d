//! Spans exported over OTLP, configured by the standard `OTEL_*`
//! variables.
//!
//! Off unless an endpoint is set, so a service costs nothing more when no
//! collector is configured. Ended spans wait in a bounded queue and are
//! sent in batches by a thread of the exporter's own, dropped (counted,
//! not blocking) when the queue is full, so a slow collector never slows a
//! call down. bisslog encodes its spans itself (see `encode.rs` for why)
//! and sends them with `reqwest` (HTTP/protobuf) or `tonic` (gRPC).

mod batch;
mod encode;
mod record;
mod sampler;
mod transport;

use std::sync::Arc;
use std::time::Duration;

pub use batch::Batching;
pub use sampler::Sampler;

use super::Tracer;

/// The instrumentation scope the spans are recorded under.
const SCOPE: &str = "bisslog";

/// Why OTLP export could not be set up; names the variable to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// A variable holds a value this build does not support.
    #[error("{variable}={value:?} is not supported: {reason}")]
    Unsupported {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is supported.
        reason: &'static str,
    },
    /// The exporter refused its configuration (an unreadable endpoint).
    #[error("the OTLP exporter could not be built: {0}")]
    Exporter(String),
}

/// The protocol spans are sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (the default, as the specification says).
    HttpProtobuf,
    /// `grpc` (the `otlp-grpc` feature).
    Grpc,
}

/// What the `OTEL_*` variables ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpSettings {
    /// Where spans go: the traces endpoint as given, or the base endpoint.
    pub endpoint: String,
    /// Whether `endpoint` is the base (`/v1/traces` is added for HTTP).
    pub endpoint_is_base: bool,
    /// The protocol.
    pub protocol: Protocol,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// Other resource attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    pub resource: Vec<(String, String)>,
    /// Headers sent with every export (`OTEL_EXPORTER_OTLP_HEADERS`,
    /// `OTEL_EXPORTER_OTLP_TRACES_HEADERS`).
    pub headers: Vec<(String, String)>,
    /// Which traces are recorded (`OTEL_TRACES_SAMPLER`, `_ARG`).
    pub sampler: Sampler,
    /// How spans are batched (`OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_TIMEOUT`).
    pub batching: Batching,
}

impl OtlpSettings {
    /// Spans of `service_name` sent to `endpoint` (a base endpoint, as
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`), with every other setting at its
    /// default.
    pub fn new(
        endpoint: impl Into<String>,
        protocol: Protocol,
        service_name: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            endpoint_is_base: true,
            protocol,
            service_name: service_name.into(),
            resource: Vec::new(),
            headers: Vec::new(),
            sampler: Sampler::default(),
            batching: Batching::default(),
        }
    }

    /// Reads the settings through `var` (`std::env::var` in a service);
    /// `Ok(None)` when export is off: no endpoint, `OTEL_SDK_DISABLED=true`
    /// or `OTEL_TRACES_EXPORTER=none`.
    ///
    /// # Errors
    ///
    /// A protocol, exporter, sampler or number this build does not support,
    /// naming its variable.
    pub fn read(
        service: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, OtlpError> {
        let var = trimmed(var);
        if disabled(&var) {
            return Ok(None);
        }
        match var("OTEL_TRACES_EXPORTER").as_deref() {
            None | Some("otlp") => {}
            Some("none") => return Ok(None),
            Some(other) => {
                return Err(OtlpError::Unsupported {
                    variable: "OTEL_TRACES_EXPORTER",
                    value: other.to_owned(),
                    reason: "bisslog exports spans with `otlp` (or `none`)",
                });
            }
        }
        let Some((endpoint, endpoint_is_base, protocol)) = Signal::Traces.destination(&var)? else {
            return Ok(None);
        };
        let service_name = var("OTEL_SERVICE_NAME").unwrap_or_else(|| service.to_owned());
        let resource = resource_attributes(&var);
        let headers = Signal::Traces.headers(&var);
        let sampler = Sampler::read(
            var("OTEL_TRACES_SAMPLER").as_deref(),
            var("OTEL_TRACES_SAMPLER_ARG").as_deref(),
        )?;
        let defaults = Batching::default();
        let count = |name: &'static str, default: usize| match var(name) {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(OtlpError::Unsupported {
                    variable: name,
                    value: text,
                    reason: "a number above 0",
                }),
            },
        };
        let max_queue_size = count("OTEL_BSP_MAX_QUEUE_SIZE", defaults.max_queue_size)?;
        let export_timeout = match var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") {
            Some(_) => millis(
                &var,
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                defaults.export_timeout,
            )?,
            None => match var("OTEL_EXPORTER_OTLP_TIMEOUT") {
                Some(_) => millis(&var, "OTEL_EXPORTER_OTLP_TIMEOUT", defaults.export_timeout)?,
                None => millis(&var, "OTEL_BSP_EXPORT_TIMEOUT", defaults.export_timeout)?,
            },
        };
        let batching = Batching {
            schedule_delay: millis(&var, "OTEL_BSP_SCHEDULE_DELAY", defaults.schedule_delay)?,
            max_queue_size,
            // The specification: a batch larger than the queue is the queue.
            max_export_batch_size: count(
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                defaults.max_export_batch_size,
            )?
            .min(max_queue_size),
            export_timeout,
        };
        Ok(Some(Self {
            endpoint,
            endpoint_is_base,
            protocol,
            service_name,
            resource,
            headers,
            sampler,
            batching,
        }))
    }

    /// The URL spans are sent to.
    pub fn traces_url(&self) -> String {
        match (self.protocol, self.endpoint_is_base) {
            (Protocol::HttpProtobuf, true) => {
                format!("{}/v1/traces", self.endpoint.trim_end_matches('/'))
            }
            _ => self.endpoint.clone(),
        }
    }
}

/// The signal whose `OTEL_EXPORTER_OTLP_<SIGNAL>_*` variables are read
/// before the shared ones.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Signal {
    Traces,
    Metrics,
}

impl Signal {
    fn variables(self) -> (&'static str, &'static str) {
        match self {
            Signal::Traces => (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            ),
            Signal::Metrics => (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            ),
        }
    }

    /// The headers sent with the signal's exports: the shared
    /// `OTEL_EXPORTER_OTLP_HEADERS`, then the signal's own, which win by
    /// name.
    pub(crate) fn headers(self, var: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
        let own = match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        };
        let mut headers = key_values(var("OTEL_EXPORTER_OTLP_HEADERS").as_deref());
        for (key, value) in key_values(var(own).as_deref()) {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
            headers.push((key, value));
        }
        headers
    }

    /// Where the signal goes: the endpoint, whether it is the base one
    /// (`/v1/<signal>` to be added for HTTP), and the protocol; `None`
    /// without an endpoint. `var` gives trimmed, non-empty values.
    pub(crate) fn destination(
        self,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<(String, bool, Protocol)>, OtlpError> {
        let (endpoint_variable, protocol_variable) = self.variables();
        let (endpoint, endpoint_is_base) = match var(endpoint_variable) {
            Some(endpoint) => (endpoint, false),
            None => match var("OTEL_EXPORTER_OTLP_ENDPOINT") {
                Some(endpoint) => (endpoint, true),
                None => return Ok(None),
            },
        };
        let (variable, protocol) = match var(protocol_variable) {
            Some(p) => (protocol_variable, Some(p)),
            None => (
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                var("OTEL_EXPORTER_OTLP_PROTOCOL"),
            ),
        };
        let protocol = match protocol.as_deref() {
            None | Some("http/protobuf") => Protocol::HttpProtobuf,
            Some("grpc") if cfg!(feature = "otlp-grpc") => Protocol::Grpc,
            Some(other) => {
                return Err(OtlpError::Unsupported {
                    variable,
                    value: other.to_owned(),
                    reason: if cfg!(feature = "otlp-grpc") {
                        "use `http/protobuf` or `grpc`"
                    } else {
                        "use `http/protobuf` (`grpc` needs the `otlp-grpc` feature)"
                    },
                });
            }
        };
        Ok(Some((endpoint, endpoint_is_base, protocol)))
    }
}

/// A service's OTLP export: its [`Tracer`] and the export thread to flush
/// and stop on shutdown.
pub struct Otlp {
    queue: Arc<batch::Queue>,
    tracer: Tracer,
    settings: OtlpSettings,
}

/// Checks an export endpoint when export is configured, so that a wrong
/// one fails the service's start rather than every export: an `http` or
/// `https` URL with a host; `https` only with the `tls` feature, and not
/// over gRPC (tonic is built without TLS). Gives the extra CA of
/// `BISSLOG_CA_FILE` for the HTTPS client.
pub(crate) fn check_endpoint(url: &str, grpc: bool) -> Result<crate::tls::CaBundle, OtlpError> {
    let uri = match url.parse::<http::Uri>() {
        Ok(uri) if uri.host().is_some() => uri,
        _ => {
            return Err(OtlpError::Exporter(format!(
                "{url:?} is not an http:// or https:// URL"
            )));
        }
    };
    match uri.scheme_str() {
        Some("http") => Ok(crate::tls::CaBundle::none()),
        Some("https") if grpc => Err(OtlpError::Unsupported {
            variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
            value: url.to_owned(),
            reason: "OTLP over gRPC is sent in plain text (h2c); for an https collector use \
                     `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf` with the `tls` feature",
        }),
        Some("https") => {
            crate::tls::check_scheme("OTLP endpoint", url, "https")
                .map_err(|e| OtlpError::Exporter(e.to_string()))?;
            crate::tls::CaBundle::from_env().map_err(|e| OtlpError::Exporter(e.to_string()))
        }
        _ => Err(OtlpError::Exporter(format!(
            "{url:?} is not an http:// or https:// URL"
        ))),
    }
}

impl std::fmt::Debug for Otlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Otlp")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Otlp {
    /// Export for the service named `service` (the `service.name` unless
    /// `OTEL_SERVICE_NAME` is set), from the environment; `Ok(None)` when
    /// export is off.
    ///
    /// # Errors
    ///
    /// See [`OtlpSettings::read`]; an endpoint the exporter can not use.
    pub fn from_env(service: &str) -> Result<Option<Self>, OtlpError> {
        match OtlpSettings::read(service, |name| std::env::var(name).ok())? {
            Some(settings) => Self::new(settings).map(Some),
            None => Ok(None),
        }
    }

    /// Export as `settings` say; starts the export thread.
    ///
    /// # Errors
    ///
    /// An endpoint that is not a URL, gRPC without the `otlp-grpc`
    /// feature, or no thread to export from.
    pub fn new(settings: OtlpSettings) -> Result<Self, OtlpError> {
        let url = settings.traces_url();
        let grpc = match settings.protocol {
            Protocol::HttpProtobuf => false,
            Protocol::Grpc if cfg!(feature = "otlp-grpc") => true,
            Protocol::Grpc => {
                return Err(OtlpError::Unsupported {
                    variable: "OTEL_EXPORTER_OTLP_PROTOCOL",
                    value: "grpc".to_owned(),
                    reason: "`grpc` needs the `otlp-grpc` feature",
                });
            }
        };
        let ca = check_endpoint(&url, grpc)?;
        let mut resource = vec![("service.name".to_owned(), settings.service_name.clone())];
        resource.extend(settings.resource.iter().cloned());
        resource.extend([
            ("telemetry.sdk.name".to_owned(), SCOPE.to_owned()),
            ("telemetry.sdk.language".to_owned(), "rust".to_owned()),
            (
                "telemetry.sdk.version".to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            ),
        ]);
        let destination = transport::Destination {
            url,
            grpc,
            headers: settings.headers.clone(),
            ca,
        };
        let queue = batch::start(
            settings.batching,
            encode::Envelope::new(&resource),
            destination,
        )
        .map_err(|e| OtlpError::Exporter(format!("the export thread could not start: {e}")))?;
        let tracer = Tracer::new(record::Exporting {
            sampler: settings.sampler,
            queue: Arc::clone(&queue),
        });
        Ok(Self {
            queue,
            tracer,
            settings,
        })
    }

    /// The tracer to give the service.
    pub fn tracer(&self) -> Tracer {
        self.tracer.clone()
    }

    /// What it was configured with.
    pub fn settings(&self) -> &OtlpSettings {
        &self.settings
    }

    /// Sends the spans still queued, and keeps exporting; blocks up to
    /// five seconds (run it off the async threads). The same as
    /// [`Tracer::flush`] on its tracer.
    ///
    /// # Errors
    ///
    /// The collector did not take the spans in time.
    pub fn flush(&self) -> Result<(), OtlpError> {
        self.queue
            .flush()
            .map_err(|e| OtlpError::Exporter(e.to_string()))
    }

    /// Sends the spans still queued and stops the exporter; blocks up to
    /// five seconds (run it off the async threads). Spans ended later are
    /// dropped.
    ///
    /// # Errors
    ///
    /// The collector did not take the last spans in time.
    pub fn shutdown(&self) -> Result<(), OtlpError> {
        self.queue
            .stop()
            .map_err(|e| OtlpError::Exporter(e.to_string()))
    }
}

/// The variables as the readers want them: trimmed, empty ones absent.
pub(crate) fn trimmed(var: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// `OTEL_SDK_DISABLED=true`: every OTLP export off.
pub(crate) fn disabled(var: &dyn Fn(&str) -> Option<String>) -> bool {
    var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `OTEL_RESOURCE_ATTRIBUTES` but `service.name`, which
/// `OTEL_SERVICE_NAME` or the metadata gives.
pub(crate) fn resource_attributes(var: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let mut resource = key_values(var("OTEL_RESOURCE_ATTRIBUTES").as_deref());
    resource.retain(|(k, _)| k != "service.name");
    resource
}

/// `key=value,…` with percent-encoded values (the headers' and resource
/// attributes' format); pairs without `=` are skipped.
pub(crate) fn key_values(text: Option<&str>) -> Vec<(String, String)> {
    text.unwrap_or_default()
        .split(',')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            let key = key.trim();
            (!key.is_empty()).then(|| (key.to_owned(), percent_decode(value.trim())))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A variable holding milliseconds above 0, or `default` when unset.
pub(crate) fn millis(
    var: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, OtlpError> {
    match var(name) {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => Err(OtlpError::Unsupported {
                variable: name,
                value: text,
                reason: "a number of milliseconds above 0",
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_endpoints_need_tls_and_are_refused_over_grpc() {
        assert!(check_endpoint("http://collector:4318/v1/traces", false).is_ok());
        assert!(check_endpoint("http://collector:4317", true).is_ok());
        let https = check_endpoint("https://collector:4318/v1/traces", false);
        if crate::tls::HTTPS_ENABLED {
            assert!(https.is_ok());
        } else {
            let error = https.unwrap_err().to_string();
            assert!(error.contains("`tls` feature"), "{error}");
            assert!(error.contains("OTLP endpoint"), "{error}");
        }
        let grpc = check_endpoint("https://collector:4317", true).unwrap_err();
        assert!(
            matches!(
                grpc,
                OtlpError::Unsupported {
                    variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
                    ..
                }
            ),
            "{grpc}"
        );
        assert!(grpc.to_string().contains("http/protobuf"), "{grpc}");
        for bad in ["collector:4318", "ftp://collector/", "/v1/traces"] {
            assert!(check_endpoint(bad, false).is_err(), "{bad}");
        }
    }

    fn read(vars: &[(&str, &str)]) -> Result<Option<OtlpSettings>, OtlpError> {
        OtlpSettings::read("registry", |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn off_without_an_endpoint_or_when_disabled() {
        assert!(read(&[]).unwrap().is_none());
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        assert!(
            read(&[endpoint, ("OTEL_SDK_DISABLED", "true")])
                .unwrap()
                .is_none()
        );
        assert!(
            read(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn endpoints_protocols_and_names() {
        let settings = read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")])
            .unwrap()
            .unwrap();
        assert_eq!(settings.traces_url(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(settings.service_name, "registry");
        assert_eq!(settings.protocol, Protocol::HttpProtobuf);
        let settings = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:9/traces"),
            ("OTEL_SERVICE_NAME", "registry-eu"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.traces_url(), "http://c:9/traces");
        assert_eq!(settings.service_name, "registry-eu");
    }

    #[test]
    fn unsupported_values_name_their_variable() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        let error = read(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).unwrap_err();
        assert!(
            error.to_string().contains("OTEL_EXPORTER_OTLP_PROTOCOL"),
            "{error}"
        );
        let error = read(&[endpoint, ("OTEL_TRACES_EXPORTER", "zipkin")]).unwrap_err();
        assert!(
            error.to_string().contains("OTEL_TRACES_EXPORTER"),
            "{error}"
        );
    }

    #[test]
    fn percent_decoding_keeps_broken_escapes() {
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert_eq!(percent_decode("%zz%é"), "%zz%é");
    }

    #[test]
    fn headers_resource_sampler_and_batches_are_read() {
        let settings = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,x-team=data"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "API-KEY=traces"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=ignored,deployment.environment=prod",
            ),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            settings.headers,
            [
                ("x-team".to_owned(), "data".to_owned()),
                ("API-KEY".to_owned(), "traces".to_owned())
            ]
        );
        assert_eq!(
            settings.resource,
            [("deployment.environment".to_owned(), "prod".to_owned())]
        );
        assert_eq!(
            settings.sampler,
            Sampler::read(Some("parentbased_traceidratio"), Some("0.25")).unwrap()
        );
        assert_eq!(
            settings.batching,
            Batching {
                schedule_delay: Duration::from_millis(100),
                max_queue_size: 64,
                max_export_batch_size: 64,
                export_timeout: Duration::from_millis(2500),
            }
        );
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        for variable in ["OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_MAX_QUEUE_SIZE"] {
            let error = read(&[endpoint, (variable, "soon")]).unwrap_err();
            assert!(error.to_string().contains(variable), "{error}");
        }
    }

    #[test]
    fn endpoints_that_are_not_urls_are_refused() {
        let error = Otlp::new(OtlpSettings::new(
            "collector:4318",
            Protocol::HttpProtobuf,
            "x",
        ))
        .unwrap_err();
        assert!(error.to_string().contains("collector:4318"), "{error}");
    }
}
