//! A hand-written checker of the JSON Schema subset the benchmark's
//! `language` schema uses: `type`, `required`, `properties`,
//! `additionalProperties` and its one `pattern`. The registry compiles the
//! stored definition with the `jsonschema` crate on every request; this is
//! what a hand-written service of one known schema would do instead.

use serde_json::{Map, Value};

/// The one pattern of the `language` schema, checked by hand (no regex
/// crate): two lowercase letters, optionally `-` and two uppercase ones.
const LANGUAGE_CODE: &str = "^[a-z]{2}(-[A-Z]{2})?$";

/// Keywords that describe and do not constrain.
const ANNOTATIONS: &[&str] = &["$schema", "title", "description", "examples"];

/// A definition this checker cannot interpret.
#[derive(Debug)]
pub struct Unsupported(pub String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unsupported JSON Schema keyword or value: {}", self.0)
    }
}

impl std::error::Error for Unsupported {}

/// Every way `data` breaks `schema`, each as `pointer: message`.
pub fn violations(schema: &Value, data: &Value) -> Result<Vec<String>, Unsupported> {
    let mut found = Vec::new();
    check(schema, data, "", &mut found)?;
    Ok(found)
}

fn check(
    schema: &Value,
    data: &Value,
    at: &str,
    found: &mut Vec<String>,
) -> Result<(), Unsupported> {
    let schema = match schema {
        Value::Object(schema) => schema,
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => {
            found.push(format!("{at}: no value is allowed here"));
            return Ok(());
        }
        other => return Err(Unsupported(other.to_string())),
    };
    for (keyword, value) in schema {
        match keyword.as_str() {
            "type" => check_type(value, data, at, found)?,
            "pattern" => {
                if value.as_str() != Some(LANGUAGE_CODE) {
                    return Err(Unsupported(format!("pattern {value}")));
                }
                if let Value::String(text) = data
                    && !is_language_code(text)
                {
                    found.push(format!("{at}: {data} does not match {value}"));
                }
            }
            "required" => {
                let Value::Array(names) = value else {
                    return Err(Unsupported(format!("required {value}")));
                };
                if let Value::Object(fields) = data {
                    for name in names {
                        let name = name
                            .as_str()
                            .ok_or_else(|| Unsupported(format!("required {value}")))?;
                        if !fields.contains_key(name) {
                            found.push(format!("{at}/: {name:?} is a required property"));
                        }
                    }
                }
            }
            "properties" | "additionalProperties" => {}
            keyword if ANNOTATIONS.contains(&keyword) => {}
            keyword => return Err(Unsupported(keyword.to_owned())),
        }
    }
    if let Value::Object(fields) = data {
        check_fields(schema, fields, at, found)?;
    }
    Ok(())
}

/// `properties` for the fields they name, `additionalProperties` for the rest.
fn check_fields(
    schema: &Map<String, Value>,
    fields: &Map<String, Value>,
    at: &str,
    found: &mut Vec<String>,
) -> Result<(), Unsupported> {
    let properties = match schema.get("properties") {
        Some(Value::Object(properties)) => Some(properties),
        None => None,
        Some(other) => return Err(Unsupported(format!("properties {other}"))),
    };
    let additional = schema.get("additionalProperties");
    for (name, value) in fields {
        let field_at = format!("{at}/{name}");
        match (properties.and_then(|p| p.get(name)), additional) {
            (Some(sub), _) | (None, Some(sub)) => check(sub, value, &field_at, found)?,
            (None, None) => {}
        }
    }
    Ok(())
}

fn check_type(
    wanted: &Value,
    data: &Value,
    at: &str,
    found: &mut Vec<String>,
) -> Result<(), Unsupported> {
    let matches = match wanted.as_str() {
        Some("object") => data.is_object(),
        Some("string") => data.is_string(),
        Some("array") => data.is_array(),
        Some("boolean") => data.is_boolean(),
        Some("null") => data.is_null(),
        Some("number") => data.is_number(),
        Some("integer") => data.is_i64() || data.is_u64(),
        _ => return Err(Unsupported(format!("type {wanted}"))),
    };
    if !matches {
        found.push(format!("{at}: {data} is not of type {wanted}"));
    }
    Ok(())
}

fn is_language_code(text: &str) -> bool {
    let bytes = text.as_bytes();
    let lower = |b: &u8| b.is_ascii_lowercase();
    let upper = |b: &u8| b.is_ascii_uppercase();
    match bytes {
        [a, b] => lower(a) && lower(b),
        [a, b, b'-', c, d] => lower(a) && lower(b) && upper(c) && upper(d),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn language() -> Value {
        json!({"type": "object", "required": ["code", "name"], "properties": {
            "code": {"type": "string", "pattern": LANGUAGE_CODE},
            "name": {"type": "string"},
            "translations": {"type": "object", "additionalProperties": {"type": "string"}}}})
    }

    #[test]
    fn a_valid_record_has_no_violations() -> Result<(), Unsupported> {
        let data =
            json!({"code": "pt-BR", "name": "português", "translations": {"en": "Portuguese"}});
        assert!(violations(&language(), &data)?.is_empty());
        Ok(())
    }

    #[test]
    fn each_violation_is_listed() -> Result<(), Unsupported> {
        let data = json!({"code": "ESP", "translations": {"en": 1}});
        let found = violations(&language(), &data)?;
        assert_eq!(found.len(), 3, "{found:?}");
        Ok(())
    }

    #[test]
    fn unknown_keywords_are_refused() {
        assert!(violations(&json!({"minLength": 2}), &json!("x")).is_err());
    }
}
