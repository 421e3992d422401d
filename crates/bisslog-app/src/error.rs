//! Why a service could not start: each error names the part and what to do.

use std::net::SocketAddr;

/// Any error, as a composition function or a failed resource gives it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A driver's error about `url`, with the URL hidden as the setting shows
/// it (a URL from a secret not at all).
#[cfg_attr(
    not(any(
        feature = "sql",
        feature = "nats",
        feature = "amqp",
        feature = "redis",
        feature = "kafka"
    )),
    allow(dead_code)
)]
pub(crate) fn about_url(
    url: &bisslog_config::ConnectionUrl,
    error: impl std::error::Error + Send + Sync + 'static,
) -> BoxError {
    if url.is_secret() {
        url.hide_in(&error.to_string()).into()
    } else {
        Box::new(error)
    }
}

/// A part of the service that could not start. The runner logs it and
/// exits with status 1 after stopping what had started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The embedded metadata is invalid.
    #[error("the metadata ({file}) is invalid:\n{report}")]
    Metadata {
        /// The metadata file's name.
        file: String,
        /// Its problems, rendered with their locations.
        report: String,
    },
    /// `DATABASE_URL` names a database this build cannot open.
    #[error("DATABASE_URL `{url}` is not supported: {reason}")]
    UnsupportedDatabase {
        /// The URL, its password masked.
        url: String,
        /// Why, and what would be.
        reason: String,
    },
    /// The database could not be opened.
    #[error(
        "the database ({url}) cannot be opened: {source}; check DATABASE_URL and that the server runs"
    )]
    Database {
        /// The URL, its password masked.
        url: String,
        /// Why.
        source: BoxError,
    },
    /// `BROKER_URL` names no broker this build knows.
    #[error("BROKER_URL `{url}` is not supported: {reason}")]
    UnsupportedBroker {
        /// The URL, its password masked.
        url: String,
        /// Why, and what would be.
        reason: String,
    },
    /// The broker could not be reached.
    #[error(
        "the broker ({url}) cannot be reached: {source}; check BROKER_URL and that the broker runs"
    )]
    Broker {
        /// The URL, its password masked.
        url: String,
        /// Why.
        source: BoxError,
    },
    /// A listener could not be bound.
    #[error("{service} cannot listen on {address}: {source}; {hint}")]
    Listen {
        /// The service it was for.
        service: String,
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
        /// Which setting to change.
        hint: String,
    },
    /// The composition function failed (a service that does not match its
    /// metadata, an adapter that could not be built).
    #[error("composing the service failed: {0}")]
    Compose(BoxError),
    /// The HTTP routes of a service could not be built.
    #[error("the HTTP routes of {service}: {source}")]
    Http {
        /// The service.
        service: String,
        /// Why.
        source: bisslog_http::HttpError,
    },
    /// The consumers of a service could not start.
    #[error("the consumers of {service}: {source}")]
    Consumers {
        /// The service.
        service: String,
        /// Why.
        source: bisslog_runtime::messaging::StartError,
    },
    /// The schedules of a service could not start.
    #[error("the schedules of {service}: {source}")]
    Schedules {
        /// The service.
        service: String,
        /// Why.
        source: bisslog_runtime::schedule::UnknownTimeZone,
    },
    /// Span export (the `OTEL_*` variables) could not be set up.
    #[cfg(feature = "otlp")]
    #[error("tracing: {0}")]
    Tracing(bisslog_runtime::trace::otlp::OtlpError),
    /// Metrics export (the `OTEL_*` variables) could not be set up.
    #[cfg(feature = "otlp")]
    #[error("metrics export: {0}")]
    MetricsExport(bisslog_runtime::trace::otlp::OtlpError),
}
