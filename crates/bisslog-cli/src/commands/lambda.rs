//! `bisslog lambda generate`: the AWS SAM layout of a service, from its
//! metadata. A thin layer over `bisslog_codegen::lambda`.

use std::io::Write;
use std::path::{Path, PathBuf};

use bisslog_codegen::lambda::{self, Architecture, BisslogDependency, HttpApi, LambdaOptions};
use clap::{Subcommand, ValueEnum};

use super::service_crate::ServiceCrate;
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub(crate) struct LambdaArgs {
    #[command(subcommand)]
    command: LambdaCommand,
}

#[derive(Debug, Subcommand)]
enum LambdaCommand {
    /// Write an AWS SAM template, the `bootstrap` crate and a README that
    /// deploy the service on AWS Lambda.
    ///
    /// Files are replaced only when they are unchanged since they were
    /// generated (their header holds a checksum); an edited file is refused
    /// unless --force.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// The metadata file, or a directory to search (found as `validate`
    /// finds it when omitted).
    metadata: Option<PathBuf>,
    /// The directory to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The service crate's package name (default: the package of the
    /// nearest Cargo.toml at or above the working directory).
    #[arg(long, value_name = "NAME")]
    crate_name: Option<String>,
    /// The service crate's directory, relative to DIR/bootstrap (default:
    /// that package's directory).
    #[arg(long, value_name = "PATH")]
    crate_path: Option<String>,
    /// The async function building the service (default:
    /// `<crate>::lambda_service`).
    #[arg(long, value_name = "RUST_PATH")]
    setup: Option<String>,
    /// Depend on `bisslog` at this path, relative to DIR/bootstrap.
    #[arg(long, value_name = "PATH", conflicts_with = "bisslog_version")]
    bisslog_path: Option<String>,
    /// Depend on this version of `bisslog` (default: this CLI's version).
    #[arg(long, value_name = "VERSION")]
    bisslog_version: Option<String>,
    /// Which API Gateway serves the HTTP triggers.
    #[arg(long, value_enum, default_value_t = HttpApiArg::Http)]
    http_api: HttpApiArg,
    /// The function's processor architecture.
    #[arg(long, value_enum, default_value_t = ArchArg::Arm64)]
    arch: ArchArg,
    /// This consumed queue is an SNS topic (repeatable).
    #[arg(long = "sns", value_name = "QUEUE")]
    sns: Vec<String>,
    /// This consumed queue is an EventBridge detail-type (repeatable).
    #[arg(long = "eventbridge", value_name = "QUEUE")]
    eventbridge: Vec<String>,
    /// Give the bootstrap crate an empty `[workspace]` table, so it builds
    /// on its own inside another workspace's directory.
    #[arg(long)]
    standalone_workspace: bool,
    /// Replace files even when they were edited since generated.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HttpApiArg {
    /// An HTTP API (API Gateway v2).
    Http,
    /// A REST API (API Gateway v1).
    Rest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ArchArg {
    /// AWS Graviton.
    Arm64,
    /// Intel/AMD.
    #[value(name = "x86_64")]
    X86_64,
}

pub(crate) fn run(
    args: &LambdaArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let LambdaCommand::Generate(args) = &args.command;
    let Some((path, service)) = super::load::one_service(args.metadata.as_deref(), err)? else {
        return Ok(Outcome::Problems);
    };
    let options = match options(args, err)? {
        Some(options) => options,
        None => return Ok(Outcome::CouldNotRun),
    };
    let files = match lambda::generate(&service, &options) {
        Ok(files) => files,
        Err(error) => {
            writeln!(err, "error: {}: {error}", path.display())?;
            return Ok(Outcome::Problems);
        }
    };
    super::write_generated(&files, &args.out, args.force, out, err)
}

/// The options, with what was not given assumed from the service crate
/// around the working directory (and said on `err`); `None` when it is
/// needed and cannot be found (said on `err` too).
fn options(args: &GenerateArgs, err: &mut dyn Write) -> anyhow::Result<Option<LambdaOptions>> {
    let (crate_name, crate_path, setup) = match (&args.crate_name, &args.crate_path, &args.setup) {
        (Some(name), Some(path), Some(setup)) => (name.clone(), path.clone(), setup.clone()),
        (name, path, setup) => {
            let found = match ServiceCrate::find(Path::new(".")) {
                Ok(found) => found,
                Err(error) => {
                    writeln!(err, "error: {error:#}")?;
                    return Ok(None);
                }
            };
            let name = name.clone().unwrap_or_else(|| {
                let _ = writeln!(
                    err,
                    "assumed --crate-name {} (the package of {})",
                    found.name,
                    found.manifest.display()
                );
                found.name.clone()
            });
            let path = match path {
                Some(path) => path.clone(),
                None => {
                    let path = found.path_from(&args.out.join("bootstrap"))?;
                    writeln!(
                        err,
                        "assumed --crate-path {path} (its directory, from {}/bootstrap)",
                        args.out.display()
                    )?;
                    path
                }
            };
            let setup = setup.clone().unwrap_or_else(|| {
                let setup = found.setup();
                let _ = writeln!(
                    err,
                    "assumed --setup {setup} (the convention: an async fn lambda_service in the crate's library)"
                );
                setup
            });
            (name, path, setup)
        }
    };
    let mut options = LambdaOptions::new(crate_name, crate_path, setup);
    if let Some(path) = &args.bisslog_path {
        options.bisslog = BisslogDependency::Path(path.clone());
    }
    if let Some(version) = &args.bisslog_version {
        options.bisslog = BisslogDependency::Version(version.clone());
    }
    options.http_api = match args.http_api {
        HttpApiArg::Http => HttpApi::Http,
        HttpApiArg::Rest => HttpApi::Rest,
    };
    options.architecture = match args.arch {
        ArchArg::Arm64 => Architecture::Arm64,
        ArchArg::X86_64 => Architecture::X86_64,
    };
    options.sns_queues = args.sns.clone();
    options.eventbridge_queues = args.eventbridge.clone();
    options.standalone_workspace = args.standalone_workspace;
    Ok(Some(options))
}
