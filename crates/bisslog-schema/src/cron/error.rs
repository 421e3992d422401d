//! Why a cron expression was rejected, and where.

use std::ops::Range;

use super::{CronDialect, CronField};

/// A rejected cron expression: what is wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct CronError {
    /// What is wrong; its `Display` is the one-line message.
    pub kind: CronErrorKind,
    /// Byte range of the offending text in the parsed string: the whole input
    /// for field-count errors, otherwise the offending field, list item or
    /// value.
    pub span: Range<usize>,
    /// Actionable advice, when there is some.
    pub hint: Option<String>,
}

impl CronError {
    pub(super) fn new(kind: CronErrorKind, span: Range<usize>) -> Self {
        CronError {
            kind,
            span,
            hint: None,
        }
    }

    pub(super) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// What is wrong with a cron expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CronErrorKind {
    /// The expression is empty or only whitespace.
    #[error("the cron expression is empty")]
    Empty,
    /// The expression has neither 5 (Unix) nor 6 (AWS) fields.
    #[error("{}", field_count_message(*found, *wrapped))]
    FieldCount {
        /// How many fields were found.
        found: usize,
        /// Whether they were inside a `cron(...)` wrapper, which needs 6.
        wrapped: bool,
    },
    /// `cron(` without the closing `)`.
    #[error("`cron(` is not closed with `)`")]
    UnclosedWrapper,
    /// An EventBridge `rate(...)` expression where cron was expected.
    #[error("`rate(...)` is an EventBridge rate expression, not a cron expression")]
    RateExpression,
    /// `@reboot` or a macro that does not exist.
    #[error("unsupported cron macro `{name}`")]
    UnsupportedMacro {
        /// The macro as written, e.g. `@reboot`.
        name: String,
    },
    /// A macro followed by more text, e.g. `@daily 5`.
    #[error("the cron macro `{name}` must be the whole expression")]
    MacroWithFields {
        /// The macro as written.
        name: String,
    },
    /// `?`, `L`, `W` or `#` in a 5-field (Unix) expression.
    #[error("`{text}` in {field} is AWS cron syntax, but a 5-field expression is Unix cron")]
    AwsSyntaxInUnix {
        /// The field it appears in.
        field: CronField,
        /// The offending list item.
        text: String,
    },
    /// A wildcard the field does not allow, e.g. `L` in hours or `/` in an
    /// AWS day-of-week.
    #[error("`{wildcard}` is not allowed in {field} in {dialect} cron")]
    WildcardNotAllowed {
        /// The field it appears in.
        field: CronField,
        /// The wildcard character.
        wildcard: char,
        /// The dialect the expression was read as.
        dialect: CronDialect,
    },
    /// `?`, `L`, `LW`, `NW`, `NL` or `N#K` inside a list: they must stand alone.
    #[error("`{text}` cannot be part of a list: it must be the whole {field} field")]
    NotAlone {
        /// The field it appears in.
        field: CronField,
        /// The offending list item.
        text: String,
    },
    /// AWS cron where neither day-of-month nor day-of-week is `?`.
    #[error("AWS cron needs `?` in exactly one of day-of-month and day-of-week, found none")]
    MissingQuestionMark,
    /// AWS cron where both day-of-month and day-of-week are `?`.
    #[error("AWS cron needs `?` in exactly one of day-of-month and day-of-week, found both")]
    BothQuestionMarks,
    /// An empty item in a comma list, e.g. `1,,2` or `1,`.
    #[error("empty item in the {field} list")]
    EmptyItem {
        /// The field it appears in.
        field: CronField,
    },
    /// Text that is not a number, name or wildcard the field understands.
    #[error("invalid {field} value `{text}`")]
    InvalidValue {
        /// The field it appears in.
        field: CronField,
        /// The offending text.
        text: String,
    },
    /// A number outside the field's range.
    #[error("value `{text}` is out of range for {field} ({min}-{max} in {dialect} cron)")]
    OutOfRange {
        /// The field it appears in.
        field: CronField,
        /// The number as written.
        text: String,
        /// The smallest allowed value.
        min: u16,
        /// The largest allowed value.
        max: u16,
        /// The dialect the expression was read as.
        dialect: CronDialect,
    },
    /// A range whose start is after its end, e.g. `22-2`.
    #[error("range `{text}` in {field} runs backwards: {start} is after {end}")]
    ReversedRange {
        /// The field it appears in.
        field: CronField,
        /// The range as written.
        text: String,
        /// The start value.
        start: u16,
        /// The end value.
        end: u16,
    },
    /// A step that is not a whole number from 1 to `max`.
    #[error("invalid step `{text}` in {field}: a step must be a whole number from 1 to {max}")]
    InvalidStep {
        /// The field it appears in.
        field: CronField,
        /// The step as written (after the `/`).
        text: String,
        /// The largest useful step for the field.
        max: u16,
    },
    /// The occurrence `K` in `N#K` is not 1-5.
    #[error("occurrence `{text}` after `#` in day-of-week must be 1-5")]
    OccurrenceOutOfRange {
        /// The occurrence as written.
        text: String,
    },
    /// A Unix schedule that restricts both day-of-month and day-of-week,
    /// which AWS cron cannot express.
    #[error(
        "this schedule restricts both day-of-month and day-of-week, which AWS cron cannot express"
    )]
    NotExpressibleInAws,
}

fn field_count_message(found: usize, wrapped: bool) -> String {
    let fields = if found == 1 { "field" } else { "fields" };
    if wrapped {
        format!("expected 6 fields (AWS cron) inside `cron(...)`, found {found} {fields}")
    } else {
        format!("expected 5 fields (Unix cron) or 6 fields (AWS cron), found {found} {fields}")
    }
}
