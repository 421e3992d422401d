//! The HTTP entry point over a real socket: routes from metadata, status
//! mapping, problem documents, limits, CORS, caching, authentication,
//! health, WebSockets and graceful shutdown.

#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bisslog_core::{
    Adapter, BoxFuture, Completion, Ctx, Error, ErrorKind, NoInput, UseCase, WebSocketConnections,
};
use bisslog_http::{Authenticator, HttpConfig, HttpServer, WebSocketRegistry};
use bisslog_runtime::Service;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, oneshot};

const METADATA: &str = r#"
name: test service
use_cases:
  add:
    name: add
    triggers: [{type: http, options: {method: post, path: "/add/{c}"}}]
  create_thing:
    name: create thing
    triggers: [{type: http, options: {method: post, path: /things, mapper: {body: thing}}}]
    external_interactions: [{keyname: things_db, type_interaction: database}]
  get_thing:
    name: get thing
    triggers:
      - type: http
        options: {method: get, path: "/things/{id}", cacheable: true, mapper: {path_query.id: id}}
  delete_thing:
    name: delete thing
    triggers: [{type: http, options: {method: delete, path: "/things/{thing_id}", mapper: {path_query.thing_id: id}}}]
  fail:
    name: fail with a kind
    triggers: [{type: http, options: {method: post, path: "/fail/{kind}"}}]
  slow:
    name: never finishes
    triggers: [{type: http, options: {method: get, path: /slow, timeout: 100}}]
  boom:
    name: panics
    triggers: [{type: http, options: {method: get, path: /boom}}]
  limited:
    name: rate limited
    triggers: [{type: http, options: {method: get, path: /limited, rate_limit: "2r/m"}}]
  whoami:
    name: who am I
    triggers: [{type: http, options: {method: get, path: /me, authenticator: user, mapper: {context.user_id: user_id}}}]
  cors:
    name: cross-origin
    triggers:
      - type: http
        options: {method: get, path: /cors, allow_cors: true, allowed_origins: ["https://app.example.com"]}
  wait:
    name: waits for the test
    triggers: [{type: http, options: {method: get, path: /wait}}]
  ws_connect:
    name: accepts connections
    triggers: [{type: websocket, options: {routeKey: $connect}}]
  ws_echo:
    name: echoes
    triggers: [{type: websocket, options: {routeKey: echo, mapper: {body.text: text, connection_id: connection}}}]
  ws_default:
    name: default route
    triggers: [{type: websocket, options: {routeKey: $default}}]
  notify:
    name: pushes to a connection
    triggers: [{type: http, options: {method: post, path: "/notify/{connection}"}}]
  nightly:
    name: not served over HTTP
    triggers: [{type: schedule, options: {cronjob: "0 3 * * *"}}]
"#;

#[derive(Deserialize, schemars::JsonSchema)]
struct AddInput {
    a: i64,
    b: i64,
    c: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Sum {
    result: i64,
}

struct Add;
impl UseCase for Add {
    type Input = AddInput;
    type Output = Sum;
    type Error = Error;
    async fn run(&self, _: &Ctx, i: AddInput) -> Result<Sum, Error> {
        Ok(Sum {
            result: i.a + i.b + i.c,
        })
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct CreateInput {
    thing: Value,
}

struct CreateThing;
impl UseCase for CreateThing {
    type Input = CreateInput;
    type Output = Value;
    type Error = Error;
    async fn run(&self, _: &Ctx, i: CreateInput) -> Result<Value, Error> {
        Ok(json!({"created": i.thing}))
    }
    const COMPLETION: Completion = Completion::Created;
}

#[derive(Deserialize, schemars::JsonSchema)]
struct IdInput {
    id: String,
}

struct GetThing;
impl UseCase for GetThing {
    type Input = IdInput;
    type Output = Value;
    type Error = Error;
    async fn run(&self, _: &Ctx, i: IdInput) -> Result<Value, Error> {
        if i.id == "7" {
            Ok(json!({"id": i.id, "name": "seven"}))
        } else {
            Err(Error::not_found(
                "thing-not-found",
                format!("there is no thing `{}`", i.id),
            ))
        }
    }
}

struct DeleteThing;
impl UseCase for DeleteThing {
    type Input = IdInput;
    type Output = ();
    type Error = Error;
    async fn run(&self, _: &Ctx, _: IdInput) -> Result<(), Error> {
        Ok(())
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct KindInput {
    kind: String,
}

struct Fail;
impl UseCase for Fail {
    type Input = KindInput;
    type Output = ();
    type Error = Error;
    async fn run(&self, _: &Ctx, i: KindInput) -> Result<(), Error> {
        let kind = match i.kind.as_str() {
            "not-allowed" => ErrorKind::NotAllowed,
            "conflict" => ErrorKind::Conflict,
            "unavailable" => ErrorKind::Connection,
            "invalid" => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        };
        Err(
            Error::new(kind, "failed-on-purpose", "secret internal detail")
                .with_details(json!({"hint": "x"})),
        )
    }
}

struct Slow;
impl UseCase for Slow {
    type Input = NoInput;
    type Output = ();
    type Error = Error;
    async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
        std::future::pending().await
    }
}

struct Boom;
impl UseCase for Boom {
    type Input = NoInput;
    type Output = ();
    type Error = Error;
    async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
        panic!("the use case exploded")
    }
}

struct Static(&'static str);
impl UseCase for Static {
    type Input = NoInput;
    type Output = &'static str;
    type Error = Error;
    async fn run(&self, _: &Ctx, _: NoInput) -> Result<&'static str, Error> {
        Ok(self.0)
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct WhoInput {
    user_id: String,
}

struct WhoAmI;
impl UseCase for WhoAmI {
    type Input = WhoInput;
    type Output = Value;
    type Error = Error;
    async fn run(&self, ctx: &Ctx, i: WhoInput) -> Result<Value, Error> {
        Ok(json!({"user": i.user_id, "transaction": ctx.transaction_id().to_string()}))
    }
}

/// Waits until the test releases it.
struct Wait(Arc<Notify>, Arc<Notify>);
impl UseCase for Wait {
    type Input = NoInput;
    type Output = &'static str;
    type Error = Error;
    async fn run(&self, _: &Ctx, _: NoInput) -> Result<&'static str, Error> {
        self.0.notify_one();
        self.1.notified().await;
        Ok("released")
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct EchoInput {
    text: String,
    connection: String,
}

struct Echo;
impl UseCase for Echo {
    type Input = EchoInput;
    type Output = Value;
    type Error = Error;
    async fn run(&self, _: &Ctx, i: EchoInput) -> Result<Value, Error> {
        Ok(json!({"echo": i.text, "connection": i.connection}))
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct NotifyInput {
    connection: String,
    message: Value,
}

struct Push(WebSocketRegistry);
impl UseCase for Push {
    type Input = NotifyInput;
    type Output = ();
    type Error = Error;
    async fn run(&self, _: &Ctx, i: NotifyInput) -> Result<(), Error> {
        self.0.send(&i.connection, i.message).await
    }
}

/// `Authorization: Bearer <user>`.
struct Bearer;
impl Authenticator for Bearer {
    fn authenticate<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<serde_json::Map<String, Value>, Error>> {
        Box::pin(async move {
            let user = request
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    Error::unauthenticated("no-credentials", "a bearer token is required")
                })?;
            let mut attributes = serde_json::Map::new();
            attributes.insert("user_id".into(), user.into());
            Ok(attributes)
        })
    }
}

struct Database(Arc<AtomicBool>);
impl Adapter for Database {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        let up = self.0.load(Ordering::SeqCst);
        Box::pin(async move {
            if up {
                Ok(())
            } else {
                Err(Error::new(
                    ErrorKind::Connection,
                    "db-down",
                    "the database does not answer",
                ))
            }
        })
    }
}

struct Running {
    addr: SocketAddr,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    started: Arc<Notify>,
    release: Arc<Notify>,
    database_up: Arc<AtomicBool>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn start() -> Running {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let database_up = Arc::new(AtomicBool::new(true));
    let registry = WebSocketRegistry::new();
    let service = Service::builder(metadata)
        .use_case("add", Add)
        .use_case("create_thing", CreateThing)
        .use_case("get_thing", GetThing)
        .use_case("delete_thing", DeleteThing)
        .use_case("fail", Fail)
        .use_case("slow", Slow)
        .use_case("boom", Boom)
        .use_case("limited", Static("ok"))
        .use_case("whoami", WhoAmI)
        .use_case("cors", Static("shared"))
        .use_case("wait", Wait(started.clone(), release.clone()))
        .use_case("ws_connect", Static("welcome"))
        .use_case("ws_echo", Echo)
        .use_case("ws_default", Static("unknown action"))
        .use_case("notify", Push(registry.clone()))
        .use_case("nightly", Static("done"))
        .adapter("things_db", Database(database_up.clone()))
        .build()
        .unwrap();
    let config = HttpConfig {
        body_limit: 1024,
        header_read_timeout: Some(Duration::from_millis(300)),
        ..HttpConfig::default()
    };
    let server = HttpServer::builder(service)
        .config(config)
        .authenticator("user", Bearer)
        .websockets(registry)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server.serve_until(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        client: reqwest::Client::new(),
        stop: Some(stop),
        server,
        started,
        release,
        database_up,
    }
}

async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "status {status}"
    );
    assert!(response.headers().contains_key("x-transaction-id"));
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn success_statuses_and_default_mapping() {
    let s = start().await;
    let r = s
        .client
        .post(s.url("/add/3?ignored=1"))
        .json(&json!({"a": 1, "b": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !r.headers().contains_key("cache-control"),
        "only cacheable routes send cache headers"
    );
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"result": 6}));

    let r = s
        .client
        .post(s.url("/things"))
        .json(&json!({"name": "lamp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"created": {"name": "lamp"}})
    );

    let r = s.client.delete(s.url("/things/7")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.bytes().await.unwrap().len(), 0);
}

#[tokio::test]
async fn transaction_ids_are_echoed_or_generated() {
    let s = start().await;
    let r = s
        .client
        .get(s.url("/me"))
        .header("authorization", "Bearer ana")
        .header("x-transaction-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-transaction-id"], "trace-42");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"user": "ana", "transaction": "trace-42"})
    );
    let r = s.client.get(s.url("/things/7")).send().await.unwrap();
    assert_eq!(r.headers()["x-transaction-id"].len(), 36);
    // A forged id with a line break is ignored and replaced.
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("x-transaction-id", "a b")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-transaction-id"], "a b");
}

#[tokio::test]
async fn domain_errors_map_to_their_statuses_as_problem_documents() {
    let s = start().await;
    let (status, body) = problem(s.client.get(s.url("/things/8")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "thing-not-found");
    assert_eq!(body["detail"], "there is no thing `8`");
    assert_eq!(body["instance"], "/things/8");
    assert_eq!(body["title"], "Not Found");
    for (kind, status) in [("not-allowed", 403), ("conflict", 409), ("invalid", 422)] {
        let (got, body) = problem(
            s.client
                .post(s.url(&format!("/fail/{kind}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got, status, "{kind}");
        assert_eq!(body["hint"], "x", "4xx problems carry the details");
    }
    for (kind, status) in [("unavailable", 503), ("internal", 500)] {
        let (got, body) = problem(
            s.client
                .post(s.url(&format!("/fail/{kind}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got, status, "{kind}");
        let text = body.to_string();
        assert!(
            !text.contains("secret") && !text.contains("hint"),
            "5xx bodies leak nothing: {text}"
        );
        assert!(body["transaction_id"].as_str().unwrap().len() == 36);
    }
}

#[tokio::test]
async fn bad_requests_are_told_what_is_wrong() {
    let s = start().await;
    let (status, body) = problem(
        s.client
            .post(s.url("/add/3"))
            .json(&json!({"a": "one", "b": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "a");
    let (status, body) = problem(
        s.client
            .post(s.url("/add/x"))
            .json(&json!({"a": 1, "b": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["errors"][0]["field"]), (422, &json!("c")));
    let (status, body) = problem(
        s.client
            .post(s.url("/add/3"))
            .json(&json!({"a": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["errors"][0]["field"]), (422, &json!("b")));
    let r = s
        .client
        .post(s.url("/add/3"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(r).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed-body"))
    );
    let r = s
        .client
        .post(s.url("/add/3"))
        .header("content-type", "text/plain")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.0, 415);
    let (status, body) = problem(s.client.put(s.url("/add/3")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method-not-allowed"))
    );
    let (status, body) = problem(s.client.get(s.url("/nowhere")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("no-route")));
}

#[tokio::test]
async fn oversized_bodies_get_413_whether_announced_or_chunked() {
    let s = start().await;
    let big = json!({"a": 1, "b": 2, "padding": "x".repeat(2000)});
    let (status, body) = problem(
        s.client
            .post(s.url("/add/1"))
            .json(&big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("body-too-large"))
    );

    // Chunked: no Content-Length, so the limit applies while reading.
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let chunk = "x".repeat(600);
    let request = format!(
        "POST /add/1 HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n0\r\n\r\n",
        len = chunk.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
}

/// Sends raw bytes and reads the answer to its end (the server closes
/// the connection after refusing a request it cannot parse).
async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap(),
    )
}

#[tokio::test]
async fn requests_refused_below_the_router_get_problem_documents() {
    let s = start().await;
    let too_many_headers = format!(
        "GET /things/7 HTTP/1.1\r\nhost: test\r\n{}\r\n",
        (0..120)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let long_uri = format!(
        "GET /things/{} HTTP/1.1\r\nhost: test\r\n\r\n",
        "7".repeat(70_000)
    );
    for (request, status, code) in [
        (
            b"GET /things/a\x7fb HTTP/1.1\r\nhost: test\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (too_many_headers.into_bytes(), 431, "headers-too-large"),
        (long_uri.into_bytes(), 414, "uri-too-long"),
    ] {
        let (answered, head, body) = raw(s.addr, &request).await;
        assert_eq!(answered, status, "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code);
        assert!(body["title"].is_string());
        let transaction = body["transaction_id"].as_str().unwrap();
        assert!(head.contains(&format!(
            "x-transaction-id: {}",
            transaction.to_ascii_lowercase()
        )));
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let s = start().await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(b"GET /things/7 HTTP/1.1\r\nhost: test\r\nx-slow: ")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the connection is still open after the header-read timeout"
    );
    assert!(!String::from_utf8_lossy(&rest).contains(" 200 "));
}

#[tokio::test]
async fn a_slow_use_case_times_out_with_504() {
    let s = start().await;
    let (status, body) = problem(s.client.get(s.url("/slow")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (504, Some("timeout")));
}

#[tokio::test]
async fn a_panic_fails_its_request_and_the_server_keeps_serving() {
    let s = start().await;
    for _ in 0..3 {
        let (status, body) = problem(s.client.get(s.url("/boom")).send().await.unwrap()).await;
        assert_eq!(status, 500);
        assert!(!body.to_string().contains("exploded"));
        let r = s.client.get(s.url("/things/7")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let s = start().await;
    for _ in 0..2 {
        assert_eq!(
            s.client
                .get(s.url("/limited"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let r = s.client.get(s.url("/limited")).send().await.unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(problem(r).await.0, 429);
}

#[tokio::test]
async fn authenticators_guard_their_routes() {
    let s = start().await;
    let (status, body) = problem(s.client.get(s.url("/me")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("no-credentials"))
    );
    let r = s
        .client
        .get(s.url("/me"))
        .header("authorization", "Bearer luis")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["user"], "luis");
}

#[tokio::test]
async fn cors_routes_answer_preflights_and_name_allowed_origins() {
    let s = start().await;
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/cors"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-transaction-id")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(r.headers()["access-control-allow-methods"], "GET");
    let r = s
        .client
        .get(s.url("/cors"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let r = s
        .client
        .get(s.url("/cors"))
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("access-control-allow-origin"));
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers().contains_key("access-control-allow-origin"),
        "routes without allow_cors stay closed"
    );
}

#[tokio::test]
async fn cacheable_get_routes_send_etags_and_honour_if_none_match() {
    let s = start().await;
    let r = s.client.get(s.url("/things/7")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=60");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn health_endpoints_ask_the_adapters() {
    let s = start().await;
    let r = s.client.get(s.url("/health/live")).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "alive"}));
    let r = s.client.get(s.url("/health/ready")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.database_up.store(false, Ordering::SeqCst);
    let r = s.client.get(s.url("/health/ready")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.json::<Value>().await.unwrap()["failing"]["things_db"],
        "the database does not answer"
    );
}

#[tokio::test]
async fn websocket_route_keys_replies_and_pushes() {
    let s = start().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr))
        .await
        .unwrap();
    use tokio_tungstenite::tungstenite::Message;
    socket
        .send(Message::text(r#"{"action": "echo", "text": "hola"}"#))
        .await
        .unwrap();
    let reply: Value =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(reply["echo"], "hola");
    let connection = reply["connection"].as_str().unwrap().to_owned();

    socket
        .send(Message::text(r#"{"action": "dance"}"#))
        .await
        .unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.to_text().unwrap(), r#""unknown action""#);
    // The connection's own route keys cannot be asked for by a message:
    // `$connect` (often authentication) runs once, when the client connects.
    for reserved in ["$connect", "$disconnect"] {
        socket
            .send(Message::text(format!(r#"{{"action": "{reserved}"}}"#)))
            .await
            .unwrap();
        let reply = socket.next().await.unwrap().unwrap();
        assert_eq!(
            reply.to_text().unwrap(),
            r#""unknown action""#,
            "{reserved}"
        );
    }

    socket.send(Message::text("not json")).await.unwrap();
    let reply: Value =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(reply["code"], "malformed-message");
    // The same problem fields as a failed use case's reply.
    assert_eq!(reply["status"], 400);
    assert_eq!(reply["title"], "Bad Request");
    assert_eq!(reply["type"], "about:blank#malformed-message");
    assert!(
        reply["transaction_id"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{reply}"
    );

    // Another request pushes to this connection through the port.
    let r = s
        .client
        .post(s.url(&format!("/notify/{connection}")))
        .json(&json!({"message": {"hello": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let pushed: Value =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(pushed, json!({"hello": 1}));
    let (status, _) = problem(
        s.client
            .post(s.url("/notify/gone"))
            .json(&json!({"message": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish() {
    let mut s = start().await;
    let client = s.client.clone();
    let url = s.url("/wait");
    let in_flight =
        tokio::spawn(async move { client.get(url).send().await.unwrap().text().await.unwrap() });
    s.started.notified().await;
    s.stop.take().unwrap().send(()).unwrap();
    // New connections are refused once the listener is gone.
    let mut refused = false;
    for _ in 0..10_000 {
        if tokio::net::TcpStream::connect(s.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the listener still accepts after shutdown");
    s.release.notify_one();
    assert_eq!(in_flight.await.unwrap(), "\"released\"");
    tokio::time::timeout(Duration::from_secs(10), s.server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_closes_websockets_with_going_away() {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    let mut s = start().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr))
        .await
        .unwrap();
    // A reply proves the connection is open and registered.
    socket
        .send(Message::text(r#"{"action": "echo", "text": "hola"}"#))
        .await
        .unwrap();
    socket.next().await.unwrap().unwrap();

    s.stop.take().unwrap().send(()).unwrap();
    let closing = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("no Close frame at shutdown")
        .unwrap()
        .unwrap();
    let Message::Close(Some(frame)) = closing else {
        panic!("expected a Close frame, got {closing:?}");
    };
    assert_eq!(frame.code, CloseCode::Away);
    // Reading on answers the close; the closing handshake completes.
    let end = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap();
    assert!(end.is_none(), "{end:?}");
    tokio::time::timeout(Duration::from_secs(10), s.server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Records the `address` of every event whose checkpoint id is `listening`.
#[derive(Clone, Default)]
struct Listening(Arc<std::sync::Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Listening {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        #[derive(Default)]
        struct Visit {
            checkpoint: Option<String>,
            address: Option<String>,
        }
        impl tracing::field::Visit for Visit {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                match field.name() {
                    "checkpoint_id" => self.checkpoint = Some(format!("{value:?}")),
                    "address" => self.address = Some(format!("{value:?}")),
                    _ => {}
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.record_debug(field, &format_args!("{value}"));
            }
        }
        let mut visit = Visit::default();
        event.record(&mut visit);
        if visit.checkpoint.as_deref() == Some("listening") {
            assert_eq!(*event.metadata().level(), tracing::Level::INFO);
            self.0
                .lock()
                .unwrap()
                .push(visit.address.unwrap_or_default());
        }
    }
}

#[tokio::test]
async fn the_bound_address_is_logged_before_accepting() {
    use tracing::instrument::WithSubscriber as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: quiet\nuse_cases:\n  hello:\n    name: hello\n    triggers: [{type: http, options: {method: get, path: /hello}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("hello", Static("hi"))
        .build()
        .unwrap();
    let server = HttpServer::builder(service).build().unwrap();
    let listening = Listening::default();
    let subscriber = tracing_subscriber::registry().with(listening.clone());
    // Port 0: the log must tell the port the system chose.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bound = listener.local_addr().unwrap();
    server
        .serve_until(listener, std::future::ready(()))
        .with_subscriber(subscriber)
        .await
        .unwrap();
    assert_eq!(*listening.0.lock().unwrap(), [bound.to_string()]);
}

#[tokio::test]
async fn unknown_authenticators_and_reserved_paths_fail_at_start_up() {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: x\nuse_cases:\n  a:\n    name: a\n    triggers: [{options: {path: /a, authenticator: admin}}]\n  b:\n    name: b\n    triggers: [{options: {path: /health/live}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("a", Static("a"))
        .use_case("b", Static("b"))
        .build()
        .unwrap();
    let error = HttpServer::builder(service)
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("needs the authenticator `admin`"), "{error}");
    assert!(
        error.contains("`/health/live`, which the server reserves"),
        "{error}"
    );
}
