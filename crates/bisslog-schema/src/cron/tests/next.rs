//! The next firing: whole days of ticks, rare schedules, time zones and
//! daylight-saving changes.

use jiff::Zoned;
use jiff::civil::{DateTime, date};
use jiff::tz::TimeZone;

use crate::cron::CronExpr;

fn cron(expr: &str) -> CronExpr {
    CronExpr::parse(expr).unwrap()
}

fn zoned(at: DateTime, zone: &str) -> Zoned {
    at.to_zoned(TimeZone::get(zone).unwrap()).unwrap()
}

/// Every firing in `[from, until)`.
fn firings(cron: &CronExpr, from: &Zoned, until: &Zoned) -> Vec<Zoned> {
    let mut out = Vec::new();
    // Strictly after `from`: start one second before it.
    let mut at = from.checked_sub(jiff::Span::new().seconds(1)).unwrap();
    for _ in 0..100_000 {
        match cron.next_after(&at) {
            Some(next) if next.timestamp() < until.timestamp() => {
                out.push(next.clone());
                at = next;
            }
            _ => return out,
        }
    }
    panic!("more than 100,000 firings");
}

#[test]
fn every_five_minutes_fires_288_times_a_day() {
    let start = zoned(date(2026, 11, 21).at(0, 0, 0, 0), "UTC");
    let end = zoned(date(2026, 11, 22).at(0, 0, 0, 0), "UTC");
    let all = firings(&cron("*/5 * * * *"), &start, &end);
    assert_eq!(all.len(), 288);
    assert_eq!(all[0], start);
    assert_eq!(all[287].datetime(), date(2026, 11, 21).at(23, 55, 0, 0));
}

#[test]
fn strictly_after_and_seconds_ignored() {
    let c = cron("0 * * * *");
    let at = zoned(date(2026, 1, 1).at(10, 0, 0, 0), "UTC");
    assert_eq!(
        c.next_after(&at).unwrap().datetime(),
        date(2026, 1, 1).at(11, 0, 0, 0)
    );
    let later = zoned(date(2026, 1, 1).at(10, 0, 59, 999), "UTC");
    assert_eq!(
        c.next_after(&later).unwrap().datetime(),
        date(2026, 1, 1).at(11, 0, 0, 0)
    );
}

#[test]
fn rare_schedules_are_found_and_impossible_ones_end() {
    let leap = cron("0 0 29 2 *");
    let from = date(2026, 3, 1).at(0, 0, 0, 0);
    assert_eq!(
        leap.next_civil_after(from),
        Some(date(2028, 2, 29).at(0, 0, 0, 0))
    );
    // The last Friday of each month, AWS style.
    let last_friday = cron("0 10 ? * 6L *");
    assert_eq!(
        last_friday.next_civil_after(date(2026, 11, 21).at(0, 0, 0, 0)),
        Some(date(2026, 11, 27).at(10, 0, 0, 0))
    );
    // A year that has passed, and a day that never comes.
    assert_eq!(cron("0 0 1 1 ? 2020").next_civil_after(from), None);
    assert_eq!(cron("0 0 30 2 *").next_civil_after(from), None);
}

#[test]
fn aws_cron_in_a_zone_across_spring_forward() {
    // Europe/Madrid jumps from 02:00 to 03:00 on 2026-03-29.
    let c = cron("30 1-3 ? * * *");
    let from = zoned(date(2026, 3, 28).at(0, 0, 0, 0), "Europe/Madrid");
    let until = zoned(date(2026, 3, 30).at(0, 0, 0, 0), "Europe/Madrid");
    let shown: Vec<String> = firings(&c, &from, &until)
        .iter()
        .map(|z| z.timestamp().to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "2026-03-28T00:30:00Z", // 01:30 +01:00
            "2026-03-28T01:30:00Z", // 02:30 +01:00
            "2026-03-28T02:30:00Z", // 03:30 +01:00
            "2026-03-29T00:30:00Z", // 01:30 +01:00
            "2026-03-29T01:30:00Z", // 02:30 does not exist: 03:30 +02:00
                                    // 03:30 +02:00 is that same instant: it fires once.
        ]
    );
}

#[test]
fn repeated_hour_fires_once_in_fall_back() {
    // Europe/Madrid falls back from 03:00 to 02:00 on 2026-10-25.
    let c = cron("*/30 * * * *");
    let from = zoned(date(2026, 10, 25).at(1, 0, 0, 0), "Europe/Madrid");
    let until = zoned(date(2026, 10, 25).at(4, 0, 0, 0), "Europe/Madrid");
    let shown: Vec<String> = firings(&c, &from, &until)
        .iter()
        .map(|z| z.timestamp().to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "2026-10-24T23:00:00Z", // 01:00 +02:00
            "2026-10-24T23:30:00Z", // 01:30 +02:00
            "2026-10-25T00:00:00Z", // 02:00 +02:00, first occurrence
            "2026-10-25T00:30:00Z", // 02:30 +02:00
            // 02:00 and 02:30 +01:00 repeat wall-clock times: not again
            "2026-10-25T02:00:00Z", // 03:00 +01:00
            "2026-10-25T02:30:00Z", // 03:30 +01:00
        ]
    );
}

#[test]
fn unix_sunday_midnight_weekly_in_new_york() {
    let c = cron("0 0 * * 0");
    let from = zoned(date(2026, 11, 1).at(0, 0, 0, 0), "America/New_York");
    let next = c.next_after(&from).unwrap();
    assert_eq!(
        next.to_string(),
        "2026-11-08T00:00:00-05:00[America/New_York]"
    );
}
