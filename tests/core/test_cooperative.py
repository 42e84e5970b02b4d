"""backend/cooperative.py: long CPU work leaves a gevent worker's event loop free.

Each check runs in its own interpreter, monkey-patched as gunicorn's gevent worker does it
(the test process itself must stay unpatched).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_patched(body: str) -> str:
    script = "from gevent import monkey\nmonkey.patch_all()\n" + textwrap.dedent(body)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stdout


def test_without_an_event_loop_the_work_runs_in_the_callers_thread():
    import threading

    from backend.cooperative import event_loop_active, offload

    assert not event_loop_active()
    assert offload(threading.get_native_id) == threading.get_native_id()


def test_under_gevent_the_loop_keeps_running_while_the_work_holds_the_cpu():
    out = run_patched("""
        import threading, time
        import gevent
        from backend.cooperative import event_loop_active, offload

        ticks = []
        def ticker():
            while True:
                ticks.append(1)
                gevent.sleep(0.005)

        def busy():
            end = time.thread_time() + 0.4   # pure Python: no I/O to yield on
            while time.thread_time() < end:
                pass
            return threading.get_native_id()

        ticking = gevent.spawn(ticker)
        gevent.sleep(0)
        ticks.clear()
        worker = offload(busy)
        print(event_loop_active(), worker != threading.get_native_id(), len(ticks))
        ticks.clear()
        busy()  # the same work called directly holds the loop: the ticker gets no turn
        print(len(ticks))
        ticking.kill()
    """)
    first, second = out.splitlines()
    active, other_thread, ticks_offloaded = first.split()
    assert active == "True" and other_thread == "True"
    # The other greenlet ran during the offloaded work; a direct call gives it no turn.
    assert int(ticks_offloaded) >= 5
    assert int(second) == 0


def test_under_gevent_a_bad_document_still_raises_its_french_error():
    out = run_patched("""
        from backend.documents import DocumentError, read_document

        try:
            read_document(b"%PDF-1.7 not really a pdf", "piece.pdf", max_bytes=10**6, max_pages=10)
        except DocumentError as err:
            print(err.status, err.message)
    """)
    status, message = out.strip().split(" ", 1)
    assert status == "422" and "endommagé" in message


def test_offloaded_work_and_the_loop_share_imports_and_logging_without_deadlock():
    """Work in the native thread takes gevent's locks (a first import, a log line) while the
    loop's greenlets take the same ones. With a pool of several threads, two of them waiting
    on one such lock hang for good (this script lost 9 calls of 300 that way); one thread
    beside the loop never does."""
    out = run_patched("""
        import importlib, logging
        import gevent
        from backend.cooperative import offload

        logging.basicConfig(stream=open("/dev/null", "w"), level=logging.INFO)
        log = logging.getLogger("stress")
        modules = ["json.tool", "email.mime.text", "xml.dom.minidom", "csv", "difflib",
                   "fractions", "statistics", "pdb", "ftplib", "smtplib"]
        running = True

        def chatter():
            while running:
                for _ in range(50):
                    log.info("a line from the loop")
                gevent.sleep(0)

        def work(number):
            for _ in range(200):
                log.info("a line from the native thread %s", number)
            if number < len(modules):
                importlib.import_module(modules[number])
            return number

        def call(number):
            importlib.import_module(modules[(number + 1) % len(modules)])
            return offload(work, number)

        chatters = [gevent.spawn(chatter) for _ in range(5)]
        calls = [gevent.spawn(call, number) for number in range(300)]
        gevent.joinall(calls, timeout=90)
        running = False
        print(sum(c.successful() and c.value == n for n, c in enumerate(calls)))
    """)
    assert int(out) == 300
