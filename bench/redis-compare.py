#!/usr/bin/env python3
"""Redis Streams consumer comparison: bisslog-rs against a raw redis client, same run.

The shared harness has no Redis phase, so this driver does for Redis
Streams what amqp-compare.py does for RabbitMQ, with the harness's own
process helpers (`Group`, `wait_port`, `tail`):

  * a private redis-server on 127.0.0.1:$REDIS_PORT (default 16390,
    `--save '' --appendonly no`, its files in an empty temporary
    directory), pinned to CLIENT_CPUS and stopped by its own process
    group at the end;
  * per repetition, for each contender, round-robin: publish N entries
    `body={"a":i,"b":1,"c":2}` (plus `message-id`, as bisslog-redis writes
    them) to a fresh stream `bench.add` (pipelined XADD), start the watcher
    (polls XINFO GROUPS until the consumer's group has pending + lag = 0),
    start the consumer pinned to SERVER_CPUS, and read from the watcher how
    long the stream took to drain; the consumer's CPU seconds (utime+stime,
    start-up included) are read from /proc before it is stopped.

Contenders (binaries built by bench/bisslog-rs-mq, see bench/README.md):
  raw-redis        redis-tool MODE=consume: XREADGROUP COUNT 256 BLOCK, decode
                   every body, one pipeline of per-entry XACKs per batch
  raw-redis-again  raw-redis a second time: an A/A pair of the baseline
  raw-redis-multi  redis-tool MODE=consume-multi: the same, one XACK with all
                   the batch's ids (the cheapest acknowledgement Redis has)
  bisslog-rs       bisslog-rs-mq BROKER=redis: the consumer trigger,
                   at-least-once, bisslog-redis's defaults (reads of 32)
  bisslog-rs-again the same as bisslog-rs, a second time: the A/A pair that
                   shows the noise
  bisslog-rs-batch256  bisslog-rs with `?read_batch=256` (reads as the raw
                   consumer's)
  bisslog-rs-inflight256  bisslog-rs-batch256 with 256 messages in flight
                   (CONCURRENCY=256) instead of 16: more acknowledgements
                   share each write to the socket
  bisslog-rs-inbox bisslog-rs-mq BROKER=redis INBOX=1: exactly-once, SQLite inbox
  bisslog-rs-before  another build of bisslog-rs-mq (BEFORE_BIN, default
                   $BIN/bisslog-rs-mq-before) with the defaults: a change
                   against the build before it, in the same run

Because the stream is deleted and published again before every run, the
only group the watcher sees is the one of the consumer under test.

Usage: python3 bench/redis-compare.py   (knobs: N, MQ_REPS, CONTENDERS,
       REDIS_PORT, SERVER_CPUS, CLIENT_CPUS, BENCH_WORK, HARNESS)
Prints a Markdown table of medians; every measurement goes to
$BENCH_WORK/results/redis-<UTC timestamp>/raw.jsonl.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.environ.get("HARNESS") or os.path.join(HERE, "..", "..", "shared", "bench")
sys.path.insert(0, os.path.join(HARNESS, "lib"))
from bench import Group, log, tail, wait_port  # noqa: E402  (the harness's helpers)
sys.path.insert(0, HERE)
import mq_compare  # noqa: E402  (what the broker comparisons share)

WORK = os.environ.get("BENCH_WORK") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "bisslog-bench")
BIN = os.path.join(WORK, "target", "release")
N = int(os.environ.get("N", "100000"))
REPS = int(os.environ.get("MQ_REPS", "5"))
PORT = int(os.environ.get("REDIS_PORT", "16390"))
SERVER_CPUS = os.environ.get("SERVER_CPUS", "0")
CLIENT_CPUS = os.environ.get("CLIENT_CPUS", "1")
TIMEOUT_S = 180
URL = f"redis://127.0.0.1:{PORT}/0"
BASELINE = "raw-redis"

CONTENDERS = {
    "raw-redis": ([os.path.join(BIN, "redis-tool")], {"MODE": "consume"}),
    "raw-redis-again": ([os.path.join(BIN, "redis-tool")], {"MODE": "consume"}),
    "raw-redis-multi": ([os.path.join(BIN, "redis-tool")], {"MODE": "consume-multi"}),
    "bisslog-rs": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "redis", "INBOX": "0"}),
    "bisslog-rs-again": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "redis", "INBOX": "0"}),
    "bisslog-rs-batch256": ([os.path.join(BIN, "bisslog-rs-mq")],
                            {"BROKER": "redis", "INBOX": "0", "REDIS_URL": URL + "?read_batch=256"}),
    "bisslog-rs-inflight256": ([os.path.join(BIN, "bisslog-rs-mq")],
                               {"BROKER": "redis", "INBOX": "0", "CONCURRENCY": "256",
                                "REDIS_URL": URL + "?read_batch=256"}),
    "bisslog-rs-inbox": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "redis", "INBOX": "1"}),
    # Another build of bisslog-rs-mq (BEFORE_BIN), with the defaults: a
    # change measured against the build before it, in the same run.
    "bisslog-rs-before": ([os.environ.get("BEFORE_BIN", os.path.join(BIN, "bisslog-rs-mq-before"))],
                          {"BROKER": "redis", "INBOX": "0"}),
}
DEFAULT_CONTENDERS = "raw-redis,bisslog-rs,bisslog-rs-again"
# The A/A pairs: the same contender twice.
AA = (("bisslog-rs", "bisslog-rs-again"), ("raw-redis", "raw-redis-again"))


def boot_redis(base, logpath):
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(PORT), "--save", "",
            "--appendonly", "no", "--dir", base, "--daemonize", "no"]
    return Group(argv, logpath=logpath, cpus=CLIENT_CPUS)


def tool(mode, extra=None, timeout=300):
    env = {**os.environ, "REDIS_URL": URL, "MODE": mode, "N": str(N), **(extra or {})}
    r = subprocess.run(["taskset", "-c", CLIENT_CPUS, os.path.join(BIN, "redis-tool")], env=env,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"redis-tool {mode}: {r.stderr[-500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def one_run(name, out, rep):
    argv, extra = CONTENDERS[name]
    pub = tool("publish")
    watcher = subprocess.Popen(
        ["taskset", "-c", CLIENT_CPUS, os.path.join(BIN, "redis-tool")],
        env={**os.environ, "REDIS_URL": URL, "MODE": "watch", "TIMEOUT_S": str(TIMEOUT_S)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = watcher.stdout.readline().strip()
    if line != "READY":
        raise RuntimeError(f"watcher: {line} {watcher.stderr.read()[-500:]}")
    logpath = os.path.join(out, "logs", f"redis-{name}-rep{rep}.log")
    env = {**os.environ, "REDIS_URL": URL, "SUBJECT": "bench.add", "STREAM": "bench.add",
           "BENCH_WORK": WORK, "RUST_LOG": "info", **extra}
    consumer = Group(argv, env=env, logpath=logpath, cpus=SERVER_CPUS)
    try:
        wout, _ = watcher.communicate(timeout=TIMEOUT_S + 30)
        cpu = consumer.cpu_seconds()
        rss = consumer.peak_rss_kib()
        alive = consumer.alive()
    finally:
        consumer.stop()
    j = json.loads(wout.strip().splitlines()[-1])
    row = {"contender": name, "rep": rep, "publish_msgs_per_s": pub["publish_msgs_per_s"],
           "consumer_cpu_s": cpu, "cpu_us_per_msg": cpu / N * 1e6, "peak_rss_kib": rss,
           "alive_after": alive, **j}
    if j.get("timed_out"):
        row["error"] = "stream not drained within timeout; consumer log: " + tail(logpath)
    elif not alive:
        row["error"] = "the consumer exited; its log: " + tail(logpath)
    return row


def main():
    names = [n for n in os.environ.get("CONTENDERS", DEFAULT_CONTENDERS).split(",") if n]
    for name in names:
        if name not in CONTENDERS:
            sys.exit(f"unknown contender {name}: one of {', '.join(CONTENDERS)}")
        argv = CONTENDERS[name][0]
        if not os.access(argv[0], os.X_OK):
            sys.exit(f"{argv[0]} is missing: build bench/bisslog-rs-mq first (bench/README.md)")
    if not shutil.which("redis-server"):
        sys.exit("redis-server is missing (apt-get install redis-server)")
    out = mq_compare.results_dir(WORK, "redis")
    base = tempfile.mkdtemp(prefix="bench-redis-")
    server = boot_redis(base, os.path.join(out, "logs", "redis-server.log"))
    try:
        if not wait_port(PORT, 30):
            raise RuntimeError("redis-server did not open its port: "
                               + tail(os.path.join(out, "logs", "redis-server.log")))
        log(f"redis-server up on 127.0.0.1:{PORT}")
        rows = mq_compare.run_rounds(names, REPS, one_run, out, log)
    finally:
        server.stop(timeout=30)
        shutil.rmtree(base, ignore_errors=True)
    text = mq_compare.summary(f"Redis Streams consumer, N={N}, medians of {REPS} reps", names, rows,
                              BASELINE, "first_read_s", "first read ms", AA)
    mq_compare.write_summary(out, text, log)


if __name__ == "__main__":
    main()
