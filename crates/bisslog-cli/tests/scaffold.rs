//! `bisslog new` and `bisslog generate` as users run them, without
//! compiling what they write (`scaffold_e2e.rs` does): the listing, the
//! refusals that write nothing, and `generate` keeping an edited file.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{assert_golden, bisslog, stderr, stdout};

use std::path::{Path, PathBuf};

fn conformance(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bisslog-schema/tests/conformance")
        .join(name)
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn new_lists_what_it_wrote_and_the_next_commands() {
    let parent = tempfile::tempdir().unwrap();
    let output = bisslog(parent.path(), &["new", "greeter"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_golden("new-starter.txt", &stdout(&output));
    let dir = parent.path().join("greeter");
    // The default depends on the published crates, and copies no lock file.
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(r#"bisslog = { version = "0.1", features = ["sql"] }"#));
    assert!(!dir.join("Cargo.lock").exists());
    // The written metadata is valid.
    let validate = bisslog(&dir, &["validate", "--deny-warnings"]);
    assert_eq!(validate.status.code(), Some(0), "{}", stdout(&validate));
}

#[test]
fn a_framework_path_is_written_relative_to_each_crate_and_its_lock_copied() {
    let parent = tempfile::tempdir().unwrap();
    let framework = parent.path().join("framework");
    std::fs::create_dir(&framework).unwrap();
    std::fs::write(framework.join("Cargo.lock"), "version = 4\n").unwrap();
    let output = bisslog(
        parent.path(),
        &["new", "svc", "--bisslog-path", "../framework"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dir = parent.path().join("svc");
    let root = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        root.contains(r#"bisslog = { path = "../framework/crates/bisslog", features = ["sql"] }"#),
        "{root}"
    );
    let domain = std::fs::read_to_string(dir.join("domain/Cargo.toml")).unwrap();
    assert!(
        domain.contains(r#"bisslog-core = { path = "../../framework/crates/bisslog-core" }"#),
        "{domain}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("Cargo.lock")).unwrap(),
        "version = 4\n"
    );
}

#[test]
fn refusals_exit_2_and_write_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let invalid_name = bisslog(parent.path(), &["new", "9lives"]);
    assert_eq!(invalid_name.status.code(), Some(2));
    assert!(stderr(&invalid_name).contains("`9lives` cannot name the service's crate"));

    let wrong = conformance("webhook-wrong.yml");
    let invalid = bisslog(
        parent.path(),
        &["new", "hooks", "--from", wrong.to_str().unwrap()],
    );
    assert_eq!(invalid.status.code(), Some(2));
    let said = stderr(&invalid);
    assert!(said.contains("error[E"), "{said}");
    assert!(said.contains("errors; nothing written"), "{said}");
    assert!(tree(parent.path()).is_empty(), "{:?}", tree(parent.path()));

    std::fs::create_dir(parent.path().join("taken")).unwrap();
    let exists = bisslog(parent.path(), &["new", "taken"]);
    assert_eq!(exists.status.code(), Some(2));
    assert!(stderr(&exists).contains("already exists"));
    assert!(tree(&parent.path().join("taken")).is_empty());
}

#[test]
fn new_from_metadata_copies_it_and_stubs_every_use_case() {
    let parent = tempfile::tempdir().unwrap();
    let from = conformance("company-data-registry.yml");
    let output = bisslog(
        parent.path(),
        &["new", "registry", "--from", from.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dir = parent.path().join("registry");
    assert_eq!(
        std::fs::read(dir.join("metadata.yml")).unwrap(),
        std::fs::read(&from).unwrap()
    );
    let files = tree(&dir);
    for module in ["insert_company_data", "delete_all_inactive_schema_version"] {
        assert!(
            files.contains(&format!("domain/src/use_cases/{module}.rs")),
            "{files:?}"
        );
        assert!(
            files.contains(&format!("tests/use_cases/{module}.rs")),
            "{files:?}"
        );
    }
}

#[test]
fn generate_adds_what_the_metadata_declares_and_keeps_edited_files() {
    let parent = tempfile::tempdir().unwrap();
    let from = conformance("user-management.yml");
    let output = bisslog(
        parent.path(),
        &["new", "users", "--from", from.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dir = parent.path().join("users");

    let again = bisslog(&dir, &["generate"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(stdout(&again), "25 unchanged\n");

    let edited = dir.join("domain/src/use_cases/get_user.rs");
    let text = format!("{}// mine\n", std::fs::read_to_string(&edited).unwrap());
    std::fs::write(&edited, &text).unwrap();
    let mut metadata = std::fs::read_to_string(dir.join("metadata.yml")).unwrap();
    metadata.push_str(
        "
  resetPassword:
    triggers: [{type: http, options: {method: post, path: '/reset/{user_id}'}}]
    external_interactions: [{keyname: mailer, operation: send_link}]
",
    );
    std::fs::write(dir.join("metadata.yml"), metadata).unwrap();
    let output = bisslog(parent.path(), &["generate", "users"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_golden("generate-added-use-case.txt", &stdout(&output));
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), text);
}

#[test]
fn generate_outside_a_workspace_says_so() {
    let parent = tempfile::tempdir().unwrap();
    let output = bisslog(parent.path(), &["generate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("Cargo.toml"),
        "{}",
        stderr(&output)
    );
}
