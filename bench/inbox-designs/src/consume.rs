//! The consumer loop every design shares: `IN_FLIGHT` tasks (16 by
//! default, a consumer's concurrency) take the next delivery, decode it,
//! hand it to the design, and acknowledge it once the design says it is
//! done (committed). Then the checks: redeliveries are recognised, a
//! failing use case leaves no inbox row, and the tables hold N rows each.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::message::{self, Message};
use crate::usage::{self, Snapshot};
use crate::{rusqlite_designs, schema, sqlx_designs};

/// Whether group commit puts each message in a savepoint (`SAVEPOINTS=0`
/// measures what they cost: without them a failing use case fails its
/// whole batch, which then is not acknowledged and comes back).
pub(crate) fn savepoints() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("SAVEPOINTS").map_or(true, |v| v != "0"))
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Recorded in the inbox and handled; acknowledged after the commit.
    Handled,
    /// Already in the inbox: a redelivery, acknowledged without effect.
    Duplicate,
    /// The use case (or the transaction) failed: nothing of it is kept.
    Failed,
}

/// One message handed to a writer, with where to answer.
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) total: i64,
    pub(crate) reply: oneshot::Sender<Outcome>,
}

/// How many messages went into how many transactions.
#[derive(Default)]
pub(crate) struct Batches {
    pub(crate) transactions: AtomicU64,
    pub(crate) messages: AtomicU64,
}

/// Where the consumers hand their messages.
#[derive(Clone)]
enum Sink {
    /// Design f: no database.
    Nothing,
    /// Design a: each consumer runs its own transaction on the pool.
    Pool(SqlitePool),
    /// Designs b to e: a writer behind a channel.
    Queue(mpsc::Sender<Job>),
}

impl Sink {
    async fn handle(&self, id: &str, total: i64) -> Outcome {
        match self {
            Sink::Nothing => Outcome::Handled,
            Sink::Pool(pool) => sqlx_designs::per_message(pool, id, total).await,
            Sink::Queue(queue) => {
                let (reply, answer) = oneshot::channel();
                let job = Job {
                    id: id.to_owned(),
                    total,
                    reply,
                };
                if queue.send(job).await.is_err() {
                    return Outcome::Failed;
                }
                answer.await.unwrap_or(Outcome::Failed)
            }
        }
    }
}

/// What the writer of a design is, so it can be ended and waited for.
enum Writer {
    None,
    Task(tokio::task::JoinHandle<()>),
    Thread(std::thread::JoinHandle<()>),
}

/// Runs `design` on N messages and gives the JSON line of the run.
pub(crate) async fn run(design: &str, n: usize, dir: &Path) -> Result<String, String> {
    let in_flight: usize = match std::env::var("IN_FLIGHT") {
        Ok(v) => v.parse().map_err(|e| format!("IN_FLIGHT {v}: {e}"))?,
        Err(_) => 16,
    };
    let path = schema::fresh(dir, design)?;
    let batches = Arc::new(Batches::default());
    let mut pool = None;
    let (sink, writer) = match design {
        "a" => {
            let p = schema::sqlx_pool(&path).await?;
            pool = Some(p.clone());
            (Sink::Pool(p), Writer::None)
        }
        "b" => {
            let p = schema::sqlx_pool(&path).await?;
            pool = Some(p.clone());
            let (tx, rx) = mpsc::channel(in_flight);
            let conn = p.acquire().await.map_err(|e| format!("acquire: {e}"))?;
            let task = tokio::spawn(sqlx_designs::group_commit(conn, rx, Arc::clone(&batches)));
            (Sink::Queue(tx), Writer::Task(task))
        }
        "c" | "d" => {
            let conn = schema::open_rusqlite(&path)?;
            let (tx, rx) = mpsc::channel(in_flight);
            let group = design == "d";
            let counts = Arc::clone(&batches);
            let thread = std::thread::Builder::new()
                .name("inbox-writer".into())
                .spawn(move || rusqlite_designs::on_thread(conn, rx, group, &counts))
                .map_err(|e| format!("writer thread: {e}"))?;
            (Sink::Queue(tx), Writer::Thread(thread))
        }
        "e" => {
            let conn = schema::open_rusqlite(&path)?;
            let (tx, rx) = mpsc::channel(in_flight);
            let task = tokio::spawn(rusqlite_designs::on_task(conn, rx, Arc::clone(&batches)));
            (Sink::Queue(tx), Writer::Task(task))
        }
        _ => (Sink::Nothing, Writer::None),
    };
    let messages = Arc::new(message::make(n, "m"));

    usage::perf("enable")?;
    let before = Snapshot::take()?;
    let timed = consume(&messages, &sink, in_flight).await?;
    let after = Snapshot::take()?;
    usage::perf("disable")?;
    let spent = after.since(&before);
    if timed != [n as u64, 0, 0] {
        return Err(format!(
            "timed phase: handled/duplicate/failed = {timed:?}, expected [{n}, 0, 0]"
        ));
    }

    // Not timed: the first 100 again (redeliveries) and one failing use case.
    let again = n.min(100);
    let mut replay = message::make(again, "m");
    replay.push(message::failing());
    let checked = consume(&Arc::new(replay), &sink, in_flight).await?;
    drop(sink);
    match writer {
        Writer::None => {}
        Writer::Task(task) => task.await.map_err(|e| format!("writer task: {e}"))?,
        Writer::Thread(thread) => thread
            .join()
            .map_err(|_| "writer thread panicked".to_string())?,
    }
    if let Some(pool) = pool {
        pool.close().await;
    }
    let check = if design == "f" {
        format!("no database; {} handled", checked[0])
    } else {
        // Without savepoints the failing message takes its batch down: the
        // redeliveries in that batch fail too (and would come back).
        let expected = checked[0] == 0
            && checked[1] + checked[2] == again as u64 + 1
            && (checked[2] == 1 || (!savepoints() && checked[2] >= 1));
        if !expected {
            return Err(format!(
                "replay: handled/duplicate/failed = {checked:?}, expected [0, {again}, 1]"
            ));
        }
        let (inbox, results) = schema::counts(&path)?;
        if (inbox, results) != (n as i64, n as i64) {
            return Err(format!(
                "rows: inbox {inbox}, results {results}, expected {n} each"
            ));
        }
        format!(
            "{} of {again} redeliveries seen as duplicates ({} failed with the failing use case's batch), the failing use case left no inbox row, {n} inbox and {n} use-case rows",
            checked[1],
            checked[2] - 1
        )
    };
    let transactions = batches.transactions.load(Ordering::Relaxed);
    let batched = batches.messages.load(Ordering::Relaxed);
    let line = serde_json::json!({
        "design": design,
        "n": n,
        "in_flight": in_flight,
        "savepoints": savepoints(),
        "wall_s": spent.wall_s,
        "cpu_s": spent.cpu_s,
        "msg_per_s": n as f64 / spent.wall_s,
        "cpu_us_per_msg": spent.cpu_s * 1e6 / n as f64,
        "switches_per_msg": spent.switches as f64 / n as f64,
        "messages_per_transaction": if transactions == 0 { serde_json::Value::Null } else { (batched as f64 / transactions as f64).into() },
        "check": check,
    });
    Ok(line.to_string())
}

/// Consumes `messages` with `in_flight` tasks: [handled, duplicate, failed].
async fn consume(
    messages: &Arc<Vec<Message>>,
    sink: &Sink,
    in_flight: usize,
) -> Result<[u64; 3], String> {
    let next = Arc::new(AtomicUsize::new(0));
    let outcomes: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let mut tasks = Vec::with_capacity(in_flight);
    for _ in 0..in_flight {
        let (messages, sink, next, outcomes) = (
            Arc::clone(messages),
            sink.clone(),
            Arc::clone(&next),
            Arc::clone(&outcomes),
        );
        tasks.push(tokio::spawn(async move {
            while let Some(message) = messages.get(next.fetch_add(1, Ordering::Relaxed)) {
                let outcome = match message::decode(&message.body) {
                    Ok(total) => sink.handle(&message.id, total).await,
                    Err(_) => Outcome::Failed,
                };
                // The acknowledgement (or the refusal, for redelivery).
                let slot = match outcome {
                    Outcome::Handled => 0,
                    Outcome::Duplicate => 1,
                    Outcome::Failed => 2,
                };
                outcomes[slot].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| format!("consumer task: {e}"))?;
    }
    Ok([0, 1, 2].map(|i| outcomes[i].load(Ordering::Relaxed)))
}
