//! Golden files: expected outputs kept in the repository. Run the tests
//! with `BLESS=1` to rewrite them after an intended change, then review
//! the diff.

use std::path::{Path, PathBuf};

use bisslog_schema::{Loader, RenderOptions, Report};

/// The crate's `tests/` directory.
pub(crate) fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Compares `actual` with the golden file, or rewrites it under `BLESS=1`.
pub(crate) fn assert_golden(golden: &Path, actual: &str) {
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(golden, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run the tests with BLESS=1 to create it",
            golden.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .map_or_else(
                || expected.lines().count().min(actual.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "{} differs from the output at line {line}\n--- expected\n{expected}\n--- actual\n{actual}\n(run with BLESS=1 to accept the new output)",
            golden.display()
        );
    }
}

/// Validates a file of the tests directory, naming it by its path relative
/// to that directory so golden output is the same on every machine.
pub(crate) fn validate(relative: &str) -> Report {
    validate_with(Loader::new(), relative)
}

/// [`validate`] with a chosen loader.
pub(crate) fn validate_with(loader: Loader, relative: &str) -> Report {
    let bytes = std::fs::read(tests_dir().join(relative)).unwrap();
    loader.validate_bytes(relative, &bytes)
}

/// The human rendering of a report, as `bisslog validate` prints it.
pub(crate) fn render(report: &Report) -> String {
    bisslog_schema::render_report(report, RenderOptions::default())
}
