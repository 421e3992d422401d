//! The `greetings` port in memory: for tests, and for trying the service
//! without a database. Nothing survives the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bisslog::{Adapter, Error};
use greeter_domain::ports::greetings::Greetings;

/// Greeting counts in memory. Clones share the same counts.
#[derive(Debug, Clone, Default)]
pub struct MemoryGreetings {
    counts: Arc<Mutex<HashMap<String, u64>>>,
}

impl Adapter for MemoryGreetings {}

impl Greetings for MemoryGreetings {
    async fn record_greeting(&self, name: &str) -> Result<u64, Error> {
        // A panic elsewhere while holding the lock leaves the counts usable.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(name.to_owned()).or_default();
        *count += 1;
        Ok(*count)
    }
}
