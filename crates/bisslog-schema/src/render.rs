//! Human-readable diagnostics: a header, the location, the source line and
//! a caret under the offending node, then the hint.
//!
//! ```text
//! error[E031]: "update" is not an HTTP method
//!   --> webhook.yml:113:19
//!     |
//! 113 |           method: "update"
//!     |                   ^^^^^^^^
//!     = hint: use PUT to replace the resource or PATCH to change part of it
//! ```

use std::fmt::Write as _;

use crate::diagnostic::{Diagnostic, Severity};
use crate::load::Report;
use crate::source::SourceFile;

/// How to render diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Colour the output with ANSI escapes.
    pub color: bool,
}

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Renders every diagnostic of a report, each followed by a blank line.
pub fn render_report(report: &Report, options: RenderOptions) -> String {
    let mut out = String::new();
    for diagnostic in report.diagnostics() {
        out.push_str(&render_diagnostic(report.source(), diagnostic, options));
        out.push('\n');
    }
    out
}

/// Renders one diagnostic with its source snippet.
pub fn render_diagnostic(
    source: &SourceFile,
    diagnostic: &Diagnostic,
    options: RenderOptions,
) -> String {
    let paint = Paint {
        color: options.color,
    };
    let (label, color) = match diagnostic.severity() {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    let start = diagnostic.span.start;
    let gutter = start.line.to_string().len();
    let pad = " ".repeat(gutter);
    let bar = paint.paint("1;34", "|");
    let mut out = String::new();
    let header = format!("{label}[{}]", diagnostic.code);
    let _ = writeln!(
        out,
        "{}: {}",
        paint.paint(color, &header),
        paint.paint("1", &diagnostic.message)
    );
    let _ = writeln!(
        out,
        "{pad}{} {}:{}:{}",
        paint.paint("1;34", "-->"),
        source.path().display(),
        start.line,
        start.column
    );
    if let Some(line) = source.line(start.line) {
        let (shown, caret_at, caret_len) = caret(line, diagnostic, start.column);
        let _ = writeln!(out, "{pad} {bar}");
        let number = paint.paint("1;34", &start.line.to_string());
        let _ = writeln!(out, "{number} {bar} {shown}");
        let carets = paint.paint(color, &"^".repeat(caret_len));
        let _ = writeln!(out, "{pad} {bar} {}{carets}", " ".repeat(caret_at));
    }
    if let Some(hint) = &diagnostic.hint {
        let _ = writeln!(out, "{pad} {} hint: {hint}", paint.paint("1;34", "="));
    }
    out
}

/// The line as displayed (tabs expanded to four spaces), and the display
/// column and width of the caret.
fn caret(line: &str, diagnostic: &Diagnostic, column: u32) -> (String, usize, usize) {
    let start = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    let same_line = diagnostic.span.end.line == diagnostic.span.start.line;
    let end = if same_line {
        usize::try_from(diagnostic.span.end.column.saturating_sub(1)).unwrap_or(usize::MAX)
    } else {
        usize::MAX
    };
    let mut shown = String::with_capacity(line.len());
    let (mut caret_at, mut caret_end) = (None, None);
    for (index, c) in line.chars().enumerate() {
        if index == start {
            caret_at = Some(shown.chars().count());
        }
        if index == end {
            caret_end = Some(shown.chars().count());
        }
        if c == '\t' {
            shown.push_str("    ");
        } else {
            shown.push(c);
        }
    }
    let width = shown.chars().count();
    let caret_at = caret_at.unwrap_or(width.min(start));
    let caret_end = caret_end.unwrap_or(width).max(caret_at + 1);
    let shown = shown.trim_end().to_owned();
    window(&shown, caret_at, caret_end - caret_at)
}

/// The widest line shown in full; longer lines are cut around the caret.
const MAX_SHOWN: usize = 120;

/// Cuts a long line to a window around the caret, marking the cuts with
/// `…`, so minified or generated files still give a readable snippet.
fn window(line: &str, caret_at: usize, caret_len: usize) -> (String, usize, usize) {
    let width = line.chars().count();
    if width <= MAX_SHOWN {
        return (line.to_owned(), caret_at, caret_len);
    }
    let start = caret_at.saturating_sub(MAX_SHOWN / 3);
    let end = (start + MAX_SHOWN).min(width);
    let mut shown: String = line.chars().skip(start).take(end - start).collect();
    let mut caret_at = caret_at - start;
    if start > 0 {
        shown.insert(0, '…');
        caret_at += 1;
    }
    if end < width {
        shown.push('…');
    }
    let caret_len = caret_len.min(end.saturating_sub(start + caret_at).max(1));
    (shown, caret_at, caret_len)
}
