//! `POST /_bisslog/queues/{queue}`: a message put on a queue by hand, for
//! trying a consumer trigger (the in-process broker included). Off unless
//! `BISSLOG_QUEUE_INJECTION=true`; it lets any caller feed any queue.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bisslog_core::{Event, Publisher};
use bisslog_messaging::{Broker, BrokerPublisher};
use bytes::Bytes;

/// The path of the endpoint.
pub const QUEUE_INJECTION_PATH: &str = "/_bisslog/queues/{queue}";

/// The optional query of the endpoint.
#[derive(Debug, serde::Deserialize)]
struct Options {
    /// The ordering key.
    key: Option<String>,
    /// The event type.
    #[serde(rename = "type")]
    event_type: Option<String>,
}

/// The endpoint's routes, publishing through `broker`; the queues in
/// `events` are event queues (the service's `queue_kind: event`), fed the
/// event way so that every consumer gets the message.
pub(crate) fn routes(
    broker: Arc<dyn Broker>,
    events: std::collections::BTreeSet<String>,
) -> Router {
    Router::new()
        .route(QUEUE_INJECTION_PATH, post(inject))
        .with_state(BrokerPublisher::new(broker).events(events))
}

async fn inject(
    State(publisher): State<BrokerPublisher>,
    Path(queue): Path<String>,
    Query(options): Query<Options>,
    body: Bytes,
) -> Response {
    let payload: Box<serde_json::value::RawValue> = match serde_json::from_slice(&body) {
        Ok(payload) => payload,
        Err(error) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                &format!("the body must be a JSON document: {error}"),
            );
        }
    };
    let mut event = match Event::json(&payload) {
        Ok(event) => event,
        Err(error) => {
            return problem(StatusCode::BAD_REQUEST, "invalid-json", &error.to_string());
        }
    };
    event.key = options.key;
    event.event_type = options.event_type;
    match publisher.publish(&queue, event).await {
        Ok(()) => {
            tracing::info!(
                checkpoint_id = "queue-injection",
                %queue,
                "a message was put on `{queue}` by hand"
            );
            (
                StatusCode::ACCEPTED,
                axum::Json(serde_json::json!({"queue": queue})),
            )
                .into_response()
        }
        Err(error) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "broker-unavailable",
            &error.to_string(),
        ),
    }
}

/// A problem document, answered as every bisslog problem is
/// (`application/problem+json`, `x-transaction-id`).
fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let transaction = bisslog_core::TransactionId::generate();
    let problem =
        bisslog_runtime::problem::Problem::new(status, code, detail, &transaction.text(), None);
    bisslog_http::ProblemResponse(problem).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Body;
    use axum::http::Request;
    use bisslog_runtime::messaging::InProcessBroker;
    use tower::ServiceExt as _;

    use super::*;

    fn post(path: &str, body: &'static str) -> Request<Body> {
        Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn a_message_is_put_on_the_queue_with_its_key_and_type() {
        let broker = InProcessBroker::new();
        let app = routes(Arc::new(broker.clone()), Default::default());
        let response = app
            .oneshot(post(
                "/_bisslog/queues/orders.queue?key=o-1&type=order.placed",
                r#"{"order": 1}"#,
            ))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let messages = broker.messages("orders.queue");
        assert_eq!(messages.len(), 1);
        assert_eq!(
            &messages[0].payload[..],
            br#"{"order": 1}"#,
            "the body as sent"
        );
        assert_eq!(messages[0].key.as_deref(), Some("o-1"));
        assert_eq!(messages[0].event_type.as_deref(), Some("order.placed"));
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_refused_and_nothing_is_queued() {
        let broker = InProcessBroker::new();
        let app = routes(Arc::new(broker.clone()), Default::default());
        let response = app
            .oneshot(post("/_bisslog/queues/orders.queue", "{not json"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert!(broker.messages("orders.queue").is_empty());
    }

    #[tokio::test]
    async fn an_event_reaches_every_consumer_name() {
        use bisslog_messaging::{QueueKind, Subscription};

        let broker = InProcessBroker::new();
        for consumer in ["audit-record", "importer-note"] {
            broker
                .subscribe(&Subscription::new("orders.placed", consumer).kind(QueueKind::Event))
                .await
                .unwrap();
        }
        let events = ["orders.placed".to_owned()].into_iter().collect();
        let app = routes(Arc::new(broker.clone()), events);
        let response = app
            .oneshot(post("/_bisslog/queues/orders.placed", r#"{"order": 1}"#))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        for consumer in ["audit-record", "importer-note"] {
            let copy = bisslog_messaging::event_copy_name("orders.placed", consumer);
            assert_eq!(broker.messages(&copy).len(), 1, "{copy}");
        }
    }
}
