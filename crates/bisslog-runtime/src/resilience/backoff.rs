//! The delays between attempts: exponential, bounded, with jitter.

use std::cell::Cell;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use super::policy::Retry;

impl Retry {
    /// The delay before attempt `attempt + 1`, without jitter:
    /// `min(max_delay, initial_delay × multiplier^(attempt−1))`.
    ///
    /// Computed in nanoseconds and rounded, so `100ms × 2` is exactly
    /// `200ms` (seconds as floats would make it `199.999…ms`).
    pub(crate) fn base_delay(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let nanos = self.initial_delay.as_nanos() as f64 * self.multiplier.powi(exponent);
        let max = self.max_delay.as_nanos() as f64;
        if nanos.is_finite() && nanos < max {
            Duration::from_nanos(nanos.round() as u64)
        } else {
            self.max_delay
        }
    }

    /// The delay before attempt `attempt + 1`: [`base_delay`](Self::base_delay)
    /// moved to a uniform point of `[d × (1 − jitter), d × (1 + jitter)]`,
    /// capped at `max_delay`. `unit` is a number in `[0, 1)`.
    pub(crate) fn delay_with(&self, attempt: u32, unit: f64) -> Duration {
        let base = self.base_delay(attempt);
        if self.jitter <= 0.0 {
            return base;
        }
        let base = base.as_nanos() as f64;
        let low = base * (1.0 - self.jitter);
        let nanos = low + unit * (base * (1.0 + self.jitter) - low);
        let max = self.max_delay.as_nanos() as f64;
        if nanos.is_finite() && nanos < max {
            Duration::from_nanos(nanos.max(0.0).round() as u64)
        } else {
            self.max_delay
        }
    }

    /// The delay before attempt `attempt + 1`, with random jitter.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, if self.jitter > 0.0 { unit() } else { 0.0 })
    }
}

thread_local! {
    /// Each thread's generator: no lock between calls on different threads.
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A seed from the standard library's per-process random keys: jitter
/// needs no cryptographic quality, and so no dependency.
fn seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    hasher.finish() | 1
}

/// A uniform number in `[0, 1)` (xorshift64*, its top 53 bits).
fn unit() -> f64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(initial_ms: u64, max_ms: u64, multiplier: f64, jitter: f64) -> Retry {
        Retry {
            max_attempts: 10,
            initial_delay: Duration::from_millis(initial_ms),
            max_delay: Duration::from_millis(max_ms),
            multiplier,
            jitter,
        }
    }

    #[test]
    fn delays_grow_by_the_multiplier_up_to_the_maximum() {
        let r = retry(100, 1_000, 2.0, 0.0);
        let delays: Vec<u128> = (1..=6).map(|n| r.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(r.base_delay(3), Duration::from_millis(400));
        let slow = retry(100, 10_000, 1.5, 0.0);
        assert_eq!(slow.delay(3), Duration::from_millis(225));
        let flat = retry(250, 250, 1.0, 0.0);
        assert_eq!(flat.delay(40), Duration::from_millis(250));
        assert_eq!(r.delay(u32::MAX), Duration::from_secs(1), "no overflow");
    }

    #[test]
    fn jitter_spans_its_bounds_and_never_passes_the_maximum() {
        let r = retry(1_000, 10_000, 2.0, 0.2);
        assert_eq!(r.delay_with(1, 0.0), Duration::from_millis(800));
        assert_eq!(r.delay_with(1, 0.5), Duration::from_millis(1_000));
        assert_eq!(r.delay_with(2, 0.0), Duration::from_millis(1_600));
        let top = r.delay_with(1, 1.0 - f64::EPSILON);
        assert!(top <= Duration::from_millis(1_200) && top > Duration::from_millis(1_199));
        // At the maximum, jitter only shortens.
        let capped = retry(1_000, 1_000, 2.0, 0.5);
        assert_eq!(capped.delay_with(3, 0.99), Duration::from_secs(1));
        assert_eq!(capped.delay_with(3, 0.0), Duration::from_millis(500));
        let full = retry(100, 1_000, 2.0, 1.0);
        assert_eq!(full.delay_with(1, 0.0), Duration::ZERO);
    }

    #[test]
    fn random_delays_stay_within_bounds_and_spread() {
        let r = retry(1_000, 10_000, 2.0, 0.2);
        let delays: Vec<Duration> = (0..200).map(|_| r.delay(1)).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(800) && *d <= Duration::from_millis(1_200)),
            "{delays:?}"
        );
        let below = delays
            .iter()
            .filter(|d| **d < Duration::from_secs(1))
            .count();
        assert!((40..=160).contains(&below), "{below} of 200 below the base");
        assert!((0..1_000).map(|_| unit()).all(|u| (0.0..1.0).contains(&u)));
    }
}
