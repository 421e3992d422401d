//! EventBridge events. A classic scheduled event (`source: aws.events`,
//! `detail-type: Scheduled Event`) runs a schedule trigger (see
//! [`schedule`](super::schedule)); any other event is delivered to the
//! consumer triggers whose queue is its `detail-type`, with `detail` as the
//! message.

use bisslog_messaging::{Message, headers};
use bytes::Bytes;
use serde_json::Value;

use crate::error::LambdaError;
use crate::routing::Routing;

/// Runs the event; the response is the use case's output (or `null`).
pub(crate) async fn handle(routing: &Routing, event: Value) -> Result<Value, LambdaError> {
    let field = |name: &str| event.get(name).and_then(Value::as_str);
    let detail_type = field("detail-type").unwrap_or_default();
    if detail_type == "Scheduled Event" && field("source") == Some("aws.events") {
        // `arn:aws:events:eu-west-1:123456789012:rule/nightly-report`.
        let rule = event
            .get("resources")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(Value::as_str)
            .map(|arn| arn.rsplit('/').next().unwrap_or(arn));
        let time = super::schedule::scheduled_time(&event);
        return super::schedule::by_rule(routing, rule, time).await;
    }
    let payload = match event.get("detail") {
        Some(detail) => Bytes::from(serde_json::to_vec(detail).unwrap_or_default()),
        None => Bytes::from_static(b"{}"),
    };
    let id = field("id").unwrap_or_default();
    let mut message_headers = vec![(headers::EVENT_TYPE, detail_type)];
    if let Some(source) = field("source") {
        message_headers.push(("source", source));
    }
    let message = Message::from_headers(payload, message_headers, || id.to_owned());
    let seen = format!("an EventBridge event of detail-type `{detail_type}`");
    let body = super::consume(routing, "aws_eventbridge", detail_type, &message, 1, &seen).await?;
    Ok(super::schedule::output(body.as_deref()))
}
