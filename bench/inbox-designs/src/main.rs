//! What an exactly-once SQLite inbox costs per message, on the candidate
//! designs of issue 18 (see `../README.md` and docs/benchmarks.md, "The
//! inbox: candidate designs measured").
//!
//! `inbox-designs run DESIGN [N] [DIR]` consumes N messages with distinct
//! ids through one design on a fresh WAL database in DIR and prints one
//! JSON line: wall time, CPU time and context switches of the timed phase.
//! `inbox-designs report FILE` prints the table of a run of `run.sh`.

mod consume;
mod message;
mod report;
mod rusqlite_designs;
mod schema;
mod sqlx_designs;
mod usage;

use std::path::PathBuf;
use std::process::ExitCode;

/// The designs, by the letter the contract gives them.
pub(crate) const DESIGNS: [(&str, &str); 6] = [
    ("a", "sqlx, a transaction per message over the pool (today)"),
    ("b", "sqlx, group commit (<= 64 per transaction)"),
    (
        "c",
        "rusqlite on a thread fed by a channel, a transaction per message",
    ),
    ("d", "rusqlite on a thread fed by a channel, group commit"),
    (
        "e",
        "rusqlite on the async task (no hand-off), group commit",
    ),
    ("f", "no database (the at-least-once loop)"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("report") => match args.get(1) {
            Some(file) => report::print(file),
            None => Err("report needs the results file".into()),
        },
        _ => Err("usage: inbox-designs run a|b|c|d|e|f [N] [DIR] | report FILE".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("inbox-designs: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let design = args.first().ok_or("run needs a design: a..f")?.clone();
    if !DESIGNS.iter().any(|(name, _)| *name == design) {
        return Err(format!("unknown design {design}: a..f"));
    }
    let n: usize = match args.get(1) {
        Some(n) => n.parse().map_err(|e| format!("N {n}: {e}"))?,
        None => 100_000,
    };
    let dir = PathBuf::from(args.get(2).map_or("/tmp/bench-inbox/db", String::as_str));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let line = runtime.block_on(consume::run(&design, n, &dir))?;
    println!("{line}");
    Ok(())
}
