#!/usr/bin/env python3
"""Kafka consumer comparison: bisslog-rs against a raw rdkafka consumer, same run.

There is no Kafka server on the development machines and the shared
harness has no Kafka phase, so this driver does for Kafka what
redis-compare.py does for Redis Streams, against librdkafka's mock
cluster, with the harness's own process helpers (`Group`, `tail`):

  * per repetition, for each contender, round-robin: a fresh one-broker
    mock cluster (`kafka-tool MODE=cluster`, pinned to CLIENT_CPUS, topic
    `bench.add` and its dead-letter topic `bench.add.dlq`, PARTITIONS
    partitions each, stopped by closing its stdin and
    then by its own pid), publish N records `{"a":i,"b":1,"c":2}` (with
    `message-id` and `content-type` headers, as bisslog-kafka writes them),
    start the watcher (polls the group's committed offsets until they reach
    the end of every partition), start the consumer pinned to SERVER_CPUS,
    and read from the watcher how long the topic took to drain; the
    consumer's CPU seconds (utime+stime, start-up and group join included)
    are read from /proc before it is stopped.

Contenders (binaries built by bench/bisslog-rs-mq, see bench/README.md):
  raw-rdkafka      kafka-tool MODE=consume: a BaseConsumer poll loop, decode
                   every payload, store its offset, commit the stored offsets
                   (async) every 256 records and when a poll comes back empty
  raw-rdkafka-again  raw-rdkafka a second time: an A/A pair of the baseline
  bisslog-rs       bisslog-rs-mq BROKER=kafka: the consumer trigger,
                   at-least-once, bisslog-kafka's and the runtime's defaults
  bisslog-rs-again the same as bisslog-rs, a second time: the A/A pair that
                   shows the noise
  bisslog-rs-inflight256  bisslog-rs with 256 messages in flight
                   (CONCURRENCY=256) instead of 16
  bisslog-rs-prefetch100k  bisslog-rs with a channel of 100,000 records
                   (PREFETCH=100000): the consumer thread never pauses the
                   partitions
  bisslog-rs-before  another build of bisslog-rs-mq (BEFORE_BIN, default
                   $BIN/bisslog-rs-mq-before) with the defaults: a change
                   against the build before it, in the same run
  bisslog-rs-before-again  the same build a second time (its A/A pair)

The mock cluster is not Kafka: it keeps the log in memory (no disk, no
replication, no page cache), and answers from librdkafka's own code. What
is compared is the consumer's CPU per message on the client side, where
both contenders run the same librdkafka.

With KAFKA_BOOTSTRAP set (host:port of a Kafka server, such as the Tansu
that .ci/run starts on 127.0.0.1:9092), each run uses fresh topics on that
server instead (`kafka-tool MODE=create`: `bench.add.<run>` and its
`.dlq`, PARTITIONS partitions, replication 1), made before the publisher
writes; the server is not restarted between runs and its topics are left.
The watcher waits for N committed records (EXPECT) rather than for the
partitions' watermarks, which Tansu 0.6 reports wrong.

Usage: python3 bench/kafka-compare.py   (knobs: N, MQ_REPS, CONTENDERS,
       PARTITIONS, SERVER_CPUS, CLIENT_CPUS, KAFKA_BOOTSTRAP, BENCH_WORK,
       HARNESS)
Prints a Markdown table of medians; every measurement goes to
$BENCH_WORK/results/kafka-<UTC timestamp>/raw.jsonl.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.environ.get("HARNESS") or os.path.join(HERE, "..", "..", "shared", "bench")
sys.path.insert(0, os.path.join(HARNESS, "lib"))
from bench import Group, log, tail  # noqa: E402  (the harness's helpers)
sys.path.insert(0, HERE)
import mq_compare  # noqa: E402  (what the broker comparisons share)

WORK = os.environ.get("BENCH_WORK") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "bisslog-bench")
BIN = os.path.join(WORK, "target", "release")
TOOL = os.path.join(BIN, "kafka-tool")
N = int(os.environ.get("N", "100000"))
REPS = int(os.environ.get("MQ_REPS", "5"))
PARTITIONS = os.environ.get("PARTITIONS", "3")
SERVER_CPUS = os.environ.get("SERVER_CPUS", "0")
CLIENT_CPUS = os.environ.get("CLIENT_CPUS", "1")
TIMEOUT_S = 180
TOPIC = "bench.add"
SERVER = os.environ.get("KAFKA_BOOTSTRAP", "")
BASELINE = "raw-rdkafka"

CONTENDERS = {
    "raw-rdkafka": ([TOOL], {"MODE": "consume"}),
    "raw-rdkafka-again": ([TOOL], {"MODE": "consume"}),
    "bisslog-rs": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "kafka", "INBOX": "0"}),
    "bisslog-rs-again": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "kafka", "INBOX": "0"}),
    "bisslog-rs-inflight256": ([os.path.join(BIN, "bisslog-rs-mq")],
                               {"BROKER": "kafka", "INBOX": "0", "CONCURRENCY": "256"}),
    "bisslog-rs-prefetch100k": ([os.path.join(BIN, "bisslog-rs-mq")],
                                {"BROKER": "kafka", "INBOX": "0", "PREFETCH": "100000"}),
    # Another build of bisslog-rs-mq (BEFORE_BIN), with the defaults: a
    # change measured against the build before it, in the same run.
    "bisslog-rs-before": ([os.environ.get("BEFORE_BIN", os.path.join(BIN, "bisslog-rs-mq-before"))],
                          {"BROKER": "kafka", "INBOX": "0"}),
    "bisslog-rs-before-again": ([os.environ.get("BEFORE_BIN", os.path.join(BIN, "bisslog-rs-mq-before"))],
                                {"BROKER": "kafka", "INBOX": "0"}),
}
DEFAULT_CONTENDERS = "raw-rdkafka,bisslog-rs,raw-rdkafka-again,bisslog-rs-again"
# The A/A pairs: the same contender twice.
AA = (("bisslog-rs", "bisslog-rs-again"), ("raw-rdkafka", "raw-rdkafka-again"),
      ("bisslog-rs-before", "bisslog-rs-before-again"))


class Cluster:
    """The mock cluster process: up until its stdin closes."""

    topic = TOPIC

    def __init__(self, logpath):
        self.logf = open(logpath, "ab")
        self.p = subprocess.Popen(
            ["taskset", "-c", CLIENT_CPUS, TOOL],
            env={**os.environ, "MODE": "cluster", "TOPIC": TOPIC, "PARTITIONS": PARTITIONS},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.logf, text=True)
        self.bootstrap = self.p.stdout.readline().strip()
        if not self.bootstrap:
            self.stop()
            raise RuntimeError("the mock cluster did not start: " + tail(logpath))

    def stop(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.terminate()  # its own pid
                self.p.wait(10)
        self.logf.close()


class Server:
    """Fresh topics on the server of KAFKA_BOOTSTRAP, one pair per run."""

    def __init__(self, name, rep):
        self.bootstrap = SERVER
        self.topic = f"{TOPIC}.{name}.{rep}.{time.time_ns()}"
        r = subprocess.run([TOOL], env={**os.environ, "BOOTSTRAP": SERVER, "TOPIC": self.topic,
                                        "MODE": "create", "PARTITIONS": PARTITIONS},
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"kafka-tool create: {r.stderr[-500:]}")

    def stop(self):
        pass


def tool(mode, bootstrap, topic, timeout=300):
    env = {**os.environ, "BOOTSTRAP": bootstrap, "TOPIC": topic, "MODE": mode, "N": str(N)}
    r = subprocess.run(["taskset", "-c", CLIENT_CPUS, TOOL], env=env,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"kafka-tool {mode}: {r.stderr[-500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def one_run(name, out, rep):
    argv, extra = CONTENDERS[name]
    if SERVER:
        cluster = Server(name, rep)
    else:
        cluster = Cluster(os.path.join(out, "logs", f"cluster-{name}-rep{rep}.log"))
    try:
        return measure(name, out, rep, argv, extra, cluster.bootstrap, cluster.topic)
    finally:
        cluster.stop()


def measure(name, out, rep, argv, extra, bootstrap, topic):
    pub = tool("publish", bootstrap, topic)
    watcher = subprocess.Popen(
        ["taskset", "-c", CLIENT_CPUS, TOOL],
        env={**os.environ, "BOOTSTRAP": bootstrap, "TOPIC": topic, "MODE": "watch",
             "TIMEOUT_S": str(TIMEOUT_S),
             # A fresh topic on the server: N records from offset 0 (Tansu's
             # watermarks are wrong, see kafka_tool.rs).
             **({"EXPECT": str(N)} if SERVER else {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = watcher.stdout.readline().strip()
    if line != "READY":
        watcher.kill()
        raise RuntimeError(f"watcher: {line} {watcher.stderr.read()[-500:]}")
    logpath = os.path.join(out, "logs", f"kafka-{name}-rep{rep}.log")
    env = {**os.environ, "BOOTSTRAP": bootstrap, "KAFKA_URL": f"kafka://{bootstrap}",
           "TOPIC": topic, "SUBJECT": topic, "BENCH_WORK": WORK, "RUST_LOG": "info", **extra}
    consumer = Group(argv, env=env, logpath=logpath, cpus=SERVER_CPUS)
    try:
        # A consumer that exits (cannot connect, cannot start) ends the run
        # at once rather than at the watcher's timeout.
        while watcher.poll() is None and consumer.alive():
            time.sleep(0.05)
        if watcher.poll() is None:
            raise RuntimeError("the consumer exited; its log: " + tail(logpath))
        wout, _ = watcher.communicate(timeout=30)
        cpu = consumer.cpu_seconds()
        rss = consumer.peak_rss_kib()
        alive = consumer.alive()
    finally:
        consumer.stop()
        if watcher.poll() is None:
            watcher.kill()  # its own pid
            watcher.wait()
    j = json.loads(wout.strip().splitlines()[-1])
    # Per record consumed: the mock sometimes drops a partition's oldest
    # records (its log is bounded; at N=100,000 a run now and then has
    # 80,000-90,000 left to consume), which the watcher counts (`n`).
    consumed = j.get("n") or N
    row = {"contender": name, "rep": rep, "publish_msgs_per_s": pub["publish_msgs_per_s"],
           "consumer_cpu_s": cpu, "cpu_us_per_msg": cpu / consumed * 1e6, "peak_rss_kib": rss,
           "alive_after": alive, **j}
    if j.get("timed_out"):
        row["error"] = "topic not drained within timeout; consumer log: " + tail(logpath)
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
    if not os.access(TOOL, os.X_OK):
        sys.exit(f"{TOOL} is missing: build bench/bisslog-rs-mq first (bench/README.md)")
    out = mq_compare.results_dir(WORK, "kafka")
    rows = mq_compare.run_rounds(names, REPS, one_run, out, log)
    where = f"the server at {SERVER}" if SERVER else "librdkafka mock cluster"
    title = (f"Kafka ({where}, {PARTITIONS} partitions) consumer, N={N}, "
             f"medians of {REPS} reps")
    # With an older build in the run, CPU is compared to it as well.
    before = "bisslog-rs-before" if "bisslog-rs-before" in names else None
    text = mq_compare.summary(title, names, rows, BASELINE, "first_read_s", "first commit ms", AA,
                              second_baseline=before)
    mq_compare.write_summary(out, text, log)


if __name__ == "__main__":
    main()
