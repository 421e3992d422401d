//! Why an invocation, or building the handler, failed.

use bisslog_core::ErrorKind;
use bisslog_http::HttpError;
use bisslog_runtime::Failure;

/// Why the handler could not be built, or an invocation could not be
/// served. Returned from [`LambdaHandler::handle`](crate::LambdaHandler::handle),
/// it becomes the invocation's error: Lambda records it, and retries the
/// event where the source retries (SNS, EventBridge, schedules).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LambdaError {
    /// The HTTP and WebSocket routes of the service could not be built.
    #[error("the HTTP routes of the service cannot be built: {0}")]
    Build(#[from] HttpError),
    /// A configuration variable the handler reads is invalid.
    #[error("the environment variable {variable} is invalid: {reason}")]
    Configuration {
        /// The variable.
        variable: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No use case has this keyname.
    #[error("the service has no use case `{keyname}`")]
    UnknownUseCase {
        /// The keyname asked for.
        keyname: String,
    },
    /// The event is not one this function can route: its shape is
    /// unknown, or nothing in the metadata serves it.
    #[error("this function cannot route {seen}")]
    UnmatchedEvent {
        /// What the event looked like (`an SQS record from queue `x`,
        /// which no consumer trigger consumes`).
        seen: String,
    },
    /// The event is for a use case other than the one this handler serves
    /// (see [`LambdaHandler::only`](crate::LambdaHandler::only)).
    #[error("this function serves only `{serves}`, but received {seen}")]
    NotServed {
        /// The use case this handler serves.
        serves: String,
        /// What the event was for.
        seen: String,
    },
    /// The event has a known shape but cannot be read (a body that is not
    /// valid base64, a method or path that is not HTTP).
    #[error("the {event} cannot be read: {reason}")]
    MalformedEvent {
        /// Which kind of event.
        event: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A use case called for an SNS message, an EventBridge event or a
    /// schedule failed (or panicked).
    #[error("the use case `{use_case}` failed ({}): {failure}", failure.kind())]
    UseCaseFailed {
        /// The use case.
        use_case: String,
        /// Its failure, with its kind and code.
        failure: Failure,
    },
}

impl LambdaError {
    /// The variant's name, reported to Lambda as the error type.
    pub fn name(&self) -> &'static str {
        match self {
            LambdaError::Build(_) => "Build",
            LambdaError::Configuration { .. } => "Configuration",
            LambdaError::UnknownUseCase { .. } => "UnknownUseCase",
            LambdaError::UnmatchedEvent { .. } => "UnmatchedEvent",
            LambdaError::NotServed { .. } => "NotServed",
            LambdaError::MalformedEvent { .. } => "MalformedEvent",
            LambdaError::UseCaseFailed { .. } => "UseCaseFailed",
        }
    }

    /// The error kind of a failed use case, if that is what this is.
    pub fn use_case_kind(&self) -> Option<ErrorKind> {
        match self {
            LambdaError::UseCaseFailed { failure, .. } => Some(failure.kind()),
            _ => None,
        }
    }

    pub(crate) fn unmatched(seen: impl Into<String>) -> Self {
        LambdaError::UnmatchedEvent { seen: seen.into() }
    }

    pub(crate) fn malformed(event: &'static str, reason: impl Into<String>) -> Self {
        LambdaError::MalformedEvent {
            event,
            reason: reason.into(),
        }
    }
}

impl From<LambdaError> for lambda_runtime::Diagnostic {
    fn from(error: LambdaError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: format!("bisslog::{}", error.name()),
            error_message: error.to_string(),
        }
    }
}
