//! What the pages say about triggers, shared by the HTML and Markdown
//! pages so both formats carry the same facts.

use bisslog_schema::{Authorization, Mapper, TriggerKind, TriggerMetadata, UseCaseMetadata};

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
            opt("timeout", consumer.timeout_ms.map(|ms| format!("{ms} ms")));
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

/// Who may call a use case through its HTTP triggers, in sentences whose
/// names are in backticks: one line when every route is guarded alike,
/// else one per route (`` `GET /x`: ... ``). Empty when it has no HTTP
/// trigger.
pub(crate) fn who_may_call(use_case: &UseCaseMetadata) -> Vec<String> {
    let routes: Vec<(String, String)> = use_case
        .http_triggers()
        .map(|http| {
            // The trigger's own rule replaces the use case's.
            let rule = http
                .authorization
                .as_ref()
                .or(use_case.authorization.as_ref());
            (
                format!("{} {}", http.method, http.path),
                access(http.authenticator.as_deref(), rule),
            )
        })
        .collect();
    let Some((_, first)) = routes.first() else {
        return Vec::new();
    };
    if routes.iter().all(|(_, words)| words == first) {
        return vec![first.clone()];
    }
    routes
        .into_iter()
        .map(|(route, words)| format!("`{route}`: {words}"))
        .collect()
}

/// A one-word summary of who may call through the use case's HTTP
/// routes, for the service page's badge and the search index: `restricted`
/// when a route has requirements (roles, scopes, owner), else
/// `authenticated` when one names an authenticator or has an empty rule,
/// else `public` when every route is public; `None` when the metadata says
/// nothing of callers (or there is no HTTP route).
pub(crate) fn access_badge(use_case: &UseCaseMetadata) -> Option<&'static str> {
    let mut routes = use_case.http_triggers().peekable();
    routes.peek()?;
    let mut all_public = true;
    let mut authenticated = false;
    for http in routes {
        let rule = http
            .authorization
            .as_ref()
            .or(use_case.authorization.as_ref());
        match rule {
            Some(rule) if rule.public => continue,
            Some(rule)
                if !rule.roles.is_empty() || !rule.scopes.is_empty() || rule.owner.is_some() =>
            {
                return Some("restricted");
            }
            Some(_) => authenticated = true,
            None => authenticated |= http.authenticator.is_some(),
        }
        all_public = false;
    }
    if authenticated {
        Some("authenticated")
    } else if all_public {
        Some("public")
    } else {
        None
    }
}

/// One route's authenticator and rule in words.
fn access(authenticator: Option<&str>, rule: Option<&Authorization>) -> String {
    match (authenticator, rule) {
        (_, Some(rule)) if rule.public => rule.in_words(),
        (Some(name), None) => format!("Any caller the `{name}` authenticator accepts."),
        (Some(name), Some(rule)) => format!("Authenticated by `{name}`. {}", rule.in_words()),
        (None, None) => "No authenticator in the metadata: anyone, unless the service authenticates every route (`JWT_*` or `API_KEYS_FILE` set).".to_owned(),
        (None, Some(rule)) => format!(
            "{} Checked when the service authenticates every route (`JWT_*` or `API_KEYS_FILE` set): the metadata names no authenticator.",
            rule.in_words()
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn use_case(yaml: &str) -> UseCaseMetadata {
        let service = bisslog_schema::validate_str("metadata.yml", yaml)
            .into_service()
            .unwrap();
        service.use_cases.values().next().unwrap().clone()
    }

    #[test]
    fn routes_guarded_alike_share_one_line() {
        let uc = use_case(
            "name: s\nuse_cases:\n  a:\n    authorization: {roles: [admin]}\n    triggers:\n      - {type: http, options: {path: /x, authenticator: staff}}\n      - {type: http, options: {path: /y, authenticator: staff}}\n",
        );
        assert_eq!(
            who_may_call(&uc),
            ["Authenticated by `staff`. Requires one of the roles `admin`."]
        );
    }

    #[test]
    fn a_trigger_with_its_own_rule_gets_a_line_per_route() {
        let uc = use_case(
            "name: s\nuse_cases:\n  a:\n    authorization: public\n    triggers:\n      - {type: http, options: {path: /x}}\n      - {type: http, options: {method: post, path: /y, authenticator: staff, authorization: {scopes: [w], owner: id}}}\n      - {type: consumer, options: {queue: q}}\n",
        );
        assert_eq!(
            who_may_call(&uc),
            [
                "`GET /x`: Public: anyone, without credentials.",
                "`POST /y`: Authenticated by `staff`. Requires the scope `w`. Only the owner: the caller's `sub` must equal the input's `id`.",
            ]
        );
    }

    #[test]
    fn the_badge_is_the_strictest_route() {
        let badge = |yaml: &str| access_badge(&use_case(yaml));
        let head = "name: s\nuse_cases:\n  a:\n";
        assert_eq!(
            badge(&format!(
                "{head}    authorization: public\n    triggers:\n      - {{type: http, options: {{path: /x, authenticator: staff}}}}\n"
            )),
            Some("public")
        );
        assert_eq!(
            badge(&format!(
                "{head}    triggers:\n      - {{type: http, options: {{path: /x, authenticator: staff}}}}\n      - {{type: http, options: {{path: /y}}}}\n"
            )),
            Some("authenticated")
        );
        assert_eq!(
            badge(&format!(
                "{head}    authorization: public\n    triggers:\n      - {{type: http, options: {{path: /x}}}}\n      - {{type: http, options: {{path: /y, authorization: {{roles: [r]}}}}}}\n"
            )),
            Some("restricted")
        );
        assert_eq!(
            badge(&format!(
                "{head}    triggers:\n      - {{type: http, options: {{path: /x}}}}\n"
            )),
            None
        );
    }

    #[test]
    fn no_http_trigger_says_nothing() {
        let uc = use_case(
            "name: s\nuse_cases:\n  a:\n    authorization: {roles: [admin]}\n    triggers:\n      - {type: consumer, options: {queue: q}}\n",
        );
        assert!(who_may_call(&uc).is_empty());
    }
}
