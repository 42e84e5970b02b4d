"""deploy/gunicorn.conf.py: loads, holds long streams, and serves Plume for real."""
from __future__ import annotations

import base64
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import requests

from ..api.attachment_files import make_pdf
from ..fakes.upstream import Behaviour, FakeUpstream

from .conftest import (DEPLOY, ENTRY_POINT, ROOT, VENV_BIN, app_environment, free_port,
                       setting_default)

CHECKS = {"deploy/gunicorn.conf.py"}


def test_check_config_loads_the_config_and_the_app(database_url):
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--check-config", "-c", "deploy/gunicorn.conf.py", ENTRY_POINT],
        cwd=ROOT, env=app_environment(database_url), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def test_event_loop_workers_hold_the_gateways_target_of_open_streams(gunicorn_settings):
    assert gunicorn_settings["worker_class"] == "backend.serving.GeventWorker"
    # Two cores, two workers: 200 concurrent streams per instance (issue 3's target), even
    # when the kernel hands them all to one worker.
    assert int(gunicorn_settings["worker_connections"]) >= 200
    # Each worker opens its own database pool after the fork.
    assert gunicorn_settings["preload_app"] == "False"


def test_the_master_finding_the_worker_class_loads_no_room(gunicorn_settings):
    """The master imports the worker class before forking and before gevent patches the
    worker: a room imported then would keep real OS locks in every worker, and one greenlet
    waiting on a lock another holds froze the worker (20 uploads at once, forever)."""
    script = ("import sys; from gunicorn.util import load_class; load_class(sys.argv[1]); "
              "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'backend')))")
    result = subprocess.run([str(VENV_BIN / "python"), "-c", script, gunicorn_settings["worker_class"]],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["backend", "backend.serving", "backend.version"]


def test_timeouts_fit_the_gateway_and_the_proxy(gunicorn_settings):
    longest_call = setting_default("PLUME_LLM_TIMEOUT_TOTAL")
    assert int(gunicorn_settings["graceful_timeout"]) > longest_call
    nginx = (DEPLOY / "nginx" / "plume.conf").read_text(encoding="utf-8")
    upstream_idle = int(re.search(r"upstream plume_backend \{[^}]*keepalive_timeout (\d+)s;",
                                  nginx).group(1))
    assert int(gunicorn_settings["keepalive"]) > upstream_idle


def test_access_lines_come_from_plume_only(gunicorn_settings):
    assert gunicorn_settings["accesslog"] == "None"
    assert gunicorn_settings["errorlog"] == "-"


class Served(NamedTuple):
    url: str
    process: subprocess.Popen


@contextmanager
def serve(database_url: str, **settings: str) -> Iterator[Served]:
    """Plume under gunicorn with deploy/gunicorn.conf.py, one worker; yields its base URL and
    process, and checks that it stops cleanly (with SIGTERM, unless the test sent it), without
    an error in gunicorn's log."""
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", ENTRY_POINT], cwd=ROOT,
        env=app_environment(database_url, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1",
                            **settings),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                # The port is bound before the worker has loaded the app: wait for it.
                health = requests.get(f"{base}/healthz", timeout=(2, 90))
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read()[-3000:]
                time.sleep(0.1)
        assert health.status_code == 200
        yield Served(base, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr and "[ERROR]" not in stderr, stderr[-3000:]


def test_gunicorn_serves_plume_with_this_config_and_stops_cleanly(database_url):
    """Also while a client (nginx does) keeps an idle keep-alive connection open: the worker
    closes it rather than waiting for gunicorn's 75 s keep-alive timeout (serve() gives the
    stop 60 s)."""
    with requests.Session() as proxy:
        with serve(database_url) as plume:
            base = plume.url
            assert proxy.get(f"{base}/readyz", timeout=5).status_code == 200
            pane = proxy.get(f"{base}/addin/word/", timeout=5)
            assert pane.status_code == 200 and "Plume" in pane.text
            assert len(proxy.adapters["http://"].poolmanager.pools) == 1  # kept alive


def test_one_worker_relays_many_answers_at_once(database_url):
    """One gevent worker, 20 answers asked at once, half of them on a PDF attachment (read in
    a native thread): all are open on the host together, and each arrives whole. Nothing on
    the way (database calls, reading the file) may hold the loop."""
    streams = 20
    attachment = {"filename": "ordonnance.pdf", "content": base64.b64encode(make_pdf()).decode()}
    with FakeUpstream(token_delay=0.1, reply=" ".join(["mot"] * 15)) as upstream:
        # The host answers none until all are open at once (or 30 s went by): a worker that held
        # its loop (a file read, a lock) keeps some from arriving, and the count below falls short.
        upstream.hold_until_active = streams
        with serve(database_url, PLUME_LLM_BASE_URL=upstream.url, PLUME_LLM_MODEL="fake-chat") as plume:
            base = plume.url

            def ask(number: int) -> str:
                path, body = (("attachments/summarize", attachment) if number % 2 else
                              ("assist/rewrite", {"text": "Un texte."}))
                response = requests.post(f"{base}/api/v1/{path}", json=body, timeout=60)
                assert response.status_code == 200, response.text
                return response.text

            with ThreadPoolExecutor(streams) as pool:
                answers = list(pool.map(ask, range(streams)))
        assert upstream.max_active == streams
        prompts = [r.json["messages"][-1]["content"] for r in upstream.chat_requests()]
    for answer in answers:
        assert answer.count("event: delta") == 15 and "event: done" in answer
    assert sum("RG n° 24/01234" in prompt for prompt in prompts) == streams // 2


def test_a_silent_host_is_cut_by_the_watchdog_inside_the_event_loop(database_url):
    """The watchdog closes the host's response from another greenlet; the stream blocked on
    it must wake, keep what was shown and end with the French error, and the worker serve on."""
    with FakeUpstream(reply="Premier morceau puis plus rien") as upstream:
        upstream.then(Behaviour(stall_after=2))
        with serve(database_url, PLUME_LLM_BASE_URL=upstream.url, PLUME_LLM_MODEL="fake-chat",
                   PLUME_LLM_TIMEOUT_CHUNK="1") as plume:
            base = plume.url
            cut = requests.post(f"{base}/api/v1/assist/rewrite", json={"text": "Un texte."},
                                timeout=60).text
            after = requests.post(f"{base}/api/v1/assist/rewrite", json={"text": "Un texte."},
                                  timeout=60).text
    assert cut.count("event: delta") == 2 and "event: done" not in cut
    assert "event: error" in cut and "delai_depasse" in cut
    assert "event: done" in after


def test_a_stop_lets_the_answer_in_progress_finish(database_url):
    """A restart during an answer: the worker stops taking requests but finishes the stream
    (graceful_timeout), then exits; the pane gets every token and ``done``."""
    with FakeUpstream(token_delay=0.1, reply=" ".join(["mot"] * 20)) as upstream:
        with serve(database_url, PLUME_LLM_BASE_URL=upstream.url, PLUME_LLM_MODEL="fake-chat") as plume:
            response = requests.post(f"{plume.url}/api/v1/assist/rewrite", json={"text": "Un texte."},
                                     stream=True, timeout=60)
            lines = response.iter_lines(decode_unicode=True)
            assert next(line for line in lines if line == "event: delta")
            plume.process.send_signal(signal.SIGTERM)
            rest = list(lines)
            assert plume.process.wait(60) == 0
    assert sum(line == "event: delta" for line in rest) == 19 and "event: done" in rest
