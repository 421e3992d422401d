//! The header-read timeout, kept by the connection's own task.
//!
//! A connection with no request in progress (just accepted, or its last
//! response's body handed to hyper) must send a complete request head
//! within [`HttpConfig::header_read_timeout`](crate::HttpConfig), or it
//! is closed without an answer: a client cannot hold a connection by
//! sending its headers a byte at a time (a slow-headers attack), nor by
//! sending nothing at all.
//!
//! hyper can do this itself, given a timer, but then every request
//! creates a boxed `Sleep`, reads the clock, puts an entry in tokio's
//! timer wheel and takes it out again, and polls the socket once more
//! after each response to start the next one's: ~1,270 instructions and
//! ~6 % of the server's CPU per request (docs/benchmarks.md). Here a
//! request costs two stores (its head arrived; its response's body was
//! handed over) and an `Arc` clone, and the connection's task looks at
//! them every quarter of the timeout, with one timer per connection
//! rather than one per request. A connection that waits for a head
//! through [`LOOKS`] looks in a row with nothing new is closed: after
//! between 1 and 1.25 times the timeout (hyper closed it after exactly
//! the timeout).

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::future::RouteFuture;
use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::Service as _;

/// How many looks a timeout is divided into: a waiting connection is
/// closed after between `LOOKS` and `LOOKS + 1` of them.
const LOOKS: u32 = 4;

/// The shortest time between two looks.
const MIN_LOOK_EVERY: Duration = Duration::from_millis(1);

/// What a connection's requests have done, in one number: the count of
/// request heads received, shifted left by one, with the low bit set while
/// a request is in progress (from its head until its response's body has
/// been handed to hyper).
///
/// Only the connection's task writes it (hyper calls the service and drops
/// a response's body while the connection is polled), so a load and a
/// store do, without a read-modify-write.
#[derive(Debug, Default)]
pub(crate) struct Activity(AtomicU64);

impl Activity {
    fn head_received(&self) {
        let now = self.0.load(Ordering::Relaxed);
        self.0.store((((now >> 1) + 1) << 1) | 1, Ordering::Relaxed);
    }

    fn answered(&self) {
        let now = self.0.load(Ordering::Relaxed);
        self.0.store(now & !1, Ordering::Relaxed);
    }

    fn read(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The connection task's side: looks at the [`Activity`] every quarter of
/// the timeout, on one timer per connection.
#[derive(Debug)]
pub(crate) struct HeadTimeout {
    activity: Arc<Activity>,
    every: Duration,
    /// The timer of the next look (boxed once per connection, so that the
    /// timeout can live beside the connection without pinning).
    timer: Pin<Box<Sleep>>,
    /// The activity at the last look.
    seen: u64,
    /// How many looks in a row have found the connection waiting for a
    /// head, with nothing new since the look before.
    waiting_looks: u32,
    /// The waker the timer wakes, once registered.
    registered: Option<Waker>,
}

impl HeadTimeout {
    /// The timeout of a connection whose requests report to `activity`.
    pub(crate) fn new(timeout: Duration, activity: Arc<Activity>) -> Self {
        // At least a millisecond (tokio's timer resolution): a zero
        // timeout must not make a look due again at once, forever, while a
        // request is in progress.
        let every = (timeout / LOOKS).max(MIN_LOOK_EVERY);
        Self {
            seen: activity.read(),
            activity,
            every,
            timer: Box::pin(tokio::time::sleep(every)),
            waiting_looks: 0,
            registered: None,
        }
    }

    /// Whether the connection has waited a whole timeout for a request
    /// head. Cheap when no look is due, as on nearly every wake-up of the
    /// connection: a load and a waker comparison. Call it on every poll
    /// of the connection's task.
    pub(crate) fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if !self.timer.is_elapsed() {
                if self
                    .registered
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()))
                {
                    return false;
                }
                if self.timer.as_mut().poll(cx).is_pending() {
                    self.registered = Some(cx.waker().clone());
                    return false;
                }
            }
            // A look is due. The next one is a period from now, not from
            // when this one was due: a task that was not polled for a
            // while must not take several looks at once.
            self.registered = None;
            self.timer.as_mut().reset(Instant::now() + self.every);
            if self.look() {
                return true;
            }
        }
    }

    fn look(&mut self) -> bool {
        let now = self.activity.read();
        let waiting = now & 1 == 0;
        if waiting && now == self.seen {
            self.waiting_looks += 1;
        } else {
            self.seen = now;
            self.waiting_looks = 0;
        }
        self.waiting_looks >= LOOKS
    }
}

/// The router as hyper calls it, reporting each request to the
/// connection's [`Activity`].
pub(crate) struct Reporting {
    /// hyper calls with `&self`, axum's router with `&mut self`: the cell
    /// lends it for the call (which returns a future owning what it needs)
    /// instead of cloning it per request, as `TowerToHyperService` does.
    router: RefCell<Router>,
    activity: Arc<Activity>,
}

impl Reporting {
    pub(crate) fn new(router: Router, activity: Arc<Activity>) -> Self {
        Self {
            router: RefCell::new(router),
            activity,
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Reporting {
    type Response = Response<Reported>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.activity.head_received();
        // axum's router is always ready (its `poll_ready` is `Ready`), and
        // hyper makes one call at a time on a connection: the cell is
        // never borrowed twice.
        let future = self.router.borrow_mut().call(request);
        Answer {
            future,
            answering: Some(Answering(Arc::clone(&self.activity))),
        }
    }
}

/// Reports, when dropped, that a request is answered: carried by its
/// response future, then by its response's body.
struct Answering(Arc<Activity>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answered();
    }
}

/// A response on its way: its body reports when hyper is done with it.
pub(crate) struct Answer {
    future: RouteFuture<Infallible>,
    /// Handed to the body once the response is ready; dropped with the
    /// call before that (the connection closed).
    answering: Option<Answering>,
}

impl Future for Answer {
    type Output = Result<Response<Reported>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Poll::Ready(Ok(response)) = Pin::new(&mut this.future).poll(cx) else {
            return Poll::Pending;
        };
        let answering = this.answering.take();
        Poll::Ready(Ok(response.map(|body| Reported {
            body,
            _answering: answering,
        })))
    }
}

/// A response's body that reports, when hyper drops it (its last frame
/// taken, or the connection closed), that the request is answered.
pub(crate) struct Reported {
    body: Body,
    _answering: Option<Answering>,
}

impl HttpBody for Reported {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn looks(mut timeout: HeadTimeout, activity: &Activity, steps: &[Step]) -> Vec<bool> {
        steps
            .iter()
            .map(|step| {
                match step {
                    Step::Head => activity.head_received(),
                    Step::Answered => activity.answered(),
                    Step::Nothing => {}
                }
                timeout.look()
            })
            .collect()
    }

    enum Step {
        Head,
        Answered,
        Nothing,
    }

    #[tokio::test]
    async fn a_connection_waiting_for_a_head_is_closed_after_four_looks() {
        let activity = Arc::new(Activity::default());
        let timeout = HeadTimeout::new(Duration::from_secs(8), Arc::clone(&activity));
        use Step::*;
        // Accepted, nothing sent: the fourth look closes it.
        let seen = looks(timeout, &activity, &[Nothing, Nothing, Nothing, Nothing]);
        assert_eq!(seen, [false, false, false, true]);
    }

    #[tokio::test]
    async fn a_request_in_progress_is_never_closed_and_its_answer_starts_the_wait() {
        let activity = Arc::new(Activity::default());
        let timeout = HeadTimeout::new(Duration::from_secs(8), Arc::clone(&activity));
        use Step::*;
        let steps = [
            Nothing, Nothing, Head, Nothing, Nothing, Nothing, Nothing, Nothing, Answered, Nothing,
            Nothing, Nothing, Nothing,
        ];
        let seen = looks(timeout, &activity, &steps);
        // Busy for five looks: kept. Answered at the ninth: the wait starts
        // there and the fourth look after it closes the connection.
        assert_eq!(seen.iter().position(|closed| *closed), Some(12));
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_timeout_looks_every_millisecond_and_never_spins() {
        let activity = Arc::new(Activity::default());
        activity.head_received();
        let mut timeout = HeadTimeout::new(Duration::ZERO, Arc::clone(&activity));
        // A request in progress: every poll returns at once, not expired.
        for _ in 0..3 {
            let expired =
                std::future::poll_fn(|cx| std::task::Poll::Ready(timeout.expired(cx))).await;
            assert!(!expired);
            tokio::time::advance(MIN_LOOK_EVERY).await;
        }
        // Answered: four looks later it expires.
        activity.answered();
        let mut looks = 0;
        loop {
            let expired =
                std::future::poll_fn(|cx| std::task::Poll::Ready(timeout.expired(cx))).await;
            if expired {
                break;
            }
            looks += 1;
            assert!(looks < 10, "never expired");
            tokio::time::advance(MIN_LOOK_EVERY).await;
        }
    }

    #[tokio::test]
    async fn a_request_answered_between_two_looks_counts_as_new() {
        let activity = Arc::new(Activity::default());
        let timeout = HeadTimeout::new(Duration::from_secs(8), Arc::clone(&activity));
        use Step::*;
        // Three waiting looks, then a whole request between two looks: the
        // count starts over.
        let mut timeout = timeout;
        for _ in 0..3 {
            assert!(!timeout.look());
        }
        activity.head_received();
        activity.answered();
        let seen = looks(
            timeout,
            &activity,
            &[Nothing, Nothing, Nothing, Nothing, Nothing],
        );
        assert_eq!(seen, [false, false, false, false, true]);
    }
}
