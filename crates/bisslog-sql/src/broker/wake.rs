//! Wake-ups within the process: a subscriber waiting on a queue is woken
//! by every publication and retry made in this process on the same
//! database, whichever [`SqlBroker`](super::SqlBroker) handle made it.
//! Other processes are seen by polling.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

type Registry = Mutex<HashMap<(String, String), Weak<QueueWakes>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// The wake-ups of one queue of one database.
#[derive(Default)]
pub(super) struct QueueWakes {
    notify: Notify,
    /// Wake-ups so far. A subscriber whose claim took every due message
    /// knows, while this has not moved, that nothing was published or
    /// given back here since, and does not claim again to find nothing.
    count: AtomicU64,
}

impl QueueWakes {
    /// Resolves at the next wake-up once enabled.
    pub(super) fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// Wake-ups so far.
    pub(super) fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }
}

/// The wake-ups of `queue` on the database at `location`, shared by
/// everyone in the process who holds them; dropped with their last holder.
pub(super) fn wakes_of(location: &str, queue: &str) -> Arc<QueueWakes> {
    // Every change is one insert or removal: a panic elsewhere leaves the
    // map consistent.
    let mut map = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let key = (location.to_owned(), queue.to_owned());
    if let Some(wakes) = map.get(&key).and_then(Weak::upgrade) {
        return wakes;
    }
    map.retain(|_, weak| weak.strong_count() > 0);
    let wakes = Arc::new(QueueWakes::default());
    map.insert(key, Arc::downgrade(&wakes));
    wakes
}

/// Wakes the subscribers of `queue` waiting now, if any.
pub(super) fn wake(location: &str, queue: &str) {
    let map = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let wakes = map
        .get(&(location.to_owned(), queue.to_owned()))
        .and_then(Weak::upgrade);
    drop(map);
    if let Some(wakes) = wakes {
        // Counted before the waiters are told: a subscriber that read the
        // count before this and enabled its wait is woken; one that reads
        // it after sees it moved.
        wakes.count.fetch_add(1, Ordering::AcqRel);
        wakes.notify.notify_waiters();
    }
}
