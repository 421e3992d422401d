//! `bisslog monitoring`: Prometheus alerting rules and a Grafana dashboard
//! per service, from the metadata of one service or a system. A thin
//! layer over `bisslog_codegen::monitoring`.

use std::io::Write;
use std::path::PathBuf;

use bisslog_codegen::monitoring;

use crate::Outcome;

#[derive(Debug, clap::Args)]
pub(crate) struct MonitoringArgs {
    /// Metadata files or directories (searched as `validate` searches
    /// them); the discovered file when none is given.
    paths: Vec<PathBuf>,
    /// The directory to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Replace files even when they were edited since generated.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(
    args: &MonitoringArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let services: Vec<_> = match super::load::all_services(&args.paths, err)? {
        Ok(found) => found.into_iter().map(|(_, service)| service).collect(),
        Err(outcome) => return Ok(outcome),
    };
    let files = match monitoring::generate_system(&services) {
        Ok(files) => files,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(Outcome::Problems);
        }
    };
    super::write_generated(&files, &args.out, args.force, out, err)
}
