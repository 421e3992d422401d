//! What the pages say about triggers, shared by the HTML and Markdown
//! pages so both formats carry the same facts.

use bisslog_schema::{Mapper, TriggerKind, TriggerMetadata};

use crate::diagram::trigger_label;

/// `HTTP GET /schemas`, `queue company_data.queue`,
/// `schedule every Sunday at 00:00 UTC`.
pub(crate) fn trigger_summary(trigger: &TriggerMetadata) -> String {
    let label = trigger_label(trigger);
    format!("{} {}", label.kind, label.text)
}

/// The trigger's mapper, when it has one.
pub(crate) fn trigger_mapper(trigger: &TriggerMetadata) -> Option<&Mapper> {
    match &trigger.kind {
        TriggerKind::Http(http) => http.mapper.as_ref(),
        TriggerKind::WebSocket(ws) => ws.mapper.as_ref(),
        TriggerKind::Consumer(consumer) => consumer.mapper.as_ref(),
        TriggerKind::Schedule(_) => None,
    }
}

/// The trigger's options worth showing, as (name, value) pairs in a fixed
/// order; options left at their defaults are omitted.
pub(crate) fn trigger_details(trigger: &TriggerMetadata) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    if let Some(keyname) = &trigger.keyname {
        out.push(("keyname", keyname.clone()));
    }
    let mut opt = |name: &'static str, value: Option<String>| {
        if let Some(value) = value {
            out.push((name, value));
        }
    };
    match &trigger.kind {
        TriggerKind::Http(http) => {
            opt("method", Some(http.method.to_string()));
            opt("path", Some(http.path.to_string()));
            opt("authenticator", http.authenticator.clone());
            opt("API gateway", http.apigw.clone());
            opt("content type", http.content_type.clone());
            opt("timeout", http.timeout_ms.map(|ms| format!("{ms} ms")));
            opt(
                "rate limit",
                http.rate_limit.as_ref().map(ToString::to_string),
            );
            opt("retry policy", http.retry_policy.clone());
            opt("cacheable", http.cacheable.then(|| "yes".to_owned()));
            if http.allow_cors {
                let origins = if http.allowed_origins.is_empty() {
                    "any origin".to_owned()
                } else {
                    http.allowed_origins.join(", ")
                };
                opt("CORS", Some(origins));
            }
        }
        TriggerKind::WebSocket(ws) => opt("route key", Some(ws.route_key.clone())),
        TriggerKind::Consumer(consumer) => {
            opt("queue", Some(consumer.queue.clone()));
            opt("partition", consumer.partition.clone());
            opt(
                "delivery",
                Some(consumer.delivery_semantic.as_str().to_owned()),
            );
            opt("max retries", consumer.max_retries.map(|n| n.to_string()));
            opt(
                "retry delay",
                consumer.retry_delay.map(|s| format!("{s} s")),
            );
            opt("batch size", consumer.batch_size.map(|n| n.to_string()));
            opt("dead-letter queue", consumer.dead_letter_queue.clone());
        }
        TriggerKind::Schedule(schedule) => {
            opt("cron", Some(schedule.cronjob.as_str().to_owned()));
            opt(
                "time zone",
                Some(
                    schedule
                        .timezone
                        .clone()
                        .unwrap_or_else(|| "UTC".to_owned()),
                ),
            );
            opt("description", schedule.description.clone());
            opt("event", schedule.event.as_ref().map(ToString::to_string));
            opt("retry policy", schedule.retry_policy.clone());
            opt("max attempts", schedule.max_attempts.map(|n| n.to_string()));
            opt("overlap", Some(schedule.overlap_policy.as_str().to_owned()));
            opt("misfire", Some(schedule.misfire_policy.as_str().to_owned()));
        }
    }
    out
}
