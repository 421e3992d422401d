//! The README's walk-through of authentication: `make-token` makes a
//! signing key, its JWKS and a token; the registry started with
//! `JWT_JWKS_FILE`, `JWT_ISSUER` and `JWT_AUDIENCE` refuses a request
//! without a token and accepts one with it, and lets only a token with the
//! `schema-manager` role manage schemas. Real processes.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::path::Path;
use std::process::Command;

use support::{REGISTRY, Server};

const MAKE_TOKEN: &str = env!("CARGO_BIN_EXE_make-token");
const ISSUER: &str = "http://localhost/dev-issuer";
const AUDIENCE: &str = "company-data-registry";

fn make_token(args: &[&str]) -> String {
    let output = Command::new(MAKE_TOKEN).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `GET path` with this bearer token, if any: the status and body.
async fn get(server: &Server, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = server.client.get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// `DELETE path` with this bearer token, if any: the status and body.
async fn delete(server: &Server, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = server.client.delete(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn the_registry_with_a_jwks_file_requires_a_token_made_by_make_token() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let keys = keys.to_str().unwrap();
    make_token(&["keys", keys]);
    let jwks = Path::new(keys).join("jwks.json");
    let token = make_token(&[
        "sign",
        keys,
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
        "--roles",
        "schema-manager",
    ]);
    let wrong_audience = make_token(&["sign", keys, "--issuer", ISSUER, "--audience", "other"]);
    // Any authenticated caller may read; schema management needs the role
    // (`authorization: {roles: [schema-manager]}` in metadata.yml).
    let reader = make_token(&["sign", keys, "--issuer", ISSUER, "--audience", AUDIENCE]);

    let server = Server::spawn(
        REGISTRY,
        &[
            ("DATABASE_URL", "memory"),
            ("JWT_JWKS_FILE", jwks.to_str().unwrap()),
            ("JWT_ISSUER", ISSUER),
            ("JWT_AUDIENCE", AUDIENCE),
        ],
        "registry data listening on http://",
    );

    let (status, body) = get(&server, "/schemas", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "missing-token");
    let (status, body) = get(&server, "/schemas", Some(&wrong_audience)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "invalid-token");
    let (status, body) = get(&server, "/schemas", Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&server, "/schemas", Some(&reader)).await;
    assert_eq!(status, 200, "{body}");
    // Deleting a schema: the reader is known but not allowed (403, before
    // the use case runs); the schema manager reaches the use case, which
    // finds no such schema.
    let (status, body) = delete(&server, "/schemas/language", Some(&reader)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "forbidden");
    let (status, body) = delete(&server, "/schemas/language", None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = delete(&server, "/schemas/language", Some(&token)).await;
    assert_eq!(status, 404, "{body}");
    // Health and the API documents stay open.
    for open in ["/health/ready", "/openapi.json"] {
        assert_eq!(get(&server, open, None).await.0, 200, "{open}");
    }
    // The document says so: every route needs the JWT, and schema
    // management the role too.
    let (_, document) = get(&server, "/openapi.json", None).await;
    assert_eq!(
        document["components"]["securitySchemes"]["jwt"]["bearerFormat"],
        "JWT"
    );
    let delete_schema = &document["paths"]["/schemas/{schema_keyname}"]["delete"];
    assert_eq!(delete_schema["security"], serde_json::json!([{"jwt": []}]));
    assert_eq!(
        delete_schema["x-bisslog-authorization"],
        serde_json::json!({"roles": ["schema-manager"]})
    );
    assert!(delete_schema["responses"]["403"].is_object());
    let read = &document["paths"]["/schemas"]["get"];
    assert_eq!(read["security"], serde_json::json!([{"jwt": []}]));
    assert!(read.get("x-bisslog-authorization").is_none());
    assert!(server.terminate().success());
}

#[test]
fn conflicting_jwt_settings_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(REGISTRY)
        .current_dir(dir.path())
        .env("JWT_JWKS_FILE", "jwks.json")
        .env("JWT_JWKS_URL", "http://127.0.0.1:1/jwks")
        .env("JWT_ISSUER", ISSUER)
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JWT_JWKS_FILE"), "{stderr}");

    let output = Command::new(REGISTRY)
        .current_dir(dir.path())
        .env("JWT_JWKS_FILE", "no-such-jwks.json")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("JWT_JWKS_FILE") && stderr.contains("no-such-jwks.json"),
        "{stderr}"
    );
}
