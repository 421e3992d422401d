//! Events per second through the outbox relay: events stored in a SQLite
//! outbox (the embedded default), then relayed until none is left, to the
//! durable `SqlBroker` on a second SQLite file (the example system's
//! layout) and, as the baseline run in the same process, to the in-memory
//! `InProcessBroker`.
//!
//! Run with `cargo bench -p bisslog-sql --bench relay` (see
//! `docs/benchmarks.md`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bisslog_messaging::{Broker, Message};
use bisslog_runtime::messaging::InProcessBroker;
use bisslog_sql::{Database, Outbox, OutboxRelay, SqlBroker};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Events relayed per measured round.
const EVENTS: u64 = 2_000;

/// Keys the events are spread over (the relay publishes keys side by side).
const KEYS: u64 = 100;

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "bisslog-bench-relay-{}-{name}.db",
        std::process::id()
    ))
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// An outbox in a SQLite file of its own and its relay to `broker`: one
/// relay for the whole run, as it holds the outbox's lease (another would
/// wait for it to run out).
async fn outbox(name: &str, broker: impl Broker) -> (Outbox, OutboxRelay) {
    let path = temp(name);
    remove(&path);
    let db = Database::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    db.migrate(&[]).await.unwrap();
    let outbox = Outbox::new(db);
    let relay = outbox.relay(broker);
    (outbox, relay)
}

/// Stores `EVENTS` events for `queue` (untimed), then relays them all;
/// the time the relaying took.
async fn round(outbox: &Outbox, relay: &OutboxRelay, broker: &dyn Broker, queue: &str) -> Duration {
    broker.provision(queue).await.unwrap();
    for n in 0..EVENTS {
        let payload =
            format!(r#"{{"n":{n},"data":"an event of a typical size, a few fields long"}}"#);
        let mut message = Message::new(payload.into_bytes());
        message.key = Some(format!("key-{}", n % KEYS));
        outbox.store(queue, &message).await.unwrap();
    }
    let started = Instant::now();
    let mut published = 0;
    while published < EVENTS as usize {
        let report = relay.relay_once().await.unwrap();
        assert!(report.leader && report.failed == 0, "{report:?}");
        published += report.published;
    }
    let elapsed = started.elapsed();
    assert_eq!(broker.depth(queue).await.unwrap(), Some(EVENTS));
    elapsed
}

fn relay(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let broker_file = temp("broker");
    remove(&broker_file);
    let memory = InProcessBroker::new();
    let (sql, (memory_outbox, to_memory), (sql_outbox, to_sql)) = runtime.block_on(async {
        let sql = SqlBroker::connect(&format!("sqlite://{}", broker_file.display()))
            .await
            .unwrap();
        let to_memory = outbox("memory", memory.clone()).await;
        let to_sql = outbox("sql", sql.clone()).await;
        (sql, to_memory, to_sql)
    });

    let mut group = c.benchmark_group("outbox relay");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    let mut queue = 0u64;
    let contenders: [(&str, &Outbox, &OutboxRelay, &dyn Broker); 2] = [
        (
            "to InProcessBroker (baseline)",
            &memory_outbox,
            &to_memory,
            &memory,
        ),
        ("to SqlBroker on SQLite", &sql_outbox, &to_sql, &sql),
    ];
    for (name, outbox, relay, broker) in contenders {
        group.bench_function(name, |b| {
            b.iter_custom(|rounds| {
                let mut total = Duration::ZERO;
                for _ in 0..rounds {
                    queue += 1;
                    let queue = format!("bench.{queue}");
                    total += runtime.block_on(round(outbox, relay, broker, &queue));
                }
                total
            });
        });
    }
    group.finish();
    runtime.block_on(async {
        sql.database().close().await;
        memory_outbox.database().close().await;
        sql_outbox.database().close().await;
    });
    for name in ["broker", "memory", "sql"] {
        remove(&temp(name));
    }
}

criterion_group!(benches, relay);
criterion_main!(benches);
