//! One module per kind of event, and what the HTTP-like ones share.

pub(crate) mod authorizer;
pub(crate) mod eventbridge;
pub(crate) mod http;
mod http_response;
pub(crate) mod only;
pub(crate) mod schedule;
pub(crate) mod sns;
pub(crate) mod sqs;
pub(crate) mod websocket;

use ::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bisslog_runtime::trace::{Span, SpanKind, SpanStart, attributes};
use bytes::Bytes;
use serde_json::Value;

use crate::error::LambdaError;

/// The request's headers: `multiValueHeaders` when the event has them
/// (REST APIs, ALB in multi-value mode), else `headers`.
pub(crate) fn headers(event: &Value, what: &'static str) -> Result<HeaderMap, LambdaError> {
    let mut headers = HeaderMap::new();
    let multi = event
        .get("multiValueHeaders")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty());
    if let Some(multi) = multi {
        for (name, values) in multi {
            for value in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                append_header(&mut headers, name, value, what)?;
            }
        }
    } else if let Some(single) = event.get("headers").and_then(Value::as_object) {
        for (name, value) in single {
            if let Some(value) = value.as_str() {
                append_header(&mut headers, name, value, what)?;
            }
        }
    }
    Ok(headers)
}

/// Adds one header, or says why it is not one.
pub(crate) fn append_header(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
    what: &'static str,
) -> Result<(), LambdaError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| LambdaError::malformed(what, format!("`{name}` is not a header name")))?;
    let value = HeaderValue::from_str(value).map_err(|_| {
        LambdaError::malformed(what, format!("the header `{name}` has an invalid value"))
    })?;
    headers.append(name, value);
    Ok(())
}

/// The `body`, decoded from base64 when `isBase64Encoded` says so.
pub(crate) fn body(event: &Value, what: &'static str) -> Result<Option<Bytes>, LambdaError> {
    let Some(text) = event.get("body").and_then(Value::as_str) else {
        return Ok(None);
    };
    if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        BASE64
            .decode(text)
            .map(|bytes| Some(Bytes::from(bytes)))
            .map_err(|e| LambdaError::malformed(what, format!("the body is not valid base64: {e}")))
    } else {
        Ok(Some(Bytes::copy_from_slice(text.as_bytes())))
    }
}

/// Delivers one message to every consumer trigger of `queue` (as a broker
/// gives each consuming use case its own copy); the last reply's body.
/// `seen` describes the message for errors (`an SQS record from queue
/// `orders``).
///
/// With a tracer, the delivery runs under a consumer span "process
/// {queue}" continuing the message's `traceparent` (`system` is its
/// `messaging.system`); the use cases' spans are its children.
pub(crate) async fn consume(
    routing: &crate::routing::Routing,
    system: &'static str,
    queue: &str,
    message: &bisslog_messaging::Message,
    attempt: u32,
    seen: &str,
) -> Result<Option<Bytes>, LambdaError> {
    let routes = &routing.routes;
    if routes.consumers_of(queue).next().is_none() {
        return Err(LambdaError::unmatched(format!(
            "{seen}, which no consumer trigger consumes"
        )));
    }
    let served: Vec<&crate::routes::ConsumerRoute> = routes
        .consumers_of(queue)
        .filter(|c| routing.serves(c.handle.keyname()))
        .collect();
    if served.is_empty()
        && let Some(other) = routes.consumers_of(queue).next()
    {
        routing.check_served(&other.handle, || seen.to_owned())?;
    }
    let mut span = Span::start(routing.service.tracer(), || {
        SpanStart::new(format!("process {queue}"), SpanKind::Consumer)
            .parent(message.trace_context().as_ref())
            .attribute("messaging.system", system)
            .attribute("messaging.destination.name", queue.to_owned())
            .attribute("messaging.operation.type", "process")
            .attribute("messaging.message.id", message.id.clone())
            .attribute(attributes::ATTEMPT, attempt)
            .attribute("faas.trigger", "pubsub")
            .attribute("cloud.provider", "aws")
    });
    // The use cases continue the consumer span: the message they read
    // carries its context instead of the publisher's.
    let traced;
    let message = match span.context() {
        Some(context) => {
            let mut copy = message.clone();
            copy.set_trace_context(context);
            traced = copy;
            &traced
        }
        None => message,
    };
    let mut body = None;
    for consumer in served {
        let call = bisslog_runtime::messaging::call_with_message(
            &consumer.handle,
            &consumer.mapper,
            queue,
            message,
            attempt,
            consumer.inbox.as_deref(),
        );
        let reply = match consumer.timeout {
            // Given up (cancelled, its unit of work rolled back) as on a
            // broker; the record fails alone and the platform delivers it
            // again.
            Some(limit) => tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                let error = consumer
                    .handle
                    .timed_out(bisslog_core::Trigger::Consumer, limit);
                Err(Box::new(error))
            }),
            None => call.await,
        };
        match reply {
            Ok(reply) => body = reply.body,
            Err(failure) => {
                // The platform delivers it again (or dead-letters it).
                span.set_attribute(SETTLEMENT, "retry");
                let code = failure.code();
                span.record_outcome(Some((failure.kind(), &code, &failure)));
                drop(code);
                span.end();
                return Err(LambdaError::UseCaseFailed {
                    use_case: consumer.handle.keyname().to_owned(),
                    failure,
                });
            }
        }
    }
    span.set_attribute(SETTLEMENT, "ack");
    span.end();
    Ok(body)
}

/// How a delivery was settled, on the consumer span.
const SETTLEMENT: &str = "bisslog.settlement";
