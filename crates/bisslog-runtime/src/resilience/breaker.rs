//! The circuit breaker of one interaction: closed, open or half-open,
//! judged on the outcomes of a sliding window.
//!
//! The window is ten buckets, each a tenth of its length: memory stays the
//! same whatever the call rate, and an outcome counts from the moment it is
//! recorded until its bucket leaves the window, between 0.9 and 1 window
//! later.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::policy::CircuitBreaker;

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Attempts go through; outcomes are counted.
    Closed,
    /// Attempts fail fast with `circuit-open`.
    Open,
    /// A few probe attempts go through; the others fail fast.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half-open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

/// Buckets in a window.
const BUCKETS: usize = 10;

/// A breaker; its owner logs the transitions it reports.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: CircuitBreaker,
    /// The window's first bucket starts here.
    origin: Instant,
    /// A tenth of the window, in nanoseconds (at least 1).
    bucket_nanos: u128,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Bumped on every transition: outcomes of attempts admitted before it
    /// no longer count.
    epoch: u64,
    buckets: [Bucket; BUCKETS],
    /// Whether a rejection was logged since the last transition.
    rejection_logged: bool,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

/// The outcomes of one tenth of the window.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// Which tenth since the origin it holds.
    index: u64,
    calls: u32,
    failures: u32,
}

/// A change of state, for the owner to log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Transition {
    /// Closed (or half-open, `probe` true) to open.
    Opened {
        calls: u32,
        failures: u32,
        probe: bool,
    },
    /// Open to half-open.
    HalfOpened,
    /// Half-open to closed.
    Closed,
}

/// Why an attempt may not go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rejected {
    /// Whether this is the first rejection since the last transition.
    pub(crate) first: bool,
    /// How long until probes are let through (zero when half-open).
    pub(crate) retry_after: Duration,
    /// Whether it is half-open, its probes all in flight.
    pub(crate) half_open: bool,
}

/// The right to make one attempt. Its outcome is recorded;
/// dropped unrecorded (the call was cancelled, or the bulkhead refused
/// it), it gives its probe slot back.
#[derive(Debug)]
pub(crate) struct Permit<'b> {
    breaker: &'b Breaker,
    epoch: u64,
    probe: bool,
    recorded: bool,
}

impl Breaker {
    pub(crate) fn new(config: CircuitBreaker, now: Instant) -> Self {
        let bucket_nanos = (config.window.as_nanos() / BUCKETS as u128).max(1);
        Self {
            config,
            origin: now,
            bucket_nanos,
            state: Mutex::new(State {
                phase: Phase::Closed,
                epoch: 0,
                buckets: [Bucket::default(); BUCKETS],
                rejection_logged: false,
            }),
        }
    }

    pub(crate) fn config(&self) -> &CircuitBreaker {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned lock still
        // holds a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Which tenth of a window since the origin `now` falls in.
    fn bucket_index(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(since / self.bucket_nanos).unwrap_or(u64::MAX)
    }

    /// The state at `now`, and the transition reaching it (an open breaker
    /// whose time is up is half-open).
    pub(crate) fn state(&self, now: Instant) -> (BreakerState, Option<Transition>) {
        let mut state = self.lock();
        let transition = state.expire(now);
        let current = match state.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        };
        (current, transition)
    }

    /// Lets one attempt through, or refuses it.
    pub(crate) fn admit(&self, now: Instant) -> (Result<Permit<'_>, Rejected>, Option<Transition>) {
        let mut state = self.lock();
        let transition = state.expire(now);
        let epoch = state.epoch;
        let admitted = match &mut state.phase {
            Phase::Closed => Ok(false),
            Phase::Open { until } => Err(until.saturating_duration_since(now)),
            Phase::HalfOpen { admitted, .. } if *admitted < self.config.half_open_calls => {
                *admitted += 1;
                Ok(true)
            }
            Phase::HalfOpen { .. } => Err(Duration::ZERO),
        };
        let result = match admitted {
            Ok(probe) => Ok(Permit {
                breaker: self,
                epoch,
                probe,
                recorded: false,
            }),
            Err(retry_after) => {
                let first = !std::mem::replace(&mut state.rejection_logged, true);
                let half_open = matches!(state.phase, Phase::HalfOpen { .. });
                Err(Rejected {
                    first,
                    retry_after,
                    half_open,
                })
            }
        };
        (result, transition)
    }
}

impl Permit<'_> {
    /// Counts the outcome of an admitted attempt; returns the transition it
    /// caused.
    pub(crate) fn record(mut self, failed: bool, now: Instant) -> Option<Transition> {
        self.recorded = true;
        let breaker = self.breaker;
        let mut state = breaker.lock();
        if state.epoch != self.epoch {
            // Admitted before the last transition: its outcome belongs to
            // a state that is gone.
            return None;
        }
        match state.phase {
            Phase::Closed => {
                let index = breaker.bucket_index(now);
                let bucket = &mut state.buckets[(index % BUCKETS as u64) as usize];
                if bucket.index != index {
                    *bucket = Bucket {
                        index,
                        ..Bucket::default()
                    };
                }
                bucket.calls = bucket.calls.saturating_add(1);
                if failed {
                    bucket.failures = bucket.failures.saturating_add(1);
                }
                let (calls, failures) = state.totals(index);
                let ratio = f64::from(failures) / f64::from(calls);
                if calls >= breaker.config.minimum_calls && ratio >= breaker.config.failure_ratio {
                    state.open(later(now, breaker.config.open_for));
                    return Some(Transition::Opened {
                        calls,
                        failures,
                        probe: false,
                    });
                }
                None
            }
            Phase::HalfOpen { .. } if failed => {
                state.open(later(now, breaker.config.open_for));
                Some(Transition::Opened {
                    calls: 1,
                    failures: 1,
                    probe: true,
                })
            }
            Phase::HalfOpen {
                admitted,
                succeeded,
            } => {
                let succeeded = succeeded + 1;
                if succeeded >= breaker.config.half_open_calls {
                    state.close();
                    Some(Transition::Closed)
                } else {
                    state.phase = Phase::HalfOpen {
                        admitted,
                        succeeded,
                    };
                    None
                }
            }
            // No permit of this epoch was admitted while open.
            Phase::Open { .. } => None,
        }
    }
}

/// `now + by`, or as far as the clock goes.
fn later(now: Instant, by: Duration) -> Instant {
    now.checked_add(by)
        .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)))
        .unwrap_or(now)
}

impl State {
    /// Half-open once the open time is up.
    fn expire(&mut self, now: Instant) -> Option<Transition> {
        match self.phase {
            Phase::Open { until } if now >= until => {
                self.transition(Phase::HalfOpen {
                    admitted: 0,
                    succeeded: 0,
                });
                Some(Transition::HalfOpened)
            }
            _ => None,
        }
    }

    fn open(&mut self, until: Instant) {
        self.transition(Phase::Open { until });
    }

    /// Closed with an empty window: failures from before the outage do not
    /// count against the recovered remote.
    fn close(&mut self) {
        self.buckets = [Bucket::default(); BUCKETS];
        self.transition(Phase::Closed);
    }

    fn transition(&mut self, phase: Phase) {
        self.phase = phase;
        self.epoch += 1;
        self.rejection_logged = false;
    }

    /// Calls and failures of the buckets still in the window at `current`.
    fn totals(&self, current: u64) -> (u32, u32) {
        self.buckets
            .iter()
            .filter(|b| b.calls > 0 && b.index + BUCKETS as u64 > current && b.index <= current)
            .fold((0u32, 0u32), |(calls, failures), b| {
                (
                    calls.saturating_add(b.calls),
                    failures.saturating_add(b.failures),
                )
            })
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.recorded || !self.probe {
            return;
        }
        // A probe that never reported: let another attempt probe instead.
        let mut state = self.breaker.lock();
        if state.epoch == self.epoch
            && let Phase::HalfOpen { admitted, .. } = &mut state.phase
        {
            *admitted = admitted.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(now: Instant) -> Breaker {
        Breaker::new(
            CircuitBreaker {
                failure_ratio: 0.5,
                minimum_calls: 4,
                window: Duration::from_secs(10),
                open_for: Duration::from_secs(5),
                half_open_calls: 2,
            },
            now,
        )
    }

    fn attempt(b: &Breaker, failed: bool, now: Instant) -> Option<Transition> {
        let (permit, _) = b.admit(now);
        match permit {
            Ok(permit) => permit.record(failed, now),
            Err(_) => panic!("refused at {now:?}"),
        }
    }

    #[test]
    fn the_ratio_is_judged_once_the_minimum_is_reached() {
        let t0 = Instant::now();
        let b = breaker(t0);
        assert_eq!(attempt(&b, false, t0), None);
        assert_eq!(attempt(&b, false, t0), None);
        assert_eq!(attempt(&b, true, t0), None);
        assert_eq!(
            attempt(&b, true, t0),
            Some(Transition::Opened {
                calls: 4,
                failures: 2,
                probe: false
            })
        );
        assert_eq!(b.state(t0).0, BreakerState::Open);
    }

    #[test]
    fn outcomes_leave_the_window_with_their_bucket() {
        let t0 = Instant::now();
        let b = breaker(t0);
        for _ in 0..3 {
            assert_eq!(attempt(&b, true, t0), None);
        }
        // 10 s later the bucket of t0 has left the window.
        assert_eq!(attempt(&b, true, t0 + Duration::from_secs(10)), None);
        assert_eq!(b.state(t0).0, BreakerState::Closed);
        // 9.999 s after its three failures, a bucket still counts.
        let t1 = t0 + Duration::from_secs(20);
        for _ in 0..3 {
            assert_eq!(attempt(&b, true, t1), None);
        }
        let late = t1 + Duration::from_millis(9_999);
        assert!(matches!(
            attempt(&b, true, late),
            Some(Transition::Opened { calls: 4, .. })
        ));
    }

    #[test]
    fn a_cancelled_probe_gives_its_slot_back_and_stale_outcomes_do_not_count() {
        let t0 = Instant::now();
        let b = breaker(t0);
        let (stale, _) = b.admit(t0);
        for _ in 0..4 {
            attempt(&b, true, t0);
        }
        let later = t0 + Duration::from_secs(5);
        let (first, transition) = b.admit(later);
        assert_eq!(transition, Some(Transition::HalfOpened));
        let (second, _) = b.admit(later);
        assert!(first.is_ok() && second.is_ok());
        assert!(b.admit(later).0.is_err(), "only two probes");
        drop(second);
        let (again, _) = b.admit(later);
        assert!(again.is_ok(), "the dropped probe's slot is free again");
        // An attempt admitted while closed reports now: ignored.
        let stale = stale.unwrap_or_else(|_| unreachable!());
        assert_eq!(stale.record(true, later), None);
        assert_eq!(b.state(later).0, BreakerState::HalfOpen);
    }
}
