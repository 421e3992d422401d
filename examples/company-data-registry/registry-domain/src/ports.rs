//! The ports: how the domain sees storage. Adapters implement them for
//! memory, SQLite and PostgreSQL.

use std::future::Future;

use bisslog_core::Error;
use serde_json::Value;

use crate::model::{Schema, SchemaVersion};

/// Schemas and their definition versions (`schema_division`).
pub trait SchemaStore: Send + Sync + 'static {
    /// Stores a new schema and its first version together; an `Integrity`
    /// error when the keyname is taken.
    fn create_schema(
        &self,
        schema: &Schema,
        version: &SchemaVersion,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// A schema by keyname.
    fn get_schema(
        &self,
        keyname: &str,
    ) -> impl Future<Output = Result<Option<Schema>, Error>> + Send;

    /// Every schema, by keyname.
    fn list_schemas(&self) -> impl Future<Output = Result<Vec<Schema>, Error>> + Send;

    /// Changes a schema's name and description; `false` when it does not exist.
    fn update_schema_metadata(
        &self,
        keyname: &str,
        name: &str,
        description: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Stores a version and makes it the schema's current one, together;
    /// `false` when the schema does not exist.
    fn add_current_version(
        &self,
        version: &SchemaVersion,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// A version by uid.
    fn get_version(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Option<SchemaVersion>, Error>> + Send;

    /// Makes an existing version its schema's current one; `false` when
    /// the schema does not exist.
    fn set_current_version(
        &self,
        version: &SchemaVersion,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Deletes a schema with its versions and data; `false` when it does
    /// not exist.
    fn delete_schema(&self, keyname: &str) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Deletes a version; `false` when it does not exist.
    fn delete_version(&self, uid: &str) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Deletes a schema's versions created before `before_ms`, except the
    /// current one; the uids deleted.
    fn delete_versions_before(
        &self,
        keyname: &str,
        current: &str,
        before_ms: i64,
    ) -> impl Future<Output = Result<Vec<String>, Error>> + Send;
}

/// Each schema's data records (`data_division`): JSON objects stored by
/// uid, without the uid inside them.
pub trait DataStore: Send + Sync + 'static {
    /// Stores a record under a new uid.
    fn insert(
        &self,
        keyname: &str,
        uid: &str,
        record: &Value,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// A record by uid.
    fn get(
        &self,
        keyname: &str,
        uid: &str,
    ) -> impl Future<Output = Result<Option<Value>, Error>> + Send;

    /// Replaces a record; `false` when it does not exist.
    fn replace(
        &self,
        keyname: &str,
        uid: &str,
        record: &Value,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// The records, with their uids, whose top-level fields equal every
    /// filter (compared as text: `"es"`, `30`, `true`), oldest first.
    fn find(
        &self,
        keyname: &str,
        filters: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<(String, Value)>, Error>> + Send;

    /// Deletes a record; `false` when it does not exist.
    fn delete(&self, keyname: &str, uid: &str) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// A scalar's text for filter comparisons: strings as they are, numbers
/// and booleans as JSON writes them; objects, arrays and null never match.
pub fn filter_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
