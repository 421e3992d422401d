//! The context of one use-case call: its transaction, where it came from,
//! and the values the entry point knows about the caller.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use crate::transaction::TransactionId;
use crate::use_case::UseCase;
use crate::work::Work;

/// What started a use-case call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trigger {
    /// An HTTP request.
    Http,
    /// A WebSocket connection or message.
    WebSocket,
    /// A consumed message.
    Consumer,
    /// A schedule tick.
    Schedule,
    /// Another use case, through [`Ctx::call`].
    Call,
    /// The command line.
    Command,
    /// Code calling the use case directly, such as a test.
    Direct,
}

impl Trigger {
    /// A lower-case name (`http`, `consumer`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::Http => "http",
            Trigger::WebSocket => "websocket",
            Trigger::Consumer => "consumer",
            Trigger::Schedule => "schedule",
            Trigger::Call => "call",
            Trigger::Command => "command",
            Trigger::Direct => "direct",
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The context of one use-case call: cheap to clone, shared with the
/// use case, its ports and its log lines.
///
/// Every call gets a transaction id. A call made through [`Ctx::call`]
/// gets a child transaction whose parent is the caller's, so one trace
/// spans nested use cases. While a use case runs inside [`Ctx::scope`]
/// (the runtime does this), [`Ctx::current`] returns its context from any
/// code it awaits, so adapters and log lines see the right transaction even
/// when thousands of calls run concurrently on the same threads.
///
/// ```
/// use bisslog_core::{Ctx, Trigger};
///
/// let ctx = Ctx::new("create_schema", Trigger::Direct);
/// let child = ctx.child("get_schema");
/// assert_eq!(child.parent_transaction_id(), Some(ctx.transaction_id()));
/// assert_ne!(child.transaction_id(), ctx.transaction_id());
/// ```
#[derive(Clone)]
pub struct Ctx(Arc<Inner>);

struct Inner {
    transaction_id: TransactionId,
    parent: Option<TransactionId>,
    use_case: Arc<str>,
    trigger: Trigger,
    attributes: Arc<serde_json::Map<String, serde_json::Value>>,
    /// Set once, by the runtime, when the service has a unit of work.
    work: OnceLock<Arc<dyn Work>>,
}

impl Ctx {
    /// A context with a new transaction.
    pub fn new(use_case: impl Into<Arc<str>>, trigger: Trigger) -> Self {
        Self::builder(use_case, trigger).build()
    }

    /// A builder, to set a caller's transaction id or context attributes.
    pub fn builder(use_case: impl Into<Arc<str>>, trigger: Trigger) -> CtxBuilder {
        CtxBuilder {
            use_case: use_case.into(),
            trigger,
            transaction_id: None,
            parent: None,
            attributes: serde_json::Map::new(),
        }
    }

    /// This call's transaction id.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.0.transaction_id
    }

    /// The transaction id of the call that made this one, if any.
    pub fn parent_transaction_id(&self) -> Option<&TransactionId> {
        self.0.parent.as_ref()
    }

    /// The keyname of the use case running.
    pub fn use_case(&self) -> &str {
        &self.0.use_case
    }

    /// What started the call.
    pub fn trigger(&self) -> Trigger {
        self.0.trigger
    }

    /// A value the entry point put in the context, such as the user an
    /// authenticator recognised (mappers read them as `context.<name>`).
    pub fn attribute(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.attributes.get(name)
    }

    /// All context attributes.
    pub fn attributes(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0.attributes
    }

    /// The context of a call this one makes to another use case: a new
    /// transaction whose parent is this one, with the same attributes.
    pub fn child(&self, use_case: impl Into<Arc<str>>) -> Ctx {
        Ctx(Arc::new(Inner {
            transaction_id: TransactionId::generate(),
            parent: Some(self.0.transaction_id.clone()),
            use_case: use_case.into(),
            trigger: Trigger::Call,
            attributes: Arc::clone(&self.0.attributes),
            // A nested call is part of its caller's unit of work.
            work: self.0.work.clone(),
        }))
    }

    /// The unit of work this call's writes join, when the service has one.
    /// Adapters use it (through [`Ctx::current`]); use cases never need to.
    pub fn work(&self) -> Option<&Arc<dyn Work>> {
        self.0.work.get()
    }

    /// Attaches the call's unit of work. Entry points and the runtime do
    /// this once, before the use case runs; a second attachment is refused
    /// and gives the work back.
    pub fn attach_work(&self, work: Arc<dyn Work>) -> Result<(), Arc<dyn Work>> {
        self.0.work.set(work)
    }

    /// Records a checkpoint: an INFO event with a `checkpoint_id`, logged
    /// as bisslog's `[time][transaction_id][INFO][checkpoint_id] message`.
    pub fn checkpoint(&self, checkpoint_id: &str, message: impl fmt::Display) {
        tracing::info!(
            target: "bisslog::checkpoint",
            checkpoint_id,
            transaction_id = %self.0.transaction_id,
            "{message}"
        );
    }

    /// Calls another use case with a child context: a new transaction whose
    /// parent is this call's.
    pub async fn call<U: UseCase>(
        &self,
        use_case: &U,
        input: U::Input,
    ) -> Result<U::Output, U::Error> {
        let name = short_type_name::<U>();
        let child = self.child(name);
        tracing::debug!(transaction_id = %child.transaction_id(), parent = %self.transaction_id(), "calling {name}");
        child.clone().scope(use_case.run(&child, input)).await
    }

    /// Runs `future` with this context as [`Ctx::current`] whenever it is
    /// polled. Entry points wrap each use-case call in it.
    pub fn scope<F: Future>(self, future: F) -> Scoped<Pin<Box<F>>> {
        Scoped {
            ctx: Some(self),
            future: Box::pin(future),
        }
    }

    /// [`Ctx::scope`] for a future that is already `Unpin` (a boxed one),
    /// without boxing it again.
    pub fn scope_unpin<F: Future + Unpin>(self, future: F) -> Scoped<F> {
        Scoped {
            ctx: Some(self),
            future,
        }
    }

    /// The context of the use case whose future is being polled on this
    /// thread, if any.
    pub fn current() -> Option<Ctx> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// Gives `f` the current context without cloning it (used by log
    /// formatters on every line).
    pub fn with_current<R>(f: impl FnOnce(Option<&Ctx>) -> R) -> R {
        CURRENT.with(|current| f(current.borrow().as_ref()))
    }
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("transaction_id", &self.0.transaction_id)
            .field("parent", &self.0.parent)
            .field("use_case", &self.0.use_case)
            .field("trigger", &self.0.trigger)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Ctx`].
#[derive(Debug)]
pub struct CtxBuilder {
    use_case: Arc<str>,
    trigger: Trigger,
    transaction_id: Option<TransactionId>,
    parent: Option<TransactionId>,
    attributes: serde_json::Map<String, serde_json::Value>,
}

impl CtxBuilder {
    /// Uses this transaction id instead of generating one.
    #[must_use]
    pub fn transaction_id(mut self, id: TransactionId) -> Self {
        self.transaction_id = Some(id);
        self
    }

    /// Records the transaction that caused this one (a producer's, for a
    /// consumed message).
    #[must_use]
    pub fn parent(mut self, id: TransactionId) -> Self {
        self.parent = Some(id);
        self
    }

    /// Adds a context attribute.
    #[must_use]
    pub fn attribute(
        mut self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// Adds every attribute of a map (an authenticator's result).
    #[must_use]
    pub fn attributes(mut self, attributes: serde_json::Map<String, serde_json::Value>) -> Self {
        if self.attributes.is_empty() {
            self.attributes = attributes;
        } else {
            self.attributes.extend(attributes);
        }
        self
    }

    /// The context.
    pub fn build(self) -> Ctx {
        Ctx(Arc::new(Inner {
            transaction_id: self.transaction_id.unwrap_or_else(TransactionId::generate),
            parent: self.parent,
            use_case: self.use_case,
            trigger: self.trigger,
            attributes: if self.attributes.is_empty() {
                no_attributes()
            } else {
                Arc::new(self.attributes)
            },
            work: OnceLock::new(),
        }))
    }
}

/// One shared empty attribute map: most calls have no attributes.
fn no_attributes() -> Arc<serde_json::Map<String, serde_json::Value>> {
    static EMPTY: OnceLock<Arc<serde_json::Map<String, serde_json::Value>>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::new(serde_json::Map::new())))
}

thread_local! {
    static CURRENT: RefCell<Option<Ctx>> = const { RefCell::new(None) };
}

/// A future running with a [`Ctx`] as the current context; see
/// [`Ctx::scope`].
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

/// `GetSchema` for `my_crate::use_cases::GetSchema`.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_inherit_attributes_and_record_the_parent() {
        let ctx = Ctx::builder("a", Trigger::Http)
            .transaction_id(TransactionId::parse("given-1").unwrap_or_else(TransactionId::generate))
            .attribute("user_id", "u-7")
            .build();
        assert_eq!(ctx.transaction_id().to_string(), "given-1");
        let child = ctx.child("b");
        assert_eq!(child.attribute("user_id"), Some(&serde_json::json!("u-7")));
        assert_eq!(child.trigger(), Trigger::Call);
        assert_eq!(child.use_case(), "b");
    }

    #[test]
    fn short_names() {
        assert_eq!(short_type_name::<Ctx>(), "Ctx");
        assert_eq!(short_type_name::<Vec<String>>(), "Vec");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_never_see_each_others_context() {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let ctx = Ctx::new(format!("uc{i}"), Trigger::Direct);
            let expected = ctx.transaction_id().clone();
            tasks.push(tokio::spawn(ctx.scope(async move {
                for _ in 0..5 {
                    let seen = Ctx::current().map(|c| c.transaction_id().clone());
                    assert_eq!(seen.as_ref(), Some(&expected));
                    tokio::task::yield_now().await;
                }
            })));
        }
        for task in tasks {
            assert!(task.await.is_ok());
        }
        assert!(Ctx::current().is_none());
    }
}
