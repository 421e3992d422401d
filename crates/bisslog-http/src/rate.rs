//! Per-route rate limits (`rate_limit: 100r/s`): a token bucket shared by
//! every connection, answering 429 when it is empty.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bisslog_schema::{RateLimit, RatePeriod};

/// A token bucket holding at most one period's worth of requests.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    capacity: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        let period = match limit.per {
            RatePeriod::Second => 1.0,
            RatePeriod::Minute => 60.0,
        };
        let capacity = f64::from(limit.requests);
        Self {
            capacity,
            per_second: capacity / period,
            state: Mutex::new((capacity, Instant::now())),
        }
    }

    /// Takes a token, or says how long until one is available.
    pub(crate) fn acquire(&self) -> Result<(), Duration> {
        self.acquire_at(Instant::now())
    }

    fn acquire_at(&self, now: Instant) -> Result<(), Duration> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, last) = *state;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let tokens = (tokens + elapsed * self.per_second).min(self.capacity);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            Ok(())
        } else {
            *state = (tokens, now);
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_serves_its_capacity_then_refills() {
        let limiter = RateLimiter::new(RateLimit {
            requests: 3,
            per: RatePeriod::Second,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.acquire_at(start).is_ok());
        }
        let wait = limiter.acquire_at(start).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(334),
            "{wait:?}"
        );
        assert!(
            limiter
                .acquire_at(start + Duration::from_millis(340))
                .is_ok()
        );
        assert!(
            limiter
                .acquire_at(start + Duration::from_millis(340))
                .is_err()
        );
    }
}
