//! The tick store: where schedules record their ticks (which instance
//! runs a tick, which run is still going, the last tick, for misfires after
//! downtime), implemented in memory by the runtime and in SQL by
//! `bisslog-sql`.

use bisslog_core::{BoxFuture, Error};
use jiff::Timestamp;

/// What claiming a tick found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This instance runs the tick.
    Won,
    /// Another instance claimed this tick (or a later one) first.
    Taken,
    /// The previous run is still going and the schedule's overlap policy is
    /// `skip`: the tick is recorded as skipped and runs nowhere.
    Busy,
}

/// A claim that also marks the schedule as running, for the `skip`
/// overlap policy: until `until` (renewed while the run goes on) or until
/// the run finishes, later ticks are [`Claim::Busy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLease {
    /// The time of the claim.
    pub now: Timestamp,
    /// When the mark expires if nobody renews it (an instance that died
    /// mid-run stops blocking the schedule then).
    pub until: Timestamp,
}

/// The record of every schedule's ticks, shared by every instance of a
/// service: `bisslog_runtime::schedule::MemoryTicks` in one process, `bisslog_sql::SqlTicks` in
/// SQLite or PostgreSQL across many.
///
/// Each operation is atomic on its own: two instances claiming the same
/// tick at once get one [`Claim::Won`] between them.
pub trait TickStore: Send + Sync + 'static {
    /// Claims `tick` of `schedule`: [`Claim::Won`] when no instance claimed
    /// it or a later tick before and, with a `lease`, no run of the schedule
    /// is still going; the tick becomes the schedule's last tick either way
    /// unless it is [`Claim::Taken`].
    fn claim<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
        lease: Option<RunLease>,
    ) -> BoxFuture<'a, Result<Claim, Error>>;

    /// Extends the running mark of the run of `tick` to `until`.
    fn renew<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
        until: Timestamp,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Clears the running mark of the run of `tick`: the run ended.
    fn finish<'a>(&'a self, schedule: &'a str, tick: Timestamp)
    -> BoxFuture<'a, Result<(), Error>>;

    /// The last tick claimed or skipped, if the schedule ever ticked.
    fn last_tick<'a>(
        &'a self,
        schedule: &'a str,
    ) -> BoxFuture<'a, Result<Option<Timestamp>, Error>>;
}
