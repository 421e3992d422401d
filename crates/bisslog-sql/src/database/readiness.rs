//! Whether a database can serve: reachable, and for SQLite able to write.

use bisslog_core::{Error, ErrorKind};

use super::Database;
use super::health::FAULT_WINDOW;
use crate::on_engine;
use crate::work::Tx;

/// Created by the write probe the first time it runs: readiness writes
/// one row here only after a storage fault, to prove writes work again.
const PROBE_TABLE: &str = "CREATE TABLE IF NOT EXISTS bisslog_health (id INTEGER PRIMARY KEY, probed_at_ms INTEGER NOT NULL)";
const PROBE_WRITE: &str = "INSERT INTO bisslog_health (id, probed_at_ms) VALUES (1, $1) \
    ON CONFLICT (id) DO UPDATE SET probed_at_ms = excluded.probed_at_ms";

impl Database {
    /// Runs `SELECT 1` on a pooled connection (failing fast during an
    /// outage).
    pub async fn ping(&self) -> Result<(), Error> {
        let mut conn = self.acquire().await?;
        on_engine!(conn.connection(), conn => {
            sqlx::query("SELECT 1").execute(conn).await.map(drop)
        })
        .map_err(|e| self.statement_failed(e))?;
        conn.reusable();
        Ok(())
    }

    /// Whether the database can serve, as `/health/ready` asks: during a
    /// PostgreSQL outage `Err` at once; after a SQLite storage fault, `Err`
    /// until a write of its own commits and no write has failed for two
    /// seconds. Otherwise a `SELECT 1`.
    pub async fn check_ready(&self) -> Result<(), Error> {
        self.health().fail_fast()?;
        self.ping().await?;
        if self.health().write_in_doubt() {
            self.probe_write().await?;
        }
        if let Some((ago, fault)) = self.health().recent_fault() {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "database-storage-failing",
                format!(
                    "the storage failed a write {} ms ago (unready for {} s after a failure): {fault}",
                    ago.as_millis(),
                    FAULT_WINDOW.as_secs()
                ),
            ));
        }
        Ok(())
    }

    /// Commits one small write, proving the storage takes writes again.
    async fn probe_write(&self) -> Result<(), Error> {
        let mut tx = Tx::begin(self).await?;
        let now = crate::clock::now_ms();
        let written = on_engine!(tx.connection(), conn => {
            async {
                sqlx::query(PROBE_TABLE).execute(&mut *conn).await?;
                sqlx::query(PROBE_WRITE).bind(now).execute(&mut *conn).await
            }
            .await
            .map(drop)
        });
        match written {
            Ok(()) => tx.commit().await,
            Err(error) => {
                let error = self.statement_failed(error);
                // Rolling back is best effort: a connection that cannot is
                // closed by the transaction itself.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    /// A statement of the framework's own failed: notes a storage fault
    /// against this database, then maps the error.
    pub(crate) fn statement_failed(&self, error: sqlx::Error) -> Error {
        self.health().note_error(&error);
        crate::error::map_error(error)
    }
}
