//! The JWT authenticator fetching its JWKS over HTTPS (the `tls` feature)
//! from a server whose certificate a throwaway CA signed: tokens are
//! accepted when that CA is trusted; when it is not, the fetch fails
//! closed (401) and the reason is logged.

#![allow(clippy::unwrap_used, missing_docs)]

// The service under test and the JWKS documents of tests/jwt.
#[allow(dead_code, unreachable_pub)]
#[path = "jwt/server.rs"]
mod server;
// The HTTPS server, shared with bisslog-http-client's TLS tests.
#[allow(dead_code)]
#[path = "../../bisslog-http-client/tests/support/https.rs"]
mod https;
// The guard of log captures against tracing's interest cache, shared
// with bisslog-runtime's tests.
#[path = "../../bisslog-runtime/tests/support/log_interest.rs"]
mod log_interest;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bisslog_http::jwt::{CaBundle, INVALID_TOKEN, JwtAuthenticator, JwtKeys};
use https::{HttpsServer, TestCa};
use server::{AUDIENCE, ISSUER, JwksState, Running, claims, fixture, sign};

fn from_https(url: &str, ca: CaBundle) -> JwtAuthenticator {
    JwtAuthenticator::builder(JwtKeys::jwks_url(url).unwrap())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .fetch_timeout(Duration::from_secs(5))
        .ca_bundle(ca)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_jwks_served_over_https_by_a_trusted_ca_is_fetched_and_tokens_accepted() {
    let jwks = JwksState::new(fixture("jwks.json"));
    let server = HttpsServer::start(jwks.router()).await;
    let ca = CaBundle::from_pem("the test CA", server.ca.pem.as_bytes()).unwrap();
    let s = Running::start(from_https(&server.url("/jwks"), ca)).await;
    let token = sign("rsa-1", Some("rsa-1"), &claims());
    let answer = s.bearer(&token).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["sub"], "ana");
    assert_eq!(jwks.fetches(), 1);
    assert_eq!(server.handshake_failures(), 0);
    s.stop().await;
    server.stop().await;
}

/// Everything logged on this thread (the test's runtime is single-threaded,
/// so the service's tasks log here too).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_jwks_server_whose_ca_is_not_trusted_fails_closed_and_the_reason_is_logged() {
    // Defensive: the other test of this binary fetches the JWKS on its own
    // thread, without a subscriber; it never fails, so it does not reach
    // the line asserted here today, but a test that did could hide it
    // (see `log_interest`).
    log_interest::keep_every_callsite_interesting();
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let jwks = JwksState::new(fixture("jwks.json"));
    let server = HttpsServer::start(jwks.router()).await;
    let other = TestCa::new("another CA");
    let token = sign("rsa-1", Some("rsa-1"), &claims());
    for (case, ca) in [
        ("the system's roots only", CaBundle::none()),
        (
            "another CA trusted",
            CaBundle::from_pem("another CA", other.pem.as_bytes()).unwrap(),
        ),
    ] {
        let s = Running::start(from_https(&server.url("/jwks"), ca)).await;
        let answer = s.bearer(&token).await;
        assert_eq!(answer.status, 401, "{case}: {:?}", answer.body);
        assert_eq!(answer.code(), INVALID_TOKEN, "{case}");
        s.stop().await;
    }
    assert_eq!(jwks.fetches(), 0, "no request got past the handshake");
    assert!(server.a_handshake_failed().await);
    let logs = logs.text();
    assert!(logs.contains("JWKS refresh failed"), "{logs}");
    assert!(
        logs.contains("invalid peer certificate: UnknownIssuer"),
        "the reason is the certificate's: {logs}"
    );
    server.stop().await;
}
