//! An inbox in memory: exactly-once consumers for services whose adapters
//! keep their data in memory (tests, demos).

use std::any::Any;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use bisslog_core::{BoxFuture, Error};
use bisslog_messaging::{UnitOfWork, Work};

/// A [`UnitOfWork`] that only keeps the inbox: which messages each
/// consumer has handled, in memory. A message recorded by a call that then
/// fails is forgotten again, so its redelivery runs.
///
/// It makes no writes transactional and forgets everything when the
/// process ends: use a `bisslog_sql::Database` in production.
///
/// ```
/// use bisslog_messaging::UnitOfWork;
/// use bisslog_runtime::MemoryInbox;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let inbox = MemoryInbox::new();
/// let first = inbox.begin();
/// assert!(first.record_message("billing", "m-1").await.unwrap());
/// first.commit().await.unwrap();
/// let again = inbox.begin();
/// assert!(!again.record_message("billing", "m-1").await.unwrap());
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryInbox {
    handled: Arc<Mutex<HashSet<(String, String)>>>,
}

impl MemoryInbox {
    /// An empty inbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many messages are recorded as handled.
    pub fn len(&self) -> usize {
        self.handled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no message is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl UnitOfWork for MemoryInbox {
    fn begin(&self) -> Arc<dyn Work> {
        Arc::new(MemoryWork {
            inbox: self.clone(),
            recorded: Mutex::new(Vec::new()),
        })
    }
}

struct MemoryWork {
    inbox: MemoryInbox,
    recorded: Mutex<Vec<(String, String)>>,
}

impl Work for MemoryWork {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn record_message<'a>(
        &'a self,
        consumer: &'a str,
        message_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let key = (consumer.to_owned(), message_id.to_owned());
        // Recorded at once, so a concurrent redelivery sees it too.
        let new = self
            .inbox
            .handled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone());
        if new {
            self.recorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(key);
        }
        Box::pin(std::future::ready(Ok(new)))
    }

    fn commit(&self) -> BoxFuture<'_, Result<(), Error>> {
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        Box::pin(std::future::ready(Ok(())))
    }

    fn rollback(&self) -> BoxFuture<'_, Result<(), Error>> {
        let recorded =
            std::mem::take(&mut *self.recorded.lock().unwrap_or_else(PoisonError::into_inner));
        let mut handled = self
            .inbox
            .handled
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in recorded {
            handled.remove(&key);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}
