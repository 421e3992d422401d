//! Ports: the traits a domain reaches the outside through, and what the
//! runtime needs to know of the adapters behind them.

use std::future::Future;
use std::pin::Pin;

use crate::error::Error;

/// A boxed, sendable future, for object-safe port traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What every adapter bound to a declared external interaction offers the
/// runtime: a readiness check, asked by `/health/ready`, and the unit of
/// work it needs, if any ([`Adapter::required_unit_of_work`]).
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

    /// The unit of work this adapter's writes must join, for adapters that
    /// are only correct inside the use case's transaction (the SQL outbox:
    /// an event stored outside it would go out even if the use case
    /// failed). `ServiceBuilder::build` refuses a service that binds such
    /// an adapter without running its calls in that unit of work
    /// (`ServiceBuilder::unit_of_work`). The default is `None`: no unit of
    /// work needed.
    fn required_unit_of_work(&self) -> Option<UnitOfWorkId> {
        None
    }
}

impl<A: Adapter + ?Sized> Adapter for std::sync::Arc<A> {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        (**self).ready()
    }

    fn required_unit_of_work(&self) -> Option<UnitOfWorkId> {
        (**self).required_unit_of_work()
    }
}

/// Which unit of work an adapter needs, and which one a service's unit of
/// work is (a database pool, as `bisslog-sql` names it): two are the same
/// unit of work when their ids are equal. Its text says which, for errors.
///
/// ```
/// use bisslog_core::UnitOfWorkId;
///
/// let id = UnitOfWorkId::new("sqlite://orders.db (pool 1)");
/// assert_eq!(id, UnitOfWorkId::new("sqlite://orders.db (pool 1)"));
/// assert_eq!(id.to_string(), "sqlite://orders.db (pool 1)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitOfWorkId(String);

impl UnitOfWorkId {
    /// An id; equal texts are the same unit of work.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UnitOfWorkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
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
