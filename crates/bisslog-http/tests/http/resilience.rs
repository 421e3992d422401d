//! A route's timeout is the deadline of the retries made within its use
//! case: a retry that would end after it is not started, and the caller
//! gets the failure at once rather than a timeout later.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bisslog_core::{Ctx, Error, ErrorKind, UseCase};
use bisslog_http::HttpServer;
use bisslog_runtime::Service;
use bisslog_runtime::resilience::{AttemptError, Interaction};
use tokio::sync::oneshot;

use crate::fixture::problem;

const METADATA: &str = r#"
name: fetcher
use_cases:
  fetch:
    external_interactions:
    - keyname: remote
      type_interaction: external_system
      idempotent: true
      retry: {max_attempts: 3, initial_delay: 2s, max_delay: 2s, jitter: 0}
    triggers:
    - type: http
      options: {method: get, path: /fetch, timeout: 500}
"#;

/// Asks the remote, which refuses every connection.
struct Fetch {
    remote: Interaction,
    attempts: Arc<AtomicU32>,
}

impl UseCase for Fetch {
    type Input = serde_json::Value;
    type Output = serde_json::Value;
    type Error = Error;

    async fn run(&self, _: &Ctx, _: serde_json::Value) -> Result<serde_json::Value, Error> {
        self.remote
            .call(|_| async {
                self.attempts.fetch_add(1, Ordering::SeqCst);
                Err::<serde_json::Value, _>(AttemptError::not_sent(Error::new(
                    ErrorKind::Connection,
                    "remote-down",
                    "connection refused",
                )))
            })
            .await
    }
}

#[tokio::test]
async fn retries_stop_at_the_routes_timeout_and_the_failure_comes_at_once() {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let attempts = Arc::new(AtomicU32::new(0));
    let builder = Service::builder(metadata);
    let remote = builder.interaction("remote");
    let service = builder
        .use_case(
            "fetch",
            Fetch {
                remote,
                attempts: Arc::clone(&attempts),
            },
        )
        .blank("remote")
        .build()
        .unwrap();
    let server = HttpServer::builder(service).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(server.serve_until(listener, async move {
        let _ = stopped.await;
    }));

    let response = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap()
        .get(format!("http://{addr}/fetch"))
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    // The remote's failure, not the route's 504: the first retry (2 s)
    // would end after the route's 500 ms.
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "remote-down");
    assert_eq!(attempts.load(Ordering::SeqCst), 1);

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}
