//! Field-level parsing: comma lists of `*`, values, ranges and steps.

use super::field::ValueSet;
use super::matcher::DayOfWeek;
use super::parse::Token;
use super::special::{classify, reject_special};
use super::{CronDialect, CronError, CronErrorKind, CronField};

/// The field being parsed and the dialect it is read in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ctx {
    pub(super) field: CronField,
    pub(super) dialect: CronDialect,
}

/// A comma list of `*`, `N`, `A-B`, `*/S`, `A/S` and `A-B/S`, as numbers of
/// the field in its dialect.
pub(super) fn values(ctx: Ctx, field: Token<'_>) -> Result<ValueSet, CronError> {
    let (min, _) = ctx.field.bounds(ctx.dialect);
    let mut set = ValueSet::empty(min);
    for item in items(ctx, field) {
        let item = item?;
        if let Some(special) = classify(item) {
            return Err(reject_special(ctx, item, special));
        }
        let (start, end, step) = range_item(ctx, item)?;
        set.insert_range(start, end, step);
    }
    Ok(set)
}

/// Unix day-of-week: 0-7 where 0 and 7 are Sunday.
pub(super) fn unix_day_of_week(ctx: Ctx, field: Token<'_>) -> Result<DayOfWeek, CronError> {
    Ok(DayOfWeek::Days(weekdays(values(ctx, field)?, ctx.dialect)))
}

/// The items of a comma list, rejecting empty ones.
fn items<'a>(
    ctx: Ctx,
    field: Token<'a>,
) -> impl Iterator<Item = Result<Token<'a>, CronError>> + 'a {
    let mut offset = 0;
    field.text.split(',').map(move |piece| {
        let item = field.from(offset).until(piece.len());
        offset += piece.len() + 1;
        if !item.text.is_empty() {
            return Ok(item);
        }
        // Point at a comma next to the hole: the one after it, unless the
        // list ends there (`1,`).
        let last = offset > field.text.len();
        let comma = if last {
            item.start.saturating_sub(1)..item.start
        } else {
            item.start..item.start + 1
        };
        Err(
            CronError::new(CronErrorKind::EmptyItem { field: ctx.field }, comma)
                .with_hint("remove the extra `,`"),
        )
    })
}

/// One list item without special forms, as `(start, end, step)`.
fn range_item(ctx: Ctx, item: Token<'_>) -> Result<(u16, u16, u16), CronError> {
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    if step.is_some() && ctx.dialect == CronDialect::Aws && !ctx.field.aws_allows('/') {
        let kind = CronErrorKind::WildcardNotAllowed {
            field: ctx.field,
            wildcard: '/',
            dialect: ctx.dialect,
        };
        return Err(CronError::new(kind, item.span()).with_hint(ctx.field.syntax_hint(ctx.dialect)));
    }
    let (min, max) = ctx.field.bounds(ctx.dialect);
    let (start, end) = if base.text == "*" {
        (min, max)
    } else if let Some((first, last)) = base.split_once('-') {
        let start = value(ctx, first, item)?;
        let end = value(ctx, last, item)?;
        if start > end {
            return Err(reversed_range(ctx, base, start, end));
        }
        (start, end)
    } else {
        let start = value(ctx, base, item)?;
        // `A/S` runs from A to the end of the field.
        (start, if step.is_some() { max } else { start })
    };
    let step = match step {
        Some(step) => step_value(ctx, step)?,
        None => 1,
    };
    Ok((start, end, step))
}

fn reversed_range(ctx: Ctx, range: Token<'_>, start: u16, end: u16) -> CronError {
    let (min, max) = ctx.field.bounds(ctx.dialect);
    let kind = CronErrorKind::ReversedRange {
        field: ctx.field,
        text: range.text.to_owned(),
        start,
        end,
    };
    CronError::new(kind, range.span()).with_hint(format!(
        "a range cannot wrap around; write it as two ranges: `{start}-{max},{min}-{end}`"
    ))
}

/// A number or name of the field. `item` is blamed when `token` is empty
/// (as in `-5` or `1-`).
pub(super) fn value(ctx: Ctx, token: Token<'_>, item: Token<'_>) -> Result<u16, CronError> {
    if token.text.is_empty() {
        return Err(invalid_value(ctx, item));
    }
    if !token.text.bytes().all(|b| b.is_ascii_digit()) {
        return ctx
            .field
            .name_value(ctx.dialect, token.text)
            .ok_or_else(|| invalid_value(ctx, token));
    }
    let (min, max) = ctx.field.bounds(ctx.dialect);
    match number(token.text) {
        Some(value) if (min..=max).contains(&value) => Ok(value),
        // Too big for u16 is out of range as well.
        _ => {
            let kind = CronErrorKind::OutOfRange {
                field: ctx.field,
                text: token.text.to_owned(),
                min,
                max,
                dialect: ctx.dialect,
            };
            Err(CronError::new(kind, token.span()).with_hint(ctx.field.range_hint(ctx.dialect)))
        }
    }
}

pub(super) fn invalid_value(ctx: Ctx, token: Token<'_>) -> CronError {
    let kind = CronErrorKind::InvalidValue {
        field: ctx.field,
        text: token.text.to_owned(),
    };
    CronError::new(kind, token.span()).with_hint(ctx.field.syntax_hint(ctx.dialect))
}

fn step_value(ctx: Ctx, step: Token<'_>) -> Result<u16, CronError> {
    let max = ctx.field.max_step(ctx.dialect);
    match number(step.text) {
        Some(value) if (1..=max).contains(&value) => Ok(value),
        _ => {
            let kind = CronErrorKind::InvalidStep {
                field: ctx.field,
                text: step.text.to_owned(),
                max,
            };
            Err(CronError::new(kind, blame_separator(step))
                .with_hint(format!("e.g. `*/5` for every 5th {}", ctx.field)))
        }
    }
}

/// The span of `token`, or of the one-byte separator before it when it is
/// empty (as in `*/` or `3#`), so that the caret lands on something visible.
pub(super) fn blame_separator(token: Token<'_>) -> std::ops::Range<usize> {
    if token.text.is_empty() {
        token.start.saturating_sub(1)..token.start
    } else {
        token.span()
    }
}

/// A decimal number of ASCII digits; `None` when empty, not digits, or too
/// big for `u16`.
pub(super) fn number(text: &str) -> Option<u16> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u16, |acc, byte| {
        let digit = byte.is_ascii_digit().then(|| u16::from(byte - b'0'))?;
        acc.checked_mul(10)?.checked_add(digit)
    })
}

/// Day-of-week values of `dialect` as weekdays with 0 = Sunday.
pub(super) fn weekdays(values: ValueSet, dialect: CronDialect) -> ValueSet {
    let mut days = ValueSet::empty(0);
    for value in values.iter() {
        days.insert(match dialect {
            CronDialect::Unix => value % 7,
            CronDialect::Aws => value.saturating_sub(1),
        });
    }
    days
}

/// Narrows a validated day, weekday or occurrence number.
pub(super) fn small(value: u16) -> i8 {
    i8::try_from(value).unwrap_or(i8::MAX)
}
