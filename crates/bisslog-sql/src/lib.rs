//! SQLite and PostgreSQL for bisslog services.
//!
//! **Where it fits:** A service uses it through the facade, as `bisslog::sql`
//! (feature `sql`); `bisslog::sql::sqlx` and `bisslog::sql::on_engine!` are
//! what adapters write statements with.
//!
//! - [`Database::connect`] opens a pool from a URL: `sqlite://...` (the
//!   embedded default, a file created when missing, WAL mode) or
//!   `postgres://...` (shared by every instance of a service).
//!   On a SQLite file the units of work of concurrent calls share
//!   transactions, up to 64, each in a savepoint of its own (group commit:
//!   about 4.5× the exactly-once messages per second; `?group_commit=N`
//!   sets the bound, `0` gives each call its own; docs/reliability.md).
//! - [`Database::migrate`] applies embedded [`Migration`]s once, in order,
//!   with a lock so instances starting together do not race.
//! - [`map_error`] turns driver errors into bisslog error kinds, so a
//!   unique violation is a 409 and a lost connection a 503 without any
//!   SQL type reaching the domain.
//! - [`SqlBroker`] is a durable [`Broker`](bisslog_messaging::Broker)
//!   in the same database: the embedded default that loses nothing on a
//!   crash.
//! - [`Database`] is an [`Adapter`](bisslog_core::Adapter): bind it and
//!   `/health/ready` pings it.
//!
//! ```no_run
//! use bisslog_sql::{Database, Migration, map_error};
//!
//! const MIGRATIONS: &[Migration] = &[Migration {
//!     version: 1,
//!     name: "notes",
//!     sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
//!     postgres: "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL)",
//! }];
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Database::connect("sqlite://notes.db").await?;
//! db.migrate(MIGRATIONS).await?;
//! if let Some(pool) = db.sqlite() {
//!     sqlx::query("INSERT INTO notes (text) VALUES ($1)")
//!         .bind("hello")
//!         .execute(pool)
//!         .await
//!         .map_err(map_error)?;
//! }
//! # Ok(()) }
//! ```

mod batch;
mod broker;
mod clock;
mod database;
mod error;
mod faults;
mod framework;
mod lease;
mod macros;
mod migrate;
mod outbox;
mod session;
#[cfg(feature = "testing")]
pub mod testing;
mod ticks;
mod work;

pub use broker::{SqlBroker, SqlBrokerConfig};
pub use database::{Backend, DEFAULT_GROUP_COMMIT, Database, PoolRef};
pub use error::{SqlError, map_error};
pub use lease::Lease;
pub use migrate::Migration;
pub use outbox::{
    Outbox, OutboxRelay, OutboxRow, RelayConfig, RelayHealth, RelayReport, RunningRelay,
};
pub use session::{Connection, Engine, Session};
pub use sqlx;
pub use ticks::SqlTicks;
