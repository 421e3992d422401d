//! The scheduler: one task per schedule trigger that sleeps until the next
//! tick, claims it in the tick store and runs the use case.

use std::sync::Arc;
use std::time::Duration;

use bisslog_core::Trigger;
use bisslog_schema::{MisfirePolicy, OverlapPolicy, TriggerKind};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::clock::{Clock, until};
use super::job::{Job, UnknownTimeZone};
use super::memory::MemoryTicks;
use crate::Service;
use crate::mapper::Mapped;
use crate::messaging::RetryPolicy;
use crate::metrics::TickResult;
use crate::trace::{Span, SpanKind, SpanStart, attributes};
use bisslog_messaging::{Claim, RunLease, TickStore};

/// The longest single wait: a wall-clock change is noticed within it.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Serves every schedule trigger of a service.
///
/// Each tick is claimed in a [`TickStore`] before it runs, so that across
/// instances sharing the store each tick runs once; the in-process default
/// ([`MemoryTicks`]) needs no server. See the [module docs](super).
pub struct Schedules {
    service: Service,
    store: Arc<dyn TickStore>,
    clock: Clock,
    misfire_grace: Duration,
    run_lease: Duration,
    retry: RetryPolicy,
    shutdown_grace: Duration,
}

impl Schedules {
    /// The schedules of `service`, with ticks recorded in memory and the
    /// system clock.
    pub fn new(service: Service) -> Self {
        Self {
            service,
            store: Arc::new(MemoryTicks::new()),
            clock: Clock::System,
            misfire_grace: Duration::from_secs(60),
            run_lease: Duration::from_secs(60),
            retry: RetryPolicy {
                max_retries: 0,
                first_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(60),
            },
            shutdown_grace: Duration::from_secs(30),
        }
    }

    /// Records ticks in `store`: a `bisslog_sql::SqlTicks` shared by every
    /// instance makes each tick run once across them.
    #[must_use]
    pub fn store(mut self, store: impl TickStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Reads time from `clock` (a [`Clock::simulated`] one in tests).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How late a tick may be noticed and still run as on time (default one
    /// minute). Later, it is a misfire, handled by the trigger's
    /// `misfire_policy`: the process was suspended or the clock jumped.
    #[must_use]
    pub fn misfire_grace(mut self, grace: Duration) -> Self {
        self.misfire_grace = grace;
        self
    }

    /// How long a running mark holds without renewal (default one minute;
    /// it is renewed every third of that while the run goes on). An
    /// instance that dies mid-run blocks an `overlap_policy: skip`
    /// schedule for at most this long.
    #[must_use]
    pub fn run_lease(mut self, lease: Duration) -> Self {
        self.run_lease = lease.max(Duration::from_millis(3));
        self
    }

    /// The delay before the first retry of a transient failure (when
    /// `max_attempts` allows one) and the longest; it doubles in between.
    #[must_use]
    pub fn retry_delays(mut self, first: Duration, max: Duration) -> Self {
        self.retry.first_delay = first;
        self.retry.max_delay = max.max(first);
        self
    }

    /// How long [`RunningSchedules::shutdown`] waits for runs in progress
    /// (default 30 s).
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// The schedule triggers served, as `(use case, cron expression)`.
    pub fn triggers(&self) -> Vec<(String, String)> {
        self.jobs()
            .iter()
            .filter_map(|job| job.as_ref().ok())
            .map(Job::served)
            .collect()
    }

    fn jobs(&self) -> Vec<Result<Job, UnknownTimeZone>> {
        let mut jobs = Vec::new();
        for (keyname, use_case) in &self.service.metadata().use_cases {
            let Some(handle) = self.service.use_case(keyname) else {
                continue;
            };
            for (position, trigger) in use_case.triggers.iter().enumerate() {
                if let TriggerKind::Schedule(schedule) = &trigger.kind {
                    jobs.push(Job::new(
                        handle.clone(),
                        position,
                        trigger.keyname.as_deref(),
                        schedule,
                    ));
                }
            }
        }
        jobs
    }

    /// Runs one tick of a schedule trigger now, as the scheduler runs it
    /// when the tick comes: the trigger's static `event` as input, the
    /// `scheduled_at` and `attempt` attributes, transient failures retried
    /// up to `max_attempts` after the [retry delays](Self::retry_delays)
    /// on this scheduler's clock. The tick is not claimed in the store, so
    /// overlap and misfire policies do not apply.
    ///
    /// `trigger` is the use case's keyname (its first schedule trigger)
    /// or a trigger's key, `use_case/trigger-keyname` (`use_case/N`, N its
    /// position among the use case's triggers, when it has no keyname).
    /// `at` must be one of the trigger's ticks in its time zone. For tests
    /// (`bisslog_testkit::TestService::tick`) and for running a missed
    /// tick by hand.
    pub async fn run_tick(&self, trigger: &str, at: Timestamp) -> Result<TickRun, TickError> {
        let mut known = Vec::new();
        let mut found = None;
        for job in self.jobs() {
            let job = job?;
            if found.is_none() && (job.key == trigger || job.handle.keyname() == trigger) {
                found = Some(job);
            } else {
                known.push(job.key);
            }
        }
        let Some(job) = found else {
            return Err(TickError::UnknownTrigger {
                trigger: trigger.to_owned(),
                known,
            });
        };
        let previous = at
            .saturating_sub(SignedDuration::from_nanos(1))
            .unwrap_or(at);
        if job.next_after(previous) != Some(at) {
            return Err(TickError::NotATick {
                trigger: job.key.clone(),
                cron: job.cron.as_str().to_owned(),
                at,
                next: job.next_after(at),
            });
        }
        Ok(attempts(&job, &self.retry, &self.clock, at).await)
    }

    /// Starts one task per schedule trigger; it first runs the misfire
    /// policy against the last tick recorded, then waits for each tick.
    pub fn start(self) -> Result<RunningSchedules, UnknownTimeZone> {
        let jobs = self.jobs().into_iter().collect::<Result<Vec<_>, _>>()?;
        let (stop, stopped) = watch::channel(false);
        let (runs, runs_done) = mpsc::channel(1);
        let served = jobs.iter().map(Job::served).collect();
        let shared = Arc::new(Shared {
            store: self.store,
            clock: self.clock,
            misfire_grace: self.misfire_grace,
            run_lease: self.run_lease,
            retry: self.retry,
        });
        let tasks = jobs
            .into_iter()
            .map(|job| {
                tracing::info!(
                    checkpoint_id = "schedule-started",
                    use_case = job.handle.keyname(),
                    "schedule `{}` ({}) serves use case `{}`",
                    job.cron.as_str(),
                    job.time_zone.iana_name().unwrap_or("UTC"),
                    job.handle.keyname()
                );
                tokio::spawn(tick_loop(
                    Arc::new(job),
                    Arc::clone(&shared),
                    stopped.clone(),
                    runs.clone(),
                ))
            })
            .collect();
        Ok(RunningSchedules {
            stop,
            tasks,
            runs_done,
            served,
            shutdown_grace: self.shutdown_grace,
        })
    }
}

/// One tick run by [`Schedules::run_tick`].
#[derive(Debug)]
pub struct TickRun {
    /// How many times the use case ran (more than one when a transient
    /// failure was retried).
    pub attempts: u32,
    /// How the last attempt ended.
    pub outcome: Result<crate::Reply, crate::Failure>,
}

/// Why [`Schedules::run_tick`] ran nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TickError {
    /// No schedule trigger has this use case keyname or key.
    #[error("no schedule trigger is `{trigger}`; the schedule triggers are: {}", list(.known))]
    UnknownTrigger {
        /// What was asked for.
        trigger: String,
        /// The keys of the service's schedule triggers.
        known: Vec<String>,
    },
    /// The instant is not one of the trigger's ticks.
    #[error(
        "{at} is not a tick of `{trigger}` (`{cron}`); the next one is {}",
        next.map_or_else(|| "never".to_owned(), |n| n.to_string())
    )]
    NotATick {
        /// The trigger's key.
        trigger: String,
        /// Its cron expression.
        cron: String,
        /// The instant asked for.
        at: Timestamp,
        /// The trigger's first tick after it.
        next: Option<Timestamp>,
    },
    /// A schedule trigger of the service names an unknown time zone.
    #[error(transparent)]
    UnknownTimeZone(#[from] UnknownTimeZone),
}

fn list(keys: &[String]) -> String {
    if keys.is_empty() {
        return "none".to_owned();
    }
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What every tick loop of one scheduler shares.
struct Shared {
    store: Arc<dyn TickStore>,
    clock: Clock,
    misfire_grace: Duration,
    run_lease: Duration,
    retry: RetryPolicy,
}

/// The schedules, running. Dropping it leaves them running; call
/// [`shutdown`](Self::shutdown).
pub struct RunningSchedules {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Closed once every run in progress has ended: each holds a sender.
    runs_done: mpsc::Receiver<()>,
    served: Vec<(String, String)>,
    shutdown_grace: Duration,
}

impl RunningSchedules {
    /// The schedule triggers served, as `(use case, cron expression)`.
    pub fn served(&self) -> &[(String, String)] {
        &self.served
    }

    /// Stops waiting for ticks, then waits for the runs in progress (up to
    /// the shutdown grace).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        if tokio::time::timeout(self.shutdown_grace, self.runs_done.recv())
            .await
            .is_err()
        {
            tracing::warn!(
                "schedule runs still going after the shutdown grace; they are abandoned"
            );
        }
    }
}

/// Waits for each tick of `job` and fires it, until stopped.
async fn tick_loop(
    job: Arc<Job>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    runs: mpsc::Sender<()>,
) {
    let now = shared.clock.now();
    match shared.store.last_tick(&job.key).await {
        Ok(Some(last)) => {
            if let Some(missed) = job.latest_between(last, now) {
                misfired(
                    &job,
                    &shared,
                    missed,
                    "while no instance was running",
                    &runs,
                )
                .await;
            }
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(use_case = job.handle.keyname(), error = %error,
            "the last tick could not be read; missed ticks are not looked for"),
    }
    let mut after = now;
    loop {
        let Some(tick) = job.next_after(after) else {
            tracing::info!(
                use_case = job.handle.keyname(),
                "schedule `{}` never fires again",
                job.cron.as_str()
            );
            return;
        };
        loop {
            let now = shared.clock.now();
            if now >= tick {
                break;
            }
            tokio::select! {
                () = shared.clock.sleep(until(now, tick).min(LONGEST_WAIT)) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
        if *stop.borrow() {
            return;
        }
        let now = shared.clock.now();
        if until(tick, now) > shared.misfire_grace {
            let latest = job.latest_between(tick, now).unwrap_or(tick);
            misfired(
                &job,
                &shared,
                latest,
                "late (the process was suspended or the clock changed)",
                &runs,
            )
            .await;
            after = now.max(latest);
        } else {
            fire(&job, &shared, tick, &runs).await;
            after = tick;
        }
    }
}

/// Ticks were missed up to `latest`: run once, or not, as the trigger's
/// misfire policy says.
async fn misfired(
    job: &Arc<Job>,
    shared: &Arc<Shared>,
    latest: Timestamp,
    why: &str,
    runs: &mpsc::Sender<()>,
) {
    count_tick(job, TickResult::Misfired, latest);
    match job.misfire {
        MisfirePolicy::Skip => {
            tracing::warn!(checkpoint_id = "schedule-missed", use_case = job.handle.keyname(), tick = %latest,
                "ticks of `{}` up to {latest} were missed {why}; skipped (misfire_policy: skip)", job.key);
            // Recorded, so that the next start-up does not count them again.
            let _ = shared.store.claim(&job.key, latest, None).await;
        }
        MisfirePolicy::FireOnce => {
            tracing::warn!(checkpoint_id = "schedule-missed", use_case = job.handle.keyname(), tick = %latest,
                "ticks of `{}` up to {latest} were missed {why}; running once (misfire_policy: fire-once)", job.key);
            fire(job, shared, latest, runs).await;
        }
    }
}

/// Claims `tick` and, when this instance won it, runs the use case in a
/// task of its own, so the next tick is waited for meanwhile.
async fn fire(job: &Arc<Job>, shared: &Arc<Shared>, tick: Timestamp, runs: &mpsc::Sender<()>) {
    let now = shared.clock.now();
    let lease = (job.overlap == OverlapPolicy::Skip).then(|| RunLease {
        now,
        until: later(now, shared.run_lease),
    });
    match shared.store.claim(&job.key, tick, lease).await {
        Ok(Claim::Won) => {
            count_tick(job, TickResult::Run, tick);
            let (job, shared, run) = (Arc::clone(job), Arc::clone(shared), runs.clone());
            tokio::spawn(async move {
                run_tick(&job, &shared, tick, lease.is_some()).await;
                drop(run);
            });
        }
        Ok(Claim::Taken) => {
            tracing::debug!(use_case = job.handle.keyname(), tick = %tick, "another instance runs this tick");
        }
        Ok(Claim::Busy) => {
            count_tick(job, TickResult::Skipped, tick);
            tracing::warn!(checkpoint_id = "schedule-skipped", use_case = job.handle.keyname(), tick = %tick,
                "tick {tick} of `{}` skipped: the previous run is still going (overlap_policy: skip)", job.key);
        }
        Err(error) => {
            tracing::error!(checkpoint_id = "schedule-failed", use_case = job.handle.keyname(), tick = %tick, error = %error,
                "tick {tick} of `{}` could not be claimed; it does not run here", job.key);
        }
    }
}

/// Runs the use case for one tick, retrying transient failures up to
/// `max_attempts`, keeping the running mark alive meanwhile.
async fn run_tick(job: &Job, shared: &Shared, tick: Timestamp, marked: bool) {
    let attempts = async {
        attempts(job, &shared.retry, &shared.clock, tick).await;
    };
    if marked {
        tokio::select! {
            () = attempts => {}
            () = keep_marked(job, shared, tick) => {}
        }
        if let Err(error) = shared.store.finish(&job.key, tick).await {
            tracing::warn!(use_case = job.handle.keyname(), error = %error,
                "the end of the run could not be recorded; the next ticks wait for the running mark to expire");
        }
    } else {
        attempts.await;
    }
}

/// Opens the "tick {keyname}" span of a tick, the root of a new trace;
/// [`Span::none`] without a tracer.
fn tick_span(job: &Job, tick: Timestamp) -> Span {
    Span::start(job.handle.tracer(), || {
        SpanStart::new(format!("tick {}", job.handle.keyname()), SpanKind::Internal)
            .attribute(attributes::USE_CASE, job.handle.keyname_arc())
            .attribute(attributes::SCHEDULE, job.cron.as_str().to_owned())
            .attribute(attributes::SCHEDULED_TIME, tick.to_string())
    })
}

/// Runs the use case for `tick` until it succeeds, fails for good or has
/// run `max_attempts` times; the last outcome. Every attempt's call is a
/// child of the tick's span.
async fn attempts(job: &Job, retry: &RetryPolicy, clock: &Clock, tick: Timestamp) -> TickRun {
    let mut span = tick_span(job, tick);
    let run = attempts_in(job, retry, clock, tick, span.context()).await;
    if span.is_recording() {
        span.set_attribute(attributes::ATTEMPT, run.attempts);
        match &run.outcome {
            Ok(_) => span.record_outcome(None),
            Err(failure) => {
                let code = failure.code();
                span.record_outcome(Some((failure.kind(), &code, failure)));
            }
        }
    }
    span.end();
    run
}

async fn attempts_in(
    job: &Job,
    retry: &RetryPolicy,
    clock: &Clock,
    tick: Timestamp,
    parent: Option<&bisslog_core::TraceContext>,
) -> TickRun {
    let input = Mapped::Owned((*job.input).clone());
    let mut attempt = 1;
    loop {
        let ctx = job
            .handle
            .ctx_builder(Trigger::Schedule)
            .maybe_trace_parent(parent.cloned())
            .attribute("scheduled_at", tick.to_string())
            .attribute("attempt", attempt)
            .build();
        let outcome = job.handle.call(ctx, &input).await;
        match &outcome {
            Ok(_) => {
                tracing::info!(checkpoint_id = "schedule-ran", use_case = job.handle.keyname(), tick = %tick, attempt,
                    "tick {tick} of `{}` ran", job.key);
            }
            Err(failure) if failure.kind().is_transient() && attempt < job.max_attempts => {
                let delay = retry.delay(attempt);
                tracing::warn!(use_case = job.handle.keyname(), tick = %tick, attempt, error = %failure,
                    delay_ms = delay.as_millis() as u64, "tick {tick} of `{}` failed; retrying", job.key);
                clock.sleep(delay).await;
                attempt += 1;
                continue;
            }
            Err(failure) => {
                tracing::error!(checkpoint_id = "schedule-failed", use_case = job.handle.keyname(), tick = %tick, attempt,
                    error = %failure, "tick {tick} of `{}` failed", job.key);
            }
        }
        return TickRun {
            attempts: attempt,
            outcome,
        };
    }
}

/// Renews the running mark every third of the lease; never completes.
async fn keep_marked(job: &Job, shared: &Shared, tick: Timestamp) {
    loop {
        shared.clock.sleep(shared.run_lease / 3).await;
        let until = later(shared.clock.now(), shared.run_lease);
        if let Err(error) = shared.store.renew(&job.key, tick, until).await {
            tracing::warn!(use_case = job.handle.keyname(), error = %error,
                "the running mark could not be renewed; another instance may start the next tick meanwhile");
        }
    }
}

/// Counts a tick in the service's metrics, if it has them. Ticks are rare:
/// the series are looked up each time rather than kept.
fn count_tick(job: &Job, result: TickResult, tick: Timestamp) {
    if let Some(metrics) = job.handle.metrics() {
        let seconds = tick.as_millisecond() as f64 / 1000.0;
        metrics.schedule(job.handle.keyname()).tick(result, seconds);
    }
}

fn later(now: Timestamp, span: Duration) -> Timestamp {
    let span = SignedDuration::try_from(span).unwrap_or(SignedDuration::MAX);
    now.saturating_add(span).unwrap_or(Timestamp::MAX)
}
