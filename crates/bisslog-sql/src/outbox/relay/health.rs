//! What a relay did and has been through: [`RelayReport`] of a round,
//! [`RelayHealth`] counters shared with the running relay.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};

/// What one round of the relay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Whether this relay held the lease (a relay without it does nothing).
    pub leader: bool,
    /// Events read.
    pub read: usize,
    /// Events published and marked so.
    pub published: usize,
    /// Events whose publication failed (they are tried again later).
    pub failed: usize,
    /// Of those, the ones that failed because the broker could not be
    /// reached (a connection error or a timeout), not because it refused
    /// the event.
    pub unreachable: usize,
}

/// What a relay has been through, for operators and tests: counters
/// shared with the running relay, read at any time.
#[derive(Debug, Clone, Default)]
pub struct RelayHealth(pub(super) Arc<HealthCounters>);

#[derive(Debug, Default)]
pub(super) struct HealthCounters {
    pub(super) publish_attempts: AtomicU64,
    pub(super) failed_rounds: AtomicU64,
    pub(super) failing_for: AtomicU32,
    pub(super) failing: AtomicBool,
    pub(super) published: AtomicU64,
    pub(super) publish_failures: AtomicU64,
    /// Rows not relayed yet at the last count.
    pub(super) pending: AtomicI64,
    /// When the oldest of them was stored (Unix ms), 0 when none.
    pub(super) oldest_pending_ms: AtomicI64,
}

impl RelayHealth {
    /// Events handed to the broker so far (each try counts).
    pub fn publish_attempts(&self) -> u64 {
        self.0.publish_attempts.load(Ordering::Relaxed)
    }

    /// Rounds that failed so far: the database failed, the broker could
    /// not be reached, or it was found not ready before publishing.
    pub fn failed_rounds(&self) -> u64 {
        self.0.failed_rounds.load(Ordering::Relaxed)
    }

    /// Whether the last round failed.
    pub fn failing(&self) -> bool {
        self.0.failing.load(Ordering::Acquire)
    }

    /// Rounds failed in a row until now (0 when the last one worked).
    pub fn failures_in_a_row(&self) -> u32 {
        self.0.failing_for.load(Ordering::Relaxed)
    }

    /// Events published and marked so, so far.
    pub fn published(&self) -> u64 {
        self.0.published.load(Ordering::Relaxed)
    }

    /// Attempts to publish an event that failed, so far.
    pub fn publish_failures(&self) -> u64 {
        self.0.publish_failures.load(Ordering::Relaxed)
    }

    /// The backlog at the end of the last round this relay led: events not
    /// published yet, and when the oldest of them was stored (Unix
    /// milliseconds). Nothing pending before the first such round. A round
    /// that read every event not yet published and published them all
    /// counts none without asking the database again: events stored while
    /// it ran are counted by the round that reads them.
    pub fn backlog(&self) -> (u64, Option<i64>) {
        let pending = u64::try_from(self.0.pending.load(Ordering::Relaxed)).unwrap_or(0);
        let oldest = self.0.oldest_pending_ms.load(Ordering::Relaxed);
        (pending, (oldest > 0).then_some(oldest))
    }
}
