//! The service every test here serves: its metadata, its use cases, and
//! starting it on a free port of 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bisslog_core::{
    Adapter, BoxFuture, Completion, Ctx, Error, ErrorKind, NoInput, UseCase, WebSocketConnections,
};
use bisslog_http::{Authenticator, HttpConfig, HttpServer, WebSocketRegistry};
use bisslog_runtime::Service;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

pub(crate) const METADATA: &str = r#"
name: test service
use_cases:
  add:
    name: add
    triggers: [{type: http, options: {method: post, path: "/add/{c}", mapper: {path_query.c: c, body.a: a, body.b: b}}}]
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
  trace:
    name: tells the trace it runs in
    triggers: [{type: http, options: {method: get, path: "/trace/{step}"}}]
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

pub(crate) struct Static(pub(crate) &'static str);
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

/// The call's trace context (`traceparent` text), or null outside a trace.
pub(crate) struct TraceOf;
impl UseCase for TraceOf {
    type Input = NoInput;
    type Output = Value;
    type Error = Error;
    async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<Value, Error> {
        Ok(json!({
            "traceparent": ctx.trace_context().map(bisslog_core::TraceContext::traceparent),
            "parent": ctx.trace_parent().map(bisslog_core::TraceContext::traceparent),
        }))
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

pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) client: reqwest::Client,
    pub(crate) stop: Option<oneshot::Sender<()>>,
    pub(crate) server: tokio::task::JoinHandle<std::io::Result<()>>,
    pub(crate) started: Arc<Notify>,
    pub(crate) release: Arc<Notify>,
    pub(crate) database_up: Arc<AtomicBool>,
}

impl Running {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

pub(crate) async fn start() -> Running {
    start_traced(None).await
}

/// The service, its spans going to `tracer` when there is one.
pub(crate) async fn start_traced(tracer: Option<bisslog_runtime::trace::Tracer>) -> Running {
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
        .use_case("trace", TraceOf)
        .adapter("things_db", Database(database_up.clone()));
    let service = match tracer {
        Some(tracer) => service.tracer(tracer),
        None => service,
    }
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
        client: bisslog_runtime::tls::client_builder(&Default::default(), false)
            .unwrap()
            .build()
            .unwrap(),
        stop: Some(stop),
        server,
        started,
        release,
        database_up,
    }
}

pub(crate) async fn problem(response: reqwest::Response) -> (u16, Value) {
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
