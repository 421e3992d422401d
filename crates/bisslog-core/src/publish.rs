//! The publisher port: how a use case sends an event to a queue without
//! naming a broker.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::port::BoxFuture;

/// An event to publish: a JSON payload, and optionally a key (bisslog's
/// `partition`: events with the same key keep their order) and a type. A
/// plain record, like the broker's `Message`: its fields are public.
///
/// The adapter adds what the transport needs: a message id, the current
/// transaction id (so the consumer's transaction becomes a child of this
/// one), the event type as a header.
///
/// ```
/// use bisslog_core::Event;
///
/// let event = Event::json(&serde_json::json!({"uid": "r-1"}))
///     .unwrap()
///     .with_key("language")
///     .with_type("company_data_inserted");
/// assert_eq!(event.payload.get(), r#"{"uid":"r-1"}"#);
/// assert_eq!(event.key.as_deref(), Some("language"));
/// ```
#[derive(Debug, Clone)]
pub struct Event {
    /// The JSON payload (valid JSON by its type).
    pub payload: Box<RawValue>,
    /// The ordering key (bisslog's `partition`).
    pub key: Option<String>,
    /// The event type, carried in the `event-type` header.
    pub event_type: Option<String>,
}

impl Event {
    /// An event whose payload is `value` as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        let payload = serde_json::value::to_raw_value(value).map_err(|e| {
            Error::internal("the event could not be serialized as JSON").with_source(e)
        })?;
        Ok(Self::raw(payload))
    }

    /// An event whose payload is already JSON text.
    pub fn raw(payload: Box<RawValue>) -> Self {
        Self {
            payload,
            key: None,
            event_type: None,
        }
    }

    /// Sets the ordering key (bisslog's `partition`).
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the event type, carried in the `event-type` header.
    #[must_use]
    pub fn with_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }
}

/// Publishes events to queues: the port a use case uses to tell other
/// services that something happened (bisslog's `publish(queue, body)`).
///
/// Adapters: a broker directly (NATS, RabbitMQ, the in-process broker), or
/// the transactional outbox of `bisslog-sql`, which stores the event in the
/// same database transaction as the use case's writes so that both commit
/// or neither does. The use case cannot tell which it has.
///
/// ```
/// use bisslog_core::{BoxFuture, Error, Event, Publisher};
/// use std::sync::Mutex;
///
/// /// An in-memory publisher, as a unit test would use.
/// #[derive(Default)]
/// struct Recorded(Mutex<Vec<(String, String)>>);
///
/// impl Publisher for Recorded {
///     fn publish<'a>(&'a self, queue: &'a str, event: Event) -> BoxFuture<'a, Result<(), Error>> {
///         let payload = event.payload.get().to_owned();
///         self.0.lock().unwrap().push((queue.to_owned(), payload));
///         Box::pin(std::future::ready(Ok(())))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let publisher = Recorded::default();
/// publisher.publish("data.inserted", Event::json(&1).unwrap()).await.unwrap();
/// assert_eq!(publisher.0.lock().unwrap()[0], ("data.inserted".to_owned(), "1".to_owned()));
/// # }
/// ```
pub trait Publisher: Send + Sync + 'static {
    /// Publishes `event` to the logical queue `queue`. When it returns
    /// `Ok`, the event is durably accepted: by the broker, or by the outbox
    /// (to be sent when the current unit of work commits).
    fn publish<'a>(&'a self, queue: &'a str, event: Event) -> BoxFuture<'a, Result<(), Error>>;
}

impl<P: Publisher + ?Sized> Publisher for std::sync::Arc<P> {
    fn publish<'a>(&'a self, queue: &'a str, event: Event) -> BoxFuture<'a, Result<(), Error>> {
        (**self).publish(queue, event)
    }
}
