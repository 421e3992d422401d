//! Durations written as text: `250ms`, `2s`, `1m30s`.
//!
//! A duration is one or more parts `<whole number><unit>`, units from the
//! largest to the smallest, each at most once: `h`, `m`, `s`, `ms`. The
//! model keeps [`Duration`]s; serializing writes them back in this form,
//! so a loaded file round-trips.

use std::fmt;
use std::time::Duration;

use serde::Serializer;

/// The units, largest first, with their length in milliseconds.
const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// What is wrong with a text that should be a duration, and which bytes of
/// it (`start..end`) are at fault, so the diagnostic can point there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DurationError {
    pub(crate) kind: DurationErrorKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The ways a duration's text can be wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DurationErrorKind {
    /// Starts with `-`: a negative duration (a range problem, not syntax).
    Negative,
    /// A number without a unit (`250`).
    MissingUnit { number: String },
    /// A unit that is not `h`, `m`, `s` or `ms` (`5min`, `2sec`).
    UnknownUnit { number: String, unit: String },
    /// A fraction (`1.5s`); `exact` is the same length in whole units when
    /// there is one.
    Fraction { exact: Option<String> },
    /// A unit after a smaller or equal one (`30s1m`, `1s2s`).
    OutOfOrder { unit: String },
    /// A character no duration has (a space, a sign, a letter first).
    Unexpected { found: char },
    /// More than `u64::MAX` milliseconds.
    Overflow,
}

impl fmt::Display for DurationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationErrorKind::Negative => f.write_str("it is negative"),
            DurationErrorKind::MissingUnit { number } => write!(f, "`{number}` has no unit"),
            DurationErrorKind::UnknownUnit { unit, .. } => write!(f, "`{unit}` is not a unit"),
            DurationErrorKind::Fraction { .. } => f.write_str("each part is a whole number"),
            DurationErrorKind::OutOfOrder { unit } => {
                write!(f, "`{unit}` comes after a unit as small or smaller")
            }
            DurationErrorKind::Unexpected { found: ' ' } => f.write_str("it contains a space"),
            DurationErrorKind::Unexpected { found } => write!(f, "unexpected {found:?}"),
            DurationErrorKind::Overflow => f.write_str("it is too long"),
        }
    }
}

impl DurationErrorKind {
    /// How to write the duration instead.
    pub(crate) fn hint(&self) -> String {
        match self {
            DurationErrorKind::Negative | DurationErrorKind::Overflow => {
                "write a positive duration such as \"250ms\" or \"2s\"".to_owned()
            }
            DurationErrorKind::MissingUnit { number } => unit_hint(number),
            DurationErrorKind::UnknownUnit { number, unit } => match unit_alias(unit) {
                Some(Alias::Unit(canonical)) => format!("write `{number}{canonical}`"),
                Some(Alias::Days) => "write days in hours: `24h` is a day".to_owned(),
                Some(Alias::TooSmall) => "the smallest unit is `ms`".to_owned(),
                None => "the units are `h`, `m`, `s` and `ms`, as in `1m30s`".to_owned(),
            },
            DurationErrorKind::Fraction { exact: Some(exact) } => format!("write `{exact}`"),
            DurationErrorKind::Fraction { exact: None } => {
                "use a smaller unit: the smallest is `ms`".to_owned()
            }
            DurationErrorKind::OutOfOrder { .. } => {
                "write the parts from hours down to milliseconds, each unit once, as in `1m30s`"
                    .to_owned()
            }
            DurationErrorKind::Unexpected { .. } => {
                "write a number followed by its unit, without spaces: \"250ms\", \"2s\", \"1m30s\""
                    .to_owned()
            }
        }
    }
}

/// "durations need a unit: write "250ms" or "250s"" for the number `250`.
pub(crate) fn unit_hint(number: &str) -> String {
    format!("durations need a unit: write \"{number}ms\" or \"{number}s\"")
}

/// What a unit people write instead of ours stands for.
enum Alias {
    Unit(&'static str),
    Days,
    TooSmall,
}

fn unit_alias(unit: &str) -> Option<Alias> {
    let unit = unit.to_ascii_lowercase();
    Some(match unit.as_str() {
        "ms" | "msec" | "msecs" | "milli" | "millis" | "millisecond" | "milliseconds" => {
            Alias::Unit("ms")
        }
        "s" | "sec" | "secs" | "second" | "seconds" => Alias::Unit("s"),
        "m" | "min" | "mins" | "minute" | "minutes" => Alias::Unit("m"),
        "h" | "hr" | "hrs" | "hour" | "hours" => Alias::Unit("h"),
        "d" | "day" | "days" => Alias::Days,
        "us" | "µs" | "μs" | "ns" => Alias::TooSmall,
        _ => return None,
    })
}

/// Reads a duration. Zero is read (`0s`); whether it is allowed is the
/// caller's rule.
pub(crate) fn parse(text: &str) -> Result<Duration, DurationError> {
    let fail = |kind, start, end| Err(DurationError { kind, start, end });
    if text.starts_with('-') {
        return fail(DurationErrorKind::Negative, 0, text.len());
    }
    let mut total: u64 = 0;
    let mut previous: Option<usize> = None;
    let mut rest = text;
    let at = |rest: &str| text.len() - rest.len();
    while !rest.is_empty() {
        let start = at(rest);
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            let found = rest.chars().next().unwrap_or(' ');
            return fail(
                DurationErrorKind::Unexpected { found },
                start,
                start + found.len_utf8(),
            );
        }
        let (number, after) = rest.split_at(digits);
        if let Some(fraction) = after.strip_prefix('.') {
            let decimals = fraction.len()
                - fraction
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .len();
            let (decimals, after) = fraction.split_at(decimals);
            let unit_len = after.len() - after.trim_start_matches(char::is_alphabetic).len();
            let unit = &after[..unit_len];
            let end = start + digits + 1 + decimals.len() + unit_len;
            let exact = UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .and_then(|(_, ms)| exact_millis(number, decimals, *ms))
                .map(|ms| format(Duration::from_millis(ms)));
            return fail(DurationErrorKind::Fraction { exact }, start, end);
        }
        let unit_len = after.len() - after.trim_start_matches(char::is_alphabetic).len();
        let (unit, after) = after.split_at(unit_len);
        let end = start + digits + unit_len;
        if unit.is_empty() {
            if after.is_empty() {
                let number = number.to_owned();
                return fail(DurationErrorKind::MissingUnit { number }, start, end);
            }
            let found = after.chars().next().unwrap_or(' ');
            let at = at(after);
            return fail(
                DurationErrorKind::Unexpected { found },
                at,
                at + found.len_utf8(),
            );
        }
        let Some(rank) = UNITS.iter().position(|(name, _)| *name == unit) else {
            let kind = DurationErrorKind::UnknownUnit {
                number: number.to_owned(),
                unit: unit.to_owned(),
            };
            return fail(kind, start + digits, end);
        };
        if previous.is_some_and(|p| p >= rank) {
            let unit = unit.to_owned();
            return fail(DurationErrorKind::OutOfOrder { unit }, start, end);
        }
        previous = Some(rank);
        let millis = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(UNITS[rank].1))
            .and_then(|ms| total.checked_add(ms));
        let Some(millis) = millis else {
            return fail(DurationErrorKind::Overflow, 0, text.len());
        };
        total = millis;
        rest = after;
    }
    Ok(Duration::from_millis(total))
}

/// `whole.decimals` units of `unit_ms` milliseconds, when that is a whole
/// number of milliseconds.
fn exact_millis(whole: &str, decimals: &str, unit_ms: u64) -> Option<u64> {
    let scale = 10u64.checked_pow(u32::try_from(decimals.len()).ok()?)?;
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = if decimals.is_empty() {
        0
    } else {
        decimals.parse().ok()?
    };
    let scaled = whole.checked_mul(scale)?.checked_add(fraction)?;
    let millis = scaled.checked_mul(unit_ms)?;
    (millis % scale == 0 && millis > 0).then_some(millis / scale)
}

/// Writes a duration the way [`parse`] reads it, in whole milliseconds
/// (`1m30s`, `250ms`; `0ms` for zero).
pub(crate) fn format(duration: Duration) -> String {
    let mut millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return "0ms".to_owned();
    }
    let mut text = String::new();
    for (unit, length) in UNITS {
        let count = millis / length;
        if count > 0 {
            text.push_str(&count.to_string());
            text.push_str(unit);
            millis %= length;
        }
    }
    text
}

/// Serializes an optional duration as its text.
pub(crate) fn serialize_opt<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_str(&format(*duration)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn reads_every_unit_and_combinations() {
        assert_eq!(parse("250ms"), Ok(ms(250)));
        assert_eq!(parse("2s"), Ok(ms(2_000)));
        assert_eq!(parse("1m"), Ok(ms(60_000)));
        assert_eq!(parse("2h"), Ok(ms(7_200_000)));
        assert_eq!(parse("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse("1h2m3s4ms"), Ok(ms(3_723_004)));
        assert_eq!(parse("0s"), Ok(ms(0)));
        assert_eq!(parse("007s"), Ok(ms(7_000)));
    }

    fn error(text: &str) -> (DurationErrorKind, &str) {
        let e = parse(text).unwrap_err();
        (e.kind, &text[e.start..e.end])
    }

    #[test]
    fn says_what_is_wrong_and_where() {
        let missing = DurationErrorKind::MissingUnit {
            number: "250".into(),
        };
        assert_eq!(error("250"), (missing, "250"));
        let (kind, at) = error("5min");
        assert_eq!(at, "min");
        assert_eq!(kind.hint(), "write `5m`");
        assert_eq!(error("2sec").0.hint(), "write `2s`");
        assert_eq!(error("1d").0.hint(), "write days in hours: `24h` is a day");
        assert_eq!(error("10us").0.hint(), "the smallest unit is `ms`");
        let (kind, at) = error("1m1.5s");
        assert_eq!(at, "1.5s");
        assert_eq!(kind.hint(), "write `1s500ms`");
        assert_eq!(error("1.5m").0.hint(), "write `1m30s`");
        assert_eq!(
            error("0.5ms").0,
            DurationErrorKind::Fraction { exact: None }
        );
        assert_eq!(
            error("30s1m"),
            (DurationErrorKind::OutOfOrder { unit: "m".into() }, "1m")
        );
        assert_eq!(error("1s2s").1, "2s");
        assert_eq!(
            error("2 s"),
            (DurationErrorKind::Unexpected { found: ' ' }, " ")
        );
        assert_eq!(error("s").1, "s");
        assert_eq!(error("-1s"), (DurationErrorKind::Negative, "-1s"));
        assert_eq!(
            error("99999999999999999999h").0,
            DurationErrorKind::Overflow
        );
        assert_eq!(error("9999999999999999h").0, DurationErrorKind::Overflow);
    }

    #[test]
    fn writes_what_it_reads() {
        for (millis, text) in [
            (250, "250ms"),
            (2_000, "2s"),
            (90_000, "1m30s"),
            (3_723_004, "1h2m3s4ms"),
            (86_400_000, "24h"),
            (0, "0ms"),
        ] {
            assert_eq!(format(ms(millis)), text);
            assert_eq!(parse(text), Ok(ms(millis)));
        }
    }
}
