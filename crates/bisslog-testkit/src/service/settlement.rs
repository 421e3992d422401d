//! How a consumer trigger settled a delivery, recorded by a delivery and
//! a broker of the kit's own.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_messaging::headers;
use bisslog_messaging::{
    Broker, BrokerError, DeadLetterCause, Deliveries, Delivery, Message, Subscription,
};

/// How a consumer trigger settled one delivery
/// ([`TestService::deliver`](super::TestService::deliver)): the same
/// decision the running consumers make, on any broker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settlement {
    /// The use case succeeded (or, `exactly-once`, the message was a
    /// duplicate): the message is done with.
    Acked,
    /// A transient failure: the broker delivers the message again after
    /// `delay` (the trigger's `retry_delay`, doubling at each attempt).
    Retried {
        /// Which delivery failed: 1 the first time.
        attempt: u32,
        /// The delay before the next one.
        delay: Duration,
    },
    /// The message went to the dead-letter queue, saying why (the copy's
    /// `dead-letter-*` headers).
    DeadLettered {
        /// The dead-letter queue (the trigger's `dead_letter_queue`, or
        /// the queue's name plus `.dlq`).
        queue: String,
        /// Which rule sent it there.
        cause: DeadLetterCause,
        /// What went wrong: the use case's error code and message, or why
        /// the payload could not be read.
        reason: String,
        /// How many times it had been delivered.
        attempts: u32,
    },
}

impl Settlement {
    /// Whether the message was acknowledged.
    pub fn is_acked(&self) -> bool {
        matches!(self, Settlement::Acked)
    }
}

/// What the recording delivery was told.
#[derive(Debug, Clone, Copy)]
enum Told {
    Ack,
    Retry(Duration),
}

/// A delivery that records how it is settled.
pub(crate) struct RecordingDelivery {
    message: Message,
    attempt: u32,
    told: Arc<Mutex<Option<Told>>>,
}

/// The other end of a [`RecordingDelivery`].
pub(crate) struct Settled(Arc<Mutex<Option<Told>>>);

impl RecordingDelivery {
    pub(crate) fn start(message: Message, attempt: u32) -> (Box<dyn Delivery>, Settled) {
        let told = Arc::new(Mutex::new(None));
        let delivery = Self {
            message,
            attempt: attempt.max(1),
            told: Arc::clone(&told),
        };
        (Box::new(delivery), Settled(told))
    }

    fn tell(&self, told: Told) -> BoxFuture<'static, Result<(), BrokerError>> {
        *self.told.lock().unwrap_or_else(PoisonError::into_inner) = Some(told);
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Delivery for RecordingDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.tell(Told::Ack)
    }

    fn retry(self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.tell(Told::Retry(delay))
    }
}

impl Settled {
    /// The settlement, from what the delivery was told and what reached a
    /// dead-letter queue; `None` when the delivery was not settled.
    pub(crate) fn settlement(
        &self,
        attempt: u32,
        dead_letters: Vec<(String, Message)>,
    ) -> Option<Settlement> {
        // An at-most-once message is acknowledged first and only copied to
        // the dead-letter queue when it fails: the copy says what happened.
        if let Some((queue, copy)) = dead_letters.into_iter().last() {
            let cause = match copy.header(headers::DEAD_LETTER_CAUSE) {
                Some("malformed") => DeadLetterCause::Malformed,
                Some("retries-exhausted") => DeadLetterCause::RetriesExhausted,
                _ => DeadLetterCause::Rejected,
            };
            return Some(Settlement::DeadLettered {
                queue,
                cause,
                reason: copy
                    .header(headers::DEAD_LETTER_REASON)
                    .unwrap_or_default()
                    .to_owned(),
                attempts: copy
                    .header(headers::DEAD_LETTER_ATTEMPTS)
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(attempt),
            });
        }
        match *self.0.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(Told::Ack) => Some(Settlement::Acked),
            Some(Told::Retry(delay)) => Some(Settlement::Retried {
                attempt: attempt.max(1),
                delay,
            }),
            None => None,
        }
    }
}

/// The broker the consumers of a test service see: it only keeps what is
/// published to it (dead-letter copies), to be taken after each delivery.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeadLetterBox {
    published: Arc<Mutex<Vec<(String, Message)>>>,
}

impl DeadLetterBox {
    /// The copies of the message with this id published so far, taken
    /// out: deliveries of other messages running alongside keep theirs.
    pub(crate) fn take(&self, message_id: &str) -> Vec<(String, Message)> {
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (taken, kept) = std::mem::take(&mut *published)
            .into_iter()
            .partition(|(_, message)| message.id == message_id);
        *published = kept;
        taken
    }
}

impl Broker for DeadLetterBox {
    fn name(&self) -> &str {
        "test-kit"
    }

    fn provision<'a>(&'a self, _queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((queue.to_owned(), message.clone()));
        Box::pin(std::future::ready(Ok(())))
    }

    fn subscribe<'a>(
        &'a self,
        _subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        // Deliveries are handed to the consumer one by one, never fetched.
        Box::pin(std::future::ready(Ok(Deliveries::new(
            futures_util::stream::empty(),
        ))))
    }
}
