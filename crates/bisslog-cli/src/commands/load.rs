//! The start every generating command shares: find the metadata file,
//! validate it, show its diagnostics, and go on only with a valid service.

use std::io::Write;
use std::path::{Path, PathBuf};

use bisslog_schema::{Loader, RenderOptions, Report, ServiceMetadata};

use super::plural;

/// The metadata file a command names: `given` itself, the one found in
/// the directory `given`, or the one discovered from the working
/// directory when it is `None`.
pub(crate) fn metadata_path(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    Ok(match given {
        Some(dir) if dir.is_dir() => bisslog_schema::find_metadata_in(dir)?,
        other => bisslog_schema::find_metadata(other)?,
    })
}

/// Writes `report`'s diagnostics (errors and warnings) to `err`, when it
/// has any.
pub(crate) fn show_diagnostics(report: &Report, err: &mut dyn Write) -> std::io::Result<()> {
    if report.error_count() > 0 || report.warning_count() > 0 {
        let rendered = bisslog_schema::render_report(report, RenderOptions { color: false });
        err.write_all(rendered.as_bytes())?;
    }
    Ok(())
}

/// The valid service in `report`, after its diagnostics are shown; `None`
/// (after saying "PATH has N errors" and `consequence`) when it is not
/// valid.
pub(crate) fn valid_service(
    report: Report,
    consequence: &str,
    err: &mut dyn Write,
) -> std::io::Result<Option<ServiceMetadata>> {
    show_diagnostics(&report, err)?;
    let path = report.source().path().display().to_string();
    match report.into_service() {
        Ok(service) => Ok(Some(service)),
        Err(report) => {
            writeln!(
                err,
                "error: {path} has {}{consequence}",
                plural(report.error_count(), "error")
            )?;
            Ok(None)
        }
    }
}

/// The one service a generating command works on: found, validated and
/// shown as [`valid_service`] does, with "nothing generated" when invalid.
pub(crate) fn one_service(
    given: Option<&Path>,
    err: &mut dyn Write,
) -> anyhow::Result<Option<(PathBuf, ServiceMetadata)>> {
    let path = metadata_path(given)?;
    let report = Loader::new().validate_file(&path)?;
    Ok(valid_service(report, "; nothing generated", err)?.map(|service| (path, service)))
}

/// Every valid service among `paths` (found as `validate` finds them), each
/// with the path it was read from, for a command that generates from
/// several; or the outcome to stop with after the problems are shown: a
/// path that cannot be read (exit 2), invalid metadata (exit 1, "nothing
/// generated").
pub(crate) fn all_services(
    paths: &[PathBuf],
    err: &mut dyn Write,
) -> anyhow::Result<Result<Vec<(String, ServiceMetadata)>, crate::Outcome>> {
    let loader = Loader::new();
    let mut services = Vec::new();
    let mut invalid = 0;
    let mut failed = false;
    for target in super::validate::targets(paths) {
        let report = match target.and_then(|path| loader.validate_file(path)) {
            Ok(report) => report,
            Err(error) => {
                writeln!(err, "error: {error}")?;
                failed = true;
                continue;
            }
        };
        let path = report.source().path().display().to_string();
        match valid_service(report, "", err)? {
            Some(service) => services.push((path, service)),
            None => invalid += 1,
        }
    }
    if failed {
        return Ok(Err(crate::Outcome::CouldNotRun));
    }
    if invalid > 0 {
        writeln!(
            err,
            "error: {} invalid; nothing generated",
            plural(invalid, "metadata file")
        )?;
        return Ok(Err(crate::Outcome::Problems));
    }
    Ok(Ok(services))
}
