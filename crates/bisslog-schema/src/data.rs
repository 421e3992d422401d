//! Any YAML or JSON document as plain JSON data, read by the parsers and
//! limits that read metadata: for the other documents the tools compare
//! or check (an OpenAPI document given to `bisslog diff`).

use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::parse;
use crate::source::SourceFile;
use crate::span::{Position, Span};

/// The document in `source` as JSON data, or the located errors that kept
/// it from being read (syntax, limits, an empty document, a number JSON
/// cannot hold).
///
/// ```
/// use bisslog_schema::{Format, Limits, SourceFile, parse_data};
///
/// let source = SourceFile::new("doc.yaml", "openapi: 3.1.0\npaths: {}\n", Format::Yaml);
/// let data = parse_data(&source, &Limits::DEFAULT).expect("valid YAML");
/// assert_eq!(data["openapi"], "3.1.0");
/// ```
pub fn parse_data(
    source: &SourceFile,
    limits: &Limits,
) -> Result<serde_json::Value, Vec<Diagnostic>> {
    let parsed = parse::parse(source, limits);
    let errors: Vec<Diagnostic> = parsed
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(root) = parsed.root else {
        return Err(vec![Diagnostic::new(
            Code::EmptyDocument,
            Span::point(Position::START),
            "the document is empty",
        )]);
    };
    match root.non_finite() {
        Some(node) => Err(vec![Diagnostic::new(
            Code::Syntax,
            node.span,
            "this number has no JSON form (infinite or not a number)",
        )]),
        None => root.to_json().ok_or_else(|| {
            vec![Diagnostic::new(
                Code::Syntax,
                root.span,
                "the document has no JSON form",
            )]
        }),
    }
}
