//! `bisslog openapi` and `bisslog asyncapi`: API documents from the
//! metadata. A thin layer over `bisslog_codegen::{openapi, asyncapi}`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use bisslog_codegen::{ApiOptions, DocumentFormat};
use clap::ValueEnum;

use crate::Outcome;

#[derive(Debug, clap::Args)]
pub(crate) struct ApiDocArgs {
    /// The metadata file, or a directory to search (found as `validate`
    /// finds it when omitted).
    metadata: Option<PathBuf>,
    /// Write the document to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The document's format (default: from the extension of --out, else
    /// json).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// The API version written as `info.version`.
    #[arg(long, value_name = "VERSION", default_value = "1.0.0")]
    api_version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Which document to write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    OpenApi,
    AsyncApi,
}

pub(crate) fn run(
    kind: Kind,
    args: &ApiDocArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let Some((_, service)) = super::load::one_service(args.metadata.as_deref(), err)? else {
        return Ok(Outcome::Problems);
    };
    let options = ApiOptions {
        version: args.api_version.clone(),
    };
    let document = match kind {
        Kind::OpenApi => bisslog_codegen::openapi::document(&service, &options),
        Kind::AsyncApi => bisslog_codegen::asyncapi::document(&service, &options),
    };
    let text = format(args).write(&document);
    match &args.out {
        Some(file) => {
            std::fs::write(file, text)
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(Outcome::Clean)
}

fn format(args: &ApiDocArgs) -> DocumentFormat {
    match args.format {
        Some(FormatArg::Json) => DocumentFormat::Json,
        Some(FormatArg::Yaml) => DocumentFormat::Yaml,
        None => args
            .out
            .as_ref()
            .and_then(|file| file.extension())
            .and_then(|ext| DocumentFormat::parse(&ext.to_string_lossy()))
            .unwrap_or_default(),
    }
}
