//! Resilience policies: the timeout, retries, circuit breaker and bulkhead
//! that guard the calls a use case makes through an external interaction.
//!
//! Every field is optional, so a policy can be merged field by field over
//! the service's `interaction_defaults`; fields still absent after that get
//! the built-in values ([`RetrySpec::BUILT_IN`], ...) from the runtime,
//! when their block is present at all.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

/// How calls through one external interaction are guarded. Written as keys
/// of the interaction's entry, or under `interaction_defaults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct ResiliencePolicy {
    /// The longest one attempt may take.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::duration::serialize_opt"
    )]
    #[schemars(default, schema_with = "crate::json_schema::duration")]
    pub timeout: Option<Duration>,
    /// Whether a failed call may be sent again; `false` when absent, so
    /// only calls that failed before anything was sent are retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// Retries with exponential backoff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// The circuit breaker, shared by every use case calling through the
    /// interaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreakerSpec>,
    /// The bound on calls in flight, shared by every use case calling
    /// through the interaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulkhead: Option<BulkheadSpec>,
}

impl ResiliencePolicy {
    /// Whether no field is given: calls pass through unguarded.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// This policy with the fields it lacks taken from `defaults`, field by
    /// field, inside the blocks too: an entry's `retry: {max_attempts: 5}`
    /// keeps the delays of the defaults' `retry`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bisslog_schema::{ResiliencePolicy, RetrySpec};
    ///
    /// let defaults = ResiliencePolicy {
    ///     timeout: Some(Duration::from_secs(2)),
    ///     retry: Some(RetrySpec { max_attempts: Some(3), initial_delay: Some(Duration::from_millis(100)), ..RetrySpec::default() }),
    ///     ..ResiliencePolicy::default()
    /// };
    /// let entry = ResiliencePolicy {
    ///     retry: Some(RetrySpec { max_attempts: Some(5), ..RetrySpec::default() }),
    ///     ..ResiliencePolicy::default()
    /// };
    /// let merged = entry.merged_over(&defaults);
    /// assert_eq!(merged.timeout, Some(Duration::from_secs(2)));
    /// let retry = merged.retry.unwrap();
    /// assert_eq!(retry.max_attempts, Some(5));
    /// assert_eq!(retry.initial_delay, Some(Duration::from_millis(100)));
    /// ```
    #[must_use]
    pub fn merged_over(&self, defaults: &ResiliencePolicy) -> ResiliencePolicy {
        ResiliencePolicy {
            timeout: self.timeout.or(defaults.timeout),
            idempotent: self.idempotent.or(defaults.idempotent),
            retry: merge_block(&self.retry, &defaults.retry, RetrySpec::merged_over),
            circuit_breaker: merge_block(
                &self.circuit_breaker,
                &defaults.circuit_breaker,
                CircuitBreakerSpec::merged_over,
            ),
            bulkhead: merge_block(
                &self.bulkhead,
                &defaults.bulkhead,
                BulkheadSpec::merged_over,
            ),
        }
    }
}

/// A block given on either side, merged field by field when on both.
fn merge_block<T: Clone>(
    own: &Option<T>,
    defaults: &Option<T>,
    merge: fn(&T, &T) -> T,
) -> Option<T> {
    match (own, defaults) {
        (Some(own), Some(defaults)) => Some(merge(own, defaults)),
        (Some(one), None) | (None, Some(one)) => Some(one.clone()),
        (None, None) => None,
    }
}

/// Retries of a failed call, with exponential backoff and jitter. Only
/// transient failures are retried, and only when the interaction is
/// idempotent or the call failed before anything was sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct RetrySpec {
    /// Attempts in all, the first included (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub max_attempts: Option<u32>,
    /// The delay before the second attempt.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::duration::serialize_opt"
    )]
    #[schemars(default, schema_with = "crate::json_schema::duration")]
    pub initial_delay: Option<Duration>,
    /// The longest delay between attempts (at least `initial_delay`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::duration::serialize_opt"
    )]
    #[schemars(default, schema_with = "crate::json_schema::duration")]
    pub max_delay: Option<Duration>,
    /// How much each delay grows over the previous one (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::multiplier")]
    pub multiplier: Option<f64>,
    /// The fraction (0 to 1) of each delay added or taken away at random.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::fraction")]
    pub jitter: Option<f64>,
}

impl RetrySpec {
    /// The values the runtime uses for fields a `retry` block leaves out.
    pub const BUILT_IN: RetrySpec = RetrySpec {
        max_attempts: Some(3),
        initial_delay: Some(Duration::from_millis(100)),
        max_delay: Some(Duration::from_secs(10)),
        multiplier: Some(2.0),
        jitter: Some(0.2),
    };

    /// This block with the fields it lacks taken from `defaults`.
    #[must_use]
    pub fn merged_over(&self, defaults: &RetrySpec) -> RetrySpec {
        RetrySpec {
            max_attempts: self.max_attempts.or(defaults.max_attempts),
            initial_delay: self.initial_delay.or(defaults.initial_delay),
            max_delay: self.max_delay.or(defaults.max_delay),
            multiplier: self.multiplier.or(defaults.multiplier),
            jitter: self.jitter.or(defaults.jitter),
        }
    }
}

/// A circuit breaker: after too many failures within a window, calls fail
/// fast for a while, then a few probe calls decide whether to close again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct CircuitBreakerSpec {
    /// The share of failed calls in the window that opens the breaker
    /// (more than 0, at most 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::ratio")]
    pub failure_ratio: Option<f64>,
    /// The fewest calls in the window before the ratio counts (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub minimum_calls: Option<u32>,
    /// How far back calls are counted.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::duration::serialize_opt"
    )]
    #[schemars(default, schema_with = "crate::json_schema::duration")]
    pub window: Option<Duration>,
    /// How long the breaker stays open before letting probes through.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::duration::serialize_opt"
    )]
    #[schemars(default, schema_with = "crate::json_schema::duration")]
    pub open_for: Option<Duration>,
    /// How many probe calls a half-open breaker lets through (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub half_open_calls: Option<u32>,
}

impl CircuitBreakerSpec {
    /// The values the runtime uses for fields a `circuit_breaker` block
    /// leaves out.
    pub const BUILT_IN: CircuitBreakerSpec = CircuitBreakerSpec {
        failure_ratio: Some(0.5),
        minimum_calls: Some(10),
        window: Some(Duration::from_secs(60)),
        open_for: Some(Duration::from_secs(30)),
        half_open_calls: Some(1),
    };

    /// This block with the fields it lacks taken from `defaults`.
    #[must_use]
    pub fn merged_over(&self, defaults: &CircuitBreakerSpec) -> CircuitBreakerSpec {
        CircuitBreakerSpec {
            failure_ratio: self.failure_ratio.or(defaults.failure_ratio),
            minimum_calls: self.minimum_calls.or(defaults.minimum_calls),
            window: self.window.or(defaults.window),
            open_for: self.open_for.or(defaults.open_for),
            half_open_calls: self.half_open_calls.or(defaults.half_open_calls),
        }
    }
}

/// A bulkhead: a bound on the calls in flight through an interaction, so a
/// slow remote cannot take every task of the service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct BulkheadSpec {
    /// The most calls in flight at once (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub max_concurrent: Option<u32>,
    /// The most calls waiting for a slot; beyond, calls fail fast.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::non_negative_integer")]
    pub max_waiting: Option<u32>,
}

impl BulkheadSpec {
    /// The values the runtime uses for fields a `bulkhead` block leaves
    /// out.
    pub const BUILT_IN: BulkheadSpec = BulkheadSpec {
        max_concurrent: Some(10),
        max_waiting: Some(0),
    };

    /// This block with the fields it lacks taken from `defaults`.
    #[must_use]
    pub fn merged_over(&self, defaults: &BulkheadSpec) -> BulkheadSpec {
        BulkheadSpec {
            max_concurrent: self.max_concurrent.or(defaults.max_concurrent),
            max_waiting: self.max_waiting.or(defaults.max_waiting),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Option<Duration> {
        Some(Duration::from_millis(n))
    }

    #[test]
    fn merging_takes_each_missing_field_from_the_defaults() {
        let defaults = ResiliencePolicy {
            timeout: ms(2_000),
            idempotent: Some(true),
            retry: Some(RetrySpec {
                max_attempts: Some(3),
                initial_delay: ms(100),
                max_delay: ms(2_000),
                multiplier: Some(2.0),
                jitter: None,
            }),
            circuit_breaker: Some(CircuitBreakerSpec {
                failure_ratio: Some(0.5),
                window: ms(30_000),
                ..CircuitBreakerSpec::default()
            }),
            bulkhead: None,
        };
        let entry = ResiliencePolicy {
            timeout: ms(500),
            idempotent: Some(false),
            retry: Some(RetrySpec {
                max_attempts: Some(5),
                jitter: Some(0.1),
                ..RetrySpec::default()
            }),
            circuit_breaker: None,
            bulkhead: Some(BulkheadSpec {
                max_concurrent: Some(4),
                max_waiting: None,
            }),
        };
        let merged = entry.merged_over(&defaults);
        assert_eq!(
            merged,
            ResiliencePolicy {
                timeout: ms(500),
                idempotent: Some(false),
                retry: Some(RetrySpec {
                    max_attempts: Some(5),
                    initial_delay: ms(100),
                    max_delay: ms(2_000),
                    multiplier: Some(2.0),
                    jitter: Some(0.1),
                }),
                circuit_breaker: defaults.circuit_breaker.clone(),
                bulkhead: Some(BulkheadSpec {
                    max_concurrent: Some(4),
                    max_waiting: None,
                }),
            }
        );
        // Nothing over the defaults is the defaults; the defaults over
        // nothing are themselves.
        assert_eq!(ResiliencePolicy::default().merged_over(&defaults), defaults);
        assert_eq!(defaults.merged_over(&ResiliencePolicy::default()), defaults);
    }

    #[test]
    fn empty_means_no_field_at_all() {
        assert!(ResiliencePolicy::default().is_empty());
        let with_empty_block = ResiliencePolicy {
            bulkhead: Some(BulkheadSpec::default()),
            ..ResiliencePolicy::default()
        };
        assert!(!with_empty_block.is_empty());
    }

    #[test]
    fn built_in_blocks_are_complete() {
        let full = |policy: &ResiliencePolicy| serde_json::to_value(policy).unwrap();
        let built_in = ResiliencePolicy {
            retry: Some(RetrySpec::BUILT_IN),
            circuit_breaker: Some(CircuitBreakerSpec::BUILT_IN),
            bulkhead: Some(BulkheadSpec::BUILT_IN),
            ..ResiliencePolicy::default()
        };
        assert_eq!(
            full(&built_in),
            serde_json::json!({
                "retry": {"max_attempts": 3, "initial_delay": "100ms", "max_delay": "10s", "multiplier": 2.0, "jitter": 0.2},
                "circuit_breaker": {"failure_ratio": 0.5, "minimum_calls": 10, "window": "1m", "open_for": "30s", "half_open_calls": 1},
                "bulkhead": {"max_concurrent": 10, "max_waiting": 0}
            })
        );
    }
}
