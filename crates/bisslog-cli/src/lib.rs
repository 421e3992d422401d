//! The `bisslog` command-line tool, as a library: [`run`] takes the
//! arguments and the output streams, and returns the exit code, so the
//! binary is a one-line `main` and tests run commands in-process.
//!
//! ```
//! let mut out = Vec::new();
//! let mut err = Vec::new();
//! let code = bisslog_cli::run(["bisslog", "schema"], &mut out, &mut err);
//! assert_eq!(code, std::process::ExitCode::SUCCESS);
//! let schema: serde_json::Value = serde_json::from_slice(&out).unwrap();
//! assert_eq!(schema["title"], "bisslog service metadata");
//! ```
//!
//! Exit codes: 0 when the files are fine, 1 when they have errors (or
//! warnings, with `--deny-warnings`; for `lambda generate` and `deploy`,
//! when the service cannot be deployed as asked; for `docs` and
//! `monitoring`, when a metadata file is invalid; for `diff`, when a
//! change breaks callers; for `drift`, when a use case calls an
//! interaction it does not declare), 2 when the command could not run
//! (including `lambda generate`, `deploy`, `docs` and `monitoring`
//! refusing to overwrite an edited file, and `new` refusing a name, an
//! existing directory or invalid metadata).

mod commands;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// The outcome of a command, as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked is fine (exit 0).
    Clean,
    /// Problems were found (exit 1).
    Problems,
    /// The command could not do its job (exit 2).
    CouldNotRun,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Problems => ExitCode::from(1),
            Outcome::CouldNotRun => ExitCode::from(2),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "bisslog",
    version,
    about = "Validate bisslog service metadata and generate artifacts from it",
    long_about = None,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check metadata files and report every problem with its location.
    ///
    /// Without a path, the file is found as the runtime finds it:
    /// SERVICE_METADATA_PATH, else metadata.yml, docs/metadata.yml,
    /// metadata.json, docs/metadata.json, metadata.yaml, docs/metadata.yaml.
    /// A directory is searched for those names.
    Validate(ValidateArgs),
    /// Summarise a metadata file the way the Python `bisslog_schema
    /// analyze_metadata` command does, for CI jobs that parse its output.
    Analyze(AnalyzeArgs),
    /// Print the JSON Schema of the metadata format.
    Schema(SchemaArgs),
    /// Generate AWS Lambda deployment artifacts (an AWS SAM template and
    /// the `bootstrap` crate) from the metadata.
    Lambda(commands::lambda::LambdaArgs),
    /// Generate a static catalog site of one or more services: a system
    /// page with the system map and its warnings, a page per service with
    /// its hexagon diagram, a page per use case with its sequence diagram.
    ///
    /// HTML (inline SVG diagrams, a search box, no network needed) or
    /// Markdown (Mermaid diagrams). Files edited since generated are
    /// refused unless --force.
    Docs(commands::docs::DocsArgs),
    /// Write the OpenAPI 3.1 document of the HTTP triggers.
    ///
    /// Paths, methods, parameters and request bodies come from the
    /// triggers and their mappers; failures are problem+json documents.
    Openapi(commands::api_doc::ApiDocArgs),
    /// Write the AsyncAPI 3.0 document of the consumed queues and the
    /// queues publishers name in `operation`.
    Asyncapi(commands::api_doc::ApiDocArgs),
    /// Compare two versions of the metadata and classify every change as
    /// breaking, compatible or a notice for callers and other services.
    ///
    /// Exits 1 when a change breaks callers, 0 when none does. Two
    /// directories of service directories compare the services matched
    /// by their `name`.
    Diff(commands::diff::DiffArgs),
    /// Compare the metadata with what the service was seen doing: per use
    /// case, the external interactions it calls without declaring them and
    /// those it declares but was never seen calling.
    ///
    /// The observations come from a test run (--observed: the directory
    /// BISSLOG_OBSERVED_INTERACTIONS named) or a running service (--from:
    /// its GET /interactions/observed). Exits 1 when a use case calls an
    /// interaction it does not declare, 0 otherwise.
    Drift(commands::drift::DriftArgs),
    /// Generate container deployment files from the metadata: Kubernetes
    /// manifests, or a Dockerfile building a static binary.
    ///
    /// Files edited since generated are refused unless --force.
    Deploy(commands::deploy::DeployArgs),
    /// Create a new service's workspace: the metadata, a domain crate, the
    /// adapters (memory and SQL), the binary on the runner and a test per
    /// use case. It builds, passes its tests and serves with `cargo run`.
    ///
    /// Without --from, a starter service with one working use case; with
    /// it, a use case per use case of that metadata, each answering
    /// NotSupported until written. Exits 2, writing nothing, when the
    /// name, the directory or the metadata is not usable.
    New(commands::scaffold::NewArgs),
    /// Add to a workspace made by `bisslog new` what its metadata declares
    /// and its code lacks (use cases, external interactions), and list what
    /// was done.
    ///
    /// Files still as generated (their header's checksum matches) are
    /// rewritten; edited ones are left alone and listed as kept.
    Generate(commands::scaffold::GenerateArgs),
    /// Generate Prometheus alerting rules and a Grafana dashboard for each
    /// service: `<name>.rules.yml` and `<name>.dashboard.json`.
    ///
    /// Error-budget burn and p99 latency alerts per use case, tighter and
    /// paging for higher criticality; dead letters and consumer lag for
    /// consumers; missed and late ticks for schedules; the outbox backlog
    /// for services that publish. The dashboard has a row per use case,
    /// most critical first. See docs/observability.md. Files edited since
    /// generated are refused unless --force.
    Monitoring(commands::monitoring::MonitoringArgs),
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Metadata files or directories.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Read files as this syntax whatever their extension.
    #[arg(long, value_enum)]
    syntax: Option<Syntax>,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, clap::Args)]
struct AnalyzeArgs {
    /// The metadata file (found as `validate` finds it when omitted).
    path: Option<PathBuf>,
    /// Read the file as this syntax (default: from the extension).
    #[arg(long = "format-file", value_enum)]
    format_file: Option<Syntax>,
    /// The file's text encoding.
    #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
    encoding: Encoding,
    /// Fail when the warning rating (0-10) is below this.
    #[arg(long = "min-warnings")]
    min_warnings: Option<f64>,
}

#[derive(Debug, clap::Args)]
struct SchemaArgs {
    /// Write the schema to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Diagnostics with source snippets, for people.
    #[value(alias = "text")]
    Human,
    /// One JSON document, for tools.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Syntax {
    Yaml,
    Json,
}

impl From<Syntax> for bisslog_schema::Format {
    fn from(syntax: Syntax) -> Self {
        match syntax {
            Syntax::Yaml => bisslog_schema::Format::Yaml,
            Syntax::Json => bisslog_schema::Format::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Encoding {
    #[value(name = "utf-8")]
    Utf8,
    Ascii,
    #[value(name = "latin-1")]
    Latin1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// Runs `bisslog` with these arguments (the first is the program name),
/// writing results to `out` and failures to `err`.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let text = error.render().to_string();
            if error.use_stderr() {
                let _ = err.write_all(text.as_bytes());
                return Outcome::CouldNotRun.into();
            }
            let _ = out.write_all(text.as_bytes());
            return Outcome::Clean.into();
        }
    };
    let outcome = match cli.command {
        Command::Validate(args) => commands::validate::run(&args, out, err),
        Command::Analyze(args) => commands::analyze::run(&args, out, err),
        Command::Schema(args) => commands::schema::run(&args, out, err),
        Command::Lambda(args) => commands::lambda::run(&args, out, err),
        Command::Docs(args) => commands::docs::run(&args, out, err),
        Command::Openapi(args) => {
            commands::api_doc::run(commands::api_doc::Kind::OpenApi, &args, out, err)
        }
        Command::Asyncapi(args) => {
            commands::api_doc::run(commands::api_doc::Kind::AsyncApi, &args, out, err)
        }
        Command::Diff(args) => commands::diff::run(&args, out, err),
        Command::Drift(args) => commands::drift::run(&args, out, err),
        Command::Deploy(args) => commands::deploy::run(&args, out, err),
        Command::New(args) => commands::scaffold::new(&args, out, err),
        Command::Generate(args) => commands::scaffold::generate(&args, out, err),
        Command::Monitoring(args) => commands::monitoring::run(&args, out, err),
    };
    let outcome = outcome.unwrap_or_else(|error| {
        let _ = writeln!(err, "error: {error:#}");
        Outcome::CouldNotRun
    });
    outcome.into()
}
