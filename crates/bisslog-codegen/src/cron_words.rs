//! Cron expressions in words, for people reading the docs: `0 0 ? * 1 *`
//! in UTC is "every Sunday at 00:00 UTC". Only the common shapes are put
//! into words; anything else falls back to quoting the expression, which is
//! always right.

/// `expr` (a cron as [`bisslog_schema::cron::CronExpr::as_str`] gives it:
/// 5-field Unix, 6-field AWS EventBridge, or a macro such as `@daily`) in
/// words, read in `timezone` (UTC when `None`).
///
/// ```
/// use bisslog_codegen::describe_cron;
///
/// assert_eq!(describe_cron("0 0 ? * 1 *", Some("UTC")), "every Sunday at 00:00 UTC");
/// assert_eq!(describe_cron("*/5 * * * *", None), "every 5 minutes");
/// assert_eq!(describe_cron("30 3 * * *", Some("Europe/Madrid")), "every day at 03:30 Europe/Madrid");
/// assert_eq!(describe_cron("0 0 1-7 * 1", None), "at cron `0 0 1-7 * 1` (UTC)");
/// ```
pub fn describe_cron(expr: &str, timezone: Option<&str>) -> String {
    let expr = expr.trim();
    let zone = timezone
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .unwrap_or("UTC");
    words(expr, zone).unwrap_or_else(|| format!("at cron `{expr}` ({zone})"))
}

/// The fields of a cron, with the dialect's day-of-week numbering.
struct Fields<'a> {
    minute: &'a str,
    hour: &'a str,
    day_of_month: &'a str,
    month: &'a str,
    day_of_week: &'a str,
    /// Whether day-of-week counts from 1 = Sunday (AWS) rather than 0.
    aws: bool,
}

fn words(expr: &str, zone: &str) -> Option<String> {
    let expr = match expr {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" | "@annually" => return Some(format!("every year on 1 January at 00:00 {zone}")),
        other => other,
    };
    let parts: Vec<&str> = expr.split_whitespace().collect();
    let fields = match parts.as_slice() {
        [minute, hour, dom, month, dow] => Fields {
            minute,
            hour,
            day_of_month: dom,
            month,
            day_of_week: dow,
            aws: false,
        },
        [minute, hour, dom, month, dow, year] if *year == "*" => Fields {
            minute,
            hour,
            day_of_month: dom,
            month,
            day_of_week: dow,
            aws: true,
        },
        _ => return None,
    };
    if fields.month != "*" {
        return None;
    }
    let any_day = is_any(fields.day_of_month) && is_any(fields.day_of_week);
    // Sub-daily repetition: minutes or hours as steps.
    if fields.hour == "*" {
        if !any_day {
            return None;
        }
        return match fields.minute {
            "*" => Some("every minute".to_owned()),
            "0" => Some("every hour".to_owned()),
            m if m.starts_with("*/") => {
                let step = number(&m[2..])?;
                Some(if step == 1 {
                    "every minute".to_owned()
                } else {
                    format!("every {step} minutes")
                })
            }
            m => Some(format!("every hour at minute {}", number(m)?)),
        };
    }
    if let Some(step) = fields
        .hour
        .strip_prefix("*/")
        .or_else(|| fields.hour.strip_prefix("0/"))
    {
        let step = number(step)?;
        let minute = number(fields.minute)?;
        if !any_day || minute > 59 {
            return None;
        }
        let every = if step == 1 {
            "every hour".to_owned()
        } else {
            format!("every {step} hours")
        };
        return Some(if minute == 0 {
            every
        } else {
            format!("{every} at minute {minute}")
        });
    }
    let minute = number(fields.minute)?;
    let hours = fields
        .hour
        .split(',')
        .map(number)
        .collect::<Option<Vec<u32>>>()?;
    if minute > 59 || hours.iter().any(|h| *h > 23) {
        return None;
    }
    let times = join_words(
        &hours
            .iter()
            .map(|h| format!("{h:02}:{minute:02}"))
            .collect::<Vec<_>>(),
    );
    let days = days(&fields)?;
    Some(format!("{days} at {times} {zone}"))
}

/// "every day", "every Sunday", "every weekday (Monday to Friday)",
/// "on day 15 of every month"; `None` for anything else.
fn days(fields: &Fields<'_>) -> Option<String> {
    let dom_any = is_any(fields.day_of_month);
    let dow_any = is_any(fields.day_of_week);
    match (dom_any, dow_any) {
        (true, true) => Some("every day".to_owned()),
        (false, true) => {
            let day = number(fields.day_of_month)?;
            (1..=31)
                .contains(&day)
                .then(|| format!("on day {day} of every month"))
        }
        (true, false) => {
            let dow = fields.day_of_week;
            if let Some((from, to)) = dow.split_once('-') {
                let (from, to) = (weekday(from, fields.aws)?, weekday(to, fields.aws)?);
                if from == 1 && to == 5 {
                    return Some("every weekday (Monday to Friday)".to_owned());
                }
                return Some(format!("every {} to {}", NAMES[from], NAMES[to]));
            }
            let days = dow
                .split(',')
                .map(|d| weekday(d, fields.aws).map(|n| NAMES[n].to_owned()))
                .collect::<Option<Vec<_>>>()?;
            Some(format!("every {}", join_words(&days)))
        }
        (false, false) => None,
    }
}

/// Day names with 0 = Sunday.
const NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A day-of-week as 0 = Sunday .. 6 = Saturday.
fn weekday(text: &str, aws: bool) -> Option<usize> {
    let short = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    if let Some(at) = short.iter().position(|s| s.eq_ignore_ascii_case(text)) {
        return Some(at);
    }
    let n = usize::try_from(number(text)?).ok()?;
    match (aws, n) {
        (true, 1..=7) => Some(n - 1),
        (false, 0..=7) => Some(n % 7),
        _ => None,
    }
}

fn is_any(field: &str) -> bool {
    field == "*" || field == "?"
}

fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 4 {
        return None;
    }
    text.parse().ok()
}

/// "a", "a and b", "a, b and c".
pub(crate) fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_cron as d;

    #[test]
    fn the_registry_weekly_cleanup_reads_as_sunday_midnight() {
        assert_eq!(d("0 0 ? * 1 *", Some("UTC")), "every Sunday at 00:00 UTC");
        assert_eq!(d("0 0 ? * SUN *", None), "every Sunday at 00:00 UTC");
    }

    #[test]
    fn steps_read_as_repetition() {
        assert_eq!(d("*/5 * * * *", None), "every 5 minutes");
        assert_eq!(d("*/1 * * * *", None), "every minute");
        assert_eq!(d("* * * * *", None), "every minute");
        assert_eq!(d("0 * * * *", None), "every hour");
        assert_eq!(d("15 * * * *", None), "every hour at minute 15");
        assert_eq!(d("0 */2 * * *", None), "every 2 hours");
        assert_eq!(d("10 */6 ? * * *", None), "every 6 hours at minute 10");
        assert_eq!(d("0/15 * * * ? *", None), "at cron `0/15 * * * ? *` (UTC)");
    }

    #[test]
    fn days_and_times_read_in_the_time_zone() {
        assert_eq!(
            d("30 3 * * *", Some("Europe/Madrid")),
            "every day at 03:30 Europe/Madrid"
        );
        assert_eq!(
            d("0 9 * * 1-5", None),
            "every weekday (Monday to Friday) at 09:00 UTC"
        );
        assert_eq!(
            d("0 9 ? * 2-6 *", None),
            "every weekday (Monday to Friday) at 09:00 UTC"
        );
        assert_eq!(
            d("0 9 * * 6-0", None),
            "every Saturday to Sunday at 09:00 UTC"
        );
        assert_eq!(
            d("0 8,20 * * 1,3,5", None),
            "every Monday, Wednesday and Friday at 08:00 and 20:00 UTC"
        );
        assert_eq!(
            d("0 12 15 * *", None),
            "on day 15 of every month at 12:00 UTC"
        );
        assert_eq!(d("0 0 * * 7", None), "every Sunday at 00:00 UTC");
    }

    #[test]
    fn macros_read_as_words() {
        assert_eq!(d("@daily", None), "every day at 00:00 UTC");
        assert_eq!(d("@hourly", None), "every hour");
        assert_eq!(d("@weekly", None), "every Sunday at 00:00 UTC");
        assert_eq!(d("@monthly", None), "on day 1 of every month at 00:00 UTC");
        assert_eq!(d("@yearly", None), "every year on 1 January at 00:00 UTC");
    }

    #[test]
    fn complex_expressions_fall_back_to_the_expression() {
        assert_eq!(d("0 10 ? * 6L *", None), "at cron `0 10 ? * 6L *` (UTC)");
        assert_eq!(d("0 0 1 1 *", Some(" ")), "at cron `0 0 1 1 *` (UTC)");
        assert_eq!(d("0 0 * * * 2030", None), "at cron `0 0 * * * 2030` (UTC)");
        assert_eq!(d("5-10 1 * * *", None), "at cron `5-10 1 * * *` (UTC)");
        assert_eq!(d("", None), "at cron `` (UTC)");
    }
}
