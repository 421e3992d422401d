//! The importer's client of the registry (`RegistryHttp`, on
//! `bisslog::http_client`) against a stand-in registry on 127.0.0.1: what
//! the registry receives on behalf of an import, and what the importer
//! answers when the registry refuses, fails or is down. The importer runs
//! in process with the test kit.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let metadata = importer::metadata().unwrap();
    let guards = importer::guards(&metadata);
    let service = importer::service(
        metadata,
        RegistryHttp::new(registry_url, None, guards[importer::REGISTRY].clone()).unwrap(),
        requests,
        RegistryDatabase::Memory(MemoryStore::new()),
        guards,
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

/// The importer's metadata with a quicker policy on the registry, so the
/// test runs in a second: 200 ms per attempt, three attempts 50 then
/// 100 ms apart, a breaker that opens when half of at least four attempts
/// failed and stays open 500 ms.
fn quick_importer(registry_url: &str, requests: RecordingPublisher) -> TestService {
    let mut metadata = importer::metadata().unwrap();
    let interaction = metadata
        .use_cases
        .get_mut("import_company_data")
        .unwrap()
        .external_interactions
        .iter_mut()
        .find(|i| i.keyname == importer::REGISTRY)
        .unwrap();
    let policy = &mut interaction.policy;
    policy.timeout = Some(Duration::from_millis(200));
    let retry = policy.retry.as_mut().unwrap();
    retry.initial_delay = Some(Duration::from_millis(50));
    retry.max_delay = Some(Duration::from_millis(100));
    retry.jitter = Some(0.0);
    let breaker = policy.circuit_breaker.as_mut().unwrap();
    breaker.open_for = Some(Duration::from_millis(500));
    let guards = importer::guards(&metadata);
    let service = importer::service(
        metadata,
        RegistryHttp::new(registry_url, None, guards[importer::REGISTRY].clone()).unwrap(),
        requests,
        RegistryDatabase::Memory(MemoryStore::new()),
        guards,
    )
    .unwrap();
    TestService::new(service).unwrap()
}

/// What the registry stand-in does with `GET /schemas`.
const SLOW: u8 = 0;
const BACK: u8 = 1;

/// The registry down, then slow, then back, as `importer.yml`'s policy
/// meets it: retries of refused connections, a timeout per attempt, the
/// breaker opening (imports fail fast, `/health/ready` says degraded: the
/// import is of medium criticality), and closing once a probe succeeds.
#[tokio::test]
async fn the_importer_rides_out_a_registry_that_is_down_slow_then_back() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let requests = RecordingPublisher::new();
    let kit = quick_importer(&format!("http://{address}"), requests.clone());

    // Down: three attempts, each refused before anything was sent.
    let answer = import(&kit, "language").await;
    assert_eq!(answer.status(), 503, "{}", answer.text());
    assert_eq!(answer.problem().unwrap().code, "http-connect-failed");
    // Three attempts: two retries.
    assert_eq!(
        metric(&kit, "bisslog_interaction_retries_total", "").await,
        2.0
    );

    // Slow: the one attempt made times out, which is the fourth failure of
    // four: the breaker opens and the retry is refused.
    let mode = Arc::new(AtomicU8::new(SLOW));
    let asked = Arc::new(AtomicUsize::new(0));
    let (m, a) = (Arc::clone(&mode), Arc::clone(&asked));
    let routes = Router::new().route(
        "/schemas",
        get(move || {
            let (mode, asked) = (Arc::clone(&m), Arc::clone(&a));
            async move {
                asked.fetch_add(1, Ordering::SeqCst);
                if mode.load(Ordering::SeqCst) == SLOW {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                axum::Json(json!([{"schema_keyname": "language"}]))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, routes).await;
    });
    let answer = import(&kit, "language").await;
    assert_eq!(answer.status(), 503, "{}", answer.text());
    assert_eq!(answer.problem().unwrap().code, "circuit-open");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(
        metric(&kit, "bisslog_interaction_timeouts_total", "").await,
        1.0
    );

    // Open: imports fail fast, the registry is not asked, and the service
    // is degraded, not unready.
    let answer = import(&kit, "language").await;
    assert_eq!(answer.problem().unwrap().code, "circuit-open");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let ready = kit.get("/health/ready").await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert!(ready["degraded"][importer::REGISTRY].is_string(), "{ready}");
    assert_eq!(
        metric(
            &kit,
            "bisslog_interaction_rejections_total",
            r#"reason="circuit_open""#
        )
        .await,
        2.0
    );

    // Back: once `open_for` has passed, the next import is the probe; it
    // succeeds and the breaker closes.
    mode.store(BACK, Ordering::SeqCst);
    let mut accepted = None;
    for _ in 0..100 {
        let answer = import(&kit, "language").await;
        if answer.status() == 202 {
            accepted = Some(answer);
            break;
        }
        assert_eq!(answer.problem().unwrap().code, "circuit-open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted.is_some(), "the breaker never closed");
    assert_eq!(asked.load(Ordering::SeqCst), 2);
    let ready: Value = kit.get("/health/ready").await.unwrap().json().unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(requests.payloads("company_data_insertion.queue").len(), 2);
    server.abort();
}

/// The value of the registry interaction's series `name` in `/metrics`
/// (the one with `label` too, when given).
async fn metric(kit: &TestService, name: &str, label: &str) -> f64 {
    let text = kit.get("/metrics").await.unwrap().text();
    let series = format!("{name}{{");
    text.lines()
        .find(|line| {
            line.starts_with(&series)
                && line.contains(r#"interaction="company registry data""#)
                && line.contains(label)
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {name} {label} in\n{text}"))
}
