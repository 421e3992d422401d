//! The unit of work, the outbox, its relay and the inbox, on real SQLite
//! files and real PostgreSQL databases, relaying to the in-process broker.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bisslog_core::{Ctx, Error, ErrorKind, Event, Publisher, Trigger, UseCase, UseCaseError as _};
use bisslog_messaging::{Broker, Message};
use bisslog_messaging::{UnitOfWork, current, work};
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::messaging::{ConsumerConfig, Consumers, InProcessBroker};
use bisslog_runtime::{BuildProblem, MemoryInbox, Service};
use bisslog_sql::testing::TestDatabase;
use bisslog_sql::{Database, Migration, Outbox, RelayConfig, map_error, on_engine};
use serde::Deserialize;

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "things",
    sqlite: "CREATE TABLE things (n INTEGER PRIMARY KEY)",
    postgres: "CREATE TABLE things (n BIGINT PRIMARY KEY)",
}];

const METADATA: &str = "
name: things
use_cases:
  add_thing:
    name: add thing
    external_interactions:
      - keyname: store
        type_interaction: database
      - keyname: events
        type_interaction: publisher
    triggers:
      - type: http
        options: {method: post, path: /things}
      - type: consumer
        options:
          queue: things.add
          dead_letter_queue: things.add.dlq
          delivery_semantic: exactly-once
          max_retries: 3
          retry_delay: 0
          batch_size: 4
";

#[derive(Deserialize, schemars::JsonSchema)]
struct Input {
    n: i64,
    #[serde(default)]
    fail: bool,
    #[serde(default)]
    fail_first: bool,
    /// Never finishes its first attempt, after its write and its publish.
    #[serde(default)]
    hang_first: bool,
}

/// Inserts a row, publishes an event, and then fails when asked to: the
/// failure must undo both.
struct AddThing {
    db: Database,
    events: Outbox,
    attempts: Arc<std::sync::Mutex<Vec<i64>>>,
}

impl UseCase for AddThing {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<(), Error> {
        let first = {
            let mut attempts = self.attempts.lock().unwrap();
            let first = !attempts.contains(&input.n);
            attempts.push(input.n);
            first
        };
        let mut session = self.db.begin().await?;
        on_engine!(session.connection()?, conn => {
            sqlx::query("INSERT INTO things (n) VALUES ($1)").bind(input.n).execute(conn).await.map(drop)
        })
        .map_err(map_error)?;
        session.commit().await?;
        self.events
            .publish("things.added", Event::json(&input.n)?.with_key("things"))
            .await?;
        if input.hang_first && first {
            std::future::pending::<()>().await;
        }
        if input.fail || (input.fail_first && first) {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "flaky",
                "failing after the writes",
            ));
        }
        Ok(())
    }
}

async fn migrated(test: &TestDatabase) -> Database {
    test.database.migrate(MIGRATIONS).await.unwrap();
    test.database.clone()
}

fn service(db: &Database, outbox: &Outbox) -> (Service, Arc<std::sync::Mutex<Vec<i64>>>) {
    service_of(METADATA, db, outbox)
}

fn service_of(
    metadata: &str,
    db: &Database,
    outbox: &Outbox,
) -> (Service, Arc<std::sync::Mutex<Vec<i64>>>) {
    let metadata = bisslog_schema::validate_str("things.yml", metadata)
        .into_service()
        .unwrap();
    let attempts = Arc::default();
    let service = Service::builder(metadata)
        .use_case(
            "add_thing",
            AddThing {
                db: db.clone(),
                events: outbox.clone(),
                attempts: Arc::clone(&attempts),
            },
        )
        .adapter("store", db.clone())
        .adapter("events", outbox.clone())
        .unit_of_work(db.clone())
        .build()
        .unwrap();
    (service, attempts)
}

async fn rows(db: &Database) -> BTreeSet<i64> {
    let rows: Vec<i64> = on_engine!(db.pool(), pool => {
        sqlx::query_scalar("SELECT n FROM things").fetch_all(pool).await
    })
    .unwrap();
    rows.into_iter().collect()
}

/// Drains the outbox through a relay until nothing is pending.
async fn relay_all(outbox: &Outbox, broker: &InProcessBroker) {
    broker.provision("things.added").await.unwrap();
    let relay = outbox
        .relay(broker.clone())
        .config(RelayConfig::default().lease_ttl(Duration::from_secs(5)));
    for _ in 0..1000 {
        if outbox.pending().await.unwrap() == 0 {
            return;
        }
        relay.relay_once().await.unwrap();
    }
    panic!("the outbox did not drain");
}

fn published(broker: &InProcessBroker) -> Vec<i64> {
    broker
        .messages("things.added")
        .iter()
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .collect()
}

/// 1,000 calls, one in five failing after its write and its publish:
/// exactly the committed rows are published, in commit order.
async fn events_commit_and_roll_back_with_the_data(test: TestDatabase) {
    let db = migrated(&test).await;
    let outbox = Outbox::new(db.clone());
    let (service, _) = service(&db, &outbox);
    let add = service.use_case("add_thing").unwrap().clone();
    let calls = (0..1000i64).map(|n| {
        let add = add.clone();
        async move {
            let input = Mapped::Owned(serde_json::json!({"n": n, "fail": n % 5 == 0}));
            let outcome = add
                .call(Ctx::new("add_thing", Trigger::Direct), &input)
                .await;
            assert_eq!(outcome.is_ok(), n % 5 != 0, "call {n}");
        }
    });
    // Eight at a time: concurrent units of work on one database.
    futures_util::StreamExt::collect::<Vec<()>>(futures_util::StreamExt::buffer_unordered(
        futures_util::stream::iter(calls),
        8,
    ))
    .await;
    let committed = rows(&db).await;
    assert_eq!(committed.len(), 800);
    let broker = InProcessBroker::new();
    relay_all(&outbox, &broker).await;
    let events = published(&broker);
    assert_eq!(events.len(), 800, "one event per committed row");
    assert_eq!(events.iter().copied().collect::<BTreeSet<_>>(), committed);
    test.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_commit_and_roll_back_with_the_data_on_sqlite() {
    events_commit_and_roll_back_with_the_data(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_commit_and_roll_back_with_the_data_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        events_commit_and_roll_back_with_the_data(test).await;
    }
}

/// Publishes `n` inside a unit of work of its own, left open.
async fn open_work_publishing(
    db: &Database,
    outbox: &Outbox,
    n: i64,
) -> Arc<dyn bisslog_messaging::Work> {
    let begun = UnitOfWork::begin(db);
    let ctx = Ctx::new("manual", Trigger::Direct);
    work::attach(&ctx, Arc::clone(&begun)).ok().unwrap();
    let event = Event::json(&n).unwrap().with_key("k");
    current::scope(ctx, outbox.publish("things.added", event))
        .await
        .unwrap();
    begun
}

/// Four transactions write to the outbox in one order and commit in
/// another; the relay runs between the commits. None is skipped, and the
/// one rolled back is never published. (PostgreSQL only: SQLite has one
/// writer at a time, so its transactions cannot commit out of order.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_committing_out_of_order_are_all_relayed() {
    let Some(test) = TestDatabase::postgres().await else {
        return;
    };
    let db = migrated(&test).await;
    let outbox = Outbox::new(db.clone());
    let broker = InProcessBroker::new();
    broker.provision("things.added").await.unwrap();
    let relay = outbox.relay(broker.clone());
    let w1 = open_work_publishing(&db, &outbox, 1).await;
    let w2 = open_work_publishing(&db, &outbox, 2).await;
    let w3 = open_work_publishing(&db, &outbox, 3).await;
    let w4 = open_work_publishing(&db, &outbox, 4).await;
    w2.commit().await.unwrap();
    relay.relay_once().await.unwrap();
    assert_eq!(published(&broker), [2]);
    w4.commit().await.unwrap();
    w3.rollback().await.unwrap();
    relay.relay_once().await.unwrap();
    w1.commit().await.unwrap();
    relay.relay_once().await.unwrap();
    relay.relay_once().await.unwrap();
    assert_eq!(published(&broker), [2, 4, 1]);
    assert_eq!(outbox.pending().await.unwrap(), 0);
    test.drop_database().await;
}

/// An event that cannot be published holds back its key, is listed as
/// stuck with its error, and goes out when re-driven; others keep flowing.
async fn stuck_events_are_listed_and_redriven(test: TestDatabase) {
    let db = migrated(&test).await;
    let outbox = Outbox::new(db.clone());
    let broker = InProcessBroker::new();
    broker.provision("open").await.unwrap();
    let relay = outbox.relay(broker.clone()).config(
        RelayConfig::default()
            .backoff(Duration::from_secs(3600), Duration::from_secs(3600))
            .lease_ttl(Duration::from_secs(30)),
    );
    let mut provisioning_off = relay;
    // A queue the broker refuses (never provisioned, provisioning off).
    provisioning_off = provisioning_off.config({
        let mut config =
            RelayConfig::default().backoff(Duration::from_secs(3600), Duration::from_secs(3600));
        config.provision = false;
        config
    });
    let keyed = |n: i64| Message {
        key: Some("k".into()),
        ..Message::new(serde_json::to_vec(&n).unwrap())
    };
    outbox.store("closed", &keyed(1)).await.unwrap();
    outbox.store("closed", &keyed(2)).await.unwrap();
    outbox.store("open", &keyed(3)).await.unwrap();
    let report = provisioning_off.relay_once().await.unwrap();
    assert_eq!((report.published, report.failed), (1, 1));
    // What the metrics read: counted so far, and the backlog left.
    let health = provisioning_off.health();
    assert_eq!((health.published(), health.publish_failures()), (1, 1));
    let (pending, oldest) = health.backlog();
    assert_eq!(pending, 2, "both `closed` events wait");
    assert!(oldest.is_some_and(|ms| ms > 0));
    assert_eq!(
        broker.messages("open").len(),
        1,
        "another queue's key flows"
    );
    let stuck = outbox.stuck(10).await.unwrap();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].queue, "closed");
    assert_eq!(stuck[0].attempts, 1);
    assert!(
        stuck[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("does not exist")
    );
    // Nothing is due until re-driven; the second `closed` event waits
    // behind the first.
    let report = provisioning_off.relay_once().await.unwrap();
    assert_eq!((report.published, report.failed), (0, 0));
    broker.provision("closed").await.unwrap();
    assert!(outbox.redrive(stuck[0].id).await.unwrap());
    assert!(!outbox.redrive(i64::MAX).await.unwrap());
    provisioning_off.relay_once().await.unwrap();
    let order: Vec<i64> = broker
        .messages("closed")
        .iter()
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .collect();
    assert_eq!(order, [1, 2], "in order, once unblocked");
    assert!(outbox.stuck(10).await.unwrap().is_empty());
    assert_eq!(health.published(), 3);
    assert_eq!(health.backlog(), (0, None));
    test.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_events_are_listed_and_redriven_on_sqlite() {
    stuck_events_are_listed_and_redriven(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_events_are_listed_and_redriven_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        stuck_events_are_listed_and_redriven(test).await;
    }
}

/// Two relays share the lease: one publishes, the other stands by, and
/// takes over once the first stops renewing.
async fn one_relay_at_a_time(test: TestDatabase) {
    let db = migrated(&test).await;
    let outbox = Outbox::new(db.clone());
    let broker = InProcessBroker::new();
    broker.provision("q").await.unwrap();
    let config = RelayConfig::default().lease_ttl(Duration::from_millis(300));
    let first = outbox.relay(broker.clone()).config(config.clone());
    let second = outbox.relay(broker.clone()).config(config);
    outbox.store("q", &Message::new(&b"1"[..])).await.unwrap();
    assert!(first.relay_once().await.unwrap().leader);
    outbox.store("q", &Message::new(&b"2"[..])).await.unwrap();
    let standby = second.relay_once().await.unwrap();
    assert!(!standby.leader);
    assert_eq!(standby.published, 0);
    // The first stops renewing; after its lease runs out, the second leads.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let report = second.relay_once().await.unwrap();
        if report.leader {
            assert_eq!(report.published, 1);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no takeover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(broker.messages("q").len(), 2);
    test.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_relay_at_a_time_on_sqlite() {
    one_relay_at_a_time(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_relay_at_a_time_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        one_relay_at_a_time(test).await;
    }
}

/// Consumes `messages` on `things.add` with `service`'s consumer trigger
/// (retries without delay) until the queue is idle (at most 20 s), then
/// stops the consumers; the broker, for what it holds.
async fn consume(service: Service, messages: &[Message]) -> InProcessBroker {
    let broker = InProcessBroker::new();
    let running = Consumers::new(service, broker.clone())
        .config(ConsumerConfig::default().retry_delays(Duration::ZERO, Duration::ZERO))
        .start()
        .await
        .unwrap();
    for message in messages {
        broker.publish("things.add", message).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(20), broker.idle("things.add"))
        .await
        .expect("the messages were not processed");
    running.shutdown().await;
    broker
}

/// An exactly-once consumer keeps its inbox in the database: a message
/// delivered three times has one effect, and a call that fails after
/// writing leaves neither its row nor its inbox entry, so the retry runs.
async fn the_inbox_absorbs_redeliveries(test: TestDatabase) {
    let db = migrated(&test).await;
    let outbox = Outbox::new(db.clone());
    let (service, attempts) = service(&db, &outbox);
    let once = Message::new(&br#"{"n": 1}"#[..]);
    let flaky = Message::new(&br#"{"n": 2, "fail_first": true}"#[..]);
    let broker = consume(service, &[once.clone(), once.clone(), once, flaky]).await;
    assert_eq!(rows(&db).await, BTreeSet::from([1, 2]));
    let runs = attempts.lock().unwrap().clone();
    assert_eq!(
        runs.iter().filter(|n| **n == 1).count(),
        1,
        "the redeliveries never ran: {runs:?}"
    );
    assert_eq!(
        runs.iter().filter(|n| **n == 2).count(),
        2,
        "the failed attempt was retried: {runs:?}"
    );
    assert!(broker.messages("things.add.dlq").is_empty());
    // Only the committed calls' events are in the outbox.
    assert_eq!(outbox.pending().await.unwrap(), 2);
    test.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_absorbs_redeliveries_on_sqlite() {
    the_inbox_absorbs_redeliveries(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_absorbs_redeliveries_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        the_inbox_absorbs_redeliveries(test).await;
    }
}

/// A consumer call past its `timeout` is cancelled inside its unit of
/// work: its row, its event and its inbox entry are rolled back and the
/// database is free at once (on SQLite the write lock is released), so the
/// retry runs and commits.
async fn a_call_cancelled_by_its_timeout_leaves_nothing_behind(test: TestDatabase) {
    let db = migrated(&test).await;
    let outbox = Outbox::new(db.clone());
    let metadata = METADATA.replace("batch_size: 4", "batch_size: 4\n          timeout: 500");
    let (service, attempts) = service_of(&metadata, &db, &outbox);
    let started = std::time::Instant::now();
    let hanging = Message::new(&br#"{"n": 3, "hang_first": true}"#[..]);
    let broker = consume(service, &[hanging]).await;
    assert!(started.elapsed() >= Duration::from_millis(500));
    let runs = attempts.lock().unwrap().clone();
    assert_eq!(runs, [3, 3], "cancelled once, then run again");
    assert_eq!(rows(&db).await, BTreeSet::from([3]));
    assert!(broker.messages("things.add.dlq").is_empty());
    // Only the retry's event: the cancelled call's went with its row.
    assert_eq!(outbox.pending().await.unwrap(), 1);
    test.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_by_its_timeout_leaves_nothing_behind_on_sqlite() {
    a_call_cancelled_by_its_timeout_leaves_nothing_behind(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_by_its_timeout_leaves_nothing_behind_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        a_call_cancelled_by_its_timeout_leaves_nothing_behind(test).await;
    }
}

/// A write outside a use case's unit of work is refused, never committed
/// on its own; a transaction of its own is asked for by name; inside a
/// call, reads see the call's own uncommitted writes.
async fn sessions_join_the_call(test: TestDatabase) {
    let db = migrated(&test).await;
    let outside = db.begin().await.unwrap_err();
    assert_eq!(outside.code(), "outside-unit-of-work");
    let no_work = current::scope(Ctx::new("no_work", Trigger::Direct), async {
        db.begin().await.unwrap_err()
    })
    .await;
    assert_eq!(no_work.code(), "outside-unit-of-work");
    assert!(no_work.to_string().contains("`no_work`"), "{no_work}");
    // An event published by a call with no unit of work would go out even
    // if the call failed: refused too. Outside any call it is stored.
    let outbox = Outbox::new(db.clone());
    let refused = current::scope(Ctx::new("no_work", Trigger::Direct), async {
        outbox
            .store("q", &Message::new(&b"1"[..]))
            .await
            .unwrap_err()
    })
    .await;
    assert_eq!(refused.code(), "outside-unit-of-work");
    outbox.store("q", &Message::new(&b"2"[..])).await.unwrap();

    let mut own = db.transaction().await.unwrap();
    assert!(!own.is_joined());
    on_engine!(own.connection().unwrap(), conn => {
        sqlx::query("INSERT INTO things (n) VALUES (10)").execute(conn).await.map(drop)
    })
    .unwrap();
    drop(own); // rolled back
    assert!(rows(&db).await.is_empty());

    let work = UnitOfWork::begin(&db);
    let ctx = Ctx::new("manual", Trigger::Direct);
    work::attach(&ctx, Arc::clone(&work)).ok().unwrap();
    let seen = current::scope(ctx, async {
        let reader = db.reader().await.unwrap();
        assert!(!reader.is_joined(), "reads open no transaction");
        drop(reader);
        let mut writer = db.begin().await.unwrap();
        assert!(writer.is_joined());
        on_engine!(writer.connection().unwrap(), conn => {
            sqlx::query("INSERT INTO things (n) VALUES (11)").execute(conn).await.map(drop)
        })
        .unwrap();
        writer.commit().await.unwrap();
        let mut reader = db.reader().await.unwrap();
        assert!(reader.is_joined(), "reads see the call's writes");
        on_engine!(reader.connection().unwrap(), conn => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM things").fetch_one(conn).await
        })
        .unwrap()
    })
    .await;
    assert_eq!(seen, 1);
    work.commit().await.unwrap();
    assert_eq!(rows(&db).await, BTreeSet::from([11]));
    let again = work.commit().await.unwrap_err();
    assert_eq!(
        bisslog_core::UseCaseError::kind(&again),
        ErrorKind::Internal
    );
    test.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_join_the_call_on_sqlite() {
    sessions_join_the_call(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_join_the_call_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        sessions_join_the_call(test).await;
    }
}

/// Waits, at most five seconds, until `queue` holds `count` messages.
async fn published_within_seconds(broker: &InProcessBroker, queue: &str, count: usize) -> bool {
    tokio::time::timeout(Duration::from_secs(5), async {
        while broker.messages(queue).len() < count {
            tokio::task::yield_now().await;
        }
    })
    .await
    .is_ok()
}

/// Two `Outbox::new` of one database (one for the use cases, one for the
/// relay) behave as one: an event stored through the first wakes the
/// relay built from the second, long before its poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_hears_every_outbox_of_its_database() {
    let test = TestDatabase::sqlite().await;
    let db = migrated(&test).await;
    let for_use_cases = Outbox::new(db.clone());
    let for_relay = Outbox::new(db.clone());
    let broker = InProcessBroker::new();
    broker.provision("things.added").await.unwrap();
    let message = |n: i64| Message::from_event(&Event::json(&n).unwrap());
    // Relayed by the first round: once it is out, the relay is between
    // rounds, waiting for a wake-up or its (hour-long) poll. (Stored
    // through the use cases' outbox: one stored through the relay's own
    // would leave a wake-up pending, a second round, and hide the bug.)
    for_use_cases
        .store("things.added", &message(1))
        .await
        .unwrap();
    let relay = for_relay
        .relay(broker.clone())
        .config(RelayConfig::default().poll_interval(Duration::from_secs(3600)))
        .spawn();
    assert!(published_within_seconds(&broker, "things.added", 1).await);
    // Outside any call: committed at once.
    for_use_cases
        .store("things.added", &message(2))
        .await
        .unwrap();
    assert!(
        published_within_seconds(&broker, "things.added", 2).await,
        "the relay waited for its poll"
    );
    assert_eq!(published(&broker), [1, 2]);
    relay.shutdown().await;
    test.drop_database().await;
}

/// A service that publishes through the outbox must run its calls in the
/// outbox database's unit of work: without it (or with another pool's),
/// `build()` refuses it, naming the adapter; with it, it builds.
#[tokio::test]
async fn an_outbox_needs_its_database_as_the_unit_of_work() {
    let test = TestDatabase::sqlite().await;
    let db = migrated(&test).await;
    let outbox = Outbox::new(db.clone());
    let builder = || {
        let metadata = bisslog_schema::validate_str("things.yml", METADATA)
            .into_service()
            .unwrap();
        let attempts = Arc::new(std::sync::Mutex::new(Vec::new()));
        Service::builder(metadata)
            .use_case(
                "add_thing",
                AddThing {
                    db: db.clone(),
                    events: outbox.clone(),
                    attempts,
                },
            )
            .adapter("store", db.clone())
            .adapter("events", outbox.clone())
    };
    let refused = |error: bisslog_runtime::BuildError| {
        error
            .problems
            .into_iter()
            .find_map(|problem| match problem {
                BuildProblem::AdapterWithoutItsUnitOfWork {
                    keyname,
                    configured,
                    ..
                } => Some((keyname, configured)),
                _ => None,
            })
    };
    let (keyname, configured) = refused(builder().build().unwrap_err()).unwrap();
    assert_eq!((keyname.as_str(), configured), ("events", None));
    let (keyname, _) = refused(
        builder()
            .unit_of_work(MemoryInbox::new())
            .build()
            .unwrap_err(),
    )
    .unwrap();
    assert_eq!(keyname, "events");
    // A second pool over the same file is another unit of work: the
    // outbox could not join it.
    let other_pool = Database::connect(&test.url).await.unwrap();
    let error = builder().unit_of_work(other_pool).build().unwrap_err();
    assert!(refused(error).is_some());
    builder().unit_of_work(db.clone()).build().unwrap();
    test.drop_database().await;
}
