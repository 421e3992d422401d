//! The SQL parts' series, read from them at each scrape: the database
//! pool's connections and the outbox relay's backlog and counters.

use std::sync::Mutex;

use bisslog_runtime::metrics::Metrics;
use bisslog_sql::{Database, RelayHealth};

/// Sets `bisslog_db_pool_connections` from `database` at each scrape.
pub(crate) fn watch_pool(metrics: &Metrics, database: Database) {
    let pool = metrics.pool();
    metrics.on_scrape(move || {
        let (in_use, idle) = database.connections();
        pool.in_use.set(i64::from(in_use));
        pool.idle.set(i64::from(idle));
    });
}

/// Sets the `bisslog_outbox_*` series from the relays' health at each
/// scrape, summed over the relays (one per SQL database with an outbox).
pub(crate) fn watch_relays(metrics: &Metrics, relays: Vec<RelayHealth>) {
    let outbox = metrics.outbox();
    // What the counters were last raised to: the relays count on their own.
    let seen = Mutex::new((0_u64, 0_u64));
    metrics.on_scrape(move || {
        let published: u64 = relays.iter().map(RelayHealth::published).sum();
        let failures: u64 = relays.iter().map(RelayHealth::publish_failures).sum();
        if let Ok(mut seen) = seen.lock() {
            outbox.relayed.inc_by(published.saturating_sub(seen.0));
            outbox
                .relay_failures
                .inc_by(failures.saturating_sub(seen.1));
            *seen = (published.max(seen.0), failures.max(seen.1));
        }
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut pending = 0_u64;
        let mut oldest: Option<i64> = None;
        for relay in &relays {
            let (count, first) = relay.backlog();
            pending += count;
            oldest = match (oldest, first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        outbox
            .pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
        let age = oldest.map_or(0.0, |first| (now_ms - first).max(0) as f64 / 1000.0);
        outbox.oldest_pending_age.set(age);
    });
}
