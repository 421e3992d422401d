//! What the diagrams write for triggers and ports, and in which colours.

use bisslog_schema::{ExternalInteraction, InteractionType, TriggerKind, TriggerMetadata};

use super::svg::{self, Palette};
use crate::cron_words::describe_cron;

/// A trigger as the diagrams and pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TriggerLabel {
    /// The kind, for people: `HTTP`, `WebSocket`, `queue`, `schedule`.
    pub(crate) kind: &'static str,
    /// The route, route key, queue or schedule in words.
    pub(crate) text: String,
    /// The colours of its node.
    pub(crate) palette: Palette,
}

/// The label of `trigger`: `GET /schemas`, `$connect`, the queue, or the
/// schedule in words.
pub(crate) fn trigger_label(trigger: &TriggerMetadata) -> TriggerLabel {
    match &trigger.kind {
        TriggerKind::Http(http) => TriggerLabel {
            kind: "HTTP",
            text: format!("{} {}", http.method, http.path),
            palette: svg::HTTP,
        },
        TriggerKind::WebSocket(ws) => TriggerLabel {
            kind: "WebSocket",
            text: ws.route_key.clone(),
            palette: svg::WEBSOCKET,
        },
        TriggerKind::Consumer(consumer) => TriggerLabel {
            kind: "queue",
            text: consumer.queue.clone(),
            palette: svg::QUEUE,
        },
        TriggerKind::Schedule(schedule) => TriggerLabel {
            kind: "schedule",
            text: describe_cron(schedule.cronjob.as_str(), schedule.timezone.as_deref()),
            palette: svg::SCHEDULE,
        },
    }
}

/// The colours of a port of this kind.
pub(crate) fn port_palette(kind: Option<&InteractionType>) -> Palette {
    match kind {
        Some(InteractionType::Database) => svg::DATABASE,
        Some(InteractionType::Publisher) => svg::QUEUE,
        Some(InteractionType::Notifier) => svg::NOTIFIER,
        Some(InteractionType::ExternalSystem) => svg::SERVICE,
        _ => svg::OTHER,
    }
}

/// The kind of a port for people: its type, or `port` when undeclared.
pub(crate) fn port_kind(interaction: &ExternalInteraction) -> &str {
    interaction
        .type_interaction
        .as_ref()
        .map_or("port", InteractionType::name)
}
