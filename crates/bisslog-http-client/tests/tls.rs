//! `ServiceClient` over HTTPS (the `tls` feature): a service whose
//! certificate a throwaway CA signed is called when that CA is configured,
//! and refused, before anything is sent, when it is not.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/https.rs"]
mod https;

use axum::Router;
use axum::routing::get;
use bisslog_core::{ErrorKind, UseCaseError as _};
use bisslog_http_client::{CaBundle, ServiceClient, codes};
use https::{HttpsServer, TestCa};
use serde_json::{Value, json};

fn service() -> Router {
    Router::new().route(
        "/hello",
        get(|| async { axum::Json(json!({"hello": "world"})) }),
    )
}

#[tokio::test]
async fn a_service_is_called_over_https_when_its_ca_is_trusted() {
    let server = HttpsServer::start(service()).await;
    let ca = CaBundle::from_pem("the test CA", server.ca.pem.as_bytes()).unwrap();
    let client = ServiceClient::builder(server.url(""))
        .ca_bundle(ca)
        .build()
        .unwrap();
    let answer: Value = client.get_json("/hello").await.unwrap();
    assert_eq!(answer, json!({"hello": "world"}));
    assert_eq!(server.handshake_failures(), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_certificate_of_an_unknown_ca_fails_the_call_as_a_connection_error() {
    let server = HttpsServer::start(service()).await;
    let other_ca = TestCa::new("another CA");
    for (case, ca) in [
        ("the system's roots only", CaBundle::none()),
        (
            "another CA trusted",
            CaBundle::from_pem("another CA", other_ca.pem.as_bytes()).unwrap(),
        ),
    ] {
        let client = ServiceClient::builder(server.url(""))
            .ca_bundle(ca)
            .build()
            .unwrap();
        let error = client.get_json::<Value>("/hello").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Connection, "{case}: {error}");
        assert_eq!(error.code(), codes::CONNECT_FAILED, "{case}: {error}");
    }
    assert!(
        server.a_handshake_failed().await,
        "the client refused the certificate"
    );
    server.stop().await;
}
