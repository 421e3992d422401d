//! Prometheus metrics of a service: one registry per [`Service`](crate::Service),
//! every series labelled with the service's name, read by `/metrics`.
//!
//! The entry points record into it: the dispatcher (use-case calls, by
//! trigger and outcome), the HTTP server (request durations by route
//! template), the consumers, the schedules, and the SQL outbox, inbox and
//! pool. Handles to one use case's and trigger's series are resolved once,
//! so a call costs a few atomic operations, never a label lookup.
//!
//! ```
//! use bisslog_runtime::metrics::Metrics;
//!
//! let metrics = Metrics::new("billing");
//! metrics.outbox().relayed.inc_by(3);
//! let text = metrics.encode();
//! assert!(text.contains(r#"bisslog_outbox_relayed_total{service="billing"} 3"#));
//! assert!(text.ends_with("# EOF\n"));
//! ```

pub(crate) mod families;
#[cfg(feature = "otlp")]
pub mod otlp;
mod use_case;

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use prometheus_client::registry::Registry;

pub(crate) use families::Families;
pub use families::{Consumer, DeadLetterReason, HttpRoute, Outbox, Pool, Schedule, TickResult};
pub(crate) use use_case::UseCaseInstruments;
pub use use_case::error_kind_label;

/// The content type of [`Metrics::encode`]'s text (OpenMetrics 1.0, which
/// Prometheus scrapes natively).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Something that updates gauges just before each scrape (a database
/// pool's connection counts, an outbox's backlog).
pub type Refresh = Box<dyn Fn() + Send + Sync>;

/// A service's metrics registry; clones share it.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    families: Families,
    refreshers: Mutex<Vec<Refresh>>,
    created: SystemTime,
}

impl Metrics {
    /// A registry whose every series carries `service="<service>"`.
    pub fn new(service: &str) -> Self {
        let mut registry = Registry::with_labels(std::iter::once((
            Cow::Borrowed("service"),
            Cow::Owned(service.to_owned()),
        )));
        let families = Families::register(&mut registry);
        Self(Arc::new(Inner {
            registry,
            families,
            refreshers: Mutex::new(Vec::new()),
            created: SystemTime::now(),
        }))
    }

    /// Runs `refresh` before every [`encode`](Self::encode), to set gauges
    /// that are read rather than counted (a pool's connections).
    pub fn on_scrape(&self, refresh: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut refreshers) = self.0.refreshers.lock() {
            refreshers.push(Box::new(refresh));
        }
    }

    /// Every series in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        if let Ok(refreshers) = self.0.refreshers.lock() {
            for refresh in refreshers.iter() {
                refresh();
            }
        }
        let mut text = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail; the encoder only forwards fmt errors.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.0.registry);
        text
    }

    /// When the registry was created: where its counters and histograms
    /// started counting (an OTLP cumulative series' start time).
    pub fn created(&self) -> SystemTime {
        self.0.created
    }

    /// The series of one consumer trigger.
    pub fn consumer(&self, queue: &str, use_case: &str) -> Consumer {
        self.0.families.consumer(queue, use_case)
    }

    /// The series of one schedule trigger.
    pub fn schedule(&self, use_case: &str) -> Schedule {
        self.0.families.schedule(use_case)
    }

    /// The series of one HTTP route (`method`, route template).
    pub fn http_route(&self, method: &str, route: &str) -> HttpRoute {
        self.0.families.http_route(method, route)
    }

    /// The outbox's series.
    pub fn outbox(&self) -> Outbox {
        self.0.families.outbox()
    }

    /// The database pool's series.
    pub fn pool(&self) -> Pool {
        self.0.families.pool()
    }

    /// The inbox's duplicates counter of one consumer trigger.
    pub fn inbox_duplicates(
        &self,
        queue: &str,
        use_case: &str,
    ) -> prometheus_client::metrics::counter::Counter {
        self.0.families.inbox_duplicates(queue, use_case)
    }

    /// The series of the external interaction `keyname`.
    pub(crate) fn interaction(&self, keyname: &str) -> families::InteractionInstruments {
        self.0.families.interaction(keyname)
    }

    pub(crate) fn families(&self) -> &Families {
        &self.0.families
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}
