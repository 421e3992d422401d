//! Spans written as an OTLP `ExportTraceServiceRequest`, straight from
//! bisslog's records to protobuf bytes.
//!
//! Why by hand: the OpenTelemetry SDK first copies every span into its own
//! structures, then into the generated protobuf types (a `String` for
//! every attribute key), then encodes them, measuring nested lengths again
//! at every level; that conversion was 92% of the exporter's time and two
//! thirds of tracing's cost per request (docs/benchmarks.md). Here a span
//! is written once, its keys copied from `&'static str`, lengths computed
//! from the values. The wire primitives are a few lines (prost has them,
//! but outside its stable API); the tests decode every field back with
//! the generated types of `opentelemetry-proto`, so a mistake cannot pass.

use bisslog_core::TraceContext;

use super::super::{SpanKind, Value};
use super::record::Record;

/// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

// The helpers below are inlined: they run a few dozen times per span, and
// a call costs more than their bodies.

#[inline(always)]
fn key(buf: &mut Vec<u8>, field: u32, wire: u32) {
    let tag = field << 3 | wire;
    if tag < 0x80 {
        buf.push(tag as u8);
    } else {
        varint(buf, u64::from(tag));
    }
}

#[inline(always)]
fn varint(buf: &mut Vec<u8>, mut value: u64) {
    if value < 0x80 {
        buf.push(value as u8);
        return;
    }
    while value >= 0x80 {
        // Seven bits at a time, the high bit saying "more follow".
        buf.push((value as u8) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

#[inline(always)]
const fn varint_len(value: u64) -> usize {
    // One byte per started group of seven bits, at least one.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

#[inline(always)]
const fn key_len(field: u32) -> usize {
    varint_len((field << 3) as u64)
}

#[inline(always)]
fn bytes(buf: &mut Vec<u8>, field: u32, value: &[u8]) {
    key(buf, field, LEN);
    varint(buf, value.len() as u64);
    buf.extend_from_slice(value);
}

#[inline(always)]
const fn bytes_len(field: u32, len: usize) -> usize {
    key_len(field) + varint_len(len as u64) + len
}

#[inline(always)]
fn fixed64(buf: &mut Vec<u8>, field: u32, value: u64) {
    key(buf, field, FIXED64);
    buf.extend_from_slice(&value.to_le_bytes());
}

#[inline(always)]
fn fixed32(buf: &mut Vec<u8>, field: u32, value: u32) {
    key(buf, field, FIXED32);
    buf.extend_from_slice(&value.to_le_bytes());
}

/// A length-delimited field whose body is `len` bytes, written next.
#[inline(always)]
fn message_header(buf: &mut Vec<u8>, field: u32, len: usize) {
    key(buf, field, LEN);
    varint(buf, len as u64);
}

/// `AnyValue`'s encoded length and writer.
#[inline(always)]
fn value_len(value: &Value) -> usize {
    match value {
        Value::Static(text) => bytes_len(1, text.len()),
        Value::Shared(text) => bytes_len(1, text.len()),
        Value::Owned(text) => bytes_len(1, text.len()),
        Value::Bool(_) => key_len(2) + 1,
        Value::Int(number) => key_len(3) + varint_len(*number as u64),
    }
}

#[inline(always)]
fn value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Static(text) => bytes(buf, 1, text.as_bytes()),
        Value::Shared(text) => bytes(buf, 1, text.as_bytes()),
        Value::Owned(text) => bytes(buf, 1, text.as_bytes()),
        Value::Bool(flag) => {
            key(buf, 2, VARINT);
            buf.push(u8::from(*flag));
        }
        Value::Int(number) => {
            key(buf, 3, VARINT);
            // int64 is written as its two's complement bits.
            varint(buf, *number as u64);
        }
    }
}

/// A `KeyValue` body's length.
#[inline(always)]
fn key_value_len(name: &str, item: &Value) -> usize {
    bytes_len(1, name.len()) + bytes_len(2, value_len(item))
}

/// A `KeyValue` as field `field` of its parent.
#[inline(always)]
fn key_value(buf: &mut Vec<u8>, field: u32, name: &str, item: &Value) {
    message_header(buf, field, key_value_len(name, item));
    bytes(buf, 1, name.as_bytes());
    message_header(buf, 2, value_len(item));
    value(buf, item);
}

fn kind(kind: SpanKind) -> u8 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn link_len(link: &TraceContext) -> usize {
    bytes_len(1, 16)
        + bytes_len(2, 8)
        + link.state().map_or(0, |state| bytes_len(3, state.len()))
        + key_len(6)
        + 4
}

fn link(buf: &mut Vec<u8>, link: &TraceContext) {
    message_header(buf, 13, link_len(link));
    bytes(buf, 1, &link.trace_id());
    bytes(buf, 2, &link.span_id());
    if let Some(state) = link.state() {
        bytes(buf, 3, state.as_bytes());
    }
    fixed32(buf, 6, u32::from(link.flags()));
}

/// `Status { message = 2; code = 3 }`'s body length for a failure.
fn status_len(message: &str) -> usize {
    bytes_len(2, message.len()) + key_len(3) + 1
}

/// A `Span` body's length, computed from the values so the span is
/// written once, straight into the batch.
fn span_len(record: &Record) -> usize {
    let context = &record.context;
    let mut len = bytes_len(1, 16)
        + bytes_len(2, 8)
        + context.state().map_or(0, |state| bytes_len(3, state.len()))
        + record.parent_span_id.map_or(0, |_| bytes_len(4, 8))
        + bytes_len(5, record.name.len())
        + key_len(6)
        + 1
        + 2 * (key_len(7) + 8)
        + key_len(16)
        + 4;
    for (name, item) in &record.attributes {
        len += bytes_len(9, key_value_len(name, item));
    }
    for linked in &record.links {
        len += bytes_len(13, link_len(linked));
    }
    if let Some(message) = &record.error {
        len += bytes_len(15, status_len(message));
    }
    len
}

/// Appends `record` as field 2 (`spans`) of a `ScopeSpans`.
pub(super) fn span(out: &mut Vec<u8>, record: &Record) {
    let len = span_len(record);
    out.reserve(bytes_len(2, len));
    message_header(out, 2, len);
    let buf = out;
    let context = &record.context;
    bytes(buf, 1, &context.trace_id());
    bytes(buf, 2, &context.span_id());
    if let Some(state) = context.state() {
        bytes(buf, 3, state.as_bytes());
    }
    if let Some(parent) = &record.parent_span_id {
        bytes(buf, 4, parent);
    }
    bytes(buf, 5, record.name.as_bytes());
    key(buf, 6, VARINT);
    // Every kind is a one-byte varint.
    buf.push(kind(record.kind));
    fixed64(buf, 7, record.start);
    fixed64(buf, 8, record.end);
    for (name, item) in &record.attributes {
        key_value(buf, 9, name, item);
    }
    for linked in &record.links {
        link(buf, linked);
    }
    if let Some(message) = &record.error {
        message_header(buf, 15, status_len(message));
        bytes(buf, 2, message.as_bytes());
        // STATUS_CODE_ERROR
        key(buf, 3, VARINT);
        buf.push(2);
    }
    fixed32(buf, 16, u32::from(context.flags()));
}

/// The parts of a request that are the same for every batch: the
/// `Resource` and the `InstrumentationScope`, encoded once.
#[derive(Debug)]
pub(super) struct Envelope {
    /// `ResourceSpans.resource` (field 1), with its key and length.
    resource: Vec<u8>,
    /// `ScopeSpans.scope` (field 1), with its key and length.
    scope: Vec<u8>,
}

impl Envelope {
    /// The envelope of a service's spans: its resource attributes (the
    /// `service.name` first) and bisslog's instrumentation scope.
    pub(super) fn new(resource: &[(String, String)]) -> Self {
        let mut attributes = Vec::new();
        for (name, text) in resource {
            key_value(&mut attributes, 1, name, &Value::Owned(text.clone()));
        }
        let mut resource = Vec::new();
        message_header(&mut resource, 1, attributes.len());
        resource.extend_from_slice(&attributes);
        let name = super::SCOPE;
        let version = env!("CARGO_PKG_VERSION");
        let mut scope = Vec::new();
        message_header(
            &mut scope,
            1,
            bytes_len(1, name.len()) + bytes_len(2, version.len()),
        );
        bytes(&mut scope, 1, name.as_bytes());
        bytes(&mut scope, 2, version.as_bytes());
        Self { resource, scope }
    }

    /// The whole request around `spans`, the output of [`span`] for each.
    pub(super) fn request(&self, spans: &[u8]) -> Vec<u8> {
        let scope_spans = self.scope.len() + spans.len();
        let resource_spans = self.resource.len() + bytes_len(2, scope_spans);
        let mut out = Vec::with_capacity(bytes_len(1, resource_spans));
        message_header(&mut out, 1, resource_spans);
        out.extend_from_slice(&self.resource);
        message_header(&mut out, 2, scope_spans);
        out.extend_from_slice(&self.scope);
        out.extend_from_slice(spans);
        out
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind as ProtoKind;
    use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
    use prost::Message as _;

    use super::*;

    #[test]
    fn varints_have_the_lengths_they_are_written_with() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            varint(&mut buf, value);
            assert_eq!(buf.len(), varint_len(value), "{value}");
            assert_eq!(
                prost::encoding::decode_varint(&mut buf.as_slice()).unwrap(),
                value
            );
        }
    }

    fn record(error: Option<String>) -> Record {
        let parent = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .unwrap()
            .with_state("congo=t61rcWkgMzE");
        Record {
            name: Cow::Borrowed("POST /company/data/{schema}"),
            kind: SpanKind::Server,
            context: parent.new_span(),
            parent_span_id: Some(parent.span_id()),
            start: 1_700_000_000_000_000_000,
            end: 1_700_000_000_000_250_000,
            attributes: vec![
                ("http.route", Value::Static("/company/data/{schema}")),
                (
                    "bisslog.use_case",
                    Value::Shared("insert_company_data".into()),
                ),
                ("bisslog.transaction_id", Value::Owned("x".repeat(200))),
                ("http.response.status_code", Value::Int(201)),
                ("negative", Value::Int(-5)),
                ("bisslog.retried", Value::Bool(true)),
            ],
            links: vec![parent.clone()],
            error,
        }
    }

    #[test]
    fn requests_decode_with_the_generated_types_field_for_field() {
        let envelope = Envelope::new(&[
            ("service.name".to_owned(), "registry".to_owned()),
            ("deployment.environment".to_owned(), "test".to_owned()),
        ]);
        let (ok, failed) = (record(None), record(Some("schema not found".to_owned())));
        let mut spans = Vec::new();
        span(&mut spans, &ok);
        let first = spans.len();
        span(&mut spans, &failed);
        // The lengths computed ahead are the lengths written.
        assert_eq!(first, bytes_len(2, span_len(&ok)));
        assert_eq!(spans.len() - first, bytes_len(2, span_len(&failed)));
        let request = ExportTraceServiceRequest::decode(envelope.request(&spans).as_slice())
            .expect("a valid ExportTraceServiceRequest");

        let resource_spans = &request.resource_spans[0];
        let resource = resource_spans.resource.as_ref().unwrap();
        let text = |v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>| match v
            .as_ref()
            .and_then(|v| v.value.clone())
        {
            Some(any_value::Value::StringValue(text)) => text,
            other => panic!("not text: {other:?}"),
        };
        assert_eq!(resource.attributes[0].key, "service.name");
        assert_eq!(text(&resource.attributes[0].value), "registry");
        assert_eq!(text(&resource.attributes[1].value), "test");
        let scope_spans = &resource_spans.scope_spans[0];
        assert_eq!(scope_spans.scope.as_ref().unwrap().name, "bisslog");
        assert_eq!(scope_spans.spans.len(), 2);

        let decoded = &scope_spans.spans[0];
        assert_eq!(decoded.trace_id, ok.context.trace_id());
        assert_eq!(decoded.span_id, ok.context.span_id());
        assert_eq!(decoded.parent_span_id, ok.parent_span_id.unwrap());
        assert_eq!(decoded.trace_state, "congo=t61rcWkgMzE");
        assert_eq!(decoded.name, "POST /company/data/{schema}");
        assert_eq!(decoded.kind, ProtoKind::Server as i32);
        assert_eq!(decoded.start_time_unix_nano, ok.start);
        assert_eq!(decoded.end_time_unix_nano, ok.end);
        assert_eq!(decoded.flags, 1);
        assert_eq!(decoded.attributes.len(), 6);
        assert_eq!(decoded.attributes[0].key, "http.route");
        assert_eq!(text(&decoded.attributes[0].value), "/company/data/{schema}");
        assert_eq!(text(&decoded.attributes[1].value), "insert_company_data");
        assert_eq!(text(&decoded.attributes[2].value), "x".repeat(200));
        let other = |i: usize| decoded.attributes[i].value.as_ref().unwrap().value.clone();
        assert_eq!(other(3), Some(any_value::Value::IntValue(201)));
        assert_eq!(other(4), Some(any_value::Value::IntValue(-5)));
        assert_eq!(other(5), Some(any_value::Value::BoolValue(true)));
        assert_eq!(decoded.links[0].trace_id, ok.links[0].trace_id());
        assert_eq!(decoded.links[0].span_id, ok.links[0].span_id());
        assert_eq!(decoded.links[0].trace_state, "congo=t61rcWkgMzE");
        assert_eq!(decoded.links[0].flags, 1);
        assert!(decoded.status.is_none());

        let status = scope_spans.spans[1].status.as_ref().unwrap();
        assert_eq!(status.code, StatusCode::Error as i32);
        assert_eq!(status.message, "schema not found");
    }
}
