//! `bisslog monitoring` as a user meets it: golden rule files and
//! dashboards for the example system and `hello`, byte-identical reruns
//! with intact checksums, the rules checked by promtool (`check rules`,
//! and `test rules` on synthetic series), and the dashboards' structure.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{assert_golden_files, checker, load, manifest_dir};

use std::path::{Path, PathBuf};
use std::process::Command;

use bisslog_codegen::GeneratedFile;
use bisslog_codegen::monitoring::{self, MonitoringError};
use bisslog_schema::ServiceMetadata;

/// The metadata files (copies of the examples', so that the examples can
/// change without changing these goldens), as one system.
fn system() -> Vec<ServiceMetadata> {
    let fixtures = manifest_dir().join("tests/fixtures");
    [
        fixtures.join("example-system/metadata.yml"),
        fixtures.join("example-system/audit.yml"),
        fixtures.join("example-system/importer.yml"),
        fixtures.join("hello.yml"),
    ]
    .iter()
    .map(|path| load(path))
    .collect()
}

fn golden_dir() -> PathBuf {
    manifest_dir().join("tests/golden/monitoring")
}

fn generated() -> Vec<GeneratedFile> {
    monitoring::generate_system(&system()).unwrap()
}

#[test]
fn generated_files_match_the_golden_files() {
    let files = generated();
    let dir = golden_dir();
    assert_golden_files(&dir, &files);
}

#[test]
fn generating_twice_gives_identical_bytes_with_intact_headers() {
    let first = generated();
    assert_eq!(first, generated());
    let paths: Vec<&str> = first.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "company-registry-data.rules.yml",
            "company-registry-data.dashboard.json",
            "company-data-audit.rules.yml",
            "company-data-audit.dashboard.json",
            "company-data-importer.rules.yml",
            "company-data-importer.dashboard.json",
            "hello.rules.yml",
            "hello.dashboard.json",
        ]
    );
    for file in &first {
        assert_eq!(
            bisslog_codegen::verify(&file.contents),
            bisslog_codegen::Stamp::Intact,
            "{}",
            file.path
        );
    }
}

#[test]
fn two_services_with_one_file_name_are_refused() {
    let a = bisslog_schema::validate_str("a.yml", "name: Orders\nuse_cases: {}\n")
        .into_service()
        .unwrap();
    let b = bisslog_schema::validate_str("b.yml", "name: orders!\nuse_cases: {}\n")
        .into_service()
        .unwrap();
    assert!(matches!(
        monitoring::generate_system(&[a, b]),
        Err(MonitoringError::SameFileName { file, .. }) if file == "orders.rules.yml"
    ));
}

/// The alerts of a rule file: (alert name, use_case label, severity).
fn alerts(rules: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut current: Option<(String, String, String)> = None;
    for line in rules.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("- alert: ") {
            found.extend(current.take());
            current = Some((name.to_owned(), String::new(), String::new()));
        } else if let Some(current) = current.as_mut() {
            if let Some(value) = line.strip_prefix("use_case: ") {
                current.1 = value.trim_matches('"').to_owned();
            } else if let Some(value) = line.strip_prefix("severity: ") {
                current.2 = value.to_owned();
            }
        }
    }
    found.extend(current);
    found
}

#[test]
fn the_triggers_decide_which_alerts_a_use_case_gets() {
    let files = generated();
    let registry = alerts(&files[0].contents);
    let of = |use_case: &str| -> Vec<&str> {
        registry
            .iter()
            .filter(|(name, u, _)| u == use_case && name != "BisslogOutboxBacklog")
            .map(|(name, _, _)| name.as_str())
            .collect()
    };
    assert_eq!(
        of("insert_company_data"),
        [
            "BisslogErrorBudgetFastBurn",
            "BisslogErrorBudgetSlowBurn",
            "BisslogLatencyHigh",
            "BisslogDeadLetters",
            "BisslogConsumerLag",
        ]
    );
    assert_eq!(
        of("delete_all_inactive_schema_version"),
        [
            "BisslogErrorBudgetFastBurn",
            "BisslogErrorBudgetSlowBurn",
            "BisslogLatencyHigh",
            "BisslogScheduleMisfired",
            "BisslogScheduleLate",
        ]
    );
    // The registry publishes from insert_company_data: its outbox is watched.
    assert!(
        registry
            .iter()
            .any(|(name, u, s)| name == "BisslogOutboxBacklog"
                && u == "insert_company_data"
                && s == "page")
    );
    // High pages, medium opens a ticket; slow burns are always tickets.
    let severity = |name: &str, use_case: &str| {
        registry
            .iter()
            .find(|(n, u, _)| n == name && u == use_case)
            .map(|(_, _, s)| s.as_str())
    };
    assert_eq!(
        severity("BisslogErrorBudgetFastBurn", "insert_company_data"),
        Some("page")
    );
    assert_eq!(
        severity("BisslogErrorBudgetSlowBurn", "insert_company_data"),
        Some("ticket")
    );
    assert_eq!(
        severity("BisslogErrorBudgetFastBurn", "get_company_data"),
        Some("ticket")
    );
    // hello neither consumes, schedules nor publishes.
    let hello = alerts(&files[6].contents);
    let names: Vec<&str> = hello.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "BisslogErrorBudgetFastBurn",
            "BisslogErrorBudgetSlowBurn",
            "BisslogLatencyHigh"
        ]
    );
}

/// Every metric name of the contract between the runtime's `/metrics` and
/// these files, with the suffixes Prometheus adds to histograms.
const CONTRACT_METRICS: &[&str] = &[
    "bisslog_use_case_calls_total",
    "bisslog_use_case_duration_seconds_bucket",
    "bisslog_use_case_duration_seconds_sum",
    "bisslog_use_case_duration_seconds_count",
    "bisslog_use_case_in_flight",
    "bisslog_http_request_duration_seconds_bucket",
    "bisslog_consumer_messages_received_total",
    "bisslog_consumer_messages_retried_total",
    "bisslog_consumer_messages_dead_lettered_total",
    "bisslog_consumer_messages_redelivered_total",
    "bisslog_consumer_in_flight",
    "bisslog_consumer_oldest_unacked_age_seconds",
    "bisslog_outbox_pending",
    "bisslog_outbox_oldest_pending_age_seconds",
    "bisslog_outbox_relayed_total",
    "bisslog_outbox_relay_failures_total",
    "bisslog_inbox_duplicates_total",
    "bisslog_schedule_ticks_total",
    "bisslog_schedule_last_tick_timestamp_seconds",
    "bisslog_db_pool_connections",
    "bisslog_interaction_retries_total",
    "bisslog_interaction_timeouts_total",
    "bisslog_interaction_rejections_total",
    "bisslog_interaction_circuit_state",
    "bisslog_undeclared_interaction_calls_total",
];

/// The `bisslog_...` metric names an expression uses.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("bisslog_") {
        // Recorded series (`bisslog:...`) do not start with `bisslog_`.
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let before = rest[..at].chars().last();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            names.push(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_rules_use_only_contract_metrics() {
    for file in generated()
        .iter()
        .filter(|f| f.path.ends_with(".rules.yml"))
    {
        let names = metric_names(&file.contents);
        assert!(!names.is_empty(), "{}", file.path);
        for name in names {
            assert!(
                CONTRACT_METRICS.contains(&name.as_str()),
                "{}: {name}",
                file.path
            );
        }
    }
}

#[test]
fn dashboards_have_a_row_per_use_case_most_critical_first() {
    let system = system();
    let files = generated();
    for (service, file) in system
        .iter()
        .zip(files.iter().filter(|f| f.path.ends_with(".dashboard.json")))
    {
        let dashboard: serde_json::Value = serde_json::from_str(&file.contents).unwrap();
        assert_eq!(
            dashboard["schemaVersion"],
            monitoring::GRAFANA_SCHEMA_VERSION,
            "{}",
            file.path
        );
        let variables: Vec<&str> = dashboard["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(variables, ["datasource", "service"], "{}", file.path);
        let panels = dashboard["panels"].as_array().unwrap();
        let rows: Vec<&str> = panels
            .iter()
            .filter(|p| p["type"] == "row")
            .map(|p| p["title"].as_str().unwrap())
            .filter(|title| *title != "outbox")
            .collect();
        let mut expected: Vec<(u8, usize, String)> = service
            .use_cases
            .values()
            .enumerate()
            .map(|(i, u)| {
                (
                    100 - u.criticality.level(),
                    i,
                    format!("{} ({})", u.keyname, u.criticality.name()),
                )
            })
            .collect();
        expected.sort();
        let expected: Vec<&str> = expected.iter().map(|(_, _, t)| t.as_str()).collect();
        assert_eq!(rows, expected, "{}", file.path);
        // Ids are 1, 2, 3... in order; every query names contract metrics
        // only, for the chosen service.
        for (i, panel) in panels.iter().enumerate() {
            assert_eq!(panel["id"], i + 1, "{}", file.path);
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap();
                assert!(expr.contains("service=\"$service\""), "{expr}");
                let names = metric_names(expr);
                assert!(!names.is_empty(), "{expr}");
                for name in names {
                    assert!(CONTRACT_METRICS.contains(&name.as_str()), "{expr}: {name}");
                }
            }
        }
    }
}

fn promtool(promtool: &Path, args: &[&str], files: &[PathBuf]) -> std::process::Output {
    Command::new(promtool)
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", promtool.display()))
}

#[test]
fn the_golden_rules_pass_promtool_and_a_broken_copy_does_not() {
    let Some(tool) = checker("BISSLOG_TEST_PROMTOOL") else {
        return;
    };
    let rules: Vec<PathBuf> = generated()
        .iter()
        .filter(|f| f.path.ends_with(".rules.yml"))
        .map(|f| golden_dir().join(&f.path))
        .collect();
    let output = promtool(&tool, &["check", "rules"], &rules);
    assert!(
        output.status.success(),
        "promtool check rules:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The check is real: an unbalanced parenthesis fails it.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.rules.yml");
    let text = std::fs::read_to_string(&rules[0]).unwrap();
    std::fs::write(
        &broken,
        text.replacen(
            "sum by (service, use_case) (rate(",
            "sum by (service, use_case) ((rate(",
            1,
        ),
    )
    .unwrap();
    let output = promtool(&tool, &["check", "rules"], &[broken]);
    assert!(
        !output.status.success(),
        "promtool accepted a broken rule file"
    );
}

#[test]
fn the_alerts_fire_on_synthetic_series_as_promtool_tests_them() {
    let Some(tool) = checker("BISSLOG_TEST_PROMTOOL") else {
        return;
    };
    // The unit tests name the golden rule files relative to themselves.
    let dir = manifest_dir().join("tests/monitoring");
    let tests = [dir.join("alerts.test.yml"), dir.join("schedule.test.yml")];
    let output = promtool(&tool, &["test", "rules"], &tests);
    assert!(
        output.status.success(),
        "promtool test rules:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_documented_objectives_table_is_the_one_in_code() {
    use bisslog_codegen::monitoring::objectives::{decimal, objective};
    use bisslog_schema::Criticality;
    let docs = std::fs::read_to_string(manifest_dir().join("../../docs/observability.md")).unwrap();
    for level in Criticality::ALL {
        let o = objective(level);
        let row = format!(
            "| `{}` | {} % | {} | {} s | {} | {} s | {} |",
            level.name(),
            decimal(o.availability_ppm, 10_000),
            decimal(o.error_budget_ppm(), 1_000_000),
            decimal(o.p99_latency_ms, 1000),
            o.latency_for,
            o.backlog_age_seconds,
            o.severity.as_str()
        );
        assert!(
            docs.contains(&row),
            "docs/observability.md lacks the row\n{row}"
        );
    }
}

#[test]
fn the_callers_error_kinds_are_the_ones_answered_with_4xx() {
    use bisslog_codegen::monitoring::objectives::CALLER_ERROR_KINDS;
    let mut four_xx: Vec<String> = bisslog_core::ErrorKind::ALL
        .into_iter()
        .filter(|kind| bisslog_runtime::problem::default_status(*kind).is_client_error())
        .map(|kind| kind.as_str().replace('-', "_"))
        .collect();
    four_xx.sort();
    let mut listed: Vec<&str> = CALLER_ERROR_KINDS.to_vec();
    listed.sort_unstable();
    assert_eq!(four_xx, listed);
}
