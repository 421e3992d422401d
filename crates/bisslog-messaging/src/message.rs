//! A message as the runtime sees it, whatever broker carried it.

use bisslog_core::{Event, TraceContext, TransactionId};
use bytes::Bytes;

/// Header names a message carries, the same on every broker (adapters map
/// the id to the broker's own field where it has one: `Nats-Msg-Id`, the
/// AMQP `message_id` property).
pub mod headers {
    /// The message id, unique per published event (redeliveries keep it).
    pub const MESSAGE_ID: &str = "message-id";
    /// The transaction that published it: the consumer's parent.
    pub const TRANSACTION_ID: &str = "transaction-id";
    /// The event type.
    pub const EVENT_TYPE: &str = "event-type";
    /// The ordering key (bisslog's `partition`).
    pub const KEY: &str = "key";
    /// On a dead-lettered message: why it was dead-lettered.
    pub const DEAD_LETTER_REASON: &str = "dead-letter-reason";
    /// On a dead-lettered message: `malformed`, `rejected` or
    /// `retries-exhausted`.
    pub const DEAD_LETTER_CAUSE: &str = "dead-letter-cause";
    /// On a dead-lettered message: the queue it came from.
    pub const DEAD_LETTER_QUEUE: &str = "dead-letter-queue";
    /// On a dead-lettered message: how many times it was delivered.
    pub const DEAD_LETTER_ATTEMPTS: &str = "dead-letter-attempts";
}

/// One message: an id, the publishing transaction, an optional type and
/// key, other headers, and the payload bytes (JSON when bisslog published
/// it; anything when another producer did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique per published event; the inbox deduplicates on it.
    pub id: String,
    /// The transaction id of the publisher.
    pub transaction_id: Option<String>,
    /// The event type.
    pub event_type: Option<String>,
    /// The ordering key.
    pub key: Option<String>,
    /// Any other headers, in order.
    pub headers: Vec<(String, String)>,
    /// The payload.
    pub payload: Bytes,
}

impl Message {
    /// A message with a new id and nothing but a payload.
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Self {
            id: new_message_id(),
            transaction_id: None,
            event_type: None,
            key: None,
            headers: Vec::new(),
            payload: payload.into(),
        }
    }

    /// The message for an event published by a use case: a new id, the
    /// current transaction id and trace context (`traceparent`,
    /// `tracestate`), the event's key and type.
    pub fn from_event(event: &Event) -> Self {
        let (transaction_id, trace) = crate::current::with(|ctx| match ctx {
            Some(ctx) => (
                Some(ctx.transaction_id().text().into_owned()),
                ctx.trace_context().cloned(),
            ),
            None => (None, None),
        });
        let mut message = Self {
            id: new_message_id(),
            transaction_id,
            event_type: event.event_type.clone(),
            key: event.key.clone(),
            headers: Vec::new(),
            payload: Bytes::copy_from_slice(event.payload.get().as_bytes()),
        };
        if let Some(trace) = trace {
            message.set_trace_context(&trace);
        }
        message
    }

    /// The trace the message continues, from its `traceparent` (and
    /// `tracestate`) headers: a bisslog publisher's or any other's.
    pub fn trace_context(&self) -> Option<TraceContext> {
        TraceContext::extract(|name| self.header(name))
    }

    /// Makes the message continue `trace` (replacing any trace headers it
    /// had): the outbox relay sends a stored event under its own span.
    pub fn set_trace_context(&mut self, trace: &TraceContext) {
        use bisslog_core::trace::{TRACEPARENT, TRACESTATE};
        self.headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case(TRACEPARENT) && !name.eq_ignore_ascii_case(TRACESTATE)
        });
        self.headers
            .push((TRACEPARENT.to_owned(), trace.traceparent()));
        if let Some(state) = trace.state() {
            self.headers.push((TRACESTATE.to_owned(), state.to_owned()));
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A header by name (in any case), the standard ones included.
    pub fn header(&self, name: &str) -> Option<&str> {
        if name.eq_ignore_ascii_case(headers::MESSAGE_ID) {
            return Some(&self.id);
        }
        if name.eq_ignore_ascii_case(headers::TRANSACTION_ID) {
            return self.transaction_id.as_deref();
        }
        if name.eq_ignore_ascii_case(headers::EVENT_TYPE) {
            return self.event_type.as_deref();
        }
        if name.eq_ignore_ascii_case(headers::KEY) {
            return self.key.as_deref();
        }
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header, the standard ones first, as a broker adapter writes
    /// them.
    pub fn all_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let standard = [
            (headers::MESSAGE_ID, Some(self.id.as_str())),
            (headers::TRANSACTION_ID, self.transaction_id.as_deref()),
            (headers::EVENT_TYPE, self.event_type.as_deref()),
            (headers::KEY, self.key.as_deref()),
        ];
        standard
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n, v)))
            .chain(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// Reads a message back from headers written by [`Message::all_headers`]
    /// (what broker adapters receive); `fallback_id` names a message that
    /// carries no id (one from a producer that is not bisslog).
    ///
    /// The first of repeated standard headers wins, so an adapter may put
    /// values from the broker's own fields (its message id property) first.
    #[inline]
    pub fn from_headers<'h, V: AsRef<str>>(
        payload: Bytes,
        headers: impl IntoIterator<Item = (&'h str, V)>,
        fallback_id: impl FnOnce() -> String,
    ) -> Self {
        let mut message = Self::bare(payload);
        for (name, value) in headers {
            message.read_header(name, || value.as_ref().to_owned());
        }
        message.or_id(fallback_id)
    }

    /// [`Message::from_headers`] from headers the adapter owns (names and
    /// values it has just decoded): they are moved into the message, not
    /// copied, so a delivery costs no allocation per header.
    #[inline]
    pub fn from_owned_headers(
        payload: Bytes,
        headers: impl IntoIterator<Item = (String, String)>,
        fallback_id: impl FnOnce() -> String,
    ) -> Self {
        let mut message = Self::bare(payload);
        for (name, value) in headers {
            message.read_header(name, || value);
        }
        message.or_id(fallback_id)
    }

    /// A message with no id or headers yet, for the readers above.
    #[inline]
    fn bare(payload: Bytes) -> Self {
        Self {
            id: String::new(),
            transaction_id: None,
            event_type: None,
            key: None,
            headers: Vec::new(),
            payload,
        }
    }

    /// Puts one received header in its place; the first of repeated
    /// standard headers wins. `value` is called only when it is kept.
    fn read_header<N>(&mut self, name: N, value: impl FnOnce() -> String)
    where
        N: AsRef<str> + Into<String>,
    {
        let standard = |wanted: &str| name.as_ref().eq_ignore_ascii_case(wanted);
        let slot = if standard(headers::MESSAGE_ID) {
            if self.id.is_empty() {
                self.id = value();
            }
            return;
        } else if standard(headers::TRANSACTION_ID) {
            &mut self.transaction_id
        } else if standard(headers::EVENT_TYPE) {
            &mut self.event_type
        } else if standard(headers::KEY) {
            &mut self.key
        } else {
            self.headers.push((name.into(), value()));
            return;
        };
        slot.get_or_insert_with(value);
    }

    /// The message, with `fallback_id()` as its id when it carried none.
    #[inline]
    fn or_id(mut self, fallback_id: impl FnOnce() -> String) -> Self {
        if self.id.is_empty() {
            self.id = fallback_id();
        }
        self
    }

    /// The copy of this message sent to a dead-letter queue: the same id
    /// and payload, with why, from where and after how many deliveries.
    pub fn dead_lettered(&self, reason: &DeadLetter, queue: &str) -> Message {
        let mut copy = self.clone();
        copy.headers.retain(|(n, _)| !n.starts_with("dead-letter-"));
        copy.headers.extend([
            (
                headers::DEAD_LETTER_REASON.to_owned(),
                one_line(&reason.reason),
            ),
            (
                headers::DEAD_LETTER_CAUSE.to_owned(),
                reason.cause.as_str().to_owned(),
            ),
            (headers::DEAD_LETTER_QUEUE.to_owned(), queue.to_owned()),
            (
                headers::DEAD_LETTER_ATTEMPTS.to_owned(),
                reason.attempts.to_string(),
            ),
        ]);
        copy
    }
}

/// Header values are single lines on every broker.
fn one_line(text: &str) -> String {
    const MAX: usize = 1024;
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > MAX {
        let mut end = MAX;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line
}

/// A new, unique message id.
pub fn new_message_id() -> String {
    TransactionId::generate().text().into_owned()
}

/// Why a message was dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// What went wrong, for people.
    pub reason: String,
    /// Which rule sent it there.
    pub cause: DeadLetterCause,
    /// How many times it was delivered.
    pub attempts: u32,
}

/// Which rule dead-lettered a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadLetterCause {
    /// It could not be read: not JSON, or not the use case's input.
    Malformed,
    /// The use case failed with a permanent error (invalid, not found, ...).
    Rejected,
    /// A transient error persisted through every retry.
    RetriesExhausted,
}

impl DeadLetterCause {
    /// The header value: `malformed`, `rejected`, `retries-exhausted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeadLetterCause::Malformed => "malformed",
            DeadLetterCause::Rejected => "rejected",
            DeadLetterCause::RetriesExhausted => "retries-exhausted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_through_a_broker() {
        let message = Message::new(&b"{}"[..])
            .with_header("x-tenant", "acme")
            .with_header("content-type", "application/json");
        let mut message = message;
        message.transaction_id = Some("t-1".into());
        message.event_type = Some("inserted".into());
        let written: Vec<(String, String)> = message
            .all_headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        let read = Message::from_headers(
            message.payload.clone(),
            written.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            || unreachable!("the id is in the headers"),
        );
        assert_eq!(read, message);
        assert_eq!(read.header("X-Tenant"), Some("acme"));
        assert_eq!(read.header("Message-Id"), Some(message.id.as_str()));
    }

    #[tokio::test]
    async fn published_events_carry_the_callers_trace() {
        let parent = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .map(|p| p.with_state("congo=t61rcWkgMzE"));
        let ctx = bisslog_core::Ctx::builder("insert", bisslog_core::Trigger::Http)
            .maybe_trace_parent(parent.clone())
            .build();
        let event = Event::json(&[1, 2]).unwrap_or_else(|e| unreachable!("{e}"));
        let message = crate::current::scope(ctx, async { Message::from_event(&event) }).await;
        assert_eq!(message.trace_context(), parent);
        assert_eq!(
            message.header("traceparent"),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        );
        let mut relayed = message.clone();
        let next = parent.and_then(|p| p.with_span_id([9; 8]));
        if let Some(next) = &next {
            relayed.set_trace_context(next);
        }
        assert_eq!(relayed.trace_context(), next);
        assert_eq!(relayed.headers.len(), 2, "replaced, not added");
        assert_eq!(Message::from_event(&event).trace_context(), None);
    }

    #[test]
    fn foreign_messages_get_the_fallback_id() {
        let read = Message::from_headers(Bytes::from_static(b"x"), [("x-other", "1")], || {
            "stream:7".into()
        });
        assert_eq!(read.id, "stream:7");
    }

    #[test]
    fn dead_letter_copies_say_why_on_one_line() {
        let message = Message::new(&b"oops"[..]);
        let reason = DeadLetter {
            reason: "not JSON:\nexpected value".into(),
            cause: DeadLetterCause::Malformed,
            attempts: 1,
        };
        let copy = message
            .dead_lettered(&reason, "orders")
            .dead_lettered(&reason, "orders");
        assert_eq!(copy.id, message.id);
        assert_eq!(
            copy.header("dead-letter-reason"),
            Some("not JSON: expected value")
        );
        assert_eq!(copy.header("dead-letter-cause"), Some("malformed"));
        assert_eq!(copy.header("dead-letter-queue"), Some("orders"));
        assert_eq!(
            copy.headers.len(),
            4,
            "re-dead-lettering replaces, not appends"
        );
    }
}
