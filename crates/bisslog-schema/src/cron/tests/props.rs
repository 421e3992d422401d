//! Property tests: no input panics, spans are valid, and translations to AWS
//! keep the schedule.

use jiff::ToSpan;
use jiff::civil::date;
use proptest::prelude::*;

use super::super::{CronDialect, CronErrorKind, CronExpr};

/// Whatever the input, parsing returns; an error's span is a valid range of
/// the input, and an accepted expression behaves.
fn check(input: &str) {
    match CronExpr::parse(input) {
        Err(err) => {
            assert!(
                input.get(err.span.clone()).is_some(),
                "{:?} in {input:?}",
                err.span
            );
            assert!(!err.to_string().is_empty());
            assert!(err.hint.is_some(), "no hint for {err:?}");
            // A caret needs something to point at, unless there is nothing.
            assert!(
                !err.span.is_empty() || input.trim().is_empty(),
                "{err:?} in {input:?}"
            );
        }
        Ok(expr) => {
            assert_eq!(CronExpr::parse(expr.as_str()).as_ref(), Ok(&expr));
            let _ = expr.matches(date(2028, 2, 29).at(23, 59, 0, 0));
            match expr.to_aws() {
                Ok(aws) => {
                    let aws = CronExpr::parse(&aws).unwrap();
                    assert_eq!(aws.dialect(), CronDialect::Aws);
                }
                Err(err) => {
                    assert_eq!(err.kind, CronErrorKind::NotExpressibleInAws);
                    assert!(expr.as_str().get(err.span.clone()).is_some());
                }
            }
        }
    }
}

/// One Unix list item for a field of `min..=max`.
fn item(min: u16, max: u16) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        (min..=max).prop_map(|v| v.to_string()),
        (min..=max, min..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        (1..=max - min).prop_map(|s| format!("*/{s}")),
        (min..=max, 1..=max - min).prop_map(|(a, s)| format!("{a}/{s}")),
        (min..=max, min..=max, 1..=max - min).prop_map(|(a, b, s)| format!(
            "{}-{}/{s}",
            a.min(b),
            a.max(b)
        )),
    ]
}

fn field(min: u16, max: u16) -> impl Strategy<Value = String> {
    prop::collection::vec(item(min, max), 1..=3).prop_map(|items| items.join(","))
}

fn unix_expr() -> impl Strategy<Value = String> {
    // A `*` in one day field often, so that most cases are translatable.
    let day_of_month = prop_oneof![Just("*".to_owned()), field(1, 31)];
    let day_of_week = prop_oneof![Just("*".to_owned()), field(0, 7)];
    (
        field(0, 59),
        field(0, 23),
        day_of_month,
        field(1, 12),
        day_of_week,
    )
        .prop_map(|(m, h, dom, mon, dow)| format!("{m} {h} {dom} {mon} {dow}"))
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check(&input);
    }

    #[test]
    fn cron_alphabet_never_panics(input in "[0-9*/,?LW#A-Z \t-]{0,40}") {
        check(&input);
    }

    #[test]
    fn near_valid_expressions_never_panic(
        wrapper in prop_oneof![Just(("", "")), Just(("cron(", ")")), Just(("cron(", ""))],
        fields in prop::collection::vec(
            "[0-9]{1,3}|\\*|\\?|L|LW|[0-9]{1,2}[LW]|[0-9]#[0-9]|[A-Z]{3}|[0-9]{1,2}[-/][0-9]{1,3}|\\*/[0-9]{1,2}",
            0..=8,
        ),
    ) {
        check(&format!("{}{}{}", wrapper.0, fields.join(" "), wrapper.1));
    }

    #[test]
    fn unix_to_aws_keeps_the_schedule(unix in unix_expr()) {
        let expr = CronExpr::parse(&unix).unwrap();
        let Ok(aws_text) = expr.to_aws() else {
            return Ok(());
        };
        let aws = CronExpr::parse(&aws_text).unwrap();
        prop_assert_eq!(expr.schedule.minute, aws.schedule.minute);
        prop_assert_eq!(expr.schedule.hour, aws.schedule.hour);
        prop_assert_eq!(expr.schedule.month, aws.schedule.month);
        // Compare the days at the first time of day the schedule fires,
        // across a leap year and three common years.
        let hour = expr.schedule.hour.iter().next().unwrap();
        let minute = expr.schedule.minute.iter().next().unwrap();
        let (hour, minute) = (i8::try_from(hour).unwrap(), i8::try_from(minute).unwrap());
        for day in date(2027, 1, 1).series(1.day()).take(1461) {
            let at = day.at(hour, minute, 0, 0);
            prop_assert_eq!(expr.matches(at), aws.matches(at), "{} -> {} at {}", unix, aws_text, at);
        }
    }

    /// The next firing is the first matching minute after the start: the
    /// same answer as a minute-by-minute scan (over the three days after a
    /// start, which a firing within that window must agree with).
    #[test]
    fn next_firing_agrees_with_a_minute_scan(unix in unix_expr(), offset in 0i64..525_600) {
        let expr = CronExpr::parse(&unix).unwrap();
        let start = date(2027, 1, 1).at(0, 0, 0, 0).checked_add(offset.minutes()).unwrap();
        let scanned = start
            .series(1.minute())
            .skip(1)
            .take(3 * 1440)
            .find(|at| expr.matches(*at));
        let next = expr.next_civil_after(start);
        match scanned {
            Some(found) => prop_assert_eq!(next, Some(found), "{} after {}", unix, start),
            None => prop_assert!(next.is_none_or(|n| n > start.checked_add(3.days()).unwrap()), "{} after {}: {:?}", unix, start, next),
        }
    }
}
