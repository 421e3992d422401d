//! Schedule triggers. The generated templates' EventBridge Scheduler
//! events send the envelope
//! `{"bisslog_schedule": {"use_case": "<keyname>", "trigger": <index>}}`,
//! the index of the schedule trigger in the use case's `triggers`; a classic
//! EventBridge rule's "Scheduled Event" is routed by the rule's name (the
//! use case's keyname) or, when the service has one schedule trigger, to
//! it. The input is the trigger's static `event` (none: an empty input).

use bisslog_core::Trigger;
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::trace::{Span, SpanKind, SpanStart, attributes};
use serde_json::Value;

use crate::SCHEDULE_KEY;
use crate::error::LambdaError;
use crate::routes::ScheduleRoute;
use crate::routing::Routing;

/// Runs the schedule trigger the envelope names.
pub(crate) async fn handle(routing: &Routing, event: &Value) -> Result<Value, LambdaError> {
    let envelope = event.get(SCHEDULE_KEY);
    let use_case = envelope
        .and_then(|e| e.get("use_case"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            LambdaError::malformed(
                "schedule event",
                format!("`{SCHEDULE_KEY}.use_case` is missing"),
            )
        })?;
    let index = envelope.and_then(|e| e.get("trigger"));
    let index = match index {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| {
                    LambdaError::malformed(
                        "schedule event",
                        format!("`{SCHEDULE_KEY}.trigger` must be a trigger's index, not {value}"),
                    )
                })?,
        ),
    };
    let Some(handle) = &routing.service.use_case(use_case) else {
        return Err(LambdaError::UnknownUseCase {
            keyname: use_case.to_owned(),
        });
    };
    routing.check_served(handle, || format!("a schedule of `{use_case}`"))?;
    let mut schedules = routing
        .routes
        .schedules
        .iter()
        .filter(|s| s.handle.keyname() == use_case);
    let route = match index {
        Some(index) => schedules.find(|s| s.index == index),
        None => schedules.next(),
    };
    let Some(route) = route else {
        let which = index.map_or_else(String::new, |i| format!(" {i}"));
        return Err(LambdaError::unmatched(format!(
            "a schedule of `{use_case}` for trigger{which}, which is not a schedule trigger of it"
        )));
    };
    run(routing, route, scheduled_time(event)).await
}

/// When the tick was due, as the event says (`time`, RFC 3339).
pub(crate) fn scheduled_time(event: &Value) -> Option<&str> {
    event.get("time").and_then(Value::as_str)
}

/// Runs the schedule trigger of a classic EventBridge rule, due at
/// `scheduled_time`.
pub(crate) async fn by_rule(
    routing: &Routing,
    rule: Option<&str>,
    scheduled_time: Option<&str>,
) -> Result<Value, LambdaError> {
    let schedules = &routing.routes.schedules;
    let named = rule.and_then(|rule| schedules.iter().find(|s| s.handle.keyname() == rule));
    // With `only`, the served use case's schedules are the service's.
    let served: Vec<&ScheduleRoute> = schedules
        .iter()
        .filter(|s| routing.serves(s.handle.keyname()))
        .collect();
    let route = match named {
        Some(route) => route,
        None => match served.as_slice() {
            [only] => *only,
            _ => {
                let rule =
                    rule.map_or_else(|| "with no rule".to_owned(), |r| format!("of rule `{r}`"));
                return Err(LambdaError::unmatched(format!(
                    "a Scheduled Event {rule}, which names no use case with a schedule trigger ({} schedule triggers)",
                    served.len()
                )));
            }
        },
    };
    routing.check_served(&route.handle, || {
        format!("a Scheduled Event for `{}`", route.handle.keyname())
    })?;
    run(routing, route, scheduled_time).await
}

/// Runs one tick; with a tracer, under a span "tick {keyname}" starting a
/// new trace, the use case's span its child.
async fn run(
    routing: &Routing,
    route: &ScheduleRoute,
    scheduled_time: Option<&str>,
) -> Result<Value, LambdaError> {
    let mut span = Span::start(routing.service.tracer(), || {
        let mut start = SpanStart::new(
            format!("tick {}", route.handle.keyname()),
            SpanKind::Internal,
        )
        .attribute(attributes::SCHEDULE, route.cronjob.clone())
        .attribute("faas.trigger", "timer")
        .attribute("cloud.provider", "aws");
        if let Some(time) = scheduled_time {
            start = start.attribute("bisslog.scheduled_time", time.to_owned());
        }
        start
    });
    let ctx = route
        .handle
        .ctx_builder(Trigger::Schedule)
        .maybe_trace_parent(span.context().cloned())
        .build();
    let input = match &route.event {
        None | Some(Value::Null) => Mapped::object(),
        Some(event) => Mapped::Json(event),
    };
    let call = route.handle.call(ctx, &input);
    let outcome = call.await;
    if span.is_recording() {
        match &outcome {
            Ok(_) => span.record_outcome(None),
            Err(failure) => {
                let code = failure.code();
                span.record_outcome(Some((failure.kind(), &code, failure)));
            }
        }
    }
    span.end();
    let reply = outcome.map_err(|failure| LambdaError::UseCaseFailed {
        use_case: route.handle.keyname().to_owned(),
        failure,
    })?;
    Ok(output(reply.body.as_deref()))
}

/// A reply's body as the invocation's response: its JSON, or `null`.
pub(crate) fn output(body: Option<&[u8]>) -> Value {
    body.and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null)
}
