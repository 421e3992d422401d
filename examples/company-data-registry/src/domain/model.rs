//! The registry's data.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::Violation;

/// What a client sends to create a schema (`POST /schemas`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct SchemaInfo {
    /// The schema's identifier: 3–50 characters, a valid identifier.
    pub schema_keyname: String,
    /// A name for people: 3–50 characters.
    pub schema_name: String,
    /// A description: 10–255 characters.
    pub schema_description: String,
    /// The first definition: a JSON Schema.
    pub current_schema_definition: Value,
}

/// A registered schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Schema {
    /// The identifier.
    pub schema_keyname: String,
    /// A name for people.
    pub schema_name: String,
    /// A description.
    pub schema_description: String,
    /// The definition data is validated against.
    pub current_schema_definition: Value,
    /// The uid of the current definition version.
    pub current_version: String,
}

/// One version of a schema's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaVersion {
    /// Its uid.
    pub uid: String,
    /// The schema it belongs to.
    pub schema_keyname: String,
    /// The definition.
    pub schema_definition: Value,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// Checks a keyname: 3–50 characters, a letter or `_` first, then
/// letters, digits and `_` (a Python identifier, as the original service
/// requires).
pub fn check_keyname(keyname: &str) -> Option<Violation> {
    let length = keyname.chars().count();
    if !(3..=50).contains(&length) {
        return Some(Violation::new(
            "schema_keyname",
            format!("must be 3 to 50 characters long, not {length}"),
        ));
    }
    let mut chars = keyname.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_alphanumeric() || c == '_') {
        return Some(Violation::new(
            "schema_keyname",
            "must start with a letter or `_` and contain only letters, digits and `_`",
        ));
    }
    None
}

/// Checks a name (3–50 characters) and a description (10–255).
pub fn check_texts(name: &str, description: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (field, value, min, max) in [
        ("schema_name", name, 3, 50),
        ("schema_description", description, 10, 255),
    ] {
        let length = value.chars().count();
        if !(min..=max).contains(&length) {
            violations.push(Violation::new(
                field,
                format!("must be {min} to {max} characters long, not {length}"),
            ));
        }
    }
    violations
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A new random uid.
pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keynames() {
        assert!(check_keyname("language").is_none());
        assert!(check_keyname("_tmp_2").is_none());
        assert!(check_keyname("ab").is_some());
        assert!(check_keyname("2fast").is_some());
        assert!(check_keyname("has-dash").is_some());
    }

    #[test]
    fn texts() {
        assert!(check_texts("Language", "Language schema").is_empty());
        assert_eq!(check_texts("La", "short").len(), 2);
    }
}
