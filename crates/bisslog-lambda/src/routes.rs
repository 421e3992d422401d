//! The service's consumer and schedule triggers, compiled once per cold
//! start: what SQS, SNS, EventBridge and schedule events are routed to.

use bisslog_runtime::mapper::InputMapper;
use bisslog_runtime::{Service, UseCaseHandle};
use bisslog_schema::TriggerKind;
use serde_json::Value;

/// A consumer trigger: its queue, use case and mapper.
#[derive(Debug, Clone)]
pub(crate) struct ConsumerRoute {
    pub(crate) queue: String,
    pub(crate) handle: UseCaseHandle,
    pub(crate) mapper: InputMapper,
}

/// A schedule trigger: its use case, its index in the use case's
/// `triggers`, and the static event it passes as input.
#[derive(Debug, Clone)]
pub(crate) struct ScheduleRoute {
    pub(crate) index: usize,
    pub(crate) handle: UseCaseHandle,
    pub(crate) event: Option<Value>,
}

/// Every consumer and schedule trigger of a service, in metadata order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    pub(crate) consumers: Vec<ConsumerRoute>,
    pub(crate) schedules: Vec<ScheduleRoute>,
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
                    }),
                    TriggerKind::Schedule(schedule) => routes.schedules.push(ScheduleRoute {
                        index,
                        handle: handle.clone(),
                        event: schedule.event.clone(),
                    }),
                    TriggerKind::Http(_) | TriggerKind::WebSocket(_) => {}
                }
            }
        }
        routes
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
