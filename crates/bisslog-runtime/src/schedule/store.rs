//! Where schedules record their ticks: which instance runs a tick, which
//! run is still going, and the last tick, for misfires after downtime.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

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
/// service: [`MemoryTicks`] in one process, `bisslog_sql::SqlTicks` in
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

/// Ticks kept in memory: the in-process default, for one instance (or
/// several schedulers sharing one store in a test). Cheap to clone; clones
/// share the record.
#[derive(Debug, Clone, Default)]
pub struct MemoryTicks(Arc<Mutex<HashMap<String, Record>>>);

#[derive(Debug, Clone, Copy)]
struct Record {
    last_tick: Timestamp,
    running: Option<(Timestamp, Timestamp)>,
}

impl MemoryTicks {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Record>) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl TickStore for MemoryTicks {
    fn claim<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
        lease: Option<RunLease>,
    ) -> BoxFuture<'a, Result<Claim, Error>> {
        let claim = self.with(|records| {
            let Some(record) = records.get_mut(schedule) else {
                let running = lease.map(|l| (tick, l.until));
                records.insert(
                    schedule.to_owned(),
                    Record {
                        last_tick: tick,
                        running,
                    },
                );
                return Claim::Won;
            };
            if record.last_tick >= tick {
                return Claim::Taken;
            }
            record.last_tick = tick;
            match lease {
                None => Claim::Won,
                Some(lease) if record.running.is_some_and(|(_, until)| until >= lease.now) => {
                    Claim::Busy
                }
                Some(lease) => {
                    record.running = Some((tick, lease.until));
                    Claim::Won
                }
            }
        });
        Box::pin(async move { Ok(claim) })
    }

    fn renew<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
        until: Timestamp,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.with(|records| {
            if let Some(record) = records.get_mut(schedule)
                && let Some(running) = record.running.as_mut()
                && running.0 == tick
            {
                running.1 = until;
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn finish<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.with(|records| {
            if let Some(record) = records.get_mut(schedule)
                && record.running.is_some_and(|(running, _)| running == tick)
            {
                record.running = None;
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn last_tick<'a>(
        &'a self,
        schedule: &'a str,
    ) -> BoxFuture<'a, Result<Option<Timestamp>, Error>> {
        let last = self.with(|records| records.get(schedule).map(|r| r.last_tick));
        Box::pin(async move { Ok(last) })
    }
}
