//! The SQL store: SQLite or PostgreSQL through `bisslog::sql`. JSON is
//! text on SQLite and JSONB on PostgreSQL; the Rust side binds and reads
//! text in both, and each statement that differs is written per engine.
//! Writes that belong together run in one transaction.

use bisslog::core::{Adapter, BoxFuture, Error};
use bisslog::sql::sqlx::{self, ColumnIndex, Decode, Row, Type};
use bisslog::sql::{Backend, Database, Migration, map_error, on_engine};
use serde_json::Value;

use crate::domain::model::{Schema, SchemaVersion};
use crate::domain::ports::{DataStore, SchemaStore};

/// The tables, for both engines.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "company data registry",
    sqlite: "
        CREATE TABLE schemas (
            keyname TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            current_definition TEXT NOT NULL,
            current_version TEXT NOT NULL
        );
        CREATE TABLE schema_versions (
            uid TEXT PRIMARY KEY,
            keyname TEXT NOT NULL REFERENCES schemas(keyname) ON DELETE CASCADE,
            definition TEXT NOT NULL,
            created_at_ms INTEGER NOT NULL
        );
        CREATE INDEX schema_versions_by_schema ON schema_versions (keyname, created_at_ms);
        CREATE TABLE records (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            keyname TEXT NOT NULL REFERENCES schemas(keyname) ON DELETE CASCADE,
            uid TEXT NOT NULL,
            data TEXT NOT NULL,
            UNIQUE (keyname, uid)
        );",
    postgres: "
        CREATE TABLE schemas (
            keyname TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            current_definition JSONB NOT NULL,
            current_version TEXT NOT NULL
        );
        CREATE TABLE schema_versions (
            uid TEXT PRIMARY KEY,
            keyname TEXT NOT NULL REFERENCES schemas(keyname) ON DELETE CASCADE,
            definition JSONB NOT NULL,
            created_at_ms BIGINT NOT NULL
        );
        CREATE INDEX schema_versions_by_schema ON schema_versions (keyname, created_at_ms);
        CREATE TABLE records (
            seq BIGSERIAL PRIMARY KEY,
            keyname TEXT NOT NULL REFERENCES schemas(keyname) ON DELETE CASCADE,
            uid TEXT NOT NULL,
            data JSONB NOT NULL,
            UNIQUE (keyname, uid)
        );",
}];

/// Runs `$body` with `$conn` bound to a connection for reading: the
/// current use case's transaction when it has begun (so a use case reads
/// its own writes), a pooled connection otherwise. The body is the same
/// code for both engines.
macro_rules! reading {
    ($store:expr, $conn:ident => $body:expr) => {{
        let mut session = $store.db.reader().await?;
        on_engine!(session.connection()?, $conn => $body)
    }};
}

/// Runs `$body` with `$conn` bound to a transaction: the use case's unit of
/// work when the service has one (it commits with the use case, and with
/// the events published through the outbox), a transaction of its own
/// otherwise, committed when the body succeeds.
macro_rules! writing {
    ($store:expr, $conn:ident => $body:expr) => {{
        let mut session = $store.db.begin().await?;
        let value = on_engine!(session.connection()?, $conn => $body);
        session.commit().await?;
        value
    }};
}

/// Schemas, versions and records in a SQL database. Clones share the pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Database,
}

impl SqlStore {
    /// Connects, and migrates the tables.
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

    /// The database, to close it.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// One statement in the engine's dialect.
    fn sql(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.db.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }
}

fn json_text(value: &Value) -> String {
    value.to_string()
}

fn text<R: Row>(row: &R, column: usize) -> Result<String, Error>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(column).map_err(map_error)
}

fn json<R: Row>(row: &R, column: usize) -> Result<Value, Error>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let raw = text(row, column)?;
    serde_json::from_str(&raw)
        .map_err(|e| Error::internal("a stored JSON value is unreadable").with_source(e))
}

fn read_schema<R: Row>(row: &R) -> Result<Schema, Error>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Schema {
        schema_keyname: text(row, 0)?,
        schema_name: text(row, 1)?,
        schema_description: text(row, 2)?,
        current_version: text(row, 3)?,
        current_schema_definition: json(row, 4)?,
    })
}

fn read_version<R: Row>(row: &R) -> Result<SchemaVersion, Error>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(SchemaVersion {
        uid: text(row, 0)?,
        schema_keyname: text(row, 1)?,
        schema_definition: json(row, 2)?,
        created_at_ms: row.try_get(3).map_err(map_error)?,
    })
}

const SELECT_SCHEMA_SQLITE: &str =
    "SELECT keyname, name, description, current_version, current_definition FROM schemas";
const SELECT_SCHEMA_POSTGRES: &str =
    "SELECT keyname, name, description, current_version, current_definition::text FROM schemas";

impl Adapter for SqlStore {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        self.db.ready()
    }
}

impl SchemaStore for SqlStore {
    async fn create_schema(&self, schema: &Schema, version: &SchemaVersion) -> Result<(), Error> {
        let insert_schema = self.sql(
            "INSERT INTO schemas (keyname, name, description, current_definition, current_version) VALUES ($1, $2, $3, $4, $5)",
            "INSERT INTO schemas (keyname, name, description, current_definition, current_version) VALUES ($1, $2, $3, $4::jsonb, $5)",
        );
        let insert_version = self.sql(
            "INSERT INTO schema_versions (uid, keyname, definition, created_at_ms) VALUES ($1, $2, $3, $4)",
            "INSERT INTO schema_versions (uid, keyname, definition, created_at_ms) VALUES ($1, $2, $3::jsonb, $4)",
        );
        writing!(self, tx => {
            sqlx::query(insert_schema)
                .bind(&schema.schema_keyname)
                .bind(&schema.schema_name)
                .bind(&schema.schema_description)
                .bind(json_text(&schema.current_schema_definition))
                .bind(&schema.current_version)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
            sqlx::query(insert_version)
                .bind(&version.uid)
                .bind(&version.schema_keyname)
                .bind(json_text(&version.schema_definition))
                .bind(version.created_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
        });
        Ok(())
    }

    async fn get_schema(&self, keyname: &str) -> Result<Option<Schema>, Error> {
        let sql = self.sql(
            "SELECT keyname, name, description, current_version, current_definition FROM schemas WHERE keyname = $1",
            "SELECT keyname, name, description, current_version, current_definition::text FROM schemas WHERE keyname = $1",
        );
        reading!(self, pool => {
            let row = sqlx::query(sql).bind(keyname).fetch_optional(pool).await.map_err(map_error)?;
            row.as_ref().map(read_schema).transpose()
        })
    }

    async fn list_schemas(&self) -> Result<Vec<Schema>, Error> {
        let sql = self.sql(SELECT_SCHEMA_SQLITE, SELECT_SCHEMA_POSTGRES);
        let sql = sqlx::AssertSqlSafe(format!("{sql} ORDER BY keyname"));
        reading!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await.map_err(map_error)?;
            rows.iter().map(read_schema).collect()
        })
    }

    async fn update_schema_metadata(
        &self,
        keyname: &str,
        name: &str,
        description: &str,
    ) -> Result<bool, Error> {
        let sql = "UPDATE schemas SET name = $1, description = $2 WHERE keyname = $3";
        writing!(self, pool => {
            let done = sqlx::query(sql).bind(name).bind(description).bind(keyname).execute(pool).await.map_err(map_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn add_current_version(&self, version: &SchemaVersion) -> Result<bool, Error> {
        let update = self.sql(
            "UPDATE schemas SET current_definition = $1, current_version = $2 WHERE keyname = $3",
            "UPDATE schemas SET current_definition = $1::jsonb, current_version = $2 WHERE keyname = $3",
        );
        let insert = self.sql(
            "INSERT INTO schema_versions (uid, keyname, definition, created_at_ms) VALUES ($1, $2, $3, $4)",
            "INSERT INTO schema_versions (uid, keyname, definition, created_at_ms) VALUES ($1, $2, $3::jsonb, $4)",
        );
        let definition = json_text(&version.schema_definition);
        Ok(writing!(self, tx => {
            let updated = sqlx::query(update)
                .bind(&definition)
                .bind(&version.uid)
                .bind(&version.schema_keyname)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
            // No such schema: leave without inserting (the drop rolls back).
            if updated.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(insert)
                .bind(&version.uid)
                .bind(&version.schema_keyname)
                .bind(&definition)
                .bind(version.created_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
            true
        }))
    }

    async fn get_version(&self, uid: &str) -> Result<Option<SchemaVersion>, Error> {
        let sql = self.sql(
            "SELECT uid, keyname, definition, created_at_ms FROM schema_versions WHERE uid = $1",
            "SELECT uid, keyname, definition::text, created_at_ms FROM schema_versions WHERE uid = $1",
        );
        reading!(self, pool => {
            let row = sqlx::query(sql).bind(uid).fetch_optional(pool).await.map_err(map_error)?;
            row.as_ref().map(read_version).transpose()
        })
    }

    async fn set_current_version(&self, version: &SchemaVersion) -> Result<bool, Error> {
        let sql = self.sql(
            "UPDATE schemas SET current_definition = $1, current_version = $2 WHERE keyname = $3",
            "UPDATE schemas SET current_definition = $1::jsonb, current_version = $2 WHERE keyname = $3",
        );
        writing!(self, pool => {
            let done = sqlx::query(sql)
                .bind(json_text(&version.schema_definition))
                .bind(&version.uid)
                .bind(&version.schema_keyname)
                .execute(pool)
                .await
                .map_err(map_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn delete_schema(&self, keyname: &str) -> Result<bool, Error> {
        // Versions and records go with it (ON DELETE CASCADE).
        writing!(self, pool => {
            let done = sqlx::query("DELETE FROM schemas WHERE keyname = $1").bind(keyname).execute(pool).await.map_err(map_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn delete_version(&self, uid: &str) -> Result<bool, Error> {
        writing!(self, pool => {
            let done = sqlx::query("DELETE FROM schema_versions WHERE uid = $1").bind(uid).execute(pool).await.map_err(map_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn delete_versions_before(
        &self,
        keyname: &str,
        current: &str,
        before_ms: i64,
    ) -> Result<Vec<String>, Error> {
        let sql = "DELETE FROM schema_versions WHERE keyname = $1 AND uid <> $2 AND created_at_ms < $3 RETURNING uid";
        let mut deleted: Vec<String> = writing!(self, pool => {
            let rows = sqlx::query(sql).bind(keyname).bind(current).bind(before_ms).fetch_all(pool).await.map_err(map_error)?;
            rows.iter().map(|row| text(row, 0)).collect::<Result<_, _>>()?
        });
        deleted.sort();
        Ok(deleted)
    }
}

impl DataStore for SqlStore {
    async fn insert(&self, keyname: &str, uid: &str, record: &Value) -> Result<(), Error> {
        let sql = self.sql(
            "INSERT INTO records (keyname, uid, data) VALUES ($1, $2, $3)",
            "INSERT INTO records (keyname, uid, data) VALUES ($1, $2, $3::jsonb)",
        );
        writing!(self, pool => {
            sqlx::query(sql).bind(keyname).bind(uid).bind(json_text(record)).execute(pool).await.map_err(map_error)?;
        });
        Ok(())
    }

    async fn get(&self, keyname: &str, uid: &str) -> Result<Option<Value>, Error> {
        let sql = self.sql(
            "SELECT data FROM records WHERE keyname = $1 AND uid = $2",
            "SELECT data::text FROM records WHERE keyname = $1 AND uid = $2",
        );
        reading!(self, pool => {
            let row = sqlx::query(sql).bind(keyname).bind(uid).fetch_optional(pool).await.map_err(map_error)?;
            row.as_ref().map(|row| json(row, 0)).transpose()
        })
    }

    async fn replace(&self, keyname: &str, uid: &str, record: &Value) -> Result<bool, Error> {
        let sql = self.sql(
            "UPDATE records SET data = $1 WHERE keyname = $2 AND uid = $3",
            "UPDATE records SET data = $1::jsonb WHERE keyname = $2 AND uid = $3",
        );
        writing!(self, pool => {
            let done = sqlx::query(sql).bind(json_text(record)).bind(keyname).bind(uid).execute(pool).await.map_err(map_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn find(
        &self,
        keyname: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<(String, Value)>, Error> {
        // Field names are bound as values, never spliced into the SQL.
        let backend = self.db.backend();
        let mut sql = String::from(match backend {
            Backend::Sqlite => "SELECT uid, data FROM records WHERE keyname = $1",
            Backend::Postgres => "SELECT uid, data::text FROM records WHERE keyname = $1",
        });
        let mut binds: Vec<String> = Vec::with_capacity(filters.len() * 2);
        for (i, (field, value)) in filters.iter().enumerate() {
            let (key, wanted) = (2 + 2 * i, 3 + 2 * i);
            match backend {
                Backend::Postgres => {
                    sql.push_str(&format!(" AND data->>${key} = ${wanted}"));
                    binds.push(field.clone());
                }
                Backend::Sqlite => {
                    // A JSON path `$."field"`; booleans read as true/false.
                    sql.push_str(&format!(
                        " AND (CASE json_type(data, ${key}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                         ELSE CAST(json_extract(data, ${key}) AS TEXT) END) = ${wanted}"
                    ));
                    binds.push(format!(
                        "$.\"{}\"",
                        field.replace('\\', "\\\\").replace('"', "\\\"")
                    ));
                }
            }
            binds.push(value.clone());
        }
        sql.push_str(" ORDER BY seq");
        reading!(self, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(keyname);
            for bind in &binds {
                query = query.bind(bind);
            }
            let rows = query.fetch_all(pool).await.map_err(map_error)?;
            rows.iter().map(|row| Ok((text(row, 0)?, json(row, 1)?))).collect()
        })
    }

    async fn delete(&self, keyname: &str, uid: &str) -> Result<bool, Error> {
        writing!(self, pool => {
            let done = sqlx::query("DELETE FROM records WHERE keyname = $1 AND uid = $2")
                .bind(keyname)
                .bind(uid)
                .execute(pool)
                .await
                .map_err(map_error)?;
            Ok(done.rows_affected() == 1)
        })
    }
}
