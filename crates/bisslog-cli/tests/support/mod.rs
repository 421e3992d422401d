//! What the CLI's test binaries share: running `bisslog` as a user runs
//! it, reading its output, and golden files.

// Each test binary uses a part of this module.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `bisslog` in `dir` without colour or inherited discovery settings.
pub(crate) fn bisslog(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bisslog"))
        .args(args)
        .current_dir(dir)
        .env_remove("SERVICE_METADATA_PATH")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Standard output, as text.
pub(crate) fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

/// Standard error, as text.
pub(crate) fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

/// UTF-8 bytes as text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Compares `actual` with `tests/golden/NAME` (`BLESS=1` rewrites it).
pub(crate) fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with BLESS=1", path.display()));
    assert_eq!(
        expected,
        actual,
        "{} differs (run with BLESS=1 to accept)",
        path.display()
    );
}
