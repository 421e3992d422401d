//! The database: bisslog-sql's inbox table and a small use-case table, on a
//! fresh WAL file with bisslog-sql's pragmas.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// bisslog-sql's inbox (crates/bisslog-sql/src/framework.rs) and the use
/// case's table; the CHECK lets a message's use case fail on demand.
pub(crate) const TABLES: &str = "
    CREATE TABLE bisslog_inbox (
        consumer TEXT NOT NULL,
        message_id TEXT NOT NULL,
        handled_at_ms INTEGER NOT NULL,
        PRIMARY KEY (consumer, message_id)
    );
    CREATE INDEX bisslog_inbox_by_age ON bisslog_inbox (handled_at_ms);
    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        total INTEGER NOT NULL CHECK (total >= 0)
    );
";

/// bisslog-sql's inbox statement (crates/bisslog-sql/src/work.rs).
pub(crate) const RECORD: &str = "INSERT INTO bisslog_inbox (consumer, message_id, handled_at_ms) \
    VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// The use case's one write.
pub(crate) const USE_CASE: &str = "INSERT INTO results (message_id, total) VALUES ($1, $2)";

/// A fresh database file (and its WAL and shared-memory files) in `dir`,
/// with the tables, written through rusqlite with the same pragmas.
pub(crate) fn fresh(dir: &Path, design: &str) -> Result<std::path::PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("inbox-{design}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{file}: {e}")),
        }
    }
    let conn = open_rusqlite(&path)?;
    conn.execute_batch(TABLES)
        .map_err(|e| format!("tables: {e}"))?;
    Ok(path)
}

/// A rusqlite connection with bisslog-sql's pragmas: WAL,
/// synchronous=NORMAL, a 5 s busy timeout, foreign keys on.
pub(crate) fn open_rusqlite(path: &Path) -> Result<rusqlite::Connection, String> {
    let conn =
        rusqlite::Connection::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| format!("journal_mode: {e}"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("journal_mode is {mode}, not wal"));
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .map_err(|e| format!("pragmas: {e}"))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| format!("busy_timeout: {e}"))?;
    Ok(conn)
}

/// A pool as bisslog-sql's `Database::connect` builds it for a file URL
/// (default size, 10 connections; the same options).
pub(crate) async fn sqlx_pool(path: &Path) -> Result<SqlitePool, String> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(|e| format!("url: {e}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| format!("pool: {e}"))
}

/// Rows in the inbox and in the use case's table.
pub(crate) fn counts(path: &Path) -> Result<(i64, i64), String> {
    let conn = open_rusqlite(path)?;
    let count = |table: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .map_err(|e| format!("count {table}: {e}"))
    };
    Ok((count("bisslog_inbox")?, count("results")?))
}
