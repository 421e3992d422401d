//! Reading request headers, the same way for HTTP routes and the
//! WebSocket endpoint: the transaction id, and headers as text for the
//! mappers.

use bisslog_core::TransactionId;
use bytes::Bytes;
use http::header::AsHeaderName;
use http::{HeaderMap, HeaderName, HeaderValue};

/// The transaction header, parsed once.
pub(crate) static TRANSACTION: HeaderName = HeaderName::from_static(crate::TRANSACTION_HEADER);

/// The transaction id a caller sent, or a new one.
pub(crate) fn transaction_id(headers: &HeaderMap) -> TransactionId {
    headers
        .get(&TRANSACTION)
        .and_then(|v| v.to_str().ok())
        .and_then(TransactionId::parse)
        .unwrap_or_else(TransactionId::generate)
}

/// The transaction id a caller sent, or a new one, with the value the
/// response's transaction header carries: the caller's own header value
/// (shared with the request, not copied), or the new id's text moved into
/// the header (one allocation per request, no second copy).
pub(crate) fn transaction(headers: &HeaderMap) -> (TransactionId, HeaderValue) {
    if let Some(value) = headers.get(&TRANSACTION)
        && let Some(id) = value.to_str().ok().and_then(TransactionId::parse)
    {
        return (id, value.clone());
    }
    let id = TransactionId::generate();
    let text = Bytes::from(id.text().into_owned());
    // A generated id is hexadecimal digits and dashes: always a valid value.
    let value =
        HeaderValue::from_maybe_shared(text).unwrap_or_else(|_| HeaderValue::from_static(""));
    (id, value)
}

/// A header's value as text (names in any case); `None` when it is absent
/// or not visible ASCII.
pub(crate) fn text(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every header that is text, with its lower-case name, in request order.
pub(crate) fn all_text(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect()
}
