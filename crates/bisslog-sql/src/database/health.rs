//! What a [`Database`](super::Database) knows of its server and its
//! storage: whether a PostgreSQL server is in an outage (calls fail fast
//! while it lasts, and a probe notices its return), and when the storage
//! last failed a write and last took one (readiness, retiring
//! connections).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use bisslog_core::{Error, ErrorKind};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::faults::{self, tick};

/// How long a PostgreSQL connection may take to come out of the pool
/// before the server is asked directly whether it is there.
pub(crate) const SUSPECT_AFTER: Duration = Duration::from_millis(250);
/// How long a probe connection may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How often an outage is probed: the return of the server is noticed
/// within this, plus one connection.
const PROBE_EVERY: Duration = Duration::from_millis(200);
/// How long a probe that reached the server vouches for it, so a busy
/// pool is not probed on every slow acquisition.
const REACHABLE_FOR: Duration = Duration::from_secs(1);
/// How long after a failed write the storage is still reported unready,
/// even if a small probe write gets through (a full disk may still take
/// one page).
pub(crate) const FAULT_WINDOW: Duration = Duration::from_secs(2);
/// What callers are told to wait before trying again during an outage.
pub(crate) const RETRY_AFTER_SECONDS: u64 = 1;

/// The health of one database, shared by its clones.
pub(crate) struct Health {
    /// How to open a probe connection (PostgreSQL only).
    probe: Option<PgConnectOptions>,
    outage: Mutex<Option<Outage>>,
    /// One probe at a time; waiting callers take its verdict.
    probing: tokio::sync::Mutex<()>,
    /// When a probe last reached the server, as a [`tick`].
    reached_at: AtomicU64,
    /// When this database last failed a write for its storage.
    fault_at: AtomicU64,
    fault: Mutex<Option<String>>,
    /// When this database last committed a write.
    write_ok_at: AtomicU64,
}

struct Outage {
    since: Instant,
    error: String,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("outage", &self.outage_error())
            .field("fault_at", &self.fault_at.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Health {
    /// The health of a SQLite database.
    pub(crate) fn sqlite() -> Arc<Self> {
        Self::new(None)
    }

    /// The health of a PostgreSQL server reached with `options`.
    pub(crate) fn postgres(options: PgConnectOptions) -> Arc<Self> {
        Self::new(Some(options))
    }

    fn new(probe: Option<PgConnectOptions>) -> Arc<Self> {
        Arc::new(Self {
            probe,
            outage: Mutex::new(None),
            probing: tokio::sync::Mutex::new(()),
            reached_at: AtomicU64::new(0),
            fault_at: AtomicU64::new(0),
            fault: Mutex::new(None),
            write_ok_at: AtomicU64::new(0),
        })
    }

    // --- outages (PostgreSQL) ---------------------------------------------

    fn outage_error(&self) -> Option<(Duration, String)> {
        let outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
        outage
            .as_ref()
            .map(|o| (o.since.elapsed(), o.error.clone()))
    }

    /// `Err` at once while the server is known to be unreachable.
    pub(crate) fn fail_fast(&self) -> Result<(), Error> {
        match self.outage_error() {
            Some((lasted, error)) => Err(unreachable(lasted, &error)),
            None => Ok(()),
        }
    }

    /// A connection is slow to come: asks the server directly (one probe
    /// at a time, its verdict reused for a second). `Err` when it cannot
    /// be reached: the outage starts, and callers fail fast until a
    /// background probe reaches the server again.
    pub(crate) async fn suspect(self: &Arc<Self>) -> Result<(), Error> {
        let Some(options) = &self.probe else {
            return Ok(());
        };
        let _turn = self.probing.lock().await;
        self.fail_fast()?;
        let reached = self.reached_at.load(Ordering::Relaxed);
        if reached != 0 && tick().saturating_sub(reached) < millis(REACHABLE_FOR) {
            return Ok(());
        }
        match probe(options).await {
            Ok(()) => {
                self.reached_at.store(tick(), Ordering::Relaxed);
                Ok(())
            }
            Err(error) => {
                self.start_outage(error.clone());
                Err(unreachable(Duration::ZERO, &error))
            }
        }
    }

    fn start_outage(self: &Arc<Self>, error: String) {
        {
            let mut outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
            if outage.is_some() {
                return;
            }
            *outage = Some(Outage {
                since: Instant::now(),
                error: error.clone(),
            });
        }
        tracing::warn!(
            checkpoint_id = "database-unreachable",
            error = %error,
            "the database cannot be reached; calls fail at once with 503 until it is back (probed every {} ms)",
            PROBE_EVERY.as_millis()
        );
        tokio::spawn(watch_outage(Arc::downgrade(self)));
    }

    fn end_outage(&self, probes: u64) {
        let outage = self
            .outage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.reached_at.store(tick(), Ordering::Relaxed);
        if let Some(outage) = outage {
            tracing::info!(
                checkpoint_id = "database-reachable",
                "the database is reachable again after {} ms ({probes} probes)",
                outage.since.elapsed().as_millis()
            );
        }
    }

    // --- storage faults -----------------------------------------------------

    /// Notes a driver error of this database: a storage fault retires the
    /// connections opened before it and makes the storage unready for a
    /// while. (The process-wide note is `map_error`'s, which every error
    /// noted here goes through next.)
    pub(crate) fn note_error(&self, error: &sqlx::Error) {
        if faults::storage_fault(error).is_some() {
            self.fault_at.fetch_max(tick(), Ordering::Relaxed);
            *self.fault.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.to_string());
        }
    }

    /// Notes a storage fault now, as a driver error would (tests).
    #[cfg(test)]
    pub(crate) fn note_fault_now(&self) {
        self.fault_at.fetch_max(tick(), Ordering::Relaxed);
    }

    /// Notes a committed write.
    pub(crate) fn note_write(&self) {
        self.write_ok_at.store(tick(), Ordering::Relaxed);
    }

    /// Whether a pooled connection of `age` predates the last storage
    /// fault (this database's or, for SQLite, any of the process's), and so
    /// must be closed rather than handed out.
    pub(crate) fn retire(&self, age: Duration) -> bool {
        faults::opened_before(age, self.last_fault())
    }

    /// The last storage fault that concerns this database: its own, and
    /// for SQLite also those of the process's other SQLite databases
    /// (`map_error` cannot tell which database an error came from).
    fn last_fault(&self) -> u64 {
        let own = self.fault_at.load(Ordering::Relaxed);
        match self.probe {
            None => own.max(faults::last_fault()),
            Some(_) => own,
        }
    }

    /// Whether a storage fault was seen (here or, for SQLite, anywhere in
    /// the process) since the last committed write: readiness then proves
    /// the storage with a write of its own.
    pub(crate) fn write_in_doubt(&self) -> bool {
        let fault = self.last_fault();
        fault != 0 && fault >= self.write_ok_at.load(Ordering::Relaxed)
    }

    /// The last storage fault of this database, if it happened within
    /// [`FAULT_WINDOW`].
    pub(crate) fn recent_fault(&self) -> Option<(Duration, String)> {
        let at = self.fault_at.load(Ordering::Relaxed);
        if at == 0 {
            return None;
        }
        let ago = Duration::from_millis(tick().saturating_sub(at));
        if ago >= FAULT_WINDOW {
            return None;
        }
        let fault = self.fault.lock().unwrap_or_else(PoisonError::into_inner);
        Some((ago, fault.clone().unwrap_or_default()))
    }
}

/// Probes the server until it answers, then ends the outage. Stops when
/// the database is dropped.
async fn watch_outage(health: Weak<Health>) {
    let mut probes = 0_u64;
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let Some(health) = health.upgrade() else {
            return;
        };
        let Some(options) = &health.probe else {
            return;
        };
        probes += 1;
        match probe(options).await {
            Ok(()) => {
                health.end_outage(probes);
                return;
            }
            Err(error) => {
                if let Some(outage) = health
                    .outage
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_mut()
                {
                    outage.error = error;
                }
            }
        }
    }
}

/// Opens and closes one connection, within [`PROBE_TIMEOUT`].
async fn probe(options: &PgConnectOptions) -> Result<(), String> {
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => {
            // Closing politely is a courtesy to the server; the probe has
            // its answer either way.
            let _ = connection.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!(
            "no connection within {} ms",
            PROBE_TIMEOUT.as_millis()
        )),
    }
}

/// The error of a call made while the server cannot be reached: 503 with
/// `Retry-After`, for an entry point; transient, for a consumer.
pub(crate) fn unreachable(lasted: Duration, error: &str) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "database-unreachable",
        format!(
            "the database cannot be reached (for {} ms): {error}",
            lasted.as_millis()
        ),
    )
    .with_details(serde_json::json!({ "retry_after": RETRY_AFTER_SECONDS }))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
