//! OAuth 2.0 client credentials against a real token endpoint and a real
//! resource server, both axum servers on 127.0.0.1: what the endpoint
//! receives, how often it is asked, and what its failures and the
//! resource's 401s become.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bisslog_core::{ErrorKind, UseCaseError};
use bisslog_http_client::{ClientCredentials, ServiceClient, codes};
use bisslog_runtime::resilience::{Interaction, Policy, Retry};
use serde_json::{Value, json};

const CLIENT_ID: &str = "importer:1";
/// Characters that RFC 6749 §2.3.1's form-urlencoding changes.
const CLIENT_SECRET: &str = "s3cret/+= x";
/// `base64("importer%3A1:s3cret%2F%2B%3D+x")`.
const BASIC: &str = "Basic aW1wb3J0ZXIlM0ExOnMzY3JldCUyRiUyQiUzRCt4";
const FORM: &str = "grant_type=client_credentials&scope=registry.read+registry.write&audience=company-data-registry";

/// What the token endpoint answers.
#[derive(Clone)]
enum Answer {
    /// A new token `tok-<n>`, with this `expires_in`.
    Token { expires_in: Option<u64> },
    /// This status and body.
    Fixed(u16, &'static str),
    /// Never: the request hangs.
    Never,
    /// 503 to the first `failures` requests, then tokens.
    Recovering { failures: usize },
}

/// The token endpoint's and the resource's shared state.
struct Shared {
    answer: Mutex<Answer>,
    /// Requests the token endpoint received.
    fetches: AtomicUsize,
    /// Held by the test to keep token requests waiting.
    gate: tokio::sync::RwLock<()>,
    /// Tokens the resource refuses (`*` for every one).
    refused: Mutex<Vec<String>>,
    /// The bearer tokens of the requests the resource received.
    seen: Mutex<Vec<String>>,
}

/// The token endpoint (`POST /token`) and the resource (`GET /data`) on
/// one server, stopped when dropped.
struct Servers {
    url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let n = shared.fetches.fetch_add(1, Ordering::SeqCst) + 1;
    let _open = shared.gate.read().await;
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    if authorization != Some(BASIC) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if content_type != Some("application/x-www-form-urlencoded") || body != FORM {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_request"})),
        )
            .into_response();
    }
    let answer = shared.answer.lock().unwrap().clone();
    match answer {
        Answer::Token { expires_in } => {
            let mut document = json!({"access_token": format!("tok-{n}"), "token_type": "Bearer"});
            if let Some(expires_in) = expires_in {
                document["expires_in"] = json!(expires_in);
            }
            axum::Json(document).into_response()
        }
        Answer::Fixed(status, body) => (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            body,
        )
            .into_response(),
        Answer::Never => std::future::pending().await,
        Answer::Recovering { failures } if n <= failures => {
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Answer::Recovering { .. } => {
            axum::Json(json!({"access_token": format!("tok-{n}"), "token_type": "bearer"}))
                .into_response()
        }
    }
}

async fn data(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    shared.seen.lock().unwrap().push(bearer.clone());
    let refused = shared.refused.lock().unwrap();
    if refused.iter().any(|r| r == "*" || *r == bearer) {
        return (
            StatusCode::UNAUTHORIZED,
            [("content-type", "application/problem+json")],
            r#"{"status": 401, "code": "invalid-token", "detail": "the token is not valid"}"#,
        )
            .into_response();
    }
    axum::Json(json!({"token": bearer})).into_response()
}

impl Servers {
    async fn start(answer: Answer) -> Self {
        let shared = Arc::new(Shared {
            answer: Mutex::new(answer),
            fetches: AtomicUsize::new(0),
            gate: tokio::sync::RwLock::new(()),
            refused: Mutex::default(),
            seen: Mutex::default(),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/data", get(data))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Servers { url, shared, task }
    }

    fn credentials(&self) -> bisslog_http_client::ClientCredentialsBuilder {
        ClientCredentials::builder(format!("{}/token", self.url), CLIENT_ID, CLIENT_SECRET)
            .scope("registry.read registry.write")
            .audience("company-data-registry")
    }

    fn client(&self, credentials: ClientCredentials) -> ServiceClient {
        ServiceClient::builder(&self.url)
            .bearer_token_provider(credentials)
            .build()
            .unwrap()
    }

    fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<String> {
        self.shared.seen.lock().unwrap().clone()
    }

    fn refuse(&self, token: &str) {
        self.shared.refused.lock().unwrap().push(token.to_owned());
    }
}

async fn get_token(client: &ServiceClient) -> Result<String, bisslog_core::Error> {
    let answer: Value = client.get_json("/data").await?;
    Ok(answer["token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn concurrent_calls_share_one_fetch_with_basic_auth_and_the_form_body() {
    let servers = Servers::start(Answer::Token {
        expires_in: Some(3600),
    })
    .await;
    let client = servers.client(servers.credentials().build().unwrap());
    // Token requests wait until every call has started.
    let closed = servers.shared.gate.write().await;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { get_token(&client).await })
        })
        .collect();
    for _ in 0..500 {
        if servers.fetches() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(servers.fetches(), 1);
    drop(closed);
    for call in calls {
        // The endpoint refuses another client id, secret or body.
        assert_eq!(call.await.unwrap().unwrap(), "tok-1");
    }
    assert_eq!(servers.fetches(), 1);
    assert_eq!(servers.seen().len(), 20);
    // Later calls use the cached token.
    assert_eq!(get_token(&client).await.unwrap(), "tok-1");
    assert_eq!(servers.fetches(), 1);
}

#[tokio::test]
async fn concurrent_calls_share_a_failed_fetch() {
    let servers = Servers::start(Answer::Fixed(503, "")).await;
    let client = servers.client(servers.credentials().build().unwrap());
    let closed = servers.shared.gate.write().await;
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { get_token(&client).await })
        })
        .collect();
    for _ in 0..500 {
        if servers.fetches() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(closed);
    for call in calls {
        let error = call.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unavailable);
    }
    // Every call waited for the one fetch and got its failure: none asked
    // again at once (the test's runtime runs one task at a time, so all
    // ten were waiting before the endpoint answered).
    assert_eq!(servers.fetches(), 1);
    // A later call asks again.
    let before = servers.fetches();
    assert!(get_token(&client).await.is_err());
    assert_eq!(servers.fetches(), before + 1);
}

#[tokio::test]
async fn an_expired_token_is_replaced() {
    let servers = Servers::start(Answer::Token {
        expires_in: Some(1),
    })
    .await;
    let credentials = servers
        .credentials()
        .expiry_skew(Duration::ZERO)
        .build()
        .unwrap();
    let client = servers.client(credentials);
    assert_eq!(get_token(&client).await.unwrap(), "tok-1");
    // Polled: the token lives one second.
    let mut token = String::new();
    for _ in 0..100 {
        token = get_token(&client).await.unwrap();
        if token != "tok-1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(token, "tok-2");
    assert_eq!(servers.fetches(), 2);
}

#[tokio::test]
async fn a_refused_client_is_an_external_authentication_error() {
    let servers = Servers::start(Answer::Token { expires_in: None }).await;
    let wrong = ClientCredentials::builder(format!("{}/token", servers.url), CLIENT_ID, "wrong")
        .build()
        .unwrap();
    let client = servers.client(wrong);
    let error = get_token(&client).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ExternalAuthentication);
    assert_eq!(error.code(), codes::OAUTH_INVALID_CLIENT);
    assert!(error.to_string().contains("invalid_client"), "{error}");
    assert!(!error.to_string().contains("wrong"), "{error}");
    // Nothing reached the resource.
    assert!(servers.seen().is_empty());
}

#[tokio::test]
async fn unusable_answers_are_processing_errors() {
    let huge: &'static str =
        Box::leak(format!(r#"{{"access_token": "{}"}}"#, "t".repeat(70 * 1024)).into_boxed_str());
    for body in [
        "<html>",
        r#"{"token_type": "Bearer"}"#,
        r#"{"access_token": "t", "token_type": "MAC"}"#,
        huge,
    ] {
        let servers = Servers::start(Answer::Fixed(200, body)).await;
        let client = servers.client(servers.credentials().build().unwrap());
        let error = get_token(&client).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Processing, "{error}");
        assert_eq!(error.code(), codes::OAUTH_BAD_TOKEN_RESPONSE);
        assert!(servers.seen().is_empty());
    }
}

#[tokio::test]
async fn an_endpoint_down_slow_or_failing_is_a_transient_error() {
    // Down: nothing listens.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}/token", listener.local_addr().unwrap());
    drop(listener);
    let servers = Servers::start(Answer::Never).await;
    let client = servers.client(
        ClientCredentials::builder(down, CLIENT_ID, CLIENT_SECRET)
            .build()
            .unwrap(),
    );
    let error = get_token(&client).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connection);
    assert!(error.kind().is_transient());

    let slow = servers
        .credentials()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = get_token(&servers.client(slow)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);

    *servers.shared.answer.lock().unwrap() =
        Answer::Fixed(503, r#"{"error": "temporarily_unavailable"}"#);
    let client = servers.client(servers.credentials().build().unwrap());
    let error = get_token(&client).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert_eq!(error.code(), codes::OAUTH_TOKEN_UNAVAILABLE);
    assert!(servers.seen().is_empty());
}

#[tokio::test]
async fn the_interaction_retries_a_failing_token_endpoint() {
    let servers = Servers::start(Answer::Recovering { failures: 2 }).await;
    let policy = Policy {
        retry: Some(Retry {
            max_attempts: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
            multiplier: 1.0,
            jitter: 0.0,
        }),
        ..Policy::default()
    };
    let client = ServiceClient::builder(&servers.url)
        .bearer_token_provider(servers.credentials().build().unwrap())
        .interaction(Interaction::new("registry", policy))
        .build()
        .unwrap();
    // The failures came before anything was sent to the resource, so even
    // a call that is not idempotent is tried again.
    assert_eq!(get_token(&client).await.unwrap(), "tok-3");
    assert_eq!(servers.fetches(), 3);
    assert_eq!(servers.seen(), ["tok-3"]);
}

#[tokio::test]
async fn a_401_from_the_resource_renews_the_token_once() {
    let servers = Servers::start(Answer::Token {
        expires_in: Some(3600),
    })
    .await;
    let client = servers.client(servers.credentials().build().unwrap());
    assert_eq!(get_token(&client).await.unwrap(), "tok-1");
    // Revoked: the next call is refused, renews and succeeds.
    servers.refuse("tok-1");
    assert_eq!(get_token(&client).await.unwrap(), "tok-2");
    assert_eq!(servers.fetches(), 2);
    assert_eq!(servers.seen(), ["tok-1", "tok-1", "tok-2"]);

    // Every token refused: one renewal, then the 401 is the error.
    servers.refuse("*");
    let error = get_token(&client).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ExternalAuthentication);
    assert_eq!(error.code(), "invalid-token");
    assert_eq!(servers.fetches(), 3);
    assert_eq!(
        servers.seen(),
        ["tok-1", "tok-1", "tok-2", "tok-2", "tok-3"]
    );
}
