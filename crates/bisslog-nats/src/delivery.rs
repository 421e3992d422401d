//! Deliveries from a JetStream pull consumer.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{PullConsumer, pull};
use async_nats::jetstream::message::Acker;
use async_nats::{HeaderMap, header};
use bisslog_core::BoxFuture;
use bisslog_messaging::{BrokerError, Delivery, DeliveryStream, Message, new_message_id};
use bytes::Bytes;
use futures_util::{FutureExt as _, Stream, StreamExt as _};

use crate::error;

/// The deliveries of one subscription: the messages of the consumer's
/// pull stream, decoded.
pub(crate) struct NatsDeliveries {
    messages: pull::Stream,
    client: async_nats::Client,
    consumer: PullConsumer,
    queue: Arc<str>,
    stream: Arc<str>,
    confirm_acks: bool,
    over: bool,
}

impl NatsDeliveries {
    pub(crate) fn new(
        messages: pull::Stream,
        client: async_nats::Client,
        consumer: PullConsumer,
        queue: Arc<str>,
        stream: Arc<str>,
        confirm_acks: bool,
    ) -> Self {
        Self {
            messages,
            client,
            consumer,
            queue,
            stream,
            confirm_acks,
            over: false,
        }
    }
}

impl NatsDeliveries {
    /// Takes what the client buffered, then drops the pull stream, without
    /// yielding: steps 2 and 3 of [`NatsDeliveries::close`], which runs it
    /// as a task of its own.
    ///
    /// Why a task: taking a message can wake the pull stream's background
    /// task to send a pull request, and dropping the stream stops that
    /// task only if it has not run yet. Woken from a thread that is not
    /// one of the runtime's workers (a `block_on`, as in `#[tokio::main]`
    /// or a test's body), it is queued for all workers and an idle one
    /// runs it at once, in parallel. Woken from a worker, Tokio puts it in
    /// that worker's own next-task slot, which other workers do not take
    /// from, so it is stopped before it runs. A worker that has just run
    /// three tasks in a row from that slot queues it for all instead, so
    /// this narrows the window rather than closing it; async-nats offers
    /// no way to stop the stream's requests and keep its buffer.
    fn take_buffered(mut self) -> (Vec<Box<dyn Delivery>>, async_nats::Client, PullConsumer) {
        let mut taken: Vec<Box<dyn Delivery>> = Vec::new();
        while taken.len() < MOST_TAKEN_AT_CLOSE && !self.over {
            // Unconstrained: Tokio's cooperative budget would
            // otherwise report the buffer empty after ~128 messages.
            match tokio::task::unconstrained(self.next()).now_or_never() {
                Some(Some(Ok(delivery))) => taken.push(delivery),
                // A status or a passing problem: what follows it may
                // still be messages.
                Some(Some(Err(_))) => {}
                Some(None) | None => break,
            }
        }
        let NatsDeliveries {
            messages,
            client,
            consumer,
            ..
        } = self;
        // Stops its background task, before this poll ends.
        drop(messages);
        (taken, client, consumer)
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
                Some(delivery) => return Poll::Ready(Some(Ok(delivery))),
                None => tracing::warn!(queue = %this.queue,
                    "skipped a message without a JetStream acknowledgement subject"),
            }
        }
    }
}

/// The most messages [`NatsDeliveries::close`] takes out of the client's
/// buffer: more than any pull batch, so only a server that keeps pushing
/// would reach it.
const MOST_TAKEN_AT_CLOSE: usize = 1 << 16;

impl DeliveryStream for NatsDeliveries {
    /// Hands back what the client received for this pull consumer and did
    /// not hand out, in an order that leaves nothing behind:
    ///
    /// 1. a round trip to the server (`flush`) while still subscribed:
    ///    every message the server sent before it is then in the client's
    ///    buffer;
    /// 2. the buffer taken, and
    /// 3. the pull stream dropped (its background task stopped, the inbox
    ///    unsubscribed), both in one poll of a task of their own
    ///    ([`NatsDeliveries::take_buffered`]): taking messages out of
    ///    async-nats's pull stream makes it ask its background task for
    ///    another batch once half of the last one is used up, and that
    ///    task must not run before it is stopped, or the server sends the
    ///    batch to an inbox nobody reads any more (lost until `ack_wait`;
    ///    `closing_a_subscription_with_a_backlog_asks_for_no_more` saw it
    ///    in 11 of 40 runs when closed from the test's own thread);
    /// 4. the consumer's info asked for, which makes the server drop our
    ///    pull request now that nobody listens on its inbox. Otherwise
    ///    the first message released would be sent to the dead request
    ///    (and be lost until `ack_wait`): nats-server 2.9 only notices the
    ///    missing interest when it delivers, and then also rolls its
    ///    delivered sequence back wrongly, delivering the stream's last
    ///    message twice.
    ///
    /// Only a message the server sends between steps 1 and 3 (a pull
    /// request still open, a message published just then) stays out:
    /// it comes back after `ack_wait`; and so does, rarely, the batch of
    /// a pull request the background task still sends in step 2 (see
    /// [`NatsDeliveries::take_buffered`]).
    fn close(self: Pin<Box<Self>>) -> BoxFuture<'static, Vec<Box<dyn Delivery>>> {
        let this = *Pin::into_inner(self);
        Box::pin(async move {
            if !bounded(this.client.flush()).await {
                tracing::debug!(queue = %this.queue,
                    "no round trip before closing the subscription");
            }
            let queue = Arc::clone(&this.queue);
            let taking = tokio::spawn(async move { this.take_buffered() });
            let Ok((taken, client, consumer)) = taking.await else {
                // Only a panic while decoding, or a runtime shutting down:
                // what was buffered comes back after `ack_wait`.
                tracing::debug!(queue = %queue, "could not take the buffered messages");
                return Vec::new();
            };
            if !bounded(client.flush()).await {
                tracing::debug!(queue = %queue,
                    "could not confirm the unsubscription before releasing");
            }
            if !bounded(consumer.get_info()).await {
                tracing::debug!(queue = %queue,
                    "could not read the consumer's info after unsubscribing");
            }
            tracing::debug!(queue = %queue, taken = taken.len(), "closed the pull subscription");
            taken
        })
    }
}

/// How long each server round trip of [`NatsDeliveries::close`] may take:
/// a disconnected client would otherwise hold it until it reconnects.
const CLOSE_ROUND_TRIP: Duration = Duration::from_secs(2);

/// Whether `request` succeeded within [`CLOSE_ROUND_TRIP`].
async fn bounded<T, E>(request: impl std::future::Future<Output = Result<T, E>>) -> bool {
    matches!(
        tokio::time::timeout(CLOSE_ROUND_TRIP, request).await,
        Ok(Ok(_))
    )
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
    ///
    /// Taken apart field by field and built in its box: each move of the
    /// client's message or of the delivery whole was a copy per message
    /// (callgrind, bench/nats-counts.sh).
    fn decode(
        message: async_nats::jetstream::Message,
        stream: &str,
        confirm_acks: bool,
    ) -> Option<Box<Self>> {
        let async_nats::jetstream::Message { message, context } = message;
        let async_nats::Message {
            reply,
            payload,
            headers,
            ..
        } = message;
        let reply = reply?;
        // The delivery count and sequence are in the acknowledgement
        // subject; one this client cannot parse still gets delivered.
        let counted = ack_counts(reply.as_str());
        Some(Box::new(Self {
            message: read(payload, headers.as_ref(), || match counted {
                Some((_, sequence)) => sequence_id(stream, sequence),
                None => new_message_id(),
            }),
            attempt: counted.map_or(1, |(attempt, _)| attempt),
            acker: Acker::new(context, Some(reply)),
            confirm_acks,
        }))
    }

    /// Sends `kind` (`doing` names it in errors), confirmed by the server
    /// when the broker is configured so.
    ///
    /// The future holds the delivery's box rather than its acker moved
    /// out: moving the acker (the client's JetStream context and the
    /// reply subject, ~200 bytes) into a future of its own was a copy per
    /// message (callgrind, bench/nats-counts.sh).
    fn send(
        self: Box<Self>,
        kind: AckKind,
        doing: &'static str,
    ) -> BoxFuture<'static, Result<(), BrokerError>> {
        Box::pin(async move {
            let sent = if self.confirm_acks {
                self.acker.double_ack_with(kind).await
            } else {
                self.acker.ack_with(kind).await
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

/// `{stream}:{sequence}`, the id of a message that carries none, written
/// without `core::fmt` (it is made for every such message).
fn sequence_id(stream: &str, sequence: u64) -> String {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(sequence);
    let mut id = String::with_capacity(stream.len() + 1 + digits.len());
    id.push_str(stream);
    id.push(':');
    id.push_str(digits);
    id
}

/// The delivery count and the stream sequence in a JetStream
/// acknowledgement subject: `$JS.ACK.<stream>.<consumer>.<delivered>.
/// <stream seq>.…` (9 tokens), or with a domain and an account hash after
/// `ACK` (11 tokens or more, ADR-15). Read by hand in one pass over the
/// bytes: it is done for every message, only these two numbers are
/// needed, and `str::split` with `parse` cost ~600 instructions a message
/// (callgrind, bench/nats-counts.sh).
fn ack_counts(reply: &str) -> Option<(u32, u64)> {
    let rest = reply.strip_prefix("$JS.ACK.")?.as_bytes();
    // Where each of the first tokens starts; the two numbers are at most
    // the 5th and 6th, and the 7th's start ends the 6th.
    let mut starts = [0usize; 7];
    let mut tokens = 1usize;
    for (at, &byte) in rest.iter().enumerate() {
        if byte == b'.' {
            if let Some(start) = starts.get_mut(tokens) {
                *start = at + 1;
            }
            tokens += 1;
        }
    }
    let skip = match tokens {
        7 => 2,
        n if n >= 9 => 4,
        _ => return None,
    };
    let field = |index: usize| {
        let start = starts[index];
        let end = match starts.get(index + 1) {
            Some(&next) if index + 1 < tokens => next - 1,
            _ => rest.len(),
        };
        rest.get(start..end)
    };
    let delivered = decimal(field(skip)?)?;
    let sequence = decimal(field(skip + 1)?)?;
    Some((attempt(delivered), sequence))
}

/// A token of ASCII digits as a number; `None` for anything else or an
/// overflow.
fn decimal(token: &[u8]) -> Option<u64> {
    if token.is_empty() {
        return None;
    }
    token.iter().try_fold(0u64, |value, &byte| {
        let digit = byte.checked_sub(b'0').filter(|d| *d <= 9)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// JetStream's delivery count as an attempt number: 1 the first time.
fn attempt(delivered: u64) -> u32 {
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

    /// A publish into the client's buffer, which is done at its first poll
    /// unless the buffer is full: tried here once, so that an
    /// acknowledgement done at once costs no future of its own (an
    /// allocation and a copy per message). Unsent (the buffer full), it is
    /// dropped unsent and sent as [`Delivery::ack`] sends it.
    fn ack_queued(self: Box<Self>) -> BoxFuture<'static, Result<(), BrokerError>> {
        if self.confirm_acks {
            return self.ack();
        }
        let sent = {
            let mut publish = std::pin::pin!(self.acker.ack_with(AckKind::Ack));
            publish
                .as_mut()
                .poll(&mut Context::from_waker(std::task::Waker::noop()))
        };
        match sent {
            Poll::Ready(Ok(())) => bisslog_messaging::settled(),
            Poll::Ready(Err(e)) => Box::pin(std::future::ready(Err(error::settle(
                "the acknowledgement",
                e,
            )))),
            Poll::Pending => self.ack(),
        }
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
    fn acknowledgement_subjects_give_their_counts() {
        assert_eq!(
            ack_counts("$JS.ACK.BENCH.raw.3.17.15.1700000000000000000.42"),
            Some((3, 17))
        );
        assert_eq!(
            ack_counts("$JS.ACK.hub.ACCHASH.BENCH.raw.1.18.16.1700000000000000000.0.tok"),
            Some((1, 18))
        );
        assert_eq!(ack_counts("$JS.ACK.BENCH.raw.x.17.15.1.0"), None);
        assert_eq!(ack_counts("_INBOX.abc"), None);
        assert_eq!(ack_counts("$JS.ACK.BENCH.raw..17.15.1.0"), None);
        assert_eq!(ack_counts("$JS.ACK.BENCH.raw.-1.17.15.1.0"), None);
        assert_eq!(
            ack_counts("$JS.ACK.BENCH.raw.1.18446744073709551616.15.1.0"),
            None,
            "a sequence past u64 is not read"
        );
        assert_eq!(
            ack_counts("$JS.ACK.BENCH.raw.99999999999.18.15.1.0"),
            Some((u32::MAX, 18))
        );
        assert_eq!(
            ack_counts("$JS.ACK.hub.ACCHASH.BENCH.raw.2.19.16.1.0.tok.more.tokens.here"),
            Some((2, 19))
        );
        assert_eq!(ack_counts("$JS.ACK.too.short"), None);
    }

    #[test]
    fn sequence_ids_are_decimal() {
        assert_eq!(sequence_id("BENCH", 0), "BENCH:0");
        assert_eq!(sequence_id("BENCH", 7), "BENCH:7");
        assert_eq!(sequence_id("S", u64::MAX), format!("S:{}", u64::MAX));
    }

    #[test]
    fn delivery_counts_become_attempts() {
        assert_eq!(attempt(1), 1);
        assert_eq!(attempt(3), 3);
        assert_eq!(attempt(0), 1);
        assert_eq!(attempt(u64::MAX), u32::MAX);
    }
}
