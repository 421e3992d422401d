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
/// delivery, for the inbox.
pub(crate) fn message(stream: &str, entry_id: &str, fields: Vec<(Vec<u8>, Vec<u8>)>) -> Message {
    let fallback = || format!("{stream}:{entry_id}");
    let body = fields
        .iter()
        .position(|(name, _)| name.as_slice() == BODY.as_bytes());
    let Some(body) = body else {
        return Message::from_headers(
            foreign_payload(&fields),
            Vec::<(&str, &str)>::new(),
            fallback,
        );
    };
    let mut fields = fields;
    let (_, payload) = fields.remove(body);
    let headers: Vec<(String, String)> = fields
        .into_iter()
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect();
    Message::from_headers(
        Bytes::from(payload),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        fallback,
    )
}

/// The fields of another producer's entry as a JSON object.
fn foreign_payload(fields: &[(Vec<u8>, Vec<u8>)]) -> Bytes {
    let object: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(name).into_owned(),
                serde_json::Value::String(String::from_utf8_lossy(value).into_owned()),
            )
        })
        .collect();
    Bytes::from(serde_json::Value::Object(object).to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn owned(fields: &[(&str, &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
        fields
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.to_vec()))
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
