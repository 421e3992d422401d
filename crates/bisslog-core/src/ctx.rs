//! The context of one use-case call: its transaction, where it came from,
//! and the values the entry point knows about the caller.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::call::{CallDispatcher, NestedCall};
use crate::error::{Error, UseCaseError};
use crate::trace::TraceContext;
use crate::transaction::TransactionId;
use crate::use_case::UseCase;

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
/// spans nested use cases.
///
/// The runtime also attaches what its machinery needs: the dispatcher of
/// nested calls ([`Ctx::set_dispatcher`]) and, as typed
/// [extensions](Ctx::extension), the call's unit of work and deadline; a
/// use case never needs them.
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
    /// `None` when there are none (most calls): no shared empty map to
    /// count references to on every call.
    attributes: Option<Arc<serde_json::Map<String, serde_json::Value>>>,
    /// The trace context the entry point received (a caller's span).
    trace_parent: Option<TraceContext>,
    /// The call's own span, once the runtime has opened one.
    span: OnceLock<TraceContext>,
    /// What the runtime attaches: one value per type, set once each.
    extensions: Extensions,
    /// The dispatcher of nested calls ([`Ctx::set_dispatcher`]): the
    /// runtime attaches it to every call, so it has a field of its own
    /// rather than an extension's allocations and lock.
    calls: Calls,
}

/// The dispatcher of a context's nested calls: given when the context is
/// built (a plain field, no atomic operation to read or set it), or set
/// once later ([`Ctx::set_dispatcher`], for contexts built by hand).
struct Calls {
    built: Option<Arc<dyn CallDispatcher>>,
    later: OnceLock<Arc<dyn CallDispatcher>>,
}

impl Calls {
    fn new(built: Option<Arc<dyn CallDispatcher>>) -> Self {
        Self {
            built,
            later: OnceLock::new(),
        }
    }

    fn get(&self) -> Option<&Arc<dyn CallDispatcher>> {
        self.built.as_ref().or_else(|| self.later.get())
    }

    fn set(&self, dispatcher: Arc<dyn CallDispatcher>) -> Result<(), Arc<dyn CallDispatcher>> {
        if self.built.is_some() {
            return Err(dispatcher);
        }
        self.later.set(dispatcher)
    }
}

/// Values of any type, at most one per type. Few (the runtime attaches
/// two), so a vector is faster than a map.
#[derive(Default)]
struct Extensions(Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>);

impl Extensions {
    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<(TypeId, Arc<dyn Any + Send + Sync>)>> {
        // Nothing panics while the lock is held; a poisoned lock still
        // holds a consistent vector.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
            trace_parent: None,
            calls: None,
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
        self.0.attributes.as_deref()?.get(name)
    }

    /// All context attributes.
    pub fn attributes(&self) -> &serde_json::Map<String, serde_json::Value> {
        match &self.0.attributes {
            Some(attributes) => attributes,
            None => no_attributes(),
        }
    }

    /// The trace this call belongs to: its own span's context once the
    /// runtime has opened one, else the one its entry point received;
    /// `None` outside any trace. Published events carry it on.
    pub fn trace_context(&self) -> Option<&TraceContext> {
        self.0.span.get().or(self.0.trace_parent.as_ref())
    }

    /// The trace context the entry point received: the parent of the
    /// call's span.
    pub fn trace_parent(&self) -> Option<&TraceContext> {
        self.0.trace_parent.as_ref()
    }

    /// Records the span the runtime opened for this call, once; a second
    /// one is refused and given back. Log lines and published events use
    /// it from then on.
    pub fn set_span_context(&self, span: TraceContext) -> Result<(), TraceContext> {
        self.0.span.set(span)
    }

    /// The context of a call this one makes to another use case: a new
    /// transaction whose parent is this one, with the same attributes,
    /// in the same trace.
    pub fn child(&self, use_case: impl Into<Arc<str>>) -> Ctx {
        Ctx(Arc::new(Inner {
            transaction_id: TransactionId::generate(),
            parent: Some(self.0.transaction_id.clone()),
            use_case: use_case.into(),
            trigger: Trigger::Call,
            attributes: self.0.attributes.clone(),
            trace_parent: self.trace_context().cloned(),
            span: OnceLock::new(),
            // A nested call is part of its caller's unit of work and is
            // dispatched by the same runtime: it starts with the same
            // extensions.
            extensions: Extensions(Mutex::new(self.0.extensions.entries().clone())),
            calls: Calls::new(self.0.calls.get().cloned()),
        }))
    }

    /// The value of type `T` attached to this call, if any.
    ///
    /// This is the seam between the domain's context and the machinery
    /// around it: the runtime attaches the call's unit of work and the
    /// dispatcher of [`Ctx::call`]; adapters read them through the crates
    /// that define their types (`bisslog_messaging::work::of`). A use case
    /// never needs it.
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let entries = self.0.extensions.entries();
        let (_, value) = entries.iter().find(|(id, _)| *id == TypeId::of::<T>())?;
        Arc::clone(value).downcast::<T>().ok()
    }

    /// Attaches `value` to this call (and to the calls it makes from now
    /// on, see [`Ctx::child`]). Once per type: a second value of the same
    /// type is refused and given back.
    pub fn insert_extension<T: Any + Send + Sync>(&self, value: T) -> Result<(), T> {
        let mut entries = self.0.extensions.entries();
        if entries.iter().any(|(id, _)| *id == TypeId::of::<T>()) {
            return Err(value);
        }
        entries.push((TypeId::of::<T>(), Arc::new(value)));
        Ok(())
    }

    /// Attaches the dispatcher that runs this call's nested calls
    /// ([`Ctx::call`]) and those of the calls it makes from now on. Set by
    /// the runtime; once: a second one is refused and given back.
    pub fn set_dispatcher(
        &self,
        dispatcher: Arc<dyn CallDispatcher>,
    ) -> Result<(), Arc<dyn CallDispatcher>> {
        self.0.calls.set(dispatcher)
    }

    /// Whether a dispatcher runs this call's nested calls (in a service,
    /// always; with a context built by hand, not unless set).
    pub fn has_dispatcher(&self) -> bool {
        self.0.calls.get().is_some()
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
    /// parent is this call's, part of this call's unit of work.
    ///
    /// In a service, the runtime dispatches it like any trigger: the child
    /// context carries the callee's keyname from the metadata, its start and
    /// end are logged, and a panic in the callee becomes an
    /// [`ErrorKind::Internal`](crate::ErrorKind::Internal) failure (code
    /// `panic`) of this call, converted into the callee's error type (hence
    /// the `From<Error>` bound), instead of unwinding through the caller.
    ///
    /// With a context built by hand ([`Ctx::new`], as in a unit test), the
    /// callee simply runs, with a child context named after its type
    /// (`GetSchema`); a panic unwinds as in any function call.
    pub async fn call<U: UseCase>(
        &self,
        use_case: &U,
        input: U::Input,
    ) -> Result<U::Output, U::Error>
    where
        U::Error: From<Error>,
    {
        let type_name = short_type_name::<U>();
        let Some(dispatcher) = self.0.calls.get() else {
            let child = self.child(type_name);
            return use_case.run(&child, input).await;
        };
        let mut result = None;
        let slot = &mut result;
        let call = NestedCall::new(
            TypeId::of::<U>(),
            type_name,
            Box::new(move |child: Ctx| {
                Box::pin(async move {
                    let outcome = use_case.run(&child, input).await;
                    let status = outcome.as_ref().map(|_| ()).map_err(UseCaseError::kind);
                    *slot = Some(outcome);
                    status
                })
            }),
        );
        dispatcher.dispatch(self, call).await?;
        result.unwrap_or_else(|| {
            Err(Error::internal(format!(
                "the dispatcher did not run the use case `{type_name}`"
            ))
            .into())
        })
    }
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("transaction_id", &self.0.transaction_id)
            .field("parent", &self.0.parent)
            .field("use_case", &self.0.use_case)
            .field("trigger", &self.0.trigger)
            .field("trace", &self.trace_context())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Ctx`].
pub struct CtxBuilder {
    use_case: Arc<str>,
    trigger: Trigger,
    transaction_id: Option<TransactionId>,
    parent: Option<TransactionId>,
    attributes: serde_json::Map<String, serde_json::Value>,
    trace_parent: Option<TraceContext>,
    calls: Option<Arc<dyn CallDispatcher>>,
}

impl fmt::Debug for CtxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtxBuilder")
            .field("use_case", &self.use_case)
            .field("trigger", &self.trigger)
            .field("transaction_id", &self.transaction_id)
            .field("parent", &self.parent)
            .field("attributes", &self.attributes)
            .field("trace_parent", &self.trace_parent)
            .field("dispatcher", &self.calls.is_some())
            .finish()
    }
}

impl CtxBuilder {
    /// The dispatcher of the context's nested calls, set as it is built:
    /// what [`Ctx::set_dispatcher`] does later, without a once-only
    /// cell's atomic operations on every call (the runtime's entry points
    /// build each call's context so).
    #[must_use]
    pub fn dispatcher(mut self, dispatcher: Arc<dyn CallDispatcher>) -> Self {
        self.calls = Some(dispatcher);
        self
    }

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

    /// Continues the trace of a caller (an incoming `traceparent`, a
    /// consumed message's, the entry point's own span).
    #[must_use]
    pub fn trace_parent(mut self, parent: TraceContext) -> Self {
        self.trace_parent = Some(parent);
        self
    }

    /// [`CtxBuilder::trace_parent`] when there is one.
    #[must_use]
    pub fn maybe_trace_parent(mut self, parent: Option<TraceContext>) -> Self {
        if parent.is_some() {
            self.trace_parent = parent;
        }
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
        if attributes.is_empty() {
            return self;
        }
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
            attributes: (!self.attributes.is_empty()).then(|| Arc::new(self.attributes)),
            trace_parent: self.trace_parent,
            span: OnceLock::new(),
            extensions: Extensions::default(),
            calls: Calls::new(self.calls),
        }))
    }
}

/// The attributes of a context that has none.
fn no_attributes() -> &'static serde_json::Map<String, serde_json::Value> {
    static EMPTY: OnceLock<serde_json::Map<String, serde_json::Value>> = OnceLock::new();
    EMPTY.get_or_init(serde_json::Map::new)
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
    fn children_continue_the_trace_of_their_caller() {
        let remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parent = TraceContext::parse(remote).unwrap_or_else(|| unreachable!());
        let ctx = Ctx::builder("a", Trigger::Http)
            .trace_parent(parent.clone())
            .build();
        assert_eq!(ctx.trace_context(), Some(&parent));
        let span = parent
            .with_span_id([7; 8])
            .unwrap_or_else(|| unreachable!());
        assert!(ctx.set_span_context(span.clone()).is_ok());
        assert!(ctx.set_span_context(parent.clone()).is_err());
        assert_eq!(ctx.trace_context(), Some(&span));
        assert_eq!(ctx.trace_parent(), Some(&parent));
        let child = ctx.child("b");
        assert_eq!(child.trace_parent(), Some(&span));
        assert!(Ctx::new("c", Trigger::Direct).trace_context().is_none());
    }

    struct NoCalls;

    impl CallDispatcher for NoCalls {
        fn dispatch<'a>(
            &'a self,
            _: &'a Ctx,
            _: NestedCall<'a>,
        ) -> crate::port::BoxFuture<'a, Result<(), Error>> {
            Box::pin(async { Err(Error::internal("no calls here")) })
        }
    }

    #[test]
    fn the_dispatcher_is_set_once_and_children_inherit_it() {
        let ctx = Ctx::new("a", Trigger::Http);
        assert!(!ctx.has_dispatcher());
        let calls: Arc<dyn CallDispatcher> = Arc::new(NoCalls);
        assert!(ctx.set_dispatcher(Arc::clone(&calls)).is_ok());
        let other: Arc<dyn CallDispatcher> = Arc::new(NoCalls);
        let refused = ctx.set_dispatcher(Arc::clone(&other));
        assert!(refused.is_err_and(|again| Arc::ptr_eq(&again, &other)));
        assert!(ctx.has_dispatcher());
        // Extensions are apart from it, and children inherit both.
        assert!(ctx.insert_extension(7_u32).is_ok());
        let child = ctx.child("b");
        assert_eq!(child.extension::<u32>().as_deref(), Some(&7));
        assert!(child.has_dispatcher());
    }

    #[test]
    fn short_names() {
        assert_eq!(short_type_name::<Ctx>(), "Ctx");
        assert_eq!(short_type_name::<Vec<String>>(), "Vec");
    }
}
