//! [`Deliveries`], the stream of one subscription, and how it is closed:
//! what an adapter took from the broker ahead of processing is handed
//! back, not left to time out.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bisslog_core::BoxFuture;
use futures_util::Stream;
use futures_util::stream::BoxStream;

use crate::broker::{BrokerError, Delivery};

/// One item of a subscription.
type Item = Result<Box<dyn Delivery>, BrokerError>;

/// A stream of deliveries that can be closed: the adapter's side of
/// [`Deliveries`].
///
/// Adapters that take messages from the broker ahead of being polled (a
/// JetStream pull batch, RabbitMQ's prefetch) implement it to hand those
/// back at shutdown; a stream that takes a message only when polled needs
/// nothing of it ([`Deliveries::new`]).
pub trait DeliveryStream: Stream<Item = Item> + Send + 'static {
    /// Stops taking messages from the broker and returns the deliveries
    /// taken but not yet handed out, unsettled, for the caller to
    /// [`Delivery::release`]. After it, the broker sends this subscriber
    /// nothing more.
    fn close(self: Pin<Box<Self>>) -> BoxFuture<'static, Vec<Box<dyn Delivery>>>;
}

/// The stream of deliveries of one subscription. An `Err` item is a
/// passing problem (the adapter reconnects); the end of the stream means
/// the subscription is over and must be made again.
///
/// Dropping it ends the subscription; [`Deliveries::close`] ends it and
/// gives back what it had taken ahead, so that it can be released at
/// once rather than redelivered after the broker's `ack_wait`.
pub struct Deliveries {
    inner: Pin<Box<dyn DeliveryStream>>,
}

impl Deliveries {
    /// The deliveries of a stream that takes a message from the broker
    /// only when polled: closing it just drops it.
    pub fn new(stream: impl Stream<Item = Item> + Send + 'static) -> Self {
        Self::closable(Plain(Box::pin(stream)))
    }

    /// The deliveries of an adapter's closable stream.
    pub fn closable(stream: impl DeliveryStream) -> Self {
        Self {
            inner: Box::pin(stream),
        }
    }

    /// Ends the subscription and returns the deliveries it had taken but
    /// not handed out (see [`DeliveryStream::close`]).
    pub fn close(self) -> BoxFuture<'static, Vec<Box<dyn Delivery>>> {
        self.inner.close()
    }

    /// The same deliveries, each passed through `wrap` (as it is handed
    /// out, and when [`Deliveries::close`] gives it back).
    #[must_use]
    pub fn map_deliveries(
        self,
        wrap: impl Fn(Box<dyn Delivery>) -> Box<dyn Delivery> + Send + Sync + 'static,
    ) -> Self {
        Self::closable(Mapped {
            inner: self,
            wrap: Arc::new(wrap),
        })
    }
}

impl Stream for Deliveries {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliveries").finish_non_exhaustive()
    }
}

/// A stream with nothing taken ahead.
struct Plain(BoxStream<'static, Item>);

impl Stream for Plain {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl DeliveryStream for Plain {
    fn close(self: Pin<Box<Self>>) -> BoxFuture<'static, Vec<Box<dyn Delivery>>> {
        drop(self);
        Box::pin(std::future::ready(Vec::new()))
    }
}

type Wrap = Arc<dyn Fn(Box<dyn Delivery>) -> Box<dyn Delivery> + Send + Sync>;

/// [`Deliveries::map_deliveries`].
struct Mapped {
    inner: Deliveries,
    wrap: Wrap,
}

impl Stream for Mapped {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = &mut *self;
        Pin::new(&mut this.inner)
            .poll_next(cx)
            .map(|item| item.map(|delivery| delivery.map(|d| (this.wrap)(d))))
    }
}

impl DeliveryStream for Mapped {
    fn close(self: Pin<Box<Self>>) -> BoxFuture<'static, Vec<Box<dyn Delivery>>> {
        let Mapped { inner, wrap } = *Pin::into_inner(self);
        Box::pin(async move {
            let taken = inner.close().await;
            taken.into_iter().map(|d| wrap(d)).collect()
        })
    }
}
