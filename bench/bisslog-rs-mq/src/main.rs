//! The bench harness's message consumer served by bisslog-rs, wired as a
//! user would: metadata with a consumer trigger on the harness's subject,
//! a plain-Rust use case, and the consumer runner on a broker adapter.
//!
//! A message `{"a": i, "b": 1, "c": 2}` is decoded into the use case's
//! input and summed; success acknowledges it.
//!
//! Environment:
//!   BROKER    `nats` (default), `amqp`, `redis` or `kafka`
//!   NATS_URL  default nats://127.0.0.1:14222 (the harness's server)
//!   AMQP_URL  default amqp://guest:guest@127.0.0.1:15680/%2f
//!   REDIS_URL default redis://127.0.0.1:16390/0 (bench/redis-compare.py's
//!             server); its query takes bisslog-redis's settings
//!             (`?read_batch=256`)
//!   KAFKA_URL default kafka://127.0.0.1:9092 (bench/kafka-compare.py
//!             passes its mock cluster's); its query takes bisslog-kafka's
//!             settings
//!   SUBJECT   the queue consumed, default `bench.add`
//!   PREFETCH  messages a broker may hand the consumer ahead (default:
//!             the runtime's, twice the concurrency and at least 128)
//!   CONCURRENCY messages in flight (default: the runtime's, 16)
//!   INBOX     `1`: `delivery_semantic: exactly-once`, the inbox in a
//!             fresh SQLite file (INBOX_DB, default
//!             $BENCH_WORK/bisslog-rs-inbox.db); otherwise at-least-once
//!             without one
//!   INBOX_GROUP_COMMIT  `N`: the inbox's database with `?group_commit=N`
//!             (units of work share transactions of up to N; 0: a
//!             transaction each); unset, the default (64)
//! Runs until SIGTERM, then stops gracefully.
use std::sync::atomic::{AtomicI64, Ordering};

use bisslog_core::{Ctx, Error, UseCase};
use bisslog_messaging::Broker;
use bisslog_runtime::Service;
use bisslog_runtime::messaging::Consumers;
use serde::Deserialize;

const METADATA: &str = include_str!("../metadata.yml");

#[derive(Deserialize, schemars::JsonSchema)]
struct AddEvent {
    a: i64,
    b: i64,
    c: i64,
}

static SUM: AtomicI64 = AtomicI64::new(0);

struct AddNumbers;

impl UseCase for AddNumbers {
    type Input = AddEvent;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, input: AddEvent) -> Result<(), Error> {
        SUM.fetch_add(input.a + input.b + input.c, Ordering::Relaxed);
        Ok(())
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    bisslog_runtime::logging::init();
    let inbox = std::env::var("INBOX").is_ok_and(|v| v == "1");
    let subject = env_or("SUBJECT", "bench.add");
    let semantic = if inbox {
        "exactly-once"
    } else {
        "at-least-once"
    };
    let metadata = METADATA
        .replace("{queue}", &subject)
        .replace("{semantic}", semantic);
    let metadata = bisslog_schema::validate_str("metadata.yml", &metadata)
        .into_service()
        .map_err(|report| {
            bisslog_schema::render_report(&report, bisslog_schema::RenderOptions::default())
        })?;
    let mut service = Service::builder(metadata).use_case("add_numbers", AddNumbers);
    if inbox {
        let work = env_or("BENCH_WORK", "/tmp");
        let path = env_or("INBOX_DB", &format!("{work}/bisslog-rs-inbox.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
        let query = std::env::var("INBOX_GROUP_COMMIT")
            .map(|n| format!("?group_commit={n}"))
            .unwrap_or_default();
        let db = bisslog_sql::Database::connect(&format!("sqlite://{path}{query}")).await?;
        db.migrate(&[]).await?;
        service = service.unit_of_work(db);
    }
    let service = service.build()?;
    let broker: std::sync::Arc<dyn Broker> = match env_or("BROKER", "nats").as_str() {
        "amqp" => std::sync::Arc::new(
            bisslog_amqp::AmqpBroker::connect(&env_or(
                "AMQP_URL",
                "amqp://guest:guest@127.0.0.1:15680/%2f",
            ))
            .await?,
        ),
        "redis" => std::sync::Arc::new(
            bisslog_redis::RedisBroker::connect(&env_or("REDIS_URL", "redis://127.0.0.1:16390/0"))
                .await?,
        ),
        "kafka" => std::sync::Arc::new(
            bisslog_kafka::KafkaBroker::connect(&env_or("KAFKA_URL", "kafka://127.0.0.1:9092"))
                .await?,
        ),
        _ => std::sync::Arc::new(
            bisslog_nats::NatsBroker::connect(&env_or("NATS_URL", "nats://127.0.0.1:14222"))
                .await?,
        ),
    };
    let mut config = bisslog_runtime::messaging::ConsumerConfig::default();
    if let Some(prefetch) = std::env::var("PREFETCH").ok().and_then(|p| p.parse().ok()) {
        config = config.prefetch(prefetch);
    }
    if let Some(concurrency) = std::env::var("CONCURRENCY")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        config = config.default_concurrency(concurrency);
    }
    let running = Consumers::new(service, broker)
        .config(config)
        .start()
        .await?;
    shutdown_signal().await;
    running.shutdown().await;
    std::hint::black_box(SUM.load(Ordering::Relaxed));
    Ok(())
}

async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
