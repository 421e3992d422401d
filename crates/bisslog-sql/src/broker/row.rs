//! Messages as rows: the headers as a JSON list of `[name, value]` pairs,
//! written by [`Message::all_headers`] and read back by
//! [`Message::from_headers`], so a message round-trips exactly as through
//! the in-process broker.

use bisslog_messaging::{BrokerError, Message};
use bytes::Bytes;

/// The columns a claim returns: id, message id, headers, payload,
/// deliveries.
pub(super) type Claimed = (i64, String, String, Vec<u8>, i32);

/// The headers column of a message.
pub(super) fn encode_headers(message: &Message) -> Result<String, BrokerError> {
    let pairs: Vec<(&str, &str)> = message.all_headers().collect();
    serde_json::to_string(&pairs).map_err(|e| BrokerError::Rejected {
        message: format!("the message's headers cannot be stored: {e}"),
    })
}

/// A claimed row as a message. Headers that do not parse (a row written by
/// hand or by a broken producer) are dropped with a warning and the
/// message is delivered with the row's id and payload, as a message from
/// a foreign producer is: the consumer runner then handles its payload
/// (dead-lettering it when it is not the use case's input) instead of the
/// broker stalling on it.
pub(super) fn decode(queue: &str, message_id: String, headers: &str, payload: Vec<u8>) -> Message {
    let pairs: Vec<(String, String)> = match serde_json::from_str(headers) {
        Ok(pairs) => pairs,
        Err(error) => {
            tracing::warn!(
                queue,
                message_id = %message_id,
                error = %error,
                "a stored message's headers do not parse; delivering it without them"
            );
            Vec::new()
        }
    };
    let mut message = Message::from_headers(
        Bytes::from(payload),
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        || message_id.clone(),
    );
    // The column is the id the queue deduplicates on: it wins.
    message.id = message_id;
    message
}

/// A stored delivery count as an attempt number (1 the first time).
pub(super) fn attempt(deliveries: i32) -> u32 {
    u32::try_from(deliveries).unwrap_or(0).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_exactly() {
        let mut message = Message::new(&b"{\"a\":1}"[..])
            .with_header("x-tenant", "acme")
            .with_header("x-tenant", "twice");
        message.transaction_id = Some("t-1".into());
        message.event_type = Some("inserted".into());
        message.key = Some("k".into());
        let headers = encode_headers(&message).unwrap();
        let read = decode("q", message.id.clone(), &headers, message.payload.to_vec());
        assert_eq!(read, message);
    }

    #[test]
    fn malformed_headers_still_deliver_the_payload() {
        let read = decode("q", "m-1".into(), "not json", b"payload".to_vec());
        assert_eq!(read.id, "m-1");
        assert_eq!(&read.payload[..], b"payload");
        assert!(read.headers.is_empty());
    }

    #[test]
    fn attempts_start_at_one() {
        assert_eq!(attempt(1), 1);
        assert_eq!(attempt(3), 3);
        assert_eq!(attempt(-1), 1);
    }
}
