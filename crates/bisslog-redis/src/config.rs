//! How a [`RedisBroker`](crate::RedisBroker) connects, publishes and reads:
//! [`RedisConfig`], read from the URL's query parameters or set in code.

use std::time::Duration;

use crate::error::ConfigError;

/// Options of a [`RedisBroker`](crate::RedisBroker); every field has a
/// default. [`RedisConfig::from_url`] reads them from the query of a
/// `redis://host:port/db?...` URL (the names below, durations in
/// milliseconds), the rest of the URL going to the Redis client as it is.
///
/// ```
/// use std::time::Duration;
/// use bisslog_redis::RedisConfig;
///
/// let (config, url) =
///     RedisConfig::from_url("redis://127.0.0.1:6379/0?max_len=100000&read_batch=16").unwrap();
/// assert_eq!(url, "redis://127.0.0.1:6379/0");
/// assert_eq!(config.max_len, Some(100_000));
/// assert_eq!(config.read_batch, Some(16));
///
/// let config = RedisConfig::default().claim_interval(Duration::from_millis(200));
/// assert_eq!(config.claim_interval, Some(Duration::from_millis(200)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `max_len`: publish with `XADD <queue> MAXLEN ~ <n>`, so that Redis
    /// trims the stream to about `n` entries (entries no consumer group
    /// has read yet included). Default: off, the stream is never trimmed
    /// by bisslog.
    pub max_len: Option<u64>,
    /// `read_batch`: the most entries one `XREADGROUP` takes. Default:
    /// half the subscription's prefetch, at most 256 (128 with the
    /// runner's defaults). The next read is sent when half of the last
    /// is handed out, so a subscriber holds at most 1.5 reads ahead (the
    /// prefetch, with the default). What is read waits in the instance
    /// until the runner takes it, and counts against its lease.
    pub read_batch: Option<usize>,
    /// `claim_interval_ms`: how often a subscriber looks for delayed
    /// retries that are due, released entries, and entries whose lease
    /// ran out (a crashed consumer's). Default: a quarter of the
    /// subscription's `ack_wait`, between 50 ms and 1 s. It bounds how
    /// late a retry or a released message is delivered.
    pub claim_interval: Option<Duration>,
    /// `response_timeout_ms`: how long a command (other than the blocking
    /// read) may take before it fails as a connection error. Default 5 s.
    pub response_timeout: Duration,
    /// `connection_timeout_ms`: how long connecting may take. Default 5 s.
    pub connection_timeout: Duration,
    /// `forget_consumers_after_ms`: a group's consumers of bisslog
    /// subscribers (`bisslog-...`) with nothing pending and idle this long
    /// belong to instances that are gone; subscribers remove them (at
    /// start, then every 10 minutes). Default 1 hour.
    pub forget_consumers_after: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            max_len: None,
            read_batch: None,
            claim_interval: None,
            response_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(5),
            forget_consumers_after: Duration::from_secs(3600),
        }
    }
}

/// The least and greatest default claim interval.
const CLAIM_INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(50), Duration::from_secs(1));

impl RedisConfig {
    /// Sets [`RedisConfig::max_len`].
    #[must_use]
    pub fn max_len(mut self, max_len: u64) -> Self {
        self.max_len = Some(max_len);
        self
    }

    /// Sets [`RedisConfig::read_batch`] (at least 1).
    #[must_use]
    pub fn read_batch(mut self, batch: usize) -> Self {
        self.read_batch = Some(batch.max(1));
        self
    }

    /// Sets [`RedisConfig::claim_interval`] (at least 1 ms).
    #[must_use]
    pub fn claim_interval(mut self, every: Duration) -> Self {
        self.claim_interval = Some(every.max(Duration::from_millis(1)));
        self
    }

    /// Sets [`RedisConfig::response_timeout`].
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Sets [`RedisConfig::forget_consumers_after`].
    #[must_use]
    pub fn forget_consumers_after(mut self, idle: Duration) -> Self {
        self.forget_consumers_after = idle;
        self
    }

    /// Sets [`RedisConfig::connection_timeout`].
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// The options in the query of `url`, and the URL without them (what
    /// the Redis client connects to; query parameters this crate does not
    /// know stay in it, for the client).
    pub fn from_url(url: &str) -> Result<(Self, String), ConfigError> {
        let mut config = Self::default();
        let Some((base, query)) = url.split_once('?') else {
            return Ok((config, url.to_owned()));
        };
        let mut rest = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let number = || {
                value.parse::<u64>().map_err(|_| ConfigError::Option {
                    name: name.to_string(),
                    value: value.to_string(),
                    expected: "a whole number",
                })
            };
            let millis = || number().map(Duration::from_millis);
            match &*name {
                "max_len" => config.max_len = Some(number()?),
                "read_batch" => {
                    config = config.read_batch(usize::try_from(number()?).unwrap_or(usize::MAX));
                }
                "claim_interval_ms" => config = config.claim_interval(millis()?),
                "response_timeout_ms" => config.response_timeout = millis()?,
                "connection_timeout_ms" => config.connection_timeout = millis()?,
                "forget_consumers_after_ms" => config.forget_consumers_after = millis()?,
                _ => rest.push((name.into_owned(), value.into_owned())),
            }
        }
        let base = if rest.is_empty() {
            base.to_owned()
        } else {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&rest)
                .finish();
            format!("{base}?{query}")
        };
        Ok((config, base))
    }

    /// The claim interval of a subscription leased for `ack_wait`.
    pub(crate) fn claim_every(&self, ack_wait: Duration) -> Duration {
        self.claim_interval
            .unwrap_or_else(|| (ack_wait / 4).clamp(CLAIM_INTERVAL_RANGE.0, CLAIM_INTERVAL_RANGE.1))
    }

    /// Entries per read for a subscription of `prefetch`.
    pub(crate) fn batch(&self, prefetch: u32) -> usize {
        self.read_batch
            .unwrap_or_else(|| (prefetch as usize / 2).clamp(1, 256))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn options_come_from_the_query_and_the_rest_goes_to_the_client() {
        let (config, url) = RedisConfig::from_url(
            "redis://:pw@localhost:6380/2?claim_interval_ms=250&protocol=resp2&max_len=10",
        )
        .unwrap();
        assert_eq!(url, "redis://:pw@localhost:6380/2?protocol=resp2");
        assert_eq!(config.claim_interval, Some(Duration::from_millis(250)));
        assert_eq!(config.max_len, Some(10));
        let (config, url) = RedisConfig::from_url("redis://localhost").unwrap();
        assert_eq!(
            (config, url.as_str()),
            (RedisConfig::default(), "redis://localhost")
        );
    }

    #[test]
    fn a_bad_option_names_itself() {
        let error = RedisConfig::from_url("redis://localhost?max_len=lots").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the option `max_len=lots` of the Redis URL is not a whole number"
        );
    }

    #[test]
    fn the_default_claim_interval_follows_the_lease() {
        let config = RedisConfig::default();
        assert_eq!(
            config.claim_every(Duration::from_secs(1)),
            Duration::from_millis(250)
        );
        assert_eq!(
            config.claim_every(Duration::from_secs(30)),
            Duration::from_secs(1)
        );
        assert_eq!(
            config.claim_every(Duration::from_millis(10)),
            Duration::from_millis(50)
        );
        assert_eq!(config.batch(256), 128);
        assert_eq!(config.batch(4096), 256);
        assert_eq!(config.batch(4), 2);
        assert_eq!(config.batch(1), 1);
    }
}
