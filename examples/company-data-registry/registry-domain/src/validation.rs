//! JSON Schema checks: that a definition is a schema, and that data
//! matches one.

use serde_json::Value;

use crate::error::Violation;

/// Checks that `definition` is a non-empty JSON Schema the validator can
/// compile.
pub fn check_definition(definition: &Value, field: &str) -> Vec<Violation> {
    match definition {
        Value::Object(map) if map.is_empty() => vec![Violation::new(field, "must not be empty")],
        Value::Object(_) => {
            if let Err(error) = jsonschema::meta::validate(definition) {
                return vec![Violation::new(
                    field,
                    format!("is not a valid JSON Schema: {error}"),
                )];
            }
            match jsonschema::validator_for(definition) {
                Ok(_) => Vec::new(),
                Err(error) => vec![Violation::new(
                    field,
                    format!("is not a usable JSON Schema: {error}"),
                )],
            }
        }
        _ => vec![Violation::new(field, "must be a JSON Schema object")],
    }
}

/// Every way `data` breaks `definition`, each at its JSON pointer.
pub fn check_data(definition: &Value, data: &Value) -> Vec<Violation> {
    let validator = match jsonschema::validator_for(definition) {
        Ok(validator) => validator,
        Err(error) => {
            return vec![Violation::new(
                "",
                format!("the stored definition is unusable: {error}"),
            )];
        }
    };
    let mut violations: Vec<Violation> = validator
        .iter_errors(data)
        .map(|error| {
            let pointer = error.instance_path().to_string();
            Violation::new(
                if pointer.is_empty() {
                    "/".to_owned()
                } else {
                    pointer
                },
                error.to_string(),
            )
        })
        .collect();
    violations.sort_by(|a, b| a.field.cmp(&b.field).then(a.message.cmp(&b.message)));
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn definitions_must_be_schemas() {
        assert!(check_definition(&json!({"type": "object"}), "d").is_empty());
        assert_eq!(
            check_definition(&json!({}), "d")[0].message,
            "must not be empty"
        );
        assert!(!check_definition(&json!({"type": 12}), "d").is_empty());
        assert!(!check_definition(&json!("x"), "d").is_empty());
    }

    #[test]
    fn data_violations_are_listed_with_their_paths() {
        let schema = json!({"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}, "n": {"type": "integer"}}});
        assert!(check_data(&schema, &json!({"code": "es"})).is_empty());
        let violations = check_data(&schema, &json!({"n": "x"}));
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["/", "/n"]);
    }
}
