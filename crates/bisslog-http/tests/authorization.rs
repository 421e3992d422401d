//! Authorization from the metadata through a real server over a real
//! socket, with the JWT authenticator and HS256 tokens made here: roles,
//! scopes, ownership, `public`, and routes without an authenticator.

#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bisslog_core::{Ctx, Error, UseCase};
use bisslog_http::HttpServer;
use bisslog_http::jwt::{JwtAuthenticator, JwtKeys};
use bisslog_runtime::Service;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const SECRET: &[u8] = b"an HS256 secret of at least 32 bytes";

const METADATA: &str = r#"
name: authorization test service
use_cases:
  createSchema:
    name: create schema
    authorization: {roles: [schema-manager]}
    triggers:
      - {type: http, options: {method: post, path: /schemas, authenticator: jwt}}
      - {type: http, options: {method: put, path: /schemas, authenticator: jwt, authorization: {roles: [admin]}}}
      - {type: http, options: {method: post, path: /unguarded}}
  writeScoped:
    name: write scoped
    authorization: {scopes: [schemas:write, schemas:admin]}
    triggers: [{type: http, options: {method: post, path: /scoped, authenticator: jwt}}]
  getProfile:
    name: get profile
    authorization: {owner: user_id}
    triggers:
      - type: http
        options: {path: "/users/{user_id}", authenticator: jwt, mapper: {path_query.user_id: user_id}}
  status:
    name: status
    authorization: public
    triggers: [{type: http, options: {path: /status, authenticator: jwt}}]
"#;

/// Echoes its input and counts its runs.
#[derive(Clone)]
struct Counted(Arc<AtomicUsize>);

impl UseCase for Counted {
    type Input = Value;
    type Output = Value;
    type Error = Error;
    async fn run(&self, _: &Ctx, input: Value) -> Result<Value, Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(json!({"ran": true, "input": input}))
    }
}

struct Running {
    addr: SocketAddr,
    client: reqwest::Client,
    runs: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start() -> Self {
        let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
            .into_service()
            .unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Counted(Arc::clone(&runs));
        let service = Service::builder(metadata)
            .use_case("createSchema", counted.clone())
            .use_case("writeScoped", counted.clone())
            .use_case("getProfile", counted.clone())
            .use_case("status", counted)
            .build()
            .unwrap();
        let authenticator = JwtAuthenticator::builder(JwtKeys::hmac_secret(SECRET).unwrap())
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
            runs,
            stop: Some(stop),
            server,
        }
    }

    /// `method path` with this bearer token, if any: status and body.
    async fn call(&self, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("http://{}{path}", self.addr));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.unwrap().unwrap();
    }
}

/// An HS256 token for `sub` with these extra claims, valid for a minute.
fn token(sub: Value, extra: Value) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({"sub": sub, "exp": now + 60, "iat": now});
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    let key = EncodingKey::from_secret(SECRET).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
}

/// A refusal: the status and problem code, and the use case did not run.
fn assert_refused(answer: &(u16, Value), status: u16, code: &str, case: &str) {
    assert_eq!(answer.0, status, "{case}: {answer:?}");
    assert_eq!(answer.1["code"], code, "{case}: {answer:?}");
}

#[tokio::test]
async fn roles_are_checked_per_route_before_the_use_case_runs() {
    let s = Running::start().await;
    let manager = token(json!("ana"), json!({"roles": ["schema-manager"]}));
    let admin = token(json!("root"), json!({"roles": "admin"}));
    let reader = token(json!("bob"), json!({"roles": ["reader"]}));

    let allowed = s.call("POST", "/schemas", Some(&manager)).await;
    assert_eq!(allowed.0, 200, "{allowed:?}");
    assert_eq!(s.runs(), 1);

    let refused = s.call("POST", "/schemas", Some(&reader)).await;
    assert_refused(&refused, 403, "forbidden", "reader");
    let detail = refused.1["detail"].as_str().unwrap();
    assert!(detail.contains("`schema-manager`"), "{detail}");
    assert!(!detail.contains(&reader), "the token is never echoed");
    // A role claim that is missing altogether is refused the same way.
    let no_roles = token(json!("carl"), json!({}));
    assert_refused(
        &s.call("POST", "/schemas", Some(&no_roles)).await,
        403,
        "forbidden",
        "no roles",
    );
    assert_eq!(s.runs(), 1, "refused calls do not run the use case");

    // The trigger's own rule replaces the use case's.
    assert_refused(
        &s.call("PUT", "/schemas", Some(&manager)).await,
        403,
        "forbidden",
        "manager on the admin route",
    );
    assert_eq!(s.call("PUT", "/schemas", Some(&admin)).await.0, 200);
    assert_eq!(s.runs(), 2);
    s.stop().await;
}

#[tokio::test]
async fn unauthenticated_callers_get_401_and_the_use_case_does_not_run() {
    let s = Running::start().await;
    for path in ["/schemas", "/scoped"] {
        let answer = s.call("POST", path, None).await;
        assert_eq!(answer.0, 401, "{path}: {answer:?}");
        let forged = s.call("POST", path, Some("not.a.token")).await;
        assert_eq!(forged.0, 401, "{path}: {forged:?}");
    }
    assert_eq!(s.call("GET", "/users/ana", None).await.0, 401);
    assert_eq!(s.runs(), 0);
    s.stop().await;
}

#[tokio::test]
async fn scopes_are_all_required_from_scope_or_scp() {
    let s = Running::start().await;
    let both = token(
        json!("ana"),
        json!({"scope": "openid schemas:write schemas:admin"}),
    );
    assert_eq!(s.call("POST", "/scoped", Some(&both)).await.0, 200);
    let as_list = token(
        json!("ana"),
        json!({"scp": ["schemas:admin", "schemas:write"]}),
    );
    assert_eq!(s.call("POST", "/scoped", Some(&as_list)).await.0, 200);
    assert_eq!(s.runs(), 2);

    let one = token(json!("ana"), json!({"scope": "schemas:write"}));
    let refused = s.call("POST", "/scoped", Some(&one)).await;
    assert_refused(&refused, 403, "forbidden", "one scope of two");
    assert!(
        refused.1["detail"]
            .as_str()
            .unwrap()
            .contains("`schemas:admin`")
    );
    assert_eq!(s.runs(), 2);
    s.stop().await;
}

#[tokio::test]
async fn only_the_owner_passes_the_ownership_check() {
    let s = Running::start().await;
    let ana = token(json!("ana"), json!({}));
    let answer = s.call("GET", "/users/ana", Some(&ana)).await;
    assert_eq!(answer.0, 200, "{answer:?}");
    assert_eq!(answer.1["input"]["user_id"], "ana");
    assert_refused(
        &s.call("GET", "/users/bob", Some(&ana)).await,
        403,
        "forbidden",
        "another user's profile",
    );
    // A numeric subject owns the same id written in the path.
    let numeric = token(json!(42), json!({}));
    assert_eq!(s.call("GET", "/users/42", Some(&numeric)).await.0, 200);
    assert_refused(
        &s.call("GET", "/users/420", Some(&numeric)).await,
        403,
        "forbidden",
        "numeric subject, other id",
    );
    assert_eq!(s.runs(), 2);
    s.stop().await;
}

#[tokio::test]
async fn public_routes_and_routes_without_an_authenticator_take_anyone() {
    let s = Running::start().await;
    // `public`: the route's authenticator does not even run.
    assert_eq!(s.call("GET", "/status", None).await.0, 200);
    assert_eq!(s.call("GET", "/status", Some("garbage")).await.0, 200);
    // A rule on a route without an authenticator is not enforced (a
    // start-up warning says so).
    assert_eq!(s.call("POST", "/unguarded", None).await.0, 200);
    assert_eq!(s.runs(), 3);
    s.stop().await;
}
