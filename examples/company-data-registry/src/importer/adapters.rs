//! The importer's view of the registry's records: the registry's own
//! store in the same process, or the registry's SQL database opened from
//! outside. Either way the importer reads tables it does not own; this is
//! the shared-database smell the system map of `bisslog docs` points at.

use bisslog::core::{Adapter, BoxFuture, Error};
use bisslog::sql::{Database, map_error, on_engine, sqlx};

use super::domain::RegistryRecords;
use crate::adapters::MemoryStore;
use crate::domain::ports::DataStore;

/// The registry's records, where the registry keeps them.
#[derive(Debug, Clone)]
pub enum RegistryDatabase {
    /// The registry's in-memory store (same process only).
    Memory(MemoryStore),
    /// The registry's SQL database: the `records` table, read directly.
    Sql(Database),
}

impl RegistryDatabase {
    /// Connects to the registry's database at `url` without migrating it
    /// (its tables belong to the registry); `memory` is an empty store.
    pub async fn connect(url: &str) -> Result<Self, bisslog::sql::SqlError> {
        if url == "memory" {
            return Ok(Self::Memory(MemoryStore::new()));
        }
        Ok(Self::Sql(Database::connect(url).await?))
    }
}

impl Adapter for RegistryDatabase {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        match self {
            Self::Memory(_) => Box::pin(async { Ok(()) }),
            Self::Sql(db) => Box::pin(db.ping()),
        }
    }
}

impl RegistryRecords for RegistryDatabase {
    async fn count(&self, schema_keyname: &str) -> Result<u64, Error> {
        match self {
            Self::Memory(store) => {
                let records = store.find(schema_keyname, &[]).await?;
                Ok(u64::try_from(records.len()).unwrap_or(u64::MAX))
            }
            Self::Sql(db) => {
                let sql = "SELECT COUNT(*) FROM records WHERE keyname = $1";
                let mut session = db.reader().await?;
                let count: i64 = on_engine!(session.connection()?, conn => {
                    sqlx::query_scalar(sql).bind(schema_keyname).fetch_one(conn).await
                })
                .map_err(map_error)?;
                Ok(u64::try_from(count).unwrap_or(0))
            }
        }
    }
}
