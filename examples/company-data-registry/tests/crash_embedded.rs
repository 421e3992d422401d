//! Crash safety of the embedded default: the registry on SQLite files with
//! the durable broker (a SQLite file too) and the audit service in the same
//! process, killed (SIGKILL, by its pid) twice under 16 clients inserting
//! over HTTP, and started again on the same files. Every acknowledged
//! insertion is kept, and the audit trail ends with exactly one entry for
//! every record: no event dies with the process.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bisslog::sql::{Database, on_engine, sqlx};
use reqwest::Method as M;
use serde_json::{Value, json};
use support::{REGISTRY, Server};
use tokio::sync::watch;

const CLIENTS: usize = 16;
/// Acknowledged insertions between two kills, and before the end.
const PER_RUN: usize = 150;
const KILLS: usize = 2;

/// A directory of this test run for the SQLite files, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "bisslog-crash-embedded-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the clients saw.
#[derive(Default)]
struct Load {
    /// The uids of acknowledged (2xx) insertions.
    acknowledged: Mutex<BTreeSet<String>>,
}

/// One client: inserts until `stop`, one request at a time, against the
/// registry `base` names; a failed request (the registry died) waits for
/// the next registry.
async fn client(
    id: usize,
    mut base: watch::Receiver<String>,
    stop: watch::Receiver<bool>,
    load: Arc<Load>,
) {
    let http = test_client();
    let mut n = 0u64;
    while !*stop.borrow() {
        n += 1;
        let url = format!("{}/company/data/counter", *base.borrow_and_update());
        let body = json!({"n": n, "client": id});
        let sent = http
            .post(&url)
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let acknowledged = match sent {
            Ok(response) if response.status().is_success() => response
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v["inserted"].as_str().map(str::to_owned)),
            _ => None,
        };
        match acknowledged {
            Some(uid) => {
                load.acknowledged.lock().unwrap().insert(uid);
            }
            // Killed under us (or its answer lost): on to the next
            // registry, or stop.
            None => {
                let mut stopped = stop.clone();
                tokio::select! {
                    _ = base.changed() => {}
                    _ = stopped.wait_for(|s| *s) => {}
                }
            }
        }
    }
}

/// Waits until `count` acknowledged insertions, for at most 60 s.
async fn until_acknowledged(load: &Load, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    while load.acknowledged.lock().unwrap().len() < count {
        assert!(
            Instant::now() < deadline,
            "the clients stalled below {count}"
        );
        ticks.tick().await;
    }
}

async fn uids(db: &Database, sql: &'static str) -> Vec<String> {
    on_engine!(db.pool(), pool => sqlx::query_scalar(sql).fetch_all(pool).await).unwrap()
}

/// What the killed process owed the audit service: events still in its
/// outbox, and messages in the broker not yet acknowledged.
async fn owed_at_crash(dir: &std::path::Path) -> (i64, i64) {
    let count = |file: &'static str, sql: &'static str| async move {
        let db = Database::connect(&format!("sqlite://{}", dir.join(file).display()))
            .await
            .unwrap();
        let n: i64 =
            on_engine!(db.pool(), pool => sqlx::query_scalar(sql).fetch_one(pool).await).unwrap();
        db.close().await;
        n
    };
    (
        count(
            "registry.db",
            "SELECT COUNT(*) FROM bisslog_outbox WHERE published_at_ms IS NULL",
        )
        .await,
        count(
            "company-data-broker.db",
            "SELECT COUNT(*) FROM bisslog_broker_messages",
        )
        .await,
    )
}

/// Starts the registry on the files of `dir`; `query` is appended to both
/// database URLs (`?group_commit=0`).
fn start(dir: &std::path::Path, query: &str) -> Server {
    let registry = format!("sqlite://{}{query}", dir.join("registry.db").display());
    let audit = format!("sqlite://{}{query}", dir.join("audit.db").display());
    let env = [
        ("DATABASE_URL", registry.as_str()),
        ("AUDIT_DATABASE_URL", audit.as_str()),
        ("RUST_LOG", "warn,bisslog_app=info,bisslog_http=info"),
    ];
    tokio::task::block_in_place(|| {
        Server::spawn_in(dir, REGISTRY, &env, "registry data listening on http://")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_no_event_on_the_embedded_default() {
    killed_under_load("").await;
}

/// The same with a transaction per call (`?group_commit=0`), as before
/// group commit was the default (docs/reliability.md, "Group commit").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_no_event_with_a_transaction_per_call() {
    killed_under_load("?group_commit=0").await;
}

/// Kills the registry `KILLS` times under load, its databases' URLs ending
/// in `query`, and checks what the clients were told against the files.
async fn killed_under_load(query: &str) {
    let dir = TempDir::new();
    let mut registry = start(&dir.0, query);
    // The embedded default is the durable broker.
    let started = tokio::task::block_in_place(|| registry.line_with("[started]"));
    assert!(started.contains("broker: sql"), "{started}");
    // Group commit is the default: an acknowledged insertion's `COMMIT`
    // may hold others', and a kill takes a whole open transaction.
    let database = if query.contains("group_commit=0") {
        "database: sqlite, broker"
    } else {
        "database: sqlite, group commit 64,"
    };
    assert!(started.contains(database), "{started}");
    let (status, _) = registry
        .send(M::POST, "/schemas", Some(support::counter_schema()))
        .await;
    assert_eq!(status, 201);

    let load = Arc::new(Load::default());
    let (base, base_rx) = watch::channel(registry.base.clone());
    let (stop, stop_rx) = watch::channel(false);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client(
                id,
                base_rx.clone(),
                stop_rx.clone(),
                Arc::clone(&load),
            ))
        })
        .collect();

    let mut owed = Vec::new();
    for kill in 1..=KILLS {
        until_acknowledged(&load, kill * PER_RUN).await;
        let status = tokio::task::block_in_place(|| registry.kill());
        assert!(!status.success(), "kill {kill} stopped it");
        owed.push(owed_at_crash(&dir.0).await);
        registry = start(&dir.0, query);
        base.send(registry.base.clone()).unwrap();
    }
    assert!(
        owed.iter().any(|(outbox, broker)| outbox + broker > 0),
        "the kills found nothing in flight, so they showed nothing: {owed:?}"
    );
    until_acknowledged(&load, (KILLS + 1) * PER_RUN).await;
    stop.send(true).unwrap();
    for client in clients {
        client.await.unwrap();
    }

    // The audit service (in the registry's process) catches up with every
    // record: events of the killed runs included.
    let records = Database::connect(&format!("sqlite://{}", dir.0.join("registry.db").display()))
        .await
        .unwrap();
    let audit = Database::connect(&format!("sqlite://{}", dir.0.join("audit.db").display()))
        .await
        .unwrap();
    // Bounded by the leases: a message the killed process had taken is
    // delivered again once its lease (the consumers' 30 s `ack_wait`)
    // runs out.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    loop {
        ticks.tick().await;
        let stored = uids(
            &records,
            "SELECT uid FROM records WHERE keyname = 'counter'",
        )
        .await;
        let trail = uids(&audit, "SELECT uid FROM audit_insertions").await;
        if trail.len() >= stored.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the audit trail stayed at {} of {} records",
            trail.len(),
            stored.len()
        );
    }
    assert!(tokio::task::block_in_place(|| registry.terminate()).success());

    let stored: BTreeSet<String> = uids(
        &records,
        "SELECT uid FROM records WHERE keyname = 'counter'",
    )
    .await
    .into_iter()
    .collect();
    let acknowledged = load.acknowledged.lock().unwrap().clone();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
    let mut entries: BTreeMap<String, usize> = BTreeMap::new();
    for uid in uids(&audit, "SELECT uid FROM audit_insertions").await {
        *entries.entry(uid).or_default() += 1;
    }
    let missing: Vec<&String> = stored
        .iter()
        .filter(|u| !entries.contains_key(*u))
        .collect();
    let twice: Vec<(&String, &usize)> = entries.iter().filter(|(_, n)| **n != 1).collect();
    let unknown: Vec<&String> = entries.keys().filter(|u| !stored.contains(*u)).collect();
    assert!(
        missing.is_empty() && twice.is_empty() && unknown.is_empty(),
        "the audit trail of {} records: {} missing {missing:?}, {} more than once {twice:?}, {} unknown {unknown:?}",
        stored.len(),
        missing.len(),
        twice.len(),
        unknown.len()
    );
    eprintln!(
        "{} records ({} acknowledged), {} audit entries, {KILLS} kills; owed at each kill \
         (unpublished outbox events, unacknowledged broker messages): {owed:?}",
        stored.len(),
        acknowledged.len(),
        entries.len()
    );
    records.close().await;
    audit.close().await;
}

/// A plain client for the test's requests. With the `tls` feature reqwest
/// is built with rustls and no crypto provider, so a plain client needs the
/// process-wide one (docs/security.md, "HTTPS JWKS URLs").
fn test_client() -> reqwest::Client {
    #[cfg(feature = "tls")]
    bisslog::tls::install_default_provider();
    reqwest::Client::new()
}
