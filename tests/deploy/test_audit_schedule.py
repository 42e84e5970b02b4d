"""The nightly record keeping (`audit flush`, `audit verify`, then `audit prune`): a Kubernetes
CronJob and a systemd service + timer that run Plume's own commands with the backend's image,
user and settings, and whose commands really fail on a broken chain, so the scheduler reports it,
but not on records the host merely spooled while the database was away.
"""
from __future__ import annotations

import configparser
import json
import shutil
import subprocess

import yaml

from backend.audit import records, spool
from tests.audit.helpers import MAGISTRAT, execute, record, rows

from .conftest import DEPLOY, ROOT, VENV_BIN, app_environment

CRONJOB = DEPLOY / "kubernetes" / "audit-cronjob.yaml"
SYSTEMD = DEPLOY / "systemd"
CHECKS = {"deploy/kubernetes/audit-cronjob.yaml", "deploy/systemd/plume-audit.service",
          "deploy/systemd/plume-audit.timer"}
INSTALL_DIR = "/opt/plume"
FLUSH = ["python", "-m", "backend", "audit", "flush"]
VERIFY = ["python", "-m", "backend", "audit", "verify"]
PRUNE = ["python", "-m", "backend", "audit", "prune"]


def load(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def systemd_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text(encoding="utf-8"))
    return parser


def exec_starts(name: str) -> list[str]:
    """Every ExecStart= line, in order (configparser keeps only the last of repeated keys)."""
    return [line.split("=", 1)[1] for line in (SYSTEMD / name).read_text(encoding="utf-8").splitlines()
            if line.startswith("ExecStart=")]


# -- Kubernetes ---------------------------------------------------------------------------------
def test_cronjob_flushes_verifies_then_prunes_with_the_deployments_image_and_settings():
    cronjob, deployment = load(CRONJOB), load(DEPLOY / "kubernetes" / "deployment.yaml")
    [backend] = deployment["spec"]["template"]["spec"]["containers"]
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    # Init containers run one after the other, each only once the previous one succeeded;
    # when one fails, prune never starts.
    [flush, verify] = pod["initContainers"]
    [prune] = pod["containers"]
    assert flush["command"] == FLUSH and verify["command"] == VERIFY and prune["command"] == PRUNE
    for container in (flush, verify, prune):
        assert container["image"] == backend["image"]
        assert container["envFrom"] == backend["envFrom"]
        assert container["securityContext"] == backend["securityContext"]
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert {"plume-settings", "plume-secrets"} == {
        (ref.get("configMapRef") or ref.get("secretRef"))["name"] for ref in prune["envFrom"]}


def test_cronjob_runs_once_a_day_alone_as_a_non_root_user():
    cronjob = load(CRONJOB)
    spec = cronjob["spec"]
    minute, hour, *every_day = spec["schedule"].split()
    assert every_day == ["*", "*", "*"] and minute.isdigit() and hour.isdigit()
    assert spec["timeZone"] == "Europe/Paris"
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # a failed check shows as a failed Job, not a loop
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    kustomization = load(DEPLOY / "kubernetes" / "kustomization.yaml")
    assert CRONJOB.name in kustomization["resources"]


# -- systemd ------------------------------------------------------------------------------------
def test_systemd_analyze_verify_accepts_the_service_and_its_timer(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: `make test` installs the Debian package systemd"
    copies = []
    for name in ("plume-audit.service", "plume-audit.timer"):
        copy = tmp_path / name
        copy.write_text((SYSTEMD / name).read_text(encoding="utf-8").replace(INSTALL_DIR, str(ROOT)),
                        encoding="utf-8")
        copies.append(str(copy))
    result = subprocess.run([analyze, "verify", *copies], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_service_runs_as_the_backend_with_its_settings_flush_and_verify_first():
    audit, backend = systemd_unit("plume-audit.service")["Service"], systemd_unit("plume.service")["Service"]
    for key in ("User", "Group", "EnvironmentFile", "WorkingDirectory"):
        assert audit[key] == backend[key], key
    assert audit["User"] not in {"", "root"}
    environment = [line for line in (SYSTEMD / "plume-audit.service").read_text().splitlines()
                   if line.startswith("Environment=")]
    assert "Environment=PLUME_DATA_DIR=/var/lib/plume" in environment
    # oneshot runs its ExecStart= lines in order and stops at the first that fails.
    assert audit["Type"] == "oneshot"
    assert exec_starts("plume-audit.service") == [
        f"{INSTALL_DIR}/.venv/bin/" + " ".join(command) for command in (FLUSH, VERIFY, PRUNE)]
    # The same spool as the backend's (and the worker's) on this host.
    backend_environment = [line for line in (SYSTEMD / "plume.service").read_text().splitlines()
                           if line.startswith("Environment=PLUME_DATA_DIR=")]
    assert backend_environment == ["Environment=PLUME_DATA_DIR=/var/lib/plume"]


def test_timer_fires_daily_and_catches_up_after_downtime():
    timer = systemd_unit("plume-audit.timer")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "plume-audit.service"
    assert timer["Install"]["WantedBy"] == "timers.target"
    calendar = subprocess.run([shutil.which("systemd-analyze"), "calendar", "--iterations=2",
                               timer["Timer"]["OnCalendar"]], capture_output=True, text=True, timeout=30)
    assert calendar.returncode == 0, calendar.stderr
    elapses = [line for line in calendar.stdout.splitlines() if "Next elapse" in line or "Iter. #2" in line]
    assert len(elapses) == 2, calendar.stdout
    first, second = (line.split(":", 1)[1].split() for line in elapses)
    assert first[2:] == second[2:], "same time of day"  # weekday date time zone
    assert first[1] != second[1], "on consecutive days"


# -- the commands themselves, as the schedulers run them ---------------------------------------
def run_scheduled(command: list[str], database_url: str) -> subprocess.CompletedProcess:
    """One of the commands above, with the venv's Python from the repository root."""
    argv = [str(VENV_BIN / command[0]), *command[1:]]
    return subprocess.run(argv, cwd=ROOT, env=app_environment(database_url), capture_output=True,
                          text=True, timeout=120)


def log_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_scheduled_commands_pass_on_an_intact_chain_and_log_what_they_did(app, database_url):
    record(app, MAGISTRAT)
    record(app, MAGISTRAT, task="rewrite")
    verified = run_scheduled(VERIFY, database_url)
    assert verified.returncode == 0, verified.stderr
    assert "Chaîne d'audit intègre : 2 enregistrement(s) vérifié(s)" in verified.stdout
    assert any(line["message"] == "audit chain verified" and line["checked"] == 2
               for line in log_lines(verified.stdout))
    pruned = run_scheduled(PRUNE, database_url)
    assert pruned.returncode == 0, pruned.stderr
    assert "Aucun enregistrement antérieur" in pruned.stdout
    [line] = [line for line in log_lines(pruned.stdout) if line["message"] == "audit records pruned"]
    assert line["records"] == 0 and line["content_rows"] == 0 and line["retention_days"] > 0


def test_scheduled_commands_fail_on_an_edited_record(app, database_url):
    record(app, MAGISTRAT)
    second = record(app, MAGISTRAT, task="rewrite")
    execute(database_url, "UPDATE audit_interactions SET task = 'draft' WHERE seq = 2")
    verified = run_scheduled(VERIFY, database_url)
    assert verified.returncode == 1
    assert f"interaction {second}" in verified.stderr and "Chaîne d'audit rompue" in verified.stderr
    assert any(line["message"] == "audit chain broken" and line["level"] == "ERROR"
               for line in log_lines(verified.stdout))
    pruned = run_scheduled(PRUNE, database_url)
    assert pruned.returncode == 1 and "Purge refusée" in pruned.stderr


def run_in_order(commands: list[list[str]], database_url: str, data_dir) -> list[subprocess.CompletedProcess]:
    """The commands one after the other, stopping at the first that fails (a oneshot's
    ExecStart= lines, a pod's init containers)."""
    results = []
    for command in commands:
        argv = [str(VENV_BIN / command[0]), *command[1:]]
        results.append(subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120,
                                      env=app_environment(database_url,
                                                          PLUME_DATA_DIR=str(data_dir))))
        if results[-1].returncode != 0:
            break
    return results


def spool_during_an_outage(make_app, data_dir, count: int) -> list[str]:
    """Record ``count`` interactions while the database is unreachable (they go to the spool)."""
    down = make_app(DATABASE_URL="postgresql://plume@127.0.0.1:9/plume?connect_timeout=1",
                    DATA_DIR=str(data_dir))
    records.POOL_TIMEOUT_SECONDS, saved = 0.5, records.POOL_TIMEOUT_SECONDS
    try:
        return [record(down, MAGISTRAT, outcome="error", error_code="amont_indisponible")
                for _ in range(count)]
    finally:
        records.POOL_TIMEOUT_SECONDS = saved


def test_records_spooled_during_an_outage_are_flushed_so_the_night_still_prunes(
        make_app, database_url, tmp_path):
    record(make_app(DATA_DIR=str(tmp_path)), MAGISTRAT)
    spooled = spool_during_an_outage(make_app, tmp_path, 2)
    assert spool.status(make_app(DATA_DIR=str(tmp_path))).pending == 2

    # Without the flush, the records waiting on this host fail verify and the prune is skipped.
    without = run_in_order([VERIFY, PRUNE], database_url, tmp_path)
    assert [r.returncode for r in without] == [1]
    assert "2 enregistrement(s) en attente dans le spool" in without[0].stderr + without[0].stdout

    flushed, verified, pruned = run_in_order(
        [command.removeprefix(f"{INSTALL_DIR}/.venv/bin/").split()
         for command in exec_starts("plume-audit.service")], database_url, tmp_path)
    assert flushed.returncode == 0, flushed.stderr
    assert "2 enregistrement(s) en attente écrit(s) dans la base" in flushed.stdout
    assert verified.returncode == 0, verified.stderr
    assert "Chaîne d'audit intègre : 3 enregistrement(s) vérifié(s)" in verified.stdout
    assert pruned.returncode == 0, pruned.stderr
    stored = {row["id"] for row in rows(database_url, "SELECT id::text FROM audit_interactions")}
    assert set(spooled) <= stored
    assert spool.status(make_app(DATA_DIR=str(tmp_path))).as_dict() == {"pending": 0, "dead": 0}


def test_flush_fails_the_night_while_the_database_is_still_away(make_app, database_url, tmp_path):
    spool_during_an_outage(make_app, tmp_path, 1)
    down = "postgresql://plume@127.0.0.1:9/plume?connect_timeout=1"
    results = run_in_order([FLUSH, VERIFY, PRUNE], down, tmp_path)
    assert [r.returncode for r in results] == [1], "verify and prune must not run"
    assert "1 enregistrement(s) toujours en attente : la base ne répond pas." in results[0].stdout
    assert spool.status(make_app(DATA_DIR=str(tmp_path))).pending == 1
