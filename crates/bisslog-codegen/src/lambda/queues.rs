//! Consumer triggers. Each queue the service reads becomes, by default, an
//! SQS queue with a dead-letter queue and one `SQS` event (the function is
//! one, so several use cases reading one queue share that event and the
//! runtime dispatches); `--sns` makes it an SNS topic, `--eventbridge` an
//! EventBridge rule on its name as `detail-type`.

use std::collections::BTreeMap;

use bisslog_schema::{ConsumerTrigger, UseCaseMetadata};
use serde_json::{Value, json};

use super::Problem;
use super::template::{Builder, get_att, reference, sub, sub_literal};

/// The environment variable mapping each queue name to the ARN of its SQS
/// queue or SNS topic, as a JSON object, for the runtime to tell which
/// queue a record came from.
pub(super) const ENVIRONMENT: &str = "BISSLOG_QUEUES";

/// Retries when the metadata gives no `max_retries`: the runtime's default.
const DEFAULT_MAX_RETRIES: u32 = 3;

/// SQS `maxReceiveCount` is at most 1000.
const MAX_RETRIES: u32 = 999;

/// Lambda reads at most 10,000 SQS messages in one batch.
const MAX_BATCH: u32 = 10_000;

/// A batch above 10 needs a batching window.
const MAX_UNWINDOWED_BATCH: u32 = 10;

/// Fourteen days, the longest SQS keeps a message: time to look at it.
const DEAD_LETTER_RETENTION: u32 = 1_209_600;

/// The queues seen so far.
#[derive(Debug, Default)]
pub(super) struct Queues {
    /// Consumed queues, by name: who first consumed it and its settings.
    consumed: BTreeMap<String, Consumed>,
    /// SQS queue resources (consumed and dead-letter), by name: logical id.
    sqs: BTreeMap<String, String>,
    /// Queue name → `Fn::Sub` expression of its ARN, in metadata order.
    arns: Vec<(String, String)>,
}

#[derive(Debug)]
struct Consumed {
    use_case: String,
    trigger: ConsumerTrigger,
}

impl Queues {
    /// Whether the template has SQS queues.
    pub(super) fn has_sqs(&self) -> bool {
        !self.sqs.is_empty()
    }

    /// The value of [`ENVIRONMENT`], when a queue has an ARN.
    pub(super) fn environment(&self) -> Option<Value> {
        if self.arns.is_empty() {
            return None;
        }
        let entries: Vec<String> = self
            .arns
            .iter()
            .map(|(queue, arn)| {
                let name = sub_literal(&Value::String(queue.clone()).to_string());
                format!("{name}:\"{arn}\"")
            })
            .collect();
        Some(sub(&format!("{{{}}}", entries.join(","))))
    }
}

enum Mode {
    Sqs,
    Sns,
    EventBridge,
}

fn mode(b: &Builder<'_>, queue: &str) -> Mode {
    if b.options.sns_queues.iter().any(|q| q == queue) {
        Mode::Sns
    } else if b.options.eventbridge_queues.iter().any(|q| q == queue) {
        Mode::EventBridge
    } else {
        Mode::Sqs
    }
}

pub(super) fn consumer(
    b: &mut Builder<'_>,
    use_case: &UseCaseMetadata,
    index: usize,
    consumer: &ConsumerTrigger,
) {
    let queue = consumer.queue.as_str();
    if let Some(first) = b.queues.consumed.get(queue) {
        let conflict = [
            (
                "batch_size",
                first.trigger.batch_size != consumer.batch_size,
            ),
            (
                "max_retries",
                first.trigger.max_retries != consumer.max_retries,
            ),
            (
                "dead_letter_queue",
                first.trigger.dead_letter_queue != consumer.dead_letter_queue,
            ),
        ]
        .into_iter()
        .find(|(_, differs)| *differs);
        let problem = conflict
            .filter(|_| matches!(mode(b, queue), Mode::Sqs))
            .map(|(option, _)| Problem::ConflictingQueueOption {
                queue: queue.to_owned(),
                first: first.use_case.clone(),
                second: use_case.keyname.clone(),
                option,
            });
        b.problems.extend(problem);
        return;
    }
    b.queues.consumed.insert(
        queue.to_owned(),
        Consumed {
            use_case: use_case.keyname.clone(),
            trigger: consumer.clone(),
        },
    );
    match mode(b, queue) {
        Mode::Sqs => sqs(b, use_case, index, consumer),
        Mode::Sns => {
            let topic = b.ids.claim(queue, "Topic");
            b.resources
                .insert(topic.clone(), json!({ "Type": "AWS::SNS::Topic" }));
            b.outputs.insert(
                format!("{topic}Arn"),
                json!({
                    "Description": format!("The ARN of the SNS topic of `{queue}`"),
                    "Value": reference(&topic),
                }),
            );
            let event = b.ids.claim(queue, "Sns");
            b.events.insert(
                event,
                json!({ "Type": "SNS", "Properties": { "Topic": reference(&topic) } }),
            );
            b.queues
                .arns
                .push((queue.to_owned(), format!("${{{topic}}}")));
        }
        Mode::EventBridge => {
            let event = b.ids.claim(queue, "EventBridge");
            b.events.insert(
                event,
                json!({
                    "Type": "EventBridgeRule",
                    "Properties": { "Pattern": { "detail-type": [queue] } },
                }),
            );
        }
    }
}

fn sqs(b: &mut Builder<'_>, use_case: &UseCaseMetadata, index: usize, consumer: &ConsumerTrigger) {
    let queue = consumer.queue.as_str();
    let out_of_range = |option, value, reason| Problem::OptionOutOfRange {
        use_case: use_case.keyname.clone(),
        index,
        option,
        value,
        reason,
    };
    let max_retries = consumer.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
    if max_retries > MAX_RETRIES {
        b.problems.push(out_of_range(
            "max_retries",
            max_retries,
            "is above 999: SQS moves a message to the dead-letter queue after at most 1000 receives",
        ));
        return;
    }
    if let Some(batch) = consumer.batch_size.filter(|&n| n > MAX_BATCH) {
        b.problems.push(out_of_range(
            "batch_size",
            batch,
            "is above 10000, the most Lambda reads from SQS at once",
        ));
        return;
    }
    let dead_letter = consumer
        .dead_letter_queue
        .clone()
        .unwrap_or_else(|| format!("{queue}-dlq"));
    if dead_letter == queue {
        b.problems.push(Problem::SelfDeadLetter {
            queue: queue.to_owned(),
        });
        return;
    }
    let queue_id = sqs_resource(b, queue, false);
    let dead_letter_id = sqs_resource(b, &dead_letter, true);
    if let Some(properties) = b
        .resources
        .get_mut(&queue_id)
        .and_then(|resource| resource.get_mut("Properties"))
        .and_then(Value::as_object_mut)
    {
        // A dead-letter queue of another queue may be consumed too.
        properties.insert(
            "VisibilityTimeout".to_owned(),
            reference("QueueVisibilityTimeout"),
        );
        properties.insert(
            "RedrivePolicy".to_owned(),
            json!({
                "deadLetterTargetArn": get_att(&dead_letter_id, "Arn"),
                "maxReceiveCount": max_retries + 1,
            }),
        );
    }
    let mut properties = serde_json::Map::new();
    properties.insert("Queue".to_owned(), get_att(&queue_id, "Arn"));
    if let Some(batch) = consumer.batch_size {
        properties.insert("BatchSize".to_owned(), json!(batch));
        if batch > MAX_UNWINDOWED_BATCH {
            properties.insert("MaximumBatchingWindowInSeconds".to_owned(), json!(1));
        }
    }
    properties.insert(
        "FunctionResponseTypes".to_owned(),
        json!(["ReportBatchItemFailures"]),
    );
    let event = b.ids.claim(queue, "Sqs");
    b.events.insert(
        event,
        json!({ "Type": "SQS", "Properties": Value::Object(properties) }),
    );
    b.queues
        .arns
        .push((queue.to_owned(), format!("${{{queue_id}.Arn}}")));
}

/// The logical id of the SQS queue `name`, creating its resource (and URL
/// output) the first time.
fn sqs_resource(b: &mut Builder<'_>, name: &str, dead_letter: bool) -> String {
    if let Some(id) = b.queues.sqs.get(name) {
        return id.clone();
    }
    let id = b.ids.claim(name, "Queue");
    let properties = if dead_letter {
        json!({ "MessageRetentionPeriod": DEAD_LETTER_RETENTION })
    } else {
        json!({ "VisibilityTimeout": reference("QueueVisibilityTimeout") })
    };
    b.resources.insert(
        id.clone(),
        json!({ "Type": "AWS::SQS::Queue", "Properties": properties }),
    );
    let what = if dead_letter {
        "dead-letter queue"
    } else {
        "queue"
    };
    b.outputs.insert(
        format!("{id}Url"),
        json!({
            "Description": format!("The URL of the {what} `{name}`"),
            "Value": reference(&id),
        }),
    );
    b.queues.sqs.insert(name.to_owned(), id.clone());
    id
}

/// `--sns` and `--eventbridge` must name consumed queues, each once.
pub(super) fn check_flags(b: &mut Builder<'_>) {
    let options = b.options;
    let flags = [
        ("sns", &options.sns_queues),
        ("eventbridge", &options.eventbridge_queues),
    ];
    for (flag, queues) in flags {
        for queue in queues {
            if !b.queues.consumed.contains_key(queue) {
                b.problems.push(Problem::UnknownQueue {
                    flag,
                    queue: queue.clone(),
                });
            }
        }
    }
    for queue in &options.sns_queues {
        if options.eventbridge_queues.contains(queue) {
            b.problems.push(Problem::QueueInTwoModes {
                queue: queue.clone(),
            });
        }
    }
}
