//! A [`Message`] as the fields of a stream entry, and back.
//!
//! An entry written by bisslog has a `body` field (the payload, bytes as
//! they are) and one field per header (`message-id`, `transaction-id`,
//! `event-type`, `key`, `traceparent`, `tracestate`, any other). An entry
//! without a `body` field (`XADD orders * id 7 name acme` from another
//! program) is read as the JSON object of its fields, every value a
//! string, with no headers.

use bisslog_messaging::{BrokerError, Message};
use bytes::Bytes;

use crate::reply::{self, Fields};

/// The field that holds the payload.
pub(crate) const BODY: &str = "body";

/// The fields of `message`'s entry, body first.
pub(crate) fn fields(message: &Message) -> Result<Vec<(&str, &[u8])>, BrokerError> {
    let mut fields = Vec::with_capacity(6 + message.headers.len());
    fields.push((BODY, &message.payload[..]));
    for (name, value) in message.all_headers() {
        if name.eq_ignore_ascii_case(BODY) {
            return Err(BrokerError::Rejected {
                message: format!(
                    "a header named `{name}` would take the place of the body field of the stream entry"
                ),
            });
        }
        fields.push((name, value.as_bytes()));
    }
    Ok(fields)
}

/// The message of the entry `entry_id` of `stream` with `fields` (names and
/// values in the entry's order). A message without a `message-id` field
/// (another producer's) gets `<stream>:<entry id>`, the same at every
/// delivery, for the inbox. The answer's buffers become the message's
/// payload and headers as they are (no copy; only text that is not UTF-8
/// is copied, lossily).
pub(crate) fn message(stream: &str, entry_id: &str, fields: Fields) -> Message {
    let fallback = || format!("{stream}:{entry_id}");
    let body = fields
        .chunks_exact(2)
        .position(|pair| reply::bytes_ref(&pair[0]) == Some(BODY.as_bytes()));
    let Some(body) = body else {
        return Message::from_headers(
            foreign_payload(fields),
            Vec::<(&str, &str)>::new(),
            fallback,
        );
    };
    let mut payload = Vec::new();
    let mut pairs = reply::field_pairs(fields).enumerate();
    let headers = std::iter::from_fn(|| {
        loop {
            let (at, (name, value)) = pairs.next()?;
            if at == body {
                payload = value;
                continue;
            }
            return Some((text(name), text(value)));
        }
    });
    // The body is taken out of the pairs while the message reads the
    // others as headers, and becomes its payload once all are read.
    let mut message = Message::from_owned_headers(Bytes::new(), headers, fallback);
    message.payload = Bytes::from(payload);
    message
}

/// Bytes as text, without a copy when they are UTF-8.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The fields of another producer's entry as a JSON object.
fn foreign_payload(fields: Fields) -> Bytes {
    let object: serde_json::Map<String, serde_json::Value> = reply::field_pairs(fields)
        .map(|(name, value)| (text(name), serde_json::Value::String(text(value))))
        .collect();
    Bytes::from(serde_json::Value::Object(object).to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn owned(fields: &[(&str, &[u8])]) -> Fields {
        fields
            .iter()
            .flat_map(|(n, v)| {
                [
                    redis::Value::BulkString(n.as_bytes().to_vec()),
                    redis::Value::BulkString(v.to_vec()),
                ]
            })
            .collect()
    }

    #[test]
    fn a_message_round_trips_through_its_fields() {
        let mut message = Message::new(&b"\xff not utf-8"[..])
            .with_header(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )
            .with_header("content-type", "application/json");
        message.transaction_id = Some("t-1".into());
        message.event_type = Some("inserted".into());
        let fields = fields(&message).unwrap();
        assert_eq!(fields[0], ("body", &b"\xff not utf-8"[..]));
        assert_eq!(fields[1], ("message-id", message.id.as_bytes()));
        assert_eq!(message_of(&fields), message);
    }

    fn message_of(fields: &[(&str, &[u8])]) -> Message {
        message("orders", "1-0", owned(fields))
    }

    #[test]
    fn another_producers_entry_is_the_json_object_of_its_fields() {
        let read = message_of(&[("id", b"7"), ("name", b"acme")]);
        assert_eq!(read.id, "orders:1-0");
        let payload: serde_json::Value = serde_json::from_slice(&read.payload).unwrap();
        assert_eq!(payload, serde_json::json!({"id": "7", "name": "acme"}));
        let read = message_of(&[("body", br#"{"id":7}"#), ("x-tenant", b"acme")]);
        assert_eq!(
            (read.id.as_str(), &read.payload[..]),
            ("orders:1-0", &br#"{"id":7}"#[..])
        );
        assert_eq!(read.header("x-tenant"), Some("acme"));
    }

    #[test]
    fn a_header_cannot_take_the_place_of_the_body() {
        let message = Message::new(&b"{}"[..]).with_header("Body", "x");
        assert!(matches!(
            fields(&message),
            Err(BrokerError::Rejected { .. })
        ));
    }
}
