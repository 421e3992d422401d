//! The context of the use case being polled on this thread: how adapters
//! (a store joining the unit of work, a publisher stamping the transaction
//! id, a log formatter) learn which call they serve without being given
//! its [`Ctx`].
//!
//! The runtime runs every use-case call inside [`scope`]; code the call
//! awaits reads [`ctx`] or [`with`]. Thousands of calls running
//! concurrently on the same threads never see each other's context: the
//! context is lent to the thread only while its future is polled.
//!
//! ```
//! use bisslog_core::{Ctx, Trigger};
//! use bisslog_messaging::current;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let ctx = Ctx::new("greet", Trigger::Direct);
//! let expected = ctx.transaction_id().clone();
//! let seen = current::scope(ctx, async {
//!     // Deep inside an adapter:
//!     current::with(|ctx| ctx.map(|c| c.transaction_id().clone()))
//! })
//! .await;
//! assert_eq!(seen, Some(expected));
//! assert!(current::ctx().is_none());
//! # }
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bisslog_core::Ctx;

thread_local! {
    static CURRENT: RefCell<Option<Ctx>> = const { RefCell::new(None) };
}

/// Runs `future` with `ctx` as the current context whenever it is polled.
/// Entry points wrap each use-case call in it.
pub fn scope<F: Future>(ctx: Ctx, future: F) -> Scoped<Pin<Box<F>>> {
    Scoped {
        ctx: Some(ctx),
        future: Box::pin(future),
    }
}

/// [`scope`] for a future that is already `Unpin` (a boxed one), without
/// boxing it again.
pub fn scope_unpin<F: Future + Unpin>(ctx: Ctx, future: F) -> Scoped<F> {
    Scoped {
        ctx: Some(ctx),
        future,
    }
}

/// The context of the use case whose future is being polled on this
/// thread, if any.
pub fn ctx() -> Option<Ctx> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Gives `f` the current context without cloning it (log formatters call
/// it on every line).
pub fn with<R>(f: impl FnOnce(Option<&Ctx>) -> R) -> R {
    CURRENT.with(|current| f(current.borrow().as_ref()))
}

/// A future running with a [`Ctx`] as the current context; see [`scope`].
#[must_use = "futures do nothing unless polled"]
pub struct Scoped<F> {
    /// Lent to the thread-local slot during each poll.
    ctx: Option<Ctx>,
    future: F,
}

impl<F: Future + Unpin> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let guard = Lent::lend(&mut this.ctx);
        let poll = Pin::new(&mut this.future).poll(cx);
        drop(guard);
        poll
    }
}

impl<F> std::fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped")
            .field("ctx", &self.ctx)
            .finish_non_exhaustive()
    }
}

/// The context moved into the thread-local slot for one poll, and moved
/// back (the previous one restored) when the poll ends, even by panic.
struct Lent<'s> {
    home: &'s mut Option<Ctx>,
    previous: Option<Ctx>,
}

impl<'s> Lent<'s> {
    fn lend(home: &'s mut Option<Ctx>) -> Self {
        let ctx = home.take();
        let previous = CURRENT.with(|current| current.replace(ctx));
        Lent { home, previous }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        *self.home = CURRENT.with(|current| current.replace(previous));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_core::Trigger;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_never_see_each_others_context() {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let ctx = Ctx::new(format!("uc{i}"), Trigger::Direct);
            let expected = ctx.transaction_id().clone();
            tasks.push(tokio::spawn(scope(ctx, async move {
                for _ in 0..5 {
                    let seen = super::ctx().map(|c| c.transaction_id().clone());
                    assert_eq!(seen.as_ref(), Some(&expected));
                    tokio::task::yield_now().await;
                }
            })));
        }
        for task in tasks {
            assert!(task.await.is_ok());
        }
        assert!(super::ctx().is_none());
    }
}
