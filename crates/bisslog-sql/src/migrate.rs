//! Embedded migrations: SQL kept in the binary, applied in order, once,
//! even when several instances start together.

use sqlx::Executor;

use crate::database::{Backend, Database};
use crate::error::SqlError;

/// One schema change, written for each engine.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its position; applied in increasing order, never twice.
    pub version: i64,
    /// A short name for logs.
    pub name: &'static str,
    /// The SQL for SQLite (several statements allowed).
    pub sqlite: &'static str,
    /// The SQL for PostgreSQL (several statements allowed).
    pub postgres: &'static str,
}

/// An arbitrary, fixed key for PostgreSQL's advisory lock, so instances
/// starting together migrate one after the other.
const LOCK_KEY: i64 = 0x6269_7373_6c6f_6701;

/// Where applied migrations are recorded: the service's own, and
/// bisslog's (the outbox, inbox and lease tables), kept apart so their
/// version numbers never meet.
struct Ledger {
    sqlite_table: &'static str,
    postgres_table: &'static str,
    applied: &'static str,
    record: &'static str,
    latest: &'static str,
}

const SERVICE: Ledger = Ledger {
    sqlite_table: "CREATE TABLE IF NOT EXISTS bisslog_migrations \
        (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    postgres_table: "CREATE TABLE IF NOT EXISTS bisslog_migrations \
        (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    applied: "SELECT COUNT(*) FROM bisslog_migrations WHERE version = $1",
    record: "INSERT INTO bisslog_migrations (version, name) VALUES ($1, $2)",
    latest: "SELECT MAX(version) FROM bisslog_migrations",
};

const FRAMEWORK: Ledger = Ledger {
    sqlite_table: "CREATE TABLE IF NOT EXISTS bisslog_framework_migrations \
        (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    postgres_table: "CREATE TABLE IF NOT EXISTS bisslog_framework_migrations \
        (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    applied: "SELECT COUNT(*) FROM bisslog_framework_migrations WHERE version = $1",
    record: "INSERT INTO bisslog_framework_migrations (version, name) VALUES ($1, $2)",
    latest: "SELECT MAX(version) FROM bisslog_framework_migrations",
};

impl Database {
    /// Applies the migrations not applied yet, each in its own
    /// transaction, and records them in `bisslog_migrations`. Refuses a
    /// database migrated by a newer build.
    ///
    /// bisslog's own tables (the outbox, the inbox, leases) are migrated
    /// first, recorded apart in `bisslog_framework_migrations`.
    pub async fn migrate(&self, migrations: &[Migration]) -> Result<(), SqlError> {
        self.migrate_ledger(&FRAMEWORK, crate::framework::MIGRATIONS)
            .await?;
        self.migrate_ledger(&SERVICE, migrations).await
    }

    /// Applies bisslog's own migrations only (the outbox, the inbox,
    /// leases, the durable broker's queues): for a database the framework
    /// uses on its own, such as the file of a
    /// [`SqlBroker`](crate::SqlBroker). Safe on a service's database too:
    /// the service's migrations are left as they are.
    pub async fn migrate_framework(&self) -> Result<(), SqlError> {
        self.migrate_ledger(&FRAMEWORK, crate::framework::MIGRATIONS)
            .await
    }

    async fn migrate_ledger(
        &self,
        ledger: &Ledger,
        migrations: &[Migration],
    ) -> Result<(), SqlError> {
        let latest = match self.backend() {
            Backend::Sqlite => self.migrate_sqlite(ledger, migrations).await?,
            Backend::Postgres => self.migrate_postgres(ledger, migrations).await?,
        };
        let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
        match latest {
            Some(found) if found > known => Err(SqlError::NewerDatabase { found, known }),
            _ => Ok(()),
        }
    }

    async fn migrate_sqlite(
        &self,
        ledger: &Ledger,
        migrations: &[Migration],
    ) -> Result<Option<i64>, SqlError> {
        let Some(pool) = self.sqlite() else {
            return Ok(None);
        };
        let mut conn = pool.acquire().await?;
        conn.execute(ledger.sqlite_table).await?;
        for migration in migrations {
            // `BEGIN IMMEDIATE` takes the write lock first, so processes
            // sharing the file migrate in turn.
            conn.execute("BEGIN IMMEDIATE").await?;
            let step = async {
                let applied: i64 = sqlx::query_scalar(ledger.applied)
                    .bind(migration.version)
                    .fetch_one(&mut *conn)
                    .await?;
                if applied > 0 {
                    return Ok(false);
                }
                conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sqlite)))
                    .await?;
                sqlx::query(ledger.record)
                    .bind(migration.version)
                    .bind(migration.name)
                    .execute(&mut *conn)
                    .await?;
                Ok::<bool, sqlx::Error>(true)
            }
            .await;
            match step {
                Ok(applied) => {
                    conn.execute("COMMIT").await?;
                    if applied {
                        log_applied(migration);
                    }
                }
                Err(source) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(SqlError::Migration {
                        version: migration.version,
                        name: migration.name,
                        source,
                    });
                }
            }
        }
        Ok(sqlx::query_scalar(ledger.latest)
            .fetch_one(&mut *conn)
            .await?)
    }

    async fn migrate_postgres(
        &self,
        ledger: &Ledger,
        migrations: &[Migration],
    ) -> Result<Option<i64>, SqlError> {
        let Some(pool) = self.postgres() else {
            return Ok(None);
        };
        let mut conn = pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *conn)
            .await?;
        let result = async {
            conn.execute(ledger.postgres_table).await?;
            for migration in migrations {
                let applied: i64 = sqlx::query_scalar(ledger.applied)
                    .bind(migration.version)
                    .fetch_one(&mut *conn)
                    .await?;
                if applied > 0 {
                    continue;
                }
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let step = async {
                    tx.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(migration.postgres)))
                        .await?;
                    sqlx::query(ledger.record)
                        .bind(migration.version)
                        .bind(migration.name)
                        .execute(&mut *tx)
                        .await?;
                    Ok::<(), sqlx::Error>(())
                }
                .await;
                step.map_err(|source| SqlError::Migration {
                    version: migration.version,
                    name: migration.name,
                    source,
                })?;
                tx.commit().await?;
                log_applied(migration);
            }
            Ok::<Option<i64>, SqlError>(
                sqlx::query_scalar(ledger.latest)
                    .fetch_one(&mut *conn)
                    .await?,
            )
        }
        .await;
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *conn)
            .await;
        result
    }
}

fn log_applied(migration: &Migration) {
    tracing::info!(
        checkpoint_id = "migration-applied",
        "migration {} ({}) applied",
        migration.version,
        migration.name
    );
}
