"""deploy/kubernetes/: valid resources (offline schemas), consistent with each other and with Plume."""
from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from backend.config import all_settings

from .conftest import DEPLOY, setting_default

K8S = DEPLOY / "kubernetes"
RESOURCE_FILES = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
CHECKS = {f"deploy/kubernetes/{p.name}" for p in K8S.glob("*.yaml")}
# The oldest Kubernetes still commonly run on premises, and the newest the package knows.
VERSIONS = ["1.27.0", kubernetes_validate.latest_version()]
# Environment read by gunicorn.conf.py, not by Plume's settings.
PROCESS_ENVIRONMENT = {"WEB_CONCURRENCY", "GUNICORN_WORKER_CONNECTIONS", "GUNICORN_WORKER_CLASS",
                       "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"}


def load(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", RESOURCE_FILES, ids=lambda p: p.name)
def test_resource_passes_the_kubernetes_schema(path: Path, version: str):
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        kubernetes_validate.validate(document, version, strict=True)


def test_kustomization_applies_everything_but_the_migration_job():
    kustomization = load("kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in RESOURCE_FILES} - {"migrate-job.yaml"}
    assert all(load(name)["metadata"].get("namespace", "plume") == kustomization["namespace"]
               for name in listed if load(name)["kind"] != "Namespace")


def container(resource: dict) -> dict:
    [only] = resource["spec"]["template"]["spec"]["containers"]
    return only


def test_probes_use_plumes_health_endpoints(client):
    plume = container(load("deployment.yaml"))
    assert plume["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert plume["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert plume[probe]["httpGet"]["port"] == plume["ports"][0]["name"]
        assert client.get(plume[probe]["httpGet"]["path"]).status_code == 200


def test_pods_drain_open_streams_before_they_stop(gunicorn_settings):
    pod = load("deployment.yaml")["spec"]["template"]["spec"]
    pre_stop = int(container(load("deployment.yaml"))["lifecycle"]["preStop"]["exec"]["command"][1])
    graceful = int(gunicorn_settings["graceful_timeout"])
    assert graceful > setting_default("PLUME_LLM_TIMEOUT_TOTAL")
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + graceful
    strategy = load("deployment.yaml")["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0


def test_service_ingress_and_autoscaler_point_at_the_deployment():
    deployment, service = load("deployment.yaml"), load("service.yaml")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == container(deployment)["ports"][0]["name"]
    [rule] = load("ingress.yaml")["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == service["spec"]["ports"][0]["name"]
    target = load("hpa.yaml")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert load("pdb.yaml")["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_ingress_streams_unbuffered_and_admits_the_largest_upload():
    annotations = load("ingress.yaml")["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "proxy-buffering"] == "off"
    longest_call = setting_default("PLUME_LLM_TIMEOUT_TOTAL")
    assert int(annotations[prefix + "proxy-read-timeout"]) > longest_call
    assert int(annotations[prefix + "proxy-send-timeout"]) > longest_call
    body = annotations[prefix + "proxy-body-size"]
    assert body.endswith("m")
    assert int(body[:-1]) * 1024 * 1024 > setting_default("PLUME_LLM_TRANSCRIPTION_MAX_BYTES")
    assert load("ingress.yaml")["spec"]["tls"], "TLS ends at the ingress"


def test_settings_are_plume_settings_and_secrets_stay_in_the_secret():
    known = {setting.env: setting for setting in all_settings()}
    config_keys = set(load("configmap.yaml")["data"])
    secret_keys = set(load("secret.yaml")["stringData"])
    for key in config_keys | secret_keys:
        assert key in known or key in PROCESS_ENVIRONMENT, f"{key} is not a setting Plume reads"
    assert not [key for key in config_keys if key in known and known[key].secret], \
        "a secret setting sits in the ConfigMap"
    assert all(known[key].secret for key in secret_keys)
    deployment_env = container(load("deployment.yaml"))["envFrom"]
    assert {"plume-settings", "plume-secrets"} == {
        (ref.get("configMapRef") or ref.get("secretRef"))["name"] for ref in deployment_env}


def test_migration_job_runs_the_same_image_with_the_same_settings():
    job, deployment = load("migrate-job.yaml"), load("deployment.yaml")
    migrate = container(job)
    assert migrate["command"] == ["python", "-m", "backend", "migrate"]
    assert migrate["image"] == container(deployment)["image"]
    assert migrate["envFrom"] == container(deployment)["envFrom"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
