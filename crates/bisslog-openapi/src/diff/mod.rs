//! Compare two OpenAPI documents of a service and classify every change by
//! what it does to the service's callers.
//!
//! The metadata comparison (`bisslog_schema::diff`) sees routes, mapper
//! sources and queues; the typed document a service serves also knows its
//! bodies: which request fields are required, what a response holds, which
//! statuses it answers. Comparing two of those documents finds what the
//! metadata cannot: a required field added to a request body, a response
//! field removed, a success status changed.
//!
//! ```
//! use bisslog_openapi::diff::diff;
//! use bisslog_schema::diff::ChangeSeverity;
//! use serde_json::json;
//!
//! let body = |required: serde_json::Value| json!({
//!     "openapi": "3.1.0",
//!     "paths": {"/users": {"post": {
//!         "operationId": "create_user",
//!         "requestBody": {"required": true, "content": {"application/json": {"schema": {
//!             "type": "object",
//!             "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
//!             "required": required,
//!         }}}},
//!         "responses": {"201": {"description": "created"}},
//!     }}},
//! });
//! let changes = diff(&body(json!(["name"])), &body(json!(["name", "email"]))).expect("documents");
//! assert_eq!(changes.len(), 1);
//! assert_eq!(changes[0].kind.id(), "request-field-required");
//! assert_eq!(changes[0].severity(), ChangeSeverity::Breaking);
//! ```
//!
//! Only local references (`#/components/...`) are followed. Schemas built
//! from `anyOf`, `oneOf` or `allOf` (other than "this or null") are
//! compared as written and reported as `schema-changed` notices when they
//! differ.

mod document;
mod operation;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use bisslog_schema::diff::{Change, ChangeKind, sort};
use serde_json::Value;

use document::{Document, Operation};

/// Which of the two documents a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The old version.
    Old,
    /// The new version.
    New,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Old => "old",
            Side::New => "new",
        })
    }
}

/// Why two documents could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// One side is not an OpenAPI 3 document.
    #[error("the {side} document is not an OpenAPI 3 document: {reason}")]
    NotOpenApi {
        /// Which document.
        side: Side,
        /// What is missing.
        reason: &'static str,
    },
}

/// Every change from the `old` OpenAPI document to the `new` one, sorted
/// as `bisslog_schema::diff::sort` sorts. Changes name the use case of
/// their operation (`x-bisslog-use-case`, else its `operationId`).
pub fn diff(old: &Value, new: &Value) -> Result<Vec<Change>, DiffError> {
    let old = Document::new(old, Side::Old)?;
    let new = Document::new(new, Side::New)?;
    let old_ops = old.operations();
    let new_ops = new.operations();
    let mut changes = Vec::new();
    for (key, op) in &old_ops {
        if !new_ops.contains_key(key) {
            changes.push(op.change(
                ChangeKind::OperationRemoved,
                String::new(),
                "removed; callers get 404 or 405".to_owned(),
            ));
        }
    }
    for (key, op) in &new_ops {
        if !old_ops.contains_key(key) {
            changes.push(op.change(
                ChangeKind::OperationAdded,
                String::new(),
                "added".to_owned(),
            ));
        }
    }
    for (key, old_op) in &old_ops {
        if let Some(new_op) = new_ops.get(key) {
            operation::compare(&old, old_op, &new, new_op, &mut changes);
        }
    }
    sort(&mut changes);
    Ok(changes)
}

/// The operations of a document by method and path shape (`GET /users/{}`:
/// renaming a path variable changes nothing for callers).
type Operations<'a> = BTreeMap<String, Operation<'a>>;
