//! A default authenticator for every route and API keys, over a real
//! socket: routes without an `authenticator` use the default one, routes
//! with their own keep it, the server's own endpoints stay open.

#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;

use bisslog_core::{BoxFuture, Ctx, Error, NoInput, UseCase};
use bisslog_http::api_key::{ApiKeys, hash_key};
use bisslog_http::{ApiDocs, Authenticator, HttpError, HttpServer, HttpServerBuilder};
use bisslog_runtime::Service;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

const METADATA: &str = r#"
name: authn test service
use_cases:
  me:
    triggers: [{type: http, options: {method: get, path: /me}}]
  own:
    triggers: [{type: http, options: {method: get, path: /own, authenticator: header}}]
"#;

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

/// Accepts `x-user: <name>` (a route's own authenticator).
struct Header;
impl Authenticator for Header {
    fn authenticate<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<Map<String, Value>, Error>> {
        Box::pin(async move {
            let user = request
                .headers
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Error::unauthenticated("no-user", "x-user is required"))?;
            Ok(Map::from_iter([("sub".to_owned(), Value::from(user))]))
        })
    }
}

fn builder() -> HttpServerBuilder {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let service = Service::builder(metadata)
        .use_case("me", Me)
        .use_case("own", Me)
        .metrics(true)
        .build()
        .unwrap();
    HttpServer::builder(service)
        .openapi(ApiDocs::new())
        .authenticator("header", Header)
}

struct Running {
    addr: SocketAddr,
    client: reqwest::Client,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(builder: HttpServerBuilder) -> Self {
        let server = builder.build().unwrap();
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
            stop,
            server,
        }
    }

    /// The status, body and `WWW-Authenticate` of `GET path` with these headers.
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Value, Option<String>) {
        let mut request = self.client.get(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body, challenge)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn routes_without_an_authenticator_use_the_default_and_the_servers_own_stay_open() {
    let keys =
        Arc::new(ApiKeys::parse(&format!("importer:{}:importer\n", hash_key("k-1"))).unwrap());
    let s = Running::start(
        builder()
            .authenticator("api_key", Arc::clone(&keys))
            .authenticate_all_with("api_key"),
    )
    .await;

    let (status, body, challenge) = s.get("/me", &[]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "missing-api-key");
    assert_eq!(challenge.as_deref(), Some("ApiKey"));

    let (status, body, _) = s.get("/me", &[("x-api-key", "k-2")]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "invalid-api-key");
    assert_eq!(body["detail"], "the API key is not valid");
    assert!(!body.to_string().contains("k-2"), "{body}");

    let (status, body, _) = s.get("/me", &[("x-api-key", "k-1")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"sub": "importer", "roles": ["importer"]}));
    let (status, body, _) = s.get("/me", &[("authorization", "ApiKey k-1")]).await;
    assert_eq!(status, 200, "{body}");

    // A key added at run time through the shared handle; the old one removed.
    keys.add_key("importer", "k-2");
    assert!(keys.remove_key("importer", "k-1"));
    assert_eq!(s.get("/me", &[("x-api-key", "k-2")]).await.0, 200);
    assert_eq!(s.get("/me", &[("x-api-key", "k-1")]).await.0, 401);

    // The route's own authenticator, not the default.
    let (status, body, _) = s.get("/own", &[("x-api-key", "k-2")]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "no-user");
    let (status, body, _) = s.get("/own", &[("x-user", "ana")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], "ana");

    for open in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/interactions/observed",
        "/openapi.json",
        "/docs",
    ] {
        let (status, body, _) = s.get(open, &[]).await;
        assert_eq!(status, 200, "{open}: {body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn without_a_default_routes_without_an_authenticator_stay_open() {
    let s = Running::start(builder()).await;
    let (status, body, _) = s.get("/me", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({}));
    assert_eq!(s.get("/own", &[]).await.0, 401);
    s.stop().await;
}

#[test]
fn a_default_that_is_not_registered_is_an_error_naming_each_route() {
    let Err(error) = builder().authenticate_all_with("jwt").build() else {
        panic!("built without the `jwt` authenticator");
    };
    let HttpError::Many(errors) = error else {
        panic!("{error}");
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        matches!(&errors[0], HttpError::UnknownAuthenticator { name, use_case, .. } if name == "jwt" && use_case == "me"),
        "{errors:?}"
    );
}
