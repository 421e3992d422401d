//! Unit tests and property tests of the cron module.
#![allow(clippy::unwrap_used)]

mod errors;
mod matching;
mod next;
mod props;
mod to_aws;

use jiff::ToSpan;
use jiff::civil::{Date, DateTime, date};

use super::{CronError, CronExpr};

fn parse(expr: &str) -> CronExpr {
    CronExpr::parse(expr).unwrap_or_else(|err| panic!("`{expr}` should parse: {err}"))
}

fn parse_err(expr: &str) -> CronError {
    match CronExpr::parse(expr) {
        Ok(parsed) => panic!("`{expr}` should be rejected, got {parsed:?}"),
        Err(err) => err,
    }
}

/// Every minute of the `days` days starting at `start`.
fn minutes(start: Date, days: i32) -> impl Iterator<Item = DateTime> {
    start
        .at(0, 0, 0, 0)
        .series(1.minute())
        .take(usize::try_from(days).unwrap() * 1440)
}

/// The days of `year`-`month` on which `expr` fires at `hour`:`minute`.
fn days_matching(expr: &str, year: i16, month: i8, hour: i8, minute: i8) -> Vec<i8> {
    let expr = parse(expr);
    let first = date(year, month, 1);
    (1..=first.days_in_month())
        .filter(|&day| expr.matches(date(year, month, day).at(hour, minute, 0, 0)))
        .collect()
}
