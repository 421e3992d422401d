//! Failures as RFC 9457 problem details (`application/problem+json`).
//!
//! Caller faults (4xx) say what went wrong, with the use case's code and
//! details; everything else (5xx) says only that the service failed and
//! which transaction to quote, while the cause goes to the log.

use std::collections::HashMap;

use axum::response::{IntoResponse, Response};
use bisslog_core::{ErrorKind, UseCaseError};
use http::{HeaderValue, StatusCode, header};

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
        bisslog_runtime::problem::default_status(kind)
    }
}

/// The `Retry-After` (in seconds) of every 503 problem response.
pub const RETRY_AFTER_SECONDS: u64 = 1;

pub use bisslog_runtime::problem::Problem;

impl StatusPolicy {
    /// The problem document a caller gets for `failure`, with this
    /// policy's status (see [`Problem::from_failure`]: a 5xx says nothing
    /// of its cause, which is logged).
    pub fn problem(
        &self,
        failure: &dyn UseCaseError,
        transaction_id: &str,
        instance: Option<&str>,
    ) -> Problem {
        Problem::from_failure(
            failure,
            self.status(failure.kind()),
            transaction_id,
            instance,
        )
    }
}

/// A [`Problem`] as an HTTP response: `application/problem+json`, the
/// transaction id header, and `Retry-After` on a 503.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemResponse(pub Problem);

impl From<Problem> for ProblemResponse {
    fn from(problem: Problem) -> Self {
        Self(problem)
    }
}

/// `problem.into_response()` inside this crate, where a [`Problem`] is
/// always answered over HTTP.
pub(crate) trait ProblemIntoResponse {
    /// The problem as a [`ProblemResponse`].
    fn into_response(self) -> Response;
}

impl ProblemIntoResponse for Problem {
    fn into_response(self) -> Response {
        ProblemResponse(self).into_response()
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let problem = self.0;
        let status = problem.status_code();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Ok(id) = HeaderValue::from_str(&problem.transaction_id) {
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
