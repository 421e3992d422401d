//! The input a mapper builds, and how it becomes a use case's `Input`.
//!
//! Values keep their origin: JSON from a body or message is strict (a
//! string is never read as a number), while text from a URL or a header is
//! read as whatever the input field asks for (`?page=2` fills a `u32`, and
//! `/users/007` fills a `String` with `"007"`).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde_json::Value;

/// A mapped input value.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// JSON from a body or message: read strictly.
    Json(Value),
    /// Text from a path, query string or header: read as the field needs.
    Text(String),
    /// An object built by the mapper (dotted targets nest).
    Object(Vec<(String, Mapped)>),
}

impl Mapped {
    /// An empty object.
    pub fn object() -> Self {
        Mapped::Object(Vec::new())
    }

    /// Sets `value` at a dotted target path (`a.b` nests), replacing what
    /// is there; intermediate objects are created as needed.
    pub fn insert(&mut self, target: &[String], value: Mapped) {
        let Some((first, rest)) = target.split_first() else {
            *self = value;
            return;
        };
        if !matches!(self, Mapped::Object(_)) {
            *self = Mapped::object();
        }
        let Mapped::Object(entries) = self else {
            return;
        };
        let slot = match entries.iter().position(|(k, _)| k == first) {
            Some(i) => &mut entries[i].1,
            None => {
                entries.push((first.clone(), Mapped::object()));
                let last = entries.len() - 1;
                &mut entries[last].1
            }
        };
        slot.insert(rest, value);
    }

    /// Whether the object has a key (for defaults that must not override).
    pub fn contains(&self, key: &str) -> bool {
        matches!(self, Mapped::Object(entries) if entries.iter().any(|(k, _)| k == key))
    }

    /// The value as JSON (text stays text), for logs and tests.
    pub fn to_json(&self) -> Value {
        match self {
            Mapped::Json(v) => v.clone(),
            Mapped::Text(s) => Value::String(s.clone()),
            Mapped::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Why a mapped input does not fit the use case's `Input`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError(String);

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MapError {}

impl de::Error for MapError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        MapError(msg.to_string())
    }
}

fn json_error(error: serde_json::Error) -> MapError {
    MapError(error.to_string())
}

macro_rules! lenient_number {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
                match self {
                    Mapped::Text(text) => match text.trim().parse::<$ty>() {
                        Ok(n) => visitor.$visit(n),
                        Err(_) => Err(de::Error::invalid_type(de::Unexpected::Str(&text), &visitor)),
                    },
                    Mapped::Json(value) => value.$method(visitor).map_err(json_error),
                    object => object.deserialize_any(visitor),
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Mapped {
    type Error = MapError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
        match self {
            Mapped::Json(value) => value.deserialize_any(visitor).map_err(json_error),
            Mapped::Text(text) => visitor.visit_string(text),
            Mapped::Object(entries) => visitor.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
            }),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
        match self {
            Mapped::Text(text) => match text.trim() {
                "true" | "1" => visitor.visit_bool(true),
                "false" | "0" => visitor.visit_bool(false),
                _ => Err(de::Error::invalid_type(
                    de::Unexpected::Str(&text),
                    &visitor,
                )),
            },
            Mapped::Json(value) => value.deserialize_bool(visitor).map_err(json_error),
            object => object.deserialize_any(visitor),
        }
    }

    lenient_number! {
        deserialize_i8 => i64, visit_i64;
        deserialize_i16 => i64, visit_i64;
        deserialize_i32 => i64, visit_i64;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u64, visit_u64;
        deserialize_u16 => u64, visit_u64;
        deserialize_u32 => u64, visit_u64;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
        deserialize_f32 => f64, visit_f64;
        deserialize_f64 => f64, visit_f64;
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
        match self {
            Mapped::Json(value) => value.deserialize_option(visitor).map_err(json_error),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, MapError> {
        match self {
            Mapped::Json(value) => value
                .deserialize_newtype_struct(name, visitor)
                .map_err(json_error),
            other => visitor.visit_newtype_struct(other),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
        match self {
            Mapped::Json(value) => value.deserialize_seq(visitor).map_err(json_error),
            // A single query parameter or header fills a one-item list.
            Mapped::Text(text) => visitor.visit_seq(de::value::SeqDeserializer::new(
                std::iter::once(Mapped::Text(text)),
            )),
            object => object.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, MapError> {
        match self {
            Mapped::Json(value) => value
                .deserialize_enum(name, variants, visitor)
                .map_err(json_error),
            Mapped::Text(text) => visitor.visit_enum(text.into_deserializer()),
            object => object.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, MapError> for Mapped {
    type Deserializer = Mapped;

    fn into_deserializer(self) -> Mapped {
        self
    }
}

/// The entries of a mapped object, for a visitor.
struct Entries {
    entries: std::vec::IntoIter<(String, Mapped)>,
    value: Option<Mapped>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = MapError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, MapError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, MapError> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a value was asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Input {
        id: String,
        page: u32,
        strict: i64,
        flag: Option<bool>,
        tags: Vec<String>,
        #[serde(default)]
        absent: Option<String>,
        nested: Nested,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Nested {
        city: String,
    }

    fn build() -> Mapped {
        let mut input = Mapped::object();
        let t = |s: &str| s.split('.').map(str::to_owned).collect::<Vec<_>>();
        input.insert(&t("id"), Mapped::Text("007".into()));
        input.insert(&t("page"), Mapped::Text("2".into()));
        input.insert(&t("strict"), Mapped::Json(json!(5)));
        input.insert(&t("flag"), Mapped::Text("true".into()));
        input.insert(&t("tags"), Mapped::Text("a".into()));
        input.insert(&t("nested.city"), Mapped::Json(json!("Quito")));
        input
    }

    #[test]
    fn text_is_read_as_the_field_needs_and_json_strictly() {
        let input: Input = serde_path_to_error::deserialize(build()).unwrap();
        assert_eq!(input.id, "007");
        assert_eq!(input.page, 2);
        assert_eq!(input.strict, 5);
        assert_eq!(input.flag, Some(true));
        assert_eq!(input.tags, ["a"]);
        assert_eq!(input.absent, None);
        assert_eq!(input.nested.city, "Quito");
    }

    #[test]
    fn errors_name_the_field() {
        let mut mapped = build();
        mapped.insert(&["page".to_owned()], Mapped::Text("two".into()));
        let error = serde_path_to_error::deserialize::<_, Input>(mapped).unwrap_err();
        assert_eq!(error.path().to_string(), "page");
        let mut mapped = build();
        mapped.insert(&["strict".to_owned()], Mapped::Json(json!("5")));
        let error = serde_path_to_error::deserialize::<_, Input>(mapped).unwrap_err();
        assert_eq!(error.path().to_string(), "strict");
        assert!(
            error.inner().to_string().contains("expected i64"),
            "{}",
            error.inner()
        );
    }
}
