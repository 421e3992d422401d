//! The OpenAPI and AsyncAPI generators as a user meets them: golden
//! documents for real metadata files (byte-identical run to run), checked
//! by independent validators (`openapi-spec-validator`, `@asyncapi/parser`).

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{checker, load, manifest_dir};

use std::path::{Path, PathBuf};

use bisslog_codegen::{ApiOptions, DocumentFormat, asyncapi, openapi};
use serde_json::Value;

/// The metadata files with golden documents: the conformance files that
/// load (`webhook.yml` has an invalid method, `webhook-wrong.yml` more), the example services, and a fixture written for these generators.
fn cases() -> Vec<(&'static str, PathBuf)> {
    let root = manifest_dir();
    let conformance = root.join("../bisslog-schema/tests/conformance");
    // Copies of the example's metadata: the example changes on its own.
    let example = root.join("tests/fixtures/example-system");
    vec![
        (
            "company-data-registry",
            conformance.join("company-data-registry.yml"),
        ),
        ("user-management", conformance.join("user-management.yml")),
        ("example-registry", example.join("metadata.yml")),
        ("example-audit", example.join("audit.yml")),
        ("api-docs", root.join("tests/fixtures/api-docs.yml")),
    ]
}

fn golden_dir() -> PathBuf {
    manifest_dir().join("tests/golden/api")
}

/// Every generated document of every case: file name and contents.
fn documents() -> Vec<(String, String)> {
    let options = ApiOptions::default();
    let mut out = Vec::new();
    for (name, path) in cases() {
        let service = load(&path);
        let docs = [
            ("openapi", openapi::document(&service, &options)),
            ("asyncapi", asyncapi::document(&service, &options)),
        ];
        for (kind, doc) in docs {
            for (ext, format) in [
                ("json", DocumentFormat::Json),
                ("yaml", DocumentFormat::Yaml),
            ] {
                out.push((format!("{name}.{kind}.{ext}"), format.write(&doc)));
            }
        }
    }
    out
}

#[test]
fn generated_documents_match_the_golden_files() {
    let dir = golden_dir();
    let bless = std::env::var_os("BLESS").is_some();
    for (file, contents) in documents() {
        let path = dir.join(&file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &contents).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing; run with BLESS=1", path.display()));
        assert!(
            expected == contents,
            "{} differs (run with BLESS=1 to accept, then review the diff)",
            path.display()
        );
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    assert_eq!(documents(), documents());
}

fn asyncapi_of(yaml: &str) -> Value {
    let service = bisslog_schema::validate_str("metadata.yml", yaml)
        .into_service()
        .unwrap();
    asyncapi::document(&service, &ApiOptions::default())
}

#[test]
fn a_publisher_sends_on_each_queue_its_operation_names() {
    let doc = asyncapi_of(
        "name: s\nuse_cases:\n  a:\n    external_interactions:\n      - keyname: ev\n        type_interaction: publisher\n        operation: [q.one, q.two, not a queue]\n",
    );
    let channels: Vec<&String> = doc["channels"].as_object().unwrap().keys().collect();
    assert_eq!(channels, ["q.one", "q.two"]);
    assert_eq!(doc["operations"]["a_sends_q.one"]["action"], "send");
    assert_eq!(doc["operations"]["a_sends_q.two"]["x-bisslog-port"], "ev");
}

#[test]
fn a_consumer_and_a_publisher_of_one_queue_share_its_channel() {
    let doc = asyncapi_of(
        "name: s\nuse_cases:\n  pub:\n    external_interactions:\n      - {keyname: ev, type_interaction: publisher, operation: q}\n  sub:\n    triggers:\n      - type: consumer\n        options: {queue: q, mapper: {event.id: id}}\n",
    );
    assert_eq!(doc["channels"].as_object().unwrap().len(), 1);
    let payload = &doc["components"]["messages"]["q.message"]["payload"];
    assert_eq!(
        payload["properties"]["id"]["description"],
        "fills the use case's `id`"
    );
}

fn golden_files(kind: &str) -> Vec<PathBuf> {
    documents()
        .into_iter()
        .filter(|(file, _)| file.contains(kind))
        .map(|(file, _)| golden_dir().join(file))
        .collect()
}

fn run_checker(program: &Path, args: &[&str], files: &[PathBuf]) {
    let output = std::process::Command::new(program)
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()));
    assert!(
        output.status.success(),
        "{} on the golden documents:\n{}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_golden_openapi_documents_pass_openapi_spec_validator() {
    let Some(validator) = checker("BISSLOG_TEST_OPENAPI_VALIDATOR") else {
        return;
    };
    run_checker(&validator, &[], &golden_files(".openapi."));
}

#[test]
fn the_golden_asyncapi_documents_pass_the_asyncapi_parser() {
    let Some(script) = checker("BISSLOG_TEST_ASYNCAPI_CHECK") else {
        return;
    };
    let node = std::env::var("BISSLOG_TEST_NODE").unwrap_or_else(|_| "node".to_owned());
    let script = script.to_string_lossy().into_owned();
    run_checker(
        Path::new(&node),
        &[&script, "--strict"],
        &golden_files(".asyncapi."),
    );
}
