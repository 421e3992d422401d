//! One message delivered by RabbitMQ, settled with `basic.ack`, a
//! confirmed copy to a retry queue, or `basic.nack` with requeue.

use std::sync::Arc;
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_runtime::messaging::{BrokerError, Delivery, Message};
use bytes::Bytes;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::{Acker, Channel};

use crate::broker::Inner;
use crate::codec;
use crate::error;

/// What the deliveries of one subscription share: its channel, open as
/// long as the subscription or one of its deliveries is alive (closing it
/// would hand their messages to other consumers).
pub(crate) struct Consuming {
    #[expect(dead_code, reason = "held for its lifetime, never read")]
    pub(crate) channel: Channel,
    pub(crate) broker: Arc<Inner>,
    pub(crate) queue: String,
}

/// A delivery of [`AmqpBroker`](crate::AmqpBroker).
pub(crate) struct AmqpDelivery {
    message: Message,
    attempt: u32,
    /// `None` once settled.
    pending: Option<Pending>,
}

struct Pending {
    acker: Acker,
    consuming: Arc<Consuming>,
}

const REQUEUE: BasicNackOptions = BasicNackOptions {
    multiple: false,
    requeue: true,
};

impl AmqpDelivery {
    pub(crate) fn new(delivery: lapin::message::Delivery, consuming: Arc<Consuming>) -> Self {
        let lapin::message::Delivery {
            redelivered,
            properties,
            data,
            acker,
            ..
        } = delivery;
        let (message, attempt) = codec::decode(&properties, Bytes::from(data), redelivered);
        Self {
            message,
            attempt,
            pending: Some(Pending { acker, consuming }),
        }
    }
}

impl Delivery for AmqpDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn ack(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let pending = self.pending.take();
        Box::pin(async move {
            let Some(Pending { acker, consuming }) = pending else {
                return Ok(());
            };
            let acked = acker.ack(BasicAckOptions::default()).await;
            error::settled(acked, "acknowledged", &consuming.queue)
        })
    }

    fn retry(mut self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        let pending = self.pending.take();
        let properties = codec::properties(&self.message, Some(self.attempt.saturating_add(1)));
        let payload = self.message.payload.clone();
        Box::pin(async move {
            let Some(Pending { acker, consuming }) = pending else {
                return Ok(());
            };
            let queue = consuming.queue.as_str();
            // The copy first, confirmed; only then the original goes: the
            // message is never in neither place.
            match consuming
                .broker
                .send_retry(queue, delay, properties, &payload)
                .await
            {
                Ok(()) => {
                    let acked = acker.ack(BasicAckOptions::default()).await;
                    error::settled(acked, "acknowledged after its retry was queued", queue)
                }
                Err(failed) => {
                    tracing::warn!(queue, error = %failed,
                        "the retry could not be queued; returning the message to its queue");
                    // Not at once: what failed (the broker, a retry queue)
                    // rarely mends in a moment, and the returned message
                    // comes straight back.
                    tokio::time::sleep(delay.min(Duration::from_secs(1))).await;
                    let _ = acker.nack(REQUEUE).await;
                    Err(failed)
                }
            }
        })
    }
}

impl Drop for AmqpDelivery {
    /// Unsettled: returned to the queue at once (`basic.nack` with
    /// requeue), or, without a runtime to send that, when the channel
    /// closes.
    fn drop(&mut self) {
        let Some(Pending { acker, consuming }) = self.pending.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = acker.nack(REQUEUE).await;
                drop(consuming);
            });
        }
    }
}
