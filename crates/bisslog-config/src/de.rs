//! A serde deserializer over the layers' raw values. Its errors never
//! quote the input (a bad value may be a secret).

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, Expected, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};

use crate::secret::SECRET_MARKER;

/// A value as a layer gave it.
#[derive(Debug, Clone)]
pub(crate) enum Raw {
    /// A string from the file: only a string.
    Str(String),
    /// A string from the environment, a `_FILE` or a flag: parsed into
    /// whatever the setting's type is (a number, a boolean, a list split on
    /// commas).
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Raw>),
    Table(Vec<(String, Raw)>),
}

impl Raw {
    /// The value as it may be shown when it is not secret.
    pub(crate) fn show(&self) -> String {
        match self {
            Raw::Str(s) | Raw::Text(s) => s.clone(),
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => b.to_string(),
            Raw::Array(items) => {
                let items: Vec<String> = items.iter().map(Raw::show).collect();
                format!("[{}]", items.join(", "))
            }
            Raw::Table(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", v.show()))
                    .collect();
                format!("{{ {} }}", entries.join(", "))
            }
        }
    }

    /// Every string in the value (to scrub from error messages).
    pub(crate) fn strings(&self, out: &mut Vec<String>) {
        match self {
            Raw::Str(s) | Raw::Text(s) => out.push(s.clone()),
            Raw::Array(items) => items.iter().for_each(|i| i.strings(out)),
            Raw::Table(entries) => entries.iter().for_each(|(_, v)| v.strings(out)),
            Raw::Int(_) | Raw::Float(_) | Raw::Bool(_) => {}
        }
    }
}

/// A deserialization error: a message that names no input.
#[derive(Debug)]
pub(crate) struct DeError(pub(crate) String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

fn kind(unexpected: &Unexpected<'_>) -> &'static str {
    match unexpected {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer",
        Unexpected::Float(_) => "a float",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit | Unexpected::Option => "nothing",
        Unexpected::Seq => "a list",
        Unexpected::Map => "a table",
        _ => "another kind of value",
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        DeError(format!("expected {expected}, found {}", kind(&unexpected)))
    }
    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        DeError(format!(
            "{} out of range or not allowed: expected {expected}",
            kind(&unexpected)
        ))
    }
    fn invalid_length(len: usize, expected: &dyn Expected) -> Self {
        DeError(format!("{len} items: expected {expected}"))
    }
    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        DeError(format!("expected one of {}", quote_all(expected)))
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError(format!(
            "unknown key `{field}`, expected one of {}",
            quote_all(expected)
        ))
    }
}

fn quote_all(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Deserializes one [`Raw`]; sets `secret` when a [`crate::Secret`] is met.
pub(crate) struct ValueDe<'a> {
    pub(crate) raw: Raw,
    pub(crate) secret: &'a Cell<bool>,
}

impl<'a> ValueDe<'a> {
    fn text(&self) -> Option<&str> {
        match &self.raw {
            Raw::Text(s) => Some(s.trim()),
            _ => None,
        }
    }
}

macro_rules! parse_text {
    ($($method:ident => $visit:ident : $ty:ty, $what:literal;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
                match self.text() {
                    Some(text) => match text.parse::<$ty>() {
                        Ok(v) => visitor.$visit(v),
                        Err(_) => Err(DeError(concat!("expected ", $what).to_owned())),
                    },
                    None => self.deserialize_any(visitor),
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for ValueDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let secret = self.secret;
        match self.raw {
            Raw::Str(s) | Raw::Text(s) => visitor.visit_string(s),
            Raw::Int(i) => visitor.visit_i64(i),
            Raw::Float(f) => visitor.visit_f64(f),
            Raw::Bool(b) => visitor.visit_bool(b),
            Raw::Array(items) => visitor.visit_seq(Seq {
                items: items.into_iter(),
                secret,
            }),
            Raw::Table(entries) => visitor.visit_map(Map {
                entries: entries.into_iter(),
                value: None,
                key: None,
                secret,
                track: None,
            }),
        }
    }

    parse_text! {
        deserialize_bool => visit_bool: bool, "true or false";
        deserialize_i8 => visit_i8: i8, "an integer (i8)";
        deserialize_i16 => visit_i16: i16, "an integer (i16)";
        deserialize_i32 => visit_i32: i32, "an integer (i32)";
        deserialize_i64 => visit_i64: i64, "an integer (i64)";
        deserialize_u8 => visit_u8: u8, "an integer from 0 to 255";
        deserialize_u16 => visit_u16: u16, "an integer from 0 to 65535";
        deserialize_u32 => visit_u32: u32, "an integer from 0 to 4294967295";
        deserialize_u64 => visit_u64: u64, "a non-negative integer (u64)";
        deserialize_f32 => visit_f32: f32, "a number (f32)";
        deserialize_f64 => visit_f64: f64, "a number (f64)";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SECRET_MARKER {
            self.secret.set(true);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.raw {
            Raw::Text(s) => {
                let items: Vec<Raw> = if s.trim().is_empty() {
                    Vec::new()
                } else {
                    s.split(',')
                        .map(|i| Raw::Text(i.trim().to_owned()))
                        .collect()
                };
                visitor.visit_seq(Seq {
                    items: items.into_iter(),
                    secret: self.secret,
                })
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.raw {
            Raw::Str(s) | Raw::Text(s) => {
                let de: de::value::StringDeserializer<DeError> =
                    s.trim().to_owned().into_deserializer();
                visitor.visit_enum(de)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct Seq<'a> {
    items: std::vec::IntoIter<Raw>,
    secret: &'a Cell<bool>,
}

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(raw) => seed
                .deserialize(ValueDe {
                    raw,
                    secret: self.secret,
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

/// A table; remembers the key being read so that errors name it.
pub(crate) struct Map<'a> {
    pub(crate) entries: std::vec::IntoIter<(String, Raw)>,
    pub(crate) value: Option<Raw>,
    pub(crate) key: Option<String>,
    pub(crate) secret: &'a Cell<bool>,
    /// At the top level: which key is being read, which keys were secret.
    pub(crate) track: Option<&'a Track>,
}

/// What the top-level table learned while it was read.
#[derive(Default)]
pub(crate) struct Track {
    pub(crate) key: std::cell::RefCell<Option<String>>,
    pub(crate) secrets: std::cell::RefCell<Vec<String>>,
}

impl<'de> MapAccess<'de> for Map<'_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                self.key = Some(key.clone());
                if let Some(track) = self.track {
                    *track.key.borrow_mut() = Some(key.clone());
                }
                let de: de::value::StringDeserializer<DeError> = key.into_deserializer();
                seed.deserialize(de).map(Some)
            }
            None => {
                if let Some(track) = self.track {
                    *track.key.borrow_mut() = None;
                }
                Ok(None)
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let raw = self
            .value
            .take()
            .ok_or_else(|| DeError("a value without its key".to_owned()))?;
        if self.track.is_some() {
            self.secret.set(false);
        }
        let value = seed.deserialize(ValueDe {
            raw,
            secret: self.secret,
        })?;
        if let (Some(track), Some(key)) = (self.track, &self.key)
            && self.secret.get()
        {
            track.secrets.borrow_mut().push(key.clone());
        }
        Ok(value)
    }
}

/// Finds the field names of a struct without any input: a derived
/// `Deserialize` hands them to `deserialize_struct`.
pub(crate) fn struct_fields<'de, T: de::Deserialize<'de>>() -> Option<&'static [&'static str]> {
    struct Probe<'f>(&'f mut Option<&'static [&'static str]>);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = DeError;
        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DeError> {
            Err(DeError("probe".to_owned()))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, DeError> {
            *self.0 = Some(fields);
            Err(DeError("probe".to_owned()))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = None;
    let _ = T::deserialize(Probe(&mut fields));
    fields
}
