//! What the generators' test binaries share: loading metadata, and the
//! independent checkers (cfn-lint, kubernetes-validate, hadolint,
//! promtool...) named by environment variables.

// Each test binary uses a part of this module.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bisslog_codegen::{GeneratedFile, write_files};
use bisslog_schema::ServiceMetadata;

/// This crate's directory.
pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The valid service in the metadata file at `path`.
pub(crate) fn load(path: &Path) -> ServiceMetadata {
    bisslog_schema::validate_file(path)
        .unwrap()
        .into_service()
        .unwrap_or_else(|report| panic!("{} does not load: {report:?}", path.display()))
}

/// The valid service in `yaml`.
pub(crate) fn service_from(yaml: &str) -> ServiceMetadata {
    bisslog_schema::validate_str("metadata.yml", yaml)
        .into_service()
        .unwrap()
}

/// The checker program `variable` names; `None` (the test says it skips)
/// when unset, and a failure under `CI=true`, where `.ci/run` sets it.
pub(crate) fn checker(variable: &str) -> Option<PathBuf> {
    checker_or(variable, None)
}

/// As [`checker`], with a program to use when `variable` is unset.
pub(crate) fn checker_or(variable: &str, fallback: Option<&str>) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    if let Some(program) = fallback {
        return Some(PathBuf::from(program));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{variable} is not set: under CI=true this check must run (.ci/run sets it)"
    );
    eprintln!("skipping: set {variable} to run this check");
    None
}

/// Compares `files` with the golden files under `dir` (`BLESS=1` writes
/// them instead, over what is there).
pub(crate) fn assert_golden_files(dir: &Path, files: &[GeneratedFile]) {
    if std::env::var_os("BLESS").is_some() {
        write_files(dir, files, true).unwrap();
        return;
    }
    for file in files {
        let path = dir.join(&file.path);
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing; run with BLESS=1", path.display()));
        assert_eq!(
            expected,
            file.contents,
            "{} differs (run with BLESS=1 to accept, then review the diff)",
            path.display()
        );
    }
}
