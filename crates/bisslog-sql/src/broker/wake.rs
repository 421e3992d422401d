//! Wake-ups within the process: a subscriber waiting on a queue is woken
//! by every publication and retry made in this process on the same
//! database, whichever [`SqlBroker`](super::SqlBroker) handle made it.
//! Other processes are seen by polling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use tokio::sync::Notify;

type Registry = Mutex<HashMap<(String, String), Weak<Notify>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// The notification of `queue` on the database at `location`, shared by
/// everyone in the process who holds it; dropped with its last holder.
pub(super) fn notify_of(location: &str, queue: &str) -> Arc<Notify> {
    // Every change is one insert or removal: a panic elsewhere leaves the
    // map consistent.
    let mut map = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let key = (location.to_owned(), queue.to_owned());
    if let Some(notify) = map.get(&key).and_then(Weak::upgrade) {
        return notify;
    }
    map.retain(|_, weak| weak.strong_count() > 0);
    let notify = Arc::new(Notify::new());
    map.insert(key, Arc::downgrade(&notify));
    notify
}

/// Wakes the subscribers of `queue` waiting now, if any.
pub(super) fn wake(location: &str, queue: &str) {
    let map = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let notify = map
        .get(&(location.to_owned(), queue.to_owned()))
        .and_then(Weak::upgrade);
    drop(map);
    if let Some(notify) = notify {
        notify.notify_waiters();
    }
}
