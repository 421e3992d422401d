//! What guards one external interaction: a timeout per attempt, retries
//! with backoff, a circuit breaker and a bulkhead, each optional.
//!
//! The defaults of [`Retry`], [`CircuitBreaker`] and [`Bulkhead`] are the
//! built-in values the metadata documents for fields a block leaves out;
//! [`Policy::default`] guards nothing (calls pass through as they would
//! without an [`Interaction`](super::Interaction)).

use std::time::Duration;

/// How calls through an interaction are guarded. Every part is optional:
/// the default policy adds nothing to a call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// How long one attempt may take; its expiry is a `Timeout` failure
    /// (code `interaction-timeout`) of that attempt.
    pub timeout: Option<Duration>,
    /// Whether a call that was sent may be sent again: an attempt that
    /// failed after its request left is retried only when this is true.
    pub idempotent: bool,
    /// Retries of transient failures; `None` makes one attempt.
    pub retry: Option<Retry>,
    /// The breaker shared by every caller of the interaction.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// The bound on concurrent attempts, shared by every caller.
    pub bulkhead: Option<Bulkhead>,
}

/// Retries with bounded exponential backoff and jitter.
///
/// The delay before attempt `n + 1` is
/// `min(max_delay, initial_delay × multiplier^(n−1))`, moved uniformly
/// within `± jitter` of itself and capped at `max_delay` again.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The delay before the second attempt.
    pub initial_delay: Duration,
    /// No delay is longer.
    pub max_delay: Duration,
    /// What each delay is multiplied by for the next (at least 1).
    pub multiplier: f64,
    /// The fraction (0 to 1) of each delay it may move by, either way.
    pub jitter: f64,
}

impl Default for Retry {
    /// The built-in retry: 3 attempts, 100 ms doubling up to 10 s, ±20 %.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

/// A circuit breaker: after too many failures within a window, attempts
/// fail fast for a while instead of reaching a remote that is down.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreaker {
    /// The share of failed attempts (0 excluded to 1) that opens it.
    pub failure_ratio: f64,
    /// Attempts the window must hold before the ratio is judged (at least 1).
    pub minimum_calls: u32,
    /// How far back outcomes count.
    pub window: Duration,
    /// How long it stays open before letting probes through.
    pub open_for: Duration,
    /// Probe attempts let through once half-open (at least 1); all must
    /// succeed to close it.
    pub half_open_calls: u32,
}

impl Default for CircuitBreaker {
    /// The built-in breaker: opens at 50 % failures of at least 10 attempts
    /// within 60 s, stays open 30 s, then lets one probe through.
    fn default() -> Self {
        Self {
            failure_ratio: 0.5,
            minimum_calls: 10,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
            half_open_calls: 1,
        }
    }
}

/// A bound on the attempts in flight to one interaction, so a slow remote
/// cannot take every task of the service with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bulkhead {
    /// Attempts in flight at once (at least 1).
    pub max_concurrent: u32,
    /// Attempts that may wait for a slot; those beyond fail fast.
    pub max_waiting: u32,
}

impl Default for Bulkhead {
    /// The built-in bulkhead: 10 at once, none waiting.
    fn default() -> Self {
        Self {
            max_concurrent: 10,
            max_waiting: 0,
        }
    }
}

/// The shortest window, open time or delay the engine works with: a
/// breaker needs a window it can divide, and tokio's timers tick in
/// milliseconds.
const SHORTEST: Duration = Duration::from_millis(1);

impl Retry {
    /// The same retry with every value within its range (the metadata
    /// validator refuses values outside them; code building a policy by
    /// hand may not): at least one attempt, a multiplier of at least 1, a
    /// jitter within 0 to 1, a maximum no shorter than the first delay.
    pub(crate) fn normalized(&self) -> Retry {
        let multiplier = if self.multiplier.is_finite() {
            self.multiplier.max(1.0)
        } else {
            1.0
        };
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Retry {
            max_attempts: self.max_attempts.max(1),
            initial_delay: self.initial_delay,
            max_delay: self.max_delay.max(self.initial_delay),
            multiplier,
            jitter,
        }
    }
}

impl CircuitBreaker {
    /// The same breaker with every value within its range (see
    /// [`Retry::normalized`]): a ratio above 0 and at most 1 (anything else
    /// is 1: open only when every attempt fails), counts of at least 1,
    /// durations of at least a millisecond.
    pub(crate) fn normalized(&self) -> CircuitBreaker {
        let failure_ratio = if self.failure_ratio > 0.0 && self.failure_ratio <= 1.0 {
            self.failure_ratio
        } else {
            1.0
        };
        CircuitBreaker {
            failure_ratio,
            minimum_calls: self.minimum_calls.max(1),
            window: self.window.max(SHORTEST),
            open_for: self.open_for.max(SHORTEST),
            half_open_calls: self.half_open_calls.max(1),
        }
    }
}

impl Bulkhead {
    /// The same bulkhead with at least one slot.
    pub(crate) fn normalized(&self) -> Bulkhead {
        Bulkhead {
            max_concurrent: self.max_concurrent.max(1),
            max_waiting: self.max_waiting,
        }
    }
}

impl Policy {
    /// The same policy with every part [normalized](Retry::normalized).
    pub(crate) fn normalized(&self) -> Policy {
        Policy {
            timeout: self.timeout,
            idempotent: self.idempotent,
            retry: self.retry.as_ref().map(Retry::normalized),
            circuit_breaker: self
                .circuit_breaker
                .as_ref()
                .map(CircuitBreaker::normalized),
            bulkhead: self.bulkhead.as_ref().map(Bulkhead::normalized),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_built_in_values() {
        let retry = Retry::default();
        assert_eq!(retry.max_attempts, 3);
        assert_eq!(retry.initial_delay, Duration::from_millis(100));
        assert_eq!(retry.max_delay, Duration::from_secs(10));
        assert_eq!((retry.multiplier, retry.jitter), (2.0, 0.2));
        let breaker = CircuitBreaker::default();
        assert_eq!(breaker.failure_ratio, 0.5);
        assert_eq!(breaker.minimum_calls, 10);
        assert_eq!(breaker.window, Duration::from_secs(60));
        assert_eq!(breaker.open_for, Duration::from_secs(30));
        assert_eq!(breaker.half_open_calls, 1);
        assert_eq!(
            Bulkhead::default(),
            Bulkhead {
                max_concurrent: 10,
                max_waiting: 0
            }
        );
        let none = Policy::default();
        assert!(none.retry.is_none() && none.circuit_breaker.is_none());
        assert!(none.bulkhead.is_none() && none.timeout.is_none() && !none.idempotent);
    }

    #[test]
    fn values_out_of_range_are_brought_into_it() {
        let retry = Retry {
            max_attempts: 0,
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(1),
            multiplier: f64::NAN,
            jitter: 7.0,
        }
        .normalized();
        assert_eq!(retry.max_attempts, 1);
        assert_eq!(retry.max_delay, Duration::from_secs(2));
        assert_eq!((retry.multiplier, retry.jitter), (1.0, 1.0));
        let breaker = CircuitBreaker {
            failure_ratio: -0.5,
            minimum_calls: 0,
            window: Duration::ZERO,
            open_for: Duration::ZERO,
            half_open_calls: 0,
        }
        .normalized();
        assert_eq!(breaker.failure_ratio, 1.0);
        assert_eq!((breaker.minimum_calls, breaker.half_open_calls), (1, 1));
        assert_eq!(breaker.window, SHORTEST);
        let bulkhead = Bulkhead {
            max_concurrent: 0,
            max_waiting: 3,
        }
        .normalized();
        assert_eq!((bulkhead.max_concurrent, bulkhead.max_waiting), (1, 3));
        let kept = CircuitBreaker::default();
        assert_eq!(kept.normalized(), kept);
    }
}
