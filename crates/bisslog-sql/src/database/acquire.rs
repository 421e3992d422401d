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
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{Postgres, SqliteConnection};

use super::health::SUSPECT_AFTER;
use super::kept::Kept;
use super::{Backend, Database, PoolRef};
use crate::error::map_error;
use crate::session::Connection;
use crate::session::Engine;

/// A connection out of the pool, on either engine; on SQLite one the
/// framework keeps between its statements when it ends
/// [reusable](PooledConnection::reusable) (`kept.rs`).
pub(crate) enum PooledConnection {
    Sqlite(Kept),
    Postgres(PoolConnection<Postgres>),
}

impl PooledConnection {
    /// The connection to run statements on.
    pub(crate) fn connection(&mut self) -> Connection<'_> {
        match self {
            PooledConnection::Sqlite(conn) => Connection::Sqlite(conn),
            PooledConnection::Postgres(conn) => Connection::Postgres(conn),
        }
    }

    /// The engine.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            PooledConnection::Sqlite(_) => Backend::Sqlite,
            PooledConnection::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs one statement unprepared (`BEGIN`, `COMMIT`...).
    pub(crate) async fn run_raw(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        match self {
            PooledConnection::Sqlite(conn) => {
                sqlx::raw_sql(sql).execute(&mut **conn).await.map(drop)
            }
            PooledConnection::Postgres(conn) => {
                sqlx::raw_sql(sql).execute(&mut **conn).await.map(drop)
            }
        }
    }

    /// Closes the connection when it is dropped instead of pooling it.
    pub(crate) fn discard(&mut self) {
        match self {
            PooledConnection::Sqlite(conn) => conn.close_on_drop(),
            PooledConnection::Postgres(conn) => conn.close_on_drop(),
        }
    }

    /// Says what ran on the connection ended well (a statement, a
    /// `COMMIT`): a SQLite one is then kept for the framework's next
    /// statement instead of going back through the pool's check, a round
    /// trip to its thread. Say it after the last statement.
    pub(crate) fn reusable(&mut self) {
        if let PooledConnection::Sqlite(conn) = self {
            conn.reusable();
        }
    }
}

/// Where one of the framework's own statements runs outside a
/// transaction: on SQLite a kept connection (given back without the
/// pool's round trip when the statement ended well), on PostgreSQL the
/// pool itself.
pub(crate) enum StatementConnection<'a> {
    Sqlite(Kept),
    Postgres(&'a PgPool),
}

impl StatementConnection<'_> {
    /// What [`on_engine!`](crate::on_engine) runs the statement on.
    pub(crate) fn engine(&mut self) -> Engine<&mut SqliteConnection, &PgPool> {
        match self {
            StatementConnection::Sqlite(conn) => Engine::Sqlite(conn),
            StatementConnection::Postgres(pool) => Engine::Postgres(pool),
        }
    }

    /// Says the statement ended well: see [`PooledConnection::reusable`].
    pub(crate) fn reusable(&mut self) {
        if let StatementConnection::Sqlite(conn) = self {
            conn.reusable();
        }
    }
}

impl Database {
    /// A connection for one of the framework's statements outside a
    /// transaction (the durable broker's): errors are the driver's, for
    /// the caller to map.
    pub(crate) async fn statement_connection(
        &self,
    ) -> Result<StatementConnection<'_>, sqlx::Error> {
        match self.pool() {
            PoolRef::Postgres(pool) => Ok(StatementConnection::Postgres(pool)),
            PoolRef::Sqlite(pool) => Ok(StatementConnection::Sqlite(
                self.kept_connection(pool).await?,
            )),
        }
    }

    /// A SQLite connection: a kept one (or whichever comes first of the
    /// pool's and a kept one coming back), or the pool's when the
    /// database keeps none (in memory).
    async fn kept_connection(&self, pool: &SqlitePool) -> Result<Kept, sqlx::Error> {
        match self.keeper() {
            Some(keeper) => keeper.acquire().await,
            None => Ok(Kept::pooled(pool.acquire().await?)),
        }
    }

    /// A connection of this database's engine: see `acquire_sqlite` and
    /// `acquire_postgres`.
    pub(crate) async fn acquire(&self) -> Result<PooledConnection, Error> {
        Ok(match self.backend() {
            Backend::Sqlite => PooledConnection::Sqlite(self.acquire_sqlite().await?),
            Backend::Postgres => PooledConnection::Postgres(self.acquire_postgres().await?),
        })
    }

    /// A SQLite connection: a kept one when there is one, else one of the
    /// pool (both retire those a storage fault made untrustworthy before
    /// handing them out).
    async fn acquire_sqlite(&self) -> Result<Kept, Error> {
        let pool = self.sqlite().ok_or_else(no_pool)?;
        self.kept_connection(pool).await.map_err(map_error)
    }

    /// A PostgreSQL connection, or `Unavailable` at once during an outage.
    async fn acquire_postgres(&self) -> Result<PoolConnection<Postgres>, Error> {
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
