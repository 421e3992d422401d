//! Failures as RFC 9457 problem documents (`application/problem+json`): the
//! one shape every entry point answers a failure with — the HTTP server,
//! the WebSocket route keys, AWS Lambda, and the `call` command.
//!
//! ```
//! use bisslog_core::{Error, ErrorKind};
//! use bisslog_runtime::problem::{Problem, default_status};
//!
//! let failure = Error::not_found("schema-not-found", "schema `language` does not exist");
//! let status = default_status(ErrorKind::NotFound);
//! let problem = Problem::from_failure(&failure, status, "tx-1", Some("/schemas/language"));
//! assert_eq!(problem.status, 404);
//! assert_eq!(problem.title, "Not Found");
//! assert_eq!(problem.code, "schema-not-found");
//! assert_eq!(problem.detail, "schema `language` does not exist");
//! ```

use bisslog_core::{ErrorKind, UseCaseError, causes};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

/// The HTTP status each [`ErrorKind`] gets unless a service says otherwise
/// (`bisslog_http::StatusPolicy`); the `status` of a problem document
/// outside HTTP too.
pub fn default_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::Invalid | ErrorKind::InvalidData => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::NotAllowed => StatusCode::FORBIDDEN,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Conflict | ErrorKind::Integrity => StatusCode::CONFLICT,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Connection | ErrorKind::Unavailable | ErrorKind::Delivery => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` plus the code).
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status (the one the failure's kind gets, outside HTTP too).
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The stable error code (`schema-not-found`).
    pub code: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The transaction to quote when reporting the problem.
    pub transaction_id: String,
    /// Extension members: the use case's structured details (only for
    /// caller faults), such as each invalid field; `causes` for operators.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub details: Option<Map<String, Value>>,
}

/// What a 5xx problem says to a caller instead of its cause, which goes to
/// the log.
const SERVER_FAULT_DETAIL: &str =
    "the service could not complete the request; quote the transaction id when reporting it";

impl Problem {
    /// A problem with no use-case failure behind it (413, 415, 429, an
    /// unknown use case...).
    pub fn new(
        status: StatusCode,
        code: impl Into<String>,
        detail: impl Into<String>,
        transaction_id: &str,
        instance: Option<&str>,
    ) -> Self {
        let code = code.into();
        Self {
            kind: format!("about:blank#{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            instance: instance.map(str::to_owned),
            transaction_id: transaction_id.to_owned(),
            details: None,
        }
    }

    /// The problem a caller is shown for `failure`: a caller fault (4xx)
    /// says what went wrong, with the use case's code and details; a
    /// server fault (5xx) says only that the service failed and which
    /// transaction to quote, and its cause is logged here instead.
    pub fn from_failure(
        failure: &dyn UseCaseError,
        status: StatusCode,
        transaction_id: &str,
        instance: Option<&str>,
    ) -> Self {
        if status.is_server_error() {
            tracing::error!(
                transaction_id,
                checkpoint_id = "request-failed",
                kind = %failure.kind(),
                code = %failure.code(),
                cause = %chain(failure),
                "request failed with {status}"
            );
            return Self::new(
                status,
                failure.code().into_owned(),
                SERVER_FAULT_DETAIL,
                transaction_id,
                instance,
            );
        }
        Self::new(
            status,
            failure.code().into_owned(),
            failure.to_string(),
            transaction_id,
            instance,
        )
        .with_details(failure.details())
    }

    /// The problem an operator is shown for `failure` (the `call` command:
    /// whoever runs it owns the service): the same document, with the
    /// full message, the details and the cause chain (`causes`) whatever
    /// the status.
    pub fn for_operator(
        failure: &dyn UseCaseError,
        status: StatusCode,
        transaction_id: &str,
    ) -> Self {
        let mut problem = Self::new(
            status,
            failure.code().into_owned(),
            failure.to_string(),
            transaction_id,
            None,
        )
        .with_details(failure.details());
        let chain: Vec<Value> = causes(failure)
            .map(|cause| Value::String(cause.to_string()))
            .collect();
        if !chain.is_empty() {
            problem
                .details
                .get_or_insert_with(Map::new)
                .insert("causes".to_owned(), Value::Array(chain));
        }
        problem
    }

    /// Adds a use case's structured details as extension members (an
    /// object's members as they are; anything else as `details`).
    #[must_use]
    pub fn with_details(mut self, details: Option<Value>) -> Self {
        self.details = match details {
            Some(Value::Object(map)) => Some(map),
            Some(other) => Some(std::iter::once(("details".to_owned(), other)).collect()),
            None => None,
        };
        self
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// "outer: inner: innermost", for the log.
fn chain(error: &dyn UseCaseError) -> String {
    let mut text = error.to_string();
    for cause in causes(error) {
        text.push_str(": ");
        text.push_str(&cause.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_core::Error;

    #[test]
    fn server_faults_hide_their_cause_from_callers() {
        let failure = Error::internal("the disk is full at /var/lib/secret")
            .with_source(std::io::Error::other("ENOSPC"));
        let problem = Problem::from_failure(&failure, StatusCode::INTERNAL_SERVER_ERROR, "t", None);
        assert_eq!(problem.detail, SERVER_FAULT_DETAIL);
        assert_eq!(problem.details, None);
        let operator = Problem::for_operator(&failure, StatusCode::INTERNAL_SERVER_ERROR, "t");
        assert_eq!(operator.detail, "the disk is full at /var/lib/secret");
        assert_eq!(
            operator.details.unwrap()["causes"],
            serde_json::json!(["ENOSPC"])
        );
    }

    #[test]
    fn caller_faults_carry_their_details() {
        let failure = Error::invalid("invalid-data", "two fields are wrong")
            .with_details(serde_json::json!({"fields": ["a", "b"]}));
        let problem = Problem::from_failure(&failure, StatusCode::UNPROCESSABLE_ENTITY, "t", None);
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "about:blank#invalid-data");
        assert_eq!(json["title"], "Unprocessable Entity");
        assert_eq!(json["fields"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn caller_faults_are_client_errors_and_transient_kinds_server_errors() {
        for kind in ErrorKind::ALL {
            let status = default_status(kind);
            if kind.is_caller_fault() {
                assert!(status.is_client_error(), "{kind}: {status}");
            }
            if kind.is_transient() {
                assert!(status.is_server_error(), "{kind}: {status}");
            }
        }
    }
}
