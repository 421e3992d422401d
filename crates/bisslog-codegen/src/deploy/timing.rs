//! How long Kubernetes must wait after SIGTERM before it kills the pod:
//! the runner's whole stop sequence (`bisslog-app`'s `serve`), phase by
//! phase, plus a margin.
//!
//! After SIGTERM the runner answers 503 on `/health/ready` while still
//! serving for `SHUTDOWN_DELAY`, then stops HTTP (waiting up to the HTTP
//! server's grace for requests in flight), then the consumers (up to their
//! grace for messages in flight), then the schedules (up to theirs for
//! ticks in flight), then the outbox relays, and closes the databases.
//! The phases run one after the other, so the worst case is their sum.

use bisslog_schema::{ServiceMetadata, TriggerKind};

/// `bisslog_http::HttpConfig::default().shutdown_grace`, in seconds.
pub const HTTP_GRACE_SECS: u32 = 30;
/// `bisslog_runtime::messaging::ConsumerConfig::default().shutdown_grace`.
pub const CONSUMER_GRACE_SECS: u32 = 25;
/// The default of `bisslog_runtime::schedule::Schedules::shutdown_grace`.
pub const SCHEDULE_GRACE_SECS: u32 = 30;
/// The relays' last round and closing the databases: short, bounded by
/// their own timeouts; a margin covers them and the kubelet's own delays.
pub const MARGIN_SECS: u32 = 5;

/// The stop budget of one service, phase by phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopBudget {
    /// `SHUTDOWN_DELAY`: still serving while endpoints are removed.
    pub delay: u32,
    /// The HTTP drain (every service serves HTTP: its health endpoints).
    pub http: u32,
    /// The consumers' drain, 0 without consumer triggers.
    pub consumers: u32,
    /// The schedules' drain, 0 without schedule triggers.
    pub schedules: u32,
    /// The margin.
    pub margin: u32,
}

impl StopBudget {
    /// The budget of `service` with `SHUTDOWN_DELAY` set to `delay` seconds.
    pub fn of(service: &ServiceMetadata, delay: u32) -> Self {
        let has = |wanted: fn(&TriggerKind) -> bool| {
            service
                .use_cases
                .values()
                .flat_map(|use_case| &use_case.triggers)
                .any(|trigger| wanted(&trigger.kind))
        };
        StopBudget {
            delay,
            http: HTTP_GRACE_SECS,
            consumers: if has(|k| matches!(k, TriggerKind::Consumer(_))) {
                CONSUMER_GRACE_SECS
            } else {
                0
            },
            schedules: if has(|k| matches!(k, TriggerKind::Schedule(_))) {
                SCHEDULE_GRACE_SECS
            } else {
                0
            },
            margin: MARGIN_SECS,
        }
    }

    /// `terminationGracePeriodSeconds`: the sum of the phases.
    pub fn total(self) -> u32 {
        self.delay
            .saturating_add(self.http)
            .saturating_add(self.consumers)
            .saturating_add(self.schedules)
            .saturating_add(self.margin)
    }
}
