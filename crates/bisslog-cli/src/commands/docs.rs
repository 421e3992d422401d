//! `bisslog docs`: a static catalog site of one or more services. A thin
//! layer over `bisslog_codegen::docs`.

use std::io::Write;
use std::path::PathBuf;

use bisslog_codegen::docs::{self, DocsFormat, DocsService};
use bisslog_schema::Loader;
use clap::ValueEnum;

use super::plural;
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub(crate) struct DocsArgs {
    /// Metadata files or directories (searched as `validate` searches
    /// them); the discovered file when none is given.
    paths: Vec<PathBuf>,
    /// The directory to write the site into (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// HTML pages with SVG diagrams, or Markdown with Mermaid diagrams.
    #[arg(long, value_enum, default_value_t = DocsFormatArg::Html)]
    format: DocsFormatArg,
    /// Replace files even when they were edited since generated.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DocsFormatArg {
    /// HTML pages, a stylesheet and a search script.
    Html,
    /// Markdown pages with ```mermaid blocks.
    Markdown,
}

pub(crate) fn run(
    args: &DocsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let loader = Loader::new();
    let mut services = Vec::new();
    let mut invalid = 0;
    let mut failed = false;
    for target in super::validate::targets(&args.paths) {
        let report = match target.and_then(|path| loader.validate_file(path)) {
            Ok(report) => report,
            Err(error) => {
                writeln!(err, "error: {error}")?;
                failed = true;
                continue;
            }
        };
        let path = report.source().path().display().to_string();
        match super::load::valid_service(report, "", err)? {
            Some(service) => services.push(DocsService::new(path, service)),
            None => invalid += 1,
        }
    }
    if failed {
        return Ok(Outcome::CouldNotRun);
    }
    if invalid > 0 {
        writeln!(
            err,
            "error: {} invalid; nothing generated",
            plural(invalid, "metadata file")
        )?;
        return Ok(Outcome::Problems);
    }
    let format = match args.format {
        DocsFormatArg::Html => DocsFormat::Html,
        DocsFormatArg::Markdown => DocsFormat::Markdown,
    };
    let files = docs::generate(&services, format)?;
    super::write_generated(&files, &args.out, args.force, out, err)
}
