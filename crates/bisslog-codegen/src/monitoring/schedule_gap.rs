//! How long a schedule may stay silent: the longest time between two
//! consecutive runs of its cron expression, found by walking its runs.

use bisslog_schema::ScheduleTrigger;
use bisslog_schema::cron::CronExpr;

/// How many runs to look at, at most: enough to see a weekday schedule's
/// weekend gap many times over, few enough to stay instant for
/// `* * * * *`.
const MAX_RUNS: usize = 10_000;

/// How far to look: nine years, so a yearly schedule shows several gaps
/// and a 29 February one at least two.
const HORIZON_YEARS: i16 = 9;

/// The longest time, in seconds, between two consecutive runs of `cron`
/// in civil (wall-clock) time, over its first runs from 2025-01-01;
/// `None` when it runs fewer than twice in that time.
pub(crate) fn longest_gap_seconds(cron: &CronExpr) -> Option<i64> {
    let start = jiff::civil::date(2025, 1, 1).at(0, 0, 0, 0);
    let end = jiff::civil::date(2025 + HORIZON_YEARS, 1, 1).at(0, 0, 0, 0);
    let mut previous = cron.next_civil_after(start)?;
    let mut longest: Option<i64> = None;
    for _ in 0..MAX_RUNS {
        let Some(next) = cron.next_civil_after(previous) else {
            break;
        };
        if next > end {
            break;
        }
        let gap = next.duration_since(previous).as_secs();
        longest = Some(longest.map_or(gap, |l| l.max(gap)));
        previous = next;
    }
    longest
}

/// The age, in seconds, of a use case's last tick beyond which its
/// schedules are late: the longest gap of the schedule that runs most
/// often (when a use case has several, one of them runs at least that
/// often), plus a tenth of it and at least five minutes for a slow start
/// or scrape, plus an hour when a time zone other than UTC may shift a run
/// across a daylight-saving change. `None` when no schedule runs twice.
pub(crate) fn late_after_seconds<'a>(
    schedules: impl IntoIterator<Item = &'a ScheduleTrigger>,
) -> Option<i64> {
    schedules
        .into_iter()
        .filter_map(|schedule| {
            let gap = longest_gap_seconds(&schedule.cronjob)?;
            let zoned = schedule
                .timezone
                .as_deref()
                .is_some_and(|tz| !tz.eq_ignore_ascii_case("utc"));
            Some(gap + (gap / 10).max(300) + if zoned { 3600 } else { 0 })
        })
        .min()
}

/// `seconds` in days, hours, minutes and seconds for people (`7d 2h`).
pub(crate) fn human(seconds: i64) -> String {
    let parts = [
        (seconds / 86_400, "d"),
        (seconds % 86_400 / 3600, "h"),
        (seconds % 3600 / 60, "m"),
        (seconds % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0s".to_owned()
    } else {
        text.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(expr: &str) -> Option<i64> {
        CronExpr::parse(expr)
            .ok()
            .as_ref()
            .and_then(longest_gap_seconds)
    }

    #[test]
    fn gaps_are_the_longest_silence() {
        assert_eq!(gap("* * * * *"), Some(60));
        assert_eq!(gap("*/15 * * * *"), Some(900));
        assert_eq!(gap("0 3 * * *"), Some(86_400));
        // Friday 17:00 to Monday 09:00.
        assert_eq!(gap("0 9-17 * * 1-5"), Some(64 * 3600));
        // AWS dialect, weekly.
        assert_eq!(gap("0 0 ? * 1 *"), Some(7 * 86_400));
    }

    #[test]
    fn people_read_durations() {
        assert_eq!(human(612_000), "7d 2h");
        assert_eq!(human(3900), "1h 5m");
        assert_eq!(human(0), "0s");
    }
}
