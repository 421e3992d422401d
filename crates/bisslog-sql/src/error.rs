//! Database failures as bisslog error kinds.

use bisslog_core::{Error, ErrorKind};

use crate::faults::StorageFault;

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
/// not-null violations `InvalidData`; transient failures are
/// `Unavailable` or `Connection` (503 with `Retry-After`, retried by
/// consumers): a busy or shutting-down server, a full disk, a read-only
/// database, an I/O error, a lost connection, a pool with no connection
/// free in time; a statement cancelled for running too long is `Timeout`
/// (504); the rest `Internal`.
///
/// A SQLite storage fault seen here also retires the process's SQLite
/// connections opened before it (see [`Database`](crate::Database)), so
/// adapters should map every driver error through this function.
pub fn map_error(error: sqlx::Error) -> Error {
    let (kind, code) = match crate::faults::note(&error) {
        Some(fault) => storage_kind(fault),
        None => classify(&error),
    };
    Error::new(kind, code, describe(&error)).with_source(error)
}

/// A storage fault's kind: passing (a full disk, a read-only file, an I/O
/// error) unless the file is damaged.
fn storage_kind(fault: StorageFault) -> (ErrorKind, &'static str) {
    let kind = match fault {
        StorageFault::Corrupt => ErrorKind::Internal,
        StorageFault::Full | StorageFault::ReadOnly | StorageFault::Io => ErrorKind::Unavailable,
    };
    (kind, fault.code())
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
                // PostgreSQL: disk full, out of memory, read-only
                // transaction (a standby), connection failures.
                (_, Some("53100" | "53200" | "25006" | "08000" | "08003" | "08006")) => {
                    (ErrorKind::Unavailable, "database-unavailable")
                }
                // PostgreSQL: the statement ran past `statement_timeout`.
                (_, Some("57014")) => (ErrorKind::Timeout, "database-timeout"),
                _ => (ErrorKind::Internal, "database-error"),
            }
        }
        // Every connection stayed busy for the whole acquire timeout: the
        // database is overloaded, not slow to answer one statement.
        sqlx::Error::PoolTimedOut => (ErrorKind::Unavailable, "database-pool-exhausted"),
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
