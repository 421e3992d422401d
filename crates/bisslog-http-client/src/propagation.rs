//! What a request says about the call that sends it: its transaction id
//! and its trace context, read from the use case being run.

use bisslog_core::trace::{TRACEPARENT, TRACESTATE};
use bisslog_messaging::current;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// The header carrying the caller's transaction id, which a bisslog
/// service receiving it keeps as its own call's id.
pub const TRANSACTION_HEADER: &str = "x-transaction-id";

/// The headers of the use case being polled on this thread: empty outside
/// any call.
pub(crate) fn current_headers() -> HeaderMap {
    current::with(|ctx| {
        let mut headers = HeaderMap::new();
        let Some(ctx) = ctx else {
            return headers;
        };
        insert(
            &mut headers,
            TRANSACTION_HEADER,
            &ctx.transaction_id().text(),
        );
        if let Some(trace) = ctx.trace_context() {
            insert(&mut headers, TRACEPARENT, &trace.traceparent());
            if let Some(state) = trace.state() {
                insert(&mut headers, TRACESTATE, state);
            }
        }
        headers
    })
}

/// Adds a header; the values are printable ASCII by construction (ids and
/// trace contexts are checked when received), so one that is not is left
/// out rather than failing the request.
fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_core::{Ctx, TraceContext, TransactionId, Trigger};

    #[tokio::test]
    async fn inside_a_call_its_ids_outside_none() {
        assert!(current_headers().is_empty());
        let parent = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .unwrap()
            .with_state("congo=t61rcWkgMzE");
        let ctx = Ctx::builder("ask", Trigger::Direct)
            .transaction_id(TransactionId::parse("tx-1").unwrap())
            .trace_parent(parent)
            .build();
        let headers = current::scope(ctx, async { current_headers() }).await;
        assert_eq!(headers[TRANSACTION_HEADER], "tx-1");
        assert_eq!(
            headers[TRACEPARENT],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert_eq!(headers[TRACESTATE], "congo=t61rcWkgMzE");

        let untraced = Ctx::new("ask", Trigger::Direct);
        let headers = current::scope(untraced, async { current_headers() }).await;
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key(TRANSACTION_HEADER));
    }
}
