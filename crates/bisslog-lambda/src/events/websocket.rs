//! API Gateway WebSocket events: the route key API Gateway selected
//! calls the WebSocket trigger with that `route_key` (a `MESSAGE` whose
//! key has no trigger goes to `$default`), through the same routes
//! `bisslog-http`'s `/ws` endpoint calls, with the same mapper sources:
//! `connection_id`, `route_key`, `headers.*` and, for messages, `body.*`.
//!
//! The caller is the authorizer's result in the event (see
//! [`authorizer`](super::authorizer)): each route key's `authorization`
//! rule is decided against it, a refusal answered `{statusCode: 401|403,
//! body: problem}`. Without an authorizer the rules are not enforced.

use bisslog_core::{TraceContext, TransactionId};
use bisslog_http::{Problem, TRANSACTION_HEADER};
use bisslog_runtime::mapper::Body;
use http::StatusCode;
use serde_json::{Value, json};

use crate::error::LambdaError;
use crate::routing::Routing;

const WHAT: &str = "API Gateway WebSocket event";

/// Serves one WebSocket event; the response is `{statusCode, body}`.
pub(crate) async fn handle(routing: &Routing, event: &Value) -> Result<Value, LambdaError> {
    let context = event.get("requestContext");
    let field = |name: &str| context.and_then(|c| c.get(name)).and_then(Value::as_str);
    let connection_id = field("connectionId").unwrap_or_default();
    let event_type = field("eventType").unwrap_or("MESSAGE");
    let requested = field("routeKey").unwrap_or("$default");
    let routes = &routing.websockets;
    let route_key = if routes.use_case(requested).is_some() {
        requested
    } else if event_type == "MESSAGE" && routes.use_case("$default").is_some() {
        "$default"
    } else {
        return Err(LambdaError::unmatched(format!(
            "a WebSocket {event_type} event for route key `{requested}`, which no WebSocket trigger has"
        )));
    };
    if let Some(use_case) = routes.use_case(route_key) {
        routing.check_served(use_case, || {
            format!("a WebSocket event for route key `{route_key}`")
        })?;
    }
    let headers = super::headers(event, WHAT)?;
    let transaction = headers
        .get(TRANSACTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(TransactionId::parse)
        .unwrap_or_else(TransactionId::generate);
    let transaction_text = transaction.to_string();
    let text = message_text(event, event_type)?;
    let body = match text.as_deref().map(Body::parse) {
        None => None,
        Some(Ok(body)) => Some(body.with_fields()),
        Some(Err(e)) => {
            let problem = Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed-message",
                format!("the message is not valid JSON: {e}"),
                &transaction_text,
                None,
            );
            return Ok(problem_response(&problem));
        }
    };
    // Headers (and so a `traceparent`) come with `$connect` only.
    let trace_parent = TraceContext::extract(|name| headers.get(name)?.to_str().ok());
    // API Gateway passes the `$connect` authorizer's result with every
    // event of the connection.
    let caller = super::authorizer::caller(event);
    let call = routes.call(
        route_key,
        connection_id,
        caller.as_ref(),
        &headers,
        body,
        transaction,
        trace_parent.as_ref(),
    );
    let Some(call) = call else {
        return Err(LambdaError::unmatched(format!(
            "a WebSocket event for route key `{route_key}`"
        )));
    };
    match call.await {
        Ok(Some(reply)) => Ok(json!({
            "statusCode": 200,
            "body": String::from_utf8_lossy(&reply),
        })),
        Ok(None) => Ok(json!({"statusCode": 200})),
        Err(failure) => {
            let problem = routing
                .policy
                .problem(failure.as_ref(), &transaction_text, None);
            Ok(problem_response(&problem))
        }
    }
}

fn problem_response(problem: &Problem) -> Value {
    json!({
        "statusCode": problem.status,
        "headers": {"content-type": "application/problem+json"},
        "body": serde_json::to_string(problem).unwrap_or_default(),
    })
}

/// The text of a `MESSAGE` (decoded from base64 when it says so);
/// connects and disconnects carry none.
fn message_text(event: &Value, event_type: &str) -> Result<Option<String>, LambdaError> {
    if event_type != "MESSAGE" {
        return Ok(None);
    }
    match super::body(event, WHAT)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| LambdaError::malformed(WHAT, "the message is not UTF-8 text")),
    }
}
