//! Calling a use case without knowing its types: deserialize the mapped
//! input, run it in its context, serialize the output; and isolate panics.

use std::any::TypeId;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use bisslog_core::{
    BoxError, BoxFuture, CallDispatcher, Completion, Ctx, CtxBuilder, Error, ErrorKind, NestedCall,
    Trigger, UseCase,
};
use bisslog_messaging::{UnitOfWork, Work, current, work};
use bisslog_schema::Criticality;
use bytes::Bytes;
use futures_util::FutureExt as _;

use schemars::JsonSchema;

use crate::contract::Contract;
use crate::mapper::Mapped;
use crate::metrics::{Metrics, UseCaseInstruments};
use crate::trace::{Span, SpanKind, SpanStart, Tracer, TracerSlot, attributes};

/// A successful call, ready for a transport to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// How the call completed.
    pub completion: Completion,
    /// The output as JSON; `None` when there is no content.
    pub body: Option<Bytes>,
}

/// A failed call: the use case's error, an input that did not fit, or a
/// panic, all behind the [`UseCaseError`](bisslog_core::UseCaseError) trait.
pub type Failure = BoxError;

/// A use case with its types erased: the input is deserialized at once
/// (it borrows from the request), the returned future owns everything.
trait Dispatch: Send + Sync + 'static {
    fn call(
        &self,
        ctx: Ctx,
        input: &Mapped<'_>,
        output: Output,
    ) -> Result<BoxFuture<'static, Result<Reply, Failure>>, Failure>;
}

/// What the caller of a use case does with its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Answers with it: encoded as JSON into the reply's body.
    Reply,
    /// Needs only the outcome (a consumed message): the output is dropped
    /// unencoded, and the reply has no body.
    Drop,
}

struct Typed<U>(Arc<U>);

impl<U: UseCase> Dispatch for Typed<U> {
    fn call(
        &self,
        ctx: Ctx,
        input: &Mapped<'_>,
        wanted: Output,
    ) -> Result<BoxFuture<'static, Result<Reply, Failure>>, Failure> {
        let input: U::Input = deserialize(input)?;
        let use_case = Arc::clone(&self.0);
        Ok(Box::pin(async move {
            let output = use_case
                .run(&ctx, input)
                .await
                .map_err(|e| Box::new(e) as Failure)?;
            let completion = U::completion(&output);
            let body = match (completion, wanted) {
                (Completion::NoContent, _) | (_, Output::Drop) => None,
                _ => Some(encode(&output).map_err(|e| {
                    Box::new(
                        Error::internal("the use case's output could not be serialized")
                            .with_source(e),
                    ) as Failure
                })?),
            };
            Ok(Reply { completion, body })
        }))
    }
}

/// The output as JSON, in a buffer of its exact size.
///
/// Written into a scratch buffer kept by the thread, then copied: a
/// `Vec` of a guessed capacity handed to [`Bytes`] costs a second
/// allocation (the shared header `Bytes` keeps for a `Vec` it does not
/// fill), and the copy of a reply is cheaper than an allocation.
fn encode<T: serde::Serialize>(output: &T) -> Result<Bytes, serde_json::Error> {
    /// The largest scratch buffer a thread keeps between calls.
    const KEPT: usize = 64 * 1024;
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| {
        // Taken by an encoding in progress on this thread (an output
        // whose `Serialize` encodes another): a buffer of its own.
        let Ok(mut buffer) = scratch.try_borrow_mut() else {
            return serde_json::to_vec(output).map(Bytes::from);
        };
        buffer.clear();
        let encoded =
            serde_json::to_writer(&mut *buffer, output).map(|()| Bytes::copy_from_slice(&buffer));
        if buffer.capacity() > KEPT {
            *buffer = Vec::new();
        }
        encoded
    })
}

/// Deserializes the input; only when that fails, again with the path
/// tracked, to name the offending field.
fn deserialize<T: serde::de::DeserializeOwned>(input: &Mapped<'_>) -> Result<T, Failure> {
    match T::deserialize(input) {
        Ok(value) => Ok(value),
        Err(_) => serde_path_to_error::deserialize(input).map_err(input_error),
    }
}

/// An input that does not fit the use case: which field, and why.
fn input_error(error: serde_path_to_error::Error<crate::mapper::MapError>) -> Failure {
    let path = error.path().to_string();
    let problem = error.inner().to_string();
    let field = match path.as_str() {
        "." | "" => missing_field(&problem),
        _ => Some(path),
    };
    let message = match &field {
        Some(field) => format!("the input field `{field}` is invalid: {problem}"),
        None => format!("the input is invalid: {problem}"),
    };
    let details = serde_json::json!({"errors": [{"field": field, "message": problem}]});
    Box::new(Error::invalid("invalid-input", message).with_details(details))
}

/// `missing field `b`` names its field in the message only.
fn missing_field(problem: &str) -> Option<String> {
    let rest = problem.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// A registered use case, ready to be called by an entry point.
#[derive(Clone)]
pub struct UseCaseHandle {
    keyname: Arc<str>,
    criticality: Criticality,
    contract: Contract,
    dispatch: Arc<dyn Dispatch>,
    unit_of_work: Option<Arc<dyn UnitOfWork>>,
    /// The type registered, for nested calls to find this keyname.
    type_id: TypeId,
    /// The dispatcher of the nested calls of this handle's calls.
    calls: Option<Arc<dyn CallDispatcher>>,
    /// The service's metrics, when it has them.
    metrics: Option<Metrics>,
    instruments: Option<Arc<UseCaseInstruments>>,
    /// The service's tracer, once it has one.
    tracer: TracerSlot,
}

impl UseCaseHandle {
    pub(crate) fn new<U>(keyname: &str, criticality: Criticality, use_case: U) -> Self
    where
        U: UseCase,
        U::Input: JsonSchema,
        U::Output: JsonSchema,
    {
        Self {
            keyname: Arc::from(keyname),
            criticality,
            contract: Contract::of::<U>(),
            dispatch: Arc::new(Typed(Arc::new(use_case))),
            unit_of_work: None,
            type_id: TypeId::of::<U>(),
            calls: None,
            metrics: None,
            instruments: None,
            tracer: TracerSlot::default(),
        }
    }

    pub(crate) fn with_tracer(mut self, tracer: TracerSlot) -> Self {
        self.tracer = tracer;
        self
    }

    /// The service's tracer, when tracing is on: for entry points to open
    /// their own spans around the call.
    pub fn tracer(&self) -> Option<&Tracer> {
        self.tracer.get()
    }

    /// Records this use case's calls in `metrics` (set after the
    /// criticality: the series carry it).
    pub(crate) fn with_metrics(mut self, metrics: Option<Metrics>) -> Self {
        self.instruments = metrics.as_ref().map(|m| {
            Arc::new(UseCaseInstruments::new(
                m.clone(),
                Arc::clone(&self.keyname),
                self.criticality.name(),
            ))
        });
        self.metrics = metrics;
        self
    }

    /// The metrics registry of the service, when it has one: for entry
    /// points to record their own series.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref()
    }

    pub(crate) fn with_calls(mut self, calls: Arc<dyn CallDispatcher>) -> Self {
        self.calls = Some(calls);
        self
    }

    pub(crate) fn with_unit_of_work(mut self, unit_of_work: Option<Arc<dyn UnitOfWork>>) -> Self {
        self.unit_of_work = unit_of_work;
        self
    }

    pub(crate) fn with_criticality(mut self, criticality: Criticality) -> Self {
        self.criticality = criticality;
        self
    }

    /// A call of this use case that its entry point gave up at its
    /// `timeout` (`limit`) and dropped: counted in the metrics as a failure
    /// of kind `timeout` that lasted `limit`, as if the use case had
    /// returned one, and the error (`timeout`, "the use case did not finish
    /// within N ms") the entry point answers with. Entry points that cancel
    /// calls (the HTTP route's 504, a consumer's or a Lambda record's
    /// timeout) call it; without it a dropped call leaves only the
    /// in-flight count, so a use case whose every call hangs would show
    /// neither calls nor failures.
    pub fn timed_out(&self, trigger: Trigger, limit: std::time::Duration) -> Error {
        if let Some(instruments) = &self.instruments {
            instruments.timed_out(trigger, limit);
        }
        Error::new(
            ErrorKind::Timeout,
            "timeout",
            format!(
                "the use case did not finish within {} ms",
                limit.as_millis()
            ),
        )
    }

    /// The use case's keyname.
    pub fn keyname(&self) -> &str {
        &self.keyname
    }

    /// The keyname, shared (for contexts, without copying it).
    pub fn keyname_arc(&self) -> Arc<str> {
        Arc::clone(&self.keyname)
    }

    /// The builder of a call's context for this use case: its keyname,
    /// `trigger`, and the service's dispatcher of nested calls, which
    /// [`call`](Self::call) would otherwise attach to the built context.
    pub fn ctx_builder(&self, trigger: Trigger) -> CtxBuilder {
        let builder = Ctx::builder(self.keyname_arc(), trigger);
        match &self.calls {
            Some(calls) => builder.dispatcher(Arc::clone(calls)),
            None => builder,
        }
    }

    /// Its criticality, from the metadata.
    pub fn criticality(&self) -> Criticality {
        self.criticality
    }

    /// What its types say about it (schemas, completion, error kinds), for
    /// API documents.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// Calls the use case: deserializes `input`, runs it with `ctx` as the
    /// current context, logs its start and end at DEBUG, and turns a panic
    /// into an [`ErrorKind::Internal`] failure for this call only.
    ///
    /// When the service has a [`UnitOfWork`] and `ctx` carries no work yet,
    /// the call begins one, commits it when the use case succeeds and rolls
    /// it back when it fails; a failed commit fails the call. When `ctx`
    /// already carries work (a consumer recording its inbox entry first),
    /// whoever attached it ends it.
    ///
    /// The use case's own calls to other use cases ([`Ctx::call`]) are
    /// dispatched the same way, as part of this call's unit of work.
    ///
    /// When the service has [metrics](crate::metrics), the call is counted
    /// by trigger (the context's) and outcome, timed, and in flight until
    /// it ends or the future is dropped.
    ///
    /// The input is read before this returns, so the future borrows
    /// nothing from the request.
    pub fn call(
        &self,
        ctx: Ctx,
        input: &Mapped<'_>,
    ) -> impl Future<Output = Result<Reply, Failure>> + Send + 'static {
        self.call_from(ctx, input, None, Output::Reply)
    }

    /// Calls the use case as [`call`](Self::call) does, for an entry point
    /// that needs only the outcome, not the output (a consumed message):
    /// the output is dropped instead of encoded as JSON, so the reply's
    /// body is always `None`. Nothing is allocated for a body nobody
    /// reads, and an output that cannot be encoded does not fail a call
    /// whose work is done.
    pub fn call_for_outcome(
        &self,
        ctx: Ctx,
        input: &Mapped<'_>,
    ) -> impl Future<Output = Result<Reply, Failure>> + Send + 'static {
        self.call_from(ctx, input, None, Output::Drop)
    }

    /// Calls the use case as [`call`](Self::call) does, its duration (in
    /// the metrics) measured from `started`: an entry point that has just
    /// read the clock, for its timeout's deadline, passes that reading
    /// rather than have the call read the clock again (a clock read costs
    /// more than the rest of a call's metrics).
    pub fn call_at(
        &self,
        ctx: Ctx,
        input: &Mapped<'_>,
        started: Instant,
    ) -> impl Future<Output = Result<Reply, Failure>> + Send + 'static {
        self.call_from(ctx, input, Some(started), Output::Reply)
    }

    fn call_from(
        &self,
        ctx: Ctx,
        input: &Mapped<'_>,
        call_started: Option<Instant>,
        output: Output,
    ) -> impl Future<Output = Result<Reply, Failure>> + Send + 'static {
        let keyname = Arc::clone(&self.keyname);
        let started = log_start(&keyname, &ctx);
        let timer = self
            .instruments
            .as_ref()
            .map(|i| i.start(ctx.trigger(), call_started));
        let mut span = CallSpan(open_span(
            self.tracer.get(),
            &keyname,
            self.criticality.name(),
            &ctx,
        ));
        if let Some(calls) = &self.calls
            && !ctx.has_dispatcher()
        {
            // A context that already has one (built by `ctx_builder`, or a
            // caller's) keeps it.
            let _ = ctx.set_dispatcher(Arc::clone(calls));
        }
        let began = self.begin_work(&ctx);
        let prepared = std::panic::catch_unwind(AssertUnwindSafe(|| {
            self.dispatch.call(ctx.clone(), input, output)
        }))
        .unwrap_or_else(|panic| Err(Box::new(panicked(&keyname, panic.as_ref()))));
        async move {
            let mut outcome = match prepared {
                // The context goes with the call: nothing after it needs
                // it (the end is logged with what `log_start` kept).
                Ok(future) => current::scope_unpin(ctx, AssertUnwindSafe(future).catch_unwind())
                    .await
                    .unwrap_or_else(|panic| Err(Box::new(panicked(&keyname, panic.as_ref())))),
                Err(failure) => Err(failure),
            };
            if let Some(work) = began {
                outcome = end_work(work.as_ref(), outcome).await;
            }
            log_end(&keyname, started, outcome.is_ok());
            if let Some(timer) = timer {
                timer.end(outcome.as_ref().err().map(|failure| failure.kind()));
            }
            if span.0.is_recording() {
                match &outcome {
                    Ok(_) => span.0.record_outcome(None),
                    Err(failure) => {
                        let code = failure.code();
                        span.0
                            .record_outcome(Some((failure.kind(), &code, failure)));
                    }
                }
                span.end();
            }
            outcome
        }
    }
}

impl UseCaseHandle {
    /// Begins and attaches a unit of work when the service has one and the
    /// context has none.
    fn begin_work(&self, ctx: &Ctx) -> Option<Arc<dyn Work>> {
        let unit_of_work = self.unit_of_work.as_ref()?;
        if work::of(ctx).is_some() {
            return None;
        }
        let work = unit_of_work.begin();
        work::attach(ctx, Arc::clone(&work)).ok()?;
        Some(work)
    }

    /// Whether the service this use case belongs to has a unit of work.
    pub fn has_unit_of_work(&self) -> bool {
        self.unit_of_work.is_some()
    }

    /// Begins a unit of work for a call, when the service has one: for
    /// entry points that must do something inside it before the use case
    /// runs (a consumer's inbox record). The caller attaches it to the
    /// call's context and ends it.
    pub fn begin_unit_of_work(&self) -> Option<Arc<dyn Work>> {
        self.unit_of_work.as_ref().map(|u| u.begin())
    }
}

/// Commits the work when the call succeeded, rolls it back otherwise.
pub(crate) async fn end_work(
    work: &dyn Work,
    outcome: Result<Reply, Failure>,
) -> Result<Reply, Failure> {
    match outcome {
        Ok(reply) => match work.commit().await {
            Ok(()) => Ok(reply),
            Err(error) => {
                tracing::warn!(error = %error, "the unit of work could not be committed");
                Err(Box::new(error))
            }
        },
        Err(failure) => {
            if let Err(error) = work.rollback().await {
                tracing::warn!(error = %error, "the unit of work could not be rolled back");
            }
            Err(failure)
        }
    }
}

impl std::fmt::Debug for UseCaseHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseCaseHandle")
            .field("keyname", &self.keyname)
            .field("criticality", &self.criticality)
            .finish_non_exhaustive()
    }
}

/// Opens the span of a call, child of the context's trace parent, and
/// makes it the context's own; [`Span::none`] without a tracer.
/// A call's span, which says the call was cancelled when the call's
/// future is dropped before it ended: its entry point gave up at the
/// trigger's `timeout` (the entry point's own span has the timeout), or
/// the caller went away. Without this the span ended on drop like a call
/// that succeeded.
struct CallSpan(Span);

impl CallSpan {
    /// Ends it with the outcome recorded.
    fn end(mut self) {
        std::mem::replace(&mut self.0, Span::none()).end();
    }
}

impl Drop for CallSpan {
    fn drop(&mut self) {
        if self.0.is_recording() {
            self.0.set_attribute(attributes::OUTCOME, "cancelled");
            self.0.set_attribute(attributes::ERROR_TYPE, "cancelled");
            self.0.set_error(
                "the call was cancelled before it ended: its trigger's timeout, or its caller went away",
            );
        }
    }
}

fn open_span(
    tracer: Option<&Tracer>,
    keyname: &Arc<str>,
    criticality: &'static str,
    ctx: &Ctx,
) -> Span {
    let span = Span::start(tracer, || {
        // A copy of the keyname, not `to_string`'s formatting machinery.
        SpanStart::new(String::from(&**keyname), SpanKind::Internal)
            .parent(ctx.trace_parent())
            .attribute(attributes::USE_CASE, Arc::clone(keyname))
            .attribute(attributes::TRIGGER, ctx.trigger().as_str())
            .attribute(attributes::CRITICALITY, criticality)
            .attribute(
                attributes::TRANSACTION_ID,
                ctx.transaction_id().text().into_owned(),
            )
    });
    if let Some(context) = span.context() {
        let _ = ctx.set_span_context(context.clone());
    }
    span
}

/// Logs the start of a call at DEBUG; the time it started, when logged.
fn log_start(keyname: &str, ctx: &Ctx) -> Option<Logged> {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return None;
    }
    tracing::debug!(checkpoint_id = %format_args!("start-{keyname}"), transaction_id = %ctx.transaction_id(), "use case started");
    Some(Logged {
        started: Instant::now(),
        transaction_id: ctx.transaction_id().clone(),
    })
}

/// A call whose start [`log_start`] logged: what its end is logged with,
/// kept apart from its context so that the context can go with the
/// call's future.
struct Logged {
    started: Instant,
    transaction_id: bisslog_core::TransactionId,
}

/// Logs the end of a call whose start [`log_start`] logged.
fn log_end(keyname: &str, logged: Option<Logged>, ok: bool) {
    if let Some(Logged {
        started,
        transaction_id,
    }) = logged
    {
        tracing::debug!(
            checkpoint_id = %format_args!("end-{keyname}"),
            transaction_id = %transaction_id,
            elapsed_us = started.elapsed().as_micros() as u64,
            ok,
            "use case ended"
        );
    }
}

/// What a nested call needs to know of its callee.
#[derive(Clone)]
struct Callee {
    keyname: Arc<str>,
    instruments: Option<Arc<UseCaseInstruments>>,
    criticality: &'static str,
}

/// The dispatcher of a service's nested calls ([`Ctx::call`]): the callee
/// is named by the keyname it is registered under, logged like any call,
/// and its panics fail the call, not the caller. It begins no unit of
/// work: a nested call is part of its caller's.
pub(crate) struct Calls {
    /// The keyname of each registered type, with its series when the
    /// service has metrics; a type registered under two keynames is
    /// missing (which one was called cannot be told).
    keynames: HashMap<TypeId, Callee>,
    tracer: TracerSlot,
}

impl Calls {
    pub(crate) fn new<'h>(
        handles: impl IntoIterator<Item = &'h UseCaseHandle>,
        tracer: TracerSlot,
    ) -> Self {
        let mut keynames = HashMap::new();
        let mut ambiguous = Vec::new();
        for handle in handles {
            if keynames
                .insert(
                    handle.type_id,
                    Callee {
                        keyname: handle.keyname_arc(),
                        instruments: handle.instruments.clone(),
                        criticality: handle.criticality.name(),
                    },
                )
                .is_some()
            {
                ambiguous.push(handle.type_id);
            }
        }
        for type_id in ambiguous {
            keynames.remove(&type_id);
        }
        Self { keynames, tracer }
    }
}

impl CallDispatcher for Calls {
    fn dispatch<'a>(
        &'a self,
        caller: &'a Ctx,
        call: NestedCall<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let Callee {
            keyname,
            instruments,
            criticality,
        } = self
            .keynames
            .get(&call.callee())
            .cloned()
            .unwrap_or_else(|| Callee {
                keyname: Arc::from(call.type_name()),
                instruments: None,
                criticality: "none",
            });
        let child = caller.child(Arc::clone(&keyname));
        let mut span = open_span(self.tracer.get(), &keyname, criticality, &child);
        Box::pin(async move {
            let started = log_start(&keyname, &child);
            let timer = instruments.as_ref().map(|i| i.start(Trigger::Call, None));
            let run = call.run(child.clone());
            let outcome = current::scope_unpin(child, AssertUnwindSafe(run).catch_unwind()).await;
            match outcome {
                Ok(status) => {
                    log_end(&keyname, started, status.is_ok());
                    span.record_outcome(status.err().map(|kind| {
                        (
                            kind,
                            "failed",
                            &"the nested use case failed" as &dyn std::fmt::Display,
                        )
                    }));
                    if let Some(timer) = timer {
                        timer.end(status.err());
                    }
                    Ok(())
                }
                Err(panic) => {
                    log_end(&keyname, started, false);
                    span.record_outcome(Some((
                        ErrorKind::Internal,
                        "panic",
                        &"the use case panicked",
                    )));
                    if let Some(timer) = timer {
                        timer.end(Some(ErrorKind::Internal));
                    }
                    Err(panicked(&keyname, panic.as_ref()))
                }
            }
        })
    }
}

/// A panic as a failure, logged with its message.
fn panicked(keyname: &str, panic: &(dyn std::any::Any + Send)) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned());
    tracing::error!(use_case = keyname, panic = %message, "the use case panicked");
    Error::new(
        ErrorKind::Internal,
        "panic",
        format!("the use case `{keyname}` panicked: {message}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_core::{NoInput, Trigger};
    use serde::{Deserialize, Serialize};

    /// Encodes its inner value while it is itself being encoded: the
    /// thread's scratch buffer is then taken.
    struct Nested(Vec<u8>);

    impl Serialize for Nested {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let inner = encode(&self.0).map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(std::str::from_utf8(&inner).unwrap_or_default())
        }
    }

    #[test]
    fn outputs_are_encoded_whole_whatever_the_scratch_buffer_holds() {
        let long = "x".repeat(100_000);
        assert_eq!(
            encode(&long).unwrap().len(),
            long.len() + 2,
            "longer than the buffer kept"
        );
        assert_eq!(
            &encode(&[1, 2]).unwrap()[..],
            b"[1,2]",
            "nothing left of the last"
        );
        assert_eq!(&encode(&Nested(vec![3])).unwrap()[..], br#""[3]""#);
        assert!(encode(&std::collections::HashMap::from([((1, 2), 3)])).is_err());
        assert_eq!(
            &encode(&"after a failure").unwrap()[..],
            br#""after a failure""#
        );
    }

    #[derive(Deserialize, schemars::JsonSchema)]
    struct AddInput {
        a: i64,
        b: i64,
    }

    #[derive(Serialize, schemars::JsonSchema)]
    struct Sum {
        result: i64,
    }

    struct Add;

    impl UseCase for Add {
        type Input = AddInput;
        type Output = Sum;
        type Error = Error;

        async fn run(&self, _: &Ctx, input: AddInput) -> Result<Sum, Error> {
            if input.a < 0 {
                panic!("negative numbers are not supported");
            }
            Ok(Sum {
                result: input.a + input.b,
            })
        }
    }

    struct Nothing;

    impl UseCase for Nothing {
        type Input = NoInput;
        type Output = ();
        type Error = Error;

        async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
            Ok(())
        }
    }

    fn input(json: serde_json::Value) -> Mapped<'static> {
        Mapped::Owned(json)
    }

    fn ctx() -> Ctx {
        Ctx::new("add", Trigger::Direct)
    }

    #[tokio::test]
    async fn outputs_are_serialized_and_unit_outputs_have_no_content() {
        let add = UseCaseHandle::new("add", Criticality::Medium, Add);
        let reply = add
            .call(ctx(), &input(serde_json::json!({"a": 1, "b": 2})))
            .await
            .unwrap();
        assert_eq!(reply.completion, Completion::Done);
        assert_eq!(reply.body.as_deref(), Some(&br#"{"result":3}"#[..]));
        let nothing = UseCaseHandle::new("nothing", Criticality::Medium, Nothing);
        let reply = nothing.call(ctx(), &Mapped::object()).await.unwrap();
        assert_eq!(
            (reply.completion, reply.body),
            (Completion::NoContent, None)
        );
    }

    #[tokio::test]
    async fn inputs_that_do_not_fit_name_their_field() {
        let add = UseCaseHandle::new("add", Criticality::Medium, Add);
        let failure = add
            .call(ctx(), &input(serde_json::json!({"a": "x", "b": 2})))
            .await
            .unwrap_err();
        assert_eq!(failure.kind(), ErrorKind::Invalid);
        assert!(failure.to_string().contains("`a`"), "{failure}");
        let failure = add
            .call(ctx(), &input(serde_json::json!({"a": 1})))
            .await
            .unwrap_err();
        assert_eq!(failure.details().unwrap()["errors"][0]["field"], "b");
    }

    #[tokio::test]
    async fn a_panic_fails_only_its_call() {
        let add = UseCaseHandle::new("add", Criticality::Medium, Add);
        let failure = add
            .call(ctx(), &input(serde_json::json!({"a": -1, "b": 2})))
            .await
            .unwrap_err();
        assert_eq!(failure.kind(), ErrorKind::Internal);
        assert_eq!(failure.code(), "panic");
        let reply = add
            .call(ctx(), &input(serde_json::json!({"a": 1, "b": 1})))
            .await;
        assert!(reply.is_ok());
    }

    #[tokio::test]
    async fn each_call_is_a_span_continuing_its_entry_points_trace() {
        let (tracer, spans) = crate::trace::MemoryTracer::recording();
        let slot = TracerSlot::default();
        assert!(slot.set(tracer).is_ok());
        let add = UseCaseHandle::new("add", Criticality::High, Add).with_tracer(slot);
        let remote = bisslog_core::TraceContext::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        let traced = Ctx::builder("add", Trigger::Http)
            .trace_parent(remote.clone())
            .build();
        add.call(traced.clone(), &input(serde_json::json!({"a": 1, "b": 2})))
            .await
            .unwrap();
        let failed = add.call(ctx(), &input(serde_json::json!({"a": "x", "b": 2})));
        assert!(failed.await.is_err());
        let finished = spans.finished();
        assert_eq!(finished.len(), 2);
        let call = &finished[0];
        assert_eq!(call.name, "add");
        assert_eq!(call.parent.as_ref(), Some(&remote));
        assert_eq!(traced.trace_context(), Some(&call.context));
        assert_eq!(call.attribute("bisslog.trigger"), Some("http"));
        assert_eq!(call.attribute("bisslog.criticality"), Some("high"));
        assert_eq!(call.attribute("bisslog.outcome"), Some("success"));
        let transaction = traced.transaction_id().to_string();
        assert_eq!(
            call.attribute("bisslog.transaction_id"),
            Some(transaction.as_str())
        );
        let failure = &finished[1];
        assert!(
            failure.parent.is_none(),
            "a call without a parent starts a trace"
        );
        assert_eq!(failure.attribute("bisslog.error.kind"), Some("invalid"));
        assert_eq!(
            failure.attribute("bisslog.error.code"),
            Some("invalid-input")
        );
        assert!(failure.error.is_some());
    }
}
