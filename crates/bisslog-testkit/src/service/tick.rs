//! How a schedule trigger's tick ended.

use bisslog_core::ErrorKind;
use bisslog_runtime::schedule::TickRun;
use serde_json::Value;

/// How one tick of a schedule trigger ended
/// ([`TestService::tick`](super::TestService::tick)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Tick {
    /// The use case succeeded.
    Ran {
        /// How many times it ran (more than one when a transient failure
        /// was retried, up to the trigger's `max_attempts`).
        attempts: u32,
        /// Its output as JSON, if it has one.
        output: Option<Value>,
    },
    /// The use case failed: for good, or transiently on its last attempt.
    Failed {
        /// How many times it ran.
        attempts: u32,
        /// The error's kind.
        kind: ErrorKind,
        /// The error's stable code.
        code: String,
        /// The error's message.
        message: String,
    },
}

impl Tick {
    /// Whether the use case succeeded.
    pub fn ran(&self) -> bool {
        matches!(self, Tick::Ran { .. })
    }
}

impl From<TickRun> for Tick {
    fn from(run: TickRun) -> Self {
        match run.outcome {
            Ok(reply) => Tick::Ran {
                attempts: run.attempts,
                output: reply
                    .body
                    .and_then(|body| serde_json::from_slice(&body).ok()),
            },
            Err(failure) => Tick::Failed {
                attempts: run.attempts,
                kind: failure.kind(),
                code: failure.code().into_owned(),
                message: failure.to_string(),
            },
        }
    }
}
