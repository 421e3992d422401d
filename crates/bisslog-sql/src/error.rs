//! Database failures as bisslog error kinds.

use bisslog_core::{Error, ErrorKind};

/// Why a database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The URL is not a database URL this crate understands.
    #[error("`{url}` is not a usable database URL: {reason}")]
    InvalidUrl {
        /// The URL, password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot connect to `{url}`: {source}")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed; the database is left at the previous version.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// Its name.
        name: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database has a migration this build does not know: it was
    /// migrated by a newer version of the service.
    #[error(
        "the database is at migration {found}, newer than this build's {known}; deploy the newer service"
    )]
    NewerDatabase {
        /// The highest version applied.
        found: i64,
        /// The highest version this build has.
        known: i64,
    },
    /// Any other database failure.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A driver error as a bisslog error, with the kind the entry points act
/// on: unique and foreign-key violations are `Integrity` (409), check and
/// not-null violations `InvalidData`, lost connections and pool timeouts
/// transient (`Connection`, `Timeout`, `Unavailable`), and the rest
/// `Internal`.
pub fn map_error(error: sqlx::Error) -> Error {
    let (kind, code) = classify(&error);
    Error::new(kind, code, describe(&error)).with_source(error)
}

fn classify(error: &sqlx::Error) -> (ErrorKind, &'static str) {
    use sqlx::error::ErrorKind as Db;
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code();
            match (db.kind(), code.as_deref()) {
                (Db::UniqueViolation, _) => (ErrorKind::Integrity, "unique-violation"),
                (Db::ForeignKeyViolation, _) => (ErrorKind::Integrity, "foreign-key-violation"),
                (Db::NotNullViolation | Db::CheckViolation, _) => {
                    (ErrorKind::InvalidData, "constraint-violation")
                }
                // PostgreSQL: serialization failure, deadlock, shutdown,
                // too many connections. SQLite: busy, locked.
                (
                    _,
                    Some("40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300" | "5" | "6"),
                ) => (ErrorKind::Unavailable, "database-busy"),
                _ => (ErrorKind::Internal, "database-error"),
            }
        }
        sqlx::Error::PoolTimedOut => (ErrorKind::Timeout, "database-timeout"),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            (ErrorKind::Connection, "database-connection")
        }
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            (ErrorKind::Unavailable, "database-unavailable")
        }
        sqlx::Error::Configuration(_) => (ErrorKind::Configuration, "database-configuration"),
        sqlx::Error::RowNotFound => (ErrorKind::NotFound, "row-not-found"),
        _ => (ErrorKind::Internal, "database-error"),
    }
}

fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => {
            format!("the database refused the operation: {}", db.message())
        }
        other => format!("the database failed: {other}"),
    }
}
