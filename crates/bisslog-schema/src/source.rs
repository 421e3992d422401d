//! The text of a metadata file, kept so diagnostics can quote it.

use std::path::{Path, PathBuf};

/// The two syntaxes a metadata file may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// YAML 1.2 (JSON documents are YAML too, but are read by the JSON
    /// parser when the file name ends in `.json`).
    Yaml,
    /// JSON (RFC 8259).
    Json,
}

impl Format {
    /// The format a file name implies: JSON for `.json`, YAML otherwise.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// A metadata file's path and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    format: Format,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A source file from its path, text and format.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>, format: Format) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            path: path.into(),
            text,
            format,
            line_starts,
        }
    }

    /// The path the file was read from (or the name given to a string).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The syntax the file is read as.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The text of a 1-based line, without its line break (`\n` or
    /// `\r\n`), or `None` past the end of the file.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(index)?;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        let line = self.text.get(start..end)?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    /// How many lines the file has.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}
