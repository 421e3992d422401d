//! Spans exported over OTLP through the `opentelemetry` SDK, configured by
//! the standard `OTEL_*` variables.
//!
//! Off unless an endpoint is set, so a service costs nothing more when no
//! collector is configured. The SDK batches spans on a thread of its own
//! and drops them (counting, not blocking) when its queue is full, so a
//! slow collector never slows a call down.

use std::time::Duration;

use bisslog_core::TraceContext;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::{ActiveSpan, Backend, FlushError, SpanKind, SpanStart, Tracer, Value};

/// The instrumentation scope the spans are recorded under.
const SCOPE: &str = "bisslog";

/// How long shutting down waits for the last spans to be sent.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

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
}

impl OtlpSettings {
    /// Reads the settings through `var` (`std::env::var` in a service);
    /// `Ok(None)` when export is off: no endpoint, `OTEL_SDK_DISABLED=true`
    /// or `OTEL_TRACES_EXPORTER=none`.
    ///
    /// # Errors
    ///
    /// A protocol or exporter this build does not support.
    pub fn read(
        service: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, OtlpError> {
        let var = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
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
        Ok(Some(Self {
            endpoint,
            endpoint_is_base,
            protocol,
            service_name,
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

/// A service's OTLP export: its [`Tracer`] and the provider to flush on
/// shutdown.
#[derive(Debug)]
pub struct Otlp {
    provider: SdkTracerProvider,
    tracer: Tracer,
    settings: OtlpSettings,
}

impl Otlp {
    /// Export for the service named `service` (the `service.name` unless
    /// `OTEL_SERVICE_NAME` is set), from the environment; `Ok(None)` when
    /// export is off. Call it inside the Tokio runtime (the gRPC exporter
    /// needs one).
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

    /// Export as `settings` say (the sampler, batch sizes and headers still
    /// come from the `OTEL_*` variables, read by the SDK).
    ///
    /// # Errors
    ///
    /// An endpoint the exporter can not use.
    pub fn new(settings: OtlpSettings) -> Result<Self, OtlpError> {
        use opentelemetry_otlp::WithExportConfig as _;
        let url = settings.traces_url();
        let exporter = match settings.protocol {
            Protocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(url)
                .build(),
            #[cfg(feature = "otlp-grpc")]
            Protocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(url)
                .build(),
            #[cfg(not(feature = "otlp-grpc"))]
            Protocol::Grpc => {
                return Err(OtlpError::Unsupported {
                    variable: "OTEL_EXPORTER_OTLP_PROTOCOL",
                    value: "grpc".to_owned(),
                    reason: "`grpc` needs the `otlp-grpc` feature",
                });
            }
        }
        .map_err(|e| OtlpError::Exporter(e.to_string()))?;
        let resource = Resource::builder()
            .with_service_name(settings.service_name.clone())
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = Tracer::new(OtelBackend {
            tracer: provider.tracer(SCOPE),
            provider: provider.clone(),
        });
        Ok(Self {
            provider,
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
        self.provider
            .force_flush()
            .map_err(|e| OtlpError::Exporter(e.to_string()))
    }

    /// Sends the spans still queued and stops the exporter; blocks up to
    /// five seconds (run it off the async threads).
    ///
    /// # Errors
    ///
    /// The collector did not take the last spans in time.
    pub fn shutdown(&self) -> Result<(), OtlpError> {
        self.provider
            .shutdown_with_timeout(FLUSH_TIMEOUT)
            .map_err(|e| OtlpError::Exporter(e.to_string()))
    }
}

/// The [`Backend`] over the SDK's tracer.
struct OtelBackend {
    tracer: SdkTracer,
    /// For [`Backend::flush`]: the batch processor is the provider's.
    provider: SdkTracerProvider,
}

impl Backend for OtelBackend {
    fn start(&self, start: SpanStart) -> Box<dyn ActiveSpan> {
        let parent = match &start.parent {
            Some(parent) => Context::new().with_remote_span_context(span_context(parent)),
            None => Context::new(),
        };
        let attributes = start
            .attributes
            .into_iter()
            .map(|(key, value)| KeyValue::new(key, otel_value(value)))
            .collect::<Vec<_>>();
        let mut builder = self
            .tracer
            .span_builder(start.name)
            .with_kind(otel_kind(start.kind))
            .with_attributes(attributes);
        if !start.links.is_empty() {
            builder = builder.with_links(
                start
                    .links
                    .iter()
                    .map(|link| opentelemetry::trace::Link::with_context(span_context(link)))
                    .collect(),
            );
        }
        let span = builder.start_with_context(&self.tracer, &parent);
        let context = trace_context(span.span_context());
        Box::new(OtelSpan { span, context })
    }

    fn flush(&self) -> Result<(), FlushError> {
        self.provider
            .force_flush()
            .map_err(|e| FlushError(e.to_string()))
    }
}

struct OtelSpan {
    span: opentelemetry_sdk::trace::Span,
    context: Option<TraceContext>,
}

impl ActiveSpan for OtelSpan {
    fn context(&self) -> Option<&TraceContext> {
        self.context.as_ref()
    }

    fn set_attribute(&mut self, key: &'static str, value: Value) {
        self.span
            .set_attribute(KeyValue::new(key, otel_value(value)));
    }

    fn set_error(&mut self, description: String) {
        self.span.set_status(Status::error(description));
    }

    fn end(mut self: Box<Self>) {
        self.span.end();
    }
}

fn otel_kind(kind: SpanKind) -> opentelemetry::trace::SpanKind {
    use opentelemetry::trace::SpanKind as Otel;
    match kind {
        SpanKind::Server => Otel::Server,
        SpanKind::Client => Otel::Client,
        SpanKind::Producer => Otel::Producer,
        SpanKind::Consumer => Otel::Consumer,
        SpanKind::Internal => Otel::Internal,
    }
}

fn otel_value(value: Value) -> opentelemetry::Value {
    match value {
        Value::Static(text) => opentelemetry::Value::String(StringValue::from(text)),
        Value::Shared(text) => opentelemetry::Value::String(StringValue::from(text)),
        Value::Owned(text) => opentelemetry::Value::String(StringValue::from(text)),
        Value::Int(number) => opentelemetry::Value::I64(number),
        Value::Bool(flag) => opentelemetry::Value::Bool(flag),
    }
}

/// A received trace context as the SDK's remote parent.
fn span_context(context: &TraceContext) -> SpanContext {
    let state = context
        .state()
        .and_then(|state| state.parse::<TraceState>().ok())
        .unwrap_or_default();
    SpanContext::new(
        TraceId::from_bytes(context.trace_id()),
        SpanId::from_bytes(context.span_id()),
        TraceFlags::new(context.flags()),
        true,
        state,
    )
}

/// The SDK's span context as bisslog's; `None` for an invalid one.
fn trace_context(span: &SpanContext) -> Option<TraceContext> {
    let context = TraceContext::new(
        span.trace_id().to_bytes(),
        span.span_id().to_bytes(),
        span.is_sampled(),
    )?;
    let state = span.trace_state().header();
    Some(if state.is_empty() {
        context
    } else {
        context.with_state(&state)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn contexts_cross_the_sdk_unchanged() {
        let context =
            TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .unwrap()
                .with_state("congo=t61rcWkgMzE");
        assert_eq!(trace_context(&span_context(&context)), Some(context));
    }
}
