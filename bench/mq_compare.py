"""What the broker comparisons (amqp-, redis-, kafka-compare.py) share.

Each script boots its broker and knows how to run one contender once
(`one_run(name, out, rep) -> row`); this module runs the rounds and prints
the table. A row is a dict with `contender`, `rep` and either `error` or
the measurements (`consume_msgs_per_s`, `cpu_us_per_msg`, `peak_rss_kib`,
the script's first-message key).
"""
import json
import os
import statistics
import time


def results_dir(work, prefix):
    """A fresh `$BENCH_WORK/results/<prefix>-<UTC timestamp>/` with `logs/`."""
    out = os.path.join(work, "results", prefix + "-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    os.makedirs(os.path.join(out, "logs"))
    return out


def run_rounds(names, reps, one_run, out, log):
    """REPS rounds over `names`, round robin, each row appended to
    `out/raw.jsonl` as it comes; a failed run is recorded, not fatal."""
    rows = []
    with open(os.path.join(out, "raw.jsonl"), "a") as raw:
        for rep in range(1, reps + 1):
            for name in names:
                try:
                    row = one_run(name, out, rep)
                except Exception as e:  # one failed run must not lose the others
                    row = {"contender": name, "rep": rep, "error": repr(e)}
                raw.write(json.dumps(row) + "\n")
                raw.flush()
                rows.append(row)
                if "error" in row:
                    log(f"rep {rep} {name}: FAILED {row['error']}")
                else:
                    log(f"rep {rep} {name}: {row['consume_msgs_per_s']} msg/s, "
                        f"{row['cpu_us_per_msg']:.2f} µs CPU/msg, "
                        f"rss {row['peak_rss_kib'] / 1024:.1f} MiB")
    return rows


def summary(title, names, rows, baseline, first_key, first_label, aa=(), second_baseline=None):
    """The Markdown table of medians: msg/s and CPU µs per message, each
    against `baseline` (and CPU against `second_baseline` too when given),
    the CPU's min–max, the first message's time and the peak RSS; then how
    far apart the A/A pairs' CPU medians are."""
    def vals(name, key):
        return [r[key] for r in rows if r["contender"] == name and "error" not in r]

    def med(name, key):
        xs = vals(name, key)
        return statistics.median(xs) if xs else None

    def ratio(x, base):
        return f"{x / base:.2f}×" if x is not None and base else "–"

    base_rate, base_cpu = med(baseline, "consume_msgs_per_s"), med(baseline, "cpu_us_per_msg")
    second_cpu = med(second_baseline, "cpu_us_per_msg") if second_baseline else None
    second = f" vs {second_baseline} |" if second_baseline else ""
    lines = [title, "",
             f"| contender | msg/s | vs raw | CPU µs/msg | vs raw |{second} CPU µs/msg min–max "
             f"| {first_label} | peak RSS MiB | ok reps |",
             "|---|---:|---:|---:|---:|" + ("---:|" if second_baseline else "") + "---:|---:|---:|---:|"]
    for name in names:
        rate, cpu = med(name, "consume_msgs_per_s"), med(name, "cpu_us_per_msg")
        first, rss = med(name, first_key), med(name, "peak_rss_kib")
        cpus = vals(name, "cpu_us_per_msg")
        if rate is None:
            lines.append(f"| {name} | failed | | | |{' |' if second_baseline else ''} | | | 0 |")
            continue
        extra = f" {ratio(cpu, second_cpu)} |" if second_baseline else ""
        lines.append(f"| {name} | {rate:,.0f} | {ratio(rate, base_rate)} | {cpu:.2f} | "
                     f"{ratio(cpu, base_cpu)} |{extra} {min(cpus):.2f}–{max(cpus):.2f} | "
                     f"{first * 1000:.0f} | {rss / 1024:.1f} | {len(cpus)} |")
    for a_name, b_name in aa:
        a, b = med(a_name, "cpu_us_per_msg"), med(b_name, "cpu_us_per_msg")
        if a and b:
            lines += ["", f"A/A ({a_name} vs {b_name}): CPU µs/msg medians differ by "
                          f"{abs(a - b) / min(a, b) * 100:.1f} %"]
    return "\n".join(lines)


def write_summary(out, text, log):
    """Prints the table and keeps it as `out/summary.md`."""
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text + "\n")
    print(text)
    log(f"results in {out}")
