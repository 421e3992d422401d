//! The resilience engine on paused time: exact attempt counts at exact
//! instants, as Dapr's resiliency tests pin them.

// The guard of log captures against tracing's interest cache.
#[path = "support/log_interest.rs"]
mod log_interest;

use std::future::{Future, ready};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bisslog_core::{Ctx, Error, ErrorKind, Trigger, UseCaseError};
use bisslog_messaging::current;
use bisslog_runtime::logging::{BisslogFormat, LogFormat};
use bisslog_runtime::resilience::{
    Attempt, AttemptError, BULKHEAD_FULL, BreakerState, Bulkhead, CIRCUIT_OPEN, CircuitBreaker,
    Deadline, INTERACTION_TIMEOUT, Interaction, Policy, Retry,
};
use futures_util::poll;
use tokio::sync::Semaphore;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn down(code: impl Into<String>) -> Error {
    Error::new(ErrorKind::Connection, code.into(), "the registry is down")
}

fn retry(max_attempts: u32, initial_ms: u64, max_ms: u64, multiplier: f64) -> Retry {
    Retry {
        max_attempts,
        initial_delay: ms(initial_ms),
        max_delay: ms(max_ms),
        multiplier,
        jitter: 0.0,
    }
}

fn retrying(retry: Retry) -> Policy {
    Policy {
        idempotent: true,
        retry: Some(retry),
        ..Policy::default()
    }
}

/// Calls `interaction` once; each attempt answers `answer(number)`.
/// Returns the outcome and when each attempt started, from the call's
/// start.
async fn run<T>(
    interaction: &Interaction,
    answer: impl Fn(u32) -> Result<T, AttemptError>,
) -> (Result<T, Error>, Vec<Duration>) {
    let start = Instant::now();
    let starts = Mutex::new(Vec::new());
    let result = interaction
        .call(|attempt: Attempt| {
            starts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(start.elapsed());
            ready(answer(attempt.number))
        })
        .await;
    (result, starts.into_inner().unwrap_or_default())
}

/// A call whose attempts wait for `gate` to let them through, then
/// succeed; `started` counts the attempts begun.
fn gated<'a>(
    interaction: &'a Interaction,
    gate: &'a Semaphore,
    started: &'a Mutex<u32>,
) -> impl Future<Output = Result<(), Error>> + 'a {
    interaction.call(move |_| async move {
        *started.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        gate.acquire()
            .await
            .map_err(|_| Error::internal("closed"))?
            .forget();
        Ok(())
    })
}

/// Awaits a future that must end without time passing (a refusal, a call
/// let through): a bug that made it wait fails the test instead of hanging
/// it.
async fn at_once<T>(future: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(3_600), future)
        .await
        .unwrap_or_else(|_| panic!("it waited instead of ending at once"));
    assert_eq!(start.elapsed(), Duration::ZERO);
    output
}

fn count(started: &Mutex<u32>) -> u32 {
    *started.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The log lines written while the guard lives, as bisslog's JSON lines.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        log_interest::keep_every_callsite_interesting();
        let logs = Logs::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .event_format(BisslogFormat {
                format: LogFormat::Json,
            })
            .with_writer(move || sink.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        // Other tests of this binary run on other threads without a
        // subscriber; a callsite whose interest was cached while no
        // subscriber was registered would stay silent here (a race of
        // tracing's interest cache with thread-local subscribers): it is
        // computed again with this one in place.
        tracing::callsite::rebuild_interest_cache();
        (logs, guard)
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8(bytes)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    /// The lines with this checkpoint id.
    fn at(&self, checkpoint: &str) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["checkpoint_id"] == checkpoint)
            .collect()
    }

    /// The checkpoint ids starting with `prefix`, in order.
    fn checkpoints(&self, prefix: &str) -> Vec<String> {
        self.lines()
            .iter()
            .filter_map(|line| line["checkpoint_id"].as_str())
            .filter(|id| id.starts_with(prefix))
            .map(str::to_owned)
            .collect()
    }
}

// Retries.

#[tokio::test(start_paused = true)]
async fn three_attempts_with_exactly_the_configured_delays() {
    let (logs, _guard) = Logs::capture();
    let interaction = Interaction::new("registry", retrying(retry(3, 100, 10_000, 2.0)));
    let (result, starts) = run(&interaction, |n| -> Result<(), _> {
        Err(down(format!("down-{n}")).into())
    })
    .await;
    assert_eq!(starts, [ms(0), ms(100), ms(300)]);
    let error = result.err().unwrap_or_else(|| panic!("it never succeeds"));
    assert_eq!(error.kind(), ErrorKind::Connection);
    assert_eq!(
        error.code(),
        "down-3",
        "the last attempt's error, unchanged"
    );
    let retries = logs.at("interaction-retry");
    assert_eq!(retries.len(), 2);
    assert_eq!(retries[0]["attempt"], "2");
    assert_eq!(retries[0]["delay_ms"], "100");
    assert_eq!(retries[1]["attempt"], "3");
    assert_eq!(retries[1]["delay_ms"], "200");
    assert_eq!(retries[1]["error_kind"], "connection");
    assert_eq!(retries[1]["level"], "INFO");
}

#[tokio::test(start_paused = true)]
async fn a_success_ends_the_retries() {
    let interaction = Interaction::new("registry", retrying(retry(5, 100, 10_000, 2.0)));
    let (result, starts) = run(&interaction, |n| {
        if n < 3 {
            Err(down("down").into())
        } else {
            Ok(n)
        }
    })
    .await;
    assert_eq!(result.ok(), Some(3));
    assert_eq!(starts, [ms(0), ms(100), ms(300)]);
}

#[tokio::test(start_paused = true)]
async fn delays_stop_growing_at_the_maximum() {
    let interaction = Interaction::new("registry", retrying(retry(5, 1_000, 3_000, 3.0)));
    let (_, starts) = run(&interaction, |_| -> Result<(), _> {
        Err(down("down").into())
    })
    .await;
    assert_eq!(starts, [ms(0), ms(1_000), ms(4_000), ms(7_000), ms(10_000)]);
}

#[tokio::test(start_paused = true)]
async fn jittered_delays_stay_within_their_bounds() {
    let policy = retrying(Retry {
        jitter: 0.5,
        ..retry(4, 100, 300, 2.0)
    });
    let interaction = Interaction::new("registry", policy);
    // Base delays 100, 200, 300 (capped) ms; ±50 %, never above 300 ms.
    let bounds = [(ms(50), ms(150)), (ms(100), ms(300)), (ms(150), ms(300))];
    let mut first_gaps = Vec::new();
    for _ in 0..40 {
        let (_, starts) = run(&interaction, |_| -> Result<(), _> {
            Err(down("down").into())
        })
        .await;
        assert_eq!(starts.len(), 4);
        for (gap, (low, high)) in starts.windows(2).map(|w| w[1] - w[0]).zip(bounds) {
            // Timers fire on whole milliseconds: a sleep ends up to 1 ms late.
            assert!(
                gap >= low && gap <= high + MS,
                "{gap:?} outside {low:?}..={high:?}"
            );
        }
        first_gaps.push(starts[1]);
    }
    first_gaps.sort();
    first_gaps.dedup();
    assert!(
        first_gaps.len() > 5,
        "jitter spreads the delays: {first_gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_sent_call_is_not_retried_unless_idempotent() {
    let policy = Policy {
        idempotent: false,
        ..retrying(retry(5, 100, 1_000, 2.0))
    };
    let interaction = Interaction::new("registry", policy);
    let (result, starts) = run(&interaction, |_| -> Result<(), _> {
        Err(AttemptError::from(down("down")))
    })
    .await;
    assert_eq!(starts, [ms(0)]);
    assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Connection));
}

#[tokio::test(start_paused = true)]
async fn a_call_not_sent_is_retried_even_when_not_idempotent() {
    let policy = Policy {
        idempotent: false,
        ..retrying(retry(5, 100, 1_000, 2.0))
    };
    let interaction = Interaction::new("registry", policy);
    let (result, starts) = run(&interaction, |n| {
        if n < 3 {
            Err(AttemptError::not_sent(down("refused")))
        } else {
            Ok("stored")
        }
    })
    .await;
    assert_eq!(result.ok(), Some("stored"));
    assert_eq!(starts, [ms(0), ms(100), ms(300)]);
}

#[tokio::test(start_paused = true)]
async fn only_transient_kinds_are_retried() {
    let interaction = Interaction::new("registry", retrying(retry(3, 100, 1_000, 2.0)));
    for kind in [
        ErrorKind::NotFound,
        ErrorKind::InvalidData,
        ErrorKind::Processing,
        ErrorKind::Integrity,
        ErrorKind::Internal,
        ErrorKind::Delivery,
    ] {
        let (result, starts) = run(&interaction, |_| -> Result<(), _> {
            Err(Error::new(kind, "answer", "an answer").into())
        })
        .await;
        assert_eq!(starts, [ms(0)], "{kind}");
        let error = result.err().unwrap_or_else(|| unreachable!());
        assert_eq!((error.kind(), error.code()), (kind, "answer".into()));
    }
    for kind in [
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::Unavailable,
    ] {
        let (_, starts) = run(&interaction, |_| -> Result<(), _> {
            Err(Error::new(kind, "transient", "try later").into())
        })
        .await;
        assert_eq!(starts, [ms(0), ms(100), ms(300)], "{kind}");
    }
}

#[tokio::test(start_paused = true)]
async fn without_a_policy_a_call_is_one_attempt() {
    let interaction = Interaction::new("registry", Policy::default());
    let (result, starts) = run(&interaction, |_| -> Result<(), _> {
        Err(down("down").into())
    })
    .await;
    assert_eq!(starts, [ms(0)]);
    assert_eq!(
        result.err().map(|e| e.code().into_owned()),
        Some("down".into())
    );
    assert_eq!(interaction.breaker_state(), BreakerState::Closed);
}

// Timeouts and deadlines.

#[tokio::test(start_paused = true)]
async fn each_attempt_is_bounded_by_the_timeout() {
    let (logs, _guard) = Logs::capture();
    let policy = Policy {
        timeout: Some(Duration::from_secs(2)),
        ..retrying(retry(2, 100, 1_000, 2.0))
    };
    let interaction = Interaction::new("registry", policy);
    let start = Instant::now();
    let starts = Mutex::new(Vec::new());
    let result: Result<(), Error> = interaction
        .call(|_| {
            starts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(start.elapsed());
            async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(())
            }
        })
        .await;
    assert_eq!(starts.into_inner().unwrap_or_default(), [ms(0), ms(2_100)]);
    assert_eq!(start.elapsed(), ms(4_100));
    let error = result.err().unwrap_or_else(|| unreachable!());
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.code(), INTERACTION_TIMEOUT);
    let warnings = logs.at("interaction-timeout");
    assert_eq!(warnings.len(), 2);
    assert_eq!(warnings[0]["level"], "WARN");
    assert_eq!(warnings[1]["attempt"], "2");

    // An attempt that timed out was sent: not idempotent, not retried.
    let once = Interaction::new(
        "registry",
        Policy {
            timeout: Some(Duration::from_secs(2)),
            idempotent: false,
            retry: Some(retry(3, 100, 1_000, 2.0)),
            ..Policy::default()
        },
    );
    let start = Instant::now();
    let result: Result<(), Error> = once
        .call(|_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
        .await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Timeout));
}

#[tokio::test(start_paused = true)]
async fn no_retry_starts_that_would_end_past_the_use_cases_deadline() {
    let interaction = Interaction::new("registry", retrying(retry(10, 100, 10_000, 2.0)));
    let ctx = Ctx::new("import_schemas", Trigger::Http);
    let start = Instant::now();
    assert!(Deadline::attach(&ctx, start + Duration::from_secs(1)).is_ok());
    let (result, starts) = current::scope(
        ctx,
        run(&interaction, |n| -> Result<(), _> {
            Err(down(format!("down-{n}")).into())
        }),
    )
    .await;
    // 100, 200, 400 ms; the next 800 ms would end at 1.5 s.
    assert_eq!(starts, [ms(0), ms(100), ms(300), ms(700)]);
    assert_eq!(start.elapsed(), ms(700), "it gives up at once");
    assert_eq!(
        result.err().map(|e| e.code().into_owned()),
        Some("down-4".into())
    );
}

#[tokio::test(start_paused = true)]
async fn each_use_case_has_its_own_retries() {
    let interaction = Interaction::new("registry", Policy::default())
        .with_policy_for("import_schemas", retrying(retry(3, 100, 1_000, 2.0)));
    let failing = |_| -> Result<(), AttemptError> { Err(down("down").into()) };
    let in_import = Ctx::new("import_schemas", Trigger::Schedule);
    let (_, starts) = current::scope(in_import, run(&interaction, failing)).await;
    assert_eq!(starts.len(), 3);
    let elsewhere = Ctx::new("get_schema", Trigger::Http);
    let (_, starts) = current::scope(elsewhere, run(&interaction, failing)).await;
    assert_eq!(starts.len(), 1);
    let (_, starts) = run(&interaction, failing).await;
    assert_eq!(
        starts.len(),
        1,
        "outside any use case: the interaction's own"
    );
}

// The circuit breaker.

fn breaker() -> Policy {
    Policy {
        circuit_breaker: Some(CircuitBreaker {
            failure_ratio: 0.5,
            minimum_calls: 4,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(5),
            half_open_calls: 2,
        }),
        ..Policy::default()
    }
}

async fn fail(interaction: &Interaction) -> Error {
    let (result, _) = run(interaction, |_| -> Result<(), _> {
        Err(down("down").into())
    })
    .await;
    result.err().unwrap_or_else(|| unreachable!())
}

async fn succeed(interaction: &Interaction) {
    let (result, _) = run(interaction, |_| Ok(())).await;
    assert!(result.is_ok());
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_fails_fast_probes_and_closes() {
    let (logs, _guard) = Logs::capture();
    let interaction = Interaction::new("registry", breaker());
    let attempts = Mutex::new(0u32);
    let counted = |interaction: &Interaction| {
        let attempts = &attempts;
        let interaction = interaction.clone();
        async move {
            interaction
                .call(|_| {
                    *attempts.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                    ready(Err::<(), _>(AttemptError::from(down("down"))))
                })
                .await
        }
    };
    for _ in 0..3 {
        let error = counted(&interaction).await.err();
        assert_eq!(error.map(|e| e.code().into_owned()), Some("down".into()));
        assert_eq!(interaction.breaker_state(), BreakerState::Closed);
    }
    // The fourth failure: 4 attempts, all failed, ratio 1 >= 0.5.
    counted(&interaction).await.err();
    assert_eq!(interaction.breaker_state(), BreakerState::Open);
    assert_eq!(count(&attempts), 4);

    // Open: five calls fail fast, none reaches the remote, no time passes.
    let start = Instant::now();
    for _ in 0..5 {
        let error = at_once(counted(&interaction))
            .await
            .err()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        assert_eq!(error.code(), CIRCUIT_OPEN);
    }
    assert_eq!(count(&attempts), 4);
    assert_eq!(start.elapsed(), Duration::ZERO);

    // Still open 1 ms before `open_for`; half-open at it.
    tokio::time::advance(Duration::from_secs(5) - MS).await;
    assert_eq!(interaction.breaker_state(), BreakerState::Open);
    assert!(counted(&interaction).await.is_err());
    assert_eq!(count(&attempts), 4);
    tokio::time::advance(MS).await;
    assert_eq!(interaction.breaker_state(), BreakerState::HalfOpen);

    // Exactly two probes go through; a third call fails fast.
    let gate = Semaphore::new(0);
    let started = Mutex::new(0);
    let mut first = pin!(gated(&interaction, &gate, &started));
    let mut second = pin!(gated(&interaction, &gate, &started));
    assert!(poll!(first.as_mut()).is_pending());
    assert!(poll!(second.as_mut()).is_pending());
    assert_eq!(count(&started), 2);
    let third = at_once(gated(&interaction, &gate, &started)).await;
    assert_eq!(
        third.err().map(|e| e.code().into_owned()),
        Some(CIRCUIT_OPEN.into())
    );
    assert_eq!(count(&started), 2);

    // Both probes succeed: closed.
    gate.add_permits(1);
    assert!(at_once(first).await.is_ok());
    assert_eq!(interaction.breaker_state(), BreakerState::HalfOpen);
    gate.add_permits(1);
    assert!(at_once(second).await.is_ok());
    assert_eq!(interaction.breaker_state(), BreakerState::Closed);

    // With an empty window: the four failures of before no longer count.
    for _ in 0..3 {
        fail(&interaction).await;
        assert_eq!(interaction.breaker_state(), BreakerState::Closed);
    }
    fail(&interaction).await;
    assert_eq!(interaction.breaker_state(), BreakerState::Open);

    assert_eq!(
        logs.checkpoints("circuit-"),
        [
            "circuit-opened",
            "circuit-open",
            "circuit-half-open",
            "circuit-open",
            "circuit-closed",
            "circuit-opened"
        ],
        "transitions, and the first refusal of each state"
    );
    let opened = &logs.at("circuit-opened")[0];
    assert_eq!(opened["level"], "WARN");
    assert_eq!(
        (&opened["calls"], &opened["failures"]),
        (&"4".into(), &"4".into())
    );
}

#[tokio::test(start_paused = true)]
async fn the_breaker_judges_the_ratio_over_the_minimum_of_calls() {
    let interaction = Interaction::new("registry", breaker());
    for _ in 0..3 {
        succeed(&interaction).await;
    }
    fail(&interaction).await; // 1 of 4
    fail(&interaction).await; // 2 of 5
    assert_eq!(interaction.breaker_state(), BreakerState::Closed);
    fail(&interaction).await; // 3 of 6: 0.5
    assert_eq!(interaction.breaker_state(), BreakerState::Open);

    // Answers that are not transient count as successes: the remote works.
    let answered = Interaction::new("registry", breaker());
    for _ in 0..10 {
        let (result, _) = run(&answered, |_| -> Result<(), _> {
            Err(Error::not_found("no-schema", "no such schema").into())
        })
        .await;
        assert!(result.is_err());
    }
    assert_eq!(answered.breaker_state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn failures_leave_the_window_after_it() {
    let interaction = Interaction::new("registry", breaker());
    for _ in 0..3 {
        fail(&interaction).await;
    }
    // A window (10 s) later, those three are gone.
    tokio::time::advance(Duration::from_secs(10)).await;
    fail(&interaction).await;
    assert_eq!(interaction.breaker_state(), BreakerState::Closed);
    // 9.999 s after it, that failure still counts: 1 + 3.
    tokio::time::advance(Duration::from_secs(10) - MS).await;
    fail(&interaction).await;
    fail(&interaction).await;
    assert_eq!(interaction.breaker_state(), BreakerState::Closed);
    fail(&interaction).await;
    assert_eq!(interaction.breaker_state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_opens_the_breaker_again() {
    let (logs, _guard) = Logs::capture();
    let interaction = Interaction::new("registry", breaker());
    for _ in 0..4 {
        fail(&interaction).await;
    }
    tokio::time::advance(Duration::from_secs(5)).await;
    let error = fail(&interaction).await;
    assert_eq!(error.code(), "down", "the probe's own failure");
    assert_eq!(interaction.breaker_state(), BreakerState::Open);
    assert_eq!(fail(&interaction).await.code(), CIRCUIT_OPEN);
    // Open for `open_for` again, from the probe's failure.
    tokio::time::advance(Duration::from_secs(5) - MS).await;
    assert_eq!(fail(&interaction).await.code(), CIRCUIT_OPEN);
    tokio::time::advance(MS).await;
    succeed(&interaction).await;
    assert_eq!(interaction.breaker_state(), BreakerState::HalfOpen);
    succeed(&interaction).await;
    assert_eq!(interaction.breaker_state(), BreakerState::Closed);
    let opened = logs.at("circuit-opened");
    assert_eq!(opened.len(), 2);
    assert!(
        opened[1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("a probe failed")),
        "{}",
        opened[1]
    );
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_ends_the_retries() {
    let policy = Policy {
        circuit_breaker: Some(CircuitBreaker {
            minimum_calls: 2,
            ..CircuitBreaker::default()
        }),
        ..retrying(retry(5, 100, 1_000, 2.0))
    };
    let interaction = Interaction::new("registry", policy);
    let (result, starts) = run(&interaction, |_| -> Result<(), _> {
        Err(down("down").into())
    })
    .await;
    // The second failure opens it; the third attempt is refused.
    assert_eq!(starts, [ms(0), ms(100)]);
    assert_eq!(
        result.err().map(|e| e.code().into_owned()),
        Some(CIRCUIT_OPEN.into())
    );
}

// The bulkhead.

fn bulkhead(max_concurrent: u32, max_waiting: u32) -> Policy {
    Policy {
        bulkhead: Some(Bulkhead {
            max_concurrent,
            max_waiting,
        }),
        ..Policy::default()
    }
}

#[tokio::test(start_paused = true)]
async fn the_bulkhead_refuses_exactly_the_excess() {
    let (logs, _guard) = Logs::capture();
    let interaction = Interaction::new("registry", bulkhead(2, 1));
    let gate = Semaphore::new(0);
    let started = Mutex::new(0);
    let mut a = pin!(gated(&interaction, &gate, &started));
    let mut b = pin!(gated(&interaction, &gate, &started));
    let mut c = pin!(gated(&interaction, &gate, &started));
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert!(poll!(c.as_mut()).is_pending(), "the third waits");
    assert_eq!(count(&started), 2);
    for _ in 0..3 {
        let refused = at_once(gated(&interaction, &gate, &started)).await;
        let error = refused.err().unwrap_or_else(|| unreachable!());
        assert_eq!(
            (error.kind(), error.code()),
            (ErrorKind::Unavailable, BULKHEAD_FULL.into())
        );
    }
    assert_eq!(count(&started), 2);
    assert_eq!(logs.at("bulkhead-full").len(), 1, "the first refusal only");

    gate.add_permits(1);
    assert!(at_once(a).await.is_ok());
    assert!(
        poll!(c.as_mut()).is_pending(),
        "the waiting one got the slot"
    );
    assert_eq!(count(&started), 3);
    gate.add_permits(2);
    assert!(at_once(b).await.is_ok() && at_once(c).await.is_ok());
    let mut d = pin!(gated(&interaction, &gate, &started));
    assert!(poll!(d.as_mut()).is_pending(), "the slots are free again");
    assert_eq!(count(&started), 4);
}

#[tokio::test(start_paused = true)]
async fn a_call_waiting_for_its_retry_holds_no_slot() {
    let policy = Policy {
        bulkhead: Some(Bulkhead {
            max_concurrent: 1,
            max_waiting: 0,
        }),
        ..retrying(retry(2, 1_000, 1_000, 2.0))
    };
    let interaction = Interaction::new("registry", policy);
    let mut pending = pin!(run(&interaction, |n| {
        if n == 1 {
            Err(down("down").into())
        } else {
            Ok(n)
        }
    }));
    assert!(poll!(pending.as_mut()).is_pending(), "waiting 1 s to retry");
    let start = Instant::now();
    let (other, _) = run(&interaction, |_| Ok(0)).await;
    assert_eq!(other.ok(), Some(0));
    assert_eq!(start.elapsed(), Duration::ZERO, "it got the slot at once");
    let (result, starts) = pending.await;
    assert_eq!((result.ok(), starts), (Some(2), vec![ms(0), ms(1_000)]));
}

// Cancellation.

#[tokio::test(start_paused = true)]
async fn a_cancelled_call_gives_back_its_slot_and_its_probe() {
    let interaction = Interaction::new("registry", bulkhead(1, 1));
    let gate = Semaphore::new(0);
    let started = Mutex::new(0);
    {
        // The use case's own timeout drops the call in flight.
        let outer =
            tokio::time::timeout(Duration::from_secs(1), gated(&interaction, &gate, &started));
        assert!(outer.await.is_err());
    }
    {
        let mut holder = pin!(gated(&interaction, &gate, &started));
        assert!(poll!(holder.as_mut()).is_pending());
        let mut waiter = pin!(gated(&interaction, &gate, &started));
        assert!(poll!(waiter.as_mut()).is_pending());
        // Dropped while waiting: it leaves the queue.
    }
    let mut holder = pin!(gated(&interaction, &gate, &started));
    assert!(poll!(holder.as_mut()).is_pending(), "the slot is free");
    let mut waiter = pin!(gated(&interaction, &gate, &started));
    assert!(poll!(waiter.as_mut()).is_pending(), "the queue has room");
    assert_eq!(count(&started), 3);

    // A probe cancelled by the use case's timeout frees its place.
    let probed = Interaction::new(
        "registry",
        Policy {
            circuit_breaker: Some(CircuitBreaker {
                half_open_calls: 1,
                ..breaker().circuit_breaker.unwrap_or_default()
            }),
            ..Policy::default()
        },
    );
    for _ in 0..4 {
        fail(&probed).await;
    }
    tokio::time::advance(Duration::from_secs(5)).await;
    let never = Semaphore::new(0);
    let probes = Mutex::new(0);
    let outer = tokio::time::timeout(Duration::from_secs(1), gated(&probed, &never, &probes));
    assert!(outer.await.is_err());
    assert_eq!(count(&probes), 1);
    assert_eq!(probed.breaker_state(), BreakerState::HalfOpen);
    succeed(&probed).await;
    assert_eq!(
        probed.breaker_state(),
        BreakerState::Closed,
        "the next call probed"
    );
}

// Drift.

#[tokio::test(start_paused = true)]
async fn an_undeclared_caller_is_reported_once_per_use_case() {
    let (logs, _guard) = Logs::capture();
    let interaction =
        Interaction::new("registry", Policy::default()).declared_by(["import_schemas"]);
    let same = interaction.clone();
    for use_case in [
        "import_schemas",
        "get_schema",
        "get_schema",
        "audit",
        "get_schema",
    ] {
        let ctx = Ctx::new(use_case, Trigger::Direct);
        let (result, _) = current::scope(ctx, run(&same, |_| Ok(()))).await;
        assert!(result.is_ok());
    }
    let (result, _) = run(&interaction, |_| Ok(())).await;
    assert!(result.is_ok(), "outside any use case: nothing observed");
    assert_eq!(
        interaction.observed_use_cases(),
        ["audit", "get_schema", "import_schemas"]
    );
    let warnings = logs.at("undeclared-interaction");
    let flagged: Vec<&str> = warnings
        .iter()
        .filter_map(|w| w["use_case"].as_str())
        .collect();
    assert_eq!(flagged, ["get_schema", "audit"]);
    assert!(
        warnings
            .iter()
            .all(|w| w["level"] == "WARN" && w["interaction"] == "registry")
    );

    // Nothing declared: nothing checked.
    let unchecked = Interaction::new("mailer", Policy::default());
    let (result, _) = current::scope(
        Ctx::new("audit", Trigger::Direct),
        run(&unchecked, |_| Ok(())),
    )
    .await;
    assert!(result.is_ok());
    assert_eq!(logs.at("undeclared-interaction").len(), 2);
    assert_eq!(unchecked.observed_use_cases(), ["audit"]);
}

#[test]
fn calls_can_be_spawned() {
    fn send<T: Send + 'static>(_: &T) {}
    let interaction = Interaction::new("registry", breaker());
    let call = {
        let interaction = interaction.clone();
        async move {
            interaction
                .call(|_| async { Ok::<_, AttemptError>(1) })
                .await
        }
    };
    send(&call);
    assert_eq!(interaction.keyname(), "registry");
    assert!(interaction.policy().circuit_breaker.is_some());
}
