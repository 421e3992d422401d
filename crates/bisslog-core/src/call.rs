//! The seam of [`Ctx::call`]: how the runtime dispatches a use case's call
//! to another use case like any trigger, without the domain knowing it.
//!
//! A use case calls `ctx.call(&other, input)`. When the context was built
//! by the runtime, it carries a [`CallDispatcher`] (as an
//! [extension](Ctx::extension) of type `Arc<dyn CallDispatcher>`) and the
//! call goes through it: the dispatcher names the child context after the
//! callee's keyname, logs, and isolates panics. Domain code never
//! implements or names these types.

use std::any::TypeId;

use crate::ctx::Ctx;
use crate::error::{Error, ErrorKind};
use crate::port::BoxFuture;

/// Runs the nested calls of the contexts it is attached to; implemented by
/// the runtime.
pub trait CallDispatcher: Send + Sync + 'static {
    /// Runs `call` on behalf of `caller`: makes the child context (a
    /// [`Ctx::child`] of `caller`), runs [`NestedCall::run`] with it, and
    /// resolves when it has finished.
    ///
    /// `Err` only when the callee did not finish (it panicked); the
    /// callee's own result, success or error, reaches the caller through
    /// the call itself.
    fn dispatch<'a>(
        &'a self,
        caller: &'a Ctx,
        call: NestedCall<'a>,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// The callee of [`Ctx::call`] with its types erased: which use case it is,
/// and the call to run.
pub struct NestedCall<'a> {
    callee: TypeId,
    type_name: &'static str,
    run: RunNested<'a>,
}

/// Runs the callee with the child context it is given; its outcome is
/// `Err(kind)` when the callee returned an error of that kind.
type RunNested<'a> = Box<dyn FnOnce(Ctx) -> BoxFuture<'a, Result<(), ErrorKind>> + Send + 'a>;

impl<'a> NestedCall<'a> {
    pub(crate) fn new(callee: TypeId, type_name: &'static str, run: RunNested<'a>) -> Self {
        Self {
            callee,
            type_name,
            run,
        }
    }

    /// The callee's type, to find the keyname it is registered under.
    pub fn callee(&self) -> TypeId {
        self.callee
    }

    /// The callee's type name without its path (`GetSchema`), for a callee
    /// registered under no keyname.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Runs the callee with `child` as its context. The future resolves
    /// to `Err(kind)` when the callee failed with an error of that kind.
    pub fn run(self, child: Ctx) -> BoxFuture<'a, Result<(), ErrorKind>> {
        (self.run)(child)
    }
}

impl std::fmt::Debug for NestedCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NestedCall")
            .field("callee", &self.type_name)
            .finish_non_exhaustive()
    }
}
