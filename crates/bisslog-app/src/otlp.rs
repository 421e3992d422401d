//! OTLP export of the served services' spans, configured by the standard
//! `OTEL_*` variables (the `otlp` feature): each service gets a tracer of
//! its own, named after it, and every exporter is flushed at the end of
//! the shutdown. On AWS Lambda only the main service is served, and the
//! runtime loop of `bisslog-lambda` flushes its spans after each
//! invocation.

use bisslog_runtime::Service;
use bisslog_runtime::trace::otlp::{Otlp, OtlpError, OtlpSettings};

use crate::composition::Composition;
use crate::error::StartError;

/// Checks the `OTEL_*` variables before anything starts: a value this
/// build does not support is a configuration error (exit 2).
pub(crate) fn check(service: &str) -> Result<(), OtlpError> {
    OtlpSettings::read(service, |name| std::env::var(name).ok()).map(drop)
}

/// The exporters of a running composition.
#[derive(Default)]
pub(crate) struct Exporters(Vec<Otlp>);

impl Exporters {
    /// Turns tracing on for every service of `composition` when an endpoint
    /// is configured. The main service takes `OTEL_SERVICE_NAME` when it is
    /// set; the others always go by their own names, so that the services
    /// of one process stay apart in the traces.
    pub(crate) fn start(composition: &Composition) -> Result<Self, StartError> {
        Self::start_for(composition.parts().map(|(service, _)| service))
    }

    /// Turns tracing on for the main service alone: the one an AWS Lambda
    /// function serves.
    pub(crate) fn start_main(composition: &Composition) -> Result<Self, StartError> {
        Self::start_for(std::iter::once(composition.main()))
    }

    fn start_for<'a>(services: impl Iterator<Item = &'a Service>) -> Result<Self, StartError> {
        let var = |name: &str| std::env::var(name).ok();
        let mut exporters = Vec::new();
        for (index, service) in services.enumerate() {
            let settings = OtlpSettings::read(service.name(), var).map_err(StartError::Tracing)?;
            let Some(mut settings) = settings else {
                return Ok(Self(exporters));
            };
            if index > 0 {
                settings.service_name = service.name().to_owned();
            }
            let otlp = Otlp::new(settings).map_err(StartError::Tracing)?;
            if service.set_tracer(otlp.tracer()).is_ok() {
                tracing::info!(
                    checkpoint_id = "tracing-started",
                    "{}: spans exported over OTLP to {} as `{}`",
                    service.name(),
                    otlp.settings().traces_url(),
                    otlp.settings().service_name
                );
            }
            exporters.push(otlp);
        }
        Ok(Self(exporters))
    }

    /// Sends the spans still queued; the SDK blocks, so off the async
    /// threads.
    pub(crate) async fn flush(self) {
        if self.0.is_empty() {
            return;
        }
        let flushed = tokio::task::spawn_blocking(move || {
            for otlp in &self.0 {
                if let Err(error) = otlp.shutdown() {
                    tracing::warn!(%error, "the last spans could not be exported");
                }
            }
        })
        .await;
        if flushed.is_ok() {
            tracing::info!(checkpoint_id = "tracing-stopped", "spans flushed");
        }
    }
}
