//! The function's `Timeout` and the queues' visibility timeout, from the
//! triggers' own `timeout`s.
//!
//! A trigger's `timeout` on Lambda bounds one call (a request, or one
//! record of a batch, which then fails alone). It can only do that while
//! the invocation still runs: past the function's `Timeout` Lambda stops
//! the whole invocation, and a batch's records fail together. So the
//! template's `Timeout` defaults to a second more than the longest trigger
//! timeout (30 s when every trigger's is shorter), and a trigger timeout
//! that no invocation can outlast is a [`Problem`].

use bisslog_schema::{ServiceMetadata, TriggerKind, UseCaseMetadata};

use super::Problem;

/// The longest a Lambda invocation may run, in seconds.
pub(super) const MAX_FUNCTION_TIMEOUT_S: u64 = 900;

/// The function's `Timeout` when no trigger needs more, in seconds.
const DEFAULT_FUNCTION_TIMEOUT_S: u64 = 30;

/// The queues' visibility timeout when the function's `Timeout` does not
/// ask for more, in seconds.
const DEFAULT_VISIBILITY_TIMEOUT_S: u64 = 180;

/// The longest visibility timeout SQS accepts (12 hours), in seconds.
const MAX_VISIBILITY_TIMEOUT_S: u64 = 43_200;

/// The template's default timeouts, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Defaults {
    /// The function's `Timeout`.
    pub(super) function_s: u64,
    /// The SQS queues' `VisibilityTimeout`: six times the function's, as
    /// AWS advises for an event source mapping (at least the function's,
    /// or CloudFormation refuses the mapping), and at least 180.
    pub(super) visibility_s: u64,
}

impl Defaults {
    /// The defaults for `service`: the function outlives its longest
    /// trigger timeout by a second, so that call can fail alone.
    pub(super) fn of(service: &ServiceMetadata) -> Self {
        let longest_ms = service
            .use_cases
            .values()
            .flat_map(triggers_with_timeout)
            .map(|(_, timeout_ms)| timeout_ms)
            .max()
            .unwrap_or(0);
        let function_s = longest_ms
            .div_ceil(1000)
            .saturating_add(1)
            .clamp(DEFAULT_FUNCTION_TIMEOUT_S, MAX_FUNCTION_TIMEOUT_S);
        let visibility_s = function_s
            .saturating_mul(6)
            .clamp(DEFAULT_VISIBILITY_TIMEOUT_S, MAX_VISIBILITY_TIMEOUT_S);
        Self {
            function_s,
            visibility_s,
        }
    }
}

/// The triggers of `use_case` that set a `timeout`: their index and the
/// timeout in milliseconds.
fn triggers_with_timeout(use_case: &UseCaseMetadata) -> impl Iterator<Item = (usize, u64)> + '_ {
    use_case
        .triggers
        .iter()
        .enumerate()
        .filter_map(|(index, trigger)| {
            let timeout_ms = match &trigger.kind {
                TriggerKind::Http(http) => http.timeout_ms,
                TriggerKind::Consumer(consumer) => consumer.timeout_ms,
                TriggerKind::Schedule(_) | TriggerKind::WebSocket(_) => None,
            };
            timeout_ms.map(|ms| (index, ms))
        })
}

/// A problem for every trigger whose `timeout` an invocation cannot
/// outlast: at 900 s or more Lambda stops the invocation first, so the
/// call would never fail alone (its batch would fail with it).
pub(super) fn check(service: &ServiceMetadata) -> Vec<Problem> {
    let limit_ms = (MAX_FUNCTION_TIMEOUT_S - 1) * 1000;
    service
        .use_cases
        .values()
        .flat_map(|use_case| {
            triggers_with_timeout(use_case)
                .filter(move |(_, timeout_ms)| *timeout_ms > limit_ms)
                .map(|(index, timeout_ms)| Problem::OptionOutOfRange {
                    use_case: use_case.keyname.clone(),
                    index,
                    option: "timeout",
                    value: u32::try_from(timeout_ms).unwrap_or(u32::MAX),
                    reason: "is above 899000 ms: a Lambda invocation runs at most 900 s, \
                             so the call could not time out before the invocation does",
                })
        })
        .collect()
}
