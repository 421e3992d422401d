//! A JSON body or message payload, kept as raw text: checked once, split
//! into its top-level fields when a mapper needs them, and deserialized
//! straight into the use case's input, never into an intermediate tree.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON document borrowed from a request or message.
#[derive(Debug, Clone)]
pub struct Body<'a> {
    raw: &'a RawValue,
    fields: Option<Vec<(Cow<'a, str>, &'a RawValue)>>,
}

impl<'a> Body<'a> {
    /// Checks that `text` is one JSON document.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        Ok(Self {
            raw: serde_json::from_str(text)?,
            fields: None,
        })
    }

    /// The same body with its top-level fields split out, for mappers
    /// that read them (`body.x`, or the default mapping).
    #[must_use]
    pub fn with_fields(mut self) -> Self {
        self.fields = object_fields(self.raw);
        self
    }

    /// The whole document.
    pub fn raw(&self) -> &'a RawValue {
        self.raw
    }

    /// The top-level fields, when the body is an object.
    pub fn fields(&self) -> Option<Vec<(Cow<'a, str>, &'a RawValue)>> {
        match &self.fields {
            Some(fields) => Some(fields.clone()),
            None => object_fields(self.raw),
        }
    }

    /// The value at a key path (array items by index), if present.
    pub fn get<S: AsRef<str>>(&self, path: &[S]) -> Option<&'a RawValue> {
        let (first, rest) = path.split_first()?;
        let mut value = match &self.fields {
            Some(fields) => fields
                .iter()
                .find(|(k, _)| k == first.as_ref())
                .map(|(_, v)| *v)?,
            None => child(self.raw, first.as_ref())?,
        };
        for key in rest {
            value = child(value, key.as_ref())?;
        }
        Some(value)
    }

    /// Whether the document is a JSON object.
    pub fn is_object(&self) -> bool {
        self.raw.get().starts_with('{')
    }

    /// Whether the document is `null`.
    pub fn is_null(&self) -> bool {
        self.raw.get() == "null"
    }
}

/// The member or item `key` of a raw object or array.
fn child<'a>(raw: &'a RawValue, key: &str) -> Option<&'a RawValue> {
    match raw.get().as_bytes().first() {
        Some(b'{') => object_fields(raw)?
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v),
        Some(b'[') => {
            let index: usize = key.parse().ok()?;
            let items: Vec<&'a RawValue> = serde_json::from_str(raw.get()).ok()?;
            items.get(index).copied()
        }
        _ => None,
    }
}

/// The members of a raw object, keys unescaped, values still raw.
fn object_fields(raw: &RawValue) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    if !raw.get().starts_with('{') {
        return None;
    }
    let mut deserializer = serde_json::Deserializer::from_str(raw.get());
    deserializer.deserialize_map(FieldsVisitor).ok()
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            fields.push((key.0, value));
        }
        Ok(fields)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(serde::de::Error::custom("expected an object"))
    }
}

/// An object key, borrowed when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_paths() {
        let body = Body::parse(r#"{"a": {"b": [10, {"c": "x"}]}, "k\"ey": 1, "n": null}"#)
            .unwrap()
            .with_fields();
        let fields = body.fields().unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["a", "k\"ey", "n"]);
        assert_eq!(body.get(&["a", "b", "0"]).map(RawValue::get), Some("10"));
        assert_eq!(
            body.get(&["a", "b", "1", "c"]).map(RawValue::get),
            Some("\"x\"")
        );
        assert!(body.get(&["a", "missing"]).is_none());
        assert!(body.get(&["n", "deeper"]).is_none());
        assert!(Body::parse("[1").is_err());
        assert!(Body::parse("null").unwrap().is_null());
        assert!(Body::parse("[1, 2]").unwrap().fields().is_none());
    }
}
