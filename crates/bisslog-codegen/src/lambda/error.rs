//! What can stop the Lambda artifacts from being generated. Each problem
//! names where it comes from: the use case and the index of the trigger in
//! its `triggers` list, the queue, or the option.

use std::fmt;

/// One reason the metadata or the options cannot be turned into a
/// deployable Lambda layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A Unix cron that AWS cannot express (it restricts both days).
    #[error(
        "use case `{use_case}`, triggers[{index}]: cron `{cron}` cannot run on EventBridge \
         Scheduler: {reason}"
    )]
    UntranslatableCron {
        /// The use case's keyname.
        use_case: String,
        /// The trigger's index in the use case's `triggers` list.
        index: usize,
        /// The cron as written.
        cron: String,
        /// Why it cannot be translated.
        reason: String,
    },
    /// An HTTP method API Gateway does not route (CONNECT, TRACE).
    #[error(
        "use case `{use_case}`, triggers[{index}]: API Gateway cannot route HTTP method \
         {method}; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS"
    )]
    UnsupportedMethod {
        /// The use case's keyname.
        use_case: String,
        /// The trigger's index in the use case's `triggers` list.
        index: usize,
        /// The method.
        method: &'static str,
    },
    /// A consumer option outside what SQS and Lambda accept.
    #[error("use case `{use_case}`, triggers[{index}]: `{option}: {value}` {reason}")]
    OptionOutOfRange {
        /// The use case's keyname.
        use_case: String,
        /// The trigger's index in the use case's `triggers` list.
        index: usize,
        /// The option's name.
        option: &'static str,
        /// Its value.
        value: u32,
        /// What the limit is.
        reason: &'static str,
    },
    /// Two consumer triggers read one queue with different settings; a
    /// queue has one set of settings in AWS.
    #[error(
        "queue `{queue}`: use case `{first}` and use case `{second}` consume it with a \
         different `{option}`; one queue has one setting in AWS, so give both the same"
    )]
    ConflictingQueueOption {
        /// The queue.
        queue: String,
        /// The first use case consuming it.
        first: String,
        /// The use case that disagrees.
        second: String,
        /// The option they disagree on.
        option: &'static str,
    },
    /// A queue is its own dead-letter queue.
    #[error("queue `{queue}` names itself as its `dead_letter_queue`")]
    SelfDeadLetter {
        /// The queue.
        queue: String,
    },
    /// `--sns` or `--eventbridge` names a queue no consumer trigger reads.
    #[error("--{flag} {queue}: no consumer trigger of the service reads queue `{queue}`")]
    UnknownQueue {
        /// `sns` or `eventbridge`.
        flag: &'static str,
        /// The queue as given.
        queue: String,
    },
    /// A queue given to both `--sns` and `--eventbridge`.
    #[error("queue `{queue}` is given to both --sns and --eventbridge; choose one")]
    QueueInTwoModes {
        /// The queue.
        queue: String,
    },
    /// An option that is not valid where it goes.
    #[error("--{option} `{value}`: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Every problem that stopped generation, in metadata order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LambdaError {
    /// The problems; never empty.
    pub problems: Vec<Problem>,
}

impl fmt::Display for LambdaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for problem in many {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}
