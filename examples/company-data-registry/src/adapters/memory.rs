//! An in-memory store: for unit tests of the domain and for trying the
//! service without a database. Nothing survives the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bisslog::core::{Adapter, Error};
use serde_json::Value;

use crate::domain::model::{Schema, SchemaVersion};
use crate::domain::ports::{DataStore, SchemaStore, filter_text};

/// Schemas, versions and records in memory. Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    schemas: BTreeMap<String, Schema>,
    versions: HashMap<String, SchemaVersion>,
    /// Per schema, records in insertion order.
    records: HashMap<String, Vec<(String, Value)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Adapter for MemoryStore {}

impl SchemaStore for MemoryStore {
    async fn create_schema(&self, schema: &Schema, version: &SchemaVersion) -> Result<(), Error> {
        let mut state = self.state();
        if state.schemas.contains_key(&schema.schema_keyname) {
            return Err(Error::new(
                bisslog::core::ErrorKind::Integrity,
                "unique-violation",
                "the keyname is taken",
            ));
        }
        state
            .schemas
            .insert(schema.schema_keyname.clone(), schema.clone());
        state.versions.insert(version.uid.clone(), version.clone());
        Ok(())
    }

    async fn get_schema(&self, keyname: &str) -> Result<Option<Schema>, Error> {
        Ok(self.state().schemas.get(keyname).cloned())
    }

    async fn list_schemas(&self) -> Result<Vec<Schema>, Error> {
        Ok(self.state().schemas.values().cloned().collect())
    }

    async fn update_schema_metadata(
        &self,
        keyname: &str,
        name: &str,
        description: &str,
    ) -> Result<bool, Error> {
        let mut state = self.state();
        let Some(schema) = state.schemas.get_mut(keyname) else {
            return Ok(false);
        };
        schema.schema_name = name.to_owned();
        schema.schema_description = description.to_owned();
        Ok(true)
    }

    async fn add_current_version(&self, version: &SchemaVersion) -> Result<bool, Error> {
        let mut state = self.state();
        let Some(schema) = state.schemas.get_mut(&version.schema_keyname) else {
            return Ok(false);
        };
        schema.current_version = version.uid.clone();
        schema.current_schema_definition = version.schema_definition.clone();
        state.versions.insert(version.uid.clone(), version.clone());
        Ok(true)
    }

    async fn get_version(&self, uid: &str) -> Result<Option<SchemaVersion>, Error> {
        Ok(self.state().versions.get(uid).cloned())
    }

    async fn set_current_version(&self, version: &SchemaVersion) -> Result<bool, Error> {
        let mut state = self.state();
        let Some(schema) = state.schemas.get_mut(&version.schema_keyname) else {
            return Ok(false);
        };
        schema.current_version = version.uid.clone();
        schema.current_schema_definition = version.schema_definition.clone();
        Ok(true)
    }

    async fn delete_schema(&self, keyname: &str) -> Result<bool, Error> {
        let mut state = self.state();
        if state.schemas.remove(keyname).is_none() {
            return Ok(false);
        }
        state.versions.retain(|_, v| v.schema_keyname != keyname);
        state.records.remove(keyname);
        Ok(true)
    }

    async fn delete_version(&self, uid: &str) -> Result<bool, Error> {
        Ok(self.state().versions.remove(uid).is_some())
    }

    async fn delete_versions_before(
        &self,
        keyname: &str,
        current: &str,
        before_ms: i64,
    ) -> Result<Vec<String>, Error> {
        let mut state = self.state();
        let mut deleted: Vec<String> = state
            .versions
            .values()
            .filter(|v| {
                v.schema_keyname == keyname && v.uid != current && v.created_at_ms < before_ms
            })
            .map(|v| v.uid.clone())
            .collect();
        deleted.sort();
        for uid in &deleted {
            state.versions.remove(uid);
        }
        Ok(deleted)
    }
}

impl DataStore for MemoryStore {
    async fn insert(&self, keyname: &str, uid: &str, record: &Value) -> Result<(), Error> {
        let mut state = self.state();
        if !state.schemas.contains_key(keyname) {
            return Err(Error::new(
                bisslog::core::ErrorKind::Integrity,
                "foreign-key-violation",
                "no such schema",
            ));
        }
        state
            .records
            .entry(keyname.to_owned())
            .or_default()
            .push((uid.to_owned(), record.clone()));
        Ok(())
    }

    async fn get(&self, keyname: &str, uid: &str) -> Result<Option<Value>, Error> {
        let state = self.state();
        let records = state
            .records
            .get(keyname)
            .map(Vec::as_slice)
            .unwrap_or_default();
        Ok(records
            .iter()
            .find(|(u, _)| u == uid)
            .map(|(_, r)| r.clone()))
    }

    async fn replace(&self, keyname: &str, uid: &str, record: &Value) -> Result<bool, Error> {
        let mut state = self.state();
        let slot = state
            .records
            .get_mut(keyname)
            .and_then(|records| records.iter_mut().find(|(u, _)| u == uid));
        match slot {
            Some((_, stored)) => {
                *stored = record.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn find(
        &self,
        keyname: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<(String, Value)>, Error> {
        let state = self.state();
        let records = state
            .records
            .get(keyname)
            .map(Vec::as_slice)
            .unwrap_or_default();
        Ok(records
            .iter()
            .filter(|(_, record)| {
                filters.iter().all(|(field, wanted)| {
                    record.get(field).and_then(filter_text).as_deref() == Some(wanted.as_str())
                })
            })
            .cloned()
            .collect())
    }

    async fn delete(&self, keyname: &str, uid: &str) -> Result<bool, Error> {
        let mut state = self.state();
        let Some(records) = state.records.get_mut(keyname) else {
            return Ok(false);
        };
        let before = records.len();
        records.retain(|(u, _)| u != uid);
        Ok(records.len() < before)
    }
}
