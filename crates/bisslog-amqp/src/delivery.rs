//! One message delivered by RabbitMQ, settled with `basic.ack`, a
//! confirmed copy to a retry queue, or `basic.nack` with requeue.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bisslog_core::BoxFuture;
use bisslog_messaging::{BrokerError, Delivery, DeliveryStream, Message};
use bytes::Bytes;
use futures_util::{FutureExt as _, Stream, StreamExt as _};
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicNackOptions};
use lapin::types::ShortString;
use lapin::{Acker, Channel};

use crate::broker::Inner;
use crate::codec;
use crate::error;

/// What the deliveries of one subscription share: its channel, open as
/// long as the subscription or one of its deliveries is alive (closing it
/// would hand their messages to other consumers).
pub(crate) struct Consuming {
    pub(crate) channel: Channel,
    pub(crate) broker: Arc<Inner>,
    pub(crate) queue: String,
}

/// The deliveries of one subscription: lapin's consumer, whose buffer
/// holds what RabbitMQ sent ahead (up to the prefetch).
pub(crate) struct AmqpDeliveries {
    pub(crate) consumer: lapin::Consumer,
    pub(crate) consuming: Arc<Consuming>,
    pub(crate) tag: ShortString,
    pub(crate) timeout: Duration,
}

impl Stream for AmqpDeliveries {
    type Item = Result<Box<dyn Delivery>, BrokerError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        this.consumer.poll_next_unpin(cx).map(|item| {
            item.map(|item| match item {
                Ok(delivery) => Ok(Box::new(AmqpDelivery::new(
                    delivery,
                    Arc::clone(&this.consuming),
                )) as Box<dyn Delivery>),
                Err(e) => Err(error::connection(
                    &format!("consuming `{}`", this.consuming.queue),
                    e,
                )),
            })
        })
    }
}

impl DeliveryStream for AmqpDeliveries {
    /// Cancels the consumer (`basic.cancel`, waiting for its `cancel-ok`:
    /// RabbitMQ sends nothing after it, and everything sent before it is
    /// in lapin's buffer by then), then takes what the buffer holds.
    /// Their release is a `basic.nack` with requeue; without one they
    /// would go back only when the channel closes, once the last in-flight
    /// delivery of the subscription is settled.
    fn close(self: Pin<Box<Self>>) -> BoxFuture<'static, Vec<Box<dyn Delivery>>> {
        let mut this = *Pin::into_inner(self);
        Box::pin(async move {
            let cancel = this
                .consuming
                .channel
                .basic_cancel(this.tag.clone(), BasicCancelOptions::default());
            match tokio::time::timeout(this.timeout, cancel).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(queue = %this.consuming.queue, error = %e,
                    "cancelling the consumer failed; releasing what it holds"),
                Err(_) => tracing::debug!(queue = %this.consuming.queue,
                    "cancelling the consumer timed out; releasing what it holds"),
            }
            let mut taken = Vec::new();
            // Unconstrained: Tokio's cooperative budget would otherwise
            // end this after ~128 deliveries.
            while let Some(Some(item)) = tokio::task::unconstrained(this.next()).now_or_never() {
                if let Ok(delivery) = item {
                    taken.push(delivery);
                }
            }
            taken
        })
    }
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

    /// `basic.nack` with requeue: back in its queue at once, to any
    /// consumer. RabbitMQ marks it redelivered, which counts as one more
    /// attempt (it cannot tell a release from a crash).
    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        let pending = self.pending.take();
        Box::pin(async move {
            let Some(Pending { acker, consuming }) = pending else {
                return Ok(());
            };
            let released = acker.nack(REQUEUE).await;
            error::settled(released, "returned to its queue", &consuming.queue)
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
