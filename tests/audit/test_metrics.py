"""/metrics: Prometheus text for the operators' network or token, the same from every worker."""
from __future__ import annotations

import re

from backend import create_app, db
from tests.conftest import BASE_CONFIG

from .helpers import GREFFIER, MAGISTRAT, record


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    assert match, f"{series} missing"
    return float(match.group(1))


def test_metrics_count_requests_latency_tokens_and_upstream_errors(app, database_url):
    record(app, MAGISTRAT, task="summarize")
    record(app, MAGISTRAT, task="summarize")
    record(app, GREFFIER, task="mail-reply", outcome="error", error_code="amont_delai_depasse",
           ttft=False)
    # A second worker process has its own pool; it must read the same totals.
    other = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    try:
        record(other, GREFFIER, task="mail-reply")
        response = other.test_client().get("/metrics")
    finally:
        db.close(other)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    assert "# TYPE plume_interaction_duration_seconds histogram" in text
    assert _value(text, 'plume_interactions_total{kind="assist",task="summarize",outcome="ok"}') == 2
    assert _value(text, 'plume_interactions_total{kind="assist",task="mail-reply",outcome="error"}') == 1
    assert _value(text, 'plume_upstream_errors_total{task="mail-reply",error_code="amont_delai_depasse"}') == 1
    assert _value(text, 'plume_tokens_total{task="summarize",type="prompt"}') == 240
    assert _value(text, 'plume_interaction_duration_seconds_count{kind="assist",task="mail-reply"}') == 2
    assert _value(text, 'plume_interaction_duration_seconds_bucket{kind="assist",task="mail-reply",le="+Inf"}') == 2
    assert _value(text, 'plume_time_to_first_token_seconds_count{task="summarize"}') == 2
    assert _value(text, "plume_audit_records_total") == 4


def test_metrics_refuse_other_networks_unless_the_token_is_given(make_app):
    app = make_app(METRICS_TOKEN="jeton-des-operateurs", METRICS_ALLOWED_NETWORKS=["10.20.0.0/16"])
    client = app.test_client()
    outsider = {"REMOTE_ADDR": "192.0.2.7"}
    refused = client.get("/metrics", environ_base=outsider)
    assert refused.status_code == 403 and refused.json["error"] == "acces_refuse"
    assert client.get("/metrics").status_code == 403  # loopback is not in the list any more
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.3.4"}).status_code == 200
    wrong = client.get("/metrics", environ_base=outsider,
                       headers={"Authorization": "Bearer mauvais"})
    assert wrong.status_code == 403
    right = client.get("/metrics", environ_base=outsider,
                       headers={"Authorization": "Bearer jeton-des-operateurs"})
    assert right.status_code == 200


def test_loopback_is_the_default_operator_network(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
