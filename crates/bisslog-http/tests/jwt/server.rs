//! The service under test (one route guarded by the JWT authenticator) and
//! a JWKS server, both on 127.0.0.1, and tokens signed with the fixture
//! keys.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::get;
use bisslog_core::{Ctx, Error, NoInput, UseCase};
use bisslog_http::HttpServer;
use bisslog_http::jwt::JwtAuthenticator;
use bisslog_runtime::Service;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;
use tokio::sync::oneshot;

const METADATA: &str = r#"
name: jwt test service
use_cases:
  me:
    name: who am I
    triggers: [{type: http, options: {method: get, path: /me, authenticator: jwt}}]
"#;

pub(crate) const ISSUER: &str = "https://idp.example.com";
pub(crate) const AUDIENCE: &str = "jwt-test-service";
pub(crate) const SECRET: &[u8] = b"an HS256 secret of at least 32 bytes";

/// Answers with the caller's context attributes.
struct Me;
impl UseCase for Me {
    type Input = NoInput;
    type Output = Value;
    type Error = Error;
    async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<Value, Error> {
        Ok(Value::Object(ctx.attributes().clone()))
    }
}

/// The service, served until it is stopped.
pub(crate) struct Running {
    addr: SocketAddr,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// What the service answered: the status, the problem `code` (or the
/// attributes on success), the `detail`, and `WWW-Authenticate`.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) challenge: Option<String>,
}

impl Answer {
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

impl Running {
    pub(crate) async fn start(authenticator: JwtAuthenticator) -> Self {
        let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
            .into_service()
            .unwrap();
        let service = Service::builder(metadata)
            .use_case("me", Me)
            .build()
            .unwrap();
        let server = HttpServer::builder(service)
            .authenticator("jwt", authenticator)
            .build()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server.serve_until(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            client: bisslog_runtime::tls::client_builder(&Default::default(), false)
                .unwrap()
                .build()
                .unwrap(),
            stop: Some(stop),
            server,
        }
    }

    /// `GET /me` with this `Authorization` header, if any.
    pub(crate) async fn get(&self, authorization: Option<&str>) -> Answer {
        let mut request = self.client.get(format!("http://{}/me", self.addr));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.json().await.unwrap();
        Answer {
            status,
            body,
            challenge,
        }
    }

    /// `GET /me` with `Authorization: Bearer <token>`.
    pub(crate) async fn bearer(&self, token: &str) -> Answer {
        self.get(Some(&format!("Bearer {token}"))).await
    }

    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.unwrap().unwrap();
    }
}

/// A fixture file's text.
pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

pub(crate) fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The signing key of a fixture key (`rsa-1`, `rsa-2`, `ec-1`, `ed-1`) or
/// the HS256 secret (`hmac`).
pub(crate) fn signing_key(name: &str) -> (Algorithm, EncodingKey) {
    let pem = || fixture(&format!("{name}.pem"));
    match name {
        "hmac" => (Algorithm::HS256, EncodingKey::from_secret(SECRET).unwrap()),
        n if n.starts_with("rsa") => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(pem().as_bytes()).unwrap(),
        ),
        n if n.starts_with("ec") => (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(pem().as_bytes()).unwrap(),
        ),
        _ => (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(pem().as_bytes()).unwrap(),
        ),
    }
}

/// A token signed with the fixture key `key`, its header naming `kid`.
pub(crate) fn sign(key: &str, kid: Option<&str>, claims: &Value) -> String {
    let (algorithm, encoding) = signing_key(key);
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

/// Now, in seconds since the epoch.
pub(crate) fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims valid for a minute, from the expected issuer for the expected
/// audience.
pub(crate) fn claims() -> Value {
    serde_json::json!({
        "sub": "ana",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now() + 60,
        "iat": now(),
        "scope": "schemas:read schemas:write",
        "roles": ["schema-manager"],
        "tenant": {"id": 7},
    })
}

/// Claims with some changed.
pub(crate) fn claims_with(changes: Value) -> Value {
    let mut claims = claims();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// A JWKS server whose key set the test changes, which counts its fetches
/// and can be made slow (it never answers).
pub(crate) struct JwksServer {
    pub(crate) url: String,
    state: Arc<JwksState>,
    server: tokio::task::JoinHandle<()>,
}

pub(crate) struct JwksState {
    document: Mutex<String>,
    slow: AtomicBool,
    failing: AtomicBool,
    fetches: AtomicUsize,
}

impl JwksState {
    pub(crate) fn new(document: String) -> Arc<Self> {
        Arc::new(Self {
            document: Mutex::new(document),
            slow: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            fetches: AtomicUsize::new(0),
        })
    }

    /// The router serving `GET /jwks` from this state.
    pub(crate) fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/jwks", get(serve_jwks))
            .with_state(Arc::clone(self))
    }

    pub(crate) fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn serve_jwks(State(state): State<Arc<JwksState>>) -> Result<String, axum::http::StatusCode> {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    if state.slow.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if state.failing.load(Ordering::SeqCst) {
        return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
    }
    Ok(state.document.lock().unwrap().clone())
}

impl JwksServer {
    pub(crate) async fn start(document: String) -> Self {
        let state = JwksState::new(document);
        let app = state.router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state, server }
    }

    pub(crate) fn serve(&self, document: String) {
        *self.state.document.lock().unwrap() = document;
    }

    pub(crate) fn slow(&self) {
        self.state.slow.store(true, Ordering::SeqCst);
    }

    /// Whether fetches are answered 503 (the server is up, the JWKS is
    /// not: counted, unlike refused connections).
    pub(crate) fn failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    pub(crate) fn fetches(&self) -> usize {
        self.state.fetches()
    }

    /// Stops listening: later fetches are refused connections.
    pub(crate) async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
    }
}
