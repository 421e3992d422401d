//! Every use case's input and output describes itself as a JSON Schema
//! (what the served OpenAPI document is built from), and the schema says
//! what serde accepts: fields with a default are optional, flattened
//! filters are open.

#![allow(clippy::unwrap_used, missing_docs)]

use registry_domain::data::GetInput;
use registry_domain::schemas::{CleanupInput, CreateSchemaInput, SchemaOutput};
use schemars::{JsonSchema, schema_for};
use serde_json::{Value, json};

fn required<T: JsonSchema>() -> Value {
    schema_for!(T).get("required").cloned().unwrap_or(json!([]))
}

#[test]
fn required_fields_are_those_serde_requires() {
    assert_eq!(required::<CreateSchemaInput>(), json!(["schema_info"]));
    assert_eq!(required::<SchemaOutput>(), json!(["schema"]));
    assert_eq!(required::<GetInput>(), json!(["schema_keyname"]));
    assert_eq!(required::<CleanupInput>(), json!([]));
}

#[test]
fn defaults_and_flattened_filters_are_described() {
    let cleanup = schema_for!(CleanupInput);
    assert_eq!(cleanup.as_value()["properties"]["days"]["default"], 60);
    let get = schema_for!(GetInput);
    assert_ne!(get.as_value()["additionalProperties"], json!(false));
    // A request with loose filters is valid against the schema too.
    let validator = jsonschema::validator_for(get.as_value()).unwrap();
    assert!(validator.is_valid(&json!({"schema_keyname": "language", "code": "es"})));
}
