//! Units of work: what makes a use case's writes, the events it publishes
//! and the record that a message was handled commit together, or not at
//! all.
//!
//! The domain never sees these traits. The runtime begins a [`Work`] for
//! each use-case call when the service has a [`UnitOfWork`], puts it in the
//! call's [`Ctx`](crate::Ctx), and commits it when the use case succeeds
//! (rolls it back when it fails). Adapters over the same database (stores,
//! the outbox publisher) find it with [`Ctx::current`](crate::Ctx::current)
//! and join it, so they need no transaction parameter.

use std::any::Any;
use std::sync::Arc;

use crate::error::Error;
use crate::port::BoxFuture;

/// Begins units of work: implemented by a database (`bisslog-sql`), or by
/// the in-memory inbox of the runtime.
pub trait UnitOfWork: Send + Sync + 'static {
    /// Begins the work of one use-case call. It should be cheap: a
    /// database begins its transaction only when an adapter first joins.
    fn begin(&self) -> Arc<dyn Work>;
}

impl<U: UnitOfWork + ?Sized> UnitOfWork for Arc<U> {
    fn begin(&self) -> Arc<dyn Work> {
        (**self).begin()
    }
}

/// The unit of work of one use-case call.
///
/// `commit` and `rollback` end it; ending it twice, or joining it after it
/// ended, is an error, never a second commit.
pub trait Work: Send + Sync + 'static {
    /// The concrete type, for the adapters that join it.
    fn as_any(&self) -> &dyn Any;

    /// Records, inside this work, that `consumer` handled the message
    /// `message_id` (the inbox). `Ok(false)` when it was already recorded
    /// by a committed (or concurrent) work: the message is a redelivery
    /// and must have no second effect.
    fn record_message<'a>(
        &'a self,
        consumer: &'a str,
        message_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// Makes everything done in this work permanent.
    fn commit(&self) -> BoxFuture<'_, Result<(), Error>>;

    /// Undoes everything done in this work.
    fn rollback(&self) -> BoxFuture<'_, Result<(), Error>>;
}
