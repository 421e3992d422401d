//! The parsed form of a cron expression and the test whether a date-time
//! matches it. Matching allocates nothing: it runs in scheduler loops.

use jiff::civil::{Date, DateTime};

use super::field::ValueSet;

/// How far ahead the next firing is searched: beyond it, a schedule (say
/// the 30th of February, or a past year) never fires.
pub(super) const SEARCH_YEARS: i16 = 8;

/// Weekday numbers used internally: 0 = Sunday … 6 = Saturday.
const SATURDAY: i8 = 6;
const SUNDAY: i8 = 0;

/// One parsed field per cron field, in a dialect-independent form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Schedule {
    pub(super) minute: ValueSet,
    pub(super) hour: ValueSet,
    pub(super) day_of_month: DayOfMonth,
    pub(super) month: ValueSet,
    pub(super) day_of_week: DayOfWeek,
    /// `None` for Unix cron, which has no year field.
    pub(super) year: Option<ValueSet>,
    pub(super) day_rule: DayRule,
}

/// What the day-of-month field matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum DayOfMonth {
    /// AWS `?`: no restriction from this field.
    Unspecified,
    /// These days of the month (1-31).
    Days(ValueSet),
    /// AWS `L`: the last day of the month.
    Last,
    /// AWS `LW`: the last weekday (Monday-Friday) of the month.
    LastWeekday,
    /// AWS `NW`: the weekday nearest day N, without leaving the month.
    NearestWeekday(i8),
}

/// What the day-of-week field matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum DayOfWeek {
    /// AWS `?`: no restriction from this field.
    Unspecified,
    /// These weekdays, 0 = Sunday … 6 = Saturday.
    Days(ValueSet),
    /// AWS `NL`: the last such weekday of the month.
    Last(i8),
    /// AWS `N#K`: the `nth` such weekday of the month.
    Nth {
        /// 0 = Sunday … 6 = Saturday.
        weekday: i8,
        /// 1-5.
        nth: i8,
    },
}

/// How the two day fields combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum DayRule {
    /// A day must match both fields.
    Both,
    /// A day must match either field: the Vixie cron rule when both Unix day
    /// fields are restricted.
    Either,
}

impl Schedule {
    pub(super) fn matches(&self, at: DateTime) -> bool {
        self.minute.contains(at.minute().into())
            && self.hour.contains(at.hour().into())
            && self.month.contains(at.month().into())
            && self
                .year
                .as_ref()
                .is_none_or(|years| years.contains(at.year().into()))
            && self.day_matches(at.date())
    }

    /// The first minute strictly after `after` (seconds ignored) that
    /// matches, searching at most [`SEARCH_YEARS`] years ahead. Jumps over
    /// whole months, days and hours that cannot match, so a rare schedule
    /// costs a few thousand steps at most, never a minute-by-minute scan.
    pub(super) fn next_after(&self, after: DateTime) -> Option<DateTime> {
        let limit = after.year().saturating_add(SEARCH_YEARS);
        let mut at = after
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(jiff::Span::new().minutes(1))
            .ok()?;
        while at.year() <= limit {
            let year_ok = self
                .year
                .as_ref()
                .is_none_or(|years| years.contains(at.year().into()));
            at = if !year_ok || !self.month.contains(at.month().into()) {
                at.date()
                    .first_of_month()
                    .checked_add(jiff::Span::new().months(1))
                    .ok()?
                    .to_datetime(jiff::civil::Time::midnight())
            } else if !self.day_matches(at.date()) {
                at.date()
                    .tomorrow()
                    .ok()?
                    .to_datetime(jiff::civil::Time::midnight())
            } else if !self.hour.contains(at.hour().into()) {
                at.with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(jiff::Span::new().hours(1))
                    .ok()?
            } else if !self.minute.contains(at.minute().into()) {
                at.checked_add(jiff::Span::new().minutes(1)).ok()?
            } else {
                return Some(at);
            };
        }
        None
    }

    fn day_matches(&self, date: Date) -> bool {
        let by_month = self.day_of_month.matches(date);
        let by_week = self.day_of_week.matches(date);
        match self.day_rule {
            DayRule::Both => by_month && by_week,
            DayRule::Either => by_month || by_week,
        }
    }
}

impl DayOfMonth {
    fn matches(&self, date: Date) -> bool {
        let day = date.day();
        let last = date.days_in_month();
        match self {
            DayOfMonth::Unspecified => true,
            DayOfMonth::Days(days) => days.contains(day.into()),
            DayOfMonth::Last => day == last,
            DayOfMonth::LastWeekday => day == nearest_weekday(date, last),
            // Quartz skips a month that has no day N (e.g. `31W` in April).
            DayOfMonth::NearestWeekday(target) => {
                *target <= last && day == nearest_weekday(date, *target)
            }
        }
    }
}

impl DayOfWeek {
    fn matches(&self, date: Date) -> bool {
        let weekday = date.weekday().to_sunday_zero_offset();
        match self {
            DayOfWeek::Unspecified => true,
            DayOfWeek::Days(days) => days.contains(weekday.into()),
            DayOfWeek::Last(wanted) => weekday == *wanted && date.day() + 7 > date.days_in_month(),
            DayOfWeek::Nth {
                weekday: wanted,
                nth,
            } => weekday == *wanted && (date.day() - 1) / 7 + 1 == *nth,
        }
    }
}

/// The weekday closest to day `target` of `date`'s month, never leaving the
/// month (Quartz `W`): a Saturday moves back to Friday unless it is the 1st
/// (then Monday the 3rd); a Sunday moves on to Monday unless it is the last
/// day (then Friday).
fn nearest_weekday(date: Date, target: i8) -> i8 {
    match weekday_of_day(date, target) {
        SATURDAY if target == 1 => 3,
        SATURDAY => target - 1,
        SUNDAY if target == date.days_in_month() => target - 2,
        SUNDAY => target + 1,
        _ => target,
    }
}

/// The weekday (0 = Sunday) of day `day` in `date`'s month, derived from
/// `date`'s own weekday so that no fallible date construction is needed.
fn weekday_of_day(date: Date, day: i8) -> i8 {
    (date.weekday().to_sunday_zero_offset() + (day - date.day())).rem_euclid(7)
}
