//! A [`Message`] to AMQP properties and back.
//!
//! Written: `message_id` is the message id, `type` the event type,
//! `content_type` the `content-type` header (or `application/json` when
//! the payload looks like a JSON object or array), `delivery_mode` 2
//! (persistent); every other header is a long-string entry of the
//! `headers` table. A value too long for a short-string property (255
//! bytes) goes to the headers table instead.
//!
//! Read: the same, and, for messages from other producers, any header
//! whose value is a string, a number or a boolean (as text); arrays,
//! tables, byte arrays and voids are skipped, as are RabbitMQ's
//! dead-lettering records (`x-death`, `x-first-death-*`,
//! `x-last-death-*`), which the retry queues add.

use std::borrow::Cow;

use bisslog_messaging::{Message, headers, new_message_id};
use bytes::Bytes;
use lapin::BasicProperties;
use lapin::types::{AMQPValue, DecimalValue, FieldTable, LongString, ShortString};

/// The header counting deliveries across retries: the attempt number of
/// the next delivery, written when the adapter publishes a retry.
pub(crate) const ATTEMPT_HEADER: &str = "x-bisslog-attempt";

/// The header and property name of the content type.
const CONTENT_TYPE: &str = "content-type";

/// A short string, when `text` fits one (255 bytes).
pub(crate) fn short(text: &str) -> Option<ShortString> {
    ShortString::try_new(text).ok()
}

/// The properties a message is published with; `attempt` is the attempt
/// number of its next delivery, for a retry.
pub(crate) fn properties(message: &Message, attempt: Option<u32>) -> BasicProperties {
    let mut table = FieldTable::default();
    let mut properties = BasicProperties::default().with_delivery_mode(2);
    match short(&message.id) {
        Some(id) => properties = properties.with_message_id(id),
        None => insert(&mut table, headers::MESSAGE_ID, &message.id),
    }
    if let Some(event_type) = &message.event_type {
        match short(event_type) {
            Some(kind) => properties = properties.with_type(kind),
            None => insert(&mut table, headers::EVENT_TYPE, event_type),
        }
    }
    if let Some(transaction_id) = &message.transaction_id {
        insert(&mut table, headers::TRANSACTION_ID, transaction_id);
    }
    if let Some(key) = &message.key {
        insert(&mut table, headers::KEY, key);
    }
    let mut content_type = None;
    for (name, value) in &message.headers {
        if name.eq_ignore_ascii_case(ATTEMPT_HEADER) {
            // Only the adapter counts attempts.
            continue;
        }
        if content_type.is_none()
            && name.eq_ignore_ascii_case(CONTENT_TYPE)
            && let Some(value) = short(value)
        {
            content_type = Some(value);
            continue;
        }
        insert(&mut table, name, value);
    }
    if content_type.is_none() && looks_like_json(&message.payload) {
        content_type = Some(ShortString::from(String::from("application/json")));
    }
    if let Some(content_type) = content_type {
        properties = properties.with_content_type(content_type);
    }
    if let Some(attempt) = attempt {
        table.insert(
            ShortString::from(String::from(ATTEMPT_HEADER)),
            AMQPValue::LongLongInt(attempt.into()),
        );
    }
    if !table.inner().is_empty() {
        properties = properties.with_headers(table);
    }
    properties
}

/// Adds a header unless one of that name is there (the first wins, as in
/// [`Message::from_headers`]) or the name is too long for AMQP.
fn insert(table: &mut FieldTable, name: &str, value: &str) {
    if table.contains_key(name) {
        return;
    }
    match short(name) {
        Some(key) => {
            table.insert(key, AMQPValue::LongString(LongString::from(value)));
        }
        None => tracing::warn!(
            header = %name.chars().take(64).collect::<String>(),
            "a header name longer than 255 bytes cannot travel over AMQP; it is left out"
        ),
    }
}

/// Whether the payload starts like a JSON object or array.
fn looks_like_json(payload: &[u8]) -> bool {
    payload
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['))
}

/// A delivery's message and attempt number, from its properties and
/// payload. A message without an id (from another producer) gets a new
/// one, so a redelivery of it has another id.
pub(crate) fn decode(
    properties: &BasicProperties,
    payload: Bytes,
    redelivered: bool,
) -> (Message, u32) {
    let mut attempt = None;
    // The broker's own fields first: the first of repeated standard
    // headers wins.
    let from_properties = [
        properties
            .message_id()
            .as_ref()
            .map(|id| (headers::MESSAGE_ID, Cow::Borrowed(id.as_str()))),
        properties
            .kind()
            .as_ref()
            .map(|kind| (headers::EVENT_TYPE, Cow::Borrowed(kind.as_str()))),
    ];
    let from_table = properties
        .headers()
        .iter()
        .flat_map(|table| table.inner().iter())
        .filter_map(|(name, value)| {
            let name = name.as_str();
            if name.eq_ignore_ascii_case(ATTEMPT_HEADER) {
                attempt = attempt_of(value);
                return None;
            }
            if is_dead_lettering_record(name) {
                return None;
            }
            Some((name, text_of(value)?))
        });
    let mut message = Message::from_headers(
        payload,
        from_properties.into_iter().flatten().chain(from_table),
        new_message_id,
    );
    if let Some(content_type) = properties.content_type()
        && !message
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(CONTENT_TYPE))
    {
        message
            .headers
            .push((CONTENT_TYPE.to_owned(), content_type.as_str().to_owned()));
    }
    let attempt = attempt
        .unwrap_or(1)
        .max(1)
        .saturating_add(u32::from(redelivered));
    (message, attempt)
}

/// RabbitMQ's records of dead-lettering, which the retry queues add: of
/// no use to a use case, and not worth carrying along.
fn is_dead_lettering_record(name: &str) -> bool {
    let lower = |prefix: &str| {
        name.as_bytes()
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    name.eq_ignore_ascii_case("x-death") || lower("x-first-death-") || lower("x-last-death-")
}

/// A header value as text: strings, numbers, booleans and timestamps;
/// `None` for arrays, tables, byte arrays and voids.
fn text_of(value: &AMQPValue) -> Option<Cow<'_, str>> {
    Some(match value {
        AMQPValue::ShortString(s) => Cow::Borrowed(s.as_str()),
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()),
        AMQPValue::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        AMQPValue::ShortShortInt(n) => Cow::Owned(n.to_string()),
        AMQPValue::ShortShortUInt(n) => Cow::Owned(n.to_string()),
        AMQPValue::ShortInt(n) => Cow::Owned(n.to_string()),
        AMQPValue::ShortUInt(n) => Cow::Owned(n.to_string()),
        AMQPValue::LongInt(n) => Cow::Owned(n.to_string()),
        AMQPValue::LongUInt(n) => Cow::Owned(n.to_string()),
        AMQPValue::LongLongInt(n) => Cow::Owned(n.to_string()),
        AMQPValue::Timestamp(n) => Cow::Owned(n.to_string()),
        AMQPValue::Float(n) => Cow::Owned(n.to_string()),
        AMQPValue::Double(n) => Cow::Owned(n.to_string()),
        AMQPValue::DecimalValue(d) => Cow::Owned(decimal(*d)),
        AMQPValue::FieldArray(_)
        | AMQPValue::FieldTable(_)
        | AMQPValue::ByteArray(_)
        | AMQPValue::Void => return None,
    })
}

/// An AMQP decimal (`value × 10^-scale`) in positional notation.
fn decimal(d: DecimalValue) -> String {
    let digits = d.value.to_string();
    let scale = usize::from(d.scale);
    if scale == 0 {
        return digits;
    }
    if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        format!("{whole}.{fraction}")
    } else {
        format!("0.{}{digits}", "0".repeat(scale - digits.len()))
    }
}

/// The attempt header's value: a non-negative integer, or a string of
/// one.
fn attempt_of(value: &AMQPValue) -> Option<u32> {
    let clamp = |n: i128| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    Some(match value {
        AMQPValue::ShortShortInt(n) => clamp((*n).into()),
        AMQPValue::ShortShortUInt(n) => (*n).into(),
        AMQPValue::ShortInt(n) => clamp((*n).into()),
        AMQPValue::ShortUInt(n) => (*n).into(),
        AMQPValue::LongInt(n) => clamp((*n).into()),
        AMQPValue::LongUInt(n) => *n,
        AMQPValue::LongLongInt(n) => clamp((*n).into()),
        AMQPValue::ShortString(s) => s.as_str().trim().parse().ok()?,
        AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes())
            .ok()?
            .trim()
            .parse()
            .ok()?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::{ByteArray, FieldArray};

    fn bisslog_message() -> Message {
        let mut message = Message::new(&br#"{"n":1}"#[..])
            .with_header("x-tenant", "acme")
            .with_header("x-region", "eu");
        message.transaction_id = Some("t-1".into());
        message.event_type = Some("inserted".into());
        message.key = Some("company-7".into());
        message
    }

    #[test]
    fn a_message_round_trips_through_the_properties() {
        let message = bisslog_message();
        let properties = properties(&message, None);
        assert_eq!(
            properties.message_id().as_ref().map(ShortString::as_str),
            Some(message.id.as_str())
        );
        assert_eq!(
            properties.kind().as_ref().map(ShortString::as_str),
            Some("inserted")
        );
        assert_eq!(*properties.delivery_mode(), Some(2));
        assert_eq!(
            properties.content_type().as_ref().map(ShortString::as_str),
            Some("application/json")
        );
        let (read, attempt) = decode(&properties, message.payload.clone(), false);
        assert_eq!(attempt, 1);
        let mut expected = message.clone();
        expected
            .headers
            .push(("content-type".into(), "application/json".into()));
        // The headers table is ordered by name.
        expected.headers.sort();
        let mut read_sorted = read.clone();
        read_sorted.headers.sort();
        assert_eq!(read_sorted, expected);
    }

    #[test]
    fn decoding_agrees_with_the_runtime_for_text_headers() {
        let mut table = FieldTable::default();
        for (name, value) in [
            ("Message-Id", "m-1"),
            ("transaction-id", "t-1"),
            ("EVENT-TYPE", "inserted"),
            ("key", "k"),
            ("x-a", "1"),
            ("x-b", "2"),
        ] {
            table.insert(name.into(), AMQPValue::LongString(value.into()));
        }
        let properties = BasicProperties::default().with_headers(table.clone());
        let payload = Bytes::from_static(b"{}");
        let (read, _) = decode(&properties, payload.clone(), false);
        let pairs: Vec<(String, String)> = table
            .inner()
            .iter()
            .map(|(n, v)| (n.to_string(), text_of(v).unwrap_or_default().into_owned()))
            .collect();
        let runtime = Message::from_headers(
            payload,
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            || unreachable!("the id is in the headers"),
        );
        assert_eq!(read, runtime);
    }

    #[test]
    fn foreign_headers_of_any_type_never_break_decoding() {
        let mut table = FieldTable::default();
        let entries = [
            ("bool", AMQPValue::Boolean(true)),
            ("i8", AMQPValue::ShortShortInt(-3)),
            ("u8", AMQPValue::ShortShortUInt(3)),
            ("i16", AMQPValue::ShortInt(-300)),
            ("u16", AMQPValue::ShortUInt(300)),
            ("i32", AMQPValue::LongInt(-70_000)),
            ("u32", AMQPValue::LongUInt(70_000)),
            ("i64", AMQPValue::LongLongInt(-5_000_000_000)),
            ("f32", AMQPValue::Float(1.5)),
            ("f64", AMQPValue::Double(f64::NAN)),
            (
                "decimal",
                AMQPValue::DecimalValue(DecimalValue {
                    scale: 2,
                    value: 12345,
                }),
            ),
            (
                "small-decimal",
                AMQPValue::DecimalValue(DecimalValue { scale: 4, value: 5 }),
            ),
            ("short", AMQPValue::ShortString("s".into())),
            ("bad-utf8", AMQPValue::LongString(vec![b'a', 0xff].into())),
            ("time", AMQPValue::Timestamp(1_700_000_000)),
            ("array", AMQPValue::FieldArray(FieldArray::from(vec![]))),
            ("table", AMQPValue::FieldTable(FieldTable::default())),
            ("bytes", AMQPValue::ByteArray(ByteArray::from(vec![1, 2]))),
            ("void", AMQPValue::Void),
            ("x-death", AMQPValue::FieldArray(FieldArray::from(vec![]))),
            ("x-first-death-queue", AMQPValue::LongString("q".into())),
            ("transaction-id", AMQPValue::LongInt(42)),
        ];
        for (name, value) in entries {
            table.insert(name.into(), value);
        }
        let properties = BasicProperties::default()
            .with_headers(table)
            .with_content_type("text/plain".into());
        let (read, attempt) = decode(&properties, Bytes::from_static(b"hi"), true);
        assert_eq!(attempt, 2, "redelivered by RabbitMQ: one more attempt");
        assert!(!read.id.is_empty(), "a message without an id gets one");
        assert_eq!(read.transaction_id.as_deref(), Some("42"));
        for (name, value) in [
            ("bool", "true"),
            ("i8", "-3"),
            ("u8", "3"),
            ("i16", "-300"),
            ("u16", "300"),
            ("i32", "-70000"),
            ("u32", "70000"),
            ("i64", "-5000000000"),
            ("f32", "1.5"),
            ("f64", "NaN"),
            ("decimal", "123.45"),
            ("small-decimal", "0.0005"),
            ("short", "s"),
            ("bad-utf8", "a\u{fffd}"),
            ("time", "1700000000"),
            ("content-type", "text/plain"),
        ] {
            assert_eq!(read.header(name), Some(value), "{name}");
        }
        for skipped in [
            "array",
            "table",
            "bytes",
            "void",
            "x-death",
            "x-first-death-queue",
        ] {
            assert_eq!(read.header(skipped), None, "{skipped}");
        }
    }

    #[test]
    fn retries_carry_the_attempt_in_a_header() {
        let message = bisslog_message().with_header(ATTEMPT_HEADER, "99");
        let properties = properties(&message, Some(3));
        let (read, attempt) = decode(&properties, message.payload.clone(), false);
        assert_eq!(attempt, 3);
        assert_eq!(read.header(ATTEMPT_HEADER), None, "never a visible header");
        let (_, attempt) = decode(&properties, message.payload.clone(), true);
        assert_eq!(attempt, 4);
        for (value, expected) in [
            (AMQPValue::LongString("7".into()), Some(7)),
            (AMQPValue::ShortInt(-1), Some(0)),
            (AMQPValue::LongLongInt(i64::MAX), Some(u32::MAX)),
            (AMQPValue::Boolean(true), None),
            (AMQPValue::LongString("seven".into()), None),
        ] {
            assert_eq!(attempt_of(&value), expected, "{value:?}");
        }
    }

    #[test]
    fn values_too_long_for_properties_go_to_the_headers() {
        let mut message = Message::new(&b"plain text"[..]);
        message.id = "i".repeat(300);
        message.event_type = Some("t".repeat(300));
        let message = message
            .with_header("n".repeat(300), "dropped")
            .with_header("content-type", "text/plain");
        let properties = properties(&message, None);
        assert_eq!(*properties.message_id(), None);
        assert_eq!(
            properties.content_type().as_ref().map(ShortString::as_str),
            Some("text/plain")
        );
        let (read, _) = decode(&properties, message.payload.clone(), false);
        assert_eq!(read.id, message.id);
        assert_eq!(read.event_type, message.event_type);
        assert_eq!(read.headers, [("content-type".into(), "text/plain".into())]);
    }

    #[test]
    fn only_objects_and_arrays_are_labelled_json() {
        assert!(looks_like_json(b" \n{\"a\":1}"));
        assert!(looks_like_json(b"[1]"));
        assert!(!looks_like_json(b"hello"));
        assert!(!looks_like_json(b""));
        let properties = properties(&Message::new(&b"hello"[..]), None);
        assert_eq!(*properties.content_type(), None);
    }
}
