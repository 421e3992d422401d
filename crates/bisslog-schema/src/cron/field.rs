//! The cron fields, their ranges and names, and the set of values a field
//! matches.

use std::fmt;

use super::CronDialect;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One field of a cron expression, as named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    /// Minute of the hour, 0-59.
    Minute,
    /// Hour of the day, 0-23.
    Hour,
    /// Day of the month, 1-31.
    DayOfMonth,
    /// Month, 1-12 or `JAN`-`DEC`.
    Month,
    /// Day of the week: 0-7 in Unix cron, 1-7 in AWS cron, or `SUN`-`SAT`.
    DayOfWeek,
    /// Year, 1970-2199 (AWS cron only).
    Year,
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CronField::Minute => "minute",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
            CronField::Year => "year",
        })
    }
}

impl CronField {
    /// The smallest and largest number the field accepts in `dialect`.
    pub(super) fn bounds(self, dialect: CronDialect) -> (u16, u16) {
        match (self, dialect) {
            (CronField::Minute, _) => (0, 59),
            (CronField::Hour, _) => (0, 23),
            (CronField::DayOfMonth, _) => (1, 31),
            (CronField::Month, _) => (1, 12),
            (CronField::DayOfWeek, CronDialect::Unix) => (0, 7),
            (CronField::DayOfWeek, CronDialect::Aws) => (1, 7),
            (CronField::Year, _) => (1970, 2199),
        }
    }

    /// The number a month or day name stands for, case-insensitively.
    pub(super) fn name_value(self, dialect: CronDialect, name: &str) -> Option<u16> {
        let (names, first): (&[&str], u16) = match (self, dialect) {
            (CronField::Month, _) => (&MONTHS, 1),
            (CronField::DayOfWeek, CronDialect::Unix) => (&DAYS, 0),
            (CronField::DayOfWeek, CronDialect::Aws) => (&DAYS, 1),
            _ => return None,
        };
        names
            .iter()
            .zip(first..)
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// Whether `wildcard` may appear in this field in AWS cron (the table in
    /// the EventBridge documentation; `,`, `-` and `*` are allowed everywhere).
    pub(super) fn aws_allows(self, wildcard: char) -> bool {
        match self {
            CronField::DayOfMonth => matches!(wildcard, '?' | '/' | 'L' | 'W'),
            CronField::DayOfWeek => matches!(wildcard, '?' | 'L' | '#'),
            _ => wildcard == '/',
        }
    }

    /// The largest step worth writing: anything bigger only hits the start.
    pub(super) fn max_step(self, dialect: CronDialect) -> u16 {
        let (min, max) = self.bounds(dialect);
        max - min
    }

    /// Advice for a value outside [`CronField::bounds`].
    pub(super) fn range_hint(self, dialect: CronDialect) -> String {
        match (self, dialect) {
            (CronField::DayOfWeek, CronDialect::Aws) => {
                "AWS day-of-week is 1-7 with 1 = Sunday (or SUN-SAT)".to_owned()
            }
            (CronField::DayOfWeek, CronDialect::Unix) => {
                "Unix day-of-week is 0-7 where 0 and 7 are Sunday (or SUN-SAT)".to_owned()
            }
            (CronField::Month, _) => "months are 1-12 (or JAN-DEC)".to_owned(),
            (CronField::Hour, _) => "hours are 0-23; midnight is 0".to_owned(),
            _ => {
                let (min, max) = self.bounds(dialect);
                format!("{self} must be between {min} and {max}")
            }
        }
    }

    /// Advice listing everything the field accepts.
    pub(super) fn syntax_hint(self, dialect: CronDialect) -> String {
        let values = match (self, dialect) {
            (CronField::Minute, _) => "a number 0-59",
            (CronField::Hour, _) => "a number 0-23",
            (CronField::DayOfMonth, CronDialect::Unix) => "a number 1-31",
            (CronField::DayOfMonth, CronDialect::Aws) => {
                "`?`, a number 1-31, `L` (last day), `LW` (last weekday), `NW` (weekday nearest day N)"
            }
            (CronField::Month, _) => "a number 1-12, a name JAN-DEC",
            (CronField::DayOfWeek, CronDialect::Unix) => {
                "a number 0-7 (0 and 7 are Sunday), a name SUN-SAT"
            }
            (CronField::DayOfWeek, CronDialect::Aws) => {
                "`?`, a number 1-7 (1 = Sunday), a name SUN-SAT, `L` (Saturday), \
                 `NL` (last day N of the month), `N#K` (K-th day N of the month)"
            }
            (CronField::Year, _) => "a year 1970-2199",
        };
        let steps = if self == CronField::DayOfWeek && dialect == CronDialect::Aws {
            ""
        } else {
            ", a step like `*/S` or `A-B/S`"
        };
        format!("{self} accepts `*`, {values}, a range like `A-B`{steps}, or a comma list of these")
    }
}

/// The set of numbers a field matches, as a bitmap of up to 256 values
/// starting at `base` (1970 for years, the field minimum otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct ValueSet {
    base: u16,
    bits: [u64; 4],
}

impl ValueSet {
    pub(super) fn empty(base: u16) -> Self {
        ValueSet { base, bits: [0; 4] }
    }

    /// Adds `start`, `start + step`, … up to `end` inclusive.
    pub(super) fn insert_range(&mut self, start: u16, end: u16, step: u16) {
        let step = step.max(1);
        let mut value = start;
        while value <= end {
            self.insert(value);
            match value.checked_add(step) {
                Some(next) => value = next,
                None => break,
            }
        }
    }

    pub(super) fn insert(&mut self, value: u16) {
        if let Some((word, bit)) = self.position(i32::from(value)) {
            *word |= bit;
        }
    }

    pub(super) fn contains(&self, value: i32) -> bool {
        let Some(offset) = value.checked_sub(i32::from(self.base)) else {
            return false;
        };
        let (Ok(word), Ok(bit)) = (usize::try_from(offset / 64), u32::try_from(offset % 64)) else {
            return false;
        };
        self.bits
            .get(word)
            .is_some_and(|bits| bits & (1u64 << bit) != 0)
    }

    /// Whether every value in `min..=max` is in the set.
    pub(super) fn contains_all(&self, min: u16, max: u16) -> bool {
        (min..=max).all(|value| self.contains(i32::from(value)))
    }

    /// The members in increasing order.
    pub(super) fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (self.base..=self.base.saturating_add(255)).filter(|&v| self.contains(i32::from(v)))
    }

    fn position(&mut self, value: i32) -> Option<(&mut u64, u64)> {
        let offset = value.checked_sub(i32::from(self.base))?;
        let word = usize::try_from(offset / 64).ok()?;
        let bit = u32::try_from(offset % 64).ok()?;
        Some((self.bits.get_mut(word)?, 1u64 << bit))
    }
}
