//! The audit trail in memory, or in SQLite / PostgreSQL.

use std::sync::{Arc, Mutex, PoisonError};

use bisslog::core::{Adapter, BoxFuture, Error};
use bisslog::sql::{Database, Migration, map_error, on_engine, sqlx};

use super::domain::{AuditTrail, Insertion};

/// The audit service's tables.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "audit trail",
    sqlite: "CREATE TABLE audit_insertions (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            schema_keyname TEXT NOT NULL,
            uid TEXT NOT NULL,
            origin_transaction_id TEXT
        );
        CREATE INDEX audit_insertions_by_schema ON audit_insertions (schema_keyname, seq);",
    postgres: "CREATE TABLE audit_insertions (
            seq BIGSERIAL PRIMARY KEY,
            schema_keyname TEXT NOT NULL,
            uid TEXT NOT NULL,
            origin_transaction_id TEXT
        );
        CREATE INDEX audit_insertions_by_schema ON audit_insertions (schema_keyname, seq);",
}];

/// The trail in a SQL database. Deliberately without a unique key on the
/// uid: only the inbox keeps a redelivered announcement from being
/// recorded twice.
#[derive(Debug, Clone)]
pub struct SqlAuditTrail {
    db: Database,
}

impl SqlAuditTrail {
    /// Connects and migrates.
    pub async fn open(url: &str) -> Result<Self, bisslog::sql::SqlError> {
        let db = Database::connect(url).await?;
        db.migrate(MIGRATIONS).await?;
        Ok(Self { db })
    }

    /// On `db`, already connected: migrates the tables.
    pub async fn new(db: Database) -> Result<Self, bisslog::sql::SqlError> {
        db.migrate(MIGRATIONS).await?;
        Ok(Self { db })
    }

    /// The database (the audit service's unit of work).
    pub fn database(&self) -> &Database {
        &self.db
    }
}

impl Adapter for SqlAuditTrail {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.db.ping())
    }
}

impl AuditTrail for SqlAuditTrail {
    async fn record(&self, insertion: &Insertion) -> Result<(), Error> {
        let sql = "INSERT INTO audit_insertions (schema_keyname, uid, origin_transaction_id) \
            VALUES ($1, $2, $3)";
        let mut session = self.db.begin().await?;
        on_engine!(session.connection()?, conn => {
            sqlx::query(sql)
                .bind(&insertion.schema_keyname)
                .bind(&insertion.uid)
                .bind(insertion.origin_transaction_id.as_deref())
                .execute(conn)
                .await
                .map(drop)
        })
        .map_err(map_error)?;
        session.commit().await
    }

    async fn list(&self, schema_keyname: &str) -> Result<Vec<Insertion>, Error> {
        let sql = "SELECT schema_keyname, uid, origin_transaction_id FROM audit_insertions \
            WHERE schema_keyname = $1 ORDER BY seq";
        let mut session = self.db.reader().await?;
        let rows: Vec<(String, String, Option<String>)> =
            on_engine!(session.connection()?, conn => {
                sqlx::query_as(sql).bind(schema_keyname).fetch_all(conn).await
            })
            .map_err(map_error)?;
        Ok(rows
            .into_iter()
            .map(|(schema_keyname, uid, origin_transaction_id)| Insertion {
                schema_keyname,
                uid,
                origin_transaction_id,
            })
            .collect())
    }
}

/// The trail in memory, for tests and the `memory` database option.
#[derive(Debug, Clone, Default)]
pub struct MemoryAuditTrail {
    insertions: Arc<Mutex<Vec<Insertion>>>,
}

impl Adapter for MemoryAuditTrail {}

impl AuditTrail for MemoryAuditTrail {
    async fn record(&self, insertion: &Insertion) -> Result<(), Error> {
        self.insertions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(insertion.clone());
        Ok(())
    }

    async fn list(&self, schema_keyname: &str) -> Result<Vec<Insertion>, Error> {
        Ok(self
            .insertions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|i| i.schema_keyname == schema_keyname)
            .cloned()
            .collect())
    }
}
