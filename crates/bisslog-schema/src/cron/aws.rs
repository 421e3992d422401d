//! Writing a parsed schedule in AWS EventBridge syntax.
//!
//! The fields are generated from the parsed sets rather than copied from the
//! source text: that handles macros, Unix day-of-week numbering (`0` and `7`
//! are Sunday, AWS has `1` = Sunday) and the Vixie day rule in one place.

use std::fmt::Write as _;

use super::field::ValueSet;
use super::matcher::{DayOfMonth, DayOfWeek, DayRule, Schedule};
use super::parse;
use super::{CronError, CronErrorKind};

/// The AWS form of a Unix `schedule` written as `source`; errors point into
/// `source`.
pub(super) fn from_unix(source: &str, schedule: &Schedule) -> Result<String, CronError> {
    let (day_of_month, day_of_week) = day_fields(source, schedule)?;
    let year = schedule
        .year
        .as_ref()
        .map_or_else(|| "*".to_owned(), |years| compact(years, 1970, 2199));
    Ok(format!(
        "{} {} {day_of_month} {} {day_of_week} {year}",
        compact(&schedule.minute, 0, 59),
        compact(&schedule.hour, 0, 23),
        compact(&schedule.month, 1, 12),
    ))
}

/// The day-of-month and day-of-week fields: one of them must be `?`.
fn day_fields(source: &str, schedule: &Schedule) -> Result<(String, String), CronError> {
    let by_month = month_day_restriction(&schedule.day_of_month);
    let by_week = weekday_restriction(&schedule.day_of_week);
    match (by_month, by_week, schedule.day_rule) {
        // Either field alone may pick a day, and one picks them all.
        (None, _, DayRule::Either) | (_, None, DayRule::Either) | (None, None, DayRule::Both) => {
            Ok(("*".to_owned(), "?".to_owned()))
        }
        (Some(days), None, DayRule::Both) => Ok((days, "?".to_owned())),
        (None, Some(days), DayRule::Both) => Ok(("?".to_owned(), days)),
        (Some(by_month), Some(by_week), rule) => {
            Err(not_expressible(source, schedule, rule, &by_month, &by_week))
        }
    }
}

/// The day-of-month field, or `None` when it does not restrict anything.
fn month_day_restriction(days: &DayOfMonth) -> Option<String> {
    match days {
        DayOfMonth::Unspecified => None,
        DayOfMonth::Days(days) if days.contains_all(1, 31) => None,
        DayOfMonth::Days(days) => Some(compact(days, 1, 31)),
        DayOfMonth::Last => Some("L".to_owned()),
        DayOfMonth::LastWeekday => Some("LW".to_owned()),
        DayOfMonth::NearestWeekday(day) => Some(format!("{day}W")),
    }
}

/// The day-of-week field in AWS numbering (1 = Sunday), or `None` when it
/// does not restrict anything. AWS allows no steps here, so only ranges.
fn weekday_restriction(days: &DayOfWeek) -> Option<String> {
    match days {
        DayOfWeek::Unspecified => None,
        DayOfWeek::Days(days) if days.contains_all(0, 6) => None,
        DayOfWeek::Days(days) => Some(ranges(&days.iter().map(|day| day + 1).collect::<Vec<_>>())),
        DayOfWeek::Last(weekday) => Some(format!("{}L", weekday + 1)),
        DayOfWeek::Nth { weekday, nth } => Some(format!("{}#{nth}", weekday + 1)),
    }
}

fn not_expressible(
    source: &str,
    schedule: &Schedule,
    rule: DayRule,
    by_month: &str,
    by_week: &str,
) -> CronError {
    let fields: Vec<_> = parse::fields(source).collect();
    let span = match (fields.get(2), fields.get(4)) {
        (Some(dom), Some(dow)) => dom.start..dow.span().end,
        _ => 0..source.len(),
    };
    let hint = match rule {
        DayRule::Either => {
            let time = format!(
                "{} {}",
                compact(&schedule.minute, 0, 59),
                compact(&schedule.hour, 0, 23)
            );
            let month = compact(&schedule.month, 1, 12);
            format!(
                "Unix cron runs on days that match day-of-month OR day-of-week, but AWS cron \
                 can restrict only one of them; use two schedules: \
                 `cron({time} {by_month} {month} ? *)` and `cron({time} ? {month} {by_week} *)`"
            )
        }
        DayRule::Both => {
            "AWS cron can restrict only one of day-of-month and day-of-week".to_owned()
        }
    };
    CronError::new(CronErrorKind::NotExpressibleInAws, span).with_hint(hint)
}

/// A short field for the members of `set` within `min..=max`: `*`, a step
/// (`*/15`, `5/10`) when the members are a progression running to the end of
/// the field, otherwise a list of ranges.
fn compact(set: &ValueSet, min: u16, max: u16) -> String {
    let members: Vec<u16> = set.iter().filter(|v| (min..=max).contains(v)).collect();
    if set.contains_all(min, max) {
        return "*".to_owned();
    }
    match progression_step(&members, max) {
        Some((first, step)) if first == min => format!("*/{step}"),
        Some((first, step)) => format!("{first}/{step}"),
        None => ranges(&members),
    }
}

/// `(first, step)` when `members` (three or more) are evenly spaced by a
/// step of at least 2 and the next one would be past `max`, i.e. exactly
/// what `first/step` means.
fn progression_step(members: &[u16], max: u16) -> Option<(u16, u16)> {
    if members.len() < 3 {
        return None;
    }
    let (&first, &last) = (members.first()?, members.last()?);
    let step = members.get(1)?.checked_sub(first)?;
    let even = members.windows(2).all(|pair| match pair {
        [x, y] => y.checked_sub(*x) == Some(step),
        _ => false,
    });
    (step >= 2 && even && u32::from(last) + u32::from(step) > u32::from(max))
        .then_some((first, step))
}

/// Sorted `values` as a comma list of single values and `A-B` ranges.
fn ranges(values: &[u16]) -> String {
    let mut out = String::new();
    let mut rest = values;
    while let Some((&start, tail)) = rest.split_first() {
        // Extend the run while the values are consecutive.
        let len = tail
            .iter()
            .zip(1u16..)
            .take_while(|&(&v, i)| start.checked_add(i) == Some(v))
            .count();
        let end = len.checked_sub(1).and_then(|last| tail.get(last));
        if !out.is_empty() {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = match end {
            Some(end) => write!(out, "{start}-{end}"),
            None => write!(out, "{start}"),
        };
        rest = tail.get(len..).unwrap_or_default();
    }
    out
}
