//! Every error kind, with its span.

use super::super::{CronDialect, CronErrorKind, CronField};
use super::{parse, parse_err};

/// The text an error's span covers.
fn blamed(expr: &str) -> (&str, CronErrorKind) {
    let err = parse_err(expr);
    let text = expr.get(err.span.clone()).unwrap();
    (text, err.kind)
}

#[test]
fn empty() {
    for expr in ["", "   ", "\t\n"] {
        let err = parse_err(expr);
        assert_eq!(err.kind, CronErrorKind::Empty);
        assert_eq!(err.span, 0..expr.len());
    }
}

#[test]
fn field_count_spans_the_whole_input() {
    for (expr, found) in [(" * * * * ", 4), ("0", 1), ("0 0 0 * * ? *", 7)] {
        let err = parse_err(expr);
        assert_eq!(
            err.kind,
            CronErrorKind::FieldCount {
                found,
                wrapped: false
            }
        );
        assert_eq!(err.span, 0..expr.len());
    }
    let err = parse_err("0 0 0 * * ? *");
    assert!(err.hint.unwrap().contains("seconds"));
    assert_eq!(
        parse_err("0 0 0 * * ? *").to_string(),
        "expected 5 fields (Unix cron) or 6 fields (AWS cron), found 7 fields"
    );
}

#[test]
fn wrapper_needs_six_fields() {
    let expr = "  cron(0 0 * * *)";
    let err = parse_err(expr);
    assert_eq!(
        err.kind,
        CronErrorKind::FieldCount {
            found: 5,
            wrapped: true
        }
    );
    assert_eq!(err.span, 0..expr.len());
    let err = parse_err("cron()");
    assert_eq!(
        err.kind,
        CronErrorKind::FieldCount {
            found: 0,
            wrapped: true
        }
    );
    let err = parse_err("cron(@daily)");
    assert_eq!(
        err.kind,
        CronErrorKind::FieldCount {
            found: 1,
            wrapped: true
        }
    );
}

#[test]
fn unclosed_wrapper() {
    assert_eq!(
        blamed("  cron(0 0 ? * 1 *"),
        ("cron(", CronErrorKind::UnclosedWrapper)
    );
}

#[test]
fn rate_expression() {
    assert_eq!(
        blamed(" rate(5 minutes)"),
        ("rate(5 minutes)", CronErrorKind::RateExpression)
    );
}

#[test]
fn unsupported_macros() {
    let err = parse_err(" @reboot ");
    assert_eq!(
        err.kind,
        CronErrorKind::UnsupportedMacro {
            name: "@reboot".into()
        }
    );
    assert_eq!(err.span, 1..8);
    assert!(err.hint.unwrap().contains("start-up"));
    let (text, kind) = blamed("@often");
    assert_eq!(text, "@often");
    assert_eq!(
        kind,
        CronErrorKind::UnsupportedMacro {
            name: "@often".into()
        }
    );
}

#[test]
fn macro_with_fields() {
    let (text, kind) = blamed("@daily 5 *");
    assert_eq!(text, "5 *");
    assert_eq!(
        kind,
        CronErrorKind::MacroWithFields {
            name: "@daily".into()
        }
    );
}

#[test]
fn aws_syntax_in_unix() {
    for (expr, item, field) in [
        ("0 0 ? * *", "?", CronField::DayOfMonth),
        ("0 0 L * *", "L", CronField::DayOfMonth),
        ("0 0 15W * *", "15W", CronField::DayOfMonth),
        ("0 0 1,LW * *", "LW", CronField::DayOfMonth),
        ("0 0 * * 5#2", "5#2", CronField::DayOfWeek),
        ("0 0 * * 6L", "6L", CronField::DayOfWeek),
        ("0 0 * * ?", "?", CronField::DayOfWeek),
    ] {
        let err = parse_err(expr);
        assert_eq!(
            err.kind,
            CronErrorKind::AwsSyntaxInUnix {
                field,
                text: item.into()
            },
            "{expr}"
        );
        assert_eq!(expr.get(err.span.clone()), Some(item), "{expr}");
        assert!(err.hint.unwrap().contains("6 fields"), "{expr}");
    }
}

#[test]
fn wildcard_not_allowed() {
    let aws = CronDialect::Aws;
    for (expr, item, field, wildcard) in [
        ("? 0 ? * 1 *", "?", CronField::Minute, '?'),
        ("0 L ? * 1 *", "L", CronField::Hour, 'L'),
        ("0 0 ? * */2 *", "*/2", CronField::DayOfWeek, '/'),
        ("0 0 ? * 5W *", "5W", CronField::DayOfWeek, 'W'),
        ("0 0 ? * LW *", "LW", CronField::DayOfWeek, 'W'),
        ("0 0 2#1 * ? *", "2#1", CronField::DayOfMonth, '#'),
        ("0 0 ? JAN,? 1 *", "?", CronField::Month, '?'),
        ("0 0 1 * ? 2026#1", "2026#1", CronField::Year, '#'),
    ] {
        let (text, kind) = blamed(expr);
        assert_eq!(
            kind,
            CronErrorKind::WildcardNotAllowed {
                field,
                wildcard,
                dialect: aws
            }
        );
        assert_eq!(text, item, "{expr}");
    }
    assert_eq!(
        parse_err("0 0 ? * */2 *").to_string(),
        "`/` is not allowed in day-of-week in AWS cron"
    );
}

#[test]
fn special_forms_must_stand_alone() {
    for (expr, item, field) in [
        ("0 0 1,L * ? *", "L", CronField::DayOfMonth),
        ("0 0 LW,1 * ? *", "LW", CronField::DayOfMonth),
        ("0 0 1,15W * ? *", "15W", CronField::DayOfMonth),
        ("0 0 ?,1 * 1 *", "?", CronField::DayOfMonth),
        ("0 0 ? * 1,6L *", "6L", CronField::DayOfWeek),
        ("0 0 ? * 3#2,3#4 *", "3#2", CronField::DayOfWeek),
    ] {
        let (text, kind) = blamed(expr);
        assert_eq!(
            kind,
            CronErrorKind::NotAlone {
                field,
                text: item.into()
            },
            "{expr}"
        );
        assert_eq!(text, item, "{expr}");
    }
}

#[test]
fn question_mark_rule() {
    let expr = "0 */5 * * * *";
    let (text, kind) = blamed(expr);
    assert_eq!((text, kind), ("* * *", CronErrorKind::MissingQuestionMark));
    let hint = parse_err(expr).hint.unwrap();
    assert!(
        hint.contains("seconds") && hint.contains("5-field Unix cron"),
        "{hint}"
    );
    // Checked before the fields, so a Spring expression gets the same advice.
    assert_eq!(
        blamed("0 0 12 * * MON-FRI").1,
        CronErrorKind::MissingQuestionMark
    );
    assert_eq!(
        blamed("0 0 ? * ? *"),
        ("? * ?", CronErrorKind::BothQuestionMarks)
    );
}

#[test]
fn empty_list_items_blame_the_comma() {
    let minute = CronErrorKind::EmptyItem {
        field: CronField::Minute,
    };
    assert_eq!(parse_err("1,,2 * * * *").span, 2..3);
    assert_eq!(blamed("1, * * * *"), (",", minute.clone()));
    assert_eq!(parse_err(",1 * * * *").span, 0..1);
}

#[test]
fn invalid_values() {
    for (expr, item, field) in [
        ("0 0 * FOO *", "FOO", CronField::Month),
        ("0 0 * * MOM", "MOM", CronField::DayOfWeek),
        ("0 0 * * JAN", "JAN", CronField::DayOfWeek),
        ("-5 * * * *", "-5", CronField::Minute),
        ("1- * * * *", "1-", CronField::Minute),
        ("*-5 * * * *", "*", CronField::Minute),
        ("0 0 5L * ? *", "5L", CronField::DayOfMonth),
        ("0 0 L-3 * ? *", "L", CronField::DayOfMonth),
        ("0 0 ? * 1?2 *", "1?2", CronField::DayOfWeek),
        ("0 0 ? * é *", "é", CronField::DayOfWeek),
    ] {
        let (text, kind) = blamed(expr);
        assert_eq!(
            kind,
            CronErrorKind::InvalidValue {
                field,
                text: item.into()
            },
            "{expr}"
        );
        assert_eq!(text, item, "{expr}");
    }
}

#[test]
fn out_of_range() {
    let expr = "0 0 ? * 8 *";
    let err = parse_err(expr);
    assert_eq!(err.span, 8..9);
    assert_eq!(
        err.to_string(),
        "value `8` is out of range for day-of-week (1-7 in AWS cron)"
    );
    assert_eq!(
        err.hint.unwrap(),
        "AWS day-of-week is 1-7 with 1 = Sunday (or SUN-SAT)"
    );
    // Offsets count the wrapper and leading blanks.
    assert_eq!(parse_err(" cron( 0 0 ? * 8 * )").span, 15..16);
    for (expr, item) in [
        ("60 * * * *", "60"),
        ("99999999999999999999 * * * *", "99999999999999999999"),
        ("0 0 * * 1-8", "8"),
        ("0 0 ? * 0 *", "0"),
        ("0 0 32W * ? *", "32"),
        ("0 0 1 * ? 2200", "2200"),
        ("0 0 ? * 9#1 *", "9"),
        ("0 0 ? * 0L *", "0"),
    ] {
        let (text, kind) = blamed(expr);
        assert!(
            matches!(kind, CronErrorKind::OutOfRange { .. }),
            "{expr}: {kind:?}"
        );
        assert_eq!(text, item, "{expr}");
    }
}

#[test]
fn reversed_range() {
    let expr = "0 22-2 * * *";
    let err = parse_err(expr);
    assert_eq!(expr.get(err.span.clone()), Some("22-2"));
    assert_eq!(
        err.kind,
        CronErrorKind::ReversedRange {
            field: CronField::Hour,
            text: "22-2".into(),
            start: 22,
            end: 2
        }
    );
    assert!(err.hint.unwrap().contains("`22-23,0-2`"));
    assert_eq!(blamed("0 0 ? * FRI-MON *").0, "FRI-MON");
}

#[test]
fn invalid_steps() {
    for (expr, item) in [
        ("*/0 * * * *", "0"),
        ("*/ * * * *", "/"),
        ("*/60 * * * *", "60"),
        ("1/2/3 * * * *", "2/3"),
        ("*/x * * * *", "x"),
    ] {
        let (text, kind) = blamed(expr);
        assert!(
            matches!(kind, CronErrorKind::InvalidStep { .. }),
            "{expr}: {kind:?}"
        );
        assert_eq!(text, item, "{expr}");
    }
}

#[test]
fn occurrence_out_of_range() {
    let occurrence = |text: &str| CronErrorKind::OccurrenceOutOfRange { text: text.into() };
    assert_eq!(blamed("0 0 ? * 3#6 *"), ("6", occurrence("6")));
    assert_eq!(blamed("0 0 ? * 3#0 *"), ("0", occurrence("0")));
    assert_eq!(blamed("0 0 ? * 3# *"), ("#", occurrence("")));
}

#[test]
fn not_expressible_in_aws() {
    let expr = parse("  0 0 13 * 5 ");
    let err = expr.to_aws().unwrap_err();
    assert_eq!(err.kind, CronErrorKind::NotExpressibleInAws);
    assert_eq!(expr.as_str().get(err.span.clone()), Some("13 * 5"));
    let hint = err.hint.unwrap();
    assert!(
        hint.contains("`cron(0 0 13 * ? *)`") && hint.contains("`cron(0 0 ? * 6 *)`"),
        "{hint}"
    );
    // Both fields starting with `*` means AND in Vixie cron, still not AWS.
    let err = parse("0 0 */2 * */2").to_aws().unwrap_err();
    assert_eq!(err.kind, CronErrorKind::NotExpressibleInAws);
}
