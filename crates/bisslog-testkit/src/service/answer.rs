//! The answer to an HTTP request, read back.

use bisslog_http::Problem;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::KitError;

/// The response the service's HTTP routes gave, with its body read.
///
/// Its [status](Answer::status) compares with a number
/// (`assert_eq!(answer.status(), 201)`); the body reads as the use case's
/// output ([`json`](Answer::json)) or, for a failure, as the RFC 9457
/// problem document ([`problem`](Answer::problem)).
#[derive(Debug, Clone)]
pub struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Every header.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header's value, when it is present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The transaction id the service answered with (`x-transaction-id`).
    pub fn transaction_id(&self) -> Option<&str> {
        self.header(bisslog_http::TRANSACTION_HEADER)
    }

    /// The body as it came.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body read as JSON into `T` (a use case's output type, or
    /// `serde_json::Value`).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, KitError> {
        serde_json::from_slice(&self.body).map_err(|source| KitError::Decode {
            expected: std::any::type_name::<T>(),
            body: self.text(),
            source,
        })
    }

    /// The body read as the problem document of a failure
    /// (`application/problem+json`): status, code, detail, transaction id
    /// and the use case's details.
    pub fn problem(&self) -> Result<Problem, KitError> {
        let not_a_problem = || KitError::NotAProblem {
            status: self.status.as_u16(),
            body: self.text(),
        };
        let is_problem = self
            .header(http::header::CONTENT_TYPE.as_str())
            .is_some_and(|c| c.starts_with("application/problem+json"));
        if !is_problem {
            return Err(not_a_problem());
        }
        problem_of(self.json::<Value>()?).ok_or_else(not_a_problem)
    }
}

/// A problem document read back from its JSON (it is written, never
/// read, by the service, so it has no `Deserialize`).
pub(crate) fn problem_of(value: Value) -> Option<Problem> {
    let Value::Object(mut members) = value else {
        return None;
    };
    let mut text = |name: &str| match members.remove(name) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let kind = text("type")?;
    let title = text("title")?;
    let detail = text("detail")?;
    let code = text("code")?;
    let transaction_id = text("transaction_id")?;
    let instance = text("instance");
    let status = members
        .remove("status")
        .and_then(|s| s.as_u64())
        .and_then(|s| u16::try_from(s).ok())?;
    let details: Map<String, Value> = members;
    Some(Problem {
        kind,
        title,
        status,
        detail,
        code,
        instance,
        transaction_id,
        details: (!details.is_empty()).then_some(details),
    })
}
