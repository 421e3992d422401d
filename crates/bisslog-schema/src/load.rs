//! Reading metadata files: the [`Loader`], the [`Report`] it produces and
//! the convenience functions over them.

use std::path::{Path, PathBuf};

use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover;
use crate::limits::Limits;
use crate::locate::Locations;
use crate::model::ServiceMetadata;
use crate::parse;
use crate::source::{Format, SourceFile};
use crate::validate::{self, Checks};

/// The outcome of validating one metadata file: every diagnostic, in
/// file order, and the model when there is no error.
#[derive(Debug, Clone)]
pub struct Report {
    source: SourceFile,
    service: Option<ServiceMetadata>,
    diagnostics: Vec<Diagnostic>,
    checks: Checks,
    locations: Locations,
}

impl Report {
    /// The file that was validated.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The model, present when the file has no errors (warnings allowed).
    pub fn service(&self) -> Option<&ServiceMetadata> {
        self.service.as_ref()
    }

    /// Every diagnostic, sorted by position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// How many errors were found.
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many warnings were found.
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity() == severity)
            .count()
    }

    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        self.service.is_none()
    }

    /// Where each use case and external interaction keyname is written,
    /// for messages about a keyname that point at the file.
    pub fn locations(&self) -> &Locations {
        &self.locations
    }

    /// Adds a diagnostic found outside the file's own validation (the
    /// checks across services, [`check_across`](crate::check_across)),
    /// keeping the diagnostics sorted by position.
    pub fn add(&mut self, diagnostic: Diagnostic) {
        let at = self.diagnostics.partition_point(|d| {
            (d.span.start.line, d.span.start.column)
                <= (diagnostic.span.start.line, diagnostic.span.start.column)
        });
        self.diagnostics.insert(at, diagnostic);
    }

    /// How many rules were evaluated (for `bisslog analyze`).
    pub fn checks(&self) -> Checks {
        self.checks
    }

    /// The model, or this report when the file has errors.
    #[allow(clippy::result_large_err)]
    pub fn into_service(self) -> Result<ServiceMetadata, Report> {
        match self.service {
            Some(service) => Ok(service),
            None => Err(self),
        }
    }
}

/// Why a metadata file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No path was given and no default file exists.
    #[error(
        "no metadata file found: pass a path, set SERVICE_METADATA_PATH, or create one of {}",
        discover::DEFAULT_NAMES.join(", ")
    )]
    NotFound {
        /// The directory that was searched.
        searched: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but has errors; the report lists them.
    #[error("{} has {} error(s); the first is {}", .0.source().path().display(), .0.error_count(), first_error(.0))]
    Invalid(Box<Report>),
}

fn first_error(report: &Report) -> String {
    report
        .diagnostics()
        .iter()
        .find(|d| d.is_error())
        .map(|d| {
            format!(
                "at {}:{}: {}",
                d.span.start.line, d.span.start.column, d.message
            )
        })
        .unwrap_or_default()
}

/// Reads and validates metadata files with chosen [`Limits`] and,
/// optionally, a forced [`Format`].
///
/// ```
/// use bisslog_schema::{Format, Loader};
///
/// let report = Loader::new()
///     .format(Format::Json)
///     .validate_str("inline.json", r#"{"name": "svc", "use_cases": {}}"#);
/// assert_eq!(report.error_count(), 0);
/// assert_eq!(report.warning_count(), 1); // no use cases
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Loader {
    limits: Limits,
    format: Option<Format>,
}

impl Loader {
    /// A loader with the default limits, choosing the format by extension.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses other limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Reads every file in this format whatever its extension.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Validates text held in memory; `path` names it in diagnostics and
    /// decides the format unless one was forced.
    pub fn validate_str(&self, path: impl Into<PathBuf>, text: &str) -> Report {
        self.validate_bytes(path, text.as_bytes())
    }

    /// Validates raw bytes (which may not even be UTF-8).
    pub fn validate_bytes(&self, path: impl Into<PathBuf>, bytes: &[u8]) -> Report {
        let path = path.into();
        let format = self.format_of(&path);
        let text = match parse::decode(bytes, &self.limits) {
            Ok(text) => text,
            Err(diagnostic) => {
                // Keep what can be shown of the text for the snippet.
                let shown = if diagnostic.code == Code::FileTooLarge {
                    String::new()
                } else {
                    String::from_utf8_lossy(bytes).into_owned()
                };
                return self.failed(SourceFile::new(path, shown, format), diagnostic);
            }
        };
        let source = SourceFile::new(path, text, format);
        let parsed = parse::parse(&source, &self.limits);
        let mut diagnostics = parsed.diagnostics;
        let locations = parsed.root.as_ref().map(Locations::of).unwrap_or_default();
        let (service, checks) = match &parsed.root {
            Some(root) => {
                let (service, found, checks) = validate::validate(root);
                diagnostics.extend(found);
                (service, checks)
            }
            None => (None, Checks::default()),
        };
        diagnostics.sort_by(|a, b| a.span.start.cmp(&b.span.start).then(a.code.cmp(&b.code)));
        let service = if diagnostics.iter().any(Diagnostic::is_error) {
            None
        } else {
            service
        };
        Report {
            source,
            service,
            diagnostics,
            checks,
            locations,
        }
    }

    fn format_of(&self, path: &Path) -> Format {
        self.format.unwrap_or_else(|| Format::from_path(path))
    }

    /// A report of a file that could not even be parsed.
    fn failed(&self, source: SourceFile, diagnostic: Diagnostic) -> Report {
        Report {
            source,
            service: None,
            diagnostics: vec![diagnostic],
            checks: Checks::default(),
            locations: Locations::default(),
        }
    }

    /// Reads and validates a file. Only failing to read it is an error;
    /// everything wrong inside it is in the report.
    pub fn validate_file(&self, path: impl AsRef<Path>) -> Result<Report, LoadError> {
        let path = path.as_ref();
        let io = |source| LoadError::Io {
            path: path.to_owned(),
            source,
        };
        // Refuse to read a huge file into memory just to reject it.
        let size = std::fs::metadata(path).map_err(io)?.len();
        if let Err(diagnostic) = parse::check_size(size, &self.limits) {
            return Ok(self.failed(
                SourceFile::new(path, String::new(), self.format_of(path)),
                diagnostic,
            ));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Ok(self.validate_bytes(path, &bytes))
    }

    /// Loads a service: finds the file ([`discover::find`]), validates it,
    /// and returns the model, or the report as an error when it has errors.
    pub fn load(&self, path: Option<&Path>) -> Result<ServiceMetadata, LoadError> {
        let path = discover::find(path)?;
        self.validate_file(&path)?
            .into_service()
            .map_err(|report| LoadError::Invalid(Box::new(report)))
    }
}

/// Validates a file with the default [`Loader`].
pub fn validate_file(path: impl AsRef<Path>) -> Result<Report, LoadError> {
    Loader::new().validate_file(path)
}

/// Validates text with the default [`Loader`]; `path` names it and, by its
/// extension, picks YAML or JSON.
pub fn validate_str(path: impl Into<PathBuf>, text: &str) -> Report {
    Loader::new().validate_str(path, text)
}

/// Loads a service with the default [`Loader`]: the given path, else
/// `SERVICE_METADATA_PATH`, else the first default file that exists.
pub fn load(path: Option<&Path>) -> Result<ServiceMetadata, LoadError> {
    Loader::new().load(path)
}

/// Loads a service from text, such as a metadata file embedded in the
/// binary with `include_str!`: the model, or the report as an error when it
/// has errors. `path` names the text in diagnostics and, by its extension,
/// picks YAML or JSON.
///
/// ```
/// let service = bisslog_schema::load_str(
///     "metadata.yml",
///     "name: hello\nuse_cases:\n  greet:\n    triggers: [{type: http, options: {path: /hello}}]\n",
/// )?;
/// assert_eq!(service.name, "hello");
/// # Ok::<(), bisslog_schema::LoadError>(())
/// ```
pub fn load_str(path: impl Into<PathBuf>, text: &str) -> Result<ServiceMetadata, LoadError> {
    validate_str(path, text)
        .into_service()
        .map_err(|report| LoadError::Invalid(Box::new(report)))
}
