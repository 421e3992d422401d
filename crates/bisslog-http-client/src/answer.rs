//! An answer that is not a success, as the error a use case returns: its
//! kind from the status, its code and message from the problem document
//! when there is one.

use bisslog_core::{Error, ErrorKind};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::Value;

/// The media type of RFC 9457 problem documents.
const PROBLEM_JSON: &str = "application/problem+json";

/// The longest code taken from a problem document; a longer one (or one
/// with spaces or control characters) is not a code, and `http-<status>`
/// is used instead.
const MAX_CODE_LEN: usize = 128;

/// The kind of failure an answer's status means, from the caller's side:
/// the other service is an external system, so its refusals of the data
/// are `InvalidData` and its own failures `Processing`.
///
/// | status | kind |
/// |---|---|
/// | 400, 422, any other 4xx | `InvalidData` |
/// | 401 | `ExternalAuthentication` |
/// | 403 | `ExternalAuthorization` |
/// | 404 | `NotFound` |
/// | 409 | `Conflict` |
/// | 429, 502, 503 | `Unavailable` (transient: worth trying again later) |
/// | 504 | `Timeout` |
/// | any other 5xx, and a redirect (3xx: the client follows none) | `Processing` |
///
/// ```
/// use bisslog_core::ErrorKind;
/// use bisslog_http_client::{StatusCode, kind_for_status};
///
/// assert_eq!(kind_for_status(StatusCode::NOT_FOUND), ErrorKind::NotFound);
/// assert_eq!(kind_for_status(StatusCode::SERVICE_UNAVAILABLE), ErrorKind::Unavailable);
/// assert_eq!(kind_for_status(StatusCode::GATEWAY_TIMEOUT), ErrorKind::Timeout);
/// assert_eq!(kind_for_status(StatusCode::NOT_IMPLEMENTED), ErrorKind::Processing);
/// ```
pub fn kind_for_status(status: StatusCode) -> ErrorKind {
    match status {
        StatusCode::UNAUTHORIZED => ErrorKind::ExternalAuthentication,
        StatusCode::FORBIDDEN => ErrorKind::ExternalAuthorization,
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::CONFLICT => ErrorKind::Conflict,
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE => ErrorKind::Unavailable,
        StatusCode::GATEWAY_TIMEOUT => ErrorKind::Timeout,
        // 400, 422 and the other refusals of the request.
        s if s.is_client_error() => ErrorKind::InvalidData,
        _ => ErrorKind::Processing,
    }
}

/// The error an answer with `status` (not a success) stands for; `request`
/// names the request in the message when the answer says nothing itself
/// (`GET /schemas`: the path, not the service's address, since a use case
/// may pass the message on to its own caller).
pub(crate) fn failure(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    request: &str,
) -> Error {
    let kind = kind_for_status(status);
    let problem = is_problem(headers)
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten();
    let member = |name: &str| {
        problem
            .as_ref()
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
    };
    let code = member("code")
        .filter(|code| is_code(code))
        .map_or_else(|| format!("http-{}", status.as_u16()), str::to_owned);
    let message = member("detail")
        .or_else(|| member("title"))
        .map_or_else(|| format!("{request} answered {status}"), str::to_owned);
    Error::new(kind, code, message)
}

/// Whether the answer says it is a problem document (`content-type`
/// parameters and case ignored).
fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(PROBLEM_JSON))
}

/// Whether `code` can be an error code: short, visible ASCII (it goes into
/// log lines and the caller's own problem documents).
fn is_code(code: &str) -> bool {
    code.len() <= MAX_CODE_LEN && code.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_core::UseCaseError;
    use reqwest::header::HeaderValue;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers
    }

    #[test]
    fn problem_documents_give_their_code_and_detail() {
        let body =
            br#"{"title": "Not Found", "detail": "no schema `x`", "code": "schema-not-found"}"#;
        let error = failure(
            StatusCode::NOT_FOUND,
            &headers("application/problem+json; charset=utf-8"),
            body,
            "GET /schemas/x",
        );
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(error.code(), "schema-not-found");
        assert_eq!(error.to_string(), "no schema `x`");
    }

    #[test]
    fn a_title_stands_in_for_a_missing_detail() {
        let body = br#"{"title": "Too busy", "code": 7}"#;
        let error = failure(
            StatusCode::TOO_MANY_REQUESTS,
            &headers("Application/Problem+JSON"),
            body,
            "GET /a",
        );
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        assert_eq!(error.code(), "http-429");
        assert_eq!(error.to_string(), "Too busy");
    }

    #[test]
    fn anything_else_gets_the_status_as_code_and_message() {
        let plain_json = br#"{"code": "not-a-problem", "detail": "ignored"}"#;
        for (content_type, body) in [
            ("application/json", &plain_json[..]),
            ("application/problem+json", b"not json"),
            (
                "application/problem+json",
                br#"{"code": "has spaces", "detail": " "}"#,
            ),
            ("text/plain", b"oops"),
        ] {
            let error = failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                &headers(content_type),
                body,
                "POST /things",
            );
            assert_eq!(error.kind(), ErrorKind::Processing);
            assert_eq!(error.code(), "http-500", "{content_type}");
            assert_eq!(
                error.to_string(),
                "POST /things answered 500 Internal Server Error"
            );
        }
    }

    #[test]
    fn every_status_that_is_not_a_success_has_a_kind() {
        let expected = [
            (400, ErrorKind::InvalidData),
            (401, ErrorKind::ExternalAuthentication),
            (403, ErrorKind::ExternalAuthorization),
            (404, ErrorKind::NotFound),
            (405, ErrorKind::InvalidData),
            (409, ErrorKind::Conflict),
            (410, ErrorKind::InvalidData),
            (422, ErrorKind::InvalidData),
            (429, ErrorKind::Unavailable),
            (500, ErrorKind::Processing),
            (501, ErrorKind::Processing),
            (502, ErrorKind::Unavailable),
            (503, ErrorKind::Unavailable),
            (504, ErrorKind::Timeout),
            (599, ErrorKind::Processing),
            (304, ErrorKind::Processing),
        ];
        for (status, kind) in expected {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(kind_for_status(status), kind, "{status}");
        }
    }
}
