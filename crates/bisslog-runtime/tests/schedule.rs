//! Schedule triggers on tokio's paused clock: a simulated day or month
//! passes at once, and every tick is an exact instant to assert.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bisslog_core::{Ctx, Error, ErrorKind, UseCase};
use bisslog_runtime::Service;
use bisslog_runtime::schedule::{Clock, MemoryTicks, Schedules};
use jiff::Timestamp;

/// Records the tick of each run (and, optionally, takes its time).
#[derive(Clone, Default)]
struct Recorder {
    ticks: Arc<Mutex<Vec<String>>>,
    running: Arc<Mutex<(u32, u32)>>,
    takes: Duration,
    failures_left: Arc<Mutex<u32>>,
    input: Arc<Mutex<Option<serde_json::Value>>>,
}

impl Recorder {
    fn taking(takes: Duration) -> Self {
        Self {
            takes,
            ..Self::default()
        }
    }

    fn ticks(&self) -> Vec<String> {
        self.ticks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn most_at_once(&self) -> u32 {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
    }
}

impl UseCase for Recorder {
    type Input = serde_json::Value;
    type Output = ();
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: serde_json::Value) -> Result<(), Error> {
        *self.input.lock().unwrap_or_else(PoisonError::into_inner) = Some(input);
        {
            let mut failures = self
                .failures_left
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *failures > 0 {
                *failures -= 1;
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    "down",
                    "the store is down",
                ));
            }
        }
        let tick = ctx
            .attribute("scheduled_at")
            .and_then(|t| t.as_str())
            .unwrap_or("?");
        self.ticks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tick.to_owned());
        {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            running.0 += 1;
            running.1 = running.1.max(running.0);
        }
        tokio::time::sleep(self.takes).await;
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0 -= 1;
        Ok(())
    }
}

fn service(options: &str, recorder: &Recorder) -> Service {
    let yaml = format!(
        "name: janitor\nuse_cases:\n  tick:\n    triggers:\n      - type: schedule\n        options: {options}\n"
    );
    let metadata = bisslog_schema::validate_str("metadata.yml", &yaml)
        .into_service()
        .expect("valid metadata");
    Service::builder(metadata)
        .use_case("tick", recorder.clone())
        .build()
        .expect("the service builds")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

async fn pass(span: Duration) {
    tokio::time::sleep(span).await;
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test(start_paused = true)]
async fn every_five_minutes_fires_288_times_a_day() {
    let recorder = Recorder::default();
    let schedules = Schedules::new(service(r#"{cronjob: "*/5 * * * *"}"#, &recorder))
        .clock(Clock::simulated(at("2026-02-28T23:59:30Z"), 1))
        .start()
        .expect("starts");
    pass(DAY).await;
    schedules.shutdown().await;
    let ticks = recorder.ticks();
    assert_eq!(ticks.len(), 288);
    assert_eq!(ticks[0], "2026-03-01T00:00:00Z");
    assert_eq!(ticks[1], "2026-03-01T00:05:00Z");
    assert_eq!(ticks[287], "2026-03-01T23:55:00Z");
}

#[tokio::test(start_paused = true)]
async fn an_aws_cron_in_madrid_fires_at_the_right_instants_across_both_dst_changes() {
    // 02:30 every day, Madrid time: on 29 March 02:30 does not exist (the
    // clock jumps 02:00 → 03:00), on 25 October it happens twice.
    let options = r#"{cronjob: "30 2 * * ? *", timezone: Europe/Madrid}"#;
    let recorder = Recorder::default();
    let schedules = Schedules::new(service(options, &recorder))
        .clock(Clock::simulated(at("2026-03-27T12:00:00Z"), 1))
        .start()
        .expect("starts");
    pass(3 * DAY).await;
    schedules.shutdown().await;
    assert_eq!(
        recorder.ticks(),
        [
            "2026-03-28T01:30:00Z", // 02:30 CET
            "2026-03-29T01:30:00Z", // 03:30 CEST: the skipped 02:30, moved past the gap
            "2026-03-30T00:30:00Z", // 02:30 CEST
        ]
    );

    let recorder = Recorder::default();
    let schedules = Schedules::new(service(options, &recorder))
        .clock(Clock::simulated(at("2026-10-24T12:00:00Z"), 1))
        .start()
        .expect("starts");
    pass(2 * DAY).await;
    schedules.shutdown().await;
    assert_eq!(
        recorder.ticks(),
        [
            "2026-10-25T00:30:00Z", // 02:30 CEST, the first of the two
            "2026-10-26T01:30:00Z", // 02:30 CET
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_static_event_is_the_input() {
    let recorder = Recorder::default();
    let options = r#"{cronjob: "0 0 ? * 1 *", event: {older_than_days: 30, dry_run: false}}"#;
    let schedules = Schedules::new(service(options, &recorder))
        .clock(Clock::simulated(at("2026-11-20T00:00:00Z"), 1))
        .start()
        .expect("starts");
    pass(7 * DAY).await;
    schedules.shutdown().await;
    // AWS day-of-week 1 is Sunday.
    assert_eq!(recorder.ticks(), ["2026-11-22T00:00:00Z"]);
    let input = recorder
        .input
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(
        input,
        Some(serde_json::json!({"older_than_days": 30, "dry_run": false}))
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_skip_runs_one_at_a_time_and_allow_runs_alongside() {
    // Each run takes 7 minutes; ticks every 5.
    let skip = Recorder::taking(Duration::from_secs(7 * 60));
    let schedules = Schedules::new(service(r#"{cronjob: "*/5 * * * *"}"#, &skip))
        .clock(Clock::simulated(at("2026-05-01T00:02:00Z"), 1))
        .start()
        .expect("starts");
    pass(Duration::from_secs(30 * 60)).await;
    schedules.shutdown().await;
    assert_eq!(
        skip.ticks(),
        [
            "2026-05-01T00:05:00Z",
            "2026-05-01T00:15:00Z",
            "2026-05-01T00:25:00Z"
        ]
    );
    assert_eq!(skip.most_at_once(), 1);

    let allow = Recorder::taking(Duration::from_secs(7 * 60));
    let options = r#"{cronjob: "*/5 * * * *", overlap_policy: allow}"#;
    let schedules = Schedules::new(service(options, &allow))
        .clock(Clock::simulated(at("2026-05-01T00:02:00Z"), 1))
        .start()
        .expect("starts");
    pass(Duration::from_secs(30 * 60)).await;
    schedules.shutdown().await;
    assert_eq!(allow.ticks().len(), 6);
    assert_eq!(allow.most_at_once(), 2);
}

/// One process life: starts at `start` on `store`, lives `span`, stops.
async fn live(
    options: &str,
    recorder: &Recorder,
    store: &MemoryTicks,
    start: &str,
    span: Duration,
) {
    let schedules = Schedules::new(service(options, recorder))
        .store(store.clone())
        .clock(Clock::simulated(at(start), 1))
        .start()
        .expect("starts");
    pass(span).await;
    schedules.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn after_downtime_fire_once_runs_once_and_skip_runs_nothing() {
    for (policy, expected) in [
        (
            "fire-once",
            vec![
                "2026-06-01T00:15:00Z",
                "2026-06-01T05:00:00Z",
                "2026-06-01T05:15:00Z",
            ],
        ),
        ("skip", vec!["2026-06-01T00:15:00Z", "2026-06-01T05:15:00Z"]),
    ] {
        let options = format!(r#"{{cronjob: "*/15 * * * *", misfire_policy: {policy}}}"#);
        let recorder = Recorder::default();
        let store = MemoryTicks::new();
        // Up from 00:10 to 00:20: one tick. Down until 05:05: 19 ticks missed.
        live(
            &options,
            &recorder,
            &store,
            "2026-06-01T00:10:00Z",
            10 * 60 * Duration::from_secs(1),
        )
        .await;
        live(
            &options,
            &recorder,
            &store,
            "2026-06-01T05:05:00Z",
            Duration::from_secs(11 * 60),
        )
        .await;
        assert_eq!(recorder.ticks(), expected, "misfire_policy: {policy}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_first_start_has_missed_nothing() {
    let recorder = Recorder::default();
    let options = r#"{cronjob: "0 * * * *", misfire_policy: fire-once}"#;
    live(
        options,
        &recorder,
        &MemoryTicks::new(),
        "2026-06-01T00:30:00Z",
        Duration::from_secs(20 * 60),
    )
    .await;
    assert!(recorder.ticks().is_empty());
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_up_to_max_attempts() {
    let recorder = Recorder::default();
    *recorder
        .failures_left
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = 2;
    let options = r#"{cronjob: "0 * * * *", max_attempts: 3}"#;
    let schedules = Schedules::new(service(options, &recorder))
        .clock(Clock::simulated(at("2026-06-01T00:30:00Z"), 1))
        .start()
        .expect("starts");
    pass(HOUR).await;
    schedules.shutdown().await;
    assert_eq!(recorder.ticks(), ["2026-06-01T01:00:00Z"]);

    // With one attempt, the failure is final for that tick.
    let recorder = Recorder::default();
    *recorder
        .failures_left
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = 1;
    let schedules = Schedules::new(service(r#"{cronjob: "0 * * * *"}"#, &recorder))
        .clock(Clock::simulated(at("2026-06-01T00:30:00Z"), 1))
        .start()
        .expect("starts");
    pass(2 * HOUR).await;
    schedules.shutdown().await;
    assert_eq!(recorder.ticks(), ["2026-06-01T02:00:00Z"]);
}

#[tokio::test(start_paused = true)]
async fn two_schedulers_on_one_store_run_each_tick_once() {
    let recorder = Recorder::default();
    let store = MemoryTicks::new();
    let start = at("2026-06-01T00:00:30Z");
    let first = Schedules::new(service(r#"{cronjob: "* * * * *"}"#, &recorder))
        .store(store.clone())
        .clock(Clock::simulated(start, 1))
        .start()
        .expect("starts");
    let second = Schedules::new(service(r#"{cronjob: "* * * * *"}"#, &recorder))
        .store(store.clone())
        .clock(Clock::simulated(start, 1))
        .start()
        .expect("starts");
    pass(HOUR).await;
    first.shutdown().await;
    second.shutdown().await;
    let ticks = recorder.ticks();
    assert_eq!(ticks.len(), 60);
    let distinct: std::collections::BTreeSet<_> = ticks.iter().collect();
    assert_eq!(distinct.len(), 60);
}
