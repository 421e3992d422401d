//! Why the test kit could not drive a trigger.

/// Why a [`TestService`](super::TestService) call did not reach a use
/// case, or its answer could not be read as asked. A use case's own
/// failure is not one: it is in the answer (a problem document, a
/// dead-lettered message, a failed tick).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KitError {
    /// The service's HTTP routes could not be built (a route conflict).
    #[error("the service's HTTP routes could not be built: {0}")]
    Http(#[from] bisslog_http::HttpError),
    /// The request could not be made (an invalid method, path or header).
    #[error("the request could not be made: {0}")]
    Request(#[from] http::Error),
    /// The response's body could not be read.
    #[error("the response's body could not be read: {0}")]
    Body(String),
    /// A body or payload could not be written as JSON.
    #[error("the value could not be written as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// The answer is not the JSON asked for.
    #[error("the answer is not {expected}: {source}; it was: {body}")]
    Decode {
        /// What it was read as.
        expected: &'static str,
        /// The answer's body, as text.
        body: String,
        /// Why it does not fit.
        #[source]
        source: serde_json::Error,
    },
    /// The answer is not a problem document (`application/problem+json`).
    #[error("the answer (status {status}) is not a problem document: {body}")]
    NotAProblem {
        /// Its status.
        status: u16,
        /// Its body, as text.
        body: String,
    },
    /// No consumer trigger of the service consumes the queue.
    #[error("no consumer trigger consumes `{queue}`; the service consumes: {}", list(.consumed))]
    UnknownQueue {
        /// The queue asked for.
        queue: String,
        /// The queues the service consumes.
        consumed: Vec<String>,
    },
    /// The delivery was left unsettled (the consumer neither acknowledged,
    /// retried nor dead-lettered it).
    #[error("the delivery on `{queue}` was left unsettled")]
    Unsettled {
        /// Its queue.
        queue: String,
    },
    /// The schedule trigger does not exist, or the instant is not one of
    /// its ticks.
    #[error(transparent)]
    Tick(#[from] bisslog_runtime::schedule::TickError),
    /// What the service observed could not be written.
    #[error("the observed interactions could not be written in {}: {source}", .dir.display())]
    Observed {
        /// The directory written to.
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "nothing".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
