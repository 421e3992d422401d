//! The registry binary's `/metrics`: a real Prometheus scrapes it and
//! answers queries about the series (the contract between the runtime and
//! the alert rules and dashboards, checked end to end), and on a SQL
//! database it has the pool's and the outbox's series.
//!
//! Prometheus is the binary `BISSLOG_TEST_PROMETHEUS` names (Debian's
//! `prometheus` package; `.ci/run` installs it and sets the variable).
//! Without it the test is skipped, saying so, except under `CI=true`.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::Server;

/// The Prometheus binary, or `None` (skipped) when not configured.
fn prometheus_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BISSLOG_TEST_PROMETHEUS") {
        return Some(PathBuf::from(path));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "BISSLOG_TEST_PROMETHEUS is not set: under CI=true this test must run (.ci/run sets it)"
    );
    eprintln!("skipping: set BISSLOG_TEST_PROMETHEUS to a prometheus binary to run this test");
    None
}

/// A Prometheus process, killed by its pid when dropped.
struct Prometheus {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Prometheus {
    /// Starts `binary` on a free port of 127.0.0.1, scraping `target`
    /// (`host:port`) every second, its data in `dir`.
    fn start(binary: &Path, dir: &Path, target: &str) -> Self {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: registry\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        // Prometheus cannot listen on port 0: a port the system just gave
        // out is free unless something takes it in between.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("prometheus.log");
        let output = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The result vector of an instant query, or `None` when Prometheus
    /// does not answer (yet).
    async fn query(&self, client: &reqwest::Client, query: &str) -> Option<Vec<Value>> {
        let response = client
            .get(format!(
                "{}/api/v1/query?query={}",
                self.base,
                encode(query)
            ))
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        body["data"]["result"].as_array().cloned()
    }

    /// Polls `query` (every 250 ms, 60 s at most) until its single result's
    /// value is `expected`; fails with what Prometheus last said.
    async fn wait_for(&self, client: &reqwest::Client, query: &str, expected: f64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = None;
        while Instant::now() < deadline {
            if let Some(result) = self.query(client, query).await {
                let value = result
                    .first()
                    .and_then(|r| r["value"][1].as_str()?.parse().ok());
                if result.len() == 1 && value == Some(expected) {
                    return;
                }
                last = Some(result);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "`{query}` never answered {expected} within 60 s; last answer: {last:?}\nprometheus log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

/// `text` percent-encoded for a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_use_case_and_http_series() {
    let Some(binary) = prometheus_binary() else {
        return;
    };
    let registry = Server::start("memory");
    let target = registry.base.trim_start_matches("http://").to_owned();
    for _ in 0..3 {
        let (status, _) = registry.send(reqwest::Method::GET, "/schemas", None).await;
        assert_eq!(status, 200);
    }
    let (status, _) = registry
        .send(
            reqwest::Method::PATCH,
            "/schemas/no-such-schema",
            Some(serde_json::json!({"name": "x"})),
        )
        .await;
    assert!(status >= 400, "{status}");

    let dir = tempfile::tempdir().unwrap();
    let prometheus = Prometheus::start(&binary, dir.path(), &target);
    let client = test_client();
    prometheus
        .wait_for(
            &client,
            r#"bisslog_use_case_calls_total{service="company registry data",use_case="get_all_schemas",trigger="http",outcome="success",criticality="medium"}"#,
            3.0,
        )
        .await;
    prometheus
        .wait_for(
            &client,
            r#"bisslog_http_request_duration_seconds_count{method="GET",route="/schemas",status_class="2xx"}"#,
            3.0,
        )
        .await;
    prometheus
        .wait_for(
            &client,
            r#"sum(bisslog_use_case_calls_total{use_case="update_schema_metadata",outcome="failure",error_kind!=""})"#,
            1.0,
        )
        .await;
    prometheus
        .wait_for(
            &client,
            r#"bisslog_use_case_in_flight{use_case="get_all_schemas",trigger="http"}"#,
            0.0,
        )
        .await;
    drop(prometheus);
    registry.terminate();
}

/// The value of the series whose line starts with `series` (labels in the
/// encoder's order).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn on_sqlite_the_pool_and_the_outbox_have_series() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let registry = Server::start(&url);
    let (status, _) = registry.send(reqwest::Method::GET, "/schemas", None).await;
    assert_eq!(status, 200);
    let response = registry
        .client
        .get(registry.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let service = r#"service="company registry data""#;
    let idle = value(
        &text,
        &format!(r#"bisslog_db_pool_connections{{{service},state="idle"}}"#),
    );
    let in_use = value(
        &text,
        &format!(r#"bisslog_db_pool_connections{{{service},state="in_use"}}"#),
    );
    assert!(
        idle.zip(in_use).is_some_and(|(i, u)| i + u >= 1.0),
        "{text}"
    );
    for series in [
        "bisslog_outbox_pending",
        "bisslog_outbox_oldest_pending_age_seconds",
        "bisslog_outbox_relayed_total",
        "bisslog_outbox_relay_failures_total",
    ] {
        assert!(
            value(&text, &format!("{series}{{{service}}}")).is_some(),
            "no {series} in\n{text}"
        );
    }
    registry.terminate();
}

/// A plain client for the test's requests. With the `tls` feature reqwest
/// is built with rustls and no crypto provider, so a plain client needs the
/// process-wide one (docs/security.md, "HTTPS JWKS URLs").
fn test_client() -> reqwest::Client {
    #[cfg(feature = "tls")]
    bisslog::tls::install_default_provider();
    reqwest::Client::new()
}
