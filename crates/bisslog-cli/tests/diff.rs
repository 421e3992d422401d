//! `bisslog diff`, run as a user runs it: golden outputs for fixture
//! pairs (the OLD side is a copy of the company-data-registry example's
//! metadata), exit codes, and directories of services.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{assert_golden, bisslog, stderr, stdout};

use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff")
}

/// (NEW fixture, expected exit code).
const PAIRS: [(&str, i32); 2] = [("new-breaking", 1), ("new-compatible", 0)];

#[test]
fn human_output_is_one_line_per_change_and_a_summary() {
    for (name, code) in PAIRS {
        let output = bisslog(&fixtures(), &["diff", "old.yml", &format!("{name}.yml")]);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{name}: {}",
            stderr(&output)
        );
        assert_golden(&format!("diff-{name}.txt"), &stdout(&output));
    }
}

#[test]
fn json_output_counts_and_lists_every_change() {
    for (name, code) in PAIRS {
        let output = bisslog(
            &fixtures(),
            &[
                "diff",
                "--format",
                "json",
                "old.yml",
                &format!("{name}.yml"),
            ],
        );
        assert_eq!(output.status.code(), Some(code), "{name}");
        let text = stdout(&output);
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        let changes = document["changes"].as_array().unwrap();
        let breaking = changes
            .iter()
            .filter(|c| c["severity"] == "breaking")
            .count();
        assert_eq!(document["breaking"], breaking);
        assert_eq!(breaking > 0, code == 1, "{name}");
        for change in changes {
            for key in ["kind", "severity", "use_case", "detail", "message"] {
                assert!(change.get(key).is_some(), "{name}: {key} missing");
            }
        }
        assert_golden(&format!("diff-{name}.json"), &text);
    }
}

#[test]
fn the_same_file_has_no_changes_and_exits_0() {
    let output = bisslog(&fixtures(), &["diff", "old.yml", "old.yml"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "no changes\n");
    let json = bisslog(
        &fixtures(),
        &["diff", "--format", "json", "old.yml", "old.yml"],
    );
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document["breaking"], 0);
    assert_eq!(document["changes"], serde_json::json!([]));
}

#[test]
fn an_invalid_file_shows_the_validator_report_and_exits_2() {
    let output = bisslog(&fixtures(), &["diff", "old.yml", "new-invalid.yml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(err.contains("error[E031]"), "{err}");
    assert!(err.contains("new-invalid.yml:150:17"), "{err}");
    assert!(err.contains("nothing compared"), "{err}");
}

#[test]
fn a_missing_file_exits_2() {
    let output = bisslog(&fixtures(), &["diff", "old.yml", "absent.yml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("absent.yml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_directory_holding_a_metadata_file_is_that_file() {
    let old = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("old.yml"), old.path().join("metadata.yml")).unwrap();
    let output = bisslog(
        &fixtures(),
        &["diff", old.path().to_str().unwrap(), "new-compatible.yml"],
    );
    assert_eq!(output.status.code(), Some(0));
    let expected = bisslog(&fixtures(), &["diff", "old.yml", "new-compatible.yml"]);
    assert_eq!(stdout(&output), stdout(&expected));
}

fn service_dir(root: &Path, dir: &str, metadata: &str) {
    std::fs::create_dir_all(root.join(dir)).unwrap();
    std::fs::write(root.join(dir).join("metadata.yml"), metadata).unwrap();
}

#[test]
fn directories_of_services_are_matched_by_name() {
    let registry_old = std::fs::read_to_string(fixtures().join("old.yml")).unwrap();
    let registry_new = std::fs::read_to_string(fixtures().join("new-breaking.yml")).unwrap();
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    service_dir(old.path(), "registry", &registry_old);
    service_dir(old.path(), "orders", "name: orders\nuse_cases: {}\n");
    // The directory names differ: services are matched by `name`.
    service_dir(new.path(), "company-registry", &registry_new);
    service_dir(new.path(), "billing", "name: billing\nuse_cases: {}\n");
    let output = bisslog(old.path(), &["diff", ".", new.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "COMPATIBLE service-added            [billing] service `billing`: added\n"
        ),
        "{text}"
    );
    assert!(text.contains("BREAKING   service-removed          [orders] service `orders`: removed with its 0 use cases\n"), "{text}");
    assert!(
        text.contains("[company registry data] use case `get_all_schemas`: removed"),
        "{text}"
    );
    assert!(
        text.ends_with("11 changes: 9 breaking, 2 compatible, 0 notices\n"),
        "{text}"
    );
}

#[test]
fn a_directory_without_metadata_exits_2() {
    let empty = tempfile::tempdir().unwrap();
    let output = bisslog(
        &fixtures(),
        &["diff", empty.path().to_str().unwrap(), "old.yml"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no metadata file found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn two_services_with_one_name_exit_2() {
    let old = tempfile::tempdir().unwrap();
    service_dir(old.path(), "a", "name: orders\nuse_cases: {}\n");
    service_dir(old.path(), "b", "name: orders\nuse_cases: {}\n");
    let output = bisslog(old.path(), &["diff", ".", "."]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("two services in . are named `orders`"),
        "{}",
        stderr(&output)
    );
}

/// The registry's typed OpenAPI document (what `company-data-registry
/// openapi` prints), against a YAML copy with breaking changes.
#[test]
fn openapi_documents_compare_bodies_and_statuses() {
    let output = bisslog(
        &fixtures(),
        &["diff", "openapi-old.json", "openapi-new.yaml"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_golden("diff-openapi.txt", &stdout(&output));
    let json = bisslog(
        &fixtures(),
        &[
            "diff",
            "--format",
            "json",
            "openapi-old.json",
            "openapi-new.yaml",
        ],
    );
    assert_eq!(json.status.code(), Some(1));
    assert_golden("diff-openapi.json", &stdout(&json));
    let same = bisslog(
        &fixtures(),
        &["diff", "openapi-old.json", "openapi-old.json"],
    );
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(stdout(&same), "no changes\n");
}

#[test]
fn an_openapi_document_and_metadata_cannot_be_compared() {
    let output = bisslog(&fixtures(), &["diff", "old.yml", "openapi-old.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("one side is an OpenAPI document and the other is metadata"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_openapi_2_document_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("swagger.json"),
        r#"{"openapi": "2.0", "paths": {}}"#,
    )
    .unwrap();
    let output = bisslog(
        dir.path(),
        &[
            "diff",
            "swagger.json",
            &fixtures().join("openapi-old.json").display().to_string(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the old document is not an OpenAPI 3 document"),
        "{}",
        stderr(&output)
    );
}
