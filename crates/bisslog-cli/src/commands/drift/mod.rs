//! `bisslog drift METADATA --observed DIR | --from URL`: the metadata
//! against what the service was seen doing. Per use case, the interactions
//! it calls without declaring them (exit 1, for CI) and those it declares
//! but was never seen calling.

mod fetch;
mod observations;
mod report;

use std::io::Write;
use std::path::PathBuf;

use bisslog_schema::Loader;

use super::plural;
use crate::{Outcome, OutputFormat};
use observations::ReadError;
use report::Report;

/// Where a service's HTTP server serves its observations
/// (`bisslog_http::OBSERVED_INTERACTIONS_PATH`; tests/drift.rs reads a
/// real server's).
pub(crate) const OBSERVED_INTERACTIONS_PATH: &str = "/interactions/observed";

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("observations")
        .required(true)
        .args(["observed", "from"])
))]
pub(crate) struct DriftArgs {
    /// The metadata file (found as `validate` finds it when omitted; a
    /// directory is searched for it).
    metadata: Option<PathBuf>,
    /// What a test run observed: the directory named by
    /// BISSLOG_OBSERVED_INTERACTIONS (every `*.json` in it, merged), or one
    /// observation document.
    #[arg(long, value_name = "DIR|FILE")]
    observed: Option<PathBuf>,
    /// What a running service observed: its base URL
    /// (http://127.0.0.1:8080); GET /interactions/observed is read.
    #[arg(long, value_name = "URL")]
    from: Option<String>,
    /// Output format (`text` is another name for `human`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

pub(crate) fn run(
    args: &DriftArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let path = super::load::metadata_path(args.metadata.as_deref())?;
    let report = match Loader::new().validate_file(&path) {
        Ok(report) => report,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(Outcome::CouldNotRun);
        }
    };
    let Some(metadata) = super::load::valid_service(report, "; nothing compared", err)? else {
        return Ok(Outcome::CouldNotRun);
    };
    let read = match (&args.observed, &args.from) {
        (Some(path), _) => observations::read_path(path),
        (None, Some(url)) => observations::read_url(url),
        // clap requires one of them.
        (None, None) => return Ok(Outcome::CouldNotRun),
    };
    let (documents, source) = match read {
        Ok(read) => read,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            if let ReadError::Fetch(fetch::FetchError::Status { status: 404, .. }) = error {
                writeln!(
                    err,
                    "hint: the service does not serve {OBSERVED_INTERACTIONS_PATH}: it is off with BISSLOG_METRICS=false (or HttpServerBuilder::observed_interactions_endpoint(false))"
                )?;
            }
            return Ok(Outcome::CouldNotRun);
        }
    };
    let Some(observed) = documents.iter().find(|d| d.service == metadata.name) else {
        let found: Vec<String> = documents
            .iter()
            .map(|d| format!("`{}`", d.service))
            .collect();
        writeln!(
            err,
            "error: no observations of service `{}` in {source}; {}",
            metadata.name,
            if found.is_empty() {
                "it holds none: were the tests run with BISSLOG_OBSERVED_INTERACTIONS set to it?"
                    .to_owned()
            } else {
                format!("it holds {}", found.join(", "))
            }
        )?;
        return Ok(Outcome::CouldNotRun);
    };
    let report = report::compare(&metadata, observed);
    match args.format {
        OutputFormat::Human => human(&report, &source, out)?,
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
    }
    Ok(if report.undeclared > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

fn human(
    report: &Report,
    source: &observations::Source,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for use_case in &report.use_cases {
        let name = if use_case.in_metadata {
            format!("use case `{}`", use_case.use_case)
        } else {
            format!("use case `{}` (not in the metadata)", use_case.use_case)
        };
        for interaction in &use_case.undeclared {
            writeln!(
                out,
                "UNDECLARED  {name} calls `{interaction}` without declaring it"
            )?;
        }
        for interaction in &use_case.never_used {
            writeln!(
                out,
                "NEVER-USED  {name} declares `{interaction}`, never seen called"
            )?;
        }
    }
    let service = &report.service;
    if report.undeclared == 0 && report.never_used == 0 {
        writeln!(out, "service `{service}`: no drift (observed: {source})")?;
    } else {
        writeln!(
            out,
            "service `{service}`: {}, {} (observed: {source})",
            plural(report.undeclared, "undeclared use"),
            plural(report.never_used, "unused declaration"),
        )?;
    }
    if report.never_used > 0 {
        writeln!(out, "note: {}", report::NOTE)?;
    }
    Ok(())
}
