//! The relay: sends what the outbox holds to the broker, in order per key,
//! at least once, one relay at a time across instances (a lease).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bisslog_core::Error;
use bisslog_messaging::{
    Broker, BrokerError, Message, Outgoing, QueueKind, new_message_id, publish_provisioning_to,
};
use bisslog_runtime::trace::{Span, SpanKind, SpanStart, Tracer, attributes};
use bytes::Bytes;
use futures_util::StreamExt as _;
use tokio::sync::watch;

use crate::clock::now_ms;
use crate::database::Backend;
use crate::error::map_error;
use crate::lease::Lease;
use crate::macros::own_statement;
use crate::on_engine;
use crate::outbox::Outbox;
use crate::outbox::backoff::Backoff;

mod config;
mod health;

pub use config::RelayConfig;
pub use health::{RelayHealth, RelayReport};

/// Why a round failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The database (or anything but the broker's reachability).
    Storage,
    /// The broker could not be reached.
    Broker,
}

/// Sends the events of an [`Outbox`] to a broker.
///
/// - **At least once.** An event is marked published after the broker
///   confirmed it; a relay that dies in between sends it again (with the
///   same message id: the consumers' inbox drops the copy).
/// - **In order per key.** Events with a key are sent one after the other,
///   in the order they became visible; a failing event holds back the
///   events after it with the same key (see [`Outbox::stuck`]). Events
///   without a key are sent concurrently, in no particular order.
/// - **One relay at a time.** Every instance may run a relay; they share a
///   lease in the database, so one publishes while the others stand by,
///   and one of them takes over within `lease_ttl` when it stops.
/// - **Traced** when given a [`Tracer`] ([`OutboxRelay::tracer`]): each
///   event sent is a "send {queue}" span, child of the call that stored
///   it, and the message carries that span on to its consumers.
pub struct OutboxRelay {
    outbox: Outbox,
    broker: Arc<dyn Broker>,
    config: RelayConfig,
    lease: Lease,
    health: RelayHealth,
    tracer: Option<Tracer>,
    /// The queues published the event way; the others are commands.
    events: std::collections::BTreeSet<String>,
}

const BACKLOG: &str =
    "SELECT COUNT(*), MIN(created_at_ms) FROM bisslog_outbox WHERE published_at_ms IS NULL";
const BATCH: &str = "SELECT id, message_id, queue, ordering_key, event_type, transaction_id, headers, payload, \
    attempts, next_attempt_at_ms FROM bisslog_outbox WHERE published_at_ms IS NULL ORDER BY id LIMIT $1";
const PUBLISHED_SQLITE: &str = "UPDATE bisslog_outbox SET published_at_ms = $1 \
    WHERE id IN (SELECT value FROM json_each($2))";
const PUBLISHED_POSTGRES: &str =
    "UPDATE bisslog_outbox SET published_at_ms = $1 WHERE id = ANY($2)";
const FAILED: &str = "UPDATE bisslog_outbox SET attempts = attempts + 1, last_error = $2, \
    last_attempt_at_ms = $3, next_attempt_at_ms = $4 WHERE id = $1";
const PURGE_OUTBOX: &str =
    "DELETE FROM bisslog_outbox WHERE published_at_ms IS NOT NULL AND published_at_ms < $1";
const PURGE_INBOX: &str = "DELETE FROM bisslog_inbox WHERE handled_at_ms < $1";

type Columns = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Vec<u8>,
    i32,
    i64,
);

/// An event tried: `(id, attempts, error)`, the error with whether the
/// broker could not be reached.
type Outcome = (i64, i32, Option<(String, bool)>);

/// One stored event, ready to publish.
struct Pending {
    id: i64,
    queue: String,
    attempts: i32,
    due: bool,
    message: Message,
}

impl OutboxRelay {
    /// A relay of `outbox` to `broker`.
    pub fn new(outbox: Outbox, broker: impl Broker) -> Self {
        let config = RelayConfig::default();
        let lease = Lease::new(
            outbox.database().clone(),
            "bisslog-outbox-relay",
            new_message_id(),
            config.lease_ttl,
        );
        Self {
            outbox,
            broker: Arc::new(broker),
            config,
            lease,
            health: RelayHealth::default(),
            tracer: None,
            events: std::collections::BTreeSet::new(),
        }
    }

    /// The queues that are event queues (the services' publishers with
    /// `queue_kind: event`, see `bisslog_runtime::messaging::event_queues`):
    /// the relay publishes them the event way, to every consuming service.
    /// The others are command queues.
    #[must_use]
    pub fn events<I, S>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.events.extend(queues.into_iter().map(Into::into));
        self
    }

    /// Traces the events relayed: a "send {queue}" span (kind Producer)
    /// per event sent, child of the trace context stored with it (the
    /// call that published it), and the message sent carries the span's
    /// context. Without a tracer the stored trace headers go out as they
    /// are.
    #[must_use]
    pub fn tracer(mut self, tracer: Tracer) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// The relay's counters; clones keep following it once it runs.
    pub fn health(&self) -> RelayHealth {
        self.health.clone()
    }

    /// Replaces the configuration.
    #[must_use]
    pub fn config(mut self, config: RelayConfig) -> Self {
        self.lease = Lease::new(
            self.outbox.database().clone(),
            self.lease.name().to_owned(),
            new_message_id(),
            config.lease_ttl,
        );
        self.config = config;
        self
    }

    /// One round: takes or renews the lease and, when held, publishes one
    /// batch of due events.
    pub async fn relay_once(&self) -> Result<RelayReport, Error> {
        self.round().await.map(|(report, _)| report)
    }

    /// [`OutboxRelay::relay_once`], with the first "broker unreachable"
    /// error of the round.
    async fn round(&self) -> Result<(RelayReport, Option<String>), Error> {
        if !self.lease.hold().await? {
            return Ok((RelayReport::default(), None));
        }
        let batch = self.read_batch().await?;
        let mut report = RelayReport {
            leader: true,
            read: batch.len(),
            ..RelayReport::default()
        };
        let mut unreachable = None;
        let outcomes = self.publish(publishable(batch)).await;
        let now = now_ms();
        let mut published = Vec::new();
        for (id, attempts, error) in outcomes {
            match error {
                None => published.push(id),
                Some((error, broker_down)) => {
                    report.failed += 1;
                    if broker_down {
                        report.unreachable += 1;
                    }
                    self.record_failure(id, attempts, &error, broker_down, now)
                        .await?;
                    if broker_down && unreachable.is_none() {
                        unreachable = Some(error);
                    }
                }
            }
        }
        report.published = published.len();
        self.mark_published(&published, now).await?;
        let health = &self.health.0;
        health
            .published
            .fetch_add(report.published as u64, Ordering::Relaxed);
        health
            .publish_failures
            .fetch_add(report.failed as u64, Ordering::Relaxed);
        if report.read < self.config.batch_size as usize && report.published == report.read {
            // The round read every event not yet published and published
            // them all: none was left when it read (what was stored since
            // is counted by the round that reads it). Under load the relay
            // runs hundreds of such rounds a second: a statement each to
            // count nothing was ~5 % of the embedded system's statements.
            self.health.0.pending.store(0, Ordering::Relaxed);
            self.health.0.oldest_pending_ms.store(0, Ordering::Relaxed);
        } else {
            self.count_backlog().await?;
        }
        Ok((report, unreachable))
    }

    /// Publishes the groups of a round: all together when the broker
    /// stores a batch at once (the SQL broker: one transaction rather than
    /// one per event), else, or when that batch failed, each key's events
    /// in order with keys side by side.
    async fn publish(&self, mut groups: Vec<Vec<Pending>>) -> Vec<Outcome> {
        if self.broker.publishes_batches() && !groups.is_empty() {
            match self.publish_together(&mut groups).await {
                Ok(outcomes) => return outcomes,
                // The broker cannot be reached: one by one would fail again,
                // event after event. Each key's first event carries the
                // failure (as when it is tried alone); the rest wait.
                Err(error) if is_unreachable(&error) => {
                    let reason = error.to_string();
                    return groups
                        .iter()
                        .filter_map(|group| group.first())
                        .map(|pending| (pending.id, pending.attempts, Some((reason.clone(), true))))
                        .collect();
                }
                // All or none was stored: the events go again one by one,
                // which provisions a missing queue and says which event
                // failed and why.
                Err(error) => tracing::debug!(error = %error,
                    "the outbox's batch was refused; publishing its events one by one"),
            }
        }
        futures_util::stream::iter(groups)
            .map(|group| self.publish_group(group))
            .buffer_unordered(self.config.concurrency.max(1))
            .flat_map(futures_util::stream::iter)
            .collect()
            .await
    }

    /// Publishes every event of the round in one batch, each key's in
    /// order: all published, or none.
    async fn publish_together(
        &self,
        groups: &mut [Vec<Pending>],
    ) -> Result<Vec<Outcome>, BrokerError> {
        let mut spans = Vec::with_capacity(groups.iter().map(Vec::len).sum());
        for pending in groups.iter_mut().flatten() {
            self.health
                .0
                .publish_attempts
                .fetch_add(1, Ordering::Relaxed);
            spans.push(self.send_span(pending));
        }
        let batch: Vec<Outgoing<'_>> = groups
            .iter()
            .flatten()
            .map(|pending| Outgoing {
                queue: &pending.queue,
                kind: self.kind(&pending.queue),
                message: &pending.message,
            })
            .collect();
        let result = self.broker.publish_batch(&batch).await;
        for mut span in spans {
            if let Err(error) = &result {
                span.set_attribute(attributes::ERROR_TYPE, error.kind().as_str());
                span.set_error(error.to_string());
            }
            span.end();
        }
        result?;
        Ok(groups
            .iter()
            .flatten()
            .map(|pending| (pending.id, pending.attempts, None))
            .collect())
    }

    /// Whether `queue` is published the event way or the command way.
    fn kind(&self, queue: &str) -> QueueKind {
        if self.events.contains(queue) {
            QueueKind::Event
        } else {
            QueueKind::Command
        }
    }

    /// Publishes a key's events in order, stopping at the first failure;
    /// `(id, attempts, error)` for each event tried, the error with
    /// whether the broker could not be reached.
    async fn publish_group(&self, group: Vec<Pending>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(group.len());
        for mut pending in group {
            self.health
                .0
                .publish_attempts
                .fetch_add(1, Ordering::Relaxed);
            let mut span = self.send_span(&mut pending);
            let kind = self.kind(&pending.queue);
            let result = publish_provisioning_to(
                self.broker.as_ref(),
                &pending.queue,
                kind,
                &pending.message,
                self.config.provision,
            )
            .await;
            if let Err(error) = &result {
                span.set_attribute(attributes::ERROR_TYPE, error.kind().as_str());
                span.set_error(error.to_string());
            }
            span.end();
            let failed = result.is_err();
            outcomes.push((
                pending.id,
                pending.attempts,
                result.err().map(|e| (e.to_string(), is_unreachable(&e))),
            ));
            if failed {
                break;
            }
        }
        outcomes
    }

    /// Opens the "send {queue}" span of an event, child of the trace it was
    /// stored in, and makes the message carry it; [`Span::none`] without a
    /// tracer.
    fn send_span(&self, pending: &mut Pending) -> Span {
        let span = Span::start(self.tracer.as_ref(), || {
            SpanStart::new(format!("send {}", pending.queue), SpanKind::Producer)
                .parent(pending.message.trace_context().as_ref())
                .attribute(attributes::MESSAGING_SYSTEM, self.broker.system())
                .attribute(attributes::MESSAGING_DESTINATION, pending.queue.clone())
                .attribute(attributes::MESSAGING_OPERATION, "send")
                .attribute(attributes::MESSAGING_MESSAGE_ID, pending.message.id.clone())
        });
        if let Some(context) = span.context() {
            pending.message.set_trace_context(context);
        }
        span
    }

    /// Counts the events not published yet, for the relay's health.
    async fn count_backlog(&self) -> Result<(), Error> {
        let (pending, oldest): (i64, Option<i64>) = own_statement!(self.outbox.database(), map_error, conn => {
            sqlx::query_as(BACKLOG).fetch_one(conn).await
        });
        self.health.0.pending.store(pending, Ordering::Relaxed);
        self.health
            .0
            .oldest_pending_ms
            .store(oldest.unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    async fn read_batch(&self) -> Result<Vec<Pending>, Error> {
        let rows: Vec<Columns> = own_statement!(self.outbox.database(), map_error, conn => {
            sqlx::query_as(BATCH)
                .bind(i64::from(self.config.batch_size))
                .fetch_all(conn)
                .await
        });
        let now = now_ms();
        Ok(rows.into_iter().map(|c| pending(c, now)).collect())
    }

    async fn mark_published(&self, ids: &[i64], now: i64) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let db = self.outbox.database();
        // Under group commit, in the write turn (docs/reliability.md).
        let _turn = db.write_turn().await?;
        match db.backend() {
            Backend::Sqlite => {
                let ids = serde_json::to_string(ids)
                    .map_err(|e| Error::internal("ids as JSON").with_source(e))?;
                // (Compiled for both engines, run on SQLite's.)
                own_statement!(db, map_error, conn => {
                    sqlx::query(PUBLISHED_SQLITE)
                        .bind(now)
                        .bind(ids)
                        .execute(conn)
                        .await
                        .map(drop)
                });
                Ok(())
            }
            Backend::Postgres => {
                let pool = db.postgres().ok_or_else(no_pool)?;
                sqlx::query(PUBLISHED_POSTGRES)
                    .bind(now)
                    .bind(ids)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(map_error)
            }
        }
    }

    /// Records a failed attempt on the event's row. When the broker could
    /// not be reached the event is due again at once: the relay's own
    /// backoff paces the next round, and the event must not wait behind a
    /// delay of its own once the broker is back.
    async fn record_failure(
        &self,
        id: i64,
        attempts: i32,
        error: &str,
        broker_down: bool,
        now: i64,
    ) -> Result<(), Error> {
        let next = if broker_down {
            // The relay logs this once for the whole outage.
            tracing::debug!(
                outbox_id = id,
                attempts = attempts + 1,
                error,
                "an outbox event could not be published: the broker cannot be reached"
            );
            now
        } else {
            let delay = backoff(
                &self.config,
                u32::try_from(attempts).unwrap_or(0).saturating_add(1),
            );
            tracing::warn!(
                outbox_id = id,
                attempts = attempts + 1,
                error,
                "an outbox event could not be published"
            );
            now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
        };
        // Under group commit, in the write turn (docs/reliability.md).
        let _turn = self.outbox.database().write_turn().await?;
        on_engine!(self.outbox.database().pool(), pool => {
            sqlx::query(FAILED)
                .bind(id)
                .bind(error)
                .bind(now)
                .bind(next)
                .execute(pool)
                .await
                .map(drop)
        })
        .map_err(map_error)
    }

    /// Deletes published events and inbox entries past their retention.
    pub async fn purge(&self) -> Result<(), Error> {
        let now = now_ms();
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let outbox_cutoff = now.saturating_sub(ms(self.config.published_retention));
        let inbox_cutoff = now.saturating_sub(ms(self.config.inbox_retention));
        // Under group commit, in the write turn (docs/reliability.md).
        let _turn = self.outbox.database().write_turn().await?;
        on_engine!(self.outbox.database().pool(), pool => {
            async {
                sqlx::query(PURGE_OUTBOX).bind(outbox_cutoff).execute(pool).await?;
                sqlx::query(PURGE_INBOX).bind(inbox_cutoff).execute(pool).await.map(drop)
            }.await
        })
        .map_err(map_error)
    }

    /// Relays until `shutdown` completes, then gives the lease up.
    ///
    /// A round that fails (the database fails, the broker cannot be
    /// reached) is followed by a pause that grows with each failure in a
    /// row ([`RelayConfig::failure_backoff`], with jitter), and that new
    /// events do not cut short. The relay logs
    /// `relay failing: <error>; retrying with backoff` at the first failure
    /// and `relay recovered after N failed attempts` at the first success,
    /// nothing per attempt in between. While the broker cannot be reached
    /// the relay asks it whether it is ready every
    /// [`RelayConfig::recovery_probe`] instead of publishing, and goes on
    /// at once when it is.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let wake = Arc::clone(self.outbox.wake());
        let mut last_purge = tokio::time::Instant::now();
        let mut backoff = Backoff::new(
            self.config.failure_backoff_first,
            self.config.failure_backoff_max,
        );
        // Set while the last failure was the broker's.
        let mut broker_down = false;
        // Whether the broker saying it is ready ends a pause early: not
        // after a round so started failed again (a broker that answers
        // `ready` but cannot take messages), until it is seen down again.
        let mut trust_ready = true;
        let mut woke_early = false;
        loop {
            let woken = wake.notified();
            let failure = if broker_down && !self.broker_ready().await {
                // Still down: no round, no publication.
                Some((Failure::Broker, None))
            } else {
                match self.round().await {
                    Err(error) => Some((Failure::Storage, Some(error.to_string()))),
                    Ok((report, Some(error))) if report.published == 0 => {
                        Some((Failure::Broker, Some(error)))
                    }
                    Ok((report, _)) => {
                        let failed = backoff.succeed();
                        if failed > 0 {
                            tracing::info!(
                                failed_attempts = failed,
                                "relay recovered after {failed} failed attempts"
                            );
                        }
                        broker_down = false;
                        trust_ready = true;
                        // The count first: whoever sees `failing` cleared
                        // (Acquire) sees the count cleared too.
                        self.health.0.failing_for.store(0, Ordering::Relaxed);
                        self.health.0.failing.store(false, Ordering::Release);
                        let pause = if report.leader
                            && report.read >= self.config.batch_size as usize
                            && report.failed == 0
                        {
                            // More is waiting: go on at once.
                            Duration::ZERO
                        } else if report.leader {
                            self.config.poll_interval
                        } else {
                            self.config.lease_ttl / 3
                        };
                        self.purge_now_and_then(&mut last_purge).await;
                        tokio::select! {
                            biased;
                            () = &mut shutdown => break,
                            () = woken, if !pause.is_zero() => {}
                            () = tokio::time::sleep(pause) => {}
                        }
                        continue;
                    }
                }
            };
            let Some((kind, error)) = failure else {
                continue;
            };
            let pause = backoff.fail();
            if backoff.failures() == 1 {
                let error = error.as_deref().unwrap_or("the broker is not ready");
                tracing::warn!(error, "relay failing: {error}; retrying with backoff");
            }
            broker_down = kind == Failure::Broker;
            if woke_early {
                trust_ready = false;
            }
            self.health
                .0
                .failing_for
                .store(backoff.failures(), Ordering::Relaxed);
            self.health.0.failing.store(true, Ordering::Release);
            self.health.0.failed_rounds.fetch_add(1, Ordering::Relaxed);
            // New events do not end this pause: under a fault every
            // commit would otherwise start a round that fails again.
            let waiting = self.wait_after_failure(pause, broker_down, trust_ready);
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                early = waiting => {
                    woke_early = early;
                    if early {
                        trust_ready = true;
                    }
                }
            }
        }
        if let Err(error) = self.lease.release().await {
            tracing::warn!(error = %error, "the relay lease could not be released");
        }
    }

    /// Waits `pause` after a failed round; when the broker was down,
    /// returns as soon as it is ready (once seen down during the pause
    /// unless `trust_ready`). Whether it returned early.
    async fn wait_after_failure(
        &self,
        pause: Duration,
        broker_down: bool,
        trust_ready: bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + pause;
        if !broker_down {
            tokio::time::sleep_until(deadline).await;
            return false;
        }
        let probe = self.config.recovery_probe;
        let mut seen_down = trust_ready;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + probe)).await;
            if self.broker_ready().await {
                if seen_down {
                    return true;
                }
            } else {
                seen_down = true;
            }
        }
        false
    }

    /// Whether the broker says it is ready, within a second: one that
    /// does not answer by then counts as down.
    async fn broker_ready(&self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(1), self.broker.ready()).await,
            Ok(Ok(()))
        )
    }

    /// Deletes old rows once a minute.
    async fn purge_now_and_then(&self, last_purge: &mut tokio::time::Instant) {
        if last_purge.elapsed() >= Duration::from_secs(60) {
            *last_purge = tokio::time::Instant::now();
            if let Err(error) = self.purge().await {
                tracing::warn!(error = %error, "purging the outbox failed");
            }
        }
    }

    /// Runs the relay on its own task until [`RunningRelay::shutdown`].
    pub fn spawn(self) -> RunningRelay {
        let (stop, mut stopped) = watch::channel(false);
        let health = self.health();
        let grace = self.config.shutdown_grace;
        let task = tokio::spawn(self.run_until(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        RunningRelay {
            stop,
            task,
            health,
            grace,
        }
    }
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("broker", &self.broker.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A relay running on its own task.
#[derive(Debug)]
pub struct RunningRelay {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    health: RelayHealth,
    grace: Duration,
}

impl RunningRelay {
    /// The relay's counters.
    pub fn health(&self) -> &RelayHealth {
        &self.health
    }

    /// Stops the relay after its current round and waits for it, at most
    /// [`RelayConfig::shutdown_grace`]: a round still going then (a broker
    /// or a database that does not answer) is stopped where it is, with a
    /// WARN, so that the process still stops. Nothing is lost: the round's
    /// events stay in the outbox, and the lease, not given up, expires.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        match tokio::time::timeout(self.grace, &mut self.task).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(error = %error, "the outbox relay ended abnormally");
            }
            Err(_) => {
                self.task.abort();
                tracing::warn!(
                    checkpoint_id = "relay-abandoned",
                    grace_ms = u64::try_from(self.grace.as_millis()).unwrap_or(u64::MAX),
                    "the outbox relay's round did not end within its shutdown grace and was \
                     stopped: its events stay in the outbox for the next relay, once this \
                     one's lease expires"
                );
            }
        }
    }
}

fn backoff(config: &RelayConfig, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(31);
    config
        .first_backoff
        .checked_mul(1 << doublings)
        .unwrap_or(config.max_backoff)
        .min(config.max_backoff)
}

/// Whether a publication failed because the broker could not be reached
/// (rather than because it refused the event).
fn is_unreachable(error: &BrokerError) -> bool {
    matches!(
        error,
        BrokerError::Connection { .. } | BrokerError::Timeout { .. }
    )
}

fn no_pool() -> Error {
    Error::internal("the database has no pool")
}

fn pending(c: Columns, now: i64) -> Pending {
    let (id, message_id, queue, key, event_type, transaction_id, headers, payload, attempts, next) =
        c;
    let headers = serde_json::from_str(&headers).unwrap_or_else(|error| {
        tracing::warn!(outbox_id = id, %error, "stored headers are not readable; sending without them");
        Vec::new()
    });
    Pending {
        id,
        queue,
        attempts,
        due: next <= now,
        message: Message {
            id: message_id,
            transaction_id,
            event_type,
            key,
            headers,
            payload: Bytes::from(payload),
        },
    }
}

/// The groups to publish: each keyed event after the earlier ones of its
/// key and queue, up to the first one not due (it holds back the rest);
/// each due unkeyed event alone.
fn publishable(batch: Vec<Pending>) -> Vec<Vec<Pending>> {
    let mut groups: Vec<Vec<Pending>> = Vec::new();
    let mut by_key: HashMap<(String, String), Option<usize>> = HashMap::new();
    for pending in batch {
        let Some(key) = pending.message.key.clone() else {
            if pending.due {
                groups.push(vec![pending]);
            }
            continue;
        };
        let slot = by_key
            .entry((pending.queue.clone(), key))
            .or_insert_with(|| {
                groups.push(Vec::new());
                Some(groups.len() - 1)
            });
        match *slot {
            Some(index) if pending.due => groups[index].push(pending),
            // Blocked: nothing after a waiting event goes before it.
            _ => *slot = None,
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, key: Option<&str>, due: bool) -> Pending {
        let mut message = Message::new(Bytes::new());
        message.key = key.map(str::to_owned);
        Pending {
            id,
            queue: "q".into(),
            attempts: 0,
            due,
            message,
        }
    }

    fn ids(groups: &[Vec<Pending>]) -> Vec<Vec<i64>> {
        groups
            .iter()
            .map(|g| g.iter().map(|p| p.id).collect())
            .collect()
    }

    #[test]
    fn keys_keep_their_order_and_a_waiting_event_holds_back_its_key() {
        let batch = vec![
            event(1, Some("a"), true),
            event(2, Some("b"), false),
            event(3, None, true),
            event(4, Some("a"), true),
            event(5, Some("b"), true),
            event(6, None, false),
            event(7, Some("c"), true),
        ];
        assert_eq!(ids(&publishable(batch)), vec![vec![1, 4], vec![3], vec![7]]);
    }

    #[test]
    fn backoff_doubles_up_to_the_limit() {
        let config =
            RelayConfig::default().backoff(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(backoff(&config, 1), Duration::from_millis(100));
        assert_eq!(backoff(&config, 3), Duration::from_millis(400));
        assert_eq!(backoff(&config, 30), Duration::from_secs(1));
    }
}
