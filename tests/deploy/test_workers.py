"""The job workers as deployed: deploy/systemd/plume-worker.service and
deploy/kubernetes/worker-deployment.yaml run `python -m backend worker` with the backend's code,
user and settings, and give a stopping worker more time than its own grace
(PLUME_JOB_STOP_GRACE) to hand its jobs back.

The command itself is run here as the unit runs it, on the test database: it takes a job and
finishes it, and on SIGTERM it exits 0 after the grace, the job back in the queue.
"""
from __future__ import annotations

import configparser
import json
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time

import yaml

from backend import jobs

from .conftest import DEPLOY, ROOT, app_environment, setting_default

SYSTEMD = DEPLOY / "systemd"
K8S = DEPLOY / "kubernetes"
CHECKS = {"deploy/systemd/plume-worker.service", "deploy/kubernetes/worker-deployment.yaml"}
INSTALL_DIR = "/opt/plume"
WORKER = ["python", "-m", "backend", "worker"]
HANDLERS = "tests.jobs.handlers"  # the jobs room's test handlers, loaded as a use case's are


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text(encoding="utf-8"))
    return parser


def load(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text(encoding="utf-8"))


def container(resource: dict) -> dict:
    [only] = resource["spec"]["template"]["spec"]["containers"]
    return only


def configured_grace() -> float:
    """PLUME_JOB_STOP_GRACE as the Kubernetes settings give it (the code's default otherwise)."""
    data = load("configmap.yaml")["data"]
    return float(data.get("PLUME_JOB_STOP_GRACE", setting_default("PLUME_JOB_STOP_GRACE")))


# -- systemd ------------------------------------------------------------------------------------
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: `make test` installs the Debian package systemd"
    copy = tmp_path / "plume-worker.service"
    copy.write_text((SYSTEMD / "plume-worker.service").read_text(encoding="utf-8")
                    .replace(INSTALL_DIR, str(ROOT)), encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_unit_runs_the_documented_worker_as_the_backend_without_migrating():
    worker, backend = unit("plume-worker.service")["Service"], unit("plume.service")["Service"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `worker [--threads N]` |" in readme
    assert worker["ExecStart"] == f"{INSTALL_DIR}/.venv/bin/" + " ".join(WORKER)
    assert "ExecStartPre" not in worker, "plume.service migrates; two units must not race"
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile", "StateDirectory",
                "UMask"):
        assert worker[key] == backend[key], key
    data_dir = [line for line in (SYSTEMD / "plume-worker.service").read_text().splitlines()
                if line.startswith("Environment=PLUME_DATA_DIR=")]
    assert data_dir == ["Environment=PLUME_DATA_DIR=/var/lib/plume"]  # its audit spool, too
    assert worker["Restart"] == "on-failure"
    assert "plume.service" in unit("plume-worker.service")["Unit"]["After"].split()
    assert unit("plume-worker.service")["Install"]["WantedBy"] == "multi-user.target"


def test_unit_is_hardened_like_the_backend():
    worker = unit("plume-worker.service")["Service"]
    backend = unit("plume.service")["Service"]
    hardening = {key: value for key, value in backend.items()
                 if key.startswith(("Protect", "Private", "Restrict", "NoNew", "Lock",
                                    "Capability"))}
    assert len(hardening) >= 12
    assert {key: worker.get(key) for key in hardening} == hardening


def test_stopping_outlasts_the_workers_grace():
    worker = unit("plume-worker.service")["Service"]
    grace = setting_default("PLUME_JOB_STOP_GRACE")
    # The grace, then handing the jobs back (one UPDATE each), then the interpreter's exit.
    assert int(worker["TimeoutStopSec"]) >= grace + 30
    assert worker["KillMode"] == "mixed"


# -- Kubernetes ---------------------------------------------------------------------------------
def test_worker_deployment_runs_the_backends_image_and_settings():
    worker, backend = load("worker-deployment.yaml"), load("deployment.yaml")
    runner, plume = container(worker), container(backend)
    assert runner["command"] == WORKER
    for key in ("image", "envFrom", "securityContext", "volumeMounts"):
        assert runner[key] == plume[key], key
    pod, web_pod = worker["spec"]["template"]["spec"], backend["spec"]["template"]["spec"]
    for key in ("securityContext", "automountServiceAccountToken", "volumes"):
        assert pod[key] == web_pod[key], key
    assert runner["resources"]["requests"]["cpu"] and runner["resources"]["limits"]["memory"]
    assert "ports" not in runner, "a worker serves nothing"


def test_worker_deployment_is_its_own_and_no_service_reaches_it():
    worker, backend = load("worker-deployment.yaml"), load("deployment.yaml")
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert worker["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert labels["app.kubernetes.io/component"] == "worker"
    for name in ("service.yaml", "pdb.yaml"):
        selector = load(name)["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        assert not selector.items() <= labels.items(), f"{name} selects the workers"
    backend_selector = backend["spec"]["selector"]["matchLabels"]
    assert not backend_selector.items() <= labels.items(), "the web Deployment adopts the workers"
    assert worker["metadata"]["name"] != backend["metadata"]["name"]
    assert "worker-deployment.yaml" in load("kustomization.yaml")["resources"]


def test_worker_pods_get_more_time_to_stop_than_their_grace():
    pod = load("worker-deployment.yaml")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= configured_grace() + 30
    assert "lifecycle" not in container(load("worker-deployment.yaml")), \
        "a preStop hook would eat into the grace; the worker stops picking on SIGTERM itself"


def test_the_image_runs_the_worker_command_as_it_stands():
    """The pod's `command` replaces the image's CMD and nothing wraps it: no ENTRYPOINT, the
    venv first on PATH, the code where `-m backend` finds it, SIGTERM as the stop signal."""
    from .test_container import stages

    final = stages()[-1]
    keywords = [keyword for keyword, _ in final]
    assert "ENTRYPOINT" not in keywords
    last = {keyword: arguments for keyword, arguments in final}
    assert last.get("STOPSIGNAL", "SIGTERM") == "SIGTERM"
    env = dict(re.findall(r"(\w+)=(\S+)", last["ENV"]))
    assert env["PATH"].split(":")[0] == f"{last['WORKDIR']}/.venv/bin"
    copied = {shlex.split(arguments)[-1] for keyword, arguments in final if keyword == "COPY"}
    assert {"backend/", ".venv"} <= copied
    assert container(load("worker-deployment.yaml"))["command"][0] == "python"


# -- the command, as the unit runs it -----------------------------------------------------------
class RunningWorker:
    """``python -m backend worker`` from the repository, its stdout read line by line."""

    def __init__(self, database_url: str, data_dir, **settings: str):
        [exec_start] = [line.split("=", 1)[1] for line in
                        (SYSTEMD / "plume-worker.service").read_text().splitlines()
                        if line.startswith("ExecStart=")]
        argv = exec_start.replace(INSTALL_DIR, str(ROOT)).split()
        env = app_environment(database_url, PLUME_DATA_DIR=str(data_dir),
                              PLUME_JOB_HANDLERS=HANDLERS, PLUME_JOB_POLL_SECONDS="0.5",
                              **settings)
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.process.poll() is None, "\n".join(self.seen)
                continue
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError("not seen in time:\n" + "\n".join(self.seen[-30:]))

    def stop(self) -> tuple[int, float]:
        """SIGTERM, as systemd and the kubelet send it; exit code and seconds to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=120)
        seconds = time.monotonic() - started
        self.reader.join(timeout=10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, seconds

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for_state(app, job_id: str, states: set[str], timeout: float = 60):
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            job = jobs.get(job_id, "deploy-test")
            if job.state in states:
                return job
            time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.state}")


def test_the_deployed_command_runs_a_job_and_stops_at_once_when_idle(make_app, database_url,
                                                                      tmp_path):
    app = make_app(JOB_HANDLERS=[HANDLERS], DATA_DIR=str(tmp_path))
    worker = RunningWorker(database_url, tmp_path)
    try:
        worker.wait_for(lambda line: line.startswith("Plume : 2 traitement(s) en parallèle"))
        trace = tmp_path / "trace.log"
        trace.touch()
        with app.app_context():
            job_id = jobs.submit("test.steps", "deploy-test",
                                 {"trace": str(trace), "steps": ["lire", "résumer"]})
        job = wait_for_state(app, job_id, {"done", "failed"})
        assert job.state == "done", job.to_dict()
        assert len(trace.read_text().splitlines()) == 2
        code, seconds = worker.stop()
        assert code == 0, "\n".join(worker.seen)
        assert seconds < 10, "an idle worker has nothing to wait for"
    finally:
        worker.kill()


def test_sigterm_mid_step_hands_the_job_back_after_the_grace(make_app, database_url, tmp_path):
    """With a grace of 2 s and a step of a minute: exit 0 a little after 2 s, the job queued
    again, and the margin left under TimeoutStopSec is what the unit's test demands."""
    app = make_app(JOB_HANDLERS=[HANDLERS], DATA_DIR=str(tmp_path))
    grace = 2.0
    worker = RunningWorker(database_url, tmp_path, PLUME_JOB_STOP_GRACE=str(grace))
    try:
        worker.wait_for(lambda line: line.startswith("Plume : "))
        trace = tmp_path / "trace.log"
        trace.touch()
        with app.app_context():
            job_id = jobs.submit("test.steps", "deploy-test",
                                 {"trace": str(trace), "steps": ["lire", "long"], "slow": "long",
                                  "slow_s": 60})
        deadline = time.monotonic() + 60
        while "step:long" not in trace.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "step:long" in trace.read_text()
        code, seconds = worker.stop()
        assert code == 0, "\n".join(worker.seen)
        assert grace <= seconds < grace + 10, seconds
        [stopped] = [json.loads(line) for line in worker.seen if line.startswith("{")
                     and json.loads(line).get("message") == "job worker stopped"]
        assert stopped["released"] == 1
        with app.app_context():
            job = jobs.get(job_id, "deploy-test")
        assert job.state == "queued", job.to_dict()
    finally:
        worker.kill()
