//! The AWS day wildcards: `?`, `L`, `LW` and `NW` in day-of-month, `?`,
//! `L`, `NL` and `N#K` in day-of-week. They are recognised in every field and
//! dialect, so that a misplaced one gets an error saying what it is.

use super::field::ValueSet;
use super::list::{Ctx, blame_separator, invalid_value, number, small, value, values, weekdays};
use super::matcher::{DayOfMonth, DayOfWeek};
use super::parse::Token;
use super::{CronDialect, CronError, CronErrorKind, CronField};

/// An AWS special form, recognised wherever it appears so that its error can
/// say what it is rather than "invalid value".
#[derive(Debug, Clone, Copy)]
pub(super) enum Special<'a> {
    /// Anything containing `?`.
    Question,
    /// `L`
    Last,
    /// `LW`
    LastWeekday,
    /// `NW`, holding `N`.
    NearestWeekday(Token<'a>),
    /// `NL`, holding `N`.
    LastOf(Token<'a>),
    /// `N#K`, holding `N` and `K`.
    Nth(Token<'a>, Token<'a>),
}

impl Special<'_> {
    /// The wildcard that makes this form, for "not allowed" messages.
    fn wildcard(&self) -> char {
        match self {
            Special::Question => '?',
            Special::Last | Special::LastOf(_) => 'L',
            Special::LastWeekday | Special::NearestWeekday(_) => 'W',
            Special::Nth(..) => '#',
        }
    }
}

/// AWS day-of-month: `?`, `L`, `LW`, `NW` (each alone) or a list.
pub(super) fn aws_day_of_month(ctx: Ctx, field: Token<'_>) -> Result<DayOfMonth, CronError> {
    if field.text == "?" {
        return Ok(DayOfMonth::Unspecified);
    }
    if !field.text.contains(',') {
        match classify(field) {
            Some(Special::Last) => return Ok(DayOfMonth::Last),
            Some(Special::LastWeekday) => return Ok(DayOfMonth::LastWeekday),
            Some(Special::NearestWeekday(day)) => {
                return Ok(DayOfMonth::NearestWeekday(small(value(ctx, day, field)?)));
            }
            Some(other) => return Err(reject_special(ctx, field, other)),
            None => {}
        }
    }
    Ok(DayOfMonth::Days(values(ctx, field)?))
}

/// AWS day-of-week: `?`, `L`, `NL`, `N#K` (each alone) or a list of 1-7.
pub(super) fn aws_day_of_week(ctx: Ctx, field: Token<'_>) -> Result<DayOfWeek, CronError> {
    if field.text == "?" {
        return Ok(DayOfWeek::Unspecified);
    }
    if !field.text.contains(',') {
        match classify(field) {
            Some(Special::Last) => {
                // A lone `L` in day-of-week is Saturday, the last day of the week.
                let mut saturday = ValueSet::empty(0);
                saturday.insert(6);
                return Ok(DayOfWeek::Days(saturday));
            }
            Some(Special::LastOf(day)) => {
                return Ok(DayOfWeek::Last(aws_weekday(value(ctx, day, field)?)));
            }
            Some(Special::Nth(day, nth)) => {
                return Ok(DayOfWeek::Nth {
                    weekday: aws_weekday(value(ctx, day, field)?),
                    nth: occurrence(nth)?,
                });
            }
            Some(other) => return Err(reject_special(ctx, field, other)),
            None => {}
        }
    }
    Ok(DayOfWeek::Days(weekdays(values(ctx, field)?, ctx.dialect)))
}

/// Recognises an AWS special form in a list item (or a whole field).
pub(super) fn classify(item: Token<'_>) -> Option<Special<'_>> {
    let text = item.text;
    if text.contains('?') {
        return Some(Special::Question);
    }
    if let Some((day, nth)) = item.split_once('#') {
        return Some(Special::Nth(day, nth));
    }
    if text.eq_ignore_ascii_case("L") {
        return Some(Special::Last);
    }
    if text.eq_ignore_ascii_case("LW") {
        return Some(Special::LastWeekday);
    }
    let prefix = item.until(text.len().saturating_sub(1));
    let numeric = !prefix.text.is_empty() && prefix.text.bytes().all(|b| b.is_ascii_digit());
    match text.as_bytes().last() {
        Some(b'W' | b'w') if numeric => Some(Special::NearestWeekday(prefix)),
        // `FRIL` is Quartz for "last Friday"; month names such as `JUL` end in
        // `L` too, hence the check that the prefix is a day.
        Some(b'L' | b'l')
            if numeric
                || CronField::DayOfWeek
                    .name_value(CronDialect::Aws, prefix.text)
                    .is_some() =>
        {
            Some(Special::LastOf(prefix))
        }
        _ => None,
    }
}

/// The error for a special form found where it is not accepted.
pub(super) fn reject_special(ctx: Ctx, item: Token<'_>, special: Special<'_>) -> CronError {
    let field = ctx.field;
    if ctx.dialect == CronDialect::Unix {
        let hint = match special {
            Special::Question => {
                "write `*` instead of `?` in Unix cron; `?` belongs to AWS cron, \
                 which has 6 fields (minutes hours day-of-month month day-of-week year)"
            }
            _ => {
                "`L`, `W` and `#` exist only in AWS cron, which has 6 fields \
                 (minutes hours day-of-month month day-of-week year), e.g. `0 12 L * ? *`"
            }
        };
        let kind = CronErrorKind::AwsSyntaxInUnix {
            field,
            text: item.text.to_owned(),
        };
        return CronError::new(kind, item.span()).with_hint(hint);
    }
    let form_allowed = match (field, special) {
        (CronField::DayOfMonth | CronField::DayOfWeek, Special::Question) => item.text == "?",
        (CronField::DayOfMonth, Special::Last | Special::LastWeekday) => true,
        (CronField::DayOfMonth, Special::NearestWeekday(_)) => true,
        (CronField::DayOfWeek, Special::Last | Special::LastOf(_) | Special::Nth(..)) => true,
        _ => false,
    };
    let wildcard = special.wildcard();
    if form_allowed {
        let kind = CronErrorKind::NotAlone {
            field,
            text: item.text.to_owned(),
        };
        CronError::new(kind, item.span())
            .with_hint("write it as the only value of the field, or split the schedule in two")
    } else if field.aws_allows(wildcard) {
        invalid_value(ctx, item)
    } else {
        let kind = CronErrorKind::WildcardNotAllowed {
            field,
            wildcard,
            dialect: ctx.dialect,
        };
        CronError::new(kind, item.span()).with_hint(field.syntax_hint(ctx.dialect))
    }
}

/// The K of `N#K`: 1-5.
fn occurrence(nth: Token<'_>) -> Result<i8, CronError> {
    match number(nth.text) {
        Some(value @ 1..=5) => Ok(small(value)),
        _ => {
            let kind = CronErrorKind::OccurrenceOutOfRange {
                text: nth.text.to_owned(),
            };
            Err(CronError::new(kind, blame_separator(nth)).with_hint(
                "`N#K` is the K-th day N of the month, K from 1 to 5, \
                 e.g. `3#2` for the second Tuesday",
            ))
        }
    }
}

/// An AWS day-of-week (1 = Sunday) as a weekday with 0 = Sunday.
fn aws_weekday(value: u16) -> i8 {
    small(value.saturating_sub(1))
}
