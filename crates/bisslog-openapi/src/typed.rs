//! What the code adds to the metadata: each use case's input and output
//! schemas, how it completes and how it fails, and the request bodies
//! its mapper implies from them.

use std::collections::BTreeMap;

use bisslog_schema::{HttpTrigger, Mapper, SourcePart};
use serde_json::{Map, Value, json};

/// What a use case's types say about its operations, which its metadata
/// cannot: `bisslog-http` fills it from the registered use case.
#[derive(Debug, Clone, PartialEq)]
pub struct UseCaseTypes {
    /// The JSON Schema of the input (a `$ref` into `components/schemas`
    /// for named types).
    pub input: Value,
    /// The JSON Schema of the output.
    pub output: Value,
    /// The success status: 200, 201, 202, or 204 (no body).
    pub success: u16,
    /// The error statuses its failures get (its error type's kinds, and
    /// an input that does not fit, through the server's status policy).
    pub failures: Vec<u16>,
}

/// The code's side of a service, for [`typed_document`](crate::typed_document).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typed {
    /// Each registered use case, by keyname.
    pub use_cases: BTreeMap<String, UseCaseTypes>,
    /// The named schemas the input and output schemas refer to; they
    /// become `components/schemas` entries.
    pub schemas: Map<String, Value>,
    /// How the server guards its routes; `None` documents what the
    /// metadata says ([`Authentication::from_metadata`](crate::Authentication::from_metadata)).
    pub authentication: Option<crate::Authentication>,
}

impl Typed {
    /// `schema` itself, or the named schema it refers to.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.rsplit('/').next())
            .and_then(|name| self.schemas.get(name))
            .unwrap_or(schema)
    }

    /// The schema of the input field at the dotted `target` and whether
    /// the input requires it (every level of it); `{}` when it cannot be
    /// found.
    fn field(&self, input: &Value, target: &str) -> (Value, bool) {
        let mut at = self.resolve(input);
        let mut required = true;
        for key in target.split('.') {
            let Some(field) = at.get("properties").and_then(|p| p.get(key)) else {
                return (json!({}), false);
            };
            required &= requires(at, key);
            at = field;
        }
        (at.clone(), required)
    }
}

/// Whether the object `schema` lists `key` as required.
fn requires(schema: &Value, key: &str) -> bool {
    schema
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|required| required.iter().any(|k| k == key))
}

/// The request body's schema and whether it is required, as the mapper
/// feeds the input from it: without a mapper, the input itself less the
/// fields that path variables fill (on the methods that carry a body);
/// with one, the input fields its `body` lines fill. `None` when the body
/// feeds nothing.
pub(crate) fn request_body(
    http: &HttpTrigger,
    types: &UseCaseTypes,
    typed: &Typed,
) -> Option<(Value, bool)> {
    match &http.mapper {
        None => {
            if !crate::operation::carries_body(http.method) {
                return None;
            }
            let input = typed.resolve(&types.input);
            let Some(object) = input.as_object() else {
                return Some((input.clone(), false));
            };
            let mut object = object.clone();
            let filled: Vec<&str> = http.path.variables().collect();
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                properties.retain(|key, _| !filled.contains(&key.as_str()));
            }
            let mut required = false;
            if let Some(Value::Array(list)) = object.get_mut("required") {
                list.retain(|key| !filled.iter().any(|f| key == f));
                required = !list.is_empty();
            }
            Some((Value::Object(object), required))
        }
        Some(mapper) => mapped_body(mapper, types, typed),
    }
}

fn mapped_body(mapper: &Mapper, types: &UseCaseTypes, typed: &Typed) -> Option<(Value, bool)> {
    let mut body = Map::new();
    let mut required = false;
    let mut read = false;
    for entry in mapper
        .entries
        .iter()
        .filter(|e| e.source.part == SourcePart::Body)
    {
        read = true;
        let (field, needed) = typed.field(&types.input, &entry.target);
        let Some((last, parents)) = entry.source.path.split_last() else {
            // The whole body fills the field.
            return Some((field, needed));
        };
        required |= needed;
        let mut at = &mut body;
        for key in parents {
            at = child(at, key, needed)?;
        }
        at.insert("type".into(), json!("object"));
        at.entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()?
            .insert(last.clone(), field);
        if needed {
            mark_required(at, last);
        }
    }
    read.then_some((Value::Object(body), required))
}

/// The object property `key` of `schema`, created when absent.
fn child<'a>(
    schema: &'a mut Map<String, Value>,
    key: &str,
    required: bool,
) -> Option<&'a mut Map<String, Value>> {
    schema.insert("type".into(), json!("object"));
    if required {
        mark_required(schema, key);
    }
    schema
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()?
        .entry(key.to_owned())
        .or_insert_with(|| json!({}))
        .as_object_mut()
}

fn mark_required(schema: &mut Map<String, Value>, key: &str) {
    let list = schema.entry("required").or_insert_with(|| json!([]));
    if let Value::Array(list) = list
        && !list.iter().any(|k| k == key)
    {
        list.push(json!(key));
    }
}
