//! Storage faults: the driver errors after which a SQLite connection can
//! no longer be trusted, and when the process last saw one.
//!
//! SQLite opens a file read-only, silently, when it cannot open it for
//! writing (a write-protected file, a read-only mount), and that
//! connection stays read-only for its whole life. A full disk or an I/O
//! error can leave a connection inside a transaction whose state nobody
//! knows. Either way the connection must not be reused: every SQLite pool
//! of the process retires the connections opened before the last fault it
//! heard of (see `Database::connect`), and opens fresh ones, which work as
//! soon as the storage does.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The SQLite primary result codes that mean the storage, not the
/// statement, failed: `SQLITE_READONLY` (8), `SQLITE_IOERR` (10),
/// `SQLITE_CORRUPT` (11), `SQLITE_FULL` (13), `SQLITE_CANTOPEN` (14),
/// `SQLITE_NOTADB` (26).
const STORAGE_CODES: [i32; 6] = [8, 10, 11, 13, 14, 26];

/// What a storage fault is, for the error code and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StorageFault {
    /// The disk (or its quota) is full.
    Full,
    /// The database cannot be written: a read-only file or mount.
    ReadOnly,
    /// The operating system failed an I/O, or the file cannot be opened.
    Io,
    /// The file is damaged or is not a database.
    Corrupt,
}

impl StorageFault {
    /// The stable error code callers see.
    pub(crate) const fn code(self) -> &'static str {
        match self {
            StorageFault::Full => "database-storage-full",
            StorageFault::ReadOnly => "database-read-only",
            StorageFault::Io => "database-io-error",
            StorageFault::Corrupt => "database-corrupt",
        }
    }
}

/// The storage fault a SQLite error reports, if it is one. The driver
/// gives the extended result code as text; its low byte is the primary
/// code.
pub(crate) fn storage_fault(error: &sqlx::Error) -> Option<StorageFault> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    // PostgreSQL's codes are SQLSTATEs (five characters, often letters):
    // only SQLite's are plain numbers.
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code: i32 = db.code()?.parse().ok()?;
    let primary = code & 0xff;
    if !STORAGE_CODES.contains(&primary) {
        return None;
    }
    Some(match primary {
        13 => StorageFault::Full,
        8 => StorageFault::ReadOnly,
        11 | 26 => StorageFault::Corrupt,
        _ => StorageFault::Io,
    })
}

/// Milliseconds on the process's monotonic clock, plus one, so that zero
/// can mean "never".
pub(crate) fn tick() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

/// The last storage fault any SQLite database of the process reported
/// through [`map_error`](crate::map_error), as a [`tick`].
static LAST_FAULT: AtomicU64 = AtomicU64::new(0);

/// Notes `error` when it is a storage fault.
pub(crate) fn note(error: &sqlx::Error) -> Option<StorageFault> {
    let fault = storage_fault(error)?;
    LAST_FAULT.fetch_max(tick(), Ordering::Relaxed);
    Some(fault)
}

/// The [`tick`] of the last storage fault of the process (0: none).
pub(crate) fn last_fault() -> u64 {
    LAST_FAULT.load(Ordering::Relaxed)
}

/// Whether a connection of `age` was opened at or before the tick `fault`
/// (and so must be retired). A connection opened in the same millisecond
/// counts as older: retiring a good connection costs one reconnection,
/// keeping a bad one costs failed writes.
pub(crate) fn opened_before(age: Duration, fault: u64) -> bool {
    opened_before_at(tick(), age, fault)
}

fn opened_before_at(now: u64, age: Duration, fault: u64) -> bool {
    if fault == 0 {
        return false;
    }
    let age_ms = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
    now.saturating_sub(age_ms) <= fault
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_older_than_a_fault_are_retired_and_younger_ones_kept() {
        // No fault: nothing is retired, however old.
        assert!(!opened_before_at(10_000, Duration::from_secs(3600), 0));
        // Opened at 9,990, fault at 9,995: retired.
        assert!(opened_before_at(10_000, Duration::from_millis(10), 9_995));
        // Opened in the fault's millisecond: retired too.
        assert!(opened_before_at(10_000, Duration::from_millis(5), 9_995));
        // Opened at 9,998, after the fault: kept.
        assert!(!opened_before_at(10_000, Duration::from_millis(2), 9_995));
    }
}
