//! Failures as RFC 9457 problem details (`application/problem+json`).
//!
//! Caller faults (4xx) say what went wrong, with the use case's code and
//! details; everything else (5xx) says only that the service failed and
//! which transaction to quote, while the cause goes to the log.

use std::collections::HashMap;

use axum::response::{IntoResponse, Response};
use bisslog_core::{ErrorKind, UseCaseError};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::TRANSACTION_HEADER;

/// Which HTTP status each [`ErrorKind`] gets. The defaults follow the
/// bisslog design; a service may override any of them.
///
/// ```
/// use bisslog_core::ErrorKind;
/// use bisslog_http::StatusPolicy;
/// use http::StatusCode;
///
/// let policy = StatusPolicy::default().with(ErrorKind::Integrity, StatusCode::UNPROCESSABLE_ENTITY);
/// assert_eq!(policy.status(ErrorKind::Integrity), StatusCode::UNPROCESSABLE_ENTITY);
/// assert_eq!(policy.status(ErrorKind::NotFound), StatusCode::NOT_FOUND);
/// ```
#[derive(Debug, Clone, Default)]
pub struct StatusPolicy {
    overrides: HashMap<ErrorKind, StatusCode>,
}

impl StatusPolicy {
    /// Answers `kind` with `status`.
    #[must_use]
    pub fn with(mut self, kind: ErrorKind, status: StatusCode) -> Self {
        self.overrides.insert(kind, status);
        self
    }

    /// The status for a kind.
    pub fn status(&self, kind: ErrorKind) -> StatusCode {
        if let Some(status) = self.overrides.get(&kind) {
            return *status;
        }
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
}

/// The `Retry-After` (in seconds) of every 503 problem response.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` plus the code).
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
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
    /// Structured details (only for caller faults), such as each invalid field.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Problem {
    /// The problem for a failure. 5xx problems carry no detail of the
    /// cause, which is logged here with the transaction id instead.
    pub fn from_failure(
        failure: &dyn UseCaseError,
        policy: &StatusPolicy,
        transaction_id: &str,
        instance: Option<&str>,
    ) -> Self {
        let status = policy.status(failure.kind());
        if status.is_server_error() {
            tracing::error!(
                transaction_id,
                checkpoint_id = "request-failed",
                kind = %failure.kind(),
                code = %failure.code(),
                cause = %error_chain(failure),
                "request failed with {status}"
            );
            return Self::new(
                status,
                failure.code().into_owned(),
                "the service could not complete the request; quote the transaction id when reporting it",
                transaction_id,
                instance,
            );
        }
        let mut problem = Self::new(
            status,
            failure.code().into_owned(),
            failure.to_string(),
            transaction_id,
            instance,
        );
        problem.details = match failure.details() {
            Some(serde_json::Value::Object(map)) => Some(map),
            Some(other) => Some(std::iter::once(("details".to_owned(), other)).collect()),
            None => None,
        };
        problem
    }

    /// A problem the transport itself raises (413, 415, 429, ...).
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

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Ok(id) = HeaderValue::from_str(&self.transaction_id) {
            headers.insert(TRANSACTION_HEADER, id);
        }
        // A 503 is a passing state (an outage, a full disk, an exhausted
        // pool): say when to come back, so clients and proxies back off
        // instead of hammering. Callers that know better set their own.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// "outer: inner: innermost", for the log.
fn error_chain(error: &dyn UseCaseError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of `docs/services.md` ("Errors"), every kind: the HTTP
    /// status by default, and whether a consumer retries the message (a
    /// transient kind) or dead-letters it at once.
    fn documented(kind: ErrorKind) -> (u16, bool) {
        match kind {
            ErrorKind::Malformed => (400, false),
            ErrorKind::Invalid | ErrorKind::InvalidData => (422, false),
            ErrorKind::NotFound => (404, false),
            ErrorKind::NotAllowed => (403, false),
            ErrorKind::Unauthenticated => (401, false),
            ErrorKind::Conflict | ErrorKind::Integrity => (409, false),
            ErrorKind::Timeout => (504, true),
            ErrorKind::Connection | ErrorKind::Unavailable | ErrorKind::Delivery => (503, true),
            _ => (500, false),
        }
    }

    #[test]
    fn every_kind_has_its_documented_status_and_settlement() {
        let policy = StatusPolicy::default();
        for kind in ErrorKind::ALL {
            let (status, retried) = documented(kind);
            assert_eq!(policy.status(kind).as_u16(), status, "{kind:?}");
            assert_eq!(kind.is_transient(), retried, "{kind:?}");
        }
        // The kinds behind 500 are exactly the documented six.
        let internal: Vec<_> = ErrorKind::ALL
            .into_iter()
            .filter(|k| policy.status(*k) == StatusCode::INTERNAL_SERVER_ERROR)
            .collect();
        assert_eq!(
            internal,
            [
                ErrorKind::ExternalAuthentication,
                ErrorKind::ExternalAuthorization,
                ErrorKind::Configuration,
                ErrorKind::NotSupported,
                ErrorKind::Processing,
                ErrorKind::Internal,
            ]
        );
    }

    #[test]
    fn a_503_says_when_to_come_back_and_other_statuses_do_not() {
        for (status, expected) in [
            (StatusCode::SERVICE_UNAVAILABLE, Some("1")),
            (StatusCode::GATEWAY_TIMEOUT, None),
            (StatusCode::INTERNAL_SERVER_ERROR, None),
            (StatusCode::NOT_FOUND, None),
        ] {
            let response = Problem::new(status, "code", "detail", "tx", None).into_response();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok());
            assert_eq!(retry_after, expected, "{status}");
        }
    }
}
