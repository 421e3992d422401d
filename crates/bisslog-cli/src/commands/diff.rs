//! `bisslog diff OLD NEW`: what changed between two versions of the
//! metadata (or of a service's OpenAPI document), and whether it breaks
//! callers or other services. A thin layer over `bisslog_schema::diff` and
//! `bisslog_openapi::diff`.

use std::io::Write;
use std::path::{Path, PathBuf};

use bisslog_schema::diff::{self, Change, ChangeSeverity};
use bisslog_schema::{Format, Limits, Loader, ServiceMetadata, SourceFile};
use serde::Serialize;

use super::plural;
use crate::{Outcome, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// The old version: a metadata file, a directory holding one, a
    /// directory whose subdirectories each hold one, or an OpenAPI document
    /// (`openapi.json`, as a service's `openapi` command or its
    /// `/openapi.json` gives it).
    old: PathBuf,
    /// The new version, given as the old one is.
    new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

/// What one side of the comparison holds.
enum Side {
    /// One service.
    One(Box<ServiceMetadata>),
    /// Several services (a directory of service directories).
    Many(Vec<ServiceMetadata>),
    /// An OpenAPI document.
    OpenApi(Box<serde_json::Value>),
}

pub(crate) fn run(
    args: &DiffArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let (Some(old), Some(new)) = (side(&args.old, err)?, side(&args.new, err)?) else {
        return Ok(Outcome::CouldNotRun);
    };
    let changes = match (old, new) {
        (Side::One(old), Side::One(new)) => diff::diff(&old, &new),
        (Side::Many(old), Side::Many(new)) => diff::diff_services(&old, &new),
        (Side::One(old), Side::Many(new)) => diff::diff_services(&[*old], &new),
        (Side::Many(old), Side::One(new)) => diff::diff_services(&old, &[*new]),
        (Side::OpenApi(old), Side::OpenApi(new)) => match bisslog_openapi::diff::diff(&old, &new) {
            Ok(changes) => changes,
            Err(error) => {
                writeln!(err, "error: {error}")?;
                return Ok(Outcome::CouldNotRun);
            }
        },
        (Side::OpenApi(_), _) | (_, Side::OpenApi(_)) => {
            writeln!(
                err,
                "error: one side is an OpenAPI document and the other is metadata; compare two OpenAPI documents or two metadata versions"
            )?;
            return Ok(Outcome::CouldNotRun);
        }
    };
    match args.format {
        OutputFormat::Human => human(&changes, out)?,
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &JsonOutput::new(&changes))?;
            writeln!(out)?;
        }
    }
    let breaking = count(&changes, ChangeSeverity::Breaking);
    Ok(if breaking > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// The service(s) at `path`, or `None` after the problem is shown.
fn side(path: &Path, err: &mut dyn Write) -> anyhow::Result<Option<Side>> {
    if !path.is_dir() {
        if let Some(document) = openapi_document(path) {
            return Ok(Some(Side::OpenApi(Box::new(document))));
        }
        return Ok(load(path, err)?.map(|s| Side::One(Box::new(s))));
    }
    if let Ok(file) = bisslog_schema::find_metadata_in(path) {
        return Ok(load(&file, err)?.map(|s| Side::One(Box::new(s))));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut services = Vec::new();
    let mut ok = true;
    for dir in dirs {
        if let Ok(file) = bisslog_schema::find_metadata_in(&dir) {
            match load(&file, err)? {
                Some(service) => services.push(service),
                None => ok = false,
            }
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for service in &services {
        if !names.insert(service.name.as_str()) {
            writeln!(
                err,
                "error: two services in {} are named `{}`; services are matched by name",
                path.display(),
                service.name
            )?;
            ok = false;
        }
    }
    if services.is_empty() && ok {
        writeln!(
            err,
            "error: no metadata file found in {} or its subdirectories",
            path.display()
        )?;
        return Ok(None);
    }
    Ok(ok.then_some(Side::Many(services)))
}

/// The document in `file` when it is an OpenAPI document (a JSON or YAML
/// object with an `openapi` key); anything else is read as metadata, whose
/// loader reports what is wrong with it.
fn openapi_document(file: &Path) -> Option<serde_json::Value> {
    let limits = Limits::DEFAULT;
    let size = std::fs::metadata(file).ok()?.len();
    if usize::try_from(size).map_or(true, |s| s > limits.max_file_bytes) {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let source = SourceFile::new(file, text, Format::from_path(file));
    let data = bisslog_schema::parse_data(&source, &limits).ok()?;
    data.get("openapi").is_some().then_some(data)
}

/// The valid service in `file`; `None` after its report (or why it could
/// not be read) is shown.
fn load(file: &Path, err: &mut dyn Write) -> anyhow::Result<Option<ServiceMetadata>> {
    let report = match Loader::new().validate_file(file) {
        Ok(report) => report,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(None);
        }
    };
    Ok(super::load::valid_service(
        report,
        "; nothing compared",
        err,
    )?)
}

fn count(changes: &[Change], severity: ChangeSeverity) -> usize {
    changes.iter().filter(|c| c.severity() == severity).count()
}

fn human(changes: &[Change], out: &mut dyn Write) -> std::io::Result<()> {
    let width = changes
        .iter()
        .map(|c| c.kind.id().len())
        .max()
        .unwrap_or_default();
    for change in changes {
        let severity = change.severity().as_str().to_uppercase();
        let service = change
            .service
            .as_ref()
            .map_or(String::new(), |s| format!("[{s}] "));
        writeln!(
            out,
            "{severity:<10} {:<width$}  {service}{}",
            change.kind.id(),
            change.message
        )?;
    }
    if changes.is_empty() {
        writeln!(out, "no changes")?;
    } else {
        writeln!(
            out,
            "{}: {} breaking, {} compatible, {}",
            plural(changes.len(), "change"),
            count(changes, ChangeSeverity::Breaking),
            count(changes, ChangeSeverity::Compatible),
            plural(count(changes, ChangeSeverity::Notice), "notice")
        )?;
    }
    Ok(())
}

/// The `--format json` document.
#[derive(Serialize)]
struct JsonOutput<'a> {
    breaking: usize,
    compatible: usize,
    notices: usize,
    changes: Vec<JsonChange<'a>>,
}

#[derive(Serialize)]
struct JsonChange<'a> {
    kind: &'static str,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a str>,
    use_case: Option<&'a str>,
    detail: &'a str,
    message: &'a str,
}

impl<'a> JsonOutput<'a> {
    fn new(changes: &'a [Change]) -> Self {
        Self {
            breaking: count(changes, ChangeSeverity::Breaking),
            compatible: count(changes, ChangeSeverity::Compatible),
            notices: count(changes, ChangeSeverity::Notice),
            changes: changes
                .iter()
                .map(|c| JsonChange {
                    kind: c.kind.id(),
                    severity: c.severity().as_str(),
                    service: c.service.as_deref(),
                    use_case: c.use_case.as_deref(),
                    detail: &c.detail,
                    message: &c.message,
                })
                .collect(),
        }
    }
}
