//! From bytes to a [`Node`] tree: decoding, size limits, and the YAML and
//! JSON parsers. Every failure here is a located [`Diagnostic`].

mod json;
mod yaml;

use std::collections::HashMap;

use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::node::{Node, Value};
use crate::source::{Format, SourceFile};
use crate::span::{Position, Span};

/// What a parser produced: the document (absent after a fatal error) and
/// the problems met on the way.
pub(crate) struct Parsed {
    pub(crate) root: Option<Node>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Turns the raw bytes of a file into text: enforces the size limit,
/// drops a UTF-8 byte order mark and rejects other encodings with the
/// position of the first bad byte.
pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<String, Diagnostic> {
    check_size(bytes.len() as u64, limits)?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Diagnostic::new(
            Code::NotUtf8,
            Span::point(Position::START),
            "the file is UTF-16 text; metadata files must be UTF-8",
        )
        .with_hint("save the file as UTF-8"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            // The valid prefix is UTF-8 by definition; count lines and
            // characters in it to locate the bad byte.
            let prefix = String::from_utf8_lossy(valid);
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let at = Position::new(
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
            );
            Err(Diagnostic::new(
                Code::NotUtf8,
                Span::point(at),
                format!("byte {} is not valid UTF-8", e.valid_up_to()),
            )
            .with_hint("save the file as UTF-8 (it may be Latin-1 or Windows-1252)"))
        }
    }
}

/// Rejects files over [`Limits::max_file_bytes`] before they are read.
pub(crate) fn check_size(size: u64, limits: &Limits) -> Result<(), Diagnostic> {
    if usize::try_from(size).is_ok_and(|s| s <= limits.max_file_bytes) {
        return Ok(());
    }
    Err(Diagnostic::new(
        Code::FileTooLarge,
        Span::point(Position::START),
        format!(
            "the file is {size} bytes; metadata files are limited to {} bytes",
            limits.max_file_bytes
        ),
    )
    .with_hint(
        "a metadata file describes one service; split a larger system into one file per service",
    ))
}

/// Parses a source file in its format and checks that it holds a document.
pub(crate) fn parse(source: &SourceFile, limits: &Limits) -> Parsed {
    let text = source.text();
    let mut parsed = match source.format() {
        Format::Yaml => yaml::parse(text, limits),
        Format::Json => {
            if text.trim().is_empty() {
                Parsed {
                    root: None,
                    diagnostics: Vec::new(),
                }
            } else {
                json::parse(text, limits)
            }
        }
    };
    let failed = parsed.diagnostics.iter().any(|d| {
        matches!(
            d.code,
            Code::Syntax
                | Code::TabIndentation
                | Code::NestingTooDeep
                | Code::TooManyNodes
                | Code::MultipleDocuments
        )
    });
    let empty = match &parsed.root {
        None => true,
        Some(node) => node.value == Value::Null,
    };
    if empty && !failed {
        let at = parsed
            .root
            .as_ref()
            .map_or(Position::START, |n| n.span.start);
        parsed.root = None;
        parsed.diagnostics.push(
            Diagnostic::new(
                Code::EmptyDocument,
                Span::point(at),
                "the metadata file is empty",
            )
            .with_hint("start with the service fields, e.g. `name: my-service` and `use_cases:`"),
        );
    }
    parsed
}

/// Pairs `(duplicate, first)` of entry indices whose keys are equal.
pub(crate) fn duplicate_keys(entries: &[(Node, Node)]) -> Vec<(usize, usize)> {
    let mut duplicates = Vec::new();
    if entries.len() <= 16 {
        for (i, (key, _)) in entries.iter().enumerate() {
            if let Some(first) = entries[..i]
                .iter()
                .position(|(k, _)| yaml::same_key(k, key))
            {
                duplicates.push((i, first));
            }
        }
        return duplicates;
    }
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(entries.len());
    for (i, (key, _)) in entries.iter().enumerate() {
        let identity = match &key.value {
            Value::Str(s) => format!("s{s}"),
            _ => format!("v{}", key.display_scalar()),
        };
        if let Some(&first) = seen.get(&identity) {
            duplicates.push((i, first));
        } else {
            seen.insert(identity, i);
        }
    }
    duplicates
}
