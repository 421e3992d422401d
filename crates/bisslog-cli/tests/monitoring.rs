//! `bisslog monitoring` run as a user runs it: the golden files of
//! `bisslog-codegen` written for the example system, a rerun that changes
//! nothing, an edited dashboard refused unless forced, and exit codes.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{bisslog, repo_root, text};

const SYSTEM: [&str; 3] = [
    "crates/bisslog-codegen/tests/fixtures/example-system/metadata.yml",
    "crates/bisslog-codegen/tests/fixtures/example-system/audit.yml",
    "crates/bisslog-codegen/tests/fixtures/example-system/importer.yml",
];

const FILES: [&str; 6] = [
    "company-registry-data.rules.yml",
    "company-registry-data.dashboard.json",
    "company-data-audit.rules.yml",
    "company-data-audit.dashboard.json",
    "company-data-importer.rules.yml",
    "company-data-importer.dashboard.json",
];

#[test]
fn monitoring_writes_the_golden_files_then_changes_nothing_and_keeps_edits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut args = vec!["monitoring"];
    args.extend(SYSTEM);
    args.extend(["--out", out]);
    let output = bisslog(&repo_root(), &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let golden = repo_root().join("crates/bisslog-codegen/tests/golden/monitoring");
    for file in FILES {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(file)).unwrap(),
            std::fs::read_to_string(golden.join(file)).unwrap(),
            "{file}"
        );
    }
    let again = bisslog(&repo_root(), &args);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        text(&again.stdout).matches("unchanged").count(),
        6,
        "{again:?}"
    );

    // A dashboard edited (and saved back from Grafana) is kept.
    let dashboard = dir.path().join(FILES[1]);
    let edited = std::fs::read_to_string(&dashboard)
        .unwrap()
        .replace("\"refresh\": \"1m\"", "\"refresh\": \"5m\"");
    std::fs::write(&dashboard, &edited).unwrap();
    let refused = bisslog(&repo_root(), &args);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(text(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&dashboard).unwrap(), edited);
    args.push("--force");
    assert_eq!(bisslog(&repo_root(), &args).status.code(), Some(0));
    assert!(
        std::fs::read_to_string(&dashboard)
            .unwrap()
            .contains("\"refresh\": \"1m\"")
    );
}

#[test]
fn invalid_metadata_exits_one_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("metadata.yml"), "name: x\nuse_cases: 3\n").unwrap();
    let output = bisslog(dir.path(), &["monitoring", "metadata.yml", "--out", "out"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(text(&output.stderr).contains("nothing generated"));
    assert!(!dir.path().join("out").exists());
}
