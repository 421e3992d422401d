#!/usr/bin/env python3
"""The system path end to end (issue 18): importer -> queue -> registry ->
outbox -> broker -> audit, in events per second and CPU per event, on each
broker, against the registry's direct HTTP insertion measured in the same run.

For every measurement the script starts the processes afresh on 127.0.0.1
with a fresh directory of SQLite files (the registry's database, the
audit's, the SQL broker's) and, on NATS and RabbitMQ, a queue namespace of
its own (`BROKER_NAMESPACE=sp<run>n<k>.`, its streams or queues deleted
afterwards), registers the `language` schema, and then:

  * `sql`, `in-process` (the embedded default and the memory broker): one
    process, the registry with the audit service and the importer in it;
  * `nats`, `amqp`: three processes, `company-data-registry`,
    `company-data-audit` and `company-data-importer`, on the servers of
    BISSLOG_TEST_NATS_URL / BISSLOG_TEST_AMQP_URL (the machine's);
    submits N records (`POST /imports/language`, batches of BATCH, SUBMIT_CONC
    batches in flight) and polls the audit service's `/metrics` every
    POLL_S (`bisslog_use_case_calls_total{use_case="record_insertion",
    outcome="success"}`, the audit's count of recorded insertions) until it
    reaches N, at most TIMEOUT_S. Events/s = N / (first submit -> N-th
    audited). CPU = utime+stime from /proc/<pid>/stat over that window, per
    process, and of the broker server (nats-server, RabbitMQ's beam.smp:
    shared with whatever else uses it, so reported beside the total, not in
    it);
  * `http` (the baseline): the registry alone (`company-data-registry` on
    NATS, nothing consuming its events) and the same N records sent one per
    `POST /company/data/language` from CONC concurrent keep-alive clients,
    until the N-th `201` and its outbox is relayed (no row left with
    `published_at_ms` null). It includes HTTP, the JSON Schema check, the
    record and its outbox event in one SQLite transaction, and the relay's
    publication to NATS (the relay cannot be switched off); not the queue
    hop, the importer, nor any consumer.

After each run the audit's database must hold exactly N rows of N distinct
uids and the registry's N records (a lost or doubled event fails the run),
and the WARN/ERROR lines of the logs are counted. Every process is stopped
by its own pid (SIGTERM, SIGKILL after 30 s, reported).

PERF=1 adds, after the measured rounds, one run of PERF_CONTENDER (default
`amqp`) with `perf record --call-graph dwarf` on the registry process over
the timed window, and prints its top symbols (not in the table: the
profiler slows what it watches).

Usage (binaries: see bench/README.md):
  python3 bench/system-path.py   # N=20000 REPS=3 CONTENDERS=http,sql,in-process,nats,amqp
Knobs: N, BATCH (1000), SUBMIT_CONC (2), CONC (16), REPS, CONTENDERS,
BIN_DIR (default $CARGO_TARGET_DIR/release or target/release), BASE_PORT
(18501), TIMEOUT_S (600), POLL_S (0.2), BENCH_WORK, PERF, PERF_CONTENDER, PERF_ARGS.
Prints one line per run, then the Markdown table of medians; every run goes
to $BENCH_WORK/results/system-path-<UTC timestamp>/raw.jsonl, logs beside.
"""
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import mq_compare  # noqa: E402  (results_dir, write_summary)

WORK = os.environ.get("BENCH_WORK") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "bisslog-bench")
BIN = os.environ.get("BIN_DIR") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "release")
N = int(os.environ.get("N", "20000"))
BATCH = int(os.environ.get("BATCH", "1000"))
SUBMIT_CONC = int(os.environ.get("SUBMIT_CONC", "2"))
CONC = int(os.environ.get("CONC", "16"))
REPS = int(os.environ.get("REPS", "3"))
BASE_PORT = int(os.environ.get("BASE_PORT", "18501"))
TIMEOUT_S = float(os.environ.get("TIMEOUT_S", "600"))
POLL_S = float(os.environ.get("POLL_S", "0.2"))
NATS_URL = os.environ.get("BISSLOG_TEST_NATS_URL", "nats://127.0.0.1:4222")
AMQP_URL = os.environ.get("BISSLOG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
SCHEMA_FILE = os.path.join(ROOT, "examples", "company-data-registry", "tests", "language.schema.json")
CONTENDERS = ["http", "sql", "in-process", "nats", "amqp"]
BROKER_SERVER = {"http": "nats-server", "nats": "nats-server", "amqp": "beam.smp"}
# `perf record`'s call-graph options; "" samples self time only, which
# slows the system far less than dwarf unwinding.
PERF_ARGS = os.environ.get("PERF_ARGS", "--call-graph dwarf,16384")
TICK = os.sysconf("SC_CLK_TCK")
RUN_ID = time.strftime("%H%M%S", time.gmtime())


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def record(i):
    """The i-th `language` record: valid, and distinct by name."""
    return {"code": "es", "name": f"language {i}", "emoji": "🇪🇸", "translations": {"en": f"Language {i}"}}


# --- processes -------------------------------------------------------------

def cpu_ticks(pid):
    """utime + stime of `pid`, in clock ticks (its threads included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_ticks():
    """(busy, total) jiffies of every CPU, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def pid_of(name):
    r = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
    pids = r.stdout.split()
    return int(pids[0]) if len(pids) == 1 else None


class Proc:
    """A server this script started, stopped by its own pid."""

    def __init__(self, role, argv, env, logpath):
        self.role, self.logpath = role, logpath
        self.log = open(logpath, "w")
        self.p = subprocess.Popen(argv, env={**os.environ, **env}, stdout=self.log,
                                  stderr=subprocess.STDOUT, cwd=os.path.dirname(logpath))

    def stop(self):
        """SIGTERM, then SIGKILL after 30 s; returns a problem or None."""
        problem = None
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()
                problem = f"{self.role} did not stop within 30 s of SIGTERM (killed)"
        else:
            problem = f"{self.role} had exited ({self.p.returncode}) before the end"
        self.log.close()
        if problem is None and self.p.returncode not in (0,):
            problem = f"{self.role} exited {self.p.returncode} after SIGTERM"
        return problem


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait_ready(proc, port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.p.poll() is not None:
            raise RuntimeError(f"{proc.role} exited {proc.p.returncode}: {tail(proc.logpath)}")
        try:
            if get(f"http://127.0.0.1:{port}/health/ready", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{proc.role} not ready on {port} within {timeout} s: {tail(proc.logpath)}")


def tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().splitlines()[-lines:])
    except OSError:
        return ""


# --- the HTTP client -------------------------------------------------------

async def _exchange(reader, writer, port, path, body):
    data = json.dumps(body).encode()
    writer.write(f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
                 f"content-length: {len(data)}\r\n\r\n".encode() + data)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-length":
            length = int(value)
        elif key.strip().lower() == "transfer-encoding":
            raise RuntimeError("chunked answers are not handled")
    answer = await reader.readexactly(length)
    return status, answer


async def _post_all(port, path, bodies, conc):
    """POSTs every body from `conc` keep-alive connections; the statuses
    and the first unexpected answer."""
    queue = list(reversed(bodies))
    statuses, odd = [], []

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                status, answer = await _exchange(reader, writer, port, path, queue.pop())
                statuses.append(status)
                if status >= 300 and not odd:
                    odd.append(answer[:300])
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(conc)))
    return statuses, odd


def post_all(port, path, bodies, conc):
    return asyncio.run(_post_all(port, path, bodies, conc))


# --- the broker's leftovers ------------------------------------------------

def nats_delete_streams(prefix):
    """Deletes the JetStream streams whose subjects start with `prefix`,
    over the NATS protocol (no client library needed)."""
    import socket
    host, port = NATS_URL.split("//", 1)[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    f = s.makefile("rb")
    f.readline()  # INFO

    def request(subject, payload):
        data = json.dumps(payload).encode()
        s.sendall(b'CONNECT {"verbose":false}\r\nSUB _sp.reply 1\r\n'
                  + f"PUB {subject} _sp.reply {len(data)}\r\n".encode() + data + b"\r\n")
        while True:
            line = f.readline()
            if line.startswith(b"MSG"):
                size = int(line.split()[-1])
                body = f.read(size + 2)[:size]
                return json.loads(body)
            if line.startswith(b"PING"):
                s.sendall(b"PONG\r\n")
            if not line:
                raise RuntimeError("NATS closed the connection")

    names = request("$JS.API.STREAM.NAMES", {"subject": prefix + ">"}).get("streams") or []
    for name in names:
        request(f"$JS.API.STREAM.DELETE.{name}", {})
    s.close()
    return len(names)


def amqp_delete_queues(prefix):
    """Deletes this run's RabbitMQ queues (rabbitmqctl, on this machine)."""
    r = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True, text=True,
                       timeout=120)
    names = [q for q in r.stdout.split() if q.startswith(prefix)]
    for q in names:
        subprocess.run(["rabbitmqctl", "-q", "delete_queue", q], capture_output=True, timeout=60)
    return len(names)


# --- one run ---------------------------------------------------------------

def audited(port):
    """The audit's count of recorded insertions, from its /metrics."""
    _, body = get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    total = 0.0
    for line in body.decode().splitlines():
        if (line.startswith("bisslog_use_case_calls_total{") and 'use_case="record_insertion"' in line
                and 'outcome="success"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def count(db, sql):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def start(name, d, ns):
    """Starts `name`'s processes in `d`; returns them by role and their ports."""
    reg, aud, imp = BASE_PORT, BASE_PORT + 1, BASE_PORT + 2
    common = {"RUST_LOG": os.environ.get("RUST_LOG", "info"), "HOST": "127.0.0.1"}
    data = f"sqlite://{d}/data.db"
    procs = {}
    if name in ("sql", "in-process"):
        broker = f"sqlite://{d}/broker.db" if name == "sql" else "in-process"
        procs["registry"] = Proc("registry", [os.path.join(BIN, "company-data-registry")], {
            **common, "PORT": str(reg), "AUDIT_PORT": str(aud), "IMPORTER_PORT": str(imp),
            "DATABASE_URL": data, "AUDIT_DATABASE_URL": f"sqlite://{d}/audit.db",
            "BROKER_URL": broker}, os.path.join(d, "registry.log"))
        wait_ready(procs["registry"], reg)
        wait_ready(procs["registry"], aud)
        wait_ready(procs["registry"], imp)
        return procs, reg, aud, imp
    broker = AMQP_URL if name == "amqp" else NATS_URL
    ext = {**common, "BROKER_URL": broker, "BROKER_NAMESPACE": ns}
    procs["registry"] = Proc("registry", [os.path.join(BIN, "company-data-registry")], {
        **ext, "PORT": str(reg), "DATABASE_URL": data}, os.path.join(d, "registry.log"))
    wait_ready(procs["registry"], reg)
    if name == "http":
        return procs, reg, None, None
    procs["audit"] = Proc("audit", [os.path.join(BIN, "company-data-audit")], {
        **ext, "PORT": str(aud), "DATABASE_URL": f"sqlite://{d}/audit.db"}, os.path.join(d, "audit.log"))
    procs["importer"] = Proc("importer", [os.path.join(BIN, "company-data-importer")], {
        **ext, "PORT": str(imp), "REGISTRY_URL": f"http://127.0.0.1:{reg}",
        "REGISTRY_DATABASE_URL": data}, os.path.join(d, "importer.log"))
    wait_ready(procs["audit"], aud)
    wait_ready(procs["importer"], imp)
    return procs, reg, aud, imp


def register_schema(port):
    with open(SCHEMA_FILE) as f:
        definition = json.load(f)
    statuses, odd = post_all(port, "/schemas", [{
        "schema_keyname": "language", "schema_name": "Language", "schema_description": "Language schema",
        "current_schema_definition": definition}], 1)
    if statuses != [201]:
        raise RuntimeError(f"schema registration answered {statuses}: {odd}")


def snapshot(procs, server_pid):
    cpu = {role: cpu_ticks(p.p.pid) for role, p in procs.items()}
    if server_pid:
        cpu["broker-server"] = cpu_ticks(server_pid)
    return cpu


def log_problems(d):
    """WARN and ERROR lines in the run's logs, by file, and the first one."""
    counts, first = {}, None
    for fname in sorted(os.listdir(d)):
        if not fname.endswith(".log"):
            continue
        with open(os.path.join(d, fname), errors="replace") as f:
            for line in f:
                # The start-up's `authorization-not-enforced` warnings are
                # expected (no authentication configured), not problems.
                if ("][WARN][" in line or "][ERROR][" in line) and "authorization-not-enforced" not in line:
                    counts[fname] = counts.get(fname, 0) + 1
                    first = first or line.strip()[:400]
    return counts, first


def one_run(name, out, k, perf=False):
    d = os.path.join(out, "runs", f"{k}-{name}" + ("-perf" if perf else ""))
    os.makedirs(d)
    ns = f"sp{RUN_ID}n{k}."
    row = {"contender": name, "k": k, "loadavg_before": open("/proc/loadavg").read().split()[:3]}
    procs = {}
    perf_proc = None
    try:
        procs, reg, aud, imp = start(name, d, ns)
        register_schema(reg)
        server_pid = pid_of(BROKER_SERVER[name]) if name in BROKER_SERVER else None
        if perf:
            perf_proc = subprocess.Popen(
                ["perf", "record", "-F", "499", *PERF_ARGS.split(), "-p", str(procs["registry"].p.pid),
                 "-o", os.path.join(d, "perf.data")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1)  # perf attaches before the timed window; not a synchronisation of the system
        c0, m0, t0 = snapshot(procs, server_pid), machine_ticks(), time.monotonic()
        if name == "http":
            statuses, odd = post_all(reg, "/company/data/language", [record(i) for i in range(N)], CONC)
            row["last_answer_s"] = time.monotonic() - t0
            ok = statuses.count(201)
            db = os.path.join(d, "data.db")
            pending_sql = "SELECT COUNT(*) FROM bisslog_outbox WHERE published_at_ms IS NULL"
            while count(db, pending_sql)[0] > 0 and time.monotonic() - t0 < TIMEOUT_S:
                time.sleep(POLL_S)
            done = ok
            if ok != N:
                row["error"] = f"{N - ok} insertions not 201 (first: {odd})"
        else:
            batches = [{"records": [record(i) for i in range(s, min(s + BATCH, N))]} for s in range(0, N, BATCH)]
            statuses, odd = post_all(imp, "/imports/language", batches, SUBMIT_CONC)
            row["submitted_s"] = time.monotonic() - t0
            if statuses.count(202) != len(batches):
                raise RuntimeError(f"imports answered {sorted(set(statuses))}: {odd}")
            done = audited(aud)
            while done < N and time.monotonic() - t0 < TIMEOUT_S:
                time.sleep(POLL_S)
                done = audited(aud)
        t1, m1, c1 = time.monotonic(), machine_ticks(), snapshot(procs, server_pid)
        if perf_proc:
            perf_proc.send_signal(signal.SIGINT)
            perf_proc.wait(timeout=120)
            perf_proc = None
        secs = t1 - t0
        row.update({"seconds": secs, "events_per_s": done / secs, "done": done,
                    "machine_busy_pct": 100 * (m1[0] - m0[0]) / max(m1[1] - m0[1], 1)})
        for role in c1:
            row[f"cpu_us_{role}"] = (c1[role] - c0[role]) / TICK / max(done, 1) * 1e6
        row["cpu_us_total"] = sum(v for key, v in row.items()
                                  if key.startswith("cpu_us_") and key not in ("cpu_us_broker-server",))
        if done < N and "error" not in row:
            row["error"] = f"only {done} of {N} audited within {TIMEOUT_S} s"
        # What was kept: every record once in the registry, every event once in the audit.
        records = count(os.path.join(d, "data.db"), "SELECT COUNT(*) FROM records")[0]
        row["registry_records"] = records
        if name != "http":
            rows, uids = count(os.path.join(d, "audit.db"),
                               "SELECT COUNT(*), COUNT(DISTINCT uid) FROM audit_insertions")
            row["audit_rows"], row["audit_uids"] = rows, uids
            if (rows, uids, records) != (N, N, N) and "error" not in row:
                row["error"] = f"kept: {records} records, {rows} audit rows, {uids} distinct uids; expected {N}"
        elif records != N and "error" not in row:
            row["error"] = f"kept {records} records, expected {N}"
    except Exception as e:  # one failed run must not lose the others
        row["error"] = repr(e)
    finally:
        if perf_proc:
            perf_proc.send_signal(signal.SIGINT)
            perf_proc.wait(timeout=120)
        stops = [p.stop() for p in procs.values()]
        stop_problems = [s for s in stops if s]
        if stop_problems:
            row["stop_problems"] = stop_problems
        if name in ("nats", "amqp", "http"):
            try:
                row["broker_leftovers_deleted"] = (amqp_delete_queues(ns) if name == "amqp"
                                                   else nats_delete_streams(ns))
            except Exception as e:
                row["cleanup_error"] = repr(e)
        row["log_problems"], row["first_log_problem"] = log_problems(d)
        row["dir"] = d
    return row


# --- rounds and table ------------------------------------------------------

def fmt(row):
    if "error" in row:
        return f"{row['contender']}: FAILED {row['error']}"
    cpus = " ".join(f"{k[7:]}={v:.0f}" for k, v in row.items() if k.startswith("cpu_us_"))
    return (f"{row['contender']}: {row['events_per_s']:,.0f} events/s in {row['seconds']:.1f} s, "
            f"CPU µs/event {cpus}, machine busy {row['machine_busy_pct']:.0f} %, "
            f"log WARN/ERROR {row['log_problems'] or 0}")


def summary(names, rows):
    def med(name, key):
        xs = [r[key] for r in rows if r["contender"] == name and "error" not in r and key in r]
        return (statistics.median(xs), min(xs), max(xs), len(xs)) if xs else None

    base = med("http", "events_per_s")
    base_cpu = med("http", "cpu_us_total")
    lines = [f"System path, N={N} (batches of {BATCH}, {SUBMIT_CONC} in flight; baseline: {CONC} HTTP clients), "
             f"medians of {REPS} (min–max)", "",
             "| path | events/s | vs http | CPU µs/event: registry | audit | importer | total | vs http "
             "| broker server | machine busy % | ok runs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        rate = med(name, "events_per_s")
        if not rate:
            lines.append(f"| {name} | failed | | | | | | | | | 0 |")
            continue

        def cell(key):
            m = med(name, key)
            return f"{m[0]:,.0f} ({m[1]:,.0f}–{m[2]:,.0f})" if m else "–"
        total = med(name, "cpu_us_total")
        ratio = f"{rate[0] / base[0]:.2f}×" if base else "–"
        cpu_ratio = f"{total[0] / base_cpu[0]:.2f}×" if base_cpu else "–"
        busy = med(name, "machine_busy_pct")
        lines.append(f"| {name} | {cell('events_per_s')} | {ratio} | {cell('cpu_us_registry')} | "
                     f"{cell('cpu_us_audit')} | {cell('cpu_us_importer')} | {cell('cpu_us_total')} | {cpu_ratio} | "
                     f"{cell('cpu_us_broker-server')} | {busy[0]:.0f} | {rate[3]} |")
    lines += ["", "(`sql` and `in-process` are one process: its whole CPU is in the registry column; "
              "the broker server's CPU includes anything else using that server.)"]
    return "\n".join(lines)


def perf_report(d, log_fn):
    data = os.path.join(d, "perf.data")
    # Self time only: `--children` over dwarf call graphs of a 45 s run did
    # not finish in 7 minutes on the development machine.
    try:
        r = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "sym", "--stdio",
                            "--percent-limit", "1", "-g", "none"], capture_output=True, text=True,
                           timeout=600)
    except subprocess.TimeoutExpired:
        log_fn(f"perf report took over 600 s; run it by hand on {data}")
        return
    path = os.path.join(d, "perf-report.txt")
    with open(path, "w") as f:
        f.write(r.stdout)
    log_fn(f"perf report: {path}")


def main():
    names = [n for n in os.environ.get("CONTENDERS", ",".join(CONTENDERS)).split(",") if n]
    for n in names:
        if n not in CONTENDERS:
            sys.exit(f"unknown contender {n}; known: {', '.join(CONTENDERS)}")
    for binary in ("company-data-registry", "company-data-audit", "company-data-importer"):
        if not os.access(os.path.join(BIN, binary), os.X_OK):
            sys.exit(f"{os.path.join(BIN, binary)} missing: build it first (bench/README.md)")
    out = mq_compare.results_dir(WORK, "system-path")
    log(f"results in {out}; N={N}, REPS={REPS}, contenders {names}")
    rows, k = [], 0
    with open(os.path.join(out, "raw.jsonl"), "a") as raw:
        for rep in range(1, REPS + 1):
            # Round robin, the order rotated every repetition.
            order = names[rep - 1:] + names[:rep - 1]
            for name in order:
                k += 1
                row = one_run(name, out, k)
                row["rep"] = rep
                raw.write(json.dumps(row) + "\n")
                raw.flush()
                rows.append(row)
                log(f"rep {rep} {fmt(row)}")
        if os.environ.get("PERF") == "1":
            name = os.environ.get("PERF_CONTENDER", "amqp")
            k += 1
            row = one_run(name, out, k, perf=True)
            row["rep"] = "perf"
            raw.write(json.dumps(row) + "\n")
            log(f"perf run {fmt(row)}")
            perf_report(row["dir"], log)
    mq_compare.write_summary(out, summary(names, rows), log)


if __name__ == "__main__":
    main()
