//! A tracer that keeps finished spans in memory, for tests.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bisslog_core::TraceContext;

use super::{ActiveSpan, Backend, SpanKind, SpanStart, Tracer, Value};

/// A span that ended, as [`MemoryTracer`] recorded it.
#[derive(Debug, Clone)]
pub struct FinishedSpan {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: SpanKind,
    /// Its place in the trace.
    pub context: TraceContext,
    /// The span it continued, if any.
    pub parent: Option<TraceContext>,
    /// Its links.
    pub links: Vec<TraceContext>,
    /// Its attributes, in the order they were set.
    pub attributes: Vec<(&'static str, Value)>,
    /// The error description, when it failed.
    pub error: Option<String>,
    /// How long it lasted.
    pub duration: Duration,
}

impl FinishedSpan {
    /// The last value set for `key`, as text.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .and_then(|(_, value)| match value {
                Value::Static(text) => Some(*text),
                Value::Shared(text) => Some(&**text),
                Value::Owned(text) => Some(text.as_str()),
                Value::Int(_) | Value::Bool(_) => None,
            })
    }

    /// The value set for `key`, whatever its type.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value)
    }
}

/// The spans a [`MemoryTracer`] recorded, shared with the test.
#[derive(Debug, Clone, Default)]
pub struct RecordedSpans(Arc<Mutex<Vec<FinishedSpan>>>);

impl RecordedSpans {
    /// The spans finished so far, in the order they ended.
    pub fn finished(&self) -> Vec<FinishedSpan> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The first finished span named `name`.
    pub fn named(&self, name: &str) -> Option<FinishedSpan> {
        self.finished().into_iter().find(|span| span.name == name)
    }
}

/// A [`Backend`] recording every span, sampled, in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryTracer {
    spans: RecordedSpans,
}

impl MemoryTracer {
    /// A tracer and the spans it will record.
    pub fn recording() -> (Tracer, RecordedSpans) {
        let backend = MemoryTracer::default();
        let spans = backend.spans.clone();
        (Tracer::new(backend), spans)
    }
}

impl Backend for MemoryTracer {
    fn start(&self, start: SpanStart) -> Box<dyn ActiveSpan> {
        let context = match &start.parent {
            Some(parent) => parent.new_span(),
            None => TraceContext::generate(),
        };
        Box::new(MemorySpan {
            spans: self.spans.clone(),
            started: Instant::now(),
            span: FinishedSpan {
                name: start.name.into_owned(),
                kind: start.kind,
                context,
                parent: start.parent,
                links: start.links,
                attributes: start.attributes,
                error: None,
                duration: Duration::ZERO,
            },
        })
    }
}

struct MemorySpan {
    spans: RecordedSpans,
    started: Instant,
    span: FinishedSpan,
}

impl ActiveSpan for MemorySpan {
    fn context(&self) -> Option<&TraceContext> {
        Some(&self.span.context)
    }

    fn set_attribute(&mut self, key: &'static str, value: Value) {
        self.span.attributes.push((key, value));
    }

    fn set_error(&mut self, description: String) {
        self.span.error = Some(description);
    }

    fn end(self: Box<Self>) {
        let MemorySpan {
            spans,
            started,
            mut span,
        } = *self;
        span.duration = started.elapsed();
        spans
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(span);
    }
}
