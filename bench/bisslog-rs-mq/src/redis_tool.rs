//! The Redis Streams side of the comparison, hand-written on the `redis`
//! crate: the raw consumer (the lower bound), the publisher and the watcher
//! that times any consumer from the server's side. Every mode but the
//! consumers prints one JSON line.
//!
//!   MODE      publish | consume | consume-multi | watch
//!   REDIS_URL default redis://127.0.0.1:16390/0
//!   STREAM    default bench.add
//!   GROUP     the raw consumers' group, default raw-redis
//!   N         entries to publish (default 100000)
//!   COUNT     the raw consumers' XREADGROUP COUNT (default 256)
//!   POLL_MS   watch poll interval (default 2)   TIMEOUT_S watch timeout (default 120)
//!
//! Entries are laid out as bisslog-redis writes them: field `body` (the
//! JSON payload) then `message-id`. `publish` deletes the stream first, so
//! every run starts from N fresh entries and no group.
//!
//! `consume` reads `XREADGROUP ... COUNT 256 BLOCK`, decodes every body,
//! then acknowledges the batch with one pipeline of `XACK`s (one per entry,
//! one round trip per batch: the fair baseline, as bisslog-rs acks each
//! message but many in flight). `consume-multi` acknowledges the batch with
//! a single `XACK` of all its ids (the cheapest way Redis offers).
use std::time::{Duration, Instant};

use redis::Value;
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

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url: String = env_or("REDIS_URL", "redis://127.0.0.1:16390/0".to_owned());
    let stream: String = env_or("STREAM", "bench.add".to_owned());
    let client = redis::Client::open(url.as_str())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    match env_or("MODE", "publish".to_owned()).as_str() {
        "publish" => {
            let n: u64 = env_or("N", 100_000);
            redis::cmd("DEL").arg(&stream).exec_async(&mut conn).await?;
            let started = Instant::now();
            let mut i = 0;
            while i < n {
                // 1000 XADDs a round trip.
                let mut pipe = redis::pipe();
                for i in i..(i + 1000).min(n) {
                    pipe.cmd("XADD")
                        .arg(&stream)
                        .arg("*")
                        .arg("body")
                        .arg(format!("{{\"a\":{i},\"b\":1,\"c\":2}}"))
                        .arg("message-id")
                        .arg(format!("bench-{i}"))
                        .ignore();
                }
                pipe.exec_async(&mut conn).await?;
                i = (i + 1000).min(n);
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{{\"mode\":\"publish\",\"n\":{n},\"publish_s\":{seconds:.4},\"publish_msgs_per_s\":{:.0}}}",
                n as f64 / seconds
            );
        }
        mode @ ("consume" | "consume-multi") => {
            let group: String = env_or("GROUP", "raw-redis".to_owned());
            let count: usize = env_or("COUNT", 256);
            let multi = mode == "consume-multi";
            // The group reads the stream from its first entry.
            let created = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&stream)
                .arg(&group)
                .arg("0")
                .arg("MKSTREAM")
                .exec_async(&mut conn)
                .await;
            if let Err(e) = created
                && e.code() != Some("BUSYGROUP")
            {
                return Err(e.into());
            }
            let mut sum: i64 = 0;
            let mut ids: Vec<Vec<u8>> = Vec::with_capacity(count);
            loop {
                let answer: Value = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg(&group)
                    .arg("raw-1")
                    .arg("COUNT")
                    .arg(count)
                    .arg("BLOCK")
                    .arg(2000)
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(">")
                    .query_async(&mut conn)
                    .await?;
                ids.clear();
                for_each_entry(answer, |id, fields| {
                    if let Some(body) = field(fields, b"body")
                        && let Ok(event) = serde_json::from_slice::<AddEvent>(body)
                    {
                        sum = sum.wrapping_add(event.a + event.b + event.c);
                    }
                    ids.push(id);
                })
                .ok_or("unexpected XREADGROUP answer")?;
                if ids.is_empty() {
                    continue;
                }
                if multi {
                    redis::cmd("XACK")
                        .arg(&stream)
                        .arg(&group)
                        .arg(&ids)
                        .exec_async(&mut conn)
                        .await?;
                } else {
                    let mut pipe = redis::pipe();
                    for id in &ids {
                        pipe.cmd("XACK").arg(&stream).arg(&group).arg(id).ignore();
                    }
                    pipe.exec_async(&mut conn).await?;
                }
                std::hint::black_box(sum);
            }
        }
        _ => watch(&mut conn, &stream).await?,
    }
    Ok(())
}

/// Calls `f` with the id and the fields (`[name, value, ...]`) of every
/// entry of a RESP2 `XREADGROUP` answer (nil: none). `None` when the
/// answer is not shaped as one.
fn for_each_entry(answer: Value, mut f: impl FnMut(Vec<u8>, &[Value])) -> Option<()> {
    let streams = match answer {
        Value::Nil => return Some(()),
        Value::Array(streams) => streams,
        _ => return None,
    };
    for stream in streams {
        let Value::Array(parts) = stream else {
            return None;
        };
        let Some(Value::Array(entries)) = parts.into_iter().nth(1) else {
            return None;
        };
        for entry in entries {
            let Value::Array(parts) = entry else {
                return None;
            };
            let mut parts = parts.into_iter();
            let Some(Value::BulkString(id)) = parts.next() else {
                return None;
            };
            match parts.next() {
                Some(Value::Array(fields)) => f(id, &fields),
                _ => f(id, &[]),
            }
        }
    }
    Some(())
}

/// The value of the field `name` in `[name, value, ...]`.
fn field<'a>(fields: &'a [Value], name: &[u8]) -> Option<&'a [u8]> {
    fields.chunks_exact(2).find_map(|pair| match pair {
        [Value::BulkString(k), Value::BulkString(v)] if k == name => Some(v.as_slice()),
        _ => None,
    })
}

/// One group of `XINFO GROUPS`: (pending, lag, entries-read), lag `None`
/// when the server cannot tell it.
fn group_info(value: &Value) -> Option<(i64, Option<i64>, i64)> {
    let pairs: Vec<(&Value, &Value)> = match value {
        Value::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Value::Array(items) => items.chunks_exact(2).map(|p| (&p[0], &p[1])).collect(),
        _ => return None,
    };
    let get = |name: &[u8]| {
        pairs.iter().find_map(|(k, v)| match k {
            Value::BulkString(k) if k == name => Some(*v),
            Value::SimpleString(k) if k.as_bytes() == name => Some(*v),
            _ => None,
        })
    };
    let int = |v: Option<&Value>| match v {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    };
    Some((
        int(get(b"pending"))?,
        int(get(b"lag")),
        int(get(b"entries-read")).unwrap_or(0),
    ))
}

/// Polls the stream's groups until the first group to appear has read and
/// acknowledged every entry (pending + lag = 0), and prints the timings:
/// `first_read_s` when the group had first read something, `all_acked_s`
/// when it was done, both from the moment the watcher was ready.
async fn watch(conn: &mut redis::aio::MultiplexedConnection, stream: &str) -> Result<(), Error> {
    let poll = Duration::from_millis(env_or("POLL_MS", 2));
    let timeout = Duration::from_secs(env_or("TIMEOUT_S", 120));
    let start: i64 = redis::cmd("XLEN").arg(stream).query_async(conn).await?;
    println!("READY");
    let t0 = Instant::now();
    let (mut first, mut done, mut left) = (None::<f64>, None::<f64>, start);
    while t0.elapsed() < timeout {
        let groups: Value = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(stream)
            .query_async(conn)
            .await?;
        let now = t0.elapsed().as_secs_f64();
        let group = match &groups {
            Value::Array(groups) => groups.first().and_then(group_info),
            _ => None,
        };
        if let Some((pending, lag, read)) = group {
            let lag = lag.unwrap_or(start - read);
            left = pending + lag;
            if first.is_none() && read > 0 {
                first = Some(now);
            }
            if left == 0 && read > 0 {
                done = Some(now);
                break;
            }
        }
        tokio::time::sleep(poll).await;
    }
    let (f, d) = (first.unwrap_or(-1.0), done.unwrap_or(-1.0));
    let rate = if d > f && f >= 0.0 {
        start as f64 / (d - f)
    } else {
        0.0
    };
    println!(
        "{{\"mode\":\"watch\",\"n\":{start},\"first_read_s\":{f:.4},\"all_acked_s\":{d:.4},\"consume_msgs_per_s\":{rate:.0},\"left\":{left},\"timed_out\":{}}}",
        done.is_none()
    );
    Ok(())
}
