//! Events per second through a broker: publish a batch, then one
//! subscriber receives and acknowledges each message, either in turn or
//! with up to 64 acknowledgements on their way (as the consumer runner
//! sends them, which lets `SqlBroker` send them together). The durable
//! `SqlBroker` on a SQLite file (WAL, `synchronous=NORMAL`, the embedded
//! default) against the baseline run in the same process, the in-memory
//! `InProcessBroker`.
//!
//! Run with `cargo bench -p bisslog-sql --bench broker` (see
//! `docs/benchmarks.md`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use bisslog_messaging::{Broker, Message, Subscription};
use bisslog_runtime::messaging::InProcessBroker;
use bisslog_sql::SqlBroker;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt as _;

/// Messages per measured round.
const BATCH: u64 = 1_000;

/// Acknowledgements a subscriber has on their way at once in the
/// concurrent case.
const ACKS_IN_FLIGHT: usize = 64;

/// Publishes `count` messages to a fresh queue, then receives and
/// acknowledges them all with one subscriber, in turn or with up to
/// `acks_in_flight` at once; the time it took.
async fn round(broker: &dyn Broker, queue: &str, count: u64, acks_in_flight: usize) -> Duration {
    let started = Instant::now();
    broker.provision(queue).await.unwrap();
    for n in 0..count {
        let payload =
            format!(r#"{{"n":{n},"data":"an event of a typical size, a few fields long"}}"#);
        broker
            .publish(queue, &Message::new(payload.into_bytes()))
            .await
            .unwrap();
    }
    let subscription = Subscription {
        queue: queue.to_owned(),
        consumer: "bench".to_owned(),
        prefetch: 256,
        ack_wait: Duration::from_secs(30),
        provision: true,
        kind: Default::default(),
    };
    let mut deliveries = broker.subscribe(&subscription).await.unwrap();
    let mut acks = futures_util::stream::FuturesUnordered::new();
    for _ in 0..count {
        let delivery = deliveries.next().await.unwrap().unwrap();
        acks.push(delivery.ack());
        if acks.len() >= acks_in_flight {
            acks.next().await.unwrap().unwrap();
        }
    }
    while let Some(acked) = acks.next().await {
        acked.unwrap();
    }
    started.elapsed()
}

fn brokers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let path = std::env::temp_dir().join(format!("bisslog-bench-broker-{}.db", std::process::id()));
    let url = format!("sqlite://{}", path.display());
    let sql = runtime.block_on(SqlBroker::connect(&url)).unwrap();
    let memory = InProcessBroker::new();

    let mut group = c.benchmark_group("publish, consume and ack");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(10);
    let mut queue = 0u64;
    let contenders: [(&str, &dyn Broker, usize); 4] = [
        ("InProcessBroker (baseline), acks in turn", &memory, 1),
        ("SqlBroker on SQLite, acks in turn", &sql, 1),
        (
            "InProcessBroker (baseline), 64 acks in flight",
            &memory,
            ACKS_IN_FLIGHT,
        ),
        (
            "SqlBroker on SQLite, 64 acks in flight",
            &sql,
            ACKS_IN_FLIGHT,
        ),
    ];
    for (name, broker, acks_in_flight) in contenders {
        group.bench_function(name, |b| {
            b.iter_custom(|rounds| {
                let mut total = Duration::ZERO;
                for _ in 0..rounds {
                    queue += 1;
                    let queue = format!("bench.{queue}");
                    total += runtime.block_on(round(broker, &queue, BATCH, acks_in_flight));
                }
                total
            });
        });
    }
    group.finish();
    runtime.block_on(sql.database().close());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

criterion_group!(benches, brokers);
criterion_main!(benches);
