//! The relay's pace while it fails: bounded exponential delays with
//! jitter, and one log line per change of state.

use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

/// Bounded exponential backoff with "equal jitter": the `n`-th delay in a
/// row is drawn from `[d/2, d]`, where `d = first × 2^(n−1)` capped at
/// `max`. The jitter keeps relays of many instances (and their retries
/// after a shared outage) from moving in step.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
    state: u64,
}

impl Backoff {
    /// A backoff starting at `first`, never above `max`.
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        // Seeded from the standard library's per-process random keys: no
        // dependency for a jitter that needs no cryptographic quality.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0x9e37_79b9_7f4a_7c15);
        Self {
            first,
            max: max.max(first),
            failures: 0,
            state: hasher.finish() | 1,
        }
    }

    /// Failures in a row so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Counts one more failure and returns the delay before the next try.
    pub(crate) fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.ceiling();
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        let offset = if spread == 0 {
            0
        } else {
            self.random() % (spread + 1)
        };
        half + Duration::from_nanos(offset)
    }

    /// Success: the next failure starts from `first` again. Returns the
    /// failures there were in a row.
    pub(crate) fn succeed(&mut self) -> u32 {
        std::mem::take(&mut self.failures)
    }

    /// The largest delay after the current number of failures.
    fn ceiling(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// xorshift64*.
    fn random(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_their_jitter_and_stay_bounded() {
        let first = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        let mut backoff = Backoff::new(first, max);
        for n in 1..=40u32 {
            let delay = backoff.fail();
            let ceiling = first
                .checked_mul(1 << (n - 1).min(20))
                .unwrap_or(max)
                .min(max);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "failure {n}: {delay:?} not in [{:?}, {ceiling:?}]",
                ceiling / 2
            );
            assert!(delay <= max);
        }
        assert_eq!(backoff.failures(), 40);
    }

    #[test]
    fn the_jitter_spreads_the_delays() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
        let delays: std::collections::BTreeSet<Duration> =
            (0..50).map(|_| backoff.fail()).collect();
        assert!(delays.len() > 40, "50 delays, {} distinct", delays.len());
        assert!(delays.iter().all(|d| *d >= Duration::from_millis(500)));
    }

    #[test]
    fn success_starts_again_from_the_first_delay() {
        let first = Duration::from_millis(100);
        let mut backoff = Backoff::new(first, Duration::from_secs(60));
        for _ in 0..10 {
            backoff.fail();
        }
        assert_eq!(backoff.succeed(), 10);
        assert_eq!(backoff.failures(), 0);
        let delay = backoff.fail();
        assert!(delay >= first / 2 && delay <= first, "{delay:?}");
    }
}
