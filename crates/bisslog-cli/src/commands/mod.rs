//! One module per subcommand.

pub(crate) mod analyze;
pub(crate) mod api_doc;
pub(crate) mod deploy;
pub(crate) mod diff;
pub(crate) mod docs;
pub(crate) mod drift;
pub(crate) mod lambda;
mod load;
pub(crate) mod monitoring;
pub(crate) mod scaffold;
pub(crate) mod schema;
mod service_crate;
pub(crate) mod validate;

/// "1 error", "2 errors".
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Writes generated `files` under `dir` and lists them (`created`,
/// `updated`, `unchanged`); a file edited since it was generated is
/// refused (exit 2) unless `force`.
pub(crate) fn write_generated(
    files: &[bisslog_codegen::GeneratedFile],
    dir: &std::path::Path,
    force: bool,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> anyhow::Result<crate::Outcome> {
    match bisslog_codegen::write_files(dir, files, force) {
        Ok(written) => {
            for (path, status) in written {
                writeln!(out, "{status:>11} {}", path.display())?;
            }
            Ok(crate::Outcome::Clean)
        }
        Err(error @ bisslog_codegen::WriteError::Edited { .. }) => {
            writeln!(err, "error: {error}")?;
            Ok(crate::Outcome::CouldNotRun)
        }
        Err(error) => Err(error.into()),
    }
}
