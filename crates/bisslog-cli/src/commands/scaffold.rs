//! `bisslog new` and `bisslog generate`: a new service's workspace, and
//! what its metadata adds to it later. A thin layer over
//! `bisslog_codegen::scaffold`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bisslog_codegen::scaffold::{self, FrameworkSource, ScaffoldOptions};
use bisslog_codegen::{GeneratedFile, WriteStatus, write_files, write_files_keeping_edited};
use bisslog_schema::Loader;
use serde::Deserialize;

use crate::Outcome;

#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The directory to create; its last component names the service's
    /// crate (`orders` → crates `orders` and `orders-domain`).
    dir: PathBuf,
    /// Generate a use case (a stub answering NotSupported until written)
    /// for every use case of this metadata file, which is copied as it is.
    /// Without it, a starter service with one working use case.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// Depend on the framework's checkout at this path (the directory with
    /// `crates/bisslog`), absolute or relative to the new directory, and
    /// start from its Cargo.lock.
    #[arg(long, value_name = "PATH", conflicts_with = "bisslog_version")]
    bisslog_path: Option<String>,
    /// Depend on this version of `bisslog` on crates.io (default: 0.1).
    #[arg(long, value_name = "VERSION")]
    bisslog_version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GenerateArgs {
    /// The workspace made by `bisslog new` (default: the working directory).
    dir: Option<PathBuf>,
    /// The metadata file (default: the one found in the workspace, as
    /// `validate` finds it).
    #[arg(long, value_name = "FILE")]
    metadata: Option<PathBuf>,
}

/// The default `bisslog` version requirement of a new workspace.
const DEFAULT_VERSION: &str = "0.1";

pub(crate) fn new(
    args: &NewArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let Some(name) = args.dir.file_name().and_then(|n| n.to_str()) else {
        writeln!(err, "error: {} names no directory", args.dir.display())?;
        return Ok(Outcome::CouldNotRun);
    };
    let framework = match (&args.bisslog_path, &args.bisslog_version) {
        (Some(path), _) => FrameworkSource::Path(path.clone()),
        (None, Some(version)) => FrameworkSource::Version(version.clone()),
        (None, None) => FrameworkSource::Version(DEFAULT_VERSION.to_owned()),
    };
    let mut options = match ScaffoldOptions::new(name, framework) {
        Ok(options) => options,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(Outcome::CouldNotRun);
        }
    };
    if args.dir.exists() {
        writeln!(
            err,
            "error: {} already exists; `bisslog new` creates a new directory (in an existing workspace, run `bisslog generate`)",
            args.dir.display()
        )?;
        return Ok(Outcome::CouldNotRun);
    }
    let files = match &args.from {
        None => scaffold::starter(&options)?,
        Some(from) => {
            let report = Loader::new().validate_file(from)?;
            let Some(service) = super::load::valid_service(report, "; nothing written", err)?
            else {
                return Ok(Outcome::CouldNotRun);
            };
            let json = from
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            options.metadata_file = if json {
                "metadata.json"
            } else {
                "metadata.yml"
            }
            .to_owned();
            // The metadata is the owner's: copied byte for byte, with its
            // comments, never stamped.
            let text = std::fs::read_to_string(from)
                .with_context(|| format!("cannot read {}", from.display()))?;
            let mut files = vec![GeneratedFile {
                path: options.metadata_file.clone(),
                contents: text,
            }];
            files.extend(scaffold::workspace(&service, &options));
            files
        }
    };
    let written = write_files(&args.dir, &files, false)?;
    for (path, status) in &written {
        writeln!(out, "{status} {}", path.display())?;
    }
    if let Some(framework) = &args.bisslog_path {
        copy_lock(&args.dir, framework, out)?;
    }
    writeln!(
        out,
        "\nnext: cd {} && cargo test && cargo run (then curl http://127.0.0.1:8080/health/live)",
        args.dir.display()
    )?;
    Ok(Outcome::Clean)
}

/// Starts the new workspace from the framework's Cargo.lock, when it has
/// one: the workspace then resolves to the versions the framework is built
/// and tested with, and shares their builds in a shared target directory.
fn copy_lock(dir: &Path, framework: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let lock = dir.join(framework).join("Cargo.lock");
    if lock.is_file() {
        let to = dir.join("Cargo.lock");
        std::fs::copy(&lock, &to)
            .with_context(|| format!("cannot copy {} to {}", lock.display(), to.display()))?;
        writeln!(out, "copied {} (from {})", to.display(), lock.display())?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
}

pub(crate) fn generate(
    args: &GenerateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let manifest = dir.join("Cargo.toml");
    let Some(name) = package_name(&manifest)? else {
        writeln!(
            err,
            "error: {} has no [package]: run `bisslog generate` in a workspace made by `bisslog new`",
            manifest.display()
        )?;
        return Ok(Outcome::CouldNotRun);
    };
    let metadata = match &args.metadata {
        Some(path) => path.clone(),
        None => super::load::metadata_path(Some(&dir))?,
    };
    let report = Loader::new().validate_file(&metadata)?;
    let Some(service) = super::load::valid_service(report, "; nothing generated", err)? else {
        return Ok(Outcome::Problems);
    };
    let mut options =
        match ScaffoldOptions::new(&name, FrameworkSource::Version(DEFAULT_VERSION.to_owned())) {
            Ok(options) => options,
            Err(error) => {
                writeln!(err, "error: {}: {error}", manifest.display())?;
                return Ok(Outcome::CouldNotRun);
            }
        };
    // The binary embeds the file by its path in the workspace.
    let embedded = metadata
        .strip_prefix(&dir)
        .ok()
        .or_else(|| metadata.file_name().map(Path::new));
    if let Some(file) = embedded.and_then(|p| p.to_str()) {
        options.metadata_file = file.replace('\\', "/");
    }
    let files = scaffold::service_files(&service, &options);
    let written = write_files_keeping_edited(&dir, &files)?;
    let mut unchanged = 0;
    for (path, status) in &written {
        // Relative to the workspace, as the metadata's user thinks of them.
        let path = path.strip_prefix(&dir).unwrap_or(path);
        match status {
            WriteStatus::Unchanged => unchanged += 1,
            WriteStatus::Kept => writeln!(
                out,
                "kept {} (edited, or never generated: left as it is)",
                path.display()
            )?,
            status => writeln!(out, "{status} {}", path.display())?,
        }
    }
    writeln!(out, "{unchanged} unchanged")?;
    Ok(Outcome::Clean)
}

/// The package name in `manifest`; `None` when it has no `[package]`.
fn package_name(manifest: &Path) -> anyhow::Result<Option<String>> {
    let text = std::fs::read_to_string(manifest).with_context(|| {
        format!(
            "cannot read {} (is this a workspace made by `bisslog new`?)",
            manifest.display()
        )
    })?;
    let parsed: Manifest = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid Cargo manifest", manifest.display()))?;
    Ok(parsed.package.map(|p| p.name))
}
