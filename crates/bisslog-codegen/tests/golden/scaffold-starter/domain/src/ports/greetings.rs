//! The `greetings` port: how many times each name was greeted.

use std::future::Future;

use bisslog_core::Error;

/// How the domain counts greetings. The service implements it in memory
/// and in SQL (`src/adapters`).
pub trait Greetings: Send + Sync + 'static {
    /// Counts one more greeting of `name`; how many there were, this one
    /// included.
    fn record_greeting(&self, name: &str) -> impl Future<Output = Result<u64, Error>> + Send;
}
