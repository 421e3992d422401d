//! The compile errors of `service!` and `keynames!`, one case each with
//! its expected message (`tests/ui/fail/*.stderr`), and a case that
//! compiles and runs. `TRYBUILD=overwrite cargo test -p bisslog-macros
//! --test ui` rewrites the expected messages after a deliberate change.

use std::path::{Path, PathBuf};

/// trybuild compiles the cases as a crate of its own in
/// `<target>/tests/trybuild/bisslog-macros`, which is therefore the
/// `CARGO_MANIFEST_DIR` the macros resolve paths against; the metadata
/// files the cases name are copied there.
fn trybuild_crate_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp.parent().unwrap_or(tmp);
    target
        .join("tests")
        .join("trybuild")
        .join(env!("CARGO_PKG_NAME"))
}

fn copy_metadata(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/metadata");
    let to = to.join("metadata");
    std::fs::create_dir_all(&to).expect("create the cases' metadata directory");
    for entry in std::fs::read_dir(&from).expect("read tests/ui/metadata") {
        let path = entry.expect("a directory entry").path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, to.join(name)).expect("copy a metadata file");
        }
    }
}

#[test]
fn compile_errors_name_the_metadata_file_and_line() {
    copy_metadata(&trybuild_crate_dir());
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
