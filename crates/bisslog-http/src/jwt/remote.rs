//! A JWKS fetched from a URL: cached, refreshed when a token names a key
//! the cache does not hold, at most once per interval, and never waited on
//! by tokens whose key is cached.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::keys::{Key, KeySet};

/// The largest JWKS document read; a key set is a few kilobytes.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Decides whether a refresh may start now: at most one per interval, so
/// that a flood of tokens naming random `kid`s cannot hammer the JWKS
/// server (nor make every such request wait for it).
#[derive(Debug)]
pub(super) struct RefreshGate {
    interval: Duration,
    last: Option<Instant>,
}

impl RefreshGate {
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: None,
        }
    }

    /// Whether a refresh may start at `now`; if so it counts as started.
    pub(super) fn try_start(&mut self, now: Instant) -> bool {
        let open = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if open {
            self.last = Some(now);
        }
        open
    }
}

/// Why a JWKS fetch failed (logged, never shown to callers).
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("the request failed: {0}")]
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
        timeout: Duration,
        min_refresh_interval: Duration,
    ) -> Result<Self, super::JwtError> {
        let client = reqwest::Client::builder()
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
        if !gate.try_start(Instant::now()) {
            tracing::debug!(url = %self.url, "JWKS refresh skipped: refreshed recently");
            return None;
        }
        match tokio::time::timeout(self.timeout, self.fetch()).await {
            Ok(Ok(keys)) => {
                tracing::info!(url = %self.url, keys = keys.keys.len(), "JWKS refreshed");
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
            }
            Ok(Err(error)) => {
                tracing::warn!(url = %self.url, %error, "JWKS refresh failed; the cached keys stay");
            }
            Err(_) => {
                let error = FetchError::Timeout(self.timeout);
                tracing::warn!(url = %self.url, %error, "JWKS refresh failed; the cached keys stay");
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_opens_once_per_interval() {
        let start = Instant::now();
        let mut gate = RefreshGate::new(Duration::from_secs(60));
        assert!(gate.try_start(start), "the first fetch");
        assert!(!gate.try_start(start));
        assert!(!gate.try_start(start + Duration::from_secs(59)));
        assert!(gate.try_start(start + Duration::from_secs(60)));
        assert!(!gate.try_start(start + Duration::from_secs(61)));
        let mut always = RefreshGate::new(Duration::ZERO);
        assert!(always.try_start(start));
        assert!(always.try_start(start));
    }
}
