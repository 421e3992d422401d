//! `bisslog deploy kubernetes|docker`: container deployment files of a
//! service, from its metadata. A thin layer over `bisslog_codegen::deploy`.

use std::io::Write;
use std::path::{Path, PathBuf};

use bisslog_codegen::deploy::{self, DockerOptions, KubernetesOptions};
use clap::Subcommand;

use super::service_crate::ServiceCrate;
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub(crate) struct DeployArgs {
    #[command(subcommand)]
    command: DeployCommand,
}

#[derive(Debug, Subcommand)]
enum DeployCommand {
    /// Write the Kubernetes manifests of the service: deployment.yaml,
    /// service.yaml, hpa.yaml and pdb.yaml.
    ///
    /// Replicas, the disruption budget and resources follow the service's
    /// criticality (its most critical use case); the termination grace
    /// covers the runner's stop sequence; DATABASE_URL and BROKER_URL,
    /// when the metadata implies them, are files mounted from the Secret
    /// `<name>-secrets`. See docs/deploy.md.
    Kubernetes(KubernetesArgs),
    /// Write a multi-stage Dockerfile that builds the service as a static
    /// (musl) binary and runs it in distroless/static as a non-root user,
    /// and its Dockerfile.dockerignore.
    Docker(DockerArgs),
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The metadata file, or a directory to search (found as `validate`
    /// finds it when omitted).
    metadata: Option<PathBuf>,
    /// The directory to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The port the service listens on (PORT).
    #[arg(long, default_value_t = deploy::DEFAULT_PORT)]
    port: u16,
    /// Replace files even when they were edited since generated.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
struct KubernetesArgs {
    #[command(flatten)]
    common: Common,
    /// The container image (default: `<name>:latest`; pass an immutable
    /// tag or a digest for real deployments).
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// SHUTDOWN_DELAY, in seconds: how long the service keeps serving,
    /// not ready, after SIGTERM while endpoints are removed.
    #[arg(long, value_name = "SECONDS", default_value_t = deploy::DEFAULT_SHUTDOWN_DELAY_SECS)]
    shutdown_delay: u32,
}

#[derive(Debug, clap::Args)]
struct DockerArgs {
    #[command(flatten)]
    common: Common,
    /// The Cargo package of the service's binary (default: the package of
    /// the nearest Cargo.toml at or above the working directory).
    #[arg(long, value_name = "NAME")]
    package: Option<String>,
    /// The binary to build (default: the package's name).
    #[arg(long, value_name = "NAME")]
    binary: Option<String>,
    /// The builder stage's image (default: the `rust` slim image of the
    /// minimum supported Rust version).
    #[arg(long, value_name = "IMAGE")]
    rust_image: Option<String>,
}

pub(crate) fn run(
    args: &DeployArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let common = match &args.command {
        DeployCommand::Kubernetes(args) => &args.common,
        DeployCommand::Docker(args) => &args.common,
    };
    let Some((path, service)) = super::load::one_service(common.metadata.as_deref(), err)? else {
        return Ok(Outcome::Problems);
    };
    let generated = match &args.command {
        DeployCommand::Kubernetes(args) => {
            let image = match &args.image {
                Some(image) => image.clone(),
                None => match deploy::resource_name(&service.name) {
                    Ok(name) => {
                        let image = format!("{name}:latest");
                        writeln!(
                            err,
                            "assumed --image {image} (the service's name; pass an immutable tag \
                             or a digest to deploy)"
                        )?;
                        image
                    }
                    // The generator reports it below.
                    Err(_) => String::new(),
                },
            };
            let mut options = KubernetesOptions::new(image);
            options.port = common.port;
            options.shutdown_delay_secs = args.shutdown_delay;
            deploy::kubernetes(&service, &options)
        }
        DeployCommand::Docker(args) => {
            let Some(package) = package(args, err)? else {
                return Ok(Outcome::CouldNotRun);
            };
            let mut options = DockerOptions::new(package);
            if let Some(binary) = &args.binary {
                options.binary = binary.clone();
            }
            if let Some(image) = &args.rust_image {
                options.rust_image = image.clone();
            }
            options.port = common.port;
            deploy::docker(&service, &options)
        }
    };
    match generated {
        Ok(files) => super::write_generated(&files, &common.out, common.force, out, err),
        Err(error) => {
            writeln!(err, "error: {}: {error}", path.display())?;
            Ok(Outcome::Problems)
        }
    }
}

/// `--package`, or the package of the crate around the working directory
/// (said on `err`); `None` when neither is there (said on `err` too).
fn package(args: &DockerArgs, err: &mut dyn Write) -> anyhow::Result<Option<String>> {
    if let Some(package) = &args.package {
        return Ok(Some(package.clone()));
    }
    match ServiceCrate::find(Path::new(".")) {
        Ok(found) => {
            writeln!(
                err,
                "assumed --package {} (the package of {})",
                found.name,
                found.manifest.display()
            )?;
            Ok(Some(found.name))
        }
        Err(_) => {
            writeln!(
                err,
                "error: no Cargo.toml with a [package] at or above the working directory: \
                 run inside the service's crate, or pass --package"
            )?;
            Ok(None)
        }
    }
}
