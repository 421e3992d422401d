//! SNS notifications: each record's `Sns.Message` is delivered to the
//! consumer triggers whose queue is the topic's name (the last segment of
//! `TopicArn`). A failure fails the invocation, so SNS retries it (and
//! sends it to the subscription's dead-letter queue when it gives up).

use bisslog_messaging::Message;
use bytes::Bytes;
use serde_json::Value;

use crate::error::LambdaError;
use crate::routing::Routing;

/// Delivers every record; the response is `null`.
pub(crate) async fn handle(routing: &Routing, event: &Value) -> Result<Value, LambdaError> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for record in records {
        if record.get("EventSource").and_then(Value::as_str) != Some("aws:sns") {
            return Err(LambdaError::unmatched(
                "a record of an SNS batch which is not an SNS record",
            ));
        }
        let Some(sns) = record.get("Sns") else {
            return Err(LambdaError::malformed("SNS event", "a record has no `Sns`"));
        };
        let field = |name: &str| sns.get(name).and_then(Value::as_str);
        let Some(topic) = field("TopicArn").map(|arn| routing.routes.queue_of(arn)) else {
            return Err(LambdaError::malformed(
                "SNS event",
                "a record has no `TopicArn`",
            ));
        };
        let id = field("MessageId").unwrap_or_default();
        let payload = Bytes::copy_from_slice(field("Message").unwrap_or_default().as_bytes());
        // String attributes are headers, as on a broker.
        let attributes = sns
            .get("MessageAttributes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(name, attribute)| {
                let value = attribute.get("Value").and_then(Value::as_str)?;
                Some((name.as_str(), value))
            });
        let message = Message::from_headers(payload, attributes, || id.to_owned());
        let seen = format!("an SNS message from topic `{topic}`");
        super::consume(routing, "aws_sns", topic, &message, 1, &seen).await?;
    }
    Ok(Value::Null)
}
