//! The `greetings` port in SQL: SQLite or PostgreSQL through
//! `bisslog::sql`, its table created by the service's migrations.

use bisslog::sql::{Database, Migration, SqlError, map_error, on_engine, sqlx};
use bisslog::{Adapter, BoxFuture, Error};
use greeter_domain::ports::greetings::Greetings;

/// The service's tables, for both engines. Keep every table of the
/// service in this one list: versions are the service's, not a port's.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "greetings",
    sqlite: "CREATE TABLE greetings (name TEXT PRIMARY KEY, count INTEGER NOT NULL)",
    postgres: "CREATE TABLE greetings (name TEXT PRIMARY KEY, count BIGINT NOT NULL)",
}];

/// Greeting counts in the service's SQL database. Clones share the pool.
#[derive(Debug, Clone)]
pub struct SqlGreetings {
    db: Database,
}

impl SqlGreetings {
    /// On `db`, already connected: creates the tables it needs.
    pub async fn new(db: Database) -> Result<Self, SqlError> {
        db.migrate(MIGRATIONS).await?;
        Ok(Self { db })
    }
}

impl Adapter for SqlGreetings {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        self.db.ready()
    }
}

impl Greetings for SqlGreetings {
    async fn record_greeting(&self, name: &str) -> Result<u64, Error> {
        // The use case's transaction when it has one, else one of its own.
        let mut session = self.db.begin().await?;
        let count: i64 = on_engine!(session.connection()?, tx => {
            sqlx::query_scalar(
                "INSERT INTO greetings (name, count) VALUES ($1, 1) \
                 ON CONFLICT (name) DO UPDATE SET count = greetings.count + 1 \
                 RETURNING count",
            )
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?
        });
        session.commit().await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }
}
