//! The Kafka side of the comparison, hand-written on `rdkafka` (the same
//! version and features as bisslog-kafka's): the broker (librdkafka's mock
//! cluster), the raw consumer (the lower bound), the publisher and the
//! watcher that times any consumer from the cluster's side. `publish` and
//! `watch` print one JSON line.
//!
//!   MODE       cluster | create | publish | consume | watch
//!   BOOTSTRAP  the cluster's bootstrap servers (every mode but cluster)
//!   TOPIC      default bench.add
//!   GROUP      the raw consumer's and the watcher's consumer group,
//!              default the topic (as bisslog-kafka names a command's group)
//!   PARTITIONS the topic's partitions (cluster, create; default 3,
//!              bisslog-kafka's)
//!   ALSO       more topics the cluster or create makes, separated by commas
//!              (default `<TOPIC>.dlq`: the consumer trigger's dead letters)
//!   N          records to publish (default 100000)
//!   COMMIT_EVERY the raw consumer commits after this many records (default
//!              256) and whenever a poll comes back empty
//!   POLL_MS    watch poll interval (default 5)   TIMEOUT_S watch timeout (default 120)
//!   EXPECT     watch: the records to wait for, instead of the partitions'
//!              watermarks (a fresh topic on a server whose watermarks are
//!              wrong)
//!
//! `cluster` starts a one-broker mock cluster in this process, creates the
//! topics (the mock does not answer CreateTopics), prints the bootstrap
//! servers and runs until its standard input closes (or SIGTERM).
//! `create` makes the same topics on a server (CreateTopics, replication
//! 1) and exits.
//!
//! Records are laid out as bisslog-kafka writes them: no key, the JSON
//! payload `{"a":i,"b":1,"c":2}`, headers `message-id` and `content-type:
//! application/json`.
//!
//! `consume` is a plain `BaseConsumer` poll loop in the group: decode every
//! payload, store its offset once processed, commit the stored offsets
//! asynchronously every COMMIT_EVERY records and when idle (at least once,
//! offsets committed after processing, in batches). It runs until SIGTERM,
//! as the bisslog-rs consumer does, so that both are measured alike.
use std::io::Read as _;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Message as _, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaErrorCode;
use serde::Deserialize;

#[derive(Deserialize)]
struct AddEvent {
    a: i64,
    b: i64,
    c: i64,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let topic: String = env_or("TOPIC", "bench.add".to_owned());
    let mode: String = env_or("MODE", "publish".to_owned());
    if mode == "cluster" {
        return cluster(&topic);
    }
    let bootstrap: String = std::env::var("BOOTSTRAP").map_err(|_| "BOOTSTRAP is not set")?;
    let group: String = env_or("GROUP", topic.clone());
    match mode.as_str() {
        "create" => create(&bootstrap, &topic),
        "publish" => publish(&bootstrap, &topic),
        "consume" => consume(&bootstrap, &topic, &group),
        "watch" => watch(&bootstrap, &topic, &group),
        other => Err(format!("unknown MODE {other}").into()),
    }
}

fn cluster(topic: &str) -> Result<(), Error> {
    let partitions: i32 = env_or("PARTITIONS", 3);
    let cluster = MockCluster::new(1)?;
    cluster.create_topic(topic, partitions, 1)?;
    let also: String = env_or("ALSO", format!("{topic}.dlq"));
    for other in also.split(',').filter(|t| !t.is_empty()) {
        cluster.create_topic(other, partitions, 1)?;
    }
    println!("{}", cluster.bootstrap_servers());
    // The broker lives as long as the driver keeps our stdin open.
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink)?;
    Ok(())
}

fn create(bootstrap: &str, topic: &str) -> Result<(), Error> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let partitions: i32 = env_or("PARTITIONS", 3);
    let also: String = env_or("ALSO", format!("{topic}.dlq"));
    let names: Vec<&str> = std::iter::once(topic)
        .chain(also.split(',').filter(|t| !t.is_empty()))
        .collect();
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| NewTopic::new(name, partitions, TopicReplication::Fixed(1)))
        .collect();
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in runtime.block_on(admin.create_topics(&topics, &options))? {
        if let Err((name, code)) = result {
            return Err(format!("creating {name}: {code}").into());
        }
    }
    Ok(())
}

fn publish(bootstrap: &str, topic: &str) -> Result<(), Error> {
    let n: u64 = env_or("N", 100_000);
    // As bisslog-kafka's producer: every in-sync replica, idempotent.
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("allow.auto.create.topics", "false")
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .create()?;
    let started = Instant::now();
    for i in 0..n {
        let payload = format!("{{\"a\":{i},\"b\":1,\"c\":2}}");
        let id = format!("bench-{i}");
        loop {
            let headers = OwnedHeaders::new_with_capacity(2)
                .insert(Header {
                    key: "message-id",
                    value: Some(&id),
                })
                .insert(Header {
                    key: "content-type",
                    value: Some("application/json"),
                });
            let record = BaseRecord::<(), str>::to(topic)
                .payload(&payload)
                .headers(headers);
            match producer.send(record) {
                Ok(()) => break,
                Err((e, _)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
        if i % 1000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(60))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"mode\":\"publish\",\"n\":{n},\"publish_s\":{seconds:.4},\"publish_msgs_per_s\":{:.0}}}",
        n as f64 / seconds
    );
    Ok(())
}

fn consume(bootstrap: &str, topic: &str, group: &str) -> Result<(), Error> {
    let every: u64 = env_or("COMMIT_EVERY", 256);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("allow.auto.create.topics", "false")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[topic])?;
    let mut sum: i64 = 0;
    let mut uncommitted: u64 = 0;
    loop {
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(message)) => {
                if let Some(event) = message
                    .payload()
                    .and_then(|p| serde_json::from_slice::<AddEvent>(p).ok())
                {
                    sum = sum.wrapping_add(event.a + event.b + event.c);
                }
                consumer.store_offset_from_message(&message)?;
                uncommitted += 1;
                if uncommitted >= every {
                    commit(&consumer);
                    uncommitted = 0;
                }
            }
            Some(Err(e)) => eprintln!("consuming: {e}"),
            None if uncommitted > 0 => {
                commit(&consumer);
                uncommitted = 0;
            }
            None => {}
        }
        std::hint::black_box(sum);
    }
}

fn commit(consumer: &BaseConsumer) {
    if let Err(e) = consumer.commit_consumer_state(CommitMode::Async) {
        eprintln!("committing: {e}");
    }
}

/// Polls the group's committed offsets until they reach the end of every
/// partition, and prints the timings: `first_read_s` when the group had
/// first committed something, `all_acked_s` when it was done, both from
/// the moment the watcher was ready.
fn watch(bootstrap: &str, topic: &str, group: &str) -> Result<(), Error> {
    let poll = Duration::from_millis(env_or("POLL_MS", 5));
    let timeout = Duration::from_secs(env_or("TIMEOUT_S", 120));
    let ask = Duration::from_secs(10);
    // A client of the group that never joins it: it only reads the
    // group's committed offsets (OffsetFetch).
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("allow.auto.create.topics", "false")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let metadata = client.fetch_metadata(Some(topic), ask)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(format!("topic {topic} has no partitions").into());
    }
    // Committed offsets are positions: the group is done when they sum
    // to the partitions' ends; `count` is what it had to consume.
    let (mut end, mut count) = (0, 0);
    let mut list = TopicPartitionList::new();
    for &partition in &partitions {
        let (low, high) = client.fetch_watermarks(topic, partition, ask)?;
        end += high;
        count += high - low;
        list.add_partition(topic, partition);
    }
    // A server whose watermarks cannot be trusted (Tansu 0.6 answers
    // ListOffsets with a high watermark of 1 per partition): the records
    // of a fresh topic, from offset 0, as the driver published them.
    let expected: i64 = env_or("EXPECT", 0);
    if expected > 0 {
        (end, count) = (expected, expected);
    }
    println!("READY");
    let t0 = Instant::now();
    let (mut first, mut done, mut left) = (None::<f64>, None::<f64>, count);
    while t0.elapsed() < timeout {
        if let Ok(committed) = client.committed_offsets(list.clone(), ask) {
            let now = t0.elapsed().as_secs_f64();
            let read: i64 = committed
                .elements()
                .iter()
                .map(|e| match e.offset() {
                    Offset::Offset(o) => o,
                    _ => 0,
                })
                .sum();
            left = end - read;
            if first.is_none() && read > 0 {
                first = Some(now);
            }
            if left <= 0 && read > 0 {
                done = Some(now);
                break;
            }
        }
        std::thread::sleep(poll);
    }
    let (f, d) = (first.unwrap_or(-1.0), done.unwrap_or(-1.0));
    let rate = if d > f && f >= 0.0 {
        count as f64 / (d - f)
    } else {
        0.0
    };
    println!(
        "{{\"mode\":\"watch\",\"n\":{count},\"first_read_s\":{f:.4},\"all_acked_s\":{d:.4},\"consume_msgs_per_s\":{rate:.0},\"left\":{left},\"timed_out\":{}}}",
        done.is_none()
    );
    Ok(())
}
