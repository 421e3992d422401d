//! The kinds of a service's queues, as its metadata declares them: what
//! the consumers subscribe with and what the publishers (and the outbox
//! relay) publish with.

use std::collections::BTreeSet;

use bisslog_messaging::QueueKind;
use bisslog_schema::{InteractionType, ServiceMetadata, TriggerKind};

/// The broker contract's kind for the metadata's `queue_kind`.
pub fn queue_kind(kind: bisslog_schema::QueueKind) -> QueueKind {
    match kind {
        bisslog_schema::QueueKind::Command => QueueKind::Command,
        bisslog_schema::QueueKind::Event => QueueKind::Event,
    }
}

/// The queues a service declares as events, by its publisher interactions
/// and consumer triggers with `queue_kind: event`: what
/// [`BrokerPublisher::events`](bisslog_messaging::BrokerPublisher::events)
/// and the outbox relay are given, so that the service publishes them the
/// event way.
///
/// ```
/// let metadata = bisslog_schema::load_str(
///     "metadata.yml",
///     "name: registry\nuse_cases:\n  insert:\n    external_interactions:\n      - {keyname: events, type_interaction: publisher, operation: data.inserted, queue_kind: event}\n",
/// )
/// .unwrap();
/// let events = bisslog_runtime::messaging::event_queues(&metadata);
/// assert!(events.contains("data.inserted"));
/// ```
pub fn event_queues(metadata: &ServiceMetadata) -> BTreeSet<String> {
    let mut events = BTreeSet::new();
    for use_case in metadata.use_cases.values() {
        for interaction in &use_case.external_interactions {
            if interaction.type_interaction == Some(InteractionType::Publisher)
                && interaction.queue_kind == bisslog_schema::QueueKind::Event
            {
                events.extend(interaction.operation.iter().cloned());
            }
        }
        for trigger in &use_case.triggers {
            if let TriggerKind::Consumer(consumer) = &trigger.kind
                && consumer.queue_kind == bisslog_schema::QueueKind::Event
            {
                events.insert(consumer.queue.clone());
            }
        }
    }
    events
}
