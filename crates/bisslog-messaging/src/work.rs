//! Units of work: what makes a use case's writes, the events it publishes
//! and the record that a message was handled commit together, or not at
//! all.
//!
//! The domain never sees these traits. The runtime begins a [`Work`] for
//! each use-case call when the service has a [`UnitOfWork`],
//! [attaches](attach) it to the call's [`Ctx`], and commits it when the use
//! case succeeds (rolls it back when it fails); a nested call
//! ([`Ctx::call`]) is part of its caller's work. Adapters over the same
//! database (stores, the outbox publisher) find it with [`of`] on the
//! [current](crate::current) context and join it, so they need no
//! transaction parameter.
//!
//! ```
//! use bisslog_core::{Ctx, Trigger};
//! use bisslog_messaging::{UnitOfWork, work};
//! use bisslog_runtime::MemoryInbox;
//!
//! let ctx = Ctx::new("insert", Trigger::Direct);
//! assert!(work::of(&ctx).is_none());
//! assert!(work::attach(&ctx, MemoryInbox::new().begin()).is_ok());
//! assert!(work::of(&ctx).is_some());
//! // Calls it makes join it.
//! assert!(work::of(&ctx.child("get")).is_some());
//! ```

use std::any::Any;
use std::sync::Arc;

use bisslog_core::{BoxFuture, Ctx, Error, UnitOfWorkId};

/// Begins units of work: implemented by a database (`bisslog-sql`), or by
/// the in-memory inbox of the runtime.
pub trait UnitOfWork: Send + Sync + 'static {
    /// Begins the work of one use-case call. It should be cheap: a
    /// database begins its transaction only when an adapter first joins.
    fn begin(&self) -> Arc<dyn Work>;

    /// Which unit of work this is, for the adapters that must join it
    /// ([`Adapter::required_unit_of_work`](bisslog_core::Adapter::required_unit_of_work)).
    /// The default is `None`: no adapter can require it.
    fn id(&self) -> Option<UnitOfWorkId> {
        None
    }
}

impl<U: UnitOfWork + ?Sized> UnitOfWork for Arc<U> {
    fn begin(&self) -> Arc<dyn Work> {
        (**self).begin()
    }

    fn id(&self) -> Option<UnitOfWorkId> {
        (**self).id()
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

/// The work attached to a context: a type of this module's own, so that
/// only [`attach`] can set it.
struct Attached(Arc<dyn Work>);

/// The unit of work the call of `ctx` runs in, when the service has one.
pub fn of(ctx: &Ctx) -> Option<Arc<dyn Work>> {
    ctx.extension::<Attached>()
        .map(|attached| Arc::clone(&attached.0))
}

/// Attaches the call's unit of work to `ctx`. Entry points and the runtime
/// do this once, before the use case runs; a second attachment is refused
/// and gives the work back.
pub fn attach(ctx: &Ctx, work: Arc<dyn Work>) -> Result<(), Arc<dyn Work>> {
    ctx.insert_extension(Attached(work))
        .map_err(|attached| attached.0)
}
