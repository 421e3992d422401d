//! OTLP export of the served services' spans and metrics, configured by
//! the standard `OTEL_*` variables (the `otlp` feature): each service gets a
//! tracer and a metrics export of its own, named after it, and every
//! exporter is flushed at the end of the shutdown. On AWS Lambda only the
//! main service is served, and the runtime loop of `bisslog-lambda` flushes
//! its spans after each invocation; its metrics are not pushed (a periodic
//! export does not run in a frozen function).

use bisslog_runtime::Service;
use bisslog_runtime::metrics::otlp::{MetricsExport, MetricsSettings};
use bisslog_runtime::trace::otlp::{Otlp, OtlpError, OtlpSettings};

use crate::composition::Composition;
use crate::error::StartError;

/// Checks the `OTEL_*` variables before anything starts: a value this
/// build does not support is a configuration error (exit 2).
pub(crate) fn check(service: &str) -> Result<(), OtlpError> {
    OtlpSettings::read(service, |name| std::env::var(name).ok())?;
    MetricsSettings::read(service, |name| std::env::var(name).ok()).map(drop)
}

/// The exporters of a running composition.
#[derive(Default)]
pub(crate) struct Exporters(Vec<Otlp>, Vec<MetricsExport>);

impl Exporters {
    /// Turns tracing on for every service of `composition` when an endpoint
    /// is configured. The main service takes `OTEL_SERVICE_NAME` when it is
    /// set; the others always go by their own names, so that the services
    /// of one process stay apart in the traces.
    pub(crate) fn start(composition: &Composition) -> Result<Self, StartError> {
        Self::start_for(composition.parts().map(|(service, _)| service), true)
    }

    /// Turns tracing on for the main service alone: the one an AWS Lambda
    /// function serves.
    pub(crate) fn start_main(composition: &Composition) -> Result<Self, StartError> {
        Self::start_for(std::iter::once(composition.main()), false)
    }

    /// Tracers for `services`, and a metrics export each when `metrics`.
    fn start_for<'a>(
        services: impl Iterator<Item = &'a Service>,
        metrics: bool,
    ) -> Result<Self, StartError> {
        let var = |name: &str| std::env::var(name).ok();
        let mut exporters = Vec::new();
        let mut metrics_exports = Vec::new();
        for (index, service) in services.enumerate() {
            if metrics {
                metrics_exports.extend(export_metrics(index, service)?);
            }
            let settings = OtlpSettings::read(service.name(), var).map_err(StartError::Tracing)?;
            let Some(mut settings) = settings else {
                continue;
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
        Ok(Self(exporters, metrics_exports))
    }

    /// Sends the metrics' last values and the spans still queued; the
    /// span SDK blocks, so off the async threads.
    pub(crate) async fn flush(self) {
        let exports = self.1.into_iter().map(|export| async move {
            let name = export.settings().service_name.clone();
            if let Err(error) = export.shutdown().await {
                tracing::warn!(%error, "{name}: the last metrics could not be exported");
            }
        });
        futures_util::future::join_all(exports).await;
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

/// Starts the OTLP export of `service`'s metrics when configured (the
/// main service takes `OTEL_SERVICE_NAME`, as for spans).
fn export_metrics(index: usize, service: &Service) -> Result<Option<MetricsExport>, StartError> {
    let Some(metrics) = service.metrics() else {
        return Ok(None);
    };
    let var = |name: &str| std::env::var(name).ok();
    let settings = MetricsSettings::read(service.name(), var).map_err(StartError::MetricsExport)?;
    let Some(mut settings) = settings else {
        return Ok(None);
    };
    if index > 0 {
        settings.service_name = service.name().to_owned();
    }
    let export =
        MetricsExport::start(metrics.clone(), settings).map_err(StartError::MetricsExport)?;
    tracing::info!(
        checkpoint_id = "metrics-export-started",
        "{}: metrics exported over OTLP to {} as `{}` every {:?}",
        service.name(),
        export.settings().metrics_url(),
        export.settings().service_name,
        export.settings().interval
    );
    Ok(Some(export))
}
