//! The table of a run: per design, min–max over the reps of msg/s, CPU
//! µs per message (perf's task-clock of the timed phase when it was there,
//! `/proc/self/stat` otherwise), the ratio to design f of the same rep, and
//! context switches per message.

use serde_json::Value;

use crate::DESIGNS;

/// One run of one design.
struct Run {
    design: String,
    rep: u64,
    in_flight: u64,
    savepoints: bool,
    label: String,
    msg_per_s: f64,
    cpu_us: f64,
    switches: f64,
    per_tx: Option<f64>,
}

/// Prints the table of the JSON lines in `file`.
pub(crate) fn print(file: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let mut runs = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{file}: {e}: {line}"))?;
        let num = |key: &str| v.get(key).and_then(Value::as_f64);
        let n = num("n").ok_or("a line without n")?;
        // perf's counters cover every thread for exactly the timed phase.
        let cpu_us = match num("perf_task_ms") {
            Some(ms) => ms * 1e3 / n,
            None => num("cpu_us_per_msg").ok_or("a line without CPU")?,
        };
        let switches = match num("perf_cs") {
            Some(cs) => cs / n,
            None => num("switches_per_msg").unwrap_or(f64::NAN),
        };
        runs.push(Run {
            design: v
                .get("design")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned(),
            rep: v.get("rep").and_then(Value::as_u64).unwrap_or(0),
            in_flight: v.get("in_flight").and_then(Value::as_u64).unwrap_or(0),
            savepoints: v.get("savepoints").and_then(Value::as_bool).unwrap_or(true),
            label: v
                .get("label")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            msg_per_s: num("msg_per_s").unwrap_or(f64::NAN),
            cpu_us,
            switches,
            per_tx: num("messages_per_transaction"),
        });
    }
    let mut groups: Vec<(String, u64, bool, String)> = Vec::new();
    for run in &runs {
        let group = (
            run.design.clone(),
            run.in_flight,
            run.savepoints,
            run.label.clone(),
        );
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups.sort();
    println!(
        "| design | in flight | msg/s | CPU µs/msg | × f (CPU) | context switches/msg | msgs/transaction |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (design, in_flight, savepoints, label) in groups {
        let mine: Vec<&Run> = runs
            .iter()
            .filter(|r| {
                r.design == design
                    && r.in_flight == in_flight
                    && r.savepoints == savepoints
                    && r.label == label
            })
            .collect();
        // Each rep against the f of the same rep (interleaved runs).
        let ratios: Vec<f64> = mine
            .iter()
            .filter_map(|r| {
                runs.iter()
                    .find(|f| f.design == "f" && f.label.is_empty() && f.rep == r.rep)
                    .map(|f| r.cpu_us / f.cpu_us)
            })
            .collect();
        let name = DESIGNS
            .iter()
            .find(|(d, _)| *d == design)
            .map_or(design.clone(), |(d, what)| format!("{d}. {what}"));
        let name = match (design.as_str(), savepoints) {
            ("b" | "d" | "e", true) => format!("{name}, a savepoint per message"),
            ("b" | "d" | "e", false) => format!("{name}, no savepoints"),
            _ => name,
        };
        let name = if label.is_empty() {
            name
        } else {
            format!("{name} ({label})")
        };
        println!(
            "| {name} | {in_flight} | {} | {} | {} | {} | {} |",
            range(mine.iter().map(|r| r.msg_per_s), 0),
            range(mine.iter().map(|r| r.cpu_us), 2),
            range(ratios.into_iter(), 1),
            range(mine.iter().map(|r| r.switches), 2),
            range(mine.iter().filter_map(|r| r.per_tx), 1),
        );
    }
    Ok(())
}

/// "min–max" of the values, or "—" when there are none.
fn range(values: impl Iterator<Item = f64>, decimals: usize) -> String {
    let values: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return "—".into();
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if format!("{min:.decimals$}") == format!("{max:.decimals$}") {
        format!("{min:.decimals$}")
    } else {
        format!("{min:.decimals$}–{max:.decimals$}")
    }
}
