//! Expression-level parsing: whitespace, the `cron(...)` wrapper, macros,
//! splitting into fields, and choosing the dialect by the field count.

use std::ops::Range;

use super::list::{self, Ctx};
use super::matcher::{DayOfMonth, DayRule, Schedule};
use super::special;
use super::{CronDialect, CronError, CronErrorKind, CronField};

/// A piece of the input and the byte offset where it starts in the input.
#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    pub(super) text: &'a str,
    pub(super) start: usize,
}

impl<'a> Token<'a> {
    pub(super) fn span(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    /// The part of this token from byte `at`, keeping offsets right. `at`
    /// is always a char boundary here; were it not, the result would be the
    /// empty end of the token, so spans stay inside the input.
    pub(super) fn from(&self, at: usize) -> Token<'a> {
        match self.text.get(at..) {
            Some(text) => Token {
                text,
                start: self.start + at,
            },
            None => Token {
                text: "",
                start: self.start + self.text.len(),
            },
        }
    }

    /// The part of this token before byte `at`.
    pub(super) fn until(&self, at: usize) -> Token<'a> {
        Token {
            text: self.text.get(..at).unwrap_or(""),
            start: self.start,
        }
    }

    /// Splits at the first `separator`, which is not part of either half.
    pub(super) fn split_once(&self, separator: char) -> Option<(Token<'a>, Token<'a>)> {
        let at = self.text.find(separator)?;
        Some((self.until(at), self.from(at + separator.len_utf8())))
    }

    /// The fields of this token: runs of anything but spaces and tabs.
    fn fields(self) -> impl Iterator<Item = Token<'a>> {
        let mut rest = self;
        std::iter::from_fn(move || {
            let is_blank = |c: char| c == ' ' || c == '\t';
            rest = rest.from(rest.text.len() - rest.text.trim_start_matches(is_blank).len());
            let end = rest.text.find(is_blank).unwrap_or(rest.text.len());
            let field = rest.until(end);
            rest = rest.from(end);
            (!field.text.is_empty()).then_some(field)
        })
    }

    /// Removes leading and trailing whitespace.
    fn trim(&self) -> Token<'a> {
        let start = self.text.len() - self.text.trim_start().len();
        let rest = self.from(start);
        rest.until(rest.text.trim_end().len())
    }
}

/// The result of [`parse`]: the expression without whitespace or wrapper.
pub(super) struct Parsed<'a> {
    pub(super) body: &'a str,
    pub(super) dialect: CronDialect,
    pub(super) schedule: Schedule,
}

/// Macros and the 5-field expressions they stand for.
const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

const UNIX_FIELDS: &str = "minute hour day-of-month month day-of-week";
const AWS_FIELDS: &str = "minutes hours day-of-month month day-of-week year";

/// The fields of `text`: runs of anything but spaces and tabs.
pub(super) fn fields(text: &str) -> impl Iterator<Item = Token<'_>> {
    Token { text, start: 0 }.fields()
}

/// Parses a whole expression; spans in errors are byte ranges of `input`.
pub(super) fn parse(input: &str) -> Result<Parsed<'_>, CronError> {
    let whole = 0..input.len();
    let body = Token {
        text: input,
        start: 0,
    }
    .trim();
    if body.text.is_empty() {
        return Err(
            CronError::new(CronErrorKind::Empty, whole).with_hint(format!(
                "write 5 fields for Unix cron ({UNIX_FIELDS}) or 6 for AWS cron ({AWS_FIELDS})"
            )),
        );
    }
    if starts_with_ignore_case(body.text, "rate(") {
        return Err(CronError::new(CronErrorKind::RateExpression, body.span())
            .with_hint("write a cron expression instead, e.g. `*/5 * * * *` for every 5 minutes"));
    }
    let (body, wrapped) = unwrap_cron(body)?;
    if !wrapped && body.text.starts_with('@') {
        return parse_macro(body);
    }

    let tokens: Vec<Token<'_>> = body.fields().collect();
    let (dialect, schedule) = match (tokens.as_slice(), wrapped) {
        ([minute, hour, dom, month, dow], false) => (
            CronDialect::Unix,
            parse_unix([*minute, *hour, *dom, *month, *dow])?,
        ),
        ([minute, hour, dom, month, dow, year], _) => (
            CronDialect::Aws,
            parse_aws([*minute, *hour, *dom, *month, *dow, *year])?,
        ),
        _ => return Err(field_count_error(tokens.len(), wrapped, whole)),
    };
    Ok(Parsed {
        body: body.text,
        dialect,
        schedule,
    })
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Removes an AWS SAM style `cron(...)` wrapper, if there is one.
fn unwrap_cron(body: Token<'_>) -> Result<(Token<'_>, bool), CronError> {
    const OPEN: &str = "cron(";
    if !starts_with_ignore_case(body.text, OPEN) {
        return Ok((body, false));
    }
    let Some(inner_len) = body.text.strip_suffix(')').map(str::len) else {
        let open = body.start..body.start + OPEN.len();
        return Err(CronError::new(CronErrorKind::UnclosedWrapper, open)
            .with_hint("close the wrapper, e.g. `cron(0 12 ? * MON-FRI *)`"));
    };
    Ok((body.until(inner_len).from(OPEN.len()).trim(), true))
}

fn parse_macro(body: Token<'_>) -> Result<Parsed<'_>, CronError> {
    let mut tokens = body.fields();
    let name = tokens.next().unwrap_or(body);
    if let Some(extra) = tokens.next() {
        let span = extra.start..body.span().end;
        return Err(CronError::new(
            CronErrorKind::MacroWithFields {
                name: name.text.to_owned(),
            },
            span,
        )
        .with_hint(format!(
            "remove the text after `{}`, or write 5 fields instead of the macro",
            name.text
        )));
    }
    let expansion = MACROS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name.text))
        .map(|(_, expansion)| *expansion);
    let Some(expansion) = expansion else {
        return Err(unsupported_macro(name));
    };
    // The expansions are valid Unix cron, so this cannot fail; if it ever
    // did, point at the macro rather than at offsets of the expansion.
    let parsed = parse(expansion).map_err(|mut err| {
        err.span = name.span();
        err
    })?;
    Ok(Parsed {
        body: body.text,
        dialect: CronDialect::Unix,
        schedule: parsed.schedule,
    })
}

fn unsupported_macro(name: Token<'_>) -> CronError {
    let known = "@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly";
    let hint = if name.text.eq_ignore_ascii_case("@reboot") {
        format!("`@reboot` runs at start-up, not on a schedule; use {known}")
    } else {
        format!("use {known}, or write 5 fields")
    };
    CronError::new(
        CronErrorKind::UnsupportedMacro {
            name: name.text.to_owned(),
        },
        name.span(),
    )
    .with_hint(hint)
}

fn field_count_error(found: usize, wrapped: bool, whole: Range<usize>) -> CronError {
    let hint = if wrapped {
        format!(
            "`cron(...)` holds AWS cron, which has 6 fields ({AWS_FIELDS}); \
             drop the wrapper to write 5-field Unix cron"
        )
    } else if found == 7 {
        format!(
            "7 fields look like Quartz cron with seconds, which bisslog does not support: \
             drop the seconds and write 5-field Unix cron ({UNIX_FIELDS}) \
             or 6-field AWS cron ({AWS_FIELDS})"
        )
    } else {
        format!(
            "Unix cron has 5 fields ({UNIX_FIELDS}), e.g. `0 12 * * MON`; \
             AWS cron has 6 ({AWS_FIELDS}), e.g. `0 12 ? * MON *`"
        )
    };
    CronError::new(CronErrorKind::FieldCount { found, wrapped }, whole).with_hint(hint)
}

fn parse_unix(tokens: [Token<'_>; 5]) -> Result<Schedule, CronError> {
    let [minute, hour, dom, month, dow] = tokens;
    let ctx = |field| Ctx {
        field,
        dialect: CronDialect::Unix,
    };
    // Vixie cron: a day field "is restricted" unless it starts with `*`, and
    // only when both are restricted does either one suffice.
    let day_rule = if dom.text.starts_with('*') || dow.text.starts_with('*') {
        DayRule::Both
    } else {
        DayRule::Either
    };
    Ok(Schedule {
        minute: list::values(ctx(CronField::Minute), minute)?,
        hour: list::values(ctx(CronField::Hour), hour)?,
        day_of_month: DayOfMonth::Days(list::values(ctx(CronField::DayOfMonth), dom)?),
        month: list::values(ctx(CronField::Month), month)?,
        day_of_week: list::unix_day_of_week(ctx(CronField::DayOfWeek), dow)?,
        year: None,
        day_rule,
    })
}

fn parse_aws(tokens: [Token<'_>; 6]) -> Result<Schedule, CronError> {
    let [minute, hour, dom, month, dow, year] = tokens;
    check_question_marks(dom, dow)?;
    let ctx = |field| Ctx {
        field,
        dialect: CronDialect::Aws,
    };
    Ok(Schedule {
        minute: list::values(ctx(CronField::Minute), minute)?,
        hour: list::values(ctx(CronField::Hour), hour)?,
        day_of_month: special::aws_day_of_month(ctx(CronField::DayOfMonth), dom)?,
        month: list::values(ctx(CronField::Month), month)?,
        day_of_week: special::aws_day_of_week(ctx(CronField::DayOfWeek), dow)?,
        year: Some(list::values(ctx(CronField::Year), year)?),
        day_rule: DayRule::Both,
    })
}

/// AWS: "if you specify a value or a `*` in one of the fields, you must use a
/// `?` in the other". Checked before the fields themselves so that a Quartz
/// expression with seconds gets this hint rather than a confusing one about
/// its last field.
fn check_question_marks(dom: Token<'_>, dow: Token<'_>) -> Result<(), CronError> {
    let span = dom.start..dow.span().end;
    if !dom.text.contains('?') && !dow.text.contains('?') {
        return Err(
            CronError::new(CronErrorKind::MissingQuestionMark, span).with_hint(format!(
                "bisslog reads 6 fields as AWS cron ({AWS_FIELDS}): put `?` in day-of-month \
                 or day-of-week, e.g. `0 12 ? * MON *` or `0 12 * * ? *`; if the first field \
                 is seconds (Quartz/Spring style), seconds are not supported: drop it and \
                 write 5-field Unix cron"
            )),
        );
    }
    if dom.text == "?" && dow.text == "?" {
        return Err(
            CronError::new(CronErrorKind::BothQuestionMarks, span).with_hint(
                "put a value or `*` in one of them, e.g. `0 12 * * ? *` for every day at 12:00",
            ),
        );
    }
    Ok(())
}
