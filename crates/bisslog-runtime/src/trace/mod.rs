//! Spans: one per use-case call, and one per request, message, relayed
//! event, schedule tick and Lambda invocation around it, in W3C traces that
//! cross services.
//!
//! A service has a [`Tracer`] when tracing is configured (the runner does
//! it from the `OTEL_*` variables with the `otlp` feature, see
//! [`otlp`](self#otlp)); without one, nothing is recorded and nothing is
//! paid except carrying an incoming `traceparent` on to what the call
//! publishes. Entry points open their span with [`Tracer::start`] and give
//! its context to the call's [`Ctx`](bisslog_core::Ctx) as the trace parent;
//! the use-case span is opened by [`UseCaseHandle::call`](crate::UseCaseHandle::call).
//!
//! [`MemoryTracer`] records finished spans in memory, for tests:
//!
//! ```
//! use bisslog_runtime::trace::{MemoryTracer, SpanKind, SpanStart};
//!
//! let (tracer, spans) = MemoryTracer::recording();
//! let mut span = tracer.start(SpanStart::new("GET /hello/{name}", SpanKind::Server)
//!     .attribute("http.route", "/hello/{name}"));
//! span.set_attribute("http.response.status_code", 200_i64);
//! let context = span.context().cloned();
//! span.end();
//! let finished = spans.finished();
//! assert_eq!(finished[0].name, "GET /hello/{name}");
//! assert_eq!(Some(&finished[0].context), context.as_ref());
//! ```
//!
//! # OTLP
//!
//! With the `otlp` feature, `otlp::from_env` builds a tracer exporting
//! over OTLP/HTTP (and gRPC with `otlp-grpc`) from the standard variables:
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
//! turns it on, `OTEL_EXPORTER_OTLP_PROTOCOL` picks `http/protobuf` or
//! `grpc`, `OTEL_SERVICE_NAME` names the service (the metadata's name
//! otherwise), `OTEL_TRACES_SAMPLER`/`_ARG` sample, `OTEL_BSP_*` tune the
//! batches, `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it
//! off.

mod memory;
#[cfg(feature = "otlp")]
pub mod otlp;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bisslog_core::{ErrorKind, TraceContext};

pub use memory::{FinishedSpan, MemoryTracer, RecordedSpans};

/// What a span stands for, as OpenTelemetry's span kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// A request served (HTTP, WebSocket, Lambda).
    Server,
    /// A request made to another service.
    Client,
    /// A message sent (a publish, a relayed event).
    Producer,
    /// A message processed.
    Consumer,
    /// Work inside the service (a use-case call, a schedule tick).
    Internal,
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text known at compile time.
    Static(&'static str),
    /// Shared text (a keyname).
    Shared(Arc<str>),
    /// Text made for this span.
    Owned(String),
    /// A number.
    Int(i64),
    /// A flag.
    Bool(bool),
}

impl From<&'static str> for Value {
    fn from(value: &'static str) -> Self {
        Value::Static(value)
    }
}

impl From<Arc<str>> for Value {
    fn from(value: Arc<str>) -> Self {
        Value::Shared(value)
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Owned(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Self {
        Value::Int(i64::from(value))
    }
}

impl From<u16> for Value {
    fn from(value: u16) -> Self {
        Value::Int(i64::from(value))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Static(text) => f.write_str(text),
            Value::Shared(text) => f.write_str(text),
            Value::Owned(text) => f.write_str(text),
            Value::Int(number) => write!(f, "{number}"),
            Value::Bool(flag) => write!(f, "{flag}"),
        }
    }
}

/// The attribute names bisslog uses where OpenTelemetry's semantic
/// conventions have none, and the conventions' own that the runtime sets
/// (`messaging.*`, `error.type`).
pub mod attributes {
    /// The use case's keyname.
    pub const USE_CASE: &str = "bisslog.use_case";
    /// What triggered the call (`http`, `consumer`, `schedule`, ...).
    pub const TRIGGER: &str = "bisslog.trigger";
    /// The use case's criticality from the metadata.
    pub const CRITICALITY: &str = "bisslog.criticality";
    /// The bisslog transaction id of the call.
    pub const TRANSACTION_ID: &str = "bisslog.transaction_id";
    /// `success` or `failure`.
    pub const OUTCOME: &str = "bisslog.outcome";
    /// The failure's kind (`invalid`, `not_found`, ...).
    pub const ERROR_KIND: &str = "bisslog.error.kind";
    /// The failure's code (`schema-not-found`, ...).
    pub const ERROR_CODE: &str = "bisslog.error.code";
    /// The schedule a tick belongs to.
    pub const SCHEDULE: &str = "bisslog.schedule";
    /// The delivery attempt of a message (1 for the first).
    pub const ATTEMPT: &str = "bisslog.attempt";
    /// How a consumed message was settled: `ack`, `retry`, `dead-letter`
    /// or `duplicate`.
    pub const SETTLEMENT: &str = "bisslog.settlement";
    /// When a schedule tick was due, as RFC 3339 text.
    pub const SCHEDULED_TIME: &str = "bisslog.scheduled_time";
    /// OpenTelemetry's `messaging.system`: the broker.
    pub const MESSAGING_SYSTEM: &str = "messaging.system";
    /// OpenTelemetry's `messaging.destination.name`: the queue.
    pub const MESSAGING_DESTINATION: &str = "messaging.destination.name";
    /// OpenTelemetry's `messaging.operation.type`: `process`, `send`.
    pub const MESSAGING_OPERATION: &str = "messaging.operation.type";
    /// OpenTelemetry's `messaging.message.id`.
    pub const MESSAGING_MESSAGE_ID: &str = "messaging.message.id";
    /// OpenTelemetry's `error.type`.
    pub const ERROR_TYPE: &str = "error.type";
}

/// How a span starts: its name, kind, parent, attributes and links.
#[derive(Debug, Clone)]
pub struct SpanStart {
    /// The span's name (`GET /company/{id}`, `insert_company_data`).
    pub name: Cow<'static, str>,
    /// What it stands for.
    pub kind: SpanKind,
    /// The span it continues; `None` starts a new trace.
    pub parent: Option<TraceContext>,
    /// Attributes known at the start.
    pub attributes: Vec<(&'static str, Value)>,
    /// Spans it is linked to without being their child.
    pub links: Vec<TraceContext>,
}

impl SpanStart {
    /// A span of a new trace, with no attributes.
    pub fn new(name: impl Into<Cow<'static, str>>, kind: SpanKind) -> Self {
        Self {
            name: name.into(),
            kind,
            parent: None,
            attributes: Vec::with_capacity(8),
            links: Vec::new(),
        }
    }

    /// Continues `parent`'s trace, when there is one.
    #[must_use]
    pub fn parent(mut self, parent: Option<&TraceContext>) -> Self {
        self.parent = parent.cloned();
        self
    }

    /// Adds an attribute.
    #[must_use]
    pub fn attribute(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.attributes.push((key, value.into()));
        self
    }

    /// Links the span to another (the call that produced a relayed event).
    #[must_use]
    pub fn link(mut self, context: TraceContext) -> Self {
        self.links.push(context);
        self
    }
}

/// Where spans go: OTLP, memory, or your own.
pub trait Backend: Send + Sync + 'static {
    /// Starts a span.
    fn start(&self, start: SpanStart) -> Box<dyn ActiveSpan>;

    /// Sends the spans ended so far that are still queued, blocking until
    /// they are sent or a timeout of the backend's own passes. Nothing to
    /// do for a backend that does not batch (the default).
    ///
    /// # Errors
    ///
    /// The spans could not be sent in time.
    fn flush(&self) -> Result<(), FlushError> {
        Ok(())
    }
}

/// Why the spans queued could not be sent.
#[derive(Debug, thiserror::Error)]
#[error("the spans could not be flushed: {0}")]
pub struct FlushError(pub String);

/// A started span, as a [`Backend`] keeps it until it ends.
pub trait ActiveSpan: Send + Sync {
    /// Its place in the trace, for children and for what is sent on.
    fn context(&self) -> Option<&TraceContext>;
    /// Adds an attribute.
    fn set_attribute(&mut self, key: &'static str, value: Value);
    /// Marks it failed, with a description.
    fn set_error(&mut self, description: String);
    /// Ends it now.
    fn end(self: Box<Self>);
}

/// The handle entry points open spans with; cheap to clone.
#[derive(Clone)]
pub struct Tracer(Arc<dyn Backend>);

impl Tracer {
    /// A tracer sending its spans to `backend`.
    pub fn new(backend: impl Backend) -> Self {
        Self(Arc::new(backend))
    }

    /// Starts a span.
    pub fn start(&self, start: SpanStart) -> Span {
        Span(Some(self.0.start(start)))
    }

    /// Sends the spans ended so far that the backend still queues, where an
    /// execution environment may be frozen once a call returns (AWS Lambda
    /// between invocations). It blocks (the OTLP backend up to five
    /// seconds): call it off the async threads.
    ///
    /// # Errors
    ///
    /// The spans could not be sent in time.
    pub fn flush(&self) -> Result<(), FlushError> {
        self.0.flush()
    }
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tracer")
    }
}

/// A service's tracer, shared with its use-case handles and set at most
/// once: entry points built before the runner turned tracing on still see
/// it.
#[derive(Clone, Default, Debug)]
pub(crate) struct TracerSlot(Arc<std::sync::OnceLock<Tracer>>);

impl TracerSlot {
    pub(crate) fn get(&self) -> Option<&Tracer> {
        self.0.get()
    }

    pub(crate) fn set(&self, tracer: Tracer) -> Result<(), Tracer> {
        self.0.set(tracer)
    }
}

/// A started span; it ends when [`Span::end`] is called or it is dropped.
/// [`Span::none`] stands for "not traced" and does nothing.
pub struct Span(Option<Box<dyn ActiveSpan>>);

impl Span {
    /// No span: every method does nothing.
    pub const fn none() -> Self {
        Self(None)
    }

    /// A span from `tracer`, built only when there is one: without a
    /// tracer this costs a branch.
    pub fn start(tracer: Option<&Tracer>, start: impl FnOnce() -> SpanStart) -> Self {
        match tracer {
            Some(tracer) => tracer.start(start()),
            None => Self::none(),
        }
    }

    /// Whether this is a real span.
    pub fn is_recording(&self) -> bool {
        self.0.is_some()
    }

    /// Its place in the trace; `None` for [`Span::none`].
    pub fn context(&self) -> Option<&TraceContext> {
        self.0.as_ref().and_then(|span| span.context())
    }

    /// Adds an attribute.
    pub fn set_attribute(&mut self, key: &'static str, value: impl Into<Value>) {
        if let Some(span) = &mut self.0 {
            span.set_attribute(key, value.into());
        }
    }

    /// Marks it failed.
    pub fn set_error(&mut self, description: impl Into<String>) {
        if let Some(span) = &mut self.0 {
            span.set_error(description.into());
        }
    }

    /// Records a use case's outcome: `bisslog.outcome`, and on failure the
    /// error's kind and code, OpenTelemetry's `error.type` and an error
    /// status with the message.
    pub fn record_outcome(&mut self, failure: Option<(ErrorKind, &str, &dyn fmt::Display)>) {
        let Some(span) = &mut self.0 else { return };
        match failure {
            None => span.set_attribute(attributes::OUTCOME, Value::Static("success")),
            Some((kind, code, message)) => {
                span.set_attribute(attributes::OUTCOME, Value::Static("failure"));
                span.set_attribute(attributes::ERROR_KIND, Value::Static(kind_name(kind)));
                span.set_attribute(attributes::ERROR_CODE, Value::Owned(code.to_owned()));
                span.set_attribute(attributes::ERROR_TYPE, Value::Static(kind_name(kind)));
                span.set_error(message.to_string());
            }
        }
    }

    /// Ends it now.
    pub fn end(mut self) {
        if let Some(span) = self.0.take() {
            span.end();
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(span) = self.0.take() {
            span.end();
        }
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Span").field(&self.context()).finish()
    }
}

/// The trace of the use-case call being polled, if any: what an adapter
/// calling another service over HTTP sends on as `traceparent` (and
/// `tracestate`), so the callee's spans join the caller's trace.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use bisslog_core::{Ctx, TraceContext, Trigger};
///
/// let parent = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// let ctx = Ctx::builder("import", Trigger::Http).maybe_trace_parent(parent.clone()).build();
/// let seen = bisslog_messaging::current::scope(ctx, async {
///     bisslog_runtime::trace::current_context()
/// })
/// .await;
/// assert_eq!(seen, parent);
/// assert!(bisslog_runtime::trace::current_context().is_none());
/// # }
/// ```
pub fn current_context() -> Option<TraceContext> {
    bisslog_messaging::current::with(|ctx| ctx.and_then(|ctx| ctx.trace_context().cloned()))
}

/// The snake-case name of an error kind, as the metrics and problem
/// documents spell it.
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    crate::metrics::error_kind_label(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tracer_means_no_span_and_no_work() {
        let mut built = false;
        let mut span = Span::start(None, || {
            built = true;
            SpanStart::new("x", SpanKind::Internal)
        });
        assert!(!built);
        assert!(!span.is_recording());
        span.set_attribute("a", 1_i64);
        assert!(span.context().is_none());
    }

    #[test]
    fn children_continue_their_parent_and_outcomes_are_recorded() {
        let (tracer, spans) = MemoryTracer::recording();
        let parent = tracer.start(SpanStart::new("parent", SpanKind::Server));
        let parent_context = parent.context().cloned();
        let mut child = tracer
            .start(SpanStart::new("child", SpanKind::Internal).parent(parent_context.as_ref()));
        child.record_outcome(Some((
            ErrorKind::NotFound,
            "schema-not-found",
            &"no such schema",
        )));
        child.end();
        parent.end();
        let finished = spans.finished();
        assert_eq!(finished.len(), 2);
        let (child, parent) = (&finished[0], &finished[1]);
        assert_eq!(child.parent.as_ref(), Some(&parent.context));
        assert_eq!(child.context.trace_id(), parent.context.trace_id());
        assert_eq!(child.attribute("bisslog.error.kind"), Some("not_found"));
        assert_eq!(
            child.attribute("bisslog.error.code"),
            Some("schema-not-found")
        );
        assert_eq!(child.error.as_deref(), Some("no such schema"));
        assert!(parent.parent.is_none());
    }
}
