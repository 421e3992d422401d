//! The service's consumer and schedule triggers, compiled once per cold
//! start: what SQS, SNS, EventBridge and schedule events are routed to.

use std::collections::HashMap;

use bisslog_messaging::consumer_name;
use bisslog_runtime::mapper::InputMapper;
use bisslog_runtime::{Service, UseCaseHandle};
use bisslog_schema::{DeliverySemantic, TriggerKind};
use serde_json::Value;

use crate::error::LambdaError;
use crate::shape::arn_name;

/// The variable naming the ARN behind each queue of the metadata (a JSON
/// object from queue to ARN).
pub const QUEUES_VARIABLE: &str = "BISSLOG_QUEUES";

/// A consumer trigger: its queue, use case and mapper.
#[derive(Debug, Clone)]
pub(crate) struct ConsumerRoute {
    pub(crate) queue: String,
    pub(crate) handle: UseCaseHandle,
    pub(crate) mapper: InputMapper,
    /// For an `exactly-once` trigger, the consumer name its inbox entries
    /// are kept under (the same as on a broker).
    pub(crate) inbox: Option<String>,
    /// The trigger's `timeout`: one record's call is given up past it, so
    /// the rest of its batch still runs. Without one the function's own
    /// `Timeout` bounds the invocation.
    pub(crate) timeout: Option<std::time::Duration>,
}

/// A schedule trigger: its use case, its index in the use case's
/// `triggers`, and the static event it passes as input.
#[derive(Debug, Clone)]
pub(crate) struct ScheduleRoute {
    pub(crate) index: usize,
    pub(crate) handle: UseCaseHandle,
    pub(crate) event: Option<Value>,
    /// The cron expression, for the tick's span.
    pub(crate) cronjob: String,
}

/// Every consumer and schedule trigger of a service, in metadata order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    pub(crate) consumers: Vec<ConsumerRoute>,
    pub(crate) schedules: Vec<ScheduleRoute>,
    /// The queue of the metadata behind each SQS queue or SNS topic ARN.
    pub(crate) queue_of_arn: HashMap<String, String>,
}

impl Routes {
    pub(crate) fn new(service: &Service) -> Self {
        let mut routes = Routes::default();
        for (keyname, spec) in &service.metadata().use_cases {
            let Some(handle) = service.use_case(keyname) else {
                continue;
            };
            for (index, trigger) in spec.triggers.iter().enumerate() {
                match &trigger.kind {
                    TriggerKind::Consumer(consumer) => routes.consumers.push(ConsumerRoute {
                        queue: consumer.queue.clone(),
                        handle: handle.clone(),
                        mapper: InputMapper::new(consumer.mapper.as_ref()),
                        inbox: (consumer.delivery_semantic == DeliverySemantic::ExactlyOnce)
                            .then(|| consumer_name(service.name(), keyname)),
                        timeout: consumer.timeout_ms.map(std::time::Duration::from_millis),
                    }),
                    TriggerKind::Schedule(schedule) => routes.schedules.push(ScheduleRoute {
                        index,
                        handle: handle.clone(),
                        event: schedule.event.clone(),
                        cronjob: schedule.cronjob.as_str().to_owned(),
                    }),
                    TriggerKind::Http(_) | TriggerKind::WebSocket(_) => {}
                }
            }
        }
        routes
    }

    pub(crate) fn set_queue_arns(&mut self, arns: Vec<(String, String)>) {
        self.queue_of_arn = arns.into_iter().map(|(queue, arn)| (arn, queue)).collect();
    }

    /// The queue of the metadata an SQS queue or SNS topic ARN stands for.
    pub(crate) fn queue_of<'a>(&'a self, arn: &'a str) -> &'a str {
        self.queue_of_arn
            .get(arn)
            .map_or_else(|| arn_name(arn), String::as_str)
    }

    /// The consumer triggers of a queue (several use cases may consume
    /// the same queue: each gets every message, as on a broker).
    pub(crate) fn consumers_of<'a>(
        &'a self,
        queue: &'a str,
    ) -> impl Iterator<Item = &'a ConsumerRoute> + 'a {
        self.consumers.iter().filter(move |c| c.queue == queue)
    }
}

/// The `(queue, ARN)` pairs of [`QUEUES_VARIABLE`], if it is set.
pub(crate) fn queue_arns_from_env() -> Result<Option<Vec<(String, String)>>, LambdaError> {
    let Ok(text) = std::env::var(QUEUES_VARIABLE) else {
        return Ok(None);
    };
    let invalid = |reason: String| LambdaError::Configuration {
        variable: QUEUES_VARIABLE,
        reason,
    };
    let map: serde_json::Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| invalid(format!("not a JSON object: {e}")))?;
    map.into_iter()
        .map(|(queue, arn)| match arn {
            Value::String(arn) => Ok((queue, arn)),
            other => Err(invalid(format!(
                "the ARN of `{queue}` is {other}, not a string"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
