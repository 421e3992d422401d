//! What the monitoring of a service is made of, read once from its
//! metadata: the use cases with their criticality and the triggers that
//! call for alerts and panels beyond the error rate and latency.

use bisslog_schema::{Criticality, InteractionType, ScheduleTrigger, ServiceMetadata, TriggerKind};

/// One use case as monitoring sees it.
#[derive(Debug, Clone)]
pub(crate) struct UseCase<'a> {
    /// The keyname, the `use_case` label.
    pub(crate) keyname: &'a str,
    pub(crate) criticality: Criticality,
    /// The queues its consumer triggers read, in trigger order, without
    /// repeats.
    pub(crate) queues: Vec<&'a str>,
    /// Its schedule triggers.
    pub(crate) schedules: Vec<&'a ScheduleTrigger>,
    /// Whether it declares a `publisher` interaction.
    pub(crate) publishes: bool,
}

/// The use cases of `service` in metadata order.
pub(crate) fn use_cases(service: &ServiceMetadata) -> Vec<UseCase<'_>> {
    service
        .use_cases
        .values()
        .map(|use_case| {
            let mut queues = Vec::new();
            let mut schedules = Vec::new();
            for trigger in &use_case.triggers {
                match &trigger.kind {
                    TriggerKind::Consumer(consumer) => {
                        if !queues.contains(&consumer.queue.as_str()) {
                            queues.push(consumer.queue.as_str());
                        }
                    }
                    TriggerKind::Schedule(schedule) => schedules.push(schedule),
                    TriggerKind::Http(_) | TriggerKind::WebSocket(_) => {}
                }
            }
            UseCase {
                keyname: &use_case.keyname,
                criticality: use_case.criticality,
                queues,
                schedules,
                publishes: use_case
                    .external_interactions
                    .iter()
                    .any(|i| i.type_interaction == Some(InteractionType::Publisher)),
            }
        })
        .collect()
}

/// The use cases most critical first; equal levels keep metadata order.
pub(crate) fn by_criticality<'a>(use_cases: &[UseCase<'a>]) -> Vec<UseCase<'a>> {
    let mut sorted = use_cases.to_vec();
    sorted.sort_by_key(|u| std::cmp::Reverse(u.criticality.level()));
    sorted
}

/// `text` as a PromQL string literal (double-quoted, escaped).
pub(crate) fn promql_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}
