//! Throwaway databases for tests: a fresh SQLite file, or a fresh
//! PostgreSQL database created on the server named by
//! `BISSLOG_TEST_POSTGRES_URL` and dropped afterwards; and, for fault
//! tests, a PostgreSQL server of the test's own to stop and start
//! ([`PrivatePostgres`]) and a small disk to fill ([`SmallDisk`]).

mod private_postgres;
mod small_disk;

use std::path::PathBuf;

pub use private_postgres::{POSTGRES_BIN_VARIABLE, PrivatePostgres};
pub use small_disk::SmallDisk;

use crate::database::Database;

/// Whether this runs in CI (`CI=true`), where a missing server or
/// privilege is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

pub use bisslog_testkit::skip;

/// The environment variable naming a PostgreSQL server tests may use (an
/// administrative connection, such as `postgres://postgres@127.0.0.1/postgres`).
pub const POSTGRES_URL_VARIABLE: &str = "BISSLOG_TEST_POSTGRES_URL";

/// The PostgreSQL server URL for tests. `None` when the variable is unset
/// outside CI (the caller skips, saying so); under `CI=true` a missing
/// server is a failure, so this panics with what to set.
pub fn postgres_url() -> Option<String> {
    bisslog_testkit::server_url(POSTGRES_URL_VARIABLE)
}

/// A database that exists for one test.
pub struct TestDatabase {
    /// The connected database.
    pub database: Database,
    /// Its URL, to hand to a service under test.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite file in the system's temporary directory.
    pub async fn sqlite() -> Self {
        Self::sqlite_with("").await
    }

    /// A new SQLite file whose URL ends in `query`: `?group_commit=0` for
    /// a transaction per unit of work, as before group commit was the
    /// default.
    pub async fn sqlite_with(query: &str) -> Self {
        let path = std::env::temp_dir().join(format!("bisslog-test-{}.db", unique()));
        let url = format!("sqlite://{}{query}", path.display());
        let database = Database::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot create {url}: {e}"));
        Self {
            database,
            url,
            cleanup: Cleanup::File(path),
        }
    }

    /// A new PostgreSQL database on the test server, or `None` to skip
    /// (see [`postgres_url`]).
    pub async fn postgres() -> Option<Self> {
        let admin_url = postgres_url()?;
        let name = format!("bisslog_test_{}", unique());
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server: {e}"));
        let pool = admin
            .postgres()
            .unwrap_or_else(|| panic!("{POSTGRES_URL_VARIABLE} must be a postgres:// URL"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let database = Database::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {name}: {e}"));
        Some(Self {
            database,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// Closes the pool and deletes the database.
    pub async fn drop_database(self) {
        self.database.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(admin) = Database::connect(&admin_url).await
                    && let Some(pool) = admin.postgres()
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(pool)
                    .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// A PostgreSQL server URL with another database name
/// (`postgres://u@h:5432/postgres` → `postgres://u@h:5432/x`), its query
/// kept.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A name part unique to this process and call.
fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}_{n}_{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
