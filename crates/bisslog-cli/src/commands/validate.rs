//! `bisslog validate`: every problem of every file, located.

use std::io::Write;
use std::path::PathBuf;

use bisslog_schema::{Diagnostic, LoadError, Loader, RenderOptions, Report};
use serde::Serialize;

use super::plural;
use crate::{Outcome, OutputFormat, ValidateArgs};

pub(crate) fn run(
    args: &ValidateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let mut loader = Loader::new();
    if let Some(syntax) = args.syntax {
        loader = loader.format(syntax.into());
    }
    let mut reports = Vec::new();
    let mut failed = false;
    for target in targets(&args.paths) {
        match target.and_then(|path| loader.validate_file(path)) {
            Ok(report) => reports.push(report),
            Err(error) => {
                writeln!(err, "error: {error}")?;
                failed = true;
            }
        }
    }
    // What no file shows alone: a queue two of the services consume as a
    // command, or declare with two kinds.
    bisslog_schema::check_across(&mut reports);
    match args.format {
        OutputFormat::Human => human(&reports, args.color.enabled(), out)?,
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &JsonOutput::new(&reports))?;
            writeln!(out)?;
        }
    }
    let errors: usize = reports.iter().map(Report::error_count).sum();
    let warnings: usize = reports.iter().map(Report::warning_count).sum();
    Ok(if failed {
        Outcome::CouldNotRun
    } else if errors > 0 || (args.deny_warnings && warnings > 0) {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// The files to check: each path (a directory is searched for the default
/// names), or the discovered file when none is given.
pub(crate) fn targets(paths: &[PathBuf]) -> Vec<Result<PathBuf, LoadError>> {
    if paths.is_empty() {
        return vec![bisslog_schema::find_metadata(None)];
    }
    paths
        .iter()
        .map(|path| {
            if path.is_dir() {
                bisslog_schema::find_metadata_in(path)
            } else {
                Ok(path.clone())
            }
        })
        .collect()
}

fn human(reports: &[Report], color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let options = RenderOptions { color };
    for report in reports {
        out.write_all(bisslog_schema::render_report(report, options).as_bytes())?;
    }
    for report in reports {
        writeln!(out, "{}", file_summary(report))?;
    }
    if reports.len() > 1 {
        let errors: usize = reports.iter().map(Report::error_count).sum();
        let warnings: usize = reports.iter().map(Report::warning_count).sum();
        writeln!(
            out,
            "{}: {}, {}",
            plural(reports.len(), "file"),
            plural(errors, "error"),
            plural(warnings, "warning")
        )?;
    }
    Ok(())
}

/// `path: 2 errors, 1 warning` or `path: valid, 10 use cases`.
fn file_summary(report: &Report) -> String {
    let path = report.source().path().display();
    match report.service() {
        Some(service) => {
            let use_cases = plural(service.use_cases.len(), "use case");
            match report.warning_count() {
                0 => format!("{path}: valid, {use_cases}"),
                n => format!("{path}: valid with {}, {use_cases}", plural(n, "warning")),
            }
        }
        None => format!(
            "{path}: {}, {}",
            plural(report.error_count(), "error"),
            plural(report.warning_count(), "warning")
        ),
    }
}

/// The `--format json` document.
#[derive(Serialize)]
struct JsonOutput<'a> {
    files: Vec<JsonFile<'a>>,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: String,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: bisslog_schema::Severity,
    code: bisslog_schema::Code,
    message: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    hint: Option<&'a str>,
}

impl<'a> JsonOutput<'a> {
    fn new(reports: &'a [Report]) -> Self {
        let files = reports
            .iter()
            .map(|report| JsonFile {
                path: report.source().path().display().to_string(),
                errors: report.error_count(),
                warnings: report.warning_count(),
                diagnostics: report
                    .diagnostics()
                    .iter()
                    .map(JsonDiagnostic::from)
                    .collect(),
            })
            .collect();
        Self { files }
    }
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        Self {
            severity: d.severity(),
            code: d.code,
            message: &d.message,
            line: d.span.start.line,
            column: d.span.start.column,
            end_line: d.span.end.line,
            end_column: d.span.end.column,
            hint: d.hint.as_deref(),
        }
    }
}
