//! Taking a connection out of the pool, failing fast while the server is
//! gone.
//!
//! sqlx retries a refused connection until the pool's acquire timeout
//! (5 s), so without this every call of an outage would wait 5 s and end
//! as a timeout (504). Here a connection slow to come gets the server
//! asked directly: a refusal starts an outage (503 at once for every call
//! until a probe reaches the server again); an answer means the pool is
//! only busy, and the call keeps waiting its turn.

use bisslog_core::Error;
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};

use super::Database;
use super::health::SUSPECT_AFTER;
use crate::error::map_error;

impl Database {
    /// A SQLite connection (the pool retires those a storage fault made
    /// untrustworthy before handing them out).
    pub(crate) async fn acquire_sqlite(&self) -> Result<PoolConnection<Sqlite>, Error> {
        let pool = self.sqlite().ok_or_else(no_pool)?;
        pool.acquire().await.map_err(map_error)
    }

    /// A PostgreSQL connection, or `Unavailable` at once during an outage.
    pub(crate) async fn acquire_postgres(&self) -> Result<PoolConnection<Postgres>, Error> {
        let pool = self.postgres().ok_or_else(no_pool)?;
        let health = self.health();
        health.fail_fast()?;
        let mut acquire = std::pin::pin!(pool.acquire());
        if let Ok(result) = tokio::time::timeout(SUSPECT_AFTER, &mut acquire).await {
            return result.map_err(|e| self.acquire_failed(e));
        }
        tokio::select! {
            result = &mut acquire => result.map_err(|e| self.acquire_failed(e)),
            verdict = health.suspect() => {
                verdict?;
                acquire.await.map_err(|e| self.acquire_failed(e))
            }
        }
    }

    /// A failed acquisition: during an outage it is the outage's error.
    fn acquire_failed(&self, error: sqlx::Error) -> Error {
        match self.health().fail_fast() {
            Err(outage) => outage,
            Ok(()) => map_error(error),
        }
    }
}

pub(crate) fn no_pool() -> Error {
    Error::internal("the database has no pool")
}
