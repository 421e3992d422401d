//! WebSocket connections that record instead of sending.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use bisslog_core::{Adapter, BoxFuture, Error, ErrorKind, WebSocketConnections};
use serde_json::Value;

/// An in-memory [`WebSocketConnections`] for tests of use cases that push
/// to clients: it keeps every message sent, by connection, in order.
/// Sending to a connection it was told to close fails with `NotFound`, as
/// a gone connection does. Clones share the record.
///
/// ```
/// use bisslog_core::WebSocketConnections;
/// use bisslog_testkit::RecordingConnections;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let connections = RecordingConnections::new();
/// connections.send("c-1", serde_json::json!({"hello": "Ana"})).await.unwrap();
/// connections.close("c-1").await.unwrap();
/// assert_eq!(connections.sent("c-1"), vec![serde_json::json!({"hello": "Ana"})]);
/// assert!(connections.send("c-1", serde_json::json!(1)).await.is_err());
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecordingConnections {
    record: Arc<Mutex<Record>>,
}

#[derive(Debug, Default)]
struct Record {
    sent: Vec<(String, Value)>,
    closed: BTreeSet<String>,
}

impl RecordingConnections {
    /// Connections with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The messages sent to one connection, in order.
    pub fn sent(&self, connection_id: &str) -> Vec<Value> {
        self.lock()
            .sent
            .iter()
            .filter(|(c, _)| c == connection_id)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Every message sent, with its connection, in order.
    pub fn all_sent(&self) -> Vec<(String, Value)> {
        self.lock().sent.clone()
    }

    /// Whether a use case closed this connection.
    pub fn is_closed(&self, connection_id: &str) -> bool {
        self.lock().closed.contains(connection_id)
    }
}

impl WebSocketConnections for RecordingConnections {
    fn send(&self, connection_id: &str, message: Value) -> BoxFuture<'_, Result<(), Error>> {
        let mut record = self.lock();
        let result = if record.closed.contains(connection_id) {
            Err(Error::new(
                ErrorKind::NotFound,
                "connection-gone",
                format!("the connection `{connection_id}` is closed"),
            ))
        } else {
            record.sent.push((connection_id.to_owned(), message));
            Ok(())
        };
        Box::pin(std::future::ready(result))
    }

    fn close(&self, connection_id: &str) -> BoxFuture<'_, Result<(), Error>> {
        self.lock().closed.insert(connection_id.to_owned());
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Adapter for RecordingConnections {}
