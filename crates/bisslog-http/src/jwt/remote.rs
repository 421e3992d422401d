//! A JWKS fetched from a URL: cached, refreshed when a token names a key
//! the cache does not hold, at most once per interval, and never waited on
//! by tokens whose key is cached.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::keys::{Key, KeySet};

/// The largest JWKS document read; a key set is a few kilobytes.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// The wait after a failed fetch before the next may start; it doubles
/// with each failure in a row, up to the refresh interval.
pub(super) const FIRST_RETRY: Duration = Duration::from_secs(1);

/// The longest interval kept (a century): adding a longer one to an
/// `Instant` could overflow, which panics.
const MAX_INTERVAL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Decides whether a refresh may start now. After a successful fetch, at
/// most one per interval, so that a flood of tokens naming random `kid`s
/// cannot hammer the JWKS server (nor make every such request wait for
/// it). After a failed one, sooner: a server down at the first token must
/// not lock new keys out for a whole interval, so the next fetch may come
/// [`FIRST_RETRY`] later, then twice that, up to the interval.
#[derive(Debug)]
pub(super) struct RefreshGate {
    interval: Duration,
    /// When the next fetch may start; `None`: now.
    next: Option<Instant>,
    /// The wait after the next failure.
    retry: Duration,
}

impl RefreshGate {
    pub(super) fn new(interval: Duration) -> Self {
        let interval = interval.min(MAX_INTERVAL);
        Self {
            interval,
            next: None,
            retry: FIRST_RETRY.min(interval),
        }
    }

    /// Whether a refresh may start at `now`; if so it counts as started,
    /// and as failed until [`succeeded`](Self::succeeded) or
    /// [`failed`](Self::failed) says otherwise (a fetch whose request was
    /// dropped midway counts as a failure).
    pub(super) fn try_start(&mut self, now: Instant) -> bool {
        let open = self.next.is_none_or(|next| now >= next);
        if open {
            self.next = Some(now + self.retry);
        }
        open
    }

    /// The fetch started at `started` succeeded: the next one a whole
    /// interval after it, and the backoff starts over.
    pub(super) fn succeeded(&mut self, started: Instant) {
        self.next = Some(started + self.interval);
        self.retry = FIRST_RETRY.min(self.interval);
    }

    /// The fetch failed at `now`: the next one after the current backoff,
    /// which doubles for the failure after it.
    pub(super) fn failed(&mut self, now: Instant) {
        self.next = Some(now + self.retry);
        self.retry = self.retry.saturating_mul(2).min(self.interval);
    }
}

/// Why a JWKS fetch failed (logged, never shown to callers).
#[derive(Debug, thiserror::Error)]
enum FetchError {
    // reqwest's error and its sources follow in the log line (`error_chain`).
    #[error("the request failed")]
    Request(#[from] reqwest::Error),
    #[error("the JWKS server answered {0}")]
    Status(reqwest::StatusCode),
    #[error("the JWKS document is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Keys(#[from] super::JwtError),
}

/// The keys of a JWKS URL.
pub(super) struct RemoteKeys {
    url: reqwest::Url,
    client: reqwest::Client,
    timeout: Duration,
    /// The keys of the last successful fetch; readers never wait on a
    /// fetch.
    current: RwLock<Arc<KeySet>>,
    /// Held during a refresh, so that concurrent misses fetch once.
    gate: tokio::sync::Mutex<RefreshGate>,
}

impl RemoteKeys {
    pub(super) fn new(
        url: reqwest::Url,
        ca: &bisslog_runtime::tls::CaBundle,
        timeout: Duration,
        min_refresh_interval: Duration,
    ) -> Result<Self, super::JwtError> {
        let client = bisslog_runtime::tls::client_builder(ca, url.scheme() == "https")?
            .timeout(timeout)
            // Fetches are rare: no idle connections kept, and no redirect
            // followed away from the configured server.
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(super::JwtError::Client)?;
        Ok(Self {
            url,
            client,
            timeout,
            current: RwLock::new(Arc::new(KeySet::default())),
            gate: tokio::sync::Mutex::new(RefreshGate::new(min_refresh_interval)),
        })
    }

    fn cached(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The key for a token's `kid`: from the cache, or after a refresh the
    /// gate allows. `None` fails closed.
    pub(super) async fn find(&self, kid: Option<&str>) -> Option<Arc<Key>> {
        if let Some(key) = self.cached().find(kid) {
            return Some(key);
        }
        let mut gate = self.gate.lock().await;
        // Another request may have refreshed while this one waited.
        if let Some(key) = self.cached().find(kid) {
            return Some(key);
        }
        let started = Instant::now();
        if !gate.try_start(started) {
            tracing::debug!(url = %self.url, "JWKS refresh skipped: fetched recently, or failed and backing off");
            return None;
        }
        let error = match tokio::time::timeout(self.timeout, self.fetch()).await {
            Ok(Ok(keys)) => {
                tracing::info!(url = %self.url, keys = keys.keys.len(), "JWKS refreshed");
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
                gate.succeeded(started);
                None
            }
            Ok(Err(error)) => Some(error),
            Err(_) => Some(FetchError::Timeout(self.timeout)),
        };
        if let Some(error) = error {
            gate.failed(Instant::now());
            // The whole chain: a TLS failure (an unknown CA, a wrong name)
            // is in the sources of reqwest's error.
            let error = error_chain(&error);
            tracing::warn!(url = %self.url, %error, "JWKS refresh failed; the cached keys stay");
        }
        drop(gate);
        self.cached().find(kid)
    }

    async fn fetch(&self) -> Result<KeySet, FetchError> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&body);
        Ok(KeySet::from_jwks(&text)?)
    }
}

/// `error` and its sources, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_success_the_gate_opens_once_per_interval() {
        let start = Instant::now();
        let mut gate = RefreshGate::new(Duration::from_secs(60));
        assert!(gate.try_start(start), "the first fetch");
        gate.succeeded(start);
        assert!(!gate.try_start(start));
        assert!(!gate.try_start(start + Duration::from_secs(59)));
        assert!(gate.try_start(start + Duration::from_secs(60)));
        gate.succeeded(start + Duration::from_secs(60));
        assert!(!gate.try_start(start + Duration::from_secs(61)));
        let mut never = RefreshGate::new(Duration::MAX);
        assert!(never.try_start(start));
        never.succeeded(start);
        assert!(!never.try_start(start + Duration::from_secs(3600)));
        let mut always = RefreshGate::new(Duration::ZERO);
        assert!(always.try_start(start));
        always.failed(start);
        assert!(always.try_start(start));
        always.succeeded(start);
        assert!(always.try_start(start));
    }

    #[test]
    fn after_failures_the_gate_backs_off_doubling_up_to_the_interval() {
        let secs = Duration::from_secs;
        let t0 = Instant::now();
        let mut gate = RefreshGate::new(secs(10));
        let mut at = t0;
        // Each failure is noticed 100 ms after the fetch started; the next
        // fetch may start 1, 2, 4, 8, then 10 (the interval) seconds later.
        for wait in [1, 2, 4, 8, 10, 10] {
            assert!(gate.try_start(at), "a fetch at {:?}", at - t0);
            let failed = at + Duration::from_millis(100);
            gate.failed(failed);
            assert!(!gate.try_start(failed));
            assert!(!gate.try_start(failed + secs(wait) - Duration::from_millis(1)));
            at = failed + secs(wait);
        }
        // A success resets the backoff and the interval rule applies again.
        assert!(gate.try_start(at));
        gate.succeeded(at);
        assert!(!gate.try_start(at + secs(9)));
        assert!(gate.try_start(at + secs(10)));
        gate.failed(at + secs(10));
        assert!(!gate.try_start(at + secs(10) + Duration::from_millis(999)));
        assert!(
            gate.try_start(at + secs(11)),
            "the backoff starts over at 1 s"
        );
    }

    #[test]
    fn a_fetch_that_never_reports_counts_as_failed() {
        let t0 = Instant::now();
        let mut gate = RefreshGate::new(Duration::from_secs(60));
        assert!(gate.try_start(t0));
        // The request was dropped midway: no `succeeded` nor `failed`.
        assert!(!gate.try_start(t0 + Duration::from_millis(999)));
        assert!(gate.try_start(t0 + FIRST_RETRY));
    }
}
