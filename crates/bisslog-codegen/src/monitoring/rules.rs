//! The Prometheus rule file of a service: recording rules for its error
//! ratios over the burn-rate windows, then one group of alerts.

use std::fmt::Write as _;

use bisslog_schema::ServiceMetadata;

use super::objectives::{
    self, BurnWindow, CALLER_ERROR_KINDS, FAST_BURN, RATIO_WINDOWS, SLOW_BURN, Severity, decimal,
};
use super::plan::{self, UseCase, promql_string};
use super::schedule_gap;

/// The recorded error ratio of every use case over `window`.
pub(crate) fn ratio_record(window: &str) -> String {
    format!("bisslog:use_case_errors:ratio_rate{window}")
}

/// One alerting rule before it is written.
struct Alert {
    name: &'static str,
    expr: String,
    for_: Option<String>,
    severity: Severity,
    /// Labels besides `service`, `use_case` and `severity`.
    extra_labels: Vec<(&'static str, String)>,
    use_case: String,
    summary: String,
    description: String,
}

/// The body (no header) of the rule file of `service`, whose file-name
/// form is `name`.
pub(crate) fn render(service: &ServiceMetadata, name: &str) -> String {
    let use_cases = plan::use_cases(service);
    let service_name = promql_string(&service.name);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Prometheus rules of the service `{}`, from its metadata.\n\
         # Objectives per criticality: docs/observability.md, \"Alerts and dashboards\".",
        one_line(&service.name)
    );
    out.push_str("groups:\n");
    let _ = writeln!(
        out,
        "  - name: {}",
        yaml_string(&format!("bisslog-{name}-ratios"))
    );
    out.push_str("    rules:\n");
    let caller_errors = CALLER_ERROR_KINDS.join("|");
    for window in RATIO_WINDOWS {
        let _ = writeln!(out, "      - record: {}", ratio_record(window));
        let expr = format!(
            "sum by (service, use_case) (rate(bisslog_use_case_calls_total{{service={service_name}, outcome=\"failure\", error_kind!~\"{caller_errors}\"}}[{window}]))\n\
             /\n\
             sum by (service, use_case) (rate(bisslog_use_case_calls_total{{service={service_name}}}[{window}]))"
        );
        write_block(&mut out, "expr", &expr);
    }
    let _ = writeln!(
        out,
        "  - name: {}",
        yaml_string(&format!("bisslog-{name}-alerts"))
    );
    out.push_str("    rules:\n");
    for use_case in plan::by_criticality(&use_cases) {
        for alert in use_case_alerts(service, &use_case) {
            write_alert(&mut out, &service.name, &alert);
        }
    }
    if let Some(alert) = outbox_alert(service, &use_cases) {
        write_alert(&mut out, &service.name, &alert);
    }
    for alert in circuit_alerts(service, &use_cases) {
        write_alert(&mut out, &service.name, &alert);
    }
    out
}

/// An alert per external interaction with a circuit breaker: its breaker
/// not closed for a minute (calls failing fast), held to the most critical
/// use case that declares it.
fn circuit_alerts(service: &ServiceMetadata, use_cases: &[UseCase<'_>]) -> Vec<Alert> {
    let mut interactions: Vec<&str> = Vec::new();
    for declared in service.use_cases.values() {
        for interaction in &declared.external_interactions {
            let keyname = interaction.keyname.as_str();
            let guarded = service
                .policy_for(&declared.keyname, keyname)
                .circuit_breaker
                .is_some();
            if guarded && !interactions.contains(&keyname) {
                interactions.push(keyname);
            }
        }
    }
    interactions
        .into_iter()
        .filter_map(|keyname| {
            let users: Vec<&UseCase<'_>> = use_cases
                .iter()
                .filter(|u| {
                    service.use_cases.get(u.keyname).is_some_and(|declared| {
                        declared
                            .external_interactions
                            .iter()
                            .any(|i| i.keyname == keyname)
                    })
                })
                .collect();
            let level = users
                .iter()
                .map(|u| u.criticality)
                .max_by_key(|c| c.level())?;
            let objective = objectives::objective(level);
            let names: Vec<&str> = users.iter().map(|u| u.keyname).collect();
            let who = one_line(keyname);
            Some(Alert {
                name: "BisslogCircuitOpen",
                expr: format!(
                    "max by (service, interaction) (bisslog_interaction_circuit_state{{service={}, interaction={}, state!=\"closed\"}}) > 0",
                    promql_string(&service.name),
                    promql_string(keyname)
                ),
                for_: Some("1m".to_owned()),
                severity: objective.severity,
                extra_labels: vec![
                    ("criticality", level.name().to_owned()),
                    ("interaction", keyname.to_owned()),
                ],
                use_case: names.join(","),
                summary: format!("The circuit breaker of `{who}` is open"),
                description: format!(
                    "Calls to `{who}` fail fast: its circuit breaker opened after too many \
                     failures and has not closed for a minute. Used by `{}` ({} criticality).",
                    names.join("`, `"),
                    level.name()
                ),
            })
        })
        .collect()
}

fn use_case_alerts(service: &ServiceMetadata, use_case: &UseCase<'_>) -> Vec<Alert> {
    let level = use_case.criticality;
    let objective = objectives::objective(level);
    let selector = format!(
        "service={}, use_case={}",
        promql_string(&service.name),
        promql_string(use_case.keyname)
    );
    let who = format!(
        "`{}` of `{}` ({} criticality)",
        use_case.keyname,
        one_line(&service.name),
        level.name()
    );
    let budget = decimal(objective.error_budget_ppm(), 1_000_000);
    let target = decimal(objective.availability_ppm, 10_000);
    let criticality = vec![("criticality", level.name().to_owned())];
    let mut alerts = vec![
        Alert {
            name: "BisslogErrorBudgetFastBurn",
            expr: burn_expr(&FAST_BURN, &selector, &budget),
            for_: Some("2m".to_owned()),
            severity: objective.severity,
            extra_labels: criticality.clone(),
            use_case: use_case.keyname.to_owned(),
            summary: format!("{who} is failing fast enough to spend its error budget soon"),
            description: format!(
                "{who} targets {target}% of calls without a failure of its own over 30 days. \
                 Its error ratio is {{{{ $value | humanizePercentage }}}}, more than {} times \
                 its budget of {budget}: at this pace the month's budget is gone within days.",
                FAST_BURN[1].factor
            ),
        },
        Alert {
            name: "BisslogErrorBudgetSlowBurn",
            expr: burn_expr(&SLOW_BURN, &selector, &budget),
            for_: Some("15m".to_owned()),
            severity: Severity::Ticket,
            extra_labels: criticality.clone(),
            use_case: use_case.keyname.to_owned(),
            summary: format!("{who} is spending its error budget faster than it lasts"),
            description: format!(
                "{who} targets {target}% of calls without a failure of its own over 30 days. \
                 Its error ratio is {{{{ $value | humanizePercentage }}}}, at least its budget \
                 of {budget} over days: the month's budget will not last."
            ),
        },
        Alert {
            name: "BisslogLatencyHigh",
            expr: format!(
                "histogram_quantile(0.99, sum by (service, use_case, le) (rate(bisslog_use_case_duration_seconds_bucket{{{selector}}}[5m])))\n> {}",
                decimal(objective.p99_latency_ms, 1000)
            ),
            for_: Some(objective.latency_for.to_owned()),
            severity: objective.severity,
            extra_labels: criticality.clone(),
            use_case: use_case.keyname.to_owned(),
            summary: format!("{who} is slower than its latency objective"),
            description: format!(
                "The 99th percentile duration of {who} is {{{{ $value | humanizeDuration }}}}, \
                 above its objective of {} s for {}.",
                decimal(objective.p99_latency_ms, 1000),
                objective.latency_for
            ),
        },
    ];
    for queue in &use_case.queues {
        let mut labels = criticality.clone();
        labels.push(("queue", (*queue).to_owned()));
        let queue_selector = format!("{selector}, queue={}", promql_string(queue));
        alerts.push(Alert {
            name: "BisslogDeadLetters",
            expr: format!(
                "sum by (service, use_case, queue) (increase(bisslog_consumer_messages_dead_lettered_total{{{queue_selector}}}[10m])) > 0"
            ),
            for_: None,
            // A dead letter is a message to look at, not an outage: the
            // error-budget alerts page when failures pile up.
            severity: Severity::Ticket,
            extra_labels: labels.clone(),
            use_case: use_case.keyname.to_owned(),
            summary: format!("{who} dead-lettered messages from `{queue}`"),
            description: format!(
                "{who} moved {{{{ $value | humanize }}}} messages from `{queue}` to its dead \
                 letters in the last 10 minutes; they wait there for someone to look."
            ),
        });
        alerts.push(Alert {
            name: "BisslogConsumerLag",
            expr: format!(
                "max by (service, queue) (bisslog_consumer_oldest_unacked_age_seconds{{service={}, queue={}}}) > {}",
                promql_string(&service.name),
                promql_string(queue),
                objective.backlog_age_seconds
            ),
            for_: Some("5m".to_owned()),
            severity: objective.severity,
            extra_labels: labels,
            use_case: use_case.keyname.to_owned(),
            summary: format!("{who} is falling behind on `{queue}`"),
            description: format!(
                "The oldest unacknowledged message on `{queue}`, which {who} consumes, is \
                 {{{{ $value | humanizeDuration }}}} old, more than the {} allowed.",
                schedule_gap::human(i64::from(objective.backlog_age_seconds))
            ),
        });
    }
    if !use_case.schedules.is_empty() {
        alerts.push(Alert {
            name: "BisslogScheduleMisfired",
            expr: format!(
                "sum by (service, use_case) (increase(bisslog_schedule_ticks_total{{{selector}, result=\"misfired\"}}[1h])) > 0"
            ),
            for_: None,
            severity: Severity::Ticket,
            extra_labels: criticality.clone(),
            use_case: use_case.keyname.to_owned(),
            summary: format!("{who} missed scheduled runs"),
            description: format!(
                "{who} misfired {{{{ $value | humanize }}}} scheduled runs in the last hour \
                 (the service was down or busy when they were due)."
            ),
        });
        if let Some(bound) = schedule_gap::late_after_seconds(use_case.schedules.iter().copied()) {
            let crons: Vec<&str> = use_case
                .schedules
                .iter()
                .map(|s| s.cronjob.as_str())
                .collect();
            alerts.push(Alert {
                name: "BisslogScheduleLate",
                expr: format!(
                    "time() - max by (service, use_case) (bisslog_schedule_last_tick_timestamp_seconds{{{selector}}}) > {bound}"
                ),
                for_: None,
                severity: objective.severity,
                extra_labels: criticality,
                use_case: use_case.keyname.to_owned(),
                summary: format!("{who} has not run on schedule"),
                description: format!(
                    "{who} last ticked {{{{ $value | humanizeDuration }}}} ago; its schedule \
                     (`{}`) should have run within {}.",
                    crons.join("`, `"),
                    schedule_gap::human(bound)
                ),
            });
        }
    }
    alerts
}

/// The outbox backlog alert, when a use case publishes: one outbox per
/// service, held to its most critical publisher's objective.
fn outbox_alert(service: &ServiceMetadata, use_cases: &[UseCase<'_>]) -> Option<Alert> {
    let publishers: Vec<&UseCase<'_>> = use_cases.iter().filter(|u| u.publishes).collect();
    let level = publishers
        .iter()
        .map(|u| u.criticality)
        .max_by_key(|c| c.level())?;
    let objective = objectives::objective(level);
    let names: Vec<&str> = publishers.iter().map(|u| u.keyname).collect();
    let service_text = one_line(&service.name);
    Some(Alert {
        name: "BisslogOutboxBacklog",
        expr: format!(
            "max by (service) (bisslog_outbox_oldest_pending_age_seconds{{service={}}}) > {}",
            promql_string(&service.name),
            objective.backlog_age_seconds
        ),
        for_: Some("5m".to_owned()),
        severity: objective.severity,
        extra_labels: vec![("criticality", level.name().to_owned())],
        use_case: names.join(","),
        summary: format!("The outbox of `{service_text}` is not being relayed"),
        description: format!(
            "The oldest message in the outbox of `{service_text}` is {{{{ $value | \
             humanizeDuration }}}} old, more than the {} allowed for its most critical \
             publisher ({} criticality); published by `{}`.",
            schedule_gap::human(i64::from(objective.backlog_age_seconds)),
            level.name(),
            names.join("`, `")
        ),
    })
}

/// The two-window conditions of `windows`, any of them firing.
fn burn_expr(windows: &[BurnWindow], selector: &str, budget: &str) -> String {
    windows
        .iter()
        .map(|w| {
            format!(
                "(\n  {long}{{{selector}}} > {factor} * {budget}\n  and\n  {short}{{{selector}}} > {factor} * {budget}\n)",
                long = ratio_record(w.long),
                short = ratio_record(w.short),
                factor = w.factor,
            )
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
}

fn write_alert(out: &mut String, service: &str, alert: &Alert) {
    let _ = writeln!(out, "      - alert: {}", alert.name);
    write_block(out, "expr", &alert.expr);
    if let Some(duration) = &alert.for_ {
        let _ = writeln!(out, "        for: {duration}");
    }
    out.push_str("        labels:\n");
    let _ = writeln!(out, "          severity: {}", alert.severity.as_str());
    let _ = writeln!(out, "          service: {}", yaml_string(service));
    let _ = writeln!(out, "          use_case: {}", yaml_string(&alert.use_case));
    for (key, value) in &alert.extra_labels {
        let _ = writeln!(out, "          {key}: {}", yaml_string(value));
    }
    out.push_str("        annotations:\n");
    let _ = writeln!(out, "          summary: {}", yaml_string(&alert.summary));
    let _ = writeln!(
        out,
        "          description: {}",
        yaml_string(&alert.description)
    );
}

/// `key: |-` and `text` as a literal block, indented under a rule.
fn write_block(out: &mut String, key: &str, text: &str) {
    let _ = writeln!(out, "        {key}: |-");
    for line in text.lines() {
        let _ = writeln!(out, "          {line}");
    }
}

/// `text` as a YAML double-quoted scalar (a JSON string is one).
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// `text` on one line, for comments and annotations, with no `{{` or
/// `}}` that Prometheus would read as template actions.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("{{", "{ {")
        .replace("}}", "} }")
}
