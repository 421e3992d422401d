//! The queues of one service: who consumes and publishes each, and of
//! which kind, to point out consumers that would compete for a queue and
//! queues declared with two kinds.

use std::collections::BTreeMap;

use super::Checker;
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::QueueKind;
use crate::span::Span;

/// Everything said about the queues so far, by queue name in file order.
#[derive(Default)]
pub(crate) struct Queues {
    uses: BTreeMap<String, Vec<Use>>,
}

/// One consumer trigger or publisher naming a queue.
struct Use {
    /// The use case, for the messages.
    use_case: String,
    /// Whether it consumes (or publishes).
    consumes: bool,
    /// The kind it declares (`command` when it says nothing).
    kind: QueueKind,
    /// Where the queue is named.
    span: Span,
}

impl Checker {
    /// Records that `use_case` consumes (or publishes to) `queue`.
    pub(super) fn use_queue(
        &mut self,
        queue: &str,
        use_case: &str,
        consumes: bool,
        kind: QueueKind,
        span: Span,
    ) {
        self.queues
            .uses
            .entry(queue.to_owned())
            .or_default()
            .push(Use {
                use_case: use_case.to_owned(),
                consumes,
                kind,
                span,
            });
    }

    /// Reports, once the whole file is read, a command queue consumed by
    /// several use cases (W019) and a queue declared both an event and a
    /// command (W020).
    pub(super) fn check_queues(&mut self) {
        let queues = std::mem::take(&mut self.queues.uses);
        for (queue, uses) in &queues {
            self.check(Severity::Warning);
            let event = uses.iter().find(|u| u.kind == QueueKind::Event);
            if let Some(event) = event {
                if let Some(command) = uses.iter().find(|u| u.kind == QueueKind::Command) {
                    let (what, verb) = if command.consumes {
                        ("a consumer trigger", "consumes")
                    } else {
                        ("a publisher", "publishes to")
                    };
                    let message = format!(
                        "`{}` {verb} `{queue}` as a command, but use case `{}` declares it an event",
                        command.use_case, event.use_case
                    );
                    let hint = format!(
                        "add `queue_kind: event` to {what} here (an event queue and a command queue of the same name do not meet on RabbitMQ)"
                    );
                    self.report(
                        Diagnostic::new(Code::ConflictingQueueKind, command.span, message)
                            .with_hint(hint),
                    );
                }
                continue;
            }
            let consumers: Vec<&Use> = uses.iter().filter(|u| u.consumes).collect();
            if let [first, second, ..] = consumers.as_slice() {
                let message = format!(
                    "`{queue}` is consumed by use cases `{}` and `{}` but is not an event: they would compete, each getting some of its messages",
                    first.use_case, second.use_case
                );
                let hint = "declare `queue_kind: event` on its consumer triggers (and publishers) so each gets every message, or consume it once";
                self.report(
                    Diagnostic::new(Code::CompetingConsumers, second.span, message).with_hint(hint),
                );
            }
        }
    }
}
