//! A successful answer, read whole.

use bisslog_core::{Error, ErrorKind};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::codes;

/// A success (2xx) answer of another service, its body read whole: what
/// [`ServiceClient::send`](crate::ServiceClient::send) returns (any other
/// answer is an error).
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// `GET /schemas`, for messages.
    request: String,
}

impl Response {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        request: String,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            request,
        }
    }

    /// The status (a success).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body, taken.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The body read as JSON into `T`; an empty body (`204 No Content`)
    /// reads as `null`, which fills `()` and `Option`s.
    ///
    /// A body that is not the JSON expected is an
    /// [`ErrorKind::Processing`] error with the code
    /// [`codes::UNEXPECTED_BODY`]: the other service failed to answer
    /// something its caller can use (not the caller's own input's fault,
    /// so not a 4xx to whoever called the caller).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            Error::new(
                ErrorKind::Processing,
                codes::UNEXPECTED_BODY,
                format!(
                    "{} answered a body that is not the JSON expected: {e}",
                    self.request
                ),
            )
            .with_source(e)
        })
    }
}
