//! Values that never show: [`Secret`] and [`ConnectionUrl`].

use std::fmt;

use serde::de::{Deserialize, Deserializer, Visitor};

pub use bisslog_core::{MASK, mask_url_password};

/// The name [`Secret`] gives its newtype to the deserializer: the loader
/// recognises it and marks the setting secret in the report.
pub(crate) const SECRET_MARKER: &str = "$bisslog_config::Secret";

/// A value that shows as `***` in `Debug` and `Display`.
///
/// Declare a service's secret settings with it: the loader then also masks
/// the setting in the effective-configuration report and in error messages.
/// Read the value with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself; do not log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value itself, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SecretVisitor<T> {
            type Value = Secret<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret value")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<Self::Value, D::Error> {
                T::deserialize(deserializer).map(Secret)
            }
        }
        deserializer
            .deserialize_newtype_struct(SECRET_MARKER, SecretVisitor(std::marker::PhantomData))
    }
}

/// A connection URL (`postgres://user:password@host/db`) whose password
/// shows as `***` in `Debug` and `Display`; a URL read from a `_FILE`
/// secret shows as `***` altogether. [`ConnectionUrl::expose`] gives the
/// URL to connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionUrl {
    url: String,
    secret: bool,
}

impl ConnectionUrl {
    /// A URL whose password (if any) is masked when shown.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: false,
        }
    }

    /// A URL masked altogether when shown (it came from a secret).
    pub fn secret(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: true,
        }
    }

    /// The URL itself, password included; do not log it.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// Whether it came from a secret, and shows as `***` altogether.
    pub fn is_secret(&self) -> bool {
        self.secret
    }

    /// `text` (an error message of a driver) with this URL, whole or with
    /// its password masked, replaced by what [`masked`](Self::masked) shows:
    /// for a URL from a secret, not even its user and host leak.
    pub fn hide_in(&self, text: &str) -> String {
        if !self.secret {
            return text.replace(&self.url, &self.masked());
        }
        text.replace(&self.url, MASK)
            .replace(&mask_url_password(&self.url), MASK)
    }

    /// The URL as it may be shown.
    pub fn masked(&self) -> String {
        if self.secret {
            MASK.to_owned()
        } else {
            mask_url_password(&self.url)
        }
    }
}

/// From a string: a service's own settings may hold a `ConnectionUrl`
/// (`audit_database_url`), shown with its password masked.
impl<'de> Deserialize<'de> for ConnectionUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.masked())
    }
}

impl fmt::Display for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_only_the_password() {
        assert_eq!(
            mask_url_password("amqp://user:p@ss:w@host:5672/%2f"),
            "amqp://user:***@host:5672/%2f"
        );
        assert_eq!(
            mask_url_password("postgres://user@host/db"),
            "postgres://user@host/db"
        );
        assert_eq!(mask_url_password("memory"), "memory");
        assert_eq!(format!("{:?}", Secret::new("x")), "***");
        assert_eq!(ConnectionUrl::secret("memory").to_string(), "***");
    }
}
