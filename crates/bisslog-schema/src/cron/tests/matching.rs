//! `CronExpr::matches`, including the AWS day wildcards and the Unix day rule.

use jiff::civil::{Weekday, date};

use super::super::CronDialect;
use super::{days_matching, minutes, parse};

#[test]
fn every_five_minutes_fires_288_times_a_day() {
    let expr = parse("*/5 * * * *");
    let count = minutes(date(2026, 3, 29), 1)
        .filter(|&at| expr.matches(at))
        .count();
    assert_eq!(count, 288);
}

#[test]
fn seconds_are_ignored() {
    let expr = parse("30 12 * * *");
    assert!(expr.matches(date(2026, 1, 1).at(12, 30, 59, 999_999_999)));
    assert!(!expr.matches(date(2026, 1, 1).at(12, 31, 0, 0)));
}

#[test]
fn aws_sunday_midnight_fires_once_a_week() {
    let expr = parse("0 0 ? * 1 *");
    let sunday = date(2026, 11, 22);
    assert_eq!(sunday.weekday(), Weekday::Sunday);
    let hits: Vec<_> = minutes(date(2026, 11, 16), 7)
        .filter(|&at| expr.matches(at))
        .collect();
    assert_eq!(hits, [sunday.at(0, 0, 0, 0)]);
}

#[test]
fn last_day_of_month() {
    assert_eq!(days_matching("0 12 L * ? *", 2026, 2, 12, 0), [28]);
    assert_eq!(days_matching("0 12 L * ? *", 2028, 2, 12, 0), [29]);
    assert_eq!(days_matching("0 12 L * ? *", 2026, 4, 12, 0), [30]);
    assert!(days_matching("0 12 L * ? *", 2026, 2, 12, 1).is_empty());
}

#[test]
fn nearest_weekday() {
    // 2026-08-15 is a Saturday: the Friday before.
    assert_eq!(days_matching("0 9 15W * ? *", 2026, 8, 9, 0), [14]);
    // 2026-03-15 is a Sunday: the Monday after.
    assert_eq!(days_matching("0 9 15W * ? *", 2026, 3, 9, 0), [16]);
    // A weekday is itself: 2026-04-15 is a Wednesday.
    assert_eq!(days_matching("0 9 15W * ? *", 2026, 4, 9, 0), [15]);
    // 2026-08-01 is a Saturday: Monday the 3rd, not July 31st.
    assert_eq!(days_matching("0 9 1W * ? *", 2026, 8, 9, 0), [3]);
    assert!(
        days_matching("0 9 1W * ? *", 2026, 7, 9, 0)
            .iter()
            .all(|&d| d != 31)
    );
    // 2026-05-31 is a Sunday and the last day: the Friday before.
    assert_eq!(days_matching("0 9 31W * ? *", 2026, 5, 9, 0), [29]);
    // No 31st in November: no match that month.
    assert!(days_matching("0 9 31W * ? *", 2026, 11, 9, 0).is_empty());
}

#[test]
fn last_weekday_of_month() {
    // 2026-05-31 is a Sunday, so the last weekday is Friday the 29th.
    assert_eq!(days_matching("0 9 LW * ? *", 2026, 5, 9, 0), [29]);
    // 2026-01-31 is a Saturday.
    assert_eq!(days_matching("0 9 LW * ? *", 2026, 1, 9, 0), [30]);
    // 2026-06-30 is a Tuesday.
    assert_eq!(days_matching("0 9 lw * ? *", 2026, 6, 9, 0), [30]);
}

#[test]
fn last_and_nth_weekday() {
    assert_eq!(days_matching("0 10 ? * 6L *", 2026, 11, 10, 0), [27]);
    assert_eq!(days_matching("0 10 ? * FRIL *", 2026, 11, 10, 0), [27]);
    assert_eq!(days_matching("0 10 ? * 3#2 *", 2026, 11, 10, 0), [10]);
    assert_eq!(days_matching("0 10 ? * tue#2 *", 2026, 11, 10, 0), [10]);
    // A fifth Monday exists in November 2026 (the 30th) but not in October.
    assert_eq!(days_matching("0 10 ? * 2#5 *", 2026, 11, 10, 0), [30]);
    assert!(days_matching("0 10 ? * 2#5 *", 2026, 10, 10, 0).is_empty());
    // A lone `L` in day-of-week is Saturday.
    assert_eq!(
        days_matching("0 10 ? * L *", 2026, 11, 10, 0),
        [7, 14, 21, 28]
    );
}

#[test]
fn unix_day_fields_or_when_both_restricted() {
    let expr = parse("0 0 13 * 5");
    let hits: Vec<_> = minutes(date(2026, 1, 1), 365)
        .filter(|&at| expr.matches(at))
        .collect();
    assert!(!hits.is_empty());
    for at in &hits {
        assert!(at.day() == 13 || at.weekday() == Weekday::Friday, "{at}");
    }
    let fridays = 52;
    let thirteenths_not_friday = 12 - 3; // Fridays the 13th in 2026: Feb, Mar, Nov
    assert_eq!(hits.len(), fridays + thirteenths_not_friday);
}

#[test]
fn unix_day_fields_and_when_one_starts_with_star() {
    // Mondays only: `*` day-of-month does not widen the match.
    assert_eq!(
        days_matching("0 0 * * 1", 2026, 11, 0, 0),
        [2, 9, 16, 23, 30]
    );
    // `*/2` counts as unrestricted for the rule but still filters: odd days
    // that are also Mondays.
    assert_eq!(days_matching("0 0 */2 * MON", 2026, 11, 0, 0), [9, 23]);
}

#[test]
fn unix_sunday_is_zero_and_seven() {
    for expr in ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * sun"] {
        assert_eq!(
            days_matching(expr, 2026, 11, 0, 0),
            [1, 8, 15, 22, 29],
            "{expr}"
        );
    }
    assert_eq!(days_matching("0 0 * * 5-7", 2026, 11, 0, 0).len(), 13);
}

#[test]
fn year_field_restricts() {
    let expr = parse("0 0 1 JAN ? 2027-2028");
    assert!(!expr.matches(date(2026, 1, 1).at(0, 0, 0, 0)));
    assert!(expr.matches(date(2027, 1, 1).at(0, 0, 0, 0)));
    assert!(expr.matches(date(2028, 1, 1).at(0, 0, 0, 0)));
    assert!(!expr.matches(date(2029, 1, 1).at(0, 0, 0, 0)));
    assert!(!expr.matches(date(1969, 1, 1).at(0, 0, 0, 0)));
}

#[test]
fn steps_and_lists() {
    let expr = parse("5/20 1-3,22 * * *");
    let hits: Vec<_> = minutes(date(2026, 6, 1), 1)
        .filter(|&at| expr.matches(at))
        .map(|at| (at.hour(), at.minute()))
        .collect();
    let expected: Vec<_> = [1, 2, 3, 22]
        .into_iter()
        .flat_map(|h| [(h, 5), (h, 25), (h, 45)])
        .collect();
    assert_eq!(hits, expected);
    assert_eq!(
        days_matching("0 0 1-10/3 * *", 2026, 6, 0, 0),
        [1, 4, 7, 10]
    );
    assert_eq!(
        days_matching("0 0 */10 * *", 2026, 5, 0, 0),
        [1, 11, 21, 31]
    );
    assert!(parse("0 0 1 JAN-JUN/2 *").matches(date(2026, 5, 1).at(0, 0, 0, 0)));
    assert!(!parse("0 0 1 jan-jun/2 *").matches(date(2026, 6, 1).at(0, 0, 0, 0)));
}

#[test]
fn macros_equal_their_expansions() {
    for (name, expansion) in [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ] {
        let (by_name, by_fields) = (parse(name), parse(expansion));
        assert_eq!(by_name.as_str(), name);
        assert_eq!(by_name.dialect(), CronDialect::Unix);
        for at in minutes(date(2025, 12, 28), 8) {
            assert_eq!(by_name.matches(at), by_fields.matches(at), "{name} at {at}");
        }
    }
}

#[test]
fn source_text_and_dialect() {
    let expr = parse(" \tcron( 0 12\t?  * MON-FRI * ) ");
    assert_eq!(expr.as_str(), "0 12\t?  * MON-FRI *");
    assert_eq!(expr.dialect(), CronDialect::Aws);
    assert_eq!(expr.to_string(), expr.as_str());
    let from_str: super::super::CronExpr = "cron(0 12 ? * MON-FRI *)".parse().unwrap();
    assert_eq!(from_str.as_str(), "0 12 ? * MON-FRI *");
    assert_eq!(parse("  0 12 * * 1  ").as_str(), "0 12 * * 1");
    assert_eq!(parse("0 12 * * 1").dialect(), CronDialect::Unix);
}
