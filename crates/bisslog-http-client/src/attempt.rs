//! One attempt at a request: sent, answered, its body read, and a failure
//! classified with whether the request may have reached the other service.
//!
//! Every public call of the client goes through
//! `ServiceClient::execute`, which makes one attempt; a policy that retries
//! transient failures makes one per try, and may send a request again only
//! when it is idempotent or was never sent.

use bisslog_core::{Error, ErrorKind};
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};

use crate::response::Response;
use crate::{answer, codes, propagation};

/// A request to make, as often as it is tried.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// The path after the client's base URL (`/schemas`).
    pub(crate) path: String,
    /// JSON, already written.
    pub(crate) body: Option<Bytes>,
    /// The calling use case's transaction and trace, read when the request
    /// was made (in the caller's task, whatever runs the attempts).
    pub(crate) headers: HeaderMap,
}

impl Request {
    /// A request on behalf of the use case being run, if any.
    pub(crate) fn new(method: Method, path: &str, body: Option<Bytes>) -> Self {
        Self {
            method,
            path: path.to_owned(),
            body,
            headers: propagation::current_headers(),
        }
    }

    /// `GET /schemas`, for messages.
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Why an attempt failed, and whether the request may have reached the
/// other service: one that was not sent can always be sent again.
#[derive(Debug)]
pub(crate) struct AttemptFailure {
    pub(crate) error: Error,
    pub(crate) sent: bool,
    /// The other service answered 401: it did not accept the credentials.
    pub(crate) unauthorized: bool,
}

impl AttemptFailure {
    fn sent(error: Error) -> Self {
        Self {
            error,
            sent: true,
            unauthorized: false,
        }
    }

    pub(crate) fn not_sent(error: Error) -> Self {
        Self {
            error,
            sent: false,
            unauthorized: false,
        }
    }
}

/// Makes one attempt at `request` to `url`: the answer when it is a
/// success, its body read whole (at most `max_body` bytes); otherwise the
/// failure it stands for.
pub(crate) async fn once(
    http: &reqwest::Client,
    url: &str,
    request: &Request,
    max_body: usize,
) -> Result<Response, AttemptFailure> {
    let mut builder = http
        .request(request.method.clone(), url)
        .headers(request.headers.clone());
    if let Some(body) = &request.body {
        builder = builder
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body.clone());
    }
    let mut answer = builder
        .send()
        .await
        .map_err(|e| transport_failure(request, url, e))?;
    let status = answer.status();
    let headers = std::mem::take(answer.headers_mut());
    if !status.is_success() {
        // The body only says what went wrong; when it cannot be read, the
        // status says it alone.
        let body = read_body(answer, max_body).await.unwrap_or_default();
        return Err(AttemptFailure {
            unauthorized: status == StatusCode::UNAUTHORIZED,
            ..AttemptFailure::sent(answer::failure(status, &headers, &body, &request.name()))
        });
    }
    match read_body(answer, max_body).await {
        Ok(body) => Ok(Response::new(status, headers, body, request.name())),
        Err(BodyError::Transport(e)) => Err(transport_failure(request, url, e)),
        Err(BodyError::TooLarge) => Err(AttemptFailure::sent(Error::new(
            ErrorKind::Processing,
            codes::BODY_TOO_LARGE,
            format!(
                "{} answered {status} with a body over {max_body} bytes",
                request.name()
            ),
        ))),
    }
}

/// What `reqwest` failed with, as a kind, and whether anything was sent.
fn transport_failure(request: &Request, url: &str, error: reqwest::Error) -> AttemptFailure {
    let target = format!("{} {url}", request.method);
    let (kind, code, what, sent) = if error.is_connect() {
        // Refused, unreachable, unknown host, or not connected in time:
        // the request never left.
        (
            ErrorKind::Connection,
            codes::CONNECT_FAILED,
            "the service could not be reached",
            false,
        )
    } else if error.is_timeout() {
        (
            ErrorKind::Timeout,
            codes::TIMEOUT,
            "no answer in time",
            true,
        )
    } else if error.is_builder() {
        (
            ErrorKind::Configuration,
            codes::INVALID_REQUEST,
            "not a valid request",
            false,
        )
    } else {
        (
            ErrorKind::Connection,
            codes::TRANSPORT_FAILED,
            "the connection failed",
            true,
        )
    };
    let error = Error::new(kind, code, format!("{target}: {what}")).with_source(error);
    if sent {
        AttemptFailure::sent(error)
    } else {
        AttemptFailure::not_sent(error)
    }
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// The whole body, refused as soon as it is known to be over `limit`
/// bytes: another service's answer is outside input.
async fn read_body(mut answer: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    let declared = answer.content_length();
    if declared.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(BodyError::TooLarge);
    }
    // Most answers arrive in one chunk: kept as it is, without a copy.
    let mut single: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut read = 0;
    while let Some(chunk) = answer.chunk().await.map_err(BodyError::Transport)? {
        if chunk.len() > limit - read {
            return Err(BodyError::TooLarge);
        }
        read += chunk.len();
        match single.take() {
            None if joined.is_empty() => single = Some(chunk),
            Some(head) => {
                let expected = declared.and_then(|l| usize::try_from(l).ok());
                joined.reserve(expected.unwrap_or(read));
                joined.extend_from_slice(&head);
                joined.extend_from_slice(&chunk);
            }
            None => joined.extend_from_slice(&chunk),
        }
    }
    Ok(single.unwrap_or_else(|| Bytes::from(joined)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use bisslog_core::UseCaseError;
    use reqwest::StatusCode;

    /// A server on 127.0.0.1 answering `/status/{code}` with that status,
    /// `/big` with 64 bytes, and never answering `/never`; stopped when
    /// dropped.
    struct Server {
        url: String,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn server() -> Server {
        let app = Router::new()
            .route(
                "/status/{code}",
                get(
                    |axum::extract::Path(code): axum::extract::Path<u16>| async move {
                        StatusCode::from_u16(code).unwrap()
                    },
                ),
            )
            .route("/big", get(|| async { "x".repeat(64) }))
            .route("/never", get(std::future::pending::<()>));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server { url, task }
    }

    fn get_request(path: &str) -> Request {
        Request::new(Method::GET, path, None)
    }

    #[tokio::test]
    async fn a_refused_connection_was_not_sent() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/a", listener.local_addr().unwrap());
        drop(listener);
        let request = get_request("/a");
        let failure = once(
            &bisslog_runtime::tls::client_builder(&Default::default(), false)
                .unwrap()
                .build()
                .unwrap(),
            &url,
            &request,
            1024,
        )
        .await
        .unwrap_err();
        assert!(!failure.sent);
        assert_eq!(failure.error.kind(), ErrorKind::Connection);
        assert_eq!(failure.error.code(), codes::CONNECT_FAILED);
    }

    #[tokio::test]
    async fn an_invalid_url_was_not_sent() {
        let request = get_request("/a");
        let failure = once(
            &bisslog_runtime::tls::client_builder(&Default::default(), false)
                .unwrap()
                .build()
                .unwrap(),
            "http://[::1/a",
            &request,
            1024,
        )
        .await
        .unwrap_err();
        assert!(!failure.sent);
        assert_eq!(failure.error.kind(), ErrorKind::Configuration);
    }

    #[tokio::test]
    async fn answers_and_timeouts_were_sent() {
        let server = server().await;
        let http = bisslog_runtime::tls::client_builder(&Default::default(), false)
            .unwrap()
            .timeout(std::time::Duration::from_millis(200))
            .build()
            .unwrap();
        let request = get_request("/status/503");
        let url = format!("{}/status/503", server.url);
        let failure = once(&http, &url, &request, 1024).await.unwrap_err();
        assert!(failure.sent);
        assert_eq!(failure.error.kind(), ErrorKind::Unavailable);

        let url = format!("{}/never", server.url);
        let failure = once(&http, &url, &get_request("/never"), 1024)
            .await
            .unwrap_err();
        assert!(failure.sent);
        assert_eq!(failure.error.kind(), ErrorKind::Timeout);

        let url = format!("{}/status/204", server.url);
        let answer = once(&http, &url, &get_request("/status/204"), 1024).await;
        assert_eq!(answer.unwrap().status(), StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let server = server().await;
        let http = bisslog_runtime::tls::client_builder(&Default::default(), false)
            .unwrap()
            .build()
            .unwrap();
        let url = format!("{}/big", server.url);
        let failure = once(&http, &url, &get_request("/big"), 63)
            .await
            .unwrap_err();
        assert_eq!(failure.error.kind(), ErrorKind::Processing);
        assert_eq!(failure.error.code(), codes::BODY_TOO_LARGE);
        let answer = once(&http, &url, &get_request("/big"), 64).await.unwrap();
        assert_eq!(answer.body().len(), 64);
    }
}
