//! A [`Message`] as a Kafka record and back.
//!
//! The record's key is the message's key (bisslog's `partition`), so
//! that messages with one key go to one partition, in order. Every
//! standard header (`message-id`, `transaction-id`, `event-type`, `key`)
//! and every other header (`traceparent`, `tracestate`, `content-type`,
//! ...) is a Kafka header of the same name with a UTF-8 value; a JSON
//! payload without a `content-type` gets `application/json`. The adapter's
//! own headers, `x-bisslog-attempt`, `x-bisslog-not-before` and
//! `x-bisslog-retry-for`, count retries, say when they are due and which
//! consumer group a retry is for; they are not shown to the use case.

use bisslog_messaging::Message;
use bytes::Bytes;
use rdkafka::message::{Header, OwnedHeaders};

/// The header counting deliveries across retries: the attempt number of
/// the copy a retry publishes (absent on a first delivery).
pub(crate) const ATTEMPT_HEADER: &str = "x-bisslog-attempt";

/// The header of a retry's copy saying when it may be delivered: Unix
/// time in milliseconds.
pub(crate) const NOT_BEFORE_HEADER: &str = "x-bisslog-not-before";

/// The header of a retry's copy naming the consumer group that retries it:
/// the topic is shared by every group (an event's subscribers), and only
/// the group whose delivery failed may see the copy.
pub(crate) const RETRY_FOR_HEADER: &str = "x-bisslog-retry-for";

/// The content type header.
const CONTENT_TYPE: &str = "content-type";

/// What the adapter reads off a record besides the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Counting {
    /// The attempt of this copy (1 unless a retry published it).
    pub(crate) attempt: u32,
    /// When it may be delivered (Unix milliseconds).
    pub(crate) not_before: Option<i64>,
    /// The consumer group a retry's copy is for (every other group skips
    /// it).
    pub(crate) retry_for: Option<String>,
}

/// The headers of `message`, with the adapter's `counting` when it is a
/// retry's copy.
pub(crate) fn headers(message: &Message, counting: Option<Counting>) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new_with_capacity(message.headers.len() + 6);
    let mut has_content_type = false;
    for (name, value) in message.all_headers() {
        if is_adapters(name) {
            // Only the adapter counts attempts.
            continue;
        }
        has_content_type |= name.eq_ignore_ascii_case(CONTENT_TYPE);
        headers = headers.insert(Header {
            key: name,
            value: Some(value),
        });
    }
    if !has_content_type && looks_like_json(&message.payload) {
        headers = headers.insert(Header {
            key: CONTENT_TYPE,
            value: Some("application/json"),
        });
    }
    if let Some(counting) = counting {
        let attempt = counting.attempt.to_string();
        headers = headers.insert(Header {
            key: ATTEMPT_HEADER,
            value: Some(&attempt),
        });
        if let Some(at) = counting.not_before {
            let at = at.to_string();
            headers = headers.insert(Header {
                key: NOT_BEFORE_HEADER,
                value: Some(&at),
            });
        }
        if let Some(group) = &counting.retry_for {
            headers = headers.insert(Header {
                key: RETRY_FOR_HEADER,
                value: Some(group.as_str()),
            });
        }
    }
    headers
}

/// The message of a record, and its counting headers. A record without a
/// `message-id` (another producer's) is named `fallback_id()`
/// (`topic/partition/offset`);
/// headers that are not UTF-8 are skipped; the record key is the
/// message key unless a `key` header says otherwise.
pub(crate) fn decode(
    payload: Option<&[u8]>,
    key: Option<&[u8]>,
    headers: Option<&impl rdkafka::message::Headers>,
    fallback_id: impl FnOnce() -> String,
) -> (Message, Counting) {
    let mut counting = Counting {
        attempt: 1,
        not_before: None,
        retry_for: None,
    };
    // Read straight into the message (no vector of pairs in between):
    // the adapter's own headers are taken off on the way.
    let read = headers
        .into_iter()
        .flat_map(|h| h.iter())
        .filter_map(|header| {
            let value = header.value.and_then(|v| std::str::from_utf8(v).ok())?;
            if header.key.eq_ignore_ascii_case(ATTEMPT_HEADER) {
                counting.attempt = value.trim().parse::<u32>().unwrap_or(1).max(1);
            } else if header.key.eq_ignore_ascii_case(NOT_BEFORE_HEADER) {
                counting.not_before = value.trim().parse().ok();
            } else if header.key.eq_ignore_ascii_case(RETRY_FOR_HEADER) {
                counting.retry_for = Some(value.to_owned());
            } else {
                return Some((header.key, value));
            }
            None
        });
    // After the headers: the first of repeated standard headers wins.
    let key = key
        .and_then(|k| std::str::from_utf8(k).ok())
        .map(|key| (bisslog_messaging::headers::KEY, key));
    let message = Message::from_headers(
        Bytes::copy_from_slice(payload.unwrap_or_default()),
        read.chain(key),
        fallback_id,
    );
    (message, counting)
}

fn is_adapters(name: &str) -> bool {
    name.eq_ignore_ascii_case(ATTEMPT_HEADER)
        || name.eq_ignore_ascii_case(NOT_BEFORE_HEADER)
        || name.eq_ignore_ascii_case(RETRY_FOR_HEADER)
}

/// Whether a payload is probably JSON: it starts with `{` or `[`.
fn looks_like_json(payload: &[u8]) -> bool {
    matches!(
        payload.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::Headers as _;

    #[test]
    fn messages_round_trip_through_record_headers() {
        let mut message = Message::new(&br#"{"n":1}"#[..])
            .with_header(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )
            .with_header(ATTEMPT_HEADER, "9");
        message.transaction_id = Some("t-1".into());
        message.event_type = Some("inserted".into());
        message.key = Some("acme".into());
        let written = headers(
            &message,
            Some(Counting {
                attempt: 3,
                not_before: Some(42),
                retry_for: Some("registry.orders".into()),
            }),
        );
        let names: Vec<&str> = written.iter().map(|h| h.key).collect();
        assert_eq!(
            names,
            [
                "message-id",
                "transaction-id",
                "event-type",
                "key",
                "traceparent",
                "content-type",
                ATTEMPT_HEADER,
                NOT_BEFORE_HEADER,
                RETRY_FOR_HEADER
            ]
        );
        let (read, counting) = decode(
            Some(&message.payload),
            Some(b"acme"),
            Some(&written),
            || "t/0/7".to_owned(),
        );
        let mut expected = message.clone();
        expected.headers.retain(|(n, _)| n != ATTEMPT_HEADER);
        expected
            .headers
            .push(("content-type".into(), "application/json".into()));
        assert_eq!(read, expected);
        assert_eq!(
            counting,
            Counting {
                attempt: 3,
                not_before: Some(42),
                retry_for: Some("registry.orders".into())
            }
        );
    }

    #[test]
    fn foreign_records_get_an_id_and_their_key() {
        let (read, counting) = decode(Some(b"plain"), Some(b"k-1"), None::<&OwnedHeaders>, || {
            "orders/2/40".to_owned()
        });
        assert_eq!(read.id, "orders/2/40");
        assert_eq!(read.key.as_deref(), Some("k-1"));
        assert_eq!(counting.attempt, 1);
        assert!(
            read.headers.is_empty(),
            "no content type guessed on reading"
        );
    }
}
