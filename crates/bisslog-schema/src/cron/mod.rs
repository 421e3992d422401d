//! Cron expressions as written in bisslog service metadata.
//!
//! bisslog accepts two cron dialects and tells them apart by counting fields:
//!
//! * **5 fields are Unix cron**: `minute hour day-of-month month day-of-week`,
//!   for example `*/15 9-17 * * MON-FRI` (every quarter hour during office
//!   hours). Day-of-week is `0-7`, where both `0` and `7` are Sunday. When both
//!   day-of-month and day-of-week are restricted (neither starts with `*`), a
//!   day matches if *either* matches, as in Vixie cron: `0 0 13 * 5` runs on
//!   every 13th and on every Friday. The macros `@yearly`, `@annually`,
//!   `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly` are accepted.
//! * **6 fields are AWS EventBridge cron**:
//!   `minutes hours day-of-month month day-of-week year`, for example
//!   `0 12 ? * MON-FRI *` (noon on weekdays). Day-of-week is `1-7` with
//!   `1` = Sunday, exactly one of day-of-month and day-of-week must be `?`, and
//!   the AWS wildcards `L`, `W` and `#` are available. An AWS SAM style
//!   `cron(...)` wrapper is accepted: `cron(0 12 ? * MON-FRI *)`.
//!
//! There is no seconds field: a Quartz or Spring expression such as
//! `0 */5 * * * *` is read as AWS cron and rejected with a hint.
//!
//! ```
//! # use bisslog_schema::cron::{CronDialect, CronExpr};
//! let unix: CronExpr = "0 9 * * 1-5".parse()?;
//! assert_eq!(unix.dialect(), CronDialect::Unix);
//! // The same schedule for EventBridge: day-of-week numbers shift by one.
//! assert_eq!(unix.to_aws()?, "0 9 ? * 2-6 *");
//!
//! let aws = CronExpr::parse("cron(0 10 ? * 6L *)")?; // the last Friday of each month
//! assert_eq!(aws.dialect(), CronDialect::Aws);
//! assert_eq!(aws.as_str(), "0 10 ? * 6L *");
//!
//! let err = CronExpr::parse("0 0 ? * 8 *").unwrap_err();
//! assert_eq!(err.span, 8..9); // points at the `8`
//! # Ok::<(), bisslog_schema::cron::CronError>(())
//! ```

mod aws;
mod error;
mod field;
mod list;
mod matcher;
mod parse;
mod special;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

pub use error::{CronError, CronErrorKind};
pub use field::CronField;

use matcher::Schedule;

/// Which cron syntax an expression uses; decided by its number of fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronDialect {
    /// Classic 5-field Unix (Vixie) cron:
    /// `minute hour day-of-month month day-of-week`, or a macro like `@daily`.
    Unix,
    /// 6-field AWS EventBridge cron:
    /// `minutes hours day-of-month month day-of-week year`.
    Aws,
}

impl fmt::Display for CronDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CronDialect::Unix => "Unix",
            CronDialect::Aws => "AWS",
        })
    }
}

/// A parsed, validated cron expression.
///
/// Two values are equal when they were written the same way (after trimming
/// and removing a `cron(...)` wrapper).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CronExpr {
    source: Box<str>,
    dialect: CronDialect,
    schedule: Schedule,
}

impl CronExpr {
    /// Parses and validates `expr`: 5 fields (or a macro) are Unix cron,
    /// 6 fields (optionally inside `cron(...)`) are AWS EventBridge cron.
    ///
    /// On failure, the error's span is a byte range of `expr`.
    pub fn parse(expr: &str) -> Result<CronExpr, CronError> {
        let parsed = parse::parse(expr)?;
        Ok(CronExpr {
            source: parsed.body.into(),
            dialect: parsed.dialect,
            schedule: parsed.schedule,
        })
    }

    /// The dialect the expression is written in.
    pub fn dialect(&self) -> CronDialect {
        self.dialect
    }

    /// The expression as written, trimmed and without a `cron(...)` wrapper.
    /// A macro such as `@daily` is kept as is.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the schedule fires in the minute of `at`; seconds and
    /// sub-seconds are ignored.
    pub fn matches(&self, at: jiff::civil::DateTime) -> bool {
        self.schedule.matches(at)
    }

    /// The first wall-clock minute strictly after `after` at which the
    /// schedule fires; `None` when it never fires again (within the next
    /// eight years).
    pub fn next_civil_after(&self, after: jiff::civil::DateTime) -> Option<jiff::civil::DateTime> {
        self.schedule.next_after(after)
    }

    /// The first instant strictly after `after` at which the schedule fires,
    /// the cron read on the wall clock of `after`'s time zone.
    ///
    /// Across daylight-saving changes every wall-clock time of the schedule
    /// fires at most once, the "compatible" rule of RFC 5545 and Temporal: a
    /// time the clocks skip is moved forward by the gap (02:30 fires at
    /// 03:30 when clocks jump from 02:00 to 03:00), and the schedule's other
    /// times inside the gap are passed over; a time the clocks repeat (01:30
    /// when they fall back from 02:00 to 01:00) fires at its first
    /// occurrence only.
    ///
    /// ```
    /// # use bisslog_schema::cron::CronExpr;
    /// let cron = CronExpr::parse("30 2 * * *")?; // 02:30 every day
    /// let madrid = jiff::tz::TimeZone::get("Europe/Madrid").unwrap();
    /// // Spring forward on 2026-03-29: 02:00 becomes 03:00.
    /// let before = jiff::civil::date(2026, 3, 28).at(12, 0, 0, 0).to_zoned(madrid).unwrap();
    /// let next = cron.next_after(&before).unwrap();
    /// assert_eq!(next.to_string(), "2026-03-29T03:30:00+02:00[Europe/Madrid]");
    /// let after = cron.next_after(&next).unwrap();
    /// assert_eq!(after.to_string(), "2026-03-30T02:30:00+02:00[Europe/Madrid]");
    /// # Ok::<(), bisslog_schema::cron::CronError>(())
    /// ```
    pub fn next_after(&self, after: &jiff::Zoned) -> Option<jiff::Zoned> {
        let tz = after.time_zone();
        let mut cursor = after.datetime();
        loop {
            let civil = self.schedule.next_after(cursor)?;
            // `compatible`: a skipped time moves forward by the gap, a
            // repeated one takes its first (earlier) occurrence.
            let zoned = tz.to_ambiguous_zoned(civil).compatible().ok()?;
            if zoned.timestamp() > after.timestamp() {
                return Some(zoned);
            }
            // A repeated wall-clock time already fired, or a skipped one
            // mapped onto an instant already past: look further.
            cursor = civil;
        }
    }

    /// The same schedule in AWS EventBridge 6-field syntax, without the
    /// `cron(...)` wrapper.
    ///
    /// An AWS expression comes back as written, with its fields separated by
    /// single spaces. A Unix expression is translated (day-of-week numbers
    /// shift by one, `?` goes in the unrestricted day field). A Unix
    /// expression that restricts both day-of-month and day-of-week cannot be
    /// translated, because AWS can restrict only one of them; the error's
    /// span is then a byte range of [`CronExpr::as_str`].
    pub fn to_aws(&self) -> Result<String, CronError> {
        match self.dialect {
            CronDialect::Aws => Ok(parse::fields(&self.source)
                .map(|token| token.text)
                .collect::<Vec<_>>()
                .join(" ")),
            CronDialect::Unix => aws::from_unix(&self.source, &self.schedule),
        }
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for CronExpr {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronExpr::parse(s)
    }
}
