//! A store for the use cases' tests: the ports over three vectors, as
//! small as a fake can be while keeping the ports' contracts (the
//! service's own in-memory adapter lives with the other adapters, in the
//! `company-data-registry` crate, which this crate cannot depend on).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bisslog_core::{Error, ErrorKind};
use registry_domain::ports::filter_text;
use registry_domain::{DataStore, Schema, SchemaStore, SchemaVersion};
use serde_json::Value;

/// Schemas, versions and records (keyname, uid, record); clones share them.
#[derive(Clone, Default)]
pub(crate) struct FakeStore(Arc<Mutex<Tables>>);

#[derive(Default)]
struct Tables {
    schemas: Vec<Schema>,
    versions: Vec<SchemaVersion>,
    records: Vec<(String, String, Value)>,
}

impl FakeStore {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Points a schema at `version`; `false` when the schema does not exist.
    fn make_current(&self, version: &SchemaVersion) -> bool {
        let mut tables = self.tables();
        let found = tables
            .schemas
            .iter_mut()
            .find(|s| s.schema_keyname == version.schema_keyname);
        found.is_some_and(|schema| {
            schema.current_version.clone_from(&version.uid);
            schema
                .current_schema_definition
                .clone_from(&version.schema_definition);
            true
        })
    }
}

impl SchemaStore for FakeStore {
    async fn create_schema(&self, schema: &Schema, version: &SchemaVersion) -> Result<(), Error> {
        let mut tables = self.tables();
        if tables
            .schemas
            .iter()
            .any(|s| s.schema_keyname == schema.schema_keyname)
        {
            return Err(Error::new(
                ErrorKind::Integrity,
                "unique-violation",
                "taken",
            ));
        }
        tables.schemas.push(schema.clone());
        tables.versions.push(version.clone());
        Ok(())
    }

    async fn get_schema(&self, keyname: &str) -> Result<Option<Schema>, Error> {
        let tables = self.tables();
        Ok(tables
            .schemas
            .iter()
            .find(|s| s.schema_keyname == keyname)
            .cloned())
    }

    async fn list_schemas(&self) -> Result<Vec<Schema>, Error> {
        Ok(self.tables().schemas.clone())
    }

    async fn update_schema_metadata(
        &self,
        keyname: &str,
        name: &str,
        description: &str,
    ) -> Result<bool, Error> {
        let mut tables = self.tables();
        let found = tables
            .schemas
            .iter_mut()
            .find(|s| s.schema_keyname == keyname);
        Ok(found.is_some_and(|schema| {
            schema.schema_name = name.to_owned();
            schema.schema_description = description.to_owned();
            true
        }))
    }

    async fn add_current_version(&self, version: &SchemaVersion) -> Result<bool, Error> {
        let added = self.make_current(version);
        if added {
            self.tables().versions.push(version.clone());
        }
        Ok(added)
    }

    async fn get_version(&self, uid: &str) -> Result<Option<SchemaVersion>, Error> {
        let tables = self.tables();
        Ok(tables.versions.iter().find(|v| v.uid == uid).cloned())
    }

    async fn set_current_version(&self, version: &SchemaVersion) -> Result<bool, Error> {
        Ok(self.make_current(version))
    }

    async fn delete_schema(&self, keyname: &str) -> Result<bool, Error> {
        let mut tables = self.tables();
        let before = tables.schemas.len();
        tables.schemas.retain(|s| s.schema_keyname != keyname);
        tables.versions.retain(|v| v.schema_keyname != keyname);
        tables.records.retain(|(k, _, _)| k != keyname);
        Ok(tables.schemas.len() < before)
    }

    async fn delete_version(&self, uid: &str) -> Result<bool, Error> {
        let mut tables = self.tables();
        let before = tables.versions.len();
        tables.versions.retain(|v| v.uid != uid);
        Ok(tables.versions.len() < before)
    }

    async fn delete_versions_before(
        &self,
        keyname: &str,
        current: &str,
        before_ms: i64,
    ) -> Result<Vec<String>, Error> {
        let mut tables = self.tables();
        let (gone, kept) = std::mem::take(&mut tables.versions)
            .into_iter()
            .partition::<Vec<_>, _>(|v| {
                v.schema_keyname == keyname && v.uid != current && v.created_at_ms < before_ms
            });
        tables.versions = kept;
        let mut uids: Vec<String> = gone.into_iter().map(|v| v.uid).collect();
        uids.sort();
        Ok(uids)
    }
}

impl DataStore for FakeStore {
    async fn insert(&self, keyname: &str, uid: &str, record: &Value) -> Result<(), Error> {
        let mut tables = self.tables();
        tables
            .records
            .push((keyname.to_owned(), uid.to_owned(), record.clone()));
        Ok(())
    }

    async fn get(&self, keyname: &str, uid: &str) -> Result<Option<Value>, Error> {
        let tables = self.tables();
        let found = tables
            .records
            .iter()
            .find(|(k, u, _)| k == keyname && u == uid);
        Ok(found.map(|(_, _, record)| record.clone()))
    }

    async fn replace(&self, keyname: &str, uid: &str, record: &Value) -> Result<bool, Error> {
        let mut tables = self.tables();
        let found = tables
            .records
            .iter_mut()
            .find(|(k, u, _)| k == keyname && u == uid);
        Ok(found.is_some_and(|(_, _, stored)| {
            stored.clone_from(record);
            true
        }))
    }

    async fn find(
        &self,
        keyname: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<(String, Value)>, Error> {
        let tables = self.tables();
        let matches = |record: &Value| {
            filters.iter().all(|(field, wanted)| {
                record.get(field).and_then(filter_text).as_ref() == Some(wanted)
            })
        };
        Ok(tables
            .records
            .iter()
            .filter(|(k, _, record)| k == keyname && matches(record))
            .map(|(_, uid, record)| (uid.clone(), record.clone()))
            .collect())
    }

    async fn delete(&self, keyname: &str, uid: &str) -> Result<bool, Error> {
        let mut tables = self.tables();
        let before = tables.records.len();
        tables
            .records
            .retain(|(k, u, _)| !(k == keyname && u == uid));
        Ok(tables.records.len() < before)
    }
}
