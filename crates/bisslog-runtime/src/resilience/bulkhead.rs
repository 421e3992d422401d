//! The bulkhead of one interaction: at most `max_concurrent` attempts in
//! flight, at most `max_waiting` more queued for a slot, the rest refused.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

use super::policy::Bulkhead;

/// The slots and the queue; its owner logs the rejections it reports.
#[derive(Debug)]
pub(crate) struct Compartment {
    config: Bulkhead,
    slots: Semaphore,
    /// Attempts queued for a slot now.
    waiting: AtomicU32,
    /// Whether a rejection was logged since an attempt last got a slot.
    rejecting: AtomicBool,
}

/// Why an attempt was refused: every slot taken, the queue full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full {
    /// Whether this is the first rejection since an attempt last got in.
    pub(crate) first: bool,
}

/// One attempt's slot, held while it runs and freed when dropped.
pub(crate) type Slot<'c> = SemaphorePermit<'c>;

impl Compartment {
    pub(crate) fn new(config: Bulkhead) -> Self {
        let slots = Semaphore::new(usize::try_from(config.max_concurrent).unwrap_or(usize::MAX));
        Self {
            config,
            slots,
            waiting: AtomicU32::new(0),
            rejecting: AtomicBool::new(false),
        }
    }

    pub(crate) fn config(&self) -> &Bulkhead {
        &self.config
    }

    /// Attempts in flight now.
    pub(crate) fn in_flight(&self) -> u32 {
        let free = u32::try_from(self.slots.available_permits()).unwrap_or(u32::MAX);
        self.config.max_concurrent.saturating_sub(free)
    }

    /// A slot: at once when one is free, after waiting when the queue has
    /// room, else refused. Cancel-safe: a dropped wait leaves the queue.
    pub(crate) async fn enter(&self) -> Result<Slot<'_>, Full> {
        if let Ok(slot) = self.slots.try_acquire() {
            self.admitted();
            return Ok(slot);
        }
        let joined = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                (waiting < self.config.max_waiting).then_some(waiting + 1)
            });
        if joined.is_err() {
            let first = !self.rejecting.swap(true, Ordering::AcqRel);
            return Err(Full { first });
        }
        let _queued = Queued(&self.waiting);
        // The semaphore is never closed; a closed one would mean no slot.
        let slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| Full { first: false })?;
        self.admitted();
        Ok(slot)
    }

    fn admitted(&self) {
        // A load first: the common case (no rejection since) writes nothing.
        if self.rejecting.load(Ordering::Acquire) {
            self.rejecting.store(false, Ordering::Release);
        }
    }
}

/// A place in the queue, left when the wait ends or is dropped.
struct Queued<'a>(&'a AtomicU32);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;

    #[test]
    fn the_excess_beyond_slots_and_queue_is_refused() {
        let c = Compartment::new(Bulkhead {
            max_concurrent: 2,
            max_waiting: 1,
        });
        let a = c.enter().now_or_never();
        let b = c.enter().now_or_never();
        assert!(matches!(a, Some(Ok(_))) && matches!(b, Some(Ok(_))));
        assert_eq!(c.in_flight(), 2);
        let mut queued = Box::pin(c.enter());
        assert!((&mut queued).now_or_never().is_none(), "waits");
        assert!(matches!(
            c.enter().now_or_never(),
            Some(Err(Full { first: true }))
        ));
        assert!(matches!(
            c.enter().now_or_never(),
            Some(Err(Full { first: false }))
        ));
        drop(queued);
        // The cancelled wait left the queue: another may wait.
        let mut again = Box::pin(c.enter());
        assert!((&mut again).now_or_never().is_none());
        drop(a);
        assert!(matches!((&mut again).now_or_never(), Some(Ok(_))));
    }
}
