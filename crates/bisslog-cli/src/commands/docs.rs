//! `bisslog docs`: a static catalog site of one or more services. A thin
//! layer over `bisslog_codegen::docs`.

use std::io::Write;
use std::path::PathBuf;

use bisslog_codegen::docs::{self, DocsFormat, DocsService};
use clap::ValueEnum;

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
    let services = match super::load::all_services(&args.paths, err)? {
        Ok(found) => found
            .into_iter()
            .map(|(path, service)| DocsService::new(path, service))
            .collect::<Vec<_>>(),
        Err(outcome) => return Ok(outcome),
    };
    let format = match args.format {
        DocsFormatArg::Html => DocsFormat::Html,
        DocsFormatArg::Markdown => DocsFormat::Markdown,
    };
    let files = docs::generate(&services, format)?;
    super::write_generated(&files, &args.out, args.force, out, err)
}
