//! What a span is while it runs and once it has ended: the record the
//! exporter encodes, and the [`ActiveSpan`]s the backend hands out.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bisslog_core::TraceContext;

use super::super::{ActiveSpan, Backend, FlushError, SpanKind, SpanStart, Value};
use super::batch::Queue;
use super::sampler::Sampler;

/// A span's data, encoded into the export queue when it ends.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) name: Cow<'static, str>,
    pub(super) kind: SpanKind,
    pub(super) context: TraceContext,
    pub(super) parent_span_id: Option<[u8; 8]>,
    /// Nanoseconds since the Unix epoch.
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) attributes: Vec<(&'static str, Value)>,
    pub(super) links: Vec<TraceContext>,
    /// The error status's message, for failed spans.
    pub(super) error: Option<String>,
}

/// The backend: samples, times and queues spans.
pub(super) struct Exporting {
    pub(super) sampler: Sampler,
    pub(super) queue: Arc<Queue>,
}

impl Backend for Exporting {
    fn start(&self, start: SpanStart) -> Box<dyn ActiveSpan> {
        let context = match &start.parent {
            Some(parent) => parent.new_span(),
            None => TraceContext::generate(),
        };
        let sampled = self
            .sampler
            .sampled(start.parent.as_ref(), &context.trace_id());
        let context = context.with_sampled(sampled);
        if !sampled {
            // Not recorded: the context still travels, saying so.
            return Box::new(NotRecorded(context));
        }
        Box::new(Recording {
            record: Record {
                name: start.name,
                kind: start.kind,
                parent_span_id: start.parent.map(|parent| parent.span_id()),
                context,
                start: now(),
                end: 0,
                attributes: start.attributes,
                links: start.links,
                error: None,
            },
            queue: Arc::clone(&self.queue),
        })
    }

    fn flush(&self) -> Result<(), FlushError> {
        self.queue.flush().map_err(|e| FlushError(e.to_string()))
    }
}

/// A sampled span until it ends.
struct Recording {
    record: Record,
    queue: Arc<Queue>,
}

impl ActiveSpan for Recording {
    fn context(&self) -> Option<&TraceContext> {
        Some(&self.record.context)
    }

    fn set_attribute(&mut self, key: &'static str, value: Value) {
        self.record.attributes.push((key, value));
    }

    fn set_error(&mut self, description: String) {
        self.record.error = Some(description);
    }

    fn end(self: Box<Self>) {
        let Recording { mut record, queue } = *self;
        record.end = now();
        queue.push(&record);
    }
}

/// A span the sampler left out: it has a context and records nothing.
struct NotRecorded(TraceContext);

impl ActiveSpan for NotRecorded {
    fn context(&self) -> Option<&TraceContext> {
        Some(&self.0)
    }

    fn set_attribute(&mut self, _: &'static str, _: Value) {}

    fn set_error(&mut self, _: String) {}

    fn end(self: Box<Self>) {}
}

/// Nanoseconds since the Unix epoch (0 before it).
pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
