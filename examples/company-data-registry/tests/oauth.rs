//! The importer authenticating to the registry with OAuth 2.0 client
//! credentials: the registry (real process) requires JWTs checked against
//! `make-token`'s JWKS, and its embedded importer gets its tokens from a
//! token endpoint (an axum server in this test) that signs them with
//! `make-token`'s key. And the settings it refuses.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method as M;
use serde_json::{Value, json};
use support::{REGISTRY, Server};

const MAKE_TOKEN: &str = env!("CARGO_BIN_EXE_make-token");
const ISSUER: &str = "http://localhost/dev-issuer";
const AUDIENCE: &str = "company-data-registry";
/// `Basic base64("importer:importer-secret")`.
const BASIC: &str = "Basic aW1wb3J0ZXI6aW1wb3J0ZXItc2VjcmV0";

fn make_token(args: &[&str]) -> String {
    let output = Command::new(MAKE_TOKEN).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The token endpoint's key and what it received.
struct Issuer {
    key: EncodingKey,
    fetches: AtomicUsize,
    forms: Mutex<Vec<String>>,
}

/// `POST /token`: the client credentials grant for the client `importer`,
/// a JWT for the registry signed with `make-token`'s key.
async fn token(State(issuer): State<Arc<Issuer>>, headers: HeaderMap, form: String) -> Response {
    issuer.fetches.fetch_add(1, Ordering::SeqCst);
    issuer.forms.lock().unwrap().push(form.clone());
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(BASIC) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let fields: Vec<&str> = form.split('&').collect();
    if !fields.contains(&"grant_type=client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let audience = fields
        .iter()
        .find_map(|f| f.strip_prefix("audience="))
        .unwrap_or_default();
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "iss": ISSUER,
        "aud": audience,
        "sub": "importer",
        "iat": now,
        "exp": now + 300,
    });
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("local-1".to_owned());
    let jwt = jsonwebtoken::encode(&header, &claims, &issuer.key).unwrap();
    axum::Json(json!({"access_token": jwt, "token_type": "Bearer", "expires_in": 300}))
        .into_response()
}

fn language_schema() -> Value {
    json!({
        "schema_keyname": "language",
        "schema_name": "Language",
        "schema_description": "Language schema",
        "current_schema_definition": serde_json::from_str::<Value>(include_str!("language.schema.json")).unwrap()
    })
}

async fn send(
    client: &reqwest::Client,
    method: M,
    url: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let response = client
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_importer_gets_its_tokens_for_the_registry_from_a_token_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let keys = keys.to_str().unwrap();
    make_token(&["keys", keys]);
    let jwks = Path::new(keys).join("jwks.json");
    let manager = make_token(&[
        "sign",
        keys,
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
        "--roles",
        "schema-manager",
    ]);
    let der = std::fs::read(Path::new(keys).join("signing-key.der")).unwrap();
    let issuer = Arc::new(Issuer {
        key: EncodingKey::from_ed_der(&der),
        fetches: AtomicUsize::new(0),
        forms: Mutex::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token_url = format!("http://{}/token", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/token", post(token))
        .with_state(Arc::clone(&issuer));
    let endpoint = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "importer-secret\n").unwrap();

    let registry = Server::spawn(
        REGISTRY,
        &[
            ("DATABASE_URL", "memory"),
            ("JWT_JWKS_FILE", jwks.to_str().unwrap()),
            ("JWT_ISSUER", ISSUER),
            ("JWT_AUDIENCE", AUDIENCE),
            ("REGISTRY_OAUTH_TOKEN_URL", &token_url),
            ("REGISTRY_OAUTH_CLIENT_ID", "importer"),
            (
                "REGISTRY_OAUTH_CLIENT_SECRET_FILE",
                secret.to_str().unwrap(),
            ),
            ("REGISTRY_OAUTH_AUDIENCE", AUDIENCE),
        ],
        "registry data listening on http://",
    );
    let importer = registry.base_of("importer listening on http://");
    let client = &registry.client;
    let (status, body) = send(
        client,
        M::POST,
        &registry.url("/schemas"),
        &manager,
        language_schema(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // No token was needed for that: the importer asks for one when it
    // calls the registry.
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 0);

    let records = json!({"records": [{"code": "es", "name": "español", "emoji": "🇪🇸", "translations": {"en": "Spanish"}}]});
    for _ in 0..3 {
        let url = format!("{importer}/imports/language");
        let (status, body) = send(client, M::POST, &url, &manager, records.clone()).await;
        assert_eq!(status, 202, "{body}\n{}", registry.output().join("\n"));
    }
    let url = format!("{importer}/imports/currency");
    let (status, body) = send(client, M::POST, &url, &manager, records).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "schema-not-found");

    // One token for every call to the registry; the grant as RFC 6749
    // says, with the registry's audience.
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);
    assert_eq!(
        issuer.forms.lock().unwrap().as_slice(),
        ["grant_type=client_credentials&audience=company-data-registry"]
    );
    // Neither the secret nor a token in the logs.
    let output = registry.output().join("\n");
    assert!(!output.contains("importer-secret"), "{output}");
    assert!(!output.contains("eyJ"), "{output}");
    assert!(registry.terminate().success());
    endpoint.abort();
}

/// The registry started with `env`: its exit code and stderr.
fn refused(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(REGISTRY);
    command
        .current_dir(dir.path())
        .env("DATABASE_URL", "memory")
        .env("BROKER_URL", "in-process")
        .env("PORT", "0")
        .env("AUDIT_PORT", "0")
        .env("IMPORTER_PORT", "0")
        .env("AUDIT_DATABASE_URL", "memory")
        .env_remove("REGISTRY_TOKEN")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_static_token_and_client_credentials_together_are_refused() {
    let (code, stderr) = refused(&[
        ("REGISTRY_TOKEN", "t-123"),
        ("REGISTRY_OAUTH_TOKEN_URL", "http://127.0.0.1:1/token"),
        ("REGISTRY_OAUTH_CLIENT_ID", "importer"),
        ("REGISTRY_OAUTH_CLIENT_SECRET", "importer-secret"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("REGISTRY_TOKEN") && stderr.contains("REGISTRY_OAUTH_TOKEN_URL"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("importer-secret") && !stderr.contains("t-123"),
        "{stderr}"
    );

    let (code, stderr) = refused(&[
        ("REGISTRY_OAUTH_TOKEN_URL", "http://127.0.0.1:1/token"),
        ("REGISTRY_OAUTH_CLIENT_SECRET", "importer-secret"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("set REGISTRY_OAUTH_CLIENT_ID"), "{stderr}");

    let (code, stderr) = refused(&[
        ("REGISTRY_OAUTH_TOKEN_URL", "token-server/token"),
        ("REGISTRY_OAUTH_CLIENT_ID", "importer"),
        ("REGISTRY_OAUTH_CLIENT_SECRET", "importer-secret"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("token-server/token"), "{stderr}");
    assert!(!stderr.contains("importer-secret"), "{stderr}");
}
