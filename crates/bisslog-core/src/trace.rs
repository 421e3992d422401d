//! Which distributed trace a call belongs to: the W3C Trace Context
//! (`traceparent`, `tracestate`) that travels with a request or a message
//! from one service to the next.
//!
//! A [`Ctx`](crate::Ctx) carries the trace context its entry point received
//! and, once the runtime has opened the call's span, that span's. Events a
//! use case publishes carry it on, so a consumer continues the producer's
//! trace. The bisslog transaction id travels beside it, unchanged.
//!
//! The parser is written here rather than taken from the `opentelemetry`
//! crate so that domain crates, which depend on this crate only, stay free
//! of telemetry dependencies; the format is one fixed-width line.
//!
//! ```
//! use bisslog_core::trace::TraceContext;
//!
//! let parent = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
//! assert!(parent.sampled());
//! assert_eq!(parent.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(parent.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//! assert!(TraceContext::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
//! ```

use std::fmt;
use std::sync::Arc;

/// The header (HTTP) or message header (brokers) of the trace context.
pub const TRACEPARENT: &str = "traceparent";
/// The header carrying vendors' trace state, passed on unchanged.
pub const TRACESTATE: &str = "tracestate";

/// The longest `tracestate` passed on (W3C: 32 members of at most 256
/// bytes would be longer, but vendors are told to keep it under 512).
const MAX_TRACESTATE: usize = 512;

/// One span's place in a trace: the trace id, the span id, whether the
/// trace is sampled, and the vendors' `tracestate`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
    state: Option<Arc<str>>,
}

/// The `sampled` bit of the trace flags.
const SAMPLED: u8 = 0x01;

impl TraceContext {
    /// A context from its ids; `None` when either is all zeros (invalid
    /// in W3C Trace Context).
    pub fn new(trace_id: [u8; 16], span_id: [u8; 8], sampled: bool) -> Option<Self> {
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            flags: if sampled { SAMPLED } else { 0 },
            state: None,
        })
    }

    /// A new trace's root context (sampled), with fresh ids: for the
    /// recorders of tests and for entry points that start traces without a
    /// tracing backend.
    pub fn generate() -> Self {
        Self {
            trace_id: crate::transaction::random_u128().max(1).to_be_bytes(),
            span_id: new_span_id(),
            flags: SAMPLED,
            state: None,
        }
    }

    /// The same trace, continued by a new span with a fresh id.
    #[must_use]
    pub fn new_span(&self) -> Self {
        Self {
            span_id: new_span_id(),
            ..self.clone()
        }
    }

    /// The same context, marked sampled or not (a sampler's decision).
    #[must_use]
    pub fn with_sampled(mut self, sampled: bool) -> Self {
        self.flags = if sampled {
            self.flags | SAMPLED
        } else {
            self.flags & !SAMPLED
        };
        self
    }

    /// Reads a `traceparent` value; `None` when it is not a valid one
    /// (the receiver then starts a new trace, as the specification says).
    ///
    /// Version `00` must be exactly 55 characters; a later version may
    /// append fields after a `-`, which are ignored; version `ff` is
    /// invalid.
    pub fn parse(traceparent: &str) -> Option<Self> {
        let value = traceparent.trim().as_bytes();
        if value.len() < 55 || value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return None;
        }
        let version = hex_byte(&value[0..2])?;
        match version {
            0xff => return None,
            0x00 if value.len() != 55 => return None,
            _ if value.len() > 55 && value[55] != b'-' => return None,
            _ => {}
        }
        let mut trace_id = [0; 16];
        for (i, byte) in trace_id.iter_mut().enumerate() {
            *byte = hex_byte(&value[3 + 2 * i..5 + 2 * i])?;
        }
        let mut span_id = [0; 8];
        for (i, byte) in span_id.iter_mut().enumerate() {
            *byte = hex_byte(&value[36 + 2 * i..38 + 2 * i])?;
        }
        let flags = hex_byte(&value[53..55])?;
        let mut context = Self::new(trace_id, span_id, false)?;
        context.flags = flags;
        Some(context)
    }

    /// Adds the `tracestate` received with the `traceparent`; a value too
    /// long or not printable ASCII is dropped, as the specification allows.
    #[must_use]
    pub fn with_state(mut self, tracestate: &str) -> Self {
        let tracestate = tracestate.trim();
        self.state = (!tracestate.is_empty()
            && tracestate.len() <= MAX_TRACESTATE
            && tracestate.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .then(|| Arc::from(tracestate));
        self
    }

    /// Reads `traceparent` and, when present, `tracestate` from a lookup
    /// of headers (HTTP, message headers, Lambda attributes).
    pub fn extract<'a>(mut header: impl FnMut(&str) -> Option<&'a str>) -> Option<Self> {
        let context = Self::parse(header(TRACEPARENT)?)?;
        Some(match header(TRACESTATE) {
            Some(state) => context.with_state(state),
            None => context,
        })
    }

    /// The same trace, continued by another span (`span_id`), keeping the
    /// flags and the state.
    pub fn with_span_id(&self, span_id: [u8; 8]) -> Option<Self> {
        (span_id != [0; 8]).then(|| Self {
            span_id,
            ..self.clone()
        })
    }

    /// The trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The span id.
    pub fn span_id(&self) -> [u8; 8] {
        self.span_id
    }

    /// The trace flags (bit 0: sampled).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the trace is sampled: its spans are recorded somewhere.
    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The vendors' `tracestate`, when one came with the trace.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The trace id as 32 lower-case hex digits (the log lines' `trace_id`).
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id as 16 lower-case hex digits (the log lines' `span_id`).
    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }

    /// The `traceparent` value: `00-<trace id>-<span id>-<flags>`.
    pub fn traceparent(&self) -> String {
        let mut out = String::with_capacity(55);
        out.push_str("00-");
        push_hex(&mut out, &self.trace_id);
        out.push('-');
        push_hex(&mut out, &self.span_id);
        out.push('-');
        push_hex(&mut out, &[self.flags]);
        out
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceContext")
            .field("traceparent", &self.traceparent())
            .field("tracestate", &self.state)
            .finish()
    }
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent())
    }
}

/// A fresh, non-zero span id.
fn new_span_id() -> [u8; 8] {
    let bits = crate::transaction::random_u128() as u64;
    (bits.max(1)).to_be_bytes()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    // Lower case only: the specification forbids upper-case hex.
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    Some(digit(pair[0])? << 4 | digit(pair[1])?)
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn valid_values_round_trip() {
        let context = TraceContext::parse(VALID).unwrap();
        assert_eq!(context.traceparent(), VALID);
        assert_eq!(context.span_id_hex(), "00f067aa0ba902b7");
        assert!(context.sampled());
        let unsampled = TraceContext::parse(&VALID.replace("-01", "-00")).unwrap();
        assert!(!unsampled.sampled());
    }

    #[test]
    fn invalid_values_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47é6-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn later_versions_may_append_fields() {
        let later = format!("01{}-what-comes-next", &VALID[2..]);
        let context = TraceContext::parse(&later).unwrap();
        assert_eq!(context.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(TraceContext::parse(&format!("01{}x", &VALID[2..])).is_none());
    }

    #[test]
    fn state_is_kept_when_printable_and_short() {
        let headers = [(TRACEPARENT, VALID), (TRACESTATE, "congo=t61rcWkgMzE")];
        let lookup = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let context = TraceContext::extract(lookup).unwrap();
        assert_eq!(context.state(), Some("congo=t61rcWkgMzE"));
        let long = "a=".to_owned() + &"b".repeat(600);
        assert_eq!(context.clone().with_state(&long).state(), None);
        assert_eq!(context.with_state("a=\u{7}").state(), None);
    }

    #[test]
    fn a_new_span_keeps_the_trace() {
        let context = TraceContext::parse(VALID).unwrap().with_state("a=b");
        let next = context.with_span_id([1; 8]).unwrap();
        assert_eq!(next.trace_id(), context.trace_id());
        assert_eq!(next.span_id_hex(), "0101010101010101");
        assert_eq!(next.state(), Some("a=b"));
        assert!(context.with_span_id([0; 8]).is_none());
    }
}
