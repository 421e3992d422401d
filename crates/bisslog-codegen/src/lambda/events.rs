//! Function events for HTTP and schedule triggers.

use bisslog_schema::{HttpTrigger, Method, ScheduleTrigger, UseCaseMetadata};
use serde_json::{Map, Value, json};

use super::template::{Builder, truncate};
use super::{HttpApi, Problem};

/// The longest EventBridge Scheduler description, in bytes.
const MAX_SCHEDULE_DESCRIPTION: usize = 512;

/// The most retries EventBridge Scheduler makes.
const MAX_SCHEDULE_RETRIES: u32 = 185;

/// An `HttpApi` or `Api` event: the method and the path as written, with
/// its `{name}` variables, which API Gateway reads the same way.
pub(super) fn http(
    b: &mut Builder<'_>,
    use_case: &UseCaseMetadata,
    index: usize,
    http: &HttpTrigger,
) {
    if matches!(http.method, Method::Connect | Method::Trace) {
        b.problems.push(Problem::UnsupportedMethod {
            use_case: use_case.keyname.clone(),
            index,
            method: http.method.as_str(),
        });
        return;
    }
    let kind = match b.options.http_api {
        HttpApi::Http => "HttpApi",
        HttpApi::Rest => "Api",
    };
    let id = b.ids.claim(&use_case.keyname, "Http");
    b.events.insert(
        id,
        json!({
            "Type": kind,
            "Properties": {
                "Path": http.path.as_str(),
                "Method": http.method.as_str().to_ascii_lowercase(),
            },
        }),
    );
}

/// A `ScheduleV2` (EventBridge Scheduler) event. Its input is the envelope
/// the Lambda runtime reads to find the use case and the trigger, whose
/// static `event` it then takes from the metadata:
/// `{"bisslog_schedule":{"use_case":"<keyname>","trigger":<index>}}`.
pub(super) fn schedule(
    b: &mut Builder<'_>,
    use_case: &UseCaseMetadata,
    index: usize,
    schedule: &ScheduleTrigger,
) {
    let cron = match schedule.cronjob.to_aws() {
        Ok(cron) => cron,
        Err(error) => {
            b.problems.push(Problem::UntranslatableCron {
                use_case: use_case.keyname.clone(),
                index,
                cron: schedule.cronjob.as_str().to_owned(),
                reason: error.to_string(),
            });
            return;
        }
    };
    let mut properties = Map::new();
    properties.insert(
        "ScheduleExpression".to_owned(),
        json!(format!("cron({cron})")),
    );
    properties.insert(
        "ScheduleExpressionTimezone".to_owned(),
        json!(schedule.timezone.as_deref().unwrap_or("UTC")),
    );
    properties.insert(
        "Input".to_owned(),
        json!(envelope(&use_case.keyname, index)),
    );
    if let Some(description) = &schedule.description {
        properties.insert(
            "Description".to_owned(),
            json!(truncate(description, MAX_SCHEDULE_DESCRIPTION)),
        );
    }
    if let Some(attempts) = schedule.max_attempts {
        let retries = attempts.saturating_sub(1);
        if retries > MAX_SCHEDULE_RETRIES {
            b.problems.push(Problem::OptionOutOfRange {
                use_case: use_case.keyname.clone(),
                index,
                option: "max_attempts",
                value: attempts,
                reason: "is above 186, the most attempts EventBridge Scheduler makes",
            });
            return;
        }
        properties.insert(
            "RetryPolicy".to_owned(),
            json!({ "MaximumRetryAttempts": retries }),
        );
    }
    let id = b.ids.claim(&use_case.keyname, "Schedule");
    b.events.insert(
        id,
        json!({ "Type": "ScheduleV2", "Properties": Value::Object(properties) }),
    );
}

/// The schedule input: a contract with the `bisslog-lambda` runtime.
pub(super) fn envelope(use_case: &str, index: usize) -> String {
    json!({ "bisslog_schedule": { "use_case": use_case, "trigger": index } }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_envelope_is_compact_json_in_a_fixed_key_order() {
        assert_eq!(
            envelope("delete_all", 2),
            r#"{"bisslog_schedule":{"use_case":"delete_all","trigger":2}}"#
        );
        assert_eq!(
            envelope("say \"hi\"", 0),
            r#"{"bisslog_schedule":{"use_case":"say \"hi\"","trigger":0}}"#
        );
    }
}
