//! Reading the metadata file a macro names, at expansion time.

use std::path::{Path, PathBuf};

use bisslog_schema::{Locations, RenderOptions, ServiceMetadata, render_report, validate_str};

/// A metadata file that loaded without errors.
#[derive(Debug)]
pub(crate) struct Metadata {
    /// The path as the macro call wrote it, for messages (`metadata.yml`).
    pub(crate) shown: String,
    /// Where it is on disk, for `include_bytes!` (so cargo rebuilds the
    /// crate when the file changes).
    pub(crate) absolute: PathBuf,
    pub(crate) service: ServiceMetadata,
    pub(crate) locations: Locations,
}

impl Metadata {
    /// `metadata.yml:6:3`: where a keyname is written, for messages.
    pub(crate) fn at(&self, span: Option<bisslog_schema::Span>) -> String {
        match span {
            Some(span) => format!("{}:{}:{}", self.shown, span.start.line, span.start.column),
            None => self.shown.clone(),
        }
    }
}

/// Reads and validates `relative`, a path from the crate's root
/// (`CARGO_MANIFEST_DIR`), the directory `bisslog::app!` reads from too.
/// The error is the whole message of the compile error.
pub(crate) fn read(relative: &str) -> Result<Metadata, String> {
    let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return Err(format!(
            "cannot find `{relative}`: CARGO_MANIFEST_DIR is not set, so the crate's root is unknown (build with cargo)"
        ));
    };
    read_in(Path::new(&root), relative)
}

/// [`read`] from an explicit crate root.
pub(crate) fn read_in(root: &Path, relative: &str) -> Result<Metadata, String> {
    if relative.trim().is_empty() {
        return Err("the metadata path is empty; name the service's metadata file, such as \"metadata.yml\"".to_owned());
    }
    let absolute = root.join(relative);
    let text = std::fs::read_to_string(&absolute).map_err(|error| {
        format!("cannot read the metadata file `{relative}` (paths are relative to the crate's root, where Cargo.toml is): {error}")
    })?;
    let report = validate_str(relative, &text);
    if report.has_errors() {
        let rendered = render_report(&report, RenderOptions { color: false });
        return Err(format!(
            "`{relative}` has {} error(s); fix them, then build again (`bisslog validate {relative}` shows the same):\n\n{}",
            report.error_count(),
            rendered.trim_end()
        ));
    }
    let locations = report.locations().clone();
    match report.into_service() {
        Ok(service) => Ok(Metadata {
            shown: relative.to_owned(),
            absolute,
            service,
            locations,
        }),
        // `has_errors` is false exactly when the service is present.
        Err(_) => Err(format!("`{relative}` could not be loaded")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join(name), text).expect("write the file");
        dir
    }

    #[test]
    fn reads_a_valid_file_with_its_locations() {
        let dir = dir_with(
            "metadata.yml",
            "name: hello\nuse_cases:\n  greet:\n    name: greet\n",
        );
        let metadata = read_in(dir.path(), "metadata.yml").expect("valid");
        assert_eq!(metadata.service.name, "hello");
        let at = metadata.at(metadata.locations.use_case("greet"));
        assert_eq!(at, "metadata.yml:3:3");
        assert_eq!(metadata.absolute, dir.path().join("metadata.yml"));
    }

    #[test]
    fn an_invalid_file_is_the_cli_report() {
        let dir = dir_with(
            "metadata.yml",
            "name: hello\nuse_cases:\n  greet:\n    criticality: urgent\n",
        );
        let message = read_in(dir.path(), "metadata.yml").expect_err("invalid");
        assert!(
            message.starts_with("`metadata.yml` has 1 error(s)"),
            "{message}"
        );
        assert!(message.contains("--> metadata.yml:4:18"), "{message}");
    }

    #[test]
    fn a_missing_file_says_where_paths_start() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let message = read_in(dir.path(), "nope.yml").expect_err("missing");
        assert!(
            message.starts_with("cannot read the metadata file `nope.yml`"),
            "{message}"
        );
        assert!(read_in(dir.path(), " ").is_err());
    }
}
