//! From the outcome of a consumed message to how it is settled: the whole
//! retry and dead-letter policy, as a pure function.

use std::time::Duration;

use bisslog_core::ErrorKind;

use bisslog_messaging::{DeadLetter, DeadLetterCause};

/// Retries of transient failures: how many, and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first delivery; the message is delivered at most
    /// `max_retries + 1` times.
    pub max_retries: u32,
    /// The delay before the first retry; it doubles at each further one.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The delay before delivering again after delivery number `attempt`
    /// failed: `first_delay × 2^(attempt − 1)`, at most `max_delay`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.first_delay
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Why processing a message failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failed {
    pub(crate) kind: ErrorKind,
    /// The input could not be read: not JSON, or not the use case's input.
    pub(crate) malformed: bool,
    pub(crate) reason: String,
}

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settlement {
    Ack,
    Retry(Duration),
    DeadLetter(DeadLetter),
}

/// The settlement of delivery number `attempt` given its outcome.
pub(crate) fn settle(
    outcome: Result<(), Failed>,
    attempt: u32,
    policy: &RetryPolicy,
) -> Settlement {
    let failed = match outcome {
        Ok(()) => return Settlement::Ack,
        Err(failed) => failed,
    };
    let dead_letter = |cause, reason: String| {
        Settlement::DeadLetter(DeadLetter {
            reason,
            cause,
            attempts: attempt,
        })
    };
    if failed.malformed {
        dead_letter(DeadLetterCause::Malformed, failed.reason)
    } else if !failed.kind.is_transient() {
        dead_letter(DeadLetterCause::Rejected, failed.reason)
    } else if attempt > policy.max_retries {
        dead_letter(
            DeadLetterCause::RetriesExhausted,
            format!("{} (after {attempt} deliveries)", failed.reason),
        )
    } else {
        Settlement::Retry(policy.delay(attempt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 3,
        first_delay: Duration::from_secs(2),
        max_delay: Duration::from_secs(10),
    };

    fn failed(kind: ErrorKind) -> Result<(), Failed> {
        Err(Failed {
            kind,
            malformed: false,
            reason: "it failed".into(),
        })
    }

    #[test]
    fn transient_failures_back_off_then_dead_letter() {
        let timeout = || failed(ErrorKind::Timeout);
        assert_eq!(
            settle(timeout(), 1, &POLICY),
            Settlement::Retry(Duration::from_secs(2))
        );
        assert_eq!(
            settle(timeout(), 2, &POLICY),
            Settlement::Retry(Duration::from_secs(4))
        );
        assert_eq!(
            settle(timeout(), 3, &POLICY),
            Settlement::Retry(Duration::from_secs(8))
        );
        let Settlement::DeadLetter(last) = settle(timeout(), 4, &POLICY) else {
            panic!("the fourth delivery of three retries is the last");
        };
        assert_eq!(last.cause, DeadLetterCause::RetriesExhausted);
        assert_eq!(last.attempts, 4);
        assert_eq!(POLICY.delay(40), Duration::from_secs(10));
    }

    #[test]
    fn permanent_and_malformed_messages_go_to_the_dead_letter_queue_at_once() {
        let Settlement::DeadLetter(rejected) = settle(failed(ErrorKind::NotFound), 1, &POLICY)
        else {
            panic!("not found is permanent");
        };
        assert_eq!(rejected.cause, DeadLetterCause::Rejected);
        let malformed = Err(Failed {
            kind: ErrorKind::Malformed,
            malformed: true,
            reason: "not JSON".into(),
        });
        let Settlement::DeadLetter(malformed) = settle(malformed, 1, &POLICY) else {
            panic!("malformed is permanent");
        };
        assert_eq!(malformed.cause, DeadLetterCause::Malformed);
        assert_eq!(settle(Ok(()), 9, &POLICY), Settlement::Ack);
    }

    #[test]
    fn no_retries_means_one_delivery() {
        let once = RetryPolicy {
            max_retries: 0,
            ..POLICY
        };
        assert!(matches!(
            settle(failed(ErrorKind::Unavailable), 1, &once),
            Settlement::DeadLetter(_)
        ));
    }
}
