//! The keys each object of the format knows. The JSON Schema test checks
//! that the schema lists exactly these.

/// The keys of the top level.
pub(crate) const SERVICE: &[&str] = &[
    "name",
    "description",
    "type",
    "service_type",
    "team",
    "tags",
    "interaction_defaults",
    "use_cases",
];

/// The keys of a use case.
pub(crate) const USE_CASE: &[&str] = &[
    "name",
    "description",
    "actor",
    "authorization",
    "type",
    "criticality",
    "tags",
    "triggers",
    "external_interactions",
];

/// The keys of a trigger.
pub(crate) const TRIGGER: &[&str] = &["type", "keyname", "options"];

/// The keys of websocket options.
pub(crate) const WEBSOCKET: &[&str] = &["routeKey", "route_key", "mapper", "authorization"];

/// The keys of an `authorization` mapping.
pub(crate) const AUTHORIZATION: &[&str] = &["roles", "scopes", "owner"];

/// `known` and `authorization`, for the options of triggers that run as
/// the service: the key gets its own warning there instead of W001.
pub(crate) fn unchecked(known: &[&'static str]) -> Vec<&'static str> {
    let mut keys = known.to_vec();
    keys.push("authorization");
    keys
}

/// The keys of consumer options.
pub(crate) const CONSUMER: &[&str] = &[
    "queue",
    "queue_kind",
    "partition",
    "delivery_semantic",
    "max_retries",
    "retry_delay",
    "batch_size",
    "timeout",
    "dead_letter_queue",
    "mapper",
];

/// The keys of schedule options.
pub(crate) const SCHEDULE: &[&str] = &[
    "cronjob",
    "timezone",
    "event",
    "description",
    "retry_policy",
    "max_attempts",
    "overlap_policy",
    "misfire_policy",
];

/// The keys of HTTP options (`route` is the deprecated spelling of `path`).
pub(crate) const HTTP: &[&str] = &[
    "method",
    "path",
    "route",
    "mapper",
    "authenticator",
    "authorization",
    "apigw",
    "cacheable",
    "allow_cors",
    "allowed_origins",
    "content_type",
    "timeout",
    "rate_limit",
    "retry_policy",
];

/// The keys of an external interaction (`desc` is the short spelling of
/// `description` the Python tools accept), its resilience policy's
/// included.
pub(crate) const INTERACTION: &[&str] = &[
    "keyname",
    "type_interaction",
    "operation",
    "queue_kind",
    "description",
    "desc",
    "timeout",
    "idempotent",
    "retry",
    "circuit_breaker",
    "bulkhead",
];

/// The keys of a resilience policy (`interaction_defaults`).
pub(crate) const POLICY: &[&str] = &[
    "timeout",
    "idempotent",
    "retry",
    "circuit_breaker",
    "bulkhead",
];

/// The keys of a `retry` block.
pub(crate) const RETRY: &[&str] = &[
    "max_attempts",
    "initial_delay",
    "max_delay",
    "multiplier",
    "jitter",
];

/// The keys of a `circuit_breaker` block.
pub(crate) const CIRCUIT_BREAKER: &[&str] = &[
    "failure_ratio",
    "minimum_calls",
    "window",
    "open_for",
    "half_open_calls",
];

/// The keys of a `bulkhead` block.
pub(crate) const BULKHEAD: &[&str] = &["max_concurrent", "max_waiting"];
