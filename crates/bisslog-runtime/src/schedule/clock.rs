//! The time schedules read: the system clock, or a simulated one on
//! tokio's clock for tests.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Where a scheduler reads the time and how it waits.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system's wall clock; waits are cut into slices of at most a
    /// minute so that a clock change is noticed within one.
    System,
    /// Simulated time: `start` when the scheduler starts, then advancing
    /// `speed` times as fast as tokio's clock. On a paused tokio runtime
    /// (`#[tokio::test(start_paused = true)]`) a simulated day takes no
    /// time at all; with a speed of 600, a simulated hour takes six
    /// seconds, for tests against real databases.
    Simulated {
        /// The simulated time at the origin.
        start: Timestamp,
        /// Simulated seconds per second of tokio's clock (at least 1).
        speed: u32,
        /// tokio's clock at `start` (set by [`Clock::simulated`]).
        origin: tokio::time::Instant,
    },
}

impl Clock {
    /// Simulated time from `start`, `speed` times as fast as tokio's clock,
    /// from now on.
    pub fn simulated(start: Timestamp, speed: u32) -> Self {
        Clock::Simulated {
            start,
            speed: speed.max(1),
            origin: tokio::time::Instant::now(),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match *self {
            Clock::System => Timestamp::now(),
            Clock::Simulated {
                start,
                speed,
                origin,
            } => {
                let elapsed = origin.elapsed().saturating_mul(speed);
                let elapsed = SignedDuration::try_from(elapsed).unwrap_or(SignedDuration::MAX);
                start.saturating_add(elapsed).unwrap_or(Timestamp::MAX)
            }
        }
    }

    /// Waits for `span` of this clock's time.
    pub(crate) async fn sleep(&self, span: Duration) {
        match *self {
            Clock::System => tokio::time::sleep(span).await,
            Clock::Simulated { speed, .. } => {
                // Rounded up: waking early only means waiting again.
                let nanos = span.as_nanos().div_ceil(u128::from(speed));
                let real = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
                tokio::time::sleep(real).await;
            }
        }
    }
}

/// The time from `from` to `to`, zero when `to` is not later.
pub(crate) fn until(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or(Duration::ZERO)
}
