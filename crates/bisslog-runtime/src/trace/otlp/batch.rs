//! The export queue and the thread that empties it: a call that ends a
//! span encodes it into the queue's buffer (its data still in the cache,
//! freed by the thread that made it), and one thread of the exporter's own
//! sends the buffer in batches, so a slow or absent collector never slows
//! a call down. The thread is woken only when a batch is full, a flush is
//! asked for, or the schedule delay passes: not once per span.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use super::encode::{self, Envelope};
use super::record::Record;
use super::transport::{Destination, Transport};

/// How long [`Queue::flush`] waits for the exporter.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// `OTEL_BSP_*`: how spans are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Time between two exports (`OTEL_BSP_SCHEDULE_DELAY`, 5000 ms).
    pub schedule_delay: Duration,
    /// Spans kept waiting at most; more are dropped, and counted
    /// (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048).
    pub max_queue_size: usize,
    /// Spans sent in one request at most; a full batch is sent at once
    /// (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, 512).
    pub max_export_batch_size: usize,
    /// How long one request may take (`OTEL_EXPORTER_OTLP_TIMEOUT` or
    /// `OTEL_BSP_EXPORT_TIMEOUT`, 10000 ms).
    pub export_timeout: Duration,
}

impl Default for Batching {
    fn default() -> Self {
        Self {
            schedule_delay: Duration::from_millis(5000),
            max_queue_size: 2048,
            max_export_batch_size: 512,
            export_timeout: Duration::from_millis(10_000),
        }
    }
}

/// Why spans could not be sent.
#[derive(Debug, Clone, thiserror::Error)]
pub(super) enum ExportError {
    #[error("{0}")]
    Send(String),
    #[error("the exporter did not answer within {0:?}")]
    Stuck(Duration),
    #[error("the exporter has stopped")]
    Stopped,
}

#[derive(Default)]
struct State {
    /// The spans ended and not yet sent, encoded (each a `ScopeSpans`
    /// `spans` field), in the order they ended.
    body: Vec<u8>,
    /// How many spans `body` holds.
    spans: usize,
    /// Where each full batch ends in `body`.
    cuts: Vec<usize>,
    /// Flushes waiting for the next export's result.
    flushes: Vec<mpsc::SyncSender<Result<(), ExportError>>>,
    stopping: bool,
    /// The thread is gone: spans are dropped.
    stopped: bool,
}

/// Spans waiting for export, shared by the spans and the thread.
pub(super) struct Queue {
    state: Mutex<State>,
    wake: Condvar,
    batching: Batching,
    dropped: AtomicU64,
}

impl Queue {
    fn new(batching: Batching) -> Self {
        Self {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            batching,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a Vec of records: still
        // consistent, so the poison is ignored.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues an ended span; drops it (counted) when the queue is full.
    pub(super) fn push(&self, record: &Record) {
        let mut state = self.lock();
        if state.stopped || state.spans >= self.batching.max_queue_size {
            drop(state);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        encode::span(&mut state.body, record);
        state.spans += 1;
        if state
            .spans
            .is_multiple_of(self.batching.max_export_batch_size)
        {
            let end = state.body.len();
            state.cuts.push(end);
        }
        let full = state.spans == self.batching.max_export_batch_size;
        drop(state);
        if full {
            self.wake.notify_one();
        }
    }

    /// Sends what is queued now and waits (five seconds at most) for the
    /// collector's answer.
    pub(super) fn flush(&self) -> Result<(), ExportError> {
        self.ask(false)
    }

    /// Sends what is queued and stops the thread.
    pub(super) fn stop(&self) -> Result<(), ExportError> {
        self.ask(true)
    }

    fn ask(&self, stop: bool) -> Result<(), ExportError> {
        let (done, result) = mpsc::sync_channel(1);
        {
            let mut state = self.lock();
            if state.stopped {
                return if stop {
                    Ok(())
                } else {
                    Err(ExportError::Stopped)
                };
            }
            state.flushes.push(done);
            state.stopping |= stop;
        }
        self.wake.notify_one();
        match result.recv_timeout(FLUSH_TIMEOUT) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ExportError::Stuck(FLUSH_TIMEOUT)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(ExportError::Stopped),
        }
    }

    /// Waits until a batch is full, a flush or stop is asked, or
    /// `deadline`; takes what is queued (giving `spare` in its place).
    fn take(&self, deadline: Instant, spare: Vec<u8>) -> Taken {
        let mut state = self.lock();
        loop {
            if state.spans >= self.batching.max_export_batch_size
                || !state.flushes.is_empty()
                || state.stopping
            {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self
                .wake
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        let body = std::mem::replace(&mut state.body, spare);
        let mut cuts = std::mem::take(&mut state.cuts);
        if cuts.last() != Some(&body.len()) {
            cuts.push(body.len());
        }
        let spans = std::mem::take(&mut state.spans);
        let flushes = std::mem::take(&mut state.flushes);
        state.stopped = state.stopping;
        Taken {
            body,
            cuts,
            spans,
            flushes,
            stop: state.stopping,
        }
    }
}

struct Taken {
    body: Vec<u8>,
    /// Where each batch ends in `body`; the last is its length.
    cuts: Vec<usize>,
    spans: usize,
    flushes: Vec<mpsc::SyncSender<Result<(), ExportError>>>,
    stop: bool,
}

/// Starts the export thread; the queue is what spans are pushed to.
pub(super) fn start(
    batching: Batching,
    envelope: Envelope,
    destination: Destination,
) -> std::io::Result<Arc<Queue>> {
    let queue = Arc::new(Queue::new(batching));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let exporter = Exporter {
        queue: Arc::clone(&queue),
        envelope,
        destination,
        runtime,
    };
    std::thread::Builder::new()
        .name("bisslog-otlp".to_owned())
        .spawn(move || exporter.run())?;
    Ok(queue)
}

struct Exporter {
    queue: Arc<Queue>,
    envelope: Envelope,
    destination: Destination,
    /// The thread's own runtime: the HTTP and gRPC clients are async.
    runtime: tokio::runtime::Runtime,
}

impl Exporter {
    fn run(self) {
        let batching = self.queue.batching;
        // The clients are built on the thread's runtime: the gRPC channel
        // spawns its connection task where it is made.
        let transport = {
            let _entered = self.runtime.enter();
            Transport::new(&self.destination)
        };
        let mut spare = Vec::new();
        let mut failing = false;
        let mut dropped = 0;
        loop {
            let taken = self
                .queue
                .take(Instant::now() + batching.schedule_delay, spare);
            let mut result = Ok(());
            let mut start = 0;
            for &end in &taken.cuts {
                let Some(batch) = taken.body.get(start..end).filter(|b| !b.is_empty()) else {
                    continue;
                };
                start = end;
                let request = self.envelope.request(batch);
                let sent = match &transport {
                    Ok(transport) => self.runtime.block_on(async {
                        tokio::time::timeout(batching.export_timeout, transport.send(request))
                            .await
                            .unwrap_or_else(|_| {
                                Err(format!("no answer within {:?}", batching.export_timeout))
                            })
                    }),
                    Err(error) => Err(error.clone()),
                };
                if let Err(error) = sent {
                    result = Err(ExportError::Send(error));
                }
            }
            // Said once when the collector fails, and once when it is back,
            // not for every batch.
            match &result {
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, url = %self.destination.url, "spans could not be exported");
                }
                Ok(()) if failing && taken.spans > 0 => {
                    failing = false;
                    tracing::info!(url = %self.destination.url, "spans exported again");
                }
                _ => {}
            }
            let now_dropped = self.queue.dropped.load(Ordering::Relaxed);
            if now_dropped > dropped {
                tracing::warn!(
                    dropped = now_dropped - dropped,
                    "spans dropped: the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE)"
                );
                dropped = now_dropped;
            }
            for flush in taken.flushes {
                let _ = flush.try_send(result.clone());
            }
            if taken.stop {
                return;
            }
            spare = taken.body;
            spare.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use bisslog_core::TraceContext;

    use super::*;
    use crate::trace::SpanKind;

    fn record() -> Record {
        Record {
            name: Cow::Borrowed("x"),
            kind: SpanKind::Internal,
            context: TraceContext::generate(),
            parent_span_id: None,
            start: 1,
            end: 2,
            attributes: Vec::new(),
            links: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let queue = Queue::new(Batching {
            max_queue_size: 4,
            max_export_batch_size: 2,
            ..Batching::default()
        });
        for _ in 0..10 {
            queue.push(&record());
        }
        assert_eq!(queue.lock().spans, 4);
        assert_eq!(queue.dropped.load(Ordering::Relaxed), 6);
        // A full batch is taken at once, without waiting for the delay,
        // cut in batches of two spans.
        let taken = queue.take(Instant::now() + Duration::from_secs(3600), Vec::new());
        assert_eq!(taken.spans, 4);
        let mut one = Vec::new();
        encode::span(&mut one, &record());
        assert_eq!(taken.cuts, [2 * one.len(), 4 * one.len()]);
        assert_eq!(taken.body.len(), 4 * one.len());
        assert!(!taken.stop);
    }

    #[test]
    fn after_a_stop_spans_are_dropped_and_flushes_say_so() {
        let queue = Queue::new(Batching::default());
        queue.lock().stopping = true;
        let taken = queue.take(Instant::now() + Duration::from_secs(3600), Vec::new());
        assert!(taken.stop);
        queue.push(&record());
        assert_eq!(queue.lock().spans, 0);
        assert!(matches!(queue.flush(), Err(ExportError::Stopped)));
        assert!(queue.stop().is_ok());
    }
}
