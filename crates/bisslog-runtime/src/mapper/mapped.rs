//! The input a mapper builds, and how it becomes a use case's `Input`.
//!
//! A mapped input borrows everything it can from the request: raw JSON
//! from the body, text from the path, query string and headers, and the
//! target names from the mapper. Values keep their origin: JSON is read
//! strictly (a string is never read as a number), while text from a URL or
//! a header is read as whatever the input field asks for (`?page=2` fills
//! a `u32`, and `/users/007` fills a `String` with `"007"`).

use std::borrow::Cow;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// A mapped input value.
#[derive(Debug, Clone)]
pub enum Mapped<'a> {
    /// Raw JSON from a body or message: read strictly.
    Raw(&'a RawValue),
    /// Parsed JSON (context attributes): read strictly.
    Json(&'a Value),
    /// Owned JSON, for callers that build inputs themselves.
    Owned(Value),
    /// Text from a path, query string or header: read as the field needs.
    Text(Cow<'a, str>),
    /// An object built by the mapper (dotted targets nest).
    Object(Vec<(Cow<'a, str>, Mapped<'a>)>),
    /// The members of a JSON object (its text) that a flat mapper keeps,
    /// as `(member, field)` pairs, read in one pass, strictly; then the
    /// fields it fills from other parts, as `(field, value)`.
    Fields(&'a str, &'a [(String, String)], Vec<(&'a str, Mapped<'a>)>),
    /// A JSON document not checked yet (a message's payload): checked as
    /// it is read, strictly.
    JsonText(&'a str),
}

impl<'a> Mapped<'a> {
    /// An empty object.
    pub fn object() -> Self {
        Mapped::Object(Vec::new())
    }

    /// Sets `value` at a target path (each segment one level), replacing
    /// what is there; intermediate objects are created as needed.
    pub fn insert(&mut self, target: &'a [String], value: Mapped<'a>) {
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
        let index = match entries.iter().position(|(k, _)| k == first) {
            Some(index) => index,
            None => {
                entries.push((Cow::Borrowed(first.as_str()), Mapped::object()));
                entries.len() - 1
            }
        };
        entries[index].1.insert(rest, value);
    }

    /// Adds a top-level entry unless the object has the key already (for
    /// mappings where an earlier source wins).
    pub fn add(&mut self, key: Cow<'a, str>, value: Mapped<'a>) {
        if !matches!(self, Mapped::Object(_)) {
            *self = Mapped::object();
        }
        if let Mapped::Object(entries) = self
            && !entries.iter().any(|(k, _)| *k == key)
        {
            entries.push((key, value));
        }
    }

    /// Whether the object has a key.
    pub fn contains(&self, key: &str) -> bool {
        match self {
            Mapped::Object(entries) => entries.iter().any(|(k, _)| k == key),
            Mapped::Fields(..) | Mapped::JsonText(_) => self.to_json().get(key).is_some(),
            _ => false,
        }
    }

    /// The value as JSON (text stays text), for logs and tests.
    pub fn to_json(&self) -> Value {
        match self {
            Mapped::Raw(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            Mapped::Json(value) => (*value).clone(),
            Mapped::Owned(value) => value.clone(),
            Mapped::Text(text) => Value::String(text.clone().into_owned()),
            Mapped::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone().into_owned(), v.to_json()))
                    .collect(),
            ),
            Mapped::JsonText(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            Mapped::Fields(text, keep, others) => {
                let all: serde_json::Map<String, Value> =
                    serde_json::from_str(text).unwrap_or_default();
                Value::Object(
                    keep.iter()
                        .filter_map(|(member, field)| {
                            all.get(member).map(|v| (field.clone(), v.clone()))
                        })
                        .chain(
                            others
                                .iter()
                                .map(|(field, value)| ((*field).to_owned(), value.to_json())),
                        )
                        .collect(),
                )
            }
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
    // serde_json adds " at line 1 column 5" for raw text; the position in
    // a fragment means nothing to the caller, so keep only the cause.
    let text = error.to_string();
    let cause = match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => &text[..at],
        _ => &text,
    };
    MapError(cause.to_owned())
}

/// Runs a `serde_json` deserializer method on raw JSON.
macro_rules! on_raw {
    ($raw:expr, $method:ident ( $($arg:expr),* )) => {{
        let mut json = serde_json::Deserializer::from_str($raw.get());
        (&mut json).$method($($arg),*).map_err(json_error)
    }};
}

/// Runs a `serde_json` deserializer method on JSON text not checked yet:
/// all of it must be one document.
macro_rules! on_text {
    ($text:expr, $method:ident ( $($arg:expr),* )) => {{
        let mut json = serde_json::Deserializer::from_str($text);
        let value = (&mut json).$method($($arg),*).map_err(json_error)?;
        json.end().map_err(json_error)?;
        Ok(value)
    }};
}

macro_rules! lenient_number {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
                match self {
                    Mapped::Text(text) => match text.trim().parse::<$ty>() {
                        Ok(n) => visitor.$visit(n),
                        Err(_) => Err(de::Error::invalid_type(de::Unexpected::Str(text), &visitor)),
                    },
                    Mapped::Raw(raw) => on_raw!(raw, $method(visitor)),
                    Mapped::Json(value) => value.$method(visitor).map_err(json_error),
                    Mapped::Owned(value) => value.$method(visitor).map_err(json_error),
                    object => object.deserialize_any(visitor),
                }
            }
        )*
    };
}

/// Strict JSON or an object: the same for every method but `any`.
macro_rules! forward_json {
    ($self:expr, $method:ident ( $($arg:expr),* ), $fallback:expr) => {
        match $self {
            Mapped::Raw(raw) => on_raw!(raw, $method($($arg),*)),
            Mapped::Json(value) => value.$method($($arg),*).map_err(json_error),
            Mapped::Owned(value) => value.$method($($arg),*).map_err(json_error),
            other => $fallback(other),
        }
    };
}

impl<'de, 'a: 'de> Deserializer<'de> for &'de Mapped<'a> {
    type Error = MapError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
        match self {
            Mapped::Raw(raw) => on_raw!(raw, deserialize_any(visitor)),
            Mapped::Json(value) => value.deserialize_any(visitor).map_err(json_error),
            Mapped::Owned(value) => value.deserialize_any(visitor).map_err(json_error),
            Mapped::Text(text) => visitor.visit_borrowed_str(text),
            Mapped::Object(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
            }),
            Mapped::Fields(text, keep, others) => {
                super::fields::deserialize(text, keep, others, visitor).map_err(json_error)
            }
            Mapped::JsonText(text) => on_text!(text, deserialize_any(visitor)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
        match self {
            Mapped::Text(text) => match text.trim() {
                "true" | "1" => visitor.visit_bool(true),
                "false" | "0" => visitor.visit_bool(false),
                _ => Err(de::Error::invalid_type(de::Unexpected::Str(text), &visitor)),
            },
            other => forward_json!(other, deserialize_bool(visitor), |o: &'de Mapped<'a>| o
                .deserialize_any(visitor)),
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
        forward_json!(self, deserialize_option(visitor), |o| visitor.visit_some(o))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, MapError> {
        forward_json!(self, deserialize_newtype_struct(name, visitor), |o| visitor
            .visit_newtype_struct(o))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MapError> {
        match self {
            // A single query parameter or header fills a one-item list.
            Mapped::Text(_) => {
                visitor.visit_seq(de::value::SeqDeserializer::new(std::iter::once(self)))
            }
            other => forward_json!(other, deserialize_seq(visitor), |o: &'de Mapped<'a>| o
                .deserialize_any(visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, MapError> {
        match self {
            Mapped::Text(text) => visitor.visit_enum(BorrowedStrDeserializer::new(text)),
            other => forward_json!(
                other,
                deserialize_enum(name, variants, visitor),
                |o: &'de Mapped<'a>| o.deserialize_any(visitor)
            ),
        }
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de, 'a: 'de> IntoDeserializer<'de, MapError> for &'de Mapped<'a> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// The entries of a mapped object, for a visitor.
struct Entries<'de, 'a> {
    entries: std::slice::Iter<'de, (Cow<'a, str>, Mapped<'a>)>,
    value: Option<&'de Mapped<'a>>,
}

impl<'de, 'a: 'de> MapAccess<'de> for Entries<'de, 'a> {
    type Error = MapError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, MapError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(BorrowedStrDeserializer::new(key))
                    .map(Some)
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
        borrowed: Value,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Nested {
        city: String,
    }

    fn path(target: &str) -> Vec<String> {
        target.split('.').map(str::to_owned).collect()
    }

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn text_is_read_as_the_field_needs_and_json_strictly() {
        let context = json!({"k": [1, 2]});
        let targets: Vec<Vec<String>> = [
            "id",
            "page",
            "strict",
            "flag",
            "tags",
            "nested.city",
            "borrowed",
        ]
        .iter()
        .map(|t| path(t))
        .collect();
        let mut input = Mapped::object();
        input.insert(&targets[0], Mapped::Text("007".into()));
        input.insert(&targets[1], Mapped::Text("2".into()));
        input.insert(&targets[2], Mapped::Raw(raw("5")));
        input.insert(&targets[3], Mapped::Text("true".into()));
        input.insert(&targets[4], Mapped::Text("a".into()));
        input.insert(&targets[5], Mapped::Raw(raw("\"Quito\"")));
        input.insert(&targets[6], Mapped::Json(&context));
        let parsed: Input = Input::deserialize(&input).unwrap();
        assert_eq!(parsed.id, "007");
        assert_eq!(parsed.page, 2);
        assert_eq!(parsed.strict, 5);
        assert_eq!(parsed.flag, Some(true));
        assert_eq!(parsed.tags, ["a"]);
        assert_eq!(parsed.absent, None);
        assert_eq!(parsed.nested.city, "Quito");
        assert_eq!(parsed.borrowed, context);
    }

    #[test]
    fn errors_name_the_field() {
        let (page, city) = (path("page"), path("city"));
        let mut input = Mapped::object();
        input.insert(&page, Mapped::Text("two".into()));
        let error = serde_path_to_error::deserialize::<_, Nested>(&input).unwrap_err();
        assert!(
            error.inner().to_string().contains("missing field `city`"),
            "{}",
            error.inner()
        );
        let mut input = Mapped::object();
        input.insert(&city, Mapped::Raw(raw("5")));
        let error = serde_path_to_error::deserialize::<_, Nested>(&input).unwrap_err();
        assert_eq!(error.path().to_string(), "city");
        assert_eq!(
            error.inner().to_string(),
            "invalid type: integer `5`, expected a string"
        );
    }
}
