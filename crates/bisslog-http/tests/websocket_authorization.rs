//! Authentication of WebSocket upgrades and authorization of route keys,
//! through a real server over a real socket, with the JWT authenticator
//! and HS256 tokens made here.

#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bisslog_core::{Ctx, Error, UseCase};
use bisslog_http::jwt::{JwtAuthenticator, JwtKeys};
use bisslog_http::{HttpError, HttpServer, HttpServerBuilder};
use bisslog_runtime::Service;
use futures_util::{SinkExt as _, StreamExt as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const SECRET: &[u8] = b"an HS256 secret of at least 32 bytes";

const METADATA: &str = r#"
name: websocket authorization test service
use_cases:
  connect:
    name: connect
    authorization: {roles: [reader, admin]}
    triggers: [{type: websocket, options: {route_key: $connect}}]
  purge:
    name: purge
    authorization: {roles: [admin]}
    triggers: [{type: websocket, options: {route_key: purge}}]
  whoami:
    name: who am I
    authorization: {roles: [reader]}
    triggers: [{type: websocket, options: {route_key: whoami}}]
  inbox:
    name: read an inbox
    authorization: {owner: user_id}
    triggers:
      - {type: websocket, options: {route_key: inbox, mapper: {body.user_id: user_id}}}
  disconnect:
    name: disconnect
    triggers: [{type: websocket, options: {route_key: $disconnect}}]
"#;

/// One run of a use case: which, and the caller it saw.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    use_case: String,
    sub: Value,
    connection_id: Value,
}

type Runs = Arc<Mutex<Vec<Run>>>;

/// Records its runs and replies with what it saw.
#[derive(Clone)]
struct Recorder(Runs);

impl UseCase for Recorder {
    type Input = Value;
    type Output = Value;
    type Error = Error;
    async fn run(&self, ctx: &Ctx, _: Value) -> Result<Value, Error> {
        let run = Run {
            use_case: ctx.use_case().to_owned(),
            sub: ctx.attribute("sub").cloned().unwrap_or(Value::Null),
            connection_id: ctx
                .attribute("connection_id")
                .cloned()
                .unwrap_or(Value::Null),
        };
        self.0.lock().unwrap().push(run.clone());
        Ok(json!({"ran": run.use_case, "sub": run.sub, "connection_id": run.connection_id}))
    }
}

fn builder(runs: &Runs) -> HttpServerBuilder {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let recorder = Recorder(Arc::clone(runs));
    let mut service = Service::builder(metadata);
    for name in ["connect", "purge", "whoami", "inbox", "disconnect"] {
        service = service.use_case(name, recorder.clone());
    }
    let authenticator = JwtAuthenticator::builder(JwtKeys::hmac_secret(SECRET).unwrap())
        .build()
        .unwrap();
    HttpServer::builder(service.build().unwrap()).authenticator("jwt", authenticator)
}

struct Running {
    addr: SocketAddr,
    runs: Runs,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

impl Running {
    /// A server whose upgrades `configure` says how to authenticate.
    async fn start(configure: fn(HttpServerBuilder) -> HttpServerBuilder) -> Self {
        let runs = Runs::default();
        let server = configure(builder(&runs)).build().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server.serve_until(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            runs,
            stop: Some(stop),
            server,
        }
    }

    /// Connects with this bearer token, if any: the socket, or the
    /// refused upgrade's status, `WWW-Authenticate` and problem document.
    async fn connect(&self, token: Option<&str>) -> Result<Socket, (u16, Option<String>, Value)> {
        let mut request = format!("ws://{}/ws", self.addr)
            .into_client_request()
            .unwrap();
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap().to_owned());
                let body = response.body().as_deref().unwrap_or_default();
                Err((
                    response.status().as_u16(),
                    challenge,
                    serde_json::from_slice(body).unwrap(),
                ))
            }
            Err(other) => panic!("the upgrade failed otherwise: {other}"),
        }
    }

    fn runs_of(&self, use_case: &str) -> Vec<Run> {
        let runs = self.runs.lock().unwrap();
        runs.iter()
            .filter(|r| r.use_case == use_case)
            .cloned()
            .collect()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.unwrap().unwrap();
    }
}

/// Sends a message and reads the reply.
async fn ask(socket: &mut Socket, message: Value) -> Value {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    serde_json::from_str(reply.to_text().unwrap()).unwrap()
}

/// An HS256 token for `sub` with these extra claims, valid for a minute.
fn token(sub: &str, extra: Value) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({"sub": sub, "exp": now + 60, "iat": now});
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    let key = EncodingKey::from_secret(SECRET).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
}

fn named_authenticator(builder: HttpServerBuilder) -> HttpServerBuilder {
    builder.websocket_authenticator("jwt")
}

#[tokio::test]
async fn an_upgrade_without_credentials_is_refused_before_connect_runs() {
    let s = Running::start(named_authenticator).await;
    let (status, challenge, problem) = s.connect(None).await.err().unwrap();
    assert_eq!(status, 401, "{problem}");
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(problem["status"], 401);
    let (status, challenge, _) = s.connect(Some("not.a.token")).await.err().unwrap();
    assert_eq!(status, 401);
    assert_eq!(challenge.as_deref(), Some("Bearer error=\"invalid_token\""));
    assert!(s.runs_of("connect").is_empty(), "$connect did not run");
    s.stop().await;
}

#[tokio::test]
async fn a_caller_without_the_connect_role_is_refused_403() {
    let s = Running::start(named_authenticator).await;
    let guest = token("eve", json!({"roles": ["guest"]}));
    let (status, _, problem) = s.connect(Some(&guest)).await.err().unwrap();
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["code"], "forbidden");
    assert!(
        problem["detail"].as_str().unwrap().contains("`reader`"),
        "{problem}"
    );
    assert!(s.runs_of("connect").is_empty(), "$connect did not run");
    s.stop().await;
}

#[tokio::test]
async fn each_message_is_decided_by_its_route_keys_rule_and_the_connection_stays_open() {
    let s = Running::start(named_authenticator).await;
    // A claim cannot pass for the connection's id.
    let reader = token(
        "ana",
        json!({"roles": ["reader"], "connection_id": "forged"}),
    );
    let mut socket = s.connect(Some(&reader)).await.unwrap();
    let connected = s.runs_of("connect");
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0].sub, "ana");
    let connection_id = connected[0].connection_id.clone();
    assert_ne!(connection_id, "forged");

    let refused = ask(&mut socket, json!({"action": "purge"})).await;
    assert_eq!(refused["status"], 403, "{refused}");
    assert_eq!(refused["code"], "forbidden");
    assert!(refused["detail"].as_str().unwrap().contains("`admin`"));
    assert!(s.runs_of("purge").is_empty(), "the use case did not run");

    // The same connection still serves the route keys the caller may use.
    let allowed = ask(&mut socket, json!({"action": "whoami"})).await;
    assert_eq!(
        allowed,
        json!({"ran": "whoami", "sub": "ana", "connection_id": connection_id})
    );

    // Ownership reads the message's mapped body.
    let own = ask(&mut socket, json!({"action": "inbox", "user_id": "ana"})).await;
    assert_eq!(own["ran"], "inbox", "{own}");
    let other = ask(&mut socket, json!({"action": "inbox", "user_id": "bob"})).await;
    assert_eq!(other["status"], 403, "{other}");
    assert_eq!(s.runs_of("inbox").len(), 1);

    socket.close(None).await.unwrap();
    // `$disconnect` runs after the connection ends, with the same caller.
    let mut disconnected = Vec::new();
    for _ in 0..500 {
        disconnected = s.runs_of("disconnect");
        if !disconnected.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        disconnected,
        vec![Run {
            use_case: "disconnect".into(),
            sub: json!("ana"),
            connection_id,
        }]
    );
    s.stop().await;
}

#[tokio::test]
async fn the_default_authenticator_guards_upgrades_too() {
    let s = Running::start(|b| b.authenticate_all_with("jwt")).await;
    assert_eq!(s.connect(None).await.err().unwrap().0, 401);
    let admin = token("root", json!({"roles": "admin"}));
    let mut socket = s.connect(Some(&admin)).await.unwrap();
    let purged = ask(&mut socket, json!({"action": "purge"})).await;
    assert_eq!(purged["ran"], "purge", "{purged}");
    socket.close(None).await.unwrap();
    s.stop().await;
}

#[tokio::test]
async fn without_an_authenticator_the_rules_are_not_enforced() {
    let s = Running::start(|b| b).await;
    let mut socket = s.connect(None).await.unwrap();
    let purged = ask(&mut socket, json!({"action": "purge"})).await;
    assert_eq!(purged["ran"], "purge", "{purged}");
    socket.close(None).await.unwrap();
    s.stop().await;
}

#[test]
fn an_unknown_websocket_authenticator_is_a_build_error() {
    let runs = Runs::default();
    let error = builder(&runs)
        .websocket_authenticator("nobody")
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(&error, HttpError::UnknownAuthenticator { name, .. } if name == "nobody"),
        "{error}"
    );
}

#[tokio::test]
async fn websocket_message_as_decides_against_the_given_caller() {
    let runs = Runs::default();
    let server = builder(&runs).build().unwrap();
    let headers = http::HeaderMap::new();
    let message = r#"{"action": "purge"}"#;
    let reader = json!({"sub": "ana", "roles": ["reader"]});
    let refused = server
        .websocket_message_as(reader.as_object(), "c1", &headers, message)
        .await
        .unwrap();
    assert_eq!(refused["status"], 403, "{refused}");
    let admin = json!({"sub": "root", "roles": ["admin"]});
    let allowed = server
        .websocket_message_as(admin.as_object(), "c1", &headers, message)
        .await
        .unwrap();
    assert_eq!(
        allowed,
        json!({"ran": "purge", "sub": "root", "connection_id": "c1"})
    );
    assert_eq!(runs.lock().unwrap().len(), 1);
}
