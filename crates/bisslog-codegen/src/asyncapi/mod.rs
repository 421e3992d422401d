//! AsyncAPI 3.0 documents for the messaging side of a service.
//!
//! Each queue is a channel whose `address` is the queue name. A consumer
//! trigger is a `receive` operation on its queue's channel; a publisher
//! external interaction is a `send` operation on each queue its
//! `operation` names (see `docs/metadata.md`, "Publishers name their
//! queues"). Each channel carries one message, whose payload schema comes
//! from the first consumer mapper that reads `event` keys, else an open
//! object.
//!
//! | from the metadata | in the document |
//! |---|---|
//! | consumer `queue` | channel (id: the queue name, `address`: the queue name), `receive` operation |
//! | publisher `operation` | channel per queue, `send` operation |
//! | consumer mapper `event`, `event.x` | the message payload (object with property `x`) |
//! | use case `name`, `description`, `criticality`, `actor` | `summary`, `description`, `x-bisslog-*` |
//! | consumer `dead_letter_queue`, `delivery_semantic` | `x-bisslog-dead-letter-queue`, `x-bisslog-delivery-semantic` |
//! | consumer `partition` | `x-bisslog-partition` (messages of one key handled in order) |
//! | `queue_kind` of consumers and publishers | channel `x-bisslog-queue-kind` and `description`: `event` when any of them says so |

use bisslog_schema::{InteractionType, QueueKind, ServiceMetadata, SourcePart, TriggerKind};
use serde_json::{Map, Value, json};

use bisslog_openapi::ApiOptions;
use bisslog_openapi::api_doc::{self, UniqueIds, part_schema, use_case_extensions};

/// The AsyncAPI version written.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

/// A channel under construction.
struct Channel {
    id: String,
    queue: String,
    payload: Option<Value>,
    /// An event when any consumer or publisher of the queue says so (W020
    /// points out the others).
    kind: QueueKind,
}

/// What a channel of `kind` means for who receives its messages.
fn kind_description(kind: QueueKind) -> &'static str {
    match kind {
        QueueKind::Event => {
            "An event: every subscribing service (every consumer trigger) receives each message once; the instances of one service share its copy."
        }
        QueueKind::Command => {
            "A command: work for one service; its consumers compete and each message is handled by one of them."
        }
    }
}

/// The AsyncAPI document of `service`'s consumers and publishers, in
/// metadata order.
///
/// ```
/// let service = bisslog_schema::validate_str(
///     "metadata.yml",
///     "
/// name: registry
/// use_cases:
///   store:
///     external_interactions:
///       - {keyname: events, type_interaction: publisher, operation: data.stored}
///     triggers:
///       - type: consumer
///         options: {queue: data.incoming, mapper: {event.body: data}}
/// ",
/// )
/// .into_service()
/// .expect("valid metadata");
/// let doc = bisslog_codegen::asyncapi::document(&service, &Default::default());
/// assert_eq!(doc["asyncapi"], "3.0.0");
/// assert_eq!(doc["channels"]["data.incoming"]["address"], "data.incoming");
/// assert_eq!(doc["operations"]["store"]["action"], "receive");
/// assert_eq!(doc["operations"]["store_sends_data.stored"]["action"], "send");
/// assert_eq!(doc["channels"]["data.incoming"]["x-bisslog-queue-kind"], "command");
/// ```
pub fn document(service: &ServiceMetadata, options: &ApiOptions) -> Value {
    let mut channel_ids = UniqueIds::default();
    let mut channels: Vec<Channel> = Vec::new();
    let mut channel_for = |queue: &str, payload: Option<Value>, kind: QueueKind| -> String {
        if let Some(channel) = channels.iter_mut().find(|c| c.queue == queue) {
            if channel.payload.is_none() {
                channel.payload = payload;
            }
            if kind == QueueKind::Event {
                channel.kind = kind;
            }
            return channel.id.clone();
        }
        let id = channel_ids.claim(queue);
        channels.push(Channel {
            id: id.clone(),
            queue: queue.to_owned(),
            payload,
            kind,
        });
        id
    };
    let mut operation_ids = UniqueIds::default();
    let mut operations = Map::new();
    for use_case in service.use_cases.values() {
        for trigger in &use_case.triggers {
            let TriggerKind::Consumer(consumer) = &trigger.kind else {
                continue;
            };
            let payload = consumer
                .mapper
                .as_ref()
                .and_then(|m| part_schema(m, SourcePart::Event));
            let channel = channel_for(&consumer.queue, payload, consumer.queue_kind);
            let mut op = operation("receive", &channel, use_case);
            op.insert(
                "x-bisslog-delivery-semantic".into(),
                json!(consumer.delivery_semantic.as_str()),
            );
            if let Some(partition) = &consumer.partition {
                op.insert("x-bisslog-partition".into(), json!(partition));
            }
            if let Some(dlq) = &consumer.dead_letter_queue {
                op.insert("x-bisslog-dead-letter-queue".into(), json!(dlq));
            }
            use_case_extensions(use_case, &mut op);
            operations.insert(operation_ids.claim(&use_case.keyname), Value::Object(op));
        }
        for interaction in &use_case.external_interactions {
            if interaction.type_interaction != Some(InteractionType::Publisher) {
                continue;
            }
            for queue in &interaction.operation {
                if queue.chars().any(char::is_whitespace) || queue.is_empty() {
                    continue; // W014: not a queue name.
                }
                let channel = channel_for(queue, None, interaction.queue_kind);
                let mut op = operation("send", &channel, use_case);
                op.insert("x-bisslog-port".into(), json!(interaction.keyname));
                use_case_extensions(use_case, &mut op);
                let id = operation_ids.claim(&format!("{}_sends_{queue}", use_case.keyname));
                operations.insert(id, Value::Object(op));
            }
        }
    }
    let mut channel_map = Map::new();
    let mut messages = Map::new();
    for channel in channels {
        let message_id = format!("{}.message", channel.id);
        channel_map.insert(
            channel.id.clone(),
            json!({
                "address": channel.queue,
                "description": kind_description(channel.kind),
                "x-bisslog-queue-kind": channel.kind.as_str(),
                "messages": {
                    "message": {"$ref": format!("#/components/messages/{message_id}")},
                },
            }),
        );
        let payload = channel.payload.unwrap_or_else(
            || json!({"type": "object", "description": "the message's JSON payload"}),
        );
        messages.insert(
            message_id,
            json!({
                "name": channel.queue,
                "contentType": "application/json",
                "payload": payload,
            }),
        );
    }
    let mut doc = Map::new();
    doc.insert("asyncapi".into(), json!(ASYNCAPI_VERSION));
    doc.insert("info".into(), api_doc::info(service, options));
    doc.insert("defaultContentType".into(), json!("application/json"));
    doc.insert("channels".into(), Value::Object(channel_map));
    doc.insert("operations".into(), Value::Object(operations));
    doc.insert("components".into(), json!({"messages": messages}));
    Value::Object(doc)
}

/// The common part of an operation on `channel`.
fn operation(
    action: &str,
    channel: &str,
    use_case: &bisslog_schema::UseCaseMetadata,
) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("action".into(), json!(action));
    op.insert(
        "channel".into(),
        json!({"$ref": format!("#/channels/{channel}")}),
    );
    op.insert(
        "messages".into(),
        json!([{"$ref": format!("#/channels/{channel}/messages/message")}]),
    );
    op.insert("summary".into(), json!(use_case.display_name()));
    if let Some(description) = &use_case.description {
        op.insert("description".into(), json!(description));
    }
    op
}
