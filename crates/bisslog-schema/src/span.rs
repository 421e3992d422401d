//! Positions of nodes in a metadata file.

use serde::Serialize;

/// A 1-based line and column in a source file. Columns count Unicode
/// scalar values (characters), not bytes, so a caret printed under a line
/// lands on the right character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number, starting at 1, in characters.
    pub column: u32,
}

impl Position {
    /// The first character of a file.
    pub const START: Position = Position { line: 1, column: 1 };

    /// A position from a 1-based line and column.
    pub const fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }
}

/// The region a node occupies: from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// Where the node starts.
    pub start: Position,
    /// Just past where the node ends.
    pub end: Position,
}

impl Span {
    /// A span covering `start..end`.
    pub const fn new(start: Position, end: Position) -> Self {
        Self { start, end }
    }

    /// An empty span at one position.
    pub const fn point(at: Position) -> Self {
        Self { start: at, end: at }
    }

    /// The span of `len` characters starting `offset` characters after the
    /// start of this span, on the same line. Used to point inside a scalar,
    /// such as one field of a cron expression.
    pub fn sub(&self, offset: u32, len: u32) -> Self {
        let start = Position::new(self.start.line, self.start.column.saturating_add(offset));
        let end = Position::new(start.line, start.column.saturating_add(len));
        Self { start, end }
    }
}
