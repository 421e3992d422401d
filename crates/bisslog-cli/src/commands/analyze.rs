//! `bisslog analyze`: the summary the Python `bisslog_schema
//! analyze_metadata` command prints, for CI jobs that already parse it,
//! with our located diagnostics as the listed problems and without its
//! dangling sentence on a clean file.

use std::io::Write;

use anyhow::{Context as _, bail};
use bisslog_schema::{Diagnostic, Loader, Report, Severity};

use crate::{AnalyzeArgs, Encoding, Outcome};

const RULE: &str =
    "--------------------------------------------------------------------------------";

pub(crate) fn run(
    args: &AnalyzeArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let path = bisslog_schema::find_metadata(args.path.as_deref())?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let bytes =
        decode(bytes, args.encoding).with_context(|| format!("cannot read {}", path.display()))?;
    let mut loader = Loader::new();
    if let Some(syntax) = args.format_file {
        loader = loader.format(syntax.into());
    }
    let report = loader.validate_bytes(&path, &bytes);
    let summary = Summary::of(&report);
    write_report(&report, &summary, out)?;
    let below_minimum = args.min_warnings.is_some_and(|min| summary.rating() < min);
    Ok(if summary.errors > 0 || below_minimum {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// The file's bytes as UTF-8, as the Python command's `--encoding` reads them.
fn decode(bytes: Vec<u8>, encoding: Encoding) -> anyhow::Result<Vec<u8>> {
    match encoding {
        Encoding::Utf8 => Ok(bytes),
        Encoding::Ascii => {
            if let Some(at) = bytes.iter().position(|b| !b.is_ascii()) {
                bail!("byte {at} is not ASCII");
            }
            Ok(bytes)
        }
        // Latin-1 bytes are the first 256 Unicode code points.
        Encoding::Latin1 => Ok(bytes
            .into_iter()
            .map(char::from)
            .collect::<String>()
            .into_bytes()),
    }
}

struct Summary {
    errors: usize,
    warnings: usize,
    error_checks: usize,
    warning_checks: usize,
}

impl Summary {
    fn of(report: &Report) -> Self {
        let checks = report.checks();
        let errors = report.error_count();
        let warnings = report.warning_count();
        Self {
            errors,
            warnings,
            // A file that could not be parsed was still checked once.
            error_checks: checks.errors.max(errors),
            warning_checks: checks.warnings.max(warnings),
        }
    }

    /// The 0–10 warning rating: the share of warning rules that passed.
    fn rating(&self) -> f64 {
        if self.warning_checks == 0 {
            return 10.0;
        }
        (1.0 - self.warnings as f64 / self.warning_checks as f64) * 10.0
    }
}

fn write_report(report: &Report, summary: &Summary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Report of metadata file service")?;
    writeln!(out, "{RULE}")?;
    for (severity, title) in [
        (Severity::Error, "Errors:"),
        (Severity::Warning, "Warnings:"),
    ] {
        let listed: Vec<&Diagnostic> = report
            .diagnostics()
            .iter()
            .filter(|d| d.severity() == severity)
            .collect();
        if listed.is_empty() {
            continue;
        }
        writeln!(out, "{title}")?;
        for diagnostic in listed {
            writeln!(
                out,
                "{}:{}:{}: {}[{}]: {}",
                report.source().path().display(),
                diagnostic.span.start.line,
                diagnostic.span.start.column,
                diagnostic.severity(),
                diagnostic.code,
                diagnostic.message
            )?;
        }
        writeln!(out, "{RULE}")?;
    }
    writeln!(
        out,
        "Found {} errors of {} and {} warnings of {}.",
        summary.errors, summary.error_checks, summary.warnings, summary.warning_checks
    )?;
    let rating = format_rating(summary.rating());
    let verdict = match (summary.errors, summary.warnings) {
        (0, 0) => format!("is OK for production and has been rated at {rating}/10 on warnings."),
        (0, _) => format!("has been rated at {rating}/10 on warnings."),
        (_, 0) => "is not OK for production because of critical errors.".to_owned(),
        (_, _) => format!(
            "is not OK for production because of critical errors and has been rated at {rating}/10 on warnings."
        ),
    };
    writeln!(out, "Your metadata file {verdict}")
}

/// Two decimals at most, without trailing zeros (`8.33`, `9.5`, `10`), as
/// the Python command prints it.
fn format_rating(rating: f64) -> String {
    let text = format!("{rating:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_print_like_python() {
        assert_eq!(format_rating(10.0), "10");
        assert_eq!(format_rating(9.5), "9.5");
        assert_eq!(format_rating(8.333_333), "8.33");
        assert_eq!(format_rating(0.0), "0");
    }
}
