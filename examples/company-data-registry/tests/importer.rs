//! The importer's client of the registry (`RegistryHttp`, on
//! `bisslog::http_client`) against a stand-in registry on 127.0.0.1: what
//! the registry receives on behalf of an import, and what the importer
//! answers when the registry refuses, fails or is down. The importer runs
//! in process with the test kit.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use bisslog_testkit::{RecordingPublisher, TestService};
use company_data_registry::adapters::MemoryStore;
use company_data_registry::importer::{
    self, adapters::RegistryDatabase, registry_http::RegistryHttp,
};
use serde_json::{Value, json};

const TRACEPARENT: &str = "00-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174-01";

/// A stand-in registry on 127.0.0.1 (port 0), stopped when dropped.
struct Registry {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Registry {
    async fn start(routes: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, routes).await;
        });
        Registry { url, task }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn importer(registry_url: &str, requests: RecordingPublisher) -> TestService {
    let service = importer::service(
        importer::metadata().unwrap(),
        RegistryHttp::new(registry_url).unwrap(),
        requests,
        RegistryDatabase::Memory(MemoryStore::new()),
    )
    .unwrap();
    TestService::new(service).unwrap()
}

fn records() -> Value {
    json!({"records": [{"code": "es"}, {"code": "fr"}]})
}

/// `POST /imports/{schema}` with the caller's transaction id and trace.
async fn import(kit: &TestService, schema: &str) -> bisslog_testkit::Answer {
    let request = axum::http::Request::post(format!("/imports/{schema}"))
        .header("content-type", "application/json")
        .header("x-transaction-id", "import-7")
        .header("traceparent", TRACEPARENT)
        .body(records().to_string())
        .unwrap();
    kit.request(request).await.unwrap()
}

#[tokio::test]
async fn the_registry_is_asked_on_behalf_of_the_import() {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let recorded = Arc::clone(&seen);
    let registry = Registry::start(Router::new().route(
        "/schemas",
        get(move |headers: HeaderMap| async move {
            recorded.lock().unwrap().push(headers);
            axum::Json(json!([{"schema_keyname": "language", "schema_name": "Language"}]))
        }),
    ))
    .await;
    let requests = RecordingPublisher::new();
    let kit = importer(&registry.url, requests.clone());

    let accepted = import(&kit, "language").await;
    assert_eq!(accepted.status(), 202, "{}", accepted.text());
    assert_eq!(requests.payloads("company_data_insertion.queue").len(), 2);
    let refused = import(&kit, "currency").await;
    assert_eq!(refused.status(), 404, "{}", refused.text());
    assert_eq!(refused.problem().unwrap().code, "schema-not-found");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for headers in seen.iter() {
        // The registry's call is the import's transaction, in its trace.
        assert_eq!(headers["x-transaction-id"], "import-7");
        let traceparent = headers["traceparent"].to_str().unwrap();
        assert!(
            traceparent.starts_with("00-5b8efff798038103d269b633813fc60c-"),
            "{traceparent}"
        );
    }
}

#[tokio::test]
async fn a_registry_that_is_down_makes_the_import_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let requests = RecordingPublisher::new();
    let kit = importer(&url, requests.clone());
    let answer = import(&kit, "language").await;
    assert_eq!(answer.status(), 503, "{}", answer.text());
    assert_eq!(answer.problem().unwrap().code, "http-connect-failed");
    assert!(requests.published().is_empty());
}

#[tokio::test]
async fn the_registrys_failures_reach_the_importers_caller() {
    let registry = Registry::start(
        Router::new()
            .route(
                "/schemas",
                get(|| async {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [("content-type", "application/problem+json")],
                        r#"{"status": 503, "code": "database-unreachable", "detail": "the database cannot be reached"}"#,
                    )
                }),
            ),
    )
    .await;
    let requests = RecordingPublisher::new();
    let kit = importer(&registry.url, requests.clone());
    let answer = import(&kit, "language").await;
    assert_eq!(answer.status(), 503, "{}", answer.text());
    assert_eq!(answer.problem().unwrap().code, "database-unreachable");
    assert!(requests.published().is_empty());

    let garbled = Registry::start(
        Router::new().route("/schemas", get(|| async { "<html>maintenance</html>" })),
    )
    .await;
    let kit = importer(&garbled.url, requests.clone());
    let answer = import(&kit, "language").await;
    // An answer the importer cannot read is the registry's failure
    // (`Processing`), not the importer's caller's: a 500, not a 4xx.
    assert_eq!(answer.status(), 500, "{}", answer.text());
    assert_eq!(answer.problem().unwrap().code, "http-unexpected-body");
    assert!(requests.published().is_empty());
}
