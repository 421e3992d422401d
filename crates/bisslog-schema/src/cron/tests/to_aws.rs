//! `CronExpr::to_aws`: the AWS form fires on exactly the same minutes.

use jiff::civil::date;

use super::super::CronDialect;
use super::{minutes, parse};

/// Asserts that `unix` and its AWS translation match the same minutes on
/// every month of 2026 (a common year) and 2028 (a leap year): every minute
/// of each month's first 3 and last 4 days, which covers every weekday and
/// both ends of each month, Feb 29 included.
fn assert_same_schedule(unix: &str) -> String {
    let expr = parse(unix);
    let aws_text = expr.to_aws().unwrap();
    let aws = parse(&aws_text);
    assert_eq!(aws.dialect(), CronDialect::Aws, "{unix} -> {aws_text}");
    for year in [2026, 2028] {
        for month in 1..=12 {
            let first = date(year, month, 1);
            let last_days = date(year, month, first.days_in_month() - 3);
            for at in minutes(first, 3).chain(minutes(last_days, 4)) {
                assert_eq!(
                    expr.matches(at),
                    aws.matches(at),
                    "{unix} -> {aws_text} at {at}"
                );
            }
        }
    }
    aws_text
}

#[test]
fn translations_keep_the_schedule() {
    for (unix, aws) in [
        ("*/15 9-17 * * MON-FRI", "*/15 9-17 ? * 2-6 *"),
        ("0 0 1,15 * *", "0 0 1,15 * ? *"),
        ("30 2 * JAN-MAR/2 SUN", "30 2 ? 1,3 1 *"),
        ("0 0 * * 5-7", "0 0 ? * 1,6-7 *"),
        ("0 12 * * */2", "0 12 ? * 1,3,5,7 *"),
        ("0 0 */2 * *", "0 0 */2 * ? *"),
        ("5/10 * * * *", "5/10 * * * ? *"),
        ("10-50/10 0 * * *", "10/10 0 * * ? *"),
    ] {
        assert_eq!(assert_same_schedule(unix), aws, "{unix}");
    }
}

#[test]
fn or_rule_with_an_unrestricted_field_is_every_day() {
    // Both fields restricted by text, but day-of-month lists every day: the
    // OR matches every day.
    assert_eq!(assert_same_schedule("0 6 1-31 * MON"), "0 6 * * ? *");
    assert_eq!(assert_same_schedule("0 6 * * 0-6"), "0 6 * * ? *");
}

#[test]
fn macros_translate() {
    for (name, aws) in [
        ("@yearly", "0 0 1 1 ? *"),
        ("@monthly", "0 0 1 * ? *"),
        ("@weekly", "0 0 ? * 1 *"),
        ("@daily", "0 0 * * ? *"),
        ("@hourly", "0 * * * ? *"),
    ] {
        assert_eq!(assert_same_schedule(name), aws, "{name}");
    }
}

#[test]
fn aws_comes_back_as_written() {
    let expr = parse("cron(0  10 ?\t* 6L 2026-2030)");
    assert_eq!(expr.to_aws().unwrap(), "0 10 ? * 6L 2026-2030");
}

#[test]
fn or_rule_is_not_expressible() {
    assert!(parse("0 0 13 * 5").to_aws().is_err());
    assert!(parse("0 0 1 * MON-FRI").to_aws().is_err());
}
