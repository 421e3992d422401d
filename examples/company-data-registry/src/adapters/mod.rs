//! The adapters behind the ports: in memory (for tests), and SQL (SQLite
//! by default, PostgreSQL when `DATABASE_URL` says so).

pub mod memory;
pub mod sql;

pub use memory::MemoryStore;
pub use sql::SqlStore;
