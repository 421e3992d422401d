//! Resilience policies around the calls adapters make to external systems:
//! a timeout per attempt, retries with exponential backoff and jitter, a
//! circuit breaker and a bulkhead per interaction, and the record of which
//! use cases call which interaction (drift from the metadata).
//!
//! An adapter holds one [`Interaction`] per external interaction it serves
//! and makes each request inside [`Interaction::call`]; the closure makes
//! one attempt, and says whether a failure happened before the request
//! left ([`AttemptError::not_sent`]), which makes it safe to send again
//! even when the operation is not idempotent.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::time::Duration;
//!
//! use bisslog_core::{Error, ErrorKind, UseCaseError};
//! use bisslog_runtime::resilience::{AttemptError, Interaction, Policy, Retry};
//!
//! /// An adapter of the port `SchemaRegistry`: every request goes through
//! /// the interaction's guard.
//! struct RegistryClient {
//!     interaction: Interaction,
//!     /// Stands for the remote: it refuses connections twice.
//!     refusals: AtomicU32,
//! }
//!
//! impl RegistryClient {
//!     async fn schemas(&self) -> Result<Vec<String>, Error> {
//!         self.interaction
//!             .call(|attempt| async move {
//!                 if self.refusals.fetch_add(1, Ordering::SeqCst) < 2 {
//!                     // Nothing left: safe to retry even a write.
//!                     let refused = Error::new(ErrorKind::Connection, "registry-down", "refused");
//!                     return Err(AttemptError::not_sent(refused));
//!                 }
//!                 Ok(vec![format!("language (attempt {})", attempt.number)])
//!             })
//!             .await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let policy = Policy {
//!     timeout: Some(Duration::from_secs(2)),
//!     retry: Some(Retry { max_attempts: 3, jitter: 0.0, ..Retry::default() }),
//!     ..Policy::default()
//! };
//! let client = RegistryClient {
//!     interaction: Interaction::new("company registry data", policy),
//!     refusals: AtomicU32::new(0),
//! };
//! let started = tokio::time::Instant::now();
//! assert_eq!(client.schemas().await.unwrap(), ["language (attempt 3)"]);
//! // 100 ms before the second attempt, 200 ms before the third.
//! assert_eq!(started.elapsed(), Duration::from_millis(300));
//! # }
//! ```
//!
//! # Semantics
//!
//! - **Transient** kinds (`Timeout`, `Connection`, `Unavailable`) are
//!   retried and count as failures for the breaker; every other kind is an
//!   answer: the remote works, and asking again would get the same.
//! - **Retry**: up to `max_attempts` attempts; another only for a transient
//!   failure of an idempotent interaction or of an attempt not sent. The
//!   delay before attempt `n + 1` is `min(max_delay, initial_delay ×
//!   multiplier^(n−1))`, moved uniformly by up to `± jitter` of itself and
//!   capped at `max_delay`. A retry that would end past the use case's
//!   [`Deadline`] is not started. When no attempt follows, the last
//!   attempt's error is returned unchanged (kind and code).
//! - **Timeout**: per attempt; its expiry fails the attempt with `Timeout`,
//!   code [`INTERACTION_TIMEOUT`], as sent.
//! - **Circuit breaker** (per interaction): closed, it counts attempts and
//!   transient failures in a sliding `window` of ten buckets (an outcome
//!   counts for 0.9 to 1 window); once the window holds `minimum_calls`
//!   attempts and failures reach `failure_ratio`, it opens. Open, every
//!   attempt fails fast with `Unavailable`, code [`CIRCUIT_OPEN`], and the
//!   call ends. After `open_for` it is half-open: `half_open_calls` probe
//!   attempts go through, the others fail fast; all probes succeeding close
//!   it (with an empty window), one failing opens it again.
//! - **Bulkhead** (per interaction): at most `max_concurrent` attempts in
//!   flight and `max_waiting` waiting for a slot; beyond, an attempt fails
//!   fast with `Unavailable`, code [`BULKHEAD_FULL`], and the call ends. A
//!   call waiting for its retry holds no slot; a refusal is not an outcome
//!   for the breaker.
//! - **Cancellation** (the use case's timeout drops the call): the slot and
//!   any breaker probe are given back.
//! - **Logs**, each with a `checkpoint_id`: `interaction-retry` (INFO),
//!   `interaction-timeout` (WARN), `circuit-opened` (WARN),
//!   `circuit-half-open` and `circuit-closed` (INFO) on transitions,
//!   `circuit-open` and `bulkhead-full` (WARN, the first refusal after each
//!   change), and `undeclared-interaction` (WARN, once per use case, when
//!   [`Interaction::declared_by`] was given and the caller is not in it).
//! - **Drift**: [`ObservedInteractions`] is the document of every
//!   `(use case, interaction)` pair a service saw (served at
//!   `/interactions/observed`, written by the test kit), which
//!   `bisslog drift` compares with the metadata.

mod backoff;
mod breaker;
mod bulkhead;
mod deadline;
mod drift;
mod from_metadata;
mod interaction;
mod observed;
mod policy;

pub use breaker::BreakerState;
pub use deadline::Deadline;
pub use from_metadata::{Interactions, interactions};
pub use interaction::{Attempt, AttemptError, Interaction};
pub use observed::{ObservedInteractions, ObservedUse};
pub use policy::{Bulkhead, CircuitBreaker, Policy, Retry};

/// The code of an attempt refused by an open (or busy half-open) breaker.
pub const CIRCUIT_OPEN: &str = "circuit-open";
/// The code of an attempt refused by a full bulkhead.
pub const BULKHEAD_FULL: &str = "bulkhead-full";
/// The code of an attempt that outlived the policy's timeout.
pub const INTERACTION_TIMEOUT: &str = "interaction-timeout";
