//! The fast path of a flat mapper: a body or payload that is a JSON object,
//! read in one pass, keeping only the mapped members under their target
//! names, straight into the use case's input; then the fields the mapper
//! fills from other parts (a path variable, a header).

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::Mapped;

/// `(source member, target name)` pairs.
pub(crate) type Renames = [(String, String)];

/// Fields filled from other parts than the body, as `(field, value)`.
pub(crate) type Others<'de, 'a> = &'de [(&'a str, Mapped<'a>)];

/// Deserializes the members of `raw` named in `keep`, renamed, then the
/// `others`, as a map; the first of repeated members wins, as in the
/// general path.
pub(crate) fn deserialize<'de, 'a: 'de, V: Visitor<'de>>(
    text: &'de str,
    keep: &'de Renames,
    others: Others<'de, 'a>,
    visitor: V,
) -> Result<V::Value, serde_json::Error> {
    let mut json = serde_json::Deserializer::from_str(text);
    let filter = Filter {
        keep,
        others,
        visitor,
    };
    let value = de::Deserializer::deserialize_map(&mut json, filter)?;
    json.end()?;
    Ok(value)
}

struct Filter<'de, 'a, V> {
    keep: &'de Renames,
    others: Others<'de, 'a>,
    visitor: V,
}

impl<'de, 'a: 'de, V: Visitor<'de>> Visitor<'de> for Filter<'de, 'a, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Filtered {
            inner: map,
            keep: self.keep,
            seen: 0,
            others: self.others.iter(),
            other: None,
        })
    }
}

/// The members of the object that are kept, under their target names,
/// then the other fields.
struct Filtered<'de, 'a, A> {
    inner: A,
    keep: &'de Renames,
    /// Which kept members were seen (a mapper keeps at most 64: longer
    /// ones take the general path).
    seen: u64,
    /// The other fields not given yet.
    others: std::slice::Iter<'de, (&'a str, Mapped<'a>)>,
    /// The value of the other field whose name was just given.
    other: Option<&'de Mapped<'a>>,
}

impl<'de, 'a: 'de, A: MapAccess<'de>> MapAccess<'de> for Filtered<'de, 'a, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.inner.next_key::<super::body::Key<'de>>()? {
            let found = self
                .keep
                .iter()
                .position(|(source, _)| source.as_str() == key.0.as_ref());
            match found {
                Some(index) if self.seen & (1 << index) == 0 => {
                    self.seen |= 1 << index;
                    let target = self.keep[index].1.as_str();
                    return seed
                        .deserialize(BorrowedStrDeserializer::new(target))
                        .map(Some);
                }
                _ => {
                    self.inner.next_value::<IgnoredAny>()?;
                }
            }
        }
        match self.others.next() {
            Some((field, value)) => {
                self.other = Some(value);
                seed.deserialize(BorrowedStrDeserializer::new(field))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.other.take() {
            // Read as the general path reads it (text as the field needs).
            Some(value) => seed.deserialize(value).map_err(de::Error::custom),
            None => self.inner.next_value_seed(seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sum {
        a: i64,
        second: i64,
        #[serde(default)]
        c: Option<i64>,
    }

    struct Probe<'a>(&'a str, &'a Renames);

    impl<'de> de::Deserializer<'de> for &'de Probe<'de> {
        type Error = serde_json::Error;
        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            deserialize(self.0, self.1, &[], visitor)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            struct enum identifier ignored_any
        }
    }

    fn renames(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(s, t)| ((*s).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn only_mapped_members_reach_the_input_renamed_and_first_wins() {
        let keep = renames(&[("a", "a"), ("b", "second")]);
        let raw = r#"{"a": 1, "x": {"deep": [1, 2]}, "b": 2, "c": 3, "a": 9}"#;
        let sum = Sum::deserialize(&Probe(raw, &keep)).unwrap();
        assert_eq!(
            sum,
            Sum {
                a: 1,
                second: 2,
                c: None
            },
            "`c` is not mapped, the repeated `a` is ignored"
        );
        assert!(Sum::deserialize(&Probe(r#"{"a": "one", "b": 2}"#, &keep)).is_err());
        assert!(Sum::deserialize(&Probe(r#"{"a": 1, "b": 2} trailing"#, &keep)).is_err());
    }
}
