//! Schedule ticks in SQLite and PostgreSQL: the claim rules, and two
//! instances sharing a PostgreSQL database running each tick once.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bisslog_core::{Ctx, Error, NoInput, UseCase};
use bisslog_messaging::{Claim, RunLease, TickStore};
use bisslog_runtime::Service;
use bisslog_runtime::schedule::{Clock, Schedules};
use bisslog_sql::testing::TestDatabase;
use bisslog_sql::{Database, SqlTicks};
use jiff::Timestamp;
use tokio::sync::watch;

fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

async fn migrated(db: &Database) -> SqlTicks {
    db.migrate(&[]).await.expect("the framework tables");
    SqlTicks::new(db.clone())
}

async fn claims_follow_the_rules(test: TestDatabase) {
    let ticks = migrated(&test.database).await;
    let (t1, t2, t3) = (
        at("2026-01-01T00:01:00Z"),
        at("2026-01-01T00:02:00Z"),
        at("2026-01-01T00:03:00Z"),
    );
    let lease = |now: Timestamp, secs: i64| {
        Some(RunLease {
            now,
            until: now + jiff::SignedDuration::from_secs(secs),
        })
    };
    assert_eq!(ticks.last_tick("s").await.unwrap(), None);
    assert_eq!(
        ticks.claim("s", t1, lease(t1, 90)).await.unwrap(),
        Claim::Won
    );
    assert_eq!(
        ticks.claim("s", t1, lease(t1, 90)).await.unwrap(),
        Claim::Taken
    );
    // The run of t1 is still going at t2: skipped, and recorded.
    assert_eq!(
        ticks.claim("s", t2, lease(t2, 90)).await.unwrap(),
        Claim::Busy
    );
    assert_eq!(
        ticks.claim("s", t2, lease(t2, 90)).await.unwrap(),
        Claim::Taken
    );
    assert_eq!(ticks.last_tick("s").await.unwrap(), Some(t2));
    // Overlap allowed: runs whatever is going.
    assert_eq!(
        ticks.claim("other", t1, lease(t1, 600)).await.unwrap(),
        Claim::Won
    );
    assert_eq!(ticks.claim("other", t2, None).await.unwrap(), Claim::Won);
    // The run of t1 ends: t3 runs.
    ticks.finish("s", t1).await.unwrap();
    assert_eq!(
        ticks.claim("s", t3, lease(t3, 90)).await.unwrap(),
        Claim::Won
    );
    // A mark renewed past the next tick keeps it busy; an expired one does not.
    let t4 = at("2026-01-01T00:04:00Z");
    let t5 = at("2026-01-01T00:10:00Z");
    ticks
        .renew("s", t3, t4 + jiff::SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        ticks.claim("s", t4, lease(t4, 90)).await.unwrap(),
        Claim::Busy
    );
    assert_eq!(
        ticks.claim("s", t5, lease(t5, 90)).await.unwrap(),
        Claim::Won
    );
    test.drop_database().await;
}

#[tokio::test]
async fn claims_follow_the_rules_on_sqlite() {
    claims_follow_the_rules(TestDatabase::sqlite().await).await;
}

#[tokio::test]
async fn claims_follow_the_rules_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        claims_follow_the_rules(test).await;
    }
}

/// Records which instance ran which tick, and says how many ran.
#[derive(Clone)]
struct Tick {
    instance: &'static str,
    ran: Arc<Mutex<Vec<(String, &'static str)>>>,
    count: watch::Sender<usize>,
}

impl UseCase for Tick {
    type Input = NoInput;
    type Output = ();
    type Error = Error;

    async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<(), Error> {
        let tick = ctx
            .attribute("scheduled_at")
            .and_then(|t| t.as_str())
            .unwrap_or("?")
            .to_owned();
        let mut ran = self.ran.lock().unwrap_or_else(PoisonError::into_inner);
        ran.push((tick, self.instance));
        self.count.send_replace(ran.len());
        Ok(())
    }
}

fn instance(tick: Tick) -> Service {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: janitor\nuse_cases:\n  tick:\n    triggers:\n      - type: schedule\n        options: {cronjob: \"* * * * *\"}\n",
    )
    .into_service()
    .expect("valid metadata");
    Service::builder(metadata)
        .use_case("tick", tick)
        .build()
        .expect("the service builds")
}

/// Two instances, each with its own pool on one PostgreSQL database, on a
/// clock 600 times as fast (a minute every 100 ms): every tick runs on
/// exactly one of them, and none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_run_each_tick_once() {
    let Some(test) = TestDatabase::postgres().await else {
        return;
    };
    migrated(&test.database).await;
    let ran = Arc::new(Mutex::new(Vec::new()));
    let (count, mut counted) = watch::channel(0);
    let start = at("2026-01-01T00:00:30Z");
    let clock = Clock::simulated(start, 600);
    let mut running = Vec::new();
    for name in ["a", "b"] {
        let db = Database::connect(&test.url).await.expect("a second pool");
        let service = instance(Tick {
            instance: name,
            ran: Arc::clone(&ran),
            count: count.clone(),
        });
        running.push(
            Schedules::new(service)
                .store(SqlTicks::new(db))
                .clock(clock)
                // Real scheduling jitter is magnified 600 times.
                .misfire_grace(Duration::from_secs(3600))
                .start()
                .expect("starts"),
        );
    }
    tokio::time::timeout(Duration::from_secs(60), counted.wait_for(|n| *n >= 30))
        .await
        .expect("30 ticks within a minute")
        .expect("the counter is alive");
    for schedules in running {
        schedules.shutdown().await;
    }
    let ran = ran.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut ticks: Vec<Timestamp> = ran.iter().map(|(t, _)| at(t)).collect();
    ticks.sort();
    let before = ticks.len();
    ticks.dedup();
    assert_eq!(ticks.len(), before, "a tick ran twice: {ran:?}");
    for (i, tick) in ticks.iter().enumerate() {
        let expected = at("2026-01-01T00:01:00Z") + jiff::SignedDuration::from_mins(i as i64);
        assert_eq!(*tick, expected, "a tick is missing: {ran:?}");
    }
    test.drop_database().await;
}
