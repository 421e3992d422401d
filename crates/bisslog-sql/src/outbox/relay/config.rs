//! How a relay works: [`RelayConfig`], every field with a default.

use std::time::Duration;

/// How a relay works; every field has a default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RelayConfig {
    /// Events read per round.
    pub batch_size: u32,
    /// Keys (and unkeyed events) published at once.
    pub concurrency: usize,
    /// How often the outbox is read when nothing wakes the relay (events
    /// committed by other instances).
    pub poll_interval: Duration,
    /// How long the relay lease lasts without renewal; another instance's
    /// relay takes over after it. The holder renews it once half of it has
    /// passed ([`Lease::hold`](crate::Lease::hold)), so the instances' wall
    /// clocks must agree to well within half of it.
    pub lease_ttl: Duration,
    /// The delay after an event's first failed publication (the broker
    /// refused it); it doubles each time.
    pub first_backoff: Duration,
    /// The longest delay between an event's attempts.
    pub max_backoff: Duration,
    /// The pause after the relay's first failed round (the database or
    /// the broker cannot be reached); it doubles, with jitter, each round
    /// that fails in a row.
    pub failure_backoff_first: Duration,
    /// The longest pause between failed rounds.
    pub failure_backoff_max: Duration,
    /// While the broker cannot be reached, how often the relay asks it
    /// whether it can again
    /// ([`Broker::ready`](bisslog_messaging::Broker::ready), no publishing),
    /// so that it goes on as soon as the broker is back rather than when
    /// its pause ends.
    pub recovery_probe: Duration,
    /// How long published events are kept (for inspection) before they
    /// are deleted.
    pub published_retention: Duration,
    /// How long inbox entries are kept. Redeliveries older than this are
    /// no longer recognised: keep it well above the brokers' redelivery
    /// horizon.
    pub inbox_retention: Duration,
    /// Provision a queue the broker says does not exist.
    pub provision: bool,
    /// How long [`RunningRelay::shutdown`](super::RunningRelay::shutdown)
    /// waits for the round in progress before it stops the relay where it
    /// is. The events of that round stay
    /// in the outbox (they are marked published only after the broker took
    /// them) and go out again from the next relay to hold the lease.
    pub shutdown_grace: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            concurrency: 64,
            poll_interval: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(15),
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            failure_backoff_first: Duration::from_millis(200),
            failure_backoff_max: Duration::from_secs(30),
            recovery_probe: Duration::from_millis(250),
            published_retention: Duration::from_secs(3600),
            inbox_retention: Duration::from_secs(7 * 24 * 3600),
            provision: true,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl RelayConfig {
    /// Sets [`RelayConfig::poll_interval`].
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets [`RelayConfig::lease_ttl`].
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// Sets [`RelayConfig::batch_size`] (at least 1).
    #[must_use]
    pub fn batch_size(mut self, size: u32) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// Sets the first and the longest delay between an event's attempts.
    #[must_use]
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.first_backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// Sets the first and the longest pause between failed rounds.
    #[must_use]
    pub fn failure_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.failure_backoff_first = first;
        self.failure_backoff_max = max.max(first);
        self
    }

    /// Sets [`RelayConfig::shutdown_grace`].
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Sets [`RelayConfig::recovery_probe`] (at least 10 ms).
    #[must_use]
    pub fn recovery_probe(mut self, every: Duration) -> Self {
        self.recovery_probe = every.max(Duration::from_millis(10));
        self
    }
}
