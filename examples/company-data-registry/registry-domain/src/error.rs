//! How the registry's use cases fail.

use std::borrow::Cow;

use bisslog_core::{ErrorKind, UseCaseError};
use serde::Serialize;

/// One rule a request broke: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The field (`schema_name`) or JSON pointer (`/translations/en`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Violation {
    /// A violation of a field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every way a registry use case fails.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No schema has this keyname.
    #[error("schema `{0}` does not exist")]
    SchemaNotFound(String),
    /// A schema with this keyname exists already.
    #[error("schema `{0}` already exists")]
    SchemaExists(String),
    /// No schema version has this uid (for this schema).
    #[error("schema version `{0}` does not exist")]
    VersionNotFound(String),
    /// The version is its schema's current one.
    #[error(
        "schema version `{0}` is the current version of schema `{1}`; make another version current first"
    )]
    VersionInUse(String, String),
    /// No record has this uid in this schema's store.
    #[error("record `{uid}` does not exist in schema `{schema}`")]
    RecordNotFound {
        /// The schema.
        schema: String,
        /// The record.
        uid: String,
    },
    /// The schema's keyname, name, description or definition break the rules.
    #[error("the schema is invalid: {}", summary(.0))]
    InvalidSchema(Vec<Violation>),
    /// The data does not match the schema's current definition.
    #[error("the data does not match the current definition of schema `{}`: {}", .0, summary(.1))]
    InvalidData(String, Vec<Violation>),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] bisslog_core::Error),
}

fn summary(violations: &[Violation]) -> String {
    let first = violations
        .first()
        .map_or(String::new(), |v| format!("{}: {}", v.field, v.message));
    match violations.len() {
        0 | 1 => first,
        n => format!("{first} (and {} more)", n - 1),
    }
}

impl UseCaseError for RegistryError {
    fn kind(&self) -> ErrorKind {
        match self {
            RegistryError::SchemaNotFound(_)
            | RegistryError::VersionNotFound(_)
            | RegistryError::RecordNotFound { .. } => ErrorKind::NotFound,
            RegistryError::SchemaExists(_) | RegistryError::VersionInUse(..) => ErrorKind::Conflict,
            RegistryError::InvalidSchema(_) | RegistryError::InvalidData(..) => ErrorKind::Invalid,
            RegistryError::Store(error) => error.kind(),
        }
    }

    fn code(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            RegistryError::SchemaNotFound(_) => "schema-not-found",
            RegistryError::SchemaExists(_) => "schema-exists",
            RegistryError::VersionNotFound(_) => "schema-version-not-found",
            RegistryError::VersionInUse(..) => "schema-version-in-use",
            RegistryError::RecordNotFound { .. } => "data-not-found",
            RegistryError::InvalidSchema(_) => "invalid-schema",
            RegistryError::InvalidData(..) => "invalid-data",
            RegistryError::Store(error) => return error.code(),
        })
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            RegistryError::InvalidSchema(violations)
            | RegistryError::InvalidData(_, violations) => {
                Some(serde_json::json!({ "errors": violations }))
            }
            _ => None,
        }
    }
}
