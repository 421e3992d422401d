//! [`Interaction`]: the guard an adapter calls one external system
//! through, applying its [`Policy`] to every attempt.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bisslog_core::{Error, ErrorKind, UseCaseError};
use bisslog_messaging::current;
use tokio::time::Instant;

use super::breaker::{Breaker, BreakerState, Permit, Transition};
use super::bulkhead::{Compartment, Slot};
use super::deadline::Deadline;
use super::drift::{Observed, is_declared};
use super::policy::Policy;
use super::{BULKHEAD_FULL, CIRCUIT_OPEN, INTERACTION_TIMEOUT};
use crate::metrics::Metrics;
use crate::metrics::families::InteractionInstruments;

/// One external interaction's guard: the timeout, retries, circuit breaker
/// and bulkhead of its [`Policy`] around every call an adapter makes
/// through it, and the record of which use cases call it.
///
/// Cheap to clone: clones share the breaker, the bulkhead and the
/// observations, so one `Interaction` per external interaction serves every
/// use case that calls it. The use case calling is the one whose future is
/// being polled ([`bisslog_messaging::current`]); outside any use case the
/// interaction's own policy applies and nothing is observed.
///
/// See [the module](super) for an adapter using it.
#[derive(Clone)]
pub struct Interaction {
    /// Per handle: builder methods on a clone change only that clone's.
    config: Arc<Config>,
    /// Shared by every clone.
    shared: Arc<Shared>,
}

#[derive(Clone)]
struct Config {
    policy: Policy,
    /// Timeout, retry and idempotence of calls made inside a use case.
    by_use_case: HashMap<String, Policy>,
    /// The use cases the metadata says call it, when known.
    declared: Option<HashSet<String>>,
}

struct Shared {
    keyname: String,
    breaker: Option<Breaker>,
    bulkhead: Option<Compartment>,
    observed: Observed,
    /// The service's series for it, once the service is built with
    /// metrics.
    metrics: OnceLock<InteractionInstruments>,
}

/// One attempt of a call, given to the function that makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt, 2 for the first retry, and so on.
    pub number: u32,
}

/// How one attempt failed: the error, and whether the request had left
/// (so the remote may have acted on it).
///
/// A failed attempt is sent again only when its error is transient
/// (`Timeout`, `Connection`, `Unavailable`) and the interaction is
/// idempotent or the request was not sent.
#[derive(Debug)]
pub struct AttemptError {
    /// The failure, returned unchanged if no attempt follows.
    pub error: Error,
    /// Whether the request may have reached the remote.
    pub sent: bool,
}

impl AttemptError {
    /// An attempt that failed before anything left (a connection refused,
    /// a name that does not resolve): safe to send again even when the
    /// operation is not idempotent.
    pub fn not_sent(error: Error) -> Self {
        Self { error, sent: false }
    }
}

impl From<Error> for AttemptError {
    /// An attempt that may have been sent: the safe assumption when an
    /// adapter does not know.
    fn from(error: Error) -> Self {
        Self { error, sent: true }
    }
}

/// Why an attempt did not give a value.
enum Failed {
    /// The attempt ran and failed.
    Attempt(AttemptError),
    /// The breaker or the bulkhead refused it: the call ends.
    Refused(Error),
}

/// The kinds a retry may cure and the breaker counts as failures: the
/// remote did not answer. Any other kind is an answer.
pub(crate) fn is_transient(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Timeout | ErrorKind::Connection | ErrorKind::Unavailable
    )
}

impl Interaction {
    /// The guard of the interaction `keyname`, with `policy` for every
    /// caller: its timeout, retry and idempotence apply to calls from use
    /// cases without a policy of their own
    /// ([`with_policy_for`](Self::with_policy_for)); its breaker and
    /// bulkhead are the interaction's, shared by all.
    ///
    /// Values outside their range (zero attempts, a ratio above 1...) are
    /// brought into it; the metadata validator refuses them earlier.
    pub fn new(keyname: impl Into<String>, policy: Policy) -> Self {
        let policy = policy.normalized();
        let now = Instant::now();
        let shared = Shared {
            keyname: keyname.into(),
            breaker: policy
                .circuit_breaker
                .clone()
                .map(|config| Breaker::new(config, now)),
            bulkhead: policy.bulkhead.clone().map(Compartment::new),
            observed: Observed::default(),
            metrics: OnceLock::new(),
        };
        Self {
            config: Arc::new(Config {
                policy,
                by_use_case: HashMap::new(),
                declared: None,
            }),
            shared: Arc::new(shared),
        }
    }

    /// The timeout, retry and idempotence of calls made inside the use
    /// case `use_case` (its `circuit_breaker` and `bulkhead` are ignored:
    /// those are the interaction's).
    #[must_use]
    pub fn with_policy_for(mut self, use_case: impl Into<String>, policy: Policy) -> Self {
        Arc::make_mut(&mut self.config)
            .by_use_case
            .insert(use_case.into(), policy.normalized());
        self
    }

    /// The use cases the metadata declares this interaction for. A call
    /// from any other use case is logged once per use case (WARN,
    /// checkpoint `undeclared-interaction`). Without it, nothing is
    /// checked.
    #[must_use]
    pub fn declared_by(mut self, use_cases: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Arc::make_mut(&mut self.config)
            .declared
            .get_or_insert_with(HashSet::new)
            .extend(use_cases.into_iter().map(Into::into));
        self
    }

    /// The interaction's keyname.
    pub fn keyname(&self) -> &str {
        &self.shared.keyname
    }

    /// The policy for callers outside any use case, and the breaker and
    /// bulkhead configuration of the interaction.
    pub fn policy(&self) -> &Policy {
        &self.config.policy
    }

    /// Where the breaker stands now (`Closed` when there is none). An open
    /// breaker whose `open_for` has passed is half-open.
    pub fn breaker_state(&self) -> BreakerState {
        match &self.shared.breaker {
            Some(breaker) => {
                let (state, transition) = breaker.state(Instant::now());
                self.log_transition(transition);
                state
            }
            None => BreakerState::Closed,
        }
    }

    /// Counts its retries, timeouts, refusals and undeclared calls in
    /// `metrics`, and shows its breaker's state there at each scrape (the
    /// service does it when built; once only).
    pub(crate) fn attach_metrics(&self, metrics: &Metrics) {
        let instruments = metrics.interaction(self.keyname());
        if self.shared.metrics.set(instruments).is_err() || self.shared.breaker.is_none() {
            return;
        }
        let interaction = self.clone();
        metrics.on_scrape(move || {
            let state = interaction.breaker_state();
            if let Some(instruments) = interaction.shared.metrics.get() {
                let current = match state {
                    BreakerState::Closed => 0,
                    BreakerState::Open => 1,
                    BreakerState::HalfOpen => 2,
                };
                for (i, gauge) in instruments.states.iter().enumerate() {
                    gauge.set(i64::from(i == current));
                }
            }
        });
    }

    fn count(&self, what: impl FnOnce(&InteractionInstruments)) {
        if let Some(instruments) = self.shared.metrics.get() {
            what(instruments);
        }
    }

    /// The use cases seen calling through this interaction, sorted.
    pub fn observed_use_cases(&self) -> Vec<String> {
        self.shared.observed.use_cases()
    }

    /// Calls the interaction: `attempt` makes one attempt, and is called
    /// again for each retry the policy allows.
    ///
    /// Each attempt passes the circuit breaker (an open one fails it fast,
    /// `Unavailable` with code `circuit-open`, and the call ends), then the
    /// bulkhead (full: `Unavailable`, `bulkhead-full`, the call ends), and
    /// runs under the per-attempt timeout (`Timeout`,
    /// `interaction-timeout`). A failed attempt is retried after the
    /// policy's delay when its kind is transient and the interaction is
    /// idempotent or the attempt was [not sent](AttemptError::not_sent),
    /// unless the retry would end past the use case's [`Deadline`]. When no
    /// attempt follows, the last attempt's error is returned unchanged.
    ///
    /// Cancel-safe: dropping the future (the use case's own timeout) frees
    /// its bulkhead slot and its breaker probe.
    ///
    /// # Errors
    ///
    /// The last attempt's error, or the breaker's or bulkhead's refusal.
    pub async fn call<T, F, Fut>(&self, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let (policy, deadline) = self.caller();
        let retry = policy.retry.as_ref();
        let max_attempts = retry.map_or(1, |retry| retry.max_attempts);
        let mut number = 1;
        loop {
            let failure = match self.attempt(policy, &mut attempt, number).await {
                Ok(value) => return Ok(value),
                Err(Failed::Refused(error)) => return Err(error),
                Err(Failed::Attempt(failure)) => failure,
            };
            let kind = failure.error.kind();
            let again =
                number < max_attempts && is_transient(kind) && (policy.idempotent || !failure.sent);
            let Some(retry) = retry.filter(|_| again) else {
                return Err(failure.error);
            };
            let delay = retry.delay(number);
            if let Some(deadline) = deadline
                && Instant::now()
                    .checked_add(delay)
                    .is_none_or(|end| end > deadline)
            {
                tracing::debug!(
                    checkpoint_id = "interaction-retry-skipped",
                    interaction = self.keyname(),
                    delay_ms = millis(delay),
                    "`{}` failed ({kind}); no retry: the use case's deadline comes first",
                    self.keyname(),
                );
                return Err(failure.error);
            }
            number += 1;
            self.count(|m| {
                m.retries.inc();
            });
            tracing::info!(
                checkpoint_id = "interaction-retry",
                interaction = self.keyname(),
                attempt = number,
                delay_ms = millis(delay),
                error_kind = kind.as_str(),
                error_code = %failure.error.code(),
                "`{}` failed ({kind}): attempt {number} of {max_attempts} in {delay:?}",
                self.keyname(),
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// The policy for the current use case and its deadline; records the
    /// use case as a caller, and warns once if it did not declare this
    /// interaction.
    fn caller(&self) -> (&Policy, Option<Instant>) {
        let config = &*self.config;
        let (policy, deadline, undeclared) = current::with(|ctx| {
            let Some(ctx) = ctx else {
                return (&config.policy, None, None);
            };
            let use_case = ctx.use_case();
            let first = self.shared.observed.record(use_case);
            let declared = is_declared(config.declared.as_ref(), use_case);
            if !declared {
                self.count(|m| m.undeclared_call(use_case));
            }
            let undeclared = (first && !declared).then(|| use_case.to_owned());
            let policy = config.by_use_case.get(use_case).unwrap_or(&config.policy);
            (policy, Deadline::of(ctx), undeclared)
        });
        if let Some(use_case) = undeclared {
            tracing::warn!(
                checkpoint_id = "undeclared-interaction",
                interaction = self.keyname(),
                use_case = %use_case,
                "the use case `{use_case}` calls `{}`, which its metadata does not declare",
                self.keyname(),
            );
        }
        (policy, deadline)
    }

    /// One attempt through the breaker, the bulkhead and the timeout.
    async fn attempt<T, F, Fut>(
        &self,
        policy: &Policy,
        attempt: &mut F,
        number: u32,
    ) -> Result<T, Failed>
    where
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let permit = self.admit().map_err(Failed::Refused)?;
        // Held while the attempt runs only: a call waiting for its retry
        // holds no slot.
        let slot = self.enter().await.map_err(Failed::Refused)?;
        let running = attempt(Attempt { number });
        let result = match policy.timeout {
            Some(limit) => match tokio::time::timeout(limit, running).await {
                Ok(result) => result,
                Err(_) => Err(self.timed_out(limit, number)),
            },
            None => running.await,
        };
        drop(slot);
        if let Some(permit) = permit {
            let failed = matches!(&result, Err(failure) if is_transient(failure.error.kind()));
            self.log_transition(permit.record(failed, Instant::now()));
        }
        result.map_err(Failed::Attempt)
    }

    /// The breaker's permit for one attempt (`None` without a breaker).
    fn admit(&self) -> Result<Option<Permit<'_>>, Error> {
        let Some(breaker) = &self.shared.breaker else {
            return Ok(None);
        };
        let (admitted, transition) = breaker.admit(Instant::now());
        self.log_transition(transition);
        match admitted {
            Ok(permit) => Ok(Some(permit)),
            Err(rejected) => {
                self.count(|m| {
                    m.circuit_open.inc();
                });
                let keyname = self.keyname();
                let why = if rejected.half_open {
                    "its circuit breaker is half-open, its probes in flight"
                } else {
                    "its circuit breaker is open"
                };
                if rejected.first {
                    tracing::warn!(
                        checkpoint_id = "circuit-open",
                        interaction = keyname,
                        retry_after_ms = millis(rejected.retry_after),
                        "`{keyname}` is failing: {why}; calls fail fast (logged once until \
                         it changes state)",
                    );
                }
                Err(Error::new(
                    ErrorKind::Unavailable,
                    CIRCUIT_OPEN,
                    format!("`{keyname}` is failing: {why}"),
                )
                .with_details(serde_json::json!({
                    "interaction": keyname,
                    "retry_after_ms": millis(rejected.retry_after),
                })))
            }
        }
    }

    /// A bulkhead slot for one attempt (`None` without a bulkhead).
    async fn enter(&self) -> Result<Option<Slot<'_>>, Error> {
        let Some(bulkhead) = &self.shared.bulkhead else {
            return Ok(None);
        };
        match bulkhead.enter().await {
            Ok(slot) => Ok(Some(slot)),
            Err(full) => {
                self.count(|m| {
                    m.bulkhead_full.inc();
                });
                let config = bulkhead.config();
                if full.first {
                    tracing::warn!(
                        checkpoint_id = "bulkhead-full",
                        interaction = self.keyname(),
                        max_concurrent = config.max_concurrent,
                        max_waiting = config.max_waiting,
                        "`{}` is busy: calls beyond {} in flight and {} waiting fail fast \
                         (logged once until a call gets in)",
                        self.keyname(),
                        config.max_concurrent,
                        config.max_waiting,
                    );
                }
                Err(Error::new(
                    ErrorKind::Unavailable,
                    BULKHEAD_FULL,
                    format!(
                        "`{}` is busy: {} calls in flight and {} waiting",
                        self.keyname(),
                        bulkhead.in_flight(),
                        config.max_waiting
                    ),
                ))
            }
        }
    }

    /// The failure of an attempt that outlived its timeout.
    fn timed_out(&self, limit: Duration, number: u32) -> AttemptError {
        self.count(|m| {
            m.timeouts.inc();
        });
        tracing::warn!(
            checkpoint_id = "interaction-timeout",
            interaction = self.keyname(),
            attempt = number,
            timeout_ms = millis(limit),
            "`{}` did not answer within {limit:?} (attempt {number})",
            self.keyname(),
        );
        AttemptError {
            error: Error::new(
                ErrorKind::Timeout,
                INTERACTION_TIMEOUT,
                format!(
                    "`{}` did not answer within {} ms",
                    self.keyname(),
                    millis(limit)
                ),
            ),
            sent: true,
        }
    }

    fn log_transition(&self, transition: Option<Transition>) {
        let Some(transition) = transition else {
            return;
        };
        let keyname = self.keyname();
        let open_for = self
            .shared
            .breaker
            .as_ref()
            .map(|b| b.config().open_for)
            .unwrap_or_default();
        match transition {
            Transition::Opened {
                probe: false,
                calls,
                failures,
            } => tracing::warn!(
                checkpoint_id = "circuit-opened",
                interaction = keyname,
                calls,
                failures,
                open_for_ms = millis(open_for),
                "`{keyname}`'s circuit breaker opened: {failures} of its last {calls} attempts \
                 failed; calls fail fast for {open_for:?}",
            ),
            Transition::Opened { probe: true, .. } => tracing::warn!(
                checkpoint_id = "circuit-opened",
                interaction = keyname,
                open_for_ms = millis(open_for),
                "`{keyname}`'s circuit breaker opened again: a probe failed; calls fail fast \
                 for {open_for:?}",
            ),
            Transition::HalfOpened => tracing::info!(
                checkpoint_id = "circuit-half-open",
                interaction = keyname,
                "`{keyname}`'s circuit breaker is half-open: probing with the next calls",
            ),
            Transition::Closed => tracing::info!(
                checkpoint_id = "circuit-closed",
                interaction = keyname,
                "`{keyname}`'s circuit breaker closed: its probes succeeded",
            ),
        }
    }
}

/// Whole milliseconds, for log fields.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Debug for Interaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interaction")
            .field("keyname", &self.shared.keyname)
            .field("policy", &self.config.policy)
            .field("use_case_policies", &self.config.by_use_case.len())
            .finish_non_exhaustive()
    }
}
