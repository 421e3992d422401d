//! What the timed phase costs the process: wall time, CPU time from
//! `/proc/self/stat` (all threads, 10 ms ticks), context switches of the
//! live threads from `/proc/self/task/*/status`, and, when run under
//! `perf stat --delay=-1 --control fifo:CTL,ACK` with `PERF_CTL`/`PERF_ACK`
//! set, perf's counters enabled for exactly this phase.

use std::io::{BufRead, BufReader, Write};
use std::time::Instant;

/// The kernel's clock ticks per second for `/proc/*/stat` (USER_HZ, 100
/// on Linux everywhere but a few old ports).
const TICKS_PER_SECOND: f64 = 100.0;

/// A point in time of the process.
pub(crate) struct Snapshot {
    at: Instant,
    cpu_ticks: u64,
    switches: u64,
}

/// What happened between two snapshots.
pub(crate) struct Spent {
    pub(crate) wall_s: f64,
    pub(crate) cpu_s: f64,
    pub(crate) switches: u64,
}

impl Snapshot {
    pub(crate) fn take() -> Result<Self, String> {
        Ok(Self {
            at: Instant::now(),
            cpu_ticks: cpu_ticks()?,
            switches: switches()?,
        })
    }

    pub(crate) fn since(&self, before: &Snapshot) -> Spent {
        Spent {
            wall_s: self.at.duration_since(before.at).as_secs_f64(),
            cpu_s: self.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / TICKS_PER_SECOND,
            switches: self.switches.saturating_sub(before.switches),
        }
    }
}

/// utime + stime of the whole process (fields 14 and 15 of
/// `/proc/self/stat`, counted after the command name's closing parenthesis
/// since the name may hold spaces).
fn cpu_ticks() -> Result<u64, String> {
    let stat =
        std::fs::read_to_string("/proc/self/stat").map_err(|e| format!("/proc/self/stat: {e}"))?;
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("/proc/self/stat: no ')'")?;
    // After ')': state is field 3, so utime (14) is the 12th, stime the 13th.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("/proc/self/stat: field {i} after ')'"))
    };
    Ok(field(11)? + field(12)?)
}

/// Voluntary and involuntary context switches of the live threads (a
/// thread that ended in between is missed: no design ends one while timed).
fn switches() -> Result<u64, String> {
    let mut total = 0;
    let tasks =
        std::fs::read_dir("/proc/self/task").map_err(|e| format!("/proc/self/task: {e}"))?;
    for task in tasks.flatten() {
        // A thread may end between the listing and the read.
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        for line in status.lines() {
            if let Some(value) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                total += value.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    Ok(total)
}

/// Enables (`"enable"`) or disables (`"disable"`) the counters of a `perf
/// stat --control` around us, when there is one.
pub(crate) fn perf(command: &str) -> Result<(), String> {
    let (Ok(ctl), Ok(ack)) = (std::env::var("PERF_CTL"), std::env::var("PERF_ACK")) else {
        return Ok(());
    };
    let mut ctl = std::fs::OpenOptions::new()
        .write(true)
        .open(&ctl)
        .map_err(|e| format!("{ctl}: {e}"))?;
    writeln!(ctl, "{command}").map_err(|e| format!("perf control: {e}"))?;
    let ack_file = std::fs::File::open(&ack).map_err(|e| format!("{ack}: {e}"))?;
    let mut line = String::new();
    BufReader::new(ack_file)
        .read_line(&mut line)
        .map_err(|e| format!("perf ack: {e}"))?;
    Ok(())
}
