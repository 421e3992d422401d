//! The RabbitMQ side of the comparison, hand-written on lapin: the raw
//! consumer (the lower bound), the publisher and the watcher that times any
//! consumer from the server's side. Every mode but `consume` prints one
//! JSON line.
//!
//!   MODE      publish | consume | consume-pipelined | watch
//!   AMQP_URL  default amqp://guest:guest@127.0.0.1:15680/%2f
//!   QUEUE     default bench.add
//!   N         messages to publish (default 100000)
//!   PREFETCH  the raw consumer's basic.qos (default 500, as the harness's)
//!   IN_FLIGHT consume-pipelined: acks outstanding at once (default 64)
//!   POLL_MS   watch poll interval (default 2)   TIMEOUT_S watch timeout (default 120)
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url: String = env_or(
        "AMQP_URL",
        "amqp://guest:guest@127.0.0.1:15680/%2f".to_owned(),
    );
    let queue: String = env_or("QUEUE", "bench.add".to_owned());
    let conn = Connection::connect(&url, ConnectionProperties::default()).await?;
    let channel = conn.create_channel().await?;
    match env_or("MODE", "publish".to_owned()).as_str() {
        "publish" => {
            let n: u64 = env_or("N", 100_000);
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
            channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions::durable(),
                    FieldTable::default(),
                )
                .await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            let props = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type("application/json".into());
            let started = Instant::now();
            let mut confirms = Vec::with_capacity(1000);
            for i in 0..n {
                let payload = format!("{{\"a\":{i},\"b\":1,\"c\":2}}");
                confirms.push(
                    channel
                        .basic_publish(
                            "".into(),
                            queue.as_str().into(),
                            BasicPublishOptions::default(),
                            payload.as_bytes(),
                            props.clone(),
                        )
                        .await?,
                );
                if confirms.len() >= 1000 {
                    for confirm in confirms.drain(..) {
                        confirm.await?;
                    }
                }
            }
            for confirm in confirms.drain(..) {
                confirm.await?;
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{{\"mode\":\"publish\",\"n\":{n},\"publish_s\":{seconds:.4},\"publish_msgs_per_s\":{:.0}}}",
                n as f64 / seconds
            );
        }
        "consume" => {
            // The raw consumer service: decode and ack every message, until
            // stopped.
            let prefetch: u16 = env_or("PREFETCH", 500);
            channel
                .basic_qos(prefetch, BasicQosOptions::default())
                .await?;
            let mut consumer = channel
                .basic_consume(
                    queue.as_str().into(),
                    "raw-lapin".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            let mut sum: i64 = 0;
            while let Some(delivery) = consumer.next().await {
                let delivery = delivery?;
                if let Ok(event) = serde_json::from_slice::<AddEvent>(&delivery.data) {
                    sum = sum.wrapping_add(event.a + event.b + event.c);
                }
                delivery.ack(BasicAckOptions::default()).await?;
            }
            std::hint::black_box(sum);
        }
        "consume-pipelined" => {
            // The raw consumer as an expert would tune it: the same decode
            // and per-message ack, but up to IN_FLIGHT acks outstanding
            // instead of awaiting each before the next delivery (what
            // bisslog-rs does with its in-flight messages).
            let prefetch: u16 = env_or("PREFETCH", 500);
            let in_flight: usize = env_or("IN_FLIGHT", 64);
            channel
                .basic_qos(prefetch, BasicQosOptions::default())
                .await?;
            let mut consumer = channel
                .basic_consume(
                    queue.as_str().into(),
                    "raw-lapin-pipelined".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            let mut acks = futures_util::stream::FuturesUnordered::new();
            let mut sum: i64 = 0;
            while let Some(delivery) = consumer.next().await {
                let delivery = delivery?;
                if let Ok(event) = serde_json::from_slice::<AddEvent>(&delivery.data) {
                    sum = sum.wrapping_add(event.a + event.b + event.c);
                }
                acks.push(async move { delivery.ack(BasicAckOptions::default()).await });
                while acks.len() >= in_flight {
                    if let Some(acked) = acks.next().await {
                        acked?;
                    }
                }
            }
            while let Some(acked) = acks.next().await {
                acked?;
            }
            std::hint::black_box(sum);
        }
        _ => {
            // watch: poll the queue until nothing is ready in it.
            let poll = Duration::from_millis(env_or("POLL_MS", 2));
            let timeout = Duration::from_secs(env_or("TIMEOUT_S", 120));
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            let count = || async {
                channel
                    .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                    .await
                    .map(|q| q.message_count())
            };
            let start = count().await?;
            println!("READY");
            let t0 = Instant::now();
            let (mut first, mut done, mut left) = (None::<f64>, None::<f64>, start);
            while t0.elapsed() < timeout {
                left = count().await?;
                let now = t0.elapsed().as_secs_f64();
                if first.is_none() && left < start {
                    first = Some(now);
                }
                if left == 0 {
                    done = Some(now);
                    break;
                }
                tokio::time::sleep(poll).await;
            }
            let (f, d) = (first.unwrap_or(-1.0), done.unwrap_or(-1.0));
            let rate = if d > f && f >= 0.0 {
                f64::from(start) / (d - f)
            } else {
                0.0
            };
            println!(
                "{{\"mode\":\"watch\",\"n\":{start},\"first_ack_s\":{f:.4},\"all_acked_s\":{d:.4},\"consume_msgs_per_s\":{rate:.0},\"left\":{left},\"timed_out\":{}}}",
                done.is_none()
            );
        }
    }
    let _ = conn.close(200, "bye".into()).await;
    Ok(())
}
