//! Reading Redis answers (RESP2 arrays, or RESP3 maps) into entries.

use redis::Value;

/// An entry's fields: names and values alternating, in order, each a
/// string answer (checked when read). Kept as the answer's own array, so
/// that a delivery's message takes its bytes without copying them.
pub(crate) type Fields = Vec<Value>;

/// One stream entry as delivered to this consumer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The entry id (`1700000000000-0`).
    pub(crate) id: String,
    /// Its fields, in order.
    pub(crate) fields: Fields,
    /// Its delivery count in the group: 1 the first time.
    pub(crate) deliveries: u32,
}

/// What a claim found: the next `XAUTOCLAIM` cursor, the claimed entries,
/// and how long until the next delayed retry is due.
#[derive(Debug, Default)]
pub(crate) struct Claimed {
    pub(crate) cursor: String,
    pub(crate) entries: Vec<Entry>,
    pub(crate) next_due_ms: Option<u64>,
}

/// The bytes of a string answer.
pub(crate) fn bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        Value::VerbatimString { text, .. } => Some(text.into_bytes()),
        Value::Okay => Some(b"OK".to_vec()),
        Value::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

/// Whether [`bytes`] takes `value`: checked up front where the bytes are
/// read later.
fn is_string(value: &Value) -> bool {
    matches!(
        value,
        Value::BulkString(_)
            | Value::SimpleString(_)
            | Value::VerbatimString { .. }
            | Value::Okay
            | Value::Int(_)
    )
}

/// A string answer as text.
pub(crate) fn text(value: Value) -> Option<String> {
    bytes(value).and_then(|b| String::from_utf8(b).ok())
}

/// The items of an array (or set) answer; nil is empty.
pub(crate) fn array(value: Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        Value::Nil => Some(Vec::new()),
        _ => None,
    }
}

/// The pairs of a map answer, or of a flat array of keys and values.
pub(crate) fn pairs(value: Value) -> Option<Vec<(Value, Value)>> {
    match value {
        Value::Map(pairs) => Some(pairs),
        other => {
            let items = array(other)?;
            if items.len() % 2 != 0 {
                return None;
            }
            let mut items = items.into_iter();
            let mut pairs = Vec::with_capacity(items.len() / 2);
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                pairs.push((k, v));
            }
            Some(pairs)
        }
    }
}

/// An integer answer.
pub(crate) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

/// An entry's fields; `None` for a deleted entry (nil fields).
fn fields(value: Value) -> Option<Option<Fields>> {
    let flat: Fields = match value {
        Value::Nil => return Some(None),
        Value::Map(pairs) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        other => array(other)?,
    };
    let strings = flat.iter().all(is_string);
    (flat.len().is_multiple_of(2) && strings).then_some(Some(flat))
}

/// The bytes of a string answer, borrowed.
pub(crate) fn bytes_ref(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.as_bytes()),
        Value::VerbatimString { text, .. } => Some(text.as_bytes()),
        Value::Okay => Some(b"OK"),
        _ => None,
    }
}

/// The (name, value) pairs of an entry's fields, as bytes.
pub(crate) fn field_pairs(fields: Fields) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> {
    let mut items = fields.into_iter();
    std::iter::from_fn(move || {
        let name = items.next()?;
        let value = items.next()?;
        Some((
            bytes(name).unwrap_or_default(),
            bytes(value).unwrap_or_default(),
        ))
    })
}

/// The entries of one stream in an `XREADGROUP` answer (nil when the
/// block timed out): new entries, delivered for the first time. Entries
/// deleted meanwhile come back as their ids alone, in the second list.
pub(crate) fn read_group(value: Value) -> Option<(Vec<Entry>, Vec<String>)> {
    let mut entries = Vec::new();
    let mut deleted = Vec::new();
    for (_, list) in streams(value)? {
        for item in array(list)? {
            let mut parts = array(item)?.into_iter();
            let id = text(parts.next()?)?;
            match fields(parts.next().unwrap_or(Value::Nil))? {
                Some(fields) => entries.push(Entry {
                    id,
                    fields,
                    deliveries: 1,
                }),
                None => deleted.push(id),
            }
        }
    }
    Some((entries, deleted))
}

/// `[[stream, entries]...]` (RESP2) or `{stream: entries}` (RESP3).
fn streams(value: Value) -> Option<Vec<(Value, Value)>> {
    match value {
        Value::Map(pairs) => Some(pairs),
        other => array(other)?
            .into_iter()
            .map(|s| {
                let mut parts = array(s)?.into_iter();
                Some((parts.next()?, parts.next()?))
            })
            .collect(),
    }
}

/// The answer of the [`CLAIM`](crate::scripts::CLAIM) script.
pub(crate) fn claimed(value: Value) -> Option<Claimed> {
    let mut parts = array(value)?.into_iter();
    let cursor = text(parts.next()?)?;
    let mut entries = Vec::new();
    for item in array(parts.next()?)? {
        let mut item = array(item)?.into_iter();
        let id = text(item.next()?)?;
        let fields = fields(item.next()?)??;
        let deliveries = int(&item.next()?)?;
        entries.push(Entry {
            id,
            fields,
            deliveries: u32::try_from(deliveries).unwrap_or(u32::MAX).max(1),
        });
    }
    let wait = int(&parts.next()?)?;
    Some(Claimed {
        cursor,
        entries,
        next_due_ms: u64::try_from(wait).ok(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn a_group_read_gives_entries_and_deleted_ids() {
        let answer = Value::Array(vec![Value::Array(vec![
            bulk("orders"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk("1-0"),
                    Value::Array(vec![bulk("body"), bulk("{}")]),
                ]),
                Value::Array(vec![bulk("2-0"), Value::Nil]),
            ]),
        ])]);
        let (entries, deleted) = read_group(answer).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].id, "1-0");
        assert_eq!(entries[0].fields, vec![bulk("body"), bulk("{}")]);
        assert_eq!(deleted, ["2-0"]);
        assert_eq!(read_group(Value::Nil).unwrap().0, []);
    }

    #[test]
    fn a_claim_gives_delivery_counts_and_the_next_due_time() {
        let answer = Value::Array(vec![
            bulk("0-0"),
            Value::Array(vec![Value::Array(vec![
                bulk("5-1"),
                Value::Array(vec![bulk("body"), bulk("x")]),
                Value::Int(3),
            ])]),
            Value::Int(-1),
        ]);
        let claimed = claimed(answer).unwrap();
        assert_eq!(claimed.entries[0].deliveries, 3);
        assert_eq!(claimed.next_due_ms, None);
    }
}
