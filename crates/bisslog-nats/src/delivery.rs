//! Deliveries from a JetStream pull consumer.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::message::Acker;
use async_nats::{HeaderMap, header};
use bisslog_core::BoxFuture;
use bisslog_runtime::messaging::{BrokerError, Delivery, Message, new_message_id};
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};

use crate::error;

/// The deliveries of one subscription: the messages of the consumer's
/// pull stream, decoded.
pub(crate) struct NatsDeliveries {
    messages: pull::Stream,
    queue: Arc<str>,
    stream: Arc<str>,
    confirm_acks: bool,
    over: bool,
}

impl NatsDeliveries {
    pub(crate) fn new(
        messages: pull::Stream,
        queue: Arc<str>,
        stream: Arc<str>,
        confirm_acks: bool,
    ) -> Self {
        Self {
            messages,
            queue,
            stream,
            confirm_acks,
            over: false,
        }
    }
}

impl Stream for NatsDeliveries {
    type Item = Result<Box<dyn Delivery>, BrokerError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.over {
            return Poll::Ready(None);
        }
        loop {
            let message = match ready!(this.messages.poll_next_unpin(cx)) {
                Some(Ok(message)) => message,
                Some(Err(problem)) => {
                    let (problem, over) = error::messages(&this.queue, problem);
                    this.over = over;
                    return Poll::Ready(Some(Err(problem)));
                }
                None => return Poll::Ready(None),
            };
            match NatsDelivery::decode(message, &this.stream, this.confirm_acks) {
                Some(delivery) => return Poll::Ready(Some(Ok(Box::new(delivery)))),
                None => tracing::warn!(queue = %this.queue,
                    "skipped a message without a JetStream acknowledgement subject"),
            }
        }
    }
}

/// One message delivered by JetStream.
struct NatsDelivery {
    message: Message,
    attempt: u32,
    /// Sends acknowledgements to the message's `$JS.ACK.…` subject over
    /// the connection it came by (nothing copied per message).
    acker: Acker,
    confirm_acks: bool,
}

impl NatsDelivery {
    /// Reads a JetStream message; `None` when it has no acknowledgement
    /// subject (it cannot be settled, so it is not a delivery).
    fn decode(
        message: async_nats::jetstream::Message,
        stream: &str,
        confirm_acks: bool,
    ) -> Option<Self> {
        message.reply.as_ref()?;
        // The delivery count and sequence are in the acknowledgement
        // subject; one this client cannot parse still gets delivered.
        let counted = message
            .info()
            .ok()
            .map(|info| (attempt(info.delivered), info.stream_sequence));
        let (message, acker) = message.split();
        let async_nats::Message {
            payload, headers, ..
        } = message;
        let message = read(payload, headers.as_ref(), || match counted {
            Some((_, sequence)) => format!("{stream}:{sequence}"),
            None => new_message_id(),
        });
        Some(Self {
            message,
            attempt: counted.map_or(1, |(attempt, _)| attempt),
            acker,
            confirm_acks,
        })
    }

    /// Sends `kind` (`doing` names it in errors), confirmed by the server
    /// when the broker is configured so.
    fn send(
        self,
        kind: AckKind,
        doing: &'static str,
    ) -> BoxFuture<'static, Result<(), BrokerError>> {
        let Self {
            acker,
            confirm_acks,
            ..
        } = self;
        Box::pin(async move {
            let sent = if confirm_acks {
                acker.double_ack_with(kind).await
            } else {
                acker.ack_with(kind).await
            };
            sent.map_err(|e| error::settle(doing, e))
        })
    }
}

/// The message in a JetStream delivery. The id is the `message-id` header
/// bisslog writes, else `Nats-Msg-Id` (another producer's deduplication
/// id), else `fallback` (the stream and sequence: unique and stable across
/// redeliveries).
fn read(payload: Bytes, headers: Option<&HeaderMap>, fallback: impl FnOnce() -> String) -> Message {
    let all = headers.into_iter().flat_map(|headers| {
        headers.iter().flat_map(|(name, values)| {
            let name: &str = name.as_ref();
            values.iter().map(move |value| (name, value.as_str()))
        })
    });
    let nats_id = header::NATS_MESSAGE_ID.as_ref();
    Message::from_headers(
        payload,
        all.filter(|(name, _)| !name.eq_ignore_ascii_case(nats_id)),
        || {
            headers
                .and_then(|h| h.get(header::NATS_MESSAGE_ID))
                .map(|id| id.as_str())
                .filter(|id| !id.is_empty())
                .map_or_else(fallback, str::to_owned)
        },
    )
}

/// JetStream's delivery count as an attempt number: 1 the first time.
fn attempt(delivered: i64) -> u32 {
    u32::try_from(delivered.max(1)).unwrap_or(u32::MAX)
}

impl Delivery for NatsDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        self.send(AckKind::Ack, "the acknowledgement")
    }

    fn retry(self: Box<Self>, delay: Duration) -> BoxFuture<'static, Result<(), BrokerError>> {
        let delay = (!delay.is_zero()).then_some(delay);
        self.send(AckKind::Nak(delay), "the negative acknowledgement")
    }

    fn keep_alive(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            // Never confirmed: a lost one is followed by the next.
            self.acker
                .ack_with(AckKind::Progress)
                .await
                .map_err(|e| error::settle("the progress notice", e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisslog_headers_give_the_message_back() {
        let mut headers = HeaderMap::new();
        headers.insert("message-id", "m-1");
        headers.insert("transaction-id", "t-1");
        headers.insert("x-tenant", "acme");
        headers.insert(header::NATS_MESSAGE_ID, "m-1");
        let message = read(Bytes::from_static(b"{}"), Some(&headers), || {
            unreachable!("the id is in the headers")
        });
        assert_eq!(message.id, "m-1");
        assert_eq!(message.transaction_id.as_deref(), Some("t-1"));
        assert_eq!(
            message.headers,
            [("x-tenant".to_owned(), "acme".to_owned())],
            "Nats-Msg-Id is the broker's field, not a header of the message"
        );
    }

    #[test]
    fn foreign_messages_get_the_deduplication_id_or_the_sequence() {
        let message = read(Bytes::from_static(b"\xff\xfe"), None, || {
            "BENCH:7".to_owned()
        });
        assert_eq!(message.id, "BENCH:7");
        assert_eq!(&message.payload[..], b"\xff\xfe");
        let mut headers = HeaderMap::new();
        headers.insert(header::NATS_MESSAGE_ID, "their-id");
        let message = read(Bytes::new(), Some(&headers), || "BENCH:8".to_owned());
        assert_eq!(message.id, "their-id");
        assert!(message.headers.is_empty());
    }

    #[test]
    fn delivery_counts_become_attempts() {
        assert_eq!(attempt(1), 1);
        assert_eq!(attempt(3), 3);
        assert_eq!(attempt(0), 1);
        assert_eq!(attempt(-5), 1);
        assert_eq!(attempt(i64::MAX), u32::MAX);
    }
}
