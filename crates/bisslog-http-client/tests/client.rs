//! The client against real axum servers on 127.0.0.1: what arrives, and
//! what each kind of answer becomes.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use bisslog_core::{
    Ctx, Error, ErrorKind, NoInput, TraceContext, TransactionId, Trigger, UseCase, UseCaseError,
};
use bisslog_http_client::{ClientError, ServiceClient, codes};
use bisslog_messaging::current;
use bisslog_runtime::Service;
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::trace::MemoryTracer;
use serde::Deserialize;
use serde_json::{Value, json};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A server on 127.0.0.1 (port 0), stopped by [`Server::stop`] or when
/// dropped.
struct Server {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, routes()).await;
        });
        Server { url, task }
    }

    fn client(&self) -> ServiceClient {
        ServiceClient::new(&self.url).unwrap()
    }

    async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the server saw of a request.
async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> axum::Json<Value> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map_or(Value::Null, |v| Value::String(v.to_owned()))
    };
    axum::Json(json!({
        "method": method.as_str(),
        "x-transaction-id": header("x-transaction-id"),
        "traceparent": header("traceparent"),
        "tracestate": header("tracestate"),
        "user-agent": header("user-agent"),
        "accept": header("accept"),
        "content-type": header("content-type"),
        "x-api-key": header("x-api-key"),
        "authorization": header("authorization"),
        "body": serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
    }))
}

/// A problem document as bisslog services answer failures.
fn problem(status: u16, code: &str, detail: &str) -> impl IntoResponse {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/problem+json")],
        json!({
            "type": format!("about:blank#{code}"),
            "title": StatusCode::from_u16(status).unwrap().canonical_reason(),
            "status": status,
            "detail": detail,
            "code": code,
            "transaction_id": "remote-tx",
        })
        .to_string(),
    )
}

fn routes() -> Router {
    Router::new()
        .route("/echo", any(echo))
        .route("/api/echo", any(echo))
        .route(
            "/status/{status}",
            any(|Path(status): Path<u16>| async move {
                (StatusCode::from_u16(status).unwrap(), "plain text")
            }),
        )
        .route(
            "/problem/{status}",
            get(|Path(status): Path<u16>| async move {
                problem(status, "thing-refused", "the thing was refused")
            }),
        )
        .route(
            "/title-only",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("content-type", "application/problem+json")],
                    r#"{"title": "Service Unavailable", "status": 503}"#,
                )
            }),
        )
        .route(
            "/schemas",
            get(|| async { axum::Json(json!([{"schema_keyname": "language"}])) }),
        )
        .route("/not-json", get(|| async { "hello" }))
        .route(
            "/wrong-shape",
            get(|| async { axum::Json(json!({"unexpected": true})) }),
        )
        .route(
            "/things/{id}",
            axum::routing::delete(|| async { StatusCode::NO_CONTENT })
                .put(|| async { StatusCode::NO_CONTENT }),
        )
        .route("/never", get(std::future::pending::<()>))
        .route(
            "/moved",
            get(|| async { axum::response::Redirect::temporary("/echo") }),
        )
}

#[derive(Debug, Deserialize, PartialEq)]
struct Schema {
    schema_keyname: String,
}

#[tokio::test]
async fn the_calls_transaction_and_trace_arrive_with_it() {
    let server = Server::start().await;
    let client = server.client();
    let parent = TraceContext::parse(TRACEPARENT)
        .unwrap()
        .with_state("congo=t61rcWkgMzE");
    let ctx = Ctx::builder("import", Trigger::Http)
        .transaction_id(TransactionId::parse("tx-import-1").unwrap())
        .trace_parent(parent)
        .build();
    let seen: Value = current::scope(ctx, client.get_json("/echo")).await.unwrap();
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["x-transaction-id"], "tx-import-1");
    assert_eq!(seen["traceparent"], TRACEPARENT);
    assert_eq!(seen["tracestate"], "congo=t61rcWkgMzE");
    assert_eq!(
        seen["user-agent"],
        format!("bisslog/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(seen["accept"], "application/json, application/problem+json");

    // Outside any use case there is nothing to send on.
    let seen: Value = client.get_json("/echo").await.unwrap();
    assert_eq!(seen["x-transaction-id"], Value::Null);
    assert_eq!(seen["traceparent"], Value::Null);
    server.stop().await;
}

/// A use case of a service asking another one: what it calls arrives in
/// the call's own span, under the caller's trace, with its transaction id.
struct Ask {
    other: ServiceClient,
}

impl UseCase for Ask {
    type Input = NoInput;
    type Output = String;
    type Error = Error;
    async fn run(&self, _: &Ctx, _: NoInput) -> Result<String, Error> {
        let seen: Value = self.other.get_json("/echo").await?;
        Ok(seen.to_string())
    }
}

#[tokio::test]
async fn a_use_case_call_sends_its_span_and_transaction() {
    let server = Server::start().await;
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: asker\nuse_cases:\n  ask:\n    triggers: [{type: http, options: {path: /ask}}]\n",
    )
    .into_service()
    .unwrap();
    let (tracer, spans) = MemoryTracer::recording();
    let service = Service::builder(metadata)
        .use_case(
            "ask",
            Ask {
                other: server.client(),
            },
        )
        .tracer(tracer)
        .build()
        .unwrap();
    let ctx = Ctx::builder("ask", Trigger::Http)
        .trace_parent(TraceContext::parse(TRACEPARENT).unwrap())
        .build();
    let transaction = ctx.transaction_id().to_string();
    let reply = service
        .use_case("ask")
        .unwrap()
        .call(ctx, &Mapped::object())
        .await
        .unwrap();
    let text: String = serde_json::from_slice(reply.body.as_deref().unwrap()).unwrap();
    let seen: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(seen["x-transaction-id"], transaction);
    let span = spans.named("ask").unwrap();
    assert_eq!(seen["traceparent"], span.context.traceparent());
    assert_ne!(
        seen["traceparent"], TRACEPARENT,
        "the call's span, not its parent"
    );
    assert_eq!(
        span.context.trace_id(),
        TraceContext::parse(TRACEPARENT).unwrap().trace_id()
    );
    server.stop().await;
}

#[tokio::test]
async fn each_status_becomes_its_kind() {
    let server = Server::start().await;
    let client = server.client();
    let expected = [
        (400, ErrorKind::InvalidData),
        (401, ErrorKind::ExternalAuthentication),
        (403, ErrorKind::ExternalAuthorization),
        (404, ErrorKind::NotFound),
        (405, ErrorKind::InvalidData),
        (409, ErrorKind::Conflict),
        (418, ErrorKind::InvalidData),
        (422, ErrorKind::InvalidData),
        (429, ErrorKind::Unavailable),
        (500, ErrorKind::Processing),
        (501, ErrorKind::Processing),
        (502, ErrorKind::Unavailable),
        (503, ErrorKind::Unavailable),
        (504, ErrorKind::Timeout),
    ];
    for (status, kind) in expected {
        let path = format!("/status/{status}");
        let error = client.get_json::<Value>(&path).await.unwrap_err();
        assert_eq!(error.kind(), kind, "{status}");
        assert_eq!(error.code(), format!("http-{status}"));
        let reason = StatusCode::from_u16(status).unwrap();
        assert_eq!(error.to_string(), format!("GET {path} answered {reason}"));
    }
    // Redirects are not followed: the default headers stay with the service.
    let error = client.get_json::<Value>("/moved").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Processing);
    assert_eq!(error.code(), "http-307");
    server.stop().await;
}

#[tokio::test]
async fn problem_documents_give_their_code_and_message() {
    let server = Server::start().await;
    let client = server.client();
    for (status, kind) in [
        (404, ErrorKind::NotFound),
        (409, ErrorKind::Conflict),
        (422, ErrorKind::InvalidData),
        (503, ErrorKind::Unavailable),
    ] {
        let error = client
            .get_json::<Value>(&format!("/problem/{status}"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "{status}");
        assert_eq!(error.code(), "thing-refused");
        assert_eq!(error.to_string(), "the thing was refused");
    }
    let error = client.get_json::<Value>("/title-only").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert_eq!(error.code(), "http-503");
    assert_eq!(error.to_string(), "Service Unavailable");
    server.stop().await;
}

#[tokio::test]
async fn a_service_that_is_down_is_a_connection_failure() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = ServiceClient::new(&url).unwrap();
    let error = client.get_json::<Value>("/schemas").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connection);
    assert!(error.kind().is_transient());
    assert_eq!(error.code(), codes::CONNECT_FAILED);
    assert!(error.to_string().contains(&url), "{error}");
    assert!(std::error::Error::source(&error).is_some());
}

#[tokio::test]
async fn a_body_that_is_not_the_json_expected_is_invalid_data() {
    let server = Server::start().await;
    let client = server.client();
    let schemas: Vec<Schema> = client.get_json("/schemas").await.unwrap();
    assert_eq!(
        schemas,
        [Schema {
            schema_keyname: "language".into()
        }]
    );
    for path in ["/not-json", "/wrong-shape"] {
        let error = client.get_json::<Vec<Schema>>(path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Processing, "{path}");
        assert_eq!(error.code(), codes::UNEXPECTED_BODY);
        assert!(
            error
                .to_string()
                .starts_with(&format!("GET {path} answered"))
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn bodies_go_out_as_json_and_successes_come_back() {
    let server = Server::start().await;
    let client = server.client();
    let seen: Value = client
        .post_json("/echo", &json!({"records": [1, 2]}))
        .await
        .unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["content-type"], "application/json");
    assert_eq!(seen["body"], json!({"records": [1, 2]}));
    let seen: Value = client.put_json("/echo", &[7]).await.unwrap();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["body"], json!([7]));

    // No content: `()` (and `delete`, which ignores the body).
    let (): () = client.put_json("/things/1", &json!({})).await.unwrap();
    client.delete("/things/1").await.unwrap();
    let error = client.delete("/status/404").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let patch = json!({"a": 1});
    let answer = client
        .send(Method::PATCH, "/echo", Some(&patch))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "application/json");
    let seen: Value = answer.json().unwrap();
    assert_eq!(seen["method"], "PATCH");
    assert_eq!(seen["body"], patch);
    let error = client
        .send(Method::GET, "/status/503", None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    server.stop().await;
}

#[tokio::test]
async fn the_builders_settings_apply() {
    let server = Server::start().await;
    let client = ServiceClient::builder(format!("{}/api/", server.url))
        .default_header("x-api-key", "k-123")
        .default_header("accept", "application/json")
        .user_agent("importer/2")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), format!("{}/api", server.url));
    let seen: Value = client.get_json("/echo").await.unwrap();
    assert_eq!(seen["x-api-key"], "k-123");
    assert_eq!(seen["accept"], "application/json");
    assert_eq!(seen["user-agent"], "importer/2");
    assert!(!format!("{client:?}").contains("k-123"), "{client:?}");

    // A service that never answers: the timeout ends the call.
    let impatient = ServiceClient::builder(&server.url)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let error = impatient.get_json::<Value>("/never").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.code(), codes::TIMEOUT);

    let small = ServiceClient::builder(&server.url)
        .max_body_bytes(8)
        .build()
        .unwrap();
    let error = small.get_json::<Value>("/schemas").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Processing);
    assert_eq!(error.code(), codes::BODY_TOO_LARGE);

    assert!(matches!(
        ServiceClient::new("registry"),
        Err(ClientError::InvalidBaseUrl { .. })
    ));
    server.stop().await;
}

/// Tokens that expire: a new one for every attempt.
struct Counting(std::sync::atomic::AtomicUsize);

impl bisslog_http_client::TokenProvider for Counting {
    fn token(&self) -> bisslog_core::BoxFuture<'_, Result<String, Error>> {
        Box::pin(async move {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n == 2 {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    "no-token",
                    "the identity provider is down",
                ));
            }
            Ok(format!("token-{n}"))
        })
    }
}

#[tokio::test]
async fn credentials_are_sent_static_or_from_a_provider() {
    let server = Server::start().await;
    let client = ServiceClient::builder(&server.url)
        .bearer_token("t-1")
        .api_key("k-1")
        .build()
        .unwrap();
    let seen: Value = client.get_json("/echo").await.unwrap();
    assert_eq!(seen["authorization"], "Bearer t-1");
    assert_eq!(seen["x-api-key"], "k-1");

    let client = ServiceClient::builder(&server.url)
        .bearer_token_provider(Counting(std::sync::atomic::AtomicUsize::new(0)))
        .build()
        .unwrap();
    for n in 0..2 {
        let seen: Value = client.get_json("/echo").await.unwrap();
        assert_eq!(seen["authorization"], format!("Bearer token-{n}"));
    }
    let error = client.get_json::<Value>("/echo").await.unwrap_err();
    assert_eq!(error.code(), "no-token");
    server.stop().await;
}
