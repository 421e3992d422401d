//! The metric families of the registry, and the handles to one label set
//! of them that the entry points keep.

use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// A label set: names are fixed, values come from the metadata.
pub(crate) type Labels = Vec<(&'static str, String)>;

type Histograms = Family<Labels, Histogram, fn() -> Histogram>;
/// A gauge of seconds (a timestamp, an age).
type Seconds = Gauge<f64, AtomicU64>;

/// Request latencies from 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn labels<const N: usize>(pairs: [(&'static str, &str); N]) -> Labels {
    pairs.into_iter().map(|(k, v)| (k, v.to_owned())).collect()
}

/// Every family, registered once per registry.
pub(crate) struct Families {
    pub(crate) calls: Family<Labels, Counter>,
    pub(crate) call_duration: Histograms,
    pub(crate) calls_in_flight: Family<Labels, Gauge>,
    http_duration: Histograms,
    received: Family<Labels, Counter>,
    retried: Family<Labels, Counter>,
    dead_lettered: Family<Labels, Counter>,
    redelivered: Family<Labels, Counter>,
    consumer_in_flight: Family<Labels, Gauge>,
    oldest_unacked: Family<Labels, Seconds>,
    outbox: Outbox,
    inbox_duplicates: Family<Labels, Counter>,
    ticks: Family<Labels, Counter>,
    last_tick: Family<Labels, Seconds>,
    pool: Family<Labels, Gauge>,
    interaction_retries: Family<Labels, Counter>,
    interaction_timeouts: Family<Labels, Counter>,
    interaction_rejections: Family<Labels, Counter>,
    circuit_state: Family<Labels, Gauge>,
    undeclared_calls: Family<Labels, Counter>,
}

impl Families {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let families = Self {
            calls: Family::default(),
            call_duration: Family::new_with_constructor(latency_histogram),
            calls_in_flight: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            received: Family::default(),
            retried: Family::default(),
            dead_lettered: Family::default(),
            redelivered: Family::default(),
            consumer_in_flight: Family::default(),
            oldest_unacked: Family::default(),
            outbox: Outbox::default(),
            inbox_duplicates: Family::default(),
            ticks: Family::default(),
            last_tick: Family::default(),
            pool: Family::default(),
            interaction_retries: Family::default(),
            interaction_timeouts: Family::default(),
            interaction_rejections: Family::default(),
            circuit_state: Family::default(),
            undeclared_calls: Family::default(),
        };
        // Counters are registered without `_total`, help texts without their
        // final period: the encoder adds both.
        let f = &families;
        registry.register(
            "bisslog_use_case_calls",
            "Use-case calls by outcome (and error kind on failures)",
            f.calls.clone(),
        );
        registry.register(
            "bisslog_use_case_duration_seconds",
            "How long use-case calls took",
            f.call_duration.clone(),
        );
        registry.register(
            "bisslog_use_case_in_flight",
            "Use-case calls running now",
            f.calls_in_flight.clone(),
        );
        registry.register(
            "bisslog_http_request_duration_seconds",
            "How long HTTP requests to the service's routes took, by route template and status class",
            f.http_duration.clone(),
        );
        registry.register(
            "bisslog_consumer_messages_received",
            "Messages delivered to a consumer",
            f.received.clone(),
        );
        registry.register(
            "bisslog_consumer_messages_retried",
            "Messages whose processing failed transiently and that are delivered again later",
            f.retried.clone(),
        );
        registry.register(
            "bisslog_consumer_messages_dead_lettered",
            "Messages sent to the dead-letter queue, by reason",
            f.dead_lettered.clone(),
        );
        registry.register(
            "bisslog_consumer_messages_redelivered",
            "Deliveries of a message that had been delivered before",
            f.redelivered.clone(),
        );
        registry.register(
            "bisslog_consumer_in_flight",
            "Messages being processed now",
            f.consumer_in_flight.clone(),
        );
        registry.register(
            "bisslog_consumer_oldest_unacked_age_seconds",
            "Age of the oldest unacknowledged message, where the broker tells it",
            f.oldest_unacked.clone(),
        );
        registry.register(
            "bisslog_outbox_pending",
            "Outbox rows not relayed yet",
            f.outbox.pending.clone(),
        );
        registry.register(
            "bisslog_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not relayed yet (0 when none)",
            f.outbox.oldest_pending_age.clone(),
        );
        registry.register(
            "bisslog_outbox_relayed",
            "Outbox rows published to the broker",
            f.outbox.relayed.clone(),
        );
        registry.register(
            "bisslog_outbox_relay_failures",
            "Failed attempts to publish an outbox row",
            f.outbox.relay_failures.clone(),
        );
        registry.register(
            "bisslog_inbox_duplicates",
            "Messages the inbox recognised as already processed, and absorbed",
            f.inbox_duplicates.clone(),
        );
        registry.register(
            "bisslog_schedule_ticks",
            "Schedule ticks by result: run, skipped (overlap) or misfired",
            f.ticks.clone(),
        );
        registry.register(
            "bisslog_schedule_last_tick_timestamp_seconds",
            "When the last tick of a schedule ran, in Unix seconds",
            f.last_tick.clone(),
        );
        registry.register(
            "bisslog_db_pool_connections",
            "Database pool connections, in use and idle",
            f.pool.clone(),
        );
        registry.register(
            "bisslog_interaction_retries",
            "Attempts an external interaction's policy sent again after a transient failure",
            f.interaction_retries.clone(),
        );
        registry.register(
            "bisslog_interaction_timeouts",
            "Attempts that outlived their external interaction's timeout",
            f.interaction_timeouts.clone(),
        );
        registry.register(
            "bisslog_interaction_rejections",
            "Attempts refused without being made, by reason: circuit_open or bulkhead_full",
            f.interaction_rejections.clone(),
        );
        registry.register(
            "bisslog_interaction_circuit_state",
            "1 for the state an interaction's circuit breaker is in (closed, open, half_open), 0 for the others",
            f.circuit_state.clone(),
        );
        registry.register(
            "bisslog_undeclared_interaction_calls",
            "Calls through an external interaction by a use case whose metadata does not declare it",
            f.undeclared_calls.clone(),
        );
        families
    }

    pub(crate) fn interaction(&self, keyname: &str) -> InteractionInstruments {
        let one = labels([("interaction", keyname)]);
        let rejected = |reason: &str| {
            self.interaction_rejections
                .get_or_create_owned(&labels([("interaction", keyname), ("reason", reason)]))
        };
        let state = |state: &str| {
            self.circuit_state
                .get_or_create_owned(&labels([("interaction", keyname), ("state", state)]))
        };
        InteractionInstruments {
            retries: self.interaction_retries.get_or_create_owned(&one),
            timeouts: self.interaction_timeouts.get_or_create_owned(&one),
            circuit_open: rejected("circuit_open"),
            bulkhead_full: rejected("bulkhead_full"),
            states: [state("closed"), state("open"), state("half_open")],
            undeclared: self.undeclared_calls.clone(),
            keyname: keyname.to_owned(),
        }
    }

    pub(crate) fn consumer(&self, queue: &str, use_case: &str) -> Consumer {
        let both = labels([("queue", queue), ("use_case", use_case)]);
        let reason = |reason: DeadLetterReason| {
            let mut set = both.clone();
            set.push(("reason", reason.as_str().to_owned()));
            self.dead_lettered.get_or_create_owned(&set)
        };
        Consumer {
            received: self.received.get_or_create_owned(&both),
            retried: self.retried.get_or_create_owned(&both),
            redelivered: self.redelivered.get_or_create_owned(&both),
            in_flight: self.consumer_in_flight.get_or_create_owned(&both),
            dead_lettered: [
                reason(DeadLetterReason::Permanent),
                reason(DeadLetterReason::Malformed),
                reason(DeadLetterReason::AttemptsExhausted),
            ],
            inbox_duplicates: self.inbox_duplicates.get_or_create_owned(&both),
            oldest_unacked: OldestUnacked {
                family: self.oldest_unacked.clone(),
                queue: queue.to_owned(),
                gauge: OnceLock::new(),
            },
        }
    }

    pub(crate) fn inbox_duplicates(&self, queue: &str, use_case: &str) -> Counter {
        self.inbox_duplicates
            .get_or_create_owned(&labels([("queue", queue), ("use_case", use_case)]))
    }

    pub(crate) fn schedule(&self, use_case: &str) -> Schedule {
        let result = |result: TickResult| {
            self.ticks.get_or_create_owned(&labels([
                ("use_case", use_case),
                ("result", result.as_str()),
            ]))
        };
        Schedule {
            ticks: [
                result(TickResult::Run),
                result(TickResult::Skipped),
                result(TickResult::Misfired),
            ],
            last_tick: self
                .last_tick
                .get_or_create_owned(&labels([("use_case", use_case)])),
        }
    }

    pub(crate) fn http_route(&self, method: &str, route: &str) -> HttpRoute {
        HttpRoute {
            family: self.http_duration.clone(),
            method: method.to_owned(),
            route: route.to_owned(),
            classes: Default::default(),
        }
    }

    pub(crate) fn outbox(&self) -> Outbox {
        self.outbox.clone()
    }

    pub(crate) fn pool(&self) -> Pool {
        Pool {
            in_use: self
                .pool
                .get_or_create_owned(&labels([("state", "in_use")])),
            idle: self.pool.get_or_create_owned(&labels([("state", "idle")])),
        }
    }
}

/// Why a message was dead-lettered, as the `reason` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// The use case failed with a permanent error (`permanent`).
    Permanent,
    /// The message could not be read (`malformed`).
    Malformed,
    /// A transient failure outlasted every retry (`attempts_exhausted`).
    AttemptsExhausted,
}

impl DeadLetterReason {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeadLetterReason::Permanent => "permanent",
            DeadLetterReason::Malformed => "malformed",
            DeadLetterReason::AttemptsExhausted => "attempts_exhausted",
        }
    }
}

/// The series of one consumer trigger (queue and use case).
#[derive(Debug, Clone)]
pub struct Consumer {
    /// `bisslog_consumer_messages_received_total`.
    pub received: Counter,
    /// `bisslog_consumer_messages_retried_total`.
    pub retried: Counter,
    /// `bisslog_consumer_messages_redelivered_total`.
    pub redelivered: Counter,
    /// `bisslog_consumer_in_flight`.
    pub in_flight: Gauge,
    /// `bisslog_inbox_duplicates_total`.
    pub inbox_duplicates: Counter,
    dead_lettered: [Counter; 3],
    oldest_unacked: OldestUnacked,
}

impl Consumer {
    /// `bisslog_consumer_messages_dead_lettered_total` for `reason`.
    pub fn dead_lettered(&self, reason: DeadLetterReason) -> &Counter {
        let index = match reason {
            DeadLetterReason::Permanent => 0,
            DeadLetterReason::Malformed => 1,
            DeadLetterReason::AttemptsExhausted => 2,
        };
        &self.dead_lettered[index]
    }

    /// Sets `bisslog_consumer_oldest_unacked_age_seconds` (created on the
    /// first call: brokers that cannot tell have no series).
    pub fn set_oldest_unacked_age(&self, seconds: f64) {
        self.oldest_unacked
            .gauge
            .get_or_init(|| {
                self.oldest_unacked
                    .family
                    .get_or_create_owned(&labels([("queue", &self.oldest_unacked.queue)]))
            })
            .set(seconds);
    }
}

#[derive(Debug, Clone)]
struct OldestUnacked {
    family: Family<Labels, Seconds>,
    queue: String,
    gauge: OnceLock<Seconds>,
}

/// A schedule tick's result, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TickResult {
    /// This instance ran the tick (`run`).
    Run,
    /// The previous run was still going (`skipped`, `overlap_policy: skip`).
    Skipped,
    /// The tick was missed (`misfired`: the process was down, suspended,
    /// or the clock jumped).
    Misfired,
}

impl TickResult {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            TickResult::Run => "run",
            TickResult::Skipped => "skipped",
            TickResult::Misfired => "misfired",
        }
    }
}

/// The series of one schedule trigger.
#[derive(Debug, Clone)]
pub struct Schedule {
    ticks: [Counter; 3],
    /// `bisslog_schedule_last_tick_timestamp_seconds`.
    pub last_tick: Gauge<f64, AtomicU64>,
}

impl Schedule {
    /// Counts a tick with its result; a run also sets the last tick time
    /// (Unix seconds).
    pub fn tick(&self, result: TickResult, unix_seconds: f64) {
        let index = match result {
            TickResult::Run => 0,
            TickResult::Skipped => 1,
            TickResult::Misfired => 2,
        };
        self.ticks[index].inc();
        if result == TickResult::Run {
            self.last_tick.set(unix_seconds);
        }
    }
}

/// The duration histograms of one route and method, one per status class,
/// each resolved on its first request.
#[derive(Debug)]
pub struct HttpRoute {
    family: Histograms,
    method: String,
    route: String,
    classes: [OnceLock<Histogram>; 5],
}

impl HttpRoute {
    /// Records a request that took `seconds` and answered `status`.
    pub fn observe(&self, status: u16, seconds: f64) {
        let (index, class) = match status {
            0..=199 => (0, "1xx"),
            200..=299 => (1, "2xx"),
            300..=399 => (2, "3xx"),
            400..=499 => (3, "4xx"),
            _ => (4, "5xx"),
        };
        self.classes[index]
            .get_or_init(|| {
                self.family.get_or_create_owned(&labels([
                    ("method", &self.method),
                    ("route", &self.route),
                    ("status_class", class),
                ]))
            })
            .observe(seconds);
    }
}

/// The outbox's series (one per registry: a service has one outbox).
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    /// `bisslog_outbox_pending`.
    pub pending: Gauge,
    /// `bisslog_outbox_oldest_pending_age_seconds`.
    pub oldest_pending_age: Gauge<f64, AtomicU64>,
    /// `bisslog_outbox_relayed_total`.
    pub relayed: Counter,
    /// `bisslog_outbox_relay_failures_total`.
    pub relay_failures: Counter,
}

/// The database pool's series.
#[derive(Debug, Clone)]
pub struct Pool {
    /// `bisslog_db_pool_connections{state="in_use"}`.
    pub in_use: Gauge,
    /// `bisslog_db_pool_connections{state="idle"}`.
    pub idle: Gauge,
}

/// One external interaction's series (see `resilience::Interaction`).
#[derive(Clone)]
pub(crate) struct InteractionInstruments {
    pub(crate) retries: Counter,
    pub(crate) timeouts: Counter,
    pub(crate) circuit_open: Counter,
    pub(crate) bulkhead_full: Counter,
    /// Closed, open, half-open: 1 for the current state.
    pub(crate) states: [Gauge; 3],
    undeclared: Family<Labels, Counter>,
    keyname: String,
}

impl InteractionInstruments {
    /// Counts a call by a use case that does not declare the interaction.
    pub(crate) fn undeclared_call(&self, use_case: &str) {
        self.undeclared
            .get_or_create(&labels([
                ("use_case", use_case),
                ("interaction", &self.keyname),
            ]))
            .inc();
    }
}
