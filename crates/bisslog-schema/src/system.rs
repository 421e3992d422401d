//! Checks across services: what no single file can show. A queue two
//! services consume without declaring it an event (their consumers would
//! compete), and a queue one service declares an event and another a
//! command. `bisslog validate` with several files adds them to the
//! reports ([`check_across`]); `bisslog docs` shows them on the system
//! page ([`queue_findings`]).

use std::collections::BTreeMap;

use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::load::Report;
use crate::model::{InteractionType, QueueKind, ServiceMetadata, TriggerKind};
use crate::span::{Position, Span};

/// A problem with one queue across services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFinding {
    /// [`Code::CompetingConsumers`] or [`Code::ConflictingQueueKind`].
    pub code: Code,
    /// The queue.
    pub queue: String,
    /// The service (its index in the list given) and use case the finding
    /// points at: the second consumer, or the one declaring a command.
    pub at: (usize, String),
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// One use case naming a queue.
struct Use<'a> {
    service: usize,
    use_case: &'a str,
    consumes: bool,
    kind: QueueKind,
}

/// The queue problems across `services` (in the order given): a queue
/// consumed by two services, declared an event by none of them (W019),
/// and a queue one service declares an event and another a command (by
/// saying so or by not saying; W020). What one file shows alone is left
/// to its own validation.
///
/// ```
/// let load = |yaml: &str| bisslog_schema::load_str("m.yml", yaml).unwrap();
/// let audit = load("name: audit\nuse_cases:\n  record:\n    triggers: [{type: consumer, options: {queue: orders.created}}]\n");
/// let billing = load("name: billing\nuse_cases:\n  charge:\n    triggers: [{type: consumer, options: {queue: orders.created}}]\n");
/// let findings = bisslog_schema::queue_findings(&[&audit, &billing]);
/// assert_eq!(findings[0].code, bisslog_schema::Code::CompetingConsumers);
/// assert_eq!(findings[0].at, (1, "charge".to_owned()));
/// ```
pub fn queue_findings(services: &[&ServiceMetadata]) -> Vec<QueueFinding> {
    let mut queues: BTreeMap<&str, Vec<Use<'_>>> = BTreeMap::new();
    for (s, service) in services.iter().enumerate() {
        for (keyname, use_case) in &service.use_cases {
            for trigger in &use_case.triggers {
                if let TriggerKind::Consumer(consumer) = &trigger.kind {
                    queues
                        .entry(consumer.queue.as_str())
                        .or_default()
                        .push(Use {
                            service: s,
                            use_case: keyname,
                            consumes: true,
                            kind: consumer.queue_kind,
                        });
                }
            }
            for interaction in &use_case.external_interactions {
                if interaction.type_interaction != Some(InteractionType::Publisher) {
                    continue;
                }
                for queue in &interaction.operation {
                    queues.entry(queue.trim()).or_default().push(Use {
                        service: s,
                        use_case: keyname,
                        consumes: false,
                        kind: interaction.queue_kind,
                    });
                }
            }
        }
    }
    let name = |s: usize| services[s].name.as_str();
    let mut findings = Vec::new();
    for (queue, uses) in queues {
        if let Some(event) = uses.iter().find(|u| u.kind == QueueKind::Event) {
            let command = uses
                .iter()
                .find(|u| u.kind == QueueKind::Command && u.service != event.service);
            if let Some(command) = command {
                let verb = if command.consumes {
                    "consumes"
                } else {
                    "publishes to"
                };
                findings.push(QueueFinding {
                    code: Code::ConflictingQueueKind,
                    queue: queue.to_owned(),
                    at: (command.service, command.use_case.to_owned()),
                    message: format!(
                        "`{}` of {} {verb} `{queue}` as a command, but {} declares it an event",
                        command.use_case,
                        name(command.service),
                        name(event.service)
                    ),
                    hint: "declare `queue_kind: event` on every publisher and consumer trigger of the queue (an event queue and a command queue of the same name do not meet on RabbitMQ)".to_owned(),
                });
            }
            continue;
        }
        let mut consumers = uses.iter().filter(|u| u.consumes);
        let Some(first) = consumers.next() else {
            continue;
        };
        if let Some(other) = consumers.find(|u| u.service != first.service) {
            findings.push(QueueFinding {
                code: Code::CompetingConsumers,
                queue: queue.to_owned(),
                at: (other.service, other.use_case.to_owned()),
                message: format!(
                    "`{queue}` is consumed by {} and {} but is not an event: their consumers would compete, each getting some of its messages",
                    name(first.service),
                    name(other.service)
                ),
                hint: "declare `queue_kind: event` on its consumer triggers and publishers so each service gets every message, or consume it in one service".to_owned(),
            });
        }
    }
    findings
}

/// Adds the [`queue_findings`] of the reports' services to the reports,
/// as warnings at the use case each points at. Reports with errors (no
/// model) take no part.
pub fn check_across(reports: &mut [Report]) {
    let (indices, services): (Vec<usize>, Vec<&ServiceMetadata>) = reports
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.service().map(|s| (i, s)))
        .unzip();
    let findings = queue_findings(&services);
    for finding in findings {
        let report = &mut reports[indices[finding.at.0]];
        let span = report
            .locations()
            .use_case(&finding.at.1)
            .unwrap_or(Span::point(Position::START));
        report.add(Diagnostic::new(finding.code, span, finding.message).with_hint(finding.hint));
    }
}
