//! The HTTP server span of a request, and the W3C trace context a request
//! or WebSocket upgrade brings (`traceparent`, `tracestate`).
//!
//! Without a tracer the only cost is one header lookup: the incoming
//! context is passed on to the call's `Ctx` as it is.

use std::sync::Arc;

use bisslog_core::TraceContext;
use bisslog_runtime::trace::{Span, SpanKind, SpanStart, Tracer, Value, attributes};
use http::request::Parts;
use http::{HeaderMap, HeaderName, Method, StatusCode};

use crate::routes::Route;

static TRACEPARENT: HeaderName = HeaderName::from_static(bisslog_core::trace::TRACEPARENT);
static TRACESTATE: HeaderName = HeaderName::from_static(bisslog_core::trace::TRACESTATE);

/// Attributes an embedding entry point adds to the HTTP server span of a
/// request, given as a request extension (AWS Lambda adds `faas.trigger`,
/// `faas.invocation_id` and `cloud.provider`). Read only when the service
/// has a tracer.
///
/// ```
/// use bisslog_http::SpanAttributes;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(SpanAttributes(vec![("faas.trigger", "http".into())]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct SpanAttributes(pub Vec<(&'static str, Value)>);

/// The trace context a request continues: its `traceparent` and
/// `tracestate` headers; `None` when there is no valid `traceparent`.
pub(crate) fn incoming(headers: &HeaderMap) -> Option<TraceContext> {
    // The static names spare a parse of the header name per request.
    TraceContext::extract(|name| {
        let name = if name == bisslog_core::trace::TRACEPARENT {
            &TRACEPARENT
        } else {
            &TRACESTATE
        };
        headers.get(name).and_then(|v| v.to_str().ok())
    })
}

/// Opens the server span of a request routed to `route` (nothing without
/// a tracer): "{METHOD} {route template}", a child of `parent`.
pub(crate) fn server_span(
    tracer: Option<&Tracer>,
    route: &Route,
    parts: &Parts,
    transaction: &str,
    parent: Option<&TraceContext>,
) -> Span {
    Span::start(tracer, || {
        let mut start = SpanStart::new(route.span_name.clone(), SpanKind::Server)
            .parent(parent)
            .attribute("http.request.method", method(&route.method))
            .attribute("http.route", Arc::clone(&route.route_attribute))
            .attribute("url.path", parts.uri.path().to_owned())
            .attribute("url.scheme", "http")
            .attribute(attributes::TRANSACTION_ID, transaction.to_owned());
        if let Some(extra) = parts.extensions.get::<SpanAttributes>() {
            start.attributes.extend(extra.0.iter().cloned());
        }
        start
    })
}

/// Records the response's status on the server span: a 5xx is an error
/// (`error.type` is the status code), a 4xx is the client's and not one.
pub(crate) fn end_server_span(mut span: Span, status: StatusCode) {
    if !span.is_recording() {
        return;
    }
    span.set_attribute("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.set_attribute(attributes::ERROR_TYPE, status.as_str().to_owned());
        span.set_error(status.to_string());
    }
    span.end();
}

/// The method as OpenTelemetry wants it, without allocating for the
/// standard ones.
fn method(method: &Method) -> Value {
    let known = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    const NAMES: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
    ];
    match known.iter().position(|m| m == method) {
        Some(i) => Value::Static(NAMES[i]),
        None => Value::Owned(method.as_str().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_incoming_context_needs_a_valid_traceparent() {
        let mut headers = HeaderMap::new();
        assert!(incoming(&headers).is_none());
        headers.insert(
            &TRACEPARENT,
            http::HeaderValue::from_static(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        );
        headers.insert(
            &TRACESTATE,
            http::HeaderValue::from_static("congo=t61rcWkgMzE"),
        );
        let context = incoming(&headers);
        assert_eq!(
            context.as_ref().map(TraceContext::span_id_hex).as_deref(),
            Some("b7ad6b7169203331")
        );
        assert_eq!(
            context.as_ref().and_then(TraceContext::state),
            Some("congo=t61rcWkgMzE")
        );
        headers.insert(&TRACEPARENT, http::HeaderValue::from_static("00-zz"));
        assert!(incoming(&headers).is_none());
    }

    #[test]
    fn standard_methods_are_static_text() {
        assert_eq!(method(&Method::POST), Value::Static("POST"));
        let custom = Method::from_bytes(b"PURGE").unwrap_or(Method::GET);
        assert_eq!(method(&custom).to_string(), custom.as_str());
    }
}
