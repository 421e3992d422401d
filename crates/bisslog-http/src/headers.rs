//! Reading request headers, the same way for HTTP routes and the
//! WebSocket endpoint: the transaction id, and headers as text for the
//! mappers.

use bisslog_core::TransactionId;
use http::header::AsHeaderName;
use http::{HeaderMap, HeaderName};

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
