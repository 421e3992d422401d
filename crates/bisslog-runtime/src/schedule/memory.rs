//! The in-memory tick store: the in-process default.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bisslog_core::{BoxFuture, Error};
use bisslog_messaging::{Claim, RunLease, TickStore};
use jiff::Timestamp;

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
