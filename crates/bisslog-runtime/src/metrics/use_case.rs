//! The series of one use case, per trigger, resolved on the trigger's
//! first call and then only counted into.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bisslog_core::{ErrorKind, Trigger};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use super::Metrics;
use super::families::Labels;

/// The number of [`Trigger`]s told apart.
const TRIGGERS: usize = 7;

/// One use case's handles into a registry.
pub(crate) struct UseCaseInstruments {
    metrics: Metrics,
    keyname: Arc<str>,
    criticality: &'static str,
    by_trigger: [OnceLock<TriggerInstruments>; TRIGGERS],
}

struct TriggerInstruments {
    trigger: &'static str,
    succeeded: Counter,
    success_duration: Histogram,
    failure_duration: Histogram,
    in_flight: Gauge,
}

impl UseCaseInstruments {
    pub(crate) fn new(metrics: Metrics, keyname: Arc<str>, criticality: &'static str) -> Self {
        Self {
            metrics,
            keyname,
            criticality,
            by_trigger: Default::default(),
        }
    }

    /// Counts a call as started (at `started`, or now when the caller has
    /// not read the clock already); the returned guard records its end.
    pub(crate) fn start(self: &Arc<Self>, trigger: Trigger, started: Option<Instant>) -> CallTimer {
        let instruments = self.of(trigger);
        instruments.in_flight.inc();
        CallTimer {
            use_case: Arc::clone(self),
            trigger,
            started: started.unwrap_or_else(Instant::now),
        }
    }

    fn of(&self, trigger: Trigger) -> &TriggerInstruments {
        let (index, name) = trigger_label(trigger);
        self.by_trigger[index].get_or_init(|| {
            let families = self.metrics.families();
            let base = |outcome: &str| -> Labels {
                vec![
                    ("use_case", self.keyname.to_string()),
                    ("trigger", name.to_owned()),
                    ("outcome", outcome.to_owned()),
                    ("criticality", self.criticality.to_owned()),
                ]
            };
            TriggerInstruments {
                trigger: name,
                succeeded: families.calls.get_or_create_owned(&base("success")),
                success_duration: families.call_duration.get_or_create_owned(&base("success")),
                failure_duration: families.call_duration.get_or_create_owned(&base("failure")),
                in_flight: families.calls_in_flight.get_or_create_owned(&vec![
                    ("use_case", self.keyname.to_string()),
                    ("trigger", name.to_owned()),
                ]),
            }
        })
    }

    /// Counts a call its entry point gave up after `limit`: a failure of
    /// kind `timeout` that lasted `limit`. (The call's future, dropped,
    /// only leaves the in-flight count.)
    pub(crate) fn timed_out(&self, trigger: Trigger, limit: std::time::Duration) {
        let instruments = self.of(trigger);
        self.failed(instruments, ErrorKind::Timeout);
        instruments.failure_duration.observe(limit.as_secs_f64());
    }

    /// A failure is counted with its kind: the label set is looked up,
    /// which only failures pay for.
    fn failed(&self, instruments: &TriggerInstruments, kind: ErrorKind) {
        self.metrics
            .families()
            .calls
            .get_or_create(&vec![
                ("use_case", self.keyname.to_string()),
                ("trigger", instruments.trigger.to_owned()),
                ("outcome", "failure".to_owned()),
                ("criticality", self.criticality.to_owned()),
                ("error_kind", error_kind_label(kind).to_owned()),
            ])
            .inc();
    }
}

/// A call being measured; dropped without [`CallTimer::end`] (the caller
/// went away, or gave the call up at its timeout and counts that itself:
/// [`UseCaseInstruments::timed_out`]), it only leaves the in-flight count.
pub(crate) struct CallTimer {
    use_case: Arc<UseCaseInstruments>,
    trigger: Trigger,
    started: Instant,
}

impl CallTimer {
    /// Records the call's outcome and duration.
    pub(crate) fn end(self, failure: Option<ErrorKind>) {
        let seconds = self.started.elapsed().as_secs_f64();
        let instruments = self.use_case.of(self.trigger);
        match failure {
            None => {
                instruments.succeeded.inc();
                instruments.success_duration.observe(seconds);
            }
            Some(kind) => {
                self.use_case.failed(instruments, kind);
                instruments.failure_duration.observe(seconds);
            }
        }
    }
}

impl Drop for CallTimer {
    fn drop(&mut self) {
        self.use_case.of(self.trigger).in_flight.dec();
    }
}

/// The `trigger` label, and a slot for it.
fn trigger_label(trigger: Trigger) -> (usize, &'static str) {
    match trigger {
        Trigger::Http => (0, "http"),
        Trigger::WebSocket => (1, "websocket"),
        Trigger::Consumer => (2, "consumer"),
        Trigger::Schedule => (3, "schedule"),
        Trigger::Call => (4, "call"),
        Trigger::Command => (5, "command"),
        _ => (6, "direct"),
    }
}

/// The `error_kind` label of a kind: its name in snake case
/// (`not_found`, `invalid_data`).
pub fn error_kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Malformed => "malformed",
        ErrorKind::Invalid => "invalid",
        ErrorKind::NotFound => "not_found",
        ErrorKind::NotAllowed => "not_allowed",
        ErrorKind::Unauthenticated => "unauthenticated",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Integrity => "integrity",
        ErrorKind::InvalidData => "invalid_data",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Connection => "connection",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Delivery => "delivery",
        ErrorKind::ExternalAuthentication => "external_authentication",
        ErrorKind::ExternalAuthorization => "external_authorization",
        ErrorKind::Configuration => "configuration",
        ErrorKind::NotSupported => "not_supported",
        ErrorKind::Processing => "processing",
        ErrorKind::Internal => "internal",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_the_snake_case_of_its_name() {
        for kind in ErrorKind::ALL {
            assert_eq!(error_kind_label(kind), kind.as_str().replace('-', "_"));
        }
    }
}
