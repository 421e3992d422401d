//! `bisslog monitoring`: Prometheus alerting rules and a Grafana dashboard
//! per service, from the metadata of one service or a system. A thin
//! layer over `bisslog_codegen::monitoring`.

use std::io::Write;
use std::path::PathBuf;

use bisslog_codegen::monitoring;
use bisslog_schema::Loader;

use super::plural;
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
        match super::load::valid_service(report, "", err)? {
            Some(service) => services.push(service),
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
    let files = match monitoring::generate_system(&services) {
        Ok(files) => files,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(Outcome::Problems);
        }
    };
    super::write_generated(&files, &args.out, args.force, out, err)
}
