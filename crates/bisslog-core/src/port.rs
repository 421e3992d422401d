//! Ports: the traits a domain reaches the outside through, and what the
//! runtime needs to know of the adapters behind them.

use std::future::Future;
use std::pin::Pin;

use crate::error::Error;

/// A boxed, sendable future, for object-safe port traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What every adapter bound to a declared external interaction offers the
/// runtime: a readiness check, asked by `/health/ready`.
///
/// ```
/// use bisslog_core::{Adapter, BoxFuture, Error};
///
/// struct InMemoryUsers;
///
/// impl Adapter for InMemoryUsers {} // always ready
///
/// struct RemoteUsers { reachable: bool }
///
/// impl Adapter for RemoteUsers {
///     fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
///         Box::pin(async move {
///             if self.reachable { Ok(()) } else {
///                 Err(Error::new(bisslog_core::ErrorKind::Connection, "users-down", "users API unreachable"))
///             }
///         })
///     }
/// }
/// ```
pub trait Adapter: Send + Sync + 'static {
    /// Whether the adapter can serve requests now. The default is always
    /// ready; adapters over a network answer with a cheap round trip.
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

impl<A: Adapter + ?Sized> Adapter for std::sync::Arc<A> {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        (**self).ready()
    }
}

/// Sends messages to WebSocket connections: the port a use case uses to
/// push to a client other than the one whose message it is answering.
pub trait WebSocketConnections: Send + Sync + 'static {
    /// Sends a JSON message to a connection; `NotFound` when it is gone.
    fn send(
        &self,
        connection_id: &str,
        message: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), Error>>;

    /// Closes a connection; closing one that is gone is not an error.
    fn close(&self, connection_id: &str) -> BoxFuture<'_, Result<(), Error>>;
}
