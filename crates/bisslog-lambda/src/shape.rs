//! What kind of event an invocation carries, told from the fields that
//! only that kind has: never by trying to deserialize it as one kind after
//! another, which routes an event to the first kind it happens to fit.

use serde_json::Value;

use crate::SCHEDULE_KEY;

/// The kinds of event the handler routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// API Gateway REST API (payload format 1.0, also HTTP APIs set to 1.0).
    RestApi,
    /// API Gateway HTTP API, payload format 2.0 (and function URLs).
    HttpApi,
    /// Application Load Balancer target group.
    Alb,
    /// API Gateway WebSocket API.
    WebSocket,
    /// SQS batch.
    Sqs,
    /// SNS notification.
    Sns,
    /// EventBridge (or CloudWatch Events) event, scheduled or custom.
    EventBridge,
    /// The schedule envelope the generated templates send.
    Schedule,
}

/// The event's kind, or `None` when it is none of the above.
pub(crate) fn detect(event: &Value) -> Option<Shape> {
    let object = event.as_object()?;
    if object.contains_key(SCHEDULE_KEY) {
        return Some(Shape::Schedule);
    }
    if let Some(records) = object.get("Records").and_then(Value::as_array) {
        // A batch comes from one source; each record is checked again.
        let first = records.first()?;
        if first.get("eventSource").and_then(Value::as_str) == Some("aws:sqs") {
            return Some(Shape::Sqs);
        }
        if first.get("EventSource").and_then(Value::as_str) == Some("aws:sns") {
            return Some(Shape::Sns);
        }
        return None;
    }
    if let Some(context) = object.get("requestContext").and_then(Value::as_object) {
        if context.contains_key("connectionId") && context.contains_key("eventType") {
            return Some(Shape::WebSocket);
        }
        if context.contains_key("elb") {
            return Some(Shape::Alb);
        }
        let http_method = context
            .get("http")
            .and_then(|http| http.get("method"))
            .is_some_and(Value::is_string);
        if http_method && object.get("version").and_then(Value::as_str) == Some("2.0") {
            return Some(Shape::HttpApi);
        }
        if !context.contains_key("http") && object.get("httpMethod").is_some_and(Value::is_string) {
            return Some(Shape::RestApi);
        }
        return None;
    }
    if object.contains_key("detail-type") && object.contains_key("source") {
        return Some(Shape::EventBridge);
    }
    None
}

/// A short description of an event no route matched, for the error.
pub(crate) fn describe_unknown(event: &Value) -> String {
    match event {
        Value::Object(object) => {
            if let Some(records) = object.get("Records").and_then(Value::as_array) {
                let source = records.first().and_then(|r| {
                    r.get("eventSource")
                        .or_else(|| r.get("EventSource"))
                        .and_then(Value::as_str)
                });
                return match source {
                    Some(source) => format!("a batch of records from `{source}`"),
                    None if records.is_empty() => "an empty batch of records".to_owned(),
                    None => "a batch of records with no event source".to_owned(),
                };
            }
            let mut keys: Vec<&str> = object.keys().map(String::as_str).take(8).collect();
            if object.len() > keys.len() {
                keys.push("...");
            }
            if keys.is_empty() {
                "an empty JSON object".to_owned()
            } else {
                format!("an event with the fields {}", keys.join(", "))
            }
        }
        Value::Null => "an empty (null) event".to_owned(),
        Value::Array(_) => "a JSON array".to_owned(),
        Value::String(_) => "a JSON string".to_owned(),
        Value::Number(_) => "a JSON number".to_owned(),
        Value::Bool(_) => "a JSON boolean".to_owned(),
    }
}

/// The last `:`-separated segment of an ARN (`arn:aws:sqs:eu-west-1:1:orders` → `orders`).
pub(crate) fn arn_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_is_told_by_its_own_fields() {
        let cases = [
            (json!({"bisslog_schedule": {}}), Some(Shape::Schedule)),
            (
                json!({"Records": [{"eventSource": "aws:sqs"}]}),
                Some(Shape::Sqs),
            ),
            (
                json!({"Records": [{"EventSource": "aws:sns"}]}),
                Some(Shape::Sns),
            ),
            (json!({"Records": [{"eventSource": "aws:s3"}]}), None),
            (
                json!({"httpMethod": "GET", "requestContext": {"stage": "prod"}}),
                Some(Shape::RestApi),
            ),
            (
                json!({"version": "2.0", "httpMethod": "GET", "requestContext": {"http": {"method": "GET"}}}),
                Some(Shape::HttpApi),
            ),
            (
                json!({"httpMethod": "GET", "requestContext": {"elb": {}}}),
                Some(Shape::Alb),
            ),
            (
                json!({"requestContext": {"eventType": "MESSAGE", "connectionId": "c"}}),
                Some(Shape::WebSocket),
            ),
            (
                json!({"detail-type": "x", "source": "y", "detail": {}}),
                Some(Shape::EventBridge),
            ),
            (json!({"hello": "world"}), None),
            (json!(null), None),
        ];
        for (event, shape) in cases {
            assert_eq!(detect(&event), shape, "{event}");
        }
    }

    #[test]
    fn unknown_events_are_described() {
        assert_eq!(
            describe_unknown(&json!({"a": 1, "b": 2})),
            "an event with the fields a, b"
        );
        assert_eq!(
            describe_unknown(&json!({"Records": [{"eventSource": "aws:s3"}]})),
            "a batch of records from `aws:s3`"
        );
        assert_eq!(
            arn_name("arn:aws:sqs:us-east-2:123456789012:my-queue"),
            "my-queue"
        );
    }
}
