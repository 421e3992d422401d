#!/usr/bin/env python3
"""RabbitMQ consumer comparison: bisslog-rs against raw lapin, same run.

The shared harness's `rabbitmq` phase measures only its own lapin tool
(publisher and consumer in one process) and has no contender slots, so this
driver does for RabbitMQ what the harness's `nats` phase does for NATS,
reusing the harness's process handling (`Group`, `wait_port`, `tail`):

  * a private rabbitmq-server on 127.0.0.1:$AMQP_PORT (default 15680),
    pinned to CLIENT_CPUS, booted from an empty temporary directory
    (configured exactly as the harness's phase) and stopped by its own
    process group at the end;
  * per repetition, for each contender, round-robin: publish N messages
    `{"a":i,"b":1,"c":2}` (durable, persistent, publisher confirms) to
    queue `bench.add`, start the watcher (polls the queue's ready count),
    start the consumer pinned to SERVER_CPUS, and read from the watcher how
    long the queue took to drain; the consumer's CPU seconds (utime+stime)
    are read from /proc before it is stopped.

Contenders (binaries built by bench/bisslog-rs-mq, see bench/README.md):
  raw-lapin        amqp-tool MODE=consume: basic.qos 500, decode, ack each
                   (awaited before the next delivery, as the harness's own
                   lapin consumer does)
  raw-lapin-pipelined  the same with up to 64 acks outstanding: the raw
                   consumer tuned as bisslog-rs runs (messages in flight)
  bisslog-rs       bisslog-rs-mq BROKER=amqp: the consumer trigger, at-least-once
  bisslog-rs-inbox bisslog-rs-mq BROKER=amqp INBOX=1: exactly-once, SQLite inbox
  raw-lapin-pipelined-again, bisslog-rs-again  the same a second time: the
                   A/A pairs that show the noise (not run unless named)

The watcher sees the *ready* count (AMQP has no unacked count without the
management plugin): "drained" means every message was delivered, with at
most one prefetch window (<= 512 here, 0.5% of N) still being acked.

Usage: python3 bench/amqp-compare.py   (knobs: N, MQ_REPS, CONTENDERS,
       AMQP_PORT, EPMD_PORT, SERVER_CPUS, CLIENT_CPUS, BENCH_WORK, HARNESS)
Prints a Markdown table of medians; every measurement goes to
$BENCH_WORK/results/amqp-<UTC timestamp>/raw.jsonl.
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
PORT = int(os.environ.get("AMQP_PORT", "15680"))
EPMD_PORT = int(os.environ.get("EPMD_PORT", "14380"))
SERVER_CPUS = os.environ.get("SERVER_CPUS", "0")
CLIENT_CPUS = os.environ.get("CLIENT_CPUS", "1")
TIMEOUT_S = 180
URL = f"amqp://guest:guest@127.0.0.1:{PORT}/%2f"

CONTENDERS = {
    "raw-lapin": ([os.path.join(BIN, "amqp-tool")], {"MODE": "consume"}),
    "raw-lapin-pipelined": ([os.path.join(BIN, "amqp-tool")], {"MODE": "consume-pipelined"}),
    "bisslog-rs": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "amqp", "INBOX": "0"}),
    # A/A pairs: the spread between two runs of one binary is the noise.
    "raw-lapin-pipelined-again": ([os.path.join(BIN, "amqp-tool")], {"MODE": "consume-pipelined"}),
    "bisslog-rs-again": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "amqp", "INBOX": "0"}),
    "bisslog-rs-inbox": ([os.path.join(BIN, "bisslog-rs-mq")], {"BROKER": "amqp", "INBOX": "1"}),
}


def boot_rabbitmq(base, logpath):
    with open(os.path.join(base, "rabbitmq.conf"), "w") as f:
        f.write(f"listeners.tcp.default = 127.0.0.1:{PORT}\nloopback_users.guest = true\n")
    with open(os.path.join(base, "enabled_plugins"), "w") as f:
        f.write("[].\n")
    cookie = os.path.join(base, ".erlang.cookie")
    with open(cookie, "w") as f:
        f.write("bisslogbenchcookie")
    os.chmod(cookie, 0o400)
    env = {**os.environ,
           "HOME": base,
           "RABBITMQ_NODENAME": "bisslogbench@localhost",
           "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
           "RABBITMQ_NODE_PORT": str(PORT),
           "RABBITMQ_DIST_PORT": str(PORT + 10000),
           "ERL_EPMD_ADDRESS": "127.0.0.1",
           "ERL_EPMD_PORT": str(EPMD_PORT),
           "RABBITMQ_MNESIA_BASE": os.path.join(base, "mnesia"),
           "RABBITMQ_LOG_BASE": os.path.join(base, "log"),
           "RABBITMQ_CONFIG_FILE": os.path.join(base, "rabbitmq.conf"),
           "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base, "enabled_plugins"),
           "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}"}
    server = Group(["/usr/lib/rabbitmq/bin/rabbitmq-server"], env=env, logpath=logpath,
                   cpus=CLIENT_CPUS)
    return server, env


def tool(mode, extra=None, timeout=300):
    env = {**os.environ, "AMQP_URL": URL, "MODE": mode, "N": str(N), **(extra or {})}
    r = subprocess.run(["taskset", "-c", CLIENT_CPUS, os.path.join(BIN, "amqp-tool")], env=env,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"amqp-tool {mode}: {r.stderr[-500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def one_run(name, out, rep):
    argv, extra = CONTENDERS[name]
    pub = tool("publish")
    watcher = subprocess.Popen(
        ["taskset", "-c", CLIENT_CPUS, os.path.join(BIN, "amqp-tool")],
        env={**os.environ, "AMQP_URL": URL, "MODE": "watch", "TIMEOUT_S": str(TIMEOUT_S)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = watcher.stdout.readline().strip()
    if line != "READY":
        raise RuntimeError(f"watcher: {line} {watcher.stderr.read()[-500:]}")
    logpath = os.path.join(out, "logs", f"amqp-{name}-rep{rep}.log")
    env = {**os.environ, "AMQP_URL": URL, "SUBJECT": "bench.add", "BENCH_WORK": WORK,
           "RUST_LOG": "info", **extra}
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
        row["error"] = "queue not drained within timeout; consumer log: " + tail(logpath)
    return row


def main():
    default = ",".join(n for n in CONTENDERS if not n.endswith("-again"))
    names = [n for n in os.environ.get("CONTENDERS", default).split(",") if n]
    for name in names:
        argv = CONTENDERS[name][0]
        if not os.access(argv[0], os.X_OK):
            sys.exit(f"{argv[0]} is missing: build bench/bisslog-rs-mq first (bench/README.md)")
    out = mq_compare.results_dir(WORK, "amqp")
    base = tempfile.mkdtemp(prefix="bench-rabbitmq-")
    server, env = boot_rabbitmq(base, os.path.join(out, "logs", "rabbitmq-server.log"))
    try:
        if not wait_port(PORT, 60):
            raise RuntimeError("rabbitmq-server did not open its port: "
                               + tail(os.path.join(out, "logs", "rabbitmq-server.log")))
        log(f"rabbitmq-server up on 127.0.0.1:{PORT}")
        rows = mq_compare.run_rounds(names, REPS, one_run, out, log)
    finally:
        server.stop(timeout=30)
        if shutil.which("epmd"):  # epmd daemonizes out of the server's group
            subprocess.run(["epmd", "-kill"], env=env, capture_output=True, timeout=10)
        shutil.rmtree(base, ignore_errors=True)
    text = mq_compare.summary(f"RabbitMQ consumer, N={N}, medians of {REPS} reps", names, rows,
                              "raw-lapin", "first_ack_s", "first ack ms",
                              second_baseline="raw-lapin-pipelined")
    mq_compare.write_summary(out, text, log)


if __name__ == "__main__":
    main()
