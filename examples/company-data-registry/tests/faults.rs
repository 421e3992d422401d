//! The registry under faults, over HTTP as its callers see it: its
//! PostgreSQL server stopped and started again (a private server of the
//! test's own), and its SQLite disk filled up and freed (a small tmpfs).
//! While the fault lasts every write answers 503 with `Retry-After`, at
//! once, and `/health/ready` says not ready within its bound; once the
//! fault is gone the service heals by itself.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::time::{Duration, Instant};

use bisslog_sql::testing::{PrivatePostgres, SmallDisk};
use reqwest::Method as M;
use serde_json::json;
use support::{Server, counter_schema};

/// Inserts record `n`: the status, the `Retry-After` header, the problem's
/// code, and how long the answer took.
async fn insert(server: &Server, n: u64) -> (u16, Option<String>, String, Duration) {
    let started = Instant::now();
    let response = server
        .client
        .post(server.url("/company/data/counter"))
        .json(&json!({ "n": n }))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    (status, retry_after, code, took)
}

/// `/health/ready`'s status and how long it took to answer.
async fn readiness(server: &Server) -> (u16, Duration) {
    let started = Instant::now();
    let status = server
        .client
        .get(server.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    (status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_answers_503_at_once_and_the_service_heals() {
    let Some(mut postgres) = PrivatePostgres::start().await else {
        return;
    };
    let server = Server::start(&postgres.url());
    let (status, body) = server
        .send(M::POST, "/schemas", Some(counter_schema()))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(insert(&server, 0).await.0, 201);

    postgres.stop();
    // Not the pool's 5 s and a 504: each write answers within a second,
    // 503 with Retry-After, the first one included.
    for n in 1..=5 {
        let (status, retry_after, code, took) = insert(&server, n).await;
        assert_eq!(status, 503, "write {n}: {code}");
        assert_eq!(retry_after.as_deref(), Some("1"), "write {n}");
        assert!(took < Duration::from_secs(1), "write {n} took {took:?}");
    }
    let (status, took) = readiness(&server).await;
    assert_eq!(status, 503);
    assert!(
        took < Duration::from_millis(1500),
        "/health/ready took {took:?}"
    );

    postgres.start_again().await;
    let back = Instant::now();
    let mut n = 100;
    loop {
        n += 1;
        let (status, _, code, _) = insert(&server, n).await;
        if status == 201 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(1),
            "still {status} {code} {:?} after PostgreSQL came back",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "writes succeed {:?} after PostgreSQL came back",
        back.elapsed()
    );
    assert_eq!(readiness(&server).await.0, 200);
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_while_full_and_writes_succeed_once_freed() {
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let url = format!("sqlite://{}", disk.path().join("registry.db").display());
    let server = Server::start(&url);
    let (status, body) = server
        .send(M::POST, "/schemas", Some(counter_schema()))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(insert(&server, 0).await.0, 201);

    let filler = disk.fill();
    // Records are small: the WAL may still take a few. The first refusal
    // must be a clear, transient one.
    let mut refused = None;
    for n in 1..=2_000 {
        let (status, retry_after, code, _) = insert(&server, n).await;
        if status != 201 {
            refused = Some((status, retry_after, code));
            break;
        }
    }
    let (status, retry_after, code) = refused.expect("a full disk refused no write");
    assert_eq!(status, 503, "{code}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(
        ["database-storage-full", "database-io-error"].contains(&code.as_str()),
        "{code}"
    );
    let (status, took) = readiness(&server).await;
    assert_eq!(status, 503, "ready while the disk is full");
    assert!(
        took < Duration::from_millis(1500),
        "/health/ready took {took:?}"
    );

    std::fs::remove_file(filler).unwrap();
    let freed = Instant::now();
    let mut n = 10_000;
    let mut in_a_row = 0;
    while in_a_row < 20 {
        n += 1;
        let (status, _, code, _) = insert(&server, n).await;
        if status == 201 {
            in_a_row += 1;
        } else {
            in_a_row = 0;
            assert!(
                freed.elapsed() < Duration::from_secs(5),
                "still {status} {code} {:?} after the space came back",
                freed.elapsed()
            );
        }
    }
    eprintln!(
        "writes succeed {:?} after the space came back",
        freed.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while readiness(&server).await.0 != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready 5 s after the space came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.terminate().success());
}
