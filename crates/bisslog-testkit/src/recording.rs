//! A publisher that records instead of sending.

use std::sync::{Arc, Mutex, PoisonError};

use bisslog_core::{Adapter, BoxFuture, Error, Event, Publisher};

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The queue it was published to.
    pub queue: String,
    /// Its payload.
    pub payload: serde_json::Value,
    /// Its key.
    pub key: Option<String>,
    /// Its type.
    pub event_type: Option<String>,
    /// The transaction that published it.
    pub transaction_id: Option<String>,
}

/// An in-memory [`Publisher`] for tests: it keeps every event, in order.
/// Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct RecordingPublisher {
    published: Arc<Mutex<Vec<Published>>>,
}

impl RecordingPublisher {
    /// A publisher with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything published so far.
    pub fn published(&self) -> Vec<Published> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The payloads published to one queue.
    pub fn payloads(&self, queue: &str) -> Vec<serde_json::Value> {
        self.published()
            .into_iter()
            .filter(|p| p.queue == queue)
            .map(|p| p.payload)
            .collect()
    }
}

impl Publisher for RecordingPublisher {
    fn publish<'a>(&'a self, queue: &'a str, event: Event) -> BoxFuture<'a, Result<(), Error>> {
        let payload = serde_json::from_str(event.payload.get())
            .map_err(|e| Error::internal("the event payload is not JSON").with_source(e));
        let transaction_id = bisslog_messaging::current::with(|ctx| {
            ctx.map(|c| c.transaction_id().text().into_owned())
        });
        let result = payload.map(|payload| {
            self.published
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Published {
                    queue: queue.to_owned(),
                    payload,
                    key: event.key.clone(),
                    event_type: event.event_type.clone(),
                    transaction_id,
                });
        });
        Box::pin(std::future::ready(result))
    }
}

impl Adapter for RecordingPublisher {}
